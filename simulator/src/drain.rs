//! `kubectl drain --ignore-daemonsets` on the virtual clock.
//!
//! As `kubectl drain` (k8s.io/kubectl `pkg/drain`): every named node is cordoned first, then
//! each node's pods go through kubectl's filters, in kubectl's order:
//!
//! 1. a pod whose controller is a DaemonSet is left in place (`--ignore-daemonsets`), unless
//!    that DaemonSet is missing from the snapshot ([`crate::owners`]): refused (kubectl's
//!    `daemonsets.apps "NAME" not found`), or deleted under `--force`;
//! 2. a mirror pod (annotation `kubernetes.io/config.mirror`, a kubelet static pod) is
//!    skipped: left in place, never refused (the API cannot delete it);
//! 3. a pod with an `emptyDir` volume is refused unless `--delete-emptydir-data`;
//! 4. a pod without a controller owner reference is refused unless `--force` (then deleted
//!    for good). A pod whose controller (not a DaemonSet) is missing from the snapshot passes
//!    (kubectl only asks for the reference) but nothing recreates it once evicted.
//!
//! Controllers are read from the owner graph ([`crate::owners`]), built from the snapshot's
//! objects and the scenario's pods.
//!
//! Terminal pods hold nothing and are not on a node here. When some pod of a node is refused,
//! nothing on that node is evicted (kubectl's `GetPodsForDeletion` fails the node before any
//! eviction) and the result names each refused pod and why.
//!
//! Nodes are drained one after the other, in the order given, as kubectl's `RunDrain`: the
//! next node starts when the previous one's evictions are all done. A node that fails (a pod
//! refused, an eviction timed out or failed) aborts the command, as kubectl without
//! `--ignore-errors` ("unable to drain node, aborting command"): the nodes after it stay
//! cordoned and are not drained, and the result says so for each of their pods.
//!
//! The others are evicted through the eviction API's rules (`pkg/registry/core/pod/storage/
//! eviction.go`): a pod guarded by more than one PodDisruptionBudget cannot be evicted (an
//! error, not retried); one guarded by a budget whose `disruptionsAllowed` is 0 is refused
//! with 429 and kubectl retries it every [`RETRY_INTERVAL`] until the drain's timeout; an
//! accepted eviction spends one disruption of its budget and deletes the pod. A pod with a
//! controller is recreated pending by it and scheduled like any pod; a bare pod (`--force`) is
//! gone. Before each round of evictions, every budget guarding a pod still to evict has its
//! status recomputed as the disruption controller would (`crate::eviction::sync_budget`).

use crate::engine::Simulation;
use crate::owners::Controller;
use crate::scenario::Millis;
use sched_core::state::NodeId;
use std::sync::Arc;

/// kubectl drain retries an eviction refused with 429 every 5 seconds.
pub const RETRY_INTERVAL: Millis = 5_000;

/// Placer's default `--drain-timeout`: kubectl's own default (`--timeout=0s`) waits forever,
/// which a simulation cannot; after this long the evictions still refused are given up and
/// reported.
pub const DEFAULT_TIMEOUT: Millis = 5 * 60 * 1000;

/// kubectl drain flags Placer models (`--ignore-daemonsets` is always on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainOptions {
    /// `--force`: delete pods without a controller too.
    pub force: bool,
    /// `--delete-emptydir-data`: delete pods with `emptyDir` volumes too.
    pub delete_emptydir_data: bool,
    /// `--timeout` (virtual time).
    pub timeout: Millis,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions {
            force: false,
            delete_emptydir_data: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// What happened to one pod of a drained node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Evicted at this virtual time.
    Evicted {
        /// When (virtual time, milliseconds).
        at: Millis,
    },
    /// Left on the node (DaemonSet, mirror pod).
    Left,
    /// Refused by kubectl's filters: the node's drain did not evict anything.
    Refused,
    /// The eviction API refused it until the timeout (a PodDisruptionBudget).
    TimedOut,
    /// The eviction API returned an error that kubectl does not retry.
    Failed,
    /// Its eviction was still being retried when the run ended.
    Waiting,
    /// It left the node some other way while the drain waited (deleted, finished).
    Gone,
    /// Its node was not drained: an earlier node's drain failed and kubectl aborted.
    Aborted,
}

/// One pod of a drained node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodDrain {
    /// `namespace/name`.
    pub key: Arc<str>,
    /// What happened.
    pub outcome: Outcome,
    /// Why (for everything but a plain eviction; for an evicted pod, what delayed it).
    pub reason: Option<String>,
    /// Refusals (429) of its eviction so far.
    pub retries: u32,
    /// For a pod nothing recreates once evicted (no controller under `--force`, a controller
    /// missing from the snapshot): kubectl's warning, or why.
    pub note: Option<String>,
}

/// One node's drain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeDrain {
    /// The drain (index in [`Drains::runs`]) this node is part of.
    pub run: usize,
    /// The node.
    pub node: Arc<str>,
    /// When it started (virtual time).
    pub started: Millis,
    /// When the last eviction was accepted or given up (virtual time), once done.
    pub ended: Option<Millis>,
    /// Each pod that was on the node, in key order.
    pub pods: Vec<PodDrain>,
}

impl NodeDrain {
    /// Whether every pod that had to go went.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.ended.is_some()
            && self.pods.iter().all(|p| {
                matches!(
                    p.outcome,
                    Outcome::Evicted { .. } | Outcome::Left | Outcome::Gone
                )
            })
    }
}

#[derive(Clone, Debug)]
struct Job {
    node: NodeId,
    report: usize,
    deadline: Millis,
    next: Millis,
    cause: String,
    /// The nodes to drain after this one, in order.
    rest: Vec<NodeId>,
    opts: DrainOptions,
    run: usize,
}

/// One `kubectl drain` of some nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrainRun {
    /// The nodes, in the order given.
    pub nodes: Vec<Arc<str>>,
    /// When it started (virtual time).
    pub started: Millis,
}

/// Drains in progress and done.
#[derive(Clone, Debug, Default)]
pub struct Drains {
    jobs: Vec<Job>,
    /// Every drain started, in order.
    pub runs: Vec<DrainRun>,
    /// Every node's drain, in the order they started (their [`NodeDrain::run`] says whose).
    pub reports: Vec<NodeDrain>,
}

impl Drains {
    /// The next virtual time a drain retries evictions.
    #[must_use]
    pub fn next_due(&self) -> Option<Millis> {
        self.jobs.iter().map(|j| j.next).min()
    }

    /// Whether some drain still retries.
    #[must_use]
    pub fn active(&self) -> bool {
        !self.jobs.is_empty()
    }
}

/// What kubectl's filters decide for one pod.
enum Decision {
    /// Evict it; `orphan` (with kubectl's warning) when nothing will recreate it.
    Evict { orphan: Option<String> },
    /// Leave it on the node.
    Left(String),
    /// Refuse the node.
    Refused(String),
}

/// kubectl's filters for one pod (`pkg/drain/filters.go`, in its order: DaemonSet, mirror,
/// local storage, unreplicated), reading its controller from the owner graph.
fn filter(sim: &Simulation, pod: &sched_core::model::PodInfo, opts: DrainOptions) -> Decision {
    let controller = sim.owners().pod_controller(pod);
    // daemonSetFilter: a DaemonSet pod is left, unless its DaemonSet is gone (kubectl's Get
    // returns NotFound): an error, or with --force a deletion with a warning.
    if let Some(ds) = controller.object().filter(|o| &*o.kind == "DaemonSet") {
        if matches!(controller, Controller::Missing(_)) {
            let not_found = format!("daemonsets.apps \"{}\" not found", ds.name);
            return if opts.force {
                Decision::Evict {
                    orphan: Some(format!(
                        "{not_found}: deleted under --force, nothing recreates it"
                    )),
                }
            } else {
                Decision::Refused(format!(
                    "cannot delete {not_found} (the snapshot holds DaemonSets but not this one; --force deletes the pod)"
                ))
            };
        }
        return Decision::Left("DaemonSet-managed pod: ignored (--ignore-daemonsets)".into());
    }
    if pod.drain.mirror {
        return Decision::Left(
            "mirror pod (kubelet static pod): skipped, the API cannot delete it".into(),
        );
    }
    if pod.drain.empty_dir && !opts.delete_emptydir_data {
        return Decision::Refused(
            "cannot delete Pods with local storage (use --delete-emptydir-data to override)".into(),
        );
    }
    match controller {
        Controller::None if !opts.force => Decision::Refused(
            "cannot delete Pods that declare no controller (use --force to override)".into(),
        ),
        Controller::None => Decision::Evict {
            orphan: Some("no controller recreates it (--force)".into()),
        },
        // unreplicatedFilter only asks for a controller reference; a missing controller
        // recreates nothing.
        Controller::Missing(c) => Decision::Evict {
            orphan: Some(format!(
                "its controller {c} is not in the snapshot: nothing recreates it"
            )),
        },
        Controller::Present(_) | Controller::NotCaptured(_) => Decision::Evict { orphan: None },
    }
}

/// Cordons `nodes`, then starts draining the first: a node refused at once aborts the rest;
/// otherwise its first round of evictions runs now and the next node starts when it is done
/// ([`run_due`]). Returns the drain's index in [`Drains::runs`]; its nodes' reports are those
/// of [`Drains::reports`] with that [`NodeDrain::run`].
pub fn start(sim: &mut Simulation, nodes: &[NodeId], opts: DrainOptions) -> usize {
    for &id in nodes {
        sim.set_cordon(id, true);
    }
    let run = sim.drains().runs.len();
    let names = nodes
        .iter()
        .map(|&id| sim.state().node(id).info.name.clone())
        .collect();
    let started = sim.now();
    sim.drains_mut().runs.push(DrainRun {
        nodes: names,
        started,
    });
    if let Some((&id, rest)) = nodes.split_first() {
        begin(sim, run, id, rest.to_vec(), opts);
    }
    run_due(sim, sim.now());
    run
}

impl Drains {
    /// The node reports of drain `run`.
    pub fn reports_of(&self, run: usize) -> impl Iterator<Item = &NodeDrain> {
        self.reports.iter().filter(move |r| r.run == run)
    }
}

/// kubectl's filters over the pods of `id`: its report; a job when something is to be evicted
/// (its first round due now); the rest aborted when a pod is refused.
fn begin(sim: &mut Simulation, run: usize, id: NodeId, rest: Vec<NodeId>, opts: DrainOptions) {
    let now = sim.now();
    let node = sim.state().node(id);
    let name = node.info.name.clone();
    let mut keys: Vec<Arc<str>> = node.pods.iter().map(|p| p.key.clone()).collect();
    keys.sort();
    let mut pods = Vec::with_capacity(keys.len());
    let mut refused = false;
    for k in keys {
        let pod = &sim.state().pod(&k).expect("a pod of the node").info;
        let (outcome, reason, note) = match filter(sim, pod, opts) {
            Decision::Evict { orphan } => (Outcome::Waiting, None, orphan),
            Decision::Left(r) => (Outcome::Left, Some(r), None),
            Decision::Refused(r) => {
                refused = true;
                (Outcome::Refused, Some(r), None)
            }
        };
        pods.push(PodDrain {
            key: k,
            outcome,
            reason,
            retries: 0,
            note,
        });
    }
    let waiting = pods.iter().any(|p| p.outcome == Outcome::Waiting);
    let drains = sim.drains_mut();
    drains.reports.push(NodeDrain {
        run,
        node: name.clone(),
        started: now,
        ended: (refused || !waiting).then_some(now),
        pods,
    });
    let r = drains.reports.len() - 1;
    if refused {
        // kubectl: the node fails before any eviction; the pods that would have been
        // evicted stay where they are.
        for p in &mut drains.reports[r].pods {
            if p.outcome == Outcome::Waiting {
                p.outcome = Outcome::Refused;
                p.reason = Some("not evicted: other pods of the node were refused".into());
            }
        }
        abort(sim, run, &name, &rest);
        return;
    }
    if !waiting {
        // Nothing to evict: drained at once, on to the next node.
        if let Some((&next, more)) = rest.split_first() {
            begin(sim, run, next, more.to_vec(), opts);
        }
        return;
    }
    sim.drains_mut().jobs.push(Job {
        node: id,
        report: r,
        deadline: now.saturating_add(opts.timeout),
        next: now,
        cause: format!("drain of {name}"),
        rest,
        opts,
        run,
    });
}

/// kubectl aborts the command after node `failed`: `rest` stay cordoned, not drained.
fn abort(sim: &mut Simulation, run: usize, failed: &str, rest: &[NodeId]) {
    let now = sim.now();
    for &id in rest {
        let node = sim.state().node(id);
        let name = node.info.name.clone();
        let mut keys: Vec<Arc<str>> = node.pods.iter().map(|p| p.key.clone()).collect();
        keys.sort();
        let reason = format!(
            "node not drained: kubectl drain aborted after node {failed} failed (unable to drain node \"{failed}\", aborting command)"
        );
        let pods = keys
            .into_iter()
            .map(|key| PodDrain {
                key,
                outcome: Outcome::Aborted,
                reason: Some(reason.clone()),
                retries: 0,
                note: None,
            })
            .collect();
        sim.drains_mut().reports.push(NodeDrain {
            run,
            node: name,
            started: now,
            ended: Some(now),
            pods,
        });
    }
}

/// Runs the rounds of evictions due at `now` (call after the clock reached it), and starts
/// the next node of a drain whose node is done.
pub fn run_due(sim: &mut Simulation, now: Millis) {
    while sim.drains().jobs.iter().any(|j| j.next <= now) {
        let mut jobs = std::mem::take(&mut sim.drains_mut().jobs);
        jobs.sort_by_key(|j| j.report);
        let mut keep = Vec::new();
        for mut job in jobs {
            if job.next > now {
                keep.push(job);
                continue;
            }
            let done = round(sim, &job, now);
            if !done && now < job.deadline {
                job.next = now
                    .saturating_add(RETRY_INTERVAL)
                    .min(job.deadline.max(now + 1));
                keep.push(job);
                continue;
            }
            let r = &mut sim.drains_mut().reports[job.report];
            r.ended = Some(now);
            if !done {
                for p in &mut r.pods {
                    if p.outcome == Outcome::Waiting {
                        p.outcome = Outcome::TimedOut;
                        let why = p.reason.take().unwrap_or_default();
                        p.reason = Some(format!(
                            "timed out after {}: {why}",
                            crate::scenario::format_millis(now - r.started)
                        ));
                    }
                }
            }
            let failed = r
                .pods
                .iter()
                .any(|p| matches!(p.outcome, Outcome::TimedOut | Outcome::Failed));
            let name = r.node.clone();
            if failed {
                abort(sim, job.run, &name, &job.rest);
            } else if let Some((&next, more)) = job.rest.split_first() {
                begin(sim, job.run, next, more.to_vec(), job.opts);
            }
        }
        keep.append(&mut sim.drains_mut().jobs);
        sim.drains_mut().jobs = keep;
    }
}

/// One round of evictions of a job's waiting pods at `now`. `true` when none is left waiting.
fn round(sim: &mut Simulation, job: &Job, now: Millis) -> bool {
    let waiting: Vec<usize> = sim.drains_mut().reports[job.report]
        .pods
        .iter()
        .enumerate()
        .filter(|(_, p)| p.outcome == Outcome::Waiting)
        .map(|(i, _)| i)
        .collect();
    // The disruption controller has caught up since the last round.
    let mut synced: Vec<usize> = Vec::new();
    for &i in &waiting {
        let key = sim.drains_mut().reports[job.report].pods[i].key.clone();
        let on_node = sim.state().pod(&key).is_some_and(|e| e.node == job.node);
        if !on_node {
            let p = &mut sim.drains_mut().reports[job.report].pods[i];
            p.outcome = Outcome::Gone;
            p.reason = Some("left the node before its eviction".into());
            continue;
        }
        let info = sim.state().pod(&key).expect("on the node").info.clone();
        let guards = crate::eviction::guarding_budgets(sim.state(), &info);
        for &b in &guards {
            if !synced.contains(&b) {
                crate::eviction::sync_budget(sim, b);
                synced.push(b);
            }
        }
        let verdict = crate::eviction::request(sim, &guards);
        let p = &mut sim.drains_mut().reports[job.report].pods[i];
        match verdict {
            crate::eviction::Verdict::Accepted => {
                p.outcome = Outcome::Evicted { at: now };
                if p.note.is_some() {
                    sim.delete_orphan(&key, &job.cause);
                } else {
                    sim.evict_pod(&key, &job.cause);
                }
            }
            crate::eviction::Verdict::TooManyRequests(why) => {
                p.retries += 1;
                p.reason = Some(why);
            }
            crate::eviction::Verdict::Error(why) => {
                p.outcome = Outcome::Failed;
                p.reason = Some(why);
            }
        }
    }
    sim.schedule_pending();
    sim.drains_mut().reports[job.report]
        .pods
        .iter()
        .all(|p| p.outcome != Outcome::Waiting)
}
