//! Owner references as a graph: each object read (pods, ReplicaSets, StatefulSets,
//! ReplicationControllers, …) points to its controller (`metadata.ownerReferences` entry with
//! `controller: true`, as upstream `metav1.GetControllerOf`), so Pod → ReplicaSet →
//! Deployment, Pod → StatefulSet, Pod → DaemonSet, Pod → Job → CronJob.
//!
//! `kubectl drain` reads it ([`crate::drain`]): whether a pod has a controller, whether that
//! controller is a DaemonSet, and whether the controller exists. A controller is *missing*
//! only when the snapshot holds objects of its kind but not this one (the snapshot was taken
//! with that kind, so the object is gone); a controller of a kind the snapshot does not hold
//! at all (e.g. a DaemonSet in a `kubectl get nodes,pods` snapshot) is *not captured* and
//! taken to exist, as kubectl's lookup against the live cluster would find it.
//!
//! Owners are namespace-local (upstream rejects cross-namespace owner references), except
//! cluster-scoped kinds (`Node`, the controller of a kubelet's mirror pods).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::sync::Arc;

/// An object: kind, namespace (empty for cluster-scoped kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// `kind`, e.g. `ReplicaSet`.
    pub kind: Arc<str>,
    /// `metadata.namespace`, empty for cluster-scoped kinds.
    pub namespace: Arc<str>,
    /// `metadata.name`.
    pub name: Arc<str>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// What the graph knows of an object's controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Controller {
    /// No owner reference with `controller: true`.
    None,
    /// The controller is in the snapshot.
    Present(ObjectRef),
    /// The snapshot holds no object of the controller's kind: taken to exist.
    NotCaptured(ObjectRef),
    /// The snapshot holds objects of the controller's kind, but not this one.
    Missing(ObjectRef),
}

impl Controller {
    /// The controller, whatever is known of it.
    #[must_use]
    pub fn object(&self) -> Option<&ObjectRef> {
        match self {
            Controller::None => None,
            Controller::Present(o) | Controller::NotCaptured(o) | Controller::Missing(o) => Some(o),
        }
    }
}

#[derive(Clone, Debug)]
struct Object {
    id: ObjectRef,
    /// Read from the snapshot (or created by the scenario); `false` for an object only
    /// named by some owner reference.
    present: bool,
}

/// Kinds whose objects have no namespace.
fn cluster_scoped(kind: &str) -> bool {
    matches!(kind, "Node" | "Namespace" | "PriorityClass")
}

/// The owner graph: an edge from each object to its controller.
#[derive(Clone, Debug, Default)]
pub struct OwnerGraph {
    graph: DiGraph<Object, ()>,
    index: FxHashMap<ObjectRef, NodeIndex>,
    /// Kinds of which the snapshot holds objects.
    captured: BTreeSet<Arc<str>>,
    /// Kinds and namespaces, shared by the objects that name them.
    strings: BTreeSet<Arc<str>>,
}

impl OwnerGraph {
    /// An empty graph.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn node(&mut self, id: ObjectRef) -> NodeIndex {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let i = self.graph.add_node(Object {
            id: id.clone(),
            present: false,
        });
        self.index.insert(id, i);
        i
    }

    fn id(kind: &str, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            kind: Arc::from(kind),
            namespace: Arc::from(if cluster_scoped(kind) { "" } else { namespace }),
            name: Arc::from(name),
        }
    }

    fn shared(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(a.clone());
        a
    }

    /// [`OwnerGraph::id`] with the kind and namespace shared.
    fn stored_id(&mut self, kind: &str, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            kind: self.shared(kind),
            namespace: self.shared(if cluster_scoped(kind) { "" } else { namespace }),
            name: Arc::from(name),
        }
    }

    /// Adds an object read (its kind becomes captured) and an edge to its controller, if it
    /// names one. An object added twice keeps its first controller.
    pub fn add(&mut self, kind: &str, namespace: &str, name: &str, owners: &[OwnerReference]) {
        let id = self.stored_id(kind, namespace, name);
        let me = self.node(id);
        self.captured.insert(self.graph[me].id.kind.clone());
        if self.graph[me].present {
            return;
        }
        self.graph[me].present = true;
        if let Some(o) = owners.iter().find(|o| o.controller == Some(true)) {
            let id = self.stored_id(&o.kind, namespace, &o.name);
            let owner = self.node(id);
            self.graph.add_edge(me, owner, ());
        }
    }

    /// Adds an object from its metadata (`default` namespace when unset).
    pub fn add_meta(
        &mut self,
        kind: &str,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    ) {
        self.add(
            kind,
            meta.namespace.as_deref().unwrap_or("default"),
            meta.name.as_deref().unwrap_or_default(),
            meta.owner_references.as_deref().unwrap_or_default(),
        );
    }

    /// The graph of a snapshot's pods and the controllers it holds.
    #[must_use]
    pub fn from_snapshot(snap: &crate::snapshot::Snapshot) -> Self {
        let mut g = OwnerGraph::new();
        for (_, o) in &snap.replica_sets {
            g.add_meta("ReplicaSet", &o.metadata);
        }
        for (_, o) in &snap.stateful_sets {
            g.add_meta("StatefulSet", &o.metadata);
        }
        for (_, o) in &snap.replication_controllers {
            g.add_meta("ReplicationController", &o.metadata);
        }
        for (_, o) in &snap.deployments {
            g.add_meta("Deployment", &o.metadata);
        }
        for (_, o) in &snap.daemon_sets {
            g.add_meta("DaemonSet", &o.metadata);
        }
        for (_, o) in &snap.jobs {
            g.add_meta("Job", &o.metadata);
        }
        for (_, o) in &snap.nodes {
            g.add_meta("Node", &o.metadata);
        }
        for (_, o) in &snap.pods {
            g.add_meta("Pod", &o.metadata);
        }
        g
    }

    /// Whether the snapshot holds objects of `kind`.
    #[must_use]
    pub fn captures(&self, kind: &str) -> bool {
        self.captured.contains(kind)
    }

    fn controller_index(&self, i: NodeIndex) -> Option<NodeIndex> {
        self.graph.neighbors_directed(i, Direction::Outgoing).next()
    }

    /// The controller of object `kind` `namespace/name`; `None` when the object is not in
    /// the graph.
    #[must_use]
    pub fn controller(&self, kind: &str, namespace: &str, name: &str) -> Option<Controller> {
        let &i = self.index.get(&Self::id(kind, namespace, name))?;
        let Some(c) = self.controller_index(i) else {
            return Some(Controller::None);
        };
        let owner = &self.graph[c];
        let id = owner.id.clone();
        Some(if owner.present {
            Controller::Present(id)
        } else if self.captured.contains(&id.kind) {
            Controller::Missing(id)
        } else {
            Controller::NotCaptured(id)
        })
    }

    /// The controller of a pod: from the graph, or, for a pod not in it, what its own
    /// owner references say (a controller of unknown presence: not captured).
    #[must_use]
    pub fn pod_controller(&self, pod: &sched_core::model::PodInfo) -> Controller {
        if let Some(c) = self.controller("Pod", &pod.namespace, &pod.name) {
            return c;
        }
        if !pod.has_controller {
            return Controller::None;
        }
        let kind = if pod.drain.daemon_set {
            "DaemonSet".to_string()
        } else {
            pod.controller
                .as_ref()
                .map_or_else(|| "<unknown kind>".to_string(), |c| format!("{:?}", c.kind))
        };
        let name = pod.controller.as_ref().map_or("", |c| &*c.name);
        Controller::NotCaptured(Self::id(&kind, &pod.namespace, name))
    }

    /// The top of the controller chain of `kind` `namespace/name` (a Deployment for a
    /// Deployment's pod), or `None` when it has no controller. Owner references that form a
    /// cycle (invalid) stop the walk after at most one step per object.
    #[must_use]
    pub fn root(&self, kind: &str, namespace: &str, name: &str) -> Option<ObjectRef> {
        let &start = self.index.get(&Self::id(kind, namespace, name))?;
        let mut at = self.controller_index(start)?;
        // At most one step per object: owner references can form a cycle.
        for _ in 0..self.graph.node_count() {
            match self.controller_index(at) {
                Some(next) if next != start => at = next,
                _ => break,
            }
        }
        Some(self.graph[at].id.clone())
    }

    /// The objects read, owned by `kind` `namespace/name` as their controller.
    #[must_use]
    pub fn dependents(&self, kind: &str, namespace: &str, name: &str) -> Vec<ObjectRef> {
        let Some(&i) = self.index.get(&Self::id(kind, namespace, name)) else {
            return Vec::new();
        };
        let mut out: Vec<ObjectRef> = self
            .graph
            .neighbors_directed(i, Direction::Incoming)
            .filter(|&d| self.graph[d].present)
            .map(|d| self.graph[d].id.clone())
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(kind: &str, name: &str) -> Vec<OwnerReference> {
        vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: format!("{name}-uid"),
            controller: Some(true),
            block_owner_deletion: None,
        }]
    }

    fn id(kind: &str, ns: &str, name: &str) -> ObjectRef {
        OwnerGraph::id(kind, ns, name)
    }

    #[test]
    fn owner_graph_follows_pod_to_replicaset_to_deployment() {
        let mut g = OwnerGraph::new();
        g.add(
            "ReplicaSet",
            "shop",
            "web-5d9c",
            &owner("Deployment", "web"),
        );
        g.add(
            "Pod",
            "shop",
            "web-5d9c-a",
            &owner("ReplicaSet", "web-5d9c"),
        );
        assert_eq!(
            g.controller("Pod", "shop", "web-5d9c-a"),
            Some(Controller::Present(id("ReplicaSet", "shop", "web-5d9c")))
        );
        // No Deployment object was read, and none of its kind: taken to exist.
        assert_eq!(
            g.controller("ReplicaSet", "shop", "web-5d9c"),
            Some(Controller::NotCaptured(id("Deployment", "shop", "web")))
        );
        assert_eq!(
            g.root("Pod", "shop", "web-5d9c-a"),
            Some(id("Deployment", "shop", "web"))
        );
        assert_eq!(
            g.dependents("ReplicaSet", "shop", "web-5d9c"),
            [id("Pod", "shop", "web-5d9c-a")]
        );
    }

    #[test]
    fn owner_graph_only_follows_the_controller_reference() {
        // upstream GetControllerOf: an owner without controller: true is not the controller.
        let mut g = OwnerGraph::new();
        let mut refs = owner("ConfigMap", "cm");
        refs[0].controller = None;
        g.add("Pod", "default", "p", &refs);
        assert_eq!(g.controller("Pod", "default", "p"), Some(Controller::None));
        assert_eq!(g.root("Pod", "default", "p"), None);
    }

    #[test]
    fn owner_graph_a_controller_of_a_captured_kind_not_read_is_missing() {
        // The snapshot holds ReplicaSets (web-1), so web-2's absence means it is gone.
        let mut g = OwnerGraph::new();
        g.add("ReplicaSet", "default", "web-1", &[]);
        g.add("Pod", "default", "a", &owner("ReplicaSet", "web-2"));
        g.add("Pod", "default", "b", &owner("DaemonSet", "agent"));
        assert_eq!(
            g.controller("Pod", "default", "a"),
            Some(Controller::Missing(id("ReplicaSet", "default", "web-2")))
        );
        assert_eq!(
            g.controller("Pod", "default", "b"),
            Some(Controller::NotCaptured(id("DaemonSet", "default", "agent")))
        );
        assert!(g.captures("ReplicaSet") && !g.captures("DaemonSet"));
        assert_eq!(g.controller("Pod", "default", "unknown"), None);
    }

    #[test]
    fn owner_graph_node_owners_are_cluster_scoped() {
        // A kubelet mirror pod is controlled by its Node, which has no namespace.
        let mut g = OwnerGraph::new();
        g.add("Node", "", "n1", &[]);
        let mut refs = owner("Node", "n1");
        refs[0].api_version = "v1".into();
        g.add("Pod", "kube-system", "etcd-n1", &refs);
        assert_eq!(
            g.controller("Pod", "kube-system", "etcd-n1"),
            Some(Controller::Present(id("Node", "", "n1")))
        );
        assert_eq!(id("Node", "x", "n1").to_string(), "Node n1");
    }

    #[test]
    fn owner_graph_root_stops_at_a_cycle() {
        // Owner references a ← b ← a are invalid but must not hang or panic.
        let mut g = OwnerGraph::new();
        g.add("ReplicaSet", "default", "a", &owner("ReplicaSet", "b"));
        g.add("ReplicaSet", "default", "b", &owner("ReplicaSet", "a"));
        g.add("Pod", "default", "p", &owner("ReplicaSet", "a"));
        let root = g.root("Pod", "default", "p").unwrap();
        assert_eq!(&*root.kind, "ReplicaSet");
        assert_eq!(
            g.root("ReplicaSet", "default", "a"),
            Some(id("ReplicaSet", "default", "b"))
        );
    }
}
