//! upstream `findNodesThatFitPod`: a pod with `status.nominatedNodeName` (set by an earlier
//! preemption) tries that node first and takes it when it passes every filter, without the
//! scan or scoring; otherwise the cycle runs as if it were not nominated.

use placer_tests::{Harness, node, pod, running};
use serde_json::json;

/// Node "a" is half used, "b" and "c" are empty: the default profile's scores pick "b" or "c"
/// (LeastAllocated, BalancedAllocation), never "a".
fn cluster() -> Harness {
    let nodes = vec![
        node("a", "4", "8Gi", json!({}), json!([])),
        node("b", "4", "8Gi", json!({}), json!([])),
        node("c", "4", "8Gi", json!({}), json!([])),
    ];
    let pods = vec![running("busy", "a", "2", "4Gi", 0)];
    Harness::new(&nodes, &pods, None, 7)
}

fn nominated(to: &str, cpu: &str) -> serde_json::Value {
    let mut p = pod("urgent", cpu, "1Gi");
    p["status"] = json!({"nominatedNodeName": to});
    p
}

#[test]
fn nominated_node_is_tried_first_and_taken_when_it_fits() {
    let mut h = cluster();
    let free = h.place(pod("urgent", "1", "1Gi")).unwrap();
    assert_ne!(free, "a", "scoring alone prefers an empty node");
    let p = h.pod(nominated("a", "1"));
    let placement = h.scheduler.schedule(&p, &h.state).unwrap();
    assert_eq!(&*placement.node_name, "a");
    assert_eq!(
        placement.evaluated_nodes, 1,
        "only the nominated node is filtered"
    );
    assert_eq!(placement.feasible_nodes, 1);
    // explain names the node schedule picks.
    let eval = h.explain(nominated("a", "1"));
    let chosen = eval.result.as_ref().unwrap();
    assert_eq!(&*chosen.node_name, "a");
    assert_eq!(eval.evaluated.len(), 1);
}

#[test]
fn nominated_node_that_no_longer_fits_falls_back_to_the_scan() {
    let mut h = cluster();
    // 3 cpu do not fit on "a" (2 of 4 used): the other nodes are scanned and scored as usual.
    let p = h.pod(nominated("a", "3"));
    let placement = h.scheduler.schedule(&p, &h.state).unwrap();
    assert_ne!(&*placement.node_name, "a");
    assert_eq!(placement.evaluated_nodes, 3);
}

#[test]
fn nominated_node_missing_from_the_cluster_falls_back_to_the_scan() {
    let mut h = cluster();
    let p = h.pod(nominated("gone", "1"));
    let placement = h.scheduler.schedule(&p, &h.state).unwrap();
    assert_eq!(placement.evaluated_nodes, 3);
    assert_ne!(&*placement.node_name, "a");
}

#[test]
fn a_nominated_pod_that_fits_nowhere_reports_every_node() {
    let mut h = cluster();
    let err = h.place(nominated("a", "5")).unwrap_err();
    assert!(
        err.starts_with("0/3 nodes are available: 3 Insufficient cpu."),
        "{err}"
    );
}
