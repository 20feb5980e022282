//! The per-node pod counts and label columns PodTopologySpread and InterPodAffinity read:
//! each answer equals a walk over the pods or the nodes' labels.

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as LabelSelectorApi;
use sched_core::ClusterState;
use sched_core::convert::compile_label_selector;
use sched_core::model::LabelSelector;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn add_node(s: &mut ClusterState, name: &str, zone: Option<&str>) {
    let mut labels = json!({"kubernetes.io/hostname": name});
    if let Some(z) = zone {
        labels["topology.kubernetes.io/zone"] = json!(z);
    }
    let info = s
        .convert_node(&obj::<Node>(
            json!({"metadata": {"name": name, "labels": labels},
            "status": {"allocatable": {"cpu": "8", "memory": "8Gi", "pods": "110"}}}),
        ))
        .unwrap();
    s.upsert_node(info);
}

fn add_pod(s: &mut ClusterState, ns: &str, name: &str, node: &str, app: &str, terminating: bool) {
    let mut meta = json!({"name": name, "namespace": ns, "labels": {"app": app, "pod": name}});
    if terminating {
        meta["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    }
    let info = s
        .convert_pod(&obj::<Pod>(json!({"metadata": meta,
            "spec": {"nodeName": node, "containers": []}})))
        .unwrap();
    s.add_pod(info).unwrap();
}

fn selector(s: &mut ClusterState, v: Value) -> LabelSelector {
    compile_label_selector(&obj::<LabelSelectorApi>(v), s.interner_mut())
}

/// Per node, the pods of `ns` the selector matches, by walking them.
fn walk(
    s: &ClusterState,
    sel: &LabelSelector,
    ns: &str,
    include_terminating: bool,
) -> BTreeMap<u32, u32> {
    let ns = s.interner().get(ns).unwrap();
    let mut out = BTreeMap::new();
    s.for_each_pod_matching(sel, Some(&[ns]), |p, id| {
        if include_terminating || !p.terminating {
            *out.entry(id.0).or_default() += 1;
        }
    });
    out
}

fn cluster() -> ClusterState {
    let mut s = ClusterState::new();
    add_node(&mut s, "a1", Some("a"));
    add_node(&mut s, "a2", Some("a"));
    add_node(&mut s, "b1", Some("b"));
    add_pod(&mut s, "shop", "w1", "a1", "web", false);
    add_pod(&mut s, "shop", "w2", "a1", "web", false);
    add_pod(&mut s, "shop", "w3", "b1", "web", true);
    add_pod(&mut s, "shop", "d1", "a2", "db", false);
    add_pod(&mut s, "other", "w4", "a2", "web", false);
    // Bound to a node the state does not know: counted on its placeholder slot.
    add_pod(&mut s, "shop", "w5", "gone", "web", false);
    s
}

#[test]
fn one_label_counts_per_node_equal_a_walk_over_the_pods() {
    let mut s = cluster();
    let web = selector(&mut s, json!({"matchLabels": {"app": "web"}}));
    let shop = s.interner().get("shop").unwrap();
    for include_terminating in [false, true] {
        let counts = s
            .pod_counts_per_node(&web, shop, include_terminating)
            .unwrap();
        let mut got: BTreeMap<u32, u32> = counts
            .iter()
            .filter(|&(_, n)| n > 0)
            .map(|(id, n)| (id.0, n))
            .collect();
        assert_eq!(got, walk(&s, &web, "shop", include_terminating));
        // a1: w1, w2; b1: w3 only when terminating pods count; the placeholder: w5.
        assert_eq!(got.remove(&0), Some(2));
        assert_eq!(got.remove(&2), include_terminating.then_some(1));
        assert_eq!(got.len(), 1, "{got:?}");
    }
    s.check_consistency().unwrap();
    // After removals the counts follow.
    s.remove_pod("shop/w1").unwrap();
    s.remove_pod("shop/w3").unwrap();
    let counts = s.pod_counts_per_node(&web, shop, true).unwrap();
    assert_eq!(counts.get(sched_core::NodeId(0)), 1);
    assert_eq!(counts.get(sched_core::NodeId(2)), 0);
    s.check_consistency().unwrap();
}

#[test]
fn only_single_label_selectors_are_answered_from_counts() {
    let mut s = cluster();
    let shop = s.interner().get("shop").unwrap();
    for sel in [
        json!({"matchLabels": {"app": "web", "pod": "w1"}}),
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "db"]}]}),
        json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
        json!({}),
    ] {
        let compiled = selector(&mut s, sel.clone());
        assert!(
            s.pod_counts_per_node(&compiled, shop, true).is_none(),
            "{sel}"
        );
    }
    // A selector that failed parsing matches nothing, and is not answered from counts.
    let invalid = selector(&mut s, json!({"matchLabels": {"app": "not a value!"}}));
    assert!(s.pod_counts_per_node(&invalid, shop, true).is_none());
}

#[test]
fn label_columns_follow_node_changes() {
    let mut s = cluster();
    let zone = s.interner().get("topology.kubernetes.io/zone").unwrap();
    let check = |s: &ClusterState| {
        for &id in s.node_ids() {
            assert_eq!(
                s.label_column(zone).get(id),
                s.node(id).info.labels.get(zone),
                "{}",
                s.node(id).info.name
            );
        }
        s.check_consistency().unwrap();
    };
    check(&s);
    // Relabel, drop the label, remove a node: the column says what the nodes say.
    add_node(&mut s, "a2", Some("c"));
    add_node(&mut s, "b1", None);
    check(&s);
    let gone = s.node_id("a1").unwrap();
    s.remove_node("a1").unwrap();
    assert_eq!(s.label_column(zone).get(gone), None);
    check(&s);
}
