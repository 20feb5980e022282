//! Table tests translated from upstream `interpodaffinity/filtering_test.go` and
//! `scoring_test.go` (one row per upstream case, named after it), plus a test per subtle rule.
//!
//! Upstream's `defaultNamespace` is `""`; Placer's conversion reads an unset namespace as
//! `default`, so the rows use `default` wherever upstream leaves the namespace unset.

use super::*;
use crate::testing::TestCluster;
use sched_core::framework::Code;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Builders (upstream `st.MakePod()` and friends, as JSON).

fn node(name: &str, labels: Value) -> Value {
    json!({"metadata": {"name": name, "labels": labels}})
}

fn expr(key: &str, op: &str, values: &[&str]) -> Value {
    if values.is_empty() {
        json!({"key": key, "operator": op})
    } else {
        json!({"key": key, "operator": op, "values": values})
    }
}

/// A term with `matchExpressions` and a topology key.
fn term(exprs: Value, topology_key: &str) -> Value {
    json!({"labelSelector": {"matchExpressions": exprs}, "topologyKey": topology_key})
}

/// A pod under construction.
#[derive(Clone)]
struct P(Value);

impl P {
    fn new() -> Self {
        P(json!({
            "metadata": {"name": "", "namespace": "default"},
            "spec": {"containers": [{"name": "c"}]}
        }))
    }
    fn ns(mut self, ns: &str) -> Self {
        self.0["metadata"]["namespace"] = json!(ns);
        self
    }
    fn labels(mut self, labels: Value) -> Self {
        self.0["metadata"]["labels"] = labels;
        self
    }
    fn push(mut self, kind: &str, when: &str, item: Value) -> Self {
        let list = &mut self.0["spec"]["affinity"][kind][when];
        if list.is_null() {
            *list = json!([]);
        }
        list.as_array_mut().expect("list").push(item);
        self
    }
    fn req_aff(self, t: Value) -> Self {
        self.push(
            "podAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            t,
        )
    }
    fn req_anti(self, t: Value) -> Self {
        self.push(
            "podAntiAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            t,
        )
    }
    fn pref_aff(self, weight: i32, t: Value) -> Self {
        self.push(
            "podAffinity",
            "preferredDuringSchedulingIgnoredDuringExecution",
            json!({"weight": weight, "podAffinityTerm": t}),
        )
    }
    fn pref_anti(self, weight: i32, t: Value) -> Self {
        self.push(
            "podAntiAffinity",
            "preferredDuringSchedulingIgnoredDuringExecution",
            json!({"weight": weight, "podAffinityTerm": t}),
        )
    }
    /// upstream `PodAffinityIn(key, topologyKey, values, PodAffinityWithRequiredReq)`.
    fn aff_in(self, key: &str, topo: &str, values: &[&str]) -> Self {
        self.req_aff(term(json!([expr(key, "In", values)]), topo))
    }
    fn aff_not_in(self, key: &str, topo: &str, values: &[&str]) -> Self {
        self.req_aff(term(json!([expr(key, "NotIn", values)]), topo))
    }
    fn aff_exists(self, key: &str, topo: &str) -> Self {
        self.req_aff(term(json!([expr(key, "Exists", &[])]), topo))
    }
    fn anti_in(self, key: &str, topo: &str, values: &[&str]) -> Self {
        self.req_anti(term(json!([expr(key, "In", values)]), topo))
    }
    fn anti_not_in(self, key: &str, topo: &str, values: &[&str]) -> Self {
        self.req_anti(term(json!([expr(key, "NotIn", values)]), topo))
    }
    fn anti_exists(self, key: &str, topo: &str) -> Self {
        self.req_anti(term(json!([expr(key, "Exists", &[])]), topo))
    }
    /// Sets the affinity object as a whole (upstream rows that share `*v1.Affinity` values).
    fn affinity(mut self, a: &Value) -> Self {
        self.0["spec"]["affinity"] = a.clone();
        self
    }
    fn terminating(mut self) -> Self {
        self.0["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        self
    }
    fn on(self, node: &str) -> (P, String) {
        (self, node.to_string())
    }
}

fn add_namespace(c: &mut TestCluster, v: Value) {
    let ns: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(v).expect("namespace JSON");
    c.state.apply_namespace(&ns).expect("namespace added");
}

/// upstream scoring_test.go `namespaces`.
fn add_namespaces(c: &mut TestCluster) {
    for (name, team) in [
        ("subteam1.team1", "team1"),
        ("subteam2.team1", "team1"),
        ("subteam1.team2", "team2"),
        ("subteam2.team2", "team2"),
    ] {
        add_namespace(
            c,
            json!({"metadata": {"name": name, "labels": {"team": team}}}),
        );
    }
    // filtering_test.go TestRequiredAffinityMultipleNodes registers NS1.
    add_namespace(c, json!({"metadata": {"name": "NS1"}}));
}

/// A cluster with the nodes and running pods (named `p0`, `p1`, … unless named).
fn cluster(nodes: &[Value], pods: &[(P, String)]) -> (TestCluster, Vec<NodeId>) {
    let mut c = TestCluster::new();
    add_namespaces(&mut c);
    let ids = nodes.iter().map(|n| c.node(n.clone())).collect();
    for (i, (p, on)) in pods.iter().enumerate() {
        let mut v = p.0.clone();
        if v["metadata"]["name"] == json!("") {
            v["metadata"]["name"] = json!(format!("p{i}"));
        }
        c.running(v, on);
    }
    (c, ids)
}

fn incoming(c: &mut TestCluster, p: &P) -> PodInfo {
    let mut v = p.0.clone();
    if v["metadata"]["name"] == json!("") {
        v["metadata"]["name"] = json!("incoming");
    }
    c.pod(v)
}

// ---------------------------------------------------------------------------------------------
// Filter tables.

/// What PreFilter should return.
#[derive(Clone, Debug)]
enum Pre {
    Proceed,
    Skip,
    /// Rejected with this code and a message starting with this text.
    Reject(Code, &'static str),
}

fn unresolvable() -> FilterResult {
    Err(Rejection::unresolvable(ERR_REASON_AFFINITY))
}
fn anti() -> FilterResult {
    Err(Rejection::unschedulable(ERR_REASON_ANTI_AFFINITY))
}
fn existing() -> FilterResult {
    Err(Rejection::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY))
}

struct FilterCase {
    name: &'static str,
    pod: P,
    pods: Vec<(P, String)>,
    nodes: Vec<Value>,
    pre: Pre,
    /// Per node, when PreFilter proceeds.
    want: Vec<FilterResult>,
}

fn run_filter_case(case: &FilterCase) {
    let (mut c, ids) = cluster(&case.nodes, &case.pods);
    let pod = incoming(&mut c, &case.pod);
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    let got = pl.pre_filter(&mut cycle, &pod, c.view());
    match (&case.pre, &got) {
        (Pre::Proceed, Ok(PreFilterOutcome::Proceed)) => {}
        (Pre::Skip, Ok(PreFilterOutcome::Skip)) => return,
        (Pre::Reject(code, msg), Err(r)) => {
            assert_eq!(r.code, *code, "{}", case.name);
            assert!(
                r.message().starts_with(msg),
                "{}: {}",
                case.name,
                r.message()
            );
            return;
        }
        (want, got) => panic!("{}: PreFilter {got:?}, want {want:?}", case.name),
    }
    assert_eq!(
        case.want.len(),
        ids.len(),
        "{}: one result per node",
        case.name
    );
    for (i, (&id, want)) in ids.iter().zip(&case.want).enumerate() {
        let got = pl.filter(&cycle, &pod, c.node_state(id), c.view());
        assert_eq!(&got, want, "{}: node {i}", case.name);
    }
    // The batch form agrees with the per-node form.
    let all = (1u64 << ids.len()) - 1;
    let want_mask: u64 = case
        .want
        .iter()
        .enumerate()
        .map(|(i, w)| u64::from(w.is_ok()) << i)
        .sum();
    assert_eq!(
        pl.filter_nodes(&cycle, &pod, &ids, all, c.view()),
        want_mask,
        "{}: filter_nodes",
        case.name
    );
}

#[test]
#[allow(clippy::too_many_lines)]
fn required_affinity_single_node() {
    // upstream: filtering_test.go TestRequiredAffinitySingleNode.
    let pod_label = json!({"service": "securityscan"});
    let pod_label2 = json!({"security": "S1"});
    let scan = || P::new().labels(json!({"service": "securityscan"}));
    let node1 = node("node1", json!({"region": "r1", "zone": "z11"}));
    let ns_sel_term = |ns_sel: Value, topo: &str| {
        json!({
            "labelSelector": {"matchExpressions": [expr("service", "In", &["securityscan", "value2"])]},
            "namespaceSelector": ns_sel,
            "topologyKey": topo
        })
    };
    let team1 = json!({"matchExpressions": [expr("team", "In", &["team1"])]});
    let cases = vec![
        FilterCase {
            name: "A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods",
            pod: P::new(),
            pods: vec![],
            nodes: vec![node1.clone()],
            pre: Pre::Skip,
            want: vec![],
        },
        FilterCase {
            name: "satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches the existing pod",
            pod: P::new().labels(pod_label2.clone()).aff_in("service", "region", &["securityscan", "value2"]),
            pods: vec![scan().on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![Ok(())],
        },
        FilterCase {
            name: "satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator in labelSelector that matches the existing pod",
            pod: P::new().labels(pod_label2.clone()).aff_not_in("service", "region", &["securityscan3", "value3"]),
            pods: vec![scan().on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![Ok(())],
        },
        FilterCase {
            name: "Does not satisfy the PodAffinity with labelSelector because of diff Namespace",
            pod: P::new().labels(pod_label2.clone()).req_aff(json!({
                "labelSelector": {"matchExpressions": [expr("service", "In", &["securityscan", "value2"])]},
                "namespaces": ["DiffNameSpace"],
                // upstream leaves topologyKey empty; Placer's conversion enforces API validation.
                "topologyKey": "region"
            })),
            pods: vec![P::new().ns("ns").labels(pod_label.clone()).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![unresolvable()],
        },
        FilterCase {
            name: "Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
            pod: P::new().labels(pod_label.clone()).aff_in("service", "region", &["antivirusscan", "value2"]), // upstream: topologyKey ""
            pods: vec![scan().on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![unresolvable()],
        },
        FilterCase {
            name: "satisfies the PodAffinity with different label Operators in multiple RequiredDuringSchedulingIgnoredDuringExecution",
            pod: P::new()
                .labels(pod_label2.clone())
                .req_aff(term(json!([expr("service", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])]), "region"))
                .req_aff(term(json!([expr("service", "In", &["securityscan"]), expr("service", "NotIn", &["WrongValue"])]), "region")),
            pods: vec![scan().on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![Ok(())],
        },
        FilterCase {
            name: "The labelSelector requirements(items of matchExpressions) are ANDed, the pod cannot schedule onto the node because one of the matchExpression item don't match.",
            pod: P::new()
                .labels(pod_label2.clone())
                .req_aff(term(json!([expr("service", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])]), "region"))
                .req_aff(term(json!([expr("service", "In", &["securityscan2"]), expr("service", "NotIn", &["WrongValue"])]), "region")),
            pods: vec![scan().on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![unresolvable()],
        },
        FilterCase {
            name: "satisfies the PodAffinity and PodAntiAffinity with the existing pod",
            pod: P::new()
                .labels(pod_label2.clone())
                .aff_in("service", "region", &["securityscan", "value2"])
                .anti_in("service", "node", &["antivirusscan", "value2"]),
            pods: vec![scan().on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![Ok(())],
        },
        FilterCase {
            name: "satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity symmetry with the existing pod",
            pod: P::new()
                .labels(pod_label2.clone())
                .aff_in("service", "region", &["securityscan", "value2"])
                .anti_in("service", "node", &["antivirusscan", "value2"]),
            pods: vec![scan().anti_in("service", "node", &["antivirusscan", "value2"]).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![Ok(())],
        },
        FilterCase {
            name: "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
            pod: P::new()
                .labels(pod_label2.clone())
                .aff_in("service", "region", &["securityscan", "value2"])
                .anti_in("service", "zone", &["securityscan", "value2"]),
            pods: vec![scan().on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![anti()],
        },
        FilterCase {
            name: "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity symmetry with the existing pod",
            pod: P::new()
                .labels(pod_label.clone())
                .aff_in("service", "region", &["securityscan", "value2"])
                .anti_in("service", "node", &["antivirusscan", "value2"]),
            pods: vec![scan().anti_in("service", "zone", &["securityscan", "value2"]).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![existing()],
        },
        FilterCase {
            name: "pod matches its own Label in PodAffinity and that matches the existing pod Labels",
            pod: P::new().labels(pod_label.clone()).aff_not_in("service", "region", &["securityscan", "value2"]),
            pods: vec![scan().on("node2")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![unresolvable()],
        },
        FilterCase {
            name: "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with the existing pod",
            pod: P::new().labels(pod_label.clone()),
            pods: vec![scan().anti_in("service", "zone", &["securityscan", "value2"]).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![existing()],
        },
        FilterCase {
            name: "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. satisfy PodAntiAffinity symmetry with the existing pod",
            pod: P::new().labels(pod_label.clone()),
            pods: vec![scan().anti_not_in("service", "zone", &["securityscan", "value2"]).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Skip,
            want: vec![],
        },
        FilterCase {
            name: "satisfies the PodAntiAffinity with existing pod but doesn't satisfy PodAntiAffinity symmetry with incoming pod",
            pod: P::new()
                .labels(pod_label.clone())
                .anti_exists("service", "region")
                .anti_exists("security", "region"),
            pods: vec![P::new().labels(pod_label2.clone()).anti_exists("security", "zone").on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![anti()],
        },
        FilterCase {
            name: "PodAntiAffinity symmetry check a1: incoming pod and existing pod partially match each other on AffinityTerms",
            pod: P::new()
                .labels(pod_label.clone())
                .anti_exists("service", "zone")
                .anti_exists("security", "zone"),
            pods: vec![P::new().labels(pod_label2.clone()).anti_exists("security", "zone").on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![anti()],
        },
        FilterCase {
            name: "PodAntiAffinity symmetry check a2: incoming pod and existing pod partially match each other on AffinityTerms",
            pod: P::new().labels(pod_label2.clone()).anti_exists("security", "zone"),
            pods: vec![P::new()
                .labels(pod_label.clone())
                .anti_exists("service", "zone")
                .anti_exists("security", "zone")
                .on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![existing()],
        },
        FilterCase {
            name: "PodAntiAffinity symmetry check b1: incoming pod and existing pod partially match each other on AffinityTerms",
            pod: P::new()
                .labels(json!({"abc": "", "xyz": ""}))
                .anti_exists("abc", "zone")
                .anti_exists("def", "zone"),
            pods: vec![P::new()
                .labels(json!({"def": "", "xyz": ""}))
                .anti_exists("abc", "zone")
                .anti_exists("def", "zone")
                .on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![anti()],
        },
        FilterCase {
            name: "PodAntiAffinity symmetry check b2: incoming pod and existing pod partially match each other on AffinityTerms",
            pod: P::new()
                .labels(json!({"def": "", "xyz": ""}))
                .anti_exists("abc", "zone")
                .anti_exists("def", "zone"),
            pods: vec![P::new()
                .labels(json!({"abc": "", "xyz": ""}))
                .anti_exists("abc", "zone")
                .anti_exists("def", "zone")
                .on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![anti()],
        },
        FilterCase {
            name: "PodAffinity fails PreFilter with an invalid affinity label syntax",
            pod: P::new()
                .labels(pod_label.clone())
                .aff_in("service", "region", &["{{.bad-value.}}"])
                .aff_in("service", "node", &["antivirusscan", "value2"]),
            pods: vec![],
            nodes: vec![node1.clone()],
            pre: Pre::Reject(Code::UnschedulableAndUnresolvable, "parsing pod: requiredAffinityTerms"),
            want: vec![],
        },
        FilterCase {
            name: "PodAntiAffinity fails PreFilter with an invalid antiaffinity label syntax",
            pod: P::new()
                .labels(pod_label.clone())
                .aff_in("service", "region", &["foo"])
                .aff_in("service", "node", &["{{.bad-value.}}"]),
            pods: vec![],
            nodes: vec![node1.clone()],
            pre: Pre::Reject(Code::UnschedulableAndUnresolvable, "parsing pod: requiredAffinityTerms"),
            want: vec![],
        },
        FilterCase {
            name: "affinity with NamespaceSelector",
            pod: P::new().labels(pod_label2.clone()).req_aff(ns_sel_term(team1.clone(), "region")),
            pods: vec![P::new().ns("subteam1.team1").labels(pod_label.clone()).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![Ok(())],
        },
        FilterCase {
            name: "affinity with non-matching NamespaceSelector",
            pod: P::new().labels(pod_label2.clone()).req_aff(ns_sel_term(team1.clone(), "region")),
            pods: vec![P::new().ns("subteam1.team2").labels(pod_label.clone()).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![unresolvable()],
        },
        FilterCase {
            name: "anti-affinity with matching NamespaceSelector",
            pod: P::new().ns("subteam1.team1").labels(pod_label2.clone()).req_anti(ns_sel_term(team1.clone(), "zone")),
            pods: vec![P::new().ns("subteam2.team1").labels(pod_label.clone()).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![anti()],
        },
        FilterCase {
            name: "anti-affinity with matching all NamespaceSelector",
            pod: P::new().ns("subteam1.team1").labels(pod_label2.clone()).req_anti(ns_sel_term(json!({}), "zone")),
            pods: vec![P::new().ns("subteam2.team1").labels(pod_label.clone()).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![anti()],
        },
        FilterCase {
            name: "anti-affinity with non-matching NamespaceSelector",
            pod: P::new().ns("subteam1.team1").labels(pod_label2.clone()).req_anti(ns_sel_term(team1.clone(), "zone")),
            pods: vec![P::new().ns("subteam1.team2").labels(pod_label.clone()).on("node1")],
            nodes: vec![node1.clone()],
            pre: Pre::Proceed,
            want: vec![Ok(())],
        },
    ];
    assert_eq!(cases.len(), 26);
    for case in &cases {
        run_filter_case(case);
    }
}

#[test]
#[allow(clippy::too_many_lines)]
fn required_affinity_multiple_nodes() {
    // upstream: filtering_test.go TestRequiredAffinityMultipleNodes.
    let rg_china = json!({"region": "China"});
    let rg_china_az1 = json!({"region": "China", "az": "az1"});
    let rg_india = json!({"region": "India"});
    let rzh = |n: &str, r: &str, z: &str| node(n, json!({"region": r, "zone": z, "hostname": n}));
    let cases = vec![
        FilterCase {
            name: "A pod can be scheduled onto all the nodes that have the same topology key & label value with one of them has an existing pod that matches the affinity rules",
            pod: P::new().aff_in("foo", "region", &["bar"]),
            pods: vec![P::new().labels(json!({"foo": "bar"})).on("node1")],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_china_az1.clone()),
                node("node3", rg_india.clone()),
            ],
            pre: Pre::Proceed,
            want: vec![Ok(()), Ok(()), unresolvable()],
        },
        FilterCase {
            name: "The affinity rule is to schedule all of the pods of this collection to the same zone. The first pod of the collection should not be blocked from being scheduled onto any node, even there's no existing pod that matches the rule anywhere.",
            pod: P::new()
                .labels(json!({"foo": "bar", "service": "securityscan"}))
                .aff_in("foo", "zone", &["bar"])
                .aff_in("service", "zone", &["securityscan"]),
            pods: vec![P::new().labels(json!({"foo": "bar"})).on("nodeA")],
            nodes: vec![
                node("nodeA", json!({"zone": "az1", "hostname": "h1"})),
                node("nodeB", json!({"zone": "az2", "hostname": "h2"})),
            ],
            pre: Pre::Proceed,
            want: vec![Ok(()), Ok(())],
        },
        FilterCase {
            name: "The first pod of the collection can only be scheduled on nodes labelled with the requested topology keys",
            pod: P::new()
                .labels(json!({"foo": "bar", "service": "securityscan"}))
                .aff_in("foo", "zone", &["bar"])
                .aff_in("service", "zone", &["securityscan"]),
            pods: vec![P::new().labels(json!({"foo": "bar"})).on("nodeA")],
            nodes: vec![
                node("nodeA", json!({"zoneLabel": "az1", "hostname": "h1"})),
                node("nodeB", json!({"zoneLabel": "az2", "hostname": "h2"})),
            ],
            pre: Pre::Proceed,
            want: vec![unresolvable(), unresolvable()],
        },
        FilterCase {
            name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB.",
            pod: P::new().anti_in("foo", "region", &["abc"]),
            pods: vec![P::new().labels(json!({"foo": "abc"})).on("nodeA")],
            nodes: vec![
                node("nodeA", json!({"region": "r1", "hostname": "nodeA"})),
                node("nodeB", json!({"region": "r1", "hostname": "nodeB"})),
            ],
            pre: Pre::Proceed,
            want: vec![anti(), anti()],
        },
        FilterCase {
            name: "This test ensures that anti-affinity matches a pod when any term of the anti-affinity rule matches a pod.",
            pod: P::new().anti_in("foo", "region", &["abc"]).anti_in(
                "service",
                "zone",
                &["securityscan"],
            ),
            pods: vec![
                P::new()
                    .labels(json!({"foo": "abc", "service": "securityscan"}))
                    .on("nodeA"),
            ],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![anti(), anti()],
        },
        FilterCase {
            name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB but can be scheduled onto nodeC",
            pod: P::new().anti_in("foo", "region", &["abc"]),
            pods: vec![P::new().labels(json!({"foo": "abc"})).on("nodeA")],
            nodes: vec![
                node("nodeA", rg_china.clone()),
                node("nodeB", rg_china_az1.clone()),
                node("nodeC", rg_india.clone()),
            ],
            pre: Pre::Proceed,
            want: vec![anti(), anti(), Ok(())],
        },
        FilterCase {
            name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA, nodeB, but can be scheduled onto nodeC (NodeC has an existing pod that match the inter pod affinity rule but in different namespace)",
            pod: P::new().ns("NS1").labels(json!({"foo": "123"})).anti_in(
                "foo",
                "region",
                &["bar"],
            ),
            pods: vec![
                P::new().ns("NS1").labels(json!({"foo": "bar"})).on("nodeA"),
                P::new()
                    .ns("NS2")
                    .anti_in("foo", "region", &["123"])
                    .on("nodeC"),
            ],
            nodes: vec![
                node("nodeA", rg_china.clone()),
                node("nodeB", rg_china_az1.clone()),
                node("nodeC", rg_india.clone()),
            ],
            pre: Pre::Proceed,
            want: vec![anti(), anti(), Ok(())],
        },
        FilterCase {
            name: "Test existing pod's anti-affinity: if an existing pod has a term with invalid topologyKey, labelSelector of the term is firstly checked, and then topologyKey of the term is also checked",
            pod: P::new().labels(json!({"foo": ""})),
            pods: vec![
                P::new()
                    .anti_exists("foo", "invalid-node-label")
                    .on("nodeA"),
            ],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z1")],
            pre: Pre::Skip,
            want: vec![],
        },
        FilterCase {
            name: "Test incoming pod's anti-affinity: even if labelSelector matches, we still check if topologyKey matches",
            pod: P::new().anti_exists("foo", "invalid-node-label"),
            pods: vec![P::new().labels(json!({"foo": ""})).on("nodeA")],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z1")],
            pre: Pre::Proceed,
            want: vec![Ok(()), Ok(())],
        },
        FilterCase {
            name: "Test existing pod's anti-affinity: incoming pod wouldn't considered as a fit as it violates each existingPod's terms on all nodes",
            pod: P::new().labels(json!({"foo": "", "bar": ""})),
            pods: vec![
                P::new().anti_exists("foo", "zone").on("nodeA"),
                P::new().anti_exists("bar", "region").on("nodeA"),
            ],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![existing(), existing()],
        },
        FilterCase {
            name: "Test incoming pod's anti-affinity: incoming pod wouldn't considered as a fit as it at least violates one anti-affinity rule of existingPod",
            pod: P::new()
                .anti_exists("foo", "zone")
                .anti_exists("bar", "region"),
            pods: vec![
                P::new().labels(json!({"foo": ""})).on("nodeA"),
                P::new().labels(json!({"bar": ""})).on("nodeB"),
            ],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![anti(), anti()],
        },
        FilterCase {
            name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
            pod: P::new().labels(json!({"foo": "", "bar": ""})),
            pods: vec![
                P::new()
                    .anti_exists("foo", "invalid-node-label")
                    .anti_exists("bar", "zone")
                    .on("nodeA"),
            ],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![existing(), Ok(())],
        },
        FilterCase {
            name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
            pod: P::new()
                .anti_exists("foo", "invalid-node-label")
                .anti_exists("bar", "zone"),
            pods: vec![P::new().labels(json!({"foo": "", "bar": ""})).on("nodeA")],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![anti(), Ok(())],
        },
        FilterCase {
            name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
            pod: P::new().labels(json!({"foo": "", "bar": ""})),
            pods: vec![
                P::new()
                    .anti_exists("foo", "region")
                    .anti_exists("bar", "zone")
                    .on("nodeA"),
            ],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![existing(), existing()],
        },
        FilterCase {
            name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
            pod: P::new()
                .anti_exists("foo", "region")
                .anti_exists("bar", "zone"),
            pods: vec![P::new().labels(json!({"foo": "", "bar": ""})).on("nodeA")],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![anti(), anti()],
        },
        FilterCase {
            name: "Test existing pod's anti-affinity: existingPod on nodeA and nodeB has at least one anti-affinity term matches incoming pod, so incoming pod can only be scheduled to nodeC",
            pod: P::new().labels(json!({"foo": "", "bar": ""})),
            pods: vec![
                P::new()
                    .anti_exists("foo", "zone")
                    .anti_exists("labelA", "zone")
                    .on("nodeA"),
                P::new()
                    .anti_exists("bar", "zone")
                    .anti_exists("labelB", "zone")
                    .on("nodeB"),
            ],
            nodes: vec![
                rzh("nodeA", "r1", "z1"),
                rzh("nodeB", "r1", "z2"),
                rzh("nodeC", "r1", "z3"),
            ],
            pre: Pre::Proceed,
            want: vec![existing(), existing(), Ok(())],
        },
        FilterCase {
            name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match",
            pod: P::new()
                .aff_exists("foo", "region")
                .aff_exists("bar", "zone"),
            pods: vec![P::new().labels(json!({"foo": "", "bar": ""})).on("nodeA")],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z1")],
            pre: Pre::Proceed,
            want: vec![Ok(()), Ok(())],
        },
        FilterCase {
            name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match, and the match logic should be satisfied on the same pod",
            pod: P::new()
                .aff_exists("foo", "region")
                .aff_exists("bar", "zone"),
            pods: vec![
                P::new().labels(json!({"foo": ""})).on("nodeA"),
                P::new().labels(json!({"bar": ""})).on("nodeB"),
            ],
            nodes: vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
            pre: Pre::Proceed,
            want: vec![unresolvable(), unresolvable()],
        },
    ];
    assert_eq!(cases.len(), 18);
    for case in &cases {
        run_filter_case(case);
    }
}

// ---------------------------------------------------------------------------------------------
// Counts (upstream TestGetTPMapMatchingIncomingAffinityAntiAffinity, TestPreFilterStateAddRemovePod).

fn pairs(c: &TestCluster, m: &TopologyCounts) -> Vec<(String, String, i64)> {
    let i = c.state.interner();
    let mut v: Vec<_> = m
        .counts
        .iter()
        .map(|(&(k, val), &n)| (i.resolve(k).to_string(), i.resolve(val).to_string(), n))
        .collect();
    v.sort();
    v
}

fn want_pairs(w: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    let mut v: Vec<_> = w
        .iter()
        .map(|&(k, val, n)| (k.to_string(), val.to_string(), n))
        .collect();
    v.sort();
    v
}

fn pre_filter_state(c: &TestCluster, pod: &PodInfo) -> PreFilterState {
    let mut cycle = CycleState::new();
    let out = InterPodAffinity::default().pre_filter(&mut cycle, pod, c.view());
    assert!(out.is_ok(), "{out:?}");
    cycle.read::<PreFilterState>().cloned().unwrap_or_default()
}

#[test]
fn incoming_affinity_anti_affinity_counts() {
    // upstream: filtering_test.go TestGetTPMapMatchingIncomingAffinityAntiAffinity.
    let normal = |labels: &[&str]| {
        let l: serde_json::Map<String, Value> = labels
            .iter()
            .map(|k| ((*k).to_string(), json!("")))
            .collect();
        P::new().labels(Value::Object(l)).on("nodeA")
    };
    type Row = (
        &'static str,
        Vec<(P, String)>,
        P,
        Vec<(&'static str, &'static str, i64)>,
        Vec<(&'static str, &'static str, i64)>,
    );
    let rows: Vec<Row> = vec![
        ("nil test", vec![], P::new(), vec![], vec![]),
        (
            "incoming pod without affinity/anti-affinity causes a no-op",
            vec![normal(&["aaa"])],
            P::new(),
            vec![],
            vec![],
        ),
        (
            "no pod has label that violates incoming pod's affinity and anti-affinity",
            vec![normal(&["bbb"])],
            P::new()
                .aff_exists("aaa", "hostname")
                .anti_exists("aaa", "hostname"),
            vec![],
            vec![],
        ),
        (
            "existing pod matches incoming pod's affinity and anti-affinity - single term case",
            vec![normal(&["aaa"])],
            P::new()
                .aff_exists("aaa", "hostname")
                .anti_exists("aaa", "hostname"),
            vec![("hostname", "nodeA", 1)],
            vec![("hostname", "nodeA", 1)],
        ),
        (
            "existing pod matches incoming pod's affinity and anti-affinity - multiple terms case",
            vec![normal(&["aaa", "bbb"])],
            P::new()
                .aff_exists("aaa", "hostname")
                .aff_exists("bbb", "hostname")
                .anti_exists("aaa", "hostname"),
            vec![("hostname", "nodeA", 2)],
            vec![("hostname", "nodeA", 1)],
        ),
        (
            "existing pod not match incoming pod's affinity but matches anti-affinity",
            vec![normal(&["aaa"])],
            P::new()
                .aff_exists("aaa", "hostname")
                .aff_exists("bbb", "hostname")
                .anti_exists("aaa", "hostname")
                .anti_exists("bbb", "hostname"),
            vec![],
            vec![("hostname", "nodeA", 1)],
        ),
        (
            "incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 1",
            vec![normal(&["aaa", "bbb"])],
            P::new()
                .aff_exists("aaa", "hostname")
                .aff_exists("ccc", "hostname")
                .anti_exists("aaa", "hostname")
                .anti_exists("ccc", "hostname"),
            vec![],
            vec![("hostname", "nodeA", 1)],
        ),
        (
            "incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 2",
            vec![normal(&["bbb"])],
            P::new()
                .aff_exists("aaa", "hostname")
                .aff_exists("bbb", "hostname")
                .anti_exists("aaa", "hostname")
                .anti_exists("bbb", "hostname"),
            vec![],
            vec![("hostname", "nodeA", 1)],
        ),
    ];
    for (name, pods, pod, want_aff, want_anti) in rows {
        let (mut c, _) = cluster(&[node("nodeA", json!({"hostname": "nodeA"}))], &pods);
        let pod = incoming(&mut c, &pod);
        let s = pre_filter_state(&c, &pod);
        assert_eq!(
            pairs(&c, &s.affinity),
            want_pairs(&want_aff),
            "{name}: affinity"
        );
        assert_eq!(
            pairs(&c, &s.anti_affinity),
            want_pairs(&want_anti),
            "{name}: anti-affinity"
        );
    }
}

#[test]
#[allow(clippy::too_many_lines)]
fn pre_filter_state_add_remove_pod() {
    // upstream: filtering_test.go TestPreFilterStateAddRemovePod.
    let nodes = [
        node("nodeA", json!({"region": "r1", "zone": "z11"})),
        node("nodeB", json!({"region": "r1", "zone": "z12"})),
        node("nodeC", json!({"region": "r2", "zone": "z21"})),
    ];
    let selector1 = json!({"foo": "bar"});
    let anti_foo_bar = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        term(json!([expr("foo", "In", &["bar"])]), "region")
    ]}});
    let complex_terms = json!([
        term(json!([expr("foo", "In", &["bar", "buzz"])]), "region"),
        term(
            json!([expr("service", "NotIn", &["bar", "security", "test"])]),
            "zone"
        )
    ]);
    let anti_complex = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": complex_terms}});
    let aff_complex_anti_foo_bar = json!({
        "podAntiAffinity": anti_foo_bar["podAntiAffinity"],
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": complex_terms}
    });
    let aff_complex =
        json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": complex_terms}});
    type Row = (
        &'static str,
        P,
        Vec<(P, String)>,
        (P, &'static str),
        Vec<(&'static str, &'static str, i64)>,
        Vec<(&'static str, &'static str, i64)>,
    );
    let rows: Vec<Row> = vec![
        (
            "preFilterState anti-affinity terms are updated correctly after adding and removing a pod",
            P::new().labels(selector1.clone()).affinity(&anti_foo_bar),
            vec![
                P::new().labels(selector1.clone()).on("nodeA"),
                P::new().affinity(&anti_foo_bar).on("nodeC"),
            ],
            (
                P::new().labels(selector1.clone()).affinity(&anti_foo_bar),
                "nodeB",
            ),
            vec![("region", "r1", 2)],
            vec![],
        ),
        (
            "preFilterState anti-affinity terms are updated correctly after adding and removing a pod (complex)",
            P::new().labels(selector1.clone()).affinity(&anti_complex),
            vec![
                P::new().labels(selector1.clone()).on("nodeA"),
                P::new().affinity(&anti_foo_bar).on("nodeC"),
            ],
            (
                P::new().labels(selector1.clone()).affinity(&anti_complex),
                "nodeA",
            ),
            vec![("region", "r1", 2), ("zone", "z11", 2), ("zone", "z21", 1)],
            vec![],
        ),
        (
            "preFilterState matching pod affinity and anti-affinity are updated correctly after adding and removing a pod",
            P::new().labels(selector1.clone()).affinity(&aff_complex),
            vec![
                P::new().labels(selector1.clone()).on("nodeA"),
                P::new().affinity(&aff_complex_anti_foo_bar).on("nodeC"),
            ],
            (
                P::new().labels(selector1.clone()).affinity(&anti_complex),
                "nodeA",
            ),
            vec![],
            vec![("region", "r1", 2), ("zone", "z11", 2)],
        ),
    ];
    for (name, pending, existing, (added, added_on), want_anti, want_aff) in rows {
        let mut named: Vec<(P, String)> = existing.clone();
        named.push((added.clone(), added_on.to_string()));
        // The state PreFilter computes with the added pod already running.
        let (mut all_c, _) = cluster(&nodes, &named);
        let pending_all = incoming(&mut all_c, &pending);
        let all_state = pre_filter_state(&all_c, &pending_all);

        let (mut c, _) = cluster(&nodes, &existing);
        let pod = incoming(&mut c, &pending);
        let mut cycle = CycleState::new();
        let pl = InterPodAffinity::default();
        assert!(pl.pre_filter(&mut cycle, &pod, c.view()).is_ok(), "{name}");
        let original = cycle.read::<PreFilterState>().cloned().expect("state");
        let mut added_json = added.0.clone();
        added_json["metadata"]["name"] = json!("addedPod");
        added_json["spec"]["nodeName"] = json!(added_on);
        let added_info = c.pod(added_json);
        let node_id = c.state.node_id(added_on).expect("node");
        pl.add_pod(
            &mut cycle,
            &pod,
            &added_info,
            c.node_state(node_id),
            c.view(),
        );
        let after_add = cycle.read::<PreFilterState>().cloned().expect("state");
        assert_eq!(
            pairs(&c, &after_add.anti_affinity),
            want_pairs(&want_anti),
            "{name}: anti after add"
        );
        assert_eq!(
            pairs(&c, &after_add.affinity),
            want_pairs(&want_aff),
            "{name}: affinity after add"
        );
        assert_eq!(
            pairs(&c, &after_add.existing_anti_affinity),
            pairs(&all_c, &all_state.existing_anti_affinity),
            "{name}: existing anti after add"
        );
        assert_eq!(
            pairs(&c, &after_add.affinity),
            pairs(&all_c, &all_state.affinity),
            "{name}: = PreFilter with the pod"
        );
        assert_eq!(
            pairs(&c, &after_add.anti_affinity),
            pairs(&all_c, &all_state.anti_affinity),
            "{name}: = PreFilter with the pod"
        );
        pl.remove_pod(
            &mut cycle,
            &pod,
            &added_info,
            c.node_state(node_id),
            c.view(),
        );
        let after_remove = cycle.read::<PreFilterState>().cloned().expect("state");
        assert_eq!(
            pairs(&c, &after_remove.existing_anti_affinity),
            pairs(&c, &original.existing_anti_affinity),
            "{name}: remove restores"
        );
        assert_eq!(
            pairs(&c, &after_remove.affinity),
            pairs(&c, &original.affinity),
            "{name}: remove restores"
        );
        assert_eq!(
            pairs(&c, &after_remove.anti_affinity),
            pairs(&c, &original.anti_affinity),
            "{name}: remove restores"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Subtle filter rules.

#[test]
fn filter_without_pre_filter_state_is_an_error() {
    // upstream: filtering_test.go TestPreFilterDisabled.
    let (mut c, ids) = cluster(&[node("n", json!({}))], &[]);
    let pod = incoming(&mut c, &P::new());
    let got = InterPodAffinity::default().filter(
        &CycleState::new(),
        &pod,
        c.node_state(ids[0]),
        c.view(),
    );
    assert_eq!(
        got,
        Err(Rejection::error(
            "error reading \"PreFilterInterPodAffinity\" from cycleState: not found"
        ))
    );
}

#[test]
fn removing_the_last_match_reopens_every_node_to_a_self_affine_pod() {
    // upstream updateWithPod deletes a pair whose count reaches zero, so `len(affinityCounts)`
    // is 0 again and the pod matching its own terms may go anywhere.
    let nodes = [
        node("a", json!({"zone": "z1"})),
        node("b", json!({"zone": "z2"})),
    ];
    let mate = P::new().labels(json!({"app": "db"}));
    let (mut c, ids) = cluster(&nodes, &[mate.clone().on("a")]);
    let pod = incoming(
        &mut c,
        &P::new()
            .labels(json!({"app": "db"}))
            .aff_in("app", "zone", &["db"]),
    );
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    assert_eq!(
        pl.pre_filter(&mut cycle, &pod, c.view()),
        Ok(PreFilterOutcome::Proceed)
    );
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[0]), c.view()),
        Ok(())
    );
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        unresolvable()
    );
    let victim = c.state.pod("default/p0").expect("p0").info.clone();
    pl.remove_pod(&mut cycle, &pod, &victim, c.node_state(ids[0]), c.view());
    assert!(
        cycle
            .read::<PreFilterState>()
            .expect("state")
            .affinity
            .is_empty()
    );
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        Ok(())
    );
    // Adding it back closes zone z2 again.
    pl.add_pod(&mut cycle, &pod, &victim, c.node_state(ids[0]), c.view());
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        unresolvable()
    );
}

#[test]
fn a_pod_not_matching_its_own_terms_needs_a_match() {
    // upstream satisfyPodAffinity: the first-pod rule needs the pod to match all its own terms.
    let nodes = [node("a", json!({"zone": "z1"}))];
    let (mut c, ids) = cluster(&nodes, &[]);
    let pod = incoming(
        &mut c,
        &P::new()
            .labels(json!({"app": "web"}))
            .aff_in("app", "zone", &["db"]),
    );
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    assert!(pl.pre_filter(&mut cycle, &pod, c.view()).is_ok());
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[0]), c.view()),
        unresolvable()
    );
}

#[test]
fn victim_removal_clears_existing_anti_affinity() {
    // Preemption's dry run: removing the placed pod whose anti-affinity selects the incoming
    // pod frees its domain (upstream RemovePod → updateWithPod with -1).
    let nodes = [
        node("a", json!({"zone": "z1"})),
        node("b", json!({"zone": "z1"})),
    ];
    let (mut c, ids) = cluster(&nodes, &[P::new().anti_in("app", "zone", &["web"]).on("a")]);
    let pod = incoming(&mut c, &P::new().labels(json!({"app": "web"})));
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    assert_eq!(
        pl.pre_filter(&mut cycle, &pod, c.view()),
        Ok(PreFilterOutcome::Proceed)
    );
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        existing()
    );
    let cloned = cycle.clone();
    let victim = c.state.pod("default/p0").expect("p0").info.clone();
    pl.remove_pod(&mut cycle, &pod, &victim, c.node_state(ids[0]), c.view());
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[0]), c.view()),
        Ok(())
    );
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        Ok(())
    );
    // A clone taken before is unaffected (preemption clones the state per candidate node).
    assert_eq!(
        pl.filter(&cloned, &pod, c.node_state(ids[1]), c.view()),
        existing()
    );
}

#[test]
fn added_pod_with_a_new_topology_key_is_seen_by_filter() {
    // The keys of the existing-anti-affinity counts grow with AddPod.
    let nodes = [
        node("a", json!({"zone": "z1", "rack": "r1"})),
        node("b", json!({"zone": "z2", "rack": "r1"})),
    ];
    let (mut c, ids) = cluster(&nodes, &[P::new().anti_in("app", "zone", &["web"]).on("a")]);
    let pod = incoming(&mut c, &P::new().labels(json!({"app": "web"})));
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    assert!(pl.pre_filter(&mut cycle, &pod, c.view()).is_ok());
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        Ok(())
    );
    let mut nominated = P::new().anti_in("app", "rack", &["web"]).0;
    nominated["metadata"]["name"] = json!("nominated");
    let nominated = c.pod(nominated);
    pl.add_pod(&mut cycle, &pod, &nominated, c.node_state(ids[0]), c.view());
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        existing()
    );
}

#[test]
fn terminating_pods_count() {
    // upstream InterPodAffinity has no deletionTimestamp check anywhere.
    let nodes = [node("a", json!({"zone": "z1"}))];
    let (mut c, ids) = cluster(
        &nodes,
        &[P::new().labels(json!({"app": "db"})).terminating().on("a")],
    );
    let pod = incoming(&mut c, &P::new().anti_in("app", "zone", &["db"]));
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    assert!(pl.pre_filter(&mut cycle, &pod, c.view()).is_ok());
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[0]), c.view()),
        anti()
    );
}

#[test]
fn pods_on_deleted_nodes_count_nowhere() {
    // upstream walks the snapshot's nodes, which are the existing ones.
    let nodes = [node("a", json!({"zone": "z1"}))];
    let (mut c, ids) = cluster(
        &nodes,
        &[P::new().anti_in("app", "zone", &["web"]).on("gone")],
    );
    let pod = incoming(&mut c, &P::new().labels(json!({"app": "web"})));
    let mut cycle = CycleState::new();
    assert_eq!(
        InterPodAffinity::default().pre_filter(&mut cycle, &pod, c.view()),
        Ok(PreFilterOutcome::Skip)
    );
    let _ = ids;
}

#[test]
fn namespace_selector_of_incoming_term_needs_an_existing_namespace() {
    // upstream mergeAffinityTermNamespacesIfNotEmpty lists Namespace objects: a pod in a
    // namespace the cluster has no object for is not selected even by `team NotIn [team2]`.
    let nodes = [
        node("a", json!({"zone": "z1"})),
        node("b", json!({"zone": "z2"})),
    ];
    let pods = [
        P::new().ns("orphan").labels(json!({"app": "db"})).on("a"),
        P::new().ns("NS1").labels(json!({"app": "db"})).on("b"),
    ];
    let (mut c, ids) = cluster(&nodes, &pods);
    let t = json!({
        "labelSelector": {"matchLabels": {"app": "db"}},
        "namespaceSelector": {"matchExpressions": [expr("team", "NotIn", &["team2"])]},
        "topologyKey": "zone"
    });
    let pod = incoming(&mut c, &P::new().req_anti(t));
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    assert!(pl.pre_filter(&mut cycle, &pod, c.view()).is_ok());
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[0]), c.view()),
        Ok(())
    );
    assert_eq!(
        pl.filter(&cycle, &pod, c.node_state(ids[1]), c.view()),
        anti()
    );
}

#[test]
fn existing_term_namespace_selector_reads_incoming_pods_namespace_labels() {
    // upstream: existing pods' terms are matched with the incoming pod's Namespace labels.
    let nodes = [node("a", json!({"zone": "z1"}))];
    let t = json!({
        "labelSelector": {"matchLabels": {"app": "web"}},
        "namespaceSelector": {"matchLabels": {"team": "team1"}},
        "topologyKey": "zone"
    });
    let (mut c, ids) = cluster(&nodes, &[P::new().ns("subteam1.team2").req_anti(t).on("a")]);
    let pl = InterPodAffinity::default();
    for (ns, want) in [
        ("subteam2.team1", existing()),
        ("subteam1.team2", Ok(())),
        ("default", Ok(())),
    ] {
        let pod = incoming(&mut c, &P::new().ns(ns).labels(json!({"app": "web"})));
        let mut cycle = CycleState::new();
        match pl.pre_filter(&mut cycle, &pod, c.view()) {
            Ok(PreFilterOutcome::Skip) => assert!(want.is_ok(), "{ns}"),
            Ok(_) => assert_eq!(
                pl.filter(&cycle, &pod, c.node_state(ids[0]), c.view()),
                want,
                "{ns}"
            ),
            Err(r) => panic!("{ns}: {r:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Score tables.

struct ScoreCase {
    name: &'static str,
    pod: P,
    pods: Vec<(P, String)>,
    nodes: Vec<Value>,
    /// `None`: PreScore skips.
    want: Option<Vec<i64>>,
}

fn run_score_case(case: &ScoreCase, pl: InterPodAffinity) {
    let (mut c, ids) = cluster(&case.nodes, &case.pods);
    let pod = incoming(&mut c, &case.pod);
    let mut cycle = CycleState::new();
    let out = pl.pre_score(&mut cycle, &pod, &ids, c.view());
    match (&case.want, out) {
        (None, Ok(PreScoreOutcome::Skip)) => return,
        (Some(_), Ok(PreScoreOutcome::Proceed)) => {}
        (want, got) => panic!("{}: PreScore {got:?}, want {want:?}", case.name),
    }
    let mut scores: Vec<i64> = ids
        .iter()
        .map(|&id| pl.score(&cycle, &pod, c.node_state(id), c.view()))
        .collect();
    let mut batch = vec![-1; ids.len()];
    pl.score_nodes(&cycle, &pod, &ids, c.view(), &mut batch);
    assert_eq!(batch, scores, "{}: score_nodes", case.name);
    pl.normalize(&cycle, &pod, &mut scores);
    assert_eq!(Some(&scores), case.want.as_ref(), "{}", case.name);
}

fn sel_term(key: &str, op: &str, values: &[&str], topo: &str) -> Value {
    term(json!([expr(key, op, values)]), topo)
}

#[test]
#[allow(clippy::too_many_lines)]
fn preferred_affinity() {
    // upstream: scoring_test.go TestPreferredAffinity.
    let rg_china = json!({"region": "China"});
    let rg_india = json!({"region": "India"});
    let az1 = json!({"az": "az1"});
    let az2 = json!({"az": "az2"});
    let rg_china_az1 = json!({"region": "China", "az": "az1"});
    let s1 = json!({"security": "S1"});
    let s2 = json!({"security": "S2"});
    let stay_s1_region = json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "podAffinityTerm": sel_term("security", "In", &["S1"], "region")}]}});
    let stay_s2_region = json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 6, "podAffinityTerm": sel_term("security", "In", &["S2"], "region")}]}});
    let affinity3 = json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 8, "podAffinityTerm": term(json!([expr("security", "NotIn", &["S1"]), expr("security", "In", &["S2"])]), "region")},
        {"weight": 2, "podAffinityTerm": term(json!([expr("security", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])]), "region")}]}});
    let hard_affinity = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        sel_term("security", "In", &["S1", "value2"], "region"),
        term(json!([expr("security", "Exists", &[]), expr("wrongkey", "DoesNotExist", &[])]), "region")]}});
    let away_s1_az = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "podAffinityTerm": sel_term("security", "In", &["S1"], "az")}]}});
    let away_s2_az = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "podAffinityTerm": sel_term("security", "In", &["S2"], "az")}]}});
    let stay_s1_away_s2 = json!({
        "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 8, "podAffinityTerm": sel_term("security", "In", &["S1"], "region")}]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 5, "podAffinityTerm": sel_term("security", "In", &["S2"], "az")}]}});
    let ns_term = json!({
        "labelSelector": {"matchExpressions": [expr("security", "In", &["S1"])]},
        "topologyKey": "region",
        "namespaces": ["subteam2.team2"],
        "namespaceSelector": {"matchExpressions": [expr("team", "In", &["team1"])]}
    });
    let affinity_ns_sel = json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "podAffinityTerm": ns_term}]}});
    let anti_affinity_ns_sel = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "podAffinityTerm": ns_term}]}});
    let l = |v: &Value| P::new().labels(v.clone());
    let a = |aff: &Value| P::new().affinity(aff);
    let three = || {
        vec![
            node("node1", rg_china.clone()),
            node("node2", rg_india.clone()),
            node("node3", az1.clone()),
        ]
    };
    let cases = vec![
        ScoreCase {
            name: "all nodes are same priority as Affinity is nil",
            pod: l(&s1),
            pods: vec![],
            nodes: three(),
            want: None,
        },
        ScoreCase {
            name: "Affinity: pod that matches topology key & pods in nodes will get high score comparing to otherswhich doesn't match either pods in nodes or in topology key",
            pod: l(&s1).affinity(&stay_s1_region),
            pods: vec![l(&s1).on("node1"), l(&s2).on("node2"), l(&s1).on("node3")],
            nodes: three(),
            want: Some(vec![100, 0, 0]),
        },
        ScoreCase {
            name: "All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score",
            pod: a(&stay_s1_region),
            pods: vec![l(&s1).on("node1")],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_china_az1.clone()),
                node("node3", rg_india.clone()),
            ],
            want: Some(vec![100, 100, 0]),
        },
        ScoreCase {
            name: "Affinity: nodes in one region has more matching pods comparing to other region, so the region which has more matches will get high score",
            pod: l(&s1).affinity(&stay_s2_region),
            pods: vec![
                l(&s2).on("node1"),
                l(&s2).on("node1"),
                l(&s2).on("node2"),
                l(&s2).on("node3"),
                l(&s2).on("node4"),
                l(&s2).on("node5"),
            ],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_india.clone()),
                node("node3", rg_china.clone()),
                node("node4", rg_china.clone()),
                node("node5", rg_india.clone()),
            ],
            want: Some(vec![100, 0, 100, 100, 0]),
        },
        ScoreCase {
            name: "Affinity: different Label operators and values for pod affinity scheduling preference, including some match failures",
            pod: l(&s1).affinity(&affinity3),
            pods: vec![l(&s1).on("node1"), l(&s2).on("node2"), l(&s1).on("node3")],
            nodes: three(),
            want: Some(vec![20, 100, 0]),
        },
        ScoreCase {
            name: "Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
            pod: l(&s2),
            pods: vec![
                l(&s1).affinity(&stay_s1_region).on("node1"),
                l(&s2).affinity(&stay_s2_region).on("node2"),
            ],
            nodes: three(),
            want: Some(vec![0, 100, 0]),
        },
        ScoreCase {
            name: "Affinity symmetry with namespace selector",
            pod: l(&s1).ns("subteam1.team1"),
            pods: vec![
                l(&s1).affinity(&affinity_ns_sel).on("node1"),
                l(&s2).affinity(&stay_s2_region).on("node2"),
            ],
            nodes: three(),
            want: Some(vec![100, 0, 0]),
        },
        ScoreCase {
            name: "AntiAffinity symmetry with namespace selector",
            pod: l(&s1).ns("subteam1.team1"),
            pods: vec![
                l(&s1).affinity(&anti_affinity_ns_sel).on("node1"),
                l(&s2).affinity(&stay_s2_region).on("node2"),
            ],
            nodes: three(),
            want: Some(vec![0, 100, 100]),
        },
        ScoreCase {
            name: "Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
            pod: l(&s1),
            pods: vec![
                l(&s1).affinity(&hard_affinity).on("node1"),
                l(&s2).affinity(&hard_affinity).on("node2"),
            ],
            nodes: three(),
            want: Some(vec![100, 100, 0]),
        },
        ScoreCase {
            name: "Anti Affinity: pod that does not match existing pods in node will get high score",
            pod: l(&s1).affinity(&away_s1_az),
            pods: vec![l(&s1).on("node1"), l(&s2).on("node2")],
            nodes: vec![node("node1", az1.clone()), node("node2", rg_china.clone())],
            want: Some(vec![0, 100]),
        },
        ScoreCase {
            name: "Anti Affinity: pod that does not match topology key & match the pods in nodes will get higher score comparing to others",
            pod: l(&s1).affinity(&away_s1_az),
            pods: vec![l(&s1).on("node1"), l(&s1).on("node2")],
            nodes: vec![node("node1", az1.clone()), node("node2", rg_china.clone())],
            want: Some(vec![0, 100]),
        },
        ScoreCase {
            name: "Anti Affinity: one node has more matching pods comparing to other node, so the node which has more unmatches will get high score",
            pod: l(&s1).affinity(&away_s1_az),
            pods: vec![l(&s1).on("node1"), l(&s1).on("node1"), l(&s2).on("node2")],
            nodes: vec![node("node1", az1.clone()), node("node2", rg_india.clone())],
            want: Some(vec![0, 100]),
        },
        ScoreCase {
            name: "Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score",
            pod: l(&s2),
            pods: vec![
                l(&s1).affinity(&away_s2_az).on("node1"),
                l(&s2).affinity(&away_s1_az).on("node2"),
            ],
            nodes: vec![node("node1", az1.clone()), node("node2", az2.clone())],
            want: Some(vec![0, 100]),
        },
        ScoreCase {
            name: "Affinity and Anti Affinity: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity",
            pod: l(&s1).affinity(&stay_s1_away_s2),
            pods: vec![l(&s1).on("node1"), l(&s1).on("node2")],
            nodes: vec![node("node1", rg_china.clone()), node("node2", az1.clone())],
            want: Some(vec![100, 0]),
        },
        ScoreCase {
            name: "Affinity and Anti Affinity: considering both affinity and anti-affinity, the pod to schedule and existing pods have the same labels",
            pod: l(&s1).affinity(&stay_s1_away_s2),
            pods: vec![
                l(&s1).on("node1"),
                l(&s1).on("node1"),
                l(&s1).on("node2"),
                l(&s1).on("node3"),
                l(&s1).on("node3"),
                l(&s1).on("node4"),
                l(&s1).on("node5"),
            ],
            nodes: vec![
                node("node1", rg_china_az1.clone()),
                node("node2", rg_india.clone()),
                node("node3", rg_china.clone()),
                node("node4", rg_china.clone()),
                node("node5", rg_india.clone()),
            ],
            want: Some(vec![100, 0, 100, 100, 0]),
        },
        ScoreCase {
            name: "Affinity and Anti Affinity and symmetry: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity & symmetry",
            pod: l(&s1).affinity(&stay_s1_away_s2),
            pods: vec![
                l(&s1).on("node1"),
                l(&s2).on("node2"),
                a(&stay_s1_away_s2).on("node3"),
                a(&away_s1_az).on("node4"),
            ],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", az1.clone()),
                node("node3", rg_india.clone()),
                node("node4", az2.clone()),
            ],
            want: Some(vec![100, 0, 100, 0]),
        },
        ScoreCase {
            name: "Avoid panic when partial nodes in a topology don't have pods with affinity",
            pod: l(&s1),
            pods: vec![l(&s1).on("node1"), a(&stay_s1_away_s2).on("node2")],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_china.clone()),
            ],
            want: Some(vec![0, 0]),
        },
        ScoreCase {
            name: "Affinity with pods matching NamespaceSelector",
            pod: l(&s1).ns("subteam1.team1").affinity(&affinity_ns_sel),
            pods: vec![
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam1.team2").on("node1"),
                l(&s1).ns("subteam2.team1").on("node2"),
            ],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_india.clone()),
            ],
            want: Some(vec![100, 0]),
        },
        ScoreCase {
            name: "Affinity with pods matching both NamespaceSelector and Namespaces fields",
            pod: l(&s1).ns("subteam1.team1").affinity(&affinity_ns_sel),
            pods: vec![
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam2.team2").on("node1"),
                l(&s1).ns("subteam2.team1").on("node2"),
            ],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_india.clone()),
            ],
            want: Some(vec![100, 0]),
        },
        ScoreCase {
            name: "Affinity with pods matching NamespaceSelector (anti-affinity)",
            pod: l(&s1).ns("subteam1.team1").affinity(&anti_affinity_ns_sel),
            pods: vec![
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam1.team2").on("node1"),
                l(&s1).ns("subteam2.team1").on("node2"),
            ],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_india.clone()),
            ],
            want: Some(vec![0, 100]),
        },
        ScoreCase {
            name: "Affinity with pods matching both NamespaceSelector and Namespaces fields (anti-affinity)",
            pod: l(&s1).ns("subteam1.team1").affinity(&anti_affinity_ns_sel),
            pods: vec![
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam1.team1").on("node1"),
                l(&s1).ns("subteam2.team2").on("node1"),
                l(&s1).ns("subteam2.team1").on("node2"),
            ],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_india.clone()),
            ],
            want: Some(vec![0, 100]),
        },
        ScoreCase {
            name: "Do not ignore preferred terms of existing pods",
            pod: l(&s2),
            pods: vec![
                l(&s1).affinity(&stay_s1_away_s2).on("node1"),
                l(&s2).affinity(&stay_s2_region).on("node2"),
            ],
            nodes: vec![
                node("node1", rg_china.clone()),
                node("node2", rg_india.clone()),
            ],
            want: Some(vec![0, 100]),
        },
        ScoreCase {
            name: "No nodes to score",
            pod: l(&s2),
            pods: vec![],
            nodes: vec![],
            want: None,
        },
    ];
    assert_eq!(cases.len(), 23);
    for case in &cases {
        run_score_case(case, InterPodAffinity::default());
    }
    // upstream row "Ignore preferred terms of existing pods" (ignorePreferredTermsOfExistingPods).
    let ignore = ScoreCase {
        name: "Ignore preferred terms of existing pods",
        pod: l(&s2),
        pods: vec![
            l(&s1).affinity(&stay_s1_away_s2).on("node1"),
            l(&s2).affinity(&stay_s2_region).on("node2"),
        ],
        nodes: vec![
            node("node1", rg_china.clone()),
            node("node2", rg_india.clone()),
        ],
        want: None,
    };
    run_score_case(
        &ignore,
        InterPodAffinity {
            ignore_preferred_terms_of_existing_pods: true,
            ..InterPodAffinity::default()
        },
    );
}

#[test]
fn preferred_affinity_with_hard_pod_affinity_symmetric_weight() {
    // upstream: scoring_test.go TestPreferredAffinityWithHardPodAffinitySymmetricWeight.
    let service_s1 = json!({"service": "S1"});
    let hard = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchExpressions": [expr("service", "In", &["S1"])]},
        "namespaces": ["default", "subteam2.team2"],
        "namespaceSelector": {"matchExpressions": [expr("team", "In", &["team1"])]},
        "topologyKey": "region"
    }]}});
    let nodes = || {
        vec![
            node("node1", json!({"region": "China"})),
            node("node2", json!({"region": "India"})),
            node("node3", json!({"az": "az1"})),
        ]
    };
    let pods = || {
        vec![
            P::new().affinity(&hard).on("node1"),
            P::new().affinity(&hard).on("node2"),
        ]
    };
    let rows: Vec<(&str, &str, i32, Option<Vec<i64>>)> = vec![
        ("with default weight", "default", 1, Some(vec![100, 100, 0])),
        ("with zero weight", "default", 0, None),
        ("with no matching namespace", "subteam1.team2", 1, None),
        (
            "with matching NamespaceSelector",
            "subteam1.team1",
            1,
            Some(vec![100, 100, 0]),
        ),
        (
            "with matching Namespaces",
            "subteam2.team2",
            1,
            Some(vec![100, 100, 0]),
        ),
    ];
    for (name, ns, weight, want) in rows {
        let case = ScoreCase {
            name,
            pod: P::new().ns(ns).labels(service_s1.clone()),
            pods: pods(),
            nodes: nodes(),
            want,
        };
        run_score_case(
            &case,
            InterPodAffinity {
                hard_pod_affinity_weight: weight,
                ..InterPodAffinity::default()
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Subtle score rules.

#[test]
fn normalize_maps_negative_scores_min_max_with_truncation() {
    // upstream NormalizeScore: float64 min-max, int64() truncation.
    let cases: &[(&[i64], &[i64])] = &[
        (&[-10, 0, 5], &[0, 66, 100]),
        (&[-5, -5], &[0, 0]),
        (&[-7, -1, -3], &[0, 100, 66]),
        (&[3, 1, 2], &[100, 0, 50]),
        (&[0, 1, 2, 3, 4, 5, 6], &[0, 16, 33, 50, 66, 83, 100]),
    ];
    for (input, want) in cases {
        let mut s = input.to_vec();
        normalize_min_max(&mut s);
        assert_eq!(&s, want, "{input:?}");
    }
}

#[test]
fn preferred_anti_affinity_alone_gives_negative_raw_scores() {
    let nodes = [
        node("a", json!({"zone": "z1"})),
        node("b", json!({"zone": "z2"})),
        node("c", json!({"zone": "z3"})),
    ];
    let db = P::new().labels(json!({"app": "db"}));
    let (mut c, ids) = cluster(
        &nodes,
        &[db.clone().on("a"), db.clone().on("a"), db.on("b")],
    );
    let pod = incoming(
        &mut c,
        &P::new().pref_anti(10, sel_term("app", "In", &["db"], "zone")),
    );
    let pl = InterPodAffinity::default();
    let mut cycle = CycleState::new();
    assert_eq!(
        pl.pre_score(&mut cycle, &pod, &ids, c.view()),
        Ok(PreScoreOutcome::Proceed)
    );
    let mut s: Vec<i64> = ids
        .iter()
        .map(|&id| pl.score(&cycle, &pod, c.node_state(id), c.view()))
        .collect();
    assert_eq!(s, [-20, -10, 0]);
    pl.normalize(&cycle, &pod, &mut s);
    assert_eq!(s, [0, 50, 100]);
}

#[test]
fn ignore_preferred_terms_keeps_existing_terms_when_the_pod_has_its_own() {
    // upstream PreScore skips only when the pod has no preferred terms; otherwise the placed
    // pods' preferred terms still count.
    let nodes = [
        node("a", json!({"zone": "z1"})),
        node("b", json!({"zone": "z2"})),
    ];
    let pods = [
        P::new()
            .labels(json!({"app": "cache"}))
            .pref_aff(50, sel_term("app", "In", &["web"], "zone"))
            .on("b"),
        P::new().labels(json!({"app": "db"})).on("a"),
    ];
    let (mut c, ids) = cluster(&nodes, &pods);
    let pod = incoming(
        &mut c,
        &P::new()
            .labels(json!({"app": "web"}))
            .pref_aff(10, sel_term("app", "In", &["db"], "zone")),
    );
    let pl = InterPodAffinity {
        ignore_preferred_terms_of_existing_pods: true,
        ..InterPodAffinity::default()
    };
    let mut cycle = CycleState::new();
    assert_eq!(
        pl.pre_score(&mut cycle, &pod, &ids, c.view()),
        Ok(PreScoreOutcome::Proceed)
    );
    let s: Vec<i64> = ids
        .iter()
        .map(|&id| pl.score(&cycle, &pod, c.node_state(id), c.view()))
        .collect();
    assert_eq!(s, [10, 50]);
}

#[test]
fn placed_pods_on_nodes_without_the_key_count_nothing() {
    // upstream processTerm needs the placed pod's node to carry the topology key (and
    // processExistingPod skips nodes without labels): no entry, so PreScore skips.
    let nodes = [node("a", json!({})), node("b", json!({"zone": "z2"}))];
    let (mut c, ids) = cluster(&nodes, &[P::new().labels(json!({"app": "db"})).on("a")]);
    let pod = incoming(
        &mut c,
        &P::new().pref_aff(10, sel_term("app", "In", &["db"], "zone")),
    );
    let mut cycle = CycleState::new();
    assert_eq!(
        InterPodAffinity::default().pre_score(&mut cycle, &pod, &ids, c.view()),
        Ok(PreScoreOutcome::Skip)
    );
}

#[test]
fn score_without_pre_score_state_is_zero_and_normalize_leaves_scores() {
    let (mut c, ids) = cluster(&[node("a", json!({"zone": "z1"}))], &[]);
    let pod = incoming(&mut c, &P::new());
    let pl = InterPodAffinity::default();
    let cycle = CycleState::new();
    assert_eq!(pl.score(&cycle, &pod, c.node_state(ids[0]), c.view()), 0);
    let mut s = vec![7, 3];
    pl.normalize(&cycle, &pod, &mut s);
    assert_eq!(s, [7, 3]);
}

// ---------------------------------------------------------------------------------------------
// Arguments.

fn profile(args: Option<Value>) -> ProfileConfig {
    let mut cfg = ProfileConfig {
        scheduler_name: "default-scheduler".into(),
        percentage_of_nodes_to_score: None,
        points: Default::default(),
        args: Default::default(),
    };
    if let Some(a) = args {
        cfg.args.other.insert(NAME.to_string(), a);
    }
    cfg
}

#[test]
fn factory_reads_defaulted_args() {
    let p = InterPodAffinity::factory(&profile(None), &mut Interner::new()).expect("factory");
    assert_eq!(p.name(), NAME);
    assert!(p.as_pre_filter().is_some() && p.as_filter().is_some());
    assert!(p.as_pre_score().is_some() && p.as_score().is_some());
    assert_eq!(
        InterPodAffinity::from_config(&profile(None)),
        Ok(InterPodAffinity::default())
    );
    assert_eq!(
        InterPodAffinity::from_config(&profile(Some(
            json!({"hardPodAffinityWeight": 5, "ignorePreferredTermsOfExistingPods": true})
        ))),
        Ok(InterPodAffinity {
            hard_pod_affinity_weight: 5,
            ignore_preferred_terms_of_existing_pods: true
        })
    );
    assert_eq!(
        InterPodAffinity::from_config(&profile(Some(json!({"hardPodAffinityWeight": 0})))),
        Ok(InterPodAffinity {
            hard_pod_affinity_weight: 0,
            ignore_preferred_terms_of_existing_pods: false
        })
    );
    assert_eq!(
        InterPodAffinity::from_config(&profile(Some(json!({"hardPodAffinityWeight": 101})))),
        Err("hardPodAffinityWeight: invalid value 101: not in valid range [0, 100]".to_string())
    );
}

#[test]
fn default_config_registers_the_plugin_with_default_args() {
    // The default profile enables InterPodAffinity with defaulted args (weight 1).
    let cfg = sched_core::config::SchedulerConfig::default_config();
    let p = &cfg.profiles[0];
    assert_eq!(
        InterPodAffinity::from_config(p),
        Ok(InterPodAffinity::default())
    );
    let registry = crate::default_registry();
    let profile = registry
        .build_profile(p, &mut Interner::new())
        .expect("profile");
    assert!(profile.filter.iter().any(|f| f.name() == NAME));
    assert!(
        profile
            .score
            .iter()
            .any(|(s, w)| s.name() == NAME && *w == 2)
    );
}

// ---------------------------------------------------------------------------------------------
// Speed (run in release: `cargo test --release -p sched-plugins ipa_cycle_speed -- --ignored --nocapture`).

/// 5,000 nodes, 100,000 running pods of 1,000 Deployments, each with hostname anti-affinity
/// (preferred, or required with `required`), each Deployment's replicas on 100 distinct nodes;
/// the median whole `schedule` call for a new replica.
fn cycle_micros(required: bool, affinity: bool) -> (f64, usize) {
    use k8s_openapi::api::core::v1::{Node, Pod};
    let mut state = sched_core::state::ClusterState::new();
    let zones = ["z1", "z2", "z3"];
    for i in 0..5_000 {
        let n: Node = serde_json::from_value(json!({
            "metadata": {"name": format!("node-{i:05}"), "labels": {
                "kubernetes.io/hostname": format!("node-{i:05}"),
                "topology.kubernetes.io/zone": zones[i % 3]}},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"}}
        }))
        .expect("node");
        let info = state.convert_node(&n).expect("node");
        state.add_node(info).expect("node");
    }
    let replica = |d: usize, r: usize, node: Option<String>| -> Pod {
        let t = json!({"labelSelector": {"matchLabels": {"app": format!("dep-{d}")}},
                       "topologyKey": "kubernetes.io/hostname"});
        let affinity = if !affinity {
            json!({})
        } else if required {
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [t]}})
        } else {
            json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": t}]}})
        };
        let mut spec = json!({"affinity": affinity, "containers": [{"name": "c",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]});
        if let Some(n) = node {
            spec["nodeName"] = json!(n);
        }
        serde_json::from_value(json!({
            "metadata": {"name": format!("dep-{d}-{r}"), "namespace": format!("ns-{}", d % 50),
                         "labels": {"app": format!("dep-{d}")}},
            "spec": spec
        }))
        .expect("pod")
    };
    for k in 0..100_000 {
        let (d, r) = (k % 1_000, k / 1_000);
        let info = state
            .convert_pod(&replica(
                d,
                r,
                Some(format!("node-{:05}", (d * 5 + r * 50) % 5_000)),
            ))
            .expect("pod");
        state.add_pod(info).expect("pod");
    }
    let config = sched_core::config::SchedulerConfig::default_config();
    let scheduler =
        crate::scheduler_from_config(&config, state.interner_mut(), 7).expect("scheduler");
    let pending: Vec<PodInfo> = (0..500)
        .map(|i| {
            state
                .convert_pod(&replica((i * 37) % 1_000, 1_000 + i, None))
                .expect("pod")
        })
        .collect();
    // Where the plugin's own time goes.
    let pl = InterPodAffinity::default();
    let view = ClusterView { state: &state };
    let ids: Vec<NodeId> = state.node_ids()[..500].to_vec();
    let mut phases = [0f64; 3];
    for p in &pending {
        let t = std::time::Instant::now();
        let mut cycle = CycleState::new();
        let _ = pl.pre_filter(&mut cycle, p, view);
        phases[0] += t.elapsed().as_secs_f64() * 1e6;
        let t = std::time::Instant::now();
        let _ = pl.pre_score(&mut cycle, p, &ids, view);
        phases[1] += t.elapsed().as_secs_f64() * 1e6;
        let t = std::time::Instant::now();
        let mut out = vec![0; ids.len()];
        pl.score_nodes(&cycle, p, &ids, view, &mut out);
        pl.normalize(&cycle, p, &mut out);
        phases[2] += t.elapsed().as_secs_f64() * 1e6;
    }
    let (mut t_pods, mut t_terms, mut visited, mut groups) = (0f64, 0f64, 0usize, 0usize);
    for p in &pending {
        let t = std::time::Instant::now();
        if let Some(w) = p.pod_affinity.preferred_anti_affinity.first() {
            state.for_each_pod_matching(
                w.term.selector.as_ref().unwrap(),
                Some(&w.term.namespaces),
                |_, _| visited += 1,
            );
        }
        t_pods += t.elapsed().as_secs_f64() * 1e6;
        let t = std::time::Instant::now();
        state.for_each_existing_term_matching(p, |g| groups += g.nodes.len());
        t_terms += t.elapsed().as_secs_f64() * 1e6;
    }
    let n = pending.len() as f64;
    eprintln!(
        "  for_each_pod_matching {:.1} µs ({} pods), for_each_existing_term_matching {:.1} µs ({} node entries)",
        t_pods / n,
        visited as f64 / n,
        t_terms / n,
        groups as f64 / n
    );
    eprintln!(
        "  InterPodAffinity alone: PreFilter {:.1} µs, PreScore {:.1} µs, Score+Normalize (500 nodes) {:.1} µs",
        phases[0] / n,
        phases[1] / n,
        phases[2] / n
    );
    let mut placed = 0;
    let mut times: Vec<f64> = Vec::new();
    for _ in 0..3 {
        for p in &pending {
            let t = std::time::Instant::now();
            let r = scheduler.schedule(p, &state);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            placed += usize::from(r.is_ok());
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], placed / 3)
}

#[test]
#[ignore = "timing; run in release"]
fn ipa_cycle_speed() {
    for (label, required, affinity) in [
        ("no pod affinity", false, false),
        ("preferred hostname anti-affinity", false, true),
        ("required hostname anti-affinity", true, true),
    ] {
        let (median, placed) = cycle_micros(required, affinity);
        eprintln!("{label}: median schedule {median:.1} µs ({placed}/500 placed)");
    }
}

// ---------------------------------------------------------------------------------------------
// The whole cycle with the default profile: preemption's dry run goes through RemovePod.

fn default_scheduler(c: &mut TestCluster) -> sched_core::Scheduler {
    let config = sched_core::config::SchedulerConfig::default_config();
    crate::scheduler_from_config(&config, c.state.interner_mut(), 1).expect("scheduler")
}

fn with_resources(p: P, priority: i32) -> P {
    let mut p = p;
    p.0["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "100m", "memory": "64Mi"}});
    p.0["spec"]["priority"] = json!(priority);
    p
}

fn sized_node(name: &str) -> Value {
    json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
           "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
}

#[test]
fn preemption_evicts_the_pod_whose_anti_affinity_blocks_the_node() {
    let blocker = with_resources(
        P::new().anti_in("app", "kubernetes.io/hostname", &["web"]),
        0,
    );
    let mut v = blocker.0.clone();
    v["metadata"]["name"] = json!("low");
    let (mut c, _) = cluster(&[sized_node("a")], &[]);
    c.running(v, "a");
    let scheduler = default_scheduler(&mut c);
    let pod = incoming(
        &mut c,
        &with_resources(P::new().labels(json!({"app": "web"})), 1000),
    );
    match scheduler.schedule(&pod, &c.state) {
        Err(sched_core::ScheduleError::Unschedulable(fit)) => {
            let (node, victims) = fit.diagnosis.nomination.clone().expect("nominated");
            assert_eq!(&*c.state.node(node).info.name, "a");
            assert_eq!(
                victims.iter().map(|v| &**v).collect::<Vec<_>>(),
                vec!["default/low"]
            );
            assert_eq!(
                fit.message(),
                "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules."
            );
        }
        other => panic!("expected a nomination, got {other:?}"),
    }
}

#[test]
fn unmet_required_affinity_is_not_helped_by_preemption() {
    let (mut c, _) = cluster(&[sized_node("a")], &[]);
    let scheduler = default_scheduler(&mut c);
    let pod = incoming(
        &mut c,
        &with_resources(
            P::new().aff_in("app", "kubernetes.io/hostname", &["db"]),
            1000,
        ),
    );
    let err = scheduler.schedule(&pod, &c.state).unwrap_err().to_string();
    assert_eq!(
        err,
        "0/1 nodes are available: 1 node(s) didn't match pod affinity rules. preemption: 0/1 \
         nodes are available: 1 Preemption is not helpful for scheduling."
    );
}
