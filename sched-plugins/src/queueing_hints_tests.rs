//! Queueing hints (upstream `QueueingHintFn`s, on in 1.35): one test per rule, named after
//! it, in the shape of upstream's `Test*IsSchedulableAfter*` tables.

use crate::node_affinity::NodeAffinity;
use crate::node_name::NodeName;
use crate::node_ports::NodePorts;
use crate::node_resources::NodeResourcesFit;
use crate::node_unschedulable::NodeUnschedulable;
use crate::taint_toleration::TaintToleration;
use crate::testing::{TestCluster, node_json, pod_json};
use k8s_openapi::api::core::v1::{Node, Pod};
use sched_core::config::ProfileConfig;
use sched_core::framework::{ClusterChange, ClusterEvents, Plugin, QueueingHint};
use sched_core::model::{NodeInfo, PodInfo};
use serde_json::{Value, json};
use std::sync::Arc;

use QueueingHint::{Queue, QueueSkip};

fn profile() -> ProfileConfig {
    ProfileConfig {
        scheduler_name: "default-scheduler".into(),
        percentage_of_nodes_to_score: None,
        points: Default::default(),
        args: Default::default(),
    }
}

fn node(c: &mut TestCluster, v: Value) -> Arc<NodeInfo> {
    let n: Node = serde_json::from_value(v).expect("node JSON");
    Arc::new(c.state.convert_node(&n).expect("node converts"))
}

fn pod(c: &mut TestCluster, v: Value) -> Arc<PodInfo> {
    let p: Pod = serde_json::from_value(v).expect("pod JSON");
    Arc::new(c.state.convert_pod(&p).expect("pod converts"))
}

fn added(n: &Arc<NodeInfo>) -> ClusterChange {
    ClusterChange::NodeAdded(n.clone())
}

fn updated(old: &Arc<NodeInfo>, new: &Arc<NodeInfo>) -> ClusterChange {
    ClusterChange::NodeUpdated {
        old: old.clone(),
        new: new.clone(),
        events: ClusterEvents::node_update(old, new),
    }
}

fn hint(c: &TestCluster, p: &dyn Plugin, pod: &PodInfo, change: &ClusterChange) -> QueueingHint {
    p.queueing_hint(pod, change, c.state.interner())
}

// ---- NodeResourcesFit ---------------------------------------------------------------------

fn fit(c: &mut TestCluster) -> Arc<dyn Plugin> {
    NodeResourcesFit::factory(&profile(), c.state.interner_mut()).expect("factory")
}

#[test]
fn fit_skips_a_node_added_that_could_not_hold_the_pod_even_empty() {
    let mut c = TestCluster::new();
    let plugin = fit(&mut c);
    let p = pod(&mut c, pod_json("p", Some("2"), Some("1Gi")));
    let small = node(&mut c, node_json("small", "1", "8Gi", "110"));
    let big = node(&mut c, node_json("big", "4", "8Gi", "110"));
    let full = node(&mut c, node_json("no-pods", "4", "8Gi", "0"));
    assert_eq!(hint(&c, &*plugin, &p, &added(&small)), QueueSkip);
    assert_eq!(hint(&c, &*plugin, &p, &added(&big)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &added(&full)),
        QueueSkip,
        "no pod allowed"
    );
}

#[test]
fn fit_queues_a_node_update_only_when_a_requested_resource_or_the_pod_count_went_up() {
    let mut c = TestCluster::new();
    let plugin = fit(&mut c);
    // The pod asks for cpu only.
    let p = pod(&mut c, pod_json("p", Some("2"), None));
    let before = node(&mut c, node_json("n", "2", "4Gi", "10"));
    let more_cpu = node(&mut c, node_json("n", "3", "4Gi", "10"));
    let more_memory = node(&mut c, node_json("n", "2", "8Gi", "10"));
    let more_pods = node(&mut c, node_json("n", "2", "4Gi", "20"));
    let too_small = node(&mut c, node_json("n", "1", "16Gi", "20"));
    assert_eq!(hint(&c, &*plugin, &p, &updated(&before, &more_cpu)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&before, &more_memory)),
        QueueSkip,
        "memory is not requested"
    );
    assert_eq!(hint(&c, &*plugin, &p, &updated(&before, &more_pods)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&before, &too_small)),
        QueueSkip,
        "the pod does not fit the updated node even empty"
    );
}

#[test]
fn fit_queues_on_an_assigned_pod_deleted_and_on_a_scale_down_of_a_requested_resource() {
    let mut c = TestCluster::new();
    let plugin = fit(&mut c);
    let p = pod(&mut c, pod_json("p", Some("1"), None));
    let mut running = pod_json("other", Some("2"), Some("2Gi"));
    running["spec"]["nodeName"] = json!("n");
    let old = pod(&mut c, running.clone());
    assert_eq!(
        hint(
            &c,
            &*plugin,
            &p,
            &ClusterChange::AssignedPodDeleted(old.clone())
        ),
        Queue
    );
    let scaled = |c: &mut TestCluster, cpu: &str, memory: &str| {
        let mut v = running.clone();
        v["spec"]["containers"][0]["resources"]["requests"] = json!({"cpu": cpu, "memory": memory});
        ClusterChange::AssignedPodUpdated {
            old: old.clone(),
            new: pod(c, v),
            events: ClusterEvents::ASSIGNED_POD_SCALE_DOWN,
        }
    };
    let less_cpu = scaled(&mut c, "1", "2Gi");
    let less_memory = scaled(&mut c, "2", "1Gi");
    assert_eq!(hint(&c, &*plugin, &p, &less_cpu), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &less_memory),
        QueueSkip,
        "memory is not requested by the pod"
    );
}

#[test]
fn fit_registers_node_add_and_allocatable_not_taints_with_hints_on() {
    let mut c = TestCluster::new();
    let events = fit(&mut c).events_to_register();
    assert!(events.contains(ClusterEvents::NODE_ADD | ClusterEvents::NODE_ALLOCATABLE));
    assert!(!events.intersects(ClusterEvents::NODE_TAINT | ClusterEvents::NODE_LABEL));
}

// ---- NodeAffinity -------------------------------------------------------------------------

fn labelled(name: &str, labels: Value) -> Value {
    json!({"metadata": {"name": name, "labels": labels}})
}

fn selecting(name: &str, selector: Value) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeSelector": selector, "containers": [{"name": "c"}]}
    })
}

#[test]
fn node_affinity_queues_a_node_that_starts_to_match_and_skips_one_that_matched_already() {
    let mut c = TestCluster::new();
    let plugin = NodeAffinity::factory(&profile(), c.state.interner_mut()).expect("factory");
    let p = pod(&mut c, selecting("p", json!({"zone": "a"})));
    let plain = node(&mut c, labelled("n", json!({})));
    let zone_a = node(&mut c, labelled("n", json!({"zone": "a"})));
    let zone_a_more = node(&mut c, labelled("n", json!({"zone": "a", "x": "y"})));
    assert_eq!(hint(&c, &*plugin, &p, &added(&plain)), QueueSkip);
    assert_eq!(hint(&c, &*plugin, &p, &added(&zone_a)), Queue);
    assert_eq!(hint(&c, &*plugin, &p, &updated(&plain, &zone_a)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&zone_a, &zone_a_more)),
        QueueSkip,
        "a node that matched before cannot be newly helpful"
    );
}

#[test]
fn node_affinity_skips_a_node_outside_the_added_affinity() {
    let mut c = TestCluster::new();
    let mut cfg = profile();
    cfg.args.node_affinity.added_affinity = Some(
        serde_json::from_value(json!({
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["gpu"]}]}
            ]}
        }))
        .expect("NodeAffinity JSON"),
    );
    let plugin = NodeAffinity::factory(&cfg, c.state.interner_mut()).expect("factory");
    let p = pod(&mut c, selecting("p", json!({})));
    let cpu = node(&mut c, labelled("n", json!({"pool": "cpu"})));
    let gpu = node(&mut c, labelled("n", json!({"pool": "gpu"})));
    assert_eq!(hint(&c, &*plugin, &p, &added(&cpu)), QueueSkip);
    assert_eq!(hint(&c, &*plugin, &p, &added(&gpu)), Queue);
}

// ---- TaintToleration and NodeUnschedulable ------------------------------------------------

fn tainted(name: &str, effect: &str) -> Value {
    json!({"metadata": {"name": name},
           "spec": {"taints": [{"key": "dedicated", "value": "x", "effect": effect}]}})
}

#[test]
fn taint_toleration_queues_only_when_the_node_turns_tolerated() {
    let mut c = TestCluster::new();
    let plugin = TaintToleration::factory(&profile(), c.state.interner_mut()).expect("factory");
    let p = pod(&mut c, pod_json("p", None, None));
    let hard = node(&mut c, tainted("n", "NoSchedule"));
    let soft = node(&mut c, tainted("n", "PreferNoSchedule"));
    let bare = node(&mut c, labelled("n", json!({})));
    assert_eq!(hint(&c, &*plugin, &p, &added(&hard)), QueueSkip);
    assert_eq!(
        hint(&c, &*plugin, &p, &added(&soft)),
        Queue,
        "soft taints never filter"
    );
    assert_eq!(hint(&c, &*plugin, &p, &updated(&hard, &bare)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&soft, &bare)),
        QueueSkip,
        "it was tolerated already"
    );
}

#[test]
fn node_unschedulable_queues_a_node_uncordoned_or_added_schedulable() {
    let mut c = TestCluster::new();
    let plugin = NodeUnschedulable::factory(&profile(), c.state.interner_mut()).expect("factory");
    let p = pod(&mut c, pod_json("p", None, None));
    let cordoned = node(
        &mut c,
        json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}}),
    );
    let open = node(&mut c, labelled("n", json!({})));
    assert_eq!(hint(&c, &*plugin, &p, &added(&cordoned)), QueueSkip);
    assert_eq!(hint(&c, &*plugin, &p, &added(&open)), Queue);
    assert_eq!(hint(&c, &*plugin, &p, &updated(&cordoned, &open)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&open, &cordoned)),
        QueueSkip
    );
}

// ---- NodePorts and NodeName ---------------------------------------------------------------

fn with_port(name: &str, port: i32, node: Option<&str>) -> Value {
    let mut v = json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": port, "hostPort": port}]}]}
    });
    if let Some(n) = node {
        v["spec"]["nodeName"] = json!(n);
    }
    v
}

#[test]
fn node_ports_queues_only_a_deleted_pod_that_held_a_wanted_port() {
    let mut c = TestCluster::new();
    let plugin = NodePorts::factory(&profile(), c.state.interner_mut()).expect("factory");
    let p = pod(&mut c, with_port("p", 8080, None));
    let same = pod(&mut c, with_port("same", 8080, Some("n")));
    let other = pod(&mut c, with_port("other", 9090, Some("n")));
    let deleted = |p: &Arc<PodInfo>| ClusterChange::AssignedPodDeleted(p.clone());
    assert_eq!(hint(&c, &*plugin, &p, &deleted(&same)), Queue);
    assert_eq!(hint(&c, &*plugin, &p, &deleted(&other)), QueueSkip);
}

#[test]
fn node_name_queues_only_the_node_the_pod_names() {
    let mut c = TestCluster::new();
    let plugin = NodeName::factory(&profile(), c.state.interner_mut()).expect("factory");
    let mut v = pod_json("p", None, None);
    v["spec"]["nodeName"] = json!("wanted");
    let named = pod(&mut c, v);
    let free = pod(&mut c, pod_json("free", None, None));
    let wanted = node(&mut c, labelled("wanted", json!({})));
    let other = node(&mut c, labelled("other", json!({})));
    assert_eq!(hint(&c, &*plugin, &named, &added(&wanted)), Queue);
    assert_eq!(hint(&c, &*plugin, &named, &added(&other)), QueueSkip);
    assert_eq!(hint(&c, &*plugin, &free, &added(&other)), Queue);
}
