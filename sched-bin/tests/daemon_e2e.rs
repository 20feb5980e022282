//! End to end against a real API server (kind, minikube, any test cluster). Skipped unless
//! `PLACER_E2E_KUBECONFIG` names a kubeconfig:
//!
//! ```text
//! PLACER_E2E_KUBECONFIG=$HOME/.kube/config cargo test -p sched-bin --test daemon_e2e -- --nocapture
//! ```
//!
//! It creates two Node objects (no kubelet behind them, tainted so nothing else lands there)
//! and pods with `schedulerName: placer-e2e`, runs the daemon in-process, and asserts the
//! bindings, the `Scheduled` / `FailedScheduling` events and the `PodScheduled=False`
//! condition. Everything it creates is deleted at the end. The user needs rights to create
//! nodes, pods and to read events.

use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use sched_bin::daemon::Daemon;
use sched_bin::daemon::fake::{make_node, make_pod};
use sched_core::config::SchedulerConfig;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const SCHED: &str = "placer-e2e";

async fn wait_for<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..120 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("timed out waiting for {what}");
}

fn e2e_node(name: &str, milli_cpu: i64) -> Node {
    let mut n = make_node(name, milli_cpu, 110);
    n.metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("placer-e2e".into(), "true".into());
    n.spec.as_mut().unwrap().taints = Some(vec![Taint {
        key: "placer-e2e".into(),
        value: Some("true".into()),
        effect: "NoSchedule".into(),
        ..Taint::default()
    }]);
    n
}

fn e2e_pod(name: &str, milli_cpu: i64) -> Pod {
    let mut p = make_pod("default", name, SCHED, milli_cpu, 0);
    p.metadata.uid = None;
    p.status = None;
    let spec = p.spec.as_mut().unwrap();
    spec.node_selector = Some(
        [("placer-e2e".to_string(), "true".to_string())]
            .into_iter()
            .collect(),
    );
    // The node lifecycle controller taints nodes without a kubelet; tolerate that too.
    spec.tolerations = Some(vec![Toleration {
        operator: Some("Exists".into()),
        ..Toleration::default()
    }]);
    p
}

async fn events_for(client: &Client, pod: &str) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(client.clone(), "default");
    api.list(&ListParams::default().fields(&format!("regarding.name={pod}")))
        .await
        .map(|l| l.items)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_binds_emits_events_and_sets_conditions() {
    let Ok(path) = std::env::var("PLACER_E2E_KUBECONFIG") else {
        eprintln!("skipped: PLACER_E2E_KUBECONFIG is not set");
        return;
    };
    let kc = kube::config::Kubeconfig::read_from(&path).expect("kubeconfig");
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("kube config");
    let client = Client::try_from(config).expect("client");
    let suffix = format!("{:x}", std::process::id());
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let (small, large) = (
        format!("placer-e2e-small-{suffix}"),
        format!("placer-e2e-large-{suffix}"),
    );
    for (name, cpu) in [(&small, 1000), (&large, 4000)] {
        let n = e2e_node(name, cpu);
        nodes
            .create(&PostParams::default(), &n)
            .await
            .expect("create node");
        // Status is a subresource: set allocatable explicitly.
        let status = serde_json::json!({ "status": n.status });
        nodes
            .patch_status(name, &PatchParams::default(), &Patch::Merge(status))
            .await
            .expect("node status");
    }
    let (fit, big) = (format!("fit-{suffix}"), format!("big-{suffix}"));
    pods.create(&PostParams::default(), &e2e_pod(&fit, 3000))
        .await
        .expect("create pod");
    pods.create(&PostParams::default(), &e2e_pod(&big, 8000))
        .await
        .expect("create pod");

    let cfg = SchedulerConfig::from_yaml(&format!(
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: {SCHED}
"
    ))
    .unwrap();
    let daemon = Daemon::from_config(client.clone(), &cfg, "e2e").expect("daemon");
    let stop = CancellationToken::new();
    let handle = tokio::spawn(daemon.run(stop.clone()));

    let node = wait_for("fit bound", async || {
        pods.get(&fit).await.ok()?.spec?.node_name
    })
    .await;
    assert_eq!(node, large);
    let scheduled = wait_for("Scheduled event", async || {
        events_for(&client, &fit)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("Scheduled"))
    })
    .await;
    assert_eq!(
        scheduled.note.as_deref(),
        Some(format!("Successfully assigned default/{fit} to {large}").as_str())
    );

    let cond = wait_for("PodScheduled=False", async || {
        pods.get(&big)
            .await
            .ok()?
            .status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    })
    .await;
    assert_eq!(cond.reason.as_deref(), Some("Unschedulable"));
    let msg = cond.message.unwrap_or_default();
    assert!(msg.starts_with("0/"), "{msg}");
    let failed = wait_for("FailedScheduling event", async || {
        events_for(&client, &big)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    assert_eq!(failed.note.as_deref(), Some(msg.as_str()));

    stop.cancel();
    handle.await.unwrap().unwrap();
    for p in [&fit, &big] {
        let _ = pods
            .delete(p, &DeleteParams::default().grace_period(0))
            .await;
    }
    for n in [&small, &large] {
        let _ = nodes.delete(n, &DeleteParams::default()).await;
    }
}
