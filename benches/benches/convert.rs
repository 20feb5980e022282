//! Converting 100,000 pods and 5,000 nodes from k8s-openapi objects into a `ClusterState`,
//! and the bytes the state holds per node and per pod (counted by an instrumented allocator).
//!
//! `cargo bench -p placer-benches --bench convert`

use criterion::{Criterion, criterion_group};
use placer_benches::synthetic_cluster;
use sched_core::state::ClusterState;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const NODES: usize = 5_000;
const PODS: usize = 100_000;

fn build(
    nodes: &[k8s_openapi::api::core::v1::Node],
    pods: &[k8s_openapi::api::core::v1::Pod],
) -> ClusterState {
    let mut state = ClusterState::new();
    for n in nodes {
        let info = state.convert_node(n).expect("node converts");
        state.add_node(info).expect("node added");
    }
    for p in pods {
        let info = state.convert_pod(p).expect("pod converts");
        state.add_pod(info).expect("pod added");
    }
    state
}

fn net_bytes(region: &Region<'_, System>) -> i64 {
    let s = region.change();
    // stats_alloc already counts a realloc's growth or shrinkage in bytes_allocated /
    // bytes_deallocated; bytes_reallocated is the same again.
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

fn report_memory(
    nodes: &[k8s_openapi::api::core::v1::Node],
    pods: &[k8s_openapi::api::core::v1::Pod],
) {
    let region = Region::new(GLOBAL);
    let only_nodes = build(nodes, &[]);
    let node_bytes = net_bytes(&region);
    drop(only_nodes);
    let region = Region::new(GLOBAL);
    let full = build(nodes, pods);
    let all_bytes = net_bytes(&region);
    let pod_bytes = all_bytes - node_bytes;
    eprintln!(
        "state memory: {all_bytes} bytes total for {NODES} nodes + {PODS} pods; \
         {:.0} bytes/node (incl. interned strings), {:.0} bytes/pod",
        node_bytes as f64 / NODES as f64,
        pod_bytes as f64 / PODS as f64
    );
    assert_eq!(full.num_pods(), PODS);
}

fn bench(c: &mut Criterion) {
    let (nodes, pods) = synthetic_cluster(NODES, PODS, 42);
    report_memory(&nodes, &pods);
    let mut g = c.benchmark_group("convert");
    g.sample_size(10);
    g.bench_function("5000_nodes_100000_pods_into_state", |b| {
        b.iter(|| build(&nodes, &pods))
    });
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
