//! Raw `kubescheduler.config.k8s.io/v1` documents, field for field as upstream's
//! `staging/src/k8s.io/kube-scheduler/config/v1/types.go` and `types_pluginargs.go` (1.35).
//!
//! These types only describe what may be written; every field is optional where upstream's is
//! a pointer or `omitempty`, and unknown fields are rejected (upstream decodes strictly).
//! Nothing downstream reads them: [`super::SchedulerConfig::from_yaml`] defaults and validates
//! them into the resolved types.

use k8s_openapi::api::core::v1::{NodeAffinity, TopologySpreadConstraint};
use serde::Deserialize;
use serde_json::Value;

/// The only accepted `apiVersion`.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
/// The only accepted top-level `kind`.
pub const KIND: &str = "KubeSchedulerConfiguration";

/// `KubeSchedulerConfiguration`: the scheduler's configuration file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeSchedulerConfiguration {
    /// Must be `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Must be `KubeSchedulerConfiguration`.
    pub kind: Option<String>,
    /// Parallelism of the scheduling algorithms; > 0, default 16.
    pub parallelism: Option<i32>,
    /// Leader election client settings.
    pub leader_election: Option<LeaderElectionConfiguration>,
    /// API server connection settings.
    pub client_connection: Option<ClientConnectionConfiguration>,
    /// Deprecated (removed from v1 upstream); accepted and ignored.
    pub healthz_bind_address: Option<String>,
    /// Deprecated (removed from v1 upstream); accepted and ignored.
    pub metrics_bind_address: Option<String>,
    /// `DebuggingConfiguration.enableProfiling` (inlined upstream); accepted, unused by Placer.
    pub enable_profiling: Option<bool>,
    /// `DebuggingConfiguration.enableContentionProfiling`; accepted, unused by Placer.
    pub enable_contention_profiling: Option<bool>,
    /// Global percentage of nodes to find feasible before scoring (0..=100; 0 = adaptive).
    pub percentage_of_nodes_to_score: Option<i32>,
    /// Initial backoff for unschedulable pods, seconds (> 0, default 1).
    pub pod_initial_backoff_seconds: Option<i64>,
    /// Maximum backoff for unschedulable pods, seconds (>= initial, default 10).
    pub pod_max_backoff_seconds: Option<i64>,
    /// Scheduling profiles; one `default-scheduler` profile when empty.
    pub profiles: Option<Vec<KubeSchedulerProfile>>,
    /// Scheduler extenders. Placer does not support extenders: a non-empty list is an error.
    pub extenders: Option<Vec<Value>>,
    /// Wait for leadership before filling caches; accepted, unused by Placer.
    pub delay_cache_until_active: Option<bool>,
}

/// `componentbaseconfigv1alpha1.LeaderElectionConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LeaderElectionConfiguration {
    /// Run leader election before scheduling (default true).
    pub leader_elect: Option<bool>,
    /// Go duration string (default `15s`).
    pub lease_duration: Option<String>,
    /// Go duration string (default `10s`).
    pub renew_deadline: Option<String>,
    /// Go duration string (default `2s`).
    pub retry_period: Option<String>,
    /// Lock object type; must be `leases` (the default) when leader election is on.
    pub resource_lock: Option<String>,
    /// Lock object name (default `kube-scheduler`).
    pub resource_name: Option<String>,
    /// Lock object namespace (default `kube-system`).
    pub resource_namespace: Option<String>,
}

/// `componentbaseconfigv1alpha1.ClientConnectionConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientConnectionConfiguration {
    /// Path to a kubeconfig file.
    pub kubeconfig: Option<String>,
    /// `Accept` header for API requests.
    pub accept_content_types: Option<String>,
    /// Content type of request bodies.
    pub content_type: Option<String>,
    /// Queries per second (0 → 50).
    pub qps: Option<f32>,
    /// Burst (0 → 100; must not be negative).
    pub burst: Option<i32>,
}

/// `KubeSchedulerProfile`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeSchedulerProfile {
    /// Pods whose `spec.schedulerName` equals this are scheduled by this profile.
    pub scheduler_name: Option<String>,
    /// Overrides the global percentage for this profile.
    pub percentage_of_nodes_to_score: Option<i32>,
    /// Plugins to enable or disable, merged into the default set.
    pub plugins: Option<Plugins>,
    /// Per-plugin arguments.
    pub plugin_config: Option<Vec<PluginConfig>>,
}

/// `Plugins`: one plugin set per extension point, plus `multiPoint`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Plugins {
    /// `preEnqueue` plugins.
    pub pre_enqueue: Option<PluginSet>,
    /// `queueSort` plugins.
    pub queue_sort: Option<PluginSet>,
    /// `preFilter` plugins.
    pub pre_filter: Option<PluginSet>,
    /// `filter` plugins.
    pub filter: Option<PluginSet>,
    /// `postFilter` plugins.
    pub post_filter: Option<PluginSet>,
    /// `preScore` plugins.
    pub pre_score: Option<PluginSet>,
    /// `score` plugins.
    pub score: Option<PluginSet>,
    /// `reserve` plugins.
    pub reserve: Option<PluginSet>,
    /// `permit` plugins.
    pub permit: Option<PluginSet>,
    /// `preBind` plugins.
    pub pre_bind: Option<PluginSet>,
    /// `bind` plugins.
    pub bind: Option<PluginSet>,
    /// `postBind` plugins.
    pub post_bind: Option<PluginSet>,
    /// Plugins enabled at every extension point they implement.
    pub multi_point: Option<PluginSet>,
}

/// `PluginSet`: plugins enabled and disabled at one extension point.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginSet {
    /// Enabled plugins, in order, after the defaults.
    pub enabled: Option<Vec<Plugin>>,
    /// Disabled default plugins; `*` disables all of them.
    pub disabled: Option<Vec<Plugin>>,
}

/// `Plugin`: a plugin name and, for Score, its weight.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Plugin {
    /// Upstream plugin name, e.g. `NodeResourcesFit`.
    pub name: String,
    /// Score weight; unset or 0 means 1.
    pub weight: Option<i32>,
}

/// `PluginConfig`: arguments for one plugin.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginConfig {
    /// Plugin name.
    pub name: String,
    /// The plugin's `<Name>Args` object (may carry `apiVersion`/`kind`).
    pub args: Option<Value>,
}

/// `ResourceSpec`: a resource name and weight.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceSpec {
    /// Resource name, e.g. `cpu`.
    pub name: String,
    /// Weight; unset or 0 means 1.
    pub weight: Option<i64>,
}

/// `UtilizationShapePoint`: one point of a scoring function shape.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UtilizationShapePoint {
    /// Utilization, 0..=100.
    #[serde(default)]
    pub utilization: i32,
    /// Score, 0..=10.
    #[serde(default)]
    pub score: i32,
}

/// `NodeResourcesFitArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeResourcesFitArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `NodeResourcesFitArgs`.
    pub kind: Option<String>,
    /// Extended resources the Filter ignores.
    pub ignored_resources: Option<Vec<String>>,
    /// Extended resource groups (prefix before `/`) the Filter ignores.
    pub ignored_resource_groups: Option<Vec<String>>,
    /// Score strategy; default `LeastAllocated` on cpu and memory.
    pub scoring_strategy: Option<ScoringStrategy>,
}

/// `ScoringStrategy`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScoringStrategy {
    /// `LeastAllocated`, `MostAllocated` or `RequestedToCapacityRatio`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Resources to score; default cpu and memory with weight 1.
    pub resources: Option<Vec<ResourceSpec>>,
    /// Shape for `RequestedToCapacityRatio`.
    pub requested_to_capacity_ratio: Option<RequestedToCapacityRatioParam>,
}

/// `RequestedToCapacityRatioParam`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestedToCapacityRatioParam {
    /// Points of the scoring function.
    pub shape: Option<Vec<UtilizationShapePoint>>,
}

/// `NodeResourcesBalancedAllocationArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeResourcesBalancedAllocationArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `NodeResourcesBalancedAllocationArgs`.
    pub kind: Option<String>,
    /// Resources to balance; default cpu and memory.
    pub resources: Option<Vec<ResourceSpec>>,
}

/// `NodeAffinityArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeAffinityArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `NodeAffinityArgs`.
    pub kind: Option<String>,
    /// Node affinity applied to every pod in addition to its own.
    pub added_affinity: Option<NodeAffinity>,
}

/// `DefaultPreemptionArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DefaultPreemptionArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `DefaultPreemptionArgs`.
    pub kind: Option<String>,
    /// 0..=100, default 10.
    pub min_candidate_nodes_percentage: Option<i32>,
    /// >= 0, default 100.
    pub min_candidate_nodes_absolute: Option<i32>,
}

/// `InterPodAffinityArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InterPodAffinityArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `InterPodAffinityArgs`.
    pub kind: Option<String>,
    /// 0..=100, default 1.
    pub hard_pod_affinity_weight: Option<i32>,
    /// Ignore existing pods' preferred terms unless the incoming pod has affinity.
    pub ignore_preferred_terms_of_existing_pods: Option<bool>,
}

/// `PodTopologySpreadArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodTopologySpreadArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `PodTopologySpreadArgs`.
    pub kind: Option<String>,
    /// Constraints for pods without their own; requires `defaultingType: List`.
    pub default_constraints: Option<Vec<TopologySpreadConstraint>>,
    /// `System` (default) or `List`.
    pub defaulting_type: Option<String>,
}

/// `VolumeBindingArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeBindingArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `VolumeBindingArgs`.
    pub kind: Option<String>,
    /// >= 0, default 600.
    pub bind_timeout_seconds: Option<i64>,
    /// Requires the `StorageCapacityScoring` feature gate (alpha, off in 1.35): rejected.
    pub shape: Option<Vec<UtilizationShapePoint>>,
}

/// `DynamicResourcesArgs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DynamicResourcesArgs {
    /// Optional `kubescheduler.config.k8s.io/v1`.
    pub api_version: Option<String>,
    /// Optional `DynamicResourcesArgs`.
    pub kind: Option<String>,
    /// Go duration, >= 0 (upstream default 10s).
    pub filter_timeout: Option<String>,
    /// Go duration, >= 1s (upstream default 10m).
    pub binding_timeout: Option<String>,
}
