//! The compact node and pod model the scheduling cycle runs over.
//!
//! Everything here is built once by [`crate::convert`] from k8s-openapi objects: quantities
//! are parsed into integers (milli-cpu, bytes, counts), strings a plugin compares are interned
//! to [`Sym`]s, and a pod's effective requests are computed once with upstream's rules. Plugins
//! never see k8s-openapi types or parse anything on the hot path.

use crate::intern::{Interner, Sym, SymLease};
use smallvec::SmallVec;
use std::sync::Arc;

/// Upstream's `DefaultMilliCPURequest`: what scoring assumes for a container that sets no cpu request.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Upstream's `DefaultMemoryRequest` (200Mi): what scoring assumes for a container that sets no memory request.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Scalar (extended, hugepages, `*kubernetes.io/*`) resource amounts, sorted by name id.
pub type ScalarList = SmallVec<[(Sym, i64); 2]>;

/// A node's taints, in node order. Inline up to two: most nodes carry none to two, and
/// TaintToleration reads them for every node it filters, so they stay in the node's own
/// cache lines instead of behind a pointer.
pub type TaintList = SmallVec<[Taint; 2]>;

/// Resource amounts in upstream's integer units: cpu in milli-cores, the rest in base units.
///
/// For a node this is `status.allocatable` (with `pods` the pod limit); for a pod, its effective
/// requests; for a node's aggregate, the sum over its pods.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Resources {
    /// cpu in milli-cores.
    pub milli_cpu: i64,
    /// memory in bytes.
    pub memory: i64,
    /// ephemeral-storage in bytes.
    pub ephemeral_storage: i64,
    /// `pods`: the pod limit of a node (unused for pod requests).
    pub pods: i64,
    /// Scalar resources, sorted by name id, no zero-length duplicates.
    pub scalar: ScalarList,
}

impl Resources {
    /// The amount of scalar resource `name` (0 when absent).
    #[must_use]
    pub fn scalar(&self, name: Sym) -> i64 {
        match self.scalar.binary_search_by_key(&name, |&(n, _)| n) {
            Ok(i) => self.scalar[i].1,
            Err(_) => 0,
        }
    }

    /// Whether the scalar resource `name` is listed (even with amount 0).
    #[must_use]
    pub fn has_scalar(&self, name: Sym) -> bool {
        self.scalar.binary_search_by_key(&name, |&(n, _)| n).is_ok()
    }

    /// Sets scalar resource `name` to `amount`, keeping the list sorted.
    pub fn set_scalar(&mut self, name: Sym, amount: i64) {
        match self.scalar.binary_search_by_key(&name, |&(n, _)| n) {
            Ok(i) => self.scalar[i].1 = amount,
            Err(i) => self.scalar.insert(i, (name, amount)),
        }
    }

    /// Adds `other` into `self` (saturating), including every scalar.
    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_add(other.ephemeral_storage);
        self.pods = self.pods.saturating_add(other.pods);
        for &(name, amount) in &other.scalar {
            let current = self.scalar(name);
            self.set_scalar(name, current.saturating_add(amount));
        }
    }

    /// Subtracts `other` from `self`; scalars that drop to zero are removed so that adding
    /// then removing a pod restores the exact previous value.
    pub fn sub(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_sub(other.ephemeral_storage);
        self.pods = self.pods.saturating_sub(other.pods);
        for &(name, amount) in &other.scalar {
            if let Ok(i) = self.scalar.binary_search_by_key(&name, |&(n, _)| n) {
                self.scalar[i].1 = self.scalar[i].1.saturating_sub(amount);
                if self.scalar[i].1 == 0 {
                    self.scalar.remove(i);
                }
            }
        }
    }

    /// Per-resource maximum of `self` and `other` (upstream's `maxResourceList`).
    pub fn max_with(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.pods = self.pods.max(other.pods);
        for &(name, amount) in &other.scalar {
            if !self.has_scalar(name) || self.scalar(name) < amount {
                self.set_scalar(name, amount);
            }
        }
    }

    /// True when nothing is requested: cpu, memory, ephemeral-storage are 0 and no scalar is listed.
    #[must_use]
    pub fn is_empty_request(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.is_empty()
    }
}

/// A taint's effect.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TaintEffect {
    /// `NoSchedule`
    NoSchedule,
    /// `PreferNoSchedule`
    PreferNoSchedule,
    /// `NoExecute`
    NoExecute,
}

impl TaintEffect {
    /// Upstream's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// A node taint, interned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Taint {
    /// Taint key.
    pub key: Sym,
    /// Taint value (`Sym::EMPTY` when unset).
    pub value: Sym,
    /// Taint effect.
    pub effect: TaintEffect,
}

/// A toleration's operator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TolerationOperator {
    /// `Equal` (also the empty operator).
    Equal,
    /// `Exists`.
    Exists,
    /// An operator this scheduler does not match (`Lt`/`Gt` behind upstream's alpha gate
    /// `TaintTolerationComparisonOperators`, off by default, or anything unknown): never matches.
    Never,
}

/// A pod toleration, interned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Toleration {
    /// Key (`Sym::EMPTY` = every key, only meaningful with `Exists`).
    pub key: Sym,
    /// Operator.
    pub operator: TolerationOperator,
    /// Value (`Sym::EMPTY` when unset).
    pub value: Sym,
    /// Effect (`None` = every effect).
    pub effect: Option<TaintEffect>,
    /// `tolerationSeconds`: for a `NoExecute` taint, how long the pod stays bound after the
    /// taint is added (`None` = forever; zero or negative = evicted at once, as upstream).
    pub seconds: Option<i64>,
}

impl Toleration {
    /// Upstream `Toleration.ToleratesTaint` (`k8s.io/api/core/v1/toleration.go`).
    #[must_use]
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if let Some(effect) = self.effect
            && effect != taint.effect
        {
            return false;
        }
        if self.key != Sym::EMPTY && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
            TolerationOperator::Never => false,
        }
    }
}

/// A host port a pod wants or a node has in use.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct HostPort {
    /// Protocol (`TCP` when unset).
    pub protocol: Protocol,
    /// Host IP (`0.0.0.0` when unset).
    pub ip: Sym,
    /// The port.
    pub port: i32,
}

/// A port protocol.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP
    Tcp,
    /// UDP
    Udp,
    /// SCTP
    Sctp,
}

/// A label requirement on nodes, compiled from a `NodeSelectorRequirement`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum LabelRequirement {
    /// Key present and value in the set.
    In {
        /// Label key.
        key: Sym,
        /// Allowed values.
        values: SmallVec<[Sym; 4]>,
    },
    /// Key absent, or value not in the set.
    NotIn {
        /// Label key.
        key: Sym,
        /// Excluded values.
        values: SmallVec<[Sym; 4]>,
    },
    /// Key present.
    Exists {
        /// Label key.
        key: Sym,
    },
    /// Key absent.
    DoesNotExist {
        /// Label key.
        key: Sym,
    },
    /// Key present, value an integer greater than `value`.
    Gt {
        /// Label key.
        key: Sym,
        /// Bound.
        value: i64,
    },
    /// Key present, value an integer less than `value`.
    Lt {
        /// Label key.
        key: Sym,
        /// Bound.
        value: i64,
    },
}

/// A `metadata.name` field requirement (the only field upstream supports).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FieldRequirement {
    /// `true` for `In`, `false` for `NotIn`.
    pub is_in: bool,
    /// The node name (exactly one value, as upstream requires).
    pub node_name: Sym,
}

/// One compiled `NodeSelectorTerm`: its label and field requirements, all ANDed.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SelectorTerm {
    /// Label requirements.
    pub expressions: Vec<LabelRequirement>,
    /// Field requirements.
    pub fields: Vec<FieldRequirement>,
    /// Set when a requirement failed upstream's parsing: the whole term then never matches.
    pub invalid: Option<Arc<str>>,
}

/// A compiled `NodeSelector`: terms ORed. Terms with no requirements are dropped at conversion,
/// as upstream does; a selector with no terms matches nothing.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct NodeSelector {
    /// The terms.
    pub terms: Vec<SelectorTerm>,
}

/// A weighted preferred term.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PreferredTerm {
    /// Weight (1..=100 by API validation).
    pub weight: i64,
    /// The term.
    pub term: SelectorTerm,
}

/// The bit of label `key=value` in a label Bloom filter ([`Labels::bloom`]): a filter without
/// the bit certainly lacks the label.
#[must_use]
pub fn label_bit(key: Sym, value: Sym) -> u64 {
    let h = ((key.index() as u64) << 32 | value.index() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    1 << (h >> 58)
}

/// A node's labels, sorted by key id.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Labels(pub Vec<(Sym, Sym)>);

impl Labels {
    /// A 64-bit Bloom filter of the `key=value` pairs ([`label_bit`]).
    #[must_use]
    pub fn bloom(&self) -> u64 {
        self.0.iter().fold(0, |b, &(k, v)| b | label_bit(k, v))
    }

    /// The value for `key`.
    #[must_use]
    pub fn get(&self, key: Sym) -> Option<Sym> {
        self.0
            .binary_search_by_key(&key, |&(k, _)| k)
            .ok()
            .map(|i| self.0[i].1)
    }
}

impl LabelRequirement {
    /// Whether `labels` satisfy this requirement (upstream `labels.Requirement.Matches`).
    #[must_use]
    pub fn matches(&self, labels: &Labels, interner: &Interner) -> bool {
        match self {
            LabelRequirement::In { key, values } => {
                labels.get(*key).is_some_and(|v| values.contains(&v))
            }
            LabelRequirement::NotIn { key, values } => {
                labels.get(*key).is_none_or(|v| !values.contains(&v))
            }
            LabelRequirement::Exists { key } => labels.get(*key).is_some(),
            LabelRequirement::DoesNotExist { key } => labels.get(*key).is_none(),
            LabelRequirement::Gt { key, value } => labels
                .get(*key)
                .and_then(|v| interner.as_int(v))
                .is_some_and(|v| v > *value),
            LabelRequirement::Lt { key, value } => labels
                .get(*key)
                .and_then(|v| interner.as_int(v))
                .is_some_and(|v| v < *value),
        }
    }
}

impl SelectorTerm {
    /// The [`label_bit`]s of the labels this term needs for certain (`In` with one value): a
    /// node whose [`Labels::bloom`] lacks one of them does not match.
    #[must_use]
    pub fn required_label_bits(&self) -> u64 {
        self.expressions.iter().fold(0, |b, r| match r {
            LabelRequirement::In { key, values } if values.len() == 1 => {
                b | label_bit(*key, values[0])
            }
            _ => b,
        })
    }

    /// Whether `node` satisfies every requirement of this term.
    #[must_use]
    pub fn matches(&self, node: &NodeInfo, interner: &Interner) -> bool {
        if self.invalid.is_some() {
            return false;
        }
        self.expressions
            .iter()
            .all(|r| r.matches(&node.labels, interner))
            && self
                .fields
                .iter()
                .all(|f| (node.name_sym == f.node_name) == f.is_in)
    }
}

impl NodeSelector {
    /// Whether any term matches `node` (upstream `nodeaffinity.NodeSelector.Match`).
    #[must_use]
    pub fn matches(&self, node: &NodeInfo, interner: &Interner) -> bool {
        self.terms.iter().any(|t| t.matches(node, interner))
    }
}

/// The static attributes of a node, built once from a `v1.Node`.
#[derive(Debug)]
pub struct NodeInfo {
    /// Node name.
    pub name: Arc<str>,
    /// The node name, interned (for `matchFields`).
    pub name_sym: Sym,
    /// Labels.
    pub labels: Labels,
    /// Taints in node order.
    pub taints: TaintList,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
    /// `status.allocatable`.
    pub allocatable: Resources,
    /// Images present on the node with their sizes in bytes (`status.images`, every name),
    /// sorted by name id, one entry per name.
    pub images: Vec<(Sym, i64)>,
}

impl Clone for NodeInfo {
    fn clone(&self) -> Self {
        NodeInfo {
            name: self.name.clone(),
            name_sym: self.name_sym,
            labels: self.labels.clone(),
            taints: self.taints.clone(),
            unschedulable: self.unschedulable,
            allocatable: self.allocatable.clone(),
            images: self.images.clone(),
        }
    }

    /// Field by field, reusing the buffers (preemption's dry run copies a node per candidate).
    fn clone_from(&mut self, source: &Self) {
        self.name.clone_from(&source.name);
        self.name_sym = source.name_sym;
        self.labels.0.clone_from(&source.labels.0);
        self.taints.clone_from(&source.taints);
        self.unschedulable = source.unschedulable;
        self.allocatable.clone_from(&source.allocatable);
        self.images.clone_from(&source.images);
    }
}

/// A constraint the pod carries that needs an upstream plugin Placer has not built yet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UnsupportedConstraint {
    /// The upstream plugin that would honour it.
    pub plugin: &'static str,
    /// What the pod asks for, in the API's words.
    pub what: &'static str,
}

/// The scheduling-relevant view of a pod, built once from a `v1.Pod`.
#[derive(Clone, Debug)]
pub struct PodInfo {
    /// `namespace/name`.
    pub key: Arc<str>,
    /// `metadata.namespace` (`default` when unset).
    pub namespace: Arc<str>,
    /// `metadata.name`.
    pub name: Arc<str>,
    /// `metadata.uid` (empty when unset).
    pub uid: Arc<str>,
    /// `spec.schedulerName` (`default-scheduler` when unset).
    pub scheduler_name: Arc<str>,
    /// `spec.priority` (0 when unset).
    pub priority: i32,
    /// `metadata.creationTimestamp` in Unix milliseconds (0 when unset).
    pub creation_millis: i64,
    /// `status.startTime` in milliseconds since the epoch; [`PodInfo::NOT_STARTED`] when unset
    /// (upstream `GetPodStartTime` takes "now" for such a pod: later than any start).
    pub start_millis: i64,
    /// `spec.nodeName`, interned (`None` when unset or empty).
    pub node_name: Option<Sym>,
    /// `spec.nodeName` as text.
    pub node_name_str: Option<Arc<str>>,
    /// `status.nominatedNodeName`: the node an earlier preemption made room on. Upstream's
    /// `findNodesThatFitPod` tries it first and takes it when it passes every filter.
    pub nominated_node_name: Option<Arc<str>>,
    /// The pod is in a terminal phase (Succeeded/Failed) and holds nothing.
    pub terminal: bool,
    /// Effective requests (upstream `PodRequests`, no defaults): what NodeResourcesFit filters on.
    pub requests: Resources,
    /// cpu request with upstream's non-zero defaults (for scoring).
    pub non_zero_milli_cpu: i64,
    /// memory request with upstream's non-zero defaults (for scoring).
    pub non_zero_memory: i64,
    /// Reason strings `Insufficient <name>` for each requested scalar, aligned with `requests.scalar`.
    pub scalar_reasons: Vec<Arc<str>>,
    /// Host ports wanted (containers and restartable init containers, `hostPort > 0`).
    pub host_ports: Vec<HostPort>,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// `spec.nodeSelector`, sorted by key.
    pub node_selector: Vec<(Sym, Sym)>,
    /// Required node affinity (`None` when unset).
    pub required_affinity: Option<NodeSelector>,
    /// Preferred node affinity terms, with zero-weight and empty terms dropped as upstream does.
    pub preferred_affinity: Vec<PreferredTerm>,
    /// Images of init containers and containers, normalized as upstream ImageLocality does.
    pub images: Vec<Sym>,
    /// Number of init containers plus containers (ImageLocality's threshold).
    pub num_containers: usize,
    /// `spec.preemptionPolicy: Never`: the pod may not preempt others.
    pub preempt_never: bool,
    /// `spec.schedulingGates` names: a gated pod is not scheduled (upstream SchedulingGates).
    pub scheduling_gates: Vec<Arc<str>>,
    /// Constraints needing plugins Placer does not implement yet.
    pub unsupported: SmallVec<[UnsupportedConstraint; 1]>,
    /// `metadata.labels`, sorted by key (what other pods' affinity terms select).
    pub labels: Labels,
    /// `metadata.namespace`, interned.
    pub namespace_sym: Sym,
    /// `metadata.deletionTimestamp` is set: the pod is being deleted.
    pub terminating: bool,
    /// Pod affinity and anti-affinity terms.
    pub pod_affinity: PodAffinity,
    /// `spec.topologySpreadConstraints`.
    pub topology_spread: Vec<TopologySpreadConstraint>,
    /// The controller owner, when it is a ReplicationController, ReplicaSet or StatefulSet.
    pub controller: Option<ControllerRef>,
    /// Some `metadata.ownerReferences` entry has `controller: true` (of any kind): a controller
    /// recreates the pod when it is deleted (evicted, preempted).
    pub has_controller: bool,
    /// What `kubectl drain` looks at besides the controller.
    pub drain: DrainFacts,
    /// What the profile's Reserve plugins claimed for the pod on its node (empty until the pod
    /// is placed by a cycle whose Reserve plugins claimed something).
    pub claims: Vec<Claim>,
    /// The pod's hold on the symbols only pods use (see [`crate::intern::SymLease`]); `None`
    /// for a pod built by other means than [`crate::convert::pod_info`].
    pub(crate) lease: Option<Arc<SymLease>>,
}

/// What a Reserve plugin claimed for a pod on the chosen node (which GPU devices, say), as
/// text the plugin itself writes and reads back, like the pod annotation a device-sharing
/// scheduler plugin writes at Reserve. The scheduler records the claims in the
/// [`Placement`](crate::scheduler::Placement); the caller copies them to the pod it assumes,
/// so a [`StateExtension`](crate::state::StateExtension) sees them when the pod is added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The plugin that claimed.
    pub plugin: &'static str,
    /// The plugin's record of what it claimed.
    pub value: Arc<str>,
}

impl PodInfo {
    /// The claim of `plugin`, if it made one.
    #[must_use]
    pub fn claim(&self, plugin: &str) -> Option<&str> {
        self.claims
            .iter()
            .find(|c| c.plugin == plugin)
            .map(|c| &*c.value)
    }
}

/// What `kubectl drain`'s pod filters read, besides [`PodInfo::has_controller`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainFacts {
    /// The controller owner reference is of kind `DaemonSet` (`apps` group).
    pub daemon_set: bool,
    /// A mirror pod: the `kubernetes.io/config.mirror` annotation (a kubelet static pod).
    pub mirror: bool,
    /// Some volume is an `emptyDir` (local data `--delete-emptydir-data` must allow).
    pub empty_dir: bool,
}

/// A PodDisruptionBudget (`policy/v1`), compiled: what preemption and the eviction API read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisruptionBudget {
    /// `metadata.namespace`, interned.
    pub namespace: Sym,
    /// `metadata.name`.
    pub name: Arc<str>,
    /// `spec.selector`; `None` when unset or unparsable (selects no pod). An empty selector
    /// `{}` selects every pod of the namespace for the eviction API and the disruption
    /// controller (policy/v1), but none for preemption (upstream `filterPodsWithPDBViolation`
    /// skips `selector.Empty()`).
    pub selector: Option<LabelSelector>,
    /// `spec.minAvailable` or `spec.maxUnavailable` (at most one is set).
    pub rule: BudgetRule,
    /// `status.disruptionsAllowed` (0 when the object has no status).
    pub disruptions_allowed: i32,
    /// `status.currentHealthy` (what the eviction API's refusal quotes).
    pub current_healthy: i32,
    /// `status.desiredHealthy`.
    pub desired_healthy: i32,
    /// `status.disruptedPods` (evictions the API server has accepted and the disruption
    /// controller has not yet seen processed): pod name and when the eviction was accepted
    /// (Unix milliseconds), sorted by name.
    pub disrupted_pods: Vec<(Arc<str>, i64)>,
}

/// The budget of a [`DisruptionBudget`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetRule {
    /// `minAvailable` as a number of pods.
    MinAvailable(i32),
    /// `minAvailable` as a percentage of the expected pods.
    MinAvailablePercent(i32),
    /// `maxUnavailable` as a number of pods.
    MaxUnavailable(i32),
    /// `maxUnavailable` as a percentage of the expected pods.
    MaxUnavailablePercent(i32),
    /// Neither is set: upstream's disruption controller then wants no pod healthy
    /// (`desiredHealthy` 0): every healthy pod may be disrupted.
    Unset,
}

impl DisruptionBudget {
    /// Whether preemption counts `pod` against the budget (upstream
    /// `filterPodsWithPDBViolation`: same namespace, the pod has labels, a non-empty selector
    /// that matches them).
    #[must_use]
    pub fn covers(&self, pod: &PodInfo, interner: &Interner) -> bool {
        self.selector.as_ref().is_some_and(|s| !s.is_empty()) && self.guards(pod, interner)
    }

    /// Whether the eviction API counts `pod` against the budget (upstream
    /// `GetPodPodDisruptionBudgets`, policy/v1: same namespace, the pod has labels, the
    /// selector matches them; `{}` matches every such pod).
    #[must_use]
    pub fn guards(&self, pod: &PodInfo, interner: &Interner) -> bool {
        self.namespace == pod.namespace_sym
            && !pod.labels.0.is_empty()
            && self
                .selector
                .as_ref()
                .is_some_and(|s| s.matches(&pod.labels, interner))
    }

    /// Whether `pod` is listed in `status.disruptedPods`.
    #[must_use]
    pub fn has_disrupted(&self, name: &str) -> bool {
        self.disrupted_pods
            .binary_search_by(|(p, _)| (**p).cmp(name))
            .is_ok()
    }

    /// upstream disruption controller `getExpectedPodCount` + `updatePdbStatus`: how many
    /// disruptions `healthy` running pods out of `expected` allow (never negative).
    #[must_use]
    pub fn allowed_for(&self, healthy: i32, expected: i32) -> i32 {
        let desired = self.desired_for(expected);
        // upstream updatePdbStatus: no expected pods, or not more healthy than desired: 0.
        if expected <= 0 {
            return 0;
        }
        healthy.saturating_sub(desired).max(0)
    }

    /// upstream disruption controller `getExpectedPodCount`'s `desiredHealthy` for `expected`
    /// pods.
    #[must_use]
    pub fn desired_for(&self, expected: i32) -> i32 {
        // Percentages round up (upstream GetScaledValueFromIntOrPercent with roundUp=true).
        let pct = |p: i32| -> i32 {
            let v = i64::from(p) * i64::from(expected);
            i32::try_from((v + 99) / 100).unwrap_or(i32::MAX)
        };
        match self.rule {
            BudgetRule::MinAvailable(n) => n,
            BudgetRule::MinAvailablePercent(p) => pct(p),
            BudgetRule::MaxUnavailable(n) => expected.saturating_sub(n).max(0),
            BudgetRule::MaxUnavailablePercent(p) => expected.saturating_sub(pct(p)).max(0),
            BudgetRule::Unset => 0,
        }
    }
}

/// A compiled `metav1.LabelSelector`: `matchLabels` and `matchExpressions`, ANDed.
///
/// Where a selector is optional, `None` stands for an unset field (upstream
/// `LabelSelectorAsSelector(nil)` = `labels.Nothing()`: matches nothing) and `Some` of an empty
/// selector for `{}` (`labels.Everything()`: matches everything).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct LabelSelector {
    /// Requirements (matchLabels become `In` with one value).
    pub requirements: Vec<LabelRequirement>,
    /// The selector could not be parsed: upstream treats it as matching nothing.
    pub invalid: bool,
}

impl LabelSelector {
    /// Whether `labels` satisfy every requirement (an empty selector matches everything).
    #[must_use]
    pub fn matches(&self, labels: &Labels, interner: &Interner) -> bool {
        !self.invalid
            && self
                .requirements
                .iter()
                .all(|r| r.matches(labels, interner))
    }

    /// upstream `labels.Selector.Empty()`: no requirements (and parsed).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && !self.invalid
    }

    /// The `key=value` pairs a pod must carry to match (`In` requirements with one value).
    pub fn required_pairs(&self) -> impl Iterator<Item = (Sym, Sym)> + '_ {
        self.requirements.iter().filter_map(|r| match r {
            LabelRequirement::In { key, values } if values.len() == 1 => Some((*key, values[0])),
            _ => None,
        })
    }
}

/// Whether an optional selector matches (`None` matches nothing).
#[must_use]
pub fn selector_matches(sel: Option<&LabelSelector>, labels: &Labels, interner: &Interner) -> bool {
    sel.is_some_and(|s| s.matches(labels, interner))
}

/// A compiled `PodAffinityTerm` (upstream `fwk.AffinityTerm`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PodAffinityTerm {
    /// Listed namespaces; the owning pod's own namespace when the term lists none and has no
    /// `namespaceSelector` (upstream `getNamespacesFromPodAffinityTerm`).
    pub namespaces: SmallVec<[Sym; 1]>,
    /// `namespaceSelector` (against Namespace labels): `None` = unset (no namespace),
    /// `Some(empty)` = every namespace.
    pub namespace_selector: Option<LabelSelector>,
    /// `labelSelector`, with `matchLabelKeys` (`key In [own value]`) and `mismatchLabelKeys`
    /// (`key NotIn [own value]`) merged in as the API server does; `None` = unset.
    pub selector: Option<LabelSelector>,
    /// `topologyKey`.
    pub topology_key: Sym,
}

impl PodAffinityTerm {
    /// upstream `AffinityTerm.Matches(pod, nsLabels)`: the pod's namespace is listed or the
    /// namespace selector matches `ns_labels` (absent = no labels), and the selector matches.
    #[must_use]
    pub fn matches(&self, pod: &PodInfo, ns_labels: Option<&Labels>, interner: &Interner) -> bool {
        static NO_LABELS: Labels = Labels(Vec::new());
        let in_namespace = self.namespaces.contains(&pod.namespace_sym)
            || selector_matches(
                self.namespace_selector.as_ref(),
                ns_labels.unwrap_or(&NO_LABELS),
                interner,
            );
        in_namespace && selector_matches(self.selector.as_ref(), &pod.labels, interner)
    }
}

/// A `WeightedPodAffinityTerm`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct WeightedPodAffinityTerm {
    /// Weight (1..=100 by API validation).
    pub weight: i32,
    /// The term.
    pub term: PodAffinityTerm,
}

/// A pod's `spec.affinity.podAffinity` and `podAntiAffinity`, compiled.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PodAffinity {
    /// `podAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
    pub required_affinity: Vec<PodAffinityTerm>,
    /// `podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
    pub required_anti_affinity: Vec<PodAffinityTerm>,
    /// `podAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred_affinity: Vec<WeightedPodAffinityTerm>,
    /// `podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred_anti_affinity: Vec<WeightedPodAffinityTerm>,
}

impl PodAffinity {
    /// No term of any kind.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty()
    }
}

/// `whenUnsatisfiable` of a topology spread constraint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum WhenUnsatisfiable {
    /// `DoNotSchedule`: a Filter constraint.
    DoNotSchedule,
    /// `ScheduleAnyway`: a Score constraint.
    ScheduleAnyway,
}

/// `nodeAffinityPolicy` / `nodeTaintsPolicy` of a topology spread constraint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum InclusionPolicy {
    /// `Honor`: only nodes that pass the pod's node affinity (or tolerate its taints) count.
    Honor,
    /// `Ignore`: every node counts.
    Ignore,
}

/// A compiled `TopologySpreadConstraint`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TopologySpreadConstraint {
    /// `maxSkew`.
    pub max_skew: i32,
    /// `topologyKey`.
    pub topology_key: Sym,
    /// `whenUnsatisfiable`.
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// `labelSelector` with `matchLabelKeys` merged in (`key In [pod's value]`; keys the pod
    /// does not carry are ignored), as the API server does; `None` = unset.
    pub selector: Option<LabelSelector>,
    /// `minDomains` (1 when unset).
    pub min_domains: i32,
    /// `nodeAffinityPolicy` (`Honor` when unset).
    pub node_affinity_policy: InclusionPolicy,
    /// `nodeTaintsPolicy` (`Ignore` when unset).
    pub node_taints_policy: InclusionPolicy,
}

/// The kinds of controller upstream's default spreading selector looks at.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum WorkloadKind {
    /// `v1` ReplicationController.
    ReplicationController,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `apps/v1` StatefulSet.
    StatefulSet,
}

/// A pod's controller `ownerReference`, when it is one of the [`WorkloadKind`]s.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ControllerRef {
    /// The controller's kind.
    pub kind: WorkloadKind,
    /// The controller's name (same namespace as the pod).
    pub name: Arc<str>,
}

impl PodInfo {
    /// [`PodInfo::start_millis`] of a pod without `status.startTime`.
    pub const NOT_STARTED: i64 = i64::MAX;

    /// Whether the pod has a nodeSelector or required node affinity.
    #[must_use]
    pub fn has_required_node_constraints(&self) -> bool {
        !self.node_selector.is_empty() || self.required_affinity.is_some()
    }
}
