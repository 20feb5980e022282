//! PrioritySort: the active queue's order, higher priority first, then earlier first.
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/queuesort/priority_sort.go` (`Less`).
//! Upstream breaks priority ties with the time the pod entered the scheduling queue
//! (`QueuedPodInfo.Timestamp`); Placer has no queue timestamp in the pod model and uses
//! `metadata.creationTimestamp` ([`PodInfo::creation_millis`]) instead. The two agree for pods
//! queued in creation order and differ after requeues (backoff, unschedulable pods moved back).

use sched_core::config::ProfileConfig;
use sched_core::framework::{Plugin, QueueSortPlugin};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "PrioritySort";

/// upstream `PrioritySort`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrioritySort;

impl PrioritySort {
    /// Builds the plugin (no arguments).
    ///
    /// # Errors
    /// Never.
    pub fn factory(
        _cfg: &ProfileConfig,
        _interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(PrioritySort))
    }
}

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        Some(self)
    }
}

impl QueueSortPlugin for PrioritySort {
    /// upstream `Less`: `p1 > p2 || (p1 == p2 && t1 < t2)` with `spec.priority` (0 when unset)
    /// and, here, the creation time as `t`.
    fn less(&self, a: &PodInfo, b: &PodInfo) -> bool {
        a.priority > b.priority
            || (a.priority == b.priority && a.creation_millis < b.creation_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestCluster;
    use serde_json::json;

    fn pod(c: &mut TestCluster, name: &str, priority: Option<i32>, created: &str) -> PodInfo {
        let mut spec = json!({"containers": [{"name": "c"}]});
        if let Some(p) = priority {
            spec["priority"] = json!(p);
        }
        c.pod(json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": created}, "spec": spec}))
    }

    /// A pod's priority (unset when `None`) and creation timestamp.
    type PodKey = (Option<i32>, &'static str);

    #[test]
    fn less_table() {
        let (t1, t2) = ("2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z");
        let cases: Vec<(&str, PodKey, PodKey, bool)> = vec![
            // upstream: priority_sort_test.go TestLess "p1.priority less than p2.priority"
            (
                "p1.priority less than p2.priority",
                (Some(10), t1),
                (Some(100), t1),
                false,
            ),
            // upstream: TestLess "p1.priority greater than p2.priority"
            (
                "p1.priority greater than p2.priority",
                (Some(100), t1),
                (Some(10), t1),
                true,
            ),
            // upstream: TestLess "equal priority. p1 is added to schedulingQ earlier than p2"
            (
                "equal priority, p1 earlier",
                (Some(100), t1),
                (Some(100), t2),
                true,
            ),
            // upstream: TestLess "equal priority. p2 is added to schedulingQ earlier than p1"
            (
                "equal priority, p2 earlier",
                (Some(100), t2),
                (Some(100), t1),
                false,
            ),
            // no upstream row: unset priority is 0 (corev1helpers.PodPriority); negative priorities sort after it.
            ("unset priority is 0", (None, t2), (Some(-1), t1), true),
            // no upstream row: equal priority and equal time is not less (strict weak order).
            ("identical", (Some(5), t1), (Some(5), t1), false),
        ];
        let mut c = TestCluster::new();
        for (name, (p1, c1), (p2, c2), want) in cases {
            let a = pod(&mut c, "a", p1, c1);
            let b = pod(&mut c, "b", p2, c2);
            assert_eq!(PrioritySort.less(&a, &b), want, "{name}");
        }
    }
}
