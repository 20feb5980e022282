//! DefaultPreemption with PodDisruptionBudgets (upstream `filterPodsWithPDBViolation` and
//! `pickOneNodeForPreemption`), end to end through the scheduling cycle.

use placer_tests::{Harness, node, pod, running};
use serde_json::json;

fn budget(h: &mut Harness, app: &str, allowed: i32) {
    let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget = serde_json::from_value(json!({
        "metadata": {"name": app, "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": app}}},
        "status": {"disruptionsAllowed": allowed, "currentHealthy": 1, "desiredHealthy": 1,
                   "expectedPods": 1}
    }))
    .unwrap();
    h.state.apply_disruption_budget(&pdb).unwrap();
}

fn labelled(name: &str, node: &str, app: &str, priority: i32) -> serde_json::Value {
    let mut p = running(name, node, "1", "1Gi", priority);
    p["metadata"]["labels"] = json!({"app": app});
    p
}

fn nominate(h: &mut Harness) -> (String, Vec<String>) {
    let mut p = pod("urgent", "1", "1Gi");
    p["spec"]["priority"] = json!(1000);
    let p = h.pod(p);
    let err = h.scheduler.schedule(&p, &h.state).unwrap_err();
    let (node, victims) = err
        .fit_error()
        .unwrap()
        .diagnosis
        .nomination
        .clone()
        .expect("a nomination");
    (
        h.state.node(node).info.name.to_string(),
        victims.iter().map(|v| v.to_string()).collect(),
    )
}

#[test]
fn preemption_reprieves_pdb_violating_victims_first() {
    // upstream SelectVictimsOnNode: violating victims are reprieved before the others. a (2 cpu)
    // runs "low" (priority 1, budget exhausted) and "high" (priority 2, no budget); one victim
    // frees enough. Without the budget "high" is reprieved first and "low" evicted; with it,
    // "low" (violating) is reprieved first and "high" is the victim.
    let nodes = vec![node("a", "2", "4Gi", json!({}), json!([]))];
    let pods = vec![
        labelled("low", "a", "guarded", 1),
        labelled("high", "a", "free", 2),
    ];
    let mut h = Harness::new(&nodes, &pods, None, 1);
    assert_eq!(nominate(&mut h).1, ["default/low"]);
    budget(&mut h, "guarded", 0);
    assert_eq!(nominate(&mut h).1, ["default/high"]);
}

#[test]
fn preemption_picks_the_node_with_fewest_pdb_violations() {
    // upstream pickOneNodeForPreemption's first rule: fewest NumPDBViolations, before the
    // victims' priorities. a's victim has priority 0 (otherwise the best) but its budget
    // allows no disruption; b's victim has priority 5 and no budget: b wins.
    let nodes = vec![
        node("a", "1", "4Gi", json!({}), json!([])),
        node("b", "1", "4Gi", json!({}), json!([])),
    ];
    let pods = vec![
        labelled("va", "a", "guarded", 0),
        labelled("vb", "b", "free", 5),
    ];
    let mut h = Harness::new(&nodes, &pods, None, 1);
    assert_eq!(nominate(&mut h).0, "a");
    budget(&mut h, "guarded", 0);
    assert_eq!(
        nominate(&mut h),
        ("b".to_string(), vec!["default/vb".to_string()])
    );
    // A budget that still allows the disruption is no violation: a wins again.
    budget(&mut h, "guarded", 1);
    assert_eq!(nominate(&mut h).0, "a");
}
