//! NodeResourcesFit PreFilter/Filter tables, one row per upstream case (`fit_test.go`).

use super::test_util::{
    DEFAULT_RESOURCES, fit_args, node, pod, run_filter, spec, spec_with_init, spec_with_sidecar,
};
use crate::testing::TestCluster;
use sched_core::config::{NodeResourcesFitArgs, ScoringStrategyKind};
use sched_core::framework::{Code, Rejection};
use serde_json::{Value, json};

const A: &str = "example.com/aaa";
const B: &str = "example.com/bbb";
const KA: &str = "kubernetes.io/something";
const KB: &str = "subdomain.kubernetes.io/something";
const HP: &str = "hugepages-2Mi";
const DRA: &str = "extended.resource.dra.io/something";

/// upstream `newResourcePod(framework.Resource{MilliCPU, Memory, ScalarResources})`: explicit
/// cpu (milli) and memory (bytes), plus scalars.
fn r(cpu: i64, mem: i64, scalars: &[(&str, i64)]) -> Value {
    let mut v = json!({"cpu": format!("{cpu}m"), "memory": mem.to_string()});
    for &(name, q) in scalars {
        v[name] = json!(q.to_string());
    }
    v
}

/// upstream `makeAllocatableResources(milliCPU, memory, pods, extendedA, storage, hugePageA)`.
fn alloc_node(cpu: i64, mem: i64, pods: i64, ext_a: i64, storage: i64, hp: i64) -> Value {
    node(
        "node",
        &[
            ("cpu", &format!("{cpu}m")),
            ("memory", &mem.to_string()),
            ("pods", &pods.to_string()),
            (A, &ext_a.to_string()),
            ("ephemeral-storage", &storage.to_string()),
            (HP, &hp.to_string()),
        ],
    )
}

fn default_args() -> NodeResourcesFitArgs {
    fit_args(ScoringStrategyKind::LeastAllocated, DEFAULT_RESOURCES)
}

fn ignoring(resources: &[&str], groups: &[&str]) -> NodeResourcesFitArgs {
    let mut args = default_args();
    args.ignored_resources = resources.iter().map(ToString::to_string).collect();
    args.ignored_resource_groups = groups.iter().map(ToString::to_string).collect();
    args
}

type Want = Option<(Code, &'static [&'static str])>;

fn check(upstream: &str, got: Result<(), Rejection>, want: Want) {
    let got = got.map_err(|r| {
        (
            r.code,
            r.reasons
                .iter()
                .map(|x| x.as_str().to_string())
                .collect::<Vec<_>>(),
        )
    });
    let want = match want {
        None => Ok(()),
        Some((code, reasons)) => Err((
            code,
            reasons.iter().map(ToString::to_string).collect::<Vec<_>>(),
        )),
    };
    assert_eq!(got, want, "{upstream}");
}

const UNSCHED: Code = Code::Unschedulable;
const UNRESOLVABLE: Code = Code::UnschedulableAndUnresolvable;

#[test]
fn enough_requests_table() {
    // upstream: every row of TestEnoughRequests runs on makeAllocatableResources(10, 20, 32, 5, 20, 5)
    // with one existing pod (the `nodeInfo` column), default args unless stated.
    let node = || alloc_node(10, 20, 32, 5, 20, 5);
    let p = |rs: &[Value]| spec(rs);
    let pi = |rs: &[Value], init: &[Value]| spec_with_init(rs, init);
    let rows: Vec<(&str, Value, Option<Value>, NodeResourcesFitArgs, Want)> = vec![
        // upstream: fit_test.go TestEnoughRequests "no resources requested always fits"
        (
            "no resources requested always fits",
            spec(&[]),
            Some(p(&[r(10, 20, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "too many resources fails"
        (
            "too many resources fails",
            p(&[r(1, 1, &[])]),
            Some(p(&[r(10, 20, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient cpu", "Insufficient memory"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "too many resources fails due to init container cpu"
        (
            "too many resources fails due to init container cpu",
            pi(&[r(1, 1, &[])], &[r(3, 1, &[])]),
            Some(p(&[r(8, 19, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient cpu"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "too many resources fails due to highest init container cpu"
        (
            "too many resources fails due to highest init container cpu",
            pi(&[r(1, 1, &[])], &[r(3, 1, &[]), r(2, 1, &[])]),
            Some(p(&[r(8, 19, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient cpu"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "too many resources fails due to init container memory"
        (
            "too many resources fails due to init container memory",
            pi(&[r(1, 1, &[])], &[r(1, 3, &[])]),
            Some(p(&[r(9, 19, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient memory"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "too many resources fails due to highest init container memory"
        (
            "too many resources fails due to highest init container memory",
            pi(&[r(1, 1, &[])], &[r(1, 3, &[]), r(1, 2, &[])]),
            Some(p(&[r(9, 19, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient memory"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "init container fits because it's the max, not sum, of containers and init containers"
        (
            "init container fits because it's the max",
            pi(&[r(1, 1, &[])], &[r(1, 1, &[])]),
            Some(p(&[r(9, 19, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "multiple init containers fit because it's the max, not sum, of containers and init containers"
        (
            "multiple init containers fit because it's the max",
            pi(&[r(1, 1, &[])], &[r(1, 1, &[]), r(1, 1, &[])]),
            Some(p(&[r(9, 19, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "both resources fit"
        (
            "both resources fit",
            p(&[r(1, 1, &[])]),
            Some(p(&[r(5, 5, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "one resource memory fits"
        (
            "one resource memory fits",
            p(&[r(2, 1, &[])]),
            Some(p(&[r(9, 5, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient cpu"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "one resource cpu fits"
        (
            "one resource cpu fits",
            p(&[r(1, 2, &[])]),
            Some(p(&[r(5, 19, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient memory"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "equal edge case"
        (
            "equal edge case",
            p(&[r(5, 1, &[])]),
            Some(p(&[r(5, 19, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "equal edge case for init container"
        (
            "equal edge case for init container",
            pi(&[r(4, 1, &[])], &[r(5, 1, &[])]),
            Some(p(&[r(5, 19, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource fits"
        (
            "extended resource fits",
            p(&[r(0, 0, &[(A, 1)])]),
            Some(p(&[r(0, 0, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource fits for init container"
        (
            "extended resource fits for init container",
            pi(&[r(0, 0, &[])], &[r(0, 0, &[(A, 1)])]),
            Some(p(&[r(0, 0, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource capacity enforced"
        (
            "extended resource capacity enforced",
            p(&[r(1, 1, &[(A, 10)])]),
            Some(p(&[r(0, 0, &[(A, 0)])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient example.com/aaa"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource capacity enforced for init container"
        (
            "extended resource capacity enforced for init container",
            pi(&[r(0, 0, &[])], &[r(1, 1, &[(A, 10)])]),
            Some(p(&[r(0, 0, &[(A, 0)])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient example.com/aaa"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource allocatable enforced"
        (
            "extended resource allocatable enforced",
            p(&[r(1, 1, &[(A, 1)])]),
            Some(p(&[r(0, 0, &[(A, 5)])])),
            default_args(),
            Some((UNSCHED, &["Insufficient example.com/aaa"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource allocatable enforced for init container"
        (
            "extended resource allocatable enforced for init container",
            pi(&[r(0, 0, &[])], &[r(1, 1, &[(A, 1)])]),
            Some(p(&[r(0, 0, &[(A, 5)])])),
            default_args(),
            Some((UNSCHED, &["Insufficient example.com/aaa"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource allocatable enforced for multiple containers"
        (
            "extended resource allocatable enforced for multiple containers",
            p(&[r(1, 1, &[(A, 3)]), r(1, 1, &[(A, 3)])]),
            Some(p(&[r(0, 0, &[(A, 2)])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient example.com/aaa"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource allocatable admits multiple init containers"
        (
            "extended resource allocatable admits multiple init containers",
            pi(&[r(0, 0, &[])], &[r(1, 1, &[(A, 3)]), r(1, 1, &[(A, 3)])]),
            Some(p(&[r(0, 0, &[(A, 2)])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource allocatable enforced for multiple init containers"
        (
            "extended resource allocatable enforced for multiple init containers",
            pi(&[r(0, 0, &[])], &[r(1, 1, &[(A, 6)]), r(1, 1, &[(A, 3)])]),
            Some(p(&[r(0, 0, &[(A, 2)])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient example.com/aaa"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource allocatable enforced for unknown resource"
        (
            "extended resource allocatable enforced for unknown resource",
            p(&[r(1, 1, &[(B, 1)])]),
            Some(p(&[r(0, 0, &[])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient example.com/bbb"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource allocatable enforced for unknown resource for init container"
        (
            "extended resource allocatable enforced for unknown resource for init container",
            pi(&[r(0, 0, &[])], &[r(1, 1, &[(B, 1)])]),
            Some(p(&[r(0, 0, &[])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient example.com/bbb"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "kubernetes.io resource capacity enforced"
        (
            "kubernetes.io resource capacity enforced",
            p(&[r(1, 1, &[(KA, 10)])]),
            Some(p(&[r(0, 0, &[])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient kubernetes.io/something"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "kubernetes.io resource capacity enforced for init container"
        (
            "kubernetes.io resource capacity enforced for init container",
            pi(&[r(0, 0, &[])], &[r(1, 1, &[(KB, 10)])]),
            Some(p(&[r(0, 0, &[])])),
            default_args(),
            Some((
                UNRESOLVABLE,
                &["Insufficient subdomain.kubernetes.io/something"],
            )),
        ),
        // upstream: fit_test.go TestEnoughRequests "hugepages resource capacity enforced"
        (
            "hugepages resource capacity enforced",
            p(&[r(1, 1, &[(HP, 10)])]),
            Some(p(&[r(0, 0, &[(HP, 0)])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient hugepages-2Mi"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "hugepages resource capacity enforced for init container"
        (
            "hugepages resource capacity enforced for init container",
            pi(&[r(0, 0, &[])], &[r(1, 1, &[(HP, 10)])]),
            Some(p(&[r(0, 0, &[(HP, 0)])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient hugepages-2Mi"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "hugepages resource allocatable enforced for multiple containers"
        (
            "hugepages resource allocatable enforced for multiple containers",
            p(&[r(1, 1, &[(HP, 3)]), r(1, 1, &[(HP, 3)])]),
            Some(p(&[r(0, 0, &[(HP, 2)])])),
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient hugepages-2Mi"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "skip checking ignored extended resource"
        (
            "skip checking ignored extended resource",
            p(&[r(1, 1, &[(B, 1)])]),
            Some(p(&[r(0, 0, &[])])),
            ignoring(&[B], &[]),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "resources + pod overhead fits"
        (
            "resources + pod overhead fits",
            {
                let mut s = p(&[r(1, 1, &[])]);
                s["overhead"] = json!({"cpu": "3m", "memory": "13"});
                s
            },
            Some(p(&[r(5, 5, &[])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "requests + overhead does not fit for memory"
        (
            "requests + overhead does not fit for memory",
            {
                let mut s = p(&[r(1, 1, &[])]);
                s["overhead"] = json!({"cpu": "1m", "memory": "15"});
                s
            },
            Some(p(&[r(5, 5, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient memory"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "skip checking ignored extended resource via resource groups"
        (
            "skip checking ignored extended resource via resource groups",
            p(&[r(1, 1, &[(B, 1), (KA, 1)])]),
            Some(p(&[r(0, 0, &[])])),
            ignoring(&[], &["example.com"]),
            Some((UNRESOLVABLE, &["Insufficient kubernetes.io/something"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "skip checking extended resource request with quantity zero via resource groups"
        (
            "skip checking extended resource request with quantity zero",
            p(&[r(1, 1, &[(A, 0)])]),
            Some(p(&[r(0, 0, &[(A, 6)])])),
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "pod-level cpu resource not fit" (PodLevelResources on by default)
        (
            "pod-level cpu resource not fit",
            {
                let mut s = p(&[r(1, 1, &[])]);
                s["resources"] = json!({"requests": {"cpu": "7m", "memory": "2"}});
                s
            },
            Some(p(&[r(5, 5, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient cpu"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "pod-level memory resource not fit"
        (
            "pod-level memory resource not fit",
            {
                let mut s = p(&[r(1, 1, &[])]);
                s["resources"] = json!({"requests": {"cpu": "3m", "memory": "2"}});
                s
            },
            Some(p(&[r(5, 19, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient memory"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "pod-level hugepages resource not fit"
        (
            "pod-level hugepages resource not fit",
            {
                let mut s = spec(&[]);
                s["resources"] = json!({"requests": {"cpu": "3m", "memory": "2", HP: "10"}});
                s
            },
            None,
            default_args(),
            Some((UNRESOLVABLE, &["Insufficient hugepages-2Mi"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "both pod-level and container-level hugepages resource fit"
        (
            "both pod-level and container-level hugepages resource fit",
            {
                let mut s = p(&[r(1, 1, &[(HP, 3)])]);
                s["resources"] = json!({"requests": {"cpu": "3m", "memory": "2", HP: "5"}});
                s
            },
            None,
            default_args(),
            None,
        ),
        // upstream: fit_test.go TestEnoughRequests "one pod-level cpu resource fits and all init and non-init containers resources fit"
        (
            "one pod-level cpu resource fits and all init and non-init containers resources fit",
            {
                let mut s = pi(&[r(1, 1, &[])], &[r(1, 1, &[])]);
                s["resources"] = json!({"requests": {"cpu": "3m", "memory": "2"}});
                s
            },
            Some(p(&[r(5, 19, &[])])),
            default_args(),
            Some((UNSCHED, &["Insufficient memory"])),
        ),
        // upstream: fit_test.go TestEnoughRequests "extended resource backed by DRA not enabled"
        // (DRAExtendedResource is off in 1.35, so a DRA-looking name is an ordinary extended resource)
        (
            "extended resource backed by DRA not enabled",
            p(&[r(1, 1, &[(DRA, 1)])]),
            Some(p(&[r(0, 0, &[])])),
            default_args(),
            Some((
                UNRESOLVABLE,
                &["Insufficient extended.resource.dra.io/something"],
            )),
        ),
    ];
    for (upstream, incoming, existing, args, want) in rows {
        let existing: Vec<Value> = existing.into_iter().collect();
        check(
            upstream,
            run_filter(args, node(), &existing, incoming),
            want,
        );
    }
}

#[test]
fn not_enough_requests_table() {
    // upstream: TestNotEnoughRequests runs on makeAllocatableResources(10, 20, 1, 0, 0, 0) with one
    // existing pod: the pod limit is reached, whatever the incoming pod requests.
    let rows: Vec<(&str, Value, Value)> = vec![
        // upstream: fit_test.go TestNotEnoughRequests "even without specified resources, predicate fails when there's no space for additional pod"
        ("zero-request pod", spec(&[]), spec(&[r(10, 20, &[])])),
        // upstream: fit_test.go TestNotEnoughRequests "even if both resources fit, predicate fails when there's no space for additional pod"
        (
            "both resources fit",
            spec(&[r(1, 1, &[])]),
            spec(&[r(5, 5, &[])]),
        ),
        // upstream: fit_test.go TestNotEnoughRequests "even for equal edge case, predicate fails when there's no space for additional pod"
        (
            "equal edge case",
            spec(&[r(5, 1, &[])]),
            spec(&[r(5, 19, &[])]),
        ),
        // upstream: fit_test.go TestNotEnoughRequests "even for equal edge case, predicate fails when there's no space for additional pod due to init container"
        (
            "equal edge case, init container",
            spec_with_init(&[r(5, 1, &[])], &[r(5, 1, &[])]),
            spec(&[r(5, 19, &[])]),
        ),
    ];
    for (upstream, incoming, existing) in rows {
        check(
            upstream,
            run_filter(
                default_args(),
                alloc_node(10, 20, 1, 0, 0, 0),
                &[existing],
                incoming,
            ),
            Some((UNSCHED, &["Too many pods"])),
        );
    }
}

#[test]
fn storage_requests_table() {
    // upstream: TestStorageRequests runs on makeAllocatableResources(10, 20, 32, 5, 20, 5).
    let eph = |cpu: i64, mem: i64, storage: i64| json!({"cpu": format!("{cpu}m"), "memory": mem.to_string(), "ephemeral-storage": storage.to_string()});
    let rows: Vec<(&str, Value, Value, Want)> = vec![
        // upstream: fit_test.go TestStorageRequests "empty storage requested, and pod fits"
        (
            "empty storage requested, and pod fits",
            spec(&[r(1, 1, &[])]),
            spec(&[r(2, 10, &[])]),
            None,
        ),
        // upstream: fit_test.go TestStorageRequests "storage ephemeral local storage request exceeds allocatable"
        (
            "storage ephemeral local storage request exceeds allocatable",
            spec(&[eph(0, 0, 25)]),
            spec(&[r(2, 2, &[])]),
            Some((UNRESOLVABLE, &["Insufficient ephemeral-storage"])),
        ),
        // upstream: fit_test.go TestStorageRequests "ephemeral local storage is sufficient"
        (
            "ephemeral local storage is sufficient",
            spec(&[eph(0, 0, 5)]),
            spec(&[eph(2, 2, 10)]),
            None,
        ),
        // upstream: fit_test.go TestStorageRequests "pod fits"
        (
            "pod fits",
            spec(&[eph(0, 0, 10)]),
            spec(&[r(2, 2, &[])]),
            None,
        ),
    ];
    for (upstream, incoming, existing, want) in rows {
        check(
            upstream,
            run_filter(
                default_args(),
                alloc_node(10, 20, 32, 5, 20, 5),
                &[existing],
                incoming,
            ),
            want,
        );
    }
}

#[test]
fn restartable_init_containers_table() {
    // upstream: TestRestartableInitContainers runs on makeAllocatableResources(2, 0, 1, 0, 0, 0)
    // with no pods; Placer has SidecarContainers on (GA), so only the "enabled" rows apply.
    let regular = |cpu: Option<&str>| match cpu {
        Some(c) => json!({"cpu": c}),
        None => json!({}),
    };
    let rows: Vec<(&str, Value, Want)> = vec![
        // upstream: fit_test.go TestRestartableInitContainers "allow pod without restartable init containers if sidecar containers is enabled"
        ("no sidecar", spec(&[regular(None)]), None),
        // upstream: fit_test.go TestRestartableInitContainers "allow pod with restartable init containers if sidecar containers is enabled"
        (
            "sidecar without requests",
            spec_with_sidecar(&[regular(None)], &regular(None)),
            None,
        ),
        // upstream: fit_test.go TestRestartableInitContainers "allow pod if the total requested resources do not exceed the node's allocatable resources"
        (
            "sidecar + container fit",
            spec_with_sidecar(&[regular(Some("1m"))], &regular(Some("1m"))),
            None,
        ),
        // upstream: fit_test.go TestRestartableInitContainers "not allow pod if the total requested resources do exceed the node's allocatable resources"
        (
            "sidecar + container exceed",
            spec_with_sidecar(&[regular(Some("1m"))], &regular(Some("2m"))),
            Some((UNRESOLVABLE, &["Insufficient cpu"])),
        ),
    ];
    for (upstream, incoming, want) in rows {
        check(
            upstream,
            run_filter(default_args(), alloc_node(2, 0, 1, 0, 0, 0), &[], incoming),
            want,
        );
    }
}

#[test]
fn placer_rules_table() {
    // Rules read from fit.go fitsRequest with no dedicated upstream row.
    let rows: Vec<(&str, Value, Vec<Value>, NodeResourcesFitArgs, Want)> = vec![
        // upstream rule: fit.go fitsRequest — AllowedPodNumber 0 (no `pods` in allocatable) fails every pod, even a zero-request one
        (
            "node without allocatable pods",
            node("node", &[("cpu", "1"), ("memory", "1Gi")]),
            vec![],
            default_args(),
            Some((UNSCHED, &["Too many pods"])),
        ),
        // upstream rule: fit.go fitsRequest — ignoredResources only skips extended resources (not hugepages)
        (
            "ignoredResources does not apply to hugepages",
            alloc_node(10, 20, 32, 5, 20, 5),
            vec![],
            ignoring(&[HP], &[]),
            Some((UNRESOLVABLE, &["Insufficient hugepages-2Mi"])),
        ),
        // upstream rule: fit.go fitsRequest — ignoredResourceGroups only skips extended resources (not kubernetes.io/*)
        (
            "ignoredResourceGroups does not apply to kubernetes.io names",
            alloc_node(10, 20, 32, 5, 20, 5),
            vec![],
            ignoring(&[], &["kubernetes.io"]),
            Some((UNRESOLVABLE, &["Insufficient kubernetes.io/something"])),
        ),
        // upstream rule: fit.go fitsRequest — Unresolvable only when the request alone exceeds allocatable
        (
            "fits allocatable but not what is left",
            alloc_node(10, 20, 32, 5, 20, 5),
            vec![spec(&[r(6, 0, &[])])],
            default_args(),
            Some((UNSCHED, &["Insufficient cpu"])),
        ),
    ];
    let incoming = |name: &str| match name {
        "ignoredResources does not apply to hugepages" => spec(&[r(0, 0, &[(HP, 10)])]),
        "ignoredResourceGroups does not apply to kubernetes.io names" => {
            spec(&[r(0, 0, &[(KA, 1)])])
        }
        "fits allocatable but not what is left" => spec(&[r(5, 0, &[])]),
        _ => spec(&[]),
    };
    for (upstream, node_json, existing, args, want) in rows {
        check(
            upstream,
            run_filter(args, node_json, &existing, incoming(upstream)),
            want,
        );
    }
}

#[test]
fn reasons_order_and_code() {
    // upstream rule: fit.go fitsRequest appends pods, cpu, memory, ephemeral-storage, then
    // scalars (Go map order; Placer: the pod's requests.scalar order); any unresolvable
    // resource makes the whole status UnschedulableAndUnresolvable.
    let mut tc = TestCluster::new();
    let id = tc.node(alloc_node(10, 20, 1, 5, 20, 5));
    tc.running(pod("existing", spec(&[r(5, 5, &[])])), "node");
    let plugin =
        super::test_util::fit_plugin(default_args(), tc.state.interner_mut()).expect("plugin");
    let incoming = tc.pod(pod(
        "incoming",
        spec(&[json!({"cpu": "6m", "memory": "16", "ephemeral-storage": "21", B: "1", KA: "1"})]),
    ));
    let cycle = crate::testing::cycle();
    let got = plugin
        .as_filter()
        .expect("filter")
        .filter(&cycle, &incoming, tc.node_state(id), tc.view())
        .expect_err("rejected");
    assert_eq!(got.code, UNRESOLVABLE);
    let mut want: Vec<String> = [
        "Too many pods",
        "Insufficient cpu",
        "Insufficient memory",
        "Insufficient ephemeral-storage",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    want.extend(incoming.scalar_reasons.iter().map(ToString::to_string));
    let got: Vec<String> = got.reasons.iter().map(|x| x.as_str().to_string()).collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 6);
}

#[test]
fn extended_name_check_matches_core() {
    // The filter's allocation-free extended-resource check must agree with the core's
    // `is_extended_resource_name` (upstream v1helper.IsExtendedResourceName).
    for name in [
        "example.com/aaa",
        "example.com/Foo_bar.1",
        "Example.com/aaa",
        "example.com/",
        "/aaa",
        "example..com/aaa",
        "-example.com/aaa",
        "kubernetes.io/something",
        "subdomain.kubernetes.io/something",
        "requests.example.com/aaa",
        "hugepages-2Mi",
        "cpu",
        "example.com/a/b",
        "example.com/-a",
        "nvidia.com/gpu",
        "a.b-c.d/x",
    ] {
        assert_eq!(
            super::fit::is_extended_name(name),
            sched_core::convert::is_extended_resource_name(name),
            "{name}"
        );
    }
    let long_prefix = format!("{}.com/x", "a".repeat(240));
    assert_eq!(
        super::fit::is_extended_name(&long_prefix),
        sched_core::convert::is_extended_resource_name(&long_prefix)
    );
    let long_name = format!("example.com/{}", "a".repeat(64));
    assert_eq!(
        super::fit::is_extended_name(&long_name),
        sched_core::convert::is_extended_resource_name(&long_name)
    );
}

#[test]
fn factory_rejects_invalid_weights() {
    // upstream: least_allocated_test.go / most_allocated_test.go "resource with negative weight",
    // "resource with zero weight", "resource weight larger than MaxNodeScore" (NewFit re-validates).
    for (upstream, res) in [
        (
            "resource with negative weight",
            &[("memory", -1), ("cpu", 1)][..],
        ),
        (
            "resource with zero weight",
            &[("memory", 1), ("cpu", 0)][..],
        ),
        (
            "resource weight larger than MaxNodeScore",
            &[("memory", 1), ("cpu", 101)][..],
        ),
    ] {
        let mut tc = TestCluster::new();
        let got = super::test_util::fit_plugin(
            fit_args(ScoringStrategyKind::LeastAllocated, res),
            tc.state.interner_mut(),
        );
        assert!(got.is_err(), "{upstream}");
    }
    let mut tc = TestCluster::new();
    assert!(
        super::test_util::fit_plugin(
            fit_args(
                ScoringStrategyKind::RequestedToCapacityRatio { shape: vec![] },
                DEFAULT_RESOURCES
            ),
            tc.state.interner_mut()
        )
        .is_err(),
        "an empty shape cannot be evaluated"
    );
}

#[test]
fn plugin_surface() {
    let mut tc = TestCluster::new();
    let p = super::test_util::fit_plugin(default_args(), tc.state.interner_mut()).expect("plugin");
    assert_eq!(p.name(), "NodeResourcesFit");
    assert!(p.as_pre_filter().is_some() && p.as_filter().is_some());
    assert!(p.as_pre_score().is_some() && p.as_score().is_some());
    assert!(
        p.as_post_filter().is_none() && p.as_reserve().is_none() && p.as_queue_sort().is_none()
    );
}

#[test]
fn shared_fixtures_smoke() {
    // upstream rule: fit.go fitsRequest on the crate's shared fixtures (`node_json`/`pod_json`):
    // a fitting pod passes; a cpu request above allocatable is UnschedulableAndUnresolvable.
    use crate::testing::{cycle, node_json, pod_json};
    let mut tc = TestCluster::new();
    let id = tc.node(node_json("n1", "2", "4Gi", "10"));
    let plugin =
        super::test_util::fit_plugin(default_args(), tc.state.interner_mut()).expect("plugin");
    let filter = plugin.as_filter().expect("filter");
    let fits = tc.pod(pod_json("fits", Some("1"), Some("1Gi")));
    assert_eq!(
        filter.filter(&cycle(), &fits, tc.node_state(id), tc.view()),
        Ok(())
    );
    let too_big = tc.pod(pod_json("too-big", Some("3"), None));
    check(
        "cpu above allocatable",
        filter.filter(&cycle(), &too_big, tc.node_state(id), tc.view()),
        Some((UNRESOLVABLE, &["Insufficient cpu"])),
    );
}
