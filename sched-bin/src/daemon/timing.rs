//! `scheduler_framework_extension_point_duration_seconds` without touching the core: each
//! profile's plugins are wrapped ([`instrument`]) so that the sequential extension points —
//! PreFilter, PostFilter, PreScore — add their time to a [`PointTimer`] that the loop reads
//! after each cycle. Filter and Score run per node (in parallel on large clusters) and upstream
//! records no extension-point duration for Filter either; they are passed through untimed.
//! Bind is timed by the loop itself.

use super::metrics::Metrics;
use sched_core::Profile;
use sched_core::framework::{
    ClusterView, CycleState, FilterPlugin, Plugin, PostFilterInput, PostFilterOutcome,
    PostFilterPlugin, PreEnqueuePlugin, PreFilterOutcome, PreFilterPlugin, PreScoreOutcome,
    PreScorePlugin, QueueSortPlugin, Rejection, ReservePlugin, ScorePlugin,
};
use sched_core::model::PodInfo;
use sched_core::state::NodeId;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const POINTS: [&str; 3] = ["PreFilter", "PostFilter", "PreScore"];

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    ran: bool,
    total: Duration,
    status: Option<&'static str>,
}

/// Per-cycle time spent in each sequential extension point.
#[derive(Debug, Default)]
pub struct PointTimer {
    slots: Mutex<[Slot; 3]>,
}

impl PointTimer {
    /// A timer with nothing recorded.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&self, point: usize, d: Duration, status: Option<&'static str>) {
        let mut s = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = &mut s[point];
        slot.ran = true;
        slot.total += d;
        if slot.status.is_none() {
            slot.status = status;
        }
    }

    /// Clears the record before a cycle.
    pub fn reset(&self) {
        *self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = [Slot::default(); 3];
    }

    /// Observes every point that ran in the last cycle.
    pub fn report(&self, metrics: &Metrics, profile: &str) {
        let s = *self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, slot) in s.iter().enumerate() {
            if slot.ran {
                metrics.extension_point(
                    POINTS[i],
                    slot.status.unwrap_or("Success"),
                    profile,
                    slot.total.as_secs_f64(),
                );
            }
        }
    }
}

struct Timed {
    inner: Arc<dyn Plugin>,
    timer: Arc<PointTimer>,
}

impl Plugin for Timed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        self.inner.as_queue_sort()
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        self.inner.as_pre_enqueue()
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        self.inner
            .as_pre_filter()
            .map(|_| self as &dyn PreFilterPlugin)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        self.inner.as_filter()
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        self.inner
            .as_post_filter()
            .map(|_| self as &dyn PostFilterPlugin)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        self.inner
            .as_pre_score()
            .map(|_| self as &dyn PreScorePlugin)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        self.inner.as_score()
    }
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        self.inner.as_reserve()
    }
}

impl PreFilterPlugin for Timed {
    fn pre_filter(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        let p = self
            .inner
            .as_pre_filter()
            .expect("wrapped only when present");
        let t = Instant::now();
        let r = p.pre_filter(cycle, pod, view);
        self.timer
            .add(0, t.elapsed(), r.as_ref().err().map(|e| e.code.as_str()));
        r
    }
}

impl PostFilterPlugin for Timed {
    fn post_filter(&self, input: &PostFilterInput<'_>) -> PostFilterOutcome {
        let p = self
            .inner
            .as_post_filter()
            .expect("wrapped only when present");
        let t = Instant::now();
        let r = p.post_filter(input);
        let status = match &r {
            PostFilterOutcome::Unschedulable { .. } => Some("Unschedulable"),
            PostFilterOutcome::Nominate { .. } => None,
        };
        self.timer.add(1, t.elapsed(), status);
        r
    }
}

impl PreScorePlugin for Timed {
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        feasible: &[NodeId],
        view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        let p = self
            .inner
            .as_pre_score()
            .expect("wrapped only when present");
        let t = Instant::now();
        let r = p.pre_score(cycle, pod, feasible, view);
        self.timer
            .add(2, t.elapsed(), r.as_ref().err().map(|e| e.code.as_str()));
        r
    }
}

/// The profile with its PreFilter, PostFilter and PreScore plugins timed into `timer`.
#[must_use]
pub fn instrument(mut profile: Profile, timer: &Arc<PointTimer>) -> Profile {
    let wrap = |v: &mut Vec<Arc<dyn Plugin>>| {
        for p in v.iter_mut() {
            *p = Arc::new(Timed {
                inner: p.clone(),
                timer: timer.clone(),
            });
        }
    };
    wrap(&mut profile.pre_filter);
    wrap(&mut profile.post_filter);
    wrap(&mut profile.pre_score);
    profile
}
