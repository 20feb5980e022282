//! `placer explain` end to end: the binary on fixtures in `tests/fixtures/explain`.
//! Expected scores are computed by hand from upstream's formulas (see each comment).

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/explain")
        .join(name)
}

fn placer(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_placer"))
        .args(args)
        .output()
        .expect("placer runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn explain_json(pod: &str, extra: &[&str]) -> Value {
    let cluster = fixture("cluster.yaml");
    let pod = fixture(pod);
    let mut args = vec![
        "explain",
        "--cluster",
        cluster.to_str().unwrap(),
        "--pod",
        pod.to_str().unwrap(),
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = placer(&args);
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_str(&out).expect("JSON output")
}

#[test]
fn explain_json_matches_the_contract_and_upstream_scores() {
    let v = explain_json("web.yaml", &[]);
    // n1: LeastAllocated cpu (4000-3000)*100/4000 = 25, memory (8-6)*100/8 = 25 → 25;
    //     balanced: 0.75 and 0.75 → std 0 → 100; no PreferNoSchedule taints → 100 (reverse).
    // n3: cpu 7000*100/8000 = 87, memory 14*100/16 = 87 → 87; balanced 100; taints 100.
    // totals: 3×100 + 25 + 100 = 425 and 3×100 + 87 + 100 = 487.
    let want = json!({
        "pod": "default/web",
        "profile": "default-scheduler",
        "nodes": [
            {"node": "n1", "feasible": true, "total": 425, "scores": {
                "TaintToleration": 100, "NodeResourcesFit": 25, "NodeResourcesBalancedAllocation": 100,
                "ImageLocality": 0, "DynamicResources": 0}},
            {"node": "n2", "feasible": false, "plugin": "TaintToleration",
             "reasons": ["node(s) had untolerated taint(s)"], "code": "UnschedulableAndUnresolvable"},
            {"node": "n3", "feasible": true, "total": 487, "scores": {
                "TaintToleration": 100, "NodeResourcesFit": 87, "NodeResourcesBalancedAllocation": 100,
                "ImageLocality": 0, "DynamicResources": 0}}
        ],
        "selected": "n3",
        "message": null
    });
    assert_eq!(v, want);
}

#[test]
fn explain_with_most_allocated_config_prefers_the_fuller_node() {
    let config = fixture("most-allocated.yaml");
    let v = explain_json("web.yaml", &["--config", config.to_str().unwrap()]);
    // MostAllocated: n1 cpu 3000*100/4000 = 75, memory 6*100/8 = 75 → 75; n3 12 and 12 → 12.
    assert_eq!(v["nodes"][0]["scores"]["NodeResourcesFit"], 75);
    assert_eq!(v["nodes"][2]["scores"]["NodeResourcesFit"], 12);
    assert_eq!(v["selected"], "n1");
}

#[test]
fn explain_a_pod_that_fits_nowhere() {
    // 9 cpu exceeds every node's allocatable (Unresolvable, so preemption cannot help); n2's
    // taint is checked before resources (filter order), so it reports the taint.
    let v = explain_json("huge.yaml", &[]);
    assert_eq!(v["selected"], Value::Null);
    assert_eq!(
        v["message"],
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
    assert_eq!(v["nodes"][0]["plugin"], "NodeResourcesFit");
    assert_eq!(v["nodes"][0]["reasons"], json!(["Insufficient cpu"]));
    assert_eq!(v["nodes"][1]["plugin"], "TaintToleration");
}

#[test]
fn explain_unknown_scheduler_name_is_an_error() {
    let (code, out, err) = placer(&[
        "explain",
        "--cluster",
        fixture("cluster.yaml").to_str().unwrap(),
        "--pod",
        fixture("other-scheduler.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("no profile schedules schedulerName \"my-scheduler\""),
        "{err}"
    );
}

#[test]
fn explain_bad_quantity_names_file_pod_and_field() {
    let (code, _, err) = placer(&[
        "explain",
        "--cluster",
        fixture("cluster.yaml").to_str().unwrap(),
        "--pod",
        fixture("bad-quantity.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("bad-quantity.yaml"), "{err}");
    assert!(
        err.contains("Pod default/bad: spec.containers[0].resources.requests.cpu"),
        "{err}"
    );
}

#[test]
fn explain_table_names_the_selected_node() {
    let (code, out, _) = placer(&[
        "explain",
        "--cluster",
        fixture("cluster.yaml").to_str().unwrap(),
        "--pod",
        fixture("web.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let n2 = out
        .lines()
        .find(|l| l.starts_with("n2 "))
        .expect("a row for n2");
    assert!(
        n2.ends_with("rejected by TaintToleration: node(s) had untolerated taint(s)"),
        "{out}"
    );
    assert!(out.contains("Selected: n3"), "{out}");
}

fn example(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path)
        .to_str()
        .unwrap()
        .to_owned()
}

fn explain_topology_json(pod: &str) -> Value {
    let (code, out, err) = placer(&[
        "explain",
        "--cluster",
        &example("topology/cluster.yaml"),
        "--pod",
        &example(pod),
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_str(&out).expect("JSON output")
}

fn node<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == name)
        .unwrap_or_else(|| panic!("no row for {name}: {v}"))
}

#[test]
fn explain_deployment_spread_rejects_the_fuller_zone_and_the_node_without_a_zone() {
    // Zones a/b/c run 2/1/1 replicas of web (maxSkew 1, DoNotSchedule, zone key): another one in
    // zone-a makes 3 - 1 = 2 > 1, so both zone-a nodes fail with upstream's Unschedulable reason;
    // edge-1 has no zone label: UnschedulableAndUnresolvable "(missing required label)".
    let v = explain_topology_json("topology/web-pod.yaml");
    for n in ["worker-a1", "worker-a2"] {
        assert_eq!(
            node(&v, n),
            &json!({"node": n, "feasible": false, "plugin": "PodTopologySpread", "code": "Unschedulable",
                    "reasons": ["node(s) didn't match pod topology spread constraints"]})
        );
    }
    assert_eq!(
        node(&v, "edge-1"),
        &json!({"node": "edge-1", "feasible": false, "plugin": "PodTopologySpread",
                "code": "UnschedulableAndUnresolvable",
                "reasons": ["node(s) didn't match pod topology spread constraints (missing required label)"]})
    );
    // Only hard constraints: upstream's PreScore skips PodTopologySpread, so it has no score;
    // no pod carries an affinity term the web pod matches: InterPodAffinity skips too.
    for n in ["worker-b1", "worker-c1"] {
        let row = node(&v, n);
        assert_eq!(row["feasible"], true, "{row}");
        assert!(row["scores"].get("PodTopologySpread").is_none(), "{row}");
        assert!(row["scores"].get("InterPodAffinity").is_none(), "{row}");
    }
    let selected = v["selected"].as_str().unwrap();
    assert!(["worker-b1", "worker-c1"].contains(&selected), "{selected}");
}

#[test]
fn explain_deployment_spread_table_reads_as_upstream_events() {
    let (code, out, err) = placer(&[
        "explain",
        "--cluster",
        &example("topology/cluster.yaml"),
        "--pod",
        &example("topology/web-pod.yaml"),
    ]);
    assert_eq!(code, 0, "{err}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {out}"))
            .to_owned()
    };
    assert!(
        row("worker-a1").ends_with(
            "rejected by PodTopologySpread: node(s) didn't match pod topology spread constraints"
        ),
        "{out}"
    );
    assert!(row("edge-1").ends_with("(missing required label)"), "{out}");
}

#[test]
fn explain_preferred_anti_affinity_scores_the_node_with_the_first_replica_lowest() {
    // CoreDNS's preferred anti-affinity (weight 100, hostname) against the replica on worker-a1,
    // and that replica's own identical term against the incoming pod (upstream scores existing
    // pods' preferred terms too): raw -200 there and 0 elsewhere; upstream's min-max
    // normalization gives 0 and 100.
    // Preferred terms never reject a node.
    let v = explain_topology_json("topology/coredns-pod.yaml");
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5);
    for row in nodes {
        assert_eq!(row["feasible"], true, "{row}");
        let want = if row["node"] == "worker-a1" { 0 } else { 100 };
        assert_eq!(row["scores"]["InterPodAffinity"], want, "{row}");
    }
    assert_ne!(v["selected"], "worker-a1");
    assert!(v["selected"].is_string(), "{v}");
}

#[test]
fn simulate_drain_moves_coredns_and_web_off_the_drained_node() {
    // The drain upstream's users run on a kind-like cluster: CoreDNS's preferred anti-affinity
    // and web's zone spread must not make it impossible while other nodes have room.
    let (code, out, err) = placer(&[
        "simulate",
        "--cluster",
        &example("topology/cluster.yaml"),
        "--drain",
        "worker-a1",
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let drain = &v["drain"];
    assert_eq!(drain["ok"], true, "{drain}");
    assert_eq!(drain["evicted"], 2, "{drain}");
    assert_eq!(drain["rescheduled"], 2, "{drain}");
    for p in drain["pods"].as_array().unwrap() {
        assert_eq!(p["from"], "worker-a1", "{p}");
        assert!(p["node"].is_string() && p["node"] != "worker-a1", "{p}");
    }
    // web keeps zone spread within maxSkew 1 after the move: not onto edge-1 (no zone).
    let web = drain["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pod"] == "shop/web-5d9c-a")
        .unwrap();
    assert_ne!(web["node"], "edge-1", "{web}");
}
