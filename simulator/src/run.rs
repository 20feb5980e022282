//! One simulation request, end to end: nodes added from templates, the snapshot's pending
//! pods or a scenario, then the what-ifs (`drain`, `plan`), into one [`Output`].
//!
//! What-if questions are answered with the real cycle, never estimated: a drain evicts the
//! pods and schedules them again; a plan adds `k` template nodes to a fresh copy of the input
//! and runs everything again, for each `k` its search tries.

use crate::drain::{DrainOptions, Outcome};
use crate::engine::{PodStatus, SetupError, Simulation};
use crate::output::{DrainBlock, DrainOut, DrainPod, Loaded, Output, PlanOut, Probe, ReasonGroup};
use crate::scenario::{NodeTemplateFile, Scenario, ScenarioError};
use crate::snapshot::LoadedCluster;
use sched_core::config::SchedulerConfig;
use sched_core::model::PodInfo;
use sched_core::state::ClusterState;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Profiles or added nodes.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A scenario event could not be applied.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// `--drain` names a node that does not exist.
    #[error("--drain: node {0} does not exist (at the end of the run)")]
    UnknownDrainNode(String),
    /// Conflicting options.
    #[error("{0}")]
    Usage(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The input of a run: a cluster and its pending pods, kept pristine so that a plan search can
/// start every probe from the same place.
#[derive(Clone, Debug)]
pub struct Input {
    /// Nodes and running pods.
    pub state: ClusterState,
    /// Pending pods, in load order.
    pub pending: Vec<PodInfo>,
    /// What the snapshot loaded, by group (for `summary.loaded`).
    pub loaded: Loaded,
    /// Objects of other kinds the snapshot skipped, by kind (for `summary.skipped_kinds`).
    pub skipped_kinds: BTreeMap<String, usize>,
    /// Invalid objects the snapshot skipped (for `summary.skipped_invalid`).
    pub skipped_invalid: usize,
    /// The snapshot's PriorityClasses, which admit the pods a scenario creates.
    pub priority_classes: crate::snapshot::PriorityClasses,
    /// The snapshot's workloads, which a scenario's `scale` events act on.
    pub workloads: crate::workloads::Workloads,
    /// Owner references of the snapshot's objects (what `kubectl drain` reads).
    pub owners: Arc<crate::owners::OwnerGraph>,
}

impl From<LoadedCluster> for Input {
    fn from(c: LoadedCluster) -> Self {
        Input {
            state: c.state,
            pending: c.pending,
            loaded: c.loaded,
            skipped_kinds: c.skipped_kinds,
            skipped_invalid: c.skipped_invalid.len(),
            priority_classes: c.priority_classes,
            workloads: c.workloads,
            owners: c.owners,
        }
    }
}

/// The output of `sim`, its summary telling what `input` loaded.
fn output_of(sim: &Simulation, input: &Input) -> Output {
    let mut out = Output::from_simulation(sim);
    out.summary.loaded = input.loaded.clone();
    out.summary.skipped_kinds = input.skipped_kinds.clone();
    out.summary.skipped_invalid = input.skipped_invalid;
    out
}

/// What to simulate.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The scheduler configuration.
    pub config: SchedulerConfig,
    /// The seed that breaks ties.
    pub seed: u64,
    /// A timed scenario to run instead of only the snapshot's pending pods.
    pub scenario: Option<Scenario>,
    /// Nodes to add before the run: a template and how many copies.
    pub add_nodes: Vec<(NodeTemplateFile, u64)>,
    /// Nodes to drain after the run (what-if), as `kubectl drain --ignore-daemonsets`.
    pub drain: Vec<String>,
    /// `kubectl drain` flags for `drain` (`--force`, `--delete-emptydir-data`, `--timeout`).
    pub drain_options: DrainOptions,
    /// A template for the plan search.
    pub plan: Option<NodeTemplateFile>,
    /// Out-of-tree plugins the profiles may use, besides the in-tree ones (parse `config`
    /// with `SchedulerConfig::from_yaml_with` a registry holding them).
    pub plugins: Vec<sched_core::PluginSpec>,
}

impl Request {
    fn registry(&self) -> Result<sched_core::Registry, SetupError> {
        Ok(sched_plugins::registry_with(self.plugins.iter().copied())?)
    }
}

/// Progress callback: (done, total) work units.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Adds `count` copies of `tpl`, named `<base>-<i>` with the smallest free indices.
fn add_copies(sim: &mut Simulation, tpl: &NodeTemplateFile, count: u64) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut i = 1;
    while (names.len() as u64) < count {
        let name = format!("{}-{i}", tpl.base);
        i += 1;
        if sim.state().node_id(&name).is_some() {
            continue;
        }
        let node = crate::scenario::rename_node(&tpl.node, &name);
        sim.add_node(&node).map_err(|message| SetupError::Node {
            node: name.clone(),
            message,
        })?;
        names.push(name);
    }
    Ok(names)
}

/// Builds a simulation from `input`, adds the requested nodes (and `extra` copies of a plan
/// template), and runs the snapshot or the scenario.
fn run_base(
    input: &Input,
    req: &Request,
    extra: Option<(&NodeTemplateFile, u64)>,
    progress: Progress<'_>,
) -> Result<(Simulation, Vec<String>)> {
    let mut sim = Simulation::with_registry(
        &req.registry()?,
        input.state.clone(),
        input.pending.clone(),
        &req.config,
        req.seed,
    )?;
    sim.set_priority_classes(input.priority_classes.clone());
    sim.set_workloads(input.workloads.clone());
    sim.set_owners(input.owners.clone());
    let mut added = Vec::new();
    for (tpl, count) in &req.add_nodes {
        added.extend(add_copies(&mut sim, tpl, *count)?);
    }
    if let Some((tpl, k)) = extra {
        added.extend(add_copies(&mut sim, tpl, k)?);
    }
    match &req.scenario {
        Some(s) => sim.run_scenario(s, progress)?,
        None => {
            sim.run_snapshot();
            progress(1, 1);
        }
    }
    sim.refresh_messages();
    Ok((sim, added))
}

/// Runs a request.
///
/// # Errors
/// See [`Error`].
pub fn simulate(input: &Input, req: &Request, progress: Progress<'_>) -> Result<Output> {
    if req.plan.is_some() && !req.drain.is_empty() {
        return Err(Error::Usage(
            "--plan and --drain answer different questions: use one at a time".into(),
        ));
    }
    if let Some(tpl) = &req.plan {
        return plan(input, req, tpl, progress);
    }
    let (mut sim, added) = run_base(input, req, None, progress)?;
    let during = scenario_drains(&sim);
    let drain = if req.drain.is_empty() {
        None
    } else {
        Some(drain(&mut sim, &req.drain, req.drain_options)?)
    };
    let mut out = output_of(&sim, input);
    out.added_nodes = added;
    out.drain = drain;
    out.scenario_drains = during;
    Ok(out)
}

/// The drains a scenario ran, each as it ended.
fn scenario_drains(sim: &Simulation) -> Vec<DrainOut> {
    (0..sim.drains().runs.len())
        .map(|run| {
            let mut d = drain_out(sim, run);
            d.at = Some(crate::scenario::format_millis(
                sim.drains().runs[run].started,
            ));
            d
        })
        .collect()
}

/// Drains `nodes` after the run as `kubectl drain --ignore-daemonsets` would
/// ([`crate::drain`]): cordon, evict what kubectl's filters allow through the eviction API
/// (PodDisruptionBudgets), retrying refused evictions every 5 s of virtual time until the
/// timeout, scheduling the recreated pods elsewhere after each round.
///
/// # Errors
/// A node that does not exist.
pub fn drain(sim: &mut Simulation, nodes: &[String], opts: DrainOptions) -> Result<DrainOut> {
    let mut ids = Vec::new();
    for n in nodes {
        ids.push(
            sim.state()
                .node_id(n)
                .ok_or_else(|| Error::UnknownDrainNode(n.clone()))?,
        );
    }
    let started = sim.now();
    let run = crate::drain::start(sim, &ids, opts);
    sim.schedule_pending();
    // Nodes drain one after the other, each within its own timeout.
    let nodes_count = crate::scenario::Millis::try_from(ids.len()).unwrap_or(i64::MAX);
    sim.run_timers_until(started.saturating_add(opts.timeout.saturating_mul(nodes_count)));
    sim.refresh_messages();
    sim.record_step(vec![format!("drain {}", nodes.join(","))]);
    Ok(drain_out(sim, run))
}

/// The result of drain `run` (`crate::drain::Drains::runs`) as the simulation stands: where
/// each evicted pod is now, which pods blocked it and why, which were left.
#[must_use]
pub fn drain_out(sim: &Simulation, run: usize) -> DrainOut {
    let info = &sim.drains().runs[run];
    let started = info.started;
    let mut pods = Vec::new();
    let mut blocked = Vec::new();
    let mut left = Vec::new();
    let (mut evicted, mut rescheduled, mut stranded) = (0, 0, 0);
    let mut finished = started;
    for report in sim.drains().reports_of(run) {
        finished = finished.max(report.ended.unwrap_or(sim.now()));
        for p in &report.pods {
            let item = || DrainBlock {
                pod: p.key.to_string(),
                node: report.node.to_string(),
                reason: p.reason.clone().unwrap_or_default(),
            };
            match p.outcome {
                Outcome::Evicted { at } => {
                    evicted += 1;
                    let rec = sim.record(&p.key);
                    let placed = rec.is_some_and(|r| r.status == PodStatus::Scheduled);
                    // A bare pod deleted under --force is what the user asked for, not stranded.
                    let deleted = rec.is_some_and(|r| r.status == PodStatus::Deleted);
                    if placed {
                        rescheduled += 1;
                    } else if !deleted {
                        stranded += 1;
                    }
                    pods.push(DrainPod {
                        pod: p.key.to_string(),
                        from: report.node.to_string(),
                        node: if placed {
                            rec.and_then(|r| r.node.as_ref()).map(ToString::to_string)
                        } else {
                            None
                        },
                        message: match rec {
                            Some(r) if r.status == PodStatus::Deleted => Some(format!(
                                "deleted: {}",
                                p.note.as_deref().unwrap_or("nothing recreates it")
                            )),
                            Some(r) if !placed => r.message.clone(),
                            _ => None,
                        },
                        evicted_at: crate::scenario::format_millis(at),
                        refusals: p.retries,
                    });
                }
                Outcome::Left => left.push(item()),
                Outcome::Gone => {}
                Outcome::Refused
                | Outcome::TimedOut
                | Outcome::Failed
                | Outcome::Waiting
                | Outcome::Aborted => {
                    blocked.push(item());
                }
            }
        }
    }
    // Pods whose eviction the drain's evictions caused elsewhere (preemption) are not listed.
    DrainOut {
        nodes: info.nodes.iter().map(ToString::to_string).collect(),
        at: None,
        ok: stranded == 0 && blocked.is_empty(),
        complete: blocked.is_empty(),
        evicted,
        rescheduled,
        stranded,
        duration: crate::scenario::format_millis(finished - started),
        pods,
        blocked,
        left,
    }
}

fn unschedulable(sim: &Simulation) -> usize {
    sim.records()
        .iter()
        .filter(|r| matches!(r.status, PodStatus::Unschedulable | PodStatus::Pending))
        .count()
}

/// Why pods that are unschedulable with `k = 0` would not fit even a lone, empty template node.
fn blockers(
    input: &Input,
    req: &Request,
    sim: &Simulation,
    tpl: &NodeTemplateFile,
) -> Result<Vec<ReasonGroup>> {
    // The run's state: its interner knows every name the run's pods use.
    let _ = input;
    let mut state = sim.state().clone();
    let names: Vec<Arc<str>> = state
        .node_ids()
        .iter()
        .map(|&id| state.node(id).info.name.clone())
        .collect();
    for n in names {
        let _ = state.remove_node(&n);
    }
    let node = crate::scenario::rename_node(&tpl.node, &format!("{}-empty", tpl.base));
    let info = state.convert_node(&node).map_err(|e| SetupError::Node {
        node: tpl.base.clone(),
        message: e.to_string(),
    })?;
    let _ = state.add_node(info);
    let scheduler = sched_plugins::scheduler_with_registry(
        &req.registry()?,
        &req.config,
        state.interner_mut(),
        req.seed,
    )
    .map_err(SetupError::from)?;
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in sim.records() {
        if !matches!(r.status, PodStatus::Unschedulable | PodStatus::Pending) {
            continue;
        }
        let Some(pod) = sim.waiting_pod(&r.key) else {
            continue;
        };
        if let Err(e) = scheduler.schedule(pod, &state) {
            groups
                .entry(e.to_string())
                .or_default()
                .push(r.key.to_string());
        }
    }
    let mut out: Vec<ReasonGroup> = groups
        .into_iter()
        .map(|(message, pods)| ReasonGroup {
            message,
            count: pods.len(),
            pods,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.message.cmp(&b.message))
    });
    Ok(out)
}

/// The plan search: the smallest `k` such that adding `k` copies of `tpl` leaves no pod
/// unschedulable, found by doubling then bisecting, each probe a full run.
fn plan(
    input: &Input,
    req: &Request,
    tpl: &NodeTemplateFile,
    progress: Progress<'_>,
) -> Result<Output> {
    let mut probes = Vec::new();
    let probe = |k: u64,
                 probes: &mut Vec<Probe>,
                 progress: Progress<'_>|
     -> Result<(usize, Simulation, Vec<String>)> {
        let (sim, added) = run_base(input, req, Some((tpl, k)), progress)?;
        let u = unschedulable(&sim);
        probes.push(Probe {
            nodes: k,
            unschedulable: u,
        });
        Ok((u, sim, added))
    };
    let (u0, sim0, added0) = probe(0, &mut probes, progress)?;
    let finish = |sim: &Simulation, added: Vec<String>, plan: PlanOut| {
        let mut out = output_of(sim, input);
        out.added_nodes = added;
        out.plan = Some(plan);
        out
    };
    let template = tpl.base.clone();
    let mut result = PlanOut {
        template,
        nodes: Some(0),
        added: Vec::new(),
        probes: Vec::new(),
        message: None,
        blockers: Vec::new(),
        for_the_rest: None,
    };
    if u0 == 0 {
        result.probes = probes;
        return Ok(finish(&sim0, added0, result));
    }
    // A pod that does not fit an empty template node is not helped by any number of them:
    // report those, and search for the smallest count that schedules all the others.
    let blocked = blockers(input, req, &sim0, tpl)?;
    let blocked_keys: std::collections::BTreeSet<String> = blocked
        .iter()
        .flat_map(|g| g.pods.iter().cloned())
        .collect();
    let others_left = |sim: &Simulation| {
        sim.records()
            .iter()
            .filter(|r| matches!(r.status, PodStatus::Unschedulable | PodStatus::Pending))
            .filter(|r| !blocked_keys.contains(&*r.key))
            .count()
    };
    if !blocked.is_empty() {
        let n: usize = blocked.iter().map(|g| g.count).sum();
        result.nodes = None;
        result.message = Some(format!(
            "{n} pod(s) do not fit even on an empty {} node, so no number of them helps.",
            tpl.base
        ));
        result.blockers = blocked;
        if others_left(&sim0) == 0 {
            result.for_the_rest = Some(0);
            result.probes = probes;
            return Ok(finish(&sim0, added0, result));
        }
    }
    // Each other pod fits an empty template node, so u0 copies are enough unless preemption
    // chains or ordering interfere; allow some slack, then give up with a message.
    let limit = (2 * u0 as u64).max(16);
    let (mut lo, mut hi) = (0u64, 1u64);
    let mut best;
    loop {
        let (_, sim, added) = probe(hi, &mut probes, &mut |_, _| {})?;
        let u = others_left(&sim);
        if u == 0 {
            best = (sim, added);
            break;
        }
        lo = hi;
        if hi >= limit {
            result.nodes = None;
            result.message = Some(format!(
                "{u} pod(s) are still unschedulable with {hi} {} nodes added; stopped searching.",
                tpl.base
            ));
            result.probes = probes;
            return Ok(finish(&sim, added, result));
        }
        hi = (hi * 2).min(limit);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let (_, sim, added) = probe(mid, &mut probes, &mut |_, _| {})?;
        if others_left(&sim) == 0 {
            hi = mid;
            best = (sim, added);
        } else {
            lo = mid;
        }
    }
    if result.blockers.is_empty() {
        result.nodes = Some(hi);
    } else {
        result.for_the_rest = Some(hi);
    }
    result.added = best.1.clone();
    result.probes = probes;
    Ok(finish(&best.0, best.1, result))
}
