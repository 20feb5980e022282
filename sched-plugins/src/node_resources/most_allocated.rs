//! The `MostAllocated` scoring strategy of NodeResourcesFit
//! (upstream `pkg/scheduler/framework/plugins/noderesources/most_allocated.go`).

use super::resource_allocation::WeightedSum;
use sched_core::framework::MAX_NODE_SCORE;

/// upstream `mostRequestedScore`: the used share of `capacity` on a 0..=100 scale, with
/// `requested` capped at `capacity` (non-zero defaults can push it above).
pub(crate) fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    let requested = requested.min(capacity);
    requested
        .wrapping_mul(MAX_NODE_SCORE)
        .wrapping_div(capacity)
}

/// Accumulates one resource into the weighted mean (upstream `mostResourceScorer`).
pub(crate) fn add(acc: &mut WeightedSum, weight: i64, requested: i64, allocatable: i64) {
    acc.add(most_requested_score(requested, allocatable), weight);
}
