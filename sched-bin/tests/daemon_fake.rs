//! The daemon against the in-process fake API server: the whole loop (watchers, cache, queue,
//! scheduling with the default plugins, binding, events, conditions, leader election, metrics,
//! the HTTP endpoints on a real socket), one scenario per test, on paused time (except the
//! socket test, on real time and milliseconds long). The log format is tested in
//! `daemon_logs.rs`, a process of its own.

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Service};
use sched_bin::daemon::fake::{
    FakeApiServer, make_namespace, make_node, make_pod, make_replica_set,
    make_replication_controller, make_service, make_stateful_set,
};
use sched_bin::daemon::{Daemon, Stopped, http::Endpoints};
use sched_core::config::SchedulerConfig;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const NS: &str = "default";
const SCHED: &str = "placer";
/// Upstream's FitError text with the DefaultPreemption PostFilter message.
const UNFIT: &str = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";

fn config(leader_elect: bool) -> SchedulerConfig {
    config_with(leader_elect, "")
}

/// The test configuration with `extra` top-level YAML lines.
fn config_with(leader_elect: bool, extra: &str) -> SchedulerConfig {
    SchedulerConfig::from_yaml(&format!(
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
{extra}leaderElection:
  leaderElect: {leader_elect}
  resourceNamespace: placer-system
  resourceName: placer
profiles:
- schedulerName: {SCHED}
"
    ))
    .expect("valid config")
}

struct Running {
    handle: JoinHandle<sched_bin::daemon::Result<Stopped>>,
    stop: CancellationToken,
    endpoints: Endpoints,
}

fn start(fake: &FakeApiServer, name: &str, leader_elect: bool) -> Running {
    start_with(fake, name, &config(leader_elect))
}

fn start_with(fake: &FakeApiServer, name: &str, cfg: &SchedulerConfig) -> Running {
    let daemon = Daemon::from_config(fake.client(name), cfg, name).expect("daemon");
    let endpoints = daemon.endpoints();
    let stop = CancellationToken::new();
    let handle = tokio::spawn(daemon.run(stop.clone()));
    Running {
        handle,
        stop,
        endpoints,
    }
}

/// Polls `f` every 100 ms of (paused) time, up to 60 s.
async fn wait_until(what: &str, f: impl FnMut() -> bool) {
    wait_up_to(Duration::from_secs(60), what, f).await;
}

/// Polls `f` every 100 ms of (paused) time, up to `limit`.
async fn wait_up_to(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..limit.as_millis() / 100 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn metrics(e: &Endpoints) -> String {
    let r = e.respond(&http::Method::GET, "/metrics");
    assert_eq!(r.status(), 200);
    let body = futures::executor::block_on(http_body_util::BodyExt::collect(r.into_body()))
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

fn metric(e: &Endpoints, series: &str) -> Option<f64> {
    metrics(e)
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
}

/// `scheduler_pending_pods` over every sub-queue.
fn pending_total(e: &Endpoints) -> f64 {
    ["active", "backoff", "unschedulable", "gated"]
        .iter()
        .map(|q| metric(e, &format!(r#"scheduler_pending_pods{{queue="{q}"}}"#)).unwrap_or(-1.0))
        .sum()
}

fn failed_scheduling_events(fake: &FakeApiServer) -> usize {
    fake.events()
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .count()
}

fn bound_node(fake: &FakeApiServer, name: &str) -> Option<String> {
    fake.pod(NS, name)?.spec?.node_name
}

fn binding_requests(fake: &FakeApiServer, pod: &str) -> usize {
    let path = format!("/api/v1/namespaces/{NS}/pods/{pod}/binding");
    fake.requests().iter().filter(|r| r.path == path).count()
}

#[tokio::test(start_paused = true)]
async fn schedules_and_binds_with_uid_and_emits_scheduled_event() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    fake.put_pod(make_pod(NS, "other", "default-scheduler", 500, 0));
    let d = start(&fake, "a", false);
    wait_until("p1 bound", || bound_node(&fake, "p1").is_some()).await;
    assert_eq!(bound_node(&fake, "p1").as_deref(), Some("n1"));
    assert_eq!(
        bound_node(&fake, "other"),
        None,
        "pods of other schedulers are left alone"
    );

    let bind = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/pods/p1/binding"))
        .unwrap();
    assert_eq!(bind.method, http::Method::POST);
    assert_eq!(bind.body["metadata"]["uid"], "uid-p1");
    assert_eq!(
        bind.body["target"],
        serde_json::json!({"kind": "Node", "name": "n1"})
    );

    wait_until("Scheduled event", || !fake.events().is_empty()).await;
    let ev = &fake.events()[0];
    assert_eq!(ev.reason.as_deref(), Some("Scheduled"));
    assert_eq!(ev.type_.as_deref(), Some("Normal"));
    assert_eq!(ev.action.as_deref(), Some("Binding"));
    assert_eq!(
        ev.note.as_deref(),
        Some("Successfully assigned default/p1 to n1")
    );
    assert_eq!(ev.reporting_controller.as_deref(), Some(SCHED));
    assert_eq!(
        ev.regarding.as_ref().unwrap().uid.as_deref(),
        Some("uid-p1")
    );

    wait_until("attempt counted", || {
        metric(
            &d.endpoints,
            r#"scheduler_schedule_attempts_total{result="scheduled",profile="placer"}"#,
        ) == Some(1.0)
    })
    .await;
    let text = metrics(&d.endpoints);
    for name in [
        "scheduler_scheduling_attempt_duration_seconds_bucket",
        "scheduler_pending_pods{queue=\"active\"}",
        "scheduler_pod_scheduling_attempts_bucket{le=\"1.0\"} 1",
        "scheduler_framework_extension_point_duration_seconds_bucket{le=\"0.0001\",extension_point=\"Bind\"",
        "scheduler_framework_extension_point_duration_seconds_bucket{le=\"0.0001\",extension_point=\"PreFilter\"",
    ] {
        assert!(text.contains(name), "metrics lack {name}:\n{text}");
    }
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn readyz_waits_for_both_initial_lists() {
    let fake = FakeApiServer::new();
    fake.block_all("a", true);
    let d = start(&fake, "a", false);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        d.endpoints.respond(&http::Method::GET, "/readyz").status(),
        503
    );
    assert_eq!(
        d.endpoints.respond(&http::Method::GET, "/livez").status(),
        200
    );
    assert_eq!(
        d.endpoints.respond(&http::Method::GET, "/healthz").status(),
        200
    );
    fake.block_all("a", false);
    wait_until("ready", || {
        d.endpoints.respond(&http::Method::GET, "/readyz").status() == 200
    })
    .await;
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn bind_conflict_drops_the_pod() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    fake.fail_next_bindings(&[409]);
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    let d = start(&fake, "a", false);
    wait_until("binding attempted", || binding_requests(&fake, "p1") == 1).await;
    // Well past the maximum backoff: a dropped pod is not retried.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(binding_requests(&fake, "p1"), 1);
    assert_eq!(bound_node(&fake, "p1"), None);
    assert_eq!(
        metric(
            &d.endpoints,
            r#"scheduler_schedule_attempts_total{result="error",profile="placer"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &d.endpoints,
            r#"scheduler_scheduler_cache_size{type="assumed_pods"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        metric(&d.endpoints, r#"scheduler_pending_pods{queue="active"}"#),
        Some(0.0)
    );
    assert_eq!(
        metric(&d.endpoints, r#"scheduler_pending_pods{queue="backoff"}"#),
        Some(0.0)
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn bind_server_error_forgets_and_retries_after_backoff() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    fake.fail_next_bindings(&[500]);
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    let d = start(&fake, "a", false);
    wait_until("first binding", || binding_requests(&fake, "p1") == 1).await;
    let failed = Instant::now();
    wait_until("p1 bound on retry", || bound_node(&fake, "p1").is_some()).await;
    assert!(
        failed.elapsed() >= Duration::from_millis(900),
        "retried only after the 1 s backoff"
    );
    assert_eq!(binding_requests(&fake, "p1"), 2);
    let failed_events: Vec<_> = fake
        .events()
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .collect();
    assert_eq!(failed_events.len(), 1);
    assert!(
        failed_events[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("Binding rejected: ")
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn pod_deleted_while_binding_is_forgotten_and_not_retried() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 1000, 110));
    let gate = fake.hold_bindings();
    fake.put_pod(make_pod(NS, "p1", SCHED, 1000, 0));
    let d = start(&fake, "a", false);
    wait_until("binding in flight", || binding_requests(&fake, "p1") == 1).await;
    assert_eq!(
        metric(
            &d.endpoints,
            r#"scheduler_scheduler_cache_size{type="assumed_pods"}"#
        ),
        Some(1.0)
    );
    fake.delete_pod(NS, "p1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    gate.add_permits(1);
    wait_until("assumption dropped", || {
        metric(
            &d.endpoints,
            r#"scheduler_scheduler_cache_size{type="assumed_pods"}"#,
        ) == Some(0.0)
            && metric(&d.endpoints, r#"scheduler_goroutines{operation="binding"}"#) == Some(0.0)
    })
    .await;
    gate.add_permits(100);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(binding_requests(&fake, "p1"), 1);
    assert!(fake.bindings().is_empty());
    // The node's room is free again: a new pod that needs all of it fits.
    fake.put_pod(make_pod(NS, "p2", SCHED, 1000, 0));
    wait_until("p2 bound", || bound_node(&fake, "p2").is_some()).await;
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn unschedulable_pod_gets_event_and_condition_then_fits_when_a_node_is_added() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("small", 1000, 110));
    fake.put_pod(make_pod(NS, "big", SCHED, 2000, 0));
    // Another scheduler's pod on the node, deleted later.
    let mut other = make_pod(NS, "other", "default-scheduler", 100, 0);
    other.spec.as_mut().unwrap().node_name = Some("small".into());
    fake.put_pod(other);
    let d = start(&fake, "a", false);
    wait_until("FailedScheduling", || {
        fake.events()
            .iter()
            .any(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    let ev = fake
        .events()
        .into_iter()
        .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .unwrap();
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    assert_eq!(ev.note.as_deref(), Some(UNFIT));
    wait_until("condition patched", || {
        fake.requests()
            .iter()
            .any(|r| r.path.ends_with("/pods/big/status"))
    })
    .await;
    let cond = fake
        .pod(NS, "big")
        .unwrap()
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(cond.status, "False");
    assert_eq!(cond.reason.as_deref(), Some("Unschedulable"));
    assert_eq!(cond.message.as_deref(), Some(UNFIT));
    assert_eq!(
        metric(
            &d.endpoints,
            r#"scheduler_pending_pods{queue="unschedulable"}"#
        ),
        Some(1.0),
        "parked until an event"
    );
    let by_fit = r#"scheduler_unschedulable_pods{plugin="NodeResourcesFit",profile="placer"}"#;
    assert_eq!(
        metric(&d.endpoints, by_fit),
        Some(1.0),
        "counted under the plugin that rejected it"
    );

    // A label change is no event NodeResourcesFit registered (upstream: Node/Add,
    // UpdateNodeAllocatable, UpdateNodeTaint; assigned pod Delete, UpdatePodScaleDown): the pod
    // stays parked, no retry.
    let mut relabelled = make_node("small", 1000, 110);
    relabelled
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("zone".into(), "a".into());
    fake.put_node(relabelled.clone());
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        failed_scheduling_events(&fake),
        1,
        "a label change moves no pod"
    );
    // An allocatable change is one, but NodeResourcesFit's queueing hint sees 1.5 cpus cannot
    // hold 2 even on an empty node: no retry.
    let mut grown = relabelled;
    grown
        .status
        .as_mut()
        .unwrap()
        .allocatable
        .as_mut()
        .unwrap()
        .insert(
            "cpu".into(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("1500m".into()),
        );
    fake.put_node(grown);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        failed_scheduling_events(&fake),
        1,
        "the hint skipped a node still too small"
    );
    // An assigned pod deleted is one the hint lets through: the pod is retried; same failure,
    // same message: a second event but no second status patch.
    fake.delete_pod(NS, "other");
    wait_until("second FailedScheduling", || {
        fake.events()
            .iter()
            .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
            .count()
            == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let patches = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pods/big/status"))
        .count();
    assert_eq!(patches, 1, "the condition is patched only when it changes");

    // Nothing else happens while it waits: no event, so no retry (max stay is 5 minutes).
    let before = binding_requests(&fake, "big");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(before, 0);
    let added = Instant::now();
    fake.put_node(make_node("large", 4000, 110));
    wait_until("big bound", || bound_node(&fake, "big").is_some()).await;
    assert_eq!(bound_node(&fake, "big").as_deref(), Some("large"));
    assert!(
        added.elapsed() < Duration::from_secs(2),
        "moved by the node add, not by a timer"
    );
    assert_eq!(
        metric(&d.endpoints, by_fit),
        Some(0.0),
        "back to 0 once it left"
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_assigned_pod_resized_down_moves_a_pod_rejected_for_its_resources() {
    // upstream UpdatePodScaleDown (in-place resize), which NodeResourcesFit registers: the
    // room another pod gives back lets the pending pod in, without waiting for the 5 min flush.
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n", 2000, 110));
    let place = |cpu: i64| {
        let mut p = make_pod(NS, "other", "default-scheduler", cpu, 0);
        p.spec.as_mut().unwrap().node_name = Some("n".into());
        p
    };
    fake.put_pod(place(1500));
    fake.put_pod(make_pod(NS, "want", SCHED, 1000, 0));
    let d = start(&fake, "a", false);
    wait_until("FailedScheduling", || failed_scheduling_events(&fake) == 1).await;
    // A resize up gives nothing back: no retry.
    fake.put_pod(place(1800));
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        failed_scheduling_events(&fake),
        1,
        "a resize up moves no pod"
    );
    assert!(bound_node(&fake, "want").is_none());
    let resized = Instant::now();
    fake.put_pod(place(500));
    wait_until("want bound", || bound_node(&fake, "want").is_some()).await;
    assert!(
        resized.elapsed() < Duration::from_secs(2),
        "moved by the scale-down, not by a timer"
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn unschedulable_pod_is_retried_after_the_maximum_stay() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("small", 1000, 110));
    fake.put_pod(make_pod(NS, "big", SCHED, 2000, 0));
    let d = start(&fake, "a", false);
    wait_until("first failure", || {
        fake.events()
            .iter()
            .any(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    let failed = Instant::now();
    wait_up_to(Duration::from_secs(400), "second attempt", || {
        fake.events()
            .iter()
            .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
            .count()
            == 2
    })
    .await;
    let waited = failed.elapsed();
    assert!(
        waited >= Duration::from_secs(299) && waited < Duration::from_secs(302),
        "retried after upstream's 5 min maximum stay, got {waited:?}"
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn higher_priority_pods_are_scheduled_first() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 1000, 110));
    // Room for one: the high-priority pod, created last, must win.
    fake.put_pod(make_pod(NS, "low", SCHED, 1000, 0));
    fake.put_pod(make_pod(NS, "high", SCHED, 1000, 1000));
    let d = start(&fake, "a", false);
    wait_until("one bound", || !fake.bindings().is_empty()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let b = fake.bindings();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].pod, "default/high");
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

/// upstream's preemption sequence, carried out through the API server: the victim gets a
/// `Preempted` event and is deleted (with its UID as precondition), the preemptor's
/// `status.nominatedNodeName` names the node, and once the deletion comes back through the
/// watch the preemptor is bound there.
#[tokio::test(start_paused = true)]
async fn a_preemptor_deletes_its_victim_is_nominated_and_then_bound() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 1000, 110));
    let mut low = make_pod(NS, "low", "default-scheduler", 1000, 0);
    low.spec.as_mut().unwrap().node_name = Some("n1".into());
    fake.put_pod(low);
    fake.put_pod(make_pod(NS, "high", SCHED, 1000, 1000));
    let d = start(&fake, "a", false);
    wait_until("high bound", || bound_node(&fake, "high").is_some()).await;
    assert_eq!(bound_node(&fake, "high").as_deref(), Some("n1"));
    assert_eq!(fake.deleted_pods(), ["default/low"]);
    assert!(fake.pod(NS, "low").is_none());
    let preempted = fake
        .events()
        .into_iter()
        .find(|e| e.reason.as_deref() == Some("Preempted"))
        .expect("a Preempted event on the victim");
    assert_eq!(
        preempted.regarding.as_ref().and_then(|r| r.name.as_deref()),
        Some("low")
    );
    assert_eq!(
        preempted.note.as_deref(),
        Some("Preempted by pod uid-high on node n1")
    );
    let high = fake.pod(NS, "high").unwrap();
    assert_eq!(
        high.status.and_then(|s| s.nominated_node_name).as_deref(),
        Some("n1"),
        "status.nominatedNodeName was set before the binding"
    );
    // upstream's preemption metrics: one DefaultPreemption run, one victim.
    assert_eq!(
        metric(&d.endpoints, "scheduler_preemption_attempts_total"),
        Some(1.0)
    );
    assert_eq!(
        metric(&d.endpoints, "scheduler_preemption_victims_count"),
        Some(1.0)
    );
    assert_eq!(
        metric(&d.endpoints, "scheduler_preemption_victims_sum"),
        Some(1.0)
    );
    if std::path::Path::new("/proc/self/stat").exists() {
        let rss = metric(&d.endpoints, "process_resident_memory_bytes").unwrap_or(0.0);
        assert!(rss > 1_000_000.0, "process_resident_memory_bytes {rss}");
        assert!(metric(&d.endpoints, "process_start_time_seconds").unwrap_or(0.0) > 1.6e9);
    }
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn pods_bound_by_others_count_against_their_nodes() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 1000, 110));
    fake.put_node(make_node("n2", 1000, 110));
    let mut other = make_pod(NS, "other", "default-scheduler", 1000, 0);
    other.spec.as_mut().unwrap().node_name = Some("n1".into());
    fake.put_pod(other);
    fake.put_pod(make_pod(NS, "p1", SCHED, 1000, 0));
    let d = start(&fake, "a", false);
    wait_until("p1 bound", || bound_node(&fake, "p1").is_some()).await;
    assert_eq!(bound_node(&fake, "p1").as_deref(), Some("n2"));
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn watch_expiry_relists_and_replaces_the_cache() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 1000, 110));
    let mut hog = make_pod(NS, "hog", "default-scheduler", 1000, 0);
    hog.spec.as_mut().unwrap().node_name = Some("n1".into());
    fake.put_pod(hog);
    fake.put_pod(make_pod(NS, "p1", SCHED, 1000, 0));
    let d = start(&fake, "a", false);
    wait_until("p1 unschedulable", || {
        fake.events()
            .iter()
            .any(|e| e.reason.as_deref() == Some("FailedScheduling"))
    })
    .await;
    // The hog disappears while the watch is broken: only a re-list can tell.
    fake.delete_pod_silently(NS, "hog");
    fake.expire_watches();
    wait_until("p1 bound after re-list", || {
        bound_node(&fake, "p1").is_some()
    })
    .await;
    let lists = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/pods" && !r.query.contains("watch=true"))
        .count();
    assert_eq!(lists, 2, "initial list and one re-list");
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn lease_acquire_renew_and_release_on_sigterm() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    let d = start(&fake, "a", true);
    wait_until("lease held", || {
        fake.lease("placer-system", "placer")
            .and_then(|l| l.spec?.holder_identity)
            .as_deref()
            == Some("a")
    })
    .await;
    let rv = |f: &FakeApiServer| {
        f.lease("placer-system", "placer")
            .unwrap()
            .metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let first = rv(&fake);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(rv(&fake) > first, "renewed every retry period");
    assert_eq!(
        metric(
            &d.endpoints,
            r#"leader_election_master_status{name="placer"}"#
        ),
        Some(1.0)
    );
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    wait_until("p1 bound by the leader", || {
        bound_node(&fake, "p1").is_some()
    })
    .await;
    d.stop.cancel();
    let stopped = d.handle.await.unwrap().unwrap();
    assert!(stopped.released);
    let spec = fake.lease("placer-system", "placer").unwrap().spec.unwrap();
    assert_eq!(spec.holder_identity, None, "released: empty holder");
    assert_eq!(spec.lease_duration_seconds, Some(1));
}

#[tokio::test(start_paused = true)]
async fn losing_the_lease_api_past_the_renew_deadline_exits_with_an_error() {
    let fake = FakeApiServer::new();
    let d = start(&fake, "a", true);
    wait_until("lease held", || {
        fake.lease("placer-system", "placer").is_some()
    })
    .await;
    let cut = Instant::now();
    fake.block_leases("a", true);
    let err = d.handle.await.unwrap().expect_err("leadership lost");
    assert!(matches!(err, sched_bin::daemon::Error::Leader(_)), "{err}");
    let after = cut.elapsed();
    // Renew deadline 10 s, checked every 2 s retry period.
    assert!(
        after >= Duration::from_secs(9) && after <= Duration::from_secs(13),
        "stepped down after {after:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn sigterm_finishes_bindings_in_flight_before_releasing() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    let gate = fake.hold_bindings();
    let d = start(&fake, "a", true);
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    wait_until("binding in flight", || binding_requests(&fake, "p1") == 1).await;
    d.stop.cancel();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!d.handle.is_finished(), "waits for the binding in flight");
    assert_eq!(
        fake.lease("placer-system", "placer")
            .unwrap()
            .spec
            .unwrap()
            .holder_identity
            .as_deref(),
        Some("a"),
        "lease kept until bindings are done"
    );
    // No new work is taken while stopping.
    fake.put_pod(make_pod(NS, "p2", SCHED, 500, 0));
    gate.add_permits(10);
    let stopped = d.handle.await.unwrap().unwrap();
    assert!(stopped.released);
    assert_eq!(bound_node(&fake, "p1").as_deref(), Some("n1"));
    assert_eq!(binding_requests(&fake, "p2"), 0);
    assert_eq!(
        fake.lease("placer-system", "placer")
            .unwrap()
            .spec
            .unwrap()
            .holder_identity,
        None
    );
}

#[tokio::test(start_paused = true)]
async fn two_instances_one_lease_only_the_leader_binds_and_the_standby_takes_over() {
    let fake = FakeApiServer::new();
    for i in 0..4 {
        fake.put_node(make_node(&format!("n{i}"), 8000, 110));
    }
    let a = start(&fake, "a", true);
    wait_until("a leads", || {
        fake.lease("placer-system", "placer")
            .and_then(|l| l.spec?.holder_identity)
            .as_deref()
            == Some("a")
    })
    .await;
    let b = start(&fake, "b", true);
    for i in 0..20 {
        fake.put_pod(make_pod(NS, &format!("p{i}"), SCHED, 100, 0));
    }
    wait_until("20 bound", || fake.bindings().len() == 20).await;
    assert!(
        fake.bindings().iter().all(|r| r.client == "a"),
        "only the leader binds"
    );
    // The standby's cache is warm: it is ready although it does not lead.
    assert_eq!(
        b.endpoints.respond(&http::Method::GET, "/readyz").status(),
        200
    );

    // The leader is cut off from the API server (as a crash or a partition looks from the
    // outside): the standby takes over once the record has not changed for the lease
    // duration, checked every retry period.
    fake.block_all("a", true);
    let crashed = Instant::now();
    wait_until("b leads", || {
        fake.lease("placer-system", "placer")
            .and_then(|l| l.spec?.holder_identity)
            .as_deref()
            == Some("b")
    })
    .await;
    let took = crashed.elapsed();
    assert!(took <= Duration::from_secs(15 + 2), "took over in {took:?}");
    for i in 20..30 {
        fake.put_pod(make_pod(NS, &format!("p{i}"), SCHED, 100, 0));
    }
    wait_until("30 bound", || fake.bindings().len() == 30).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let bindings = fake.bindings();
    assert_eq!(bindings.len(), 30);
    let mut pods: Vec<_> = bindings.iter().map(|r| r.pod.clone()).collect();
    pods.sort();
    pods.dedup();
    assert_eq!(pods.len(), 30, "no pod bound twice");
    assert!(bindings[20..].iter().all(|r| r.client == "b"));
    let binding_calls_by_a_after_crash = fake
        .requests()
        .iter()
        .filter(|r| r.client == "a" && r.path.ends_with("/binding"))
        .count();
    assert_eq!(binding_calls_by_a_after_crash, 20);
    let err = a.handle.await.unwrap().expect_err("a lost leadership");
    assert!(matches!(err, sched_bin::daemon::Error::Leader(_)));
    let _ = a.stop;
    b.stop.cancel();
    b.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn graceful_leader_stop_hands_over_within_a_retry_period() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 8000, 110));
    let a = start(&fake, "a", true);
    wait_until("a leads", || {
        fake.lease("placer-system", "placer")
            .and_then(|l| l.spec?.holder_identity)
            .as_deref()
            == Some("a")
    })
    .await;
    let b = start(&fake, "b", true);
    tokio::time::sleep(Duration::from_secs(3)).await;
    a.stop.cancel();
    a.handle.await.unwrap().unwrap();
    let released = Instant::now();
    wait_until("b leads", || {
        fake.lease("placer-system", "placer")
            .and_then(|l| l.spec?.holder_identity)
            .as_deref()
            == Some("b")
    })
    .await;
    assert!(
        released.elapsed() <= Duration::from_millis(2100),
        "{:?}",
        released.elapsed()
    );
    fake.put_pod(make_pod(NS, "p1", SCHED, 100, 0));
    wait_until("p1 bound by b", || {
        fake.bindings().iter().any(|r| r.client == "b")
    })
    .await;
    b.stop.cancel();
    b.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn scheduling_waits_for_the_node_list() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    fake.block_path("a", "/api/v1/nodes", true);
    let d = start(&fake, "a", false);
    tokio::time::sleep(Duration::from_secs(5)).await;
    // Pods are listed, nodes are not: no attempt (it would fail with "no nodes available").
    assert!(fake.events().is_empty());
    assert_eq!(binding_requests(&fake, "p1"), 0);
    assert_eq!(
        d.endpoints.respond(&http::Method::GET, "/readyz").status(),
        503
    );
    fake.block_path("a", "/api/v1/nodes", false);
    wait_until("p1 bound", || bound_node(&fake, "p1").is_some()).await;
    assert!(
        fake.events()
            .iter()
            .all(|e| e.reason.as_deref() == Some("Scheduled")),
        "never attempted against an empty cache"
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn bindings_run_in_parallel() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 8000, 110));
    let gate = fake.hold_bindings();
    for i in 0..5 {
        fake.put_pod(make_pod(NS, &format!("p{i}"), SCHED, 100, 0));
    }
    let d = start(&fake, "a", false);
    wait_until("5 bindings in flight at once", || {
        metric(&d.endpoints, r#"scheduler_goroutines{operation="binding"}"#) == Some(5.0)
    })
    .await;
    assert!(fake.bindings().is_empty());
    gate.add_permits(5);
    wait_until("5 bound", || fake.bindings().len() == 5).await;
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn unconfirmed_assumptions_expire() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 1000, 110));
    fake.silent_bindings(true);
    fake.put_pod(make_pod(NS, "p1", SCHED, 1000, 0));
    let d = start(&fake, "a", false);
    wait_until("bound (unconfirmed)", || fake.bindings().len() == 1).await;
    let bound = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        metric(
            &d.endpoints,
            r#"scheduler_scheduler_cache_size{type="assumed_pods"}"#
        ),
        Some(1.0)
    );
    wait_until("assumption expired", || {
        metric(
            &d.endpoints,
            r#"scheduler_scheduler_cache_size{type="assumed_pods"}"#,
        ) == Some(0.0)
    })
    .await;
    let after = bound.elapsed();
    assert!(
        after >= Duration::from_secs(29) && after <= Duration::from_secs(31),
        "{after:?}"
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

/// Where a pod waits when something happens to it.
#[derive(Clone, Copy, Debug)]
enum Parked {
    /// No node fits it: `unschedulable`, until a cluster event or the 5-minute maximum stay.
    Unschedulable,
    /// Its binding failed (500): `backoff`, for the 10 s initial backoff configured here.
    Backoff,
}

/// What happens to it.
#[derive(Clone, Copy, Debug)]
enum Leaves {
    /// Deleted (watch DELETED).
    Deleted,
    /// Bound by another scheduler (watch MODIFIED with `spec.nodeName` set).
    BoundElsewhere,
}

/// Upstream's rule: a pending pod deleted or bound by someone else leaves the queue. The pod
/// is parked, then deleted or bound elsewhere; it must leave its sub-queue at once and never be
/// tried again, although everything that would retry a queued pod then happens: a node where
/// it fits is added (NodeAdd moves unschedulable pods), its backoff expires, the maximum stay
/// in unschedulable passes.
async fn parked_pod_leaves_the_queue(parked: Parked, leaves: Leaves) {
    let fake = FakeApiServer::new();
    let cfg = config_with(
        false,
        "podInitialBackoffSeconds: 10\npodMaxBackoffSeconds: 10\n",
    );
    let (queue, binds) = match parked {
        Parked::Unschedulable => {
            fake.put_node(make_node("small", 1000, 110));
            ("unschedulable", 0)
        }
        Parked::Backoff => {
            fake.put_node(make_node("small", 4000, 110));
            fake.fail_next_bindings(&[500]);
            ("backoff", 1)
        }
    };
    fake.put_pod(make_pod(NS, "p1", SCHED, 2000, 0));
    let d = start_with(&fake, "a", &cfg);
    let parked_series = format!(r#"scheduler_pending_pods{{queue="{queue}"}}"#);
    wait_until("p1 parked", || {
        metric(&d.endpoints, &parked_series) == Some(1.0) && failed_scheduling_events(&fake) == 1
    })
    .await;
    assert_eq!(
        pending_total(&d.endpoints),
        1.0,
        "{parked:?}: only p1 is pending"
    );
    assert_eq!(binding_requests(&fake, "p1"), binds);

    match leaves {
        Leaves::Deleted => fake.delete_pod(NS, "p1"),
        Leaves::BoundElsewhere => {
            let mut p = fake.pod(NS, "p1").unwrap();
            p.spec.as_mut().unwrap().node_name = Some("small".into());
            fake.put_pod(p);
        }
    }
    // At once: within one poll (100 ms) of the watch event, no timer involved.
    wait_up_to(Duration::from_millis(200), "p1 left the queue", || {
        pending_total(&d.endpoints) == 0.0
    })
    .await;

    fake.put_node(make_node("large", 8000, 110));
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    assert_eq!(
        binding_requests(&fake, "p1"),
        binds,
        "{parked:?}/{leaves:?}: no bind attempt once it left"
    );
    assert_eq!(failed_scheduling_events(&fake), 1, "never tried again");
    assert_eq!(pending_total(&d.endpoints), 0.0);
    let cached = metric(
        &d.endpoints,
        r#"scheduler_scheduler_cache_size{type="pods"}"#,
    );
    match leaves {
        Leaves::Deleted => assert_eq!(cached, Some(0.0)),
        // Bound by someone else, it counts against its node.
        Leaves::BoundElsewhere => assert_eq!(cached, Some(1.0)),
    }
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn unschedulable_pod_deleted_leaves_the_queue_and_is_never_bound() {
    parked_pod_leaves_the_queue(Parked::Unschedulable, Leaves::Deleted).await;
}

#[tokio::test(start_paused = true)]
async fn unschedulable_pod_bound_by_another_scheduler_leaves_the_queue() {
    parked_pod_leaves_the_queue(Parked::Unschedulable, Leaves::BoundElsewhere).await;
}

#[tokio::test(start_paused = true)]
async fn backoff_pod_deleted_leaves_the_queue_and_is_not_retried() {
    parked_pod_leaves_the_queue(Parked::Backoff, Leaves::Deleted).await;
}

#[tokio::test(start_paused = true)]
async fn backoff_pod_bound_by_another_scheduler_leaves_the_queue() {
    parked_pod_leaves_the_queue(Parked::Backoff, Leaves::BoundElsewhere).await;
}

/// `scheduler_framework_extension_point_duration_seconds{extension_point,status,profile}`
/// with upstream's buckets, one series per point that ran.
fn extension_point_count(text: &str, point: &str, status: &str) -> Option<f64> {
    let prefix = format!(
        "scheduler_framework_extension_point_duration_seconds_count{{extension_point=\"{point}\",status=\"{status}\",profile=\"{SCHED}\"}} "
    );
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
}

#[tokio::test(start_paused = true)]
async fn extension_point_durations_cover_filter_and_score() {
    let fake = FakeApiServer::new();
    // Two nodes where the pod fits: the cycle filters, then scores (one feasible node skips
    // PreScore and Score, as upstream).
    fake.put_node(make_node("n1", 4000, 110));
    fake.put_node(make_node("n2", 4000, 110));
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    let d = start(&fake, "a", false);
    wait_until("p1 bound and counted", || {
        metric(
            &d.endpoints,
            r#"scheduler_schedule_attempts_total{result="scheduled",profile="placer"}"#,
        ) == Some(1.0)
    })
    .await;
    let text = metrics(&d.endpoints);
    for point in ["PreFilter", "Filter", "PreScore", "Score", "Bind"] {
        assert_eq!(
            extension_point_count(&text, point, "Success"),
            Some(1.0),
            "{point} observed once for the one cycle:\n{text}"
        );
    }
    assert_eq!(
        extension_point_count(&text, "PostFilter", "Unschedulable"),
        None
    );
    // Upstream's buckets: 0.1 ms × 2^0..11, then +Inf.
    for le in ["0.0001", "0.0002", "0.0512", "0.2048", "+Inf"] {
        let bucket = format!(
            "scheduler_framework_extension_point_duration_seconds_bucket{{le=\"{le}\",extension_point=\"Filter\",status=\"Success\",profile=\"{SCHED}\"}} 1"
        );
        assert!(text.contains(&bucket), "no {bucket}:\n{text}");
    }
    assert!(!text.contains("le=\"0.4096\""), "12 finite buckets only");
    // Plugins, in one cycle out of ten (upstream's pluginMetricsSamplePercent, 10): the first.
    let fit_pre_filter = "scheduler_plugin_execution_duration_seconds_count{plugin=\"NodeResourcesFit\",extension_point=\"PreFilter\",status=\"Success\"} ";
    let plugin_count = |text: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(fit_pre_filter)?.parse().ok())
    };
    assert_eq!(plugin_count(&text), Some(1.0), "{text}");

    // A pod that fits nowhere: Filter (a successful run that found no node), then PostFilter;
    // no Score.
    fake.put_pod(make_pod(NS, "big", SCHED, 8000, 0));
    wait_until("big unschedulable", || failed_scheduling_events(&fake) == 1).await;
    let text = metrics(&d.endpoints);
    assert_eq!(extension_point_count(&text, "Filter", "Success"), Some(2.0));
    assert_eq!(
        extension_point_count(&text, "PostFilter", "Unschedulable"),
        Some(1.0)
    );
    assert_eq!(extension_point_count(&text, "Score", "Success"), Some(1.0));
    assert_eq!(
        plugin_count(&text),
        Some(1.0),
        "the second cycle is not sampled"
    );
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

/// One HTTP/1.1 request over a real TCP connection (blocking std socket, on the blocking
/// pool): status, `content-type`, body.
async fn http_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
) -> (u16, String, String) {
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s =
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read response");
        let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.strip_prefix("HTTP/1.1 "))
            .and_then(|l| l.split(' ').next())
            .and_then(|c| c.parse().ok())
            .expect("a status line");
        let content_type = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default();
        (status, content_type, body.to_string())
    })
    .await
    .unwrap()
}

/// The endpoints as Kubernetes' probes and Prometheus see them: `http::bind` on
/// 127.0.0.1:0, plain HTTP/1.1 over a socket. Real time (sockets and paused time do not mix);
/// the lists are held by the fake rather than failed, so nothing waits on a retry backoff.
#[tokio::test]
async fn endpoints_serve_over_a_loopback_socket_and_readyz_waits_for_the_caches() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    let lists = fake.hold_lists();
    let daemon = Daemon::from_config(fake.client("a"), &config(false), "a").expect("daemon");
    let stop = CancellationToken::new();
    let (addr, serve) = sched_bin::daemon::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        daemon.endpoints(),
        stop.child_token(),
    )
    .await
    .expect("bind 127.0.0.1:0");
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    let server = tokio::spawn(serve);
    let run = tokio::spawn(daemon.run(stop.clone()));

    // Both initial lists have reached the API server and are held there.
    let began = std::time::Instant::now();
    while fake
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/nodes" || r.path == "/api/v1/pods")
        .count()
        < 2
    {
        assert!(began.elapsed() < Duration::from_secs(5), "lists never sent");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, _, body) = http_request(addr, "GET", "/readyz").await;
    assert_eq!(status, 503, "not ready before the caches sync: {body}");
    assert!(body.contains("informer-sync"), "{body}");
    for path in ["/healthz", "/livez"] {
        let (status, content_type, body) = http_request(addr, "GET", path).await;
        assert_eq!((status, body.as_str()), (200, "ok"), "{path}");
        assert_eq!(content_type, "text/plain; charset=utf-8");
    }
    let (status, content_type, body) = http_request(addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    // prometheus-client writes the OpenMetrics text format, so that is the type served (the
    // format Prometheus asks for first); text/plain 0.0.4 would misdescribe `# EOF` and the
    // counter families.
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(
        body.contains("# TYPE scheduler_pending_pods gauge"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(http_request(addr, "GET", "/nope").await.0, 404);
    assert_eq!(http_request(addr, "POST", "/metrics").await.0, 405);
    let (status, _, body) = http_request(addr, "HEAD", "/healthz").await;
    assert_eq!((status, body.as_str()), (200, ""), "HEAD: no body");

    lists.add_permits(100);
    let released = std::time::Instant::now();
    loop {
        let (status, _, body) = http_request(addr, "GET", "/readyz").await;
        if status == 200 {
            assert_eq!(body, "ok");
            break;
        }
        assert_eq!(status, 503);
        assert!(
            released.elapsed() < Duration::from_secs(5),
            "never ready after the lists were answered"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.cancel();
    run.await.unwrap().unwrap();
    server.await.unwrap();
}

/// `(namespaces, services, workloads)` in the daemon's cache, as last published.
fn cached_objects(d: &Running) -> (usize, usize, usize) {
    d.endpoints.shared.objects.get()
}

/// Namespaces, Services and the three workload kinds are listed and watched cluster-wide and
/// reach the daemon's ClusterState: the initial list, a created Service, an update (no
/// duplicate), deletes, and a re-list after the watch expired that drops what is gone.
#[tokio::test(start_paused = true)]
async fn namespaces_services_and_workloads_reach_the_cache() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    fake.put(make_namespace("shop", &[("team", "web")]));
    fake.put(make_replica_set("shop", "web-5d4f", &[("app", "web")]));
    fake.put(make_stateful_set("shop", "db", &[("app", "db")]));
    fake.put(make_replication_controller(
        "shop",
        "legacy",
        &[("app", "old")],
    ));
    let d = start(&fake, "a", false);
    wait_until("ready", || {
        d.endpoints.respond(&http::Method::GET, "/readyz").status() == 200
    })
    .await;
    wait_until("initial lists applied", || cached_objects(&d) == (1, 0, 3)).await;
    for path in [
        "/api/v1/namespaces",
        "/api/v1/services",
        "/api/v1/replicationcontrollers",
        "/apis/apps/v1/replicasets",
        "/apis/apps/v1/statefulsets",
    ] {
        let reqs: Vec<_> = fake
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect();
        assert!(
            reqs.iter().any(|r| !r.query.contains("watch=true")),
            "{path} listed"
        );
        assert!(
            reqs.iter().any(|r| r.query.contains("watch=true")),
            "{path} watched"
        );
    }

    // A Service created in the API server reaches the daemon's state.
    fake.put(make_service("shop", "web", &[("app", "web")]));
    wait_until("service cached", || cached_objects(&d) == (1, 1, 3)).await;
    // An update replaces it; a second Namespace adds one.
    fake.put(make_service(
        "shop",
        "web",
        &[("app", "web"), ("tier", "front")],
    ));
    fake.put(make_namespace("data", &[]));
    wait_until("namespace cached", || cached_objects(&d) == (2, 1, 3)).await;
    // Deletes remove them.
    fake.delete::<ReplicaSet>("shop", "web-5d4f");
    fake.delete::<Namespace>("", "data");
    wait_until("deletes applied", || cached_objects(&d) == (1, 1, 2)).await;
    // Gone while the watches are broken: only the re-list can tell.
    fake.delete_silently::<Service>("shop", "web");
    fake.delete_silently::<StatefulSet>("shop", "db");
    fake.expire_watches();
    wait_until("re-list applied", || cached_objects(&d) == (1, 0, 1)).await;
    // Scheduling goes on as before.
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    wait_until("p1 bound", || bound_node(&fake, "p1").is_some()).await;
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

/// Upstream waits for every informer before scheduling; so does Placer: with the Service list
/// refused, nothing is attempted and `/readyz` says not ready.
#[tokio::test(start_paused = true)]
async fn scheduling_waits_for_the_service_list() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    fake.block_path("a", "/api/v1/services", true);
    let d = start(&fake, "a", false);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(fake.events().is_empty());
    assert_eq!(binding_requests(&fake, "p1"), 0);
    assert_eq!(
        d.endpoints.respond(&http::Method::GET, "/readyz").status(),
        503
    );
    fake.block_path("a", "/api/v1/services", false);
    wait_until("p1 bound", || bound_node(&fake, "p1").is_some()).await;
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

/// `p` with a required pod anti-affinity term against `app=web` pods in the namespaces whose
/// labels match `namespace_selector`, per hostname.
fn with_anti_affinity(
    mut p: k8s_openapi::api::core::v1::Pod,
    namespace_selector: (&str, &str),
) -> k8s_openapi::api::core::v1::Pod {
    use k8s_openapi::api::core::v1::{Affinity, PodAffinityTerm, PodAntiAffinity};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
    let selector = |k: &str, v: &str| LabelSelector {
        match_labels: Some([(k.to_string(), v.to_string())].into_iter().collect()),
        ..LabelSelector::default()
    };
    p.spec.as_mut().unwrap().affinity = Some(Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                label_selector: Some(selector("app", "web")),
                namespace_selector: Some(selector(namespace_selector.0, namespace_selector.1)),
                topology_key: "kubernetes.io/hostname".into(),
                ..PodAffinityTerm::default()
            }]),
            ..PodAntiAffinity::default()
        }),
        ..Affinity::default()
    });
    p
}

/// A Namespace's labels, watched from the API server, decide an InterPodAffinity
/// `namespaceSelector`: the term selecting `team=web` namespaces sees the `app=web` pod in
/// `shop` and avoids its node; the one selecting `team=db` sees none.
#[tokio::test(start_paused = true)]
async fn watched_namespace_labels_decide_a_namespace_selector() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 4000, 110));
    fake.put(make_namespace("shop", &[("team", "web")]));
    let mut web = make_pod("shop", "web-1", "default-scheduler", 500, 0);
    web.metadata.labels = Some(
        [("app".to_string(), "web".to_string())]
            .into_iter()
            .collect(),
    );
    web.spec.as_mut().unwrap().node_name = Some("n1".into());
    fake.put_pod(web);
    fake.put_pod(with_anti_affinity(
        make_pod(NS, "avoids-web-teams", SCHED, 500, 0),
        ("team", "web"),
    ));
    fake.put_pod(with_anti_affinity(
        make_pod(NS, "avoids-db-teams", SCHED, 500, 0),
        ("team", "db"),
    ));
    let d = start(&fake, "a", false);
    wait_until("avoids-db-teams bound", || {
        bound_node(&fake, "avoids-db-teams").is_some()
    })
    .await;
    wait_until("avoids-web-teams unschedulable", || {
        failed_scheduling_events(&fake) > 0
    })
    .await;
    assert_eq!(bound_node(&fake, "avoids-web-teams"), None);
    let note = fake
        .events()
        .into_iter()
        .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .and_then(|e| e.note)
        .unwrap();
    assert!(note.contains("anti-affinity"), "{note}");
    d.stop.cancel();
    d.handle.await.unwrap().unwrap();
}

/// upstream's queueing hints: a pod InterPodAffinity rejected is moved when an assigned pod is
/// added (`{Pod, Add}` is among the plugin's events): here the placement of the pod it needs.
#[tokio::test(start_paused = true)]
async fn a_pod_waiting_for_affinity_moves_when_the_pod_it_needs_is_bound() {
    let fake = FakeApiServer::new();
    let mut n1 = make_node("n1", 4000, 110);
    n1.metadata
        .labels
        .get_or_insert_default()
        .insert("kubernetes.io/hostname".into(), "n1".into());
    fake.put_node(n1);
    let mut follower = make_pod(NS, "follower", SCHED, 100, 0);
    follower.spec.as_mut().unwrap().affinity = Some(
        serde_json::from_value(serde_json::json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"app": "leader"}},
                "topologyKey": "kubernetes.io/hostname"}]}}))
        .unwrap(),
    );
    fake.put_pod(follower);
    let d = start(&fake, "a", false);
    wait_until("follower rejected", || failed_scheduling_events(&fake) == 1).await;
    assert_eq!(
        metric(
            &d.endpoints,
            r#"scheduler_pending_pods{queue="unschedulable"}"#
        ),
        Some(1.0)
    );
    // The leader arrives, is scheduled and bound: AssignedPodAdd moves the follower, which
    // lands next to it.
    let mut leader = make_pod(NS, "leader", SCHED, 100, 0);
    leader
        .metadata
        .labels
        .get_or_insert_default()
        .insert("app".into(), "leader".into());
    fake.put_pod(leader);
    wait_until("follower bound", || bound_node(&fake, "follower").is_some()).await;
    assert_eq!(bound_node(&fake, "follower").as_deref(), Some("n1"));
    // Moved within its 1 s backoff: to backoff, then active when it expired.
    assert_eq!(
        metric(
            &d.endpoints,
            r#"scheduler_queue_incoming_pods_total{queue="backoff",event="AssignedPodAdd"}"#
        ),
        Some(1.0),
        "{}",
        metrics(&d.endpoints)
    );
    d.stop.cancel();
    let _ = d.handle.await;
}
