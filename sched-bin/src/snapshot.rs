//! `placer snapshot`: what `kubectl get nodes,pods -A -o yaml` prints, from the API server,
//! ready for `placer simulate --cluster` and `placer explain --cluster`.

use anyhow::Context;
use k8s_openapi::api::core::v1::{Node, Pod};
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

/// Lists every node and pod and renders a `kind: List` document.
///
/// # Errors
/// Client construction or API errors, or an unwritable output.
pub async fn run(args: &SnapshotArgs) -> anyhow::Result<()> {
    let client = crate::daemon::client(
        &SchedulerConfig::default_config(),
        args.kubeconfig.as_deref(),
    )
    .await?;
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .context("listing nodes")?;
    let pods = Api::<Pod>::all(client)
        .list(&ListParams::default())
        .await
        .context("listing pods")?;
    let mut items = Vec::with_capacity(nodes.items.len() + pods.items.len());
    for n in nodes.items {
        let mut v = strip(serde_json::to_value(n)?);
        v["apiVersion"] = json!("v1");
        v["kind"] = json!("Node");
        items.push(v);
    }
    for p in pods.items {
        let mut v = strip(serde_json::to_value(p)?);
        v["apiVersion"] = json!("v1");
        v["kind"] = json!("Pod");
        items.push(v);
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    let text = serde_saphyr::to_string(&list).context("rendering YAML")?;
    match &args.output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}
