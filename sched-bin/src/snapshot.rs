//! `placer snapshot`: the cluster objects the scheduler reads, from the API server, as one
//! `kind: List` ready for `placer simulate --cluster` and `placer explain --cluster`.
//!
//! It lists, cluster-wide, Nodes, Pods, Namespaces, Services, ReplicaSets, StatefulSets and
//! ReplicationControllers (what `kubectl get
//! nodes,pods,namespaces,services,replicasets,statefulsets,replicationcontrollers -A -o yaml`
//! prints), each item with its `apiVersion` and `kind` and without `managedFields`.

use anyhow::Context;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ReplicationController, Service};
use kube::Client;
use kube::api::{Api, ListParams};
use sched_core::config::SchedulerConfig;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Flags of `placer snapshot`.
#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// kubeconfig file (default: `$KUBECONFIG`, `~/.kube/config`, or in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Write here instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

fn strip(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    v
}

/// Lists every object of kind `K` into `items`, with its `apiVersion` and `kind`.
async fn list_into<K>(client: &Client, what: &str, items: &mut Vec<Value>) -> anyhow::Result<()>
where
    K: k8s_openapi::Resource
        + kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + serde::Serialize,
{
    let list = Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await
        .with_context(|| format!("listing {what}"))?;
    items.reserve(list.items.len());
    for o in list.items {
        let mut v = strip(serde_json::to_value(o)?);
        v["apiVersion"] = json!(<K as k8s_openapi::Resource>::API_VERSION);
        v["kind"] = json!(<K as k8s_openapi::Resource>::KIND);
        items.push(v);
    }
    Ok(())
}

/// The snapshot of the cluster behind `client` as a `kind: List` YAML document: Nodes, Pods,
/// Namespaces, Services, ReplicaSets, StatefulSets, then ReplicationControllers.
///
/// # Errors
/// An API error (a list refused or failed) or a rendering error.
pub async fn render(client: &Client) -> anyhow::Result<String> {
    let mut items = Vec::new();
    list_into::<Node>(client, "nodes", &mut items).await?;
    list_into::<Pod>(client, "pods", &mut items).await?;
    render_rest(client, items).await
}

/// [`render`] with Nodes and Pods already at hand (`placer record` takes them from its
/// watches' initial lists); the other kinds are listed.
///
/// # Errors
/// As [`render`].
pub async fn render_with(client: &Client, nodes: &[Node], pods: &[Pod]) -> anyhow::Result<String> {
    let mut items = Vec::with_capacity(nodes.len() + pods.len());
    push_items(nodes, &mut items)?;
    push_items(pods, &mut items)?;
    render_rest(client, items).await
}

fn push_items<K>(objects: &[K], items: &mut Vec<Value>) -> anyhow::Result<()>
where
    K: k8s_openapi::Resource + serde::Serialize,
{
    for o in objects {
        let mut v = strip(serde_json::to_value(o)?);
        v["apiVersion"] = json!(<K as k8s_openapi::Resource>::API_VERSION);
        v["kind"] = json!(<K as k8s_openapi::Resource>::KIND);
        items.push(v);
    }
    Ok(())
}

async fn render_rest(client: &Client, mut items: Vec<Value>) -> anyhow::Result<String> {
    list_into::<Namespace>(client, "namespaces", &mut items).await?;
    list_into::<Service>(client, "services", &mut items).await?;
    list_into::<ReplicaSet>(client, "replicasets", &mut items).await?;
    list_into::<StatefulSet>(client, "statefulsets", &mut items).await?;
    list_into::<ReplicationController>(client, "replicationcontrollers", &mut items).await?;
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    serde_saphyr::to_string(&list).context("rendering YAML")
}

/// Lists the cluster's objects and writes them as a `kind: List` document (see [`render`]).
///
/// # Errors
/// Client construction or API errors, or an unwritable output.
pub async fn run(args: &SnapshotArgs) -> anyhow::Result<()> {
    let client = crate::daemon::client(
        &SchedulerConfig::default_config(),
        args.kubeconfig.as_deref(),
    )
    .await?;
    let text = render(&client).await?;
    match &args.output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}
