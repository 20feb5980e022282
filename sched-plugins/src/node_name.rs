//! NodeName: a pod with `spec.nodeName` fits only the node of that name.
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/nodename/node_name.go` (`Fits`,
//! `ErrReason`).

use sched_core::config::ProfileConfig;
use sched_core::framework::{
    ClusterChange, ClusterView, CycleState, FilterPlugin, FilterResult, NodeMask, Plugin,
    QueueingHint, Rejection, mask_where,
};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use sched_core::state::{NodeId, NodeState};
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "NodeName";

/// upstream `ErrReason` (code `UnschedulableAndUnresolvable`).
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// upstream `NodeName`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeName;

impl NodeName {
    /// Builds the plugin (no arguments).
    ///
    /// # Errors
    /// Never.
    pub fn factory(
        _cfg: &ProfileConfig,
        _interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(NodeName))
    }
}

/// upstream `Fits`: `spec.nodeName` is empty or names this node.
#[must_use]
pub fn fits(pod: &PodInfo, node: &NodeState) -> bool {
    pod.node_name.is_none_or(|n| n == node.info.name_sym)
}

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister` with queueing hints (always on in 1.35): `{Node, Add}` with
    /// `isSchedulableAfterNodeAdd`.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        sched_core::framework::ClusterEvents::NODE_ADD
    }
    /// upstream `isSchedulableAfterNodeAdd`: Queue when the pod names no node or names the
    /// node added.
    fn queueing_hint(
        &self,
        pod: &PodInfo,
        change: &ClusterChange,
        _interner: &Interner,
    ) -> QueueingHint {
        match change {
            ClusterChange::NodeAdded(node) if pod.node_name.is_some_and(|n| n != node.name_sym) => {
                QueueingHint::QueueSkip
            }
            _ => QueueingHint::Queue,
        }
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeName {
    /// upstream `Filter`.
    fn filter(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> FilterResult {
        if fits(pod, node) {
            Ok(())
        } else {
            Err(Rejection::unresolvable(ERR_REASON))
        }
    }

    /// As `filter` per node; a pod without `spec.nodeName` passes without a look at the nodes.
    fn filter_nodes(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        if pod.node_name.is_none() {
            return live;
        }
        mask_where(nodes, live, |id| fits(pod, view.state.node(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestCluster, cycle};
    use serde_json::json;

    #[test]
    fn filter_table() {
        let cases: Vec<(&str, Option<&str>, FilterResult)> = vec![
            // upstream: node_name_test.go TestNodeName "no host specified"
            ("no host specified", None, Ok(())),
            // upstream: TestNodeName "host matches"
            ("host matches", Some("foo"), Ok(())),
            // upstream: TestNodeName "host doesn't match"
            (
                "host doesn't match",
                Some("bar"),
                Err(Rejection::unresolvable(ERR_REASON)),
            ),
            // no upstream row: an empty spec.nodeName counts as unset.
            ("empty nodeName", Some(""), Ok(())),
        ];
        for (name, node_name, want) in cases {
            let mut c = TestCluster::new();
            let id = c.node(json!({"metadata": {"name": "foo"}}));
            let mut spec = json!({"containers": [{"name": "c"}]});
            if let Some(n) = node_name {
                spec["nodeName"] = json!(n);
            }
            let pod =
                c.pod(json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec}));
            assert_eq!(
                NodeName.filter(&cycle(), &pod, c.node_state(id), c.view()),
                want,
                "{name}"
            );
        }
    }
}
