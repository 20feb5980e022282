//! NodeResourcesBalancedAllocation tables, one row per upstream case
//! (`balanced_allocation_test.go` TestNodeResourcesBalancedAllocation).

use super::test_util::{DEFAULT_RESOURCES, balanced_plugin, list, node, run_scores, spec};
use crate::testing::TestCluster;
use sched_core::framework::PreScoreOutcome;
use serde_json::Value;

const GPU: &str = "nvidia.com/gpu";
const CPU_MEM_GPU: &[(&str, i64)] = &[("cpu", 1), ("memory", 1), (GPU, 1)];

/// upstream `makeNode(name, milliCPU, memory, extended)`.
fn make_node(name: &str, milli_cpu: i64, memory: i64, gpu: Option<i64>) -> Value {
    let cpu = format!("{milli_cpu}m");
    let mem = memory.to_string();
    let gpu = gpu.map(|g| g.to_string());
    let mut pairs = vec![("cpu", cpu.as_str()), ("memory", mem.as_str())];
    if let Some(g) = &gpu {
        pairs.push((GPU, g.as_str()));
    }
    node(name, &pairs)
}

/// upstream `cpuAndMemory`: 1000m/2000 + 2000m/3000.
fn cpu_and_memory() -> Value {
    spec(&[
        list(&[("cpu", "1000m"), ("memory", "2000")]),
        list(&[("cpu", "2000m"), ("memory", "3000")]),
    ])
}

/// upstream `cpuOnly`: 1000m/0 + 2000m/0.
fn cpu_only() -> Value {
    spec(&[
        list(&[("cpu", "1000m"), ("memory", "0")]),
        list(&[("cpu", "2000m"), ("memory", "0")]),
    ])
}

/// upstream `cpuAndMemoryAndGPU`: 1000m/2000 + 2000m/3000/gpu 3.
fn cpu_and_memory_and_gpu() -> Value {
    spec(&[
        list(&[("cpu", "1000m"), ("memory", "2000")]),
        list(&[("cpu", "2000m"), ("memory", "3000"), (GPU, "3")]),
    ])
}

struct Row {
    upstream: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    existing: Vec<(Value, &'static str)>,
    resources: &'static [(&'static str, i64)],
    run_pre_score: bool,
    want_pre_score: Option<PreScoreOutcome>,
    want: Vec<i64>,
}

#[test]
fn balanced_allocation_table() {
    let scheduled = || vec![(cpu_only(), "node1"), (cpu_and_memory(), "node2")];
    let rows = vec![
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "nothing scheduled, nothing requested, skip in PreScore"
        Row {
            upstream: "nothing scheduled, nothing requested, skip in PreScore",
            pod: spec(&[]),
            nodes: vec![
                make_node("node1", 4000, 10000, None),
                make_node("node2", 4000, 10000, None),
            ],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Skip),
            want: vec![],
        },
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "nothing scheduled, resources requested, differently sized nodes"
        Row {
            upstream: "nothing scheduled, resources requested, differently sized nodes",
            pod: cpu_and_memory(),
            nodes: vec![
                make_node("node1", 4000, 10000, None),
                make_node("node2", 6000, 10000, None),
            ],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Proceed),
            want: vec![87, 100],
        },
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "resources requested, pods scheduled with resources"
        Row {
            upstream: "resources requested, pods scheduled with resources",
            pod: cpu_and_memory(),
            nodes: vec![
                make_node("node1", 10000, 20000, None),
                make_node("node2", 10000, 20000, None),
            ],
            existing: scheduled(),
            resources: DEFAULT_RESOURCES,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Proceed),
            want: vec![82, 95],
        },
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "resources requested, pods scheduled with resources, differently sized nodes"
        Row {
            upstream: "resources requested, pods scheduled with resources, differently sized nodes",
            pod: cpu_and_memory(),
            nodes: vec![
                make_node("node1", 10000, 20000, None),
                make_node("node2", 10000, 50000, None),
            ],
            existing: scheduled(),
            resources: DEFAULT_RESOURCES,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Proceed),
            want: vec![82, 80],
        },
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "requested resources at node capacity"
        Row {
            upstream: "requested resources at node capacity",
            pod: cpu_only(),
            nodes: vec![
                make_node("node1", 6000, 10000, None),
                make_node("node2", 6000, 10000, None),
            ],
            existing: scheduled(),
            resources: DEFAULT_RESOURCES,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Proceed),
            want: vec![50, 75],
        },
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "include scalar resource on a node for balanced resource allocation"
        Row {
            upstream: "include scalar resource on a node for balanced resource allocation",
            pod: spec(&[list(&[("memory", "0"), (GPU, "1")])]),
            nodes: vec![
                make_node("node1", 3500, 40000, Some(8)),
                make_node("node2", 3500, 40000, Some(8)),
            ],
            existing: vec![
                (cpu_and_memory(), "node2"),
                (cpu_and_memory_and_gpu(), "node1"),
            ],
            resources: CPU_MEM_GPU,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Proceed),
            want: vec![70, 65],
        },
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "node without the scalar resource should skip the scalar resource"
        Row {
            upstream: "node without the scalar resource should skip the scalar resource",
            pod: cpu_and_memory(),
            nodes: vec![
                make_node("node1", 3500, 40000, Some(8)),
                make_node("node2", 3500, 40000, None),
            ],
            existing: vec![],
            resources: CPU_MEM_GPU,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Proceed),
            want: vec![63, 63],
        },
        // upstream: balanced_allocation_test.go TestNodeResourcesBalancedAllocation "resources requested, pods scheduled with resources if PreScore not called"
        Row {
            upstream: "resources requested, pods scheduled with resources if PreScore not called",
            pod: cpu_and_memory(),
            nodes: vec![
                make_node("node1", 10000, 20000, None),
                make_node("node2", 10000, 20000, None),
            ],
            existing: scheduled(),
            resources: DEFAULT_RESOURCES,
            run_pre_score: false,
            want_pre_score: None,
            want: vec![82, 95],
        },
        // upstream rule: balanced_allocation.go PreScore isBestEffortPod uses plain requests: containers
        // without requests are best-effort (the non-zero defaults do not apply here)
        Row {
            upstream: "request-less containers are skipped",
            pod: spec(&[list(&[]), list(&[])]),
            nodes: vec![make_node("node1", 4000, 10000, None)],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Skip),
            want: vec![],
        },
        // upstream rule: balanced_allocation.go PreScore — only the configured resources count: a pod
        // requesting only ephemeral-storage is skipped with the default cpu/memory resources
        Row {
            upstream: "pod requesting only unconfigured resources is skipped",
            pod: spec(&[list(&[("ephemeral-storage", "1Gi")])]),
            nodes: vec![make_node("node1", 4000, 10000, None)],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Skip),
            want: vec![],
        },
        // upstream rule: balanced_allocation.go Score without PreScore scores a best-effort pod 0
        Row {
            upstream: "best-effort pod without PreScore scores 0",
            pod: spec(&[]),
            nodes: vec![make_node("node1", 4000, 10000, None)],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            run_pre_score: false,
            want_pre_score: None,
            want: vec![0],
        },
        // upstream rule: balanced_allocation.go balancedResourceScorer — fewer than two fractions give std 0
        Row {
            upstream: "one counted resource scores 100",
            pod: cpu_only(),
            nodes: vec![make_node("node1", 4000, 10000, None)],
            existing: vec![],
            resources: &[("cpu", 1)],
            run_pre_score: true,
            want_pre_score: Some(PreScoreOutcome::Proceed),
            want: vec![100],
        },
    ];
    for row in rows {
        let (outcome, got) = run_scores(
            |i| balanced_plugin(row.resources, i),
            &row.nodes,
            &row.existing,
            row.pod,
            row.run_pre_score,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", row.upstream));
        assert_eq!(outcome, row.want_pre_score, "{}", row.upstream);
        assert_eq!(got, row.want, "{}", row.upstream);
    }
}

#[test]
fn balanced_score_formula() {
    // upstream rule: balanced_allocation.go balancedResourceScorer, float64 arithmetic in upstream's
    // order, truncation toward zero.
    use super::balanced_allocation::balanced_score;
    let cases: &[(&[f64], i64)] = &[
        (&[], 100),
        (&[0.3], 100),
        (&[0.75, 0.5], 87),
        (&[0.6, 0.5], 95),
        (&[1.0, 0.0], 50),
        (&[3000.0 / 3500.0, 5000.0 / 40000.0, 0.5], 70),
    ];
    for &(fractions, want) in cases {
        let total: f64 = fractions.iter().sum();
        assert_eq!(balanced_score(fractions, total), want, "{fractions:?}");
    }
}

#[test]
fn plugin_surface() {
    let mut tc = TestCluster::new();
    let p = balanced_plugin(DEFAULT_RESOURCES, tc.state.interner_mut()).expect("plugin");
    assert_eq!(p.name(), "NodeResourcesBalancedAllocation");
    assert!(p.as_pre_score().is_some() && p.as_score().is_some());
    assert!(p.as_pre_filter().is_none() && p.as_filter().is_none());
}

#[test]
fn more_than_four_resources_all_count() {
    // upstream rule: balanced_allocation.go balancedResourceScorer — every configured resource the
    // node has counts, however many; five here, past the plugin's four-fraction stack buffer.
    const FIVE: &[(&str, i64)] = &[
        ("cpu", 1),
        ("memory", 1),
        ("ephemeral-storage", 1),
        ("example.com/a", 1),
        ("example.com/b", 1),
    ];
    let nodes = vec![node(
        "node1",
        &[
            ("cpu", "4000m"),
            ("memory", "8000"),
            ("ephemeral-storage", "100"),
            ("example.com/a", "4"),
            ("example.com/b", "4"),
        ],
    )];
    let pod = spec(&[list(&[
        ("cpu", "1000m"),
        ("memory", "2000"),
        ("ephemeral-storage", "25"),
        ("example.com/a", "1"),
        ("example.com/b", "4"),
    ])]);
    let (_, got) =
        run_scores(|i| balanced_plugin(FIVE, i), &nodes, &[], pod, true).expect("scores");
    let fractions = [0.25, 0.25, 0.25, 0.25, 1.0];
    let want = super::balanced_allocation::balanced_score(&fractions, fractions.iter().sum());
    assert_eq!(got, vec![want]);
    // population standard deviation 0.3: (1 − 0.3) × 100, truncated
    assert!((69..=70).contains(&want), "{want}");
}
