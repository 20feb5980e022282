//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`), read the way upstream
//! kube-scheduler 1.35 reads it, resolved into what the scheduler needs.
//!
//! Raw documents ([`v1`]) are kept apart from the validated configuration ([`SchedulerConfig`]):
//! [`SchedulerConfig::from_yaml`] decodes strictly (an unknown field is an error that names its
//! path), applies upstream's v1 defaults (`apis/config/v1/defaults.go`), validates
//! (`apis/config/validation`) and resolves each profile's plugins per extension point the way
//! upstream's framework does when it is built (`framework/runtime/framework.go`: multiPoint
//! expansion, ordering, score weights). Nothing downstream re-reads raw configuration.
//!
//! Placer has no out-of-tree plugins, so names upstream's in-tree registry does not know are
//! rejected everywhere (upstream would only reject them when building the framework, and would
//! accept `pluginConfig` for them). Extenders are not supported.

mod args;
mod de;
mod registry;
mod resolve;
#[cfg(test)]
mod tests;
pub mod v1;
mod validation;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde_json::Value;

pub use registry::{plugin_extension_points, plugin_names};

/// The scheduler name of the default profile (`v1.DefaultSchedulerName`).
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// A scheduling-framework extension point that plugins are configured at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtensionPoint {
    /// Orders the scheduling queue (exactly one plugin per profile).
    QueueSort,
    /// Gates a pod before it enters the active queue.
    PreEnqueue,
    /// Computes per-pod state before filtering; may narrow or reject.
    PreFilter,
    /// Rejects nodes that cannot run the pod.
    Filter,
    /// Runs when no node fits (preemption).
    PostFilter,
    /// Computes per-pod state before scoring.
    PreScore,
    /// Ranks feasible nodes; weights apply here.
    Score,
    /// Reserves resources on the chosen node.
    Reserve,
    /// Approves, rejects or delays binding.
    Permit,
    /// Work before binding (e.g. volumes).
    PreBind,
    /// Binds the pod to the node.
    Bind,
    /// Informational, after a successful bind.
    PostBind,
}

impl ExtensionPoint {
    /// Every extension point, in declaration order.
    pub const ALL: [ExtensionPoint; 12] = [
        ExtensionPoint::QueueSort,
        ExtensionPoint::PreEnqueue,
        ExtensionPoint::PreFilter,
        ExtensionPoint::Filter,
        ExtensionPoint::PostFilter,
        ExtensionPoint::PreScore,
        ExtensionPoint::Score,
        ExtensionPoint::Reserve,
        ExtensionPoint::Permit,
        ExtensionPoint::PreBind,
        ExtensionPoint::Bind,
        ExtensionPoint::PostBind,
    ];

    /// upstream's `extension_point` metric label, e.g. `PreFilter`.
    #[must_use]
    pub const fn metric_name(self) -> &'static str {
        match self {
            ExtensionPoint::QueueSort => "QueueSort",
            ExtensionPoint::PreEnqueue => "PreEnqueue",
            ExtensionPoint::PreFilter => "PreFilter",
            ExtensionPoint::Filter => "Filter",
            ExtensionPoint::PostFilter => "PostFilter",
            ExtensionPoint::PreScore => "PreScore",
            ExtensionPoint::Score => "Score",
            ExtensionPoint::Reserve => "Reserve",
            ExtensionPoint::Permit => "Permit",
            ExtensionPoint::PreBind => "PreBind",
            ExtensionPoint::Bind => "Bind",
            ExtensionPoint::PostBind => "PostBind",
        }
    }

    /// The key of this point in a profile's `plugins` section, e.g. `preFilter`.
    #[must_use]
    pub const fn config_name(self) -> &'static str {
        match self {
            ExtensionPoint::QueueSort => "queueSort",
            ExtensionPoint::PreEnqueue => "preEnqueue",
            ExtensionPoint::PreFilter => "preFilter",
            ExtensionPoint::Filter => "filter",
            ExtensionPoint::PostFilter => "postFilter",
            ExtensionPoint::PreScore => "preScore",
            ExtensionPoint::Score => "score",
            ExtensionPoint::Reserve => "reserve",
            ExtensionPoint::Permit => "permit",
            ExtensionPoint::PreBind => "preBind",
            ExtensionPoint::Bind => "bind",
            ExtensionPoint::PostBind => "postBind",
        }
    }
}

impl fmt::Display for ExtensionPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_name())
    }
}

/// A validated scheduler configuration: upstream's `KubeSchedulerConfiguration` after v1
/// defaulting, validation and per-profile plugin resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// Profiles, in configuration order; scheduler names are unique.
    pub profiles: Vec<ProfileConfig>,
    /// Parallelism of the scheduling algorithms (default 16).
    pub parallelism: u32,
    /// Global percentage of nodes to find feasible before scoring; `None` when unset.
    /// `None` and `Some(0)` both mean upstream's adaptive percentage.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Initial backoff of unschedulable pods (default 1s).
    pub pod_initial_backoff: Duration,
    /// Maximum backoff of unschedulable pods (default 10s).
    pub pod_max_backoff: Duration,
    /// Leader election settings.
    pub leader_election: LeaderElectionConfig,
    /// API server connection settings.
    pub client_connection: ClientConnectionConfig,
}

/// Leader election settings (`componentbaseconfig.LeaderElectionConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    /// Whether to run leader election (default true).
    pub leader_elect: bool,
    /// How long a lease is held without renewal (default 15s).
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew (default 10s).
    pub renew_deadline: Duration,
    /// Wait between attempts (default 2s).
    pub retry_period: Duration,
    /// Lock type; always `leases` when leader election is on.
    pub resource_lock: String,
    /// Lock name (default `kube-scheduler`).
    pub resource_name: String,
    /// Lock namespace (default `kube-system`).
    pub resource_namespace: String,
}

/// API server connection settings (`componentbaseconfig.ClientConnectionConfiguration`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConnectionConfig {
    /// Path to a kubeconfig file, if configured.
    pub kubeconfig: Option<String>,
    /// Queries per second (default 50).
    pub qps: f32,
    /// Burst (default 100).
    pub burst: u32,
    /// Request content type as configured; `None` when unset (upstream then defaults to
    /// `application/vnd.kubernetes.protobuf`).
    pub content_type: Option<String>,
}

/// One scheduling profile, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileConfig {
    /// Pods with this `spec.schedulerName` use this profile.
    pub scheduler_name: String,
    /// Overrides the global percentage when set.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Resolved, ordered plugin list per extension point after multiPoint expansion and
    /// enabled/disabled merging, as upstream's framework builds it. Every point is present
    /// (possibly with an empty list).
    pub points: BTreeMap<ExtensionPoint, Vec<PluginRef>>,
    /// Plugin arguments after v1 defaulting and validation.
    pub args: PluginArgs,
}

impl ProfileConfig {
    /// The ordered plugins at `point`.
    #[must_use]
    pub fn plugins(&self, point: ExtensionPoint) -> &[PluginRef] {
        self.points.get(&point).map_or(&[], Vec::as_slice)
    }

    /// The Score weight of `plugin`, if it is enabled at Score.
    #[must_use]
    pub fn score_weight(&self, plugin: &str) -> Option<i32> {
        self.plugins(ExtensionPoint::Score)
            .iter()
            .find(|r| r.name == plugin)
            .map(|r| r.weight)
    }

    /// Whether `plugin` is enabled at any extension point.
    #[must_use]
    pub fn is_enabled(&self, plugin: &str) -> bool {
        self.points.values().flatten().any(|r| r.name == plugin)
    }

    /// Decodes `plugin`'s `pluginConfig` args (an empty mapping when the profile has none) into
    /// the plugin's own type: what an out-of-tree plugin's factory calls. An error names the
    /// field (`args.weight: invalid type: string "x", expected i32`); give the type
    /// `#[serde(deny_unknown_fields)]` to reject misspelt fields as upstream's strict decoding
    /// does.
    ///
    /// # Errors
    /// The args do not decode into `T`.
    pub fn decode_args<T: serde::de::DeserializeOwned>(&self, plugin: &str) -> Result<T, String> {
        let mut value = match self.args.other.get(plugin) {
            None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
            Some(v) => v.clone(),
        };
        // A typed args document may carry its apiVersion and kind; the plugin's type need not.
        if let Value::Object(m) = &mut value {
            m.remove("apiVersion");
            m.remove("kind");
        }
        de::from_value(&value, "args").map_err(|e| e.to_string())
    }
}

/// A plugin at an extension point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRef {
    /// Upstream plugin name.
    pub name: String,
    /// Score weight (1 when configured as 0 or unset, as upstream). Upstream accepts any other
    /// int32, negative included. 0 at every point other than Score.
    pub weight: i32,
}

/// Plugin arguments of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginArgs {
    /// `NodeResourcesFitArgs` (defaults when not configured).
    pub node_resources_fit: NodeResourcesFitArgs,
    /// `NodeResourcesBalancedAllocationArgs` (defaults when not configured).
    pub balanced_allocation: NodeResourcesBalancedAllocationArgs,
    /// `NodeAffinityArgs` (empty when not configured).
    pub node_affinity: NodeAffinityArgs,
    /// Other plugins' arguments by plugin name, as upstream JSON (camelCase fields, without
    /// `apiVersion`/`kind`). Plugins with a v1 args kind (`DefaultPreemption`,
    /// `InterPodAffinity`, `PodTopologySpread`, `VolumeBinding`, `DynamicResources`) are
    /// validated and carry v1 defaults, and appear whenever the plugin is enabled or
    /// configured; arguments given to plugins without an args kind are kept as written.
    pub other: BTreeMap<String, Value>,
}

/// `NodeResourcesFitArgs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeResourcesFitArgs {
    /// Extended resources the Filter ignores.
    pub ignored_resources: Vec<String>,
    /// Extended-resource groups (the part before `/`) the Filter ignores.
    pub ignored_resource_groups: Vec<String>,
    /// Score strategy.
    pub scoring_strategy: ScoringStrategy,
}

/// NodeResourcesFit's score strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringStrategy {
    /// Which formula.
    pub kind: ScoringStrategyKind,
    /// Resources and weights (weights 1..=100; default cpu:1, memory:1).
    pub resources: Vec<ResourceSpec>,
}

/// NodeResourcesFit's score formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoringStrategyKind {
    /// Prefer nodes with the most free capacity (the default).
    LeastAllocated,
    /// Prefer nodes with the least free capacity.
    MostAllocated,
    /// Piecewise-linear function of utilization.
    RequestedToCapacityRatio {
        /// Points as configured: utilization strictly increasing in 0..=100, score in 0..=10
        /// (the scorer scales scores by 10).
        shape: Vec<UtilizationShapePoint>,
    },
}

/// One point of a RequestedToCapacityRatio shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtilizationShapePoint {
    /// Utilization percentage, 0..=100.
    pub utilization: i32,
    /// Score, 0..=10.
    pub score: i32,
}

/// A resource name and its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// Resource name, e.g. `cpu`.
    pub name: String,
    /// Weight (v1 defaults 0 to 1).
    pub weight: i64,
}

/// `NodeResourcesBalancedAllocationArgs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeResourcesBalancedAllocationArgs {
    /// Resources to balance (weights are always 1; default cpu, memory).
    pub resources: Vec<ResourceSpec>,
}

/// `NodeAffinityArgs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeAffinityArgs {
    /// Affinity every pod must also satisfy (required terms) or prefers (preferred terms).
    pub added_affinity: Option<k8s_openapi::api::core::v1::NodeAffinity>,
}

/// One configuration problem, at a field path such as `profiles[0].plugins.score.enabled[1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending field (empty for the document itself).
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl FieldError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid YAML or JSON.
    #[error("invalid KubeSchedulerConfiguration: {0}")]
    Syntax(String),
    /// The document does not match the v1 schema (unknown field, wrong type, missing field),
    /// or fails validation. Every problem found is listed.
    #[error("invalid KubeSchedulerConfiguration: {}", join(.0))]
    Invalid(Vec<FieldError>),
}

impl ConfigError {
    /// The field errors (empty for a syntax error).
    #[must_use]
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ConfigError::Syntax(_) => &[],
            ConfigError::Invalid(errs) => errs,
        }
    }
}

fn join(errs: &[FieldError]) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Result` with [`ConfigError`].
pub type Result<T, E = ConfigError> = std::result::Result<T, E>;

impl SchedulerConfig {
    /// The configuration kube-scheduler runs with when given no `--config`: one
    /// `default-scheduler` profile with upstream's default plugins and weights.
    #[must_use]
    pub fn default_config() -> SchedulerConfig {
        let raw = v1::KubeSchedulerConfiguration {
            api_version: Some(v1::API_VERSION.to_string()),
            kind: Some(v1::KIND.to_string()),
            ..v1::KubeSchedulerConfiguration::default()
        };
        match resolve(&raw, &registry::Catalog::default()) {
            Ok(cfg) => cfg,
            Err(e) => unreachable!("the built-in default configuration is valid: {e}"),
        }
    }

    /// Parses, defaults and validates a `KubeSchedulerConfiguration` given as YAML or JSON
    /// text (one document).
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] for text that is not YAML/JSON; [`ConfigError::Invalid`] listing
    /// every field error otherwise (wrong `apiVersion`/`kind`, unknown fields, unknown plugins,
    /// invalid values, non-empty `extenders`, ...).
    pub fn from_yaml(text: &str) -> Result<SchedulerConfig> {
        Self::parse(text, &registry::Catalog::default())
    }

    /// [`SchedulerConfig::from_yaml`] where the profiles may also name the out-of-tree plugins
    /// `registry` declares ([`crate::Registry::register`]), at the extension points they
    /// declare; their `pluginConfig` args are kept as written for their factories to decode.
    ///
    /// # Errors
    /// As [`SchedulerConfig::from_yaml`].
    pub fn from_yaml_with(text: &str, registry: &crate::Registry) -> Result<SchedulerConfig> {
        Self::parse(
            text,
            &registry::Catalog {
                out_of_tree: Some(registry),
            },
        )
    }

    fn parse(text: &str, cat: &registry::Catalog<'_>) -> Result<SchedulerConfig> {
        let value = parse_text(text)?;
        let Value::Object(map) = &value else {
            return Err(ConfigError::Invalid(vec![FieldError::new(
                "",
                format!("expected a {} mapping, got {}", v1::KIND, type_name(&value)),
            )]));
        };
        // Check the type first: decoding a different kind would only produce noise.
        let mut errs = Vec::new();
        match map.get("apiVersion") {
            Some(Value::String(v)) if v == v1::API_VERSION => {}
            Some(other) => errs.push(FieldError::new(
                "apiVersion",
                format!(
                    "unsupported value {}: expected {:?}",
                    short(other),
                    v1::API_VERSION
                ),
            )),
            None => errs.push(FieldError::new(
                "apiVersion",
                format!("required value: expected {:?}", v1::API_VERSION),
            )),
        }
        match map.get("kind") {
            Some(Value::String(k)) if k == v1::KIND => {}
            Some(other) => {
                errs.push(FieldError::new(
                    "kind",
                    format!(
                        "unsupported value {}: expected {:?}",
                        short(other),
                        v1::KIND
                    ),
                ));
            }
            None => errs.push(FieldError::new(
                "kind",
                format!("required value: expected {:?}", v1::KIND),
            )),
        }
        if !errs.is_empty() {
            return Err(ConfigError::Invalid(errs));
        }
        let raw: v1::KubeSchedulerConfiguration = de::from_value(&value, "").map_err(|e| {
            ConfigError::Invalid(vec![FieldError::new(e.path.unwrap_or_default(), e.message)])
        })?;
        resolve(&raw, cat)
    }

    /// The profile whose scheduler name is `scheduler_name`.
    #[must_use]
    pub fn profile(&self, scheduler_name: &str) -> Option<&ProfileConfig> {
        self.profiles
            .iter()
            .find(|p| p.scheduler_name == scheduler_name)
    }
}

impl Default for SchedulerConfig {
    /// Same as [`SchedulerConfig::default_config`].
    fn default() -> Self {
        SchedulerConfig::default_config()
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(77).collect::<String>())
    } else {
        s
    }
}

/// YAML or JSON text to a JSON value. Text that looks like JSON goes through `serde_json`
/// first (YAML parsers dislike tabs in JSON); YAML flow mappings fall back to `serde_saphyr`.
fn parse_text(text: &str) -> Result<Value> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return match serde_json::from_str(trimmed) {
            Ok(value) => Ok(value),
            Err(json_err) => serde_saphyr::from_str::<Value>(trimmed)
                .map_err(|_| ConfigError::Syntax(format!("JSON: {json_err}"))),
        };
    }
    serde_saphyr::from_str::<Value>(text).map_err(|e| ConfigError::Syntax(format!("YAML: {e}")))
}

fn positive_u32(v: i32) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(0)
}

/// Parses a leader-election duration; zero/unset takes the default.
fn le_duration(
    errs: &mut Vec<FieldError>,
    path: &str,
    text: Option<&str>,
    default_ns: i128,
) -> i128 {
    match text.map(validation::parse_go_duration) {
        None | Some(Ok(0)) => default_ns,
        Some(Ok(ns)) => ns,
        Some(Err(m)) => {
            errs.push(FieldError::new(path, m));
            default_ns
        }
    }
}

fn check_percentage(errs: &mut Vec<FieldError>, path: &str, v: Option<i32>) -> Option<u32> {
    let v = v?;
    if !(0..=100).contains(&v) {
        errs.push(FieldError::new(
            path,
            format!("invalid value {v}: not in valid range [0-100]"),
        ));
    }
    Some(positive_u32(v))
}

/// Defaults, validates and resolves a decoded document.
fn resolve(
    raw: &v1::KubeSchedulerConfiguration,
    cat: &registry::Catalog<'_>,
) -> Result<SchedulerConfig> {
    let mut errs = Vec::new();

    if let Some(ext) = &raw.extenders
        && !ext.is_empty()
    {
        errs.push(FieldError::new(
            "extenders",
            format!("not supported: Placer does not call scheduler extenders ({} configured); remove the list", ext.len()),
        ));
    }

    let parallelism = raw.parallelism.unwrap_or(16);
    if parallelism <= 0 {
        errs.push(FieldError::new(
            "parallelism",
            format!("invalid value {parallelism}: should be an integer value greater than zero"),
        ));
    }

    // Leader election: defaults (RecommendedDefaultLeaderElectionConfiguration + scheduler's
    // lock name/namespace), then component-base validation when enabled.
    let le = raw.leader_election.clone().unwrap_or_default();
    let leader_elect = le.leader_elect.unwrap_or(true);
    let lease = le_duration(
        &mut errs,
        "leaderElection.leaseDuration",
        le.lease_duration.as_deref(),
        15_000_000_000,
    );
    let renew = le_duration(
        &mut errs,
        "leaderElection.renewDeadline",
        le.renew_deadline.as_deref(),
        10_000_000_000,
    );
    let retry = le_duration(
        &mut errs,
        "leaderElection.retryPeriod",
        le.retry_period.as_deref(),
        2_000_000_000,
    );
    let non_empty =
        |v: Option<String>, d: &str| v.filter(|s| !s.is_empty()).unwrap_or_else(|| d.to_string());
    let resource_lock = non_empty(le.resource_lock, "leases");
    let resource_name = non_empty(le.resource_name, "kube-scheduler");
    let resource_namespace = non_empty(le.resource_namespace, "kube-system");
    if leader_elect {
        for (field, ns) in [
            ("leaseDuration", lease),
            ("renewDeadline", renew),
            ("retryPeriod", retry),
        ] {
            if ns <= 0 {
                errs.push(FieldError::new(
                    format!("leaderElection.{field}"),
                    "invalid value: must be greater than zero",
                ));
            }
        }
        if lease <= renew {
            errs.push(FieldError::new(
                "leaderElection.leaseDuration",
                "invalid value: must be greater than `RenewDeadline`",
            ));
        }
        if resource_lock != "leases" {
            errs.push(FieldError::new(
                "leaderElection.resourceLock",
                format!("invalid value {resource_lock:?}: resourceLock value must be \"leases\""),
            ));
        }
    }
    let leader_election = LeaderElectionConfig {
        leader_elect,
        lease_duration: validation::nanos_to_duration(lease),
        renew_deadline: validation::nanos_to_duration(renew),
        retry_period: validation::nanos_to_duration(retry),
        resource_lock,
        resource_name,
        resource_namespace,
    };

    let cc = raw.client_connection.clone().unwrap_or_default();
    let qps = cc.qps.filter(|q| *q != 0.0).unwrap_or(50.0);
    let burst = cc.burst.filter(|b| *b != 0).unwrap_or(100);
    if burst < 0 {
        errs.push(FieldError::new(
            "clientConnection.burst",
            format!("invalid value {burst}: must be non-negative"),
        ));
    }
    let client_connection = ClientConnectionConfig {
        kubeconfig: cc.kubeconfig.filter(|s| !s.is_empty()),
        qps,
        burst: positive_u32(burst),
        content_type: cc.content_type.filter(|s| !s.is_empty()),
    };

    let percentage_of_nodes_to_score = check_percentage(
        &mut errs,
        "percentageOfNodesToScore",
        raw.percentage_of_nodes_to_score,
    );

    let initial = raw.pod_initial_backoff_seconds.unwrap_or(1);
    let max = raw.pod_max_backoff_seconds.unwrap_or(10);
    if initial <= 0 {
        errs.push(FieldError::new(
            "podInitialBackoffSeconds",
            format!("invalid value {initial}: must be greater than 0"),
        ));
    }
    if max < initial {
        errs.push(FieldError::new(
            "podMaxBackoffSeconds",
            format!(
                "invalid value {max}: must be greater than or equal to PodInitialBackoffSeconds"
            ),
        ));
    }
    let secs = |s: i64| Duration::from_secs(u64::try_from(s.max(0)).unwrap_or(0));

    // Profiles: one default profile when none; the default name only for a single profile.
    let mut raw_profiles = raw.profiles.clone().unwrap_or_default();
    if raw_profiles.is_empty() {
        raw_profiles.push(v1::KubeSchedulerProfile::default());
    }
    if raw_profiles.len() == 1 && raw_profiles[0].scheduler_name.is_none() {
        raw_profiles[0].scheduler_name = Some(DEFAULT_SCHEDULER_NAME.to_string());
    }
    let mut profiles = Vec::with_capacity(raw_profiles.len());
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut queue_sorts: Vec<Option<resolve::Set>> = Vec::new();
    for (i, prof) in raw_profiles.iter().enumerate() {
        let path = format!("profiles[{i}]");
        let scheduler_name = prof.scheduler_name.clone().unwrap_or_default();
        if scheduler_name.is_empty() {
            errs.push(FieldError::new(
                format!("{path}.schedulerName"),
                "required value: every profile needs a non-empty schedulerName",
            ));
        } else if let Some(first) = names.get(&scheduler_name) {
            errs.push(FieldError::new(
                format!("{path}.schedulerName"),
                format!(
                    "duplicate value {scheduler_name:?} (also at profiles[{first}].schedulerName)"
                ),
            ));
        } else {
            names.insert(scheduler_name.clone(), i);
        }
        let percentage = check_percentage(
            &mut errs,
            &format!("{path}.percentageOfNodesToScore"),
            prof.percentage_of_nodes_to_score,
        );
        let resolved = resolve::resolve_plugins(
            cat,
            &mut errs,
            &path,
            &scheduler_name,
            prof.plugins.as_ref(),
        );
        let enabled: BTreeSet<String> = resolved
            .as_ref()
            .map(|r| r.enabled_names.clone())
            .unwrap_or_default();
        let args = args::resolve_args(
            cat,
            &mut errs,
            &path,
            prof.plugin_config.as_deref().unwrap_or_default(),
            enabled,
        );
        queue_sorts.push(resolved.as_ref().map(|r| r.queue_sort.clone()));
        if let Some(resolved) = resolved {
            profiles.push(ProfileConfig {
                scheduler_name,
                percentage_of_nodes_to_score: percentage,
                points: resolved.points,
                args,
            });
        }
    }
    check_common_queue_sort(&mut errs, &raw_profiles, &queue_sorts);

    if !errs.is_empty() {
        return Err(ConfigError::Invalid(errs));
    }
    Ok(SchedulerConfig {
        profiles,
        parallelism: positive_u32(parallelism),
        percentage_of_nodes_to_score,
        pod_initial_backoff: secs(initial),
        pod_max_backoff: secs(max),
        leader_election,
        client_connection,
    })
}

/// upstream `validateCommonQueueSort`: every profile's (merged) `queueSort` set and the queue
/// sort plugin's arguments must equal the first profile's.
fn check_common_queue_sort(
    errs: &mut Vec<FieldError>,
    profiles: &[v1::KubeSchedulerProfile],
    sets: &[Option<resolve::Set>],
) {
    let Some(Some(canon)) = sets.first() else {
        return;
    };
    if canon.enabled.len() > 1 {
        errs.push(FieldError::new(
            "profiles[0].plugins.queueSort.enabled",
            format!(
                "invalid value {}: only one queue sort plugin can be enabled",
                canon.enabled.len()
            ),
        ));
    }
    let queue_sort_name = canon.enabled.first().map(|(n, _)| n.as_str());
    let args_of = |p: &v1::KubeSchedulerProfile, name: &str| {
        p.plugin_config
            .iter()
            .flatten()
            .find(|c| c.name == name)
            .map(|c| c.args.clone())
    };
    let canon_args = queue_sort_name.and_then(|n| args_of(&profiles[0], n));
    for (i, set) in sets.iter().enumerate().skip(1) {
        let Some(set) = set else { continue };
        if set != canon {
            errs.push(FieldError::new(
                format!("profiles[{i}].plugins.queueSort"),
                "invalid value: must be the same for all profiles",
            ));
        }
        if let Some(name) = queue_sort_name
            && let Some(args) = args_of(&profiles[i], name)
            && Some(&args) != canon_args.as_ref()
        {
            errs.push(FieldError::new(
                format!("profiles[{i}].pluginConfig"),
                format!("invalid value: args of queueSort plugin {name:?} must be the same for all profiles"),
            ));
        }
    }
}
