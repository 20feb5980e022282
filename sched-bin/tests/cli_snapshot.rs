//! `placer snapshot` against the in-process fake API server: every kind the scheduler reads
//! is listed and written so that the simulator's loader reads it back.

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Namespace, ReplicationController, ReplicationControllerSpec, Service, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use sched_bin::daemon::fake::{FakeApiServer, make_node, make_pod};
use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};
use std::collections::BTreeMap;

fn meta(ns: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(Into::into),
        labels: Some(labels("team", "web")),
        ..ObjectMeta::default()
    }
}

fn labels(k: &str, v: &str) -> BTreeMap<String, String> {
    [(k.to_string(), v.to_string())].into_iter().collect()
}

fn selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels("app", app)),
        ..LabelSelector::default()
    }
}

fn cluster() -> FakeApiServer {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    let mut bound = make_pod("shop", "web-1", "placer", 500, 0);
    bound.spec.as_mut().unwrap().node_name = Some("n1".into());
    fake.put_pod(bound);
    fake.put_pod(make_pod("shop", "web-2", "placer", 500, 0));
    fake.put(Namespace {
        metadata: meta(None, "shop"),
        ..Namespace::default()
    });
    fake.put(Namespace {
        metadata: meta(None, "data"),
        ..Namespace::default()
    });
    fake.put(Service {
        metadata: meta(Some("shop"), "web"),
        spec: Some(ServiceSpec {
            selector: Some(labels("app", "web")),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    });
    fake.put(ReplicaSet {
        metadata: meta(Some("shop"), "web-5d4f"),
        spec: ReplicaSetSpec {
            selector: selector("web"),
            ..ReplicaSetSpec::default()
        },
        ..ReplicaSet::default()
    });
    fake.put(StatefulSet {
        metadata: meta(Some("data"), "db"),
        spec: StatefulSetSpec {
            selector: selector("db"),
            ..StatefulSetSpec::default()
        },
        ..StatefulSet::default()
    });
    fake.put(ReplicationController {
        metadata: meta(Some("shop"), "legacy"),
        spec: Some(ReplicationControllerSpec {
            selector: Some(labels("app", "legacy")),
            ..ReplicationControllerSpec::default()
        }),
        ..ReplicationController::default()
    });
    fake
}

#[tokio::test]
async fn snapshot_writes_every_kind_the_scheduler_reads() {
    let fake = cluster();
    let text = sched_bin::snapshot::render(&fake.client("snapshot"))
        .await
        .unwrap();

    // One list per kind, cluster-wide.
    let mut lists: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == http::Method::GET)
        .map(|r| r.path.clone())
        .collect();
    lists.sort();
    assert_eq!(
        lists,
        [
            "/api/v1/namespaces",
            "/api/v1/nodes",
            "/api/v1/pods",
            "/api/v1/replicationcontrollers",
            "/api/v1/services",
            "/apis/apps/v1/replicasets",
            "/apis/apps/v1/statefulsets",
        ]
    );

    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(doc["kind"], "List");
    let kinds: Vec<(String, String)> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["apiVersion"].as_str().unwrap().to_string(),
                i["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let count = |api: &str, kind: &str| kinds.iter().filter(|k| k.0 == api && k.1 == kind).count();
    assert_eq!(count("v1", "Node"), 1);
    assert_eq!(count("v1", "Pod"), 2);
    assert_eq!(count("v1", "Namespace"), 2);
    assert_eq!(count("v1", "Service"), 1);
    assert_eq!(count("apps/v1", "ReplicaSet"), 1);
    assert_eq!(count("apps/v1", "StatefulSet"), 1);
    assert_eq!(count("v1", "ReplicationController"), 1);
    assert_eq!(kinds.len(), 9);

    // What it wrote loads back, every object in its group, nothing skipped.
    let snap = Snapshot::from_text(&text, "snapshot.yaml", LoadOptions::default()).unwrap();
    assert!(snap.skipped_kinds.is_empty(), "{:?}", snap.skipped_kinds);
    let service = &snap.services[0].1;
    assert_eq!(service.metadata.namespace.as_deref(), Some("shop"));
    assert_eq!(
        service.spec.as_ref().unwrap().selector,
        Some(labels("app", "web"))
    );
    let c = LoadedCluster::from_snapshot(snap, LoadOptions::default()).unwrap();
    let l = &c.loaded;
    assert_eq!(
        (
            l.nodes,
            l.pods,
            l.namespaces,
            l.services,
            l.replica_sets,
            l.stateful_sets,
            l.replication_controllers
        ),
        (1, 2, 2, 1, 1, 1, 1)
    );
    assert_eq!(c.pending.len(), 1);
}

#[tokio::test]
async fn a_refused_list_fails_the_snapshot_and_names_the_kind() {
    let fake = cluster();
    fake.block_path("snapshot", "/apis/apps/v1/statefulsets", true);
    let err = sched_bin::snapshot::render(&fake.client("snapshot"))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("listing statefulsets"),
        "{err:#}"
    );
}
