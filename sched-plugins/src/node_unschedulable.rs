//! NodeUnschedulable: a node with `spec.unschedulable: true` is filtered out unless the pod
//! tolerates the synthetic taint `node.kubernetes.io/unschedulable:NoSchedule`.
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go`
//! (`Filter`, `ErrReasonUnschedulable`).

use sched_core::config::ProfileConfig;
use sched_core::framework::{
    ClusterChange, ClusterView, CycleState, FilterPlugin, FilterResult, NodeMask, Plugin,
    QueueingHint, Rejection, mask_where,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{PodInfo, Taint, TaintEffect};
use sched_core::state::{NodeId, NodeState};
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "NodeUnschedulable";

/// upstream `ErrReasonUnschedulable` (code `UnschedulableAndUnresolvable`).
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";

/// upstream `v1.TaintNodeUnschedulable`: the key of the taint a pod tolerates to land on a
/// cordoned node.
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// upstream `NodeUnschedulable`.
#[derive(Debug, Clone, Copy)]
pub struct NodeUnschedulable {
    /// `{key: node.kubernetes.io/unschedulable, value: "", effect: NoSchedule}`, interned with
    /// the cluster state's interner.
    taint: Taint,
}

impl NodeUnschedulable {
    /// Builds the plugin, interning the synthetic taint's key with the state's interner.
    ///
    /// # Errors
    /// Never.
    pub fn factory(
        _cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(NodeUnschedulable {
            taint: Taint {
                key: interner.intern(TAINT_NODE_UNSCHEDULABLE),
                value: Sym::EMPTY,
                effect: TaintEffect::NoSchedule,
            },
        }))
    }
}

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister`: `{Node, Add|UpdateNodeTaint}` (`spec.unschedulable` is a
    /// taint change), `{Pod, UpdatePodToleration}` of the pod itself.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::NODE_ADD | C::NODE_TAINT | C::UNSCHEDULED_POD_UPDATE
    }
    /// upstream `isSchedulableAfterNodeChange`: Queue when a node turns from unschedulable to
    /// schedulable, or a schedulable node is added.
    fn queueing_hint(
        &self,
        _pod: &PodInfo,
        change: &ClusterChange,
        _interner: &Interner,
    ) -> QueueingHint {
        let Some((old, new)) = change.node() else {
            return QueueingHint::Queue;
        };
        QueueingHint::from(!new.unschedulable && old.is_none_or(|old| old.unschedulable))
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeUnschedulable {
    /// upstream `Filter`.
    fn filter(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> FilterResult {
        if node.info.unschedulable && !self.tolerated(pod) {
            return Err(Rejection::unresolvable(ERR_REASON_UNSCHEDULABLE));
        }
        Ok(())
    }

    /// As `filter` per node, with the toleration looked up once.
    fn filter_nodes(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        if self.tolerated(pod) {
            return live;
        }
        mask_where(nodes, live, |id| !view.state.summary(id).unschedulable())
    }
}

impl NodeUnschedulable {
    /// Whether the pod tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint.
    fn tolerated(&self, pod: &PodInfo) -> bool {
        pod.tolerations.iter().any(|t| t.tolerates(&self.taint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestCluster, cycle};
    use serde_json::{Value, json};

    fn profile() -> ProfileConfig {
        ProfileConfig {
            scheduler_name: "default-scheduler".into(),
            percentage_of_nodes_to_score: None,
            points: Default::default(),
            args: Default::default(),
        }
    }

    #[test]
    fn filter_table() {
        let rejected = Err(Rejection::unresolvable(ERR_REASON_UNSCHEDULABLE));
        let cases: Vec<(&str, bool, Value, FilterResult)> = vec![
            // upstream: node_unschedulable_test.go TestNodeUnschedulable "Does not schedule pod to unschedulable node (node.Spec.Unschedulable==true)"
            (
                "unschedulable node, no toleration",
                true,
                json!([]),
                rejected.clone(),
            ),
            // upstream: TestNodeUnschedulable "Schedule pod to normal node"
            ("schedulable node", false, json!([]), Ok(())),
            // upstream: TestNodeUnschedulable "Schedule pod with toleration to unschedulable node (node.Spec.Unschedulable==true)"
            (
                "equal toleration with empty value",
                true,
                json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
                Ok(()),
            ),
            // no upstream row: Exists on the key tolerates it.
            (
                "exists toleration",
                true,
                json!([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]),
                Ok(()),
            ),
            // no upstream row: key-less Exists tolerates every taint.
            (
                "key-less exists",
                true,
                json!([{"operator": "Exists"}]),
                Ok(()),
            ),
            // no upstream row: a non-empty value does not match the synthetic taint's empty value.
            (
                "equal toleration with a value",
                true,
                json!([{"key": "node.kubernetes.io/unschedulable", "value": "true", "effect": "NoSchedule"}]),
                rejected.clone(),
            ),
            // no upstream row: the synthetic taint's effect is NoSchedule.
            (
                "toleration for NoExecute only",
                true,
                json!([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoExecute"}]),
                rejected.clone(),
            ),
        ];
        for (name, unschedulable, tolerations, want) in cases {
            let mut c = TestCluster::new();
            let plugin =
                NodeUnschedulable::factory(&profile(), c.state.interner_mut()).expect("factory");
            let id = c.node(
                json!({"metadata": {"name": "n1"}, "spec": {"unschedulable": unschedulable}}),
            );
            let pod = c.pod(json!({
                "metadata": {"name": "p", "namespace": "default"},
                "spec": {"containers": [{"name": "c"}], "tolerations": tolerations}
            }));
            let f = plugin.as_filter().expect("filter");
            assert_eq!(
                f.filter(&cycle(), &pod, c.node_state(id), c.view()),
                want,
                "{name}"
            );
        }
    }
}
