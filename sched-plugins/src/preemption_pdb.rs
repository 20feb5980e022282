//! DefaultPreemption's PodDisruptionBudget rules.
//!
//! Mirrors upstream `plugins/defaultpreemption/default_preemption.go`
//! (`filterPodsWithPDBViolation`, used by `SelectVictimsOnNode`) and
//! `framework/preemption/preemption.go` (`pickOneNodeForPreemption`'s first criterion, the
//! fewest PDB violations, and `dryRunPreemption`'s non-violating / violating candidates).
//!
//! A budget's allowance is `status.disruptionsAllowed` as held by the cluster state. Walking
//! the potential victims most important first, each victim covered by a budget (same
//! namespace, a non-empty selector that matches its labels, the pod carrying labels) spends
//! one disruption of every such budget, except when it is listed in the budget's
//! `status.disruptedPods` (the API server already counted it); a victim that drives some
//! budget below zero is *violating*. Violating victims are reprieved first.

use sched_core::intern::Interner;
use sched_core::model::{DisruptionBudget, PodInfo};

/// The budgets of namespace `ns` out of `budgets` (sorted by namespace, then name).
fn budgets_of(
    budgets: &[DisruptionBudget],
    pod: &PodInfo,
    interner: &Interner,
) -> std::ops::Range<usize> {
    let ns = &*pod.namespace;
    let start = budgets.partition_point(|b| interner.resolve(b.namespace) < ns);
    let len = budgets[start..].partition_point(|b| interner.resolve(b.namespace) == ns);
    start..start + len
}

/// upstream `filterPodsWithPDBViolation`: splits `victims` (in their order, which it keeps)
/// into those whose eviction would break a budget and the others.
#[must_use]
pub fn split_by_violation<P: AsRef<PodInfo>>(
    victims: Vec<P>,
    budgets: &[DisruptionBudget],
    interner: &Interner,
) -> (Vec<P>, Vec<P>) {
    if budgets.is_empty() {
        return (Vec::new(), victims);
    }
    // The allowance left per budget, indexed like `budgets` (only touched entries change).
    let mut allowed: Vec<i32> = budgets.iter().map(|b| b.disruptions_allowed).collect();
    let mut violating = Vec::new();
    let mut non_violating = Vec::new();
    for p in victims {
        let v = p.as_ref();
        let mut violated = false;
        if !v.labels.0.is_empty() {
            let range = budgets_of(budgets, v, interner);
            let base = range.start;
            for (i, b) in budgets[range].iter().enumerate() {
                if !b.covers(v, interner) || b.has_disrupted(&v.name) {
                    continue;
                }
                let a = &mut allowed[base + i];
                *a -= 1;
                if *a < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(p);
        } else {
            non_violating.push(p);
        }
    }
    (violating, non_violating)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestCluster;
    use serde_json::json;
    use std::sync::Arc;

    fn budget(c: &mut TestCluster, name: &str, app: &str, allowed: i32) {
        let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget =
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": app}}},
                "status": {"disruptionsAllowed": allowed, "currentHealthy": 0, "desiredHealthy": 0,
                           "expectedPods": 0, "observedGeneration": 1}
            }))
            .unwrap();
        c.state.apply_disruption_budget(&pdb).unwrap();
    }

    fn pod(c: &mut TestCluster, name: &str, app: Option<&str>) -> Arc<PodInfo> {
        let mut v = crate::testing::pod_json(name, Some("1"), None);
        if let Some(app) = app {
            v["metadata"]["labels"] = json!({"app": app});
        }
        Arc::new(c.pod(v))
    }

    /// upstream filterPodsWithPDBViolation: the allowance is spent in victim order; the
    /// victims past it violate; pods without labels or of another budget never do.
    #[test]
    fn filter_pods_with_pdb_violation_spends_the_allowance_in_order() {
        let mut c = TestCluster::new();
        budget(&mut c, "web", "web", 1);
        let victims = vec![
            pod(&mut c, "a", Some("web")),
            pod(&mut c, "b", Some("web")),
            pod(&mut c, "c", None),
            pod(&mut c, "d", Some("db")),
            pod(&mut c, "e", Some("web")),
        ];
        let (bad, good) =
            split_by_violation(victims, c.state.disruption_budgets(), c.state.interner());
        let names = |v: &[Arc<PodInfo>]| v.iter().map(|p| p.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&bad), ["b", "e"]);
        assert_eq!(names(&good), ["a", "c", "d"]);
    }

    /// upstream: a victim already in status.disruptedPods does not spend the allowance.
    #[test]
    fn disrupted_pods_do_not_spend_the_allowance() {
        let mut c = TestCluster::new();
        let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget =
            serde_json::from_value(json!({
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
                "status": {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
                           "expectedPods": 0, "disruptedPods": {"a": "2024-01-01T00:00:00Z"}}
            }))
            .unwrap();
        c.state.apply_disruption_budget(&pdb).unwrap();
        let victims = vec![pod(&mut c, "a", Some("web")), pod(&mut c, "b", Some("web"))];
        let (bad, good) =
            split_by_violation(victims, c.state.disruption_budgets(), c.state.interner());
        assert_eq!(bad.len(), 1);
        assert_eq!(&*bad[0].name, "b");
        assert_eq!(&*good[0].name, "a");
    }

    /// upstream: a PDB with an empty selector selects nothing (policy/v1).
    #[test]
    fn empty_selector_selects_nothing() {
        let mut c = TestCluster::new();
        let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget =
            serde_json::from_value(json!({
                "metadata": {"name": "all", "namespace": "default"},
                "spec": {"maxUnavailable": 0, "selector": {}},
            }))
            .unwrap();
        c.state.apply_disruption_budget(&pdb).unwrap();
        let victims = vec![pod(&mut c, "a", Some("web"))];
        let (bad, _) =
            split_by_violation(victims, c.state.disruption_budgets(), c.state.interner());
        assert!(bad.is_empty());
    }
}
