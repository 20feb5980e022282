//! The cycle observer (`Scheduler::set_observer`): which extension points and plugins a
//! cycle reports, with which status, as upstream's metrics recorder sees them.

use placer_tests::{Harness, node, pod};
use sched_core::framework::{
    ClusterView, CycleState, FilterPlugin, FilterResult, Plugin, Rejection,
};
use sched_core::model::PodInfo;
use sched_core::state::NodeState;
use sched_core::{CycleObserver, ExtensionPoint, Profile, Scheduler};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Recorder {
    points: Mutex<Vec<(ExtensionPoint, &'static str)>>,
    plugins: Mutex<Vec<(ExtensionPoint, &'static str, &'static str)>>,
}

impl CycleObserver for Recorder {
    fn extension_point(&self, _: &str, point: ExtensionPoint, status: &'static str, _: Duration) {
        self.points.lock().unwrap().push((point, status));
    }
    fn plugin(
        &self,
        _: &str,
        point: ExtensionPoint,
        plugin: &'static str,
        status: &'static str,
        _: Duration,
    ) {
        self.plugins.lock().unwrap().push((point, plugin, status));
    }
}

impl Recorder {
    fn take(&self) -> Vec<(ExtensionPoint, &'static str)> {
        std::mem::take(&mut *self.points.lock().unwrap())
    }
}

use ExtensionPoint::{Filter, PostFilter, PreFilter, PreScore, Reserve, Score};

fn harness(nodes: usize) -> (Harness, Arc<Recorder>) {
    let nodes: Vec<_> = (0..nodes)
        .map(|i| node(&format!("n{i}"), "4", "8Gi", json!({}), json!([])))
        .collect();
    let mut h = Harness::new(&nodes, &[], None, 0);
    let rec = Arc::new(Recorder::default());
    h.scheduler.set_observer(rec.clone());
    (h, rec)
}

#[test]
fn a_cycle_reports_each_point_once_filter_and_score_whatever_the_node_count() {
    let (mut h, rec) = harness(5);
    assert!(h.place(pod("p", "1", "1Gi")).is_ok());
    assert_eq!(
        rec.take(),
        vec![
            (PreFilter, "Success"),
            (Filter, "Success"),
            (PreScore, "Success"),
            (Score, "Success"),
            (Reserve, "Success")
        ]
    );
    // Plugins are heard one by one at PreFilter, PreScore and Score (one per plugin per cycle).
    let plugins = rec.plugins.lock().unwrap().clone();
    for (point, plugin) in [
        (PreFilter, "NodeResourcesFit"),
        (PreScore, "TaintToleration"),
        (Score, "NodeResourcesBalancedAllocation"),
    ] {
        assert_eq!(
            plugins
                .iter()
                .filter(|(p, n, _)| *p == point && *n == plugin)
                .count(),
            1,
            "{plugin} at {point:?}: {plugins:?}"
        );
    }
    assert!(
        plugins.iter().all(|(p, _, _)| *p != Filter),
        "filters are not timed one by one"
    );
}

#[test]
fn a_single_feasible_node_is_filtered_but_not_scored_and_explain_is_not_observed() {
    let (mut h, rec) = harness(1);
    assert!(h.place(pod("p", "1", "1Gi")).is_ok());
    assert_eq!(
        rec.take(),
        vec![
            (PreFilter, "Success"),
            (Filter, "Success"),
            (Reserve, "Success")
        ]
    );
    let _ = h.explain(pod("q", "1", "1Gi"));
    assert_eq!(rec.take(), vec![], "explain is not a scheduling cycle");
}

#[test]
fn an_unschedulable_pod_is_a_successful_filter_run_then_an_unschedulable_post_filter() {
    // upstream: only an Error fails Filter; preemption finding nothing is PostFilter's
    // Unschedulable.
    let (mut h, rec) = harness(2);
    assert!(h.place(pod("big", "64", "1Gi")).is_err());
    assert_eq!(
        rec.take(),
        vec![
            (PreFilter, "Success"),
            (Filter, "Success"),
            (PostFilter, "Unschedulable")
        ]
    );
}

/// A filter failing with an internal error on every node.
struct Broken;
impl Plugin for Broken {
    fn name(&self) -> &'static str {
        "Broken"
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}
impl FilterPlugin for Broken {
    fn filter(
        &self,
        _: &CycleState,
        _: &PodInfo,
        _: &NodeState,
        _: ClusterView<'_>,
    ) -> FilterResult {
        Err(Rejection::error("broken"))
    }
}

#[test]
fn a_filter_error_is_the_filter_status() {
    let (h, _) = harness(2);
    let mut state = h.state;
    let mut profile = Profile::empty("default-scheduler");
    profile.filter = vec![Arc::new(Broken)];
    let mut scheduler = Scheduler::new(vec![profile], state.interner(), None, 0);
    let rec = Arc::new(Recorder::default());
    scheduler.set_observer(rec.clone());
    let p = state
        .convert_pod(&serde_json::from_value(pod("p", "1", "1Gi")).unwrap())
        .unwrap();
    assert!(scheduler.schedule(&p, &state).is_err());
    assert_eq!(rec.take(), vec![(PreFilter, "Success"), (Filter, "Error")]);
}
