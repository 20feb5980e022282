//! `explain` names exactly the node `schedule` picks, also on clusters large enough that the
//! real cycle stops at `numFeasibleNodesToFind` and starts where the previous cycle stopped.

use placer_tests::{Harness, node, pod};
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn explain_selects_what_schedule_selects(
        cpus in proptest::collection::vec(1u8..16, 101..400),
        warmup in 0usize..5,
        seed in 0u64..1000,
        want in 1u8..8,
    ) {
        let nodes: Vec<_> = cpus
            .iter()
            .enumerate()
            .map(|(i, c)| node(&format!("n{i:03}"), &c.to_string(), "64Gi", json!({}), json!([])))
            .collect();
        let mut h = Harness::new(&nodes, &[], None, seed);
        // Earlier cycles move the start index, as in a running scheduler.
        for i in 0..warmup {
            let p = h.pod(pod(&format!("w{i}"), "1", "1Gi"));
            let _ = h.scheduler.schedule(&p, &h.state);
        }
        let p = h.pod(pod("probe", &want.to_string(), "1Gi"));
        let eval = h.scheduler.explain(&p, &h.state);
        let explained = eval.result.as_ref().ok().map(|pl| pl.node);
        let scheduled = h.scheduler.schedule(&p, &h.state).ok().map(|pl| pl.node);
        prop_assert_eq!(explained, scheduled);
        // Every node has an outcome; the evaluated ones are a subset, and the scored ones
        // were all evaluated.
        prop_assert_eq!(eval.nodes.len(), nodes.len());
        prop_assert!(eval.scores.nodes.iter().all(|n| eval.evaluated.contains(n)));
        if nodes.len() >= 100 && eval.result.is_ok() {
            prop_assert!(eval.evaluated.len() <= nodes.len());
        }
    }
}

#[test]
fn explain_marks_nodes_the_cycle_did_not_evaluate() {
    // 500 identical nodes: upstream filters numFeasibleNodesToFind = max(500 * 46 / 100, 100)
    // = 230 of them and scores those; the rest are reported feasible but not evaluated.
    let nodes: Vec<_> = (0..500)
        .map(|i| node(&format!("n{i:03}"), "4", "8Gi", json!({}), json!([])))
        .collect();
    let mut h = Harness::new(&nodes, &[], None, 3);
    let eval = h.explain(pod("p", "1", "1Gi"));
    assert_eq!(eval.evaluated.len(), 230);
    assert_eq!(eval.scores.nodes.len(), 230);
    let picked = eval.result.as_ref().unwrap().node;
    assert!(eval.evaluated.contains(&picked));
}
