//! Namespaces, Services and controllers in the state: what default spreading and namespace
//! selectors read.

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, ReplicationController, Service};
use sched_core::ClusterState;
use sched_core::model::{LabelRequirement, WorkloadKind};
use serde_json::{Value, json};

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn pod(
    state: &mut ClusterState,
    labels: Value,
    owner: Option<(&str, &str, &str)>,
) -> sched_core::model::PodInfo {
    let mut meta = json!({"name": "p", "namespace": "shop", "labels": labels});
    if let Some((api, kind, name)) = owner {
        meta["ownerReferences"] = json!([{"apiVersion": api, "kind": kind, "name": name, "uid": "u", "controller": true}]);
    }
    state
        .convert_pod(&obj::<Pod>(
            json!({"metadata": meta, "spec": {"containers": []}}),
        ))
        .unwrap()
}

/// The selector's requirements as (key, operator, values) strings, for comparison.
fn render(state: &ClusterState, sel: &sched_core::model::LabelSelector) -> Vec<String> {
    let i = state.interner();
    sel.requirements
        .iter()
        .map(|r| match r {
            LabelRequirement::In { key, values } => format!(
                "{} in {:?}",
                i.resolve(*key),
                values.iter().map(|v| i.resolve(*v)).collect::<Vec<_>>()
            ),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn default_selector_merges_services_and_the_replica_set() {
    // upstream helper.DefaultSelector: every Service in the pod's namespace that selects it,
    // merged, plus its controller's selector.
    let mut s = ClusterState::new();
    for (ns, name, sel) in [
        ("shop", "web", json!({"app": "web"})),
        ("shop", "canary", json!({"track": "canary"})),
        ("shop", "other", json!({"app": "db"})),
        ("elsewhere", "web", json!({"app": "web", "zone": "x"})),
    ] {
        s.apply_service(&obj::<Service>(
            json!({"metadata": {"name": name, "namespace": ns}, "spec": {"selector": sel}}),
        ))
        .unwrap();
    }
    // A Service without a selector selects nothing (not everything).
    s.apply_service(&obj::<Service>(
        json!({"metadata": {"name": "headless", "namespace": "shop"}, "spec": {}}),
    ))
    .unwrap();
    s.apply_replica_set(&obj::<ReplicaSet>(
        json!({"metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"pod-template-hash": "1"}}}}),
    ))
    .unwrap();
    assert_eq!((s.num_services(), s.num_workloads()), (5, 1));

    let p = pod(
        &mut s,
        json!({"app": "web", "track": "canary", "pod-template-hash": "1"}),
        Some(("apps/v1", "ReplicaSet", "web-1")),
    );
    let sel = s.default_spread_selector(&p).unwrap();
    let mut got = render(&s, &sel);
    got.sort();
    assert_eq!(
        got,
        [
            "app in [\"web\"]",
            "pod-template-hash in [\"1\"]",
            "track in [\"canary\"]"
        ]
    );
    assert!(sel.matches(&p.labels, s.interner()));

    // Owned by a ReplicaSet of another API version: upstream compares group/version/kind.
    let p2 = pod(
        &mut s,
        json!({"pod-template-hash": "1"}),
        Some(("apps/v1beta2", "ReplicaSet", "web-1")),
    );
    assert!(
        s.default_spread_selector(&p2).is_none(),
        "nothing selects or owns it"
    );

    // Removing the Service drops its part.
    s.remove_service("shop", "canary");
    let p3 = pod(&mut s, json!({"app": "web", "track": "canary"}), None);
    assert_eq!(
        render(&s, &s.default_spread_selector(&p3).unwrap()),
        ["app in [\"web\"]"]
    );
    s.check_consistency().unwrap();
}

#[test]
fn replication_controller_and_stateful_set_selectors() {
    let mut s = ClusterState::new();
    s.apply_replication_controller(&obj::<ReplicationController>(
        json!({"metadata": {"name": "rc", "namespace": "shop"},
        "spec": {"selector": {"app": "legacy"}}}),
    ))
    .unwrap();
    s.apply_stateful_set(&obj::<StatefulSet>(json!({"metadata": {"name": "db", "namespace": "shop"},
        "spec": {"serviceName": "db", "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]},
                 "template": {}}}))).unwrap();
    let rc_pod = pod(
        &mut s,
        json!({"app": "legacy"}),
        Some(("v1", "ReplicationController", "rc")),
    );
    assert_eq!(
        render(&s, &s.default_spread_selector(&rc_pod).unwrap()),
        ["app in [\"legacy\"]"]
    );
    let ss_pod = pod(
        &mut s,
        json!({"app": "db"}),
        Some(("apps/v1", "StatefulSet", "db")),
    );
    assert_eq!(
        render(&s, &s.default_spread_selector(&ss_pod).unwrap()),
        ["app in [\"db\"]"]
    );
    s.remove_workload(WorkloadKind::StatefulSet, "shop", "db");
    assert!(s.default_spread_selector(&ss_pod).is_none());
}

#[test]
fn namespaces_get_the_api_servers_name_label() {
    // upstream: the API server labels every Namespace kubernetes.io/metadata.name=<name>.
    let mut s = ClusterState::new();
    s.apply_namespace(&obj::<Namespace>(
        json!({"metadata": {"name": "shop", "labels": {"team": "a"}}}),
    ))
    .unwrap();
    let ns = s.interner().get("shop").unwrap();
    let labels = s.namespace_labels(ns).unwrap();
    let i = s.interner();
    let get = |k: &str| {
        labels
            .get(i.get(k).unwrap())
            .map(|v| i.resolve(v).to_string())
    };
    assert_eq!(get("team").as_deref(), Some("a"));
    assert_eq!(get("kubernetes.io/metadata.name").as_deref(), Some("shop"));
    s.remove_namespace("shop");
    assert_eq!(s.num_namespaces(), 0);
    let err = s
        .apply_namespace(&obj::<Namespace>(json!({"metadata": {}})))
        .unwrap_err();
    assert!(err.to_string().contains("metadata.name"), "{err}");
}
