//! The resource accounting shared by NodeResourcesFit's Score and NodeResourcesBalancedAllocation
//! (upstream `resourceAllocationScorer`,
//! `pkg/scheduler/framework/plugins/noderesources/resource_allocation.go`).
//!
//! Resource names from the plugin arguments are classified and interned once, in the factory
//! ([`resolve_resources`]); the hot path only matches on [`ResourceKind`] and compares `Sym`s.

use sched_core::config::ResourceSpec;
use sched_core::convert::{ResourceClass, classify_resource};
use sched_core::intern::{Interner, Sym};
use sched_core::model::PodInfo;
use sched_core::state::{NodeState, NodeSummary};
use smallvec::SmallVec;

/// Where a configured resource is read from in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    /// `cpu` (milli-cores).
    Cpu,
    /// `memory` (bytes).
    Memory,
    /// `ephemeral-storage` (bytes).
    EphemeralStorage,
    /// A scalar resource (extended, hugepages, `*kubernetes.io/*`), by interned name.
    Scalar(Sym),
    /// Anything else (`pods`, unknown native names): upstream looks it up among the node's
    /// scalar resources, never finds it, and skips it.
    Untracked,
}

/// A configured resource with its weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScoredResource {
    /// What to read.
    pub kind: ResourceKind,
    /// The configured weight (already defaulted and validated by the configuration).
    pub weight: i64,
}

/// The configured resources of a plugin, in configuration order.
pub(crate) type ScoredResources = SmallVec<[ScoredResource; 4]>;

/// The incoming pod's request for each configured resource, aligned with [`ScoredResources`]
/// (upstream `preScoreState.podRequests`).
pub(crate) type PodRequestList = SmallVec<[i64; 4]>;

/// Which aggregate of the node (and which view of the pod) cpu and memory come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestView {
    /// upstream `useRequested = false` (NodeResourcesFit): cpu and memory use the requests with
    /// the non-zero defaults (`NonZeroRequested`, `NonMissingContainerRequests`).
    NonZero,
    /// upstream `useRequested = true` (BalancedAllocation): plain requests everywhere.
    Plain,
}

/// Classifies and interns the configured resource names (done once, in a factory).
pub(crate) fn resolve_resources(
    specs: &[ResourceSpec],
    interner: &mut Interner,
) -> ScoredResources {
    specs
        .iter()
        .map(|spec| {
            let kind = match classify_resource(&spec.name) {
                ResourceClass::Cpu => ResourceKind::Cpu,
                ResourceClass::Memory => ResourceKind::Memory,
                ResourceClass::EphemeralStorage => ResourceKind::EphemeralStorage,
                ResourceClass::Scalar => ResourceKind::Scalar(interner.intern(&spec.name)),
                ResourceClass::Pods | ResourceClass::Ignored => ResourceKind::Untracked,
            };
            ScoredResource {
                kind,
                weight: spec.weight,
            }
        })
        .collect()
}

/// upstream `calculatePodResourceRequest`: the pod's request for one resource. cpu and memory
/// carry the non-zero defaults under [`RequestView::NonZero`]; everything else is plain.
pub(crate) fn pod_request(pod: &PodInfo, kind: ResourceKind, view: RequestView) -> i64 {
    match (kind, view) {
        (ResourceKind::Cpu, RequestView::NonZero) => pod.non_zero_milli_cpu,
        (ResourceKind::Cpu, RequestView::Plain) => pod.requests.milli_cpu,
        (ResourceKind::Memory, RequestView::NonZero) => pod.non_zero_memory,
        (ResourceKind::Memory, RequestView::Plain) => pod.requests.memory,
        (ResourceKind::EphemeralStorage, _) => pod.requests.ephemeral_storage,
        (ResourceKind::Scalar(name), _) => pod.requests.scalar(name),
        (ResourceKind::Untracked, _) => 0,
    }
}

/// upstream `calculatePodResourceRequestList`.
pub(crate) fn pod_request_list(
    pod: &PodInfo,
    resources: &[ScoredResource],
    view: RequestView,
) -> PodRequestList {
    resources
        .iter()
        .map(|r| pod_request(pod, r.kind, view))
        .collect()
}

/// upstream `isBestEffortPod`: the pod requests none of the configured resources.
pub(crate) fn is_best_effort(requests: &[i64]) -> bool {
    requests.iter().all(|&r| r == 0)
}

/// upstream `calculateResourceAllocatableRequest`: `(allocatable, node requested + pod request)`
/// for one resource, or `(0, 0)` when the resource is bypassed (a scalar the pod does not
/// request, a scalar the node does not advertise, an untracked name). Go `int64` arithmetic
/// wraps; so does this.
///
/// cpu, memory and ephemeral-storage come from `summary` (the node's [`NodeSummary`]), scalars
/// from `node`, which is not touched otherwise.
pub(crate) fn allocatable_and_requested(
    summary: &NodeSummary,
    node: &NodeState,
    kind: ResourceKind,
    pod_request: i64,
    view: RequestView,
) -> (i64, i64) {
    match kind {
        ResourceKind::Cpu => {
            let used = match view {
                RequestView::NonZero => summary.non_zero_milli_cpu,
                RequestView::Plain => summary.req_milli_cpu,
            };
            (summary.alloc_milli_cpu, used.wrapping_add(pod_request))
        }
        ResourceKind::Memory => {
            let used = match view {
                RequestView::NonZero => summary.non_zero_memory,
                RequestView::Plain => summary.req_memory,
            };
            (summary.alloc_memory, used.wrapping_add(pod_request))
        }
        // upstream reads ephemeral-storage from `Requested` in both views.
        ResourceKind::EphemeralStorage => (
            summary.alloc_ephemeral_storage,
            summary.req_ephemeral_storage.wrapping_add(pod_request),
        ),
        // upstream: a scalar the pod does not request is bypassed before anything else.
        ResourceKind::Scalar(_) if pod_request == 0 => (0, 0),
        ResourceKind::Scalar(name) if node.info.allocatable.has_scalar(name) => (
            node.info.allocatable.scalar(name),
            node.requested.scalar(name).wrapping_add(pod_request),
        ),
        ResourceKind::Scalar(_) | ResourceKind::Untracked => (0, 0),
    }
}

/// Calls `f(weight, requested, allocatable)` for every configured resource the node has
/// (upstream's scorers skip entries whose allocatable is 0), in configuration order.
#[inline]
pub(crate) fn for_each_counted(
    resources: &[ScoredResource],
    pod_requests: &[i64],
    summary: &NodeSummary,
    node: &NodeState,
    view: RequestView,
    mut f: impl FnMut(i64, i64, i64),
) {
    for (r, &pod_request) in resources.iter().zip(pod_requests) {
        let (allocatable, requested) =
            allocatable_and_requested(summary, node, r.kind, pod_request, view);
        if allocatable == 0 {
            continue;
        }
        f(r.weight, requested, allocatable);
    }
}

/// A weighted integer mean (upstream's `nodeScore / weightSum`, 0 when nothing was counted).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WeightedSum {
    /// Σ score × weight.
    pub node_score: i64,
    /// Σ weight.
    pub weight_sum: i64,
}

impl WeightedSum {
    /// Adds one resource's score.
    pub fn add(&mut self, score: i64, weight: i64) {
        self.node_score = self.node_score.wrapping_add(score.wrapping_mul(weight));
        self.weight_sum = self.weight_sum.wrapping_add(weight);
    }

    /// Truncating integer mean, as Go's `int64` division.
    pub fn mean(self) -> i64 {
        if self.weight_sum == 0 {
            0
        } else {
            self.node_score.wrapping_div(self.weight_sum)
        }
    }
}
