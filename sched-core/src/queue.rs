//! The scheduling queue, as upstream's `PriorityQueue` (`pkg/scheduler/backend/queue`), in
//! the core so that every driver (the daemon on tokio time, the simulator on its virtual
//! clock, an embedder on its own) queues pods by the same rules. The time type is the
//! driver's ([`QueueTime`]: `std::time::Instant`, or a `Duration` since any epoch).
//!
//! Three sub-queues hold every pending pod this scheduler owns:
//!
//! - **active**: pods ready to be tried, in the profile's QueueSort order (PrioritySort:
//!   higher priority first, then older first);
//! - **backoff**: pods that failed recently, each until its backoff expires
//!   (`initial × 2^(attempts-1)`, capped at the maximum: 1 s → 10 s by default);
//! - **unschedulable**: pods no node fits. They leave it when a cluster event could make them
//!   fit ([`SchedulingQueue::move_all_to_active_or_backoff`]: a node added or changed, a pod
//!   deleted) or after upstream's maximum stay of 5 minutes
//!   ([`SchedulingQueue::flush_unschedulable_leftover`]).
//!
//! A pod being scheduled or bound is *in flight*: it stays known to the queue (so that updates
//! and deletions find it) but is in no sub-queue. A pod that failed while a cluster event of
//! interest to its rejecting plugins arrived during its attempt goes to backoff, not
//! unschedulable (upstream's in-flight events with queueing hints), so the event is not lost.
//!
//! An unschedulable pod moves only on an event one of the plugins that rejected it registered
//! ([`crate::framework::Plugin::events_to_register`]); a pod whose attempt failed with no
//! plugin named moves on any event.
//!
//! The heaps are lazy: an entry carries the generation of the pod's record when it was pushed,
//! and entries whose generation is stale are skipped when popped.

use crate::Profile;
use crate::framework::{ClusterChange, ClusterEvents, Plugin, QueueingHint};
use crate::intern::Interner;
use crate::model::PodInfo;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// A point in the driver's time: what the queue compares backoffs and stays with.
pub trait QueueTime: Copy + Ord + std::fmt::Debug {
    /// `self + d`.
    #[must_use]
    fn plus(self, d: Duration) -> Self;
    /// `self - earlier`, or zero when `earlier` is later.
    #[must_use]
    fn since(self, earlier: Self) -> Duration;
    /// `self` truncated to a whole second of the time's epoch (upstream `alignToWindow`: the
    /// backoff queue's one-second ordering windows).
    #[must_use]
    fn align_to_second(self) -> Self;
}

impl QueueTime for std::time::Instant {
    fn plus(self, d: Duration) -> Self {
        self + d
    }
    fn since(self, earlier: Self) -> Duration {
        self.saturating_duration_since(earlier)
    }
    fn align_to_second(self) -> Self {
        // An `Instant` has no epoch: windows are whole seconds since the first instant the
        // process aligned (upstream aligns to the wall clock's seconds; any fixed origin gives
        // the same one-second windows).
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        match self.checked_duration_since(origin) {
            Some(d) => origin + Duration::from_secs(d.as_secs()),
            None => self,
        }
    }
}

/// Time as a `Duration` since the driver's epoch (the simulator's virtual clock).
impl QueueTime for Duration {
    fn plus(self, d: Duration) -> Self {
        self.saturating_add(d)
    }
    fn since(self, earlier: Self) -> Duration {
        self.saturating_sub(earlier)
    }
    fn align_to_second(self) -> Self {
        Duration::from_secs(self.as_secs())
    }
}

/// Upstream's `DefaultPodMaxInUnschedulablePodsDuration`.
pub const POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION: Duration = Duration::from_secs(5 * 60);

/// Where a pod is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Where {
    /// Waiting to be popped.
    Active,
    /// Waiting for its backoff to expire.
    Backoff,
    /// No node fit; waiting for a cluster event.
    Unschedulable,
    /// Kept out of scheduling by a PreEnqueue plugin (scheduling gates).
    Gated,
    /// Being scheduled or bound.
    InFlight,
}

impl Where {
    /// Upstream's `queue` label value of `scheduler_pending_pods`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Where::Active => "active",
            Where::Backoff => "backoff",
            Where::Unschedulable => "unschedulable",
            Where::Gated => "gated",
            Where::InFlight => "in_flight",
        }
    }
}

/// A pending pod and its queueing history (upstream `QueuedPodInfo`).
#[derive(Clone, Debug)]
pub struct QueuedPod<T: QueueTime = std::time::Instant> {
    /// The pod.
    pub info: Arc<PodInfo>,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// When the pod first entered the queue (for the SLI duration).
    pub initial_enqueue: T,
    /// When the last attempt failed.
    pub last_failure: Option<T>,
    /// When the pod entered the unschedulable sub-queue.
    pub unschedulable_since: Option<T>,
    /// The scheduling cycle in which it was last popped.
    pub cycle: u64,
    /// Where it is.
    pub place: Where,
    /// The events that may make it schedulable, from the plugins that rejected it last
    /// ([`crate::Profile::events_for`]); every event until it is rejected.
    pub events: ClusterEvents,
    /// Events that arrived while it was in flight (upstream's in-flight events with queueing
    /// hints): a failure is requeued to backoff, not unschedulable, when one of them is of
    /// interest to the plugins that rejected it.
    pub events_in_flight: ClusterEvents,
    /// The plugins that rejected it last, whose queueing hints decide whether a change moves
    /// it; empty (no hints asked) until it is rejected, or when the rejection named no plugin.
    pub rejectors: Rejectors,
    /// The last attempt failed with an error, not a FitError (upstream: no unschedulable
    /// plugins): it waits in the error backoff queue, which is never popped early.
    pub error: bool,
    generation: u64,
}

/// The plugins that rejected a pod (upstream `UnschedulablePlugins`), asked for their
/// queueing hints.
#[derive(Clone, Default)]
pub struct Rejectors(pub Vec<Arc<dyn Plugin>>);

impl std::fmt::Debug for Rejectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| p.name()))
            .finish()
    }
}

impl Rejectors {
    /// upstream `isPodWorthRequeuing` for one change: whether a plugin that rejected `pod` and
    /// registered one of the change's events says [`QueueingHint::Queue`]. With no plugin
    /// known, every change is worth it.
    fn worth_requeuing(&self, pod: &PodInfo, change: &ClusterChange, interner: &Interner) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let events = change.events();
        self.0.iter().any(|p| {
            p.events_to_register().intersects(events)
                && p.queueing_hint(pod, change, interner) == QueueingHint::Queue
        })
    }
}

struct ActiveEntry {
    info: Arc<PodInfo>,
    generation: u64,
    order: Arc<Profile>,
}

impl PartialEq for ActiveEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ActiveEntry {}
impl PartialOrd for ActiveEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ActiveEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: "less" in queue order (goes first) must compare greater.
        if self.order.queue_less(&self.info, &other.info) {
            Ordering::Greater
        } else if self.order.queue_less(&other.info, &self.info) {
            Ordering::Less
        } else {
            // Ties: the earlier push first, so equal pods are FIFO.
            other.generation.cmp(&self.generation)
        }
    }
}

/// An entry of the backoff heap: the earliest expiry window on top; within a window, the
/// QueueSort order (upstream `lessBackoffCompletedWithPriority`, SchedulerPopFromBackoffQ),
/// then FIFO.
struct BackoffEntry<T: QueueTime> {
    expiry: T,
    info: Arc<PodInfo>,
    generation: u64,
    order: Arc<Profile>,
}

impl<T: QueueTime> PartialEq for BackoffEntry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T: QueueTime> Eq for BackoffEntry<T> {}
impl<T: QueueTime> PartialOrd for BackoffEntry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T: QueueTime> Ord for BackoffEntry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        // A max-heap: what goes first compares greater.
        other.expiry.cmp(&self.expiry).then_with(|| {
            if self.order.queue_less(&self.info, &other.info) {
                Ordering::Greater
            } else if self.order.queue_less(&other.info, &self.info) {
                Ordering::Less
            } else {
                other.generation.cmp(&self.generation)
            }
        })
    }
}

/// Which cluster event moved pods (upstream's event labels of `queue_incoming_pods_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClusterEvent {
    /// A node was added.
    NodeAdd,
    /// A node changed in a way that may let pods fit.
    NodeUpdate,
    /// A node was deleted.
    NodeDelete,
    /// An assigned pod was added (bound by anyone).
    AssignedPodAdd,
    /// An assigned pod changed (its labels).
    AssignedPodUpdate,
    /// An assigned pod was deleted, freeing room.
    AssignedPodDelete,
    /// The pod stayed unschedulable longer than the maximum.
    UnschedulableTimeout,
}

impl ClusterEvent {
    /// Upstream's label value.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            ClusterEvent::NodeAdd => "NodeAdd",
            ClusterEvent::NodeUpdate => "NodeUpdate",
            ClusterEvent::NodeDelete => "NodeDelete",
            ClusterEvent::AssignedPodAdd => "AssignedPodAdd",
            ClusterEvent::AssignedPodUpdate => "AssignedPodUpdate",
            ClusterEvent::AssignedPodDelete => "AssignedPodDelete",
            ClusterEvent::UnschedulableTimeout => "UnschedulableTimeout",
        }
    }
}

/// The scheduling queue, on the driver's time `T`.
pub struct SchedulingQueue<T: QueueTime = std::time::Instant> {
    order: Arc<Profile>,
    initial_backoff: Duration,
    max_backoff: Duration,
    pods: HashMap<Arc<str>, QueuedPod<T>>,
    /// Keys of the pods unschedulable or in flight: what an event looks at, so that an event
    /// costs O(those pods), not O(every pending pod).
    watching: std::collections::HashSet<Arc<str>>,
    active: BinaryHeap<ActiveEntry>,
    /// Pods backing off after a FitError (upstream `podBackoffQ`): popped when no pod is
    /// active (SchedulerPopFromBackoffQ, on by default since 1.33).
    backoff: BinaryHeap<BackoffEntry<T>>,
    /// Pods backing off after an error (upstream `podErrorBackoffQ`): only their expiry
    /// moves them.
    error_backoff: BinaryHeap<BackoffEntry<T>>,
    next_generation: u64,
    scheduling_cycle: u64,
    counts: [usize; 5],
    /// upstream `scheduler_unschedulable_pods{plugin,profile}`: per rejecting plugin and
    /// profile, the pods in unschedulable (entries stay at 0 once seen).
    unschedulable_by_plugin: std::collections::BTreeMap<(&'static str, Arc<str>), usize>,
}

impl<T: QueueTime> std::fmt::Debug for SchedulingQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulingQueue")
            .field("pods", &self.pods.len())
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

fn idx(w: Where) -> usize {
    match w {
        Where::Active => 0,
        Where::Backoff => 1,
        Where::Unschedulable => 2,
        Where::Gated => 3,
        Where::InFlight => 4,
    }
}

impl<T: QueueTime> SchedulingQueue<T> {
    /// An empty queue ordered by `order`'s QueueSort, with the given backoff bounds.
    #[must_use]
    pub fn new(order: Arc<Profile>, initial_backoff: Duration, max_backoff: Duration) -> Self {
        SchedulingQueue {
            order,
            initial_backoff,
            max_backoff,
            pods: HashMap::new(),
            watching: std::collections::HashSet::new(),
            active: BinaryHeap::new(),
            backoff: BinaryHeap::new(),
            error_backoff: BinaryHeap::new(),
            next_generation: 0,
            scheduling_cycle: 0,
            counts: [0; 5],
            unschedulable_by_plugin: std::collections::BTreeMap::new(),
        }
    }

    /// Per plugin that rejected them and profile, how many pods wait in unschedulable
    /// (upstream `scheduler_unschedulable_pods{plugin,profile}`; a pair once counted stays,
    /// at 0, so a gauge fed from it goes back to 0).
    pub fn unschedulable_by_plugin(
        &self,
    ) -> impl Iterator<Item = (&'static str, &Arc<str>, usize)> {
        self.unschedulable_by_plugin
            .iter()
            .map(|((plugin, profile), n)| (*plugin, profile, *n))
    }

    /// Counts `p` in (or out of) unschedulable under each plugin that rejected it.
    fn count_unschedulable(
        by_plugin: &mut std::collections::BTreeMap<(&'static str, Arc<str>), usize>,
        p: &QueuedPod<T>,
        entering: bool,
    ) {
        let mut names: smallvec::SmallVec<[&'static str; 4]> =
            p.rejectors.0.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let n = by_plugin
                .entry((name, p.info.scheduler_name.clone()))
                .or_default();
            if entering {
                *n += 1;
            } else {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// Number of pods in `w`.
    #[must_use]
    pub fn len(&self, w: Where) -> usize {
        self.counts[idx(w)]
    }

    /// Number of pods known to the queue (in flight included).
    #[must_use]
    pub fn total(&self) -> usize {
        self.pods.len()
    }

    /// Whether no pod is known.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }

    /// The pod with this key.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&QueuedPod<T>> {
        self.pods.get(key)
    }

    /// upstream `calculateBackoffDuration`: initial, doubled per further attempt, capped.
    #[must_use]
    pub fn backoff_duration(&self, attempts: u32) -> Duration {
        backoff_of(self.initial_backoff, self.max_backoff, attempts)
    }

    /// upstream `getBackoffTime`: the last failure plus the backoff, truncated to its
    /// one-second window; none before the first attempt.
    fn backoff_expiry(&self, p: &QueuedPod<T>) -> Option<T> {
        if p.attempts == 0 {
            return None;
        }
        p.last_failure
            .map(|t| t.plus(self.backoff_duration(p.attempts)).align_to_second())
    }

    /// upstream `isPodBackingoff`: its expiry window is not yet over (a pod whose expiry falls
    /// in the current window still backs off). With a zero maximum backoff, never (upstream
    /// #131965).
    fn is_backing_off(&self, p: &QueuedPod<T>, now: T) -> bool {
        !self.max_backoff.is_zero()
            && self
                .backoff_expiry(p)
                .is_some_and(|e| e >= now.align_to_second())
    }

    fn set_place(&mut self, key: &Arc<str>, to: Where, now: T) {
        let generation = self.next_generation;
        self.next_generation += 1;
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        self.counts[idx(p.place)] -= 1;
        self.counts[idx(to)] += 1;
        let unschedulable = |w: Where| w == Where::Unschedulable;
        if unschedulable(p.place) != unschedulable(to) {
            Self::count_unschedulable(&mut self.unschedulable_by_plugin, p, unschedulable(to));
        }
        let watched = |w: Where| matches!(w, Where::Unschedulable | Where::InFlight);
        match (watched(p.place), watched(to)) {
            (false, true) => {
                self.watching.insert(key.clone());
            }
            (true, false) => {
                self.watching.remove(key);
            }
            _ => {}
        }
        p.place = to;
        p.generation = generation;
        p.unschedulable_since = (to == Where::Unschedulable).then_some(now);
        match to {
            Where::Active => self.active.push(ActiveEntry {
                info: p.info.clone(),
                generation,
                order: self.order.clone(),
            }),
            Where::Backoff => {
                let expiry = match p.last_failure {
                    Some(t) if p.attempts > 0 => t
                        .plus(backoff_of(
                            self.initial_backoff,
                            self.max_backoff,
                            p.attempts,
                        ))
                        .align_to_second(),
                    _ => now.align_to_second(),
                };
                let entry = BackoffEntry {
                    expiry,
                    info: p.info.clone(),
                    generation,
                    order: self.order.clone(),
                };
                if p.error {
                    self.error_backoff.push(entry);
                } else {
                    self.backoff.push(entry);
                }
            }
            Where::Unschedulable | Where::Gated | Where::InFlight => {}
        }
    }

    /// Adds a new pending pod (to active, or gated when `gated`), or refreshes a known one.
    /// A refreshed pod keeps its history; when `spec_changed` and it waits as unschedulable or
    /// gated, it is moved (upstream: an update may make the pod schedulable).
    pub fn add_or_update(&mut self, info: Arc<PodInfo>, gated: bool, spec_changed: bool, now: T) {
        let key = info.key.clone();
        if let Some(p) = self.pods.get_mut(&key) {
            p.info = info;
            let place = p.place;
            let in_backoff = self.is_backing_off(&self.pods[&key], now);
            match place {
                Where::InFlight => {}
                Where::Gated if !gated => self.set_place(&key, Where::Active, now),
                Where::Unschedulable if spec_changed => {
                    let to = if gated {
                        Where::Gated
                    } else if in_backoff {
                        Where::Backoff
                    } else {
                        Where::Active
                    };
                    self.set_place(&key, to, now);
                }
                Where::Active => {
                    // Re-push so the heap sees the new priority; the old entry goes stale.
                    self.set_place(&key, Where::Active, now);
                }
                _ => {}
            }
            return;
        }
        let to = if gated { Where::Gated } else { Where::Active };
        self.pods.insert(
            key.clone(),
            QueuedPod {
                info,
                attempts: 0,
                initial_enqueue: now,
                last_failure: None,
                unschedulable_since: None,
                cycle: 0,
                place: Where::InFlight,
                events: ClusterEvents::ALL,
                events_in_flight: ClusterEvents::NONE,
                rejectors: Rejectors::default(),
                error: false,
                generation: 0,
            },
        );
        self.counts[idx(Where::InFlight)] += 1;
        self.watching.insert(key.clone());
        self.set_place(&key, to, now);
    }

    /// Removes a pod (deleted, bound by anyone, or dropped). Returns its record.
    pub fn remove(&mut self, key: &str) -> Option<QueuedPod<T>> {
        let p = self.pods.remove(key)?;
        self.counts[idx(p.place)] -= 1;
        if p.place == Where::Unschedulable {
            Self::count_unschedulable(&mut self.unschedulable_by_plugin, &p, false);
        }
        self.watching.remove(key);
        Some(p)
    }

    /// Pops the first active pod in queue order, marking it in flight and counting an attempt.
    /// With no active pod, the first pod backing off after a FitError is popped at once
    /// (upstream SchedulerPopFromBackoffQ, on by default since 1.33: an idle scheduler does
    /// not wait out backoffs); pods backing off after an error wait out theirs.
    pub fn pop(&mut self, now: T) -> Option<QueuedPod<T>> {
        let key = loop {
            if let Some(e) = self.active.pop() {
                let fresh = self
                    .pods
                    .get(&e.info.key)
                    .is_some_and(|p| p.place == Where::Active && p.generation == e.generation);
                if fresh {
                    break e.info.key.clone();
                }
                continue;
            }
            let e = self.backoff.pop()?;
            let fresh = self
                .pods
                .get(&e.info.key)
                .is_some_and(|p| p.place == Where::Backoff && p.generation == e.generation);
            if fresh {
                break e.info.key.clone();
            }
        };
        self.scheduling_cycle += 1;
        let cycle = self.scheduling_cycle;
        self.set_place(&key, Where::InFlight, now);
        let p = self.pods.get_mut(&key).expect("checked above");
        p.attempts += 1;
        p.cycle = cycle;
        p.events_in_flight = ClusterEvents::NONE;
        Some(p.clone())
    }

    /// Puts back a pod whose attempt found no node (upstream `AddUnschedulableIfNotPresent`),
    /// remembering `events`, the events that may help it (those of the plugins that rejected
    /// it), and `rejectors`, the plugins whose hints are asked: to backoff when such an event
    /// arrived during its attempt, else to unschedulable.
    pub fn requeue_unschedulable(
        &mut self,
        key: &str,
        now: T,
        events: ClusterEvents,
        rejectors: Rejectors,
    ) {
        let Some(key) = self.pods.get_key_value(key).map(|(k, _)| k.clone()) else {
            return;
        };
        let mut missed = false;
        if let Some(p) = self.pods.get_mut(&key) {
            p.last_failure = Some(now);
            p.events = events;
            p.rejectors = rejectors;
            p.error = false;
            missed = p.events_in_flight.intersects(events);
        }
        let to = if missed {
            Where::Backoff
        } else {
            Where::Unschedulable
        };
        self.set_place(&key, to, now);
    }

    /// Puts back a pod whose attempt failed with an error (binding, internal): to backoff.
    pub fn requeue_backoff(&mut self, key: &str, now: T) {
        let Some(key) = self.pods.get_key_value(key).map(|(k, _)| k.clone()) else {
            return;
        };
        if let Some(p) = self.pods.get_mut(&key) {
            p.last_failure = Some(now);
            p.error = true;
        }
        self.set_place(&key, Where::Backoff, now);
    }

    /// Puts a pod kept out by a PreEnqueue plugin (gates) into the gated set.
    pub fn requeue_gated(&mut self, key: &str, now: T) {
        let Some(key) = self.pods.get_key_value(key).map(|(k, _)| k.clone()) else {
            return;
        };
        if let Some(p) = self.pods.get_mut(&key) {
            p.attempts = p.attempts.saturating_sub(1);
        }
        self.set_place(&key, Where::Gated, now);
    }

    /// upstream `MoveAllToActiveOrBackoffQueue` for an event of every kind: every unschedulable
    /// pod goes to backoff if its backoff has not expired, else to active. Returns how many
    /// moved to each.
    pub fn move_all_to_active_or_backoff(&mut self, now: T) -> (usize, usize) {
        self.move_on_event(ClusterEvents::ALL, now)
    }

    /// upstream `MoveAllToActiveOrBackoffQueue(event)` with `isPodWorthRequeuing`: the
    /// unschedulable pods for which some plugin that rejected them registered `event` go to
    /// backoff (if their backoff has not expired) or active; pods in flight remember the event
    /// for their outcome. Returns how many moved to active and to backoff.
    pub fn move_on_event(&mut self, event: ClusterEvents, now: T) -> (usize, usize) {
        self.move_where(event, now, |_| true)
    }

    /// upstream `MoveAllToActiveOrBackoffQueue(event, oldObj, newObj)`: as
    /// [`Self::move_on_event`] for `change`'s events, and an unschedulable pod moves only when
    /// one of the plugins that rejected it and registered the event gives the hint
    /// [`QueueingHint::Queue`] ([`Plugin::queueing_hint`]). Pods in flight remember the events
    /// without hints (a failure then goes to backoff: a retry sooner than upstream's, never a
    /// missed one).
    pub fn move_on(
        &mut self,
        change: &ClusterChange,
        interner: &Interner,
        now: T,
    ) -> (usize, usize) {
        if matches!(change, ClusterChange::Events(_)) {
            return self.move_on_event(change.events(), now);
        }
        self.move_where(change.events(), now, |p| {
            p.rejectors.worth_requeuing(&p.info, change, interner)
        })
    }

    fn move_where(
        &mut self,
        event: ClusterEvents,
        now: T,
        worth: impl Fn(&QueuedPod<T>) -> bool,
    ) -> (usize, usize) {
        let mut keys: Vec<Arc<str>> = Vec::new();
        for k in &self.watching {
            let Some(p) = self.pods.get_mut(k) else {
                continue;
            };
            match p.place {
                Where::Unschedulable if p.events.intersects(event) && worth(p) => {
                    keys.push(k.clone());
                }
                Where::InFlight => p.events_in_flight |= event,
                _ => {}
            }
        }
        // The set's order is arbitrary: move in key order, so that runs repeat exactly.
        keys.sort();
        self.move_keys(keys, now)
    }

    fn move_keys(&mut self, keys: Vec<Arc<str>>, now: T) -> (usize, usize) {
        let (mut active, mut backoff) = (0, 0);
        for key in keys {
            let in_backoff = self
                .pods
                .get(&key)
                .is_some_and(|p| self.is_backing_off(p, now));
            if in_backoff {
                backoff += 1;
                self.set_place(&key, Where::Backoff, now);
            } else {
                active += 1;
                self.set_place(&key, Where::Active, now);
            }
        }
        (active, backoff)
    }

    /// upstream `flushUnschedulablePodsLeftover`: pods unschedulable for longer than
    /// [`POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION`] are moved. Returns how many moved.
    pub fn flush_unschedulable_leftover(&mut self, now: T) -> usize {
        let mut keys: Vec<Arc<str>> = self
            .watching
            .iter()
            .filter(|k| {
                self.pods.get(*k).is_some_and(|p| {
                    p.place == Where::Unschedulable
                        && p.unschedulable_since
                            .is_some_and(|t| now.since(t) >= POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION)
                })
            })
            .cloned()
            .collect();
        keys.sort();
        let (a, b) = self.move_keys(keys, now);
        a + b
    }

    /// upstream `flushBackoffQCompleted`: pods whose backoff window is over move to active,
    /// from both backoff queues. Returns how many moved.
    pub fn flush_backoff_completed(&mut self, now: T) -> usize {
        let window = now.align_to_second();
        let mut moved = 0;
        for error in [false, true] {
            loop {
                let heap = if error {
                    &mut self.error_backoff
                } else {
                    &mut self.backoff
                };
                // Backing off while its expiry window is not over (a zero maximum: never).
                match heap.peek() {
                    Some(top) if self.max_backoff.is_zero() || top.expiry < window => {}
                    _ => break,
                }
                let e = heap.pop().expect("peeked");
                let fresh = self
                    .pods
                    .get(&e.info.key)
                    .is_some_and(|p| p.place == Where::Backoff && p.generation == e.generation);
                if fresh {
                    self.set_place(&e.info.key, Where::Active, now);
                    moved += 1;
                }
            }
        }
        moved
    }

    /// The next time something in the queue becomes due on its own: a backoff window ending
    /// (expiry window + 1 s, when [`SchedulingQueue::flush_backoff_completed`] moves it), or
    /// an unschedulable pod reaching its maximum stay.
    #[must_use]
    pub fn next_deadline(&self) -> Option<T> {
        let backoff = self
            .backoff
            .peek()
            .into_iter()
            .chain(self.error_backoff.peek())
            .map(|e| e.expiry.plus(Duration::from_secs(1)))
            .min();
        let leftover = self
            .watching
            .iter()
            .filter_map(|k| self.pods.get(k))
            .filter(|p| p.place == Where::Unschedulable)
            .filter_map(|p| p.unschedulable_since)
            .min()
            .map(|t| t.plus(POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION));
        match (backoff, leftover) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether a pod can be popped now: one is active, or one backs off after a FitError
    /// (popped early when none is active). Drops stale entries on top of the heaps.
    pub fn has_poppable(&mut self) -> bool {
        let pods = &self.pods;
        while let Some(top) = self.active.peek() {
            if pods
                .get(&top.info.key)
                .is_some_and(|p| p.place == Where::Active && p.generation == top.generation)
            {
                return true;
            }
            self.active.pop();
        }
        while let Some(top) = self.backoff.peek() {
            if pods
                .get(&top.info.key)
                .is_some_and(|p| p.place == Where::Backoff && p.generation == top.generation)
            {
                return true;
            }
            self.backoff.pop();
        }
        false
    }

    /// Keys of every known pod.
    pub fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.pods.keys()
    }
}

fn backoff_of(initial: Duration, max: Duration, attempts: u32) -> Duration {
    let mut d = initial;
    for _ in 1..attempts {
        d = d.saturating_mul(2);
        if d > max {
            return max;
        }
    }
    d.min(max)
}

#[cfg(test)]
mod tests {
    //! Upstream's queue rules, one case per rule, on a fake clock (`Duration` since 0).
    use super::*;
    use crate::framework::{Plugin, QueueSortPlugin};
    use crate::intern::Interner;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// PrioritySort's rule: higher priority first, then older first.
    struct Prio;
    impl Plugin for Prio {
        fn name(&self) -> &'static str {
            "PrioritySort"
        }
        fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
            Some(self)
        }
    }
    impl QueueSortPlugin for Prio {
        fn less(&self, a: &PodInfo, b: &PodInfo) -> bool {
            a.priority > b.priority
                || (a.priority == b.priority && a.creation_millis < b.creation_millis)
        }
    }

    fn queue() -> SchedulingQueue<Duration> {
        let mut profile = Profile::empty("placer");
        profile.queue_sort = Some(Arc::new(Prio));
        SchedulingQueue::new(
            Arc::new(profile),
            Duration::from_secs(1),
            Duration::from_secs(10),
        )
    }

    fn pod(name: &str, priority: i32, created_secs: i64) -> Arc<PodInfo> {
        let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default",
                         "creationTimestamp": format!("2026-01-01T00:00:{created_secs:02}Z")},
            "spec": {"schedulerName": "placer", "priority": priority, "containers": [{"name": "c"}]}
        }))
        .unwrap();
        Arc::new(crate::convert::pod_info(&p, &mut Interner::new()).unwrap())
    }

    #[test]
    fn backoff_doubles_from_initial_and_caps_at_max() {
        let q = queue();
        let got: Vec<u64> = (1..=6).map(|a| q.backoff_duration(a).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn pop_follows_priority_then_age() {
        let mut q = queue();
        q.add_or_update(pod("old-low", 0, 1), false, true, at(0));
        q.add_or_update(pod("new-high", 10, 5), false, true, at(0));
        q.add_or_update(pod("old-high", 10, 2), false, true, at(0));
        let order: Vec<String> = std::iter::from_fn(|| q.pop(at(0)))
            .map(|p| p.info.name.to_string())
            .collect();
        assert_eq!(order, ["old-high", "new-high", "old-low"]);
        assert_eq!(q.len(Where::InFlight), 3);
    }

    #[test]
    fn unschedulable_pod_waits_for_an_event_then_respects_its_backoff() {
        let mut q = queue();
        q.add_or_update(pod("p", 0, 1), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        q.requeue_unschedulable("default/p", at(0), ClusterEvents::ALL, Rejectors::default());
        assert_eq!(q.len(Where::Unschedulable), 1);
        assert!(q.pop(at(0)).is_none());
        // An event 500 ms later: the 1 s backoff has not expired, so backoff, not active.
        assert_eq!(q.move_all_to_active_or_backoff(at(500)), (0, 1));
        assert_eq!(q.flush_backoff_completed(at(500)), 0);
        // upstream isPodBackingoff: the expiry (1 s) is a window; the pod backs off until
        // that window is over.
        assert_eq!(q.next_deadline(), Some(at(2000)));
        assert_eq!(q.flush_backoff_completed(at(1999)), 0);
        assert_eq!(q.flush_backoff_completed(at(2000)), 1);
        assert_eq!(q.pop(at(2000)).unwrap().attempts, 2);
    }

    #[test]
    fn with_no_active_pod_a_pod_backing_off_after_a_fit_error_is_popped_at_once() {
        // upstream SchedulerPopFromBackoffQ (beta, on by default since 1.33).
        let mut q = queue();
        q.add_or_update(pod("fit", 0, 1), false, true, at(0));
        q.add_or_update(pod("err", 0, 2), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        let _ = q.pop(at(0)).unwrap();
        q.requeue_unschedulable(
            "default/fit",
            at(0),
            ClusterEvents::ALL,
            Rejectors::default(),
        );
        q.requeue_backoff("default/err", at(0));
        q.move_all_to_active_or_backoff(at(100));
        assert_eq!(q.len(Where::Backoff), 2);
        assert!(q.has_poppable());
        assert_eq!(q.pop(at(100)).unwrap().info.name.as_ref(), "fit");
        assert!(
            q.pop(at(100)).is_none(),
            "a pod that failed with an error waits out its backoff (podErrorBackoffQ)"
        );
        assert_eq!(q.flush_backoff_completed(at(2000)), 1);
        assert_eq!(q.pop(at(2000)).unwrap().info.name.as_ref(), "err");
    }

    #[test]
    fn an_active_pod_goes_before_any_pod_backing_off() {
        let mut q = queue();
        q.add_or_update(pod("b", 100, 1), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        q.requeue_unschedulable("default/b", at(0), ClusterEvents::ALL, Rejectors::default());
        q.move_all_to_active_or_backoff(at(10));
        q.add_or_update(pod("a", 0, 2), false, true, at(10));
        assert_eq!(q.pop(at(10)).unwrap().info.name.as_ref(), "a");
        assert_eq!(q.pop(at(10)).unwrap().info.name.as_ref(), "b");
    }

    #[test]
    fn within_one_backoff_window_pods_go_in_queue_sort_order() {
        // upstream lessBackoffCompletedWithPriority: expiries truncated to the second, then
        // the activeQ's order.
        let mut q = queue();
        q.add_or_update(pod("low", 0, 1), false, true, at(0));
        q.add_or_update(pod("high", 10, 2), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        let _ = q.pop(at(0)).unwrap();
        // Failures 300 ms apart expire in the same window (1.1 s and 1.4 s → 1 s).
        q.requeue_unschedulable(
            "default/low",
            at(100),
            ClusterEvents::ALL,
            Rejectors::default(),
        );
        q.requeue_unschedulable(
            "default/high",
            at(400),
            ClusterEvents::ALL,
            Rejectors::default(),
        );
        q.move_all_to_active_or_backoff(at(500));
        assert_eq!(q.pop(at(500)).unwrap().info.name.as_ref(), "high");
        assert_eq!(q.pop(at(500)).unwrap().info.name.as_ref(), "low");
    }

    #[test]
    fn a_zero_maximum_backoff_skips_backoff() {
        // upstream #131965: PodMaxBackoffDuration 0 skips backoff entirely.
        let mut q: SchedulingQueue<Duration> =
            SchedulingQueue::new(queue().order, Duration::ZERO, Duration::ZERO);
        q.add_or_update(pod("p", 0, 1), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        q.requeue_unschedulable("default/p", at(0), ClusterEvents::ALL, Rejectors::default());
        assert_eq!(q.move_all_to_active_or_backoff(at(0)), (1, 0));
    }

    #[test]
    fn an_event_during_the_attempt_sends_the_failure_to_backoff() {
        let mut q = queue();
        q.add_or_update(pod("p", 0, 1), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        // A node is added while the pod is being scheduled (upstream moveRequestCycle).
        q.move_all_to_active_or_backoff(at(1));
        q.requeue_unschedulable("default/p", at(2), ClusterEvents::ALL, Rejectors::default());
        assert_eq!(q.len(Where::Backoff), 1);
        assert_eq!(q.len(Where::Unschedulable), 0);
    }

    #[test]
    fn unschedulable_pods_leave_after_the_maximum_stay() {
        let mut q = queue();
        q.add_or_update(pod("p", 0, 1), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        q.requeue_unschedulable("default/p", at(0), ClusterEvents::ALL, Rejectors::default());
        let max = POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION;
        assert_eq!(q.next_deadline(), Some(max));
        assert_eq!(q.flush_unschedulable_leftover(max - at(1)), 0);
        assert_eq!(q.flush_unschedulable_leftover(max), 1);
        assert_eq!(q.len(Where::Active), 1);
    }

    #[test]
    fn removed_pods_are_skipped_and_status_only_updates_do_not_move() {
        let mut q = queue();
        q.add_or_update(pod("a", 0, 1), false, true, at(0));
        q.add_or_update(pod("b", 0, 2), false, true, at(0));
        assert!(q.remove("default/a").is_some());
        assert_eq!(q.pop(at(0)).unwrap().info.name.as_ref(), "b");
        q.requeue_unschedulable("default/b", at(0), ClusterEvents::ALL, Rejectors::default());
        q.add_or_update(pod("b", 0, 2), false, false, at(0));
        assert_eq!(
            q.len(Where::Unschedulable),
            1,
            "an update that changes no spec leaves it parked"
        );
        q.add_or_update(pod("b", 5, 2), false, true, at(0));
        assert_eq!(q.len(Where::Unschedulable), 0, "a spec change moves it");
        assert_eq!(q.total(), 1);
    }

    #[test]
    fn gated_pods_wait_until_ungated() {
        let mut q = queue();
        q.add_or_update(pod("g", 0, 1), true, true, at(0));
        assert_eq!(q.len(Where::Gated), 1);
        assert!(q.pop(at(0)).is_none());
        q.add_or_update(pod("g", 0, 1), false, true, at(0));
        assert_eq!(q.pop(at(0)).unwrap().attempts, 1);
    }

    #[test]
    fn an_unschedulable_pod_moves_only_on_events_its_rejecting_plugins_registered() {
        let mut q = queue();
        q.add_or_update(pod("fit", 0, 1), false, true, at(0));
        q.add_or_update(pod("affinity", 0, 2), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        let _ = q.pop(at(0)).unwrap();
        // NodeResourcesFit-like: node adds and assigned pod deletions; InterPodAffinity-like:
        // assigned pod adds too.
        let fit = ClusterEvents::NODE_ADD | ClusterEvents::ASSIGNED_POD_DELETE;
        q.requeue_unschedulable("default/fit", at(0), fit, Rejectors::default());
        q.requeue_unschedulable(
            "default/affinity",
            at(0),
            fit | ClusterEvents::ASSIGNED_POD_ADD,
            Rejectors::default(),
        );
        // A pod placed somewhere: only the affinity pod moves (its backoff has expired).
        assert_eq!(
            q.move_on_event(ClusterEvents::ASSIGNED_POD_ADD, at(5000)),
            (1, 0)
        );
        assert_eq!(q.get("default/fit").unwrap().place, Where::Unschedulable);
        // A label change on a node interests neither.
        assert_eq!(q.move_on_event(ClusterEvents::NODE_LABEL, at(5000)), (0, 0));
        assert_eq!(q.move_on_event(ClusterEvents::NODE_ADD, at(5000)), (1, 0));
    }

    /// A NodeResourcesFit-like plugin: node adds, and only a node named `big` can help.
    struct WantsBig;
    impl Plugin for WantsBig {
        fn name(&self) -> &'static str {
            "WantsBig"
        }
        fn events_to_register(&self) -> ClusterEvents {
            ClusterEvents::NODE_ADD
        }
        fn queueing_hint(
            &self,
            _pod: &PodInfo,
            change: &ClusterChange,
            _interner: &Interner,
        ) -> QueueingHint {
            match change.node() {
                Some((_, node)) if node.name.as_ref() == "big" => QueueingHint::Queue,
                _ => QueueingHint::QueueSkip,
            }
        }
    }

    fn node_named(name: &str) -> Arc<crate::model::NodeInfo> {
        let n: k8s_openapi::api::core::v1::Node =
            serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
        Arc::new(crate::convert::node_info(&n, &mut Interner::new()).unwrap())
    }

    #[test]
    fn queueing_hints_of_the_rejecting_plugins_decide_whether_a_change_moves_a_pod() {
        let mut q = queue();
        let interner = Interner::new();
        for name in ["hinted", "unhinted"] {
            q.add_or_update(pod(name, 0, 1), false, true, at(0));
            let _ = q.pop(at(0)).unwrap();
        }
        let rejectors = Rejectors(vec![Arc::new(WantsBig)]);
        q.requeue_unschedulable("default/hinted", at(0), ClusterEvents::NODE_ADD, rejectors);
        // No plugin named: every change of interest moves it (upstream: no unschedulable
        // plugins, no hint asked).
        q.requeue_unschedulable(
            "default/unhinted",
            at(0),
            ClusterEvents::NODE_ADD,
            Rejectors::default(),
        );
        let small = ClusterChange::NodeAdded(node_named("small"));
        assert_eq!(q.move_on(&small, &interner, at(5000)), (1, 0));
        assert_eq!(q.get("default/unhinted").unwrap().place, Where::Active);
        assert_eq!(
            q.get("default/hinted").unwrap().place,
            Where::Unschedulable,
            "the hint said QueueSkip"
        );
        // A change the plugin did not register is never asked about.
        let deleted = ClusterChange::NodeDeleted(node_named("big"));
        assert_eq!(q.move_on(&deleted, &interner, at(5000)), (0, 0));
        let big = ClusterChange::NodeAdded(node_named("big"));
        assert_eq!(q.move_on(&big, &interner, at(5000)), (1, 0));
        assert_eq!(q.get("default/hinted").unwrap().place, Where::Active);
    }

    #[test]
    fn unschedulable_pods_are_counted_per_rejecting_plugin_while_they_wait_there() {
        // upstream scheduler_unschedulable_pods{plugin,profile}: in when a pod parks, out when
        // it moves or goes, back to 0 rather than gone.
        let mut q = queue();
        let interner = Interner::new();
        let count = |q: &SchedulingQueue<Duration>| -> Vec<(&'static str, String, usize)> {
            q.unschedulable_by_plugin()
                .map(|(p, prof, n)| (p, prof.to_string(), n))
                .collect()
        };
        for name in ["a", "b"] {
            q.add_or_update(pod(name, 0, 1), false, true, at(0));
            let _ = q.pop(at(0)).unwrap();
            let rejectors = Rejectors(vec![Arc::new(WantsBig), Arc::new(WantsBig)]);
            q.requeue_unschedulable(
                &format!("default/{name}"),
                at(0),
                ClusterEvents::NODE_ADD,
                rejectors,
            );
        }
        let profile = "placer".to_string();
        assert_eq!(
            count(&q),
            vec![("WantsBig", profile.clone(), 2)],
            "a plugin counts a pod once"
        );
        q.remove("default/a");
        assert_eq!(count(&q), vec![("WantsBig", profile.clone(), 1)]);
        let big = ClusterChange::NodeAdded(node_named("big"));
        assert_eq!(q.move_on(&big, &interner, at(5000)), (1, 0));
        assert_eq!(count(&q), vec![("WantsBig", profile, 0)], "moved out");
    }

    #[test]
    fn only_an_event_of_interest_during_the_attempt_sends_the_failure_to_backoff() {
        let mut q = queue();
        q.add_or_update(pod("p", 0, 1), false, true, at(0));
        let _ = q.pop(at(0)).unwrap();
        q.move_on_event(ClusterEvents::NODE_LABEL, at(1));
        q.requeue_unschedulable(
            "default/p",
            at(2),
            ClusterEvents::NODE_ADD,
            Rejectors::default(),
        );
        assert_eq!(
            q.len(Where::Unschedulable),
            1,
            "the label change cannot help it"
        );
        let _ = q.move_on_event(ClusterEvents::NODE_ADD, at(5000));
        let _ = q.pop(at(5000)).unwrap();
        q.move_on_event(ClusterEvents::NODE_ADD, at(5001));
        q.requeue_unschedulable(
            "default/p",
            at(5002),
            ClusterEvents::NODE_ADD,
            Rejectors::default(),
        );
        assert_eq!(q.len(Where::Backoff), 1, "a node added during the attempt");
    }

    #[test]
    fn std_instants_work_as_the_queue_time() {
        let t0 = std::time::Instant::now();
        let mut q: SchedulingQueue<std::time::Instant> = SchedulingQueue::new(
            queue().order,
            Duration::from_secs(1),
            Duration::from_secs(10),
        );
        q.add_or_update(pod("p", 0, 1), false, true, t0);
        let _ = q.pop(t0).unwrap();
        q.requeue_backoff("default/p", t0);
        let due = q.next_deadline().unwrap();
        assert!(due > t0 + Duration::from_secs(1) && due <= t0 + Duration::from_secs(2));
        assert_eq!(q.flush_backoff_completed(due - Duration::from_millis(1)), 0);
        assert_eq!(q.flush_backoff_completed(due), 1);
    }
}
