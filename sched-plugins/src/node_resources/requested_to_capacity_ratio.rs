//! The `RequestedToCapacityRatio` scoring strategy of NodeResourcesFit
//! (upstream `pkg/scheduler/framework/plugins/noderesources/requested_to_capacity_ratio.go`
//! and `pkg/scheduler/framework/plugins/helper/shape_score.go`).

use super::resource_allocation::WeightedSum;
use sched_core::config::UtilizationShapePoint;
use sched_core::framework::MAX_NODE_SCORE;
use smallvec::SmallVec;

/// upstream `maxUtilization`.
const MAX_UTILIZATION: i64 = 100;
/// upstream `config.MaxCustomPriorityScore`: the top of a configured shape's score axis.
const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// A piecewise-linear function of utilization (upstream `helper.FunctionShape` +
/// `BuildBrokenLinearFunction`), points `(utilization, score)` in configuration order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    points: SmallVec<[(i64, i64); 4]>,
}

impl Shape {
    /// Points taken as given (no scaling); `None` when empty.
    pub fn new(points: impl IntoIterator<Item = (i64, i64)>) -> Option<Self> {
        let points: SmallVec<[(i64, i64); 4]> = points.into_iter().collect();
        (!points.is_empty()).then_some(Shape { points })
    }

    /// upstream `requestedToCapacityRatioScorer`: configured scores (0..=10) scaled by
    /// `MaxNodeScore / MaxCustomPriorityScore` (= 10) to the scheduler's 0..=100 range.
    pub fn from_config(shape: &[UtilizationShapePoint]) -> Option<Self> {
        Self::new(shape.iter().map(|p| {
            (
                i64::from(p.utilization),
                i64::from(p.score) * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
            )
        }))
    }

    /// upstream `BuildBrokenLinearFunction`: the first score at or below the first point, the
    /// last score above the last point, integer (truncating) interpolation in between.
    pub fn eval(&self, p: i64) -> i64 {
        let pts = &self.points;
        for (i, &(utilization, score)) in pts.iter().enumerate() {
            if p <= utilization {
                if i == 0 {
                    return score;
                }
                let (prev_u, prev_s) = pts[i - 1];
                return prev_s.wrapping_add(
                    (score.wrapping_sub(prev_s))
                        .wrapping_mul(p.wrapping_sub(prev_u))
                        .wrapping_div(utilization.wrapping_sub(prev_u)),
                );
            }
        }
        pts[pts.len() - 1].1
    }

    /// upstream `resourceScoringFunction`: utilization `requested * 100 / capacity` (Go
    /// `int64` arithmetic, as in 1.35), or 100 when over-committed, mapped through the shape.
    pub fn resource_score(&self, requested: i64, capacity: i64) -> i64 {
        if capacity == 0 || requested > capacity {
            return self.eval(MAX_UTILIZATION);
        }
        self.eval(
            requested
                .wrapping_mul(MAX_UTILIZATION)
                .wrapping_div(capacity),
        )
    }

    /// Accumulates one resource: upstream drops resources whose score is 0 from both the
    /// numerator and the weight sum.
    pub fn add(&self, acc: &mut WeightedSum, weight: i64, requested: i64, allocatable: i64) {
        let score = self.resource_score(requested, allocatable);
        if score > 0 {
            acc.add(score, weight);
        }
    }
}

/// The final RequestedToCapacityRatio score: `math.Round(nodeScore / weightSum)` (half away
/// from zero, as Rust's `f64::round`), 0 when nothing was counted.
pub(crate) fn rounded_mean(acc: WeightedSum) -> i64 {
    if acc.weight_sum == 0 {
        return 0;
    }
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let score = (acc.node_score as f64 / acc.weight_sum as f64).round() as i64;
    score
}
