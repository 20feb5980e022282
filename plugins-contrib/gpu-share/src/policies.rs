//! The FGD paper's placement policies as Score plugins, with the definitions of the authors'
//! simulator (hkust-adsl/kubernetes-scheduler-simulator, `pkg/simulator/plugin`):
//!
//! - `Random`: PreScore picks one feasible node uniformly (seeded by `args.seed` and the pod),
//!   which scores 100, every other 0.
//! - `DotProd` (Tetris): for each way the pod could use the node — one partly used GPU with
//!   room (a share), or the node's fully free GPUs — the dot product of the node's free
//!   (cpu, GPU) and the pod's request, both divided by (`maxCpuMilli`, `maxGpuMilli`); the
//!   score is `100 × max(1 − dot / 2)`; its best option is the device preference.
//! - `GpuClustering`: nodes whose GPU pods are all of the pod's kind (share, or `k` whole
//!   GPUs) score in (75, 100], nodes with that kind among others in (50, 75], nodes without
//!   GPU pods in (25, 50], others in [0, 25]; within a band, `25 × (maxGpuMilli − free) /
//!   maxGpuMilli` (fuller first). CPU pods score 0.
//! - `GpuPacking`: a share that fits on partly used GPUs scores `max(100 − Σ free% / 10, 50)`,
//!   a pod that needs fully free GPUs of a partly used node `max(50 − n, 33)`, an idle node
//!   `max(33 − GPUs, GPUs)`. CPU pods score 0.
//! - `BestFit`: `(1 − Σ_r w_r (free_r − request_r) / max_r) × 100` over cpu and GPU (weights
//!   0.5 each), then min–max normalized to [0, 100].
//! - `FGD`: the decrease of the node's fragmentation ([`crate::frag`]) when the pod is placed
//!   there (each fitting GPU is tried for a share, the best kept), mapped to
//!   `sigmoid(Δ / 1000) × 100`; its best GPU is the device preference.
//!
//! `DotProd` and `FGD` also run at Reserve, before `GpuShare`, to hand their device choice to
//! it ([`crate::share::DevicePreference`]); the other policies leave it to `GpuShare`'s best fit.

use crate::devices::{GpuDevices, GpuRequest, MILLI, NodeGpus};
use crate::frag::{FragModel, TypicalPod};
use crate::share::{DevicePreference, extension};
use sched_core::PluginSpec;
use sched_core::config::{ExtensionPoint, ProfileConfig};
use sched_core::framework::{
    ClusterView, CycleState, Plugin, PreScoreOutcome, PreScorePlugin, Rejection, ReservePlugin,
    ScorePlugin,
};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use sched_core::state::{NodeId, NodeState};
use smallvec::SmallVec;
use std::sync::Arc;

/// The authors' `MaxSpecCpu` (milli-cores): the cpu normalizer of DotProd and BestFit.
pub const MAX_SPEC_CPU: i64 = 128_000;
/// The authors' `MaxSpecGpu` (milli-units, 8 GPUs): the GPU normalizer.
pub const MAX_SPEC_GPU: i64 = 8_000;

fn cpu_left(node: &NodeState) -> i64 {
    node.info.allocatable.milli_cpu - node.requested.milli_cpu
}

fn request(ext: &GpuDevices, pod: &PodInfo) -> Option<GpuRequest> {
    ext.request(pod).ok().flatten()
}

/// Runs `f` on each node with its GPUs, writing scores (0 for every node without the
/// extension).
fn score_each(
    nodes: &[NodeId],
    view: ClusterView<'_>,
    out: &mut [i64],
    mut f: impl FnMut(&GpuDevices, &NodeState, &NodeGpus) -> i64,
) {
    let Ok(ext) = extension(&view) else {
        out.fill(0);
        return;
    };
    for (o, &id) in out.iter_mut().zip(nodes) {
        *o = f(ext, view.state.node(id), ext.node(id));
    }
}

fn score_by_name(
    plugin: &dyn ScorePlugin,
    cycle: &CycleState,
    pod: &PodInfo,
    node: &NodeState,
    view: ClusterView<'_>,
) -> i64 {
    let Some(id) = view.state.node_id(&node.info.name) else {
        return 0;
    };
    let mut out = [0];
    plugin.score_nodes(cycle, pod, &[id], view, &mut out);
    out[0]
}

macro_rules! spec {
    ($const:ident, $name:literal, $points:expr, $ty:ident) => {
        #[doc = concat!("The `", $name, "` plugin, declared once.")]
        pub const $const: PluginSpec = PluginSpec {
            name: $name,
            points: $points,
            factory: $ty::factory,
        };
    };
}

/// `Plugin` for a policy: its name from its spec, Score, and with `reserve` also Reserve, which
/// records the devices the policy's `best` picks for the Reserve of `GpuShare` to claim.
macro_rules! policy_plugin {
    ($ty:ident, $spec:ident) => {
        impl Plugin for $ty {
            fn name(&self) -> &'static str {
                $spec.name
            }
            fn as_score(&self) -> Option<&dyn ScorePlugin> {
                Some(self)
            }
        }
    };
    ($ty:ident, $spec:ident, reserve) => {
        impl Plugin for $ty {
            fn name(&self) -> &'static str {
                $spec.name
            }
            fn as_score(&self) -> Option<&dyn ScorePlugin> {
                Some(self)
            }
            fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
                Some(self)
            }
        }

        impl ReservePlugin for $ty {
            fn reserve(
                &self,
                cycle: &mut CycleState,
                pod: &PodInfo,
                node: NodeId,
                view: ClusterView<'_>,
            ) -> Result<Option<Arc<str>>, Rejection> {
                let ext = extension(&view)?;
                let (_, d) = self.best(
                    cpu_left(view.state.node(node)),
                    ext.node(node),
                    pod.requests.milli_cpu,
                    request(ext, pod),
                );
                if let Some(devices) = d {
                    cycle.write(DevicePreference { node, devices });
                }
                Ok(None)
            }
            fn unreserve(&self, _: &mut CycleState, _: &PodInfo, _: NodeId, _: ClusterView<'_>) {}
        }
    };
}

// ---- Random --------------------------------------------------------------------------------

spec!(
    RANDOM,
    "Random",
    &[ExtensionPoint::PreScore, ExtensionPoint::Score],
    Random
);

/// `pluginConfig[].args` of `Random`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RandomArgs {
    /// Seed of the choices (with the pod's key).
    #[serde(default)]
    pub seed: u64,
}

/// Random placement among the feasible nodes.
#[derive(Debug)]
pub struct Random {
    seed: u64,
}

#[derive(Clone, Copy, Debug)]
struct RandomPick(NodeId);

impl Random {
    /// Builds the plugin.
    ///
    /// # Errors
    /// Args that do not decode.
    pub fn factory(cfg: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        let a: RandomArgs = cfg.decode_args("Random")?;
        Ok(Arc::new(Random { seed: a.seed }))
    }
}

impl Plugin for Random {
    fn name(&self) -> &'static str {
        RANDOM.name
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for Random {
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        feasible: &[NodeId],
        _: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        if feasible.is_empty() {
            return Ok(PreScoreOutcome::Skip);
        }
        let h = sched_core::scheduler::tie_break(self.seed ^ 0x9e37_79b9_7f4a_7c15, &pod.key);
        let i = usize::try_from(h % feasible.len() as u64).unwrap_or(0);
        cycle.write(RandomPick(feasible[i]));
        Ok(PreScoreOutcome::Proceed)
    }
}

impl ScorePlugin for Random {
    fn score(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> i64 {
        score_by_name(self, cycle, pod, node, view)
    }

    fn score_nodes(
        &self,
        cycle: &CycleState,
        _: &PodInfo,
        nodes: &[NodeId],
        _: ClusterView<'_>,
        out: &mut [i64],
    ) {
        let pick = cycle.read::<RandomPick>().map(|p| p.0);
        for (o, &id) in out.iter_mut().zip(nodes) {
            *o = if Some(id) == pick { 100 } else { 0 };
        }
    }
}

// ---- DotProd -------------------------------------------------------------------------------

spec!(
    DOT_PROD,
    "DotProd",
    &[ExtensionPoint::Score, ExtensionPoint::Reserve],
    DotProd
);

/// `pluginConfig[].args` of `DotProd`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DotProdArgs {
    /// cpu normalizer (milli-cores).
    #[serde(default = "max_cpu")]
    pub max_cpu_milli: i64,
    /// GPU normalizer (milli-units).
    #[serde(default = "max_gpu")]
    pub max_gpu_milli: i64,
}

fn max_cpu() -> i64 {
    MAX_SPEC_CPU
}
fn max_gpu() -> i64 {
    MAX_SPEC_GPU
}

/// Tetris's dot-product alignment, per GPU option.
#[derive(Debug)]
pub struct DotProd {
    max_cpu: f64,
    max_gpu: f64,
}

impl DotProd {
    /// Builds the plugin.
    ///
    /// # Errors
    /// Args that do not decode, or a normalizer that is not positive.
    pub fn factory(cfg: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        let a: DotProdArgs = cfg.decode_args("DotProd")?;
        if a.max_cpu_milli <= 0 || a.max_gpu_milli <= 0 {
            return Err(
                "args.maxCpuMilli and args.maxGpuMilli: expected positive numbers".to_string(),
            );
        }
        Ok(Arc::new(DotProd {
            max_cpu: a.max_cpu_milli as f64,
            max_gpu: a.max_gpu_milli as f64,
        }))
    }

    /// An instance with the default args.
    #[must_use]
    pub fn with_defaults() -> Self {
        DotProd {
            max_cpu: MAX_SPEC_CPU as f64,
            max_gpu: MAX_SPEC_GPU as f64,
        }
    }

    /// The score (0–100) and the devices of the best option.
    #[must_use]
    pub fn best(
        &self,
        cpu_left: i64,
        gpus: &NodeGpus,
        cpu: i64,
        req: Option<GpuRequest>,
    ) -> (i64, Option<SmallVec<[u8; 8]>>) {
        if cpu_left < cpu {
            return (0, None);
        }
        let want = req.map_or(0, GpuRequest::total);
        let pod = (cpu as f64 / self.max_cpu, want as f64 / self.max_gpu);
        let value = |free_gpu: i64| {
            let dot =
                (cpu_left as f64 / self.max_cpu) * pod.0 + (free_gpu as f64 / self.max_gpu) * pod.1;
            1.0 - dot / 2.0
        };
        let mut best: Option<(f64, Option<SmallVec<[u8; 8]>>)> = None;
        if want < i64::from(MILLI) {
            for (i, &f) in gpus.free.iter().enumerate() {
                if f < MILLI && i64::from(f) >= want {
                    let v = value(i64::from(f));
                    if best.as_ref().is_none_or(|(b, _)| v > *b) {
                        let d = req
                            .and_then(|_| u8::try_from(i).ok())
                            .map(|d| smallvec::smallvec![d]);
                        best = Some((v, d));
                    }
                }
            }
        }
        let idle = gpus.fully_free() as i64;
        if want <= idle * i64::from(MILLI) {
            let v = value(idle * i64::from(MILLI));
            if best.as_ref().is_none_or(|(b, _)| v > *b) {
                let d = req.and_then(|r| {
                    gpus.whole(GpuRequest {
                        count: r.count,
                        milli: MILLI,
                    })
                });
                best = Some((v, d));
            }
        }
        match best {
            Some((v, d)) => (((v * 100.0) as i64).clamp(0, 100), d),
            None => (0, None),
        }
    }
}

policy_plugin!(DotProd, DOT_PROD, reserve);

impl ScorePlugin for DotProd {
    fn score(&self, c: &CycleState, p: &PodInfo, n: &NodeState, v: ClusterView<'_>) -> i64 {
        score_by_name(self, c, p, n, v)
    }

    fn score_nodes(
        &self,
        _: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        score_each(nodes, view, out, |ext, node, gpus| {
            self.best(
                cpu_left(node),
                gpus,
                pod.requests.milli_cpu,
                request(ext, pod),
            )
            .0
        });
    }
}

// ---- GpuClustering -------------------------------------------------------------------------

spec!(
    GPU_CLUSTERING,
    "GpuClustering",
    &[ExtensionPoint::Score],
    GpuClustering
);

/// `pluginConfig[].args` of `GpuClustering`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GpuClusteringArgs {
    /// GPU normalizer of the in-band term (milli-units).
    #[serde(default = "max_gpu")]
    pub max_gpu_milli: i64,
}

/// Groups pods of one GPU kind on the same nodes.
#[derive(Debug)]
pub struct GpuClustering {
    max_gpu: i64,
}

impl GpuClustering {
    /// Builds the plugin.
    ///
    /// # Errors
    /// Args that do not decode, or a normalizer that is not positive.
    pub fn factory(cfg: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        let a: GpuClusteringArgs = cfg.decode_args("GpuClustering")?;
        if a.max_gpu_milli <= 0 {
            return Err("args.maxGpuMilli: expected a positive number".to_string());
        }
        Ok(Arc::new(GpuClustering {
            max_gpu: a.max_gpu_milli,
        }))
    }

    /// An instance with the default args.
    #[must_use]
    pub fn with_defaults() -> Self {
        GpuClustering {
            max_gpu: MAX_SPEC_GPU,
        }
    }

    /// The score of a node for a pod of request `req`.
    #[must_use]
    pub fn value(&self, gpus: &NodeGpus, req: Option<GpuRequest>) -> i64 {
        let Some(req) = req else { return 0 };
        let band = (25 * (self.max_gpu - gpus.free_total()) / self.max_gpu).clamp(0, 25);
        let base = if gpus.tag_count(req.tag()) > 0 {
            if gpus.tags.len() == 1 { 75 } else { 50 }
        } else if gpus.tags.is_empty() {
            25
        } else {
            0
        };
        base + band
    }
}

policy_plugin!(GpuClustering, GPU_CLUSTERING);

impl ScorePlugin for GpuClustering {
    fn score(&self, c: &CycleState, p: &PodInfo, n: &NodeState, v: ClusterView<'_>) -> i64 {
        score_by_name(self, c, p, n, v)
    }

    fn score_nodes(
        &self,
        _: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        score_each(nodes, view, out, |ext, _, gpus| {
            self.value(gpus, request(ext, pod))
        });
    }
}

// ---- GpuPacking ----------------------------------------------------------------------------

spec!(
    GPU_PACKING,
    "GpuPacking",
    &[ExtensionPoint::Score],
    GpuPacking
);

/// `pluginConfig[].args` of `GpuPacking`: none.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GpuPackingArgs {}

/// Prefers partly used GPUs, then partly used nodes, then idle nodes.
#[derive(Debug)]
pub struct GpuPacking;

impl GpuPacking {
    /// Builds the plugin.
    ///
    /// # Errors
    /// Args that do not decode.
    pub fn factory(cfg: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        let _: GpuPackingArgs = cfg.decode_args("GpuPacking")?;
        Ok(Arc::new(GpuPacking))
    }

    /// The score of a node for a pod of request `req`.
    #[must_use]
    pub fn value(gpus: &NodeGpus, req: Option<GpuRequest>) -> i64 {
        let Some(req) = req else { return 0 };
        let n = gpus.free.len() as i64;
        let full = gpus.fully_free() as i64;
        if full == n {
            return (33 - full).max(full);
        }
        let mut order: SmallVec<[usize; 8]> = (0..gpus.free.len()).collect();
        order.sort_by_key(|&i| gpus.free[i]); // stable: lowest index first among equals
        let mut left = usize::from(req.count);
        let mut whole_used = 0i64;
        let mut free_pct = 0i64;
        for i in order {
            if left == 0 {
                break;
            }
            let f = gpus.free[i];
            if f >= req.milli {
                left -= 1;
                free_pct += i64::from(f) * 100 / i64::from(MILLI);
                if f == MILLI {
                    whole_used += 1;
                }
            }
        }
        if left > 0 {
            0
        } else if whole_used > 0 {
            (50 - whole_used).max(33)
        } else {
            (100 - free_pct / 10).max(50)
        }
    }
}

policy_plugin!(GpuPacking, GPU_PACKING);

impl ScorePlugin for GpuPacking {
    fn score(&self, c: &CycleState, p: &PodInfo, n: &NodeState, v: ClusterView<'_>) -> i64 {
        score_by_name(self, c, p, n, v)
    }

    fn score_nodes(
        &self,
        _: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        score_each(nodes, view, out, |ext, _, gpus| {
            Self::value(gpus, request(ext, pod))
        });
    }
}

// ---- BestFit -------------------------------------------------------------------------------

spec!(BEST_FIT, "BestFit", &[ExtensionPoint::Score], BestFit);

/// `pluginConfig[].args` of `BestFit`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BestFitArgs {
    /// Weight of cpu.
    #[serde(default = "half")]
    pub cpu_weight: f64,
    /// Weight of GPU.
    #[serde(default = "half")]
    pub gpu_weight: f64,
    /// cpu normalizer (milli-cores).
    #[serde(default = "max_cpu")]
    pub max_cpu_milli: i64,
    /// GPU normalizer (milli-units).
    #[serde(default = "max_gpu")]
    pub max_gpu_milli: i64,
}

fn half() -> f64 {
    0.5
}

/// Least free cpu and GPU left after placing the pod first.
#[derive(Debug)]
pub struct BestFit {
    args: BestFitArgs,
}

impl BestFit {
    /// Builds the plugin.
    ///
    /// # Errors
    /// Args that do not decode, negative weights or non-positive normalizers.
    pub fn factory(cfg: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        let args: BestFitArgs = cfg.decode_args("BestFit")?;
        if !(args.cpu_weight >= 0.0 && args.gpu_weight >= 0.0) {
            return Err("args.cpuWeight and args.gpuWeight: expected non-negative numbers".into());
        }
        if args.max_cpu_milli <= 0 || args.max_gpu_milli <= 0 {
            return Err(
                "args.maxCpuMilli and args.maxGpuMilli: expected positive numbers".to_string(),
            );
        }
        Ok(Arc::new(BestFit { args }))
    }

    /// An instance with the default args.
    #[must_use]
    pub fn with_defaults() -> Self {
        BestFit {
            args: BestFitArgs {
                cpu_weight: 0.5,
                gpu_weight: 0.5,
                max_cpu_milli: MAX_SPEC_CPU,
                max_gpu_milli: MAX_SPEC_GPU,
            },
        }
    }

    /// The raw score (before normalization).
    #[must_use]
    pub fn raw(&self, cpu_left: i64, gpus: &NodeGpus, cpu: i64, req: Option<GpuRequest>) -> i64 {
        let want = req.map_or(0, GpuRequest::total);
        let gpu_left = gpus.free_total();
        if cpu_left < cpu || gpu_left < want {
            return 0;
        }
        let s = self.args.cpu_weight * (cpu_left - cpu) as f64 / self.args.max_cpu_milli as f64
            + self.args.gpu_weight * (gpu_left - want) as f64 / self.args.max_gpu_milli as f64;
        ((1.0 - s) * 100.0) as i64
    }
}

policy_plugin!(BestFit, BEST_FIT);

impl ScorePlugin for BestFit {
    fn score(&self, c: &CycleState, p: &PodInfo, n: &NodeState, v: ClusterView<'_>) -> i64 {
        score_by_name(self, c, p, n, v)
    }

    fn score_nodes(
        &self,
        _: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        score_each(nodes, view, out, |ext, node, gpus| {
            self.raw(
                cpu_left(node),
                gpus,
                pod.requests.milli_cpu,
                request(ext, pod),
            )
        });
    }

    fn has_normalize(&self) -> bool {
        true
    }

    fn normalize(&self, _: &CycleState, _: &PodInfo, scores: &mut [i64]) {
        min_max(scores);
    }
}

/// The authors' `NormalizeScore`: min–max to [0, 100]; all 0 when every score is equal.
pub fn min_max(scores: &mut [i64]) {
    let (lo, hi) = scores
        .iter()
        .fold((i64::MAX, i64::MIN), |(l, h), &s| (l.min(s), h.max(s)));
    for s in scores.iter_mut() {
        *s = if hi == lo {
            0
        } else {
            (*s - lo) * 100 / (hi - lo)
        };
    }
}

// ---- FGD -----------------------------------------------------------------------------------

spec!(
    FGD,
    "FGD",
    &[ExtensionPoint::Score, ExtensionPoint::Reserve],
    Fgd
);

/// One typical pod in `FGD`'s args.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypicalPodArgs {
    /// cpu request (milli-cores).
    pub cpu_milli: i64,
    /// GPU milli-units per GPU (0 for a CPU pod).
    #[serde(default)]
    pub gpu_milli: u16,
    /// GPUs (0 for a CPU pod).
    #[serde(default)]
    pub gpu_count: u16,
    /// Accepted GPU models (empty: any).
    #[serde(default)]
    pub gpu_models: Vec<String>,
    /// Share of the workload (any positive weights; normalized).
    pub popularity: f64,
}

/// `pluginConfig[].args` of `FGD`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FgdArgs {
    /// The target workload.
    pub typical_pods: Vec<TypicalPodArgs>,
}

/// Fragmentation gradient descent.
#[derive(Debug)]
pub struct Fgd {
    model: FragModel,
}

/// `sigmoid(x)`.
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Fgd {
    /// Builds the plugin.
    ///
    /// # Errors
    /// Args that do not decode, no typical pod, a typical pod with a bad shape, or no positive
    /// popularity.
    pub fn factory(
        cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        let args: FgdArgs = cfg.decode_args("FGD")?;
        if args.typical_pods.is_empty() {
            return Err("args.typicalPods: expected at least one typical pod".into());
        }
        let mut types = Vec::with_capacity(args.typical_pods.len());
        for (i, t) in args.typical_pods.iter().enumerate() {
            let ok_shape = (t.gpu_count == 0 && t.gpu_milli == 0)
                || (t.gpu_count == 1 && (1..=MILLI).contains(&t.gpu_milli))
                || (t.gpu_count > 1 && t.gpu_milli == MILLI);
            if !ok_shape {
                return Err(format!(
                    "args.typicalPods[{i}]: gpuMilli {} with gpuCount {}: expected no GPU (both 0), a share of one GPU (gpuCount 1, gpuMilli 1–1000) or whole GPUs (gpuMilli 1000)",
                    t.gpu_milli, t.gpu_count
                ));
            }
            if t.cpu_milli < 0 || !(t.popularity >= 0.0 && t.popularity.is_finite()) {
                return Err(format!(
                    "args.typicalPods[{i}]: expected a non-negative cpuMilli and popularity"
                ));
            }
            types.push(TypicalPod {
                cpu_milli: t.cpu_milli,
                gpu_milli: t.gpu_milli,
                gpu_count: t.gpu_count,
                models: t.gpu_models.iter().map(|m| interner.intern(m)).collect(),
                popularity: t.popularity,
            });
        }
        if !types.iter().any(|t| t.popularity > 0.0) {
            return Err("args.typicalPods: expected some positive popularity".into());
        }
        Ok(Arc::new(Fgd {
            model: FragModel::new(types),
        }))
    }

    /// A plugin over `model` (for library users and tests).
    #[must_use]
    pub fn with_model(model: FragModel) -> Self {
        Fgd { model }
    }

    /// The fragmentation model.
    #[must_use]
    pub fn model(&self) -> &FragModel {
        &self.model
    }

    /// The score (0–100) and the devices chosen, for a pod of `cpu` and `req` on a node.
    #[must_use]
    pub fn best(
        &self,
        cpu_left: i64,
        gpus: &NodeGpus,
        cpu: i64,
        req: Option<GpuRequest>,
    ) -> (i64, Option<SmallVec<[u8; 8]>>) {
        self.best_in(&mut self.model.cache(), cpu_left, gpus, cpu, req)
    }

    fn best_in(
        &self,
        cache: &mut crate::frag::FragCache<'_>,
        cpu_left: i64,
        gpus: &NodeGpus,
        cpu: i64,
        req: Option<GpuRequest>,
    ) -> (i64, Option<SmallVec<[u8; 8]>>) {
        let before = cache.frag(cpu_left, gpus.model, &gpus.free);
        let after_cpu = cpu_left - cpu;
        let map = |after: f64| (sigmoid((before - after) / 1000.0) * 100.0) as i64;
        match req {
            None => (map(cache.frag(after_cpu, gpus.model, &gpus.free)), None),
            Some(r) if r.is_share() => {
                let mut best: Option<(i64, u8)> = None;
                let mut tried: SmallVec<[u16; 8]> = SmallVec::new();
                let mut free = gpus.free.clone();
                for i in 0..gpus.free.len() {
                    let f = gpus.free[i];
                    // Devices with equal free room give equal fragmentation: try one of them.
                    if f < r.milli || tried.contains(&f) {
                        continue;
                    }
                    tried.push(f);
                    free[i] = f - r.milli;
                    let s = map(cache.frag(after_cpu, gpus.model, &free));
                    free[i] = f;
                    if best.is_none_or(|(b, _)| s > b) {
                        best = u8::try_from(i).ok().map(|d| (s, d));
                    }
                }
                match best {
                    Some((s, d)) => (s, Some(smallvec::smallvec![d])),
                    None => (0, None),
                }
            }
            Some(r) => match gpus.whole(r) {
                Some(devices) => {
                    let mut free = gpus.free.clone();
                    for &d in &devices {
                        free[usize::from(d)] -= r.milli;
                    }
                    (map(cache.frag(after_cpu, gpus.model, &free)), Some(devices))
                }
                None => (0, None),
            },
        }
    }
}

policy_plugin!(Fgd, FGD, reserve);

impl ScorePlugin for Fgd {
    fn score(&self, c: &CycleState, p: &PodInfo, n: &NodeState, v: ClusterView<'_>) -> i64 {
        score_by_name(self, c, p, n, v)
    }

    fn score_nodes(
        &self,
        _: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        let mut cache = self.model.cache();
        score_each(nodes, view, out, |ext, node, gpus| {
            self.best_in(
                &mut cache,
                cpu_left(node),
                gpus,
                pod.requests.milli_cpu,
                request(ext, pod),
            )
            .0
        });
    }
}
