//! Queueing hints (upstream `QueueingHintFn`s, on in 1.35): one test per rule, named after
//! it, in the shape of upstream's `Test*IsSchedulableAfter*` tables.

use crate::inter_pod_affinity::InterPodAffinity;
use crate::node_affinity::NodeAffinity;
use crate::node_name::NodeName;
use crate::node_ports::NodePorts;
use crate::node_resources::NodeResourcesFit;
use crate::node_unschedulable::NodeUnschedulable;
use crate::pod_topology_spread::PodTopologySpread;
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

// ---- PodTopologySpread --------------------------------------------------------------------

fn spread(c: &mut TestCluster) -> Arc<dyn Plugin> {
    PodTopologySpread::factory(&profile(), c.state.interner_mut()).expect("factory")
}

fn labelled_node(name: &str, labels: Value) -> Value {
    let mut n = node_json(name, "4", "8Gi", "110");
    n["metadata"]["labels"] = labels;
    n
}

fn assigned(name: &str, namespace: &str, labels: Value) -> Value {
    let mut p = pod_json(name, Some("100m"), None);
    p["metadata"]["namespace"] = json!(namespace);
    p["metadata"]["labels"] = labels;
    p["spec"]["nodeName"] = json!("n1");
    p
}

/// A pod spreading `app=web` over zones with a hard constraint, and a soft one over hosts.
fn spreading_pod(c: &mut TestCluster) -> Arc<PodInfo> {
    let mut p = pod_json("p", Some("100m"), None);
    p["metadata"]["labels"] = json!({"app": "web"});
    p["spec"]["topologySpreadConstraints"] = json!([
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchLabels": {"app": "web"}}},
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": {"matchLabels": {"tier": "cache"}}}
    ]);
    pod(c, p)
}

#[test]
fn spread_queues_an_assigned_pod_added_or_deleted_only_when_it_matches_a_hard_selector_in_the_namespace()
 {
    let mut c = TestCluster::new();
    let plugin = spread(&mut c);
    let p = spreading_pod(&mut c);
    let web = pod(&mut c, assigned("w", "default", json!({"app": "web"})));
    let elsewhere = pod(&mut c, assigned("w", "other", json!({"app": "web"})));
    let cache = pod(&mut c, assigned("x", "default", json!({"tier": "cache"})));
    for (change, want, why) in [
        (
            ClusterChange::AssignedPodAdded(web.clone()),
            Queue,
            "matches",
        ),
        (ClusterChange::AssignedPodDeleted(web), Queue, "matches"),
        (
            ClusterChange::AssignedPodAdded(elsewhere),
            QueueSkip,
            "another namespace",
        ),
        (
            ClusterChange::AssignedPodAdded(cache),
            QueueSkip,
            "matches only the soft constraint",
        ),
    ] {
        assert_eq!(hint(&c, &*plugin, &p, &change), want, "{why}");
    }
}

#[test]
fn spread_queues_a_label_update_only_when_it_changes_whether_the_pod_matches() {
    let mut c = TestCluster::new();
    let plugin = spread(&mut c);
    let p = spreading_pod(&mut c);
    let web = pod(&mut c, assigned("w", "default", json!({"app": "web"})));
    let web_v2 = pod(
        &mut c,
        assigned("w", "default", json!({"app": "web", "v": "2"})),
    );
    let api = pod(&mut c, assigned("w", "default", json!({"app": "api"})));
    let update = |old: &Arc<PodInfo>, new: &Arc<PodInfo>| ClusterChange::AssignedPodUpdated {
        old: old.clone(),
        new: new.clone(),
        events: ClusterEvents::ASSIGNED_POD_LABEL,
    };
    assert_eq!(hint(&c, &*plugin, &p, &update(&web, &api)), Queue);
    assert_eq!(hint(&c, &*plugin, &p, &update(&api, &web)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &update(&web, &web_v2)),
        QueueSkip,
        "still matches"
    );
}

#[test]
fn spread_queues_node_changes_only_for_nodes_with_every_topology_key() {
    let mut c = TestCluster::new();
    let plugin = spread(&mut c);
    let p = spreading_pod(&mut c);
    let zoned = node(&mut c, labelled_node("n", json!({"zone": "a"})));
    let rezoned = node(&mut c, labelled_node("n", json!({"zone": "b"})));
    let relabelled = node(
        &mut c,
        labelled_node("n", json!({"zone": "a", "disk": "ssd"})),
    );
    let bare = node(&mut c, labelled_node("n", json!({"disk": "ssd"})));
    let mut tainted = labelled_node("n", json!({"zone": "a"}));
    tainted["spec"] = json!({"taints": [{"key": "k", "effect": "NoSchedule"}]});
    let tainted = node(&mut c, tainted);
    assert_eq!(hint(&c, &*plugin, &p, &added(&zoned)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &added(&bare)),
        QueueSkip,
        "no zone key"
    );
    assert_eq!(
        hint(&c, &*plugin, &p, &ClusterChange::NodeDeleted(bare.clone())),
        QueueSkip
    );
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&bare, &zoned)),
        Queue,
        "gained the key"
    );
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&zoned, &bare)),
        Queue,
        "lost the key"
    );
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&zoned, &rezoned)),
        Queue,
        "other domain"
    );
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&zoned, &tainted)),
        Queue,
        "taints changed"
    );
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&zoned, &relabelled)),
        QueueSkip,
        "a label that is no topology key"
    );
}

#[test]
fn spread_moves_a_pod_with_default_constraints_on_every_registered_event() {
    // Default constraints take their selector from Services and controllers, which a hint
    // does not see.
    let mut c = TestCluster::new();
    let plugin = spread(&mut c);
    let p = pod(&mut c, pod_json("p", Some("100m"), None));
    let bare = node(&mut c, labelled_node("n", json!({})));
    assert_eq!(hint(&c, &*plugin, &p, &added(&bare)), Queue);
}

// ---- InterPodAffinity ---------------------------------------------------------------------

fn ipa(c: &mut TestCluster) -> Arc<dyn Plugin> {
    InterPodAffinity::factory(&profile(), c.state.interner_mut()).expect("factory")
}

/// A pod requiring affinity to `app=db` in its zone and anti-affinity to `app=web` per host.
fn affine_pod(c: &mut TestCluster) -> Arc<PodInfo> {
    let mut p = pod_json("p", Some("100m"), None);
    p["spec"]["affinity"] = json!({
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "db"}}}]},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}]}
    });
    pod(c, p)
}

#[test]
fn inter_pod_affinity_queues_an_added_pod_matching_all_affinity_terms_and_a_deleted_one_matching_anti_affinity()
 {
    let mut c = TestCluster::new();
    let plugin = ipa(&mut c);
    let p = affine_pod(&mut c);
    let db = pod(&mut c, assigned("db", "default", json!({"app": "db"})));
    let db_elsewhere = pod(&mut c, assigned("db", "other", json!({"app": "db"})));
    let web = pod(&mut c, assigned("web", "default", json!({"app": "web"})));
    for (change, want, why) in [
        (
            ClusterChange::AssignedPodAdded(db.clone()),
            Queue,
            "affinity matched",
        ),
        (
            ClusterChange::AssignedPodAdded(db_elsewhere),
            QueueSkip,
            "the term's namespace is the pod's own",
        ),
        (
            ClusterChange::AssignedPodAdded(web.clone()),
            QueueSkip,
            "an anti-affinity match added cannot help",
        ),
        (
            ClusterChange::AssignedPodDeleted(web),
            Queue,
            "anti-affinity match gone",
        ),
        (
            ClusterChange::AssignedPodDeleted(db),
            QueueSkip,
            "an affinity match deleted cannot help",
        ),
    ] {
        assert_eq!(hint(&c, &*plugin, &p, &change), want, "{why}");
    }
}

#[test]
fn inter_pod_affinity_does_not_move_a_pod_without_terms_when_an_existing_anti_affine_pod_goes() {
    // upstream isSchedulableAfterPodChange looks only at the pending pod's own terms
    // (podMatchesAllAffinityTerms is false for no terms): a pod that only an existing pod's
    // anti-affinity kept out waits for another event or the unschedulable flush.
    let mut c = TestCluster::new();
    let plugin = ipa(&mut c);
    let p = pod(&mut c, assigned("p", "default", json!({"app": "web"})));
    let mut guard = assigned("guard", "default", json!({}));
    guard["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "web"}}}]}});
    let guard = pod(&mut c, guard);
    assert_eq!(
        hint(&c, &*plugin, &p, &ClusterChange::AssignedPodDeleted(guard)),
        QueueSkip
    );
}

#[test]
fn inter_pod_affinity_queues_a_relabel_into_affinity_or_out_of_anti_affinity_and_nodes_with_a_term_key()
 {
    let mut c = TestCluster::new();
    let plugin = ipa(&mut c);
    let p = affine_pod(&mut c);
    let db = pod(&mut c, assigned("x", "default", json!({"app": "db"})));
    let web = pod(&mut c, assigned("x", "default", json!({"app": "web"})));
    let other = pod(&mut c, assigned("x", "default", json!({"app": "other"})));
    let update = |old: &Arc<PodInfo>, new: &Arc<PodInfo>| ClusterChange::AssignedPodUpdated {
        old: old.clone(),
        new: new.clone(),
        events: ClusterEvents::ASSIGNED_POD_LABEL,
    };
    assert_eq!(hint(&c, &*plugin, &p, &update(&other, &db)), Queue);
    assert_eq!(hint(&c, &*plugin, &p, &update(&web, &other)), Queue);
    assert_eq!(hint(&c, &*plugin, &p, &update(&db, &other)), QueueSkip);
    assert_eq!(hint(&c, &*plugin, &p, &update(&other, &web)), QueueSkip);
    let zoned = node(&mut c, labelled_node("n", json!({"zone": "a"})));
    let hosted = node(
        &mut c,
        labelled_node("n", json!({"kubernetes.io/hostname": "n"})),
    );
    let bare = node(&mut c, labelled_node("n", json!({"disk": "ssd"})));
    assert_eq!(
        hint(&c, &*plugin, &p, &added(&zoned)),
        Queue,
        "affinity key"
    );
    assert_eq!(
        hint(&c, &*plugin, &p, &added(&hosted)),
        Queue,
        "anti-affinity key"
    );
    assert_eq!(hint(&c, &*plugin, &p, &added(&bare)), QueueSkip);
    assert_eq!(hint(&c, &*plugin, &p, &updated(&bare, &zoned)), Queue);
    assert_eq!(
        hint(&c, &*plugin, &p, &updated(&zoned, &bare)),
        QueueSkip,
        "the new node counts"
    );
}
