//! TEMPORARY stand-in for the `ClusterState` object API the lead is adding to sched-core
//! (`core: pod terms`): the same signatures, doing nothing, so this branch builds until it
//! lands. Removed by the merge of `main`.
#![allow(dead_code, clippy::unnecessary_wraps, missing_docs)]

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, ReplicationController, Service};
use sched_core::state::{ClusterState, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadKind {
    ReplicationController,
    ReplicaSet,
    StatefulSet,
}

pub trait CoreObjects {
    fn apply_namespace(&mut self, ns: &Namespace) -> Result<()>;
    fn remove_namespace(&mut self, name: &str);
    fn apply_service(&mut self, svc: &Service) -> Result<()>;
    fn remove_service(&mut self, namespace: &str, name: &str);
    fn apply_replica_set(&mut self, rs: &ReplicaSet) -> Result<()>;
    fn apply_stateful_set(&mut self, ss: &StatefulSet) -> Result<()>;
    fn apply_replication_controller(&mut self, rc: &ReplicationController) -> Result<()>;
    fn remove_workload(&mut self, kind: WorkloadKind, namespace: &str, name: &str);
    fn num_namespaces(&self) -> usize;
    fn num_services(&self) -> usize;
    fn num_workloads(&self) -> usize;
}

impl CoreObjects for ClusterState {
    fn apply_namespace(&mut self, _: &Namespace) -> Result<()> {
        Ok(())
    }
    fn remove_namespace(&mut self, _: &str) {}
    fn apply_service(&mut self, _: &Service) -> Result<()> {
        Ok(())
    }
    fn remove_service(&mut self, _: &str, _: &str) {}
    fn apply_replica_set(&mut self, _: &ReplicaSet) -> Result<()> {
        Ok(())
    }
    fn apply_stateful_set(&mut self, _: &StatefulSet) -> Result<()> {
        Ok(())
    }
    fn apply_replication_controller(&mut self, _: &ReplicationController) -> Result<()> {
        Ok(())
    }
    fn remove_workload(&mut self, _: WorkloadKind, _: &str, _: &str) {}
    fn num_namespaces(&self) -> usize {
        0
    }
    fn num_services(&self) -> usize {
        0
    }
    fn num_workloads(&self) -> usize {
        0
    }
}
