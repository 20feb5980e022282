//! GPU fragmentation against a target workload (Weng et al., ATC '23, §3), as the authors'
//! simulator computes it (`NodeGpuShareFragAmountScore`).
//!
//! The target workload is a list of typical pods — (cpu, GPU milli-units per GPU, GPU count,
//! accepted GPU models) with their popularity (share of the pod list). For one typical pod
//! `m`, a node's fragment is
//!
//! - every free GPU milli-unit of the node when `m` cannot run there at all: it asks for no
//!   GPU (a CPU pod cannot use GPUs), the node's model is not one `m` accepts, the node's free
//!   cpu is below `m`'s, or fewer than `m`'s GPU count of devices have `m`'s per-GPU milli free;
//! - otherwise the free milli-units of the devices with less free than `m`'s per-GPU request
//!   (they can never serve `m`).
//!
//! The node's fragmentation is `Σ_m popularity_m × fragment_m`; memory is not considered, as
//! in the authors' code. [`FragModel::frag`] memoizes the GPU part per (model, sorted free
//! milli-units per device) and folds cpu in with a prefix sum over the typical pods sorted by
//! cpu, so one evaluation is a hash lookup and a binary search.

use crate::devices::MILLI;
use rustc_hash::FxHashMap;
use sched_core::intern::Sym;
use smallvec::SmallVec;
use std::sync::Mutex;

/// One typical pod of the target workload.
#[derive(Clone, Debug, PartialEq)]
pub struct TypicalPod {
    /// cpu request in milli-cores.
    pub cpu_milli: i64,
    /// GPU milli-units per GPU (0 for a CPU pod).
    pub gpu_milli: u16,
    /// GPUs (0 for a CPU pod).
    pub gpu_count: u16,
    /// Accepted GPU models (empty: any).
    pub models: SmallVec<[Sym; 2]>,
    /// Share of the workload (the shares sum to 1 after [`FragModel::new`]).
    pub popularity: f64,
}

/// The target workload, ready to measure fragmentation.
#[derive(Debug)]
pub struct FragModel {
    /// Typical pods sorted by cpu.
    types: Vec<TypicalPod>,
    /// Their cpu requests, sorted.
    cpus: Vec<i64>,
    memo: Mutex<FxHashMap<u128, Box<[f64]>>>,
}

impl Clone for FragModel {
    fn clone(&self) -> Self {
        FragModel::new(self.types.clone())
    }
}

/// The most devices a memo key holds; nodes with more are computed without the memo.
const MEMO_DEVICES: usize = 8;

impl FragModel {
    /// A model of `types`; popularities are normalized to sum to 1 (non-positive ones dropped).
    #[must_use]
    pub fn new(mut types: Vec<TypicalPod>) -> Self {
        types.retain(|t| t.popularity > 0.0 && t.popularity.is_finite());
        let sum: f64 = types.iter().map(|t| t.popularity).sum();
        for t in &mut types {
            t.popularity /= sum;
        }
        types.sort_by(|a, b| {
            a.cpu_milli
                .cmp(&b.cpu_milli)
                .then(a.gpu_milli.cmp(&b.gpu_milli))
                .then(a.gpu_count.cmp(&b.gpu_count))
        });
        let cpus = types.iter().map(|t| t.cpu_milli).collect();
        FragModel {
            types,
            cpus,
            memo: Mutex::new(FxHashMap::default()),
        }
    }

    /// The typical pods, sorted by cpu.
    #[must_use]
    pub fn types(&self) -> &[TypicalPod] {
        &self.types
    }

    /// The fragment of one typical pod `t` on a node (free cpu `cpu_left`, model `model`,
    /// free milli-units per device `free`), in GPU milli-units.
    #[must_use]
    pub fn fragment(t: &TypicalPod, cpu_left: i64, model: Sym, free: &[u16]) -> f64 {
        let total: i64 = free.iter().map(|&f| i64::from(f)).sum();
        if Self::hostable_gpu(t, model, free) && cpu_left >= t.cpu_milli {
            Self::partial(t, free) as f64
        } else {
            total as f64
        }
    }

    fn hostable_gpu(t: &TypicalPod, model: Sym, free: &[u16]) -> bool {
        t.gpu_milli > 0
            && (t.models.is_empty() || t.models.contains(&model))
            && free.iter().filter(|&&f| f >= t.gpu_milli).count() >= usize::from(t.gpu_count)
    }

    fn partial(t: &TypicalPod, free: &[u16]) -> i64 {
        free.iter()
            .filter(|&&f| f < t.gpu_milli)
            .map(|&f| i64::from(f))
            .sum()
    }

    /// The node's fragmentation `Σ popularity × fragment` (GPU milli-units).
    #[must_use]
    pub fn frag(&self, cpu_left: i64, model: Sym, free: &[u16]) -> f64 {
        self.cache().frag(cpu_left, model, free)
    }

    /// The memo, locked once for many evaluations (a scoring batch).
    #[must_use]
    pub fn cache(&self) -> FragCache<'_> {
        FragCache {
            model: self,
            memo: self.memo.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Prefix sums over the types sorted by cpu of `popularity × (total − partial)` for the
    /// types whose GPU part fits (what fitting the cpu too takes off the fragment).
    fn gains(&self, model: Sym, free: &[u16]) -> Box<[f64]> {
        let total: i64 = free.iter().map(|&f| i64::from(f)).sum();
        let mut out = Vec::with_capacity(self.types.len() + 1);
        let mut acc = 0.0;
        out.push(acc);
        for t in &self.types {
            if Self::hostable_gpu(t, model, free) {
                acc += t.popularity * (total - Self::partial(t, free)) as f64;
            }
            out.push(acc);
        }
        out.into_boxed_slice()
    }

    fn key(model: Sym, free: &[u16]) -> Option<u128> {
        if free.len() > MEMO_DEVICES || free.iter().any(|&f| f > MILLI) {
            return None;
        }
        let mut sorted: SmallVec<[u16; 8]> = free.iter().copied().collect();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let mut key = u128::from(u32::try_from(model.index()).ok()?);
        key = (key << 4) | free.len() as u128;
        for f in sorted {
            key = (key << 11) | u128::from(f);
        }
        Some(key)
    }
}

/// [`FragModel::frag`] with the memo held.
pub struct FragCache<'a> {
    model: &'a FragModel,
    memo: std::sync::MutexGuard<'a, FxHashMap<u128, Box<[f64]>>>,
}

impl FragCache<'_> {
    /// The node's fragmentation `Σ popularity × fragment` (GPU milli-units).
    #[must_use]
    pub fn frag(&mut self, cpu_left: i64, model: Sym, free: &[u16]) -> f64 {
        let total: i64 = free.iter().map(|&f| i64::from(f)).sum();
        if total == 0 {
            return 0.0;
        }
        let m = self.model;
        let k = m.cpus.partition_point(|&c| c <= cpu_left);
        match FragModel::key(model, free) {
            Some(key) => {
                let d = self.memo.entry(key).or_insert_with(|| m.gains(model, free));
                total as f64 - d[k]
            }
            None => total as f64 - m.gains(model, free)[k],
        }
    }
}

/// (cpu milli, GPU milli per GPU, GPU count, accepted models).
pub type PodShape = (i64, u16, u16, SmallVec<[Sym; 2]>);

/// The typical pods of a pod list: requests grouped by (cpu, GPU milli per GPU, GPU count,
/// accepted models), each with its share of the list; CPU pods included, as the paper's
/// experiments do. `pods` yields `(cpu_milli, gpu_milli_per_gpu, gpu_count, models)`.
#[must_use]
pub fn typical_pods(pods: impl IntoIterator<Item = PodShape>) -> Vec<TypicalPod> {
    let mut counts: FxHashMap<PodShape, u64> = FxHashMap::default();
    let mut total = 0u64;
    for (cpu, milli, count, mut models) in pods {
        models.sort_unstable();
        models.dedup();
        *counts.entry((cpu, milli, count, models)).or_default() += 1;
        total += 1;
    }
    let mut out: Vec<TypicalPod> = counts
        .into_iter()
        .map(
            |((cpu_milli, gpu_milli, gpu_count, models), n)| TypicalPod {
                cpu_milli,
                gpu_milli,
                gpu_count,
                models,
                popularity: n as f64 / total.max(1) as f64,
            },
        )
        .collect();
    out.sort_by(|a, b| {
        b.popularity
            .total_cmp(&a.popularity)
            .then(a.cpu_milli.cmp(&b.cpu_milli))
            .then(a.gpu_milli.cmp(&b.gpu_milli))
            .then(a.gpu_count.cmp(&b.gpu_count))
            .then(a.models.cmp(&b.models))
    });
    out
}
