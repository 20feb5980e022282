//! PodTopologySpread: the pod's `topologySpreadConstraints` (or the profile's default
//! constraints) — hard ones filter nodes (PreFilter, Filter, with AddPod/RemovePod for
//! preemption), soft ones rank them (PreScore, Score, NormalizeScore).
//!
//! Mirrors upstream 1.35 `pkg/scheduler/framework/plugins/podtopologyspread/{plugin.go,
//! common.go,filtering.go,scoring.go}` with the 1.35 default feature gates
//! (`NodeInclusionPolicyInPodTopologySpread` GA, `MatchLabelKeysInPodTopologySpread` on,
//! `TaintTolerationComparisonOperators` off):
//!
//! * constraints are the pod's own with the wanted `whenUnsatisfiable`; a pod without any
//!   constraint gets the plugin's default constraints with that action, all with the selector
//!   of upstream `helper.DefaultSelector` ([`ClusterState::default_spread_selector`]; none when
//!   no Service/RC/RS/SS selects the pod). `System` defaulting gives hostname maxSkew 3 and
//!   zone maxSkew 5, both `ScheduleAnyway`.
//! * `matchLabelKeys` were merged into the selector at conversion; a constraint without a
//!   `labelSelector` selects nothing (upstream `labels.Nothing()`), and an empty one counts no
//!   pod (upstream `countPodsMatchSelector` returns 0 for `selector.Empty()`) but still matches
//!   the incoming pod itself.
//! * PreFilter counts matching pods (same namespace as the incoming pod, not terminating) over
//!   every existing node that has all constraints' topology keys and passes the constraint's
//!   node inclusion policies; every such node's value is a domain, with or without pods. Filter
//!   checks `count(domain) + selfMatch - globalMin <= maxSkew` per constraint, the first
//!   failing constraint deciding; `globalMin` is 0 while there are fewer domains than
//!   `minDomains`.
//! * PreScore sizes each constraint's topology over the feasible nodes (hostname: the number of
//!   scored nodes), counts matching pods over all nodes, and Score gives
//!   `round(Σ count·ln(size+2) + maxSkew−1)`; NormalizeScore reverses it between the minimum and
//!   maximum, nodes missing a key (when required) scoring 0.
//!
//! Speed: a one-label selector (the usual Service or Deployment selector) is counted from the
//! state's per-node counts ([`ClusterState::pod_counts_per_node`]) and each node's domain read
//! from [`ClusterState::label_column`], so the work is per node holding such pods, not per pod;
//! other selectors get their pods from the state's label index
//! ([`ClusterState::for_each_pod_matching`]), never from a scan of every pod; when every node
//! carries every key and no inclusion policy can exclude a node, PreFilter takes the domains
//! from [`ClusterState::topology_domains`] without looking at nodes, and PreScore stops walking
//! the feasible nodes as soon as it has seen every value the key has in the cluster.
//! Hostname counts for Score are gathered once in PreScore from the matching pods, so Score is
//! two small-map lookups per constraint. On the 5,000-node, 100,000-pod synthetic cluster of
//! `placer-benches` (release build, one core) a whole `schedule` call took about 46 µs for a
//! Deployment pod with its own `ScheduleAnyway` zone constraint, 64 µs with the system
//! defaults (hostname + zone), 79 µs with a `DoNotSchedule` zone constraint, against 23 µs
//! for a pod PodTopologySpread skips.

use crate::node_affinity::pod_matches_required;
use rustc_hash::FxHashMap;
use sched_core::config::ProfileConfig;
use sched_core::framework::{
    ClusterView, CycleState, FilterPlugin, FilterResult, MAX_NODE_SCORE, NodeMask, Plugin,
    PreFilterOutcome, PreFilterPlugin, PreScoreOutcome, PreScorePlugin, Rejection, ScorePlugin,
    mask_where,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{
    InclusionPolicy, LabelSelector, Labels, NodeInfo, PodInfo, Taint, TaintEffect,
    WhenUnsatisfiable,
};
use sched_core::state::{ClusterState, NodeId, NodeState};
use smallvec::SmallVec;
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "PodTopologySpread";

/// upstream `ErrReasonConstraintsNotMatch` (code `Unschedulable`).
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";

/// upstream `ErrReasonNodeLabelNotMatch` (code `UnschedulableAndUnresolvable`).
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// upstream `v1.LabelHostname`: Score counts this key per node.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";

/// upstream `v1.LabelTopologyZone`.
pub const LABEL_TOPOLOGY_ZONE: &str = "topology.kubernetes.io/zone";

/// A map keyed by a symbol (a topology value or a node name).
type SymMap<V> = FxHashMap<Sym, V>;

/// One constraint of the plugin's configuration (`defaultConstraints`, or the system defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DefaultConstraint {
    max_skew: i32,
    key: Sym,
    action: WhenUnsatisfiable,
    min_domains: i32,
    affinity_honor: bool,
    taints_honor: bool,
}

/// upstream `PodTopologySpread`.
#[derive(Debug, Clone)]
pub struct PodTopologySpread {
    /// `defaultingType: System` (upstream `systemDefaulted`).
    system_defaulted: bool,
    /// The default constraints (upstream `defaultConstraints`).
    defaults: Vec<DefaultConstraint>,
    /// The interned `kubernetes.io/hostname`.
    hostname: Sym,
}

impl PodTopologySpread {
    /// Builds the plugin from the profile's validated `PodTopologySpreadArgs`
    /// (upstream `New`: `System` defaulting uses `systemDefaultConstraints`).
    ///
    /// # Errors
    /// Arguments that do not have the shape validation guarantees.
    pub fn factory(
        cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(Self::new(cfg, interner)?))
    }

    /// The plugin itself (see [`PodTopologySpread::factory`]).
    ///
    /// # Errors
    /// As [`PodTopologySpread::factory`].
    pub fn new(cfg: &ProfileConfig, interner: &mut Interner) -> Result<Self, String> {
        let hostname = interner.intern(LABEL_HOSTNAME);
        let args = cfg.args.other.get(NAME);
        let defaulting = args
            .and_then(|a| a.get("defaultingType"))
            .and_then(|v| v.as_str())
            .unwrap_or("System");
        match defaulting {
            "System" => {
                // upstream plugin.go systemDefaultConstraints.
                let zone = interner.intern(LABEL_TOPOLOGY_ZONE);
                let soft = |key, max_skew| DefaultConstraint {
                    max_skew,
                    key,
                    action: WhenUnsatisfiable::ScheduleAnyway,
                    min_domains: 1,
                    affinity_honor: true,
                    taints_honor: false,
                };
                Ok(PodTopologySpread {
                    system_defaulted: true,
                    defaults: vec![soft(hostname, 3), soft(zone, 5)],
                    hostname,
                })
            }
            "List" => {
                let list = match args.and_then(|a| a.get("defaultConstraints")) {
                    None => Vec::new(),
                    Some(v) => k8s_openapi::serde_json::from_value::<
                        Vec<k8s_openapi::api::core::v1::TopologySpreadConstraint>,
                    >(v.clone())
                    .map_err(|e| format!("defaultConstraints: {e}"))?,
                };
                let mut defaults = Vec::with_capacity(list.len());
                for c in &list {
                    let action = match c.when_unsatisfiable.as_str() {
                        "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
                        "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
                        other => {
                            return Err(format!(
                                "defaultConstraints: unsupported whenUnsatisfiable {other:?}"
                            ));
                        }
                    };
                    defaults.push(DefaultConstraint {
                        max_skew: c.max_skew,
                        key: interner.intern(&c.topology_key),
                        action,
                        // upstream filterTopologySpreadConstraints: ptr.Deref(MinDomains, 1),
                        // nodeAffinityPolicy Honor and nodeTaintsPolicy Ignore when unset.
                        min_domains: c.min_domains.unwrap_or(1),
                        affinity_honor: c.node_affinity_policy.as_deref() != Some("Ignore"),
                        taints_honor: c.node_taints_policy.as_deref() == Some("Honor"),
                    });
                }
                Ok(PodTopologySpread {
                    system_defaulted: false,
                    defaults,
                    hostname,
                })
            }
            other => Err(format!("unsupported defaultingType {other:?}")),
        }
    }
}

/// Where a constraint's selector lives: in the pod's own constraint, or the cycle's default
/// selector (upstream sets every default constraint's `Selector` to `DefaultSelector`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sel {
    Pod(usize),
    Default,
}

/// upstream `topologySpreadConstraint`, with the selector by reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Constraint {
    max_skew: i32,
    key: Sym,
    sel: Sel,
    min_domains: i32,
    affinity_honor: bool,
    taints_honor: bool,
}

/// The constraints of one action and the default selector when they are defaults.
type Constraints = (SmallVec<[Constraint; 2]>, Option<LabelSelector>);

impl PodTopologySpread {
    /// upstream `getConstraints` / `initPreScoreState`'s choice: the pod's constraints with
    /// `action` when it has any constraint, else the defaults with `action` and the
    /// `DefaultSelector` (none when that selector is empty). `Ok(None)` = no constraints.
    fn constraints(
        &self,
        pod: &PodInfo,
        action: WhenUnsatisfiable,
        state: &ClusterState,
    ) -> Result<Option<Constraints>, Rejection> {
        let mut out: SmallVec<[Constraint; 2]> = SmallVec::new();
        if !pod.topology_spread.is_empty() {
            for (i, c) in pod.topology_spread.iter().enumerate() {
                if c.when_unsatisfiable != action {
                    continue;
                }
                if c.selector.as_ref().is_some_and(|s| s.invalid) {
                    // upstream: LabelSelectorAsSelector fails and so does the extension point.
                    let what = match action {
                        WhenUnsatisfiable::DoNotSchedule => "hard",
                        WhenUnsatisfiable::ScheduleAnyway => "soft",
                    };
                    return Err(Rejection::error(format!(
                        "obtaining pod's {what} topology spread constraints: invalid labelSelector"
                    )));
                }
                out.push(Constraint {
                    max_skew: c.max_skew,
                    key: c.topology_key,
                    sel: Sel::Pod(i),
                    min_domains: c.min_domains,
                    affinity_honor: c.node_affinity_policy == InclusionPolicy::Honor,
                    taints_honor: c.node_taints_policy == InclusionPolicy::Honor,
                });
            }
            return Ok((!out.is_empty()).then_some((out, None)));
        }
        // upstream buildDefaultConstraints.
        for d in self.defaults.iter().filter(|d| d.action == action) {
            out.push(Constraint {
                max_skew: d.max_skew,
                key: d.key,
                sel: Sel::Default,
                min_domains: d.min_domains,
                affinity_honor: d.affinity_honor,
                taints_honor: d.taints_honor,
            });
        }
        if out.is_empty() {
            return Ok(None);
        }
        match state.default_spread_selector(pod) {
            Some(sel) if !sel.is_empty() => Ok(Some((out, Some(sel)))),
            _ => Ok(None),
        }
    }
}

/// The selector of `c`: `None` is upstream's `labels.Nothing()` (an unset `labelSelector`).
fn selector<'a>(
    c: &Constraint,
    pod: &'a PodInfo,
    default: Option<&'a LabelSelector>,
) -> Option<&'a LabelSelector> {
    match c.sel {
        Sel::Pod(i) => pod.topology_spread.get(i).and_then(|t| t.selector.as_ref()),
        Sel::Default => default,
    }
}

/// upstream `Selector.Matches(labels)` (Nothing matches nothing; `{}` matches everything).
fn selector_matches(sel: Option<&LabelSelector>, labels: &Labels, interner: &Interner) -> bool {
    sel.is_some_and(|s| s.matches(labels, interner))
}

/// Whether upstream `countPodsMatchSelector` can count anything with `sel`: it returns 0 for an
/// empty selector, and Nothing matches no pod.
fn counts_pods(sel: Option<&LabelSelector>) -> bool {
    sel.is_some_and(|s| !s.is_empty())
}

/// upstream `nodeLabelsMatchSpreadConstraints`: the node has every constraint's key.
fn has_all_keys(labels: &Labels, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| labels.get(c.key).is_some())
}

/// upstream `FindMatchingUntoleratedTaint` with `DoNotScheduleTaintsFilterFunc`.
fn has_untolerated_hard_taint(pod: &PodInfo, taints: &[Taint]) -> bool {
    taints
        .iter()
        .filter(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
        .any(|taint| !pod.tolerations.iter().any(|t| t.tolerates(taint)))
}

/// upstream `topologySpreadConstraint.matchNodeInclusionPolicies`.
fn node_included(c: &Constraint, pod: &PodInfo, node: &NodeInfo, interner: &Interner) -> bool {
    (!c.affinity_honor || pod_matches_required(pod, node, interner))
        && (!c.taints_honor || !has_untolerated_hard_taint(pod, &node.taints))
}

/// Whether `c`'s inclusion policies can exclude a node for this pod at all (without looking
/// at nodes): nodeAffinityPolicy Honor with a nodeSelector or required node affinity, or
/// nodeTaintsPolicy Honor while some node has a `NoSchedule`/`NoExecute` taint.
fn policies_may_exclude(c: &Constraint, pod: &PodInfo, state: &ClusterState) -> bool {
    (c.affinity_honor && pod.has_required_node_constraints())
        || (c.taints_honor && state.nodes_with_hard_taints() > 0)
}

/// Whether every existing node that has one of the constraints' keys has all of them: then
/// a node's eligibility for a constraint only depends on that constraint's own key.
fn keys_uniform(constraints: &[Constraint], state: &ClusterState) -> bool {
    let first = constraints[0].key;
    constraints.iter().all(|c| c.key == first)
        || constraints
            .iter()
            .all(|c| state.nodes_with_label(c.key) == state.num_nodes())
}

/// upstream `criticalPaths`: two (value, count) pairs; `[0]` always holds the minimum count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CriticalPaths([(Sym, i64); 2]);

impl CriticalPaths {
    /// upstream `newCriticalPaths`: both counts `math.MaxInt32`, values `""`.
    fn new() -> Self {
        CriticalPaths([(Sym::EMPTY, i64::from(i32::MAX)); 2])
    }

    /// upstream `criticalPaths.update`, rule for rule.
    fn update(&mut self, value: Sym, num: i64) {
        let p = &mut self.0;
        let i = if value == p[0].0 {
            Some(0)
        } else if value == p[1].0 {
            Some(1)
        } else {
            None
        };
        match i {
            Some(i) => {
                p[i].1 = num;
                if p[0].1 > p[1].1 {
                    p.swap(0, 1);
                }
            }
            None => {
                if num < p[0].1 {
                    p[1] = p[0];
                    p[0] = (value, num);
                } else if num < p[1].1 {
                    p[1] = (value, num);
                }
            }
        }
    }
}

/// upstream `preFilterState`, indexed by constraint.
#[derive(Clone, Debug)]
struct PreFilterState {
    constraints: SmallVec<[Constraint; 2]>,
    default_selector: Option<LabelSelector>,
    /// Whether each constraint's selector matches the incoming pod (`selfMatchNum`).
    self_match: SmallVec<[bool; 2]>,
    /// upstream `TpValueToMatchNum`.
    counts: SmallVec<[SymMap<i64>; 2]>,
    /// upstream `CriticalPaths`.
    paths: SmallVec<[CriticalPaths; 2]>,
}

impl PreFilterState {
    /// upstream `minMatchNum`.
    fn min_match_num(&self, i: usize) -> i64 {
        if self.counts[i].len() < usize::try_from(self.constraints[i].min_domains).unwrap_or(0) {
            0
        } else {
            self.paths[i].0[0].1
        }
    }
}

impl PodTopologySpread {
    /// upstream `calPreFilterState`: `None` when the pod has no hard constraints.
    fn pre_filter_state(
        &self,
        pod: &PodInfo,
        state: &ClusterState,
    ) -> Result<Option<PreFilterState>, Rejection> {
        let Some((constraints, default_selector)) =
            self.constraints(pod, WhenUnsatisfiable::DoNotSchedule, state)?
        else {
            return Ok(None);
        };
        let interner = state.interner();
        let n = constraints.len();
        let mut counts: SmallVec<[SymMap<i64>; 2]> = (0..n).map(|_| SymMap::default()).collect();
        let default = default_selector.as_ref();
        let fast = keys_uniform(&constraints, state)
            && !constraints
                .iter()
                .any(|c| policies_may_exclude(c, pod, state));
        // Eligibility of node (by index) for constraint i, at `index * n + i`; only filled on the
        // exact path.
        let mut eligible: Vec<bool> = Vec::new();
        if fast {
            // Every existing node with the key has all keys and passes the policies: the
            // domains are the key's values in the cluster.
            for (i, c) in constraints.iter().enumerate() {
                if let Some(domains) = state.topology_domains(c.key) {
                    counts[i].reserve(domains.len());
                    for &v in domains.keys() {
                        counts[i].insert(v, 0);
                    }
                }
            }
        } else {
            let slots = state
                .node_ids()
                .iter()
                .map(|id| id.index() + 1)
                .max()
                .unwrap_or(0);
            eligible = vec![false; slots * n];
            for &id in state.node_ids() {
                let node = &state.node(id).info;
                if !has_all_keys(&node.labels, &constraints) {
                    continue;
                }
                for (i, c) in constraints.iter().enumerate() {
                    if !node_included(c, pod, node, interner) {
                        continue;
                    }
                    if let Some(v) = node.labels.get(c.key) {
                        counts[i].entry(v).or_insert(0);
                        eligible[id.index() * n + i] = true;
                    }
                }
            }
        }
        let namespaces = [pod.namespace_sym];
        for (i, c) in constraints.iter().enumerate() {
            let sel = selector(c, pod, default);
            if !counts_pods(sel) {
                continue;
            }
            let Some(sel) = sel else { continue };
            let map = &mut counts[i];
            let eligible = &eligible;
            // The key's value per existing node (`None` for placeholders and nodes without it).
            let column = state.label_column(c.key);
            let mut add = |id: NodeId, num: i64| {
                if !fast && !eligible.get(id.index() * n + i).copied().unwrap_or(false) {
                    return;
                }
                if let Some(v) = column.get(id)
                    && let Some(count) = map.get_mut(&v)
                {
                    *count += num;
                }
            };
            // A one-label selector is counted per node by the state; others visit the pods.
            if let Some(per_node) = state.pod_counts_per_node(sel, pod.namespace_sym, false) {
                for (id, num) in per_node.iter() {
                    add(id, i64::from(num));
                }
            } else {
                state.for_each_pod_matching(sel, Some(&namespaces), |p, id| {
                    if !p.terminating {
                        add(id, 1);
                    }
                });
            }
        }
        let paths = counts
            .iter()
            .map(|m| {
                let mut p = CriticalPaths::new();
                for (&v, &num) in m {
                    p.update(v, num);
                }
                p
            })
            .collect();
        let self_match = constraints
            .iter()
            .map(|c| selector_matches(selector(c, pod, default), &pod.labels, interner))
            .collect();
        Ok(Some(PreFilterState {
            constraints,
            default_selector,
            self_match,
            counts,
            paths,
        }))
    }

    /// upstream `updateWithPod`: `delta` is +1 (AddPod) or −1 (RemovePod).
    fn update_with_pod(
        s: &mut PreFilterState,
        pod: &PodInfo,
        updated: &PodInfo,
        node: &NodeState,
        interner: &Interner,
        delta: i64,
    ) {
        if updated.namespace_sym != pod.namespace_sym || !node.exists {
            return;
        }
        let info = &node.info;
        if !has_all_keys(&info.labels, &s.constraints) {
            return;
        }
        for i in 0..s.constraints.len() {
            let c = s.constraints[i];
            // upstream uses Selector.Matches here (not countPodsMatchSelector): an empty
            // selector counts the pod, and terminating pods are not skipped.
            if !selector_matches(
                selector(&c, pod, s.default_selector.as_ref()),
                &updated.labels,
                interner,
            ) {
                continue;
            }
            if !node_included(&c, pod, info, interner) {
                continue;
            }
            let Some(v) = info.labels.get(c.key) else {
                continue;
            };
            let count = s.counts[i].entry(v).or_insert(0);
            *count += delta;
            let num = *count;
            s.paths[i].update(v, num);
        }
    }

    fn update_cycle(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        updated: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
        delta: i64,
    ) {
        if let Some(s) = cycle.read_mut::<PreFilterState>() {
            Self::update_with_pod(s, pod, updated, node, view.interner(), delta);
        }
    }
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister`: `{Pod, Add|UpdatePodLabel|UpdatePodToleration|Delete}`,
    /// `{Node, Add|Delete|UpdateNodeLabel|UpdateNodeTaint}`: other pods count, anywhere in a
    /// domain.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::ASSIGNED_POD_ADD
            | C::ASSIGNED_POD_LABEL
            | C::ASSIGNED_POD_DELETE
            | C::UNSCHEDULED_POD_UPDATE
            | C::NODE_ADD
            | C::NODE_DELETE
            | C::NODE_LABEL
            | C::NODE_TAINT
    }
    /// upstream `isSchedulableAfterPodChange` / `isSchedulableAfterNodeChange`, over the pod's
    /// hard (`DoNotSchedule`) constraints, the only ones its Filter rejects with. A pod without
    /// constraints of its own gets the default ones, whose selector comes from the cluster's
    /// Services and controllers, which a hint does not see: any registered event moves it.
    fn queueing_hint(
        &self,
        pod: &PodInfo,
        change: &sched_core::framework::ClusterChange,
        interner: &Interner,
    ) -> sched_core::framework::QueueingHint {
        use sched_core::framework::ClusterChange as Ch;
        use sched_core::framework::QueueingHint::Queue;
        if pod.topology_spread.is_empty() {
            return Queue;
        }
        let hard: SmallVec<[&sched_core::model::TopologySpreadConstraint; 2]> = pod
            .topology_spread
            .iter()
            .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
            .collect();
        if hard
            .iter()
            .any(|c| c.selector.as_ref().is_some_and(|s| s.invalid))
        {
            return Queue; // upstream: getConstraints fails, and an error queues
        }
        // upstream podLabelsMatchSpreadConstraints: some constraint's selector matches.
        let matches_any = |labels: &Labels| {
            hard.iter()
                .any(|c| selector_matches(c.selector.as_ref(), labels, interner))
        };
        // upstream nodeLabelsMatchSpreadConstraints: the node has every topology key.
        let has_keys = |n: &NodeInfo| hard.iter().all(|c| n.labels.get(c.topology_key).is_some());
        // upstream involvedInTopologySpreading: an assigned pod of the same namespace (the
        // changes given here are all of assigned pods).
        let involved = |p: &PodInfo| p.namespace_sym == pod.namespace_sym;
        let hint = match change {
            Ch::AssignedPodAdded(p) => involved(p) && matches_any(&p.labels),
            Ch::AssignedPodDeleted(p) => involved(p) && matches_any(&p.labels),
            Ch::AssignedPodUpdated { old, new, .. } => {
                involved(old)
                    && involved(new)
                    && old.labels != new.labels
                    && hard.iter().any(|c| {
                        selector_matches(c.selector.as_ref(), &old.labels, interner)
                            != selector_matches(c.selector.as_ref(), &new.labels, interner)
                    })
            }
            Ch::NodeAdded(n) | Ch::NodeDeleted(n) => has_keys(n),
            Ch::NodeUpdated { old, new, .. } => {
                let (was, is) = (has_keys(old), has_keys(new));
                was != is
                    || (is
                        && (hard.iter().any(|c| {
                            old.labels.get(c.topology_key) != new.labels.get(c.topology_key)
                        }) || old.taints != new.taints))
            }
            Ch::Events(_) => true,
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

impl PreFilterPlugin for PodTopologySpread {
    /// upstream `PreFilter`: Skip without hard constraints.
    fn pre_filter(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        match self.pre_filter_state(pod, view.state)? {
            None => Ok(PreFilterOutcome::Skip),
            Some(s) => {
                cycle.write(s);
                Ok(PreFilterOutcome::Proceed)
            }
        }
    }

    /// upstream `AddPod`.
    fn add_pod(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) {
        self.update_cycle(cycle, pod, added, node, view, 1);
    }

    /// upstream `RemovePod`.
    fn remove_pod(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) {
        self.update_cycle(cycle, pod, removed, node, view, -1);
    }
}

impl FilterPlugin for PodTopologySpread {
    /// upstream `Filter`: per constraint in order, a node without the key is
    /// `UnschedulableAndUnresolvable`, a skew above `maxSkew` is `Unschedulable`.
    fn filter(
        &self,
        cycle: &CycleState,
        _pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> FilterResult {
        let Some(s) = cycle.read::<PreFilterState>() else {
            return Err(Rejection::error(
                "reading \"PreFilterPodTopologySpread\" from cycleState: not found",
            ));
        };
        filter_node(s, &node.info.labels)
    }

    /// As `filter` per node, with the state read once and no rejection built.
    fn filter_nodes(
        &self,
        cycle: &CycleState,
        _pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        let Some(s) = cycle.read::<PreFilterState>() else {
            return 0;
        };
        mask_where(nodes, live, |id| {
            passes(s, &view.state.node(id).info.labels).is_none()
        })
    }
}

/// Why a node with `labels` fails (upstream `Filter`, first failing constraint): `Some(true)`
/// for a missing key, `Some(false)` for a skew above `maxSkew`, `None` when it passes.
#[inline]
fn passes(s: &PreFilterState, labels: &Labels) -> Option<bool> {
    for (i, c) in s.constraints.iter().enumerate() {
        let Some(value) = labels.get(c.key) else {
            return Some(true);
        };
        let min = s.min_match_num(i);
        let self_match = i64::from(s.self_match[i]);
        let matched = s.counts[i].get(&value).copied().unwrap_or(0);
        if matched + self_match - min > i64::from(c.max_skew) {
            return Some(false);
        }
    }
    None
}

/// The Filter decision for a node with `labels`.
fn filter_node(s: &PreFilterState, labels: &Labels) -> FilterResult {
    match passes(s, labels) {
        None => Ok(()),
        Some(true) => Err(Rejection::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)),
        Some(false) => Err(Rejection::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)),
    }
}

/// What Score needs of one soft constraint.
#[derive(Clone, Debug)]
struct ScoreConstraint {
    key: Sym,
    max_skew: i32,
    /// `ln(size + 2)` (upstream `topologyNormalizingWeight`).
    weight: f64,
    /// The hostname key: counts are per node (by node name) instead of per domain.
    per_node: bool,
    /// Domain value (or node name when `per_node`) -> matching pods.
    counts: SymMap<i64>,
}

/// upstream `preScoreState`.
#[derive(Clone, Debug)]
struct PreScoreState {
    constraints: SmallVec<[ScoreConstraint; 2]>,
    /// Names of the feasible nodes that lack a key (upstream `IgnoredNodes`), sorted.
    ignored: Vec<Sym>,
    /// Positions in PreScore's feasible list of the ignored nodes, ascending (NormalizeScore
    /// only gets the scores in that order).
    ignored_pos: Vec<usize>,
}

impl PreScorePlugin for PodTopologySpread {
    /// upstream `PreScore` + `initPreScoreState`.
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        feasible: &[NodeId],
        view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        let state = view.state;
        if state.num_nodes() == 0 {
            return Ok(PreScoreOutcome::Skip);
        }
        let Some((constraints, default_selector)) = self
            .constraints(pod, WhenUnsatisfiable::ScheduleAnyway, state)
            .map_err(|r| Rejection::error(format!("calculating preScoreState: {}", r.message())))?
        else {
            return Ok(PreScoreOutcome::Skip);
        };
        cycle.write(self.pre_score_state(
            pod,
            feasible,
            state,
            &constraints,
            default_selector.as_ref(),
        ));
        Ok(PreScoreOutcome::Proceed)
    }
}

impl PodTopologySpread {
    fn pre_score_state(
        &self,
        pod: &PodInfo,
        feasible: &[NodeId],
        state: &ClusterState,
        constraints: &[Constraint],
        default: Option<&LabelSelector>,
    ) -> PreScoreState {
        let interner = state.interner();
        let num_nodes = state.num_nodes();
        // upstream: only require all topology keys with the pod's own constraints or
        // non-system defaults, so nodes without a zone label still get hostname spreading.
        let require_all = !pod.topology_spread.is_empty() || !self.system_defaulted;
        let every_node_has_every_key = constraints
            .iter()
            .all(|c| state.nodes_with_label(c.key) == num_nodes);
        let mut ignored = Vec::new();
        let mut ignored_pos = Vec::new();
        if require_all && !every_node_has_every_key {
            for (pos, &id) in feasible.iter().enumerate() {
                let info = &state.node(id).info;
                if !has_all_keys(&info.labels, constraints) {
                    ignored.push(info.name_sym);
                    ignored_pos.push(pos);
                }
            }
            ignored.sort_unstable();
        }
        let scored = feasible.len() - ignored_pos.len();
        let mut out: SmallVec<[ScoreConstraint; 2]> = SmallVec::new();
        for c in constraints {
            let per_node = c.key == self.hostname;
            let mut counts = SymMap::default();
            let size = if per_node {
                scored
            } else {
                // Distinct values among the scored feasible nodes (a missing key is the value
                // "" when keys are not required, as upstream's map lookup gives). The walk stops
                // once every value the cluster has for the key has been seen.
                let in_cluster = state.topology_domains(c.key).map_or(0, |d| d.len());
                let possible = in_cluster + usize::from(state.nodes_with_label(c.key) < num_nodes);
                let mut next_ignored = ignored_pos.iter().copied().peekable();
                for (pos, &id) in feasible.iter().enumerate() {
                    if counts.len() == possible {
                        break;
                    }
                    if next_ignored.peek() == Some(&pos) {
                        next_ignored.next();
                        continue;
                    }
                    let v = state.node(id).info.labels.get(c.key).unwrap_or(Sym::EMPTY);
                    counts.entry(v).or_insert(0);
                }
                counts.len()
            };
            let sel = selector(c, pod, default);
            if let Some(sel) = sel.filter(|_| counts_pods(sel)) {
                let namespaces = [pod.namespace_sym];
                let mut add = |id: NodeId, num: i64| {
                    let node = state.node(id);
                    if !node.exists {
                        return;
                    }
                    let info = &node.info;
                    if per_node {
                        // upstream Score: countPodsMatchSelector over the node's own pods.
                        *counts.entry(info.name_sym).or_insert(0) += num;
                        return;
                    }
                    if require_all && !has_all_keys(&info.labels, constraints) {
                        return;
                    }
                    if !node_included(c, pod, info, interner) {
                        return;
                    }
                    let v = info.labels.get(c.key).unwrap_or(Sym::EMPTY);
                    if let Some(count) = counts.get_mut(&v) {
                        *count += num;
                    }
                };
                match state.pod_counts_per_node(sel, pod.namespace_sym, false) {
                    // Hostname: only the scored nodes' own counts are read by Score.
                    Some(per_node_counts) if per_node => {
                        for &id in feasible {
                            let num = per_node_counts.get(id);
                            if num > 0 {
                                add(id, i64::from(num));
                            }
                        }
                    }
                    Some(per_node_counts) => {
                        for (id, num) in per_node_counts.iter() {
                            add(id, i64::from(num));
                        }
                    }
                    None => state.for_each_pod_matching(sel, Some(&namespaces), |p, id| {
                        if !p.terminating {
                            add(id, 1);
                        }
                    }),
                }
            }
            out.push(ScoreConstraint {
                key: c.key,
                max_skew: c.max_skew,
                weight: topology_normalizing_weight(size),
                per_node,
                counts,
            });
        }
        PreScoreState {
            constraints: out,
            ignored,
            ignored_pos,
        }
    }
}

/// upstream `Score` for one node.
#[inline]
fn score_node(s: &PreScoreState, info: &NodeInfo) -> i64 {
    if !s.ignored.is_empty() && s.ignored.binary_search(&info.name_sym).is_ok() {
        return 0;
    }
    let mut score = 0.0_f64;
    for c in &s.constraints {
        let Some(value) = info.labels.get(c.key) else {
            continue;
        };
        let key = if c.per_node { info.name_sym } else { value };
        let cnt = c.counts.get(&key).copied().unwrap_or(0);
        score += cnt as f64 * c.weight + f64::from(c.max_skew - 1);
    }
    score.round() as i64
}

/// upstream `topologyNormalizingWeight`: `ln(size + 2)`.
fn topology_normalizing_weight(size: usize) -> f64 {
    (size as f64 + 2.0).ln()
}

impl ScorePlugin for PodTopologySpread {
    /// upstream `Score`: `round(Σ cnt·weight + maxSkew − 1)` over the constraints whose key the
    /// node has; 0 for an ignored node.
    fn score(
        &self,
        cycle: &CycleState,
        _pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> i64 {
        match cycle.read::<PreScoreState>() {
            Some(s) => score_node(s, &node.info),
            None => 0,
        }
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
        let Some(s) = cycle.read::<PreScoreState>() else {
            out.iter_mut().for_each(|o| *o = 0);
            return;
        };
        for (o, &id) in out.iter_mut().zip(nodes) {
            *o = score_node(s, &view.state.node(id).info);
        }
    }

    fn has_normalize(&self) -> bool {
        true
    }

    /// upstream `NormalizeScore`: `100·(max + min − s)/max` over the scored nodes (100 when
    /// `max` is 0); ignored nodes get 0.
    fn normalize(&self, cycle: &CycleState, _pod: &PodInfo, scores: &mut [i64]) {
        let Some(s) = cycle.read::<PreScoreState>() else {
            return;
        };
        let is_ignored = |i: usize| s.ignored_pos.binary_search(&i).is_ok();
        let mut min = i64::MAX;
        let mut max = 0;
        for (i, &score) in scores.iter().enumerate() {
            if is_ignored(i) {
                continue;
            }
            min = min.min(score);
            max = max.max(score);
        }
        for (i, score) in scores.iter_mut().enumerate() {
            *score = if is_ignored(i) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
    }
}

#[cfg(test)]
mod tests;
