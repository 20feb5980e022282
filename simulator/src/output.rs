//! What a run prints: the JSON contract of DESIGN.md (`summary`, `pods`, `nodes`, plus
//! `unschedulable`, `timeline`, `drain`, `plan`) and a table for people, both built from one
//! [`Output`] value so they never disagree.

use crate::engine::{PodStatus, Simulation, Step, Totals};
use crate::scenario::format_millis;
use sched_core::intern::Interner;
use sched_core::model::Resources;
use sched_core::quantity::{format_bytes, format_count, format_milli_cpu};
use serde::Serialize;
use serde::ser::SerializeMap;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// At most this many timeline entries are printed; longer runs are bucketed.
pub const MAX_TIMELINE: usize = 1000;
/// The table lists at most this many rows per section.
pub const TABLE_ROWS: usize = 40;

/// Resource amounts in a fixed order (`cpu`, `memory`, `ephemeral-storage`, extended
/// resources by name, `pods`), serialized as a JSON object in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quantities(pub Vec<(String, String)>);

impl Serialize for Quantities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Quantities {
    /// The amount of `name`, if listed.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `summary`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Pods the simulation handled: pending in the snapshot, created by the scenario or the
    /// trace, or evicted from a node.
    /// `pods = scheduled + unschedulable + deleted_waiting + other_scheduler`.
    pub pods: usize,
    /// Pods on a node at the end, or that ran on one until they finished or were deleted.
    pub scheduled: usize,
    /// Pods left without a node at the end.
    pub unschedulable: usize,
    /// Nodes at the end.
    pub nodes: usize,
    /// Pods that ran for their duration and finished (included in `scheduled`).
    pub finished: usize,
    /// Pods deleted by the scenario or the trace (running or waiting), or evicted with no
    /// controller to recreate them.
    pub deleted: usize,
    /// Of those, pods deleted while waiting for a node.
    pub deleted_waiting: usize,
    /// Successful preemptions (each evicts one or more pods).
    pub preemptions: u64,
    /// Evictions (preemption, drain, node removal, NoExecute taint).
    pub evictions: u64,
    /// Scheduling cycles run.
    pub attempts: u64,
    /// Virtual time at the end.
    pub end: String,
    /// The seed.
    pub seed: u64,
    /// Objects the cluster snapshot loaded, by group (before any scenario event or what-if).
    pub loaded: Loaded,
    /// Objects of the snapshot of kinds Placer does not read, counted by kind (sorted).
    pub skipped_kinds: BTreeMap<String, usize>,
    /// Objects of the snapshot skipped as invalid (`--skip-invalid`).
    pub skipped_invalid: usize,
    /// Pending pods whose `schedulerName` names no profile: left to another scheduler (not
    /// unschedulable, not planned for).
    pub other_scheduler: usize,
}

/// `summary.loaded`: how many objects of each group the cluster snapshot loaded.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Loaded {
    /// Nodes.
    pub nodes: usize,
    /// Pods: bound, pending and terminal.
    pub pods: usize,
    /// Namespaces.
    pub namespaces: usize,
    /// Services.
    pub services: usize,
    /// ReplicaSets.
    pub replica_sets: usize,
    /// StatefulSets.
    pub stateful_sets: usize,
    /// ReplicationControllers.
    pub replication_controllers: usize,
    /// PriorityClasses.
    pub priority_classes: usize,
    /// PodDisruptionBudgets (`policy/v1`).
    pub pod_disruption_budgets: usize,
    /// Deployments.
    pub deployments: usize,
    /// DaemonSets.
    pub daemon_sets: usize,
    /// Jobs.
    pub jobs: usize,
    /// Pods the workloads' controllers created because the snapshot lacked them (pending).
    pub created_pods: usize,
    /// ReplicaSets created for Deployments whose current ReplicaSet the snapshot lacked.
    pub created_replica_sets: usize,
}

impl Loaded {
    /// `(label, count)` for each group, in the order of the JSON keys.
    #[must_use]
    pub fn groups(&self) -> [(&'static str, usize); 12] {
        [
            ("node", self.nodes),
            ("pod", self.pods),
            ("namespace", self.namespaces),
            ("service", self.services),
            ("replicaset", self.replica_sets),
            ("statefulset", self.stateful_sets),
            ("replicationcontroller", self.replication_controllers),
            ("priorityclass", self.priority_classes),
            ("poddisruptionbudget", self.pod_disruption_budgets),
            ("deployment", self.deployments),
            ("daemonset", self.daemon_sets),
            ("job", self.jobs),
        ]
    }
}

/// One entry of `pods`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PodOut {
    /// `namespace/name`.
    pub pod: String,
    /// The node it is (or was last) on, or null.
    pub node: Option<String>,
    /// Why it has no node (upstream's message), or null.
    pub message: Option<String>,
    /// `scheduled`, `unschedulable`, `finished` or `deleted`.
    pub status: PodStatus,
    /// Times it was evicted, when it was.
    #[serde(skip_serializing_if = "is_zero")]
    pub evictions: u32,
    /// The last eviction's cause, when it was evicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evicted_by: Option<String>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// One entry of `nodes`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NodeOut {
    /// Name.
    pub node: String,
    /// Pods on it.
    pub pods: u32,
    /// Σ requests of its pods.
    pub requested: Quantities,
    /// Its allocatable resources.
    pub allocatable: Quantities,
    /// Cordoned.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unschedulable: bool,
}

/// One entry of `unschedulable`: pods that failed for the same reason.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReasonGroup {
    /// Upstream's message.
    pub message: String,
    /// How many pods.
    pub count: usize,
    /// Which.
    pub pods: Vec<String>,
}

/// Allocation of one resource, cluster-wide.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Allocation {
    /// Σ requests.
    pub requested: String,
    /// Σ allocatable.
    pub allocatable: String,
    /// requested / allocatable × 100, one decimal.
    pub percent: f64,
}

/// One entry of `timeline`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepOut {
    /// Virtual time (`1m30s`).
    pub time: String,
    /// Virtual time in seconds.
    pub seconds: f64,
    /// What happened.
    pub events: Vec<String>,
    /// Pods placed in this step.
    pub scheduled: u32,
    /// Pods waiting at its end.
    pub pending: u32,
    /// Of those, pods whose last attempt failed.
    pub unschedulable: u32,
    /// Pods on nodes at its end.
    pub running: i64,
    /// Allocation per resource at its end.
    pub allocation: BTreeMapOrdered,
}

/// Allocation per resource, in `Quantities` order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BTreeMapOrdered(pub Vec<(String, Allocation)>);

impl Serialize for BTreeMapOrdered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// `drain`: can the pods of these nodes go elsewhere?
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DrainOut {
    /// The drained nodes.
    pub nodes: Vec<String>,
    /// For a scenario's drain: when it started (virtual time, e.g. `2m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Every pod that had to leave left and found a node: the drain is safe.
    pub ok: bool,
    /// Every pod that had to leave was evicted (none refused, none timed out).
    pub complete: bool,
    /// Pods evicted from the drained nodes.
    pub evicted: usize,
    /// Of those, pods that found another node.
    pub rescheduled: usize,
    /// Pods without a node after the drain (evicted ones, and any they preempted).
    pub stranded: usize,
    /// Virtual time from the cordon to the last eviction (or the timeout), e.g. `10s`.
    pub duration: String,
    /// Each pod the drain moved: from where, to where, or why not.
    pub pods: Vec<DrainPod>,
    /// Pods that blocked the drain: refused by kubectl's filters (no controller without
    /// `--force`, `emptyDir` without `--delete-emptydir-data`), or whose eviction a
    /// PodDisruptionBudget refused until the timeout, with why; and the pods of nodes not
    /// drained because an earlier node failed (kubectl aborts the command).
    pub blocked: Vec<DrainBlock>,
    /// Pods left on the drained nodes on purpose: DaemonSet pods, mirror pods.
    pub left: Vec<DrainBlock>,
}

/// A pod a drain did not evict, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DrainBlock {
    /// `namespace/name`.
    pub pod: String,
    /// Its node.
    pub node: String,
    /// Why it was not evicted.
    pub reason: String,
}

/// One pod moved by a drain.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DrainPod {
    /// `namespace/name`.
    pub pod: String,
    /// The node it was evicted from.
    pub from: String,
    /// Where it went, or null.
    pub node: Option<String>,
    /// Why it could not be placed, or null.
    pub message: Option<String>,
    /// When its eviction was accepted (virtual time since the start, e.g. `15s`).
    pub evicted_at: String,
    /// How many times a PodDisruptionBudget refused its eviction first (429, retried 5 s later).
    pub refusals: u32,
}

/// `plan`: the smallest number of nodes of a template that schedules every pending pod.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PlanOut {
    /// The template file.
    pub template: String,
    /// The answer, or null when no number works.
    pub nodes: Option<u64>,
    /// Names of the nodes added in the final run.
    pub added: Vec<String>,
    /// Each count tried, and how many pods stayed unschedulable with it.
    pub probes: Vec<Probe>,
    /// Why no number works (pods that fit not even an empty template node), or null.
    pub message: Option<String>,
    /// The pods no number of template nodes can help, with the reason on an empty one.
    pub blockers: Vec<ReasonGroup>,
    /// When there are blockers: the smallest count that schedules every other pending pod.
    pub for_the_rest: Option<u64>,
}

/// One count tried by the plan search.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Probe {
    /// Nodes added.
    pub nodes: u64,
    /// Pods left unschedulable.
    pub unschedulable: usize,
}

/// Everything a run prints.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Output {
    /// Counts.
    pub summary: Summary,
    /// Each pod handled, in the order first seen.
    pub pods: Vec<PodOut>,
    /// Each node at the end, in load order.
    pub nodes: Vec<NodeOut>,
    /// Unschedulable pods grouped by message, most common first.
    pub unschedulable: Vec<ReasonGroup>,
    /// Per step of virtual time: pending, scheduled, unschedulable, allocation.
    pub timeline: Vec<StepOut>,
    /// Nodes added before the run (`--add-nodes`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added_nodes: Vec<String>,
    /// The drain what-if.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain: Option<DrainOut>,
    /// The scenario's `drain` events, each as the run left it (where its evicted pods are at
    /// the end of the run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scenario_drains: Vec<DrainOut>,
    /// The plan search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanOut>,
}

fn is_bytes(name: &str) -> bool {
    name == "memory" || name == "ephemeral-storage" || name.starts_with("hugepages-")
}

fn format_amount(name: &str, v: i64) -> String {
    if name == "cpu" {
        format_milli_cpu(v)
    } else if is_bytes(name) {
        format_bytes(v)
    } else {
        format_count(v)
    }
}

/// The resources worth showing for `alloc`/`req`: cpu, memory, ephemeral-storage when either
/// has it, then scalars by name.
fn resource_names(alloc: &Resources, req: &Resources, interner: &Interner) -> Vec<String> {
    let mut names = vec!["cpu".to_string(), "memory".to_string()];
    if alloc.ephemeral_storage != 0 || req.ephemeral_storage != 0 {
        names.push("ephemeral-storage".into());
    }
    let mut scalars: Vec<String> = alloc
        .scalar
        .iter()
        .chain(req.scalar.iter())
        .map(|&(s, _)| interner.resolve(s).to_string())
        .collect();
    scalars.sort();
    scalars.dedup();
    names.extend(scalars);
    names
}

fn amount(r: &Resources, name: &str, interner: &Interner) -> i64 {
    match name {
        "cpu" => r.milli_cpu,
        "memory" => r.memory,
        "ephemeral-storage" => r.ephemeral_storage,
        "pods" => r.pods,
        other => interner.get(other).map_or(0, |s| r.scalar(s)),
    }
}

fn percent(used: i64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    (used as f64 * 1000.0 / total as f64).round() / 10.0
}

fn allocation(t: &Totals, interner: &Interner) -> BTreeMapOrdered {
    let mut out = Vec::new();
    for name in resource_names(&t.allocatable, &t.requested, interner) {
        let (u, a) = (
            amount(&t.requested, &name, interner),
            amount(&t.allocatable, &name, interner),
        );
        out.push((
            name.clone(),
            Allocation {
                requested: format_amount(&name, u),
                allocatable: format_amount(&name, a),
                percent: percent(u, a),
            },
        ));
    }
    out.push((
        "pods".into(),
        Allocation {
            requested: format_count(t.pods),
            allocatable: format_count(t.allocatable.pods),
            percent: percent(t.pods, t.allocatable.pods),
        },
    ));
    BTreeMapOrdered(out)
}

fn step_out(s: &Step, scheduled: u32, events: Vec<String>, interner: &Interner) -> StepOut {
    StepOut {
        time: format_millis(s.at),
        seconds: s.at as f64 / 1000.0,
        events,
        scheduled,
        pending: s.pending,
        unschedulable: s.unschedulable,
        running: s.totals.pods,
        allocation: allocation(&s.totals, interner),
    }
}

/// The timeline, bucketed to at most [`MAX_TIMELINE`] entries: a bucket shows the state at
/// its last step, the pods scheduled over all its steps, and its first events.
#[must_use]
pub fn timeline(steps: &[Step], interner: &Interner) -> Vec<StepOut> {
    if steps.len() <= MAX_TIMELINE {
        return steps
            .iter()
            .map(|s| step_out(s, s.scheduled, s.events.clone(), interner))
            .collect();
    }
    let per = steps.len().div_ceil(MAX_TIMELINE);
    steps
        .chunks(per)
        .map(|chunk| {
            let last = chunk.last().expect("chunks are not empty");
            let scheduled = chunk.iter().map(|s| s.scheduled).sum();
            let mut events: Vec<String> = Vec::new();
            let mut more = 0usize;
            for s in chunk {
                for e in &s.events {
                    if events.len() < 4 && !events.contains(e) {
                        events.push(e.clone());
                    } else {
                        more += 1;
                    }
                }
            }
            if more > 0 {
                events.push(format!("… {more} more over {} steps", chunk.len()));
            }
            step_out(last, scheduled, events, interner)
        })
        .collect()
}

impl Output {
    /// The output of a finished simulation.
    #[must_use]
    pub fn from_simulation(sim: &Simulation) -> Output {
        let state = sim.state();
        let interner = state.interner();
        let mut pods = Vec::with_capacity(sim.records().len());
        let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let (mut scheduled, mut unschedulable, mut finished, mut deleted) = (0, 0, 0, 0);
        let mut deleted_waiting = 0;
        let mut other_scheduler = 0;
        for r in sim.records() {
            let status = match r.status {
                PodStatus::Pending => PodStatus::Unschedulable,
                s => s,
            };
            match status {
                PodStatus::Scheduled => scheduled += 1,
                PodStatus::Finished => {
                    scheduled += 1;
                    finished += 1;
                }
                PodStatus::Deleted => {
                    deleted += 1;
                    if r.node.is_some() {
                        scheduled += 1;
                    } else {
                        deleted_waiting += 1;
                    }
                }
                PodStatus::OtherScheduler => other_scheduler += 1,
                PodStatus::Unschedulable | PodStatus::Pending => {
                    unschedulable += 1;
                    let msg = r.message.as_deref().unwrap_or("not scheduled yet");
                    groups.entry(msg).or_default().push(r.key.to_string());
                }
            }
            pods.push(PodOut {
                pod: r.key.to_string(),
                node: r.node.as_ref().map(ToString::to_string),
                message: match status {
                    PodStatus::Unschedulable => Some(
                        r.message
                            .clone()
                            .unwrap_or_else(|| "not scheduled yet".into()),
                    ),
                    // Why a deleted pod was never scheduled (it was being deleted), or whose
                    // scheduler it is.
                    PodStatus::Deleted | PodStatus::OtherScheduler => r.message.clone(),
                    _ => None,
                },
                status,
                evictions: r.evictions,
                evicted_by: r.evicted_by.clone(),
            });
        }
        let mut unsched: Vec<ReasonGroup> = groups
            .into_iter()
            .map(|(m, p)| ReasonGroup {
                message: m.to_string(),
                count: p.len(),
                pods: p,
            })
            .collect();
        unsched.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.message.cmp(&b.message))
        });
        let nodes = state
            .node_ids()
            .iter()
            .map(|&id| {
                let n = state.node(id);
                let names = resource_names(&n.info.allocatable, &n.requested, interner);
                let q = |r: &Resources| {
                    Quantities(
                        names
                            .iter()
                            .map(|name| {
                                (name.clone(), format_amount(name, amount(r, name, interner)))
                            })
                            .collect(),
                    )
                };
                let mut allocatable = q(&n.info.allocatable);
                allocatable
                    .0
                    .push(("pods".into(), format_count(n.info.allocatable.pods)));
                NodeOut {
                    node: n.info.name.to_string(),
                    pods: n.pod_count,
                    requested: q(&n.requested),
                    allocatable,
                    unschedulable: n.info.unschedulable,
                }
            })
            .collect();
        let stats = sim.stats();
        Output {
            summary: Summary {
                pods: sim.records().len(),
                scheduled,
                unschedulable,
                nodes: state.num_nodes(),
                finished,
                deleted,
                deleted_waiting,
                preemptions: stats.preemptions,
                evictions: stats.evictions,
                attempts: stats.attempts,
                end: format_millis(sim.now()),
                seed: sim.seed(),
                loaded: Loaded::default(),
                skipped_kinds: BTreeMap::new(),
                skipped_invalid: 0,
                other_scheduler,
            },
            pods,
            nodes,
            unschedulable: unsched,
            timeline: timeline(sim.timeline(), interner),
            added_nodes: Vec::new(),
            drain: None,
            scenario_drains: Vec::new(),
            plan: None,
        }
    }

    /// The JSON text (pretty, with a final newline).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the output serializes");
        s.push('\n');
        s
    }

    /// The table for people.
    #[must_use]
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let mut parts = vec![format!("{} scheduled", s.scheduled)];
        if s.finished > 0 {
            parts[0] = format!(
                "{} scheduled ({} ran to completion)",
                s.scheduled, s.finished
            );
        }
        parts.push(format!("{} unschedulable", s.unschedulable));
        if s.deleted > 0 {
            if s.deleted_waiting > 0 {
                parts.push(format!(
                    "{} deleted ({} while waiting)",
                    s.deleted, s.deleted_waiting
                ));
            } else {
                parts.push(format!("{} deleted", s.deleted));
            }
        }
        if s.other_scheduler > 0 {
            parts.push(format!(
                "{} left to another scheduler (schedulerName names no profile)",
                s.other_scheduler
            ));
        }
        if s.preemptions > 0 {
            parts.push(format!("{} preemption(s)", s.preemptions));
        }
        if s.evictions > 0 {
            parts.push(format!("{} eviction(s)", s.evictions));
        }
        let over = if s.end == "0s" {
            String::new()
        } else {
            format!(" over {} of virtual time", s.end)
        };
        let _ = writeln!(
            out,
            "Simulated {} pod(s) on {} node(s){over}: {}.",
            s.pods,
            s.nodes,
            parts.join(", ")
        );
        let _ = writeln!(out, "{}", s.loaded_text());
        if !self.added_nodes.is_empty() {
            let _ = writeln!(out, "Added before the run: {}.", list(&self.added_nodes, 8));
        }
        if let Some(p) = &self.plan {
            table_plan(&mut out, p);
        }
        for d in &self.scenario_drains {
            table_drain(&mut out, d);
        }
        if let Some(d) = &self.drain {
            table_drain(&mut out, d);
        }
        table_pods(&mut out, &self.pods);
        table_unschedulable(&mut out, &self.unschedulable);
        if self.timeline.len() > 2
            || self.timeline.iter().any(|t| {
                t.events
                    .iter()
                    .any(|e| e != "snapshot" && !e.starts_with("schedule "))
            })
        {
            table_timeline(&mut out, &self.timeline);
        }
        table_nodes(&mut out, &self.nodes);
        let _ = writeln!(
            out,
            "\nSeed {} (same input and seed give the same result). Full detail: --output json.",
            s.seed
        );
        out
    }
}

impl Summary {
    /// `Loaded from the snapshot: 6 node(s), …; skipped 2 object(s) of other kinds
    /// (ConfigMap 1, Secret 1); skipped 1 invalid object(s).` (no final newline).
    #[must_use]
    pub fn loaded_text(&self) -> String {
        let groups: Vec<String> = self
            .loaded
            .groups()
            .iter()
            .map(|(label, n)| format!("{n} {label}(s)"))
            .collect();
        let mut out = format!("Loaded from the snapshot: {}", groups.join(", "));
        if self.loaded.created_pods > 0 || self.loaded.created_replica_sets > 0 {
            let _ = write!(
                out,
                "; created by workload controllers: {} pod(s), {} replicaset(s)",
                self.loaded.created_pods, self.loaded.created_replica_sets
            );
        }
        if !self.skipped_kinds.is_empty() {
            let total: usize = self.skipped_kinds.values().sum();
            let kinds: Vec<String> = self
                .skipped_kinds
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = write!(
                out,
                "; skipped {total} object(s) of other kinds ({})",
                kinds.join(", ")
            );
        }
        if self.skipped_invalid > 0 {
            let _ = write!(out, "; skipped {} invalid object(s)", self.skipped_invalid);
        }
        out.push('.');
        out
    }
}

fn list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        let _ = write!(s, " and {} more", items.len() - max);
    }
    s
}

/// Left-aligned columns, two spaces apart.
fn columns(out: &mut String, rows: &[Vec<String>]) {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; n];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    for r in rows {
        let mut line = String::from("  ");
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn table_pods(out: &mut String, pods: &[PodOut]) {
    if pods.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nPods");
    let mut rows = vec![vec!["POD".to_string(), "NODE".into(), "STATUS".into()]];
    for p in pods.iter().take(TABLE_ROWS) {
        let mut status = match p.status {
            PodStatus::Scheduled => "scheduled".to_string(),
            PodStatus::Unschedulable | PodStatus::Pending => "unschedulable (see below)".into(),
            PodStatus::Finished => "finished".into(),
            PodStatus::Deleted => "deleted".into(),
            PodStatus::OtherScheduler => "left to another scheduler".into(),
        };
        if let Some(by) = &p.evicted_by {
            let _ = write!(status, ", evicted by {by}");
        }
        rows.push(vec![
            p.pod.clone(),
            p.node.clone().unwrap_or_else(|| "-".into()),
            status,
        ]);
    }
    columns(out, &rows);
    if pods.len() > TABLE_ROWS {
        let _ = writeln!(out, "  … and {} more", pods.len() - TABLE_ROWS);
    }
}

fn table_unschedulable(out: &mut String, groups: &[ReasonGroup]) {
    if groups.is_empty() {
        return;
    }
    let total: usize = groups.iter().map(|g| g.count).sum();
    let _ = writeln!(out, "\nUnschedulable: {total} pod(s), by reason");
    for g in groups.iter().take(TABLE_ROWS) {
        let _ = writeln!(out, "  {} pod(s): {}", g.count, g.message);
        let _ = writeln!(out, "    {}", list(&g.pods, 6));
    }
}

fn table_timeline(out: &mut String, steps: &[StepOut]) {
    let _ = writeln!(out, "\nTimeline");
    let mut rows = vec![vec![
        "TIME".to_string(),
        "EVENTS".into(),
        "SCHEDULED".into(),
        "PENDING".into(),
        "UNSCHEDULABLE".into(),
        "CPU".into(),
        "MEMORY".into(),
    ]];
    let stride = steps.len().div_ceil(TABLE_ROWS).max(1);
    let pct = |s: &StepOut, r: &str| {
        s.allocation
            .0
            .iter()
            .find(|(k, _)| k == r)
            .map(|(_, a)| format!("{:.0}%", a.percent))
            .unwrap_or_default()
    };
    for (i, s) in steps.iter().enumerate() {
        if i % stride != 0 && i + 1 != steps.len() {
            continue;
        }
        let mut ev = s.events.join("; ");
        if ev.chars().count() > 48 {
            ev = ev.chars().take(47).collect::<String>() + "…";
        }
        rows.push(vec![
            s.time.clone(),
            ev,
            s.scheduled.to_string(),
            s.pending.to_string(),
            s.unschedulable.to_string(),
            pct(s, "cpu"),
            pct(s, "memory"),
        ]);
    }
    columns(out, &rows);
}

fn usage(n: &NodeOut, r: &str) -> String {
    let (Some(u), Some(a)) = (n.requested.get(r), n.allocatable.get(r)) else {
        return String::new();
    };
    let pct = |u: &str, a: &str| -> Option<f64> {
        let pu = sched_core::quantity::Quantity::parse(u).ok()?;
        let pa = sched_core::quantity::Quantity::parse(a).ok()?;
        Some(percent(pu.milli_value(), pa.milli_value()))
    };
    match pct(u, a) {
        Some(p) => format!("{u}/{a} ({p:.0}%)"),
        None => format!("{u}/{a}"),
    }
}

fn table_nodes(out: &mut String, nodes: &[NodeOut]) {
    if nodes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nNodes (requested/allocatable)");
    let mut extra: Vec<String> = Vec::new();
    for n in nodes {
        for (k, _) in &n.allocatable.0 {
            if !matches!(k.as_str(), "cpu" | "memory" | "pods" | "ephemeral-storage")
                && !extra.contains(k)
            {
                extra.push(k.clone());
            }
        }
    }
    extra.sort();
    let mut header = vec![
        "NODE".to_string(),
        "PODS".into(),
        "CPU".into(),
        "MEMORY".into(),
    ];
    header.extend(extra.iter().cloned());
    let mut rows = vec![header];
    for n in nodes.iter().take(TABLE_ROWS) {
        let mut name = n.node.clone();
        if n.unschedulable {
            name.push_str(" (cordoned)");
        }
        let mut row = vec![
            name,
            format!("{}/{}", n.pods, n.allocatable.get("pods").unwrap_or("?")),
            usage(n, "cpu"),
            usage(n, "memory"),
        ];
        row.extend(extra.iter().map(|e| usage(n, e)));
        rows.push(row);
    }
    columns(out, &rows);
    if nodes.len() > TABLE_ROWS {
        let _ = writeln!(out, "  … and {} more", nodes.len() - TABLE_ROWS);
    }
}

fn table_drain(out: &mut String, d: &DrainOut) {
    let _ = writeln!(
        out,
        "\nDrain of {}{}: {} — {} pod(s) evicted in {}, {} placed elsewhere, {} without a node, {} blocking, {} left in place.",
        d.nodes.join(", "),
        d.at.as_ref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default(),
        if d.ok { "possible" } else { "NOT possible" },
        d.evicted,
        d.duration,
        d.rescheduled,
        d.stranded,
        d.blocked.len(),
        d.left.len()
    );
    let mut rows = vec![vec![
        "POD".to_string(),
        "FROM".into(),
        "EVICTED".into(),
        "TO".into(),
    ]];
    if d.pods.is_empty() {
        rows.clear();
    }
    for p in d.pods.iter().take(TABLE_ROWS) {
        rows.push(vec![
            p.pod.clone(),
            p.from.clone(),
            if p.refusals > 0 {
                format!("{} (after {} PDB refusal(s))", p.evicted_at, p.refusals)
            } else {
                p.evicted_at.clone()
            },
            match (&p.node, &p.message) {
                (Some(n), _) => n.clone(),
                (None, Some(m)) => format!("nowhere: {m}"),
                (None, None) => "nowhere".into(),
            },
        ]);
    }
    columns(out, &rows);
    for (title, list) in [
        ("Blocking the drain", &d.blocked),
        ("Left in place", &d.left),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        let mut rows = vec![vec!["POD".to_string(), "NODE".into(), "WHY".into()]];
        for b in list.iter().take(TABLE_ROWS) {
            rows.push(vec![b.pod.clone(), b.node.clone(), b.reason.clone()]);
        }
        columns(out, &rows);
    }
}

fn table_plan(out: &mut String, p: &PlanOut) {
    let probes = p
        .probes
        .iter()
        .map(|x| format!("{}→{}", x.nodes, x.unschedulable))
        .collect::<Vec<_>>()
        .join(", ");
    match p.nodes {
        Some(n) => {
            let _ = writeln!(
                out,
                "\nPlan: {n} node(s) of template {} make every pending pod schedulable.",
                p.template
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nPlan: no number of {} nodes makes every pending pod schedulable.",
                p.template
            );
            if let Some(m) = &p.message {
                let _ = writeln!(out, "  {m}");
            }
            for g in &p.blockers {
                let _ = writeln!(
                    out,
                    "  {} pod(s) on an empty {} node: {}",
                    g.count, p.template, g.message
                );
                let _ = writeln!(out, "    {}", list(&g.pods, 6));
            }
            if let Some(k) = p.for_the_rest {
                let _ = writeln!(
                    out,
                    "  {k} {} node(s) make every other pending pod schedulable.",
                    p.template
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "  Counts tried (nodes→pods left unschedulable): {probes}"
    );
}
