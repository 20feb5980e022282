//! The replay engine: the core's scheduling loop on a virtual clock.
//!
//! Pending pods wait in the core's queue ([`sched_core::SchedulingLoop`], the daemon's queue
//! too): the profile's QueueSort order, backoff on the virtual clock (upstream's one-second
//! windows; with no active pod, a pod backing off is popped at once, SchedulerPopFromBackoffQ),
//! unschedulable pods moved only by the cluster events the plugins that rejected them
//! registered ([`sched_core::framework::Plugin::events_to_register`], upstream
//! `EventsToRegister`), and upstream's maximum stay of 5 minutes. Each attempt is the loop's
//! `schedule_one`: the real cycle, assume, Permit, then a decision the simulator carries out at
//! once — PreBind and the binding (no API server: it succeeds), or the unschedulable pod's
//! message.
//!
//! When DefaultPreemption nominates a node, the preemptor is nominated there (pods of lower
//! priority see it on that node) and requeued, and the victims are deleted at once on the
//! virtual clock; their deletion moves the preemptor, whose next attempt tries the nominated
//! node first — upstream's sequence. A pod evicted by preemption, node removal or a
//! `NoExecute` taint is deleted, as upstream deletes it: one with a controller owner
//! (`ownerReferences[].controller: true`) is recreated pending, as its controller would, and
//! competes for room again; a bare pod is gone. Drains follow `kubectl drain`
//! (`crate::drain`); `NoExecute` taints evict on the taint eviction controller's timers
//! (`crate::eviction`).

use crate::scenario::{Action, Event, Location, Millis, NewPod, Scenario, ScenarioError};
use k8s_openapi::api::core::v1::{Node, Pod};
use rustc_hash::FxHashMap;
use sched_core::config::SchedulerConfig;
use sched_core::framework::{ClusterChange, ClusterEvents, ProfileError};
use sched_core::intern::Sym;
use sched_core::model::{PodInfo, Resources, Taint, TaintEffect};
use sched_core::queue::Where;
use sched_core::state::{ClusterState, NodeId};
use sched_core::{Decision, Scheduler, SchedulingLoop};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

/// The taint the node lifecycle controller puts on cordoned nodes.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// What became of a pod the simulation handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PodStatus {
    /// Waiting to be scheduled (only during a run).
    Pending,
    /// Placed on a node.
    Scheduled,
    /// No node fits (or the pod cannot be scheduled at all); `message` says why.
    Unschedulable,
    /// Ran for its duration and terminated; holds nothing.
    Finished,
    /// Deleted by the scenario or the trace.
    Deleted,
    /// Its `schedulerName` names none of the profiles: left to another scheduler, never
    /// scheduled nor counted as unschedulable (serialized `other_scheduler`).
    #[serde(rename = "other_scheduler")]
    OtherScheduler,
}

/// One pod the simulation handled: pending in the input, created by the scenario, or
/// evicted from a node.
#[derive(Clone, Debug)]
pub struct PodRecord {
    /// `namespace/name`.
    pub key: Arc<str>,
    /// Current status.
    pub status: PodStatus,
    /// The node it runs (or ran) on.
    pub node: Option<Arc<str>>,
    /// Why it is unschedulable (the last failed attempt's message).
    pub message: Option<String>,
    /// Scheduling attempts.
    pub attempts: u32,
    /// Times it was evicted (preemption, drain, node removal, NoExecute taint).
    pub evictions: u32,
    /// The last eviction's cause.
    pub evicted_by: Option<String>,
    /// The node it was last evicted from.
    pub evicted_from: Option<Arc<str>>,
    /// Virtual time it joined the queue (first time).
    pub arrived: Millis,
    /// Virtual time it last started running.
    pub started: Option<Millis>,
    /// Virtual time it finished or was deleted.
    pub ended: Option<Millis>,
    duration: Option<Millis>,
    generation: u32,
    /// `Simulation::changes` at the last attempt.
    attempted_at_change: u64,
}

/// Cluster-wide totals, kept incrementally so a timeline step costs O(1), not O(nodes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Σ requests of pods on existing nodes.
    pub requested: Resources,
    /// Σ allocatable of existing nodes (`pods` = Σ pod capacity).
    pub allocatable: Resources,
    /// Pods on existing nodes.
    pub pods: i64,
}

/// The state after one instant of virtual time.
#[derive(Clone, Debug)]
pub struct Step {
    /// Virtual time.
    pub at: Millis,
    /// What happened (event descriptions, at most a few, then a count).
    pub events: Vec<String>,
    /// Pods placed during this step.
    pub scheduled: u32,
    /// Pods waiting at the end of the step (queued or unschedulable).
    pub pending: u32,
    /// Of those, pods whose last attempt failed.
    pub unschedulable: u32,
    /// Totals at the end of the step.
    pub totals: Totals,
}

/// Counters of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Scheduling cycles run.
    pub attempts: u64,
    /// Successful preemptions.
    pub preemptions: u64,
    /// Pods evicted (by any cause).
    pub evictions: u64,
    /// Events applied.
    pub events: u64,
    /// Pods that ran for their duration and finished.
    pub finished: u64,
}

/// Why a simulation could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A profile could not be built.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// An out-of-tree plugin could not be registered.
    #[error(transparent)]
    Registry(#[from] sched_core::RegistryError),
    /// A node could not be added.
    #[error("adding node {node}: {message}")]
    Node {
        /// The node.
        node: String,
        /// What was wrong.
        message: String,
    },
}

/// A simulation in progress.
pub struct Simulation {
    state: ClusterState,
    scheduler: Scheduler,
    records: Vec<PodRecord>,
    index: FxHashMap<Arc<str>, usize>,
    /// Every binding, in order: (pod, node).
    bindings: Vec<(Arc<str>, Arc<str>)>,
    /// The core's queue and attempt rules, on the virtual clock.
    queue: SchedulingLoop<Duration>,
    /// Admits the pods a scenario creates (priority from their PriorityClass).
    priority_classes: crate::snapshot::PriorityClasses,
    /// Counts changes to nodes (pods placed or removed, nodes added or changed), to tell
    /// whether a parked pod's message is still current.
    changes: u64,
    seq: u64,
    /// Virtual time.
    now: Millis,
    origin: i64,
    finishes: BinaryHeap<Reverse<(Millis, u64, usize, u32)>>,
    totals: Totals,
    timeline: Vec<Step>,
    step_scheduled: u32,
    stats: Stats,
    seed: u64,
    /// `kubectl drain`s in progress and done (`crate::drain`).
    drains: crate::drain::Drains,
    /// The taint eviction controller's timers (`crate::eviction`).
    timers: crate::eviction::NoExecuteTimers,
    /// The workloads `scale` events act on (`crate::workloads`).
    workloads: crate::workloads::Workloads,
    /// Owner references of the snapshot's objects and the scenario's pods (`crate::owners`).
    owners: Arc<crate::owners::OwnerGraph>,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("now", &self.now)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl Simulation {
    /// A simulation of `state` with `pending` pods queued (in this order among equals), the
    /// profiles of `config` and `seed`.
    ///
    /// # Errors
    /// A profile that cannot be built.
    pub fn new(
        state: ClusterState,
        pending: Vec<PodInfo>,
        config: &SchedulerConfig,
        seed: u64,
    ) -> Result<Simulation, SetupError> {
        Self::with_registry(
            &sched_plugins::default_registry(),
            state,
            pending,
            config,
            seed,
        )
    }

    /// [`Simulation::new`] with the plugins of `registry` (e.g. out-of-tree ones).
    ///
    /// # Errors
    /// A profile that cannot be built.
    pub fn with_registry(
        registry: &sched_core::Registry,
        mut state: ClusterState,
        pending: Vec<PodInfo>,
        config: &SchedulerConfig,
        seed: u64,
    ) -> Result<Simulation, SetupError> {
        let scheduler =
            sched_plugins::scheduler_with_registry(registry, config, state.interner_mut(), seed)?;
        let queue = SchedulingLoop::new(
            &scheduler,
            config.pod_initial_backoff,
            config.pod_max_backoff,
        );
        // Virtual time 0 is the moment of the snapshot: the newest object's creation time.
        let origin = state
            .pods()
            .map(|p| p.info.creation_millis)
            .chain(pending.iter().map(|p| p.creation_millis))
            .max()
            .unwrap_or(0);
        let mut sim = Simulation {
            state,
            scheduler,
            records: Vec::new(),
            index: FxHashMap::default(),
            bindings: Vec::new(),
            queue,
            priority_classes: crate::snapshot::PriorityClasses::default(),
            changes: 0,
            seq: 0,
            now: 0,
            origin,
            finishes: BinaryHeap::new(),
            totals: Totals::default(),
            timeline: Vec::new(),
            step_scheduled: 0,
            stats: Stats::default(),
            seed,
            drains: crate::drain::Drains::default(),
            timers: crate::eviction::NoExecuteTimers::default(),
            workloads: crate::workloads::Workloads::default(),
            owners: Arc::default(),
        };
        sim.recount();
        for pod in pending {
            if pod.terminating {
                sim.skip_terminating(pod);
            } else {
                sim.enqueue_new(pod, None);
            }
        }
        Ok(sim)
    }

    /// The PriorityClasses that admit the pods a scenario creates (as the API server's
    /// Priority admission plugin; none by default: priorities as written).
    pub fn set_priority_classes(&mut self, classes: crate::snapshot::PriorityClasses) {
        self.priority_classes = classes;
    }

    /// The ReplicaSets, StatefulSets and Deployments a scenario's `scale` events act on (the
    /// snapshot's, from [`crate::snapshot::LoadedCluster::workloads`]).
    pub fn set_workloads(&mut self, workloads: crate::workloads::Workloads) {
        self.workloads = workloads;
    }

    /// The owner references of the snapshot's objects (what `kubectl drain` reads of
    /// controllers); the pods a scenario creates are added to it.
    pub fn set_owners(&mut self, owners: Arc<crate::owners::OwnerGraph>) {
        self.owners = owners;
    }

    /// The owner graph.
    #[must_use]
    pub fn owners(&self) -> &crate::owners::OwnerGraph {
        &self.owners
    }

    /// The cluster state.
    #[must_use]
    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    // ---- hooks for `crate::drain` and `crate::eviction` -------------------------------------

    pub(crate) fn state_mut(&mut self) -> &mut ClusterState {
        &mut self.state
    }

    /// Virtual time 0 as Unix milliseconds (the snapshot's newest creation time).
    pub(crate) fn origin(&self) -> i64 {
        self.origin
    }

    pub(crate) fn drains_mut(&mut self) -> &mut crate::drain::Drains {
        &mut self.drains
    }

    pub(crate) fn timers_mut(&mut self) -> &mut crate::eviction::NoExecuteTimers {
        &mut self.timers
    }

    /// The drains started so far (`--drain`, the scenario's `drain`).
    #[must_use]
    pub fn drains(&self) -> &crate::drain::Drains {
        &self.drains
    }

    /// Evicts a placed pod (deleted; recreated pending when it has a controller).
    pub(crate) fn evict_pod(&mut self, key: &str, cause: &str) {
        self.evict(key, cause, false);
    }

    /// Deletes a placed pod for good: nothing recreates it (an orphan whose controller is
    /// gone, evicted by a drain under `--force`).
    pub(crate) fn delete_orphan(&mut self, key: &str, cause: &str) {
        self.evict_as(key, cause, Some(false));
    }

    /// The pods waiting in the queue (active, backing off, unschedulable or gated).
    pub(crate) fn queued_pods(&self) -> impl Iterator<Item = &PodInfo> {
        let q = self.queue.queue();
        q.keys().filter_map(|k| q.get(k)).map(|p| &*p.info)
    }

    /// The queue's time now.
    fn queue_now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.now).unwrap_or(0))
    }

    /// The next virtual time a drain retries or a `NoExecute` timer fires, or a pod's backoff
    /// ends while pods wait (the queue's flush; a pod's stay past upstream's maximum is
    /// flushed when time next moves, not woken for).
    fn next_timer(&self) -> Option<Millis> {
        let backoff = (self.queue.queue().len(Where::Backoff) > 0)
            .then(|| self.queue.next_deadline())
            .flatten()
            .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX));
        [self.drains.next_due(), self.timers.next_due(), backoff]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires the timers due at the current time, then schedules.
    fn run_timers(&mut self) {
        let now = self.now;
        let qnow = self.queue_now();
        self.queue.tick(qnow);
        crate::eviction::run_due(self, now);
        crate::drain::run_due(self, now);
    }

    /// After the run: advances the clock through the pending drain retries and `NoExecute`
    /// timers (pods whose duration ends meanwhile finish), scheduling after each, until none
    /// is left or `limit` is passed.
    pub fn run_timers_until(&mut self, limit: Millis) {
        while let Some(t) = self.next_timer() {
            if t > limit {
                break;
            }
            self.now = self.now.max(t);
            self.finish_due(self.now);
            self.run_timers();
            self.schedule_pending();
        }
    }

    /// The scheduler.
    #[must_use]
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Every pod the simulation handled, in the order it first saw them.
    #[must_use]
    pub fn records(&self) -> &[PodRecord] {
        &self.records
    }

    /// Every binding so far, in the order the loop made them: (`ns/name`, node).
    #[must_use]
    pub fn bindings(&self) -> &[(Arc<str>, Arc<str>)] {
        &self.bindings
    }

    /// The record of pod `key`.
    #[must_use]
    pub fn record(&self, key: &str) -> Option<&PodRecord> {
        self.index.get(key).map(|&i| &self.records[i])
    }

    /// The timeline so far.
    #[must_use]
    pub fn timeline(&self) -> &[Step] {
        &self.timeline
    }

    /// Cluster-wide totals now.
    #[must_use]
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The seed.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Virtual time now.
    #[must_use]
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Pods waiting (in the queue).
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.queue.queue().total()
    }

    /// The pod `key` while it waits to be scheduled.
    #[must_use]
    pub fn waiting_pod(&self, key: &str) -> Option<&PodInfo> {
        self.queue.queue().get(key).map(|p| &*p.info)
    }

    /// Pods whose last attempt failed and that wait (for an event, their backoff, or their
    /// scheduling gates).
    #[must_use]
    pub fn unschedulable(&self) -> usize {
        let q = self.queue.queue();
        q.len(Where::Unschedulable) + q.len(Where::Backoff) + q.len(Where::Gated)
    }

    fn recount(&mut self) {
        let mut t = Totals::default();
        for &id in self.state.node_ids() {
            let n = self.state.node(id);
            t.allocatable.add(&n.info.allocatable);
            t.requested.add(&n.requested);
            t.pods += i64::from(n.pod_count);
        }
        self.totals = t;
    }

    // ---- the queue ------------------------------------------------------------------------

    fn new_record(&mut self, key: Arc<str>) -> usize {
        let idx = self.records.len();
        self.records.push(PodRecord {
            key: key.clone(),
            status: PodStatus::Pending,
            node: None,
            message: None,
            attempts: 0,
            evictions: 0,
            evicted_by: None,
            evicted_from: None,
            arrived: self.now,
            started: None,
            ended: None,
            duration: None,
            generation: 0,
            attempted_at_change: 0,
        });
        self.index.insert(key, idx);
        idx
    }

    /// upstream `scheduleOne` skips a pod being deleted (`metadata.deletionTimestamp` set):
    /// it is never scheduled and ends `deleted`, while waiting, with the reason.
    fn skip_terminating(&mut self, pod: PodInfo) {
        if self.index.contains_key(&pod.key) || self.state.pod(&pod.key).is_some() {
            return;
        }
        let idx = self.new_record(pod.key.clone());
        let now = self.now;
        let rec = &mut self.records[idx];
        rec.status = PodStatus::Deleted;
        rec.ended = Some(now);
        rec.message = Some(
            "not scheduled: the pod is being deleted (metadata.deletionTimestamp is set)".into(),
        );
    }

    /// Queues a new pod. `None` when a pod of that key exists (running, waiting or finished).
    fn enqueue_new(&mut self, pod: PodInfo, duration: Option<Millis>) -> Option<usize> {
        if let Some(&idx) = self.index.get(&pod.key)
            && self.records[idx].status != PodStatus::Deleted
        {
            return None;
        }
        if self.state.pod(&pod.key).is_some() {
            return None;
        }
        let idx = self.new_record(pod.key.clone());
        if !self.scheduler.handles(&pod) {
            // upstream: each scheduler takes only the pods naming one of its profiles.
            let rec = &mut self.records[idx];
            rec.status = PodStatus::OtherScheduler;
            rec.message = Some(format!(
                "left to another scheduler: schedulerName {:?} names no profile",
                &*pod.scheduler_name
            ));
            return Some(idx);
        }
        self.records[idx].duration = duration;
        self.queue_pod(idx, pod);
        Some(idx)
    }

    /// Adds a pod to the queue (gated when a PreEnqueue plugin says so, with its message).
    fn queue_pod(&mut self, idx: usize, pod: PodInfo) {
        let now = self.queue_now();
        let gate = self.queue.add(&self.scheduler, Arc::new(pod), true, now);
        let rec = &mut self.records[idx];
        match gate {
            Some(e) => {
                rec.status = PodStatus::Unschedulable;
                rec.message = Some(e.to_string());
            }
            None => {
                rec.status = PodStatus::Pending;
                rec.message = None;
            }
        }
    }

    /// A cluster change, applied to the state: the queue moves the pods it may help, asking
    /// the queueing hints of the plugins that rejected them.
    fn changed(&mut self, change: &ClusterChange) {
        self.changes += 1;
        let now = self.queue_now();
        self.queue.on_change(change, &self.state, now);
    }

    // ---- scheduling -----------------------------------------------------------------------

    /// Runs the loop's attempts until no pod can be popped (none active, none backing off
    /// after a FitError).
    pub fn schedule_pending(&mut self) {
        while self.attempt() {}
    }

    /// One `schedule_one` of the core's loop, carried out. `false` when no pod was popped.
    fn attempt(&mut self) -> bool {
        let now = self.queue_now();
        let Some(decision) = self
            .queue
            .schedule_one(&self.scheduler, &mut self.state, now)
        else {
            return false;
        };
        self.stats.attempts += 1;
        match decision {
            Decision::Bind { pod, placement } => {
                let key = pod.info.key.clone();
                let idx = self.index[&key];
                self.records[idx].attempts += 1;
                if let Err(e) = self.scheduler.pre_bind(&pod.info, &placement.node_name) {
                    self.queue.binding_failed(&mut self.state, &key, now);
                    self.changes += 1;
                    let rec = &mut self.records[idx];
                    rec.status = PodStatus::Unschedulable;
                    rec.message = Some(e.to_string());
                    rec.attempted_at_change = self.changes;
                    return true;
                }
                self.placed(idx, &key, placement.node);
            }
            Decision::Failed {
                pod,
                error,
                nomination,
                ..
            } => {
                let key = pod.info.key.clone();
                let idx = self.index[&key];
                let rec = &mut self.records[idx];
                rec.attempts += 1;
                rec.status = PodStatus::Unschedulable;
                rec.message = Some(error.to_string());
                rec.attempted_at_change = self.changes;
                rec.node = None;
                if let Some(n) = nomination {
                    self.stats.preemptions += 1;
                    let cause = format!("preempted by {key}");
                    for v in &n.victims {
                        self.evict(v, &cause, false);
                    }
                }
            }
            Decision::Gated { pod, error } | Decision::Dropped { pod, error } => {
                let idx = self.index[&pod.info.key];
                let rec = &mut self.records[idx];
                rec.attempts += 1;
                rec.status = PodStatus::Unschedulable;
                rec.message = Some(error.to_string());
                rec.attempted_at_change = self.changes;
            }
        }
        true
    }

    /// The binding of a pod the loop assumed on `node`: no API server, so it succeeds at once,
    /// and the kubelet starts the pod at once on the virtual clock (`status.startTime`, which
    /// preemption's victim order reads).
    fn placed(&mut self, idx: usize, key: &Arc<str>, node: NodeId) {
        let start = self.origin + self.now;
        self.queue.bound(&mut self.state, key, Some(start));
        // A placement helps only pods waiting on other pods (affinity, spreading); it changes
        // every waiting pod's message.
        if let Some(entry) = self.state.pod(key) {
            self.totals.requested.add(&entry.info.requests);
            let change = ClusterChange::AssignedPodAdded(entry.info.clone());
            self.changed(&change);
        }
        self.totals.pods += 1;
        let name = self.state.node(node).info.name.clone();
        self.bindings.push((key.clone(), name.clone()));
        let now = self.now;
        let rec = &mut self.records[idx];
        rec.status = PodStatus::Scheduled;
        rec.node = Some(name);
        rec.message = None;
        rec.started = Some(now);
        rec.generation += 1;
        if let Some(d) = rec.duration {
            let g = rec.generation;
            self.seq += 1;
            self.finishes.push(Reverse((now + d, self.seq, idx, g)));
        }
        self.step_scheduled += 1;
        // The taint eviction controller sees the pod bound to a node with NoExecute taints.
        if self
            .state
            .node(node)
            .info
            .taints
            .iter()
            .any(|t| t.effect == TaintEffect::NoExecute)
        {
            crate::eviction::process_node(self, node, Some(key));
        }
    }

    /// Removes a placed pod from the state, keeping the totals right.
    fn unplace(&mut self, key: &str) -> Option<(PodInfo, NodeId)> {
        let entry = self.state.remove_pod(key).ok()?;
        if self.state.node(entry.node).exists {
            self.totals.requested.sub(&entry.info.requests);
            self.totals.pods -= 1;
        }
        self.changed(&ClusterChange::AssignedPodDeleted(entry.info.clone()));
        let node = entry.node;
        let mut info = Arc::unwrap_or_clone(entry.info);
        info.node_name = None;
        info.node_name_str = None;
        Some((info, node))
    }

    /// Evicts a placed pod: upstream deletes it. A pod with a controller owner is recreated
    /// pending and queued (its controller would create a replacement); a bare pod is gone
    /// (`Deleted`, with the eviction's cause), as in a live cluster. `recreate_bare` keeps a
    /// bare pod too (the drain action, until it models `kubectl drain --force`).
    fn evict(&mut self, key: &str, cause: &str, recreate_bare: bool) {
        self.evict_as(key, cause, recreate_bare.then_some(true));
    }

    /// [`Simulation::evict`]: `recreate` `None` recreates a pod with a controller only,
    /// `Some(r)` recreates it or not whatever its owners.
    fn evict_as(&mut self, key: &str, cause: &str, recreate: Option<bool>) {
        let Some((mut info, node)) = self.unplace(key) else {
            return;
        };
        let from = self.state.node(node).info.name.clone();
        self.stats.evictions += 1;
        let idx = match self.index.get(key) {
            Some(&i) => i,
            None => {
                let i = self.new_record(info.key.clone());
                self.records[i].arrived = self.now;
                i
            }
        };
        let now = self.now;
        let rec = &mut self.records[idx];
        rec.evictions += 1;
        rec.evicted_by = Some(cause.to_string());
        rec.generation += 1;
        if !recreate.unwrap_or(info.has_controller) {
            rec.status = PodStatus::Deleted;
            rec.node = Some(from.clone());
            rec.evicted_from = Some(from);
            rec.ended = Some(now);
            return;
        }
        rec.evicted_from = Some(from);
        rec.node = None;
        // A recreated pod is a new object: it queues behind older pods of its priority.
        info.creation_millis = self.origin + now;
        info.start_millis = PodInfo::NOT_STARTED;
        info.claims.clear();
        self.queue_pod(idx, info);
    }

    // ---- events ---------------------------------------------------------------------------

    /// Adds a node now.
    ///
    /// # Errors
    /// A node that does not convert or whose name is taken.
    pub fn add_node(&mut self, node: &Node) -> Result<NodeId, String> {
        let info = self.state.convert_node(node).map_err(|e| e.to_string())?;
        let alloc = info.allocatable.clone();
        let id = self.state.add_node(info).map_err(|e| e.to_string())?;
        self.totals.allocatable.add(&alloc);
        // Pods bound to this name before it existed (placeholders) now count.
        let n = self.state.node(id);
        self.totals.requested.add(&n.requested.clone());
        self.totals.pods += i64::from(n.pod_count);
        let added = ClusterChange::NodeAdded(n.info.clone());
        self.changed(&added);
        // The DaemonSet controller runs its pod on the new node when it is eligible.
        let daemons = self.workloads.daemons_for_node(&mut self.state, id);
        if !daemons.is_empty() {
            use crate::workloads::{PodHost, PodPlace};
            let node_name = self.state.node(id).info.name.clone();
            let mut workloads = std::mem::take(&mut self.workloads);
            let mut result = Ok(id);
            for d in daemons {
                let pod =
                    workloads.daemon_pod(d, &node_name, &|k| self.place_of(k) != PodPlace::Gone);
                if let Err(e) = self.create(pod) {
                    result = Err(e);
                    break;
                }
            }
            self.workloads = workloads;
            return result;
        }
        Ok(id)
    }

    fn node_id(&self, n: &crate::scenario::Named) -> Result<NodeId, ScenarioError> {
        self.state.node_id(&n.name).ok_or_else(|| ScenarioError {
            location: n.location.clone(),
            message: format!(
                "node {} does not exist at {}",
                n.name,
                crate::scenario::format_millis(self.now)
            ),
        })
    }

    fn update_node(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut sched_core::model::NodeInfo, &mut ClusterState),
    ) {
        let mut info = (*self.state.node(id).info).clone();
        f(&mut info, &mut self.state);
        self.totals
            .allocatable
            .sub(&self.state.node(id).info.allocatable.clone());
        self.totals.allocatable.add(&info.allocatable);
        let old = self.state.node(id).info.clone();
        let events = ClusterEvents::node_update(&old, &info);
        self.state.upsert_node(info);
        let new = self.state.node(id).info.clone();
        self.changed(&ClusterChange::NodeUpdated { old, new, events });
    }

    /// Cordons (or uncordons) a node: `spec.unschedulable` and the lifecycle controller's
    /// `node.kubernetes.io/unschedulable:NoSchedule` taint.
    pub fn set_cordon(&mut self, id: NodeId, cordon: bool) {
        self.update_node(id, |info, state| {
            let key = state.interner_mut().intern(UNSCHEDULABLE_TAINT);
            info.unschedulable = cordon;
            info.taints
                .retain(|t| !(t.key == key && t.effect == TaintEffect::NoSchedule));
            if cordon {
                info.taints.push(Taint {
                    key,
                    value: Sym::EMPTY,
                    effect: TaintEffect::NoSchedule,
                });
            }
        });
    }

    /// Cordons a node and evicts every pod on it. Returns the evicted pods' keys.
    pub fn drain_node(&mut self, id: NodeId) -> Vec<Arc<str>> {
        self.set_cordon(id, true);
        let name = self.state.node(id).info.name.clone();
        let mut keys: Vec<Arc<str>> = self
            .state
            .node(id)
            .pods
            .iter()
            .map(|p| p.key.clone())
            .collect();
        keys.sort();
        let cause = format!("drain of {name}");
        for k in &keys {
            self.evict(k, &cause, true);
        }
        keys
    }

    /// Removes a node; its pods are recreated pending.
    pub fn remove_node(&mut self, id: NodeId) {
        let name = self.state.node(id).info.name.clone();
        let mut keys: Vec<Arc<str>> = self
            .state
            .node(id)
            .pods
            .iter()
            .map(|p| p.key.clone())
            .collect();
        keys.sort();
        let cause = format!("removal of node {name}");
        for k in &keys {
            // A DaemonSet pod goes with its node (upstream PodGC deletes it; the DaemonSet
            // controller makes none for a node that no longer exists).
            let daemon = self.state.pod(k).is_some_and(|p| p.info.drain.daemon_set);
            if daemon {
                self.delete_pod(k);
            } else {
                self.evict(k, &cause, false);
            }
        }
        let old = self.state.node(id).info.clone();
        self.totals.allocatable.sub(&old.allocatable);
        let _ = self.state.remove_node(&name);
        self.changed(&ClusterChange::NodeDeleted(old));
    }

    fn create_pod(&mut self, p: &NewPod, location: &Location) -> Result<(), ScenarioError> {
        let mut manifest: Pod = (*p.manifest).clone();
        manifest.metadata.name = Some(p.name.clone());
        manifest.metadata.generate_name = None;
        if let Some(spec) = manifest.spec.as_mut() {
            // A created pod is pending: the scenario schedules it.
            spec.node_name = None;
        }
        manifest.status = None;
        if let Some(defaulted) = crate::admission::default_toleration_seconds(&manifest) {
            manifest = defaulted;
        }
        if let Some(admitted) =
            self.priority_classes
                .admit(&manifest)
                .map_err(|(field, message)| ScenarioError {
                    location: location.clone(),
                    message: format!("pod {}: {field}: {message}", p.name),
                })?
        {
            manifest = admitted;
        }
        let mut info = self
            .state
            .convert_pod(&manifest)
            .map_err(|e| ScenarioError {
                location: location.clone(),
                message: e.to_string(),
            })?;
        info.creation_millis = self.origin + self.now;
        let key = info.key.clone();
        // A pod created again under the same name keeps its first owners.
        Arc::make_mut(&mut self.owners).add_meta("Pod", &manifest.metadata);
        if self.enqueue_new(info, p.duration).is_none() {
            return Err(ScenarioError {
                location: location.clone(),
                message: format!("pod {key} already exists"),
            });
        }
        Ok(())
    }

    /// Deletes a pod (placed, waiting or finished). `false` when there is no such pod.
    fn delete_pod(&mut self, key: &str) -> bool {
        if let Some(&idx) = self.index.get(key) {
            match self.records[idx].status {
                PodStatus::Deleted => return false,
                // A finished pod's object is deleted; it held nothing and stays "finished".
                // Another scheduler's pod is not this simulation's to track further.
                PodStatus::Finished | PodStatus::OtherScheduler => return true,
                PodStatus::Scheduled => {
                    self.unplace(key);
                }
                PodStatus::Pending | PodStatus::Unschedulable => {
                    self.queue.remove(&mut self.state, key);
                    self.records[idx].node = None;
                }
            }
            let now = self.now;
            let rec = &mut self.records[idx];
            rec.status = PodStatus::Deleted;
            rec.ended = Some(now);
            rec.message = None;
            rec.generation += 1;
            return true;
        }
        if let Some((_, node)) = self.unplace(key) {
            // A pod running since the snapshot: record its deletion.
            let name = self.state.node(node).info.name.clone();
            let idx = self.new_record(Arc::from(key));
            let now = self.now;
            let rec = &mut self.records[idx];
            rec.status = PodStatus::Deleted;
            rec.node = Some(name);
            rec.ended = Some(now);
            return true;
        }
        false
    }

    fn finish_due(&mut self, t: Millis) {
        while let Some(&Reverse((at, _, idx, generation))) = self.finishes.peek() {
            if at > t {
                break;
            }
            self.finishes.pop();
            let rec = &self.records[idx];
            if rec.generation != generation || rec.status != PodStatus::Scheduled {
                continue; // evicted or deleted since it started
            }
            let key = rec.key.clone();
            self.unplace(&key);
            let rec = &mut self.records[idx];
            rec.status = PodStatus::Finished;
            rec.ended = Some(at);
            self.stats.finished += 1;
        }
    }

    /// Applies one event at the current time.
    ///
    /// # Errors
    /// An event naming a node or pod that does not exist (or a pod or node that already does).
    pub fn apply(&mut self, event: &Event, scenario: &Scenario) -> Result<(), ScenarioError> {
        self.apply_action(event, scenario)?;
        if !self.workloads.rolling.is_empty() && !matches!(event.action, Action::Rollout { .. }) {
            let mut workloads = std::mem::take(&mut self.workloads);
            let result = workloads.advance_rollouts(self);
            self.workloads = workloads;
            result.map_err(|message| ScenarioError {
                location: event.location.clone(),
                message,
            })?;
        }
        Ok(())
    }

    fn apply_action(&mut self, event: &Event, scenario: &Scenario) -> Result<(), ScenarioError> {
        self.stats.events += 1;
        match &event.action {
            Action::CreatePods(pods) => {
                for p in pods {
                    self.create_pod(p, &event.location)?;
                }
            }
            Action::Scale {
                kind,
                name,
                replicas,
            } => {
                let Some(idx) = self.workloads.find(*kind, &name.name) else {
                    return Err(ScenarioError {
                        location: name.location.clone(),
                        message: format!(
                            "no {} {} with a pod template in the snapshot",
                            kind.as_str(),
                            name.name
                        ),
                    });
                };
                let mut workloads = std::mem::take(&mut self.workloads);
                if *kind == crate::workloads::Kind::Deployment {
                    workloads.set_deployment_replicas(&name.name, *replicas);
                }
                let result = workloads.scale(idx, *replicas, self);
                self.workloads = workloads;
                result.map_err(|message| ScenarioError {
                    location: event.location.clone(),
                    message,
                })?;
            }
            Action::CreateWorkloads(snap) => {
                let mut problems = Vec::new();
                let exp = crate::workloads::expand(snap, &mut self.state, &mut problems);
                if let Some(p) = problems.first() {
                    return Err(ScenarioError {
                        location: event.location.clone(),
                        message: format!("{}: {}: {}", p.object, p.field, p.message),
                    });
                }
                if let Some(dup) = self.workloads.first_clash(&exp.workloads) {
                    return Err(ScenarioError {
                        location: event.location.clone(),
                        message: format!("{dup} already exists"),
                    });
                }
                for (_, rs) in snap.replica_sets.iter().chain(&exp.replica_sets) {
                    self.state
                        .apply_replica_set(rs)
                        .map_err(|e| ScenarioError {
                            location: event.location.clone(),
                            message: e.to_string(),
                        })?;
                }
                for (_, ss) in &snap.stateful_sets {
                    self.state
                        .apply_stateful_set(ss)
                        .map_err(|e| ScenarioError {
                            location: event.location.clone(),
                            message: e.to_string(),
                        })?;
                }
                self.workloads.absorb(exp.workloads);
                for (_, pod) in exp.pods {
                    crate::workloads::PodHost::create(self, pod).map_err(|message| {
                        ScenarioError {
                            location: event.location.clone(),
                            message,
                        }
                    })?;
                }
            }
            Action::Rollout { name, template } => {
                let Some(d) = self.workloads.deployment(&name.name) else {
                    return Err(ScenarioError {
                        location: name.location.clone(),
                        message: format!("no Deployment {} in the snapshot", name.name),
                    });
                };
                let mut workloads = std::mem::take(&mut self.workloads);
                let result = workloads.rollout(d, (**template).clone(), self);
                self.workloads = workloads;
                result.map_err(|message| ScenarioError {
                    location: event.location.clone(),
                    message,
                })?;
            }
            Action::DeletePods(names) => {
                for n in names {
                    let key = if n.name.contains('/') {
                        n.name.clone()
                    } else {
                        format!("default/{}", n.name)
                    };
                    if !self.delete_pod(&key) {
                        return Err(ScenarioError {
                            location: n.location.clone(),
                            message: format!(
                                "pod {key} does not exist at {}",
                                crate::scenario::format_millis(self.now)
                            ),
                        });
                    }
                }
            }
            Action::AddNodes(nodes) => {
                for n in nodes {
                    self.add_node(n).map_err(|message| ScenarioError {
                        location: event.location.clone(),
                        message,
                    })?;
                }
            }
            Action::RemoveNodes(names) => {
                for n in names {
                    let id = self.node_id(n)?;
                    self.remove_node(id);
                }
            }
            Action::Cordon(names) | Action::Uncordon(names) => {
                let cordon = matches!(event.action, Action::Cordon(_));
                for n in names {
                    let id = self.node_id(n)?;
                    self.set_cordon(id, cordon);
                }
            }
            Action::Drain(names, opts) => {
                let mut ids = Vec::new();
                for n in names {
                    ids.push(self.node_id(n)?);
                }
                crate::drain::start(self, &ids, *opts);
            }
            Action::NodeFailure(names, condition) => {
                for n in names {
                    let id = self.node_id(n)?;
                    // The node lifecycle controller: NoSchedule and NoExecute taints for the
                    // Ready condition (Unknown → unreachable, False → not-ready).
                    let key = self.state.interner_mut().intern(condition.taint());
                    self.update_node(id, |info, _| {
                        info.taints.retain(|t| t.key != key);
                        for effect in [TaintEffect::NoSchedule, TaintEffect::NoExecute] {
                            info.taints.push(Taint {
                                key,
                                value: Sym::EMPTY,
                                effect,
                            });
                        }
                    });
                    crate::eviction::process_node(self, id, None);
                }
            }
            Action::Taint {
                nodes,
                key,
                value,
                effect,
            } => {
                for n in nodes {
                    let id = self.node_id(n)?;
                    let taint = Taint {
                        key: self.state.interner_mut().intern(key),
                        value: self.state.interner_mut().intern(value),
                        effect: *effect,
                    };
                    self.update_node(id, |info, _| {
                        info.taints
                            .retain(|t| !(t.key == taint.key && t.effect == taint.effect));
                        info.taints.push(taint);
                    });
                    if *effect == TaintEffect::NoExecute {
                        // upstream's taint eviction controller (tolerationSeconds timers).
                        crate::eviction::process_node(self, id, None);
                    }
                }
            }
            Action::Untaint { nodes, key, effect } => {
                for n in nodes {
                    let id = self.node_id(n)?;
                    let Some(sym) = self.state.interner().get(key) else {
                        return Err(no_taint(n, key));
                    };
                    let matches = |t: &Taint| t.key == sym && effect.is_none_or(|e| e == t.effect);
                    if !self.state.node(id).info.taints.iter().any(matches) {
                        return Err(no_taint(n, key));
                    }
                    self.update_node(id, |info, _| info.taints.retain(|t| !matches(t)));
                    // Timers of pods that no longer need to leave are cancelled.
                    crate::eviction::process_node(self, id, None);
                }
            }
            Action::TraceArrive(row) => {
                let trace = scenario
                    .trace
                    .as_ref()
                    .expect("trace events come with a trace");
                let pod = trace.pod(*row);
                let location = trace_location(trace, *row);
                let mut info = self.state.convert_pod(&pod).map_err(|e| ScenarioError {
                    location: location.clone(),
                    message: e.to_string(),
                })?;
                info.creation_millis = self.origin + self.now;
                let key = info.key.clone();
                if self.enqueue_new(info, None).is_none() {
                    return Err(ScenarioError {
                        location,
                        message: format!("pod {key} already exists (duplicate name in the trace?)"),
                    });
                }
            }
            Action::TraceDepart(row) => {
                let trace = scenario
                    .trace
                    .as_ref()
                    .expect("trace events come with a trace");
                let key = trace.key(*row);
                if !self.delete_pod(&key) {
                    return Err(ScenarioError {
                        location: trace_location(trace, *row),
                        message: format!("pod {key} does not exist at its deletion time"),
                    });
                }
            }
        }
        Ok(())
    }

    /// Re-derives the message of every parked pod against the current state, so that the
    /// reasons printed at the end describe the cluster at the end (a pod skipped by the
    /// queueing hint keeps the message of an older attempt otherwise). Uses the explain
    /// cycle, which has no side effects on the scheduler.
    pub fn refresh_messages(&mut self) {
        for idx in 0..self.records.len() {
            let rec = &self.records[idx];
            // Nothing changed since its last attempt: its message is current.
            if rec.status != PodStatus::Unschedulable || rec.attempted_at_change == self.changes {
                continue;
            }
            let Some(q) = self.queue.queue().get(&rec.key) else {
                continue;
            };
            if q.place == Where::Gated {
                continue;
            }
            if let Err(e) = self.scheduler.explain(&q.info, &self.state).result {
                self.records[idx].message = Some(e.to_string());
                self.records[idx].attempted_at_change = self.changes;
            }
        }
    }

    /// Records a timeline step for the current time.
    pub fn record_step(&mut self, events: Vec<String>) {
        let step = Step {
            at: self.now,
            events,
            scheduled: std::mem::take(&mut self.step_scheduled),
            pending: u32::try_from(self.waiting()).unwrap_or(u32::MAX),
            unschedulable: u32::try_from(self.unschedulable()).unwrap_or(u32::MAX),
            totals: self.totals.clone(),
        };
        self.timeline.push(step);
    }

    /// Schedules the pending pods of the snapshot (time 0), recording a step before and after.
    pub fn run_snapshot(&mut self) {
        self.record_step(vec!["snapshot".into()]);
        self.schedule_pending();
        self.record_step(vec![format!(
            "schedule {} pending pod(s)",
            self.records.len()
        )]);
    }

    /// Runs a scenario: at each instant, pods whose duration is over finish, then the events
    /// of that instant apply in file order, then the queue is scheduled. `progress` is called
    /// with (events done, events total) now and then.
    ///
    /// # Errors
    /// An event that cannot be applied (the error names where it was written).
    pub fn run_scenario(
        &mut self,
        scenario: &Scenario,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(), ScenarioError> {
        if let Some(trace) = &scenario.trace {
            for (i, n) in trace.nodes.iter().enumerate() {
                self.add_node(n).map_err(|message| ScenarioError {
                    location: Location {
                        file: Arc::from(format!("{} (node list)", trace.file)),
                        line: i as u64 + 2,
                        column: 0,
                        field: "sn".into(),
                    },
                    message,
                })?;
            }
        }
        self.record_step(vec!["snapshot".into()]);
        let events = &scenario.events;
        let total = events.len();
        let mut i = 0;
        let mut first = true;
        loop {
            let next_event = events.get(i).map(|e| e.at);
            let next_finish = self.finishes.peek().map(|Reverse((at, ..))| *at);
            let next_finish = match (next_finish, self.next_timer()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let t = match (next_event, next_finish) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) if first => 0,
                (None, None) => break,
            };
            if first && t > 0 {
                // The snapshot's own pending pods are scheduled at time 0.
                self.schedule_pending();
                self.record_step(vec!["schedule pending pods".into()]);
            }
            first = false;
            self.now = t;
            let finished_before = self.stats.finished;
            self.finish_due(t);
            self.run_timers();
            let finished = self.stats.finished - finished_before;
            let mut labels = Vec::new();
            if finished > 0 {
                labels.push(format!("{finished} pod(s) finished"));
            }
            let mut arrivals = 0usize;
            let mut departures = 0usize;
            while let Some(e) = events.get(i)
                && e.at == t
            {
                self.apply(e, scenario)?;
                match e.action {
                    Action::TraceArrive(_) => arrivals += 1,
                    Action::TraceDepart(_) => departures += 1,
                    _ if labels.len() < 8 => labels.push(e.action.describe()),
                    _ => {}
                }
                i += 1;
                if i % 4096 == 0 {
                    progress(i, total);
                }
            }
            if arrivals > 0 {
                labels.push(format!("{arrivals} trace arrival(s)"));
            }
            if departures > 0 {
                labels.push(format!("{departures} trace departure(s)"));
            }
            self.schedule_pending();
            self.record_step(labels);
            if i >= total && self.finishes.is_empty() && self.next_timer().is_none() {
                break;
            }
        }
        progress(total, total);
        Ok(())
    }
}

fn no_taint(n: &crate::scenario::Named, key: &str) -> ScenarioError {
    ScenarioError {
        location: n.location.clone(),
        message: format!("node {} has no taint with key {key}", n.name),
    }
}

fn trace_location(trace: &crate::trace::Trace, row: u32) -> Location {
    Location {
        file: trace.file.clone(),
        line: trace.pods[row as usize].line,
        column: 0,
        field: String::new(),
    }
}

impl crate::workloads::PodHost for Simulation {
    fn place_of(&self, key: &str) -> crate::workloads::PodPlace {
        use crate::workloads::PodPlace;
        if let Some(entry) = self.state.pod(key) {
            return PodPlace::Placed(self.state.node(entry.node).info.name.clone());
        }
        match self.index.get(key).map(|&i| self.records[i].status) {
            Some(PodStatus::Pending | PodStatus::Unschedulable | PodStatus::OtherScheduler) => {
                PodPlace::Waiting
            }
            _ => PodPlace::Gone,
        }
    }

    fn create(&mut self, pod: Pod) -> Result<(), String> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let new = NewPod {
            manifest: Arc::new(pod),
            name,
            duration: None,
        };
        self.create_pod(&new, &Location::default())
            .map_err(|e| e.message)
    }

    fn delete(&mut self, key: &str) {
        self.delete_pod(key);
    }

    fn schedule(&mut self) {
        self.schedule_pending();
    }

    fn add_replica_set(
        &mut self,
        rs: &k8s_openapi::api::apps::v1::ReplicaSet,
    ) -> Result<(), String> {
        self.state.apply_replica_set(rs).map_err(|e| e.to_string())
    }
}
