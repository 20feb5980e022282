//! State extensions: per-node data that a plugin outside sched-core keeps in step with the
//! [`ClusterState`](super::ClusterState), like the state's own aggregates.
//!
//! A plugin that needs an aggregate the core does not keep (per-device GPU use, say) installs
//! a [`StateExtension`] with [`ClusterState::install_extension`](super::ClusterState::install_extension).
//! The state then calls it on every change to a node and on every pod it adds or removes
//! (`add_pod`, `assume`, `update_pod`, `remove_pod`, `forget`), after its own aggregates are
//! updated, and clones it with the state. Plugins read it back by type with
//! [`ClusterState::extension`](super::ClusterState::extension) from the `ClusterView` they are
//! given. At most one extension of each type is installed.
//!
//! Preemption's dry runs work on copies of single `NodeState`s and do not call extensions: an
//! extension sees only what the state itself holds.

use super::{NodeId, NodeState};
use crate::model::PodInfo;
use std::any::{Any, TypeId};

/// Per-node data kept by a plugin, updated by the state on every node and pod change.
pub trait StateExtension: Any + Send + Sync {
    /// A boxed copy (the state is cloned with its extensions).
    fn clone_box(&self) -> Box<dyn StateExtension>;
    /// As `Any`, for reading back by type.
    fn as_any(&self) -> &dyn Any;
    /// A node was added, changed or removed (`node.exists` is false after a removal; its
    /// pods, if any, stay on it).
    fn node_changed(&mut self, id: NodeId, node: &NodeState);
    /// `pod` was placed on node `id` (`node` already counts it).
    fn pod_added(&mut self, id: NodeId, node: &NodeState, pod: &PodInfo);
    /// `pod` left node `id` (`node` no longer counts it).
    fn pod_removed(&mut self, id: NodeId, node: &NodeState, pod: &PodInfo);
}

/// The installed extensions.
#[derive(Default)]
pub(super) struct Extensions(Vec<(TypeId, Box<dyn StateExtension>)>);

impl Clone for Extensions {
    fn clone(&self) -> Self {
        Extensions(self.0.iter().map(|(t, e)| (*t, e.clone_box())).collect())
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Extensions({})", self.0.len())
    }
}

impl Extensions {
    pub(super) fn install(&mut self, ext: Box<dyn StateExtension>) -> &mut dyn StateExtension {
        let id = (*ext).as_any().type_id();
        self.0.retain(|(t, _)| *t != id);
        self.0.push((id, ext));
        &mut *self.0.last_mut().expect("just pushed").1
    }

    pub(super) fn get<T: Any>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.0
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, e)| (**e).as_any().downcast_ref::<T>())
    }

    #[inline]
    pub(super) fn node_changed(&mut self, id: NodeId, node: &NodeState) {
        for (_, e) in &mut self.0 {
            e.node_changed(id, node);
        }
    }

    #[inline]
    pub(super) fn pod_added(&mut self, id: NodeId, node: &NodeState, pod: &PodInfo) {
        for (_, e) in &mut self.0 {
            e.pod_added(id, node, pod);
        }
    }

    #[inline]
    pub(super) fn pod_removed(&mut self, id: NodeId, node: &NodeState, pod: &PodInfo) {
        for (_, e) in &mut self.0 {
            e.pod_removed(id, node, pod);
        }
    }
}
