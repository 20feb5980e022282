//! NodeAffinity: `spec.nodeSelector` and required node affinity (PreFilter, Filter), preferred
//! node affinity (PreScore, Score, NormalizeScore), plus the profile's `addedAffinity`.
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go` and the
//! matching rules of `staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go`
//! (`GetRequiredNodeAffinity`, `LazyErrorNodeSelector.Match`, `PreferredSchedulingTerms.Score`),
//! which [`sched_core::convert`] compiles into [`NodeSelector`] / [`PreferredTerm`] once per
//! pod and which the factory compiles once for `addedAffinity`.
//!
//! * PreFilter returns Skip when the pod has no `nodeSelector`, no required affinity and the
//!   profile adds no required affinity. When every required term has `metadata.name In`
//!   field requirements it narrows the node set to the union over terms of the intersection
//!   within each term; an empty union fails the cycle with `pod affinity terms conflict`.
//! * Filter checks `addedAffinity` first (`node(s) didn't match scheduler-enforced node
//!   affinity`), then the pod's `nodeSelector` and required terms (`node(s) didn't match Pod's
//!   node affinity/selector`); a term that failed parsing never matches.
//! * Score is the sum of the weights of the matching preferred terms (the pod's and
//!   `addedAffinity`'s), normalized to 0..100 (`DefaultNormalizeScore`, not reversed).
//!
//! Known difference: upstream's narrowing reads the raw terms, where a term with neither
//! `matchExpressions` nor `matchFields` (which matches nothing) disables narrowing. The compiled
//! selector has dropped such terms, so a pod mixing an empty term with `metadata.name In` terms
//! is narrowed here: the feasible set is the same, but the other nodes are reported as
//! `node(s) didn't satisfy plugin(s) [NodeAffinity]` instead of upstream's
//! `node(s) didn't match Pod's node affinity/selector`.

use crate::helper::normalize_to_max;
use sched_core::config::ProfileConfig;
use sched_core::convert::{compile_node_selector, compile_preferred_terms};
use sched_core::framework::{
    ClusterChange, ClusterView, CycleState, FilterPlugin, FilterResult, NodeMask, Plugin,
    PreFilterOutcome, PreFilterPlugin, PreScoreOutcome, PreScorePlugin, QueueingHint, Rejection,
    ScorePlugin, mask_where,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{Labels, NodeInfo, NodeSelector, PodInfo, PreferredTerm, label_bit};
use sched_core::state::{NodeId, NodeState};
use smallvec::SmallVec;
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "NodeAffinity";

/// upstream `ErrReasonPod` (code `UnschedulableAndUnresolvable`).
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";

/// upstream `errReasonEnforced` (code `UnschedulableAndUnresolvable`).
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";

/// upstream `errReasonConflict`: the PreFilter status (code `UnschedulableAndUnresolvable`)
/// when the `metadata.name` terms leave no node.
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

/// upstream `NodeAffinity`.
#[derive(Debug, Clone, Default)]
pub struct NodeAffinity {
    /// `addedAffinity.requiredDuringSchedulingIgnoredDuringExecution`, compiled
    /// (upstream `addedNodeSelector`).
    added_required: Option<NodeSelector>,
    /// `addedAffinity.preferredDuringSchedulingIgnoredDuringExecution`, compiled; `Some` when
    /// the configured list is non-empty, even if every term was dropped for weight 0 or
    /// emptiness (upstream `addedPrefSchedTerms`).
    added_preferred: Option<Vec<PreferredTerm>>,
}

impl NodeAffinity {
    /// Builds the plugin from the profile's `NodeAffinityArgs`, compiling `addedAffinity` with
    /// the cluster state's interner (upstream `New`).
    ///
    /// # Errors
    /// A required or preferred `addedAffinity` term that fails upstream's parsing (as upstream's
    /// `New`, which uses the strict `NewNodeSelector` / `NewPreferredSchedulingTerms`).
    pub fn factory(
        cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(Self::new(cfg, interner)?))
    }

    /// The plugin itself (see [`NodeAffinity::factory`]).
    ///
    /// # Errors
    /// As [`NodeAffinity::factory`].
    pub fn new(cfg: &ProfileConfig, interner: &mut Interner) -> Result<Self, String> {
        let mut plugin = NodeAffinity::default();
        let Some(added) = cfg.args.node_affinity.added_affinity.as_ref() else {
            return Ok(plugin);
        };
        if let Some(ns) = &added.required_during_scheduling_ignored_during_execution {
            let sel = compile_node_selector(ns, interner);
            let errs: Vec<&str> = sel
                .terms
                .iter()
                .filter_map(|t| t.invalid.as_deref())
                .collect();
            if !errs.is_empty() {
                return Err(format!(
                    "parsing addedAffinity.requiredDuringSchedulingIgnoredDuringExecution: {}",
                    errs.join(", ")
                ));
            }
            plugin.added_required = Some(sel);
        }
        if let Some(terms) = added
            .preferred_during_scheduling_ignored_during_execution
            .as_ref()
            .filter(|t| !t.is_empty())
        {
            let compiled = compile_preferred_terms(terms, interner);
            let errs: Vec<&str> = compiled
                .iter()
                .filter_map(|t| t.term.invalid.as_deref())
                .collect();
            if !errs.is_empty() {
                return Err(format!(
                    "parsing addedAffinity.preferredDuringSchedulingIgnoredDuringExecution: {}",
                    errs.join(", ")
                ));
            }
            plugin.added_preferred = Some(compiled);
        }
        Ok(plugin)
    }
}

/// `spec.nodeSelector` as upstream's `labels.SelectorFromSet`: every key present with exactly
/// the given value.
fn node_selector_matches(selector: &[(Sym, Sym)], labels: &Labels) -> bool {
    selector.iter().all(|&(k, v)| labels.get(k) == Some(v))
}

/// upstream `RequiredNodeAffinity.Match` with parse errors ignored (as the Filter does).
#[must_use]
pub fn pod_matches_required(pod: &PodInfo, node: &NodeInfo, interner: &Interner) -> bool {
    node_selector_matches(&pod.node_selector, &node.labels)
        && pod
            .required_affinity
            .as_ref()
            .is_none_or(|sel| sel.matches(node, interner))
}

/// upstream `PreferredSchedulingTerms.Score`: Σ weights of the terms that match.
fn preferred_score(terms: &[PreferredTerm], node: &NodeInfo, interner: &Interner) -> i64 {
    terms
        .iter()
        .filter(|t| t.term.matches(node, interner))
        .map(|t| t.weight)
        .sum()
}

/// The PreFilter narrowing: `None` when some term has no `metadata.name In` requirement
/// (every node stays eligible), otherwise the union over terms of the intersection of each
/// term's `metadata.name In` values (possibly empty).
fn required_node_names(sel: &NodeSelector) -> Option<Vec<Sym>> {
    let mut union: Vec<Sym> = Vec::new();
    for term in &sel.terms {
        let mut names: Option<SmallVec<[Sym; 2]>> = None;
        for f in term.fields.iter().filter(|f| f.is_in) {
            match names.as_mut() {
                None => names = Some(smallvec::smallvec![f.node_name]),
                Some(set) => set.retain(|n| *n == f.node_name),
            }
        }
        // A term without a node-name requirement is satisfiable by any node: no narrowing.
        union.extend(names?);
    }
    union.sort_unstable();
    union.dedup();
    Some(union)
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister` with queueing hints (always on in 1.35):
    /// `{Node, Add|UpdateNodeLabel}` with `isSchedulableAfterNodeChange`.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::NODE_ADD | C::NODE_LABEL
    }
    /// upstream `isSchedulableAfterNodeChange`: QueueSkip when the new node fails
    /// `addedAffinity` or the pod's own nodeSelector/required affinity; otherwise Queue for a
    /// node added, and for a node updated only when the old node did not match the pod's own
    /// requirements (a change that leaves a match a match cannot help).
    fn queueing_hint(
        &self,
        pod: &PodInfo,
        change: &ClusterChange,
        interner: &Interner,
    ) -> QueueingHint {
        let Some((old, new)) = change.node() else {
            return QueueingHint::Queue;
        };
        if let Some(sel) = &self.added_required
            && !sel.matches(new, interner)
        {
            return QueueingHint::QueueSkip;
        }
        if !pod_matches_required(pod, new, interner) {
            return QueueingHint::QueueSkip;
        }
        match old {
            Some(old) if pod_matches_required(pod, old, interner) => QueueingHint::QueueSkip,
            _ => QueueingHint::Queue,
        }
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
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

impl PreFilterPlugin for NodeAffinity {
    /// Filter reads only the node it is given: no AddPod/RemovePod state.
    fn has_pod_extensions(&self) -> bool {
        false
    }

    /// upstream `PreFilter`.
    fn pre_filter(
        &self,
        _cycle: &mut CycleState,
        pod: &PodInfo,
        _view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        let Some(required) = pod.required_affinity.as_ref() else {
            if self.added_required.is_none() && pod.node_selector.is_empty() {
                return Ok(PreFilterOutcome::Skip);
            }
            return Ok(PreFilterOutcome::Proceed);
        };
        if required.terms.is_empty() {
            return Ok(PreFilterOutcome::Proceed);
        }
        match required_node_names(required) {
            None => Ok(PreFilterOutcome::Proceed),
            Some(names) if names.is_empty() => Err(Rejection::unresolvable(ERR_REASON_CONFLICT)),
            Some(names) => Ok(PreFilterOutcome::Narrow(names)),
        }
    }
}

impl FilterPlugin for NodeAffinity {
    /// upstream `Filter`: `addedAffinity` first, then the pod's own requirements.
    fn filter(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> FilterResult {
        match self.mismatch(pod, node, view) {
            Some(reason) => Err(Rejection::unresolvable(reason)),
            None => Ok(()),
        }
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
        // A node whose label Bloom filter lacks a nodeSelector label fails without a look at
        // its labels.
        let selector_bits = pod
            .node_selector
            .iter()
            .fold(0, |b, &(k, v)| b | label_bit(k, v));
        mask_where(nodes, live, |id| {
            let bloom = view.state.summary(id).label_bloom;
            bloom & selector_bits == selector_bits
                && self.mismatch(pod, view.state.node(id), view).is_none()
        })
    }
}

impl NodeAffinity {
    /// The Filter reason when the node does not match `addedAffinity` or the pod's own
    /// requirements (checked in that order).
    fn mismatch(
        &self,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> Option<&'static str> {
        let interner = view.interner();
        if let Some(sel) = &self.added_required
            && !sel.matches(&node.info, interner)
        {
            return Some(ERR_REASON_ENFORCED);
        }
        if !pod_matches_required(pod, &node.info, interner) {
            return Some(ERR_REASON_POD);
        }
        None
    }
}

impl PreScorePlugin for NodeAffinity {
    /// upstream `PreScore`: an unparsable preferred term of the pod is an error (upstream
    /// `getPodPreferredNodeAffinity` fails); Skip when neither the pod nor `addedAffinity` has
    /// preferred terms.
    fn pre_score(
        &self,
        _cycle: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[NodeId],
        _view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        if let Some(err) = pod
            .preferred_affinity
            .iter()
            .find_map(|t| t.term.invalid.as_deref())
        {
            return Err(Rejection::error(format!(
                "preferred node affinity of pod {}: {err}",
                pod.key
            )));
        }
        if pod.preferred_affinity.is_empty() && self.added_preferred.is_none() {
            return Ok(PreScoreOutcome::Skip);
        }
        Ok(PreScoreOutcome::Proceed)
    }
}

impl ScorePlugin for NodeAffinity {
    /// upstream `Score`: Σ weights of the matching `addedAffinity` and pod preferred terms.
    fn score(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> i64 {
        let interner = view.interner();
        let added = self
            .added_preferred
            .as_deref()
            .map_or(0, |terms| preferred_score(terms, &node.info, interner));
        added + preferred_score(&pod.preferred_affinity, &node.info, interner)
    }

    /// As `score` per node; a term needing a label the node's Bloom filter lacks is skipped
    /// without a look at the labels.
    fn score_nodes(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        let interner = view.interner();
        let terms: SmallVec<[(&PreferredTerm, u64); 4]> = self
            .added_preferred
            .as_deref()
            .unwrap_or_default()
            .iter()
            .chain(&pod.preferred_affinity)
            .map(|t| (t, t.term.required_label_bits()))
            .collect();
        for (o, &id) in out.iter_mut().zip(nodes) {
            let bloom = view.state.summary(id).label_bloom;
            let info = &view.state.node(id).info;
            *o = terms
                .iter()
                .filter(|(t, bits)| bloom & bits == *bits && t.term.matches(info, interner))
                .map(|(t, _)| t.weight)
                .sum();
        }
    }

    fn has_normalize(&self) -> bool {
        true
    }

    /// upstream `NormalizeScore`: `DefaultNormalizeScore(MaxNodeScore, reverse=false)`.
    fn normalize(&self, _cycle: &CycleState, _pod: &PodInfo, scores: &mut [i64]) {
        normalize_to_max(false, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestCluster, cycle};
    use sched_core::framework::{Code, Profile};
    use sched_core::scheduler::{NodeOutcome, ScheduleError, Scheduler};
    use serde_json::{Value, json};

    fn profile_with(added: Option<Value>) -> ProfileConfig {
        let mut cfg = ProfileConfig {
            scheduler_name: "default-scheduler".into(),
            percentage_of_nodes_to_score: None,
            points: Default::default(),
            args: Default::default(),
        };
        cfg.args.node_affinity.added_affinity =
            added.map(|v| serde_json::from_value(v).expect("NodeAffinity JSON"));
        cfg
    }

    fn node(name: &str, labels: Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}})
    }

    /// A pod with `spec` merged over a single container.
    fn pod(spec: Value) -> Value {
        let mut s = spec;
        s["containers"] = json!([{"name": "c"}]);
        json!({"metadata": {"name": "p", "namespace": "default"}, "spec": s})
    }

    fn required(terms: Value) -> Value {
        json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}})
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> Value {
        json!({"key": key, "operator": op, "values": values})
    }

    fn name_in(n: &str) -> Value {
        json!({"key": "metadata.name", "operator": "In", "values": [n]})
    }

    struct FilterCase {
        name: &'static str,
        pod_spec: Value,
        labels: Value,
        node_name: &'static str,
        added: Option<Value>,
        want_pre_filter: WantPreFilter,
        want_filter: Result<(), &'static str>,
    }

    /// The expected PreFilter result; `Narrow` lists node names.
    #[derive(Clone, Copy)]
    enum WantPreFilter {
        Skip,
        Proceed,
        Narrow(&'static [&'static str]),
        Conflict,
    }

    fn fc(name: &'static str, pod_spec: Value, labels: Value) -> FilterCase {
        FilterCase {
            name,
            pod_spec,
            labels,
            node_name: "node1",
            added: None,
            want_pre_filter: WantPreFilter::Proceed,
            want_filter: Ok(()),
        }
    }

    impl FilterCase {
        fn node_name(mut self, n: &'static str) -> Self {
            self.node_name = n;
            self
        }
        fn added(mut self, a: Value) -> Self {
            self.added = Some(a);
            self
        }
        fn pre_filter(mut self, want: WantPreFilter) -> Self {
            self.want_pre_filter = want;
            self
        }
        fn rejects(mut self, reason: &'static str) -> Self {
            self.want_filter = Err(reason);
            self
        }
    }

    fn narrow(c: &TestCluster, names: &[&str]) -> PreFilterOutcome {
        let mut syms: Vec<Sym> = names
            .iter()
            .map(|n| c.state.interner().get(n).expect("interned"))
            .collect();
        syms.sort_unstable();
        PreFilterOutcome::Narrow(syms)
    }

    #[test]
    fn pre_filter_and_filter_table() {
        let cases = vec![
            // upstream: node_affinity_test.go TestNodeAffinity "missing labels"
            fc("missing labels", json!({"nodeSelector": {"foo": "bar"}}), json!({})).rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "same labels"
            fc("same labels", json!({"nodeSelector": {"foo": "bar"}}), json!({"foo": "bar"})),
            // upstream: TestNodeAffinity "node labels are superset"
            fc(
                "node labels are superset",
                json!({"nodeSelector": {"foo": "bar"}}),
                json!({"foo": "bar", "baz": "blah"}),
            ),
            // upstream: TestNodeAffinity "node labels are subset"
            fc("node labels are subset", json!({"nodeSelector": {"foo": "bar", "baz": "blah"}}), json!({"foo": "bar"}))
                .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with matchExpressions using In operator that matches the existing node"
            fc(
                "In matches",
                required(json!([{"matchExpressions": [expr("foo", "In", &["bar", "value2"])]}])),
                json!({"foo": "bar"}),
            ),
            // upstream: TestNodeAffinity "Pod with matchExpressions using Gt operator that matches the existing node"
            fc(
                "Gt matches with leading zeros",
                required(json!([{"matchExpressions": [expr("kernel-version", "Gt", &["0204"])]}])),
                json!({"kernel-version": "0206"}),
            ),
            // upstream: TestNodeAffinity "Pod with matchExpressions using NotIn operator that matches the existing node"
            fc(
                "NotIn matches",
                required(json!([{"matchExpressions": [expr("mem-type", "NotIn", &["DDR", "DDR2"])]}])),
                json!({"mem-type": "DDR3"}),
            ),
            // upstream: TestNodeAffinity "Pod with matchExpressions using Exists operator that matches the existing node"
            fc(
                "Exists matches",
                required(json!([{"matchExpressions": [{"key": "GPU", "operator": "Exists"}]}])),
                json!({"GPU": "NVIDIA-GRID-K1"}),
            ),
            // upstream: TestNodeAffinity "Pod with affinity that don't match node's labels won't schedule onto the node"
            fc(
                "In does not match",
                required(json!([{"matchExpressions": [expr("foo", "In", &["value1", "value2"])]}])),
                json!({"foo": "bar"}),
            )
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with empty MatchExpressions is not a valid value will match no objects and won't schedule onto the node"
            fc("empty matchExpressions term", required(json!([{"matchExpressions": []}])), json!({"foo": "bar"}))
                .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with no Affinity will schedule onto a node"
            fc("no affinity", json!({}), json!({"foo": "bar"})).pre_filter(WantPreFilter::Skip),
            // upstream: TestNodeAffinity "Pod with Affinity but nil NodeSelector will schedule onto a node"
            fc("affinity without required", json!({"affinity": {"nodeAffinity": {}}}), json!({"foo": "bar"}))
                .pre_filter(WantPreFilter::Skip),
            // upstream: TestNodeAffinity "Pod with multiple matchExpressions ANDed that matches the existing node"
            fc(
                "ANDed expressions match",
                required(json!([{"matchExpressions": [
                    {"key": "GPU", "operator": "Exists"},
                    expr("GPU", "NotIn", &["AMD", "INTER"])
                ]}])),
                json!({"GPU": "NVIDIA-GRID-K1"}),
            ),
            // upstream: TestNodeAffinity "Pod with multiple matchExpressions ANDed that doesn't match the existing node"
            fc(
                "ANDed expressions do not match",
                required(json!([{"matchExpressions": [
                    {"key": "GPU", "operator": "Exists"},
                    expr("GPU", "In", &["AMD", "INTER"])
                ]}])),
                json!({"GPU": "NVIDIA-GRID-K1"}),
            )
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will schedule onto the node"
            fc(
                "ORed terms",
                required(json!([
                    {"matchExpressions": [expr("foo", "In", &["bar", "value2"])]},
                    {"matchExpressions": [expr("diffkey", "In", &["wrong", "value2"])]}
                ])),
                json!({"foo": "bar"}),
            ),
            // upstream: TestNodeAffinity "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied, will schedule onto the node"
            fc(
                "nodeSelector and affinity both satisfied",
                {
                    let mut s = required(json!([{"matchExpressions": [{"key": "foo", "operator": "Exists"}]}]));
                    s["nodeSelector"] = json!({"foo": "bar"});
                    s
                },
                json!({"foo": "bar"}),
            ),
            // upstream: TestNodeAffinity "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) is not satisfied, won't schedule onto the node"
            fc(
                "affinity satisfied, nodeSelector not",
                {
                    let mut s = required(json!([{"matchExpressions": [{"key": "foo", "operator": "Exists"}]}]));
                    s["nodeSelector"] = json!({"foo": "bar"});
                    s
                },
                json!({"foo": "barrrrrr"}),
            )
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with an invalid value in Affinity term won't be scheduled onto the node"
            fc(
                "invalid label value makes the term never match",
                required(json!([{"matchExpressions": [expr("foo", "NotIn", &["invalid value: ___@#$%^"])]}])),
                json!({"foo": "bar"}),
            )
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with matchFields using In operator that matches the existing node"
            fc("matchFields In matches", required(json!([{"matchFields": [name_in("node1")]}])), json!({}))
                .pre_filter(WantPreFilter::Narrow(&["node1"])),
            // upstream: TestNodeAffinity "Pod with matchFields using In operator that does not match the existing node"
            fc("matchFields In does not match", required(json!([{"matchFields": [name_in("node1")]}])), json!({}))
                .node_name("node2")
                .pre_filter(WantPreFilter::Narrow(&["node1"]))
                .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with two terms: matchFields does not match, but matchExpressions matches"
            fc(
                "conflicting names in one term, second term without names: no narrowing",
                required(json!([
                    {"matchFields": [name_in("node1"), name_in("node2")]},
                    {"matchExpressions": [expr("foo", "In", &["bar"])]}
                ])),
                json!({"foo": "bar"}),
            )
            .node_name("node2"),
            // upstream: TestNodeAffinity "Pod with one term: matchFields does not match, but matchExpressions matches"
            fc(
                "one term, fields do not match",
                required(json!([{
                    "matchFields": [name_in("node1")],
                    "matchExpressions": [expr("foo", "In", &["bar"])]
                }])),
                json!({"foo": "bar"}),
            )
            .node_name("node2")
            .pre_filter(WantPreFilter::Narrow(&["node1"]))
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with one term: both matchFields and matchExpressions match"
            fc(
                "one term, both match",
                required(json!([{
                    "matchFields": [name_in("node1")],
                    "matchExpressions": [expr("foo", "In", &["bar"])]
                }])),
                json!({"foo": "bar"}),
            )
            .pre_filter(WantPreFilter::Narrow(&["node1"])),
            // upstream: TestNodeAffinity "Pod with two terms: both matchFields and matchExpressions do not match"
            fc(
                "two terms, neither matches",
                required(json!([
                    {"matchFields": [name_in("node1")]},
                    {"matchExpressions": [expr("foo", "In", &["not-match-to-bar"])]}
                ])),
                json!({"foo": "bar"}),
            )
            .node_name("node2")
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Pod with two terms of node.Name affinity"
            fc(
                "two name terms: union",
                required(json!([{"matchFields": [name_in("node1")]}, {"matchFields": [name_in("node2")]}])),
                json!({}),
            )
            .node_name("node2")
            .pre_filter(WantPreFilter::Narrow(&["node1", "node2"])),
            // upstream: TestNodeAffinity "Pod with two conflicting mach field requirements"
            fc(
                "conflicting name requirements",
                required(json!([{"matchFields": [name_in("node1"), name_in("node2")]}])),
                json!({"foo": "bar"}),
            )
            .node_name("node2")
            .pre_filter(WantPreFilter::Conflict)
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Matches added affinity and Pod's node affinity"
            fc(
                "matches added and pod affinity",
                required(json!([{"matchExpressions": [expr("zone", "In", &["foo"])]}])),
                json!({"zone": "foo"}),
            )
            .node_name("node2")
            .added(json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [name_in("node2")]}]}})),
            // upstream: TestNodeAffinity "Matches added affinity but not Pod's node affinity"
            fc(
                "matches added, not pod affinity",
                required(json!([{"matchExpressions": [expr("zone", "In", &["bar"])]}])),
                json!({"zone": "foo"}),
            )
            .node_name("node2")
            .added(json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [name_in("node2")]}]}}))
            .rejects(ERR_REASON_POD),
            // upstream: TestNodeAffinity "Doesn't match added affinity"
            fc("does not match added affinity", json!({}), json!({"zone": "foo"}))
                .node_name("node2")
                .added(json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", &["bar"])]}]}}))
                .rejects(ERR_REASON_ENFORCED),
            // no upstream row: addedAffinity is checked before the pod's selector (first failure wins).
            fc("added affinity reported before pod selector", json!({"nodeSelector": {"a": "b"}}), json!({}))
                .added(json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", &["bar"])]}]}}))
                .rejects(ERR_REASON_ENFORCED),
            // no upstream row: only preferred addedAffinity does not stop the Skip.
            fc("only preferred added affinity still skips", json!({}), json!({}))
                .added(json!({"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [expr("a", "In", &["b"])]}}]}))
                .pre_filter(WantPreFilter::Skip),
            // no upstream row (nodeaffinity.go: labels.Requirement NotIn): a missing key satisfies NotIn.
            fc(
                "NotIn on missing key",
                required(json!([{"matchExpressions": [expr("mem-type", "NotIn", &["DDR"])]}])),
                json!({"other": "x"}),
            ),
            // no upstream row: DoesNotExist.
            fc(
                "DoesNotExist on present key",
                required(json!([{"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}])),
                json!({"gpu": "1"}),
            )
            .rejects(ERR_REASON_POD),
            // no upstream row: Gt is strict.
            fc(
                "Gt equal value",
                required(json!([{"matchExpressions": [expr("v", "Gt", &["5"])]}])),
                json!({"v": "5"}),
            )
            .rejects(ERR_REASON_POD),
            // no upstream row: Lt matches a smaller integer label (parsed base 10, leading zeros allowed).
            fc("Lt matches", required(json!([{"matchExpressions": [expr("v", "Lt", &["10"])]}])), json!({"v": "009"})),
            // no upstream row (labels.NewRequirement validates every value as a label value):
            // "-1" is not a valid label value, so a negative bound makes the term unparsable.
            fc("Lt negative bound is invalid", required(json!([{"matchExpressions": [expr("v", "Lt", &["-1"])]}])), json!({"v": "-2"}))
                .rejects(ERR_REASON_POD),
            // no upstream row: a negative label value still parses as an integer label.
            fc("negative label value", required(json!([{"matchExpressions": [expr("v", "Lt", &["1"])]}])), json!({"v": "-2"})),
            // no upstream row: a label that is not a base-10 integer never satisfies Gt/Lt.
            fc(
                "Gt on non-integer label",
                required(json!([{"matchExpressions": [expr("v", "Gt", &["1"])]}])),
                json!({"v": "2.5"}),
            )
            .rejects(ERR_REASON_POD),
            // no upstream row: Gt/Lt on a missing key do not match.
            fc("Lt on missing key", required(json!([{"matchExpressions": [expr("v", "Lt", &["10"])]}])), json!({}))
                .rejects(ERR_REASON_POD),
            // no upstream row: a non-integer Gt value is a parse error: that term never matches, another can.
            fc(
                "invalid Gt value, other term matches",
                required(json!([
                    {"matchExpressions": [expr("v", "Gt", &["abc"])]},
                    {"matchExpressions": [expr("zone", "In", &["a"])]}
                ])),
                json!({"v": "5", "zone": "a"}),
            ),
            // no upstream row: In with no values is a parse error.
            fc("In without values", required(json!([{"matchExpressions": [expr("k", "In", &[])]}])), json!({"k": "v"}))
                .rejects(ERR_REASON_POD),
            // upstream: component-helpers nodeaffinity_test.go TestPodMatchesNodeSelectorAndAffinityTerms "Pod with an empty []NodeSelectorTerm in affinity, can't match the node's labels and won't schedule onto the node"
            fc("empty nodeSelectorTerms", required(json!([])), json!({"foo": "bar"})).rejects(ERR_REASON_POD),
            // no upstream row: matchFields NotIn excludes the named node and does not narrow.
            fc(
                "matchFields NotIn",
                required(json!([{"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node1"]}]}])),
                json!({}),
            )
            .rejects(ERR_REASON_POD),
        ];
        for case in cases {
            let name = case.name;
            let mut c = TestCluster::new();
            let plugin =
                NodeAffinity::new(&profile_with(case.added.clone()), c.state.interner_mut())
                    .expect(name);
            let id = c.node(node(case.node_name, case.labels.clone()));
            // Every node name a test refers to exists in the interner.
            for n in ["node1", "node2"] {
                c.state.interner_mut().intern(n);
            }
            let pod = c.pod(pod(case.pod_spec.clone()));
            let mut state = cycle();
            let got_pre = plugin.pre_filter(&mut state, &pod, c.view());
            let want_pre = match case.want_pre_filter {
                WantPreFilter::Skip => Ok(PreFilterOutcome::Skip),
                WantPreFilter::Proceed => Ok(PreFilterOutcome::Proceed),
                WantPreFilter::Narrow(names) => Ok(narrow(&c, names)),
                WantPreFilter::Conflict => Err(Rejection::unresolvable(ERR_REASON_CONFLICT)),
            };
            assert_eq!(got_pre, want_pre, "{name}: PreFilter");
            let got = plugin.filter(&state, &pod, c.node_state(id), c.view());
            match case.want_filter {
                Ok(()) => assert_eq!(got, Ok(()), "{name}: Filter"),
                Err(reason) => {
                    let r = got.expect_err(name);
                    assert_eq!(r.code, Code::UnschedulableAndUnresolvable, "{name}");
                    assert_eq!(r, Rejection::unresolvable(reason), "{name}: Filter");
                }
            }
        }
    }

    #[test]
    fn filter_without_pre_filter() {
        // upstream: TestNodeAffinity "Matches node selector correctly even if PreFilter is not called"
        // and "Matches node affinity correctly even if PreFilter is not called".
        let mut c = TestCluster::new();
        let plugin =
            NodeAffinity::new(&profile_with(None), c.state.interner_mut()).expect("plugin");
        let id = c.node(node(
            "n",
            json!({"foo": "bar", "baz": "blah", "GPU": "NVIDIA-GRID-K1"}),
        ));
        let by_selector = c.pod(pod(json!({"nodeSelector": {"foo": "bar"}})));
        assert_eq!(
            plugin.filter(&cycle(), &by_selector, c.node_state(id), c.view()),
            Ok(())
        );
        let by_affinity = c.pod(pod(required(json!([{"matchExpressions": [
            {"key": "GPU", "operator": "Exists"},
            expr("GPU", "NotIn", &["AMD", "INTER"])
        ]}]))));
        assert_eq!(
            plugin.filter(&cycle(), &by_affinity, c.node_state(id), c.view()),
            Ok(())
        );
    }

    /// A one-plugin profile with NodeAffinity at PreFilter and Filter.
    fn affinity_profile(plugin: NodeAffinity) -> Profile {
        let p: Arc<dyn Plugin> = Arc::new(plugin);
        let mut profile = Profile::empty("default-scheduler");
        profile.pre_filter = vec![p.clone()];
        profile.filter = vec![p];
        profile
    }

    #[test]
    fn narrowing_reports_absent_nodes_as_not_satisfying_the_plugin() {
        // upstream: TestNodeAffinity "Pod with matchFields using In operator that does not match the existing node",
        // run through the cycle: nodes outside the PreFilterResult get the framework's status.
        let mut c = TestCluster::new();
        let plugin =
            NodeAffinity::new(&profile_with(None), c.state.interner_mut()).expect("plugin");
        for n in ["node1", "node2", "node3"] {
            c.node(node(n, json!({})));
        }
        let p = c.pod(pod(required(json!([{
            "matchFields": [name_in("node1")],
            "matchExpressions": [expr("foo", "In", &["bar"])]
        }]))));
        let sched = Scheduler::new(vec![affinity_profile(plugin)], c.state.interner(), None, 0);
        let eval = sched.explain(&p, &c.state);
        let reasons: Vec<(String, String)> = eval
            .nodes
            .iter()
            .map(|(id, o)| {
                let name = c.state.node(*id).info.name.to_string();
                match o {
                    NodeOutcome::Rejected { plugin, rejection } => {
                        assert_eq!(*plugin, "NodeAffinity");
                        assert_eq!(rejection.code, Code::UnschedulableAndUnresolvable);
                        (name, rejection.message())
                    }
                    other => panic!("{name}: {other:?}"),
                }
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("node1".to_string(), ERR_REASON_POD.to_string()),
                (
                    "node2".to_string(),
                    "node(s) didn't satisfy plugin(s) [NodeAffinity]".to_string()
                ),
                (
                    "node3".to_string(),
                    "node(s) didn't satisfy plugin(s) [NodeAffinity]".to_string()
                ),
            ]
        );
        let Err(ScheduleError::Unschedulable(fit)) = &eval.result else {
            panic!("expected a FitError, got {:?}", eval.result)
        };
        assert_eq!(
            fit.message(),
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, \
             2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
        );
    }

    #[test]
    fn narrowing_to_a_missing_node_and_conflict_in_the_cycle() {
        let mut c = TestCluster::new();
        let plugin =
            NodeAffinity::new(&profile_with(None), c.state.interner_mut()).expect("plugin");
        c.node(node("node1", json!({})));
        c.node(node("node2", json!({})));
        let sched = Scheduler::new(vec![affinity_profile(plugin)], c.state.interner(), None, 0);
        // no upstream row: a name that is no node narrows to nothing; every node is absent.
        let p = c.pod(pod(required(json!([{"matchFields": [name_in("gone")]}]))));
        let eval = sched.explain(&p, &c.state);
        let fit = eval
            .result
            .as_ref()
            .expect_err("unschedulable")
            .fit_error()
            .expect("fit error")
            .clone();
        assert_eq!(
            fit.message(),
            "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
        );
        // upstream: TestNodeAffinity "Pod with two conflicting mach field requirements", in the cycle.
        let p = c.pod(pod(required(
            json!([{"matchFields": [name_in("node1"), name_in("node2")]}]),
        )));
        let eval = sched.explain(&p, &c.state);
        let fit = eval
            .result
            .as_ref()
            .expect_err("unschedulable")
            .fit_error()
            .expect("fit error")
            .clone();
        assert_eq!(
            fit.message(),
            "0/2 nodes are available: pod affinity terms conflict."
        );
    }

    struct ScoreCase {
        name: &'static str,
        pod_spec: Value,
        nodes: Vec<(&'static str, Value)>,
        added: Option<Value>,
        pre_score: bool,
        want_pre_score: Result<PreScoreOutcome, Code>,
        want: Vec<i64>,
    }

    fn preferred(terms: Value) -> Value {
        json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": terms}}})
    }

    #[test]
    fn score_table() {
        let label1 = json!({"foo": "bar"});
        let label2 = json!({"key": "value"});
        let label3 = json!({"az": "az1"});
        let label4 = json!({"abc": "az11", "def": "az22"});
        let label5 = json!({"foo": "bar", "key": "value", "az": "az1"});
        let affinity1 = json!([{"weight": 2, "preference": {"matchExpressions": [expr("foo", "In", &["bar"])]}}]);
        let affinity2 = json!([
            {"weight": 2, "preference": {"matchExpressions": [expr("foo", "In", &["bar"])]}},
            {"weight": 4, "preference": {"matchExpressions": [expr("key", "In", &["value"])]}},
            {"weight": 5, "preference": {"matchExpressions": [
                expr("foo", "In", &["bar"]), expr("key", "In", &["value"]), expr("az", "In", &["az1"])
            ]}}
        ]);
        let cases = vec![
            // upstream: node_affinity_test.go TestNodeAffinityPriority "all nodes are same priority as NodeAffinity is nil"
            ScoreCase {
                name: "no affinity, PreScore not run",
                pod_spec: json!({}),
                nodes: vec![
                    ("node1", label1.clone()),
                    ("node2", label2.clone()),
                    ("node3", label3.clone()),
                ],
                added: None,
                pre_score: false,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![0, 0, 0],
            },
            // upstream: TestNodeAffinityPriority "Skip is returned in PreScore when NodeAffinity is nil"
            ScoreCase {
                name: "PreScore skips without preferred terms",
                pod_spec: json!({}),
                nodes: vec![("node1", label1.clone())],
                added: None,
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Skip),
                want: vec![],
            },
            // upstream: TestNodeAffinityPriority "PreScore returns error when an incoming Pod has a broken affinity"
            ScoreCase {
                name: "broken preferred affinity is an error",
                pod_spec: preferred(
                    json!([{"weight": 2, "preference": {"matchExpressions": [expr("invalid key", "In", &["bar"])]}}]),
                ),
                nodes: vec![("node1", label1.clone())],
                added: None,
                pre_score: true,
                want_pre_score: Err(Code::Error),
                want: vec![],
            },
            // upstream: TestNodeAffinityPriority "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero"
            ScoreCase {
                name: "no node matches",
                pod_spec: preferred(affinity1.clone()),
                nodes: vec![
                    ("node1", label4.clone()),
                    ("node2", label2.clone()),
                    ("node3", label3.clone()),
                ],
                added: None,
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![0, 0, 0],
            },
            // upstream: TestNodeAffinityPriority "only node1 matches the preferred scheduling requirements of pod"
            ScoreCase {
                name: "only node1 matches",
                pod_spec: preferred(affinity1.clone()),
                nodes: vec![
                    ("node1", label1.clone()),
                    ("node2", label2.clone()),
                    ("node3", label3.clone()),
                ],
                added: None,
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![100, 0, 0],
            },
            // upstream: TestNodeAffinityPriority "all nodes matches the preferred scheduling requirements of pod but with different priorities "
            ScoreCase {
                name: "different priorities",
                pod_spec: preferred(affinity2.clone()),
                nodes: vec![
                    ("node1", label1.clone()),
                    ("node5", label5.clone()),
                    ("node2", label2.clone()),
                ],
                added: None,
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![18, 100, 36],
            },
            // upstream: TestNodeAffinityPriority "added affinity"
            ScoreCase {
                name: "added affinity",
                pod_spec: json!({}),
                nodes: vec![("node1", label1.clone()), ("node2", label2.clone())],
                added: Some(
                    json!({"preferredDuringSchedulingIgnoredDuringExecution": affinity1.clone()}),
                ),
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![100, 0],
            },
            // upstream: TestNodeAffinityPriority "added affinity and pod has default affinity"
            ScoreCase {
                name: "added affinity and pod affinity",
                pod_spec: preferred(affinity1.clone()),
                nodes: vec![
                    ("node1", label1.clone()),
                    ("node2", label2.clone()),
                    ("node3", label5.clone()),
                ],
                added: Some(json!({"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 3, "preference": {"matchExpressions": [expr("key", "In", &["value"])]}}
                ]})),
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![40, 60, 100],
            },
            // upstream: TestNodeAffinityPriority "calculate the priorities correctly even if PreScore is not called"
            ScoreCase {
                name: "without PreScore",
                pod_spec: preferred(affinity2.clone()),
                nodes: vec![
                    ("node1", label1.clone()),
                    ("node5", label5.clone()),
                    ("node2", label2.clone()),
                ],
                added: None,
                pre_score: false,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![18, 100, 36],
            },
            // upstream: component-helpers nodeaffinity_test.go TestPreferredSchedulingTermsScore "first and third term match"
            ScoreCase {
                name: "matchFields in a preferred term",
                pod_spec: preferred(json!([
                    {"weight": 5, "preference": {"matchFields": [name_in("host_1")]}},
                    {"weight": 7, "preference": {"matchExpressions": [expr("unknown_label", "In", &["unknown_label_val"])]}},
                    {"weight": 11, "preference": {"matchExpressions": [expr("label_1", "In", &["label_1_val"])]}}
                ])),
                nodes: vec![
                    ("host_1", json!({"label_1": "label_1_val"})),
                    ("host_2", json!({})),
                ],
                added: None,
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                // raw 16 and 0
                want: vec![100, 0],
            },
            // upstream: component-helpers TestPreferredSchedulingTermsScore "invalid field selector but no weight, error not reported"
            ScoreCase {
                name: "weight 0 term is dropped before parsing",
                pod_spec: preferred(json!([
                    {"weight": 0, "preference": {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a", "b"]}]}},
                    {"weight": 1, "preference": {"matchExpressions": [expr("foo", "In", &["bar"])]}}
                ])),
                nodes: vec![("node1", label1.clone()), ("node2", label2.clone())],
                added: None,
                pre_score: true,
                want_pre_score: Ok(PreScoreOutcome::Proceed),
                want: vec![100, 0],
            },
        ];
        for case in cases {
            let name = case.name;
            let mut c = TestCluster::new();
            let plugin =
                NodeAffinity::new(&profile_with(case.added.clone()), c.state.interner_mut())
                    .expect(name);
            let ids: Vec<_> = case
                .nodes
                .iter()
                .map(|(n, l)| c.node(node(n, l.clone())))
                .collect();
            let pod = c.pod(pod(case.pod_spec.clone()));
            let mut state = cycle();
            if case.pre_score {
                let got = plugin.pre_score(&mut state, &pod, &ids, c.view());
                match case.want_pre_score {
                    Ok(PreScoreOutcome::Proceed) => {
                        assert_eq!(got, Ok(PreScoreOutcome::Proceed), "{name}")
                    }
                    Ok(PreScoreOutcome::Skip) => {
                        assert_eq!(got, Ok(PreScoreOutcome::Skip), "{name}");
                        continue;
                    }
                    Err(code) => {
                        assert_eq!(got.expect_err(name).code, code, "{name}");
                        continue;
                    }
                }
            }
            let mut scores: Vec<i64> = ids
                .iter()
                .map(|&id| plugin.score(&state, &pod, c.node_state(id), c.view()))
                .collect();
            plugin.normalize(&state, &pod, &mut scores);
            assert_eq!(scores, case.want, "{name}");
        }
    }

    #[test]
    fn factory_rejects_unparsable_added_affinity() {
        // upstream: node_affinity.go New: "parsing addedAffinity.requiredDuringSchedulingIgnoredDuringExecution: ..."
        let mut i = Interner::new();
        let bad_required = json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "invalid key", "operator": "In", "values": ["x"]}]}
        ]}});
        let err = NodeAffinity::factory(&profile_with(Some(bad_required)), &mut i)
            .err()
            .expect("error");
        assert!(
            err.starts_with(
                "parsing addedAffinity.requiredDuringSchedulingIgnoredDuringExecution: "
            ),
            "{err}"
        );
        let bad_preferred = json!({"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1, "preference": {"matchExpressions": [{"key": "k", "operator": "Exists", "values": ["x"]}]}}
        ]});
        let err = NodeAffinity::factory(&profile_with(Some(bad_preferred)), &mut i)
            .err()
            .expect("error");
        assert!(
            err.starts_with(
                "parsing addedAffinity.preferredDuringSchedulingIgnoredDuringExecution: "
            ),
            "{err}"
        );
        let p = NodeAffinity::factory(&profile_with(None), &mut i).expect("plugin");
        assert_eq!(p.name(), "NodeAffinity");
    }

    #[test]
    fn added_preferred_with_only_dropped_terms_still_proceeds() {
        // no upstream row: node_affinity.go New sets addedPrefSchedTerms whenever the list is
        // non-empty, so PreScore does not skip even if every term has weight 0.
        let mut c = TestCluster::new();
        let added = json!({"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 0, "preference": {"matchExpressions": [expr("a", "In", &["b"])]}}
        ]});
        let plugin =
            NodeAffinity::new(&profile_with(Some(added)), c.state.interner_mut()).expect("plugin");
        let id = c.node(node("n", json!({"a": "b"})));
        let p = c.pod(pod(json!({})));
        let mut state = cycle();
        assert_eq!(
            plugin.pre_score(&mut state, &p, &[id], c.view()),
            Ok(PreScoreOutcome::Proceed)
        );
        assert_eq!(plugin.score(&state, &p, c.node_state(id), c.view()), 0);
    }
}
