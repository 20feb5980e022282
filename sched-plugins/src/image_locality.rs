//! ImageLocality: favours nodes that already hold the pod's container images (Score only,
//! no NormalizeScore).
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/imagelocality/image_locality.go` (1.35):
//!
//! * each of the pod's images is normalized as upstream `normalizedImageName` does — `:latest`
//!   is appended when the reference has no tag after its last `/` — and nothing else (no
//!   `docker.io/library/` prefixing: upstream lists that mismatch as a known TODO);
//! * for every image the node holds under that exact name, the score adds
//!   `int64(float64(size) * float64(numNodes) / float64(totalNumNodes))` where `numNodes` is
//!   how many nodes of the cluster hold the name and `totalNumNodes` is the number of nodes;
//! * the sum is clamped to `[23 MiB, 1000 MiB × number of containers]` and scaled to 0..100
//!   with integer division (`calculatePriority`).
//!
//! `numNodes` comes from `ClusterState::image_num_nodes`, the state's image table (upstream's
//! cache keeps the same counts), so Score needs no PreScore. Pod images are normalized and
//! include init containers at conversion ([`PodInfo::images`]), and the container count for the
//! threshold is [`PodInfo::num_containers`], as upstream 1.35. The node's own reported size is
//! used (upstream's cache keeps the size first reported for a name; they differ only when nodes
//! report different sizes for one name). Image-volume references are not counted yet.

use sched_core::config::ProfileConfig;
use sched_core::framework::{ClusterView, CycleState, MAX_NODE_SCORE, Plugin, ScorePlugin};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{NodeInfo, PodInfo};
use sched_core::state::{ClusterState, NodeId, NodeState};
use smallvec::SmallVec;
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "ImageLocality";

/// upstream `mb`.
pub const MB: i64 = 1024 * 1024;
/// upstream `minThreshold`: sums below 23 MiB score 0.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// upstream `maxContainerThreshold`: the top of the range, per container.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// upstream `ImageLocality`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageLocality;

impl ImageLocality {
    /// Builds the plugin (no arguments).
    ///
    /// # Errors
    /// Never.
    pub fn factory(
        _cfg: &ProfileConfig,
        _interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(ImageLocality))
    }
}

pub use sched_core::convert::normalized_image_name;

/// upstream `calculatePriority`.
#[must_use]
pub fn calculate_priority(sum_scores: i64, num_containers: usize) -> i64 {
    let max_threshold =
        MAX_CONTAINER_THRESHOLD.saturating_mul(i64::try_from(num_containers).unwrap_or(i64::MAX));
    let mut sum = sum_scores;
    if sum < MIN_THRESHOLD {
        sum = MIN_THRESHOLD;
    } else if sum > max_threshold {
        sum = max_threshold;
    }
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

/// upstream `scaledImageScore`: the size scaled by the fraction of nodes holding the image.
#[must_use]
pub fn scaled_image_score(size: i64, num_nodes: usize, total_num_nodes: usize) -> i64 {
    let spread = num_nodes as f64 / total_num_nodes as f64;
    // Go's int64(float64) conversion truncates toward zero, as `as` does for in-range values.
    (size as f64 * spread) as i64
}

/// The size of `image` on `node` (node images are sorted by name at conversion).
fn image_size(node: &NodeInfo, image: Sym) -> Option<i64> {
    node.images
        .binary_search_by_key(&image, |&(n, _)| n)
        .ok()
        .map(|i| node.images[i].1)
}

/// The pod's side of the score, worked out once per pod: each image with the number of nodes
/// that hold it (upstream reads the same counts from its image-state cache for every node).
struct PodImages {
    images: SmallVec<[(Sym, usize); 4]>,
    total_nodes: usize,
    num_containers: usize,
}

impl PodImages {
    fn new(pod: &PodInfo, state: &ClusterState) -> Self {
        PodImages {
            images: pod
                .images
                .iter()
                .map(|&image| (image, state.image_num_nodes(image)))
                .collect(),
            total_nodes: state.num_nodes(),
            num_containers: pod.num_containers,
        }
    }

    /// upstream `sumImageScores` for one node.
    fn sum(&self, node: &NodeInfo) -> i64 {
        if node.images.is_empty() {
            return 0;
        }
        let mut sum: i64 = 0;
        for &(image, num_nodes) in &self.images {
            if let Some(size) = image_size(node, image) {
                sum = sum.saturating_add(scaled_image_score(size, num_nodes, self.total_nodes));
            }
        }
        sum
    }
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl ScorePlugin for ImageLocality {
    /// upstream `Score`: `calculatePriority(sumImageScores(…))`.
    fn score(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> i64 {
        let p = PodImages::new(pod, view.state);
        calculate_priority(p.sum(&node.info), p.num_containers)
    }

    /// As `score` per node, with the pod's image counts looked up once. Nodes holding the same
    /// images give the same sum, so the last sum's priority is reused.
    fn score_nodes(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        let p = PodImages::new(pod, view.state);
        let mut last: Option<(i64, i64)> = None;
        for (o, &id) in out.iter_mut().zip(nodes) {
            let sum = p.sum(&view.state.node(id).info);
            *o = match last {
                Some((s, score)) if s == sum => score,
                _ => {
                    let score = calculate_priority(sum, p.num_containers);
                    last = Some((sum, score));
                    score
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestCluster, cycle};
    use serde_json::{Value, json};

    #[test]
    fn normalized_image_name_table() {
        let digest = "sha256:4e2e1a5e4e2c1e7b3f1d0c9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b";
        let cases: Vec<(&str, String, String)> = vec![
            // upstream: image_locality_test.go TestNormalizedImageName "add :latest postfix 1"
            ("add :latest postfix 1", "root".into(), "root:latest".into()),
            // upstream: TestNormalizedImageName "add :latest postfix 2"
            (
                "add :latest postfix 2",
                "gcr.io:5000/root".into(),
                "gcr.io:5000/root:latest".into(),
            ),
            // upstream: TestNormalizedImageName "keep it as is 1"
            ("keep it as is 1", "root:tag".into(), "root:tag".into()),
            // upstream: TestNormalizedImageName "keep it as is 2"
            (
                "keep it as is 2",
                format!("root@{digest}"),
                format!("root@{digest}"),
            ),
            // no upstream row: no registry prefixing (upstream TODO).
            (
                "no docker.io/library prefix",
                "nginx".into(),
                "nginx:latest".into(),
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(normalized_image_name(&input), want, "{name}");
        }
    }

    #[test]
    fn calculate_priority_table() {
        // no upstream rows: the clamp and the integer scaling of calculatePriority.
        let cases: &[(&str, i64, usize, i64)] = &[
            ("below min", 10 * MB, 1, 0),
            ("at min", MIN_THRESHOLD, 1, 0),
            ("at max", 1000 * MB, 1, 100),
            ("above max", 5000 * MB, 2, 100),
            ("middle, truncated", 125 * MB, 2, 5),
            ("no containers", 0, 0, 0),
        ];
        for &(name, sum, n, want) in cases {
            assert_eq!(calculate_priority(sum, n), want, "{name}");
        }
    }

    fn image_node(name: &str, images: &[(&[&str], i64)]) -> Value {
        let images: Vec<Value> = images
            .iter()
            .map(|(names, mb)| json!({"names": names, "sizeBytes": mb * MB}))
            .collect();
        json!({"metadata": {"name": name}, "status": {"images": images}})
    }

    fn image_pod(containers: &[&str], init: &[&str]) -> Value {
        let containers: Vec<Value> = containers
            .iter()
            .enumerate()
            .map(|(i, im)| json!({"name": format!("c{i}"), "image": im}))
            .collect();
        let init: Vec<Value> = init
            .iter()
            .enumerate()
            .map(|(i, im)| json!({"name": format!("i{i}"), "image": im}))
            .collect();
        json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": containers, "initContainers": init}})
    }

    type ImageList = &'static [(&'static [&'static str], i64)];

    const NODE_40_300_2000: ImageList = &[
        (&["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], 40),
        (&["gcr.io/300:latest", "gcr.io/300:v1"], 300),
        (&["gcr.io/2000:latest"], 2000),
    ];
    const NODE_250_10: ImageList = &[
        (&["gcr.io/250:latest"], 250),
        (&["gcr.io/10:latest", "gcr.io/10:v1"], 10),
    ];
    const NODE_600_40_900: ImageList = &[
        (&["gcr.io/600:latest"], 600),
        (&["gcr.io/40:latest"], 40),
        (&["gcr.io/900:latest"], 900),
    ];
    const NODE_300_600_900: ImageList = &[
        (&["gcr.io/300:latest"], 300),
        (&["gcr.io/600:latest"], 600),
        (&["gcr.io/900:latest"], 900),
    ];
    const NODE_4000_30: ImageList = &[(&["gcr.io/4000:latest"], 4000), (&["gcr.io/30:latest"], 30)];
    const NODE_20_30_40: ImageList = &[
        (&["gcr.io/20:latest"], 20),
        (&["gcr.io/30:latest"], 30),
        (&["gcr.io/40:latest"], 40),
    ];
    const NO_IMAGES: ImageList = &[];

    struct Case {
        name: &'static str,
        containers: &'static [&'static str],
        init: &'static [&'static str],
        nodes: &'static [ImageList],
        want: &'static [i64],
    }

    fn run(case: &Case) -> Vec<i64> {
        let mut c = TestCluster::new();
        let ids: Vec<sched_core::state::NodeId> = case
            .nodes
            .iter()
            .enumerate()
            .map(|(i, imgs)| c.node(image_node(&format!("node{}", i + 1), imgs)))
            .collect();
        let pod = c.pod(image_pod(case.containers, case.init));
        let state = cycle();
        ids.iter()
            .map(|&id| ImageLocality.score(&state, &pod, c.node_state(id), c.view()))
            .collect()
    }

    const CASES: &[Case] = &[
        // upstream: image_locality_test.go TestImageLocalityPriority "two images spread on two nodes, prefer the larger image one"
        Case {
            name: "two images spread on two nodes",
            containers: &["gcr.io/40", "gcr.io/250"],
            init: &[],
            nodes: &[NODE_40_300_2000, NODE_250_10],
            want: &[0, 5],
        },
        // upstream: TestImageLocalityPriority "two images on one node, prefer this node"
        Case {
            name: "two images on one node",
            containers: &["gcr.io/40", "gcr.io/300"],
            init: &[],
            nodes: &[NODE_40_300_2000, NODE_250_10],
            want: &[7, 0],
        },
        // upstream: TestImageLocalityPriority "if exceed limit, use limit"
        Case {
            name: "if exceed limit, use limit",
            containers: &["gcr.io/10", "gcr.io/4000"],
            init: &[],
            nodes: &[NODE_4000_30, NODE_250_10],
            want: &[100, 0],
        },
        // upstream: TestImageLocalityPriority "if exceed limit, use limit (with node which has no images present)"
        Case {
            name: "limit with an image-less node",
            containers: &["gcr.io/10", "gcr.io/4000"],
            init: &[],
            nodes: &[NODE_4000_30, NODE_250_10, NO_IMAGES],
            want: &[66, 0, 0],
        },
        // upstream: TestImageLocalityPriority "pod with multiple large images, node2 is preferred"
        Case {
            name: "multiple large images",
            containers: &["gcr.io/300", "gcr.io/600", "gcr.io/900"],
            init: &[],
            nodes: &[NODE_600_40_900, NODE_300_600_900, NO_IMAGES],
            want: &[32, 36, 0],
        },
        // upstream: TestImageLocalityPriority "pod with multiple small images"
        Case {
            name: "multiple small images",
            containers: &["gcr.io/30", "gcr.io/40"],
            init: &[],
            nodes: &[NODE_20_30_40, NODE_4000_30],
            want: &[1, 0],
        },
        // no upstream row: a tagged reference matches only that tag; same image twice counts twice.
        Case {
            name: "explicit tag, duplicated container image",
            containers: &["gcr.io/300:v1", "gcr.io/300:v1"],
            init: &[],
            nodes: &[NODE_40_300_2000, NODE_300_600_900],
            // node1: 2 × 300 MiB × 1/2 = 300 MiB; (300 − 23) × 100 / (2000 − 23) = 14.
            want: &[14, 0],
        },
    ];

    #[test]
    fn score_table() {
        for case in CASES {
            assert_eq!(run(case), case.want, "{}", case.name);
        }
    }

    #[test]
    fn score_includes_init_containers() {
        // upstream: TestImageLocalityPriority "include InitContainers: two images spread on two nodes, prefer the larger image one"
        let case = Case {
            name: "include InitContainers",
            containers: &["gcr.io/30"],
            init: &["gcr.io/300"],
            nodes: &[NODE_40_300_2000, NODE_20_30_40],
            want: &[6, 0],
        };
        assert_eq!(run(&case), case.want, "{}", case.name);
    }

    #[test]
    fn spread_counts_every_node_not_only_feasible_ones() {
        // no upstream row: numNodes and totalNumNodes come from the whole snapshot.
        let mut c = TestCluster::new();
        let a = c.node(image_node("a", &[(&["img:latest"], 900)]));
        c.node(image_node("b", &[(&["img:latest"], 900)]));
        c.node(image_node("c", &[]));
        let pod = c.pod(image_pod(&["img"], &[]));
        let state = cycle();
        // 900 MiB × 2/3 = 600 MiB; (600 − 23) × 100 / (1000 − 23) = 59.
        assert_eq!(
            ImageLocality.score(&state, &pod, c.node_state(a), c.view()),
            59
        );
    }
}
