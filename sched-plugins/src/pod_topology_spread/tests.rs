//! Table tests translated from upstream `podtopologyspread/filtering_test.go` and
//! `scoring_test.go` (1.35), plus named tests for the subtle rules.

use super::*;
use crate::testing::TestCluster;
use sched_core::config::ProfileConfig;
use serde_json::{Value, json};

const HOST: &str = LABEL_HOSTNAME;
const ZONE: &str = LABEL_TOPOLOGY_ZONE;

fn exists(key: &str) -> Value {
    json!({"matchExpressions": [{"key": key, "operator": "Exists"}]})
}
fn foo() -> Option<Value> {
    Some(exists("foo"))
}
fn bar() -> Option<Value> {
    Some(exists("bar"))
}

/// A `topologySpreadConstraint`; `sel: None` leaves `labelSelector` unset.
fn tsc(max_skew: i32, key: &str, when: &str, sel: Option<Value>) -> Value {
    let mut c = json!({"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when});
    if let Some(s) = sel {
        c["labelSelector"] = s;
    }
    c
}
fn hard(max_skew: i32, key: &str, sel: Option<Value>) -> Value {
    tsc(max_skew, key, "DoNotSchedule", sel)
}
fn soft(max_skew: i32, key: &str, sel: Option<Value>) -> Value {
    tsc(max_skew, key, "ScheduleAnyway", sel)
}
fn with(mut c: Value, field: &str, v: Value) -> Value {
    c[field] = v;
    c
}

fn node(name: &str, labels: Value) -> Value {
    json!({"metadata": {"name": name, "labels": labels}})
}
/// A node with upstream's test taint (`node.kubernetes.io/unschedulable:NoSchedule`).
fn tainted(name: &str, labels: Value) -> Value {
    let mut n = node(name, labels);
    n["spec"] =
        json!({"taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]});
    n
}
/// zone/node labelled node, as upstream's `Label("zone", z).Label("node", name)`.
fn zn(name: &str, zone: &str) -> Value {
    node(name, json!({"zone": zone, "node": name}))
}
/// A hostname-labelled node.
fn hn(name: &str) -> Value {
    node(name, json!({HOST: name}))
}
fn zhn(name: &str, zone: &str) -> Value {
    node(name, json!({"zone": zone, HOST: name}))
}

/// The incoming pod: labels, constraints, extra spec fields.
fn pod(labels: Value, constraints: Vec<Value>, extra: Value) -> Value {
    let mut spec = json!({"containers": [{"name": "c"}], "topologySpreadConstraints": constraints});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            spec[k] = v;
        }
    }
    json!({"metadata": {"name": "p", "namespace": "default", "labels": labels}, "spec": spec})
}
fn plain(labels: Value) -> Value {
    pod(labels, vec![], json!({}))
}
/// An existing pod on `node`.
fn on(name: &str, node: &str, labels: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "default", "labels": labels},
           "spec": {"nodeName": node, "containers": [{"name": "c"}]}})
}
fn in_ns(mut p: Value, ns: &str) -> Value {
    p["metadata"]["namespace"] = json!(ns);
    p
}
fn terminating(mut p: Value) -> Value {
    p["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
    p
}
/// `n` pods named `prefix1..n` with label foo on `node`.
fn foos(prefix: &str, node: &str, n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| on(&format!("{prefix}{i}"), node, json!({"foo": ""})))
        .collect()
}
fn node_affinity(key: &str, op: &str, values: &[&str]) -> Value {
    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": op, "values": values}]}]}}}})
}
fn toleration() -> Value {
    json!({"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]})
}

fn list() -> Value {
    json!({"defaultingType": "List"})
}
fn system() -> Value {
    json!({"defaultingType": "System"})
}

fn cluster(nodes: &[Value], pods: &[Value]) -> TestCluster {
    let mut c = TestCluster::new();
    for n in nodes {
        c.node(n.clone());
    }
    for p in pods {
        let info = c.pod(p.clone());
        c.state.add_pod(info).expect("pod added");
    }
    c
}

fn plugin(c: &mut TestCluster, args: Value) -> PodTopologySpread {
    let mut cfg = ProfileConfig {
        scheduler_name: "default-scheduler".into(),
        percentage_of_nodes_to_score: None,
        points: Default::default(),
        args: Default::default(),
    };
    cfg.args.other.insert(NAME.to_string(), args);
    PodTopologySpread::new(&cfg, c.state.interner_mut()).expect("plugin")
}

fn service(c: &mut TestCluster, selector: Value) {
    let svc = serde_json::from_value(json!({
        "metadata": {"name": "svc", "namespace": "default"}, "spec": {"selector": selector}
    }))
    .expect("service JSON");
    c.state.apply_service(&svc).expect("service");
}

fn id(c: &TestCluster, name: &str) -> NodeId {
    c.state.node_id(name).expect("node")
}

// ---------------------------------------------------------------------------------------
// Filter (upstream TestSingleConstraint / TestMultipleConstraints)
// ---------------------------------------------------------------------------------------

struct FilterCase {
    name: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    pods: Vec<Value>,
    /// One letter per node in `nodes` order: S(uccess), U(nschedulable), R (unresolvable).
    want: &'static str,
}

fn fc(
    name: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    pods: Vec<Value>,
    want: &'static str,
) -> FilterCase {
    FilterCase {
        name,
        pod,
        nodes,
        pods,
        want,
    }
}

fn abxy() -> Vec<Value> {
    vec![
        zn("node-a", "zone1"),
        zn("node-b", "zone1"),
        zn("node-x", "zone2"),
        zn("node-y", "zone2"),
    ]
}

/// 2/1/0/3 over node-a, node-b, node-x, node-y.
fn spread_2103() -> Vec<Value> {
    [
        foos("p-a", "node-a", 2),
        foos("p-b", "node-b", 1),
        foos("p-y", "node-y", 3),
    ]
    .concat()
}

fn node_only(name: &str, extra: Value) -> Value {
    let mut labels = json!({"node": name});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            labels[k] = v;
        }
    }
    node(name, labels)
}

#[test]
fn filter_table() {
    let foo_pod = |cs: Vec<Value>| pod(json!({"foo": ""}), cs, json!({}));
    let cases = vec![
        fc(
            "TestSingleConstraint/no existing pods",
            foo_pod(vec![hard(1, "zone", foo())]),
            abxy(),
            vec![],
            "SSSS",
        ),
        fc(
            "TestSingleConstraint/no existing pods, incoming pod doesn't match itself",
            foo_pod(vec![hard(1, "zone", bar())]),
            abxy(),
            vec![],
            "SSSS",
        ),
        fc(
            "TestSingleConstraint/existing pods in a different namespace do not count",
            foo_pod(vec![hard(1, "zone", foo())]),
            abxy(),
            vec![
                in_ns(on("p-a1", "node-a", json!({"foo": ""})), "ns1"),
                in_ns(on("p-b1", "node-a", json!({"foo": ""})), "ns2"),
                on("p-x1", "node-x", json!({"foo": ""})),
                on("p-y1", "node-y", json!({"foo": ""})),
            ],
            "SSUU",
        ),
        fc(
            "TestSingleConstraint/existing pods do not match null selector",
            foo_pod(vec![hard(1, "zone", None)]),
            abxy(),
            [foos("p-x", "node-x", 1), foos("p-y", "node-y", 1)].concat(),
            "SSSS",
        ),
        fc(
            "TestSingleConstraint/pods spread across zones as 3/3, all nodes fit",
            foo_pod(vec![hard(1, "zone", foo())]),
            abxy(),
            spread_2103(),
            "SSSS",
        ),
        fc(
            "TestSingleConstraint/pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
            foo_pod(vec![hard(1, "zone", foo())]),
            vec![
                zn("node-a", "zone1"),
                node("node-b", json!({"zon": "zone1", "node": "node-b"})),
                zn("node-x", "zone2"),
                zn("node-y", "zone2"),
            ],
            [
                foos("p-a", "node-a", 1),
                foos("p-b", "node-b", 1),
                foos("p-x", "node-x", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "SRUU",
        ),
        fc(
            "TestSingleConstraint/pod cannot be scheduled as all nodes don't have label 'rack'",
            foo_pod(vec![hard(1, "rack", foo())]),
            vec![zn("node-a", "zone1"), zn("node-x", "zone2")],
            vec![],
            "RR",
        ),
        fc(
            "TestSingleConstraint/pods spread across nodes as 2/1/0/3, only node-x fits",
            foo_pod(vec![hard(1, "node", foo())]),
            abxy(),
            spread_2103(),
            "UUSU",
        ),
        fc(
            "TestSingleConstraint/pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
            foo_pod(vec![hard(2, "node", foo())]),
            abxy(),
            spread_2103(),
            "USSU",
        ),
        fc(
            "TestSingleConstraint/pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
            pod(json!({"bar": ""}), vec![hard(1, "node", foo())], json!({})),
            abxy(),
            spread_2103(),
            "USSU",
        ),
        fc(
            "TestSingleConstraint/incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
            pod(
                json!({"foo": ""}),
                vec![hard(1, "node", foo())],
                node_affinity("node", "In", &["node-a", "node-y"]),
            ),
            abxy(),
            spread_2103(),
            "SSSU",
        ),
        fc(
            "TestSingleConstraint/terminating Pods should be excluded",
            foo_pod(vec![hard(1, "node", foo())]),
            vec![
                node_only("node-a", json!({})),
                node_only("node-b", json!({})),
            ],
            vec![
                terminating(on("p-a", "node-a", json!({"foo": ""}))),
                on("p-b", "node-b", json!({"foo": ""})),
            ],
            "SU",
        ),
        fc(
            "TestSingleConstraint/incoming pod has nodeAffinity, pods spread as 0/~2~/0/1, hence node-a fits",
            pod(
                json!({"foo": ""}),
                vec![hard(1, "zone", foo())],
                node_affinity("node", "NotIn", &["node-b"]),
            ),
            abxy(),
            [foos("p-b", "node-b", 2), foos("p-y", "node-y", 1)].concat(),
            "SSUU",
        ),
        fc(
            "TestSingleConstraint/pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains < minDomains, then the third node fits",
            foo_pod(vec![with(hard(2, "node", foo()), "minDomains", json!(4))]),
            vec![
                node_only("node-a", json!({})),
                node_only("node-b", json!({})),
                node_only("node-c", json!({})),
            ],
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 2),
                foos("p-c", "node-c", 1),
            ]
            .concat(),
            "UUS",
        ),
        fc(
            "TestSingleConstraint/pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains > minDomains, then the all nodes fit",
            foo_pod(vec![with(hard(2, "node", foo()), "minDomains", json!(2))]),
            vec![
                node_only("node-a", json!({})),
                node_only("node-b", json!({})),
                node_only("node-c", json!({})),
            ],
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 2),
                foos("p-c", "node-c", 1),
            ]
            .concat(),
            "SSS",
        ),
        fc(
            "TestSingleConstraint/pods spread across zone as 2/1, maxSkew is 2 and the number of domains < minDomains, then the third and fourth nodes fit",
            foo_pod(vec![with(hard(2, "zone", foo()), "minDomains", json!(3))]),
            abxy(),
            [
                foos("p-a", "node-a", 1),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "UUSS",
        ),
        fc(
            "TestSingleConstraint/pods spread across zone as 2/1, maxSkew is 2 and the number of domains > minDomains, then the all nodes fit",
            foo_pod(vec![with(hard(2, "zone", foo()), "minDomains", json!(1))]),
            abxy(),
            [
                foos("p-a", "node-a", 1),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "SSSS",
        ),
        fc(
            "TestSingleConstraint/NodeAffinityPolicy honored with labelSelectors",
            pod(
                json!({"foo": ""}),
                vec![hard(1, "node", foo())],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            vec![
                node_only("node-a", json!({"foo": ""})),
                node_only("node-b", json!({"foo": ""})),
                node_only("node-x", json!({"foo": ""})),
                node_only("node-y", json!({})),
            ],
            [
                foos("p-b1", "node-a", 1),
                foos("p-b2", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "UUSS",
        ),
        fc(
            "TestSingleConstraint/NodeAffinityPolicy ignored with labelSelectors",
            pod(
                json!({"foo": ""}),
                vec![with(
                    hard(1, "node", foo()),
                    "nodeAffinityPolicy",
                    json!("Ignore"),
                )],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            vec![
                node_only("node-a", json!({"foo": ""})),
                node_only("node-b", json!({"foo": ""})),
                node_only("node-x", json!({"foo": ""})),
                node_only("node-y", json!({})),
            ],
            [
                foos("p-b1", "node-a", 1),
                foos("p-b2", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "UUSU",
        ),
        fc(
            "TestSingleConstraint/NodeAffinityPolicy honored with nodeAffinity",
            pod(
                json!({"foo": ""}),
                vec![hard(1, "node", foo())],
                node_affinity("foo", "In", &[""]),
            ),
            vec![
                node_only("node-a", json!({"foo": ""})),
                node_only("node-b", json!({"foo": ""})),
                node_only("node-x", json!({"foo": ""})),
                node_only("node-y", json!({})),
            ],
            [
                foos("p-b1", "node-a", 1),
                foos("p-b2", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "UUSS",
        ),
        fc(
            "TestSingleConstraint/NodeAffinityPolicy ignored with nodeAffinity",
            pod(
                json!({"foo": ""}),
                vec![with(
                    hard(1, "node", foo()),
                    "nodeAffinityPolicy",
                    json!("Ignore"),
                )],
                node_affinity("foo", "In", &[""]),
            ),
            vec![
                node_only("node-a", json!({"foo": ""})),
                node_only("node-b", json!({"foo": ""})),
                node_only("node-x", json!({"foo": ""})),
                node_only("node-y", json!({})),
            ],
            [
                foos("p-b1", "node-a", 1),
                foos("p-b2", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "UUSU",
        ),
        fc(
            "TestSingleConstraint/NodeTaintsPolicy honored",
            foo_pod(vec![with(
                hard(1, "node", foo()),
                "nodeTaintsPolicy",
                json!("Honor"),
            )]),
            vec![
                node_only("node-a", json!({"foo": ""})),
                node_only("node-b", json!({"foo": ""})),
                node_only("node-x", json!({"foo": ""})),
                tainted("node-y", json!({"node": "node-y"})),
            ],
            [
                foos("p-b1", "node-a", 1),
                foos("p-b2", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "UUSS",
        ),
        fc(
            "TestSingleConstraint/NodeTaintsPolicy ignored",
            foo_pod(vec![hard(1, "node", foo())]),
            vec![
                node_only("node-a", json!({"foo": ""})),
                node_only("node-b", json!({"foo": ""})),
                node_only("node-x", json!({"foo": ""})),
                tainted("node-y", json!({"node": "node-y"})),
            ],
            [
                foos("p-b1", "node-a", 1),
                foos("p-b2", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            "UUSU",
        ),
        fc(
            "TestMultipleConstraints/two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
            foo_pod(vec![hard(1, "zone", foo()), hard(1, "node", foo())]),
            abxy(),
            spread_2103(),
            "UUSU",
        ),
        fc(
            "TestMultipleConstraints/two Constraints on zone and node, spreads = [3/4, 2/1/0/4]",
            foo_pod(vec![hard(1, "zone", foo()), hard(1, "node", foo())]),
            abxy(),
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 4),
            ]
            .concat(),
            "UUUU",
        ),
        fc(
            "TestMultipleConstraints/Constraints hold different labelSelectors, spreads = [1/0, 1/0/0/1]",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![hard(1, "zone", foo()), hard(1, "node", bar())],
                json!({}),
            ),
            abxy(),
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                on("p-y1", "node-y", json!({"bar": ""})),
            ],
            "UUSU",
        ),
        fc(
            "TestMultipleConstraints/Constraints hold different labelSelectors, spreads = [1/0, 0/0/1/1]",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![hard(1, "zone", foo()), hard(1, "node", bar())],
                json!({}),
            ),
            abxy(),
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                on("p-x1", "node-x", json!({"bar": ""})),
                on("p-y1", "node-y", json!({"bar": ""})),
            ],
            "UUUU",
        ),
        fc(
            "Placer: Constraints hold different labelSelectors, spreads = [2/3, 1/0/0/1]",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![hard(1, "zone", foo()), hard(1, "node", bar())],
                json!({}),
            ),
            abxy(),
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                on("p-a2", "node-a", json!({"foo": "", "bar": ""})),
                on("p-x1", "node-x", json!({"foo": ""})),
                on("p-y1", "node-y", json!({"foo": ""})),
                on("p-y2", "node-y", json!({"foo": "", "bar": ""})),
            ],
            "USUU",
        ),
        fc(
            "Placer: two Constraints on zone and node, 'node' label missing on node-b",
            foo_pod(vec![hard(1, "zone", foo()), hard(1, "node", foo())]),
            vec![
                zn("node-a", "zone1"),
                node("node-b", json!({"zone": "zone1"})),
                zn("node-x", "zone2"),
                zn("node-y", "zone2"),
            ],
            [
                foos("p-a", "node-a", 1),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            // node-b's pod does not count (node-b lacks "node"): zone1 has 1, zone2 has 1.
            "URSU",
        ),
        fc(
            "Placer: matchLabelKeys merged, only pods with the same label value count",
            pod(
                json!({"foo": "", "rev": "2"}),
                vec![with(
                    hard(1, "node", foo()),
                    "matchLabelKeys",
                    json!(["rev"]),
                )],
                json!({}),
            ),
            vec![
                node_only("node-a", json!({})),
                node_only("node-b", json!({})),
            ],
            vec![
                on("p-a1", "node-a", json!({"foo": "", "rev": "1"})),
                on("p-a2", "node-a", json!({"foo": "", "rev": "1"})),
                on("p-b1", "node-b", json!({"foo": "", "rev": "2"})),
            ],
            // rev=2 pods: a 0, b 1 -> node-b has skew 2.
            "SU",
        ),
    ];
    assert!(cases.len() >= 25);
    for case in cases {
        let mut c = cluster(&case.nodes, &case.pods);
        let p = plugin(&mut c, list());
        let pod = c.pod(case.pod.clone());
        let mut cycle = CycleState::new();
        let out = p.pre_filter(&mut cycle, &pod, c.view()).expect(case.name);
        assert_eq!(out, PreFilterOutcome::Proceed, "{}", case.name);
        let names: Vec<&str> = case
            .nodes
            .iter()
            .map(|n| n["metadata"]["name"].as_str().unwrap())
            .collect();
        for (name, want) in names.iter().zip(case.want.chars()) {
            let got = p.filter(&cycle, &pod, c.node_state(id(&c, name)), c.view());
            match want {
                'S' => assert_eq!(got, Ok(()), "{}: {name}", case.name),
                'U' => assert_eq!(
                    got,
                    Err(Rejection::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)),
                    "{}: {name}",
                    case.name
                ),
                'R' => assert_eq!(
                    got,
                    Err(Rejection::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)),
                    "{}: {name}",
                    case.name
                ),
                _ => unreachable!(),
            }
        }
        // The batch form (the framework default) agrees with the per-node form.
        let ids: Vec<NodeId> = names.iter().map(|n| id(&c, n)).collect();
        let mask = p.filter_nodes(&cycle, &pod, &ids, (1 << ids.len()) - 1, c.view());
        let want_mask = case
            .want
            .chars()
            .enumerate()
            .fold(0u64, |m, (i, w)| m | (u64::from(w == 'S') << i));
        assert_eq!(mask, want_mask, "{}", case.name);
    }
}

// ---------------------------------------------------------------------------------------
// PreFilter state (upstream TestPreFilterState)
// ---------------------------------------------------------------------------------------

/// Per constraint: the domain counts (sorted by value) and the two critical path counts.
type WantState = Vec<(Vec<(&'static str, i64)>, [i64; 2])>;

/// What [`state_of`] gives: per constraint, the domain counts by value and the path counts.
type GotState = Vec<(Vec<(String, i64)>, [i64; 2])>;

fn state_of(s: &PreFilterState, interner: &Interner) -> GotState {
    s.counts
        .iter()
        .zip(&s.paths)
        .map(|(m, p)| {
            let mut v: Vec<(String, i64)> = m
                .iter()
                .map(|(k, &n)| (interner.resolve(*k).to_string(), n))
                .collect();
            v.sort();
            (v, [p.0[0].1, p.0[1].1])
        })
        .collect()
}

fn owned(w: &WantState) -> GotState {
    w.iter()
        .map(|(m, p)| {
            let mut v: Vec<(String, i64)> = m.iter().map(|(k, n)| ((*k).to_string(), *n)).collect();
            v.sort();
            (v, *p)
        })
        .collect()
}

const MAX: i64 = i32::MAX as i64;

struct StateCase {
    name: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    pods: Vec<Value>,
    args: Value,
    service: Option<Value>,
    /// `None`: PreFilter skips.
    want: Option<WantState>,
}

fn sc(
    name: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    pods: Vec<Value>,
    want: Option<WantState>,
) -> StateCase {
    StateCase {
        name,
        pod,
        nodes,
        pods,
        args: list(),
        service: None,
        want,
    }
}

#[test]
fn pre_filter_state_table() {
    let foo_pod = |cs: Vec<Value>| pod(json!({"foo": ""}), cs, json!({}));
    let abc_bar = || {
        vec![
            node_only("node-a", json!({"foo": ""})),
            node_only("node-b", json!({"foo": ""})),
            node_only("node-c", json!({"bar": ""})),
        ]
    };
    let abc_bar_pods = || {
        vec![
            on("p-a", "node-a", json!({"bar": ""})),
            on("p-b", "node-b", json!({"bar": ""})),
            on("p-c", "node-b", json!({"bar": ""})),
            on("p-d", "node-c", json!({})),
        ]
    };
    let taint_nodes = || {
        vec![
            node_only("node-a", json!({})),
            node_only("node-b", json!({})),
            tainted("node-c", json!({"node": "node-c", "bar": ""})),
        ]
    };
    let mut cases = vec![
        sc(
            "TestPreFilterState/clean cluster with one spreadConstraint",
            foo_pod(vec![hard(
                5,
                "zone",
                Some(json!({"matchLabels": {"foo": "bar"}})),
            )]),
            abxy(),
            vec![],
            Some(vec![(vec![("zone1", 0), ("zone2", 0)], [0, 0])]),
        ),
        sc(
            "TestPreFilterState/normal case with one spreadConstraint",
            foo_pod(vec![hard(1, "zone", foo())]),
            abxy(),
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 2),
            ]
            .concat(),
            Some(vec![(vec![("zone1", 3), ("zone2", 2)], [2, 3])]),
        ),
        sc(
            "TestPreFilterState/normal case with null label selector",
            foo_pod(vec![hard(1, "zone", None)]),
            abxy(),
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 2),
            ]
            .concat(),
            Some(vec![(vec![("zone1", 0), ("zone2", 0)], [0, 0])]),
        ),
        sc(
            "TestPreFilterState/normal case with one spreadConstraint, on a 3-zone cluster",
            foo_pod(vec![hard(1, "zone", foo())]),
            [abxy(), vec![zn("node-o", "zone3"), zn("node-p", "zone3")]].concat(),
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 2),
            ]
            .concat(),
            Some(vec![(
                vec![("zone1", 3), ("zone2", 2), ("zone3", 0)],
                [0, 2],
            )]),
        ),
        sc(
            "TestPreFilterState/namespace mismatch doesn't count",
            foo_pod(vec![hard(1, "zone", foo())]),
            abxy(),
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                in_ns(on("p-a2", "node-a", json!({"foo": ""})), "ns1"),
                on("p-b1", "node-b", json!({"foo": ""})),
                in_ns(on("p-y1", "node-y", json!({"foo": ""})), "ns2"),
                on("p-y2", "node-y", json!({"foo": ""})),
            ],
            Some(vec![(vec![("zone1", 2), ("zone2", 1)], [1, 2])]),
        ),
        sc(
            "TestPreFilterState/normal case with two spreadConstraints",
            foo_pod(vec![hard(1, "zone", foo()), hard(1, "node", foo())]),
            abxy(),
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 4),
            ]
            .concat(),
            Some(vec![
                (vec![("zone1", 3), ("zone2", 4)], [3, 4]),
                (
                    vec![("node-a", 2), ("node-b", 1), ("node-x", 0), ("node-y", 4)],
                    [0, 1],
                ),
            ]),
        ),
        sc(
            "TestPreFilterState/soft spreadConstraints should be bypassed",
            foo_pod(vec![
                soft(1, "zone", foo()),
                hard(1, "zone", foo()),
                soft(1, "node", foo()),
                hard(1, "node", foo()),
            ]),
            vec![
                zn("node-a", "zone1"),
                zn("node-b", "zone1"),
                zn("node-y", "zone2"),
            ],
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 4),
            ]
            .concat(),
            Some(vec![
                (vec![("zone1", 3), ("zone2", 4)], [3, 4]),
                (vec![("node-a", 2), ("node-b", 1), ("node-y", 4)], [1, 2]),
            ]),
        ),
        sc(
            "TestPreFilterState/different labelSelectors - simple version",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![hard(1, "zone", foo()), hard(1, "node", bar())],
                json!({}),
            ),
            vec![
                zn("node-a", "zone1"),
                zn("node-b", "zone1"),
                zn("node-y", "zone2"),
            ],
            vec![
                on("p-a", "node-a", json!({"foo": ""})),
                on("p-b", "node-b", json!({"bar": ""})),
            ],
            Some(vec![
                (vec![("zone1", 1), ("zone2", 0)], [0, 1]),
                (vec![("node-a", 0), ("node-b", 1), ("node-y", 0)], [0, 0]),
            ]),
        ),
        sc(
            "TestPreFilterState/two spreadConstraints, and with podAffinity",
            pod(
                json!({"foo": ""}),
                vec![hard(1, "zone", foo()), hard(1, "node", foo())],
                node_affinity("node", "NotIn", &["node-x"]),
            ),
            abxy(),
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 4),
            ]
            .concat(),
            Some(vec![
                (vec![("zone1", 3), ("zone2", 4)], [3, 4]),
                (vec![("node-a", 2), ("node-b", 1), ("node-y", 4)], [1, 2]),
            ]),
        ),
        sc(
            "TestPreFilterState/NodeAffinityPolicy honored with labelSelectors",
            pod(
                json!({"foo": ""}),
                vec![hard(1, "node", bar())],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            abc_bar(),
            abc_bar_pods(),
            Some(vec![(vec![("node-a", 1), ("node-b", 2)], [1, 2])]),
        ),
        sc(
            "TestPreFilterState/NodeAffinityPolicy ignored with labelSelectors",
            pod(
                json!({"foo": ""}),
                vec![with(
                    hard(1, "node", bar()),
                    "nodeAffinityPolicy",
                    json!("Ignore"),
                )],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            abc_bar(),
            abc_bar_pods(),
            Some(vec![(
                vec![("node-a", 1), ("node-b", 2), ("node-c", 0)],
                [0, 1],
            )]),
        ),
        sc(
            "TestPreFilterState/NodeAffinityPolicy honored with nodeAffinity",
            pod(
                json!({"foo": ""}),
                vec![hard(1, "node", bar())],
                node_affinity("foo", "In", &[""]),
            ),
            abc_bar(),
            abc_bar_pods(),
            Some(vec![(vec![("node-a", 1), ("node-b", 2)], [1, 2])]),
        ),
        sc(
            "TestPreFilterState/NodeTaintsPolicy ignored",
            foo_pod(vec![hard(1, "node", bar())]),
            taint_nodes(),
            abc_bar_pods(),
            Some(vec![(
                vec![("node-a", 1), ("node-b", 2), ("node-c", 0)],
                [0, 1],
            )]),
        ),
        sc(
            "TestPreFilterState/NodeTaintsPolicy honored",
            foo_pod(vec![with(
                hard(1, "node", bar()),
                "nodeTaintsPolicy",
                json!("Honor"),
            )]),
            taint_nodes(),
            abc_bar_pods(),
            Some(vec![(vec![("node-a", 1), ("node-b", 2)], [1, 2])]),
        ),
        sc(
            "TestPreFilterState/NodeTaintsPolicy honored with tolerated taints",
            pod(
                json!({"foo": ""}),
                vec![with(
                    hard(1, "node", bar()),
                    "nodeTaintsPolicy",
                    json!("Honor"),
                )],
                toleration(),
            ),
            taint_nodes(),
            abc_bar_pods(),
            Some(vec![(
                vec![("node-a", 1), ("node-b", 2), ("node-c", 0)],
                [0, 1],
            )]),
        ),
        sc(
            "TestPreFilterState/two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
            pod(
                json!({"foo": ""}),
                vec![
                    hard(1, "zone", foo()),
                    with(
                        hard(1, "node", foo()),
                        "nodeAffinityPolicy",
                        json!("Ignore"),
                    ),
                ],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            vec![
                node(
                    "node-a",
                    json!({"zone": "zone1", "node": "node-a", "foo": ""}),
                ),
                zn("node-b", "zone1"),
                node(
                    "node-x",
                    json!({"zone": "zone2", "node": "node-x", "foo": ""}),
                ),
            ],
            [foos("p-b", "node-b", 2), foos("p-x", "node-x", 1)].concat(),
            Some(vec![
                (vec![("zone1", 0), ("zone2", 1)], [0, 1]),
                (vec![("node-a", 0), ("node-b", 2), ("node-x", 1)], [0, 1]),
            ]),
        ),
        sc(
            "TestPreFilterState/two node inclusion Constraints, zone: ignore/ignore, node: honor/honor",
            pod(
                json!({"foo": ""}),
                vec![
                    with(
                        hard(1, "zone", foo()),
                        "nodeAffinityPolicy",
                        json!("Ignore"),
                    ),
                    with(hard(1, "node", foo()), "nodeTaintsPolicy", json!("Honor")),
                ],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            vec![
                zn("node-a", "zone1"),
                tainted(
                    "node-b",
                    json!({"zone": "zone1", "node": "node-b", "foo": ""}),
                ),
                node(
                    "node-x",
                    json!({"zone": "zone2", "node": "node-x", "foo": ""}),
                ),
                node(
                    "node-y",
                    json!({"zone": "zone2", "node": "node-y", "foo": ""}),
                ),
            ],
            [
                foos("p-a", "node-a", 2),
                foos("p-x", "node-x", 2),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            Some(vec![
                (vec![("zone1", 2), ("zone2", 3)], [2, 3]),
                (vec![("node-x", 2), ("node-y", 1)], [1, 2]),
            ]),
        ),
        sc(
            "TestPreFilterState/matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
            pod(
                json!({"foo": "", "bar": "a"}),
                vec![with(
                    hard(1, "zone", foo()),
                    "matchLabelKeys",
                    json!(["bar"]),
                )],
                json!({}),
            ),
            abxy(),
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                on("p-a2", "node-a", json!({"foo": "", "bar": "a"})),
                on("p-b1", "node-b", json!({"foo": ""})),
                on("p-y1", "node-y", json!({"foo": "", "bar": "a"})),
                on("p-y2", "node-y", json!({"bar": ""})),
            ],
            Some(vec![(vec![("zone1", 1), ("zone2", 1)], [1, 1])]),
        ),
        sc(
            "TestPreFilterState/matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
            pod(
                json!({"foo": "a"}),
                vec![with(
                    hard(1, "zone", Some(json!({}))),
                    "matchLabelKeys",
                    json!(["foo"]),
                )],
                json!({}),
            ),
            abxy(),
            vec![
                on("p-a1", "node-a", json!({"foo": "a"})),
                on("p-a2", "node-a", json!({"foo": "a"})),
                on("p-b1", "node-b", json!({"foo": "a"})),
                on("p-y1", "node-y", json!({"foo": "a"})),
                on("p-y2", "node-y", json!({"foo": "a"})),
            ],
            Some(vec![(vec![("zone1", 3), ("zone2", 2)], [2, 3])]),
        ),
        sc(
            "TestPreFilterState/key in matchLabelKeys is ignored when LabelSelector is nil when feature gate enabled",
            pod(
                json!({"foo": ""}),
                vec![with(
                    hard(1, "zone", None),
                    "matchLabelKeys",
                    json!(["bar"]),
                )],
                json!({}),
            ),
            abxy(),
            [foos("p-a", "node-a", 2), foos("p-y", "node-y", 2)].concat(),
            Some(vec![(vec![("zone1", 0), ("zone2", 0)], [0, 0])]),
        ),
        sc(
            "TestPreFilterState/key in matchLabelKeys is ignored when it isn't exist in pod.labels",
            pod(
                json!({"foo": ""}),
                vec![with(
                    hard(1, "zone", foo()),
                    "matchLabelKeys",
                    json!(["bar"]),
                )],
                json!({}),
            ),
            abxy(),
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-y", "node-y", 2),
            ]
            .concat(),
            Some(vec![(vec![("zone1", 3), ("zone2", 2)], [2, 3])]),
        ),
        sc(
            "TestPreFilterState/two spreadConstraints with the same topologyKey",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![hard(1, "zone", foo()), hard(1, "zone", bar())],
                json!({}),
            ),
            abxy(),
            vec![
                on("p-a1", "node-a", json!({"foo": "", "bar": ""})),
                on("p-b1", "node-b", json!({"foo": ""})),
                on("p-x1", "node-x", json!({"bar": ""})),
                on("p-y1", "node-y", json!({"foo": "", "bar": ""})),
                on("p-y2", "node-y", json!({"bar": ""})),
            ],
            Some(vec![
                (vec![("zone1", 2), ("zone2", 1)], [1, 2]),
                (vec![("zone1", 1), ("zone2", 3)], [1, 3]),
            ]),
        ),
        sc(
            "TestPreFilterState/skip if not specified",
            plain(json!({"foo": ""})),
            vec![zn("node-a", "zone1")],
            vec![],
            None,
        ),
        sc(
            "empty selector {} counts no pod (countPodsMatchSelector)",
            foo_pod(vec![hard(1, "zone", Some(json!({})))]),
            abxy(),
            [foos("p-a", "node-a", 2)].concat(),
            Some(vec![(vec![("zone1", 0), ("zone2", 0)], [0, 0])]),
        ),
        sc(
            "pods on a node without every key do not count",
            foo_pod(vec![hard(1, "zone", foo()), hard(1, "node", foo())]),
            vec![
                zn("node-a", "zone1"),
                node("node-b", json!({"zone": "zone1"})),
                zn("node-x", "zone2"),
            ],
            [foos("p-a", "node-a", 1), foos("p-b", "node-b", 3)].concat(),
            Some(vec![
                (vec![("zone1", 1), ("zone2", 0)], [0, 1]),
                (vec![("node-a", 1), ("node-x", 0)], [0, 1]),
            ]),
        ),
    ];
    // upstream: default constraints and a service.
    let mut with_service = sc(
        "TestPreFilterState/default constraints and a service",
        plain(json!({"foo": "bar", "baz": "kar"})),
        vec![],
        vec![],
        Some(vec![(vec![], [MAX, MAX]), (vec![], [MAX, MAX])]),
    );
    with_service.args = json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 3, "topologyKey": "node", "whenUnsatisfiable": "DoNotSchedule"},
        {"maxSkew": 2, "topologyKey": "node", "whenUnsatisfiable": "ScheduleAnyway"},
        {"maxSkew": 5, "topologyKey": "rack", "whenUnsatisfiable": "DoNotSchedule"}]});
    with_service.service = Some(json!({"foo": "bar"}));
    cases.push(with_service);
    let mut no_match = sc(
        "TestPreFilterState/default constraints and a service that doesn't match",
        plain(json!({"foo": "bar"})),
        vec![],
        vec![],
        None,
    );
    no_match.args = json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 3, "topologyKey": "node", "whenUnsatisfiable": "DoNotSchedule"}]});
    no_match.service = Some(json!({"baz": "kep"}));
    cases.push(no_match);
    let mut own = sc(
        "TestPreFilterState/default constraints and a service, but pod has constraints",
        pod(
            json!({"foo": "bar", "baz": "tar"}),
            vec![
                hard(1, "zone", Some(json!({"matchLabels": {"baz": "tar"}}))),
                soft(2, "planet", Some(json!({"matchLabels": {"fot": "rok"}}))),
            ],
            json!({}),
        ),
        vec![],
        vec![],
        Some(vec![(vec![], [MAX, MAX])]),
    );
    own.args = json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 2, "topologyKey": "node", "whenUnsatisfiable": "DoNotSchedule"}]});
    own.service = Some(json!({"foo": "bar"}));
    cases.push(own);
    let mut soft_default = sc(
        "TestPreFilterState/default soft constraints and a service",
        plain(json!({"foo": "bar"})),
        vec![],
        vec![],
        None,
    );
    soft_default.args = json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 2, "topologyKey": "node", "whenUnsatisfiable": "ScheduleAnyway"}]});
    soft_default.service = Some(json!({"foo": "bar"}));
    cases.push(soft_default);
    let mut system_default = sc(
        "system defaults are all ScheduleAnyway: PreFilter skips",
        plain(json!({"foo": "bar"})),
        vec![zhn("node-a", "z")],
        vec![],
        None,
    );
    system_default.args = system();
    system_default.service = Some(json!({"foo": "bar"}));
    cases.push(system_default);

    for case in cases {
        let mut c = cluster(&case.nodes, &case.pods);
        if let Some(sel) = &case.service {
            service(&mut c, sel.clone());
        }
        let p = plugin(&mut c, case.args.clone());
        let pod = c.pod(case.pod.clone());
        let mut cycle = CycleState::new();
        let out = p.pre_filter(&mut cycle, &pod, c.view()).expect(case.name);
        match &case.want {
            None => assert_eq!(out, PreFilterOutcome::Skip, "{}", case.name),
            Some(want) => {
                assert_eq!(out, PreFilterOutcome::Proceed, "{}", case.name);
                let s = cycle.read::<PreFilterState>().expect("state");
                assert_eq!(
                    state_of(s, c.state.interner()),
                    owned(want),
                    "{}",
                    case.name
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// AddPod / RemovePod (upstream TestPreFilterStateAddPod / TestPreFilterStateRemovePod)
// ---------------------------------------------------------------------------------------

struct UpdateCase {
    name: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    pods: Vec<Value>,
    /// The pod added (+1) or removed (−1) and its node.
    updated: Value,
    node: &'static str,
    delta: i64,
    want: WantState,
}

#[test]
fn add_and_remove_pod_table() {
    let node_c = |s: i32| pod(json!({"foo": ""}), vec![hard(s, "node", foo())], json!({}));
    let zone_node = || {
        pod(
            json!({"foo": ""}),
            vec![hard(1, "zone", foo()), hard(1, "node", foo())],
            json!({}),
        )
    };
    let zone_c = || pod(json!({"foo": ""}), vec![hard(1, "zone", foo())], json!({}));
    let ab = || vec![zn("node-a", "zone1"), zn("node-b", "zone1")];
    let affinity_nodes = || {
        vec![
            node(
                "node-a",
                json!({"zone": "zone1", "node": "node-a", "foo": "bar"}),
            ),
            node(
                "node-b",
                json!({"zone": "zone2", "node": "node-b", "foo": ""}),
            ),
        ]
    };
    let cases = vec![
        UpdateCase {
            name: "TestPreFilterStateAddPod/node a and b both impact current min match",
            pod: node_c(1),
            nodes: ab(),
            pods: vec![],
            updated: on("p-a1", "node-a", json!({"foo": ""})),
            node: "node-a",
            delta: 1,
            want: vec![(vec![("node-a", 1), ("node-b", 0)], [0, 1])],
        },
        UpdateCase {
            name: "TestPreFilterStateAddPod/only node a impacts current min match",
            pod: node_c(1),
            nodes: ab(),
            pods: foos("p-b", "node-b", 1),
            updated: on("p-a1", "node-a", json!({"foo": ""})),
            node: "node-a",
            delta: 1,
            want: vec![(vec![("node-a", 1), ("node-b", 1)], [1, 1])],
        },
        UpdateCase {
            name: "TestPreFilterStateAddPod/add a pod in a different namespace doesn't change topologyKeyToMinPodsMap",
            pod: node_c(1),
            nodes: ab(),
            pods: foos("p-b", "node-b", 1),
            updated: in_ns(on("p-a1", "node-a", json!({"foo": ""})), "ns1"),
            node: "node-a",
            delta: 1,
            want: vec![(vec![("node-a", 0), ("node-b", 1)], [0, 1])],
        },
        UpdateCase {
            name: "TestPreFilterStateAddPod/add pod on non-critical node won't trigger re-calculation",
            pod: node_c(1),
            nodes: ab(),
            pods: foos("p-b", "node-b", 1),
            updated: on("p-b2", "node-b", json!({"foo": ""})),
            node: "node-b",
            delta: 1,
            want: vec![(vec![("node-a", 0), ("node-b", 2)], [0, 2])],
        },
        UpdateCase {
            name: "TestPreFilterStateAddPod/node a and x both impact topologyKeyToMinPodsMap on zone and node",
            pod: zone_node(),
            nodes: vec![zn("node-a", "zone1"), zn("node-x", "zone2")],
            pods: vec![],
            updated: on("p-a1", "node-a", json!({"foo": ""})),
            node: "node-a",
            delta: 1,
            want: vec![
                (vec![("zone1", 1), ("zone2", 0)], [0, 1]),
                (vec![("node-a", 1), ("node-x", 0)], [0, 1]),
            ],
        },
        UpdateCase {
            name: "TestPreFilterStateAddPod/node a impacts topologyKeyToMinPodsMap on node, node x impacts topologyKeyToMinPodsMap on zone",
            pod: zone_node(),
            nodes: vec![
                zn("node-a", "zone1"),
                zn("node-b", "zone1"),
                zn("node-x", "zone2"),
            ],
            pods: [foos("p-b", "node-b", 2), foos("p-x", "node-x", 1)].concat(),
            updated: on("p-a1", "node-a", json!({"foo": ""})),
            node: "node-a",
            delta: 1,
            want: vec![
                (vec![("zone1", 3), ("zone2", 1)], [1, 3]),
                (vec![("node-a", 1), ("node-b", 2), ("node-x", 1)], [1, 1]),
            ],
        },
        UpdateCase {
            name: "TestPreFilterStateAddPod/add a pod when scheduling node affinity unmatched pod with NodeInclusionPolicy enabled",
            pod: pod(
                json!({"foo": ""}),
                vec![hard(1, "zone", foo())],
                node_affinity("foo", "NotIn", &["bar"]),
            ),
            nodes: affinity_nodes(),
            pods: vec![
                on("p-a2", "node-a", json!({"foo": "", "zone": "zone1"})),
                on("p-b1", "node-b", json!({"foo": "", "zone": "zone2"})),
            ],
            updated: on("p-a1", "node-a", json!({"foo": "", "zone": "zone1"})),
            node: "node-a",
            delta: 1,
            want: vec![(vec![("zone2", 1)], [1, MAX])],
        },
        UpdateCase {
            name: "TestPreFilterStateAddPod/add a label selector not matched pod when with NodeInclusionPolicy enabled",
            pod: zone_c(),
            nodes: affinity_nodes(),
            pods: vec![
                on("p-a1", "node-a", json!({"foo": "", "zone": "zone1"})),
                on("p-b2", "node-b", json!({"foo": "", "zone": "zone2"})),
            ],
            updated: on("p-b1", "node-b", json!({"zone": "zone2"})),
            node: "node-b",
            delta: 1,
            want: vec![(vec![("zone1", 1), ("zone2", 1)], [1, 1])],
        },
        UpdateCase {
            name: "TestPreFilterStateRemovePod/one spreadConstraint on zone, topologyKeyToMinPodsMap unchanged",
            pod: zone_c(),
            nodes: vec![
                zn("node-a", "zone1"),
                zn("node-b", "zone1"),
                zn("node-x", "zone2"),
            ],
            pods: [
                foos("p-a", "node-a", 1),
                foos("p-b", "node-b", 1),
                foos("p-x", "node-x", 1),
            ]
            .concat(),
            updated: on("p-a1", "node-a", json!({"foo": ""})),
            node: "node-a",
            delta: -1,
            want: vec![(vec![("zone1", 1), ("zone2", 1)], [1, 1])],
        },
        UpdateCase {
            name: "TestPreFilterStateRemovePod/one spreadConstraint on node, topologyKeyToMinPodsMap changed",
            pod: zone_c(),
            nodes: abxy(),
            pods: [
                foos("p-a", "node-a", 1),
                foos("p-b", "node-b", 1),
                foos("p-x", "node-x", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            updated: on("p-a1", "node-a", json!({"foo": ""})),
            node: "node-a",
            delta: -1,
            want: vec![(vec![("zone1", 1), ("zone2", 2)], [1, 2])],
        },
        UpdateCase {
            name: "TestPreFilterStateRemovePod/delete an irrelevant pod won't help",
            pod: zone_c(),
            nodes: abxy(),
            pods: [
                vec![on("p-a0", "node-a", json!({"bar": ""}))],
                foos("p-a", "node-a", 1),
                foos("p-b", "node-b", 1),
                foos("p-x", "node-x", 1),
                foos("p-y", "node-y", 1),
            ]
            .concat(),
            updated: on("p-a0", "node-a", json!({"bar": ""})),
            node: "node-a",
            delta: -1,
            want: vec![(vec![("zone1", 2), ("zone2", 2)], [2, 2])],
        },
        UpdateCase {
            name: "TestPreFilterStateRemovePod/two spreadConstraints",
            pod: zone_node(),
            nodes: vec![
                zn("node-a", "zone1"),
                zn("node-b", "zone1"),
                zn("node-x", "zone2"),
            ],
            pods: [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-x", "node-x", 2),
            ]
            .concat(),
            updated: on("p-x1", "node-x", json!({"foo": ""})),
            node: "node-x",
            delta: -1,
            want: vec![
                (vec![("zone1", 3), ("zone2", 1)], [1, 3]),
                (vec![("node-a", 2), ("node-b", 1), ("node-x", 1)], [1, 1]),
            ],
        },
        UpdateCase {
            name: "TestPreFilterStateRemovePod/remove a pod when scheduling node affinity matched pod with NodeInclusionPolicy enabled",
            pod: zone_c(),
            nodes: affinity_nodes(),
            pods: vec![
                on("p-a1", "node-a", json!({"foo": "", "zone": "zone1"})),
                on("p-b1", "node-b", json!({"foo": "", "zone": "zone2"})),
            ],
            updated: on("p-b1", "node-b", json!({"foo": "", "zone": "zone2"})),
            node: "node-b",
            delta: -1,
            want: vec![(vec![("zone1", 1), ("zone2", 0)], [0, 1])],
        },
    ];
    for case in cases {
        let mut c = cluster(&case.nodes, &case.pods);
        let p = plugin(&mut c, list());
        let pod = c.pod(case.pod.clone());
        let updated = c.pod(case.updated.clone());
        let mut cycle = CycleState::new();
        assert_eq!(
            p.pre_filter(&mut cycle, &pod, c.view()),
            Ok(PreFilterOutcome::Proceed),
            "{}",
            case.name
        );
        let node = c.node_state(id(&c, case.node)).clone();
        if case.delta > 0 {
            p.add_pod(&mut cycle, &pod, &updated, &node, c.view());
        } else {
            p.remove_pod(&mut cycle, &pod, &updated, &node, c.view());
        }
        let s = cycle.read::<PreFilterState>().expect("state");
        assert_eq!(
            state_of(s, c.state.interner()),
            owned(&case.want),
            "{}",
            case.name
        );
    }
}

/// Preemption's dry run: removing the victim makes the node feasible; a cloned cycle state
/// keeps the original counts.
#[test]
fn remove_pod_makes_the_node_feasible_and_clones_are_independent() {
    let mut c = cluster(
        &[
            node_only("node-a", json!({})),
            node_only("node-b", json!({})),
        ],
        &[foos("p-a", "node-a", 2), foos("p-b", "node-b", 1)].concat(),
    );
    let p = plugin(&mut c, list());
    let pod = c.pod(pod(
        json!({"foo": ""}),
        vec![hard(1, "node", foo())],
        json!({}),
    ));
    let mut cycle = CycleState::new();
    p.pre_filter(&mut cycle, &pod, c.view()).unwrap();
    let a = c.node_state(id(&c, "node-a")).clone();
    assert!(p.filter(&cycle, &pod, &a, c.view()).is_err());
    let mut dry = cycle.clone();
    let victim = c.state.pod("default/p-a1").unwrap().info.clone();
    p.remove_pod(&mut dry, &pod, &victim, &a, c.view());
    // node-a: 1 + 1 (self) - 1 (min) = 1 <= maxSkew.
    assert_eq!(p.filter(&dry, &pod, &a, c.view()), Ok(()));
    assert!(p.filter(&cycle, &pod, &a, c.view()).is_err());
    // Adding it back restores the rejection.
    p.add_pod(&mut dry, &pod, &victim, &a, c.view());
    assert!(p.filter(&dry, &pod, &a, c.view()).is_err());
}

// ---------------------------------------------------------------------------------------
// Score (upstream TestPodTopologySpreadScore, TestPreScoreStateEmptyNodes, TestPreScoreSkip)
// ---------------------------------------------------------------------------------------

struct ScoreCase {
    name: &'static str,
    pod: Value,
    /// Feasible nodes, in the order PreScore gets them.
    nodes: Vec<Value>,
    /// Nodes that exist but are not feasible.
    failed: Vec<Value>,
    pods: Vec<Value>,
    args: Value,
    service: Option<Value>,
    /// Normalized scores in `nodes` order; `None` = PreScore skips.
    want: Option<Vec<i64>>,
}

fn scase(
    name: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    failed: Vec<Value>,
    pods: Vec<Value>,
    want: &[i64],
) -> ScoreCase {
    ScoreCase {
        name,
        pod,
        nodes,
        failed,
        pods,
        args: list(),
        service: None,
        want: Some(want.to_vec()),
    }
}

fn run_score(case: &ScoreCase) -> Option<Vec<i64>> {
    let all: Vec<Value> = case.nodes.iter().chain(&case.failed).cloned().collect();
    let mut c = cluster(&all, &case.pods);
    if let Some(sel) = &case.service {
        service(&mut c, sel.clone());
    }
    let p = plugin(&mut c, case.args.clone());
    let pod = c.pod(case.pod.clone());
    let feasible: Vec<NodeId> = case
        .nodes
        .iter()
        .map(|n| id(&c, n["metadata"]["name"].as_str().unwrap()))
        .collect();
    let mut cycle = CycleState::new();
    match p
        .pre_score(&mut cycle, &pod, &feasible, c.view())
        .expect(case.name)
    {
        PreScoreOutcome::Skip => return None,
        PreScoreOutcome::Proceed => {}
    }
    let mut scores: Vec<i64> = feasible
        .iter()
        .map(|&n| p.score(&cycle, &pod, c.node_state(n), c.view()))
        .collect();
    let mut batch = vec![0; feasible.len()];
    p.score_nodes(&cycle, &pod, &feasible, c.view(), &mut batch);
    assert_eq!(batch, scores, "{}: score_nodes == score", case.name);
    p.normalize(&cycle, &pod, &mut scores);
    Some(scores)
}

#[test]
fn score_table() {
    let foo_pod = |cs: Vec<Value>| pod(json!({"foo": ""}), cs, json!({}));
    let hosts = |names: &[&str]| names.iter().map(|n| hn(n)).collect::<Vec<_>>();
    let spread_4321 = || {
        [
            foos("p-a", "node-a", 4),
            foos("p-b", "node-b", 3),
            foos("p-c", "node-c", 2),
            foos("p-d", "node-d", 1),
        ]
        .concat()
    };
    let spread_2103 = || {
        [
            foos("p-a", "node-a", 2),
            foos("p-b", "node-b", 1),
            foos("p-d", "node-d", 3),
        ]
        .concat()
    };
    let spread_42_13 = || {
        [
            foos("p-a", "node-a", 4),
            foos("p-b", "node-b", 2),
            foos("p-x", "node-x", 1),
            foos("p-y", "node-y", 3),
        ]
        .concat()
    };
    let node_abc = |extra_a: Value, extra_b: Value| {
        vec![
            node_only("node-a", extra_a),
            node_only("node-b", extra_b),
            node_only("node-c", json!({})),
        ]
    };
    let pods_2_1_1 = || {
        [
            foos("p-a", "node-a", 2),
            foos("p-b", "node-b", 1),
            foos("p-c", "node-c", 1),
        ]
        .concat()
    };
    let mut cases = vec![
        scase(
            "TestPodTopologySpreadScore/one constraint on node, no existing pods",
            foo_pod(vec![soft(1, HOST, foo())]),
            hosts(&["node-a", "node-b"]),
            vec![],
            vec![],
            &[100, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, only one node is candidate",
            foo_pod(vec![soft(1, HOST, foo())]),
            hosts(&["node-a"]),
            hosts(&["node-b"]),
            [foos("p-a", "node-a", 2), foos("p-b", "node-b", 1)].concat(),
            &[100],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, all nodes have the same number of matching pods",
            foo_pod(vec![soft(1, HOST, foo())]),
            hosts(&["node-a", "node-b"]),
            vec![],
            [foos("p-a", "node-a", 1), foos("p-b", "node-b", 1)].concat(),
            &[100, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, all 4 nodes are candidates",
            foo_pod(vec![soft(1, HOST, foo())]),
            hosts(&["node-a", "node-b", "node-c", "node-d"]),
            vec![],
            spread_2103(),
            &[20, 60, 100, 0],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, null selector",
            foo_pod(vec![soft(1, HOST, None)]),
            hosts(&["node-a", "node-b", "node-c", "node-d"]),
            vec![],
            spread_2103(),
            &[100, 100, 100, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, all 4 nodes are candidates, maxSkew=2",
            foo_pod(vec![soft(2, HOST, foo())]),
            hosts(&["node-a", "node-b", "node-c", "node-d"]),
            vec![],
            spread_2103(),
            &[33, 66, 100, 16],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, all 4 nodes are candidates, maxSkew=3",
            foo_pod(vec![soft(3, HOST, foo())]),
            hosts(&["node-a", "node-b", "node-c", "node-d"]),
            vec![],
            spread_4321(),
            &[44, 66, 77, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, 3 out of 4 nodes are candidates",
            foo_pod(vec![soft(1, HOST, foo())]),
            hosts(&["node-a", "node-b", "node-x"]),
            hosts(&["node-y"]),
            spread_42_13(),
            &[33, 83, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key",
            foo_pod(vec![soft(1, HOST, foo())]),
            vec![
                hn("node-a"),
                node("node-b", json!({"n": "node-b"})),
                hn("node-x"),
            ],
            hosts(&["node-y"]),
            spread_42_13(),
            &[16, 0, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/one constraint on zone, 3 out of 4 nodes are candidates",
            foo_pod(vec![soft(1, "zone", foo())]),
            vec![
                zhn("node-a", "zone1"),
                zhn("node-b", "zone1"),
                zhn("node-x", "zone2"),
            ],
            vec![zhn("node-y", "zone2")],
            spread_42_13(),
            &[75, 75, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/two Constraints on zone and node, 2 out of 4 nodes are candidates",
            foo_pod(vec![soft(1, "zone", foo()), soft(1, HOST, foo())]),
            vec![zhn("node-a", "zone1"), zhn("node-x", "zone2")],
            vec![zhn("node-b", "zone1"), zhn("node-y", "zone2")],
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 1),
                foos("p-x", "node-x", 2),
                foos("p-y", "node-y", 4),
            ]
            .concat(),
            &[100, 63],
        ),
        scase(
            "TestPodTopologySpreadScore/two Constraints on zone, 2 out of 4 nodes are candidates",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![soft(1, "zone", foo()), soft(1, "zone", bar())],
                json!({}),
            ),
            vec![
                node("node-a", json!({"zone": "zone1"})),
                node("node-x", json!({"zone": "zone2"})),
            ],
            vec![
                node("node-b", json!({"zone": "zone1"})),
                node("node-y", json!({"zone": "zone2"})),
            ],
            vec![
                on("p-a1", "node-a", json!({"foo": "", "bar": ""})),
                on("p-a2", "node-a", json!({"foo": ""})),
                on("p-b1", "node-b", json!({"foo": "", "bar": ""})),
                on("p-y1", "node-y", json!({"foo": ""})),
                on("p-y2", "node-y", json!({"foo": "", "bar": ""})),
                on("p-y3", "node-y", json!({"foo": ""})),
            ],
            &[85, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/two Constraints on zone and node, with different labelSelectors",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![soft(1, "zone", foo()), soft(1, HOST, bar())],
                json!({}),
            ),
            vec![
                zhn("node-a", "zone1"),
                zhn("node-b", "zone1"),
                zhn("node-x", "zone2"),
                zhn("node-y", "zone2"),
            ],
            vec![],
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                on("p-b1", "node-b", json!({"foo": "", "bar": ""})),
                on("p-y1", "node-y", json!({"foo": ""})),
                on("p-y2", "node-y", json!({"bar": ""})),
            ],
            &[60, 20, 100, 60],
        ),
        scase(
            "TestPodTopologySpreadScore/two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![soft(1, "zone", foo()), soft(1, HOST, bar())],
                json!({}),
            ),
            vec![
                zhn("node-a", "zone1"),
                zhn("node-b", "zone1"),
                zhn("node-x", "zone2"),
                zhn("node-y", "zone2"),
            ],
            vec![],
            vec![
                on("p-b1", "node-b", json!({"bar": ""})),
                on("p-x1", "node-x", json!({"foo": ""})),
                on("p-y1", "node-y", json!({"foo": "", "bar": ""})),
            ],
            &[100, 60, 40, 0],
        ),
        scase(
            "TestPodTopologySpreadScore/two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![soft(1, "zone", foo()), soft(1, HOST, bar())],
                json!({}),
            ),
            vec![
                zhn("node-a", "zone1"),
                zhn("node-b", "zone1"),
                zhn("node-x", "zone2"),
            ],
            vec![zhn("node-y", "zone2")],
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                on("p-b1", "node-b", json!({"foo": "", "bar": ""})),
                on("p-y1", "node-y", json!({"foo": ""})),
                on("p-y2", "node-y", json!({"bar": ""})),
            ],
            &[50, 25, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/existing pods in a different namespace do not count",
            foo_pod(vec![soft(1, HOST, foo())]),
            hosts(&["node-a", "node-b"]),
            vec![],
            vec![
                in_ns(on("p-a1", "node-a", json!({"foo": ""})), "ns1"),
                on("p-a2", "node-a", json!({"foo": ""})),
                on("p-b1", "node-b", json!({"foo": ""})),
                on("p-b2", "node-b", json!({"foo": ""})),
            ],
            &[100, 33],
        ),
        scase(
            "TestPodTopologySpreadScore/terminating Pods should be excluded",
            foo_pod(vec![soft(1, HOST, foo())]),
            hosts(&["node-a", "node-b"]),
            vec![],
            vec![
                terminating(on("p-a", "node-a", json!({"foo": ""}))),
                on("p-b", "node-b", json!({"foo": ""})),
            ],
            &[100, 0],
        ),
        scase(
            "TestPodTopologySpreadScore/NodeAffinityPolicy honoed with labelSelectors",
            pod(
                json!({"foo": ""}),
                vec![soft(1, "node", foo())],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            node_abc(json!({"foo": ""}), json!({"foo": ""})),
            vec![],
            pods_2_1_1(),
            &[0, 33, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/NodeAffinityPolicy ignored with labelSelectors",
            pod(
                json!({"foo": ""}),
                vec![with(
                    soft(1, "node", foo()),
                    "nodeAffinityPolicy",
                    json!("Ignore"),
                )],
                json!({"nodeSelector": {"foo": ""}}),
            ),
            node_abc(json!({"foo": ""}), json!({"foo": ""})),
            vec![],
            pods_2_1_1(),
            &[66, 100, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/NodeAffinityPolicy honoed with nodeAffinity",
            pod(
                json!({"foo": ""}),
                vec![soft(1, "node", foo())],
                node_affinity("foo", "In", &[""]),
            ),
            node_abc(json!({"foo": ""}), json!({"foo": ""})),
            vec![],
            pods_2_1_1(),
            &[0, 33, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/NodeTaintsPolicy honored",
            foo_pod(vec![with(
                soft(1, "node", foo()),
                "nodeTaintsPolicy",
                json!("Honor"),
            )]),
            vec![
                node_only("node-a", json!({})),
                node_only("node-b", json!({})),
                tainted("node-c", json!({"node": "node-c"})),
            ],
            vec![],
            pods_2_1_1(),
            &[0, 33, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/NodeTaintsPolicy ignored",
            foo_pod(vec![soft(1, "node", foo())]),
            vec![
                node_only("node-a", json!({})),
                node_only("node-b", json!({})),
                tainted("node-c", json!({"node": "node-c"})),
            ],
            vec![],
            pods_2_1_1(),
            &[66, 100, 100],
        ),
        scase(
            // Placer's conversion rejects minDomains with ScheduleAnyway, as the API server
            // does, so the row runs without it (the scores are the same upstream).
            "TestPodTopologySpreadScore/minDomains has no effect when ScheduleAnyway",
            foo_pod(vec![soft(2, "node", foo())]),
            vec![
                node_only("node-a", json!({})),
                node_only("node-b", json!({})),
                node_only("node-c", json!({})),
            ],
            vec![],
            [
                foos("p-a", "node-a", 2),
                foos("p-b", "node-b", 2),
                foos("p-c", "node-c", 1),
            ]
            .concat(),
            &[75, 75, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
            pod(
                json!({"foo": "", "bar": ""}),
                vec![
                    with(
                        soft(1, "zone", Some(json!({}))),
                        "matchLabelKeys",
                        json!(["foo"]),
                    ),
                    with(
                        soft(1, HOST, Some(json!({}))),
                        "matchLabelKeys",
                        json!(["bar"]),
                    ),
                ],
                json!({}),
            ),
            vec![
                zhn("node-a", "zone1"),
                zhn("node-b", "zone1"),
                zhn("node-c", "zone2"),
                zhn("node-d", "zone2"),
            ],
            vec![],
            vec![
                on("p-a1", "node-a", json!({"foo": ""})),
                on("p-b1", "node-b", json!({"foo": "", "bar": ""})),
                on("p-y1", "node-c", json!({"foo": ""})),
                on("p-y2", "node-c", json!({"bar": ""})),
            ],
            // Same as upstream's "matchLabelKeys ignored when feature gate disabled" spreads.
            &[60, 20, 60, 100],
        ),
        scase(
            "TestPodTopologySpreadScore/empty selector {} without matchLabelKeys counts nothing",
            foo_pod(vec![soft(1, HOST, Some(json!({})))]),
            hosts(&["node-a", "node-b"]),
            vec![],
            foos("p-a", "node-a", 3),
            &[100, 100],
        ),
    ];
    let mut system_hosts = scase(
        "TestPodTopologySpreadScore/system defaulting, nodes don't have zone, pods match service",
        plain(json!({"foo": ""})),
        hosts(&["node-a", "node-b", "node-c", "node-d"]),
        vec![],
        spread_4321(),
        &[44, 66, 77, 100],
    );
    system_hosts.args = system();
    system_hosts.service = Some(json!({"foo": ""}));
    cases.push(system_hosts);
    let mut no_service = scase(
        "system defaulting without a Service/controller: PreScore skips",
        plain(json!({"foo": ""})),
        hosts(&["node-a", "node-b"]),
        vec![],
        vec![],
        &[],
    );
    no_service.args = system();
    no_service.want = None;
    cases.push(no_service);
    let mut no_soft = scase(
        "TestPreScoreSkip/the pod doesn't have soft topology spread Constraints",
        plain(json!({})),
        hosts(&["node-a", "node-b"]),
        vec![],
        vec![],
        &[],
    );
    no_soft.want = None;
    cases.push(no_soft);
    let mut hard_only = scase(
        "pod with only DoNotSchedule constraints gets no default soft constraints",
        pod(json!({"foo": ""}), vec![hard(1, HOST, foo())], json!({})),
        hosts(&["node-a", "node-b"]),
        vec![],
        vec![],
        &[],
    );
    hard_only.args = system();
    hard_only.service = Some(json!({"foo": ""}));
    hard_only.want = None;
    cases.push(hard_only);
    assert!(cases.len() >= 15);
    for case in &cases {
        assert_eq!(run_score(case), case.want, "{}", case.name);
    }
}

// ---------------------------------------------------------------------------------------
// Named tests for the subtle rules
// ---------------------------------------------------------------------------------------

fn rs_pod(labels: Value) -> Value {
    let mut p = plain(labels);
    p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs1", "uid": "u1", "controller": true}]);
    p
}

fn replica_set(c: &mut TestCluster, selector: Value) {
    let rs = serde_json::from_value(json!({
        "metadata": {"name": "rs1", "namespace": "default"}, "spec": {"selector": selector}
    }))
    .expect("rs JSON");
    c.state.apply_replica_set(&rs).expect("rs");
}

/// upstream TestPreScoreStateEmptyNodes "system default constraints and a replicaset": with
/// system defaults, nodes without a zone are not ignored; they form the zone "" (which counts
/// in the zone topology's size) and still get hostname spreading.
#[test]
fn system_defaults_treat_a_missing_zone_as_the_empty_domain() {
    let nodes = vec![
        node("node-a", json!({HOST: "node-a", ZONE: "mars"})),
        node("node-b", json!({HOST: "node-b", ZONE: "mars"})),
        hn("node-c"),
        hn("node-d"),
    ];
    let mut c = cluster(
        &nodes,
        &[
            on("p-c1", "node-c", json!({"foo": "tar"})),
            on("p-a1", "node-a", json!({"foo": "x"})),
        ],
    );
    replica_set(&mut c, exists("foo"));
    let p = plugin(&mut c, system());
    let pod = c.pod(rs_pod(json!({"foo": "tar", "baz": "sup"})));
    let ids: Vec<NodeId> = ["node-a", "node-b", "node-c", "node-d"]
        .iter()
        .map(|n| id(&c, n))
        .collect();
    let mut cycle = CycleState::new();
    assert_eq!(
        p.pre_score(&mut cycle, &pod, &ids, c.view()),
        Ok(PreScoreOutcome::Proceed)
    );
    let s = cycle.read::<PreScoreState>().unwrap();
    assert!(s.ignored.is_empty());
    // hostname (maxSkew 3) first, then zone (maxSkew 5), as upstream's systemDefaultConstraints.
    assert_eq!(
        (s.constraints[0].max_skew, s.constraints[1].max_skew),
        (3, 5)
    );
    assert!(s.constraints[0].per_node);
    assert_eq!(s.constraints[0].weight, topology_normalizing_weight(4));
    assert_eq!(s.constraints[1].weight, topology_normalizing_weight(2));
    let mars = c.state.interner().get("mars").unwrap();
    let mut zone_counts: Vec<(Sym, i64)> = s.constraints[1]
        .counts
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect();
    zone_counts.sort();
    // p-a1 (zone mars) and p-c1 (no zone: the "" domain) both match `foo Exists`.
    assert_eq!(zone_counts, vec![(Sym::EMPTY, 1), (mars, 1)]);
    // node-c: hostname 1·ln6 + 2, no zone label so no zone term; node-a: 1·ln6 + 2 + 1·ln4 + 4.
    let raw: Vec<i64> = ids
        .iter()
        .map(|&n| p.score(&cycle, &pod, c.node_state(n), c.view()))
        .collect();
    let w6 = topology_normalizing_weight(4);
    let w4 = topology_normalizing_weight(2);
    assert_eq!(
        raw,
        vec![
            (w6 + 2.0 + w4 + 4.0).round() as i64,
            (4.0 + w4).round() as i64 + 2,
            (w6 + 2.0).round() as i64,
            2
        ]
    );
}

/// Non-system defaults (and the pod's own constraints) require every key: a feasible node
/// without one is ignored, scores 0 and does not take part in min/max.
#[test]
fn list_defaults_ignore_nodes_missing_a_key() {
    let nodes = vec![zhn("node-a", "z1"), hn("node-b"), zhn("node-c", "z2")];
    let mut c = cluster(&nodes, &foos("p-a", "node-a", 2));
    service(&mut c, json!({"foo": ""}));
    let p = plugin(
        &mut c,
        json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}]}),
    );
    let pod = c.pod(plain(json!({"foo": ""})));
    let ids: Vec<NodeId> = ["node-a", "node-b", "node-c"]
        .iter()
        .map(|n| id(&c, n))
        .collect();
    let mut cycle = CycleState::new();
    assert_eq!(
        p.pre_score(&mut cycle, &pod, &ids, c.view()),
        Ok(PreScoreOutcome::Proceed)
    );
    let b = c.state.interner().get("node-b").unwrap();
    assert_eq!(cycle.read::<PreScoreState>().unwrap().ignored, vec![b]);
    let mut scores: Vec<i64> = ids
        .iter()
        .map(|&n| p.score(&cycle, &pod, c.node_state(n), c.view()))
        .collect();
    // zone size 2 -> weight ln4; node-a: round(2·1.386) = 3, node-c: 0.
    assert_eq!(scores, vec![3, 0, 0]);
    p.normalize(&cycle, &pod, &mut scores);
    assert_eq!(scores, vec![0, 0, 100]);
}

/// upstream criticalPaths.update, including its documented imprecision: after an increment
/// of the minimum, `[1]` is not guaranteed to be the second minimum.
#[test]
fn critical_paths_follow_upstream_update_rule() {
    let mut interner = Interner::new();
    let (a, b, c) = (
        interner.intern("a"),
        interner.intern("b"),
        interner.intern("c"),
    );
    let mut p = CriticalPaths::new();
    for (v, n) in [(a, 3), (b, 1), (c, 2)] {
        p.update(v, n);
    }
    assert_eq!(p.0, [(b, 1), (c, 2)]);
    // b goes to 5: swapped with c; a (3) is now the true second minimum but is not tracked.
    p.update(b, 5);
    assert_eq!(p.0, [(c, 2), (b, 5)]);
    // A value outside the paths that drops below the minimum takes [0].
    p.update(a, 1);
    assert_eq!(p.0, [(a, 1), (c, 2)]);
    // Initial paths: "" with MaxInt32, which the empty domain value matches.
    let mut q = CriticalPaths::new();
    q.update(Sym::EMPTY, 4);
    assert_eq!(q.0, [(Sym::EMPTY, 4), (Sym::EMPTY, MAX)]);
}

/// An empty selector `{}`: countPodsMatchSelector counts nothing, but the incoming pod matches
/// itself (selfMatch 1) and AddPod (Selector.Matches) does count an added pod.
#[test]
fn empty_selector_counts_nothing_but_matches_self_and_added_pods() {
    let mut c = cluster(
        &[
            node_only("node-a", json!({})),
            node_only("node-b", json!({})),
        ],
        &foos("p-a", "node-a", 3),
    );
    let p = plugin(&mut c, list());
    let pod = c.pod(pod(
        json!({"foo": ""}),
        vec![hard(1, "node", Some(json!({})))],
        json!({}),
    ));
    let mut cycle = CycleState::new();
    p.pre_filter(&mut cycle, &pod, c.view()).unwrap();
    let a = c.node_state(id(&c, "node-a")).clone();
    let b = c.node_state(id(&c, "node-b")).clone();
    assert_eq!(p.filter(&cycle, &pod, &a, c.view()), Ok(()));
    let added = c.pod(on("new", "node-a", json!({"other": "x"})));
    p.add_pod(&mut cycle, &pod, &added, &a, c.view());
    p.add_pod(&mut cycle, &pod, &added, &a, c.view());
    // node-a now counts 2 (min 0): 2 + 1 - 0 > 1.
    assert_eq!(
        p.filter(&cycle, &pod, &a, c.view()),
        Err(Rejection::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH))
    );
    assert_eq!(p.filter(&cycle, &pod, &b, c.view()), Ok(()));
}

/// Pods bound to a node the state does not have (a placeholder) are in no domain.
#[test]
fn pods_on_missing_nodes_do_not_count() {
    let mut c = cluster(
        &[
            node_only("node-a", json!({})),
            node_only("node-b", json!({})),
        ],
        &[foos("p-a", "node-a", 1), foos("p-gone", "node-gone", 5)].concat(),
    );
    let p = plugin(&mut c, list());
    let pod = c.pod(pod(
        json!({"foo": ""}),
        vec![hard(1, "node", foo())],
        json!({}),
    ));
    let mut cycle = CycleState::new();
    p.pre_filter(&mut cycle, &pod, c.view()).unwrap();
    let got = state_of(cycle.read::<PreFilterState>().unwrap(), c.state.interner());
    assert_eq!(
        got,
        owned(&vec![(vec![("node-a", 1), ("node-b", 0)], [0, 1])])
    );
}

/// The first failing constraint decides: a missing key on the second constraint is only
/// reported when the first passes.
#[test]
fn first_failing_constraint_decides() {
    let mut c = cluster(
        &[
            zn("node-a", "zone1"),
            node("node-b", json!({"zone": "zone2"})),
        ],
        &foos("p-a", "node-a", 3),
    );
    let p = plugin(&mut c, list());
    let pod = c.pod(pod(
        json!({"foo": ""}),
        vec![hard(1, "zone", foo()), hard(1, "node", foo())],
        json!({}),
    ));
    let mut cycle = CycleState::new();
    p.pre_filter(&mut cycle, &pod, c.view()).unwrap();
    // zone: node-b lacks "node" so it is no domain: zone1=3 is the only domain (min 3).
    let a = c.node_state(id(&c, "node-a")).clone();
    let b = c.node_state(id(&c, "node-b")).clone();
    assert_eq!(
        p.filter(&cycle, &pod, &b, c.view()),
        Err(Rejection::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH))
    );
    // node-a: zone 3+1-3 = 1 passes; node: node-a is the only domain, 3+1-3 = 1 passes.
    assert_eq!(p.filter(&cycle, &pod, &a, c.view()), Ok(()));
}

/// Filter without PreFilter state is an error, as upstream's getPreFilterState.
#[test]
fn filter_without_pre_filter_is_an_error() {
    let mut c = cluster(&[zn("node-a", "zone1")], &[]);
    let p = plugin(&mut c, list());
    let pod = c.pod(pod(
        json!({"foo": ""}),
        vec![hard(1, "zone", foo())],
        json!({}),
    ));
    let r = p
        .filter(
            &CycleState::new(),
            &pod,
            c.node_state(id(&c, "node-a")),
            c.view(),
        )
        .unwrap_err();
    assert_eq!(r.code, sched_core::framework::Code::Error);
}

/// Score's hostname count is the node's own matching pods, without inclusion policies
/// (upstream Score calls countPodsMatchSelector on the node), while zone counts honour them.
#[test]
fn hostname_score_counts_the_nodes_pods_regardless_of_policies() {
    let nodes = vec![tainted("node-a", json!({HOST: "node-a"})), hn("node-b")];
    let mut c = cluster(&nodes, &foos("p-a", "node-a", 2));
    let p = plugin(&mut c, list());
    let pod = c.pod(pod(
        json!({"foo": ""}),
        vec![with(
            soft(1, HOST, foo()),
            "nodeTaintsPolicy",
            json!("Honor"),
        )],
        json!({}),
    ));
    let ids = vec![id(&c, "node-a"), id(&c, "node-b")];
    let mut cycle = CycleState::new();
    p.pre_score(&mut cycle, &pod, &ids, c.view()).unwrap();
    let raw: Vec<i64> = ids
        .iter()
        .map(|&n| p.score(&cycle, &pod, c.node_state(n), c.view()))
        .collect();
    // hostname size 2 -> ln4: node-a round(2·1.386) = 3.
    assert_eq!(raw, vec![3, 0]);
}

/// The factory reads `defaultConstraints` with their policies and minDomains; bad shapes fail.
#[test]
fn factory_reads_list_defaults() {
    let mut c = cluster(&[], &[]);
    let p = plugin(
        &mut c,
        json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 2, "topologyKey": "rack", "whenUnsatisfiable": "DoNotSchedule", "minDomains": 3,
         "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor"}]}),
    );
    assert!(!p.system_defaulted);
    let rack = c.state.interner().get("rack").unwrap();
    assert_eq!(
        p.defaults,
        vec![DefaultConstraint {
            max_skew: 2,
            key: rack,
            action: WhenUnsatisfiable::DoNotSchedule,
            min_domains: 3,
            affinity_honor: false,
            taints_honor: true,
        }]
    );
    let s = plugin(&mut c, system());
    assert!(s.system_defaulted && s.defaults.len() == 2);
    let mut cfg = ProfileConfig {
        scheduler_name: "x".into(),
        percentage_of_nodes_to_score: None,
        points: Default::default(),
        args: Default::default(),
    };
    cfg.args
        .other
        .insert(NAME.into(), json!({"defaultingType": "Other"}));
    assert!(PodTopologySpread::new(&cfg, c.state.interner_mut()).is_err());
    // No arguments at all: upstream's default, System.
    cfg.args.other.clear();
    assert!(
        PodTopologySpread::new(&cfg, c.state.interner_mut())
            .unwrap()
            .system_defaulted
    );
}

// ---------------------------------------------------------------------------------------
// Randomized comparison with a naive, node-by-node transcription of upstream
// ---------------------------------------------------------------------------------------

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn random_case(rng: &mut Rng) -> (Vec<Value>, Vec<Value>, Value, Value) {
    let n = 1 + rng.below(10) as usize;
    let mut nodes = Vec::new();
    for i in 0..n {
        let name = format!("n{i}");
        let mut labels = json!({});
        if !rng.chance(20) {
            labels["zone"] = json!(format!("z{}", rng.below(3)));
        }
        if !rng.chance(10) {
            labels[HOST] = json!(name.clone());
        }
        if !rng.chance(30) {
            labels["rack"] = json!(format!("r{}", rng.below(2)));
        }
        if rng.chance(50) {
            labels["foo"] = json!("");
        }
        nodes.push(if rng.chance(30) {
            tainted(&name, labels)
        } else {
            node(&name, labels)
        });
    }
    let mut pods = Vec::new();
    for i in 0..rng.below(25) {
        let node = if rng.chance(5) {
            "gone".to_string()
        } else {
            format!("n{}", rng.below(n as u64))
        };
        let labels = match rng.below(3) {
            0 => json!({"app": "a"}),
            1 => json!({"app": "b"}),
            _ => json!({}),
        };
        let mut p = on(&format!("e{i}"), &node, labels);
        if rng.chance(15) {
            p = in_ns(p, "other");
        }
        if rng.chance(10) {
            p = terminating(p);
        }
        pods.push(p);
    }
    let mut constraints = Vec::new();
    if rng.chance(85) {
        for _ in 0..1 + rng.below(2) {
            let key = [ZONE_KEY, HOST, "rack"][rng.below(3) as usize];
            let sel = match rng.below(4) {
                0 => Some(json!({"matchLabels": {"app": "a"}})),
                1 => Some(exists("app")),
                2 => Some(json!({})),
                _ => None,
            };
            let hard_one = rng.chance(50);
            let mut c = tsc(
                1 + rng.below(2) as i32,
                key,
                if hard_one {
                    "DoNotSchedule"
                } else {
                    "ScheduleAnyway"
                },
                sel,
            );
            if hard_one && rng.chance(30) {
                c["minDomains"] = json!(1 + rng.below(4));
            }
            if rng.chance(30) {
                c["nodeAffinityPolicy"] = json!("Ignore");
            }
            if rng.chance(40) {
                c["nodeTaintsPolicy"] = json!("Honor");
            }
            constraints.push(c);
        }
    }
    let mut extra = json!({});
    if rng.chance(30) {
        extra["nodeSelector"] = json!({"foo": ""});
    }
    if rng.chance(30) {
        extra["tolerations"] = toleration()["tolerations"].clone();
    }
    let incoming = pod(json!({"app": "a"}), constraints, extra);
    let args = match rng.below(3) {
        0 => system(),
        1 => list(),
        _ => json!({"defaultingType": "List", "defaultConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 2, "topologyKey": HOST, "whenUnsatisfiable": "ScheduleAnyway", "nodeTaintsPolicy": "Honor"}]}),
    };
    (nodes, pods, incoming, args)
}

const ZONE_KEY: &str = "zone";

/// upstream countPodsMatchSelector over a node's pods.
fn naive_count(node: &NodeState, sel: Option<&LabelSelector>, ns: Sym, interner: &Interner) -> i64 {
    if !counts_pods(sel) {
        return 0;
    }
    node.pods
        .iter()
        .filter(|p| {
            !p.terminating && p.namespace_sym == ns && selector_matches(sel, &p.labels, interner)
        })
        .count() as i64
}

/// upstream calPreFilterState, node by node.
fn naive_pre_filter(
    c: &TestCluster,
    p: &PodTopologySpread,
    pod: &PodInfo,
) -> Option<Vec<Vec<(Sym, i64)>>> {
    let (cons, default) = p
        .constraints(pod, WhenUnsatisfiable::DoNotSchedule, &c.state)
        .unwrap()?;
    let interner = c.state.interner();
    let mut out: Vec<std::collections::BTreeMap<Sym, i64>> = vec![Default::default(); cons.len()];
    for &nid in c.state.node_ids() {
        let node = c.state.node(nid);
        if !has_all_keys(&node.info.labels, &cons) {
            continue;
        }
        for (i, k) in cons.iter().enumerate() {
            if !node_included(k, pod, &node.info, interner) {
                continue;
            }
            let v = node.info.labels.get(k.key).unwrap();
            *out[i].entry(v).or_insert(0) += naive_count(
                node,
                selector(k, pod, default.as_ref()),
                pod.namespace_sym,
                interner,
            );
        }
    }
    Some(out.into_iter().map(|m| m.into_iter().collect()).collect())
}

/// upstream PreScore + Score, node by node: raw scores of `feasible`.
fn naive_scores(
    c: &TestCluster,
    p: &PodTopologySpread,
    pod: &PodInfo,
    feasible: &[NodeId],
) -> Option<Vec<(bool, i64)>> {
    let (cons, default) = p
        .constraints(pod, WhenUnsatisfiable::ScheduleAnyway, &c.state)
        .unwrap()?;
    let interner = c.state.interner();
    let require_all = !pod.topology_spread.is_empty() || !p.system_defaulted;
    let ignored = |id: NodeId| require_all && !has_all_keys(&c.state.node(id).info.labels, &cons);
    let mut counts: Vec<std::collections::BTreeMap<Sym, i64>> =
        vec![Default::default(); cons.len()];
    let mut weights = Vec::new();
    for (i, k) in cons.iter().enumerate() {
        let scored: Vec<NodeId> = feasible
            .iter()
            .copied()
            .filter(|&id| !ignored(id))
            .collect();
        if k.key == p.hostname {
            weights.push(topology_normalizing_weight(scored.len()));
            continue;
        }
        for &id in &scored {
            counts[i].insert(
                c.state
                    .node(id)
                    .info
                    .labels
                    .get(k.key)
                    .unwrap_or(Sym::EMPTY),
                0,
            );
        }
        weights.push(topology_normalizing_weight(counts[i].len()));
    }
    for &nid in c.state.node_ids() {
        let node = c.state.node(nid);
        if require_all && !has_all_keys(&node.info.labels, &cons) {
            continue;
        }
        for (i, k) in cons.iter().enumerate() {
            if k.key == p.hostname || !node_included(k, pod, &node.info, interner) {
                continue;
            }
            let v = node.info.labels.get(k.key).unwrap_or(Sym::EMPTY);
            if let Some(n) = counts[i].get_mut(&v) {
                *n += naive_count(
                    node,
                    selector(k, pod, default.as_ref()),
                    pod.namespace_sym,
                    interner,
                );
            }
        }
    }
    Some(
        feasible
            .iter()
            .map(|&id| {
                if ignored(id) {
                    return (true, 0);
                }
                let node = c.state.node(id);
                let mut score = 0.0;
                for (i, k) in cons.iter().enumerate() {
                    let Some(v) = node.info.labels.get(k.key) else {
                        continue;
                    };
                    let cnt = if k.key == p.hostname {
                        naive_count(
                            node,
                            selector(k, pod, default.as_ref()),
                            pod.namespace_sym,
                            interner,
                        )
                    } else {
                        counts[i][&v]
                    };
                    score += cnt as f64 * weights[i] + f64::from(k.max_skew - 1);
                }
                (false, score.round() as i64)
            })
            .collect(),
    )
}

#[test]
fn matches_naive_upstream_transcription_on_random_clusters() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checked = (0, 0);
    for round in 0..400 {
        let (nodes, pods, incoming, args) = random_case(&mut rng);
        let mut c = cluster(&nodes, &pods);
        if rng.chance(60) {
            service(&mut c, json!({"app": "a"}));
        }
        let p = plugin(&mut c, args);
        let pod = c.pod(incoming);
        // PreFilter counts.
        let mut cycle = CycleState::new();
        let out = p.pre_filter(&mut cycle, &pod, c.view()).unwrap();
        let naive = naive_pre_filter(&c, &p, &pod);
        match (&out, &naive) {
            (PreFilterOutcome::Skip, None) => {}
            (PreFilterOutcome::Proceed, Some(want)) => {
                let s = cycle.read::<PreFilterState>().unwrap();
                let got: Vec<Vec<(Sym, i64)>> = s
                    .counts
                    .iter()
                    .map(|m| {
                        let mut v: Vec<(Sym, i64)> = m.iter().map(|(k, n)| (*k, *n)).collect();
                        v.sort();
                        v
                    })
                    .collect();
                assert_eq!(&got, want, "round {round}: PreFilter counts");
                for (i, m) in s.counts.iter().enumerate() {
                    assert_eq!(
                        s.paths[i].0[0].1,
                        m.values().copied().min().unwrap_or(MAX),
                        "round {round}: min path"
                    );
                }
                checked.0 += 1;
            }
            other => panic!("round {round}: {other:?}"),
        }
        // PreScore/Score on a random feasible subset, in a random order.
        let mut feasible: Vec<NodeId> = c
            .state
            .node_ids()
            .iter()
            .copied()
            .filter(|_| rng.chance(70))
            .collect();
        if feasible.len() > 1 {
            let k = rng.below(feasible.len() as u64) as usize;
            feasible.rotate_left(k);
        }
        let mut cycle = CycleState::new();
        let out = p.pre_score(&mut cycle, &pod, &feasible, c.view()).unwrap();
        let naive = naive_scores(&c, &p, &pod, &feasible);
        match (out, naive) {
            (PreScoreOutcome::Skip, None) => {}
            (PreScoreOutcome::Proceed, Some(want)) => {
                let raw: Vec<i64> = feasible
                    .iter()
                    .map(|&id| p.score(&cycle, &pod, c.node_state(id), c.view()))
                    .collect();
                assert_eq!(
                    raw,
                    want.iter().map(|w| w.1).collect::<Vec<_>>(),
                    "round {round}: raw scores"
                );
                // NormalizeScore as upstream, from the naive raw scores.
                let kept: Vec<i64> = want.iter().filter(|w| !w.0).map(|w| w.1).collect();
                let (min, max) = (
                    kept.iter().copied().min().unwrap_or(i64::MAX),
                    kept.iter().copied().max().unwrap_or(0),
                );
                let expect: Vec<i64> = want
                    .iter()
                    .map(|&(ign, s)| {
                        if ign {
                            0
                        } else if max == 0 {
                            100
                        } else {
                            100 * (max + min - s) / max
                        }
                    })
                    .collect();
                let mut scores = raw;
                p.normalize(&cycle, &pod, &mut scores);
                assert_eq!(scores, expect, "round {round}: normalized");
                checked.1 += 1;
            }
            (o, n) => panic!("round {round}: {o:?} vs {n:?}"),
        }
    }
    assert!(checked.0 > 50 && checked.1 > 50, "{checked:?}");
}
