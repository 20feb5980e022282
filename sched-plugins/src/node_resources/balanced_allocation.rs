//! NodeResourcesBalancedAllocation
//! (upstream `pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go`, 1.35 formula).
//!
//! Favors nodes whose utilization fractions of the configured resources (default cpu and
//! memory) are close to each other after placing the pod. Plain requests throughout (upstream
//! `useRequested = true`); the configured weights are not used by the formula.

use super::resource_allocation::{
    PodRequestList, RequestView, ScoredResources, for_each_counted, is_best_effort,
    pod_request_list, resolve_resources,
};
use sched_core::config::{NodeResourcesBalancedAllocationArgs, ProfileConfig};
use sched_core::framework::{
    ClusterView, CycleState, MAX_NODE_SCORE, Plugin, PreScoreOutcome, PreScorePlugin, Rejection,
    ScorePlugin,
};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use sched_core::state::{NodeId, NodeState, NodeSummary};
use smallvec::SmallVec;
use std::sync::Arc;

/// The pod's per-resource requests computed at PreScore (upstream
/// `balancedAllocationPreScoreState`).
#[derive(Clone)]
struct BalancedPreScoreState(PodRequestList);

/// The NodeResourcesBalancedAllocation plugin: PreScore and Score.
#[derive(Clone, Debug)]
pub struct NodeResourcesBalancedAllocation {
    /// `resources`, classified and interned.
    resources: ScoredResources,
}

impl NodeResourcesBalancedAllocation {
    /// The upstream plugin name.
    pub const NAME: &'static str = "NodeResourcesBalancedAllocation";

    /// Builds the plugin from its (defaulted, validated) arguments, interning resource names.
    #[must_use]
    pub fn new(args: &NodeResourcesBalancedAllocationArgs, interner: &mut Interner) -> Self {
        NodeResourcesBalancedAllocation {
            resources: resolve_resources(&args.resources, interner),
        }
    }

    /// The registry's factory: builds the plugin from `cfg.args.balanced_allocation`.
    ///
    /// # Errors
    /// Never (the arguments were validated with the configuration); the signature is the
    /// registry's.
    pub fn factory(
        cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(Self::new(&cfg.args.balanced_allocation, interner)))
    }
}

impl Plugin for NodeResourcesBalancedAllocation {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for NodeResourcesBalancedAllocation {
    /// upstream `PreScore`: computes the pod's plain request for each configured resource and
    /// returns Skip when all of them are 0 (`isBestEffortPod`, the fix for kubernetes#129138);
    /// a pod requesting only resources that are not configured is skipped too.
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[NodeId],
        _view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        let requests = pod_request_list(pod, &self.resources, RequestView::Plain);
        if is_best_effort(&requests) {
            return Ok(PreScoreOutcome::Skip);
        }
        cycle.write(BalancedPreScoreState(requests));
        Ok(PreScoreOutcome::Proceed)
    }
}

impl ScorePlugin for NodeResourcesBalancedAllocation {
    /// upstream `Score` → `balancedResourceScorer`. Without PreScore state it computes the
    /// requests itself and scores a best-effort pod 0, as upstream does.
    fn score(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> i64 {
        match self.pod_requests(cycle, pod) {
            Some(requests) => self.score_node(&requests, &NodeSummary::resources_of(node), node),
            None => 0,
        }
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
        let Some(requests) = self.pod_requests(cycle, pod) else {
            out.fill(0);
            return;
        };
        for (o, &id) in out.iter_mut().zip(nodes) {
            *o = self.score_node(&requests, view.state.summary(id), view.state.node(id));
        }
    }
}

impl NodeResourcesBalancedAllocation {
    /// The pod's requests from PreScore, or computed when PreScore did not run; `None` for a
    /// best-effort pod then (upstream scores it 0).
    fn pod_requests(&self, cycle: &CycleState, pod: &PodInfo) -> Option<PodRequestList> {
        match cycle.read::<BalancedPreScoreState>() {
            Some(s) => Some(s.0.clone()),
            None => {
                let computed = pod_request_list(pod, &self.resources, RequestView::Plain);
                (!is_best_effort(&computed)).then_some(computed)
            }
        }
    }

    /// upstream `balancedResourceScorer` for one node, given the pod's requests.
    #[inline]
    fn score_node(&self, pod_requests: &[i64], summary: &NodeSummary, node: &NodeState) -> i64 {
        // Up to four resources (the default is two) need no buffer beyond the stack.
        let mut small = [0.0_f64; 4];
        let mut more: SmallVec<[f64; 4]> = SmallVec::new();
        let mut n = 0;
        let mut total = 0.0_f64;
        for_each_counted(
            &self.resources,
            pod_requests,
            summary,
            node,
            RequestView::Plain,
            |_, requested, allocatable| {
                #[allow(clippy::cast_precision_loss)]
                let fraction = (requested as f64 / allocatable as f64).min(1.0);
                total += fraction;
                if n < small.len() {
                    small[n] = fraction;
                } else {
                    if more.is_empty() {
                        more.extend_from_slice(&small);
                    }
                    more.push(fraction);
                }
                n += 1;
            },
        );
        let fractions = if n <= small.len() {
            &small[..n]
        } else {
            &more[..]
        };
        balanced_score(fractions, total)
    }
}

/// upstream `balancedResourceScorer` after the fractions are known, with the same float
/// operations in the same order: two fractions → `|(f0 − f1) / 2|`; more → population standard
/// deviation; fewer → 0; score `int64((1 − std) * MaxNodeScore)` (truncation toward zero).
#[inline]
pub(crate) fn balanced_score(fractions: &[f64], total: f64) -> i64 {
    #[allow(clippy::cast_precision_loss)]
    let std = match fractions {
        [a, b] => ((a - b) / 2.0).abs(),
        [_, _, _, ..] => {
            let n = fractions.len() as f64;
            let mean = total / n;
            let mut sum = 0.0_f64;
            for f in fractions {
                sum += (f - mean) * (f - mean);
            }
            (sum / n).sqrt()
        }
        _ => 0.0,
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let score = ((1.0 - std) * MAX_NODE_SCORE as f64) as i64;
    score
}
