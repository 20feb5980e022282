//! The core's scheduling loop (`sched_core::SchedulingLoop`), the one the daemon and the
//! simulator drive: upstream's rules around one attempt, on a fake clock.

use placer_tests::{Harness, node, pod, running};
use sched_core::framework::{
    ClusterEvents, ClusterView, FilterPlugin, FilterResult, PermitPlugin, Plugin, Rejection,
};
use sched_core::model::PodInfo;
use sched_core::queue::Where;
use sched_core::state::{NodeId, NodeState};
use sched_core::{ClusterState, Decision, Profile, Scheduler, SchedulingLoop};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn at(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn new_loop(s: &Scheduler) -> SchedulingLoop<Duration> {
    SchedulingLoop::new(s, Duration::from_secs(1), Duration::from_secs(10))
}

fn with_priority(mut p: serde_json::Value, priority: i32) -> serde_json::Value {
    p["spec"]["priority"] = json!(priority);
    p
}

/// Every node fits.
struct Open;
impl Plugin for Open {
    fn name(&self) -> &'static str {
        "Open"
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}
impl FilterPlugin for Open {
    fn filter(
        &self,
        _: &sched_core::framework::CycleState,
        _: &PodInfo,
        _: &NodeState,
        _: ClusterView<'_>,
    ) -> FilterResult {
        Ok(())
    }
}

/// Rejects pods named `deny` at Permit; registers node additions.
struct Gate;
impl Plugin for Gate {
    fn name(&self) -> &'static str {
        "Gate"
    }
    fn events_to_register(&self) -> ClusterEvents {
        ClusterEvents::NODE_ADD
    }
    fn as_permit(&self) -> Option<&dyn PermitPlugin> {
        Some(self)
    }
}
impl PermitPlugin for Gate {
    fn permit(&self, pod: &PodInfo, _: NodeId, _: ClusterView<'_>) -> Result<(), Rejection> {
        if &*pod.name == "deny" {
            Err(Rejection::unschedulable("not now"))
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_permit_rejection_forgets_the_pod_and_requeues_it_unschedulable_naming_the_plugin() {
    // upstream schedulingCycle: Permit rejects → Unreserve, ForgetPod, FitError over 1 node.
    let h = Harness::new(&[node("a", "4", "8Gi", json!({}), json!([]))], &[], None, 0);
    let mut state: ClusterState = h.state;
    let mut profile = Profile::empty("default-scheduler");
    profile.filter = vec![Arc::new(Open)];
    let gate: Arc<dyn Plugin> = Arc::new(Gate);
    profile.permit = vec![gate];
    let scheduler = Scheduler::new(vec![profile], state.interner(), None, 0);
    let mut lp = new_loop(&scheduler);
    for name in ["deny", "allow"] {
        let p = state
            .convert_pod(&serde_json::from_value(pod(name, "1", "1Gi")).unwrap())
            .unwrap();
        lp.add(&scheduler, Arc::new(p), true, at(0));
    }
    let Some(Decision::Failed {
        pod,
        error,
        unschedulable,
        nomination,
    }) = lp.schedule_one(&scheduler, &mut state, at(0))
    else {
        panic!("deny is rejected at Permit");
    };
    assert_eq!(&*pod.info.name, "deny");
    assert!(unschedulable && nomination.is_none());
    assert_eq!(error.to_string(), "0/1 nodes are available: 1 not now.");
    assert!(
        state.pod("default/deny").is_none(),
        "the assumption is forgotten"
    );
    let q = lp.queue().get("default/deny").unwrap();
    assert_eq!(q.place, Where::Unschedulable);
    assert_eq!(
        q.events,
        ClusterEvents::NODE_ADD,
        "the Permit plugin's events"
    );
    assert!(matches!(
        lp.schedule_one(&scheduler, &mut state, at(0)),
        Some(Decision::Bind { .. })
    ));
    assert!(state.pod("default/allow").is_some_and(|e| e.assumed));
}

#[test]
fn a_binding_failure_forgets_backs_off_and_moves_pods_waiting_on_a_deletion() {
    // upstream handleBindingCycleError: ForgetPod, backoff (the error queue), and
    // MoveAllToActiveOrBackoffQueue(AssignedPodDelete).
    let mut h = Harness::new(&[node("a", "4", "8Gi", json!({}), json!([]))], &[], None, 0);
    let mut lp = new_loop(&h.scheduler);
    for (name, secs) in [("first", 1), ("second", 2)] {
        let mut v = pod(name, "3", "1Gi");
        v["metadata"]["creationTimestamp"] = json!(format!("2024-01-01T00:00:0{secs}Z"));
        let p = h.pod(v);
        lp.add(&h.scheduler, Arc::new(p), true, at(0));
    }
    let Some(Decision::Bind { pod, .. }) = lp.schedule_one(&h.scheduler, &mut h.state, at(0))
    else {
        panic!("first fits");
    };
    assert_eq!(&*pod.info.name, "first");
    assert!(matches!(
        lp.schedule_one(&h.scheduler, &mut h.state, at(0)),
        Some(Decision::Failed {
            unschedulable: true,
            ..
        })
    ));
    assert_eq!(
        lp.queue().get("default/second").unwrap().place,
        Where::Unschedulable
    );
    assert!(lp.binding_failed(&mut h.state, "default/first", at(100)));
    assert!(h.state.pod("default/first").is_none());
    let first = lp.queue().get("default/first").unwrap();
    assert_eq!((first.place, first.error), (Where::Backoff, true));
    assert_ne!(
        lp.queue().get("default/second").unwrap().place,
        Where::Unschedulable,
        "the forgotten pod's room moved the pod NodeResourcesFit rejected"
    );
    // The next pod popped is the one that failed to fit, not the one whose binding errored
    // (an error backoff is waited out).
    let Some(Decision::Bind { pod, .. }) = lp.schedule_one(&h.scheduler, &mut h.state, at(100))
    else {
        panic!("second fits now");
    };
    assert_eq!(&*pod.info.name, "second");
    assert!(
        lp.schedule_one(&h.scheduler, &mut h.state, at(100))
            .is_none()
    );
}

#[test]
fn a_nominated_preemptor_holds_its_node_against_lower_priority_pods_then_takes_it() {
    // upstream: after PostFilter the preemptor is nominated (the nominator counts it on the
    // node for pods of lower or equal priority) and requeued; the victim's deletion moves it;
    // its next attempt tries the nominated node first.
    let mut h = Harness::new(
        &[node("a", "2", "8Gi", json!({}), json!([]))],
        &[running("low", "a", "2", "1Gi", 0)],
        None,
        0,
    );
    let mut lp = new_loop(&h.scheduler);
    let high = h.pod(with_priority(pod("high", "2", "1Gi"), 100));
    lp.add(&h.scheduler, Arc::new(high), true, at(0));
    let Some(Decision::Failed {
        nomination: Some(n),
        ..
    }) = lp.schedule_one(&h.scheduler, &mut h.state, at(0))
    else {
        panic!("high preempts");
    };
    assert_eq!((&*n.node_name, n.victims.len()), ("a", 1));
    assert_eq!(&*n.victims[0], "default/low");
    let q = lp.queue().get("default/high").unwrap();
    assert_eq!(q.place, Where::Unschedulable);
    assert_eq!(q.info.nominated_node_name.as_deref(), Some("a"));
    // The driver deletes the victim; the deletion is an event.
    h.state.remove_pod("default/low").unwrap();
    lp.on_event(ClusterEvents::ASSIGNED_POD_DELETE, at(10));
    // A lower-priority pod arriving now is active and goes first, but sees the nomination.
    let mid = h.pod(with_priority(pod("mid", "2", "1Gi"), 50));
    lp.add(&h.scheduler, Arc::new(mid), true, at(10));
    let Some(Decision::Failed { pod, .. }) = lp.schedule_one(&h.scheduler, &mut h.state, at(10))
    else {
        panic!("mid must not take the nominated room");
    };
    assert_eq!(&*pod.info.name, "mid");
    let Some(Decision::Bind { pod, placement }) =
        lp.schedule_one(&h.scheduler, &mut h.state, at(10))
    else {
        panic!("high takes its node (popped from backoff: nothing else is active)");
    };
    assert_eq!((&*pod.info.name, &*placement.node_name), ("high", "a"));
    assert_eq!(placement.evaluated_nodes, 1, "the nominated node first");
    lp.bound(&mut h.state, "default/high", None);
    assert!(lp.queue().get("default/high").is_none());
    assert!(!h.state.has_nominations(), "the nomination is spent");
}

#[test]
fn queueing_hints_a_node_too_small_for_the_pod_leaves_it_unschedulable_a_big_one_moves_it() {
    // upstream NodeResourcesFit isSchedulableAfterNodeChange through the default profile's
    // loop: the pod was rejected for cpu only, so only a node it could fit moves it.
    let mut h = Harness::new(&[node("a", "2", "8Gi", json!({}), json!([]))], &[], None, 0);
    let mut lp = new_loop(&h.scheduler);
    let p = h.pod(pod("big", "4", "1Gi"));
    lp.add(&h.scheduler, Arc::new(p), true, at(0));
    assert!(matches!(
        lp.schedule_one(&h.scheduler, &mut h.state, at(0)),
        Some(Decision::Failed {
            unschedulable: true,
            ..
        })
    ));
    let mut add = |h: &mut Harness, name: &str, cpu: &str| {
        let n: k8s_openapi::api::core::v1::Node =
            serde_json::from_value(node(name, cpu, "8Gi", json!({}), json!([]))).unwrap();
        let info = h.state.convert_node(&n).unwrap();
        let id = h.state.add_node(info).unwrap();
        let change = sched_core::framework::ClusterChange::NodeAdded(h.state.node(id).info.clone());
        lp.on_change(&change, &h.state, at(5000))
    };
    assert_eq!(add(&mut h, "small", "3"), (0, 0), "3 cpus cannot hold 4");
    assert_eq!(add(&mut h, "large", "8"), (1, 0));
    let Some(Decision::Bind { placement, .. }) =
        lp.schedule_one(&h.scheduler, &mut h.state, at(5000))
    else {
        panic!("the large node fits");
    };
    assert_eq!(&*placement.node_name, "large");
}
