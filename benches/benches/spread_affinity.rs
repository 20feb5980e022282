//! `schedule` time for a Deployment pod on a 5,000-node cluster with 100,000 running pods in
//! 1,000 Deployments (each with a Service and a ReplicaSet, `ScheduleAnyway` zone spreading and
//! hostname pod anti-affinity): the default profile with PodTopologySpread and InterPodAffinity
//! doing real work, default `percentageOfNodesToScore`.
//!
//! `cargo bench -p placer-benches --bench spread_affinity`

use criterion::{Criterion, criterion_group};
use placer_benches::{HostnameAntiAffinity, workload_cluster, workload_pod};
use sched_core::config::SchedulerConfig;
use sched_core::model::PodInfo;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("spread_affinity");
    for (label, anti) in [
        (
            "preferred_hostname_anti_affinity",
            HostnameAntiAffinity::Preferred,
        ),
        (
            "required_hostname_anti_affinity",
            HostnameAntiAffinity::Required,
        ),
    ] {
        let cluster = workload_cluster(5_000, 1_000, 100, anti, 42);
        let mut state = cluster.state();
        let config = SchedulerConfig::default_config();
        let scheduler =
            sched_plugins::scheduler_from_config(&config, state.interner_mut(), 7).unwrap();
        // One more replica of 200 different Deployments.
        let pending: Vec<PodInfo> = (0..200)
            .map(|i| {
                state
                    .convert_pod(&workload_pod(i * 5, 100, None, anti))
                    .unwrap()
            })
            .collect();
        let placed = pending
            .iter()
            .filter(|p| scheduler.schedule(p, &state).is_ok())
            .count();
        eprintln!(
            "{label}: {placed}/{} sample pods schedulable",
            pending.len()
        );
        let mut i = 0;
        g.bench_function(
            format!("deployment_pod_5000_nodes_100000_running_{label}"),
            |b| {
                b.iter(|| {
                    i = (i + 1) % pending.len();
                    scheduler.schedule(&pending[i], &state)
                });
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
