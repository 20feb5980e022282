//! `scheduler_framework_extension_point_duration_seconds` without touching the core: each
//! profile's plugins are wrapped ([`instrument`]) so that they report to a [`PointTimer`] that
//! the loop reads after each cycle ([`PointTimer::report`]). Bind is timed by the loop itself.
//!
//! What is observed, per scheduling cycle, compared with upstream (`schedule_one.go`,
//! `framework/runtime/framework.go`; none of these is sampled upstream — sampling,
//! `pluginMetricsSamplePercent`, applies only to `scheduler_plugin_execution_duration_seconds`,
//! which Placer does not expose):
//!
//! - **PreFilter, PostFilter, PreScore**: the sum of the time spent in the point's plugins,
//!   with the first non-success code as `status` (upstream times the `Run…Plugins` call, a few
//!   loop iterations more).
//! - **Filter**: one observation per cycle, from the first Filter call to the end of the filter
//!   phase — the start of PostFilter, of PreScore or of the first Score call, or else the end
//!   of the cycle (upstream: the wall time of `findNodesThatPassFilters`' parallel scan, once
//!   per cycle). `status` is `Error` when a filter returned an `Error` code, else `Success`
//!   (an unschedulable pod is a successful Filter run, as upstream). Filters that PostFilter
//!   (preemption) re-runs later are not counted. Not observed when no Filter plugin ran (the
//!   cycle stopped at PreFilter, or PreFilter skipped every filter — upstream would record a
//!   near-zero Filter there).
//! - **Score**: one observation per cycle that reached scoring, from the end of PreScore (or
//!   the first Score call when the profile has no PreScore plugin) to the end of the cycle —
//!   Score, NormalizeScore, weights and host selection (upstream: `RunScorePlugins`, which
//!   excludes the host selection). `status` is `Error` when the cycle failed there (a score
//!   out of range), else `Success`. As upstream, a cycle with a single feasible node has no
//!   PreScore and no Score.
//!
//! Clock: `std::time::Instant`, not tokio's: Filter and Score run on rayon's threads on large
//! clusters, where tokio's (possibly paused) clock is not available. Cost: a relaxed atomic
//! load per Filter and Score call; the lock is taken once per cycle.

use super::metrics::Metrics;
use sched_core::Profile;
use sched_core::framework::{
    ClusterView, Code, CycleState, FilterPlugin, FilterResult, NodeMask, Plugin, PostFilterInput,
    PostFilterOutcome, PostFilterPlugin, PreEnqueuePlugin, PreFilterOutcome, PreFilterPlugin,
    PreScoreOutcome, PreScorePlugin, QueueSortPlugin, Rejection, ReservePlugin, ScorePlugin,
};
use sched_core::model::PodInfo;
use sched_core::state::{NodeId, NodeState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The extension points a wrapped plugin reports for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Point {
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
}

/// The points whose plugin time is summed, in [`Record::sums`] order.
const SUMMED: [&str; 3] = ["PreFilter", "PostFilter", "PreScore"];

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    ran: bool,
    total: Duration,
    status: Option<&'static str>,
}

/// A phase timed from its start to its end (Filter, Score).
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: Option<Instant>,
    end: Option<Instant>,
    closed: bool,
    error: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Record {
    sums: [Slot; 3],
    pre_score_end: Option<Instant>,
    filter: Span,
    score: Span,
}

impl Record {
    /// Ends the Filter phase (if it started) and keeps it from starting again this cycle.
    fn close_filter(&mut self, now: Instant) {
        if !self.filter.closed {
            self.filter.closed = true;
            if self.filter.start.is_some() {
                self.filter.end = Some(now);
            }
        }
    }
}

/// What one scheduling cycle spent in each extension point.
#[derive(Debug, Default)]
pub struct PointTimer {
    record: Mutex<Record>,
    /// The Filter phase has started or is over: Filter calls need not take the lock.
    filter_seen: AtomicBool,
    /// The Score phase has started: Score calls need not take the lock.
    score_seen: AtomicBool,
}

impl PointTimer {
    /// A timer with nothing recorded.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add(&self, point: usize, d: Duration, status: Option<&'static str>) {
        let mut r = self.lock();
        let slot = &mut r.sums[point];
        slot.ran = true;
        slot.total += d;
        if slot.status.is_none() {
            slot.status = status;
        }
    }

    /// A sequential point (PostFilter, PreScore) starts: the Filter phase is over.
    fn sequential_point_starts(&self, now: Instant) {
        let mut r = self.lock();
        r.close_filter(now);
        self.filter_seen.store(true, Ordering::Relaxed);
    }

    fn pre_score_ended(&self, now: Instant) {
        self.lock().pre_score_end = Some(now);
    }

    fn filter_call(&self) {
        if self.filter_seen.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let mut r = self.lock();
        if !r.filter.closed && r.filter.start.is_none() {
            r.filter.start = Some(now);
        }
        self.filter_seen.store(true, Ordering::Relaxed);
    }

    fn filter_error(&self) {
        let mut r = self.lock();
        if r.filter.start.is_some() && !r.filter.closed {
            r.filter.error = true;
        }
    }

    fn score_call(&self) {
        if self.score_seen.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let mut r = self.lock();
        r.close_filter(now);
        if r.score.start.is_none() {
            r.score.start = Some(now);
        }
        self.filter_seen.store(true, Ordering::Relaxed);
        self.score_seen.store(true, Ordering::Relaxed);
    }

    /// Clears the record before a cycle.
    pub fn reset(&self) {
        *self.lock() = Record::default();
        self.filter_seen.store(false, Ordering::Relaxed);
        self.score_seen.store(false, Ordering::Relaxed);
    }

    /// Observes every point that ran in the cycle that just ended. `failed_internally`: the
    /// cycle ended with an internal error (for a cycle that reached Score, the Score status).
    pub fn report(&self, metrics: &Metrics, profile: &str, failed_internally: bool) {
        let now = Instant::now();
        let r = *self.lock();
        for (i, slot) in r.sums.iter().enumerate() {
            if slot.ran {
                metrics.extension_point(
                    SUMMED[i],
                    slot.status.unwrap_or("Success"),
                    profile,
                    slot.total.as_secs_f64(),
                );
            }
        }
        if let Some(start) = r.filter.start {
            let end = r.filter.end.unwrap_or(now);
            let status = if r.filter.error { "Error" } else { "Success" };
            metrics.extension_point(
                "Filter",
                status,
                profile,
                end.saturating_duration_since(start).as_secs_f64(),
            );
        }
        let pre_score = r.sums[2];
        // PreScore ran and let the cycle go on: the cycle reached Score (upstream records Score
        // even when PreScore skipped every Score plugin). Without PreScore plugins, the first
        // Score call tells.
        let score_start = if pre_score.ran {
            pre_score
                .status
                .is_none()
                .then_some(r.pre_score_end)
                .flatten()
        } else {
            r.score.start
        };
        if let Some(start) = score_start {
            let status = if failed_internally {
                "Error"
            } else {
                "Success"
            };
            metrics.extension_point(
                "Score",
                status,
                profile,
                now.saturating_duration_since(start).as_secs_f64(),
            );
        }
    }
}

struct Timed {
    inner: Arc<dyn Plugin>,
    timer: Arc<PointTimer>,
    point: Point,
}

impl Plugin for Timed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        self.inner.events_to_register()
    }
    fn queueing_hint(
        &self,
        pod: &sched_core::model::PodInfo,
        change: &sched_core::framework::ClusterChange,
        interner: &sched_core::intern::Interner,
    ) -> sched_core::framework::QueueingHint {
        self.inner.queueing_hint(pod, change, interner)
    }
    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        self.inner.as_queue_sort()
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        self.inner.as_pre_enqueue()
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        let p = self.inner.as_pre_filter()?;
        Some(if self.point == Point::PreFilter {
            self
        } else {
            p
        })
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        let p = self.inner.as_filter()?;
        Some(if self.point == Point::Filter { self } else { p })
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        let p = self.inner.as_post_filter()?;
        Some(if self.point == Point::PostFilter {
            self
        } else {
            p
        })
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        let p = self.inner.as_pre_score()?;
        Some(if self.point == Point::PreScore {
            self
        } else {
            p
        })
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        let p = self.inner.as_score()?;
        Some(if self.point == Point::Score { self } else { p })
    }
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        self.inner.as_reserve()
    }
}

impl PreFilterPlugin for Timed {
    fn has_pod_extensions(&self) -> bool {
        self.inner
            .as_pre_filter()
            .is_some_and(|p| p.has_pod_extensions())
    }

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

    fn add_pod(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) {
        if let Some(p) = self.inner.as_pre_filter() {
            p.add_pod(cycle, pod, added, node, view);
        }
    }

    fn remove_pod(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) {
        if let Some(p) = self.inner.as_pre_filter() {
            p.remove_pod(cycle, pod, removed, node, view);
        }
    }
}

impl FilterPlugin for Timed {
    fn filter(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> FilterResult {
        self.timer.filter_call();
        let p = self.inner.as_filter().expect("wrapped only when present");
        let r = p.filter(cycle, pod, node, view);
        if let Err(e) = &r
            && e.code == Code::Error
        {
            self.timer.filter_error();
        }
        r
    }

    /// The inner plugin's batch filter. A batch reports pass or fail only, so a Filter that
    /// returns `Error` is not seen here (none of the built-in filters does).
    fn filter_nodes(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        self.timer.filter_call();
        self.inner
            .as_filter()
            .expect("wrapped only when present")
            .filter_nodes(cycle, pod, nodes, live, view)
    }
}

impl PostFilterPlugin for Timed {
    fn post_filter(&self, input: &PostFilterInput<'_>) -> PostFilterOutcome {
        let p = self
            .inner
            .as_post_filter()
            .expect("wrapped only when present");
        let t = Instant::now();
        self.timer.sequential_point_starts(t);
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
        self.timer.sequential_point_starts(t);
        let r = p.pre_score(cycle, pod, feasible, view);
        let end = Instant::now();
        self.timer.add(
            2,
            end.saturating_duration_since(t),
            r.as_ref().err().map(|e| e.code.as_str()),
        );
        self.timer.pre_score_ended(end);
        r
    }
}

impl ScorePlugin for Timed {
    fn score(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> i64 {
        self.timer.score_call();
        self.inner
            .as_score()
            .expect("wrapped only when present")
            .score(cycle, pod, node, view)
    }

    fn score_nodes(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        self.timer.score_call();
        self.inner
            .as_score()
            .expect("wrapped only when present")
            .score_nodes(cycle, pod, nodes, view, out);
    }

    fn has_normalize(&self) -> bool {
        self.inner
            .as_score()
            .is_some_and(ScorePlugin::has_normalize)
    }

    fn normalize(&self, cycle: &CycleState, pod: &PodInfo, scores: &mut [i64]) {
        if let Some(s) = self.inner.as_score() {
            s.normalize(cycle, pod, scores);
        }
    }
}

/// The profile with its PreFilter, Filter, PostFilter, PreScore and Score plugins reporting to
/// `timer`. Each wrapper intercepts only the extension point of the list it sits in.
#[must_use]
pub fn instrument(mut profile: Profile, timer: &Arc<PointTimer>) -> Profile {
    let wrap = |p: &Arc<dyn Plugin>, point: Point| -> Arc<dyn Plugin> {
        Arc::new(Timed {
            inner: p.clone(),
            timer: timer.clone(),
            point,
        })
    };
    for (list, point) in [
        (&mut profile.pre_filter, Point::PreFilter),
        (&mut profile.filter, Point::Filter),
        (&mut profile.post_filter, Point::PostFilter),
        (&mut profile.pre_score, Point::PreScore),
    ] {
        for p in list.iter_mut() {
            *p = wrap(p, point);
        }
    }
    for (p, _) in &mut profile.score {
        *p = wrap(p, Point::Score);
    }
    profile
}

#[cfg(test)]
mod tests {
    //! The spans on the core's real cycle, with stub plugins.
    use super::*;
    use prometheus_client::registry::Registry;
    use sched_core::{ClusterState, Scheduler};

    /// A filter: every node fits, or every node is rejected with `code`.
    struct Fits(Option<Code>);
    impl Plugin for Fits {
        fn name(&self) -> &'static str {
            "Fits"
        }
        fn as_filter(&self) -> Option<&dyn FilterPlugin> {
            Some(self)
        }
    }
    impl FilterPlugin for Fits {
        fn filter(
            &self,
            _: &CycleState,
            _: &PodInfo,
            _: &NodeState,
            _: ClusterView<'_>,
        ) -> FilterResult {
            match self.0 {
                None => Ok(()),
                Some(Code::Error) => Err(Rejection::error("broken")),
                Some(_) => Err(Rejection::unschedulable("no")),
            }
        }
    }

    struct Flat;
    impl Plugin for Flat {
        fn name(&self) -> &'static str {
            "Flat"
        }
        fn as_score(&self) -> Option<&dyn ScorePlugin> {
            Some(self)
        }
    }
    impl ScorePlugin for Flat {
        fn score(&self, _: &CycleState, _: &PodInfo, _: &NodeState, _: ClusterView<'_>) -> i64 {
            50
        }
    }

    /// A PostFilter that takes 20 ms and re-runs the filters on every node, as preemption does.
    struct SlowPreemption;
    impl Plugin for SlowPreemption {
        fn name(&self) -> &'static str {
            "SlowPreemption"
        }
        fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
            Some(self)
        }
    }
    impl PostFilterPlugin for SlowPreemption {
        fn post_filter(&self, input: &PostFilterInput<'_>) -> PostFilterOutcome {
            std::thread::sleep(Duration::from_millis(20));
            for &id in input.view.state.node_ids() {
                let _ = (input.run_filters)(input.cycle, input.view.state.node(id));
            }
            PostFilterOutcome::Unschedulable {
                message: "no".into(),
            }
        }
    }

    struct Cluster {
        state: ClusterState,
        pod: PodInfo,
        scheduler: Scheduler,
        timer: Arc<PointTimer>,
        metrics: Metrics,
        registry: Registry,
    }

    fn cluster(nodes: usize, filter: Option<Code>, post_filter: bool) -> Cluster {
        let mut state = ClusterState::new();
        for i in 0..nodes {
            let n = state
                .convert_node(&super::super::fake::make_node(&format!("n{i}"), 4000, 110))
                .unwrap();
            state.upsert_node(n);
        }
        let pod = state
            .convert_pod(&super::super::fake::make_pod(
                "default", "p", "placer", 100, 0,
            ))
            .unwrap();
        let profile = Profile {
            scheduler_name: "placer".into(),
            percentage_of_nodes_to_score: None,
            queue_sort: None,
            pre_enqueue: Vec::new(),
            pre_filter: Vec::new(),
            filter: vec![Arc::new(Fits(None)), Arc::new(Fits(filter))],
            post_filter: if post_filter {
                vec![Arc::new(SlowPreemption)]
            } else {
                Vec::new()
            },
            pre_score: Vec::new(),
            score: vec![(Arc::new(Flat), 1)],
            reserve: Vec::new(),
            permit: Vec::new(),
            pre_bind: Vec::new(),
        };
        let timer = Arc::new(PointTimer::new());
        let scheduler =
            Scheduler::new(vec![instrument(profile, &timer)], state.interner(), None, 0);
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        Cluster {
            state,
            pod,
            scheduler,
            timer,
            metrics,
            registry,
        }
    }

    impl Cluster {
        fn cycle(&self) -> bool {
            self.timer.reset();
            let r = self.scheduler.schedule(&self.pod, &self.state);
            self.timer.report(&self.metrics, "placer", false);
            r.is_ok()
        }

        /// `_count` (or `_sum` with `what = "sum"`) of one series, `None` when absent.
        fn series(&self, what: &str, point: &str, status: &str) -> Option<f64> {
            let text = super::super::metrics::encode(&self.registry).unwrap();
            let prefix = format!(
                "scheduler_framework_extension_point_duration_seconds_{what}{{extension_point=\"{point}\",status=\"{status}\",profile=\"placer\"}} "
            );
            text.lines()
                .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
        }
    }

    #[test]
    fn filter_and_score_are_observed_once_per_cycle_whatever_the_node_count() {
        let c = cluster(5, None, false);
        assert!(c.cycle());
        assert_eq!(c.series("count", "Filter", "Success"), Some(1.0));
        assert_eq!(c.series("count", "Score", "Success"), Some(1.0));
        assert!(c.cycle());
        assert_eq!(c.series("count", "Filter", "Success"), Some(2.0));
        assert_eq!(c.series("count", "Score", "Success"), Some(2.0));
    }

    #[test]
    fn a_single_feasible_node_is_filtered_but_not_scored() {
        let c = cluster(1, None, false);
        assert!(c.cycle());
        assert_eq!(c.series("count", "Filter", "Success"), Some(1.0));
        assert_eq!(c.series("count", "Score", "Success"), None);
    }

    #[test]
    fn the_filter_span_ends_where_post_filter_starts() {
        let c = cluster(3, Some(Code::Unschedulable), true);
        assert!(!c.cycle());
        // Unschedulable is a successful Filter run (upstream: only an Error code fails it).
        assert_eq!(c.series("count", "Filter", "Success"), Some(1.0));
        assert_eq!(c.series("count", "PostFilter", "Unschedulable"), Some(1.0));
        assert_eq!(c.series("count", "Score", "Success"), None);
        let filter = c.series("sum", "Filter", "Success").unwrap();
        let post_filter = c.series("sum", "PostFilter", "Unschedulable").unwrap();
        assert!(post_filter >= 0.02, "PostFilter took {post_filter}");
        assert!(
            filter < 0.02,
            "Filter ({filter} s) must not include PostFilter or the filters it re-runs"
        );
    }

    #[test]
    fn a_filter_error_is_the_filter_status() {
        let c = cluster(2, Some(Code::Error), false);
        assert!(!c.cycle());
        assert_eq!(c.series("count", "Filter", "Error"), Some(1.0));
        assert_eq!(c.series("count", "Filter", "Success"), None);
    }
}
