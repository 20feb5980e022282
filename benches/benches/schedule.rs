//! Median `schedule` time per pod on a 5,000-node cluster with 100,000 running pods and the
//! default profile, with the default `percentageOfNodesToScore` and with 100.
//!
//! `cargo bench -p placer-benches --bench schedule`
//!
//! Before timing, it prints how many heap allocations one `schedule` call makes (counted by a
//! `stats_alloc` allocator): a handful per pod, none per node.

use criterion::{Criterion, criterion_group};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;
use placer_benches::{pending_pods, synthetic_cluster};
use sched_core::config::SchedulerConfig;
use sched_core::model::PodInfo;
use sched_core::state::ClusterState;

fn setup(percentage: Option<u32>) -> (sched_core::Scheduler, ClusterState, Vec<PodInfo>) {
    let (nodes, pods) = synthetic_cluster(5_000, 100_000, 42);
    let mut state = ClusterState::new();
    for n in &nodes {
        let info = state.convert_node(n).unwrap();
        state.add_node(info).unwrap();
    }
    for p in &pods {
        let info = state.convert_pod(p).unwrap();
        state.add_pod(info).unwrap();
    }
    let mut config = SchedulerConfig::default_config();
    config.percentage_of_nodes_to_score = percentage;
    let scheduler = sched_plugins::scheduler_from_config(&config, state.interner_mut(), 7).unwrap();
    let pending: Vec<PodInfo> = pending_pods(200_000, 1_000, 9)
        .iter()
        .map(|p| state.convert_pod(p).unwrap())
        .collect();
    (scheduler, state, pending)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("schedule");
    for (label, pct) in [("default_percentage", None), ("percentage_100", Some(100))] {
        let (scheduler, state, pending) = setup(pct);
        let placed = pending
            .iter()
            .filter(|p| scheduler.schedule(p, &state).is_ok())
            .count();
        eprintln!(
            "{label}: {placed}/{} sample pods schedulable",
            pending.len()
        );
        let region = Region::new(GLOBAL);
        for p in &pending {
            let _ = scheduler.schedule(p, &state);
        }
        let stats = region.change();
        eprintln!(
            "{label}: {:.1} allocations ({:.0} bytes) per schedule call",
            stats.allocations as f64 / pending.len() as f64,
            stats.bytes_allocated as f64 / pending.len() as f64
        );
        let mut i = 0;
        g.bench_function(format!("one_pod_5000_nodes_100000_running_{label}"), |b| {
            b.iter(|| {
                i = (i + 1) % pending.len();
                scheduler.schedule(&pending[i], &state)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
