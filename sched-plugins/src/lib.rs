//! The upstream kube-scheduler plugins, re-implemented over Placer's compact model.
//!
//! One module per upstream plugin; the type name is the upstream plugin name. Each module's
//! docs cite the upstream source it mirrors. [`default_registry`] maps every upstream name
//! to a factory, including guards for the plugins Placer has not built yet: a guard rejects
//! a pod that needs the missing plugin with a reason naming it, instead of placing the pod as
//! if the constraint were absent.

pub mod default_preemption;
mod helper;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources;
pub mod node_unschedulable;
pub mod pod_topology_spread;
mod preemption_pdb;
pub mod priority_sort;
pub mod registry;
pub mod scheduling_gates;
pub mod taint_toleration;
mod unimplemented;

#[cfg(test)]
mod queueing_hints_tests;
#[cfg(test)]
pub(crate) mod testing;

pub use registry::{
    default_registry, registry_with, scheduler_from_config, scheduler_with_registry,
};

/// The README, so that its library example is compiled and run as a doctest.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
