//! Memory under pod churn: 1,000,000 pods, each with labels no other pod has
//! (`pod-template-hash`, `controller-uid`, a Job name) and its own image tag, created on a
//! 5,000-node state and deleted again, 10,000 alive at a time, as a long-running `placer run`
//! sees them. Prints the curve: pods churned, the interner's live strings and ids, the heap
//! the process holds (counted by an instrumented allocator) and its resident set. Flat after
//! warm-up is the contract: memory follows the live cluster, not its history.
//!
//! `cargo bench -p placer-benches --bench churn` (`CHURN_PODS=N` for another total)

use placer_benches::{Rng, node};
use sched_core::state::ClusterState;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use std::alloc::System;
use std::collections::VecDeque;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const NODES: usize = 5_000;
const ALIVE: usize = 10_000;
const STEP: usize = 100_000;

fn heap_bytes() -> i64 {
    let s = GLOBAL.stats();
    // stats_alloc already counts a realloc's growth or shrinkage in bytes_allocated /
    // bytes_deallocated; bytes_reallocated is the same again.
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn churn_pod(i: usize, node: &str) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("job-{i}-x7k2p"), "namespace": "batch",
            "uid": format!("00000000-0000-0000-0000-{i:012}"),
            "labels": {"app": "etl", "job-name": format!("job-{i}"),
                "controller-uid": format!("c0ffee00-0000-0000-0000-{i:012}"),
                "pod-template-hash": format!("{:010x}", i.wrapping_mul(2_654_435_761))}},
        "spec": {"nodeName": node, "containers": [{"name": "main",
            "image": format!("registry.example.com/etl:build-{i}"),
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}
    }))
    .expect("churn pod")
}

fn main() {
    let total: usize = std::env::var("CHURN_PODS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = Rng::new(7);
    let mut state = ClusterState::new();
    for i in 0..NODES {
        let info = state.convert_node(&node(i, &mut rng)).expect("node");
        state.add_node(info).expect("node added");
    }
    let names: Vec<String> = state
        .node_ids()
        .iter()
        .map(|&id| state.node(id).info.name.to_string())
        .collect();
    let mut alive: VecDeque<String> = VecDeque::with_capacity(ALIVE + 1);
    eprintln!("pods_churned,alive,interner_live,interner_ids,heap_bytes,rss_bytes");
    for i in 0..total {
        let p = churn_pod(i, &names[i % names.len()]);
        let info = state.convert_pod(&p).expect("pod converts");
        let key = info.key.to_string();
        state.add_pod(info).expect("pod added");
        alive.push_back(key);
        if alive.len() > ALIVE
            && let Some(old) = alive.pop_front()
        {
            state.remove_pod(&old).expect("pod removed");
        }
        if (i + 1) % STEP == 0 {
            eprintln!(
                "{},{},{},{},{},{}",
                i + 1,
                alive.len(),
                state.interner().live(),
                state.interner().len(),
                heap_bytes(),
                rss_bytes().map_or_else(|| "?".into(), |b| b.to_string())
            );
        }
    }
}
