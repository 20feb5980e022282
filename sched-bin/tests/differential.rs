//! The simulator predicts the daemon: the same cluster and pending pods, run through
//! `Simulation` (virtual clock) and through `placer run` against the in-process fake API server
//! (paused tokio time), give the same bindings in the same order — both drive the core's one
//! scheduling loop (`sched_core::SchedulingLoop`): queue order, backoff, nominations and
//! preemption included.

use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sched_bin::daemon::Daemon;
use sched_bin::daemon::fake::{FakeApiServer, make_node, make_pod};
use sched_core::ClusterState;
use sched_core::config::SchedulerConfig;
use simulator::Simulation;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const NS: &str = "default";
const SCHED: &str = "placer";

fn config() -> SchedulerConfig {
    SchedulerConfig::from_yaml(&format!(
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: {SCHED}
"
    ))
    .expect("valid config")
}

/// A pod created `secs` seconds after the epoch (distinct ages make the queue order exact).
fn pod(name: &str, scheduler: &str, milli_cpu: i64, priority: i32, secs: i64) -> Pod {
    let mut p = make_pod(NS, name, scheduler, milli_cpu, priority);
    p.metadata.creation_timestamp = Some(Time(
        jiff::Timestamp::from_second(1_700_000_000 + secs).unwrap(),
    ));
    p
}

fn bound(mut p: Pod, node: &str) -> Pod {
    p.spec.as_mut().unwrap().node_name = Some(node.into());
    if let Some(s) = p.status.as_mut() {
        s.phase = Some("Running".into());
    }
    p
}

struct Case {
    nodes: Vec<Node>,
    running: Vec<Pod>,
    pending: Vec<Pod>,
}

/// Four nodes, four running low-priority pods, seven pending pods: some fit, one fits nowhere,
/// some must preempt, and lower-priority pods must respect the preemptors' nominations.
fn case() -> Case {
    Case {
        nodes: vec![
            make_node("n1", 2000, 110),
            make_node("n2", 2000, 110),
            make_node("n3", 3000, 110),
            make_node("n4", 1000, 110),
        ],
        running: vec![
            bound(pod("r1", "default-scheduler", 1000, 0, 1), "n1"),
            bound(pod("r2", "default-scheduler", 1000, 0, 2), "n1"),
            bound(pod("r3", "default-scheduler", 1500, 0, 3), "n2"),
            bound(pod("r4", "default-scheduler", 1000, 0, 4), "n4"),
        ],
        pending: vec![
            pod("a", SCHED, 1000, 10, 11),
            pod("b", SCHED, 2000, 0, 12),
            pod("c", SCHED, 2000, 100, 13),
            pod("d", SCHED, 500, 5, 14),
            pod("e", SCHED, 3500, 100, 15),
            pod("f", SCHED, 1500, 50, 16),
            pod("g", SCHED, 1000, 0, 17),
        ],
    }
}

fn simulate(c: &Case) -> Vec<(String, String)> {
    let mut state = ClusterState::new();
    for n in &c.nodes {
        let info = state.convert_node(n).unwrap();
        state.add_node(info).unwrap();
    }
    for p in &c.running {
        let info = state.convert_pod(p).unwrap();
        state.add_pod(info).unwrap();
    }
    let pending = c
        .pending
        .iter()
        .map(|p| state.convert_pod(p).unwrap())
        .collect();
    let mut sim = Simulation::new(state, pending, &config(), 0).unwrap();
    sim.schedule_pending();
    sim.bindings()
        .iter()
        .map(|(p, n)| (p.to_string(), n.to_string()))
        .collect()
}

async fn run_daemon(c: &Case) -> Vec<(String, String)> {
    let fake = FakeApiServer::new();
    for n in &c.nodes {
        fake.put_node(n.clone());
    }
    for p in c.running.iter().chain(&c.pending) {
        fake.put_pod(p.clone());
    }
    let daemon = Daemon::from_config(fake.client("a"), &config(), "a").expect("daemon");
    let stop = CancellationToken::new();
    let handle = tokio::spawn(daemon.run(stop.clone()));
    // Paused time: 60 s of virtual time, far past every backoff.
    tokio::time::sleep(Duration::from_secs(60)).await;
    stop.cancel();
    handle.await.unwrap().unwrap();
    fake.bindings()
        .into_iter()
        .map(|b| (b.pod, b.node))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn simulator_and_daemon_bind_the_same_pods_to_the_same_nodes_in_the_same_order() {
    let c = case();
    let sim = simulate(&c);
    let daemon = run_daemon(&c).await;
    // The case exercises what it claims: a preemption happened and one pod fits nowhere.
    assert!(
        sim.iter().any(|(p, _)| p == "default/f"),
        "f preempts and is bound: {sim:?}"
    );
    assert!(!sim.iter().any(|(p, _)| p == "default/e"), "e fits nowhere");
    // By hand: c fits n3; f (1500) fits nowhere and preempts r3 on n2, where it is nominated;
    // a fits n3; d (lower priority than f) fits n2 beside f's nomination; then f is bound to
    // its nominated node; b and g (priority 0) find no room and cannot preempt.
    let want = [("c", "n3"), ("a", "n3"), ("d", "n2"), ("f", "n2")]
        .map(|(p, n)| (format!("default/{p}"), n.to_string()));
    assert_eq!(sim, want);
    assert_eq!(daemon, want);
}

/// The timed part: at 10 s a node is added with a NoSchedule taint no pod tolerates, at 15 s
/// the taint is removed (TaintToleration's queueing hint moves the pods it rejected there), at
/// 20 s a running pod is deleted, at 30 s a high-priority pod arrives that must preempt.
#[tokio::test(start_paused = true)]
async fn simulator_and_daemon_agree_on_a_timed_scenario() {
    let c = case();
    let n5 = make_node("n5", 1500, 110);
    let mut n5_tainted = n5.clone();
    n5_tainted.spec.get_or_insert_default().taints = Some(vec![Taint {
        key: "maintenance".into(),
        value: Some("planned".into()),
        effect: "NoSchedule".into(),
        time_added: None,
    }]);
    let h = pod("h", SCHED, 1000, 200, 40);
    // The simulator: the scenario file's events.
    let scenario = format!(
        "events:\n- at: 10s\n  addNodes: {{nodes: [{}]}}\n- at: 15s\n  untaint: {{node: n5, key: maintenance}}\n- at: 20s\n  deletePods: [default/c]\n- at: 30s\n  createPods: {{pods: [{}]}}\n",
        serde_json::to_string(&n5_tainted).unwrap(),
        serde_json::to_string(&h).unwrap()
    );
    let sc = simulator::scenario::Scenario::from_text(
        &scenario,
        "differential.yaml",
        std::path::Path::new("."),
    )
    .expect("scenario");
    let mut state = ClusterState::new();
    for n in &c.nodes {
        let info = state.convert_node(n).unwrap();
        state.add_node(info).unwrap();
    }
    for p in &c.running {
        let info = state.convert_pod(p).unwrap();
        state.add_pod(info).unwrap();
    }
    let pending = c
        .pending
        .iter()
        .map(|p| state.convert_pod(p).unwrap())
        .collect();
    let mut sim = Simulation::new(state, pending, &config(), 0).unwrap();
    sim.run_scenario(&sc, &mut |_, _| {}).unwrap();
    let sim: Vec<(String, String)> = sim
        .bindings()
        .iter()
        .map(|(p, n)| (p.to_string(), n.to_string()))
        .collect();
    // The daemon: the same changes made on the API server at the same (paused) times.
    let fake = FakeApiServer::new();
    for n in &c.nodes {
        fake.put_node(n.clone());
    }
    for p in c.running.iter().chain(&c.pending) {
        fake.put_pod(p.clone());
    }
    let daemon = Daemon::from_config(fake.client("a"), &config(), "a").expect("daemon");
    let stop = CancellationToken::new();
    let handle = tokio::spawn(daemon.run(stop.clone()));
    tokio::time::sleep(Duration::from_secs(10)).await;
    fake.put_node(n5_tainted);
    tokio::time::sleep(Duration::from_secs(5)).await;
    fake.put_node(n5);
    tokio::time::sleep(Duration::from_secs(5)).await;
    fake.delete_pod(NS, "c");
    tokio::time::sleep(Duration::from_secs(10)).await;
    fake.put_pod(h);
    tokio::time::sleep(Duration::from_secs(60)).await;
    stop.cancel();
    handle.await.unwrap().unwrap();
    let daemon: Vec<(String, String)> = fake
        .bindings()
        .into_iter()
        .map(|b| (b.pod, b.node))
        .collect();
    assert!(
        sim.iter().any(|(p, _)| p == "default/h"),
        "h is bound: {sim:?}"
    );
    assert!(sim.len() > 5, "the events let more pods in: {sim:?}");
    assert!(
        sim.iter().any(|(_, n)| n == "n5"),
        "the untainted node takes pods: {sim:?}"
    );
    assert_eq!(sim, daemon);
}
