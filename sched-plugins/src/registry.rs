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

/// The registry of every plugin in upstream's default profile, each under the name its module
/// declares (`NAME`), with the extension points upstream's in-tree table gives it.
#[must_use]
pub fn default_registry() -> Registry {
    let mut r = Registry::new();
    let mut register = |name: &'static str, factory: sched_core::framework::PluginFactory| {
        // Fixed upstream names, each once: `default_registry_has_every_in_tree_plugin` checks.
        r.register_in_tree(name, factory)
            .expect("an upstream in-tree plugin, registered once");
    };
    register(crate::priority_sort::NAME, PrioritySort::factory);
    register(crate::scheduling_gates::NAME, SchedulingGates::factory);
    register(crate::node_unschedulable::NAME, NodeUnschedulable::factory);
    register(crate::node_name::NAME, NodeName::factory);
    register(crate::taint_toleration::NAME, TaintToleration::factory);
    register(crate::node_affinity::NAME, NodeAffinity::factory);
    register(crate::node_ports::NAME, NodePorts::factory);
    register(NodeResourcesFit::NAME, NodeResourcesFit::factory);
    register(
        NodeResourcesBalancedAllocation::NAME,
        NodeResourcesBalancedAllocation::factory,
    );
    register(crate::image_locality::NAME, ImageLocality::factory);
    register("DefaultPreemption", DefaultPreemption::factory);
    register("DefaultBinder", DefaultBinder::factory);
    register("VolumeRestrictions", unimplemented::volume_restrictions);
    register("NodeVolumeLimits", unimplemented::node_volume_limits);
    register("VolumeBinding", unimplemented::volume_binding);
    register("VolumeZone", unimplemented::volume_zone);
    register(crate::pod_topology_spread::NAME, PodTopologySpread::factory);
    register(crate::inter_pod_affinity::NAME, InterPodAffinity::factory);
    register("DynamicResources", unimplemented::dynamic_resources);
    r
}

/// [`default_registry`] plus out-of-tree plugins (upstream `app.WithPlugin`).
///
/// # Errors
/// A plugin whose name is taken or whose spec is invalid ([`sched_core::Registry::register`]).
pub fn registry_with(
    plugins: impl IntoIterator<Item = sched_core::PluginSpec>,
) -> Result<Registry, sched_core::RegistryError> {
    let mut r = default_registry();
    for p in plugins {
        r.register(p)?;
    }
    Ok(r)
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
    scheduler_with_registry(&default_registry(), config, interner, seed)
}

/// [`scheduler_from_config`] with `registry` (e.g. [`registry_with`] out-of-tree plugins).
///
/// # Errors
/// A profile enabling a plugin `registry` does not have, or bad plugin arguments.
pub fn scheduler_with_registry(
    registry: &Registry,
    config: &sched_core::config::SchedulerConfig,
    interner: &mut sched_core::intern::Interner,
    seed: u64,
) -> Result<sched_core::Scheduler, sched_core::framework::ProfileError> {
    let profiles = config
        .profiles
        .iter()
        .map(|p| registry.build_profile(p, interner))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sched_core::Scheduler::new(
        profiles,
        interner,
        config.percentage_of_nodes_to_score,
        seed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_registry_has_every_in_tree_plugin() {
        // Every upstream 1.35 in-tree plugin is registered (implemented or as a guard naming
        // itself), but the two alpha ones whose feature gates are off by default; each name once
        // (`register_in_tree` would have panicked otherwise), and each builds for the default
        // profile.
        let r = default_registry();
        let missing: Vec<&str> = sched_core::config::plugin_names()
            .filter(|n| !r.contains(n))
            .collect();
        assert_eq!(missing, ["GangScheduling", "NodeDeclaredFeatures"]);
        let config = sched_core::config::SchedulerConfig::default_config();
        let mut interner = sched_core::intern::Interner::new();
        let profile = r
            .build_profile(&config.profiles[0], &mut interner)
            .expect("the default profile builds");
        assert_eq!(profile.scheduler_name, "default-scheduler");
    }
}
