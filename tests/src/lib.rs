//! Harness for cross-crate integration tests: build a cluster from JSON objects and a
//! scheduler from a `KubeSchedulerConfiguration`, through public APIs only.

use k8s_openapi::api::core::v1::{Node, Pod};
use sched_core::config::SchedulerConfig;
use sched_core::model::PodInfo;
use sched_core::state::ClusterState;
use sched_core::{Scheduler, scheduler::Evaluation};
use serde_json::{Value, json};

/// A cluster plus a scheduler built against its interner.
pub struct Harness {
    /// The cluster.
    pub state: ClusterState,
    /// The scheduler.
    pub scheduler: Scheduler,
}

impl Harness {
    /// Nodes and running pods from JSON; the default profile unless `config_yaml` is given.
    ///
    /// # Panics
    /// On invalid test input.
    #[must_use]
    pub fn new(nodes: &[Value], running: &[Value], config_yaml: Option<&str>, seed: u64) -> Self {
        let mut state = ClusterState::new();
        for n in nodes {
            let n: Node = serde_json::from_value(n.clone()).expect("node JSON");
            let info = state.convert_node(&n).expect("node converts");
            state.add_node(info).expect("node added");
        }
        for p in running {
            let p: Pod = serde_json::from_value(p.clone()).expect("pod JSON");
            let info = state.convert_pod(&p).expect("pod converts");
            state.add_pod(info).expect("pod added");
        }
        let config = match config_yaml {
            Some(y) => SchedulerConfig::from_yaml(y).expect("config"),
            None => SchedulerConfig::default_config(),
        };
        let scheduler = sched_plugins::scheduler_from_config(&config, state.interner_mut(), seed)
            .expect("profiles");
        Harness { state, scheduler }
    }

    /// Converts a pod against this cluster.
    ///
    /// # Panics
    /// On invalid test input.
    pub fn pod(&mut self, v: Value) -> PodInfo {
        let p: Pod = serde_json::from_value(v).expect("pod JSON");
        self.state.convert_pod(&p).expect("pod converts")
    }

    /// `schedule` and render the outcome as the node name or the error message.
    pub fn place(&mut self, v: Value) -> Result<String, String> {
        let pod = self.pod(v);
        self.scheduler
            .schedule(&pod, &self.state)
            .map(|p| p.node_name.to_string())
            .map_err(|e| e.to_string())
    }

    /// `explain` a pod.
    pub fn explain(&mut self, v: Value) -> Evaluation {
        let pod = self.pod(v);
        self.scheduler.explain(&pod, &self.state)
    }
}

/// A node with allocatable cpu/memory/pods and optional labels and taints.
#[must_use]
pub fn node(name: &str, cpu: &str, memory: &str, labels: Value, taints: Value) -> Value {
    json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"taints": taints},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}}
    })
}

/// A pod with one container requesting cpu and memory.
#[must_use]
pub fn pod(name: &str, cpu: &str, memory: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}
    })
}

/// `pod` bound to `node` with a priority.
#[must_use]
pub fn running(name: &str, node: &str, cpu: &str, memory: &str, priority: i32) -> Value {
    let mut p = pod(name, cpu, memory);
    p["spec"]["nodeName"] = json!(node);
    p["spec"]["priority"] = json!(priority);
    p
}
