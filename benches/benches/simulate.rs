//! `placer simulate` speed, end to end: load a 5,000-node cluster and a trace of 100,000 pod
//! arrivals and departures, replay it with the default profile on the virtual clock, render
//! the JSON output.
//!
//! `cargo bench -p placer-benches --bench simulate`
//!
//! The inputs are generated once (deterministically) into
//! `target/placer-bench-data/replay-5000x100000/`, so the same replay can be timed from the
//! command line, memory included:
//!
//! ```sh
//! /usr/bin/time -v target/release/placer simulate \
//!     --cluster target/placer-bench-data/replay-5000x100000/cluster.json \
//!     --scenario target/placer-bench-data/replay-5000x100000/scenario.yaml --output json > /dev/null
//! ```
//!
//! The trace uses the OpenB CSV format (see `simulator::trace`): pod `i` arrives at second
//! `i` and stays for a seeded duration of up to ~33 hours, so about 60,000 pods run at once at
//! the peak. Pod requests are the synthetic generator's (cpu and memory; node selectors,
//! affinities and GPUs are not carried by the CSV format). Nodes are the synthetic ones,
//! with their labels, taints and cordons.

use criterion::{Criterion, criterion_group};
use placer_benches::{Rng, pending_pods, synthetic_cluster};
use simulator::run::{Input, Request};
use simulator::scenario::Scenario;
use simulator::snapshot::{LoadOptions, LoadedCluster};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NODES: usize = 5_000;
const PODS: usize = 100_000;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/placer-bench-data/replay-{NODES}x{PODS}"))
}

/// Writes `cluster.json`, `pods.csv` and `scenario.yaml` unless they are there.
fn write_inputs(dir: &Path) {
    if dir.join("scenario.yaml").exists() {
        return;
    }
    std::fs::create_dir_all(dir).expect("create the bench data directory");
    let (nodes, _) = synthetic_cluster(NODES, 0, 42);
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": nodes});
    std::fs::write(
        dir.join("cluster.json"),
        serde_json::to_vec(&list).expect("nodes serialize"),
    )
    .expect("write cluster.json");
    let mut csv = String::from(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n",
    );
    let mut rng = Rng::new(44);
    for (i, p) in pending_pods(0, PODS, 43).iter().enumerate() {
        let req = p
            .spec
            .as_ref()
            .and_then(|s| s.containers[0].resources.as_ref())
            .and_then(|r| r.requests.clone())
            .unwrap_or_default();
        let num = |k: &str, suffix: &str| {
            req.get(k).map_or(0, |q| {
                q.0.trim_end_matches(suffix).parse::<u64>().unwrap_or(0)
            })
        };
        let arrive = i as u64;
        let leave = arrive + 1 + rng.below(120_000);
        let _ = writeln!(
            csv,
            "bench-pod-{i:06},{},{},0,0,,LS,Running,{arrive},{leave},",
            num("cpu", "m"),
            num("memory", "Mi")
        );
    }
    std::fs::write(dir.join("pods.csv"), csv).expect("write pods.csv");
    std::fs::write(
        dir.join("scenario.yaml"),
        "description: 100,000 synthetic pods arriving one per second and leaving after a seeded duration\n\
         trace:\n  format: openb\n  pods: pods.csv\n",
    )
    .expect("write scenario.yaml");
}

/// One replay, as `placer simulate --output json` does it.
fn replay(dir: &Path) -> (simulator::Output, usize) {
    let cluster = LoadedCluster::load(&dir.join("cluster.json"), LoadOptions::default())
        .expect("cluster loads");
    let scenario = Scenario::load(&dir.join("scenario.yaml")).expect("scenario loads");
    let events = scenario.len();
    let request = Request {
        drain_options: Default::default(),
        scenario: Some(scenario),
        ..Request::default()
    };
    let out =
        simulator::simulate(&Input::from(cluster), &request, &mut |_, _| {}).expect("replay runs");
    let json = out.to_json();
    assert!(json.len() > 1000);
    (out, events)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bench(c: &mut Criterion) {
    let dir = data_dir();
    write_inputs(&dir);
    // One measured run first, with the figures the issue asks for.
    let start = Instant::now();
    let (out, events) = replay(&dir);
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "replay {NODES} nodes, {PODS} pods ({events} arrivals+departures): {:.2} s end to end, \
         {:.0} pods/s, {:.0} events/s; {} scheduled, {} unschedulable, {} cycles; peak RSS {} MiB",
        secs,
        PODS as f64 / secs,
        events as f64 / secs,
        out.summary.scheduled,
        out.summary.unschedulable,
        out.summary.attempts,
        peak_rss_kib().map_or_else(|| "?".to_string(), |k| (k / 1024).to_string()),
    );
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    // One replay takes about 10 s: ten samples need about 100 s.
    g.measurement_time(Duration::from_secs(100));
    g.bench_function(
        format!("replay_{NODES}_nodes_{PODS}_pods_end_to_end"),
        |b| {
            b.iter(|| replay(&dir));
        },
    );
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
