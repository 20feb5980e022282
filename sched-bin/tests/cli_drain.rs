//! `placer simulate --drain` through the binary: a PodDisruptionBudget that refuses an
//! eviction until the first evicted pod's replacement is placed, and `--drain-timeout`.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

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

/// n1 runs web-1 and web-2, n2 runs web-3 (ReplicaSet pods, 1 cpu each), a DaemonSet pod on
/// n1; `web-pdb` allows `rule`.
fn cluster_file(name: &str, rule: &str) -> String {
    let pod = |name: &str, node: &str, owner: &str| {
        format!(
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {name}\n    namespace: shop\n    \
             labels: {{app: web}}\n    ownerReferences: [{{apiVersion: apps/v1, kind: {owner}, \
             name: o, uid: o-uid, controller: true}}]\n  spec:\n    nodeName: {node}\n    \
             containers: [{{name: c, resources: {{requests: {{cpu: \"1\"}}}}}}]\n"
        )
    };
    let node = |name: &str| {
        format!(
            "- apiVersion: v1\n  kind: Node\n  metadata: {{name: {name}}}\n  status:\n    \
             allocatable: {{cpu: \"8\", memory: 16Gi, pods: \"110\"}}\n"
        )
    };
    let text = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}{}{}{}{}{}- apiVersion: policy/v1\n  \
         kind: PodDisruptionBudget\n  metadata: {{name: web-pdb, namespace: shop}}\n  \
         spec: {{{rule}, selector: {{matchLabels: {{app: web}}}}}}\n",
        node("n1"),
        node("n2"),
        pod("web-1", "n1", "ReplicaSet"),
        pod("web-2", "n1", "ReplicaSet"),
        pod("web-3", "n2", "ReplicaSet"),
        pod("agent-n1", "n1", "DaemonSet").replace("labels: {app: web}", "labels: {app: agent}"),
    );
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn simulate_drain_json_retries_an_eviction_a_pdb_refuses() {
    // maxUnavailable 1: web-1 evicted at 0s, web-2 refused once, evicted at 5s after web-1's
    // replacement is placed on n2; the DaemonSet pod stays on n1.
    let file = cluster_file("cli-drain-pdb.yaml", "maxUnavailable: 1");
    let (code, out, err) = placer(&[
        "simulate",
        "--cluster",
        &file,
        "--drain",
        "n1",
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let d = &v["drain"];
    assert_eq!(d["ok"], true, "{d}");
    assert_eq!(d["complete"], true, "{d}");
    assert_eq!(d["duration"], "5s", "{d}");
    let pods: Vec<(String, String, u64, String)> = d["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["pod"].as_str().unwrap().to_owned(),
                p["evicted_at"].as_str().unwrap().to_owned(),
                p["refusals"].as_u64().unwrap(),
                p["node"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pods,
        [
            ("shop/web-1".into(), "0s".into(), 0, "n2".into()),
            ("shop/web-2".into(), "5s".into(), 1, "n2".into())
        ]
    );
    assert_eq!(d["left"][0]["pod"], "shop/agent-n1", "{d}");
    assert_eq!(d["blocked"].as_array().unwrap().len(), 0, "{d}");
}

#[test]
fn simulate_drain_timeout_names_the_pod_a_pdb_blocks() {
    // minAvailable 3 of 3: nothing may go; --drain-timeout 30s gives up and says why.
    let file = cluster_file("cli-drain-blocked.yaml", "minAvailable: 3");
    let (code, out, err) = placer(&[
        "simulate",
        "--cluster",
        &file,
        "--drain",
        "n1",
        "--drain-timeout",
        "30s",
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let d = &v["drain"];
    assert_eq!(d["ok"], false, "{d}");
    assert_eq!(d["complete"], false, "{d}");
    assert_eq!(d["evicted"], 0, "{d}");
    assert_eq!(d["duration"], "30s", "{d}");
    let blocked: Vec<(&str, &str)> = d["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["pod"].as_str().unwrap(), b["reason"].as_str().unwrap()))
        .collect();
    let why = "timed out after 30s: Cannot evict pod as it would violate the pod's disruption \
               budget. The disruption budget web-pdb needs 3 healthy pods and has 3 currently";
    assert_eq!(blocked, [("shop/web-1", why), ("shop/web-2", why)]);
}
