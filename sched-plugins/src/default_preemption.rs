//! DefaultPreemption (PostFilter): would evicting lower-priority pods make room?
//!
//! Mirrors upstream `pkg/scheduler/framework/preemption/preemption.go` (`Preempt`,
//! `findCandidates`) and `plugins/defaultpreemption/default_preemption.go`
//! (`SelectVictimsOnNode`, `PodEligibleToPreemptOthers`): only nodes whose Filter status is
//! `Unschedulable` are tried; on each, every pod of lower priority is removed and the filters
//! run again; then victims are reprieved, most important first, while the pod still fits.
//! When no node qualifies, the message is upstream's
//! `preemption: 0/N nodes are available: …` text. When one does, the pod is nominated there
//! with its victims; the caller decides whether to evict (the simulator does; `explain`
//! reports it). PodDisruptionBudgets are not modelled: every victim counts as non-violating.

use sched_core::config::ProfileConfig;
use sched_core::framework::{
    Code, Plugin, PostFilterInput, PostFilterOutcome, PostFilterPlugin, PreEnqueuePlugin, Rejection,
};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use sched_core::scheduler::Diagnosis;
use sched_core::scheduler::FitError;
use sched_core::state::NodeId;
use std::sync::Arc;

/// upstream `DefaultPreemption`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPreemption;

impl DefaultPreemption {
    /// Factory.
    ///
    /// # Errors
    /// Never.
    pub fn factory(_: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(DefaultPreemption))
    }
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        "DefaultPreemption"
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        Some(self)
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        Some(self)
    }
}

/// upstream: PreEnqueue holds back pods whose asynchronous preemption is still running. Placer
/// evicts synchronously (in the simulator) or not at all, so no pod is ever held back here.
impl PreEnqueuePlugin for DefaultPreemption {
    fn pre_enqueue(&self, _pod: &PodInfo) -> Result<(), Rejection> {
        Ok(())
    }
}

/// upstream `MoreImportantPod`: higher priority, then earlier start (we use creation time).
fn more_important(a: &PodInfo, b: &PodInfo) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then(a.creation_millis.cmp(&b.creation_millis))
}

struct Candidate {
    node: NodeId,
    victims: Vec<Arc<PodInfo>>,
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter(&self, input: &PostFilterInput<'_>) -> PostFilterOutcome {
        let pod = input.pod;
        if pod.preempt_never {
            return PostFilterOutcome::Unschedulable {
                message: "preemption: not eligible due to preemptionPolicy=Never.".to_string(),
            };
        }
        let state = input.view.state;
        let mut statuses: Vec<(NodeId, &'static str, Rejection)> = Vec::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        for (id, status) in input.statuses {
            if status.code != Code::Unschedulable {
                continue;
            }
            let node = state.node(*id);
            let mut victims: Vec<Arc<PodInfo>> = node
                .pods
                .iter()
                .filter(|p| p.priority < pod.priority)
                .cloned()
                .collect();
            if victims.is_empty() {
                statuses.push((
                    *id,
                    "DefaultPreemption",
                    Rejection::unresolvable("No preemption victims found for incoming pod"),
                ));
                continue;
            }
            let mut trial = node.clone();
            for v in &victims {
                trial.release(v);
            }
            if let Err((plugin, r)) = (input.run_filters)(&trial) {
                statuses.push((*id, plugin, r));
                continue;
            }
            // Reprieve as many as possible, most important first.
            victims.sort_by(|a, b| more_important(a, b));
            let mut evicted = Vec::new();
            for v in victims {
                trial.hold(&v);
                if (input.run_filters)(&trial).is_err() {
                    trial.release(&v);
                    evicted.push(v);
                }
            }
            candidates.push(Candidate {
                node: *id,
                victims: evicted,
            });
        }
        if candidates.is_empty() {
            let fit = FitError {
                pod: pod.key.clone(),
                num_all_nodes: state.num_nodes(),
                diagnosis: Diagnosis {
                    statuses,
                    absent: Some((
                        "DefaultPreemption",
                        Rejection::unresolvable("Preemption is not helpful for scheduling"),
                    )),
                    ..Diagnosis::default()
                },
            };
            return PostFilterOutcome::Unschedulable {
                message: format!("preemption: {}", fit.message()),
            };
        }
        // upstream pickOneNodeForPreemption, without PDBs: lowest highest-victim priority, then
        // lowest priority sum, then fewest victims; the first in node order on a full tie.
        let key = |c: &Candidate| {
            let highest = c
                .victims
                .iter()
                .map(|v| v.priority)
                .max()
                .unwrap_or(i32::MIN);
            // upstream offsets each priority by MaxInt32+1 so that the sum is of non-negative terms.
            let sum: i64 = c
                .victims
                .iter()
                .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
                .sum();
            (highest, sum, c.victims.len())
        };
        let best = candidates
            .iter()
            .min_by_key(|c| key(c))
            .expect("candidates is not empty");
        PostFilterOutcome::Nominate {
            node: best.node,
            victims: best.victims.iter().map(|v| v.key.clone()).collect(),
            message: String::new(),
        }
    }
}
