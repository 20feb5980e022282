//! The default registry: every upstream in-tree plugin name mapped to a factory.

use crate::default_preemption::DefaultPreemption;
use crate::image_locality::ImageLocality;
use crate::inter_pod_affinity::InterPodAffinity;
use crate::node_affinity::NodeAffinity;
use crate::node_name::NodeName;
use crate::node_ports::NodePorts;
use crate::node_resources::{NodeResourcesBalancedAllocation, NodeResourcesFit};
use crate::node_unschedulable::NodeUnschedulable;
use crate::pod_topology_spread::PodTopologySpread;
use crate::priority_sort::PrioritySort;
use crate::scheduling_gates::SchedulingGates;
use crate::taint_toleration::TaintToleration;
use crate::unimplemented::{self, DefaultBinder};
use sched_core::Registry;

/// Plugins Placer implements with upstream semantics.
pub const IMPLEMENTED: &[&str] = &[
    "PrioritySort",
    "SchedulingGates",
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "InterPodAffinity",
    "NodeResourcesFit",
    "NodeResourcesBalancedAllocation",
    "ImageLocality",
    "DefaultPreemption",
    "DefaultBinder",
    "PodTopologySpread",
];

/// Upstream plugins present as guards only (see [`crate::unimplemented`]).
pub const GUARDED: &[&str] = &[
    "VolumeRestrictions",
    "NodeVolumeLimits",
    "VolumeBinding",
    "VolumeZone",
    "DynamicResources",
];

/// The registry of every plugin in upstream's default profile.
#[must_use]
pub fn default_registry() -> Registry {
    let mut r = Registry::new();
    r.register("PrioritySort", PrioritySort::factory);
    r.register("SchedulingGates", SchedulingGates::factory);
    r.register("NodeUnschedulable", NodeUnschedulable::factory);
    r.register("NodeName", NodeName::factory);
    r.register("TaintToleration", TaintToleration::factory);
    r.register("NodeAffinity", NodeAffinity::factory);
    r.register("NodePorts", NodePorts::factory);
    r.register("NodeResourcesFit", NodeResourcesFit::factory);
    r.register(
        "NodeResourcesBalancedAllocation",
        NodeResourcesBalancedAllocation::factory,
    );
    r.register("ImageLocality", ImageLocality::factory);
    r.register("DefaultPreemption", DefaultPreemption::factory);
    r.register("DefaultBinder", DefaultBinder::factory);
    r.register("VolumeRestrictions", unimplemented::volume_restrictions);
    r.register("NodeVolumeLimits", unimplemented::node_volume_limits);
    r.register("VolumeBinding", unimplemented::volume_binding);
    r.register("VolumeZone", unimplemented::volume_zone);
    r.register("PodTopologySpread", PodTopologySpread::factory);
    r.register("InterPodAffinity", InterPodAffinity::factory);
    r.register("DynamicResources", unimplemented::dynamic_resources);
    r
}

/// Builds a [`sched_core::Scheduler`] for every profile of `config` with the default registry.
/// Symbols in plugin arguments are interned in `interner`, which must be the interner of the
/// `ClusterState` the scheduler will run on (`state.interner_mut()`).
///
/// # Errors
/// A profile enabling a plugin Placer does not have, or bad plugin arguments.
pub fn scheduler_from_config(
    config: &sched_core::config::SchedulerConfig,
    interner: &mut sched_core::intern::Interner,
    seed: u64,
) -> Result<sched_core::Scheduler, sched_core::framework::ProfileError> {
    let registry = default_registry();
    let profiles = config
        .profiles
        .iter()
        .map(|p| registry.build_profile(p, interner))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sched_core::Scheduler::new(
        profiles,
        config.percentage_of_nodes_to_score,
        seed,
    ))
}
