//! Bounded memory under pod churn: the symbols only pods use are freed once no live pod holds
//! them, and their ids are reused; symbols of nodes, of pods still alive and of anything
//! interned outside a pod's conversion stay.

use k8s_openapi::api::core::v1::{Node, Pod};
use sched_core::ClusterState;
use serde_json::{Value, json};

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn state_with_node() -> ClusterState {
    let mut s = ClusterState::new();
    let info = s
        .convert_node(&obj::<Node>(json!({
            "metadata": {"name": "n1", "labels": {"zone": "a", "kubernetes.io/hostname": "n1"}},
            "status": {"allocatable": {"cpu": "64", "memory": "64Gi", "pods": "110"}}
        })))
        .unwrap();
    s.upsert_node(info);
    s
}

fn pod(name: &str, hash: &str, node: Option<&str>) -> Pod {
    let mut spec = json!({"containers": [{"name": "c", "image": format!("registry/app:{hash}"),
        "resources": {"requests": {"cpu": "10m"}}}],
        "nodeSelector": {"zone": "a"}});
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    obj(json!({
        "metadata": {"name": name, "namespace": "default",
            "labels": {"app": "web", "pod-template-hash": hash}},
        "spec": spec
    }))
}

#[test]
fn pod_only_symbols_are_freed_when_the_last_pod_holding_them_goes_and_ids_are_reused() {
    let mut s = state_with_node();
    // Warm-up: one pod, so the shared strings (app, web, pod-template-hash key) exist.
    let first = s.convert_pod(&pod("p0", "h0", Some("n1"))).unwrap();
    s.add_pod(first).unwrap();
    s.remove_pod("default/p0").unwrap();
    s.interner_mut().collect();
    let (live, ids) = (s.interner().live(), s.interner().len());
    for i in 1..=2_000 {
        let p = s
            .convert_pod(&pod(&format!("p{i}"), &format!("hash-{i}"), Some("n1")))
            .unwrap();
        s.add_pod(p).unwrap();
        s.remove_pod(&format!("default/p{i}")).unwrap();
    }
    s.interner_mut().collect();
    assert_eq!(s.interner().live(), live, "no string of a gone pod stays");
    assert!(
        s.interner().len() <= ids + 4,
        "ids are reused: {} handed out for 2,000 pods, {ids} at warm-up",
        s.interner().len()
    );
    assert!(s.interner().get("hash-1999").is_none());
    s.check_consistency().expect("consistent");
}

#[test]
fn a_symbol_stays_while_any_copy_of_any_pod_holding_it_lives() {
    let mut s = state_with_node();
    let a = s.convert_pod(&pod("a", "shared", Some("n1"))).unwrap();
    let b = s.convert_pod(&pod("b", "shared", None)).unwrap();
    let hash = s.interner().get("shared").expect("interned");
    s.add_pod(a).unwrap();
    s.remove_pod("default/a").unwrap();
    s.interner_mut().collect();
    assert_eq!(s.interner().get("shared"), Some(hash), "b still holds it");
    // A copy (as the nominator keeps) holds it as long as the original.
    let copy = b.clone();
    drop(b);
    s.interner_mut().collect();
    assert_eq!(s.interner().resolve(hash), "shared");
    // A pod converted now reuses the same symbol: selectors and labels still compare equal.
    let c = s.convert_pod(&pod("c", "shared", None)).unwrap();
    let key = s.interner().get("pod-template-hash").unwrap();
    assert_eq!(c.labels.get(key), Some(hash));
    drop((copy, c));
    s.interner_mut().collect();
    assert_eq!(
        s.interner().get("shared"),
        None,
        "freed with the last holder"
    );
    // The node's label values and key are pinned, though pods used them too.
    assert!(s.interner().get("zone").is_some() && s.interner().get("a").is_some());
}

#[test]
fn a_string_interned_outside_a_pod_is_pinned_even_if_a_pod_brought_it_first() {
    let mut s = state_with_node();
    let p = s.convert_pod(&pod("p", "tenant-x", None)).unwrap();
    // Later a node is labelled with the same value: from now on it must outlive the pod.
    let info = s
        .convert_node(&obj::<Node>(json!({
            "metadata": {"name": "n2", "labels": {"pool": "tenant-x"}},
            "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}
        })))
        .unwrap();
    s.upsert_node(info);
    drop(p);
    s.interner_mut().collect();
    let sym = s.interner().get("tenant-x").expect("pinned by the node");
    // A failed conversion leaves nothing behind either.
    let bad: Pod = obj(
        json!({"metadata": {"name": "bad", "labels": {"only-here": "v"}},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "lots"}}}]}}),
    );
    assert!(s.convert_pod(&bad).is_err());
    s.interner_mut().collect();
    assert_eq!(s.interner().get("only-here"), None);
    assert_eq!(s.interner().resolve(sym), "tenant-x");
}
