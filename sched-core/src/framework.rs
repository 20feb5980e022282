//! The scheduling framework: one trait per extension point, statuses, typed cycle state,
//! and the `Profile` that holds a profile's plugin instances per point.
//!
//! Upstream checks at runtime which interfaces a plugin object implements; here a plugin
//! exposes each extension point it implements through an `as_*` accessor on [`Plugin`], so a
//! profile resolves its lists once, when it is built.

use crate::config::ProfileConfig;
use crate::intern::Interner;
use crate::model::{NodeInfo, PodInfo};
use crate::state::{ClusterState, NodeId, NodeState};
use smallvec::SmallVec;
use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Upstream's `MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;
/// Upstream's `MinNodeScore`.
pub const MIN_NODE_SCORE: i64 = 0;

/// A status code of a rejection (upstream `fwk.Code`, minus Success/Skip which are modelled
/// by `Ok`/outcome enums).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Code {
    /// The pod does not fit now; preemption may help.
    Unschedulable,
    /// The pod does not fit and preemption cannot help on this node.
    UnschedulableAndUnresolvable,
    /// An internal error.
    Error,
}

use crate::config::ExtensionPoint;

/// Hears how long each extension point and each plugin took in the scheduler's cycles, and
/// with which status (upstream's metrics recorder behind
/// `scheduler_framework_extension_point_duration_seconds` and
/// `scheduler_plugin_execution_duration_seconds`). Set with
/// [`Scheduler::set_observer`](crate::Scheduler::set_observer); `explain` is not observed.
/// Statuses are upstream's codes: `Success`, `Unschedulable`, `UnschedulableAndUnresolvable`,
/// `Error`, `Skip`.
pub trait CycleObserver: Send + Sync {
    /// One extension point of one cycle. Filter and Score are observed once per cycle (the
    /// whole scan, all plugins over all nodes), the other points once per run.
    fn extension_point(
        &self,
        profile: &str,
        point: ExtensionPoint,
        status: &'static str,
        elapsed: std::time::Duration,
    );
    /// One plugin at one point: each call at PreFilter, PostFilter, PreScore, Reserve, Permit
    /// and PreBind; at Score, one observation per plugin per cycle covering its scores of
    /// every node and its normalization. Filter plugins are not timed one by one (they run
    /// per node, in blocks, on several threads). The default ignores it.
    fn plugin(
        &self,
        _profile: &str,
        _point: ExtensionPoint,
        _plugin: &'static str,
        _status: &'static str,
        _elapsed: std::time::Duration,
    ) {
    }
}

impl Code {
    /// Upstream's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unschedulable => "Unschedulable",
            Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
            Code::Error => "Error",
        }
    }
}

/// One reason string, shared without allocation on the hot path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A fixed upstream string.
    Static(&'static str),
    /// A string built once (e.g. `Insufficient example.com/gpu` at pod conversion).
    Shared(Arc<str>),
}

impl Reason {
    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Reason::Static(s) => s,
            Reason::Shared(s) => s,
        }
    }
}

impl From<&'static str> for Reason {
    fn from(s: &'static str) -> Self {
        Reason::Static(s)
    }
}

impl From<Arc<str>> for Reason {
    fn from(s: Arc<str>) -> Self {
        Reason::Shared(s)
    }
}

impl From<String> for Reason {
    fn from(s: String) -> Self {
        Reason::Shared(Arc::from(s))
    }
}

/// A plugin's "no": a code and one or more reasons (upstream `*fwk.Status` when not success).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The code.
    pub code: Code,
    /// The reasons, in the order the plugin reported them.
    pub reasons: SmallVec<[Reason; 2]>,
}

impl Rejection {
    /// An `Unschedulable` rejection with one reason.
    #[must_use]
    pub fn unschedulable(reason: impl Into<Reason>) -> Self {
        Rejection {
            code: Code::Unschedulable,
            reasons: smallvec::smallvec![reason.into()],
        }
    }

    /// An `UnschedulableAndUnresolvable` rejection with one reason.
    #[must_use]
    pub fn unresolvable(reason: impl Into<Reason>) -> Self {
        Rejection {
            code: Code::UnschedulableAndUnresolvable,
            reasons: smallvec::smallvec![reason.into()],
        }
    }

    /// An internal error.
    #[must_use]
    pub fn error(reason: impl Into<Reason>) -> Self {
        Rejection {
            code: Code::Error,
            reasons: smallvec::smallvec![reason.into()],
        }
    }

    /// Upstream `Status.Message()`: the reasons joined with `", "`.
    #[must_use]
    pub fn message(&self) -> String {
        let mut out = String::new();
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(r.as_str());
        }
        out
    }
}

/// The result of a Filter.
pub type FilterResult = Result<(), Rejection>;

/// A value a plugin keeps in the [`CycleState`]: any cloneable type (upstream `StateData`,
/// whose `Clone` preemption calls to try each candidate node on its own copy).
pub trait CycleData: Any + Send + Sync {
    /// A boxed copy.
    fn clone_data(&self) -> Box<dyn CycleData>;
    /// As `Any`, for reading back.
    fn as_any(&self) -> &dyn Any;
    /// As mutable `Any`, for updating in place.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Send + Sync + Clone> CycleData for T {
    fn clone_data(&self) -> Box<dyn CycleData> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Typed per-cycle state: each plugin stores a value of its own type and reads it back.
/// No string keys; one entry per type. Cloning copies every value (upstream `CycleState.Clone`).
#[derive(Default)]
pub struct CycleState {
    entries: SmallVec<[(TypeId, Box<dyn CycleData>); 4]>,
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        CycleState {
            entries: self
                .entries
                .iter()
                .map(|(t, v)| (*t, CycleData::clone_data(&**v)))
                .collect(),
        }
    }
}

impl CycleState {
    /// An empty cycle state.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value`, replacing a previous value of the same type.
    pub fn write<T: Any + Send + Sync + Clone>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        if let Some(slot) = self.entries.iter_mut().find(|(t, _)| *t == id) {
            slot.1 = Box::new(value);
        } else {
            self.entries.push((id, Box::new(value)));
        }
    }

    /// The value of type `T`, if a plugin wrote one this cycle.
    #[must_use]
    pub fn read<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.entries
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| CycleData::as_any(&**v).downcast_ref::<T>())
    }

    /// The value of type `T`, mutably (for PreFilter extensions that update their state).
    pub fn read_mut<T: Any + Send + Sync>(&mut self) -> Option<&mut T> {
        let id = TypeId::of::<T>();
        self.entries
            .iter_mut()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| CycleData::as_any_mut(&mut **v).downcast_mut::<T>())
    }
}

impl std::fmt::Debug for CycleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CycleState")
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// What a PreFilter plugin decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreFilterOutcome {
    /// Run this plugin's Filter on every candidate node.
    Proceed,
    /// Run Filter only on the nodes with these names (upstream `PreFilterResult.NodeNames`;
    /// names of nodes that do not exist are ignored after the plugins' results are intersected).
    Narrow(Vec<crate::intern::Sym>),
    /// Do not run this plugin's Filter for this pod.
    Skip,
}

/// What a PreScore plugin decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreScoreOutcome {
    /// Run this plugin's Score.
    Proceed,
    /// Do not run this plugin's Score for this pod (it contributes 0).
    Skip,
}

/// Everything a plugin may look at about the cluster during a cycle.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    /// The state.
    pub state: &'a ClusterState,
}

impl ClusterView<'_> {
    /// The interner behind all symbols.
    #[must_use]
    pub fn interner(&self) -> &Interner {
        self.state.interner()
    }
}

/// Cluster events that can make a pod schedulable again (upstream `ClusterEvent`: a resource
/// and its action types), as a bit set. A plugin declares the events that may undo its
/// rejections ([`Plugin::events_to_register`], upstream `EventsToRegister`); the scheduling
/// queue moves an unschedulable pod only on an event some plugin that rejected it registered.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClusterEvents(u32);

impl ClusterEvents {
    /// No event.
    pub const NONE: Self = Self(0);
    /// Node/Add.
    pub const NODE_ADD: Self = Self(1 << 0);
    /// Node/Delete.
    pub const NODE_DELETE: Self = Self(1 << 1);
    /// Node/UpdateNodeAllocatable.
    pub const NODE_ALLOCATABLE: Self = Self(1 << 2);
    /// Node/UpdateNodeLabel.
    pub const NODE_LABEL: Self = Self(1 << 3);
    /// Node/UpdateNodeTaint (taints, and `spec.unschedulable`, which upstream counts as one).
    pub const NODE_TAINT: Self = Self(1 << 4);
    /// Node/UpdateNodeCondition, UpdateNodeAnnotation and other node updates.
    pub const NODE_OTHER: Self = Self(1 << 5);
    /// An assigned pod was added (bound, or placed by another scheduler).
    pub const ASSIGNED_POD_ADD: Self = Self(1 << 6);
    /// An assigned pod was deleted (or terminated, evicted).
    pub const ASSIGNED_POD_DELETE: Self = Self(1 << 7);
    /// An assigned pod's labels changed (UpdatePodLabel).
    pub const ASSIGNED_POD_LABEL: Self = Self(1 << 8);
    /// An assigned pod's requests went down (UpdatePodScaleDown).
    pub const ASSIGNED_POD_SCALE_DOWN: Self = Self(1 << 9);
    /// Other updates of an assigned pod.
    pub const ASSIGNED_POD_OTHER: Self = Self(1 << 10);
    /// The unschedulable pod itself was updated (its spec, tolerations, gates).
    pub const UNSCHEDULED_POD_UPDATE: Self = Self(1 << 11);
    /// A Namespace was added or changed (namespace selectors).
    pub const NAMESPACE: Self = Self(1 << 12);
    /// A Service, ReplicaSet, StatefulSet or ReplicationController changed (default spreading).
    pub const WORKLOAD: Self = Self(1 << 13);
    /// Every node update.
    pub const NODE_UPDATE: Self = Self(
        Self::NODE_ALLOCATABLE.0 | Self::NODE_LABEL.0 | Self::NODE_TAINT.0 | Self::NODE_OTHER.0,
    );
    /// Every event about nodes.
    pub const NODE_ALL: Self = Self(Self::NODE_ADD.0 | Self::NODE_DELETE.0 | Self::NODE_UPDATE.0);
    /// Every update of an assigned pod.
    pub const ASSIGNED_POD_UPDATE: Self = Self(
        Self::ASSIGNED_POD_LABEL.0 | Self::ASSIGNED_POD_SCALE_DOWN.0 | Self::ASSIGNED_POD_OTHER.0,
    );
    /// Every event about assigned pods.
    pub const ASSIGNED_POD_ALL: Self =
        Self(Self::ASSIGNED_POD_ADD.0 | Self::ASSIGNED_POD_DELETE.0 | Self::ASSIGNED_POD_UPDATE.0);
    /// Every event (upstream registers a plugin without `EventsToRegister` for all of them).
    pub const ALL: Self = Self((1 << 14) - 1);

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether the sets share an event.
    #[must_use]
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether every event of `other` is in `self`.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// upstream's node update action types between `old` and `new`: allocatable, labels,
    /// taints (`spec.unschedulable` counts as a taint change, as upstream's
    /// `UpdateNodeTaint`); none for a change no plugin reads.
    #[must_use]
    pub fn node_update(old: &crate::model::NodeInfo, new: &crate::model::NodeInfo) -> Self {
        let mut events = Self::NONE;
        if old.allocatable != new.allocatable {
            events |= Self::NODE_ALLOCATABLE;
        }
        if old.labels != new.labels {
            events |= Self::NODE_LABEL;
        }
        if old.taints != new.taints || old.unschedulable != new.unschedulable {
            events |= Self::NODE_TAINT;
        }
        events
    }

    /// upstream's assigned pod update action types between `old` and `new`: labels, and
    /// scale-down (some request went down, an in-place resize: `UpdatePodScaleDown`); none
    /// for a change no plugin reads.
    #[must_use]
    pub fn assigned_pod_update(old: &crate::model::PodInfo, new: &crate::model::PodInfo) -> Self {
        let mut events = Self::NONE;
        if old.labels != new.labels {
            events |= Self::ASSIGNED_POD_LABEL;
        }
        let (o, n) = (&old.requests, &new.requests);
        if n.milli_cpu < o.milli_cpu
            || n.memory < o.memory
            || n.ephemeral_storage < o.ephemeral_storage
            || o.scalar.iter().any(|&(name, r)| n.scalar(name) < r)
        {
            events |= Self::ASSIGNED_POD_SCALE_DOWN;
        }
        events
    }
}

impl std::ops::BitOr for ClusterEvents {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl std::ops::BitOrAssign for ClusterEvents {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl std::fmt::Debug for ClusterEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [&str; 14] = [
            "NodeAdd",
            "NodeDelete",
            "NodeAllocatable",
            "NodeLabel",
            "NodeTaint",
            "NodeOther",
            "AssignedPodAdd",
            "AssignedPodDelete",
            "AssignedPodLabel",
            "AssignedPodScaleDown",
            "AssignedPodOther",
            "UnscheduledPodUpdate",
            "Namespace",
            "Workload",
        ];
        let names: Vec<&str> = (0..14)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| NAMES[i])
            .collect();
        write!(f, "ClusterEvents({})", names.join("|"))
    }
}

/// A cluster change with its objects: what upstream's queueing hints receive (an event and
/// its old and new object). The queue moves an unschedulable pod on a change only when some
/// plugin that rejected the pod registered the change's events and its
/// [`Plugin::queueing_hint`] says [`QueueingHint::Queue`].
#[derive(Clone, Debug)]
pub enum ClusterChange {
    /// A node was added.
    NodeAdded(Arc<NodeInfo>),
    /// A node changed; `events` says how ([`ClusterEvents::node_update`]).
    NodeUpdated {
        /// The node before the change.
        old: Arc<NodeInfo>,
        /// The node after it.
        new: Arc<NodeInfo>,
        /// Which parts changed.
        events: ClusterEvents,
    },
    /// A node was deleted.
    NodeDeleted(Arc<NodeInfo>),
    /// A pod was bound or placed on a node (by anyone).
    AssignedPodAdded(Arc<PodInfo>),
    /// An assigned pod changed; `events` says how (labels, scale-down, other).
    AssignedPodUpdated {
        /// The pod before the change.
        old: Arc<PodInfo>,
        /// The pod after it.
        new: Arc<PodInfo>,
        /// Which parts changed.
        events: ClusterEvents,
    },
    /// An assigned pod was deleted (or finished, or was evicted).
    AssignedPodDeleted(Arc<PodInfo>),
    /// Events without their objects (a batch of changes applied at once, namespaces,
    /// workloads): no hint is asked, as for a plugin without a hint function.
    Events(ClusterEvents),
}

impl ClusterChange {
    /// The events this change is.
    #[must_use]
    pub fn events(&self) -> ClusterEvents {
        match self {
            ClusterChange::NodeAdded(_) => ClusterEvents::NODE_ADD,
            ClusterChange::NodeUpdated { events, .. }
            | ClusterChange::AssignedPodUpdated { events, .. }
            | ClusterChange::Events(events) => *events,
            ClusterChange::NodeDeleted(_) => ClusterEvents::NODE_DELETE,
            ClusterChange::AssignedPodAdded(_) => ClusterEvents::ASSIGNED_POD_ADD,
            ClusterChange::AssignedPodDeleted(_) => ClusterEvents::ASSIGNED_POD_DELETE,
        }
    }

    /// For a node added or updated: the node before (`None` when added) and after.
    #[must_use]
    pub fn node(&self) -> Option<(Option<&NodeInfo>, &NodeInfo)> {
        match self {
            ClusterChange::NodeAdded(new) => Some((None, new)),
            ClusterChange::NodeUpdated { old, new, .. } => Some((Some(old), new)),
            _ => None,
        }
    }
}

/// A plugin's verdict on whether a change may make a pod it rejected schedulable (upstream
/// `fwk.QueueingHint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueingHint {
    /// The change may help: move the pod to the active or backoff queue.
    Queue,
    /// The change cannot help: the pod stays unschedulable.
    QueueSkip,
}

impl From<bool> for QueueingHint {
    /// `true`: the change may help ([`QueueingHint::Queue`]); `false`: it cannot.
    fn from(may_help: bool) -> Self {
        if may_help {
            QueueingHint::Queue
        } else {
            QueueingHint::QueueSkip
        }
    }
}

/// Every plugin: a name and the extension points it implements.
pub trait Plugin: Send + Sync {
    /// The upstream plugin name.
    fn name(&self) -> &'static str;
    /// The QueueSort implementation.
    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        None
    }
    /// The PreEnqueue implementation.
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        None
    }
    /// The PreFilter implementation.
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        None
    }
    /// The Filter implementation.
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        None
    }
    /// The PostFilter implementation.
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        None
    }
    /// The PreScore implementation.
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        None
    }
    /// The Score implementation.
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        None
    }
    /// The Reserve implementation.
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        None
    }
    /// This plugin as a Permit plugin.
    fn as_permit(&self) -> Option<&dyn PermitPlugin> {
        None
    }
    /// This plugin as a PreBind plugin.
    fn as_pre_bind(&self) -> Option<&dyn PreBindPlugin> {
        None
    }
    /// upstream `EnqueueExtensions.EventsToRegister`: the cluster events that may make a pod
    /// this plugin rejected schedulable. The default, as upstream's for a plugin without
    /// `EventsToRegister`, is every event.
    fn events_to_register(&self) -> ClusterEvents {
        ClusterEvents::ALL
    }
    /// upstream `QueueingHintFn`: whether `change`, one of the events this plugin registered,
    /// may make `pod` (which this plugin rejected) schedulable. The default, as upstream's for
    /// an event registered without a hint function, is [`QueueingHint::Queue`]. A hint never
    /// decides a placement, only when the pod is tried again.
    fn queueing_hint(
        &self,
        _pod: &PodInfo,
        _change: &ClusterChange,
        _interner: &Interner,
    ) -> QueueingHint {
        QueueingHint::Queue
    }
}

/// QueueSort: the order of the active queue.
pub trait QueueSortPlugin: Send + Sync {
    /// Whether `a` should be scheduled before `b`.
    fn less(&self, a: &PodInfo, b: &PodInfo) -> bool;
}

/// PreEnqueue: whether a pod may enter the active queue at all.
pub trait PreEnqueuePlugin: Send + Sync {
    /// `Err` keeps the pod out of scheduling with that status.
    ///
    /// # Errors
    /// The reason the pod is not ready to be scheduled.
    fn pre_enqueue(&self, pod: &PodInfo) -> Result<(), Rejection>;
}

/// PreFilter: per-pod work before Filter; may reject the pod or narrow the node set.
pub trait PreFilterPlugin: Send + Sync {
    /// # Errors
    /// A rejection fails the whole cycle before Filter.
    fn pre_filter(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection>;

    /// upstream `PreFilterExtensions.AddPod`: update this plugin's cycle state as if `added`
    /// ran on `node` (preemption's reprieve, nominated pods). Called only when this plugin's
    /// PreFilter did not Skip. The default does nothing: right for plugins whose Filter reads
    /// only the node passed to it.
    fn add_pod(
        &self,
        _cycle: &mut CycleState,
        _pod: &PodInfo,
        _added: &PodInfo,
        _node: &NodeState,
        _view: ClusterView<'_>,
    ) {
    }

    /// Whether `add_pod`/`remove_pod` change this plugin's cycle state (upstream: whether
    /// `PreFilterExtensions()` is non-nil). `true` by default, which is always correct; a plugin
    /// whose Filter reads only the node it is given returns `false`, so that preemption's dry
    /// run does not copy the cycle state for it.
    fn has_pod_extensions(&self) -> bool {
        true
    }

    /// upstream `PreFilterExtensions.RemovePod`: update this plugin's cycle state as if
    /// `removed` no longer ran on `node` (preemption's victims).
    fn remove_pod(
        &self,
        _cycle: &mut CycleState,
        _pod: &PodInfo,
        _removed: &PodInfo,
        _node: &NodeState,
        _view: ClusterView<'_>,
    ) {
    }
}

/// Filter: can the pod run on this node?
pub trait FilterPlugin: Send + Sync {
    /// # Errors
    /// Why the pod cannot run on `node`.
    fn filter(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> FilterResult;

    /// Filters a batch of at most 64 nodes: returns the subset of `live` that passes (bit `i`
    /// stands for `nodes[i]`), exactly the nodes for which [`FilterPlugin::filter`] is `Ok`.
    /// The cycle filters nodes in batches, one plugin at a time over the nodes still feasible,
    /// and asks `filter` for the rejection only when someone reads it. The default calls
    /// `filter` node by node; a plugin overrides it (usually with [`mask_where`]) to do its
    /// per-pod work once and skip building rejections. `nodes` are the state's own, so the
    /// override may read [`ClusterState::summary`].
    fn filter_nodes(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        live: NodeMask,
        view: ClusterView<'_>,
    ) -> NodeMask {
        mask_where(nodes, live, |id| {
            self.filter(cycle, pod, view.state.node(id), view).is_ok()
        })
    }
}

/// A subset of a batch of at most 64 nodes: bit `i` stands for the batch's `i`-th node.
pub type NodeMask = u64;

/// The subset of `live` whose nodes satisfy `ok` (bits past the end of `nodes` are dropped).
#[inline]
pub fn mask_where(
    nodes: &[NodeId],
    live: NodeMask,
    mut ok: impl FnMut(NodeId) -> bool,
) -> NodeMask {
    let mut rest = live;
    let mut pass = 0;
    while rest != 0 {
        let i = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        if let Some(&id) = nodes.get(i) {
            pass |= NodeMask::from(ok(id)) << i;
        }
    }
    pass
}

/// Runs a profile's filters for one pod against a node with a cycle state; `Err` names the
/// rejecting plugin.
pub type RunFilters<'a> =
    dyn Fn(&CycleState, &NodeState) -> Result<(), (&'static str, Rejection)> + Sync + 'a;

/// Runs the profile's PreFilter extensions (AddPod or RemovePod) for the pod being scheduled:
/// `(cycle, other pod, the node it is on)`.
pub type RunExtension<'a> = dyn Fn(&mut CycleState, &PodInfo, &NodeState) + Sync + 'a;

/// What PostFilter has to work with: the failed cycle's statuses and a way to re-run filters.
pub struct PostFilterInput<'a> {
    /// The pod.
    pub pod: &'a PodInfo,
    /// The cluster.
    pub view: ClusterView<'a>,
    /// The failed cycle's Filter statuses: the rejecting plugin and its rejection per node.
    pub statuses: &'a [(NodeId, &'static str, Rejection)],
    /// The status of every node not in `statuses` (a PreFilter rejection or a narrowed node
    /// set), if any.
    pub absent: Option<&'a Rejection>,
    /// The cycle state PreFilter left (clone it to try a node: upstream `state.Clone()`).
    pub cycle: &'a CycleState,
    /// Whether `add_pod`/`remove_pod` change the cycle state for this pod; when `false` a dry
    /// run may read `cycle` without cloning it and skip the extensions.
    pub extensions: bool,
    /// Runs the profile's filters for the pod against a (possibly modified) node and state.
    pub run_filters: &'a RunFilters<'a>,
    /// Runs the profile's `AddPod` PreFilter extensions.
    pub add_pod: &'a RunExtension<'a>,
    /// Runs the profile's `RemovePod` PreFilter extensions.
    pub remove_pod: &'a RunExtension<'a>,
    /// The scheduler's seed: PostFilter's random choices (preemption's candidate offset) come
    /// from it, so a run replays exactly.
    pub seed: u64,
}

/// What a PostFilter plugin decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostFilterOutcome {
    /// Nothing can be done; `message` is appended to the FitError text.
    Unschedulable {
        /// The PostFilter message (e.g. upstream's `preemption: 0/3 nodes are available: …`).
        message: String,
    },
    /// Removing pods would make room: the pod would be nominated to `node` after evicting `victims`.
    Nominate {
        /// The node.
        node: NodeId,
        /// `ns/name` of the pods to evict.
        victims: Vec<Arc<str>>,
        /// Message for reports.
        message: String,
    },
}

/// PostFilter: runs when no node fits (upstream DefaultPreemption).
pub trait PostFilterPlugin: Send + Sync {
    /// Decide what to do about an unschedulable pod.
    fn post_filter(&self, input: &PostFilterInput<'_>) -> PostFilterOutcome;
}

/// PreScore: per-pod work before Score; may skip.
pub trait PreScorePlugin: Send + Sync {
    /// # Errors
    /// An error fails the cycle.
    fn pre_score(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        feasible: &[NodeId],
        view: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection>;
}

/// Score (with optional NormalizeScore): rank feasible nodes.
pub trait ScorePlugin: Send + Sync {
    /// The raw score of `node`.
    fn score(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> i64;

    /// The raw scores of `nodes`, written to `out` in the same order (`out.len() ==
    /// nodes.len()`). The cycle calls this once per plugin for the feasible nodes (once per
    /// chunk when scoring runs in parallel). The default calls [`ScorePlugin::score`] node by
    /// node; a plugin overrides it to do its per-pod work once instead of once per node. Both
    /// must give the same numbers.
    fn score_nodes(
        &self,
        cycle: &CycleState,
        pod: &PodInfo,
        nodes: &[NodeId],
        view: ClusterView<'_>,
        out: &mut [i64],
    ) {
        for (o, &id) in out.iter_mut().zip(nodes) {
            *o = self.score(cycle, pod, view.state.node(id), view);
        }
    }

    /// Whether this plugin implements NormalizeScore.
    fn has_normalize(&self) -> bool {
        false
    }

    /// NormalizeScore over all feasible nodes' raw scores.
    fn normalize(&self, _cycle: &CycleState, _pod: &PodInfo, _scores: &mut [i64]) {}
}

/// Reserve: claim per-plugin resources once a node is chosen (and release them on failure).
///
/// The scheduler runs the profile's Reserve plugins on the chosen node before the caller
/// assumes the pod; what a plugin returns is recorded as a [`crate::model::Claim`] in the
/// [`crate::scheduler::Placement`] and travels with the placed pod ([`PodInfo::claims`]).
pub trait ReservePlugin: Send + Sync {
    /// Claims what the pod needs on `node`; `Some(text)` is recorded as this plugin's claim.
    ///
    /// # Errors
    /// A reservation failure fails the cycle (every Reserve plugin's `unreserve` then runs).
    fn reserve(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        node: NodeId,
        view: ClusterView<'_>,
    ) -> Result<Option<Arc<str>>, Rejection>;
    /// Undo `reserve`.
    fn unreserve(&self, cycle: &mut CycleState, pod: &PodInfo, node: NodeId, view: ClusterView<'_>);
}

/// Permit: the last say before the binding (upstream `PermitPlugin`), asked by
/// [`crate::cycle::SchedulingLoop::schedule_one`] once the pod is assumed on its node.
///
/// Placer's Permit allows or rejects; upstream's third answer, `Wait` (hold the pod until
/// another plugin allows it, as gang scheduling does), is not implemented.
pub trait PermitPlugin: Send + Sync {
    /// `Ok` lets the binding go ahead.
    ///
    /// # Errors
    /// A rejection: the pod is forgotten and requeued as unschedulable, rejected by this
    /// plugin.
    fn permit(&self, pod: &PodInfo, node: NodeId, view: ClusterView<'_>) -> Result<(), Rejection>;
}

/// PreBind: what must hold just before the binding (upstream `PreBindPlugin`). The driver runs
/// [`crate::Scheduler::pre_bind`] before it binds (the daemon before its Binding POST, the
/// simulator before it places the pod); a failure is a binding failure.
pub trait PreBindPlugin: Send + Sync {
    /// Checks (or prepares) the binding of `pod` to the node named `node`.
    ///
    /// # Errors
    /// The binding must not happen.
    fn pre_bind(&self, pod: &PodInfo, node: &str) -> Result<(), Rejection>;
}

/// Builds a plugin from a profile's configuration (upstream `PluginFactory`). The interner is
/// the cluster state's, so that symbols in plugin arguments compare with the state's.
pub type PluginFactory = fn(&ProfileConfig, &mut Interner) -> Result<Arc<dyn Plugin>, String>;

/// A plugin from outside Placer's in-tree set, declared once: its name, the extension points
/// it implements (what `multiPoint` expands it to, and where the configuration may enable it),
/// and its factory (which decodes its args with [`ProfileConfig::decode_args`]).
#[derive(Clone, Copy, Debug)]
pub struct PluginSpec {
    /// The plugin's name, as configurations and [`Plugin::name`] spell it.
    pub name: &'static str,
    /// The extension points it implements.
    pub points: &'static [crate::config::ExtensionPoint],
    /// Builds an instance for a profile.
    pub factory: PluginFactory,
}

/// Why a plugin could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The name is taken (upstream `Registry.Merge`: "a plugin named X already exists").
    #[error("a plugin named {0:?} already exists")]
    Duplicate(String),
    /// An out-of-tree plugin took the name of an upstream in-tree plugin.
    #[error(
        "{0:?} is the name of an upstream in-tree plugin; an out-of-tree plugin needs its own name"
    )]
    InTreeName(String),
    /// An in-tree registration named a plugin upstream does not have.
    #[error("{0:?} is not an upstream in-tree plugin")]
    NotInTree(String),
    /// A spec with no extension points.
    #[error("plugin {0:?} declares no extension points")]
    NoPoints(String),
    /// A spec lists an extension point Placer's cycle does not call yet.
    #[error(
        "plugin {plugin:?}: Placer does not run the {point} extension point yet (it runs QueueSort, PreEnqueue, PreFilter, Filter, PostFilter, PreScore, Score, Reserve, Permit and PreBind)"
    )]
    UnsupportedPoint {
        /// The plugin.
        plugin: String,
        /// The extension point's configuration name.
        point: &'static str,
    },
}

/// Plugin factories keyed by plugin name: upstream's in-tree plugins Placer builds, and
/// out-of-tree plugins declared with a [`PluginSpec`].
#[derive(Clone, Default, Debug)]
pub struct Registry {
    factories: BTreeMap<&'static str, PluginFactory>,
    /// Out-of-tree plugins' extension points (in-tree ones are upstream's table).
    out_of_tree: BTreeMap<&'static str, &'static [crate::config::ExtensionPoint]>,
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the factory of the upstream in-tree plugin `name` (its extension points are
    /// upstream's, [`crate::config::plugin_extension_points`]).
    ///
    /// # Errors
    /// `name` is not an upstream in-tree plugin, or is registered already.
    pub fn register_in_tree(
        &mut self,
        name: &'static str,
        factory: PluginFactory,
    ) -> Result<(), RegistryError> {
        if crate::config::plugin_extension_points(name).is_none() {
            return Err(RegistryError::NotInTree(name.to_string()));
        }
        if self.factories.insert(name, factory).is_some() {
            return Err(RegistryError::Duplicate(name.to_string()));
        }
        Ok(())
    }

    /// Registers an out-of-tree plugin (upstream `app.WithPlugin`). Configurations read with
    /// [`crate::config::SchedulerConfig::from_yaml_with`] this registry may then name it.
    ///
    /// # Errors
    /// The name is an upstream in-tree plugin's or is registered already, or the spec lists
    /// no extension point.
    pub fn register(&mut self, spec: PluginSpec) -> Result<(), RegistryError> {
        if crate::config::plugin_extension_points(spec.name).is_some() {
            return Err(RegistryError::InTreeName(spec.name.to_string()));
        }
        if spec.points.is_empty() {
            return Err(RegistryError::NoPoints(spec.name.to_string()));
        }
        use crate::config::ExtensionPoint as P;
        if let Some(point) = spec.points.iter().find(|p| {
            !matches!(
                p,
                P::QueueSort
                    | P::PreEnqueue
                    | P::PreFilter
                    | P::Filter
                    | P::PostFilter
                    | P::PreScore
                    | P::Score
                    | P::Reserve
                    | P::Permit
                    | P::PreBind
            )
        }) {
            return Err(RegistryError::UnsupportedPoint {
                plugin: spec.name.to_string(),
                point: point.config_name(),
            });
        }
        if self.factories.contains_key(spec.name) {
            return Err(RegistryError::Duplicate(spec.name.to_string()));
        }
        self.factories.insert(spec.name, spec.factory);
        self.out_of_tree.insert(spec.name, spec.points);
        Ok(())
    }

    /// The extension points of a registered out-of-tree plugin.
    #[must_use]
    pub fn out_of_tree_points(
        &self,
        name: &str,
    ) -> Option<&'static [crate::config::ExtensionPoint]> {
        self.out_of_tree.get(name).copied()
    }

    /// Whether `name` is registered.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.factories.contains_key(name)
    }

    /// Registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.factories.keys().copied()
    }

    /// Builds a [`Profile`] from a validated profile configuration.
    ///
    /// # Errors
    /// A plugin the configuration enables that this registry does not have, a plugin that
    /// does not implement an extension point it is enabled at, or a factory error.
    pub fn build_profile(
        &self,
        cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Profile, ProfileError> {
        use crate::config::ExtensionPoint as P;
        let mut instances: BTreeMap<String, Arc<dyn Plugin>> = BTreeMap::new();
        let mut get =
            |name: &str, interner: &mut Interner| -> Result<Arc<dyn Plugin>, ProfileError> {
                if let Some(p) = instances.get(name) {
                    return Ok(p.clone());
                }
                let factory =
                    self.factories
                        .get(name)
                        .ok_or_else(|| ProfileError::UnknownPlugin {
                            profile: cfg.scheduler_name.clone(),
                            plugin: name.to_string(),
                        })?;
                let plugin = factory(cfg, interner).map_err(|message| ProfileError::Plugin {
                    profile: cfg.scheduler_name.clone(),
                    plugin: name.to_string(),
                    message,
                })?;
                instances.insert(name.to_string(), plugin.clone());
                Ok(plugin)
            };
        let mut profile = Profile::empty(&cfg.scheduler_name);
        profile.percentage_of_nodes_to_score = cfg.percentage_of_nodes_to_score;
        let missing = |name: &str, point: &str| ProfileError::MissingExtensionPoint {
            profile: cfg.scheduler_name.clone(),
            plugin: name.to_string(),
            point: point.to_string(),
        };
        for point in [
            P::QueueSort,
            P::PreEnqueue,
            P::PreFilter,
            P::Filter,
            P::PostFilter,
            P::PreScore,
            P::Score,
            P::Reserve,
            P::Permit,
            P::PreBind,
        ] {
            for r in cfg.plugins(point) {
                let plugin = get(&r.name, interner)?;
                let name = r.name.as_str();
                let ok = match point {
                    P::QueueSort => plugin.as_queue_sort().is_some(),
                    P::PreEnqueue => plugin.as_pre_enqueue().is_some(),
                    P::PreFilter => plugin.as_pre_filter().is_some(),
                    P::Filter => plugin.as_filter().is_some(),
                    P::PostFilter => plugin.as_post_filter().is_some(),
                    P::PreScore => plugin.as_pre_score().is_some(),
                    P::Score => plugin.as_score().is_some(),
                    P::Reserve => plugin.as_reserve().is_some(),
                    P::Permit => plugin.as_permit().is_some(),
                    P::PreBind => plugin.as_pre_bind().is_some(),
                    _ => true,
                };
                if !ok {
                    return Err(missing(name, &format!("{point:?}")));
                }
                match point {
                    P::QueueSort => profile.queue_sort = Some(plugin),
                    P::PreEnqueue => profile.pre_enqueue.push(plugin),
                    P::PreFilter => profile.pre_filter.push(plugin),
                    P::Filter => profile.filter.push(plugin),
                    P::PostFilter => profile.post_filter.push(plugin),
                    P::PreScore => profile.pre_score.push(plugin),
                    // upstream NewFramework: an unset (0) score weight means 1; others are kept.
                    P::Score => profile.score.push((
                        plugin,
                        if r.weight == 0 {
                            1
                        } else {
                            i64::from(r.weight)
                        },
                    )),
                    P::Reserve => profile.reserve.push(plugin),
                    P::Permit => profile.permit.push(plugin),
                    P::PreBind => profile.pre_bind.push(plugin),
                    _ => {}
                }
            }
        }
        Ok(profile)
    }
}

/// Errors building a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The configuration names a plugin the registry does not have.
    #[error("profile {profile:?}: plugin {plugin:?} is not available in Placer")]
    UnknownPlugin {
        /// Profile name.
        profile: String,
        /// Plugin name.
        plugin: String,
    },
    /// A plugin is enabled at an extension point it does not implement.
    #[error("profile {profile:?}: plugin {plugin:?} does not implement extension point {point}")]
    MissingExtensionPoint {
        /// Profile name.
        profile: String,
        /// Plugin name.
        plugin: String,
        /// Extension point.
        point: String,
    },
    /// A plugin's factory failed (bad arguments).
    #[error("profile {profile:?}: plugin {plugin:?}: {message}")]
    Plugin {
        /// Profile name.
        profile: String,
        /// Plugin name.
        plugin: String,
        /// What was wrong.
        message: String,
    },
}

/// A scheduling profile: its name and its plugin instances per extension point, in order.
#[derive(Clone)]
pub struct Profile {
    /// `schedulerName` of the pods this profile schedules.
    pub scheduler_name: String,
    /// The profile's `percentageOfNodesToScore` (falls back to the global one when `None`).
    pub percentage_of_nodes_to_score: Option<u32>,
    /// QueueSort plugin.
    pub queue_sort: Option<Arc<dyn Plugin>>,
    /// PreEnqueue plugins.
    pub pre_enqueue: Vec<Arc<dyn Plugin>>,
    /// PreFilter plugins.
    pub pre_filter: Vec<Arc<dyn Plugin>>,
    /// Filter plugins.
    pub filter: Vec<Arc<dyn Plugin>>,
    /// PostFilter plugins.
    pub post_filter: Vec<Arc<dyn Plugin>>,
    /// PreScore plugins.
    pub pre_score: Vec<Arc<dyn Plugin>>,
    /// Score plugins with their weights.
    pub score: Vec<(Arc<dyn Plugin>, i64)>,
    /// Reserve plugins.
    pub reserve: Vec<Arc<dyn Plugin>>,
    /// Permit plugins.
    pub permit: Vec<Arc<dyn Plugin>>,
    /// PreBind plugins.
    pub pre_bind: Vec<Arc<dyn Plugin>>,
}

impl Profile {
    /// A profile for `scheduler_name` with no plugin at any extension point (what a test or an
    /// embedder fills in by hand; configurations go through [`Registry::build_profile`]).
    #[must_use]
    pub fn empty(scheduler_name: &str) -> Self {
        Profile {
            scheduler_name: scheduler_name.to_string(),
            percentage_of_nodes_to_score: None,
            queue_sort: None,
            pre_enqueue: Vec::new(),
            pre_filter: Vec::new(),
            filter: Vec::new(),
            post_filter: Vec::new(),
            pre_score: Vec::new(),
            score: Vec::new(),
            reserve: Vec::new(),
            permit: Vec::new(),
            pre_bind: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |v: &[Arc<dyn Plugin>]| v.iter().map(|p| p.name()).collect::<Vec<_>>();
        f.debug_struct("Profile")
            .field("scheduler_name", &self.scheduler_name)
            .field("queue_sort", &self.queue_sort.as_ref().map(|p| p.name()))
            .field("pre_filter", &names(&self.pre_filter))
            .field("filter", &names(&self.filter))
            .field("post_filter", &names(&self.post_filter))
            .field("pre_score", &names(&self.pre_score))
            .field(
                "score",
                &self
                    .score
                    .iter()
                    .map(|(p, w)| (p.name(), *w))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Profile {
    /// The events that may make schedulable a pod that `plugins` rejected (upstream's
    /// `isPodWorthRequeuing` over `UnschedulablePlugins`): the union of their
    /// [`Plugin::events_to_register`]; every event when no plugin is named (the attempt failed
    /// with an error) or a name is not in the profile.
    #[must_use]
    pub fn events_for<'a>(&self, plugins: impl IntoIterator<Item = &'a str>) -> ClusterEvents {
        let mut events = ClusterEvents::NONE;
        let mut any = false;
        for name in plugins {
            any = true;
            match self.plugin(name) {
                Some(p) => events |= p.events_to_register(),
                None => return ClusterEvents::ALL,
            }
        }
        if any { events } else { ClusterEvents::ALL }
    }

    /// The plugin instance named `name`, at whichever extension point it is.
    #[must_use]
    pub fn plugin(&self, name: &str) -> Option<&Arc<dyn Plugin>> {
        self.queue_sort
            .iter()
            .chain(&self.pre_enqueue)
            .chain(&self.pre_filter)
            .chain(&self.filter)
            .chain(&self.post_filter)
            .chain(&self.pre_score)
            .chain(self.score.iter().map(|(p, _)| p))
            .chain(&self.reserve)
            .chain(&self.permit)
            .chain(&self.pre_bind)
            .find(|p| p.name() == name)
    }

    /// Whether `a` goes before `b` in this profile's queue (upstream PrioritySort when configured;
    /// FIFO by creation time otherwise).
    #[must_use]
    pub fn queue_less(&self, a: &PodInfo, b: &PodInfo) -> bool {
        match self.queue_sort.as_ref().and_then(|p| p.as_queue_sort()) {
            Some(q) => q.less(a, b),
            None => a.creation_millis < b.creation_millis,
        }
    }

    /// The PreFilter plugins whose extensions run for a pod with this skip set (those whose
    /// PreFilter did not return Skip), resolved once per cycle rather than per call: preemption
    /// runs the extensions for every victim on every candidate node.
    #[must_use]
    pub fn pre_filter_extensions(&self, skip: &SkipSet) -> PreFilterExtensions<'_> {
        PreFilterExtensions(
            self.pre_filter
                .iter()
                .filter(|plugin| {
                    !self
                        .filter
                        .iter()
                        .position(|f| f.name() == plugin.name())
                        .is_some_and(|i| skip.contains(i))
                })
                .filter_map(|plugin| plugin.as_pre_filter())
                .filter(|p| p.has_pod_extensions())
                .collect(),
        )
    }

    /// Runs the Filter plugins in order on one node; the first rejection wins.
    ///
    /// # Errors
    /// The rejecting plugin's name and its rejection.
    pub fn run_filters(
        &self,
        cycle: &CycleState,
        skip: &SkipSet,
        pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> Result<(), (&'static str, Rejection)> {
        for (i, plugin) in self.filter.iter().enumerate() {
            if skip.contains(i) {
                continue;
            }
            if let Some(f) = plugin.as_filter()
                && let Err(r) = f.filter(cycle, pod, node, view)
            {
                return Err((plugin.name(), r));
            }
        }
        Ok(())
    }
}

/// Indices of Filter plugins whose PreFilter returned Skip (at most 64 filters).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct SkipSet(u64);

/// The PreFilter extensions of one cycle (see [`Profile::pre_filter_extensions`]).
pub struct PreFilterExtensions<'a>(SmallVec<[&'a dyn PreFilterPlugin; 8]>);

impl PreFilterExtensions<'_> {
    /// Whether no plugin's extension changes anything (the cycle state can be shared as is).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs each plugin's `AddPod` (`add`) or `RemovePod`, in profile order.
    pub fn run(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        other: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
        add: bool,
    ) {
        for p in &self.0 {
            if add {
                p.add_pod(cycle, pod, other, node, view);
            } else {
                p.remove_pod(cycle, pod, other, node, view);
            }
        }
    }
}

impl SkipSet {
    /// Marks plugin index `i` as skipped.
    pub fn insert(&mut self, i: usize) {
        if i < 64 {
            self.0 |= 1 << i;
        }
    }

    /// Whether index `i` is skipped.
    #[must_use]
    pub fn contains(self, i: usize) -> bool {
        i < 64 && self.0 & (1 << i) != 0
    }
}
