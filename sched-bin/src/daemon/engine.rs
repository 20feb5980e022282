//! The scheduling loop: one task owns the cluster cache, the queue and the scheduler.
//!
//! Everything that changes them arrives as an [`Input`] on one channel — watch events from
//! the Node, Pod, Namespace, Service, ReplicaSet, StatefulSet and ReplicationController
//! watchers, and the outcomes of bindings — so no lock guards the cache and a re-list is
//! applied in one step between two scheduling cycles (atomically, as far as the cycle can
//! tell). The loop drains its inputs, moves pods whose time has come, then, when it leads and
//! every initial list is in, pops one pod, schedules it with the core, assumes it in
//! the cache and spawns its binding. Bindings run in parallel; their outcome comes back as an
//! input. Standbys run the same loop without popping: their caches stay warm.

use super::api::{self, BindError, ConditionKey, PodRef, Recorder};
use super::metrics::{
    AttemptResult, CacheLabels, IncomingLabels, Metrics, OperationLabels, QueueLabels,
};
use super::objects::{ObjectCaches, ObjectCounts, ObjectEvent};
use super::queue::{ClusterEvent, SchedulingQueue, Where};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::runtime::watcher;
use sched_core::framework::{ClusterChange, ClusterEvents};
use sched_core::model::PodInfo;
use sched_core::{ClusterState, Scheduler};
use sched_core::{Decision, Nomination, SchedulingLoop};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long an assumed pod whose binding succeeded waits for the watch to confirm it before
/// it is forgotten (upstream's former `durationToExpireAssumedPod`).
pub const ASSUMED_POD_TTL: Duration = Duration::from_secs(30);

/// Errors of the loop.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Every input sender is gone: the watchers died.
    #[error("the scheduling loop's input channel closed")]
    InputClosed,
}

/// Something that changes the loop's state.
#[derive(Debug)]
pub enum Input {
    /// A Node watch event (boxed: objects are large, outcomes small).
    Node(Box<watcher::Event<Node>>),
    /// A Pod watch event.
    Pod(Box<watcher::Event<Pod>>),
    /// A Namespace, Service, ReplicaSet, StatefulSet or ReplicationController watch event.
    Object(ObjectEvent),
    /// A binding finished.
    Bound(BindOutcome),
}

/// The outcome of one binding.
#[derive(Debug)]
pub struct BindOutcome {
    key: Arc<str>,
    node: Arc<str>,
    profile: Arc<str>,
    result: Result<(), BindError>,
    attempts: u32,
    initial_enqueue: Instant,
    attempt_start: Instant,
}

/// What the loop keeps about a pending pod besides its [`PodInfo`].
#[derive(Clone, Debug)]
struct PodMeta {
    pod_ref: PodRef,
    /// `PodScheduled` as last seen or last written by us.
    condition: Option<ConditionKey>,
    spec_hash: u64,
}

/// The scheduler's cycle observer: every extension point into
/// `scheduler_framework_extension_point_duration_seconds`, and plugins into
/// `scheduler_plugin_execution_duration_seconds` in one cycle out of ten (upstream's
/// `pluginMetricsSamplePercent` default, 10; Placer samples every tenth cycle rather than at
/// random, so runs stay reproducible).
pub struct CycleMetrics {
    shared: Arc<Shared>,
    cycles: AtomicU64,
    sampled: AtomicBool,
}

/// The plugin whose PostFilter runs count as `scheduler_preemption_attempts_total`.
const DEFAULT_PREEMPTION: &str = "DefaultPreemption";

/// upstream `pluginMetricsSamplePercent`'s default.
const PLUGIN_METRICS_SAMPLE_PERCENT: u64 = 10;

impl CycleMetrics {
    /// A cycle starts: decides whether its plugins are sampled.
    fn next_cycle(&self) {
        let n = self.cycles.fetch_add(1, Ordering::Relaxed);
        self.sampled.store(
            n.is_multiple_of(100 / PLUGIN_METRICS_SAMPLE_PERCENT),
            Ordering::Relaxed,
        );
    }
}

impl sched_core::CycleObserver for CycleMetrics {
    fn extension_point(
        &self,
        profile: &str,
        point: sched_core::ExtensionPoint,
        status: &'static str,
        elapsed: Duration,
    ) {
        self.shared.metrics.extension_point(
            point.metric_name(),
            status,
            profile,
            elapsed.as_secs_f64(),
        );
    }

    fn plugin(
        &self,
        _profile: &str,
        point: sched_core::ExtensionPoint,
        plugin: &'static str,
        status: &'static str,
        elapsed: Duration,
    ) {
        if point == sched_core::ExtensionPoint::PostFilter && plugin == DEFAULT_PREEMPTION {
            // upstream DefaultPreemption.PostFilter: one attempt per run, sampled or not.
            self.shared.metrics.preemption_attempts.inc();
        }
        if self.sampled.load(Ordering::Relaxed) {
            self.shared.metrics.plugin_execution(
                plugin,
                point.metric_name(),
                status,
                elapsed.as_secs_f64(),
            );
        }
    }
}

/// How often the loop logs an INFO summary of its attempts (per-pod lines are DEBUG), when
/// there were any.
const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// Attempts counted since the last summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tally {
    since: Instant,
    scheduled: u64,
    unschedulable: u64,
    errors: u64,
}

impl Tally {
    fn new(now: Instant) -> Self {
        Tally {
            since: now,
            scheduled: 0,
            unschedulable: 0,
            errors: 0,
        }
    }

    fn count(&mut self, result: AttemptResult) {
        match result {
            AttemptResult::Scheduled => self.scheduled += 1,
            AttemptResult::Unschedulable => self.unschedulable += 1,
            AttemptResult::Error => self.errors += 1,
        }
    }

    /// The counts of the interval that ended, once [`SUMMARY_EVERY`] has passed and something
    /// was attempted; the next interval starts now.
    fn take_if_due(&mut self, now: Instant) -> Option<Tally> {
        if now.duration_since(self.since) < SUMMARY_EVERY {
            return None;
        }
        let t = std::mem::replace(self, Tally::new(now));
        (t.scheduled + t.unschedulable + t.errors > 0).then_some(t)
    }
}

/// State shared with the HTTP endpoints.
#[derive(Debug)]
pub struct Shared {
    /// Every initial list is in.
    pub synced: AtomicBool,
    /// The metrics.
    pub metrics: Metrics,
    /// How many Namespaces, Services and workloads the cache holds.
    pub objects: ObjectCounts,
}

/// The loop's state.
pub struct Engine {
    state: ClusterState,
    scheduler: Scheduler,
    /// The core's queue and attempt rules, on tokio's clock.
    queue: SchedulingLoop,
    /// While a whole list is applied (a pod re-list): the moves it asks for, made once at the
    /// end (one pass over the queue instead of one per listed pod).
    deferred_move: Option<Option<(ClusterEvent, ClusterEvents)>>,
    meta: HashMap<Arc<str>, PodMeta>,
    /// Assumed pods: `None` while binding, then the time they expire unless confirmed.
    assumed: HashMap<Arc<str>, Option<Instant>>,
    nodes_synced: bool,
    pods_synced: bool,
    node_buf: Option<Vec<Node>>,
    pod_buf: Option<Vec<Pod>>,
    objects: ObjectCaches,
    binds_in_flight: usize,
    window: BindWindow,
    /// Attempts since the last INFO summary.
    tally: Tally,
    client: Client,
    recorders: HashMap<String, Recorder>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Input>,
    observer: Arc<CycleMetrics>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("nodes", &self.state.num_nodes())
            .field("pods", &self.state.num_pods())
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// What the engine is built from.
pub struct EngineParts {
    /// The cache (with the interner the profiles were built against).
    pub state: ClusterState,
    /// The scheduler over the profiles (the engine sets its cycle observer).
    pub scheduler: Scheduler,
    /// Backoff bounds.
    pub initial_backoff: Duration,
    /// Backoff bounds.
    pub max_backoff: Duration,
    /// The client for bindings, events and patches.
    pub client: Client,
    /// `reportingInstance` suffix for events (upstream: the hostname).
    pub instance: String,
    /// Shared with HTTP.
    pub shared: Arc<Shared>,
    /// The sender side of the loop's input (given to bindings).
    pub tx: mpsc::Sender<Input>,
    /// The most bindings in flight at once.
    pub max_binds_in_flight: usize,
}

/// How many bindings may be in flight: at most the configured maximum, halved when the API
/// server answers a binding 429 or 504 (overloaded), grown back by one per success (AIMD).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindWindow {
    max: usize,
    current: usize,
}

impl BindWindow {
    /// A window open to `max` (at least 1).
    #[must_use]
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        BindWindow { max, current: max }
    }

    /// The bindings allowed in flight now.
    #[must_use]
    pub fn current(&self) -> usize {
        self.current
    }

    /// A binding succeeded.
    pub fn success(&mut self) {
        self.current = (self.current + 1).min(self.max);
    }

    /// The server was overloaded (429 or 504).
    pub fn overloaded(&mut self) {
        self.current = (self.current / 2).max(1);
    }
}

/// Whether a binding error is the server saying it is overloaded (429 Too Many Requests or
/// 504 Gateway Timeout).
#[must_use]
pub fn is_overload(e: &BindError) -> bool {
    matches!(e, BindError::Other(kube::Error::Api(s)) if s.code == 429 || s.code == 504)
}

fn spec_hash(pod: &Pod) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(&pod.spec)
        .unwrap_or_default()
        .hash(&mut h);
    if let Some(labels) = &pod.metadata.labels {
        for (k, v) in labels {
            k.hash(&mut h);
            v.hash(&mut h);
        }
    }
    h.finish()
}

fn key_of(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

impl Engine {
    /// Builds the loop.
    ///
    /// # Panics
    /// When the scheduler has no profile.
    #[must_use]
    pub fn new(mut parts: EngineParts) -> Self {
        let observer = Arc::new(CycleMetrics {
            shared: parts.shared.clone(),
            cycles: AtomicU64::new(0),
            sampled: AtomicBool::new(false),
        });
        parts.scheduler.set_observer(observer.clone());
        let recorders = parts
            .scheduler
            .profiles()
            .iter()
            .map(|p| {
                let instance = format!("{}-{}", p.scheduler_name, parts.instance);
                (
                    p.scheduler_name.clone(),
                    Recorder::new(parts.client.clone(), &p.scheduler_name, &instance),
                )
            })
            .collect();
        let queue = SchedulingLoop::new(&parts.scheduler, parts.initial_backoff, parts.max_backoff);
        Engine {
            state: parts.state,
            scheduler: parts.scheduler,
            queue,
            meta: HashMap::new(),
            assumed: HashMap::new(),
            nodes_synced: false,
            pods_synced: false,
            node_buf: None,
            pod_buf: None,
            objects: ObjectCaches::default(),
            binds_in_flight: 0,
            window: BindWindow::new(parts.max_binds_in_flight),
            tally: Tally::new(Instant::now()),
            deferred_move: None,
            client: parts.client,
            recorders,
            shared: parts.shared,
            tx: parts.tx,
            observer,
        }
    }

    /// Whether every initial list is in (Nodes, Pods and the five object kinds).
    #[must_use]
    pub fn synced(&self) -> bool {
        self.nodes_synced && self.pods_synced && self.objects.synced()
    }

    /// The cache.
    #[must_use]
    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    /// The queue.
    #[must_use]
    pub fn queue(&self) -> &SchedulingQueue {
        self.queue.queue()
    }

    /// Runs until `stop` is cancelled, then waits for the bindings in flight.
    ///
    /// # Errors
    /// [`Error::InputClosed`] when every input sender is gone.
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<Input>,
        mut leading: watch::Receiver<bool>,
        stop: CancellationToken,
    ) -> Result<Self, Error> {
        let mut leading_open = true;
        loop {
            loop {
                match rx.try_recv() {
                    Ok(input) => self.handle(input),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => return Err(Error::InputClosed),
                }
            }
            let now = Instant::now();
            self.flush(now);
            self.publish_gauges();
            if let Some(t) = self.tally.take_if_due(now) {
                let q = self.queue.queue();
                tracing::info!(
                    scheduled = t.scheduled,
                    unschedulable = t.unschedulable,
                    errors = t.errors,
                    pending = q.total(),
                    bindings_in_flight = self.binds_in_flight,
                    "scheduling summary (last {} s)",
                    SUMMARY_EVERY.as_secs()
                );
            }
            if stop.is_cancelled() {
                break;
            }
            let lead = *leading.borrow();
            if lead
                && self.synced()
                && self.binds_in_flight < self.window.current()
                && self.queue.queue_mut().has_poppable()
            {
                self.schedule_one();
                // Let bindings and watchers run on a single-threaded runtime too.
                tokio::task::yield_now().await;
                continue;
            }
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                () = stop.cancelled() => {}
                input = rx.recv() => match input {
                    Some(input) => self.handle(input),
                    None => return Err(Error::InputClosed),
                },
                changed = leading.changed(), if leading_open => {
                    if changed.is_err() {
                        leading_open = false;
                    }
                }
                () = sleep_until_opt(deadline) => {}
            }
        }
        // SIGTERM: no new work; finish the bindings in flight (their outcomes come back here).
        tracing::info!(
            in_flight = self.binds_in_flight,
            "stopping: waiting for bindings in flight"
        );
        while self.binds_in_flight > 0 {
            match rx.recv().await {
                Some(input) => self.handle(input),
                None => break,
            }
        }
        self.publish_gauges();
        Ok(self)
    }

    fn next_deadline(&self) -> Option<Instant> {
        let queue = self.queue.queue().next_deadline().map(Instant::from_std);
        let assumed = self.assumed.values().flatten().min().copied();
        match (queue, assumed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn flush(&mut self, now: Instant) {
        let moved = self
            .queue
            .queue_mut()
            .flush_backoff_completed(now.into_std());
        self.count_incoming(Where::Active, "BackoffComplete", moved);
        let moved = self
            .queue
            .queue_mut()
            .flush_unschedulable_leftover(now.into_std());
        self.count_incoming(
            Where::Active,
            ClusterEvent::UnschedulableTimeout.label(),
            moved,
        );
        let expired: Vec<Arc<str>> = self
            .assumed
            .iter()
            .filter(|(_, d)| d.is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            tracing::warn!(pod = %key, "assumed pod expired without confirmation; forgetting it");
            self.assumed.remove(&key);
            if let Ok(entry) = self.state.forget(&key) {
                self.assigned_pod_deleted(entry.info);
            }
        }
    }

    fn count_incoming(&self, queue: Where, event: &'static str, n: usize) {
        if n > 0 {
            self.shared
                .metrics
                .queue_incoming_pods
                .get_or_create(&IncomingLabels {
                    queue: queue.label(),
                    event,
                })
                .inc_by(n as u64);
        }
    }

    fn publish_gauges(&self) {
        let m = &self.shared.metrics;
        for w in [
            Where::Active,
            Where::Backoff,
            Where::Unschedulable,
            Where::Gated,
        ] {
            m.pending_pods
                .get_or_create(&QueueLabels { queue: w.label() })
                .set(self.queue.queue().len(w) as i64);
        }
        for (plugin, profile, n) in self.queue.queue().unschedulable_by_plugin() {
            m.unschedulable_pods
                .get_or_create(&super::metrics::UnschedulableLabels {
                    plugin,
                    profile: profile.clone(),
                })
                .set(n as i64);
        }
        m.cache_size
            .get_or_create(&CacheLabels { r#type: "nodes" })
            .set(self.state.num_nodes() as i64);
        m.cache_size
            .get_or_create(&CacheLabels { r#type: "pods" })
            .set(self.state.num_pods() as i64);
        m.cache_size
            .get_or_create(&CacheLabels {
                r#type: "assumed_pods",
            })
            .set(self.assumed.len() as i64);
        m.goroutines
            .get_or_create(&OperationLabels {
                operation: "binding",
            })
            .set(self.binds_in_flight as i64);
        self.shared.objects.publish(&self.state);
    }

    /// Moves the unschedulable pods `change` may help (those whose rejecting plugins registered
    /// one of its events and whose queueing hints say so), counted under `label`. During a
    /// re-list the changes are batched into one move by their events, without hints (more
    /// pods retried, never fewer).
    fn move_on(&mut self, label: ClusterEvent, change: ClusterChange) {
        if let Some(deferred) = &mut self.deferred_move {
            // The last label names the batch; every event counts.
            let events = change.events();
            let all = deferred.map_or(events, |(_, e)| e | events);
            *deferred = Some((label, all));
            return;
        }
        let (active, backoff) =
            self.queue
                .on_change(&change, &self.state, Instant::now().into_std());
        self.count_incoming(Where::Active, label.label(), active);
        self.count_incoming(Where::Backoff, label.label(), backoff);
    }

    fn assigned_pod_deleted(&mut self, pod: Arc<PodInfo>) {
        self.move_on(
            ClusterEvent::AssignedPodDelete,
            ClusterChange::AssignedPodDeleted(pod),
        );
    }

    /// Applies one input.
    pub fn handle(&mut self, input: Input) {
        match input {
            Input::Node(ev) => self.handle_node(*ev),
            Input::Pod(ev) => self.handle_pod(*ev),
            Input::Object(ev) => {
                self.objects.handle(&mut self.state, ev);
                self.publish_synced();
            }
            Input::Bound(outcome) => self.handle_bound(outcome),
        }
    }

    fn handle_node(&mut self, ev: watcher::Event<Node>) {
        match ev {
            watcher::Event::Init => self.node_buf = Some(Vec::new()),
            watcher::Event::InitApply(n) => self.node_buf.get_or_insert_with(Vec::new).push(n),
            watcher::Event::InitDone => {
                let nodes = self.node_buf.take().unwrap_or_default();
                self.replace_nodes(nodes);
                if !self.nodes_synced {
                    tracing::info!(nodes = self.state.num_nodes(), "node cache synced");
                }
                self.nodes_synced = true;
                self.publish_synced();
            }
            watcher::Event::Apply(n) => {
                if let Some((label, change)) = self.apply_node(&n) {
                    self.move_on(label, change);
                }
            }
            watcher::Event::Delete(n) => {
                let name = n.metadata.name.unwrap_or_default();
                if let Some(id) = self.state.node_id(&name) {
                    let old = self.state.node(id).info.clone();
                    let _ = self.state.remove_node(&name);
                    self.move_on(ClusterEvent::NodeDelete, ClusterChange::NodeDeleted(old));
                }
            }
        }
    }

    fn apply_node(&mut self, n: &Node) -> Option<(ClusterEvent, ClusterChange)> {
        let info = match self.state.convert_node(n) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(node = ?n.metadata.name, error = %e, "skipping node that cannot be converted");
                return None;
            }
        };
        let old = self
            .state
            .node_id(&info.name)
            .map(|id| self.state.node(id).info.clone());
        let events = old
            .as_ref()
            .map(|old| ClusterEvents::node_update(old, &info));
        let id = self.state.upsert_node(info);
        let new = self.state.node(id).info.clone();
        match (old, events) {
            (Some(old), Some(events)) if !events.is_empty() => Some((
                ClusterEvent::NodeUpdate,
                ClusterChange::NodeUpdated { old, new, events },
            )),
            (Some(_), _) => None,
            (None, _) => Some((ClusterEvent::NodeAdd, ClusterChange::NodeAdded(new))),
        }
    }

    fn replace_nodes(&mut self, nodes: Vec<Node>) {
        let listed: HashSet<String> = nodes
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let gone: Vec<String> = self
            .state
            .node_ids()
            .iter()
            .map(|&id| self.state.node(id).info.name.to_string())
            .filter(|n| !listed.contains(n))
            .collect();
        for name in gone {
            let _ = self.state.remove_node(&name);
        }
        // One move for the whole list, under the last event's label, for every change seen.
        let mut label = None;
        let mut events = ClusterEvents::NONE;
        for n in &nodes {
            if let Some((l, change)) = self.apply_node(n) {
                label = Some(l);
                events |= change.events();
            }
        }
        if let Some(l) = label {
            self.move_on(l, ClusterChange::Events(events));
        }
    }

    fn publish_synced(&self) {
        self.shared.synced.store(self.synced(), Ordering::Release);
    }

    fn handle_pod(&mut self, ev: watcher::Event<Pod>) {
        match ev {
            watcher::Event::Init => self.pod_buf = Some(Vec::new()),
            watcher::Event::InitApply(p) => self.pod_buf.get_or_insert_with(Vec::new).push(p),
            watcher::Event::InitDone => {
                let pods = self.pod_buf.take().unwrap_or_default();
                self.replace_pods(pods);
                if !self.pods_synced {
                    tracing::info!(
                        pods = self.state.num_pods(),
                        pending = self.queue.queue().total(),
                        "pod cache synced"
                    );
                }
                self.pods_synced = true;
                self.publish_synced();
            }
            watcher::Event::Apply(p) => self.apply_pod(&p),
            watcher::Event::Delete(p) => self.delete_pod(&key_of(&p)),
        }
    }

    fn replace_pods(&mut self, pods: Vec<Pod>) {
        let listed: HashSet<String> = pods.iter().map(key_of).collect();
        let gone: Vec<Arc<str>> = self
            .state
            .pods()
            .map(|e| e.info.key.clone())
            .chain(self.queue.queue().keys().cloned())
            .filter(|k| !listed.contains(&**k))
            .collect();
        self.deferred_move = Some(None);
        for key in gone {
            self.delete_pod(&key);
        }
        for p in &pods {
            self.apply_pod(p);
        }
        if let Some(Some((label, events))) = self.deferred_move.take() {
            self.move_on(label, ClusterChange::Events(events));
        }
    }

    fn delete_pod(&mut self, key: &str) {
        self.queue.remove(&mut self.state, key);
        self.meta.remove(key);
        self.assumed.remove(key);
        if let Ok(entry) = self.state.remove_pod(key) {
            self.assigned_pod_deleted(entry.info);
        }
    }

    /// Accounts a bound pod's new version; `false` (and a warning) when the state refuses it.
    fn update_bound(&mut self, info: PodInfo, key: &str) -> bool {
        match self.state.update_pod(info) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(pod = %key, error = %e, "cannot account bound pod");
                false
            }
        }
    }

    fn apply_pod(&mut self, pod: &Pod) {
        let key = key_of(pod);
        let terminal = matches!(
            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        if terminal {
            self.delete_pod(&key);
            return;
        }
        let bound = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        let info = match self.state.convert_pod(pod) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(pod = %key, error = %e, "skipping pod that cannot be converted");
                return;
            }
        };
        if bound {
            // Bound by anyone (our binding confirmed, or another scheduler): it counts against
            // its node and leaves the queue.
            self.queue.queue_mut().remove(&key);
            self.meta.remove(key.as_str());
            self.assumed.remove(key.as_str());
            // upstream's informer: a pod new to the assigned-pod cache (ours confirmed, or
            // another scheduler's) is AssignedPodAdd; a label change or a scale-down (an
            // in-place resize) of one is an update.
            let (label, old) = match self.state.pod(&key) {
                None => (ClusterEvent::AssignedPodAdd, None),
                Some(e) if e.assumed => (ClusterEvent::AssignedPodAdd, None),
                Some(e) if !ClusterEvents::assigned_pod_update(&e.info, &info).is_empty() => {
                    (ClusterEvent::AssignedPodUpdate, Some(e.info.clone()))
                }
                Some(_) => {
                    self.update_bound(info, &key);
                    return;
                }
            };
            if !self.update_bound(info, &key) {
                return;
            }
            let Some(new) = self.state.pod(&key).map(|e| e.info.clone()) else {
                return;
            };
            let change = match old {
                None => ClusterChange::AssignedPodAdded(new),
                Some(old) => ClusterChange::AssignedPodUpdated {
                    events: ClusterEvents::assigned_pod_update(&old, &new),
                    old,
                    new,
                },
            };
            self.move_on(label, change);
            return;
        }
        if !self.scheduler.handles(&info) {
            return;
        }
        if self.state.pod(&key).is_some_and(|e| e.assumed)
            && self
                .queue
                .queue()
                .get(&key)
                .is_none_or(|q| q.place != Where::InFlight)
        {
            // Bound by us, confirmation not yet seen: a stale unbound update.
            return;
        }
        if pod.metadata.deletion_timestamp.is_some() {
            // upstream skipPodSchedule: a pod being deleted is not scheduled.
            self.queue.queue_mut().remove(&key);
            self.meta.remove(key.as_str());
            return;
        }
        let hash = spec_hash(pod);
        let key: Arc<str> = info.key.clone();
        let spec_changed = self.meta.get(&key).is_none_or(|m| m.spec_hash != hash);
        let condition = api::pod_scheduled_condition(pod);
        self.meta.insert(
            key.clone(),
            PodMeta {
                pod_ref: PodRef::of(pod),
                condition,
                spec_hash: hash,
            },
        );
        let gated = sched_core::cycle::pre_enqueue(&self.scheduler, &info).is_some();
        let known = self.queue.queue().get(&key).is_some();
        self.queue.queue_mut().add_or_update(
            Arc::new(info),
            gated,
            spec_changed,
            Instant::now().into_std(),
        );
        if !known {
            let to = if gated { Where::Gated } else { Where::Active };
            self.count_incoming(to, "PodAdd", 1);
        }
    }

    /// One attempt of the core's loop ([`SchedulingLoop::schedule_one`]), carried out against
    /// the API server: PreBind then the Binding POST, or the failure's event and condition,
    /// and for a nomination the victims' deletion and `status.nominatedNodeName`.
    fn schedule_one(&mut self) {
        let start = Instant::now();
        self.observer.next_cycle();
        let Some(decision) =
            self.queue
                .schedule_one(&self.scheduler, &mut self.state, start.into_std())
        else {
            return;
        };
        let algorithm = start.elapsed().as_secs_f64();
        self.shared
            .metrics
            .scheduling_algorithm_duration
            .observe(algorithm);
        let info = match &decision {
            Decision::Bind { pod, .. }
            | Decision::Gated { pod, .. }
            | Decision::Dropped { pod, .. }
            | Decision::Failed { pod, .. } => pod.info.clone(),
        };
        let key = info.key.clone();
        let profile: Arc<str> = info.scheduler_name.clone();
        match decision {
            Decision::Bind { pod, placement } => {
                let node = placement.node_name.clone();
                if let Err(e) = self.scheduler.pre_bind(&pod.info, &node) {
                    // upstream: a PreBind failure fails the binding cycle (forget, backoff).
                    self.queue
                        .binding_failed(&mut self.state, &key, start.into_std());
                    self.report_failure(
                        &key,
                        &profile,
                        start,
                        AttemptResult::Error,
                        "SchedulerError",
                        &e.to_string(),
                    );
                    return;
                }
                tracing::debug!(pod = %key, node = %node, feasible = placement.feasible_nodes, "assumed pod");
                self.assumed.insert(key.clone(), None);
                let Some(meta) = self.meta.get(&key).cloned() else {
                    // Cannot happen: every queued pod has its meta.
                    let _ = self.state.forget(&key);
                    self.assumed.remove(&key);
                    self.queue.queue_mut().remove(&key);
                    return;
                };
                self.spawn_binding(
                    key,
                    node,
                    profile,
                    meta.pod_ref,
                    pod.attempts,
                    Instant::from_std(pod.initial_enqueue),
                    start,
                );
            }
            Decision::Failed {
                error,
                unschedulable,
                nomination,
                ..
            } => {
                let msg = error.to_string();
                let (result, reason) = if unschedulable {
                    (AttemptResult::Unschedulable, "Unschedulable")
                } else {
                    (AttemptResult::Error, "SchedulerError")
                };
                if let Some(n) = &nomination {
                    // upstream Evaluator.Preempt: the chosen candidate's victims.
                    self.shared
                        .metrics
                        .preemption_victims
                        .observe(n.victims.len() as f64);
                    self.preempt(&key, &profile, n);
                }
                let nominated = nomination.map(|n| n.node_name);
                self.shared
                    .metrics
                    .attempt(result, &profile, start.elapsed().as_secs_f64());
                self.tally.count(result);
                tracing::debug!(pod = %key, %reason, err = %msg, "unable to schedule pod; waiting");
                self.feedback(&key, &profile, reason, &msg, nominated);
            }
            Decision::Gated { .. } => {}
            Decision::Dropped { error, .. } => {
                tracing::warn!(pod = %key, error = %error, "dropping pod");
                self.meta.remove(&key);
            }
        }
    }

    /// upstream `PrepareCandidate` after a successful PostFilter: each victim gets a
    /// `Preempted` event and is deleted; the preemptor's `status.nominatedNodeName` is set
    /// with its `PodScheduled=False` condition ([`Engine::feedback`]). The victims' deletions
    /// come back through the watch and move the preemptor, whose next attempt tries the
    /// nominated node first.
    fn preempt(&mut self, key: &Arc<str>, profile: &str, n: &Nomination) {
        let preemptor_uid = self
            .meta
            .get(key)
            .map(|m| m.pod_ref.uid.clone())
            .unwrap_or_default();
        let client = self.client.clone();
        let recorder = self.recorders.get(profile).cloned();
        let node = n.node_name.clone();
        let victims: Vec<PodRef> = n
            .victims
            .iter()
            .filter_map(|v| {
                let entry = self.state.pod(v)?;
                let (ns, name) = v.split_once('/')?;
                Some(PodRef {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                    uid: entry.info.uid.to_string(),
                    resource_version: String::new(),
                })
            })
            .collect();
        tracing::debug!(pod = %key, node = %node, victims = victims.len(), "preempting");
        tokio::spawn(async move {
            for victim in victims {
                if let Some(r) = &recorder {
                    let note = format!("Preempted by pod {preemptor_uid} on node {node}");
                    r.emit(&victim, "Normal", "Preempted", "Preempting", &note)
                        .await;
                }
                api::delete_victim(&client, &victim).await;
            }
        });
    }

    /// upstream handleSchedulingFailure's reporting (the loop requeued the pod): the attempt's
    /// metric, a `FailedScheduling` event, and `PodScheduled=False` patched only when it
    /// changes.
    fn report_failure(
        &mut self,
        key: &Arc<str>,
        profile: &str,
        start: Instant,
        result: AttemptResult,
        reason: &str,
        msg: &str,
    ) {
        self.shared
            .metrics
            .attempt(result, profile, start.elapsed().as_secs_f64());
        self.tally.count(result);
        tracing::debug!(pod = %key, %reason, err = %msg, "unable to schedule pod; waiting");
        self.feedback(key, profile, reason, msg, None);
    }

    /// A `FailedScheduling` event, and `PodScheduled=False` patched only when it changes.
    /// With `nominated`, the patch also sets `status.nominatedNodeName` (upstream
    /// `updatePod` after a successful PostFilter).
    fn feedback(
        &mut self,
        key: &Arc<str>,
        profile: &str,
        reason: &str,
        msg: &str,
        nominated: Option<Arc<str>>,
    ) {
        let Some(meta) = self.meta.get_mut(key) else {
            return;
        };
        let want: ConditionKey = ("False".into(), reason.into(), msg.into());
        let patch = meta.condition.as_ref() != Some(&want) || nominated.is_some();
        meta.condition = Some(want);
        let pod_ref = meta.pod_ref.clone();
        let recorder = self.recorders.get(profile).cloned();
        let client = self.client.clone();
        let (reason, msg) = (reason.to_string(), msg.to_string());
        tokio::spawn(async move {
            if let Some(r) = recorder {
                r.failed_scheduling(&pod_ref, &msg).await;
            }
            if patch {
                api::patch_pod_scheduled_false(
                    &client,
                    &pod_ref,
                    &reason,
                    &msg,
                    nominated.as_deref(),
                )
                .await;
            }
        });
    }

    #[allow(clippy::too_many_arguments)] // one binding's whole context, passed once
    fn spawn_binding(
        &mut self,
        key: Arc<str>,
        node: Arc<str>,
        profile: Arc<str>,
        pod_ref: PodRef,
        attempts: u32,
        initial_enqueue: Instant,
        attempt_start: Instant,
    ) {
        self.binds_in_flight += 1;
        let client = self.client.clone();
        let recorder = self.recorders.get(&*profile).cloned();
        let tx = self.tx.clone();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let bind_start = Instant::now();
            let result = api::bind(&client, &pod_ref, &node).await;
            let status = match &result {
                Ok(()) => "Success",
                Err(_) => "Error",
            };
            shared.metrics.extension_point(
                "Bind",
                status,
                &profile,
                bind_start.elapsed().as_secs_f64(),
            );
            if result.is_ok()
                && let Some(r) = &recorder
            {
                r.scheduled(&pod_ref, &node).await;
            }
            let outcome = BindOutcome {
                key,
                node,
                profile,
                result,
                attempts,
                initial_enqueue,
                attempt_start,
            };
            // The loop outlives every binding it waits for; a send error means it is gone.
            let _ = tx.send(Input::Bound(outcome)).await;
        });
    }

    fn handle_bound(&mut self, o: BindOutcome) {
        self.binds_in_flight -= 1;
        let m = &self.shared.metrics;
        match o.result {
            Ok(()) => {
                self.window.success();
                tracing::debug!(pod = %o.key, node = %o.node, attempts = o.attempts, "successfully bound pod");
                self.tally.count(AttemptResult::Scheduled);
                m.attempt(
                    AttemptResult::Scheduled,
                    &o.profile,
                    o.attempt_start.elapsed().as_secs_f64(),
                );
                m.pod_scheduling_attempts.observe(f64::from(o.attempts));
                m.pod_scheduling_sli_duration
                    .get_or_create(&super::metrics::AttemptsLabels {
                        attempts: o.attempts.to_string(),
                    })
                    .observe(o.initial_enqueue.elapsed().as_secs_f64());
                if self
                    .queue
                    .queue()
                    .get(&o.key)
                    .is_some_and(|q| q.place == Where::InFlight)
                {
                    self.queue.queue_mut().remove(&o.key);
                    self.meta.remove(&o.key);
                }
                if let Some(d) = self.assumed.get_mut(&o.key) {
                    *d = Some(Instant::now() + ASSUMED_POD_TTL);
                }
            }
            Err(e) => {
                if is_overload(&e) {
                    self.window.overloaded();
                    tracing::warn!(pod = %o.key, error = %e, window = self.window.current(), "API server overloaded; fewer bindings in flight");
                }
                self.tally.count(AttemptResult::Error);
                m.attempt(
                    AttemptResult::Error,
                    &o.profile,
                    o.attempt_start.elapsed().as_secs_f64(),
                );
                self.assumed.remove(&o.key);
                if let Ok(entry) = self.state.forget(&o.key) {
                    self.assigned_pod_deleted(entry.info);
                }
                match e {
                    BindError::Conflict(msg) | BindError::NotFound(msg) => {
                        // Already bound, being deleted or gone: the watch tells the rest.
                        tracing::debug!(pod = %o.key, err = %msg, "binding refused; dropping pod");
                        self.queue.queue_mut().remove(&o.key);
                        self.meta.remove(&o.key);
                    }
                    BindError::Other(err) => {
                        let msg = format!("Binding rejected: {err}");
                        if self
                            .queue
                            .queue()
                            .get(&o.key)
                            .is_some_and(|q| q.place == Where::InFlight)
                        {
                            // Counted above as an error; requeue and report as upstream's
                            // handleSchedulingFailure does for a binding cycle error.
                            self.queue
                                .queue_mut()
                                .requeue_backoff(&o.key, Instant::now().into_std());
                            self.feedback(&o.key, &o.profile, "SchedulerError", &msg, None);
                        }
                    }
                }
            }
        }
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tally_tests {
    use super::{AttemptResult, SUMMARY_EVERY, Tally};
    use tokio::time::Instant;

    #[test]
    fn the_summary_comes_once_per_interval_and_only_after_attempts() {
        let t0 = Instant::now();
        let mut t = Tally::new(t0);
        t.count(AttemptResult::Scheduled);
        t.count(AttemptResult::Scheduled);
        t.count(AttemptResult::Unschedulable);
        assert_eq!(t.take_if_due(t0 + SUMMARY_EVERY / 2), None, "not yet");
        let due = t.take_if_due(t0 + SUMMARY_EVERY).expect("due");
        assert_eq!((due.scheduled, due.unschedulable, due.errors), (2, 1, 0));
        // The next interval starts empty; an idle interval logs nothing.
        assert_eq!(t.take_if_due(t0 + SUMMARY_EVERY * 2), None);
        t.count(AttemptResult::Error);
        assert_eq!(
            t.take_if_due(t0 + SUMMARY_EVERY * 2 + SUMMARY_EVERY / 2),
            None
        );
        assert_eq!(
            t.take_if_due(t0 + SUMMARY_EVERY * 3).map(|t| t.errors),
            Some(1)
        );
    }
}

#[cfg(test)]
mod window_tests {
    use super::BindWindow;

    #[test]
    fn bind_window_halves_on_overload_and_grows_back_by_one_to_the_max() {
        let mut w = BindWindow::new(8);
        assert_eq!(w.current(), 8);
        w.overloaded();
        assert_eq!(w.current(), 4);
        w.overloaded();
        w.overloaded();
        w.overloaded();
        assert_eq!(w.current(), 1, "never below one");
        for _ in 0..20 {
            w.success();
        }
        assert_eq!(w.current(), 8, "never above the max");
        assert_eq!(BindWindow::new(0).current(), 1);
    }
}
