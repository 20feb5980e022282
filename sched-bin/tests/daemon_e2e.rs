//! End to end against a real API server: the test control plane (etcd + kube-apiserver from
//! `KUBEBUILDER_ASSETS`, see `support/controlplane.rs`), or any cluster (kind, minikube, a test
//! cluster) when `PLACER_E2E_KUBECONFIG` names its kubeconfig:
//!
//! ```text
//! KUBEBUILDER_ASSETS=/path/to/assets cargo test -p sched-bin --test daemon_e2e -- --nocapture
//! PLACER_E2E_KUBECONFIG=$HOME/.kube/config cargo test -p sched-bin --test daemon_e2e -- --nocapture
//! ```
//!
//! Skipped (with a "skipped:" line) when neither is available. It creates two Node objects
//! (no kubelet behind them, tainted so nothing else lands there) and pods with
//! `schedulerName: placer-e2e`, runs the daemon in-process, and asserts the binding, the
//! `Scheduled` / `FailedScheduling` events, the `PodScheduled=False` condition and the
//! attempt counters. Everything it creates is deleted at the end. On an external cluster the
//! user needs rights to create nodes, pods and to read events.

mod support;

use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};
use kube::api::DeleteParams;
use kube::{Api, Client};
use sched_bin::daemon::Daemon;
use sched_core::config::SchedulerConfig;
use std::time::Duration;
use support::controlplane::ControlPlane;
use support::{create_node, create_pod, events_for, metric, metrics_text, wait_for};
use tokio_util::sync::CancellationToken;

const SCHED: &str = "placer-e2e";
const NS: &str = "default";
const WAIT: Duration = Duration::from_secs(60);

/// The cluster under test: `PLACER_E2E_KUBECONFIG`'s, else a test control plane (kept alive
/// by the returned guard), else `None` after printing why the test is skipped.
async fn cluster() -> Option<(Client, Option<ControlPlane>)> {
    if let Ok(path) = std::env::var("PLACER_E2E_KUBECONFIG") {
        let kc = kube::config::Kubeconfig::read_from(&path).expect("PLACER_E2E_KUBECONFIG");
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .expect("kube config");
        return Some((Client::try_from(config).expect("client"), None));
    }
    let cp = ControlPlane::start_or_skip().await?;
    eprintln!("control plane {} ready in {:?}", cp.url(), cp.started_in());
    let client = cp.client().await.expect("admin client");
    Some((client, Some(cp)))
}

fn e2e_node(name: &str, milli_cpu: i64) -> Node {
    let mut n = support::node(name, milli_cpu, &[("placer-e2e", "true")]);
    if let Some(spec) = n.spec.as_mut() {
        spec.taints = Some(vec![Taint {
            key: "placer-e2e".into(),
            value: Some("true".into()),
            effect: "NoSchedule".into(),
            ..Taint::default()
        }]);
    }
    n
}

fn e2e_pod(name: &str, milli_cpu: i64) -> Pod {
    let mut p = support::pod(NS, name, SCHED, milli_cpu, &[("placer-e2e", "true")]);
    if let Some(spec) = p.spec.as_mut() {
        // The node lifecycle controller taints nodes without a kubelet; tolerate that too.
        spec.tolerations = Some(vec![Toleration {
            operator: Some("Exists".into()),
            ..Toleration::default()
        }]);
    }
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_binds_emits_events_and_sets_conditions() {
    let Some((client, _control_plane)) = cluster().await else {
        return;
    };
    let suffix = format!("{:x}", std::process::id());
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let (small, large) = (
        format!("placer-e2e-small-{suffix}"),
        format!("placer-e2e-large-{suffix}"),
    );
    for (name, cpu) in [(&small, 1000), (&large, 4000)] {
        create_node(&client, &e2e_node(name, cpu)).await;
    }
    let (fit, big) = (format!("fit-{suffix}"), format!("big-{suffix}"));
    create_pod(&client, &e2e_pod(&fit, 3000)).await;
    create_pod(&client, &e2e_pod(&big, 8000)).await;

    let cfg = SchedulerConfig::from_yaml(&support::config_yaml(SCHED, None)).expect("config");
    let daemon = Daemon::from_config(client.clone(), &cfg, "e2e").expect("daemon");
    let endpoints = daemon.endpoints();
    let stop = CancellationToken::new();
    let handle = tokio::spawn(daemon.run(stop.clone()));

    let node = wait_for(WAIT, "fit bound", async || {
        pods.get(&fit).await.ok()?.spec?.node_name
    })
    .await;
    assert_eq!(node, large);
    let scheduled = wait_for(WAIT, "Scheduled event", async || {
        events_for(&client, NS, &fit)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("Scheduled"))
    })
    .await;
    assert_eq!(
        scheduled.note.as_deref(),
        Some(format!("Successfully assigned {NS}/{fit} to {large}").as_str())
    );
    assert_eq!(scheduled.reporting_controller.as_deref(), Some(SCHED));
    assert_eq!(scheduled.type_.as_deref(), Some("Normal"));

    let cond = wait_for(WAIT, "PodScheduled=False", async || {
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
    if _control_plane.is_some() {
        // Only our two nodes exist: upstream's exact text.
        assert_eq!(
            msg,
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: \
             2 Preemption is not helpful for scheduling."
        );
    }
    let failed = wait_for(WAIT, "FailedScheduling event", async || {
        events_for(&client, NS, &big)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    assert_eq!(failed.note.as_deref(), Some(msg.as_str()));
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    assert!(
        pods.get(&big)
            .await
            .expect("big")
            .spec
            .and_then(|s| s.node_name)
            .is_none(),
        "the pod that fits nowhere stays unbound"
    );

    let text = metrics_text(&endpoints).await;
    assert_eq!(
        metric(
            &text,
            &format!(
                r#"scheduler_schedule_attempts_total{{result="scheduled",profile="{SCHED}"}}"#
            )
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        metric(
            &text,
            &format!(
                r#"scheduler_schedule_attempts_total{{result="unschedulable",profile="{SCHED}"}}"#
            )
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );

    stop.cancel();
    handle
        .await
        .expect("daemon task")
        .expect("clean daemon stop");
    for p in [&fit, &big] {
        let _ = pods
            .delete(p, &DeleteParams::default().grace_period(0))
            .await;
    }
    for n in [&small, &large] {
        let _ = nodes.delete(n, &DeleteParams::default()).await;
    }
}
