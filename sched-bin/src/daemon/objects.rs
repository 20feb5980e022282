//! The cache of the cluster objects the scheduler reads besides Nodes and Pods: Namespaces,
//! Services, ReplicaSets, StatefulSets and ReplicationControllers.
//!
//! Each kind is reflected into the loop's [`ClusterState`] like Nodes are: an initial list
//! (or a re-list after a watch expired) replaces what the state held of that kind, and watch
//! events apply, update or remove one object. The state keeps only what the scheduler needs
//! (names, namespace labels, selectors). The loop schedules once every kind has listed,
//! as upstream waits for all its informers. Changes of these objects move no pod in the
//! queue (upstream registers no queueing event for them either).

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, ReplicationController, Service};
use kube::runtime::watcher;
use sched_core::ClusterState;
use sched_core::model::WorkloadKind;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A watch event of one of the five kinds (boxed: objects are large).
#[derive(Debug)]
pub enum ObjectEvent {
    /// A Namespace watch event.
    Namespace(Box<watcher::Event<Namespace>>),
    /// A Service watch event.
    Service(Box<watcher::Event<Service>>),
    /// A ReplicaSet watch event.
    ReplicaSet(Box<watcher::Event<ReplicaSet>>),
    /// A StatefulSet watch event.
    StatefulSet(Box<watcher::Event<StatefulSet>>),
    /// A ReplicationController watch event.
    ReplicationController(Box<watcher::Event<ReplicationController>>),
}

/// How many objects of each group the loop's state holds, published after every round of
/// inputs for tests and debugging. (Not a metric: upstream's `scheduler_cache_size` counts
/// nodes, pods and assumed pods only.)
#[derive(Debug, Default)]
pub struct ObjectCounts {
    /// Namespaces.
    pub namespaces: AtomicUsize,
    /// Services.
    pub services: AtomicUsize,
    /// ReplicaSets, StatefulSets and ReplicationControllers.
    pub workloads: AtomicUsize,
}

impl ObjectCounts {
    /// `(namespaces, services, workloads)` as last published.
    #[must_use]
    pub fn get(&self) -> (usize, usize, usize) {
        (
            self.namespaces.load(Ordering::Acquire),
            self.services.load(Ordering::Acquire),
            self.workloads.load(Ordering::Acquire),
        )
    }

    pub(crate) fn publish(&self, state: &ClusterState) {
        self.namespaces
            .store(state.num_namespaces(), Ordering::Release);
        self.services.store(state.num_services(), Ordering::Release);
        self.workloads
            .store(state.num_workloads(), Ordering::Release);
    }
}

/// One of the five kinds, as the cache applies and removes it.
trait Cached: Sized {
    /// Plural, for logs (`services`).
    const WHAT: &'static str;
    /// `(namespace, name)`; the namespace is empty for a Namespace.
    fn key(&self) -> (String, String);
    fn apply(&self, state: &mut ClusterState) -> sched_core::state::Result<()>;
    fn remove(state: &mut ClusterState, namespace: &str, name: &str);
}

fn namespaced_key(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_else(|| "default".into()),
        meta.name.clone().unwrap_or_default(),
    )
}

impl Cached for Namespace {
    const WHAT: &'static str = "namespaces";
    fn key(&self) -> (String, String) {
        (
            String::new(),
            self.metadata.name.clone().unwrap_or_default(),
        )
    }
    fn apply(&self, state: &mut ClusterState) -> sched_core::state::Result<()> {
        state.apply_namespace(self)
    }
    fn remove(state: &mut ClusterState, _: &str, name: &str) {
        state.remove_namespace(name);
    }
}

impl Cached for Service {
    const WHAT: &'static str = "services";
    fn key(&self) -> (String, String) {
        namespaced_key(&self.metadata)
    }
    fn apply(&self, state: &mut ClusterState) -> sched_core::state::Result<()> {
        state.apply_service(self)
    }
    fn remove(state: &mut ClusterState, namespace: &str, name: &str) {
        state.remove_service(namespace, name);
    }
}

impl Cached for ReplicaSet {
    const WHAT: &'static str = "replicasets";
    fn key(&self) -> (String, String) {
        namespaced_key(&self.metadata)
    }
    fn apply(&self, state: &mut ClusterState) -> sched_core::state::Result<()> {
        state.apply_replica_set(self)
    }
    fn remove(state: &mut ClusterState, namespace: &str, name: &str) {
        state.remove_workload(WorkloadKind::ReplicaSet, namespace, name);
    }
}

impl Cached for StatefulSet {
    const WHAT: &'static str = "statefulsets";
    fn key(&self) -> (String, String) {
        namespaced_key(&self.metadata)
    }
    fn apply(&self, state: &mut ClusterState) -> sched_core::state::Result<()> {
        state.apply_stateful_set(self)
    }
    fn remove(state: &mut ClusterState, namespace: &str, name: &str) {
        state.remove_workload(WorkloadKind::StatefulSet, namespace, name);
    }
}

impl Cached for ReplicationController {
    const WHAT: &'static str = "replicationcontrollers";
    fn key(&self) -> (String, String) {
        namespaced_key(&self.metadata)
    }
    fn apply(&self, state: &mut ClusterState) -> sched_core::state::Result<()> {
        state.apply_replication_controller(self)
    }
    fn remove(state: &mut ClusterState, namespace: &str, name: &str) {
        state.remove_workload(WorkloadKind::ReplicationController, namespace, name);
    }
}

/// The reflection of one kind: the initial list being gathered, whether a list has
/// completed, and the keys the state holds (the state does not enumerate them).
struct Reflected<K> {
    buf: Option<Vec<K>>,
    synced: bool,
    held: HashSet<(String, String)>,
}

impl<K> Default for Reflected<K> {
    fn default() -> Self {
        Reflected {
            buf: None,
            synced: false,
            held: HashSet::new(),
        }
    }
}

impl<K: Cached> Reflected<K> {
    fn handle(&mut self, state: &mut ClusterState, ev: watcher::Event<K>) {
        match ev {
            watcher::Event::Init => self.buf = Some(Vec::new()),
            watcher::Event::InitApply(o) => self.buf.get_or_insert_with(Vec::new).push(o),
            watcher::Event::InitDone => {
                let listed = self.buf.take().unwrap_or_default();
                self.replace(state, &listed);
                if !self.synced {
                    tracing::info!(kind = K::WHAT, objects = self.held.len(), "cache synced");
                }
                self.synced = true;
            }
            watcher::Event::Apply(o) => self.apply(state, &o),
            watcher::Event::Delete(o) => {
                let (ns, name) = o.key();
                K::remove(state, &ns, &name);
                self.held.remove(&(ns, name));
            }
        }
    }

    fn apply(&mut self, state: &mut ClusterState, o: &K) {
        let key = o.key();
        match o.apply(state) {
            Ok(()) => {
                self.held.insert(key);
            }
            Err(e) => {
                tracing::warn!(kind = K::WHAT, namespace = %key.0, name = %key.1, error = %e, "skipping object that cannot be applied");
            }
        }
    }

    /// A (re-)list: what the state held and the list lacks is removed, the rest applied.
    fn replace(&mut self, state: &mut ClusterState, listed: &[K]) {
        let keys: HashSet<(String, String)> = listed.iter().map(Cached::key).collect();
        let gone: Vec<(String, String)> = self.held.difference(&keys).cloned().collect();
        for (ns, name) in gone {
            K::remove(state, &ns, &name);
            self.held.remove(&(ns, name));
        }
        for o in listed {
            self.apply(state, o);
        }
    }
}

/// The five reflections.
#[derive(Default)]
pub(crate) struct ObjectCaches {
    namespaces: Reflected<Namespace>,
    services: Reflected<Service>,
    replica_sets: Reflected<ReplicaSet>,
    stateful_sets: Reflected<StatefulSet>,
    replication_controllers: Reflected<ReplicationController>,
}

impl ObjectCaches {
    /// Applies one event to `state`.
    pub(crate) fn handle(&mut self, state: &mut ClusterState, ev: ObjectEvent) {
        match ev {
            ObjectEvent::Namespace(e) => self.namespaces.handle(state, *e),
            ObjectEvent::Service(e) => self.services.handle(state, *e),
            ObjectEvent::ReplicaSet(e) => self.replica_sets.handle(state, *e),
            ObjectEvent::StatefulSet(e) => self.stateful_sets.handle(state, *e),
            ObjectEvent::ReplicationController(e) => self.replication_controllers.handle(state, *e),
        }
    }

    /// Whether every kind has completed its initial list.
    pub(crate) fn synced(&self) -> bool {
        self.namespaces.synced
            && self.services.synced
            && self.replica_sets.synced
            && self.stateful_sets.synced
            && self.replication_controllers.synced
    }
}
