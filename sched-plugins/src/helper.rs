//! Helpers shared by plugins (upstream `pkg/scheduler/framework/plugins/helper`).

use sched_core::framework::MAX_NODE_SCORE;

/// upstream: `helper.DefaultNormalizeScore(maxPriority, reverse, scores)`.
///
/// Scales scores so the highest becomes `max_priority` (integer division); with `reverse`,
/// each becomes `max_priority - scaled`. When every score is 0, reverse gives every node
/// `max_priority` and non-reverse leaves them at 0.
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max_priority);
        }
        return;
    }
    for s in scores.iter_mut() {
        let scaled = max_priority * *s / max;
        *s = if reverse {
            max_priority - scaled
        } else {
            scaled
        };
    }
}

/// [`default_normalize_score`] with upstream's `MaxNodeScore` (100).
pub fn normalize_to_max(reverse: bool, scores: &mut [i64]) {
    default_normalize_score(MAX_NODE_SCORE, reverse, scores);
}

#[cfg(test)]
mod tests {
    use super::*;

    // upstream: helper/normalize_score_test.go TestDefaultNormalizeScore, one row per case.
    #[test]
    fn default_normalize_score_table() {
        let cases: &[(&str, bool, &[i64], &[i64])] = &[
            ("scale up", false, &[1, 2, 3, 4, 5], &[20, 40, 60, 80, 100]),
            (
                "scale up reverse",
                true,
                &[1, 2, 3, 4, 5],
                &[80, 60, 40, 20, 0],
            ),
            (
                "integer division truncates",
                false,
                &[1000, 10, 20, 30, 40],
                &[100, 1, 2, 3, 4],
            ),
            (
                "reverse truncates before subtracting",
                true,
                &[1000, 10, 20, 30, 40],
                &[0, 99, 98, 97, 96],
            ),
            ("all zero stays zero", false, &[0, 0, 0], &[0, 0, 0]),
            (
                "all zero reverse is max",
                true,
                &[0, 0, 0],
                &[100, 100, 100],
            ),
            ("one node", false, &[7], &[100]),
        ];
        for (name, reverse, input, want) in cases {
            let mut s = input.to_vec();
            default_normalize_score(100, *reverse, &mut s);
            assert_eq!(&s, want, "{name}");
        }
    }
}
