//! Per-device GPU accounting: a [`StateExtension`] that keeps, for every node, the free
//! milli-units of each of its GPUs, in step with the cluster state.
//!
//! A node has `allocatable[<gpuResource>] / 1000` GPUs of the model in its `<gpuModelLabel>`
//! label, each with 1,000 milli-units. A pod's `<gpuResource>` request is read as a share of
//! one GPU when below 1,000, as `k` whole GPUs when it is `k × 1000`; anything else is not a
//! GPU request this model can place ([`GpuRequest::decode`]).
//!
//! Which devices a pod holds is the `GpuShare` plugin's claim ([`PodInfo::claims`]), written
//! at Reserve as the device indices joined by `-` (`"3"`, `"0-1"`), as the Alibaba GPU-share
//! scheduler writes its `alibabacloud.com/gpu-index` annotation. A placed pod without a valid
//! claim (bound by someone else, or a claim that no longer fits) gets the best-fit devices.
//! What each pod took is remembered, so removing it gives back exactly that.

use rustc_hash::FxHashMap;
use sched_core::intern::Sym;
use sched_core::model::PodInfo;
use sched_core::state::{NodeId, NodeState, StateExtension};
use smallvec::SmallVec;
use std::any::Any;
use std::sync::Arc;

/// Milli-units of one GPU.
pub const MILLI: u16 = 1000;

/// The plugin whose claims say which devices a pod holds.
pub const CLAIM_PLUGIN: &str = "GpuShare";

/// What a pod asks of GPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GpuRequest {
    /// GPUs wanted (1 for a share).
    pub count: u16,
    /// Milli-units wanted on each (below 1,000 for a share, 1,000 for whole GPUs).
    pub milli: u16,
}

impl GpuRequest {
    /// Reads an aggregate `<gpuResource>` request: 0 is none, `1..=999` a share of one GPU,
    /// `k × 1000` is `k` whole GPUs.
    ///
    /// # Errors
    /// Any other amount (e.g. 1500: more than one GPU, but not whole GPUs), or more GPUs than
    /// a node can have (255).
    pub fn decode(total: i64) -> Result<Option<GpuRequest>, String> {
        match total {
            0 => Ok(None),
            1..=999 => Ok(Some(GpuRequest {
                count: 1,
                milli: u16::try_from(total).unwrap_or(MILLI),
            })),
            t if t > 0 && t % 1000 == 0 && t / 1000 <= 255 => Ok(Some(GpuRequest {
                count: u16::try_from(t / 1000).unwrap_or(u16::MAX),
                milli: MILLI,
            })),
            t => Err(format!(
                "a GPU request of {t} milli-units is neither a share of one GPU (1–999) nor whole GPUs (a multiple of 1000, at most 255 GPUs)"
            )),
        }
    }

    /// Whether it is a share of one GPU.
    #[must_use]
    pub fn is_share(self) -> bool {
        self.milli < MILLI
    }

    /// All milli-units requested.
    #[must_use]
    pub fn total(self) -> i64 {
        i64::from(self.count) * i64::from(self.milli)
    }

    /// The GPU-clustering affinity tag: 0 for a share, `k` for `k` whole GPUs.
    #[must_use]
    pub fn tag(self) -> u16 {
        if self.is_share() { 0 } else { self.count }
    }
}

/// One node's GPUs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGpus {
    /// The GPU model (the label's value; `Sym::EMPTY` without the label).
    pub model: Sym,
    /// Free milli-units of each device, by device index.
    pub free: SmallVec<[u16; 8]>,
    /// GPU pods on the node by affinity tag ([`GpuRequest::tag`]), sorted by tag.
    pub tags: SmallVec<[(u16, u32); 4]>,
}

impl Default for NodeGpus {
    fn default() -> Self {
        NodeGpus {
            model: Sym::EMPTY,
            free: SmallVec::new(),
            tags: SmallVec::new(),
        }
    }
}

impl NodeGpus {
    /// Σ free milli-units.
    #[must_use]
    pub fn free_total(&self) -> i64 {
        self.free.iter().map(|&f| i64::from(f)).sum()
    }

    /// Number of devices fully free.
    #[must_use]
    pub fn fully_free(&self) -> usize {
        self.free.iter().filter(|&&f| f == MILLI).count()
    }

    /// Whether `req` fits: a share on one device with room, `k` whole GPUs on `k` free devices.
    #[must_use]
    pub fn fits(&self, req: GpuRequest) -> bool {
        self.free.iter().filter(|&&f| f >= req.milli).count() >= usize::from(req.count)
    }

    /// The devices best fit picks for `req` (the authors' default): for a share, the device
    /// with the least free room that still fits (the lowest index among equals); for whole
    /// GPUs, the lowest-indexed fully free devices. `None` when it does not fit.
    #[must_use]
    pub fn best_fit(&self, req: GpuRequest) -> Option<SmallVec<[u8; 8]>> {
        if req.is_share() {
            let mut best: Option<usize> = None;
            for (i, &f) in self.free.iter().enumerate() {
                if f >= req.milli && best.is_none_or(|b| f < self.free[b]) {
                    best = Some(i);
                }
            }
            best.and_then(|b| u8::try_from(b).ok())
                .map(|b| smallvec::smallvec![b])
        } else {
            self.whole(req)
        }
    }

    /// The lowest-indexed fully free devices for whole-GPU `req`.
    #[must_use]
    pub fn whole(&self, req: GpuRequest) -> Option<SmallVec<[u8; 8]>> {
        let picked: SmallVec<[u8; 8]> = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, f)| **f >= req.milli)
            .filter_map(|(i, _)| u8::try_from(i).ok())
            .take(usize::from(req.count))
            .collect();
        (picked.len() == usize::from(req.count)).then_some(picked)
    }

    /// Whether `devices` is a valid choice for `req`: `count` distinct existing devices, each
    /// with room.
    #[must_use]
    pub fn valid(&self, req: GpuRequest, devices: &[u8]) -> bool {
        devices.len() == usize::from(req.count)
            && devices.iter().enumerate().all(|(i, &d)| {
                self.free
                    .get(usize::from(d))
                    .is_some_and(|&f| f >= req.milli)
                    && !devices[..i].contains(&d)
            })
    }

    /// The pod count carrying affinity `tag`.
    #[must_use]
    pub fn tag_count(&self, tag: u16) -> u32 {
        self.tags
            .iter()
            .find(|(t, _)| *t == tag)
            .map_or(0, |(_, c)| *c)
    }

    fn add_tag(&mut self, tag: u16, delta: i32) {
        match self.tags.binary_search_by_key(&tag, |(t, _)| *t) {
            Ok(i) => {
                let c = self.tags[i].1.saturating_add_signed(delta);
                if c == 0 {
                    self.tags.remove(i);
                } else {
                    self.tags[i].1 = c;
                }
            }
            Err(i) if delta > 0 => self.tags.insert(i, (tag, delta.unsigned_abs())),
            Err(_) => {}
        }
    }
}

/// Formats device indices as a claim (`"0-3"`).
#[must_use]
pub fn format_claim(devices: &[u8]) -> Arc<str> {
    let mut s = String::new();
    for (i, d) in devices.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        s.push_str(&d.to_string());
    }
    Arc::from(s)
}

/// Parses a claim written by [`format_claim`]; `None` when malformed.
#[must_use]
pub fn parse_claim(text: &str) -> Option<SmallVec<[u8; 8]>> {
    text.split('-').map(|p| p.parse::<u8>().ok()).collect()
}

/// What one placed pod took.
#[derive(Clone, Debug)]
struct Alloc {
    node: NodeId,
    /// (device, milli-units taken from it).
    taken: SmallVec<[(u8, u16); 8]>,
    tag: u16,
    /// It did not fit and holds less than it asked.
    short: bool,
}

/// The extension: every node's GPUs, and what each placed GPU pod holds.
#[derive(Clone, Debug)]
pub struct GpuDevices {
    resource: Sym,
    model_label: Sym,
    nodes: Vec<NodeGpus>,
    allocs: FxHashMap<Arc<str>, Alloc>,
    /// Pods placed where their request did not fit on the devices (bound by someone else):
    /// they hold what was left.
    overcommitted: u64,
    /// What a node without GPUs has.
    none: NodeGpus,
}

impl GpuDevices {
    /// An empty extension reading GPUs from the extended resource `resource` and the model
    /// from the node label `model_label` (both interned in the state's interner).
    #[must_use]
    pub fn new(resource: Sym, model_label: Sym) -> Self {
        GpuDevices {
            resource,
            model_label,
            nodes: Vec::new(),
            allocs: FxHashMap::default(),
            overcommitted: 0,
            none: NodeGpus::default(),
        }
    }

    /// The extended resource GPUs are requested with.
    #[must_use]
    pub fn resource(&self) -> Sym {
        self.resource
    }

    /// The node label holding the GPU model.
    #[must_use]
    pub fn model_label(&self) -> Sym {
        self.model_label
    }

    /// The GPUs of node `id` (none for an unknown node).
    #[must_use]
    pub fn node(&self, id: NodeId) -> &NodeGpus {
        self.nodes.get(id.index()).unwrap_or(&self.none)
    }

    /// The devices pod `key` holds with the milli-units taken from each, if it is placed and
    /// asks for GPUs.
    #[must_use]
    pub fn devices_of(&self, key: &str) -> Option<(NodeId, Vec<(u8, u16)>)> {
        self.allocs
            .get(key)
            .map(|a| (a.node, a.taken.iter().copied().collect()))
    }

    /// Pods that were placed where their GPU request did not fit (they hold what was left).
    #[must_use]
    pub fn overcommitted(&self) -> u64 {
        self.overcommitted
    }

    /// The pod's GPU request (`Ok(None)` without one).
    ///
    /// # Errors
    /// See [`GpuRequest::decode`].
    pub fn request(&self, pod: &PodInfo) -> Result<Option<GpuRequest>, String> {
        GpuRequest::decode(pod.requests.scalar(self.resource))
    }

    fn slot(&mut self, id: NodeId) -> &mut NodeGpus {
        if self.nodes.len() <= id.index() {
            self.nodes.resize_with(id.index() + 1, NodeGpus::default);
        }
        &mut self.nodes[id.index()]
    }

    fn add(&mut self, id: NodeId, pod: &PodInfo) {
        let Ok(Some(req)) = self.request(pod) else {
            return;
        };
        let node = self.slot(id);
        let claimed = pod
            .claim(CLAIM_PLUGIN)
            .and_then(parse_claim)
            .filter(|d| node.valid(req, d));
        let mut taken: SmallVec<[(u8, u16); 8]> = SmallVec::new();
        let mut short = false;
        match claimed.or_else(|| node.best_fit(req)) {
            Some(devices) => {
                for d in devices {
                    node.free[usize::from(d)] -= req.milli;
                    taken.push((d, req.milli));
                }
            }
            None => {
                // Does not fit (bound elsewhere): take what is left, most free first.
                let mut order: SmallVec<[u8; 8]> = (0..node.free.len())
                    .filter_map(|i| u8::try_from(i).ok())
                    .collect();
                order.sort_by_key(|&d| std::cmp::Reverse(node.free[usize::from(d)]));
                for d in order.into_iter().take(usize::from(req.count)) {
                    let t = node.free[usize::from(d)].min(req.milli);
                    node.free[usize::from(d)] -= t;
                    taken.push((d, t));
                }
                short = true;
            }
        }
        let node = self.slot(id);
        node.add_tag(req.tag(), 1);
        if short {
            self.overcommitted += 1;
        }
        let alloc = Alloc {
            node: id,
            taken,
            tag: req.tag(),
            short,
        };
        if let Some(old) = self.allocs.insert(pod.key.clone(), alloc) {
            // A pod added twice (the state refuses duplicates; be safe): release the first.
            self.release(&old);
        }
    }

    fn release(&mut self, a: &Alloc) {
        if a.short {
            self.overcommitted = self.overcommitted.saturating_sub(1);
        }
        let node = self.slot(a.node);
        for &(d, t) in &a.taken {
            if let Some(f) = node.free.get_mut(usize::from(d)) {
                *f = (*f + t).min(MILLI);
            }
        }
        node.add_tag(a.tag, -1);
    }
}

impl StateExtension for GpuDevices {
    fn clone_box(&self) -> Box<dyn StateExtension> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn node_changed(&mut self, id: NodeId, node: &NodeState) {
        let count = if node.exists {
            usize::try_from(node.info.allocatable.scalar(self.resource) / 1000).unwrap_or(0)
        } else {
            0
        };
        let model = node.info.labels.get(self.model_label).unwrap_or(Sym::EMPTY);
        let slot = self.slot(id);
        if slot.model == model && slot.free.len() == count {
            return;
        }
        // The devices changed: start afresh and place the node's pods again.
        slot.model = model;
        slot.free = smallvec::smallvec![MILLI; count];
        slot.tags.clear();
        // Pods this extension has not seen yet (an install replays them next) are left alone.
        for pod in &node.pods {
            if let Some(a) = self.allocs.remove(&*pod.key) {
                if a.short {
                    self.overcommitted = self.overcommitted.saturating_sub(1);
                }
                self.add(id, pod);
            }
        }
    }

    fn pod_added(&mut self, id: NodeId, _node: &NodeState, pod: &PodInfo) {
        self.add(id, pod);
    }

    fn pod_removed(&mut self, _id: NodeId, _node: &NodeState, pod: &PodInfo) {
        if let Some(a) = self.allocs.remove(&*pod.key) {
            self.release(&a);
        }
    }
}
