//! The scheduling loop every driver shares (upstream `ScheduleOne`): pop the next pod from the
//! [`SchedulingQueue`], run the cycle, assume the pod on its node, run Permit, and hand the
//! driver a [`Decision`] to carry out. The driver is what differs: the daemon binds through
//! the API server on tokio time, the simulator binds at once on its virtual clock, an embedder
//! does what it likes. Neither keeps a queue, a retry rule or a preemption rule of its own.
//!
//! ```text
//!   queue.pop ─► Scheduler::schedule ─► assume ─► Permit ─► Decision::Bind ─► driver: PreBind, Bind
//!                      │                                                     ├─ bound()          (confirm)
//!                      │                                                     └─ binding_failed() (forget, backoff)
//!                      └─ no node ─► PostFilter nominated? ─► Decision::Failed { nomination }
//!                                                           (requeued; driver deletes victims)
//! ```
//!
//! Upstream's rules kept here, each with a test in `tests/tests/scheduling_loop.rs`:
//! - a pod whose attempt failed goes to the unschedulable pods, or to backoff when an event
//!   its rejecting plugins registered arrived during the attempt;
//! - a preemptor is **nominated** (`status.nominatedNodeName`): the state counts it on that
//!   node for pods of lower or equal priority, its next attempt tries that node first, and it
//!   is requeued as unschedulable until the victims' deletion moves it (upstream
//!   `handleSchedulingFailure` after a successful PostFilter);
//! - a Permit rejection forgets the assumed pod and requeues it as unschedulable, rejected by
//!   the Permit plugin (upstream `schedulingCycle`: "Unreserve, ForgetPod", a FitError over one
//!   node);
//! - a binding error forgets the pod, requeues it to backoff, and moves the pods an
//!   `AssignedPodDelete` could help (upstream `handleBindingCycleError`).
//!
//! Unreserve after the cycle: Reserve plugins record what they claim in the pod's claims
//! ([`crate::model::PodInfo::claims`]), which the state releases when the pod is forgotten;
//! so forgetting is the Unreserve of a later failure (the cycle's own Unreserve runs inside
//! the cycle).

use crate::framework::{ClusterChange, ClusterEvents};
use crate::model::PodInfo;
use crate::queue::{QueueTime, QueuedPod, Rejectors, SchedulingQueue};
use crate::scheduler::{Diagnosis, FitError, Placement, ScheduleError, Scheduler};
use crate::state::{ClusterState, NodeId};
use std::sync::Arc;
use std::time::Duration;

/// Where PostFilter (preemption) wants the pod to go, and what must leave first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nomination {
    /// The nominated node.
    pub node: NodeId,
    /// Its name (what `status.nominatedNodeName` is set to).
    pub node_name: Arc<str>,
    /// The victims to delete, `ns/name`.
    pub victims: Vec<Arc<str>>,
}

/// What one attempt decided; the driver carries it out.
#[derive(Debug)]
pub enum Decision<T: QueueTime> {
    /// The pod is assumed on `placement.node` and Permit allowed it: run PreBind and Bind
    /// ([`Scheduler::pre_bind`]), then report with [`SchedulingLoop::bound`] or
    /// [`SchedulingLoop::binding_failed`].
    Bind {
        /// The pod (with its queue history).
        pod: QueuedPod<T>,
        /// Where.
        placement: Placement,
    },
    /// No node this time; the pod is back in the queue. `unschedulable` tells a FitError
    /// (upstream reason `Unschedulable`) from an error (`SchedulerError`, to backoff).
    Failed {
        /// The pod (with its queue history).
        pod: QueuedPod<T>,
        /// Why.
        error: ScheduleError,
        /// `true` for "no node fits", `false` for an internal error.
        unschedulable: bool,
        /// Set when PostFilter nominated a node: the pod is nominated there in the state
        /// already; the driver deletes the victims and records `status.nominatedNodeName`.
        nomination: Option<Nomination>,
    },
    /// A PreEnqueue plugin keeps it out (scheduling gates); it waits gated.
    Gated {
        /// The pod.
        pod: QueuedPod<T>,
        /// The plugin's message.
        error: ScheduleError,
    },
    /// No profile schedules it: it left the queue.
    Dropped {
        /// The pod.
        pod: QueuedPod<T>,
        /// Why.
        error: ScheduleError,
    },
}

/// The queue and the rules around one attempt (upstream `scheduleOne`'s scheduling cycle and
/// the failure and binding handlers), on the driver's time `T`.
pub struct SchedulingLoop<T: QueueTime = std::time::Instant> {
    queue: SchedulingQueue<T>,
}

impl<T: QueueTime> std::fmt::Debug for SchedulingLoop<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulingLoop")
            .field("queue", &self.queue)
            .finish()
    }
}

impl<T: QueueTime> SchedulingLoop<T> {
    /// A loop over an empty queue ordered by the first profile's QueueSort (upstream: every
    /// profile must use the same), with the given backoff bounds (`podInitialBackoffSeconds`,
    /// `podMaxBackoffSeconds`).
    ///
    /// # Panics
    /// When the scheduler has no profile.
    #[must_use]
    pub fn new(scheduler: &Scheduler, initial_backoff: Duration, max_backoff: Duration) -> Self {
        let order = Arc::new(scheduler.profiles()[0].clone());
        SchedulingLoop {
            queue: SchedulingQueue::new(order, initial_backoff, max_backoff),
        }
    }

    /// The queue.
    #[must_use]
    pub fn queue(&self) -> &SchedulingQueue<T> {
        &self.queue
    }

    /// The queue, to add, update and remove pods and to report cluster events.
    pub fn queue_mut(&mut self) -> &mut SchedulingQueue<T> {
        &mut self.queue
    }

    /// Adds a pending pod: gated when a PreEnqueue plugin of its profile says so (upstream
    /// `runPreEnqueuePlugins` at Add), else active. A known pod is refreshed (see
    /// [`SchedulingQueue::add_or_update`]). Returns the gating plugin's error when gated.
    pub fn add(
        &mut self,
        scheduler: &Scheduler,
        info: Arc<PodInfo>,
        spec_changed: bool,
        now: T,
    ) -> Option<ScheduleError> {
        let gate = pre_enqueue(scheduler, &info);
        self.queue
            .add_or_update(info, gate.is_some(), spec_changed, now);
        gate
    }

    /// Removes a pod (deleted, or bound by someone else), and its nomination.
    pub fn remove(&mut self, state: &mut ClusterState, key: &str) -> Option<QueuedPod<T>> {
        state.clear_nomination(key);
        self.queue.remove(key)
    }

    /// Cluster events without their objects: moves the pods whose rejecting plugins registered
    /// one of them (upstream `MoveAllToActiveOrBackoffQueue`, no hints asked).
    pub fn on_event(&mut self, events: ClusterEvents, now: T) -> (usize, usize) {
        self.queue.move_on_event(events, now)
    }

    /// A cluster change, applied to `state` already: moves the pods it may help, asking the
    /// rejecting plugins' queueing hints (upstream `MoveAllToActiveOrBackoffQueue` with the
    /// event's objects). Returns how many moved to active and to backoff.
    pub fn on_change(
        &mut self,
        change: &ClusterChange,
        state: &ClusterState,
        now: T,
    ) -> (usize, usize) {
        self.queue.move_on(change, state.interner(), now)
    }

    /// Time passed: pods whose backoff expired become active, and pods unschedulable for
    /// longer than upstream's maximum stay are moved (upstream's two periodic flushes).
    /// Returns how many moved.
    pub fn tick(&mut self, now: T) -> usize {
        self.queue.flush_backoff_completed(now) + self.queue.flush_unschedulable_leftover(now)
    }

    /// The next time [`SchedulingLoop::tick`] has work on its own: a backoff window ending,
    /// or an unschedulable pod reaching its maximum stay.
    #[must_use]
    pub fn next_deadline(&self) -> Option<T> {
        self.queue.next_deadline()
    }

    /// Pops the next active pod and runs one attempt on `state`; `None` when no pod is active.
    pub fn schedule_one(
        &mut self,
        scheduler: &Scheduler,
        state: &mut ClusterState,
        now: T,
    ) -> Option<Decision<T>> {
        let pod = self.queue.pop(now)?;
        Some(self.attempt(scheduler, state, pod, now))
    }

    fn attempt(
        &mut self,
        scheduler: &Scheduler,
        state: &mut ClusterState,
        pod: QueuedPod<T>,
        now: T,
    ) -> Decision<T> {
        let key = pod.info.key.clone();
        let placement = match scheduler.schedule(&pod.info, state) {
            Ok(p) => p,
            Err(error) => return self.failed(scheduler, state, pod, error, now),
        };
        let mut info = (*pod.info).clone();
        info.claims.clone_from(&placement.claims);
        // Bound: the nomination is spent (the state drops it on assume).
        info.nominated_node_name = None;
        if let Err(e) = state.assume(info, placement.node) {
            let error = ScheduleError::Internal {
                plugin: "SchedulerCache",
                message: format!("cannot assume pod: {e}"),
            };
            return self.failed(scheduler, state, pod, error, now);
        }
        if let Some((plugin, rejection)) = scheduler.run_permit(&pod.info, placement.node, state) {
            // upstream schedulingCycle: "Unreserve, ForgetPod", then a FitError over the one
            // node, rejected by the Permit plugin.
            let _ = state.forget(&key);
            let mut diagnosis = Diagnosis::default();
            diagnosis.unschedulable_plugins.insert(plugin);
            diagnosis.statuses.push((placement.node, plugin, rejection));
            let error = ScheduleError::Unschedulable(Box::new(FitError {
                pod: key,
                num_all_nodes: 1,
                diagnosis,
            }));
            return self.failed(scheduler, state, pod, error, now);
        }
        Decision::Bind { pod, placement }
    }

    fn failed(
        &mut self,
        scheduler: &Scheduler,
        state: &mut ClusterState,
        mut pod: QueuedPod<T>,
        error: ScheduleError,
        now: T,
    ) -> Decision<T> {
        let key = pod.info.key.clone();
        match &error {
            ScheduleError::Unschedulable(fit) => {
                // upstream isPodWorthRequeuing: the events the rejecting plugins registered.
                let profile = scheduler.profile(&pod.info.scheduler_name);
                let events = profile.map_or(ClusterEvents::ALL, |p| {
                    p.events_for(fit.diagnosis.unschedulable_plugins.iter().copied())
                });
                // The plugins whose hints are asked; none (every change is worth a retry)
                // when one is not in the profile, as `events_for` gives every event then.
                let rejectors = profile
                    .and_then(|p| {
                        fit.diagnosis
                            .unschedulable_plugins
                            .iter()
                            .map(|n| p.plugin(n).cloned())
                            .collect::<Option<Vec<_>>>()
                    })
                    .map(Rejectors)
                    .unwrap_or_default();
                let nomination = fit.diagnosis.nomination.as_ref().map(|(node, victims)| {
                    let node_name = state.node(*node).info.name.clone();
                    Nomination {
                        node: *node,
                        node_name,
                        victims: victims.clone(),
                    }
                });
                if let Some(n) = &nomination {
                    // upstream: the nominator records the pod on the node (lower-priority pods
                    // count it there) and status.nominatedNodeName is set; the next attempt
                    // tries that node first.
                    let mut info = (*pod.info).clone();
                    info.nominated_node_name = Some(n.node_name.clone());
                    state.nominate(info.clone(), n.node);
                    let info = Arc::new(info);
                    self.queue.add_or_update(info.clone(), false, false, now);
                    pod.info = info;
                }
                self.queue
                    .requeue_unschedulable(&key, now, events, rejectors);
                Decision::Failed {
                    pod,
                    error,
                    unschedulable: true,
                    nomination,
                }
            }
            ScheduleError::NoNodes => {
                self.queue.requeue_unschedulable(
                    &key,
                    now,
                    ClusterEvents::ALL,
                    Rejectors::default(),
                );
                Decision::Failed {
                    pod,
                    error,
                    unschedulable: true,
                    nomination: None,
                }
            }
            ScheduleError::Internal { .. } | ScheduleError::ForeignState => {
                self.queue.requeue_backoff(&key, now);
                Decision::Failed {
                    pod,
                    error,
                    unschedulable: false,
                    nomination: None,
                }
            }
            ScheduleError::NotReady { .. } => {
                self.queue.requeue_gated(&key, now);
                Decision::Gated { pod, error }
            }
            ScheduleError::NoProfile { .. } => {
                self.remove(state, &key);
                Decision::Dropped { pod, error }
            }
        }
    }

    /// The binding of an assumed pod succeeded: the state confirms it (started at
    /// `start_millis` when the driver is also the kubelet) and the pod leaves the queue.
    pub fn bound(&mut self, state: &mut ClusterState, key: &str, start_millis: Option<i64>) {
        let _ = match start_millis {
            Some(t) => state.confirm_started(key, t),
            None => state.confirm(key),
        };
        self.queue.remove(key);
    }

    /// The binding of an assumed pod failed: it is forgotten (its claims released), requeued
    /// to backoff, and the pods an `AssignedPodDelete` may help are moved (upstream
    /// `handleBindingCycleError`). Returns whether the pod was still assumed.
    pub fn binding_failed(&mut self, state: &mut ClusterState, key: &str, now: T) -> bool {
        let forgotten = state.forget(key).ok();
        self.queue.requeue_backoff(key, now);
        let Some(entry) = forgotten else {
            return false;
        };
        self.queue.move_on(
            &ClusterChange::AssignedPodDeleted(entry.info),
            state.interner(),
            now,
        );
        true
    }
}

/// The first PreEnqueue plugin of the pod's profile that keeps it out, as the error the
/// cycle would give (upstream `runPreEnqueuePlugins`).
#[must_use]
pub fn pre_enqueue(scheduler: &Scheduler, info: &PodInfo) -> Option<ScheduleError> {
    let profile = scheduler.profile(&info.scheduler_name)?;
    profile.pre_enqueue.iter().find_map(|plugin| {
        let p = plugin.as_pre_enqueue()?;
        p.pre_enqueue(info).err().map(|r| ScheduleError::NotReady {
            plugin: plugin.name(),
            message: r.message(),
        })
    })
}
