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
//! reports it). PodDisruptionBudgets follow upstream (`preemption_pdb`): victims whose
//! eviction would break a budget are reprieved first, and the node with the fewest such
//! victims wins.
//! Only upstream's candidate sample is dry-run: `minCandidateNodesPercentage` /
//! `minCandidateNodesAbsolute` of the potential nodes, from an offset the seed decides.

use rayon::prelude::*;
use sched_core::config::ProfileConfig;
use sched_core::framework::{
    Code, Plugin, PostFilterInput, PostFilterOutcome, PostFilterPlugin, PreEnqueuePlugin, Rejection,
};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use sched_core::scheduler::Diagnosis;
use sched_core::scheduler::FitError;
use sched_core::state::{NodeId, NodeState};
use std::sync::Arc;

/// Nodes dry-run per parallel batch (and the fewest potential nodes for which it goes
/// parallel).
const DRY_RUN_CHUNK: usize = 256;

/// upstream `DefaultPreemption`, with its `DefaultPreemptionArgs`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultPreemption {
    /// `minCandidateNodesPercentage` (default 10).
    pub min_candidate_nodes_percentage: i32,
    /// `minCandidateNodesAbsolute` (default 100).
    pub min_candidate_nodes_absolute: i32,
}

impl Default for DefaultPreemption {
    fn default() -> Self {
        DefaultPreemption {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

impl DefaultPreemption {
    /// Factory: reads the validated, defaulted `DefaultPreemptionArgs`.
    ///
    /// # Errors
    /// Never for validated configuration.
    pub fn factory(cfg: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        let mut p = DefaultPreemption::default();
        if let Some(args) = cfg.args.other.get("DefaultPreemption") {
            let get = |k: &str, d: i32| {
                args.get(k)
                    .and_then(serde_json::Value::as_i64)
                    .and_then(|v| i32::try_from(v).ok())
                    .unwrap_or(d)
            };
            p.min_candidate_nodes_percentage = get("minCandidateNodesPercentage", 10);
            p.min_candidate_nodes_absolute = get("minCandidateNodesAbsolute", 100);
        }
        Ok(Arc::new(p))
    }

    /// upstream `calculateNumCandidates`: the percentage of the potential nodes, at least the
    /// absolute minimum, at most all of them.
    #[must_use]
    pub fn num_candidates(&self, num_nodes: usize) -> usize {
        let n = num_nodes
            .saturating_mul(usize::try_from(self.min_candidate_nodes_percentage).unwrap_or(0))
            / 100;
        n.max(usize::try_from(self.min_candidate_nodes_absolute).unwrap_or(0))
            .min(num_nodes)
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

/// upstream `MoreImportantPod`: higher priority, then earlier `GetPodStartTime`
/// (`status.startTime`; a pod that has not started counts as starting now, after every
/// started pod).
fn more_important(a: &PodInfo, b: &PodInfo) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then(a.start_millis.cmp(&b.start_millis))
}

struct Candidate<'a> {
    node: NodeId,
    victims: Vec<&'a Arc<PodInfo>>,
    /// upstream `NumPDBViolations`: victims whose eviction breaks a PodDisruptionBudget.
    pdb_violations: usize,
}

/// upstream `SelectVictimsOnNode`'s status when no pod on the node has a lower priority.
fn no_victims_status() -> Rejection {
    Rejection::unresolvable("No preemption victims found for incoming pod")
}

/// upstream's status for a node where preemption cannot help.
fn not_helpful_status() -> Rejection {
    Rejection::unresolvable("Preemption is not helpful for scheduling")
}

/// upstream `SelectVictimsOnNode`: remove every lower-priority pod (updating the PreFilter
/// state through RemovePod), check the pod fits, then reprieve victims most important first
/// (AddPod) while it still fits.
/// `trial` is scratch space the node is copied into and `victims` a scratch list (one of each
/// for every node tried: nothing is allocated for a node where preemption cannot help).
fn select_victims_on_node<'a>(
    input: &PostFilterInput<'a>,
    id: NodeId,
    trial: &mut NodeState,
    victims: &mut Vec<&'a Arc<PodInfo>>,
) -> Result<Candidate<'a>, (&'static str, Rejection)> {
    let pod = input.pod;
    let state = input.view.state;
    let node = state.node(id);
    victims.clear();
    victims.extend(node.pods.iter().filter(|p| p.priority < pod.priority));
    if victims.is_empty() {
        return Err(("DefaultPreemption", no_victims_status()));
    }
    // upstream clones the cycle state for each node; without extensions nothing writes it,
    // so it is copied only when an extension runs.
    let mut cycle = std::borrow::Cow::Borrowed(input.cycle);
    if input.extensions {
        // upstream removes the victims one at a time, each followed by RemovePod on the node
        // as it is then.
        trial.clone_without(node, |_| false);
        for v in victims.iter() {
            trial.release(v);
            if let Some(i) = trial.pods.iter().position(|p| Arc::ptr_eq(p, v)) {
                trial.pods.swap_remove(i);
            }
            (input.remove_pod)(cycle.to_mut(), v, trial);
        }
    } else {
        trial.clone_without(node, |p| p.priority < pod.priority);
    }
    (input.run_filters)(&cycle, trial)?;
    victims.sort_by(|a, b| more_important(a, b));
    // upstream: reprieve the PDB-violating victims first, then the others, each group most
    // important first.
    let budgets = state.disruption_budgets();
    let reordered: Vec<&'a Arc<PodInfo>>;
    let (order, num_violating) = if budgets.is_empty() {
        (&victims[..], 0)
    } else {
        let (violating, non_violating) = crate::preemption_pdb::split_by_violation(
            victims.clone(),
            budgets,
            input.view.interner(),
        );
        let n = violating.len();
        reordered = violating.into_iter().chain(non_violating).collect();
        (&reordered[..], n)
    };
    let both = num_violating > 0 && num_violating < order.len();
    let mut evicted = Vec::new();
    let mut pdb_violations = 0;
    for (i, &v) in order.iter().enumerate() {
        trial.hold(v);
        trial.pods.push(Arc::clone(v));
        if input.extensions {
            (input.add_pod)(cycle.to_mut(), v, trial);
        }
        if (input.run_filters)(&cycle, trial).is_err() {
            trial.release(v);
            trial.pods.pop();
            if input.extensions {
                (input.remove_pod)(cycle.to_mut(), v, trial);
            }
            if i < num_violating {
                pdb_violations += 1;
            }
            evicted.push(v);
        }
    }
    if both {
        evicted.sort_by(|a, b| more_important(a, b));
    }
    Ok(Candidate {
        node: id,
        victims: evicted,
        pdb_violations,
    })
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter<'a>(&self, input: &PostFilterInput<'a>) -> PostFilterOutcome {
        let pod = input.pod;
        if pod.preempt_never {
            return PostFilterOutcome::Unschedulable {
                message: "preemption: not eligible due to preemptionPolicy=Never.".to_string(),
            };
        }
        let state = input.view.state;
        // upstream nodesWherePreemptionMightHelp: nodes whose status is Unschedulable (not
        // UnschedulableAndUnresolvable), in snapshot order.
        let mut status_of: Vec<Option<&Rejection>> = Vec::new();
        for (id, _, r) in input.statuses {
            if status_of.len() <= id.index() {
                status_of.resize(id.index() + 1, None);
            }
            status_of[id.index()] = Some(r);
        }
        let (potential, not_potential): (Vec<NodeId>, Vec<NodeId>) =
            state.node_ids().iter().copied().partition(|id| {
                status_of
                    .get(id.index())
                    .copied()
                    .flatten()
                    .or(input.absent)
                    .is_some_and(|r| r.code == Code::Unschedulable)
            });
        let mut statuses: Vec<(NodeId, &'static str, Rejection)> = Vec::new();
        let mut candidates: Vec<Candidate<'a>> = Vec::new();
        if !potential.is_empty() {
            // upstream GetOffsetAndNumCandidates + dryRunPreemption: start at a random offset
            // (here drawn from the scheduler's seed and the pod), stop once enough candidates are
            // found. Without PodDisruptionBudgets every candidate is non-violating.
            let n = potential.len();
            let want = self.num_candidates(n);
            let offset = (sched_core::scheduler::tie_break(input.seed ^ 0x7072_6565_6d70, &pod.key)
                % n as u64) as usize;
            // No held pod has a lower priority: every node would answer "No preemption
            // victims found" (select_victims_on_node's first check), so say it without looking
            // at each node's pods.
            let no_victims = state
                .lowest_pod_priority()
                .is_none_or(|lowest| lowest >= pod.priority);
            if no_victims {
                // Every potential node says "No preemption victims found", the others "not
                // helpful": the message is the same with the other nodes listed and the
                // potential ones counted as the absent status, without a status per node.
                let fit = FitError {
                    pod: pod.key.clone(),
                    num_all_nodes: state.num_nodes(),
                    diagnosis: Diagnosis {
                        statuses: not_potential
                            .iter()
                            .map(|&id| (id, "DefaultPreemption", not_helpful_status()))
                            .collect(),
                        absent: Some(("DefaultPreemption", no_victims_status())),
                        ..Diagnosis::default()
                    },
                };
                return PostFilterOutcome::Unschedulable {
                    message: format!("preemption: {}", fit.message()),
                };
            }
            let mut non_violating_found = false;
            // upstream dryRunPreemption stops once some candidate breaks no budget and
            // enough candidates are found. Node statuses are only read when no node is a
            // candidate, so they are kept only until the first candidate.
            let mut take =
                |id: NodeId, tried: Result<Candidate<'a>, (&'static str, Rejection)>| -> bool {
                    match tried {
                        Ok(c) => {
                            non_violating_found |= c.pdb_violations == 0;
                            candidates.push(c);
                        }
                        Err((plugin, r)) if candidates.is_empty() => statuses.push((id, plugin, r)),
                        Err(_) => {}
                    }
                    candidates.len() >= want && non_violating_found
                };
            if n >= DRY_RUN_CHUNK && rayon::current_num_threads() > 1 {
                // upstream dry-runs nodes in parallel (16 workers) and cancels once enough
                // candidates are found, so which nodes it tries depends on timing. Here chunks
                // of nodes are tried in parallel and their results taken in node order, so the
                // outcome is the sequential walk's, whatever the threads do.
                let mut next = 0;
                'chunks: while next < n {
                    let end = (next + DRY_RUN_CHUNK).min(n);
                    let tried: Vec<_> = (next..end)
                        .into_par_iter()
                        .map_init(
                            || (NodeState::scratch(), Vec::new()),
                            |(trial, victims), i| {
                                let id = potential[(offset + i) % n];
                                (id, select_victims_on_node(input, id, trial, victims))
                            },
                        )
                        .collect();
                    for (id, r) in tried {
                        if take(id, r) {
                            break 'chunks;
                        }
                    }
                    next = end;
                }
            } else {
                let mut trial = NodeState::scratch();
                let mut victims = Vec::new();
                for i in 0..n {
                    let id = potential[(offset + i) % n];
                    if take(
                        id,
                        select_victims_on_node(input, id, &mut trial, &mut victims),
                    ) {
                        break;
                    }
                }
            }
        }
        if candidates.is_empty() {
            let fit = FitError {
                pod: pod.key.clone(),
                num_all_nodes: state.num_nodes(),
                diagnosis: Diagnosis {
                    statuses,
                    absent: Some(("DefaultPreemption", not_helpful_status())),
                    ..Diagnosis::default()
                },
            };
            return PostFilterOutcome::Unschedulable {
                message: format!("preemption: {}", fit.message()),
            };
        }
        // upstream pickOneNodeForPreemption: fewest PDB violations, then lowest highest-victim
        // priority, then lowest priority sum, then fewest victims, then the latest earliest start among the
        // highest-priority victims (`GetEarliestPodStartTime`); the first in node order on a
        // full tie (upstream takes the first of a map's iteration, which Go randomizes).
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
            let earliest_start = c
                .victims
                .iter()
                .filter(|v| v.priority == highest)
                .map(|v| v.start_millis)
                .min()
                .unwrap_or(i64::MIN);
            (
                c.pdb_violations,
                highest,
                sum,
                c.victims.len(),
                std::cmp::Reverse(earliest_start),
            )
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
