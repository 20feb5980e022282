//! Support shared by the tests that talk to a real API server (`daemon_e2e.rs`,
//! `controlplane_e2e.rs`): the test control plane and object helpers.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod controlplane;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Toleration};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use sched_bin::daemon::fake::{make_node, make_pod};
use std::collections::BTreeMap;
use std::time::Duration;

/// Polls `f` every 200 ms until it returns `Some`, for up to `limit`.
///
/// # Panics
/// When `limit` passes (`what` names what was awaited).
pub async fn wait_for<T>(limit: Duration, what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A Node with `milli_cpu` allocatable cpu (64Gi memory, 110 pods) and `labels`.
#[must_use]
pub fn node(name: &str, milli_cpu: i64, labels: &[(&str, &str)]) -> Node {
    let mut n = make_node(name, milli_cpu, 110);
    let l = n.metadata.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in labels {
        l.insert((*k).to_string(), (*v).to_string());
    }
    n
}

/// Creates `node` and sets its status (a subresource, ignored by the create).
///
/// # Panics
/// When the API server refuses either write.
pub async fn create_node(client: &Client, node: &Node) {
    let api: Api<Node> = Api::all(client.clone());
    let name = node.metadata.name.clone().unwrap_or_default();
    api.create(&PostParams::default(), node)
        .await
        .unwrap_or_else(|e| panic!("create node {name}: {e}"));
    let status = serde_json::json!({ "status": node.status });
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap_or_else(|e| panic!("set status of node {name}: {e}"));
}

/// A pending pod in `ns` for `scheduler` requesting `milli_cpu`, restricted to nodes carrying
/// `selector` (no UID or status: the API server sets them). It tolerates the
/// `node.kubernetes.io/not-ready:NoSchedule` taint that the API server's `TaintNodesByCondition`
/// admission puts on every new Node (no kubelet ever reports these Ready).
#[must_use]
pub fn pod(
    ns: &str,
    name: &str,
    scheduler: &str,
    milli_cpu: i64,
    selector: &[(&str, &str)],
) -> Pod {
    let mut p = make_pod(ns, name, scheduler, milli_cpu, 0);
    p.metadata.uid = None;
    p.status = None;
    if let Some(spec) = p.spec.as_mut() {
        spec.tolerations = Some(vec![Toleration {
            key: Some("node.kubernetes.io/not-ready".into()),
            operator: Some("Exists".into()),
            effect: Some("NoSchedule".into()),
            ..Toleration::default()
        }]);
        if !selector.is_empty() {
            spec.node_selector = Some(
                selector
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                    .collect(),
            );
        }
    }
    p
}

/// Creates `pod`.
///
/// # Panics
/// When the API server refuses it.
pub async fn create_pod(client: &Client, pod: &Pod) {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    api.create(&PostParams::default(), pod)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create pod {ns}/{}: {e}",
                pod.metadata.name.as_deref().unwrap_or("")
            )
        });
}

/// Creates namespace `name`.
///
/// # Panics
/// When the API server refuses it.
pub async fn create_namespace(client: &Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    api.create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
}

/// The node `ns/name` is bound to, if any.
pub async fn bound_node(client: &Client, ns: &str, name: &str) -> Option<String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    api.get(name).await.ok()?.spec?.node_name
}

/// The `events.k8s.io/v1` events regarding pod `ns/name`.
pub async fn events_for(client: &Client, ns: &str, name: &str) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    api.list(&ListParams::default().fields(&format!("regarding.name={name}")))
        .await
        .map(|l| l.items)
        .unwrap_or_default()
}

/// A `KubeSchedulerConfiguration` with one profile `scheduler`, leader election as given
/// (`Some((namespace, lease))`) or off, and upstream's 15 s / 10 s / 2 s lease timings.
#[must_use]
pub fn config_yaml(scheduler: &str, election: Option<(&str, &str)>) -> String {
    let election = match election {
        Some((ns, lease)) => format!(
            "leaderElection:
  leaderElect: true
  leaseDuration: 15s
  renewDeadline: 10s
  retryPeriod: 2s
  resourceLock: leases
  resourceNamespace: {ns}
  resourceName: {lease}
"
        ),
        None => "leaderElection:\n  leaderElect: false\n".into(),
    };
    format!(
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
{election}podInitialBackoffSeconds: 1
podMaxBackoffSeconds: 2
profiles:
- schedulerName: {scheduler}
"
    )
}

/// The value of the first series starting with `series` in the OpenMetrics text `text`.
#[must_use]
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
}

/// The metrics text of a daemon's endpoints.
///
/// # Panics
/// When `/metrics` does not answer 200.
pub async fn metrics_text(e: &sched_bin::daemon::http::Endpoints) -> String {
    let r = e.respond(&http::Method::GET, "/metrics");
    assert_eq!(r.status(), 200, "/metrics status");
    let body = http_body_util::BodyExt::collect(r.into_body())
        .await
        .expect("metrics body")
        .to_bytes();
    String::from_utf8(body.to_vec()).expect("metrics are UTF-8")
}
