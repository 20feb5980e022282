//! Conversion rules, one test per upstream subtlety. Each names the upstream rule it mirrors.

use k8s_openapi::api::core::v1::{Node, Pod};
use sched_core::convert::{ResourceClass, classify_resource, node_info, pod_info};
use sched_core::intern::Interner;
use sched_core::model::{
    DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, Protocol, TolerationOperator,
};
use serde_json::{Value, json};

fn pod(v: Value) -> sched_core::model::PodInfo {
    let mut i = Interner::new();
    pod_with(&mut i, v)
}

fn pod_with(i: &mut Interner, v: Value) -> sched_core::model::PodInfo {
    let p: Pod = serde_json::from_value(v).unwrap();
    pod_info(&p, i).unwrap()
}

fn spec(spec: Value) -> Value {
    json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": spec})
}

fn c(name: &str, requests: Value) -> Value {
    json!({"name": name, "resources": {"requests": requests}})
}

fn sidecar(name: &str, requests: Value) -> Value {
    json!({"name": name, "restartPolicy": "Always", "resources": {"requests": requests}})
}

#[test]
fn init_containers_take_the_max_with_app_containers() {
    // upstream: resource/helpers_test.go TestPodRequests "init container max"
    let p = pod(spec(json!({
        "containers": [c("a", json!({"cpu": "1"})), c("b", json!({"cpu": "500m"}))],
        "initContainers": [c("i1", json!({"cpu": "2"})), c("i2", json!({"cpu": "1"}))]
    })));
    assert_eq!(p.requests.milli_cpu, 2000);
}

#[test]
fn sidecars_add_to_app_containers_and_to_later_init_containers() {
    // upstream: PodRequests "restartable init container" rule: sidecars run beside the app and
    // beside every init container declared after them.
    let p = pod(spec(json!({
        "containers": [c("app", json!({"cpu": "1"}))],
        "initContainers": [sidecar("s", json!({"cpu": "1"})), c("init", json!({"cpu": "2"}))]
    })));
    // containers: 1 + 1 (sidecar) = 2; init peak: init 2 + sidecar 1 = 3.
    assert_eq!(p.requests.milli_cpu, 3000);
    let p = pod(spec(json!({
        "containers": [c("app", json!({"cpu": "1"}))],
        "initContainers": [c("init", json!({"cpu": "2"})), sidecar("s", json!({"cpu": "1"}))]
    })));
    // The init container before the sidecar runs alone: peak 2; containers 1 + 1 = 2.
    assert_eq!(p.requests.milli_cpu, 2000);
}

#[test]
fn overhead_is_added_after_the_max() {
    // upstream: PodRequests adds pod.spec.overhead after aggregating containers.
    let p = pod(spec(json!({
        "containers": [c("app", json!({"cpu": "1", "memory": "1Gi"}))],
        "initContainers": [c("init", json!({"cpu": "2"}))],
        "overhead": {"cpu": "250m", "memory": "64Mi"}
    })));
    assert_eq!(p.requests.milli_cpu, 2250);
    assert_eq!(p.requests.memory, (1024 + 64) * 1024 * 1024);
    assert_eq!(p.non_zero_milli_cpu, 2250);
}

#[test]
fn non_zero_defaults_apply_only_to_omitted_requests() {
    // upstream: types.go calculateResource with NonMissingContainerRequests: omitted cpu → 100m,
    // omitted memory → 200Mi; an explicit zero stays zero.
    let p = pod(spec(
        json!({"containers": [c("a", json!({})), c("b", json!({"cpu": "0", "memory": "0"}))]}),
    ));
    assert_eq!(p.requests.milli_cpu, 0);
    assert_eq!(p.requests.memory, 0);
    assert_eq!(p.non_zero_milli_cpu, DEFAULT_MILLI_CPU_REQUEST);
    assert_eq!(p.non_zero_memory, DEFAULT_MEMORY_REQUEST);
}

#[test]
fn pod_without_containers_has_zero_non_zero_requests() {
    // upstream: defaults apply per container; no containers, nothing to default.
    let p = pod(spec(json!({"containers": []})));
    assert_eq!((p.non_zero_milli_cpu, p.non_zero_memory), (0, 0));
}

#[test]
fn limits_default_requests() {
    // upstream: core/v1 SetDefaults_Pod — a container with a limit and no request gets request = limit.
    let p = pod(spec(
        json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}}]}),
    ));
    assert_eq!(p.requests.milli_cpu, 2000);
    assert_eq!(p.requests.memory, 1 << 30);
    assert_eq!(p.non_zero_milli_cpu, 2000);
}

#[test]
fn pod_level_requests_replace_container_aggregate() {
    // upstream: PodRequests with PodLevelResources: pod-level cpu/memory win; overhead still added.
    let p = pod(spec(json!({
        "resources": {"requests": {"cpu": "3"}},
        "containers": [c("a", json!({"cpu": "1", "memory": "1Gi"}))],
        "overhead": {"cpu": "100m"}
    })));
    assert_eq!(p.requests.milli_cpu, 3100);
    assert_eq!(p.requests.memory, 1 << 30);
    // Memory is set at container level, so no default applies; cpu is set at pod level.
    assert_eq!(p.non_zero_milli_cpu, 3100);
    assert_eq!(p.non_zero_memory, 1 << 30);
    let p = pod(spec(
        json!({"resources": {"requests": {"cpu": "3"}}, "containers": [c("a", json!({}))]}),
    ));
    // upstream getNonMissingContainerRequests: memory missing at both levels → 200Mi default.
    assert_eq!(p.non_zero_memory, DEFAULT_MEMORY_REQUEST);
    assert_eq!(p.non_zero_milli_cpu, 3000);
}

#[test]
fn quantities_round_up_as_upstream() {
    // upstream: MilliValue/Value round up: 0.1m cpu → 1m; 1.5Gi → 1610612736.
    let mut i = Interner::new();
    let n: Node = serde_json::from_value(json!({
        "metadata": {"name": "n"},
        "status": {"allocatable": {"cpu": "0.1m", "memory": "1.5Gi", "ephemeral-storage": "0.5", "pods": "110"}}
    }))
    .unwrap();
    let n = node_info(&n, &mut i).unwrap();
    assert_eq!(n.allocatable.milli_cpu, 1);
    assert_eq!(n.allocatable.memory, 1_610_612_736);
    assert_eq!(n.allocatable.ephemeral_storage, 1);
    assert_eq!(n.allocatable.pods, 110);
}

#[test]
fn node_without_allocatable_pods_has_limit_zero() {
    // upstream: a resource missing from allocatable counts as 0 (so every pod is "Too many pods").
    let mut i = Interner::new();
    let n: Node = serde_json::from_value(
        json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "1"}}}),
    )
    .unwrap();
    assert_eq!(node_info(&n, &mut i).unwrap().allocatable.pods, 0);
}

#[test]
fn resource_names_are_classified_as_upstream() {
    // upstream: v1helper.IsScalarResourceName / IsExtendedResourceName / IsPrefixedNativeResource.
    let cases = [
        ("cpu", ResourceClass::Cpu),
        ("memory", ResourceClass::Memory),
        ("ephemeral-storage", ResourceClass::EphemeralStorage),
        ("pods", ResourceClass::Pods),
        ("nvidia.com/gpu", ResourceClass::Scalar),
        ("example.com/foo", ResourceClass::Scalar),
        ("hugepages-2Mi", ResourceClass::Scalar),
        ("kubernetes.io/something", ResourceClass::Scalar),
        ("subdomain.kubernetes.io/x", ResourceClass::Scalar),
        ("attachable-volumes-aws-ebs", ResourceClass::Scalar),
        ("storage", ResourceClass::Ignored),
        ("requests.example.com/foo", ResourceClass::Ignored),
        ("Example.com/foo", ResourceClass::Ignored),
    ];
    for (name, want) in cases {
        assert_eq!(classify_resource(name), want, "{name}");
    }
}

#[test]
fn extended_resource_requests_are_scalars_with_reasons() {
    let mut i = Interner::new();
    let p = pod_with(
        &mut i,
        spec(json!({"containers": [c("a", json!({"nvidia.com/gpu": "2", "storage": "1"}))]})),
    );
    let gpu = i.get("nvidia.com/gpu").unwrap();
    assert_eq!(p.requests.scalar(gpu), 2);
    assert_eq!(
        p.requests.scalar.len(),
        1,
        "names that are not scalar resources are ignored"
    );
    assert_eq!(&*p.scalar_reasons[0], "Insufficient nvidia.com/gpu");
}

#[test]
fn host_ports_come_from_containers_and_sidecars_only() {
    // upstream: schedutil.GetHostPorts includes restartable init containers, not plain ones.
    let p = pod(spec(json!({
        "containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]}],
        "initContainers": [
            {"name": "s", "restartPolicy": "Always", "ports": [{"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"}]},
            {"name": "i", "ports": [{"containerPort": 9, "hostPort": 9}]}
        ]
    })));
    let ports: Vec<(Protocol, i32)> = p.host_ports.iter().map(|h| (h.protocol, h.port)).collect();
    assert_eq!(ports, vec![(Protocol::Tcp, 8080), (Protocol::Udp, 53)]);
}

#[test]
fn toleration_comparison_operators_never_match() {
    // upstream: Lt/Gt toleration operators are behind the alpha gate TaintTolerationComparisonOperators.
    let p = pod(spec(json!({"containers": [], "tolerations": [
        {"key": "k", "operator": "Gt", "value": "1"},
        {"operator": "Exists"},
        {"key": "k", "value": "v", "effect": "NoSchedule"}
    ]})));
    let ops: Vec<TolerationOperator> = p.tolerations.iter().map(|t| t.operator).collect();
    assert_eq!(
        ops,
        vec![
            TolerationOperator::Never,
            TolerationOperator::Exists,
            TolerationOperator::Equal
        ]
    );
}

#[test]
fn selector_terms_compile_leniently_as_upstream() {
    // upstream: nodeaffinity.NewNodeSelector drops empty terms; a term with a bad requirement
    // never matches but other terms still can.
    let p = pod(spec(
        json!({"containers": [], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [
            {},
            {"matchExpressions": []},
            {"matchExpressions": [{"key": "n", "operator": "Gt", "values": ["x"]}]},
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a", "b"]}]}
        ]}}}}),
    ));
    let sel = p.required_affinity.unwrap();
    assert_eq!(sel.terms.len(), 3, "two empty terms dropped");
    assert!(
        sel.terms[0].invalid.is_some(),
        "Gt with a non-integer value"
    );
    assert!(sel.terms[1].invalid.is_none());
    assert!(
        sel.terms[2].invalid.is_some(),
        "matchFields needs exactly one value"
    );
}

#[test]
fn constraints_needing_unbuilt_plugins_are_recorded() {
    let p = pod(spec(json!({
        "containers": [],
        // PodTopologySpread is built: a spread constraint is no longer recorded as unsupported.
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}],
        "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}],
        "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "d"}}, {"name": "e", "emptyDir": {}}]
    })));
    let plugins: Vec<&str> = p.unsupported.iter().map(|u| u.plugin).collect();
    assert_eq!(plugins, vec!["VolumeBinding", "DynamicResources"]);
}

#[test]
fn bad_quantity_names_pod_and_field() {
    let mut i = Interner::new();
    let p: Pod =
        serde_json::from_value(spec(json!({"containers": [c("a", json!({"cpu": "two"}))]})))
            .unwrap();
    let e = pod_info(&p, &mut i).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("Pod ns/p: spec.containers[0].resources.requests.cpu: "),
        "{msg}"
    );
    assert!(msg.contains("\"two\""), "{msg}");
}

#[test]
fn required_anti_affinity_terms_select_pods_as_upstream() {
    // upstream: no namespaces and no namespaceSelector means the owning pod's namespace; an
    // empty namespaceSelector means all; a term without labelSelector selects nothing.
    let mut i = Interner::new();
    let owner = pod_with(
        &mut i,
        json!({"metadata": {"name": "o", "namespace": "data"}, "spec": {"containers": [], "affinity": {
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "zone", "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]}},
            {"topologyKey": "zone", "namespaceSelector": {}, "labelSelector": {"matchLabels": {"tier": "cache"}}},
            {"topologyKey": "zone"}
        ]}}}}),
    );
    let terms = &owner.pod_affinity.required_anti_affinity;
    assert_eq!(terms.len(), 3);
    let candidate = |i: &mut Interner, ns: &str, labels: Value| {
        pod_with(
            i,
            json!({"metadata": {"name": "c", "namespace": ns, "labels": labels}, "spec": {"containers": []}}),
        )
    };
    let db_same_ns = candidate(&mut i, "data", json!({"app": "db"}));
    let db_other_ns = candidate(&mut i, "web", json!({"app": "db"}));
    let cache_other_ns = candidate(&mut i, "web", json!({"tier": "cache"}));
    assert!(terms[0].matches(&db_same_ns, None, &i));
    assert!(
        !terms[0].matches(&db_other_ns, None, &i),
        "own namespace only"
    );
    assert!(
        terms[1].matches(&cache_other_ns, None, &i),
        "empty namespaceSelector: all namespaces"
    );
    assert!(
        !terms[2].matches(&db_same_ns, None, &i),
        "no labelSelector selects nothing"
    );
}

#[test]
fn spread_constraints_default_and_merge_match_label_keys() {
    use sched_core::model::{InclusionPolicy, LabelRequirement, WhenUnsatisfiable};
    // upstream: minDomains 1, nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore when unset; the
    // API server merges matchLabelKeys into the selector (keys the pod lacks are ignored, a nil
    // selector stays nil).
    let mut i = Interner::new();
    let p = pod_with(
        &mut i,
        json!({"metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web", "pod-template-hash": "abc"}},
               "spec": {"containers": [], "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": {"app": "web"}}, "matchLabelKeys": ["pod-template-hash", "missing"]},
            {"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
             "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor", "matchLabelKeys": ["app"]}
        ]}}),
    );
    let c = &p.topology_spread;
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].when_unsatisfiable, WhenUnsatisfiable::DoNotSchedule);
    assert_eq!(
        (
            c[0].min_domains,
            c[0].node_affinity_policy,
            c[0].node_taints_policy
        ),
        (1, InclusionPolicy::Honor, InclusionPolicy::Ignore)
    );
    let reqs = &c[0].selector.as_ref().unwrap().requirements;
    assert_eq!(reqs.len(), 2);
    assert!(matches!(&reqs[1], LabelRequirement::In { key, values }
        if i.resolve(*key) == "pod-template-hash" && i.resolve(values[0]) == "abc"));
    assert_eq!(
        (c[1].node_affinity_policy, c[1].node_taints_policy),
        (InclusionPolicy::Ignore, InclusionPolicy::Honor)
    );
    assert!(
        c[1].selector.is_none(),
        "no labelSelector: matchLabelKeys do not create one"
    );
}

#[test]
fn invalid_spread_and_affinity_fields_name_the_field() {
    let cases = [
        (
            json!({"topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}),
            "spec.topologySpreadConstraints[0].maxSkew",
        ),
        (
            json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Sometimes"}]}),
            "spec.topologySpreadConstraints[0].whenUnsatisfiable",
        ),
        (
            json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "minDomains": 2}]}),
            "spec.topologySpreadConstraints[0].minDomains",
        ),
        (
            json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "nodeTaintsPolicy": "Maybe"}]}),
            "spec.topologySpreadConstraints[0].nodeTaintsPolicy",
        ),
        (
            json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": ""}]}}}),
            "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
        ),
        (
            json!({"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 0, "podAffinityTerm": {"topologyKey": "zone"}}]}}}),
            "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
        ),
    ];
    for (spec, field) in cases {
        let mut s = spec.clone();
        s["containers"] = json!([]);
        let p: Pod = serde_json::from_value(
            json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": s}),
        )
        .unwrap();
        let e = pod_info(&p, &mut Interner::new()).unwrap_err();
        assert_eq!(e.field, field, "{spec}");
    }
}

#[test]
fn affinity_terms_merge_match_and_mismatch_label_keys() {
    use sched_core::model::LabelRequirement;
    let mut i = Interner::new();
    let p = pod_with(
        &mut i,
        json!({"metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web", "tenant": "t1"}},
               "spec": {"containers": [], "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "web"}},
             "matchLabelKeys": ["tenant"], "mismatchLabelKeys": ["app"]}]}}}}),
    );
    let t = &p.pod_affinity.required_affinity[0];
    let reqs = &t.selector.as_ref().unwrap().requirements;
    assert_eq!(reqs.len(), 3);
    assert!(matches!(&reqs[1], LabelRequirement::In { key, .. } if i.resolve(*key) == "tenant"));
    assert!(matches!(&reqs[2], LabelRequirement::NotIn { key, .. } if i.resolve(*key) == "app"));
    assert_eq!(i.resolve(t.topology_key), "zone");
    assert_eq!(t.namespaces.len(), 1, "own namespace by default");
}

#[test]
fn node_allocatable_defaults_to_capacity_when_absent() {
    // upstream pkg/apis/core/v1/defaults.go SetDefaults_NodeStatus: a nil allocatable is a copy
    // of capacity (what scheduler_perf's node template relies on); a present one is kept, even
    // an empty one.
    let node = |status: Value| {
        let n: Node =
            serde_json::from_value(json!({"metadata": {"name": "n"}, "status": status})).unwrap();
        node_info(&n, &mut Interner::new()).unwrap().allocatable
    };
    let only_capacity = node(json!({"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}));
    assert_eq!(
        (
            only_capacity.milli_cpu,
            only_capacity.memory,
            only_capacity.pods
        ),
        (4000, 8 << 30, 110)
    );
    let both = node(json!({"capacity": {"cpu": "4"}, "allocatable": {"cpu": "3500m"}}));
    assert_eq!(both.milli_cpu, 3500);
    let empty = node(json!({"capacity": {"cpu": "4"}, "allocatable": {}}));
    assert_eq!(empty.milli_cpu, 0);
    // A bad capacity quantity names the field it came from.
    let n: Node = serde_json::from_value(
        json!({"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "four"}}}),
    )
    .unwrap();
    let e = node_info(&n, &mut Interner::new()).unwrap_err().to_string();
    assert!(e.contains("status.capacity"), "{e}");
}

#[test]
fn negative_quantities_are_invalid_with_the_field() {
    // upstream validation (ValidateResourceQuantityValue): "must be greater than or equal to 0",
    // for pod requests and node allocatable alike; "-0" is zero.
    let p: Pod = serde_json::from_value(spec(json!({
        "containers": [c("a", json!({"cpu": "1"})), c("b", json!({"cpu": "-2"}))]
    })))
    .unwrap();
    let e = pod_info(&p, &mut Interner::new()).unwrap_err().to_string();
    assert!(
        e.contains("spec.containers[1].resources.requests.cpu")
            && e.contains("must be greater than or equal to 0"),
        "{e}"
    );
    let n: Node = serde_json::from_value(
        json!({"metadata": {"name": "n"}, "status": {"allocatable": {"memory": "-1Mi"}}}),
    )
    .unwrap();
    let e = node_info(&n, &mut Interner::new()).unwrap_err().to_string();
    assert!(e.contains("status.allocatable.memory"), "{e}");
    let zero = pod(spec(json!({"containers": [c("a", json!({"cpu": "-0"}))]})));
    assert_eq!(zero.requests.milli_cpu, 0);
}
