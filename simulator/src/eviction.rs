//! Evictions: the eviction API's PodDisruptionBudget check, the disruption controller's
//! status, and the taint eviction controller's `NoExecute` timers, on the virtual clock.
//!
//! - [`request`] is the eviction subresource (`pkg/registry/core/pod/storage/eviction.go`):
//!   no guarding budget → accepted; more than one → an error; one whose
//!   `status.disruptionsAllowed` is 0 → 429 (retry later); else accepted, spending one
//!   disruption (the pod is deleted at once, see [`request`] on `status.disruptedPods`).
//! - [`sync_budget`] is the disruption controller (`pkg/controller/disruption`): placed pods
//!   the budget selects are healthy (Placer has no readiness) unless being deleted or listed
//!   in `status.disruptedPods` less than [`DELETION_TIMEOUT`] ago (upstream
//!   `countHealthyPods`); the expected count is the placed pods plus the selected pods
//!   waiting in the queue (upstream reads the controllers' `spec.replicas` for percentages
//!   and `maxUnavailable`; a recreated pod waits in the queue, so the two agree for pods with
//!   a controller). `disruptionsAllowed` is `healthy − desiredHealthy`, at least 0, and 0
//!   when nothing is expected.
//! - [`NoExecuteTimers`] is the taint eviction controller (`pkg/controller/tainteviction`):
//!   a pod that does not tolerate every `NoExecute` taint of its node is evicted at once;
//!   one that tolerates them all is evicted after the smallest `tolerationSeconds` of the
//!   tolerations used (counted from when its timer was first set), never when none sets it.

use crate::engine::Simulation;
use crate::scenario::Millis;
use sched_core::model::{PodInfo, TaintEffect};
use sched_core::state::{ClusterState, NodeId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the eviction API answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The pod is deleted.
    Accepted,
    /// 429: a budget allows no disruption now; kubectl retries.
    TooManyRequests(String),
    /// Another error; kubectl does not retry.
    Error(String),
}

/// Indexes (in [`ClusterState::disruption_budgets`]) of the budgets that guard `pod`.
#[must_use]
pub fn guarding_budgets(state: &ClusterState, pod: &PodInfo) -> Vec<usize> {
    let interner = state.interner();
    let budgets = state.disruption_budgets();
    let ns = &*pod.namespace;
    let start = budgets.partition_point(|b| interner.resolve(b.namespace) < ns);
    budgets[start..]
        .iter()
        .take_while(|b| interner.resolve(b.namespace) == ns)
        .enumerate()
        .filter(|(_, b)| b.guards(pod, interner))
        .map(|(i, _)| start + i)
        .collect()
}

/// upstream disruption controller `DeletionTimeout`: an entry of `status.disruptedPods` older
/// than this no longer keeps its pod out of the healthy count.
pub const DELETION_TIMEOUT: Millis = 2 * 60 * 1000;

/// The disruption controller's sync of budget `idx` against the current placement.
///
/// As upstream `buildDisruptedPodMap` + `countHealthyPods`: an entry of
/// `status.disruptedPods` is kept while its pod exists, is not being deleted and the entry is
/// younger than [`DELETION_TIMEOUT`]; a kept pod is not counted healthy (its eviction was
/// accepted, its deletion not yet seen), so it lowers `disruptionsAllowed`.
pub fn sync_budget(sim: &mut Simulation, idx: usize) {
    let wall = sim.origin().saturating_add(sim.now());
    let state = sim.state();
    let b = &state.disruption_budgets()[idx];
    let Some(selector) = b.selector.clone() else {
        return;
    };
    let ns = [b.namespace];
    let interner = state.interner();
    let ns_name: Arc<str> = interner.resolve_arc(ns[0]);
    let still: Vec<(Arc<str>, i64)> = b
        .disrupted_pods
        .iter()
        .filter(|(n, at)| {
            at.saturating_add(DELETION_TIMEOUT) > wall
                && state
                    .pod(&format!("{ns_name}/{n}"))
                    .is_some_and(|e| !e.info.terminating)
        })
        .cloned()
        .collect();
    // Healthy: placed (Placer has no readiness), not being deleted, not just disrupted.
    let (mut placed, mut healthy): (i32, i32) = (0, 0);
    state.for_each_pod_matching(&selector, Some(&ns), |p, _| {
        if p.terminating {
            return;
        }
        placed = placed.saturating_add(1);
        let disrupted = still.binary_search_by(|(n, _)| (**n).cmp(&*p.name)).is_ok();
        if !disrupted {
            healthy = healthy.saturating_add(1);
        }
    });
    let queued = sim
        .queued_pods()
        .filter(|p| p.namespace_sym == ns[0] && selector.matches(&p.labels, interner))
        .count();
    let expected = placed.saturating_add(i32::try_from(queued).unwrap_or(i32::MAX));
    let allowed = b.allowed_for(healthy, expected);
    let desired = b.desired_for(expected);
    let b = &mut sim.state_mut().disruption_budgets_mut()[idx];
    b.disruptions_allowed = allowed;
    b.current_healthy = healthy;
    b.desired_healthy = desired;
    b.disrupted_pods = still;
}

/// The eviction subresource for a running pod guarded by `guards`.
pub fn request(sim: &mut Simulation, guards: &[usize]) -> Verdict {
    match guards {
        [] => Verdict::Accepted,
        [i] => {
            let b = &mut sim.state_mut().disruption_budgets_mut()[*i];
            if b.disruptions_allowed <= 0 {
                // upstream checkAndDecrement: the 429's message and its DisruptionBudget cause.
                let cause = if b.current_healthy <= b.desired_healthy {
                    format!(
                        "The disruption budget {} needs {} healthy pods and has {} currently",
                        b.name, b.desired_healthy, b.current_healthy
                    )
                } else {
                    format!(
                        "The disruption budget {} does not allow evicting pods currently",
                        b.name
                    )
                };
                return Verdict::TooManyRequests(format!(
                    "Cannot evict pod as it would violate the pod's disruption budget. {cause}"
                ));
            }
            b.disruptions_allowed -= 1;
            // upstream also lists the pod in `status.disruptedPods` until the controller sees
            // it deleted. Placer deletes it in the same step, so the controller's next sync
            // would drop the entry; it is not kept, lest the replacement Placer recreates
            // under the same name be taken for the evicted pod. (Upstream's ReplicaSets name
            // replacements afresh; a StatefulSet's same-name replacement, which upstream keeps
            // out of the healthy count for up to `DELETION_TIMEOUT`, is counted at once here.)
            Verdict::Accepted
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|&i| sim.state().disruption_budgets()[i].name.to_string())
                .collect();
            Verdict::Error(format!(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support ({})",
                names.join(", ")
            ))
        }
    }
}

/// upstream taint eviction controller `getMinTolerationTime` over the tolerations `pod` uses
/// for the `NoExecute` taints of its node: `Err(())` when some taint is not tolerated (evict
/// now), `Ok(None)` when none bounds the time, `Ok(Some(ms))` otherwise (0 = now).
fn toleration_time(
    state: &ClusterState,
    pod: &PodInfo,
    node: NodeId,
) -> Result<Option<Millis>, ()> {
    let mut min: Option<Millis> = None;
    for taint in state
        .node(node)
        .info
        .taints
        .iter()
        .filter(|t| t.effect == TaintEffect::NoExecute)
    {
        let Some(t) = pod.tolerations.iter().find(|t| t.tolerates(taint)) else {
            return Err(());
        };
        if let Some(s) = t.seconds {
            let ms = s.max(0).saturating_mul(1000);
            min = Some(min.map_or(ms, |m| m.min(ms)));
        }
    }
    Ok(min)
}

/// Pending `NoExecute` evictions.
#[derive(Clone, Debug, Default)]
pub struct NoExecuteTimers {
    /// (due, pod key) → node.
    due: BTreeMap<(Millis, Arc<str>), NodeId>,
    /// Pod key → (node, when its timer was set, due).
    set: BTreeMap<Arc<str>, (NodeId, Millis, Millis)>,
}

impl NoExecuteTimers {
    /// The next virtual time a timer fires.
    #[must_use]
    pub fn next_due(&self) -> Option<Millis> {
        self.due.keys().next().map(|(t, _)| *t)
    }

    fn cancel(&mut self, key: &str) {
        if let Some((_, _, due)) = self.set.remove(key) {
            self.due.remove(&(due, Arc::from(key)));
        }
    }
}

/// The taint eviction controller's pass over the pods of `node` (after its taints changed, or
/// after `only` was bound to it): evicts now or (re)sets timers. Returns the pods evicted now.
pub fn process_node(sim: &mut Simulation, node: NodeId, only: Option<&str>) -> Vec<Arc<str>> {
    let now = sim.now();
    let mut keys: Vec<Arc<str>> = match only {
        Some(k) => vec![Arc::from(k)],
        None => sim
            .state()
            .node(node)
            .pods
            .iter()
            .map(|p| p.key.clone())
            .collect(),
    };
    keys.sort();
    let mut evict = Vec::new();
    for key in keys {
        let Some(entry) = sim.state().pod(&key) else {
            continue;
        };
        let verdict = toleration_time(sim.state(), &entry.info, node);
        let timers = sim.timers_mut();
        match verdict {
            Err(()) => {
                timers.cancel(&key);
                evict.push(key);
            }
            Ok(None) => timers.cancel(&key),
            Ok(Some(ms)) => {
                let since = match timers.set.get(&key) {
                    Some(&(n, since, _)) if n == node => since,
                    _ => now,
                };
                timers.cancel(&key);
                let due = since.saturating_add(ms);
                if due <= now {
                    evict.push(key);
                } else {
                    timers.set.insert(key.clone(), (node, since, due));
                    timers.due.insert((due, key), node);
                }
            }
        }
    }
    for key in &evict {
        let name = sim.state().node(node).info.name.clone();
        sim.evict_pod(key, &format!("NoExecute taint on {name}"));
    }
    evict
}

/// Fires the `NoExecute` timers due at `now`.
pub fn run_due(sim: &mut Simulation, now: Millis) {
    loop {
        let timers = sim.timers_mut();
        let Some((&(due, ref key), &node)) = timers.due.iter().next() else {
            return;
        };
        if due > now {
            return;
        }
        let key = key.clone();
        timers.due.remove(&(due, key.clone()));
        timers.set.remove(&key);
        let on_node = sim.state().pod(&key).is_some_and(|e| e.node == node);
        if !on_node {
            continue;
        }
        // Still tainted and still not tolerated forever: evicted now.
        if let Ok(Some(_)) | Err(()) = toleration_time(
            sim.state(),
            &sim.state().pod(&key).expect("on the node").info,
            node,
        ) {
            let name = sim.state().node(node).info.name.clone();
            sim.evict_pod(
                &key,
                &format!("NoExecute taint on {name} (tolerationSeconds elapsed)"),
            );
        }
    }
}
