//! Cluster state: nodes with their per-node aggregates, and the pods placed on them.
//!
//! Nodes get dense [`NodeId`]s so the cycle walks a `Vec`, not a map. Every pod operation
//! (add, remove, assume, forget) touches exactly one node's aggregates, in O(1) for a pod with
//! a bounded number of scalar resources and host ports. Pending pods are not held here: they
//! belong to a queue (the daemon's or the simulator's).
//!
//! A pod bound to a node the state does not know (yet) is accounted to a placeholder slot
//! for that name, as upstream's cache keeps a `NodeInfo` without a node while pods reference
//! it; when the node arrives, its pods already count.

use crate::convert::{self, ConvertError};
use crate::intern::{Interner, Sym};
use crate::model::{HostPort, LabelSelector, Labels, NodeInfo, PodInfo, Resources, WorkloadKind};
use rustc_hash::FxHashMap;
use std::sync::Arc;

mod extension;
mod index;
pub use extension::StateExtension;
pub use index::{ExistingTerm, LabelColumn, NodeCounts, TermKind};
use index::{Objects, PodIndex, TermIndex, TopologyIndex, WorkloadSelector};

/// Dense index of a node in a [`ClusterState`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NodeId(pub u32);

impl NodeId {
    /// As a `usize` index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What the built-in filters and resource scorers read of every node they look at, copied out
/// of [`NodeState`] into one dense array ([`ClusterState::summary`]). A scan over thousands of
/// nodes then reads one 88-byte record per node, in order, instead of several cache lines
/// spread over each 320-byte `NodeState` (on the reference machine this was most of the
/// scan's time). The state refreshes a node's summary on every change to the node; for a
/// `NodeState` that is not the state's own (a preemption dry run's copy), use
/// [`NodeSummary::of`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeSummary {
    /// `allocatable` cpu (milli-cores).
    pub alloc_milli_cpu: i64,
    /// `allocatable` memory.
    pub alloc_memory: i64,
    /// `allocatable` ephemeral-storage.
    pub alloc_ephemeral_storage: i64,
    /// `allocatable` pods.
    pub alloc_pods: i64,
    /// Σ requested cpu of the node's pods.
    pub req_milli_cpu: i64,
    /// Σ requested memory.
    pub req_memory: i64,
    /// Σ requested ephemeral-storage.
    pub req_ephemeral_storage: i64,
    /// Σ non-zero cpu requests.
    pub non_zero_milli_cpu: i64,
    /// Σ non-zero memory requests.
    pub non_zero_memory: i64,
    /// Number of pods on the node.
    pub pod_count: u32,
    flags: u8,
    /// [`crate::model::Labels::bloom`] of the node's labels: a label whose bit is clear here
    /// is certainly absent, without a look at the labels.
    pub label_bloom: u64,
}

impl NodeSummary {
    const UNSCHEDULABLE: u8 = 1;
    const HARD_TAINTS: u8 = 2;
    const PREFER_NO_SCHEDULE_TAINTS: u8 = 4;

    /// The summary of `node`.
    #[must_use]
    pub fn of(node: &NodeState) -> Self {
        use crate::model::TaintEffect;
        let info = &node.info;
        let mut flags = 0;
        if info.unschedulable {
            flags |= Self::UNSCHEDULABLE;
        }
        for t in &info.taints {
            flags |= match t.effect {
                TaintEffect::NoSchedule | TaintEffect::NoExecute => Self::HARD_TAINTS,
                TaintEffect::PreferNoSchedule => Self::PREFER_NO_SCHEDULE_TAINTS,
            };
        }
        NodeSummary {
            flags,
            label_bloom: info.labels.bloom(),
            ..Self::resources_of(node)
        }
    }

    /// The resource fields of [`NodeSummary::of`] only (allocatable, requested, pod count):
    /// flags and `label_bloom` are left empty. For plugins that read resources from a
    /// [`NodeState`] that may be a trial copy (preemption's dry run), where `of`'s label walk
    /// would be wasted.
    #[must_use]
    pub fn resources_of(node: &NodeState) -> Self {
        let info = &node.info;
        NodeSummary {
            alloc_milli_cpu: info.allocatable.milli_cpu,
            alloc_memory: info.allocatable.memory,
            alloc_ephemeral_storage: info.allocatable.ephemeral_storage,
            alloc_pods: info.allocatable.pods,
            req_milli_cpu: node.requested.milli_cpu,
            req_memory: node.requested.memory,
            req_ephemeral_storage: node.requested.ephemeral_storage,
            non_zero_milli_cpu: node.non_zero_milli_cpu,
            non_zero_memory: node.non_zero_memory,
            pod_count: node.pod_count,
            flags: 0,
            label_bloom: 0,
        }
    }

    /// `spec.unschedulable`.
    #[must_use]
    pub fn unschedulable(&self) -> bool {
        self.flags & Self::UNSCHEDULABLE != 0
    }

    /// Whether the node has a `NoSchedule` or `NoExecute` taint.
    #[must_use]
    pub fn has_hard_taints(&self) -> bool {
        self.flags & Self::HARD_TAINTS != 0
    }

    /// Whether the node has a `PreferNoSchedule` taint.
    #[must_use]
    pub fn has_prefer_no_schedule_taints(&self) -> bool {
        self.flags & Self::PREFER_NO_SCHEDULE_TAINTS != 0
    }
}

/// A node and the aggregates of the pods placed on it.
#[derive(Debug)]
pub struct NodeState {
    /// The node's static attributes, shared (preemption's dry-run copies of a node share them).
    pub info: Arc<NodeInfo>,
    /// Whether the node object exists (false for a placeholder that only pods reference).
    pub exists: bool,
    /// Σ effective requests of the pods on the node (upstream `NodeInfo.Requested`).
    pub requested: Resources,
    /// Σ non-zero cpu requests (upstream `NodeInfo.NonZeroRequested.MilliCPU`).
    pub non_zero_milli_cpu: i64,
    /// Σ non-zero memory requests (upstream `NodeInfo.NonZeroRequested.Memory`).
    pub non_zero_memory: i64,
    /// Number of pods on the node.
    pub pod_count: u32,
    /// Host ports in use, with how many pods use each.
    pub used_ports: Vec<(HostPort, u32)>,
    /// The pods on the node, in no particular order.
    pub pods: Vec<Arc<PodInfo>>,
}

impl Clone for NodeState {
    fn clone(&self) -> Self {
        NodeState {
            info: self.info.clone(),
            exists: self.exists,
            requested: self.requested.clone(),
            non_zero_milli_cpu: self.non_zero_milli_cpu,
            non_zero_memory: self.non_zero_memory,
            pod_count: self.pod_count,
            used_ports: self.used_ports.clone(),
            pods: self.pods.clone(),
        }
    }

    /// Field by field, reusing the buffers.
    fn clone_from(&mut self, source: &Self) {
        self.clone_without(source, |_| false);
    }
}

impl NodeState {
    /// Copies `source` into `self`, reusing the buffers, without the pods `removed` picks:
    /// they are left out of [`NodeState::pods`] and their contributions released, as
    /// upstream's `SelectVictimsOnNode` removes every lower-priority pod from its copy of the
    /// node. Returns how many were removed.
    pub fn clone_without(
        &mut self,
        source: &NodeState,
        mut removed: impl FnMut(&PodInfo) -> bool,
    ) -> usize {
        self.info.clone_from(&source.info);
        self.exists = source.exists;
        self.requested.clone_from(&source.requested);
        self.non_zero_milli_cpu = source.non_zero_milli_cpu;
        self.non_zero_memory = source.non_zero_memory;
        self.pod_count = source.pod_count;
        self.used_ports.clone_from(&source.used_ports);
        self.pods.clear();
        let mut n = 0;
        for p in &source.pods {
            if removed(p) {
                self.release(p);
                n += 1;
            } else {
                self.pods.push(Arc::clone(p));
            }
        }
        n
    }

    /// An empty node, as scratch space to [`Clone::clone_from`] a real one into.
    #[must_use]
    pub fn scratch() -> Self {
        NodeState::placeholder(Arc::from(""), Sym::EMPTY)
    }

    fn placeholder(name: Arc<str>, name_sym: Sym) -> Self {
        NodeState {
            info: Arc::new(NodeInfo {
                name,
                name_sym,
                labels: Labels::default(),
                taints: crate::model::TaintList::new(),
                unschedulable: false,
                allocatable: Resources::default(),
                images: Vec::new(),
            }),
            exists: false,
            requested: Resources::default(),
            non_zero_milli_cpu: 0,
            non_zero_memory: 0,
            pod_count: 0,
            used_ports: Vec::new(),
            pods: Vec::new(),
        }
    }

    /// Removes `pod`'s contribution from the aggregates, as if it were not on the node
    /// (for preemption dry runs on a copy). The pod list is left as is.
    pub fn release(&mut self, pod: &PodInfo) {
        self.account(pod, -1);
    }

    /// Adds `pod`'s contribution back after [`NodeState::release`] (preemption's reprieve step).
    pub fn hold(&mut self, pod: &PodInfo) {
        self.account(pod, 1);
    }

    fn account(&mut self, pod: &PodInfo, sign: i64) {
        if sign > 0 {
            self.requested.add(&pod.requests);
            self.pod_count += 1;
        } else {
            self.requested.sub(&pod.requests);
            self.pod_count -= 1;
        }
        self.non_zero_milli_cpu += sign * pod.non_zero_milli_cpu;
        self.non_zero_memory += sign * pod.non_zero_memory;
        for hp in &pod.host_ports {
            match self.used_ports.iter().position(|(p, _)| p == hp) {
                Some(i) if sign > 0 => self.used_ports[i].1 += 1,
                Some(i) => {
                    self.used_ports[i].1 -= 1;
                    if self.used_ports[i].1 == 0 {
                        self.used_ports.swap_remove(i);
                    }
                }
                None if sign > 0 => self.used_ports.push((*hp, 1)),
                None => {}
            }
        }
    }
}

/// A pod held by the state.
#[derive(Clone, Debug)]
pub struct PodEntry {
    /// The pod.
    pub info: Arc<PodInfo>,
    /// The node it is placed on.
    pub node: NodeId,
    /// Placed by this scheduler but not yet confirmed by the API server.
    pub assumed: bool,
    /// Index of the pod in its node's `pods`.
    slot: u32,
    /// The pod's id in the label index.
    id: u32,
}

/// Errors of state operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// A node with this name is already present.
    #[error("node {0} already exists")]
    NodeExists(String),
    /// No node with this name.
    #[error("node {0} not found")]
    NodeNotFound(String),
    /// A pod with this key is already present.
    #[error("pod {0} already exists")]
    PodExists(String),
    /// No pod with this key.
    #[error("pod {0} not found")]
    PodNotFound(String),
    /// The pod has no `spec.nodeName`, so it cannot be placed.
    #[error("pod {0} has no spec.nodeName")]
    PodNotBound(String),
    /// `forget` on a pod that was not assumed.
    #[error("pod {0} is not assumed")]
    NotAssumed(String),
    /// A Kubernetes object could not be converted.
    #[error(transparent)]
    Convert(#[from] ConvertError),
}

/// `Result` with [`StateError`].
pub type Result<T, E = StateError> = std::result::Result<T, E>;

/// Nodes, the pods placed on them, and the interner their symbols come from.
#[derive(Clone, Debug, Default)]
pub struct ClusterState {
    interner: Interner,
    nodes: Vec<NodeState>,
    /// `NodeSummary::of(&nodes[i])`, kept in step with `nodes`.
    summaries: Vec<NodeSummary>,
    node_ids: FxHashMap<Arc<str>, NodeId>,
    live: Vec<NodeId>,
    pods: FxHashMap<Arc<str>, PodEntry>,
    /// For each image name, how many existing nodes report it (upstream cache `imageStates`).
    image_nodes: FxHashMap<Sym, u32>,
    /// Placed pods by label and namespace.
    pod_index: PodIndex,
    /// Existing nodes by label (topology domains).
    topology: TopologyIndex,
    /// Placed pods' affinity terms, grouped.
    terms: TermIndex,
    /// Namespaces, Services and controllers.
    objects: Objects,
    /// Pods nominated to nodes by preemption (upstream's nominator), not accounted anywhere.
    nominated: FxHashMap<NodeId, Vec<Arc<PodInfo>>>,
    nominated_at: FxHashMap<Arc<str>, NodeId>,
    /// How many held pods have each priority (preemption asks whether any pod is lower).
    priorities: std::collections::BTreeMap<i32, u32>,
    /// PodDisruptionBudgets, sorted by (namespace, name).
    budgets: Vec<crate::model::DisruptionBudget>,
    /// Plugins' per-node data ([`StateExtension`]).
    extensions: extension::Extensions,
}

impl ClusterState {
    /// An empty state.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs `ext` (replacing an installed extension of the same type) and replays every
    /// node and placed pod to it, so it starts in step with the state.
    pub fn install_extension<T: StateExtension>(&mut self, ext: T) {
        let ext = self.extensions.install(Box::new(ext));
        for (i, node) in self.nodes.iter().enumerate() {
            let id = NodeId(u32::try_from(i).expect("node ids fit in u32"));
            ext.node_changed(id, node);
            for pod in &node.pods {
                ext.pod_added(id, node, pod);
            }
        }
    }

    /// The installed extension of type `T`.
    #[must_use]
    pub fn extension<T: StateExtension>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// The interner behind every `Sym` in this state's nodes and pods.
    #[must_use]
    pub fn interner(&self) -> &Interner {
        &self.interner
    }

    /// Mutable interner, for converting objects against this state.
    pub fn interner_mut(&mut self) -> &mut Interner {
        &mut self.interner
    }

    /// Converts a node with this state's interner.
    ///
    /// # Errors
    /// When the node cannot be converted.
    pub fn convert_node(&mut self, node: &k8s_openapi::api::core::v1::Node) -> Result<NodeInfo> {
        Ok(convert::node_info(node, &mut self.interner)?)
    }

    /// Converts a pod with this state's interner.
    ///
    /// # Errors
    /// When the pod cannot be converted.
    pub fn convert_pod(&mut self, pod: &k8s_openapi::api::core::v1::Pod) -> Result<PodInfo> {
        Ok(convert::pod_info(pod, &mut self.interner)?)
    }

    /// Existing nodes, in the order they were added.
    #[must_use]
    pub fn node_ids(&self) -> &[NodeId] {
        &self.live
    }

    /// Number of existing nodes.
    #[must_use]
    pub fn num_nodes(&self) -> usize {
        self.live.len()
    }

    /// Number of pods held (bound or assumed).
    #[must_use]
    pub fn num_pods(&self) -> usize {
        self.pods.len()
    }

    /// The summary of node `id`: what the scan reads for every node. Panics on an id this
    /// state never gave out.
    #[must_use]
    pub fn summary(&self, id: NodeId) -> &NodeSummary {
        &self.summaries[id.index()]
    }

    fn refresh(&mut self, id: NodeId) {
        self.summaries[id.index()] = NodeSummary::of(&self.nodes[id.index()]);
    }

    /// The node at `id`. Panics on an id this state never gave out.
    #[must_use]
    pub fn node(&self, id: NodeId) -> &NodeState {
        &self.nodes[id.index()]
    }

    /// The id of an existing node.
    #[must_use]
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_ids
            .get(name)
            .copied()
            .filter(|id| self.nodes[id.index()].exists)
    }

    /// A pod by `namespace/name`.
    #[must_use]
    pub fn pod(&self, key: &str) -> Option<&PodEntry> {
        self.pods.get(key)
    }

    /// Every pod held, in no particular order.
    pub fn pods(&self) -> impl Iterator<Item = &PodEntry> {
        self.pods.values()
    }

    fn slot_for(&mut self, name: &str) -> NodeId {
        if let Some(&id) = self.node_ids.get(name) {
            return id;
        }
        let id = NodeId(u32::try_from(self.nodes.len()).expect("more than 2^32 nodes"));
        let name_sym = self.interner.intern(name);
        let name: Arc<str> = self.interner.resolve_arc(name_sym);
        let placeholder = NodeState::placeholder(name.clone(), name_sym);
        self.summaries.push(NodeSummary::of(&placeholder));
        self.nodes.push(placeholder);
        self.node_ids.insert(name, id);
        id
    }

    /// Adds a node.
    ///
    /// # Errors
    /// [`StateError::NodeExists`] when a node of that name exists.
    pub fn add_node(&mut self, info: NodeInfo) -> Result<NodeId> {
        if self.node_id(&info.name).is_some() {
            return Err(StateError::NodeExists(info.name.to_string()));
        }
        Ok(self.upsert_node(info))
    }

    /// Adds or replaces a node; pods on it keep counting.
    pub fn upsert_node(&mut self, info: NodeInfo) -> NodeId {
        let id = self.slot_for(&info.name);
        if self.nodes[id.index()].exists {
            let old = self.nodes[id.index()].info.images.clone();
            self.count_images(&old, -1);
            self.topology
                .account(&self.nodes[id.index()].info, id, false);
        } else {
            self.live.push(id);
        }
        self.count_images(&info.images, 1);
        self.topology.account(&info, id, true);
        let slot = &mut self.nodes[id.index()];
        slot.info = Arc::new(info);
        slot.exists = true;
        self.refresh(id);
        self.extensions.node_changed(id, &self.nodes[id.index()]);
        id
    }

    fn count_images(&mut self, images: &[(Sym, i64)], delta: i32) {
        // Conversion keeps one entry per name, so each node counts once per image.
        for &(name, _) in images {
            let count = self.image_nodes.entry(name).or_default();
            *count = count.saturating_add_signed(delta);
            if *count == 0 {
                self.image_nodes.remove(&name);
            }
        }
    }

    /// How many existing nodes report image `name` (upstream `ImageStateSummary.NumNodes`).
    #[must_use]
    pub fn image_num_nodes(&self, name: Sym) -> usize {
        self.image_nodes.get(&name).map_or(0, |&n| n as usize)
    }

    /// Removes a node. Pods still bound to it stay accounted to its placeholder until removed,
    /// as upstream's cache does.
    ///
    /// # Errors
    /// [`StateError::NodeNotFound`] when no such node exists.
    pub fn remove_node(&mut self, name: &str) -> Result<NodeId> {
        let id = self
            .node_id(name)
            .ok_or_else(|| StateError::NodeNotFound(name.to_string()))?;
        let old = self.nodes[id.index()].info.images.clone();
        self.count_images(&old, -1);
        self.topology
            .account(&self.nodes[id.index()].info, id, false);
        let slot = &mut self.nodes[id.index()];
        slot.exists = false;
        let keep_name = slot.info.name.clone();
        let keep_sym = slot.info.name_sym;
        let placeholder = NodeState::placeholder(keep_name, keep_sym);
        slot.info = placeholder.info;
        self.refresh(id);
        self.extensions.node_changed(id, &self.nodes[id.index()]);
        self.live.retain(|&n| n != id);
        self.drop_placeholder_if_unused(id);
        Ok(id)
    }

    fn insert_pod(&mut self, info: Arc<PodInfo>, node_name: &str, assumed: bool) -> Result<NodeId> {
        if self.pods.contains_key(&*info.key) {
            return Err(StateError::PodExists(info.key.to_string()));
        }
        // upstream: a pod bound (or assumed) is no longer nominated anywhere.
        self.clear_nomination(&info.key);
        let id = self.slot_for(node_name);
        let node = &mut self.nodes[id.index()];
        node.account(&info, 1);
        let slot = u32::try_from(node.pods.len()).expect("more than 2^32 pods on a node");
        node.pods.push(info.clone());
        self.refresh(id);
        self.extensions
            .pod_added(id, &self.nodes[id.index()], &info);
        let index_id = self.pod_index.insert(info.clone(), id);
        *self.priorities.entry(info.priority).or_default() += 1;
        self.terms.account(&info, id, true);
        self.pods.insert(
            info.key.clone(),
            PodEntry {
                info,
                node: id,
                assumed,
                slot,
                id: index_id,
            },
        );
        Ok(id)
    }

    /// Adds a pod bound to `spec.nodeName`. Terminal pods hold nothing and are not added
    /// (returns `Ok(None)`).
    ///
    /// # Errors
    /// [`StateError::PodNotBound`] without a node name, [`StateError::PodExists`] for a duplicate.
    pub fn add_pod(&mut self, info: PodInfo) -> Result<Option<NodeId>> {
        if info.terminal {
            return Ok(None);
        }
        let node = info
            .node_name_str
            .clone()
            .ok_or_else(|| StateError::PodNotBound(info.key.to_string()))?;
        self.insert_pod(Arc::new(info), &node, false).map(Some)
    }

    /// Replaces a pod (or adds it): the old one's resources are released first. An update
    /// of an assumed pod to its bound form confirms the assumption.
    ///
    /// # Errors
    /// As [`ClusterState::add_pod`].
    pub fn update_pod(&mut self, info: PodInfo) -> Result<Option<NodeId>> {
        if self.pods.contains_key(&*info.key) {
            self.remove_pod(&info.key.clone())?;
        }
        self.add_pod(info)
    }

    /// Removes a pod and releases what it held.
    ///
    /// # Errors
    /// [`StateError::PodNotFound`].
    pub fn remove_pod(&mut self, key: &str) -> Result<PodEntry> {
        let entry = self
            .pods
            .remove(key)
            .ok_or_else(|| StateError::PodNotFound(key.to_string()))?;
        self.pod_index.remove(entry.id);
        if let Some(n) = self.priorities.get_mut(&entry.info.priority) {
            *n -= 1;
            if *n == 0 {
                self.priorities.remove(&entry.info.priority);
            }
        }
        self.terms.account(&entry.info, entry.node, false);
        let node = &mut self.nodes[entry.node.index()];
        node.account(&entry.info, -1);
        let slot = entry.slot as usize;
        node.pods.swap_remove(slot);
        if let Some(moved) = node.pods.get(slot) {
            let moved_key = moved.key.clone();
            if let Some(e) = self.pods.get_mut(&moved_key) {
                e.slot = entry.slot;
            }
        }
        self.refresh(entry.node);
        self.extensions
            .pod_removed(entry.node, &self.nodes[entry.node.index()], &entry.info);
        self.drop_placeholder_if_unused(entry.node);
        Ok(entry)
    }

    fn drop_placeholder_if_unused(&mut self, id: NodeId) {
        // Placeholders stay in `nodes` (ids are never reused) but leave the name map when empty,
        // so a stream of deleted nodes does not keep growing the map.
        let slot = &self.nodes[id.index()];
        if !slot.exists && slot.pod_count == 0 {
            self.node_ids.remove(&*slot.info.name);
        }
    }

    /// Places `pod` on `node` before the API server confirms it (upstream `AssumePod`).
    ///
    /// # Errors
    /// [`StateError::PodExists`] when the pod is already placed.
    pub fn assume(&mut self, mut pod: PodInfo, node: NodeId) -> Result<()> {
        let slot = &self.nodes[node.index()];
        pod.node_name = Some(slot.info.name_sym);
        pod.node_name_str = Some(slot.info.name.clone());
        let name = slot.info.name.clone();
        self.insert_pod(Arc::new(pod), &name, true).map(|_| ())
    }

    /// Turns an assumption into fact (the API server confirmed the binding).
    ///
    /// # Errors
    /// [`StateError::PodNotFound`].
    pub fn confirm(&mut self, key: &str) -> Result<()> {
        let entry = self
            .pods
            .get_mut(key)
            .ok_or_else(|| StateError::PodNotFound(key.to_string()))?;
        entry.assumed = false;
        Ok(())
    }

    /// [`ClusterState::confirm`], and the pod starts at `start_millis` (`status.startTime`, which
    /// preemption's victim order reads): what a driver with no kubelet does (the simulator).
    ///
    /// # Errors
    /// [`StateError::PodNotFound`].
    pub fn confirm_started(&mut self, key: &str, start_millis: i64) -> Result<()> {
        let entry = self.remove_pod(key)?;
        let mut info = Arc::unwrap_or_clone(entry.info);
        info.start_millis = start_millis;
        let name = self.nodes[entry.node.index()].info.name.clone();
        self.insert_pod(Arc::new(info), &name, false).map(|_| ())
    }

    /// Undoes an assumption (binding failed or expired) (upstream `ForgetPod`).
    ///
    /// # Errors
    /// [`StateError::NotAssumed`] for a pod that is confirmed, [`StateError::PodNotFound`].
    pub fn forget(&mut self, key: &str) -> Result<PodEntry> {
        match self.pods.get(key) {
            None => Err(StateError::PodNotFound(key.to_string())),
            Some(e) if !e.assumed => Err(StateError::NotAssumed(key.to_string())),
            Some(_) => self.remove_pod(key),
        }
    }

    /// Records that `pod` (pending) is nominated to `node` (upstream `nominatedNodeName`): while
    /// the nomination stands, cycles of pods of lower or equal priority filter that node with
    /// the nominated pod added too. Replaces an earlier nomination of the same pod.
    pub fn nominate(&mut self, pod: PodInfo, node: NodeId) {
        self.clear_nomination(&pod.key.clone());
        self.nominated_at.insert(pod.key.clone(), node);
        self.nominated.entry(node).or_default().push(Arc::new(pod));
    }

    /// Drops the nomination of pod `key` (it was bound, deleted or re-nominated); whether
    /// there was one.
    pub fn clear_nomination(&mut self, key: &str) -> bool {
        let Some(node) = self.nominated_at.remove(key) else {
            return false;
        };
        if let Some(list) = self.nominated.get_mut(&node) {
            list.retain(|p| &*p.key != key);
            if list.is_empty() {
                self.nominated.remove(&node);
            }
        }
        true
    }

    /// Pods nominated to `node`.
    #[must_use]
    pub fn nominated_pods(&self, node: NodeId) -> &[Arc<PodInfo>] {
        self.nominated.get(&node).map_or(&[], Vec::as_slice)
    }

    /// Whether any pod is nominated anywhere.
    #[must_use]
    pub fn has_nominations(&self) -> bool {
        !self.nominated_at.is_empty()
    }

    /// Calls `f` for every held pod (bound or assumed, on any node slot: placeholders included,
    /// check [`NodeState::exists`]) whose labels match `selector` and whose namespace is one of
    /// `namespaces` when given. Candidates come from a label index: a selector with an `In`
    /// requirement of one value (every `matchLabels` entry) visits only the pods carrying it.
    pub fn for_each_pod_matching(
        &self,
        selector: &LabelSelector,
        namespaces: Option<&[Sym]>,
        f: impl FnMut(&Arc<PodInfo>, NodeId),
    ) {
        self.pod_index
            .for_each_matching(selector, namespaces, &self.interner, f);
    }

    /// For a selector that is exactly one `key=value` requirement (a single `matchLabels`
    /// entry, the common Service and Deployment selector): per node, how many held pods of
    /// `namespace` match, terminating ones only when `include_terminating`, read from counts
    /// kept per pod change, so the cost is the number of nodes holding such pods, not the
    /// number of pods. `None` for any other selector: use
    /// [`ClusterState::for_each_pod_matching`].
    #[must_use]
    pub fn pod_counts_per_node(
        &self,
        selector: &LabelSelector,
        namespace: Sym,
        include_terminating: bool,
    ) -> Option<NodeCounts<'_>> {
        self.pod_index
            .counts_per_node(selector, namespace, include_terminating)
    }

    /// The lowest priority of any held pod (bound or assumed, on any node slot); `None`
    /// without pods. A pod of this priority or lower has no preemption victims anywhere.
    #[must_use]
    pub fn lowest_pod_priority(&self) -> Option<i32> {
        self.priorities.keys().next().copied()
    }

    /// Every existing node's value of label `key`, by node id: one array read per node
    /// instead of a search of the node's labels (kept in step with node changes).
    #[must_use]
    pub fn label_column(&self, key: Sym) -> LabelColumn<'_> {
        self.topology.column(key)
    }

    /// For label `key`: each value with the number of existing nodes carrying `key=value`.
    #[must_use]
    pub fn topology_domains(&self, key: Sym) -> Option<&FxHashMap<Sym, u32>> {
        self.topology.domains(key)
    }

    /// How many existing nodes carry label `key`.
    #[must_use]
    pub fn nodes_with_label(&self, key: Sym) -> usize {
        self.topology.nodes_with(key)
    }

    /// How many existing nodes have a `NoSchedule` or `NoExecute` taint.
    #[must_use]
    pub fn nodes_with_hard_taints(&self) -> usize {
        self.topology.hard_tainted()
    }

    /// Placed pods' affinity terms, grouped by identical (kind, weight, term): calls `f` for each
    /// group whose term matches `pod` (its namespace's labels for namespace selectors), visiting
    /// only groups whose selector could match the pod's labels.
    pub fn for_each_existing_term_matching(&self, pod: &PodInfo, f: impl FnMut(&ExistingTerm)) {
        let ns_labels = self.namespace_labels(pod.namespace_sym);
        self.terms
            .for_each_matching(pod, ns_labels, &self.interner, f);
    }

    /// Labels of Namespace `ns` (`None` when no such Namespace object is held).
    #[must_use]
    pub fn namespace_labels(&self, ns: Sym) -> Option<&Labels> {
        self.objects.namespaces.get(&ns)
    }

    /// upstream `helper.DefaultSelector(pod, services, RCs, RSs, SSs)`: what system-default
    /// topology spreading counts. `None` when it is empty (nothing selects or owns the pod).
    #[must_use]
    pub fn default_spread_selector(&self, pod: &PodInfo) -> Option<LabelSelector> {
        self.objects.default_selector(pod)
    }

    /// Adds or replaces a Namespace (its labels).
    ///
    /// # Errors
    /// A Namespace without a name.
    pub fn apply_namespace(&mut self, ns: &k8s_openapi::api::core::v1::Namespace) -> Result<()> {
        let name = object_name("Namespace", None, ns.metadata.name.as_deref())?;
        let mut labels = ns.metadata.labels.clone().unwrap_or_default();
        // upstream: the API server labels every namespace with its name (NamespaceDefaultLabelName).
        labels
            .entry("kubernetes.io/metadata.name".to_string())
            .or_insert_with(|| name.to_string());
        let labels = convert::labels(&labels, &mut self.interner);
        let sym = self.interner.intern(name);
        self.objects.namespaces.insert(sym, labels);
        Ok(())
    }

    /// Removes a Namespace.
    pub fn remove_namespace(&mut self, name: &str) {
        if let Some(sym) = self.interner.get(name) {
            self.objects.namespaces.remove(&sym);
        }
    }

    /// Adds or replaces a Service (its selector).
    ///
    /// # Errors
    /// A Service without a name.
    pub fn apply_service(&mut self, svc: &k8s_openapi::api::core::v1::Service) -> Result<()> {
        let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
        let name = object_name("Service", Some(ns), svc.metadata.name.as_deref())?;
        let selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .map(|m| convert::labels(m, &mut self.interner));
        let ns = self.interner.intern(ns);
        self.objects.upsert_service(ns, Arc::from(name), selector);
        Ok(())
    }

    /// Removes a Service.
    pub fn remove_service(&mut self, namespace: &str, name: &str) {
        if let Some(ns) = self.interner.get(namespace) {
            self.objects.remove_service(ns, name);
        }
    }

    /// Adds or replaces a ReplicaSet (its selector).
    ///
    /// # Errors
    /// A ReplicaSet without a name.
    pub fn apply_replica_set(&mut self, rs: &k8s_openapi::api::apps::v1::ReplicaSet) -> Result<()> {
        let selector = convert::workload_selector(&rs.spec.selector, &mut self.interner);
        self.apply_workload(
            WorkloadKind::ReplicaSet,
            &rs.metadata,
            WorkloadSelector::Selector(selector),
        )
    }

    /// Adds or replaces a StatefulSet (its selector).
    ///
    /// # Errors
    /// A StatefulSet without a name.
    pub fn apply_stateful_set(
        &mut self,
        ss: &k8s_openapi::api::apps::v1::StatefulSet,
    ) -> Result<()> {
        let selector = convert::workload_selector(&ss.spec.selector, &mut self.interner);
        self.apply_workload(
            WorkloadKind::StatefulSet,
            &ss.metadata,
            WorkloadSelector::Selector(selector),
        )
    }

    /// Adds or replaces a ReplicationController (its selector).
    ///
    /// # Errors
    /// A ReplicationController without a name.
    pub fn apply_replication_controller(
        &mut self,
        rc: &k8s_openapi::api::core::v1::ReplicationController,
    ) -> Result<()> {
        let selector = rc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .map(|m| convert::labels(m, &mut self.interner))
            .unwrap_or_default();
        self.apply_workload(
            WorkloadKind::ReplicationController,
            &rc.metadata,
            WorkloadSelector::Map(selector),
        )
    }

    fn apply_workload(
        &mut self,
        kind: WorkloadKind,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        selector: WorkloadSelector,
    ) -> Result<()> {
        let ns = meta.namespace.as_deref().unwrap_or("default");
        let kind_name = match kind {
            WorkloadKind::ReplicationController => "ReplicationController",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
        };
        let name = object_name(kind_name, Some(ns), meta.name.as_deref())?;
        let ns = self.interner.intern(ns);
        self.objects
            .workloads
            .insert((kind, ns, Arc::from(name)), selector);
        Ok(())
    }

    /// Removes a ReplicationController, ReplicaSet or StatefulSet.
    pub fn remove_workload(&mut self, kind: WorkloadKind, namespace: &str, name: &str) {
        if let Some(ns) = self.interner.get(namespace) {
            self.objects.workloads.remove(&(kind, ns, Arc::from(name)));
        }
    }

    /// Adds or replaces a PodDisruptionBudget (`policy/v1`).
    ///
    /// # Errors
    /// A budget that does not convert ([`convert::disruption_budget`]).
    pub fn apply_disruption_budget(
        &mut self,
        pdb: &k8s_openapi::api::policy::v1::PodDisruptionBudget,
    ) -> Result<()> {
        let b = convert::disruption_budget(pdb, &mut self.interner)?;
        self.put_disruption_budget(b);
        Ok(())
    }

    /// Adds or replaces a compiled PodDisruptionBudget.
    pub fn put_disruption_budget(&mut self, b: crate::model::DisruptionBudget) {
        let interner = &self.interner;
        let key = |x: &crate::model::DisruptionBudget| {
            (interner.resolve(x.namespace).to_string(), x.name.clone())
        };
        let k = key(&b);
        match self.budgets.binary_search_by(|x| key(x).cmp(&k)) {
            Ok(i) => self.budgets[i] = b,
            Err(i) => self.budgets.insert(i, b),
        }
    }

    /// The PodDisruptionBudgets, sorted by namespace and name.
    #[must_use]
    pub fn disruption_budgets(&self) -> &[crate::model::DisruptionBudget] {
        &self.budgets
    }

    /// The PodDisruptionBudgets, to update their status (the eviction API, the disruption
    /// controller).
    pub fn disruption_budgets_mut(&mut self) -> &mut [crate::model::DisruptionBudget] {
        &mut self.budgets
    }

    /// Number of Namespaces held.
    #[must_use]
    pub fn num_namespaces(&self) -> usize {
        self.objects.namespaces.len()
    }

    /// Number of Services held.
    #[must_use]
    pub fn num_services(&self) -> usize {
        self.objects.services.len()
    }

    /// Number of ReplicationControllers, ReplicaSets and StatefulSets held.
    #[must_use]
    pub fn num_workloads(&self) -> usize {
        self.objects.workloads.len()
    }

    /// Recomputes every node's aggregates from its pods and compares them with the
    /// incrementally maintained ones. For tests.
    ///
    /// # Errors
    /// A description of the first mismatch.
    pub fn check_consistency(&self) -> std::result::Result<(), String> {
        let mut fresh: Vec<NodeState> = self
            .nodes
            .iter()
            .map(|n| NodeState::placeholder(n.info.name.clone(), n.info.name_sym))
            .collect();
        for entry in self.pods.values() {
            fresh[entry.node.index()].account(&entry.info, 1);
            let on_node = self.nodes[entry.node.index()].pods.get(entry.slot as usize);
            if !on_node.is_some_and(|p| Arc::ptr_eq(p, &entry.info)) {
                return Err(format!(
                    "pod {} is not at its slot on its node",
                    entry.info.key
                ));
            }
        }
        for (have, summary) in self.nodes.iter().zip(&self.summaries) {
            if *summary != NodeSummary::of(have) {
                return Err(format!("node {}: summary is stale", have.info.name));
            }
        }
        for (have, want) in self.nodes.iter().zip(&fresh) {
            let name = &have.info.name;
            if have.requested != want.requested {
                return Err(format!(
                    "node {name}: requested {:?} != {:?}",
                    have.requested, want.requested
                ));
            }
            if (have.non_zero_milli_cpu, have.non_zero_memory)
                != (want.non_zero_milli_cpu, want.non_zero_memory)
            {
                return Err(format!("node {name}: non-zero requested differs"));
            }
            if have.pods.len() != have.pod_count as usize {
                return Err(format!(
                    "node {name}: {} pods listed, count {}",
                    have.pods.len(),
                    have.pod_count
                ));
            }
            if have.pod_count != want.pod_count {
                return Err(format!(
                    "node {name}: pod count {} != {}",
                    have.pod_count, want.pod_count
                ));
            }
            let mut a = have.used_ports.clone();
            let mut b = want.used_ports.clone();
            a.sort_unstable();
            b.sort_unstable();
            if a != b {
                return Err(format!("node {name}: used ports {a:?} != {b:?}"));
            }
        }
        for &id in &self.live {
            if !self.nodes[id.index()].exists {
                return Err(format!("live node {id:?} does not exist"));
            }
        }
        self.pod_index.check()?;
        let mut priorities = std::collections::BTreeMap::<i32, u32>::new();
        for entry in self.pods.values() {
            *priorities.entry(entry.info.priority).or_default() += 1;
        }
        if priorities != self.priorities {
            return Err("pod priority counts are stale".into());
        }
        for entry in self.pods.values() {
            match self.pod_index.get(entry.id) {
                Some((p, n)) if Arc::ptr_eq(p, &entry.info) && *n == entry.node => {}
                _ => return Err(format!("pod {} is not at its index id", entry.info.key)),
            }
        }
        let indexed = (0..self.pod_index.num_slots())
            .filter(|&i| {
                self.pod_index
                    .get(u32::try_from(i).unwrap_or(u32::MAX))
                    .is_some()
            })
            .count();
        if indexed != self.pods.len() {
            return Err(format!("{indexed} pods indexed, {} held", self.pods.len()));
        }
        self.terms
            .check(&self.pod_index, self.pod_index.num_slots())?;
        let mut topology = TopologyIndex::default();
        for &id in &self.live {
            topology.account(&self.nodes[id.index()].info, id, true);
        }
        if topology != self.topology {
            return Err("topology index is stale".into());
        }
        self.objects.check()?;
        let existing = self.nodes.iter().filter(|n| n.exists).count();
        if existing != self.live.len() {
            return Err(format!(
                "{existing} existing nodes but {} live",
                self.live.len()
            ));
        }
        Ok(())
    }
}

/// The name of an object, or a conversion error naming the kind.
fn object_name<'a>(kind: &'static str, ns: Option<&str>, name: Option<&'a str>) -> Result<&'a str> {
    match name {
        Some(n) if !n.is_empty() => Ok(n),
        _ => Err(StateError::Convert(ConvertError {
            kind,
            object: ns.map_or_else(|| "<unnamed>".to_string(), |ns| format!("{ns}/<unnamed>")),
            field: "metadata.name".to_string(),
            message: "required value: an object needs a name".to_string(),
        })),
    }
}
