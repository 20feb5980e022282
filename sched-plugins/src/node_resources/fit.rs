//! NodeResourcesFit (upstream `pkg/scheduler/framework/plugins/noderesources/fit.go`).
//!
//! Filter: does the node have room for the pod (pod count, cpu, memory, ephemeral-storage,
//! scalar resources)? Score: one of the `scoringStrategy` formulas over the configured
//! resources.

use super::least_allocated;
use super::most_allocated;
use super::requested_to_capacity_ratio::{self, Shape};
use super::resource_allocation::{
    PodRequestList, RequestView, ScoredResources, WeightedSum, for_each_counted, pod_request_list,
    resolve_resources,
};
use sched_core::config::{NodeResourcesFitArgs, ProfileConfig, ScoringStrategyKind};
use sched_core::convert::is_extended_resource_name;
use sched_core::framework::{
    ClusterChange, ClusterView, Code, CycleState, FilterPlugin, FilterResult, NodeMask, Plugin,
    PreFilterOutcome, PreFilterPlugin, PreScoreOutcome, PreScorePlugin, QueueingHint, Reason,
    Rejection, ScorePlugin, mask_where,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{PodInfo, Resources};
use sched_core::state::{NodeId, NodeState, NodeSummary};
use smallvec::SmallVec;
use std::sync::Arc;

/// upstream: `fit.go` reason for a full node.
const TOO_MANY_PODS: &str = "Too many pods";
/// upstream: `fit.go` reason for cpu.
const INSUFFICIENT_CPU: &str = "Insufficient cpu";
/// upstream: `fit.go` reason for memory.
const INSUFFICIENT_MEMORY: &str = "Insufficient memory";
/// upstream: `fit.go` reason for ephemeral-storage.
const INSUFFICIENT_EPHEMERAL_STORAGE: &str = "Insufficient ephemeral-storage";

/// The configured score formula, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Strategy {
    LeastAllocated,
    MostAllocated,
    RequestedToCapacityRatio(Shape),
}

/// The pod's per-resource requests computed at PreScore (upstream `preScoreState`).
#[derive(Clone)]
struct FitPreScoreState(PodRequestList);

/// The NodeResourcesFit plugin: PreFilter, Filter, PreScore and Score.
#[derive(Clone, Debug)]
pub struct NodeResourcesFit {
    /// `ignoredResources` that are extended resources (others are never ignored upstream).
    ignored_resources: SmallVec<[Sym; 2]>,
    /// `ignoredResourceGroups`.
    ignored_resource_groups: Vec<Box<str>>,
    /// The score formula.
    strategy: Strategy,
    /// `scoringStrategy.resources`, classified and interned.
    resources: ScoredResources,
}

impl NodeResourcesFit {
    /// The upstream plugin name.
    pub const NAME: &'static str = "NodeResourcesFit";

    /// Builds the plugin from its (defaulted, validated) arguments, interning resource names.
    ///
    /// # Errors
    /// A resource weight outside `1..=100` or a RequestedToCapacityRatio strategy without a
    /// shape (upstream `NewFit` re-validates its arguments the same way).
    pub fn new(args: &NodeResourcesFitArgs, interner: &mut Interner) -> Result<Self, String> {
        let specs = &args.scoring_strategy.resources;
        for (i, r) in specs.iter().enumerate() {
            if !(1..=100).contains(&r.weight) {
                return Err(format!(
                    "scoringStrategy.resources[{i}].weight: Invalid value: {}: resource weight of {} not in valid range (0, 100]",
                    r.weight, r.name
                ));
            }
        }
        let strategy = match &args.scoring_strategy.kind {
            ScoringStrategyKind::LeastAllocated => Strategy::LeastAllocated,
            ScoringStrategyKind::MostAllocated => Strategy::MostAllocated,
            ScoringStrategyKind::RequestedToCapacityRatio { shape } => Strategy::RequestedToCapacityRatio(
                Shape::from_config(shape)
                    .ok_or("scoringStrategy.requestedToCapacityRatio.shape: Required value: at least one point")?,
            ),
        };
        let ignored_resources = args
            .ignored_resources
            .iter()
            .filter(|name| is_extended_resource_name(name))
            .map(|name| interner.intern(name))
            .collect();
        Ok(NodeResourcesFit {
            ignored_resources,
            ignored_resource_groups: args
                .ignored_resource_groups
                .iter()
                .map(|g| g.as_str().into())
                .collect(),
            strategy,
            resources: resolve_resources(specs, interner),
        })
    }

    /// The registry's factory: builds the plugin from `cfg.args.node_resources_fit`.
    ///
    /// # Errors
    /// As [`NodeResourcesFit::new`].
    pub fn factory(
        cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(Self::new(&cfg.args.node_resources_fit, interner)?))
    }

    /// upstream `fitsRequest`'s ignore rule: only extended resources can be ignored, by exact
    /// name (`ignoredResources`) or by the part before `/` (`ignoredResourceGroups`).
    fn is_ignored(&self, name: Sym, view: ClusterView<'_>) -> bool {
        if self.ignored_resources.contains(&name) {
            return true;
        }
        if self.ignored_resource_groups.is_empty() {
            return false;
        }
        let text = view.interner().resolve(name);
        let prefix = text.split_once('/').map_or(text, |(p, _)| p);
        self.ignored_resource_groups.iter().any(|g| **g == *prefix) && is_extended_name(text)
    }
}

/// upstream `v1helper.IsExtendedResourceName` without allocating (the core's version builds
/// `requests.<name>`): a name with `/`, not `*kubernetes.io/*`, not `requests.`-prefixed, whose
/// `requests.<prefix>` is a DNS-1123 subdomain and whose part after `/` is a qualified-name
/// segment.
pub(super) fn is_extended_name(name: &str) -> bool {
    const REQUESTS: &str = "requests.";
    let Some((prefix, rest)) = name.split_once('/') else {
        return false;
    };
    if name.contains("kubernetes.io/") || name.starts_with(REQUESTS) {
        return false;
    }
    let subdomain_label = |l: &str| {
        let b = l.as_bytes();
        let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty() && ok(b[0]) && ok(b[b.len() - 1]) && b.iter().all(|&c| ok(c) || c == b'-')
    };
    let segment = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    REQUESTS.len() + prefix.len() <= 253 && prefix.split('.').all(subdomain_label) && segment(rest)
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// upstream `EventsToRegister` with queueing hints (GA, always on in 1.35):
    /// `{Pod, Delete|UpdatePodScaleDown}` and `{Node, Add|UpdateNodeAllocatable}`, each with a
    /// hint ([`Plugin::queueing_hint`]). Upstream adds `UpdateNodeTaint|UpdateNodeLabel` only
    /// when hints are off.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::ASSIGNED_POD_DELETE | C::ASSIGNED_POD_SCALE_DOWN | C::NODE_ADD | C::NODE_ALLOCATABLE
    }
    /// upstream `isSchedulableAfterPodEvent` and `isSchedulableAfterNodeChange`:
    /// - an assigned pod deleted: Queue (upstream skips only unassigned, unnominated pods,
    ///   which are never an assigned-pod change here);
    /// - an assigned pod scaled down: Queue when it is the pod itself or one of the resources
    ///   the pod requests went down;
    /// - a node added or updated: QueueSkip when the pod would not fit the node even empty
    ///   (`isFit`, no resource ignored); a node added: Queue; a node updated: Queue only when
    ///   its allowed pod count or the allocatable of a resource the pod requests went up
    ///   (`haveAnyRequestedResourcesIncreased`).
    fn queueing_hint(
        &self,
        pod: &PodInfo,
        change: &ClusterChange,
        _interner: &Interner,
    ) -> QueueingHint {
        let queue_if = |b: bool| QueueingHint::from(b);
        match change {
            ClusterChange::AssignedPodUpdated { old, new, .. } => queue_if(
                // upstream compares UIDs; hand-written pods may have none, so the key.
                new.key == pod.key
                    || (new.node_name.is_some()
                        && any_requested_went_down(&pod.requests, &old.requests, &new.requests)),
            ),
            ClusterChange::NodeAdded(new) => queue_if(fits_empty(&pod.requests, &new.allocatable)),
            ClusterChange::NodeUpdated { old, new, .. } => queue_if(
                fits_empty(&pod.requests, &new.allocatable)
                    && any_requested_went_up(&pod.requests, &old.allocatable, &new.allocatable),
            ),
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

impl PreFilterPlugin for NodeResourcesFit {
    /// Filter reads only the node it is given: no AddPod/RemovePod state.
    fn has_pod_extensions(&self) -> bool {
        false
    }

    /// upstream computes the pod's requests here (`computePodResourceRequest`); Placer's are
    /// precomputed in `PodInfo.requests`. Upstream never skips (the pod-count check applies
    /// to every pod) and only rejects restartable init containers when the `SidecarContainers`
    /// gate is off, which it cannot be in 1.35 (GA, locked on).
    fn pre_filter(
        &self,
        _cycle: &mut CycleState,
        _pod: &PodInfo,
        _view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        Ok(PreFilterOutcome::Proceed)
    }
}

impl FilterPlugin for NodeResourcesFit {
    /// upstream `Filter` + `fitsRequest`. Every failing resource is reported, in the order
    /// pods, cpu, memory, ephemeral-storage, then scalars. Upstream walks the scalars in Go map
    /// order (unspecified); Placer reports them in the pod's `requests.scalar` order (sorted by
    /// interned name id). The code is `UnschedulableAndUnresolvable` when some request exceeds
    /// the node's allocatable outright (preemption cannot help), `Unschedulable` otherwise; the
    /// pod-count reason never makes it unresolvable. Nothing is allocated unless more than two
    /// reasons are reported.
    fn filter(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> FilterResult {
        let mut reasons: SmallVec<[Reason; 2]> = SmallVec::new();
        let mut unresolvable = false;
        self.insufficient(
            pod,
            &NodeSummary::resources_of(node),
            node,
            view,
            |short, exceeds_allocatable| {
                reasons.push(match short {
                    Short::Pods => Reason::Static(TOO_MANY_PODS),
                    Short::Cpu => Reason::Static(INSUFFICIENT_CPU),
                    Short::Memory => Reason::Static(INSUFFICIENT_MEMORY),
                    Short::EphemeralStorage => Reason::Static(INSUFFICIENT_EPHEMERAL_STORAGE),
                    Short::Scalar(i, name) => match pod.scalar_reasons.get(i) {
                        Some(r) => Reason::Shared(r.clone()),
                        None => {
                            Reason::from(format!("Insufficient {}", view.interner().resolve(name)))
                        }
                    },
                });
                unresolvable |= exceeds_allocatable;
            },
        );
        if reasons.is_empty() {
            return Ok(());
        }
        Err(Rejection {
            code: if unresolvable {
                Code::UnschedulableAndUnresolvable
            } else {
                Code::Unschedulable
            },
            reasons,
        })
    }

    /// As `filter` per node, without building reasons.
    fn filter_nodes(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        mask_where(nodes, live, |id| {
            let mut fits = true;
            let (summary, node) = (view.state.summary(id), view.state.node(id));
            self.insufficient(pod, summary, node, view, |_, _| fits = false);
            fits
        })
    }
}

/// upstream `isFit`: whether `req` fits a node with `allocatable` and nothing on it (room for
/// one pod, every requested resource within allocatable, no resource ignored).
fn fits_empty(req: &Resources, allocatable: &Resources) -> bool {
    if allocatable.pods < 1 {
        return false;
    }
    let within = |r: i64, a: i64| r <= 0 || r <= a;
    within(req.milli_cpu, allocatable.milli_cpu)
        && within(req.memory, allocatable.memory)
        && within(req.ephemeral_storage, allocatable.ephemeral_storage)
        && req
            .scalar
            .iter()
            .all(|&(name, r)| within(r, allocatable.scalar(name)))
}

/// upstream `haveAnyRequestedResourcesIncreased`: the node's allowed pod count went up, or
/// the allocatable of some resource `req` asks for did.
fn any_requested_went_up(req: &Resources, old: &Resources, new: &Resources) -> bool {
    if new.pods > old.pods {
        return true;
    }
    (req.milli_cpu > 0 && new.milli_cpu > old.milli_cpu)
        || (req.memory > 0 && new.memory > old.memory)
        || (req.ephemeral_storage > 0 && new.ephemeral_storage > old.ephemeral_storage)
        || req
            .scalar
            .iter()
            .any(|&(name, r)| r > 0 && new.scalar(name) > old.scalar(name))
}

/// upstream `isSchedulableAfterPodScaleDown`'s comparison: some resource `req` asks for is
/// requested less by the changed pod than before.
fn any_requested_went_down(req: &Resources, old: &Resources, new: &Resources) -> bool {
    (req.milli_cpu > 0 && old.milli_cpu > new.milli_cpu)
        || (req.memory > 0 && old.memory > new.memory)
        || (req.ephemeral_storage > 0 && old.ephemeral_storage > new.ephemeral_storage)
        || req
            .scalar
            .iter()
            .any(|&(name, r)| r > 0 && old.scalar(name) > new.scalar(name))
}

/// A resource the node is short of, for [`NodeResourcesFit::insufficient`].
#[derive(Clone, Copy)]
enum Short {
    Pods,
    Cpu,
    Memory,
    EphemeralStorage,
    /// The index in the pod's `requests.scalar`, and the name.
    Scalar(usize, Sym),
}

impl NodeResourcesFit {
    /// upstream `fitsRequest`: calls `report(resource, request exceeds allocatable outright)`
    /// for every resource the node is short of, in the order pods, cpu, memory,
    /// ephemeral-storage, then scalars (the pod-count shortage is never "outright"). The pod
    /// count, cpu, memory and ephemeral-storage come from `summary`; `node` is read only for
    /// scalars.
    #[inline]
    fn insufficient(
        &self,
        pod: &PodInfo,
        summary: &NodeSummary,
        node: &NodeState,
        view: ClusterView<'_>,
        mut report: impl FnMut(Short, bool),
    ) {
        let req = &pod.requests;
        if i64::from(summary.pod_count) + 1 > summary.alloc_pods {
            report(Short::Pods, false);
        }
        if req.is_empty_request() {
            return;
        }
        let mut check = |request: i64, allocatable: i64, requested: i64, short: Short| {
            if request > 0 && request > allocatable.wrapping_sub(requested) {
                report(short, request > allocatable);
            }
        };
        check(
            req.milli_cpu,
            summary.alloc_milli_cpu,
            summary.req_milli_cpu,
            Short::Cpu,
        );
        check(
            req.memory,
            summary.alloc_memory,
            summary.req_memory,
            Short::Memory,
        );
        check(
            req.ephemeral_storage,
            summary.alloc_ephemeral_storage,
            summary.req_ephemeral_storage,
            Short::EphemeralStorage,
        );
        let (alloc, used) = (&node.info.allocatable, &node.requested);
        for (i, &(name, quantity)) in req.scalar.iter().enumerate() {
            if quantity == 0 || self.is_ignored(name, view) {
                continue;
            }
            // upstream: DRA-backed extended resources (gate DRAExtendedResource, off in
            // 1.35) would be delegated here; Placer does not model them.
            let allocatable = alloc.scalar(name);
            if quantity > allocatable.wrapping_sub(used.scalar(name)) {
                report(Short::Scalar(i, name), quantity > allocatable);
            }
        }
    }
}

impl PreScorePlugin for NodeResourcesFit {
    /// upstream `PreScore`: records the pod's request for each configured resource (with the
    /// non-zero defaults for cpu and memory). Never skips.
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[NodeId],
        _view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        cycle.write(FitPreScoreState(pod_request_list(
            pod,
            &self.resources,
            RequestView::NonZero,
        )));
        Ok(PreScoreOutcome::Proceed)
    }
}

impl ScorePlugin for NodeResourcesFit {
    /// upstream `Score` → `resourceAllocationScorer.score` with the configured strategy. cpu
    /// and memory use the non-zero requests; ephemeral-storage and scalars the plain ones;
    /// scalars the pod does not request and resources the node lacks are skipped. Computes
    /// the pod's requests itself when PreScore did not run, as upstream does.
    fn score(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> i64 {
        let summary = NodeSummary::resources_of(node);
        let mut out = [0];
        match cycle.read::<FitPreScoreState>() {
            Some(st) => self.score_all(&st.0, std::iter::once((&summary, node)), &mut out),
            None => self.score_all(
                &pod_request_list(pod, &self.resources, RequestView::NonZero),
                std::iter::once((&summary, node)),
                &mut out,
            ),
        }
        out[0]
    }

    /// As `score` per node, with the pod's requests read (or computed) once.
    fn score_nodes(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        let computed: PodRequestList;
        let pod_requests: &[i64] = match cycle.read::<FitPreScoreState>() {
            Some(st) => &st.0,
            None => {
                computed = pod_request_list(pod, &self.resources, RequestView::NonZero);
                &computed
            }
        };
        let state = view.state;
        let nodes = nodes.iter().map(|&id| (state.summary(id), state.node(id)));
        self.score_all(pod_requests, nodes, out);
    }
}

impl NodeResourcesFit {
    /// Folds the node's counted resources into a weighted sum with `add`.
    #[inline(always)]
    fn weighted(
        &self,
        pod_requests: &[i64],
        summary: &NodeSummary,
        node: &NodeState,
        add: impl Fn(&mut WeightedSum, i64, i64, i64),
    ) -> WeightedSum {
        let mut acc = WeightedSum::default();
        for_each_counted(
            &self.resources,
            pod_requests,
            summary,
            node,
            RequestView::NonZero,
            |w, r, a| add(&mut acc, w, r, a),
        );
        acc
    }

    /// upstream `resourceAllocationScorer.score` with the configured strategy for each node,
    /// given the pod's requests; the strategy is chosen once, not per node.
    fn score_all<'a>(
        &self,
        pod_requests: &[i64],
        nodes: impl Iterator<Item = (&'a NodeSummary, &'a NodeState)>,
        out: &mut [i64],
    ) {
        let slots = out.iter_mut().zip(nodes);
        match &self.strategy {
            Strategy::LeastAllocated => {
                for (o, (summary, node)) in slots {
                    *o = self
                        .weighted(pod_requests, summary, node, least_allocated::add)
                        .mean();
                }
            }
            Strategy::MostAllocated => {
                for (o, (summary, node)) in slots {
                    *o = self
                        .weighted(pod_requests, summary, node, most_allocated::add)
                        .mean();
                }
            }
            Strategy::RequestedToCapacityRatio(shape) => {
                let add = |acc: &mut WeightedSum, w, r, a| shape.add(acc, w, r, a);
                for (o, (summary, node)) in slots {
                    *o = requested_to_capacity_ratio::rounded_mean(self.weighted(
                        pod_requests,
                        summary,
                        node,
                        add,
                    ));
                }
            }
        }
    }
}
