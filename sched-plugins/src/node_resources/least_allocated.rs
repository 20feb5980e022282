//! The `LeastAllocated` scoring strategy of NodeResourcesFit
//! (upstream `pkg/scheduler/framework/plugins/noderesources/least_allocated.go`).

use super::resource_allocation::WeightedSum;
use sched_core::framework::MAX_NODE_SCORE;

/// upstream `leastRequestedScore`: the unused share of `capacity` on a 0..=100 scale
/// (0 when over-committed or when the node has none of the resource).
pub(crate) fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    capacity
        .wrapping_sub(requested)
        .wrapping_mul(MAX_NODE_SCORE)
        .wrapping_div(capacity)
}

/// Accumulates one resource into the weighted mean (upstream `leastResourceScorer`).
pub(crate) fn add(acc: &mut WeightedSum, weight: i64, requested: i64, allocatable: i64) {
    acc.add(least_requested_score(requested, allocatable), weight);
}
