//! ClusterState: random operation sequences keep the per-node aggregates equal to a
//! recomputation from the pods.

use k8s_openapi::api::core::v1::{Node, Pod};
use proptest::prelude::*;
use sched_core::state::{ClusterState, StateError};
use serde_json::json;

#[derive(Clone, Debug)]
enum Op {
    AddNode(u8),
    RemoveNode(u8),
    AddPod {
        pod: u8,
        node: u8,
        cpu: u16,
        gpu: u8,
        port: Option<u16>,
    },
    RemovePod(u8),
    Assume {
        pod: u8,
        node: u8,
        cpu: u16,
    },
    Forget(u8),
    Confirm(u8),
    Relabel(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6).prop_map(Op::AddNode),
        (0u8..6).prop_map(Op::RemoveNode),
        (
            0u8..20,
            0u8..6,
            0u16..4000,
            0u8..3,
            proptest::option::of(8000u16..8003)
        )
            .prop_map(|(pod, node, cpu, gpu, port)| Op::AddPod {
                pod,
                node,
                cpu,
                gpu,
                port
            }),
        (0u8..20).prop_map(Op::RemovePod),
        (0u8..20, 0u8..6, 0u16..4000).prop_map(|(pod, node, cpu)| Op::Assume { pod, node, cpu }),
        (0u8..20).prop_map(Op::Forget),
        (0u8..20).prop_map(Op::Confirm),
        (0u8..6, 0u8..4).prop_map(|(n, z)| Op::Relabel(n, z)),
    ]
}

fn node(i: u8) -> Node {
    relabeled(i, i % 3)
}

fn relabeled(i: u8, zone: u8) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": format!("n{i}"), "labels": {
            "zone": format!("z{zone}"), "kubernetes.io/hostname": format!("n{i}")}},
        "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110", "nvidia.com/gpu": "4"}}
    }))
    .unwrap()
}

fn pod(i: u8, node: Option<u8>, cpu: u16, gpu: u8, port: Option<u16>) -> Pod {
    let mut requests = serde_json::Map::new();
    requests.insert("cpu".into(), json!(format!("{cpu}m")));
    if gpu > 0 {
        requests.insert("nvidia.com/gpu".into(), json!(gpu.to_string()));
    }
    let ports = port.map_or(json!([]), |p| json!([{"containerPort": 80, "hostPort": p}]));
    let app = format!("a{}", i % 4);
    let term = json!({"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": app}}});
    let loose = json!({"topologyKey": "kubernetes.io/hostname", "namespaceSelector": {},
        "labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}});
    let affinity = match i % 5 {
        0 => json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}),
        1 => json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "podAffinityTerm": term}]}}),
        2 => json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 3, "podAffinityTerm": loose}], "requiredDuringSchedulingIgnoredDuringExecution": [term]}}),
        _ => json!({}),
    };
    serde_json::from_value(json!({
        "metadata": {"name": format!("p{i}"), "namespace": ns(i), "labels": {"app": app, "n": (i % 2).to_string()}},
        "spec": {
            "nodeName": node.map(|n| format!("n{n}")),
            "affinity": affinity,
            "containers": [{"name": "c", "resources": {"requests": requests}, "ports": ports}]
        }
    }))
    .unwrap()
}

fn ns(i: u8) -> &'static str {
    if i.is_multiple_of(3) {
        "other"
    } else {
        "default"
    }
}

fn key(i: u8) -> String {
    format!("{}/p{i}", ns(i))
}

fn apply(state: &mut ClusterState, op: &Op) {
    // Errors (duplicates, missing objects) are legal outcomes; the invariant must hold regardless.
    let _: Result<(), StateError> = (|| {
        match *op {
            Op::AddNode(i) => {
                let info = state.convert_node(&node(i))?;
                state.upsert_node(info);
            }
            Op::RemoveNode(i) => {
                state.remove_node(&format!("n{i}"))?;
            }
            Op::AddPod {
                pod: p,
                node: n,
                cpu,
                gpu,
                port,
            } => {
                let info = state.convert_pod(&pod(p, Some(n), cpu, gpu, port))?;
                state.add_pod(info)?;
            }
            Op::RemovePod(p) => {
                state.remove_pod(&key(p))?;
            }
            Op::Assume {
                pod: p,
                node: n,
                cpu,
            } => {
                let id = state
                    .node_id(&format!("n{n}"))
                    .ok_or_else(|| StateError::NodeNotFound(format!("n{n}")))?;
                let info = state.convert_pod(&pod(p, None, cpu, 0, None))?;
                state.assume(info, id)?;
            }
            Op::Forget(p) => {
                state.forget(&key(p))?;
            }
            Op::Confirm(p) => {
                state.confirm(&key(p))?;
            }
            Op::Relabel(n, z) => {
                if state.node_id(&format!("n{n}")).is_some() {
                    let info = state.convert_node(&relabeled(n, z))?;
                    state.upsert_node(info);
                }
            }
        }
        Ok(())
    })();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn aggregates_always_match_a_recomputation(ops in proptest::collection::vec(op(), 1..80)) {
        let mut state = ClusterState::new();
        for op in &ops {
            apply(&mut state, op);
            prop_assert_eq!(state.check_consistency(), Ok(()), "after {:?}", op);
        }
        // The indexes answer as a scan of every pod would.
        let probes: Vec<_> = (0..20u8).map(|i| state.convert_pod(&pod(i, None, 0, 0, None)).unwrap()).collect();
        for probe in &probes {
            for term in &probe.pod_affinity.required_affinity {
                let sel = term.selector.as_ref().unwrap();
                let mut via_index: Vec<String> = Vec::new();
                state.for_each_pod_matching(sel, Some(&term.namespaces), |p, _| via_index.push(p.key.to_string()));
                let mut scan: Vec<String> = state.pods()
                    .filter(|e| term.namespaces.contains(&e.info.namespace_sym) && sel.matches(&e.info.labels, state.interner()))
                    .map(|e| e.info.key.to_string()).collect();
                via_index.sort();
                scan.sort();
                prop_assert_eq!(via_index, scan);
            }
            let mut via_index: std::collections::BTreeMap<String, u32> = Default::default();
            state.for_each_existing_term_matching(probe, |g| {
                for (node, c) in &g.nodes {
                    *via_index.entry(format!("{:?}{}{:?}", g.kind, g.weight, node)).or_default() += *c;
                }
            });
            let mut scan: std::collections::BTreeMap<String, u32> = Default::default();
            for e in state.pods() {
                let a = &e.info.pod_affinity;
                let all = a.required_affinity.iter().map(|t| ("RequiredAffinity", 0, t))
                    .chain(a.required_anti_affinity.iter().map(|t| ("RequiredAntiAffinity", 0, t)))
                    .chain(a.preferred_affinity.iter().map(|w| ("PreferredAffinity", w.weight, &w.term)))
                    .chain(a.preferred_anti_affinity.iter().map(|w| ("PreferredAntiAffinity", w.weight, &w.term)));
                for (kind, w, t) in all {
                    if t.matches(probe, state.namespace_labels(probe.namespace_sym), state.interner()) {
                        *scan.entry(format!("{kind}{w}{:?}", e.node)).or_default() += 1;
                    }
                }
            }
            prop_assert_eq!(via_index, scan);
        }
        // Removing every pod returns every node to zero.
        let keys: Vec<String> = state.pods().map(|e| e.info.key.to_string()).collect();
        for k in keys {
            state.remove_pod(&k).unwrap();
        }
        for &id in state.node_ids() {
            let n = state.node(id);
            prop_assert_eq!(n.pod_count, 0);
            prop_assert_eq!(n.requested.milli_cpu, 0);
            prop_assert!(n.requested.scalar.is_empty());
            prop_assert!(n.used_ports.is_empty());
            prop_assert_eq!(n.non_zero_milli_cpu, 0);
        }
    }
}

#[test]
fn forget_only_undoes_assumptions() {
    let mut state = ClusterState::new();
    let n = state.convert_node(&node(0)).unwrap();
    let id = state.add_node(n).unwrap();
    let bound = state.convert_pod(&pod(1, Some(0), 100, 0, None)).unwrap();
    state.add_pod(bound).unwrap();
    assert_eq!(
        state.forget("default/p1").unwrap_err(),
        StateError::NotAssumed("default/p1".into())
    );
    let p = state.convert_pod(&pod(2, None, 300, 0, None)).unwrap();
    state.assume(p, id).unwrap();
    assert_eq!(state.node(id).requested.milli_cpu, 400);
    state.forget("default/p2").unwrap();
    assert_eq!(state.node(id).requested.milli_cpu, 100);
    state.check_consistency().unwrap();
}

#[test]
fn pods_on_a_missing_node_count_when_it_arrives() {
    // upstream cache: a NodeInfo exists for pods whose node has not been seen yet.
    let mut state = ClusterState::new();
    let p = state.convert_pod(&pod(1, Some(3), 700, 0, None)).unwrap();
    state.add_pod(p).unwrap();
    assert_eq!(state.num_nodes(), 0);
    let n = state.convert_node(&node(3)).unwrap();
    let id = state.add_node(n).unwrap();
    assert_eq!(state.node(id).requested.milli_cpu, 700);
    state.check_consistency().unwrap();
}
