//! The indexes PodTopologySpread and InterPodAffinity read, kept in step with the state so
//! that a cycle never scans every pod: placed pods by label and by namespace, nodes by label
//! (topology domains), existing pods' affinity terms grouped by identical term, and the
//! Namespaces, Services and controllers that default spreading and namespace selectors need.
//! Each update is O(labels) per pod or node.

use crate::intern::Sym;
use crate::model::{
    LabelRequirement, LabelSelector, Labels, NodeInfo, PodAffinityTerm, PodInfo, WorkloadKind,
};
use crate::state::NodeId;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// Placed pods under dense ids, indexed by `key=value` label and by namespace.
#[derive(Clone, Debug, Default)]
pub(crate) struct PodIndex {
    slab: Vec<Option<(Arc<PodInfo>, NodeId)>>,
    free: Vec<u32>,
    by_label: FxHashMap<(Sym, Sym), FxHashSet<u32>>,
    by_namespace: FxHashMap<Sym, FxHashSet<u32>>,
    /// `(namespace, key, value)` → node → how many held pods carry the label there, and the
    /// same for terminating pods alone: a one-label selector is counted per node without
    /// visiting pods.
    per_node: FxHashMap<(Sym, Sym, Sym), FxHashMap<NodeId, u32>>,
    per_node_terminating: FxHashMap<(Sym, Sym, Sym), FxHashMap<NodeId, u32>>,
}

/// Adds `delta` (±1) at `map[key][node]`, dropping entries that reach zero.
fn count_at(
    map: &mut FxHashMap<(Sym, Sym, Sym), FxHashMap<NodeId, u32>>,
    key: (Sym, Sym, Sym),
    node: NodeId,
    add: bool,
) {
    if add {
        *map.entry(key).or_default().entry(node).or_default() += 1;
        return;
    }
    let Some(nodes) = map.get_mut(&key) else {
        return;
    };
    if let Some(n) = nodes.get_mut(&node) {
        *n -= 1;
        if *n == 0 {
            nodes.remove(&node);
        }
    }
    if nodes.is_empty() {
        map.remove(&key);
    }
}

/// Per node, how many held pods match a one-label selector in one namespace (see
/// [`crate::state::ClusterState::pod_counts_per_node`]).
#[derive(Clone, Copy, Debug)]
pub struct NodeCounts<'a> {
    all: Option<&'a FxHashMap<NodeId, u32>>,
    /// Subtracted from `all` (terminating pods, when they are not counted).
    minus: Option<&'a FxHashMap<NodeId, u32>>,
}

impl NodeCounts<'_> {
    /// The count on `node` (0 when it holds no such pod).
    #[must_use]
    pub fn get(&self, node: NodeId) -> u32 {
        let all = self.all.and_then(|m| m.get(&node)).copied().unwrap_or(0);
        all.saturating_sub(self.minus.and_then(|m| m.get(&node)).copied().unwrap_or(0))
    }

    /// Every node slot holding such pods (placeholders included) with its count, in no
    /// particular order; counts may be 0 when only excluded pods are there.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        let minus = self.minus;
        self.all.into_iter().flatten().map(move |(&id, &n)| {
            let excluded = minus.and_then(|m| m.get(&id)).copied().unwrap_or(0);
            (id, n.saturating_sub(excluded))
        })
    }
}

impl PodIndex {
    pub(crate) fn insert(&mut self, pod: Arc<PodInfo>, node: NodeId) -> u32 {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slab.push(None);
                u32::try_from(self.slab.len() - 1).expect("more than 2^32 pods")
            }
        };
        for &pair in &pod.labels.0 {
            self.by_label.entry(pair).or_default().insert(id);
        }
        self.by_namespace
            .entry(pod.namespace_sym)
            .or_default()
            .insert(id);
        self.count_labels(&pod, node, true);
        self.slab[id as usize] = Some((pod, node));
        id
    }

    fn count_labels(&mut self, pod: &PodInfo, node: NodeId, add: bool) {
        for &(k, v) in &pod.labels.0 {
            let key = (pod.namespace_sym, k, v);
            count_at(&mut self.per_node, key, node, add);
            if pod.terminating {
                count_at(&mut self.per_node_terminating, key, node, add);
            }
        }
    }

    /// For a selector that is exactly one `key=value` requirement (one `matchLabels` entry):
    /// per node, the pods of `namespace` that match; `None` for any other selector.
    pub(crate) fn counts_per_node(
        &self,
        selector: &LabelSelector,
        namespace: Sym,
        include_terminating: bool,
    ) -> Option<NodeCounts<'_>> {
        let [LabelRequirement::In { key, values }] = &selector.requirements[..] else {
            return None;
        };
        let [value] = values[..] else {
            return None;
        };
        if selector.invalid {
            return None;
        }
        let k = (namespace, *key, value);
        Some(NodeCounts {
            all: self.per_node.get(&k),
            minus: if include_terminating {
                None
            } else {
                self.per_node_terminating.get(&k)
            },
        })
    }

    pub(crate) fn remove(&mut self, id: u32) {
        let Some((pod, node)) = self.slab.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        self.count_labels(&pod, node, false);
        for pair in &pod.labels.0 {
            if let Some(set) = self.by_label.get_mut(pair) {
                set.remove(&id);
                if set.is_empty() {
                    self.by_label.remove(pair);
                }
            }
        }
        if let Some(set) = self.by_namespace.get_mut(&pod.namespace_sym) {
            set.remove(&id);
            if set.is_empty() {
                self.by_namespace.remove(&pod.namespace_sym);
            }
        }
        self.free.push(id);
    }

    /// Calls `f` for the pods whose labels match `selector` and whose namespace is listed.
    pub(crate) fn for_each_matching(
        &self,
        selector: &LabelSelector,
        namespaces: Option<&[Sym]>,
        interner: &crate::intern::Interner,
        mut f: impl FnMut(&Arc<PodInfo>, NodeId),
    ) {
        if selector.invalid {
            return;
        }
        let mut visit = |id: u32| {
            if let Some((pod, node)) = &self.slab[id as usize]
                && namespaces.is_none_or(|ns| ns.contains(&pod.namespace_sym))
                && selector.matches(&pod.labels, interner)
            {
                f(pod, *node);
            }
        };
        // The smallest set of pods that carry a label the selector requires.
        let mut best: Option<&FxHashSet<u32>> = None;
        for pair in selector.required_pairs() {
            match self.by_label.get(&pair) {
                // Nobody carries a required label: nothing matches.
                None => return,
                Some(set) if best.is_none_or(|b| set.len() < b.len()) => best = Some(set),
                Some(_) => {}
            }
        }
        if let Some(set) = best {
            let by_ns: usize = namespaces.map_or(usize::MAX, |ns| {
                ns.iter()
                    .map(|n| self.by_namespace.get(n).map_or(0, FxHashSet::len))
                    .sum()
            });
            if set.len() <= by_ns {
                set.iter().copied().for_each(&mut visit);
                return;
            }
        }
        match namespaces {
            Some(ns) => {
                for n in ns {
                    if let Some(set) = self.by_namespace.get(n) {
                        set.iter().copied().for_each(&mut visit);
                    }
                }
            }
            None => {
                for id in 0..self.slab.len() {
                    visit(u32::try_from(id).expect("fits: ids are u32"));
                }
            }
        }
    }

    /// Rebuilds the label and namespace indexes from the slab and compares.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut fresh = PodIndex::default();
        for (id, slot) in self.slab.iter().enumerate() {
            if let Some((pod, node)) = slot {
                fresh.count_labels(pod, *node, true);
                let id = u32::try_from(id).expect("ids are u32");
                for &pair in &pod.labels.0 {
                    fresh.by_label.entry(pair).or_default().insert(id);
                }
                fresh
                    .by_namespace
                    .entry(pod.namespace_sym)
                    .or_default()
                    .insert(id);
            }
        }
        if fresh.by_label != self.by_label {
            return Err("pod label index is stale".into());
        }
        if fresh.by_namespace != self.by_namespace {
            return Err("pod namespace index is stale".into());
        }
        if fresh.per_node != self.per_node
            || fresh.per_node_terminating != self.per_node_terminating
        {
            return Err("per-node label counts are stale".into());
        }
        Ok(())
    }

    pub(crate) fn num_slots(&self) -> usize {
        self.slab.len()
    }

    pub(crate) fn get(&self, id: u32) -> Option<&(Arc<PodInfo>, NodeId)> {
        self.slab.get(id as usize).and_then(Option::as_ref)
    }
}

/// Per label key: how many existing nodes carry each value, and the key at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TopologyIndex {
    keys: FxHashMap<Sym, (u32, FxHashMap<Sym, u32>)>,
    /// Per label key, each existing node's value by node index (`None`: no such label or no
    /// node), without trailing `None`s: a column read with one array access per node.
    columns: FxHashMap<Sym, Vec<Option<Sym>>>,
    hard_tainted: u32,
}

/// Each existing node's value of one label key, by node index (see
/// [`crate::state::ClusterState::label_column`]).
#[derive(Clone, Copy, Debug)]
pub struct LabelColumn<'a>(&'a [Option<Sym>]);

impl LabelColumn<'_> {
    /// The value of the key on `node`; `None` when the node lacks it or does not exist.
    #[must_use]
    #[inline]
    pub fn get(&self, node: NodeId) -> Option<Sym> {
        self.0.get(node.index()).copied().flatten()
    }
}

impl TopologyIndex {
    pub(crate) fn account(&mut self, node: &NodeInfo, id: NodeId, add: bool) {
        for &(k, v) in &node.labels.0 {
            let column = self.columns.entry(k).or_default();
            if add {
                if column.len() <= id.index() {
                    column.resize(id.index() + 1, None);
                }
                column[id.index()] = Some(v);
            } else {
                if let Some(slot) = column.get_mut(id.index()) {
                    *slot = None;
                }
                while column.last() == Some(&None) {
                    column.pop();
                }
                if column.is_empty() {
                    self.columns.remove(&k);
                }
            }
        }
        for &(k, v) in &node.labels.0 {
            let entry = self.keys.entry(k).or_default();
            let count = entry.1.entry(v).or_default();
            if add {
                entry.0 += 1;
                *count += 1;
            } else {
                entry.0 -= 1;
                *count -= 1;
                if *count == 0 {
                    entry.1.remove(&v);
                }
                if entry.0 == 0 {
                    self.keys.remove(&k);
                }
            }
        }
        if node.taints.iter().any(|t| {
            matches!(
                t.effect,
                crate::model::TaintEffect::NoSchedule | crate::model::TaintEffect::NoExecute
            )
        }) {
            if add {
                self.hard_tainted += 1;
            } else {
                self.hard_tainted -= 1;
            }
        }
    }

    pub(crate) fn column(&self, key: Sym) -> LabelColumn<'_> {
        LabelColumn(self.columns.get(&key).map_or(&[], Vec::as_slice))
    }

    pub(crate) fn domains(&self, key: Sym) -> Option<&FxHashMap<Sym, u32>> {
        self.keys.get(&key).map(|(_, v)| v)
    }

    pub(crate) fn nodes_with(&self, key: Sym) -> usize {
        self.keys.get(&key).map_or(0, |(n, _)| *n as usize)
    }

    pub(crate) fn hard_tainted(&self) -> usize {
        self.hard_tainted as usize
    }
}

/// Which list of a pod's affinity a term comes from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum TermKind {
    /// `podAffinity.requiredDuringScheduling…`.
    RequiredAffinity,
    /// `podAntiAffinity.requiredDuringScheduling…`.
    RequiredAntiAffinity,
    /// `podAffinity.preferredDuringScheduling…`.
    PreferredAffinity,
    /// `podAntiAffinity.preferredDuringScheduling…`.
    PreferredAntiAffinity,
}

/// One distinct (kind, weight, term) among placed pods, with where the pods carrying it are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingTerm {
    /// Which list of the pods' affinity the term is in.
    pub kind: TermKind,
    /// The weight (0 for required terms).
    pub weight: i32,
    /// The term.
    pub term: PodAffinityTerm,
    /// For each node, how many held pods on it carry the term (placeholder nodes included:
    /// check `NodeState::exists`).
    pub nodes: FxHashMap<NodeId, u32>,
}

type TermKey = (TermKind, i32, PodAffinityTerm);

/// Existing pods' affinity terms, grouped by identical term, indexed by one label each term's
/// selector requires (so a pod is checked only against terms that could select it).
#[derive(Clone, Debug, Default)]
pub(crate) struct TermIndex {
    groups: Vec<ExistingTerm>,
    ids: FxHashMap<TermKey, u32>,
    free: Vec<u32>,
    by_label: FxHashMap<(Sym, Sym), Vec<u32>>,
    unindexed: Vec<u32>,
}

/// The terms of `pod`, with their kinds and weights.
fn terms_of(pod: &PodInfo) -> impl Iterator<Item = (TermKind, i32, &PodAffinityTerm)> {
    let a = &pod.pod_affinity;
    a.required_affinity
        .iter()
        .map(|t| (TermKind::RequiredAffinity, 0, t))
        .chain(
            a.required_anti_affinity
                .iter()
                .map(|t| (TermKind::RequiredAntiAffinity, 0, t)),
        )
        .chain(
            a.preferred_affinity
                .iter()
                .map(|w| (TermKind::PreferredAffinity, w.weight, &w.term)),
        )
        .chain(
            a.preferred_anti_affinity
                .iter()
                .map(|w| (TermKind::PreferredAntiAffinity, w.weight, &w.term)),
        )
}

/// The label a term's selector requires, used to index it (`None`: checked for every pod).
fn index_pair(term: &PodAffinityTerm) -> Option<(Sym, Sym)> {
    term.selector
        .as_ref()
        .and_then(|s| s.required_pairs().next())
}

impl TermIndex {
    pub(crate) fn account(&mut self, pod: &PodInfo, node: NodeId, add: bool) {
        if pod.pod_affinity.is_empty() {
            return;
        }
        for (kind, weight, term) in terms_of(pod) {
            let key = (kind, weight, term.clone());
            if add {
                let id = match self.ids.get(&key) {
                    Some(&id) => id,
                    None => self.new_group(key),
                };
                *self.groups[id as usize].nodes.entry(node).or_default() += 1;
            } else if let Some(&id) = self.ids.get(&key) {
                let g = &mut self.groups[id as usize];
                if let Some(c) = g.nodes.get_mut(&node) {
                    *c -= 1;
                    if *c == 0 {
                        g.nodes.remove(&node);
                    }
                }
                if g.nodes.is_empty() {
                    self.drop_group(id, &key);
                }
            }
        }
    }

    fn new_group(&mut self, key: TermKey) -> u32 {
        let group = ExistingTerm {
            kind: key.0,
            weight: key.1,
            term: key.2.clone(),
            nodes: FxHashMap::default(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.groups[id as usize] = group;
                id
            }
            None => {
                self.groups.push(group);
                u32::try_from(self.groups.len() - 1).expect("more than 2^32 terms")
            }
        };
        match index_pair(&key.2) {
            Some(pair) => self.by_label.entry(pair).or_default().push(id),
            None => self.unindexed.push(id),
        }
        self.ids.insert(key, id);
        id
    }

    fn drop_group(&mut self, id: u32, key: &TermKey) {
        self.ids.remove(key);
        let list = match index_pair(&key.2) {
            Some(pair) => self.by_label.get_mut(&pair),
            None => Some(&mut self.unindexed),
        };
        if let Some(list) = list
            && let Some(i) = list.iter().position(|&g| g == id)
        {
            list.swap_remove(i);
        }
        if let Some(pair) = index_pair(&key.2)
            && self.by_label.get(&pair).is_some_and(Vec::is_empty)
        {
            self.by_label.remove(&pair);
        }
        self.free.push(id);
    }

    /// Calls `f` for each group whose term matches `pod` (with `ns_labels` its namespace's).
    pub(crate) fn for_each_matching(
        &self,
        pod: &PodInfo,
        ns_labels: Option<&Labels>,
        interner: &crate::intern::Interner,
        mut f: impl FnMut(&ExistingTerm),
    ) {
        let mut visit = |id: &u32| {
            let g = &self.groups[*id as usize];
            if g.term.matches(pod, ns_labels, interner) {
                f(g);
            }
        };
        for pair in &pod.labels.0 {
            if let Some(list) = self.by_label.get(pair) {
                list.iter().for_each(&mut visit);
            }
        }
        self.unindexed.iter().for_each(&mut visit);
    }

    /// Every live group (for consistency checks and tests).
    pub(crate) fn groups(&self) -> impl Iterator<Item = &ExistingTerm> {
        self.ids.values().map(|&id| &self.groups[id as usize])
    }

    pub(crate) fn check(&self, pods: &PodIndex, num_slots: usize) -> Result<(), String> {
        let mut fresh = TermIndex::default();
        for id in 0..num_slots {
            if let Some((pod, node)) = pods.get(u32::try_from(id).expect("ids are u32")) {
                fresh.account(pod, *node, true);
            }
        }
        let as_map = |t: &TermIndex| -> FxHashMap<TermKey, FxHashMap<NodeId, u32>> {
            t.groups()
                .map(|g| ((g.kind, g.weight, g.term.clone()), g.nodes.clone()))
                .collect()
        };
        if as_map(&fresh) != as_map(self) {
            return Err("existing pods' affinity term index is stale".into());
        }
        let indexed: usize =
            self.by_label.values().map(Vec::len).sum::<usize>() + self.unindexed.len();
        if indexed != self.ids.len() {
            return Err(format!(
                "{indexed} indexed affinity terms but {} groups",
                self.ids.len()
            ));
        }
        Ok(())
    }
}

/// A controller's pod selector, as `helper.DefaultSelector` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WorkloadSelector {
    /// ReplicationController: `spec.selector` map.
    Map(Labels),
    /// ReplicaSet / StatefulSet: `spec.selector` label selector (None when it does not parse).
    Selector(Option<LabelSelector>),
}

/// (namespace, one `key=value` of a Service's selector).
type ServiceSlot = (Sym, (Sym, Sym));

/// Namespaces (labels), Services (selectors) and controllers (selectors).
#[derive(Clone, Debug, Default)]
pub(crate) struct Objects {
    pub(crate) namespaces: FxHashMap<Sym, Labels>,
    /// Services by (namespace, name): the selector map (`None` = nil selector: selects nothing).
    pub(crate) services: FxHashMap<(Sym, Arc<str>), Option<Labels>>,
    /// Service keys by (namespace, one `key=value` of their selector); services with an empty
    /// (non-nil) selector, which selects every pod, under (namespace, (EMPTY, EMPTY)).
    services_by_label: FxHashMap<ServiceSlot, FxHashSet<Arc<str>>>,
    pub(crate) workloads: FxHashMap<(WorkloadKind, Sym, Arc<str>), WorkloadSelector>,
}

impl Objects {
    fn service_slot(selector: &Labels) -> (Sym, Sym) {
        selector
            .0
            .first()
            .copied()
            .unwrap_or((Sym::EMPTY, Sym::EMPTY))
    }

    pub(crate) fn upsert_service(&mut self, ns: Sym, name: Arc<str>, selector: Option<Labels>) {
        self.remove_service(ns, &name);
        if let Some(sel) = &selector {
            self.services_by_label
                .entry((ns, Self::service_slot(sel)))
                .or_default()
                .insert(name.clone());
        }
        self.services.insert((ns, name), selector);
    }

    pub(crate) fn remove_service(&mut self, ns: Sym, name: &str) {
        let key = (ns, Arc::<str>::from(name));
        if let Some(Some(sel)) = self.services.remove(&key) {
            let slot = (ns, Self::service_slot(&sel));
            if let Some(set) = self.services_by_label.get_mut(&slot) {
                set.remove(name);
                if set.is_empty() {
                    self.services_by_label.remove(&slot);
                }
            }
        }
    }

    /// upstream `helper.DefaultSelector`: the selectors of the pod's Services merged (their
    /// maps cannot conflict since each selects the pod), then its ReplicationController's map
    /// merged, or its ReplicaSet's / StatefulSet's requirements added.
    pub(crate) fn default_selector(&self, pod: &PodInfo) -> Option<LabelSelector> {
        let ns = pod.namespace_sym;
        let mut set: std::collections::BTreeMap<Sym, Sym> = std::collections::BTreeMap::new();
        let mut merge = |sel: &Labels| {
            for &(k, v) in &sel.0 {
                set.insert(k, v);
            }
        };
        let selects = |sel: &Labels| sel.0.iter().all(|&(k, v)| pod.labels.get(k) == Some(v));
        let seen = |slot: (Sym, Sym), merge: &mut dyn FnMut(&Labels)| {
            if let Some(names) = self.services_by_label.get(&(ns, slot)) {
                for name in names {
                    if let Some(Some(sel)) = self.services.get(&(ns, name.clone()))
                        && selects(sel)
                    {
                        merge(sel);
                    }
                }
            }
        };
        for &pair in &pod.labels.0 {
            seen(pair, &mut merge);
        }
        seen((Sym::EMPTY, Sym::EMPTY), &mut merge);
        let mut extra: Vec<LabelRequirement> = Vec::new();
        if let Some(c) = &pod.controller {
            match self.workloads.get(&(c.kind, ns, c.name.clone())) {
                Some(WorkloadSelector::Map(m)) => merge(m),
                Some(WorkloadSelector::Selector(Some(s))) => {
                    extra.extend(s.requirements.iter().cloned());
                }
                _ => {}
            }
        }
        let mut requirements: Vec<LabelRequirement> = set
            .into_iter()
            .map(|(key, v)| LabelRequirement::In {
                key,
                values: smallvec::smallvec![v],
            })
            .collect();
        requirements.extend(extra);
        if requirements.is_empty() {
            None
        } else {
            Some(LabelSelector {
                requirements,
                invalid: false,
            })
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        let mut fresh = Objects::default();
        for ((ns, name), sel) in &self.services {
            fresh.upsert_service(*ns, name.clone(), sel.clone());
        }
        if fresh.services_by_label != self.services_by_label {
            return Err("service selector index is stale".into());
        }
        Ok(())
    }
}
