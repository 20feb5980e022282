//! Test support: build nodes and pods from JSON the way a cluster snapshot would give them.

use k8s_openapi::api::core::v1::{Node, Pod};
use sched_core::framework::{ClusterView, CycleState};
use sched_core::model::PodInfo;
use sched_core::state::{ClusterState, NodeId, NodeState};
use serde_json::{Value, json};

/// A small cluster for plugin table tests.
#[derive(Default)]
pub struct TestCluster {
    /// The state.
    pub state: ClusterState,
}

impl TestCluster {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node from its JSON form.
    pub fn node(&mut self, v: Value) -> NodeId {
        let node: Node = serde_json::from_value(v).expect("node JSON");
        let info = self.state.convert_node(&node).expect("node converts");
        self.state.add_node(info).expect("node added")
    }

    /// Converts a pod from its JSON form (not added).
    pub fn pod(&mut self, v: Value) -> PodInfo {
        let pod: Pod = serde_json::from_value(v).expect("pod JSON");
        self.state.convert_pod(&pod).expect("pod converts")
    }

    /// Adds a pod bound to `node` (its JSON may omit `spec.nodeName`).
    pub fn running(&mut self, mut v: Value, node: &str) {
        v["spec"]["nodeName"] = json!(node);
        let info = self.pod(v);
        self.state.add_pod(info).expect("pod added");
    }

    pub fn node_state(&self, id: NodeId) -> &NodeState {
        self.state.node(id)
    }

    pub fn view(&self) -> ClusterView<'_> {
        ClusterView { state: &self.state }
    }
}

/// A node JSON with allocatable cpu, memory and pods.
pub fn node_json(name: &str, cpu: &str, memory: &str, pods: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}}
    })
}

/// A pod JSON with one container requesting cpu and memory (`None` leaves the request unset).
pub fn pod_json(name: &str, cpu: Option<&str>, memory: Option<&str>) -> Value {
    let mut requests = serde_json::Map::new();
    if let Some(c) = cpu {
        requests.insert("cpu".into(), json!(c));
    }
    if let Some(m) = memory {
        requests.insert("memory".into(), json!(m));
    }
    json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]}
    })
}

/// A fresh cycle state.
pub fn cycle() -> CycleState {
    CycleState::new()
}
