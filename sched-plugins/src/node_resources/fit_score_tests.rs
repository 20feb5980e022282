//! NodeResourcesFit PreScore/Score tables, one row per upstream case (`fit_test.go`
//! TestFitScore, `least_allocated_test.go`, `most_allocated_test.go`,
//! `requested_to_capacity_ratio_test.go`).

use super::requested_to_capacity_ratio::Shape;
use super::test_util::{
    DEFAULT_RESOURCES, fit_args, fit_plugin, list, node, run_scores, shape, spec, spec_with_sidecar,
};
use sched_core::config::ScoringStrategyKind;
use sched_core::framework::PreScoreOutcome;
use serde_json::Value;

/// upstream `extendedRes` (an extended resource name used by the least/most tables).
const EXT: &str = "abc.com/xyz";

/// A node with cpu and memory allocatable (upstream `st.MakeNode().Capacity`).
fn cm(name: &str, cpu: &str, memory: &str) -> Value {
    node(name, &[("cpu", cpu), ("memory", memory)])
}

/// A container request list (upstream `.Req(map{...})`).
fn q(pairs: &[(&str, &str)]) -> Value {
    list(pairs)
}

/// One table row: the upstream case, the incoming pod's spec, nodes, existing pods
/// (spec, node), the configured resources and the expected scores.
struct Row {
    upstream: &'static str,
    pod: Value,
    nodes: Vec<Value>,
    existing: Vec<(Value, &'static str)>,
    resources: &'static [(&'static str, i64)],
    want: Vec<i64>,
}

fn run_table(kind: &ScoringStrategyKind, rows: Vec<Row>, run_pre_score: bool) {
    for row in rows {
        let (outcome, got) = run_scores(
            |i| fit_plugin(fit_args(kind.clone(), row.resources), i),
            &row.nodes,
            &row.existing,
            row.pod,
            run_pre_score,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", row.upstream));
        if run_pre_score {
            assert_eq!(
                outcome,
                Some(PreScoreOutcome::Proceed),
                "{}: Fit's PreScore never skips",
                row.upstream
            );
        }
        assert_eq!(got, row.want, "{}", row.upstream);
    }
}

/// upstream TestFitScore's shared setup: node1 4000/10000 with a 2000/4000 pod, node2
/// 6000/10000 with a 1000/2000 pod.
fn fit_score_row(upstream: &'static str, pod: Value, want: [i64; 2]) -> Row {
    Row {
        upstream,
        pod,
        nodes: vec![cm("node1", "4000", "10000"), cm("node2", "6000", "10000")],
        existing: vec![
            (spec(&[q(&[("cpu", "2000"), ("memory", "4000")])]), "node1"),
            (spec(&[q(&[("cpu", "1000"), ("memory", "2000")])]), "node2"),
        ],
        resources: DEFAULT_RESOURCES,
        want: want.to_vec(),
    }
}

#[test]
fn fit_score_table() {
    let big = || spec(&[q(&[("cpu", "3000"), ("memory", "5000")])]);
    let small = || spec(&[q(&[("cpu", "1000"), ("memory", "2000")])]);
    for run_pre_score in [true, false] {
        // upstream: fit_test.go TestFitScore "test case for ScoringStrategy RequestedToCapacityRatio case1" (and "... if PreScore is not called")
        run_table(
            &shape(&[(0, 10), (100, 0)]),
            vec![fit_score_row(
                "RequestedToCapacityRatio case1",
                big(),
                [10, 32],
            )],
            run_pre_score,
        );
        // upstream: fit_test.go TestFitScore "test case for ScoringStrategy RequestedToCapacityRatio case2"
        run_table(
            &shape(&[(0, 0), (100, 10)]),
            vec![fit_score_row(
                "RequestedToCapacityRatio case2",
                big(),
                [95, 68],
            )],
            run_pre_score,
        );
        // upstream: fit_test.go TestFitScore "test case for ScoringStrategy MostAllocated" (and "... if PreScore is not called")
        run_table(
            &ScoringStrategyKind::MostAllocated,
            vec![fit_score_row("MostAllocated", small(), [67, 36])],
            run_pre_score,
        );
        // upstream: fit_test.go TestFitScore "test case for ScoringStrategy LeastAllocated" (and "... if PreScore is not called")
        run_table(
            &ScoringStrategyKind::LeastAllocated,
            vec![fit_score_row("LeastAllocated", small(), [32, 63])],
            run_pre_score,
        );
    }
    let sidecar_row = |upstream: &'static str, want: [i64; 2]| Row {
        upstream,
        pod: small(),
        nodes: vec![cm("node1", "4000", "10000"), cm("node2", "4000", "10000")],
        existing: vec![
            (
                spec_with_sidecar(
                    &[q(&[("cpu", "1000"), ("memory", "2000")])],
                    &q(&[("cpu", "1000"), ("memory", "2000")]),
                ),
                "node1",
            ),
            (spec(&[q(&[("cpu", "1000"), ("memory", "2000")])]), "node2"),
        ],
        resources: DEFAULT_RESOURCES,
        want: want.to_vec(),
    };
    // upstream: fit_test.go TestFitScore "test case for ScoringStrategy MostAllocated with sidecar container"
    run_table(
        &ScoringStrategyKind::MostAllocated,
        vec![sidecar_row(
            "MostAllocated with sidecar container",
            [67, 45],
        )],
        true,
    );
    // upstream: fit_test.go TestFitScore "test case for ScoringStrategy LeastAllocated with sidecar container"
    run_table(
        &ScoringStrategyKind::LeastAllocated,
        vec![sidecar_row(
            "LeastAllocated with sidecar container",
            [32, 55],
        )],
        true,
    );
}

fn two_step_pod() -> Value {
    spec(&[
        q(&[("cpu", "1000"), ("memory", "2000")]),
        q(&[("cpu", "2000"), ("memory", "3000")]),
    ])
}

fn cpu_mem(cpu: &str, memory: &str) -> Value {
    spec(&[q(&[("cpu", cpu), ("memory", memory)])])
}

const EXTENDED_SET: &[(&str, i64)] = &[("cpu", 1), ("memory", 1), (EXT, 1)];
const EXT_WEIGHT_2: &[(&str, i64)] = &[(EXT, 2), ("cpu", 1), ("memory", 1)];
const MEMORY_2_CPU_1: &[(&str, i64)] = &[("memory", 2), ("cpu", 1)];

/// Rows shared in shape by least_allocated_test.go and most_allocated_test.go.
fn extended_rows(want_bypass: [i64; 2], want_honor: [i64; 2], want_missing: [i64; 2]) -> Vec<Row> {
    vec![
        // upstream: {least,most}_allocated_test.go "bypass extended resource if the pod does not request"
        Row {
            upstream: "bypass extended resource if the pod does not request",
            pod: two_step_pod(),
            nodes: vec![
                cm("node1", "6000", "10000"),
                node("node2", &[("cpu", "6000"), ("memory", "10000"), (EXT, "4")]),
            ],
            existing: vec![],
            resources: EXTENDED_SET,
            want: want_bypass.to_vec(),
        },
        // upstream: {least,most}_allocated_test.go "honor extended resource if the pod requests"
        Row {
            upstream: "honor extended resource if the pod requests",
            pod: spec(&[q(&[("cpu", "3000"), ("memory", "5000"), (EXT, "2")])]),
            nodes: vec![
                node("node1", &[("cpu", "6000"), ("memory", "10000"), (EXT, "4")]),
                node(
                    "node2",
                    &[("cpu", "6000"), ("memory", "10000"), (EXT, "10")],
                ),
            ],
            existing: vec![],
            resources: EXTENDED_SET,
            want: want_honor.to_vec(),
        },
        // upstream: {least,most}_allocated_test.go "if the node doesn't have a resource"
        Row {
            upstream: "if the node doesn't have a resource",
            pod: cpu_mem("3000", "4000"),
            nodes: vec![
                cm("node1", "6000", "10000"),
                node("node2", &[("cpu", "6000"), ("memory", "10000"), (EXT, "4")]),
            ],
            existing: vec![],
            resources: EXT_WEIGHT_2,
            want: want_missing.to_vec(),
        },
    ]
}

#[test]
fn least_allocated_table() {
    let mut rows = vec![
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "nothing scheduled, nothing requested"
        Row {
            upstream: "nothing scheduled, nothing requested",
            pod: spec(&[]),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "4000", "10000")],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            want: vec![100, 100],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "nothing scheduled, resources requested, differently sized nodes"
        Row {
            upstream: "nothing scheduled, resources requested, differently sized nodes",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "6000", "10000")],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            want: vec![37, 50],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "no resources requested, pods scheduled"
        Row {
            upstream: "no resources requested, pods scheduled",
            pod: spec(&[]),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "4000", "10000")],
            existing: vec![
                (spec(&[]), "node1"),
                (spec(&[]), "node1"),
                (spec(&[]), "node2"),
                (spec(&[]), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![100, 100],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "no resources requested, pods scheduled with resources"
        Row {
            upstream: "no resources requested, pods scheduled with resources",
            pod: spec(&[]),
            nodes: vec![cm("node1", "10000", "20000"), cm("node2", "10000", "20000")],
            existing: vec![
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "0"), "node2"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![70, 57],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "resources requested, pods scheduled with resources"
        Row {
            upstream: "resources requested, pods scheduled with resources",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "10000", "20000"), cm("node2", "10000", "20000")],
            existing: vec![
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![57, 45],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "resources requested, pods scheduled with resources, differently sized nodes"
        Row {
            upstream: "resources requested, pods scheduled with resources, differently sized nodes",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "10000", "20000"), cm("node2", "10000", "50000")],
            existing: vec![
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![57, 60],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "requested resources exceed node capacity"
        Row {
            upstream: "requested resources exceed node capacity",
            pod: cpu_mem("3000", "0"),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "4000", "10000")],
            existing: vec![
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![50, 25],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "zero node resources, pods scheduled with resources"
        Row {
            upstream: "zero node resources, pods scheduled with resources",
            pod: spec(&[]),
            nodes: vec![node("node1", &[]), node("node2", &[])],
            existing: vec![
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![0, 0],
        },
        // upstream: least_allocated_test.go TestLeastAllocatedScoringStrategy "nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes"
        Row {
            upstream: "different weight on CPU and memory",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "6000", "10000")],
            existing: vec![],
            resources: MEMORY_2_CPU_1,
            want: vec![41, 50],
        },
    ];
    rows.extend(extended_rows([50, 50], [50, 60], [55, 55]));
    run_table(&ScoringStrategyKind::LeastAllocated, rows, true);
}

#[test]
fn most_allocated_table() {
    let mut rows = vec![
        // upstream: most_allocated_test.go TestMostAllocatedScoringStrategy "nothing scheduled, nothing requested"
        Row {
            upstream: "nothing scheduled, nothing requested",
            pod: spec(&[]),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "4000", "10000")],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            want: vec![0, 0],
        },
        // upstream: most_allocated_test.go TestMostAllocatedScoringStrategy "nothing scheduled, resources requested, differently sized nodes"
        Row {
            upstream: "nothing scheduled, resources requested, differently sized nodes",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "6000", "10000")],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            want: vec![62, 50],
        },
        // upstream: most_allocated_test.go TestMostAllocatedScoringStrategy "no resources requested, pods scheduled with resources"
        Row {
            upstream: "no resources requested, pods scheduled with resources",
            pod: spec(&[]),
            nodes: vec![cm("node1", "10000", "20000"), cm("node2", "10000", "20000")],
            existing: vec![
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "0"), "node2"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![30, 42],
        },
        // upstream: most_allocated_test.go TestMostAllocatedScoringStrategy "resources requested, pods scheduled with resources"
        Row {
            upstream: "resources requested, pods scheduled with resources",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "10000", "20000"), cm("node2", "10000", "20000")],
            existing: vec![
                (cpu_mem("3000", "0"), "node1"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![42, 55],
        },
        // upstream: most_allocated_test.go TestMostAllocatedScoringStrategy "resources requested equal node capacity"
        Row {
            upstream: "resources requested equal node capacity",
            pod: spec(&[
                q(&[("cpu", "2000"), ("memory", "4000")]),
                q(&[("cpu", "3000"), ("memory", "5000")]),
            ]),
            nodes: vec![cm("node1", "5000", "10000"), cm("node2", "10000", "9000")],
            existing: vec![],
            resources: DEFAULT_RESOURCES,
            want: vec![95, 75],
        },
        // upstream: most_allocated_test.go TestMostAllocatedScoringStrategy "nothing scheduled, resources requested, differently sized nodes" (weights memory 2, cpu 1)
        Row {
            upstream: "different weight on CPU and memory",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "6000", "10000")],
            existing: vec![],
            resources: MEMORY_2_CPU_1,
            want: vec![58, 50],
        },
        // upstream: most_allocated_test.go TestMostAllocatedScoringStrategy "no resources requested, pods scheduled, nonzero request for resource"
        Row {
            upstream: "no resources requested, pods scheduled, nonzero request for resource",
            pod: spec(&[q(&[])]),
            nodes: vec![cm("node1", "250m", "1000Mi"), cm("node2", "250m", "1000Mi")],
            existing: vec![(spec(&[q(&[])]), "node1"), (spec(&[q(&[])]), "node1")],
            resources: DEFAULT_RESOURCES,
            want: vec![80, 30],
        },
    ];
    rows.extend(extended_rows([50, 50], [50, 40], [45, 45]));
    run_table(&ScoringStrategyKind::MostAllocated, rows, true);
}

#[test]
fn requested_to_capacity_ratio_table() {
    let least_like = shape(&[(0, 10), (100, 0)]);
    let rows = vec![
        // upstream: requested_to_capacity_ratio_test.go TestRequestedToCapacityRatioScoringStrategy "nothing scheduled, nothing requested (default - least requested nodes have priority)"
        Row {
            upstream: "nothing scheduled, nothing requested",
            pod: spec(&[]),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "4000", "10000")],
            existing: vec![(spec(&[]), "node1"), (spec(&[]), "node1")],
            resources: DEFAULT_RESOURCES,
            want: vec![100, 100],
        },
        // upstream: requested_to_capacity_ratio_test.go TestRequestedToCapacityRatioScoringStrategy "nothing scheduled, resources requested, differently sized nodes (default - least requested nodes have priority)"
        Row {
            upstream: "nothing scheduled, resources requested, differently sized nodes (math.Round of 37.5)",
            pod: two_step_pod(),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "6000", "10000")],
            existing: vec![(spec(&[]), "node1"), (spec(&[]), "node1")],
            resources: DEFAULT_RESOURCES,
            want: vec![38, 50],
        },
        // upstream: requested_to_capacity_ratio_test.go TestRequestedToCapacityRatioScoringStrategy "no resources requested, pods scheduled with resources (default - least requested nodes have priority)"
        Row {
            upstream: "no resources requested, pods scheduled with resources",
            pod: spec(&[]),
            nodes: vec![cm("node1", "4000", "10000"), cm("node2", "6000", "10000")],
            existing: vec![
                (cpu_mem("3000", "5000"), "node1"),
                (cpu_mem("3000", "5000"), "node2"),
            ],
            resources: DEFAULT_RESOURCES,
            want: vec![38, 50],
        },
    ];
    run_table(&least_like, rows, true);
}

/// upstream `makeNode(name, 4000 milli-cpu, 10000Mi, extended)`.
fn ext_node(name: &str, extended: &[(&str, &str)]) -> Value {
    let mut pairs = vec![("cpu", "4000m"), ("memory", "10000Mi")];
    pairs.extend_from_slice(extended);
    node(name, &pairs)
}

#[test]
fn resource_bin_packing_single_extended_table() {
    // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingSingleExtended, shape
    // {0,0},{100,1}, resources intel.com/foo:1, node1 foo=8, node2 foo=4.
    const FOO: &[(&str, i64)] = &[("intel.com/foo", 1)];
    let nodes = || {
        vec![
            ext_node("node1", &[("intel.com/foo", "8")]),
            ext_node("node2", &[("intel.com/foo", "4")]),
        ]
    };
    let foo = |n: &str| spec(&[q(&[("intel.com/foo", n)])]);
    let rows = vec![
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingSingleExtended "nothing scheduled, nothing requested"
        Row {
            upstream: "nothing scheduled, nothing requested",
            pod: spec(&[]),
            nodes: nodes(),
            existing: vec![],
            resources: FOO,
            want: vec![0, 0],
        },
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingSingleExtended "resources requested, pods scheduled with less resources"
        Row {
            upstream: "resources requested, pods scheduled with less resources",
            pod: foo("2"),
            nodes: nodes(),
            existing: vec![],
            resources: FOO,
            want: vec![2, 5],
        },
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingSingleExtended "resources requested, pods scheduled with resources, on node with existing pod running "
        Row {
            upstream: "resources requested, on node with existing pod running",
            pod: foo("2"),
            nodes: nodes(),
            existing: vec![(foo("2"), "node2")],
            resources: FOO,
            want: vec![2, 10],
        },
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingSingleExtended "resources requested, pods scheduled with more resources"
        Row {
            upstream: "resources requested, pods scheduled with more resources",
            pod: foo("4"),
            nodes: nodes(),
            existing: vec![],
            resources: FOO,
            want: vec![5, 10],
        },
    ];
    run_table(&shape(&[(0, 0), (100, 1)]), rows, true);
}

#[test]
fn resource_bin_packing_multiple_extended_table() {
    // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingMultipleExtended, shape
    // {0,0},{100,1}, resources intel.com/foo:3, intel.com/bar:5; node1 foo=8 bar=4, node2 foo=4 bar=8.
    const FOO_BAR: &[(&str, i64)] = &[("intel.com/foo", 3), ("intel.com/bar", 5)];
    let nodes = || {
        vec![
            ext_node("node1", &[("intel.com/foo", "8"), ("intel.com/bar", "4")]),
            ext_node("node2", &[("intel.com/foo", "4"), ("intel.com/bar", "8")]),
        ]
    };
    let pod1 = || spec(&[q(&[("intel.com/foo", "2"), ("intel.com/bar", "2")])]);
    let pod2 = || spec(&[q(&[("intel.com/foo", "4"), ("intel.com/bar", "2")])]);
    let rows = vec![
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingMultipleExtended "nothing scheduled, nothing requested"
        Row {
            upstream: "nothing scheduled, nothing requested",
            pod: spec(&[]),
            nodes: nodes(),
            existing: vec![],
            resources: FOO_BAR,
            want: vec![0, 0],
        },
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingMultipleExtended "resources requested, pods scheduled with less resources"
        Row {
            upstream: "resources requested, pods scheduled with less resources",
            pod: pod1(),
            nodes: nodes(),
            existing: vec![],
            resources: FOO_BAR,
            want: vec![4, 3],
        },
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingMultipleExtended "resources requested, pods scheduled with resources, on node with existing pod running "
        Row {
            upstream: "resources requested, on node with existing pod running",
            pod: pod1(),
            nodes: nodes(),
            existing: vec![(pod2(), "node2")],
            resources: FOO_BAR,
            want: vec![4, 7],
        },
        // upstream: requested_to_capacity_ratio_test.go TestResourceBinPackingMultipleExtended "resources requested, pods scheduled with more resources"
        Row {
            upstream: "resources requested, pods scheduled with more resources",
            pod: pod2(),
            nodes: nodes(),
            existing: vec![],
            resources: FOO_BAR,
            want: vec![5, 5],
        },
    ];
    run_table(&shape(&[(0, 0), (100, 1)]), rows, true);
}

#[test]
fn broken_linear_function_table() {
    // upstream: requested_to_capacity_ratio_test.go TestBrokenLinearFunction (points unscaled).
    // (shape points, (utilization, expected score) assertions)
    type Case<'a> = (&'a [(i64, i64)], &'a [(i64, i64)]);
    let cases: &[Case<'_>] = &[
        // upstream: TestBrokenLinearFunction case_0
        (
            &[(10, 1), (90, 9)],
            &[
                (-10, 1),
                (0, 1),
                (9, 1),
                (10, 1),
                (15, 1),
                (19, 1),
                (20, 2),
                (89, 8),
                (90, 9),
                (99, 9),
                (100, 9),
                (110, 9),
            ],
        ),
        // upstream: TestBrokenLinearFunction case_1
        (
            &[(0, 2), (40, 10), (100, 0)],
            &[
                (-10, 2),
                (0, 2),
                (20, 6),
                (30, 8),
                (40, 10),
                (70, 5),
                (100, 0),
                (110, 0),
            ],
        ),
        // upstream: TestBrokenLinearFunction case_2
        (
            &[(0, 2), (40, 2), (100, 2)],
            &[
                (-10, 2),
                (0, 2),
                (20, 2),
                (30, 2),
                (40, 2),
                (70, 2),
                (100, 2),
                (110, 2),
            ],
        ),
    ];
    for (i, (points, assertions)) in cases.iter().enumerate() {
        let f = Shape::new(points.iter().copied()).expect("non-empty");
        for &(p, want) in *assertions {
            assert_eq!(f.eval(p), want, "case_{i} p={p}");
        }
    }
    // upstream rule: Go integer division truncates toward zero on a decreasing segment too.
    let down = Shape::new([(0, 100), (100, 0)]).expect("non-empty");
    assert_eq!(down.eval(33), 67);
}

#[test]
fn resource_kinds_table() {
    // upstream rule: resource_allocation.go calculateResourceAllocatableRequest — ephemeral-storage
    // always uses plain Requested; names that are neither native nor scalar (`pods`) are skipped.
    let rows = vec![
        Row {
            upstream: "ephemeral-storage uses plain requests (40 = (100-50-10)*100/100)",
            pod: spec(&[q(&[("ephemeral-storage", "10")])]),
            nodes: vec![node(
                "node1",
                &[
                    ("cpu", "1"),
                    ("memory", "1Gi"),
                    ("ephemeral-storage", "100"),
                ],
            )],
            existing: vec![(spec(&[q(&[("ephemeral-storage", "50")])]), "node1")],
            resources: &[("ephemeral-storage", 1)],
            want: vec![40],
        },
        Row {
            upstream: "pods is never scored (only cpu counts: 50)",
            pod: cpu_mem("1", "0"),
            nodes: vec![node(
                "node1",
                &[("cpu", "2"), ("memory", "1Gi"), ("pods", "10")],
            )],
            existing: vec![],
            resources: &[("pods", 7), ("cpu", 1)],
            want: vec![50],
        },
        Row {
            upstream: "non-zero defaults: a request-less container counts 100m cpu (95 = (2000-100)*100/2000)",
            pod: spec(&[q(&[("memory", "0")])]),
            nodes: vec![node("node1", &[("cpu", "2"), ("memory", "1Gi")])],
            existing: vec![],
            resources: &[("cpu", 1)],
            want: vec![95],
        },
    ];
    run_table(&ScoringStrategyKind::LeastAllocated, rows, true);
}
