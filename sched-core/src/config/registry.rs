//! Upstream's in-tree plugin registry as far as configuration is concerned: which extension
//! points each plugin implements (`pkg/scheduler/framework/plugins/registry.go` and each
//! plugin's `var _ fwk.XPlugin = ...` assertions, 1.35), the default plugin set
//! (`apis/config/v1/default_plugins.go`) and the plugins removed from v1
//! (`validation.go`, `invalidPluginsByVersion`).

use super::ExtensionPoint::{
    self, Bind, Filter, Permit, PostFilter, PreBind, PreEnqueue, PreFilter, PreScore, QueueSort,
    Reserve, Score,
};

/// `(name, extension points)` for every plugin upstream 1.35 registers in-tree.
const PLUGINS: &[(&str, &[ExtensionPoint])] = &[
    ("SchedulingGates", &[PreEnqueue]),
    ("PrioritySort", &[QueueSort]),
    ("NodeUnschedulable", &[Filter]),
    ("NodeName", &[Filter]),
    ("TaintToleration", &[Filter, PreScore, Score]),
    ("NodeAffinity", &[PreFilter, Filter, PreScore, Score]),
    ("NodePorts", &[PreFilter, Filter]),
    ("NodeResourcesFit", &[PreFilter, Filter, PreScore, Score]),
    ("VolumeRestrictions", &[PreFilter, Filter]),
    ("NodeVolumeLimits", &[PreFilter, Filter]),
    // Implements Score unconditionally; its PreScore skips unless StorageCapacityScoring is on.
    (
        "VolumeBinding",
        &[PreFilter, Filter, PreScore, Score, Reserve, PreBind],
    ),
    ("VolumeZone", &[PreFilter, Filter]),
    ("PodTopologySpread", &[PreFilter, Filter, PreScore, Score]),
    ("InterPodAffinity", &[PreFilter, Filter, PreScore, Score]),
    // PreEnqueue since async preemption (KEP-4832).
    ("DefaultPreemption", &[PreEnqueue, PostFilter]),
    ("NodeResourcesBalancedAllocation", &[PreScore, Score]),
    ("ImageLocality", &[Score]),
    ("DefaultBinder", &[Bind]),
    // Score (prioritized-list scoring) since 1.35, kubernetes#134711.
    (
        "DynamicResources",
        &[
            PreEnqueue, PreFilter, Filter, PostFilter, Score, Reserve, PreBind,
        ],
    ),
    // Alpha in 1.35 (feature gates off by default, so never in the default set).
    ("GangScheduling", &[PreEnqueue, Reserve, Permit]),
    ("NodeDeclaredFeatures", &[PreFilter, Filter]),
];

/// Plugins removed from `kubescheduler.config.k8s.io/v1` (upstream rejects them by name).
pub(crate) const REMOVED_PLUGINS: &[&str] = &[
    "AzureDiskLimits",
    "CinderLimits",
    "EBSLimits",
    "GCEPDLimits",
];

/// Upstream 1.35's default `multiPoint.enabled` with default feature gates (DRA is GA, so
/// `DynamicResources` sits right before `DefaultPreemption`). Weight 0 = unset.
pub(crate) const DEFAULT_MULTI_POINT: &[(&str, i32)] = &[
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("NodeVolumeLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DynamicResources", 0),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
];

/// Plugins that have a `<Name>Args` kind in `kubescheduler.config.k8s.io/v1`.
pub(crate) const PLUGINS_WITH_ARGS: &[&str] = &[
    "DefaultPreemption",
    "DynamicResources",
    "InterPodAffinity",
    "NodeAffinity",
    "NodeResourcesBalancedAllocation",
    "NodeResourcesFit",
    "PodTopologySpread",
    "VolumeBinding",
];

/// Which extension points an upstream in-tree plugin implements, in [`ExtensionPoint`] order;
/// `None` for a name upstream's registry does not have.
///
/// This drives `multiPoint` expansion (a plugin is added at every point it implements) and
/// the rejection of unknown plugin names and of plugins enabled at points they do not implement.
#[must_use]
pub fn plugin_extension_points(name: &str) -> Option<&'static [ExtensionPoint]> {
    PLUGINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, points)| *points)
}

/// The plugins a configuration can name: upstream's in-tree plugins (the table above) and the
/// out-of-tree plugins a [`Registry`](crate::Registry) declares, as upstream's
/// `app.WithPlugin` merges an out-of-tree registry into the in-tree one.
#[derive(Clone, Copy, Default)]
pub(crate) struct Catalog<'a> {
    pub(crate) out_of_tree: Option<&'a crate::Registry>,
}

impl Catalog<'_> {
    /// The extension points `name` implements; `None` for a name neither knows.
    pub(crate) fn points(&self, name: &str) -> Option<&'static [ExtensionPoint]> {
        plugin_extension_points(name).or_else(|| self.out_of_tree?.out_of_tree_points(name))
    }

    /// Whether the plugin `name` implements `point`.
    pub(crate) fn implements(&self, name: &str, point: ExtensionPoint) -> bool {
        self.points(name)
            .is_some_and(|points| points.contains(&point))
    }
}

/// Every plugin name upstream 1.35 registers in-tree (the names [`plugin_extension_points`]
/// knows), in a fixed order.
pub fn plugin_names() -> impl Iterator<Item = &'static str> {
    PLUGINS.iter().map(|(n, _)| *n)
}
