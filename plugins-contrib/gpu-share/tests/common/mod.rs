#![allow(dead_code, missing_docs)]

use placer_gpu_share::{DEFAULT_GPU_MODEL_LABEL, DEFAULT_GPU_RESOURCE, GpuDevices, NodeGpus};
use sched_core::config::SchedulerConfig;
use sched_core::model::PodInfo;
use sched_core::state::{ClusterState, NodeId};
use serde_json::json;

pub fn node(
    name: &str,
    cpu_milli: i64,
    gpus: i64,
    model: &str,
) -> k8s_openapi::api::core::v1::Node {
    let mut alloc = json!({"cpu": format!("{cpu_milli}m"), "memory": "512Gi", "pods": "110"});
    let mut labels = json!({"kubernetes.io/hostname": name});
    if gpus > 0 {
        alloc[DEFAULT_GPU_RESOURCE] = json!((gpus * 1000).to_string());
        labels[DEFAULT_GPU_MODEL_LABEL] = json!(model);
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {"allocatable": alloc, "capacity": alloc},
    }))
    .unwrap()
}

pub fn pod(
    state: &mut ClusterState,
    name: &str,
    cpu_milli: i64,
    gpu_milli: i64,
    models: &[&str],
) -> PodInfo {
    let mut requests = json!({"cpu": format!("{cpu_milli}m"), "memory": "1Gi"});
    if gpu_milli > 0 {
        requests[DEFAULT_GPU_RESOURCE] = json!(gpu_milli.to_string());
    }
    let mut spec = json!({"containers": [{"name": "c", "resources": {"requests": requests}}]});
    if !models.is_empty() {
        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": DEFAULT_GPU_MODEL_LABEL, "operator": "In", "values": models}]}]}}});
    }
    let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }))
    .unwrap();
    state.convert_pod(&p).unwrap()
}

/// A state with `nodes` (name, cpu milli, GPUs, model) and the extension installed.
pub fn state(nodes: &[(&str, i64, i64, &str)]) -> ClusterState {
    let mut s = ClusterState::new();
    for &(n, cpu, g, m) in nodes {
        let info = s.convert_node(&node(n, cpu, g, m)).unwrap();
        s.add_node(info).unwrap();
    }
    placer_gpu_share::install(&mut s, DEFAULT_GPU_RESOURCE, DEFAULT_GPU_MODEL_LABEL);
    s
}

pub fn gpus(s: &ClusterState, name: &str) -> NodeGpus {
    let id = s.node_id(name).unwrap();
    s.extension::<GpuDevices>().unwrap().node(id).clone()
}

pub fn id(s: &ClusterState, name: &str) -> NodeId {
    s.node_id(name).unwrap()
}

/// A trimmed profile: fit, affinity, GpuShare, and `policy` scoring (with `args`).
pub fn config(policy: &str, args: &str) -> SchedulerConfig {
    let reserve = if policy == "FGD" || policy == "DotProd" {
        format!("[{{name: {policy}}}, {{name: GpuShare}}]")
    } else {
        "[{name: GpuShare}]".to_string()
    };
    let pre_score = if policy == "Random" {
        format!("    preScore: {{enabled: [{{name: {policy}}}]}}")
    } else {
        String::new()
    };
    let lines = [
        "apiVersion: kubescheduler.config.k8s.io/v1".to_string(),
        "kind: KubeSchedulerConfiguration".to_string(),
        "percentageOfNodesToScore: 100".to_string(),
        "profiles:".to_string(),
        "- schedulerName: default-scheduler".to_string(),
        "  plugins:".to_string(),
        "    multiPoint: {enabled: [{name: PrioritySort}, {name: DefaultBinder}], disabled: [{name: '*'}]}".to_string(),
        "    preFilter: {enabled: [{name: NodeResourcesFit}, {name: NodeAffinity}, {name: GpuShare}]}".to_string(),
        "    filter: {enabled: [{name: NodeResourcesFit}, {name: NodeAffinity}, {name: GpuShare}]}".to_string(),
        pre_score,
        format!("    score: {{enabled: [{{name: {policy}}}]}}"),
        format!("    reserve: {{enabled: {reserve}}}"),
        "  pluginConfig:".to_string(),
        format!("  - name: {policy}"),
        format!("    args: {args}"),
    ];
    let text = lines
        .iter()
        .filter(|l| !l.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    SchedulerConfig::from_yaml_with(&text, &registry()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

pub fn registry() -> sched_core::Registry {
    sched_plugins::registry_with(placer_gpu_share::SPECS).unwrap()
}

pub fn scheduler(s: &mut ClusterState, cfg: &SchedulerConfig) -> sched_core::Scheduler {
    sched_plugins::scheduler_with_registry(&registry(), cfg, s.interner_mut(), 7).unwrap()
}
