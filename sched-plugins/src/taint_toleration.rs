//! TaintToleration: a node's `NoSchedule`/`NoExecute` taints must be tolerated (Filter);
//! fewer untolerated `PreferNoSchedule` taints score higher (PreScore, Score, NormalizeScore).
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go`
//! (1.35: the generic Filter reason of kubernetes PR #134740) and
//! `pkg/scheduler/framework/plugins/helper/normalize_score.go`. Toleration matching is
//! [`Toleration::tolerates`] (upstream `Toleration.ToleratesTaint`; the alpha comparison
//! operators are off, so `Lt`/`Gt` tolerations never match).

use crate::helper::normalize_to_max;
use sched_core::config::ProfileConfig;
use sched_core::framework::{
    ClusterChange, ClusterView, CycleState, FilterPlugin, FilterResult, NodeMask, Plugin,
    PreScoreOutcome, PreScorePlugin, QueueingHint, Rejection, ScorePlugin, mask_where,
};
use sched_core::intern::Interner;
use sched_core::model::{PodInfo, Taint, TaintEffect, Toleration};
use sched_core::state::{NodeId, NodeState};
use smallvec::SmallVec;
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "TaintToleration";

/// upstream: the Filter reason since 1.35 (`node(s) had untolerated taint(s)`), code
/// `UnschedulableAndUnresolvable`.
pub const ERR_REASON_UNTOLERATED: &str = "node(s) had untolerated taint(s)";

/// upstream `TaintToleration`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaintToleration;

impl TaintToleration {
    /// Builds the plugin (upstream `New`; the plugin has no arguments).
    ///
    /// # Errors
    /// Never.
    pub fn factory(
        _cfg: &ProfileConfig,
        _interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(TaintToleration))
    }
}

/// PreScore state: the pod's tolerations whose effect is `PreferNoSchedule` or empty
/// (upstream `preScoreState.tolerationsPreferNoSchedule`).
#[derive(Debug, Clone, Default)]
struct PreScoreState {
    /// The kept tolerations, in pod order.
    tolerations: SmallVec<[Toleration; 4]>,
}

/// upstream `getAllTolerationPreferNoSchedule`: an empty effect matches every effect, so it is kept.
fn is_prefer_no_schedule_toleration(t: &Toleration) -> bool {
    matches!(t.effect, None | Some(TaintEffect::PreferNoSchedule))
}

/// The tolerations that matter to `PreferNoSchedule` taints: PreScore's, or picked from the pod
/// when PreScore did not run (upstream fails the cycle then; this gives the score PreScore
/// would have enabled).
fn prefer_tolerations(cycle: &CycleState, pod: &PodInfo) -> SmallVec<[Toleration; 4]> {
    match cycle.read::<PreScoreState>() {
        Some(s) => s.tolerations.clone(),
        None => pod
            .tolerations
            .iter()
            .filter(|t| is_prefer_no_schedule_toleration(t))
            .copied()
            .collect(),
    }
}

/// upstream `countIntolerableTaintsPreferNoSchedule`.
fn count_intolerable_prefer_no_schedule(taints: &[Taint], tolerations: &[Toleration]) -> i64 {
    let mut count = 0;
    for taint in taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
    {
        if !tolerations.iter().any(|t| t.tolerates(taint)) {
            count += 1;
        }
    }
    count
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister`: `{Node, Add|UpdateNodeTaint}`, `{Pod, UpdatePodToleration}`
    /// of the pod itself.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::NODE_ADD | C::NODE_TAINT | C::UNSCHEDULED_POD_UPDATE
    }
    /// upstream `isSchedulableAfterNodeChange`: Queue only when the pod did not tolerate the
    /// node's `NoSchedule`/`NoExecute` taints before (a node added counts as not tolerated)
    /// and tolerates them now.
    fn queueing_hint(
        &self,
        pod: &PodInfo,
        change: &ClusterChange,
        _interner: &Interner,
    ) -> QueueingHint {
        let Some((old, new)) = change.node() else {
            return QueueingHint::Queue;
        };
        let was_untolerated = old.is_none_or(|old| has_untolerated_hard_taint(pod, &old.taints));
        QueueingHint::from(was_untolerated && !has_untolerated_hard_taint(pod, &new.taints))
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for TaintToleration {
    /// upstream `Filter`: the first `NoSchedule`/`NoExecute` taint (node order) that no
    /// toleration tolerates rejects the node.
    fn filter(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> FilterResult {
        if has_untolerated_hard_taint(pod, &node.info.taints) {
            return Err(Rejection::unresolvable(ERR_REASON_UNTOLERATED));
        }
        Ok(())
    }

    /// As `filter` per node, without building rejections.
    fn filter_nodes(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        // Most nodes have no NoSchedule/NoExecute taint, which the node's summary tells
        // without a look at the taints; a pod without tolerations is rejected by any.
        let no_tolerations = pod.tolerations.is_empty();
        mask_where(nodes, live, |id| {
            !view.state.summary(id).has_hard_taints()
                || (!no_tolerations
                    && !has_untolerated_hard_taint(pod, &view.state.node(id).info.taints))
        })
    }
}

/// Whether some `NoSchedule`/`NoExecute` taint is tolerated by none of the pod's tolerations.
#[inline]
fn has_untolerated_hard_taint(pod: &PodInfo, taints: &[Taint]) -> bool {
    taints
        .iter()
        .filter(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
        .any(|taint| !pod.tolerations.iter().any(|t| t.tolerates(taint)))
}

impl PreScorePlugin for TaintToleration {
    /// upstream `PreScore`: keeps the tolerations that can matter to `PreferNoSchedule` taints.
    /// Never skips.
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[NodeId],
        _view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        let tolerations = pod
            .tolerations
            .iter()
            .filter(|t| is_prefer_no_schedule_toleration(t))
            .copied()
            .collect();
        cycle.write(PreScoreState { tolerations });
        Ok(PreScoreOutcome::Proceed)
    }
}

impl ScorePlugin for TaintToleration {
    /// upstream `Score`: the number of the node's `PreferNoSchedule` taints not tolerated.
    fn score(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> i64 {
        count_intolerable_prefer_no_schedule(&node.info.taints, &prefer_tolerations(cycle, pod))
    }

    /// As `score` per node, with the tolerations picked once.
    fn score_nodes(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        let tolerations = prefer_tolerations(cycle, pod);
        for (o, &id) in out.iter_mut().zip(nodes) {
            *o = if view.state.summary(id).has_prefer_no_schedule_taints() {
                count_intolerable_prefer_no_schedule(&view.state.node(id).info.taints, &tolerations)
            } else {
                0
            };
        }
    }

    fn has_normalize(&self) -> bool {
        true
    }

    /// upstream `NormalizeScore`: `DefaultNormalizeScore(MaxNodeScore, reverse=true)`.
    fn normalize(&self, _cycle: &CycleState, _pod: &PodInfo, scores: &mut [i64]) {
        normalize_to_max(true, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestCluster, cycle};
    use sched_core::framework::Code;
    use serde_json::{Value, json};

    fn node_with_taints(name: &str, taints: Value) -> Value {
        json!({"metadata": {"name": name}, "spec": {"taints": taints}})
    }

    fn pod_with_tolerations(tolerations: Value) -> Value {
        json!({
            "metadata": {"name": "pod1", "namespace": "default"},
            "spec": {"containers": [{"name": "c"}], "tolerations": tolerations}
        })
    }

    fn run_filter(tolerations: Value, taints: Value) -> FilterResult {
        let mut c = TestCluster::new();
        let id = c.node(node_with_taints("nodeA", taints));
        let pod = c.pod(pod_with_tolerations(tolerations));
        TaintToleration.filter(&cycle(), &pod, c.node_state(id), c.view())
    }

    #[test]
    fn filter_table() {
        let untolerated = Err(Rejection::unresolvable(ERR_REASON_UNTOLERATED));
        let cases: Vec<(&str, Value, Value, FilterResult)> = vec![
            // upstream: taint_toleration_test.go TestTaintTolerationFilter "A pod having no tolerations can't be scheduled onto a node with nonempty taints"
            (
                "no tolerations, NoSchedule taint",
                json!([]),
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                untolerated.clone(),
            ),
            // upstream: TestTaintTolerationFilter "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule"
            (
                "equal toleration with empty operator",
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                Ok(()),
            ),
            // upstream: TestTaintTolerationFilter "A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule"
            (
                "equal toleration, other value",
                json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}]),
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                untolerated.clone(),
            ),
            // upstream: TestTaintTolerationFilter "A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node"
            (
                "exists toleration",
                json!([{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}]),
                json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
                Ok(()),
            ),
            // upstream: TestTaintTolerationFilter "A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled onto the node"
            (
                "all of several taints tolerated",
                json!([
                    {"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},
                    {"key": "foo", "operator": "Exists", "effect": "NoSchedule"}
                ]),
                json!([
                    {"key": "dedicated", "value": "user2", "effect": "NoSchedule"},
                    {"key": "foo", "value": "bar", "effect": "NoSchedule"}
                ]),
                Ok(()),
            ),
            // upstream: TestTaintTolerationFilter "A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, can't be scheduled onto the node"
            (
                "effect mismatch",
                json!([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}]),
                json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
                untolerated.clone(),
            ),
            // upstream: TestTaintTolerationFilter "The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled onto the node"
            (
                "empty toleration effect matches every effect",
                json!([{"key": "foo", "operator": "Equal", "value": "bar"}]),
                json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
                Ok(()),
            ),
            // upstream: TestTaintTolerationFilter "The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node"
            (
                "PreferNoSchedule taint never filters (mismatching toleration)",
                json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}]),
                json!([{"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}]),
                Ok(()),
            ),
            // upstream: TestTaintTolerationFilter "The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node"
            (
                "PreferNoSchedule taint never filters (no toleration)",
                json!([]),
                json!([{"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}]),
                Ok(()),
            ),
            // no upstream row: §7 NoExecute taints filter like NoSchedule (DoNotScheduleTaintsFilterFunc).
            (
                "NoExecute taint untolerated",
                json!([]),
                json!([{"key": "k", "value": "v", "effect": "NoExecute"}]),
                untolerated.clone(),
            ),
            // no upstream row: an empty key with Exists tolerates every taint (ToleratesTaint).
            (
                "empty key Exists tolerates everything",
                json!([{"operator": "Exists"}]),
                json!([
                    {"key": "a", "value": "1", "effect": "NoSchedule"},
                    {"key": "b", "effect": "NoExecute"}
                ]),
                Ok(()),
            ),
            // no upstream row: the second taint is the untolerated one; the reason is generic.
            (
                "second taint untolerated",
                json!([{"key": "a", "operator": "Exists"}]),
                json!([
                    {"key": "a", "value": "1", "effect": "NoSchedule"},
                    {"key": "b", "value": "2", "effect": "NoSchedule"}
                ]),
                untolerated.clone(),
            ),
            // no upstream row: Lt/Gt operators are behind an alpha gate (off): they never match.
            (
                "Gt toleration never matches",
                json!([{"key": "a", "operator": "Gt", "value": "1", "effect": "NoSchedule"}]),
                json!([{"key": "a", "value": "5", "effect": "NoSchedule"}]),
                untolerated.clone(),
            ),
        ];
        for (name, tolerations, taints, want) in cases {
            let got = run_filter(tolerations, taints);
            assert_eq!(got, want, "{name}");
            if let Err(r) = got {
                assert_eq!(r.code, Code::UnschedulableAndUnresolvable, "{name}");
            }
        }
    }

    /// Runs PreScore (when asked), Score on every node, then NormalizeScore.
    fn run_scores(tolerations: Value, nodes: &[(&str, Value)], pre_score: bool) -> Vec<i64> {
        let mut c = TestCluster::new();
        let ids: Vec<_> = nodes
            .iter()
            .map(|(n, t)| c.node(node_with_taints(n, t.clone())))
            .collect();
        let pod = c.pod(pod_with_tolerations(tolerations));
        let mut state = cycle();
        if pre_score {
            let out = TaintToleration.pre_score(&mut state, &pod, &ids, c.view());
            assert_eq!(out, Ok(PreScoreOutcome::Proceed));
        }
        let mut scores: Vec<i64> = ids
            .iter()
            .map(|&id| TaintToleration.score(&state, &pod, c.node_state(id), c.view()))
            .collect();
        TaintToleration.normalize(&state, &pod, &mut scores);
        scores
    }

    /// Node names with their taints.
    type Nodes = Vec<(&'static str, Value)>;

    #[test]
    fn score_table() {
        let pns = |k: &str, v: &str| json!({"key": k, "value": v, "effect": "PreferNoSchedule"});
        let cases: Vec<(&str, Value, Nodes, Vec<i64>)> = vec![
            // upstream: taint_toleration_test.go TestTaintTolerationScore "node with taints tolerated by the pod, gets a higher score than those node with intolerable taints"
            (
                "tolerated beats intolerable",
                json!([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}]),
                vec![
                    ("nodeA", json!([pns("foo", "bar")])),
                    ("nodeB", json!([pns("foo", "blah")])),
                ],
                vec![100, 0],
            ),
            // upstream: TestTaintTolerationScore "the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has"
            (
                "count of tolerated taints does not matter",
                json!([
                    {"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "PreferNoSchedule"},
                    {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "PreferNoSchedule"}
                ]),
                vec![
                    ("nodeA", json!([])),
                    ("nodeB", json!([pns("cpu-type", "arm64")])),
                    (
                        "nodeC",
                        json!([pns("cpu-type", "arm64"), pns("disk-type", "ssd")]),
                    ),
                ],
                vec![100, 100, 100],
            ),
            // upstream: TestTaintTolerationScore "the more intolerable taints a node has, the lower score it gets."
            (
                "more intolerable taints, lower score",
                json!([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}]),
                vec![
                    ("nodeA", json!([])),
                    ("nodeB", json!([pns("cpu-type", "arm64")])),
                    (
                        "nodeC",
                        json!([pns("cpu-type", "arm64"), pns("disk-type", "ssd")]),
                    ),
                ],
                vec![100, 50, 0],
            ),
            // upstream: TestTaintTolerationScore "only taints and tolerations that have effect PreferNoSchedule are checked by taints-tolerations priority function"
            (
                "only PreferNoSchedule counts",
                json!([
                    {"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
                    {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "NoSchedule"}
                ]),
                vec![
                    ("nodeA", json!([])),
                    (
                        "nodeB",
                        json!([{"key": "cpu-type", "value": "arm64", "effect": "NoSchedule"}]),
                    ),
                    (
                        "nodeC",
                        json!([pns("cpu-type", "arm64"), pns("disk-type", "ssd")]),
                    ),
                ],
                vec![100, 100, 0],
            ),
            // upstream: TestTaintTolerationScore "Default behaviour No taints and tolerations, lands on node with no taints"
            (
                "no tolerations",
                json!([]),
                vec![
                    ("nodeA", json!([])),
                    ("nodeB", json!([pns("cpu-type", "arm64")])),
                ],
                vec![100, 0],
            ),
            // no upstream row: an effect-less toleration is kept by PreScore and tolerates PreferNoSchedule.
            (
                "empty-effect toleration counts for scoring",
                json!([{"key": "cpu-type", "operator": "Exists"}]),
                vec![
                    ("nodeA", json!([pns("cpu-type", "arm64")])),
                    ("nodeB", json!([pns("other", "x")])),
                ],
                vec![100, 0],
            ),
        ];
        for (name, tolerations, nodes, want) in cases {
            assert_eq!(
                run_scores(tolerations.clone(), &nodes, true),
                want,
                "{name}"
            );
            // Without PreScore the same subset of tolerations is used.
            assert_eq!(
                run_scores(tolerations, &nodes, false),
                want,
                "{name} (no PreScore)"
            );
        }
    }

    #[test]
    fn factory_builds_named_plugin() {
        let cfg = ProfileConfig {
            scheduler_name: "default-scheduler".into(),
            percentage_of_nodes_to_score: None,
            points: Default::default(),
            args: Default::default(),
        };
        let p = TaintToleration::factory(&cfg, &mut Interner::new()).expect("factory");
        assert_eq!(p.name(), "TaintToleration");
        assert!(p.as_filter().is_some() && p.as_pre_score().is_some() && p.as_score().is_some());
        assert!(p.as_pre_filter().is_none());
    }
}
