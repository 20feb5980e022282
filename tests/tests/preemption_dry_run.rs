//! DefaultPreemption's dry run tries nodes in parallel chunks on large clusters; the outcome
//! (nominated node, victims, or the failure message) must be the sequential walk's, whatever
//! the number of threads.

use placer_tests::{Harness, node, pod, running};
use serde_json::json;

/// 600 nodes of 4 cpu: most full of low-priority pods (preemption helps), every third one
/// holding a pod of the preemptor's priority (it does not), some with a PodDisruptionBudget.
fn cluster(config: Option<&str>) -> Harness {
    let mut nodes = Vec::new();
    let mut pods = Vec::new();
    for i in 0..600 {
        let n = format!("n{i:03}");
        nodes.push(node(&n, "4", "8Gi", json!({}), json!([])));
        if i % 3 == 0 {
            pods.push(running(&format!("peer-{i}"), &n, "3", "1Gi", 100));
            pods.push(running(&format!("low-{i}"), &n, "1", "1Gi", 0));
        } else {
            for k in 0..4 {
                let mut p = running(&format!("low-{i}-{k}"), &n, "1", "1Gi", k);
                if i % 5 == 0 {
                    p["metadata"]["labels"] = json!({"app": "guarded"});
                }
                pods.push(p);
            }
        }
    }
    let mut h = Harness::new(&nodes, &pods, config, 11);
    let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget = serde_json::from_value(json!({
        "metadata": {"name": "guarded", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}},
        "status": {"disruptionsAllowed": 2, "currentHealthy": 1, "desiredHealthy": 1,
                   "expectedPods": 1}
    }))
    .unwrap();
    h.state.apply_disruption_budget(&pdb).unwrap();
    h
}

fn outcome(h: &mut Harness, name: &str, cpu: &str) -> String {
    let mut p = pod(name, cpu, "1Gi");
    p["spec"]["priority"] = json!(100);
    let p = h.pod(p);
    match h.scheduler.schedule(&p, &h.state) {
        Ok(placement) => format!("placed on {}", placement.node_name),
        Err(e) => match e.fit_error().and_then(|f| f.diagnosis.nomination.clone()) {
            Some((node, victims)) => format!(
                "nominated to {} evicting {:?}",
                h.state.node(node).info.name,
                victims
            ),
            None => e.to_string(),
        },
    }
}

/// DefaultPreemption wanting 350 candidates: the walk crosses chunk boundaries and stops inside one.
const MANY_CANDIDATES: &str = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: DefaultPreemption
    args: {minCandidateNodesAbsolute: 350, minCandidateNodesPercentage: 0}
"#;

fn outcomes(threads: usize, config: Option<&str>) -> Vec<String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut h = cluster(config);
        (0..40)
            .map(|i| {
                outcome(
                    &mut h,
                    &format!("urgent-{i}"),
                    if i % 4 == 0 { "5" } else { "3" },
                )
            })
            .collect()
    })
}

#[test]
fn parallel_dry_run_decides_as_the_sequential_walk() {
    for config in [None, Some(MANY_CANDIDATES)] {
        check(config);
    }
}

fn check(config: Option<&str>) {
    let one = outcomes(1, config);
    assert!(one.iter().any(|o| o.starts_with("nominated to")), "{one:?}");
    assert!(
        one.iter().any(|o| o.contains("Insufficient cpu")),
        "a 5-cpu pod fits no 4-cpu node even after preemption: {one:?}"
    );
    assert_eq!(one, outcomes(4, config));
}
