//! InterPodAffinity: required pod affinity / anti-affinity, and the required anti-affinity of
//! the pods already placed (PreFilter with AddPod/RemovePod, Filter); preferred pod affinity and
//! anti-affinity of both the incoming pod and the placed pods (PreScore, Score, NormalizeScore).
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/interpodaffinity/{plugin.go,filtering.go,
//! scoring.go}` (1.35) and the `AffinityTerm` helpers of the framework's `types.go`
//! (`newAffinityTerm`, `getNamespacesFromPodAffinityTerm`, `AffinityTerm.Matches`), which
//! [`sched_core::convert`] applies once per pod when it builds [`PodAffinityTerm`]s.
//!
//! * PreFilter counts, per topology pair `(key, value)` of existing nodes: the placed pods whose
//!   required anti-affinity terms select the incoming pod (at the pair of the placed pod's node),
//!   the placed pods that match *all* of the incoming pod's required affinity terms (one count per
//!   term), and the placed pods matching each of its required anti-affinity terms. A pair whose
//!   count drops to zero is removed (AddPod/RemovePod), which matters because a pod that matches
//!   its own affinity terms may go anywhere only while the affinity counts are empty. PreFilter
//!   returns Skip when the incoming pod has no required terms and no placed pod's anti-affinity
//!   selects it.
//! * Filter checks, in this order: the required affinity terms (`UnschedulableAndUnresolvable`
//!   `node(s) didn't match pod affinity rules`; the node must carry every topology key), the
//!   required anti-affinity terms (`Unschedulable` `node(s) didn't match pod anti-affinity
//!   rules`), the placed pods' anti-affinity (`Unschedulable` `node(s) didn't satisfy existing
//!   pods anti-affinity rules`).
//! * PreScore sums, per topology pair, the weights of the incoming pod's preferred affinity
//!   (+) and anti-affinity (−) terms over the placed pods they select, the placed pods' required
//!   affinity terms that select the incoming pod (`hardPodAffinityWeight`, off at 0) and their
//!   preferred affinity (+) and anti-affinity (−) terms that select it. Placed pods on nodes
//!   without labels count nothing. With `ignorePreferredTermsOfExistingPods`, a pod without
//!   preferred terms skips scoring altogether. Score adds the node's pairs; NormalizeScore maps
//!   `[min, max]` to `[0, 100]` in floating point, truncating.
//!
//! Namespaces: an incoming pod's term selects pods of its listed namespaces, or of every
//! namespace for an empty `namespaceSelector`, or of the existing Namespaces whose labels match a
//! non-empty one (upstream `mergeAffinityTermNamespacesIfNotEmpty`). A placed pod's term is
//! matched against the labels of the incoming pod's Namespace (none when the state holds no
//! such Namespace: upstream `GetNamespaceLabelsSnapshot`). Upstream does not skip terminating
//! pods anywhere in this plugin, and neither does this one.
//!
//! Speed: nothing here scans the pods. The incoming pod's terms find the pods they select
//! through [`ClusterState::for_each_pod_matching`] (a label index); the placed pods' terms
//! that select the incoming pod come grouped by identical term with per-node pod counts from
//! [`ClusterState::for_each_existing_term_matching`]. Filter and Score per node do one label
//! lookup and one small-map lookup per topology key, with interned symbols only.
//!
//! Known differences: upstream rejects a pod whose affinity terms fail label-selector parsing
//! at PreFilter with `parsing pod: …` and the parser's message; here the message names the term
//! list only (`parsing pod: requiredAffinityTerms: invalid label selector`). The API server
//! rejects such pods, so neither text is seen in practice. For a *placed* pod with such a term
//! upstream drops every term of that list; here only the bad term (which selects nothing) is
//! inert.

use rustc_hash::FxHashMap;
use sched_core::config::ProfileConfig;
use sched_core::framework::{
    ClusterView, CycleState, FilterPlugin, FilterResult, MAX_NODE_SCORE, NodeMask, Plugin,
    PreFilterOutcome, PreFilterPlugin, PreScoreOutcome, PreScorePlugin, Rejection, ScorePlugin,
    mask_where,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{Labels, PodAffinityTerm, PodInfo, WeightedPodAffinityTerm};
use sched_core::state::{ClusterState, NodeId, NodeState, TermKind};
use smallvec::SmallVec;
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// The upstream plugin name.
pub const NAME: &str = "InterPodAffinity";

/// upstream `ErrReasonExistingAntiAffinityRulesNotMatch` (code `Unschedulable`).
pub const ERR_REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// upstream `ErrReasonAffinityRulesNotMatch` (code `UnschedulableAndUnresolvable`).
pub const ERR_REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// upstream `ErrReasonAntiAffinityRulesNotMatch` (code `Unschedulable`).
pub const ERR_REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";

/// upstream `getPreFilterState` when PreFilter did not run (`framework.ErrNotFound`).
const ERR_NO_PRE_FILTER_STATE: &str =
    "error reading \"PreFilterInterPodAffinity\" from cycleState: not found";

/// upstream `config.InterPodAffinityArgs` default for `hardPodAffinityWeight`.
pub const DEFAULT_HARD_POD_AFFINITY_WEIGHT: i32 = 1;

/// upstream `InterPodAffinity`, with its (validated, defaulted) `InterPodAffinityArgs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterPodAffinity {
    /// `hardPodAffinityWeight` (0..=100; 0 turns the placed pods' required affinity off for scoring).
    pub hard_pod_affinity_weight: i32,
    /// `ignorePreferredTermsOfExistingPods`.
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        InterPodAffinity {
            hard_pod_affinity_weight: DEFAULT_HARD_POD_AFFINITY_WEIGHT,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

impl InterPodAffinity {
    /// Builds the plugin (upstream `New`); see [`InterPodAffinity::from_config`].
    ///
    /// # Errors
    /// As [`InterPodAffinity::from_config`].
    pub fn factory(
        cfg: &ProfileConfig,
        _interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(Self::from_config(cfg)?))
    }

    /// The plugin with the arguments in `cfg.args.other["InterPodAffinity"]`, which the
    /// configuration layer has validated and defaulted; absent arguments mean the v1 defaults.
    ///
    /// # Errors
    /// Arguments of the wrong shape, or a `hardPodAffinityWeight` outside `[0, 100]`
    /// (upstream `ValidateInterPodAffinityArgs`).
    pub fn from_config(cfg: &ProfileConfig) -> Result<Self, String> {
        let mut pl = InterPodAffinity::default();
        let Some(args) = cfg.args.other.get(NAME) else {
            return Ok(pl);
        };
        if let Some(w) = args.get("hardPodAffinityWeight") {
            let w = w
                .as_i64()
                .ok_or_else(|| format!("hardPodAffinityWeight: not an integer: {w}"))?;
            if !(0..=100).contains(&w) {
                return Err(format!(
                    "hardPodAffinityWeight: invalid value {w}: not in valid range [0, 100]"
                ));
            }
            pl.hard_pod_affinity_weight = i32::try_from(w).unwrap_or(0);
        }
        if let Some(b) = args.get("ignorePreferredTermsOfExistingPods") {
            pl.ignore_preferred_terms_of_existing_pods = b
                .as_bool()
                .ok_or_else(|| format!("ignorePreferredTermsOfExistingPods: not a boolean: {b}"))?;
        }
        Ok(pl)
    }
}

// ---------------------------------------------------------------------------------------------
// Topology-pair maps.

/// Topology pair `(key, value)` → count (upstream `topologyToMatchedTermCount`).
type PairMap = FxHashMap<(Sym, Sym), i64>;

/// A [`PairMap`] with the distinct topology keys it has ever held, so that a node is checked
/// with one lookup per key instead of one per node label.
#[derive(Clone, Debug, Default, PartialEq)]
struct TopologyCounts {
    counts: PairMap,
    /// Keys that have had an entry (a superset of the keys present: entries may drop to zero).
    keys: SmallVec<[Sym; 2]>,
}

impl TopologyCounts {
    /// upstream `topologyToMatchedTermCount.update`: adds `delta` at `(key, node's value)` when
    /// the node carries `key`; an entry that reaches zero is removed.
    fn update(&mut self, labels: &Labels, key: Sym, delta: i64) {
        if let Some(value) = labels.get(key) {
            self.add(key, value, delta);
        }
    }

    fn add(&mut self, key: Sym, value: Sym, delta: i64) {
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
        let slot = self.counts.entry((key, value)).or_insert(0);
        *slot += delta;
        if *slot == 0 {
            self.counts.remove(&(key, value));
        }
    }

    /// Empty, with room for `n` pairs (one allocation instead of a few rehashes).
    fn with_capacity(n: usize) -> Self {
        TopologyCounts {
            counts: PairMap::with_capacity_and_hasher(n, Default::default()),
            keys: SmallVec::new(),
        }
    }

    fn get(&self, key: Sym, value: Sym) -> i64 {
        self.counts.get(&(key, value)).copied().unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Whether some pair of the node (over the keys ever held) has a positive count
    /// (upstream `satisfyExistingPodsAntiAffinity`, which walks the node's labels).
    fn any_positive_on(&self, labels: &Labels) -> bool {
        self.keys
            .iter()
            .any(|&k| labels.get(k).is_some_and(|v| self.get(k, v) > 0))
    }
}

// ---------------------------------------------------------------------------------------------
// Term matching.

/// Whether the incoming pod's term selects pod `p` (upstream `AffinityTerm.Matches(p, nil)` on a
/// term after `mergeAffinityTermNamespacesIfNotEmpty`): `p`'s namespace is listed, or the
/// `namespaceSelector` is empty (every namespace), or it is non-empty and matches the labels of
/// an existing Namespace `p` lives in; and the label selector matches `p`'s labels.
fn incoming_term_selects(
    term: &PodAffinityTerm,
    p: &PodInfo,
    state: &ClusterState,
    interner: &Interner,
) -> bool {
    let in_namespace = term.namespaces.contains(&p.namespace_sym)
        || term.namespace_selector.as_ref().is_some_and(|sel| {
            sel.is_empty()
                || state
                    .namespace_labels(p.namespace_sym)
                    .is_some_and(|l| sel.matches(l, interner))
        });
    in_namespace
        && term
            .selector
            .as_ref()
            .is_some_and(|s| s.matches(&p.labels, interner))
}

/// upstream `podMatchesAllAffinityTerms` for the incoming pod's terms: false for no terms.
fn selects_all(
    terms: &[PodAffinityTerm],
    p: &PodInfo,
    state: &ClusterState,
    interner: &Interner,
) -> bool {
    !terms.is_empty()
        && terms
            .iter()
            .all(|t| incoming_term_selects(t, p, state, interner))
}

/// Calls `f` for every pod held on an existing node that the incoming pod's `term` selects,
/// with that node's labels. Candidates come from the state's label index.
fn for_each_selected(
    term: &PodAffinityTerm,
    state: &ClusterState,
    interner: &Interner,
    mut f: impl FnMut(&PodInfo, &NodeState),
) {
    let Some(selector) = term.selector.as_ref() else {
        return; // upstream: a nil labelSelector is labels.Nothing().
    };
    // The index checks the label selector, and the namespace when the term has only listed
    // namespaces; with a namespaceSelector the namespace is checked here.
    let namespaces = if term.namespace_selector.is_none() {
        Some(&term.namespaces[..])
    } else {
        None
    };
    state.for_each_pod_matching(selector, namespaces, |p, id| {
        let node = state.node(id);
        if node.exists && (namespaces.is_some() || incoming_term_selects(term, p, state, interner))
        {
            f(p, node);
        }
    });
}

/// As [`for_each_selected`] for callers that need only each node and how many selected pods it
/// holds: a one-label selector over listed namespaces is read from the state's per-node counts
/// without visiting pods (upstream counts terminating pods here too).
fn for_each_selected_count(
    term: &PodAffinityTerm,
    state: &ClusterState,
    interner: &Interner,
    mut f: impl FnMut(&NodeState, i64),
) {
    let Some(selector) = term.selector.as_ref() else {
        return;
    };
    if term.namespace_selector.is_none()
        && let Some(first) = term.namespaces.first()
        && state.pod_counts_per_node(selector, *first, true).is_some()
    {
        for (i, &ns) in term.namespaces.iter().enumerate() {
            if term.namespaces[..i].contains(&ns) {
                continue; // a namespace listed twice selects its pods once
            }
            let Some(counts) = state.pod_counts_per_node(selector, ns, true) else {
                continue;
            };
            for (id, num) in counts.iter() {
                let node = state.node(id);
                if node.exists && num > 0 {
                    f(node, i64::from(num));
                }
            }
        }
        return;
    }
    for_each_selected(term, state, interner, |_, node| f(node, 1));
}

/// The first term list of the pod holding a label selector that failed parsing (upstream
/// `framework.NewPodInfo` fails the pod then).
fn unparsable_terms(pod: &PodInfo) -> Option<&'static str> {
    let bad = |t: &PodAffinityTerm| {
        t.selector.as_ref().is_some_and(|s| s.invalid)
            || t.namespace_selector.as_ref().is_some_and(|s| s.invalid)
    };
    let a = &pod.pod_affinity;
    if a.required_affinity.iter().any(bad) {
        Some("requiredAffinityTerms")
    } else if a.required_anti_affinity.iter().any(bad) {
        Some("requiredAntiAffinityTerms")
    } else if a.preferred_affinity.iter().any(|w| bad(&w.term)) {
        Some("preferredAffinityTerms")
    } else if a.preferred_anti_affinity.iter().any(|w| bad(&w.term)) {
        Some("preferredAntiAffinityTerms")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// PreFilter / Filter.

/// upstream `preFilterState`.
#[derive(Clone, Debug, Default, PartialEq)]
struct PreFilterState {
    /// Placed pods whose required anti-affinity terms select the incoming pod.
    existing_anti_affinity: TopologyCounts,
    /// Placed pods matching all of the incoming pod's required affinity terms (one per term).
    affinity: TopologyCounts,
    /// Placed pods matching each of the incoming pod's required anti-affinity terms.
    anti_affinity: TopologyCounts,
    /// The incoming pod matches all of its own required affinity terms.
    matches_own_affinity: bool,
}

impl PreFilterState {
    /// upstream `preFilterState.updateWithPod`: `other` is (to be) placed on `node`
    /// (`delta` = 1) or taken away from it (`delta` = −1).
    fn update_with_pod(
        &mut self,
        pod: &PodInfo,
        other: &PodInfo,
        node: &NodeState,
        delta: i64,
        view: ClusterView<'_>,
    ) {
        let state = view.state;
        let interner = view.interner();
        let labels = &node.info.labels;
        let ns_labels = state.namespace_labels(pod.namespace_sym);
        for t in &other.pod_affinity.required_anti_affinity {
            if t.matches(pod, ns_labels, interner) {
                self.existing_anti_affinity
                    .update(labels, t.topology_key, delta);
            }
        }
        let affinity = &pod.pod_affinity.required_affinity;
        if selects_all(affinity, other, state, interner) {
            for t in affinity {
                self.affinity.update(labels, t.topology_key, delta);
            }
        }
        for t in &pod.pod_affinity.required_anti_affinity {
            if incoming_term_selects(t, other, state, interner) {
                self.anti_affinity.update(labels, t.topology_key, delta);
            }
        }
    }
}

/// Why a node fails, without building the rejection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Failure {
    Affinity,
    AntiAffinity,
    ExistingAntiAffinity,
}

impl Failure {
    fn rejection(self) -> Rejection {
        match self {
            Failure::Affinity => Rejection::unresolvable(ERR_REASON_AFFINITY),
            Failure::AntiAffinity => Rejection::unschedulable(ERR_REASON_ANTI_AFFINITY),
            Failure::ExistingAntiAffinity => {
                Rejection::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY)
            }
        }
    }
}

/// upstream `satisfyPodAffinity`: every term's topology key is on the node and some matching pod
/// is in each term's domain, or no pod matches anywhere yet and the pod matches its own terms.
fn satisfies_affinity(s: &PreFilterState, pod: &PodInfo, labels: &Labels) -> bool {
    let mut pods_exist = true;
    for term in &pod.pod_affinity.required_affinity {
        let Some(value) = labels.get(term.topology_key) else {
            return false; // All topology labels must exist on the node.
        };
        if s.affinity.get(term.topology_key, value) <= 0 {
            pods_exist = false;
        }
    }
    pods_exist || (s.affinity.is_empty() && s.matches_own_affinity)
}

/// upstream `satisfyPodAntiAffinity`.
fn satisfies_anti_affinity(s: &PreFilterState, pod: &PodInfo, labels: &Labels) -> bool {
    s.anti_affinity.is_empty()
        || !pod.pod_affinity.required_anti_affinity.iter().any(|t| {
            labels
                .get(t.topology_key)
                .is_some_and(|v| s.anti_affinity.get(t.topology_key, v) > 0)
        })
}

/// The three checks of upstream `Filter`, in its order.
fn check(s: &PreFilterState, pod: &PodInfo, labels: &Labels) -> Result<(), Failure> {
    if !satisfies_affinity(s, pod, labels) {
        return Err(Failure::Affinity);
    }
    if !satisfies_anti_affinity(s, pod, labels) {
        return Err(Failure::AntiAffinity);
    }
    if s.existing_anti_affinity.any_positive_on(labels) {
        return Err(Failure::ExistingAntiAffinity);
    }
    Ok(())
}

/// upstream `podMatchesAllAffinityTerms`: there are terms, and `pod` matches every one
/// (against no namespace labels).
fn matches_all(terms: &[PodAffinityTerm], pod: &PodInfo, interner: &Interner) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod, None, interner))
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister`: `{Pod, Add|UpdatePodLabel|Delete}`,
    /// `{Node, Add|UpdateNodeLabel|UpdateNodeTaint}`: other pods count, anywhere in a domain.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::ASSIGNED_POD_ADD
            | C::ASSIGNED_POD_LABEL
            | C::ASSIGNED_POD_DELETE
            | C::NODE_ADD
            | C::NODE_LABEL
            | C::NODE_TAINT
    }
    /// upstream `isSchedulableAfterPodChange` / `isSchedulableAfterNodeChange`, which look
    /// only at the pending pod's own required terms (namespace selectors matched against no
    /// labels, as upstream passes none): an assigned pod added, or relabelled to match, that
    /// matches every affinity term; one deleted, or relabelled away, that matched every
    /// anti-affinity term; a node added or changed that has a term's topology key. As upstream,
    /// a pod rejected only by an existing pod's anti-affinity is not moved when that pod goes:
    /// it waits for another event or the flush of `podMaxInUnschedulablePodsDuration`.
    fn queueing_hint(
        &self,
        pod: &PodInfo,
        change: &sched_core::framework::ClusterChange,
        interner: &Interner,
    ) -> sched_core::framework::QueueingHint {
        use sched_core::framework::ClusterChange as Ch;
        let affinity = &pod.pod_affinity.required_affinity;
        let anti = &pod.pod_affinity.required_anti_affinity;
        let hint = match change {
            Ch::AssignedPodAdded(p) => matches_all(affinity, p, interner),
            Ch::AssignedPodDeleted(p) => matches_all(anti, p, interner),
            Ch::AssignedPodUpdated { old, new, .. } => {
                (!matches_all(affinity, old, interner) && matches_all(affinity, new, interner))
                    || (matches_all(anti, old, interner) && !matches_all(anti, new, interner))
            }
            Ch::NodeAdded(n) | Ch::NodeUpdated { new: n, .. } => affinity
                .iter()
                .chain(anti)
                .any(|t| n.labels.get(t.topology_key).is_some()),
            // Not registered upstream (no node delete event); moved as without a hint.
            Ch::NodeDeleted(_) | Ch::Events(_) => true,
        };
        sched_core::framework::QueueingHint::from(hint)
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

impl PreFilterPlugin for InterPodAffinity {
    /// upstream `PreFilter`.
    fn pre_filter(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        if let Some(list) = unparsable_terms(pod) {
            return Err(Rejection::unresolvable(format!(
                "parsing pod: {list}: invalid label selector"
            )));
        }
        let state = view.state;
        let interner = view.interner();
        let mut s = PreFilterState::default();

        // upstream getExistingAntiAffinityCounts: placed pods' required anti-affinity terms that
        // select the incoming pod, at the topology pair of the placed pod's (existing) node.
        state.for_each_existing_term_matching(pod, |g| {
            if !matches!(g.kind, TermKind::RequiredAntiAffinity) {
                return;
            }
            for (&id, &n) in &g.nodes {
                let node = state.node(id);
                if node.exists {
                    s.existing_anti_affinity.update(
                        &node.info.labels,
                        g.term.topology_key,
                        i64::from(n),
                    );
                }
            }
        });

        // upstream getIncomingAffinityAntiAffinityCounts.
        let affinity = &pod.pod_affinity.required_affinity;
        if let [only] = &affinity[..] {
            // One term: a pod counts where the term selects it, so per-node counts serve.
            for_each_selected_count(only, state, interner, |node, num| {
                s.affinity.update(&node.info.labels, only.topology_key, num);
            });
        } else if let Some(first) = affinity.first() {
            for_each_selected(first, state, interner, |p, node| {
                if affinity[1..]
                    .iter()
                    .all(|t| incoming_term_selects(t, p, state, interner))
                {
                    for t in affinity {
                        s.affinity.update(&node.info.labels, t.topology_key, 1);
                    }
                }
            });
        }
        for t in &pod.pod_affinity.required_anti_affinity {
            for_each_selected_count(t, state, interner, |node, num| {
                s.anti_affinity
                    .update(&node.info.labels, t.topology_key, num);
            });
        }
        s.matches_own_affinity = selects_all(affinity, pod, state, interner);

        if s.existing_anti_affinity.is_empty()
            && affinity.is_empty()
            && pod.pod_affinity.required_anti_affinity.is_empty()
        {
            return Ok(PreFilterOutcome::Skip);
        }
        cycle.write(s);
        Ok(PreFilterOutcome::Proceed)
    }

    /// upstream `AddPod`: `added` is placed on `node` in a dry run.
    fn add_pod(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) {
        update_state(cycle, pod, added, node, 1, view);
    }

    /// upstream `RemovePod`: `removed` leaves `node` in a dry run (a preemption victim).
    fn remove_pod(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) {
        update_state(cycle, pod, removed, node, -1, view);
    }
}

/// Applies `updateWithPod` to the cycle's PreFilter state (nothing when PreFilter did not run;
/// upstream reports an error then, which the framework's callers log).
fn update_state(
    cycle: &mut CycleState,
    pod: &PodInfo,
    other: &PodInfo,
    node: &NodeState,
    delta: i64,
    view: ClusterView<'_>,
) {
    if let Some(s) = cycle.read_mut::<PreFilterState>() {
        s.update_with_pod(pod, other, node, delta, view);
    }
}

impl FilterPlugin for InterPodAffinity {
    /// upstream `Filter`.
    fn filter(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> FilterResult {
        let Some(s) = cycle.read::<PreFilterState>() else {
            return Err(Rejection::error(ERR_NO_PRE_FILTER_STATE));
        };
        check(s, pod, &node.info.labels).map_err(Failure::rejection)
    }

    /// As `filter` per node, with the state read once and no rejections built.
    fn filter_nodes(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        let Some(s) = cycle.read::<PreFilterState>() else {
            return 0;
        };
        mask_where(nodes, live, |id| {
            check(s, pod, &view.state.node(id).info.labels).is_ok()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// PreScore / Score / NormalizeScore.

/// upstream `preScoreState.topologyScore`, flattened to `(key, value)` pairs.
#[derive(Clone, Debug, Default)]
struct PreScoreState {
    scores: TopologyCounts,
}

impl PreScoreState {
    /// upstream `Score`: Σ over topology keys of the score of the node's value.
    fn node_score(&self, labels: &Labels) -> i64 {
        self.scores
            .keys
            .iter()
            .map(|&k| labels.get(k).map_or(0, |v| self.scores.get(k, v)))
            .sum()
    }
}

/// Adds `weight × sign` at the topology pair of `node` for each term of the incoming pod
/// (upstream `processTerms` over `state.podInfo.Preferred(Anti)AffinityTerms`).
fn add_incoming_terms(
    terms: &[WeightedPodAffinityTerm],
    sign: i64,
    state: &ClusterState,
    interner: &Interner,
    out: &mut TopologyCounts,
    touched: &mut bool,
) {
    for w in terms {
        let key = w.term.topology_key;
        for_each_selected_count(&w.term, state, interner, |node, num| {
            if let Some(value) = node.info.labels.get(key) {
                *touched = true;
                out.add(key, value, i64::from(w.weight) * sign * num);
            }
        });
    }
}

impl PreScorePlugin for InterPodAffinity {
    /// upstream `PreScore`.
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[NodeId],
        view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        let a = &pod.pod_affinity;
        let has_constraints =
            !a.preferred_affinity.is_empty() || !a.preferred_anti_affinity.is_empty();
        if self.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Ok(PreScoreOutcome::Skip);
        }
        if let Some(list) = unparsable_terms(pod) {
            return Err(Rejection::error(format!(
                "parsing pod: {list}: invalid label selector"
            )));
        }
        let state = view.state;
        let interner = view.interner();
        let mut scores = TopologyCounts::with_capacity(64);
        // upstream: the node-level maps get an entry whenever a term matches on a node with the
        // topology key, even for a zero sum; PreScore skips when no node got one.
        let mut touched = false;

        add_incoming_terms(
            &a.preferred_affinity,
            1,
            state,
            interner,
            &mut scores,
            &mut touched,
        );
        add_incoming_terms(
            &a.preferred_anti_affinity,
            -1,
            state,
            interner,
            &mut scores,
            &mut touched,
        );

        let hard = i64::from(self.hard_pod_affinity_weight);
        state.for_each_existing_term_matching(pod, |g| {
            let weight = match g.kind {
                TermKind::RequiredAffinity if hard > 0 => hard,
                TermKind::PreferredAffinity => i64::from(g.weight),
                TermKind::PreferredAntiAffinity => -i64::from(g.weight),
                _ => return,
            };
            let key = g.term.topology_key;
            for (&id, &n) in &g.nodes {
                let node = state.node(id);
                if !node.exists {
                    continue;
                }
                if let Some(value) = node.info.labels.get(key) {
                    touched = true;
                    scores.add(key, value, weight * i64::from(n));
                }
            }
        });

        if !touched {
            return Ok(PreScoreOutcome::Skip);
        }
        cycle.write(PreScoreState { scores });
        Ok(PreScoreOutcome::Proceed)
    }
}

impl ScorePlugin for InterPodAffinity {
    /// upstream `Score` (0 when PreScore did not run; upstream fails the cycle then).
    fn score(
        &self,
        cycle: &CycleState,
        _pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> i64 {
        cycle
            .read::<PreScoreState>()
            .map_or(0, |s| s.node_score(&node.info.labels))
    }

    /// As `score` per node, with the state read once.
    fn score_nodes(
        &self,
        cycle: &CycleState,
        _pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        let s = cycle.read::<PreScoreState>();
        for (o, &id) in out.iter_mut().zip(nodes) {
            *o = s.map_or(0, |s| s.node_score(&view.state.node(id).info.labels));
        }
    }

    fn has_normalize(&self) -> bool {
        true
    }

    /// upstream `NormalizeScore`.
    fn normalize(&self, cycle: &CycleState, _pod: &PodInfo, scores: &mut [i64]) {
        // PreScore writes its state only when some term counted on some node (upstream's
        // `len(topologyScore) == 0` case is its Skip then).
        if cycle.read::<PreScoreState>().is_none() {
            return;
        }
        normalize_min_max(scores);
    }
}

/// upstream `NormalizeScore`'s arithmetic: `int64(100 * (float64(s - min) / float64(max - min)))`,
/// every score 0 when all are equal.
fn normalize_min_max(scores: &mut [i64]) {
    let (Some(&min), Some(&max)) = (scores.iter().min(), scores.iter().max()) else {
        return;
    };
    let diff = max.wrapping_sub(min);
    for s in scores.iter_mut() {
        let f = if diff > 0 {
            MAX_NODE_SCORE as f64 * (s.wrapping_sub(min) as f64 / diff as f64)
        } else {
            0.0
        };
        // `as` truncates toward zero, as Go's int64(float64) does for values in range.
        *s = f as i64;
    }
}
