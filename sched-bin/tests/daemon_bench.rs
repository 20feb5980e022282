//! Throughput of the whole daemon against the in-process fake API server: 5,000 nodes,
//! 10,000 pending pods, `clientConnection.qps`/`burst` = 5000. Ignored by default (real time,
//! a few seconds in release); run it with
//!
//! ```text
//! cargo test --release -p sched-bin --test daemon_bench -- --ignored --nocapture
//! ```
//!
//! It prints pods/s and where the time went (cache sync, the scheduling algorithm, binding
//! round trips, the rest), read from the daemon's own metrics.

use sched_bin::daemon::fake::{FakeApiServer, make_node, make_pod};
use sched_bin::daemon::ratelimit::RateLimitLayer;
use sched_bin::daemon::{Daemon, http::Endpoints};
use sched_core::config::SchedulerConfig;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tower::Layer;

const NODES: usize = 5_000;
const PODS: usize = 10_000;

fn metric_sum(e: &Endpoints, prefix: &str) -> f64 {
    let r = e.respond(&http::Method::GET, "/metrics");
    let body = futures::executor::block_on(http_body_util::BodyExt::collect(r.into_body()))
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec())
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "throughput bench: run with --release --ignored --nocapture"]
async fn bench_5000_nodes_10000_pods() {
    let cfg = SchedulerConfig::from_yaml(
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
clientConnection:
  qps: 5000
  burst: 5000
profiles:
- schedulerName: placer
",
    )
    .unwrap();
    let fake = FakeApiServer::new();
    fake.record_requests(false);
    for i in 0..NODES {
        fake.put_node(make_node(&format!("node-{i:05}"), 32_000, 110));
    }
    for i in 0..PODS {
        fake.put_pod(make_pod(
            "bench",
            &format!("pod-{i:05}"),
            "placer",
            100,
            (i % 3) as i32,
        ));
    }
    let cc = &cfg.client_connection;
    let service = RateLimitLayer::new(f64::from(cc.qps), cc.burst).layer(fake.named("bench"));
    let client = kube::Client::new(service, "default");
    let daemon = Daemon::from_config(client, &cfg, "bench").unwrap();
    let endpoints = daemon.endpoints();
    let stop = CancellationToken::new();
    let start = Instant::now();
    let handle = tokio::spawn(daemon.run(stop.clone()));
    let mut synced = None;
    loop {
        if synced.is_none() && endpoints.respond(&http::Method::GET, "/readyz").status() == 200 {
            synced = Some(start.elapsed());
        }
        if fake.bindings().len() == PODS {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "too slow: {} bound",
            fake.bindings().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = start.elapsed();
    let synced = synced.unwrap_or(total);
    let scheduling = total - synced;
    let algorithm = metric_sum(
        &endpoints,
        "scheduler_scheduling_algorithm_duration_seconds_sum",
    );
    let bind = metric_sum(
        &endpoints,
        "scheduler_framework_extension_point_duration_seconds_sum{extension_point=\"Bind\"",
    );
    let prefilter = metric_sum(
        &endpoints,
        "scheduler_framework_extension_point_duration_seconds_sum{extension_point=\"PreFilter\"",
    );
    let prescore = metric_sum(
        &endpoints,
        "scheduler_framework_extension_point_duration_seconds_sum{extension_point=\"PreScore\"",
    );
    println!("daemon bench: {NODES} nodes, {PODS} pending pods, qps/burst 5000");
    println!(
        "  total                      {:>8.2} s",
        total.as_secs_f64()
    );
    println!(
        "  cache sync (list+convert)  {:>8.2} s",
        synced.as_secs_f64()
    );
    println!(
        "  scheduling phase           {:>8.2} s  -> {:.0} pods/s",
        scheduling.as_secs_f64(),
        PODS as f64 / scheduling.as_secs_f64()
    );
    println!(
        "  end to end                 {:>8.0} pods/s",
        PODS as f64 / total.as_secs_f64()
    );
    println!(
        "  scheduling algorithm (sum) {algorithm:>8.2} s  ({:.3} ms/pod)",
        algorithm * 1000.0 / PODS as f64
    );
    println!("    of which PreFilter       {prefilter:>8.2} s, PreScore {prescore:.2} s");
    println!("  binding calls (sum, overlapping) {bind:>8.2} s");
    // One binding and one Scheduled event per pod share the bucket; the burst is free.
    let floor = (2.0 * PODS as f64 - f64::from(cc.burst)) / f64::from(cc.qps);
    println!(
        "  rate limit floor           {floor:>8.2} s  (bindings + events beyond the burst, at qps)"
    );
    stop.cancel();
    handle.await.unwrap().unwrap();
    let mut pods: Vec<String> = fake.bindings().into_iter().map(|b| b.pod).collect();
    pods.sort();
    pods.dedup();
    assert_eq!(pods.len(), PODS, "no pod bound twice");
}
