//! `pluginConfig[].args`: strict decoding of each `<Name>Args` kind, v1 defaulting
//! (`apis/config/v1/defaults.go`, `SetDefaults_*Args`) and validation
//! (`apis/config/validation/validation_pluginargs.go`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::de;
use super::registry::PLUGINS_WITH_ARGS;
use super::validation::{check_added_affinity, check_qualified_name, parse_go_duration};
use super::{
    FieldError, NodeAffinityArgs, NodeResourcesBalancedAllocationArgs, NodeResourcesFitArgs,
    PluginArgs, ResourceSpec, ScoringStrategy, ScoringStrategyKind, UtilizationShapePoint, v1,
};

/// `MaxCustomPriorityScore`: the top of a shape's score axis.
const MAX_CUSTOM_PRIORITY_SCORE: i32 = 10;

/// upstream `defaultResourceSpec`: cpu and memory, weight 1.
pub(crate) fn default_resources() -> Vec<ResourceSpec> {
    vec![
        ResourceSpec {
            name: "cpu".to_string(),
            weight: 1,
        },
        ResourceSpec {
            name: "memory".to_string(),
            weight: 1,
        },
    ]
}

impl Default for NodeResourcesFitArgs {
    /// `SetDefaults_NodeResourcesFitArgs` on empty args: `LeastAllocated` on cpu and memory.
    fn default() -> Self {
        NodeResourcesFitArgs {
            ignored_resources: Vec::new(),
            ignored_resource_groups: Vec::new(),
            scoring_strategy: ScoringStrategy {
                kind: ScoringStrategyKind::LeastAllocated,
                resources: default_resources(),
            },
        }
    }
}

impl Default for NodeResourcesBalancedAllocationArgs {
    /// `SetDefaults_NodeResourcesBalancedAllocationArgs` on empty args: cpu and memory.
    fn default() -> Self {
        NodeResourcesBalancedAllocationArgs {
            resources: default_resources(),
        }
    }
}

impl Default for PluginArgs {
    /// Every typed argument at its v1 default, no other arguments.
    fn default() -> Self {
        PluginArgs {
            node_resources_fit: NodeResourcesFitArgs::default(),
            balanced_allocation: NodeResourcesBalancedAllocationArgs::default(),
            node_affinity: NodeAffinityArgs::default(),
            other: BTreeMap::new(),
        }
    }
}

/// upstream `PluginConfig.decodeNestedObjects`: `apiVersion`/`kind`, when present, must name
/// this plugin's args kind.
fn check_type_meta(
    errs: &mut Vec<FieldError>,
    path: &str,
    plugin: &str,
    api_version: Option<&str>,
    kind: Option<&str>,
) {
    let want_kind = format!("{plugin}Args");
    if let Some(v) = api_version
        && v != v1::API_VERSION
    {
        errs.push(FieldError::new(
            format!("{path}.apiVersion"),
            format!("unsupported value {v:?}: expected {:?}", v1::API_VERSION),
        ));
    }
    if let Some(k) = kind
        && k != want_kind
    {
        errs.push(FieldError::new(
            format!("{path}.kind"),
            format!("args for plugin {plugin} were not of type {want_kind}, got {k:?}"),
        ));
    }
}

/// Decodes `value` as `T`, pushing a path-qualified error on failure.
fn decode<T: serde::de::DeserializeOwned>(
    errs: &mut Vec<FieldError>,
    path: &str,
    value: &Value,
) -> Option<T> {
    match de::from_value::<T>(value, path) {
        Ok(v) => Some(v),
        Err(e) => {
            errs.push(FieldError::new(
                e.path.unwrap_or_else(|| path.to_string()),
                e.message,
            ));
            None
        }
    }
}

/// v1 defaulting of a resource list: empty → cpu/memory; weight 0/unset → 1.
fn default_resource_list(list: Option<&Vec<v1::ResourceSpec>>) -> Vec<ResourceSpec> {
    match list {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|r| ResourceSpec {
                name: r.name.clone(),
                weight: r.weight.filter(|w| *w != 0).unwrap_or(1),
            })
            .collect(),
        _ => default_resources(),
    }
}

/// upstream `validateFunctionShape`.
fn check_shape(errs: &mut Vec<FieldError>, path: &str, shape: &[UtilizationShapePoint]) {
    if shape.is_empty() {
        errs.push(FieldError::new(
            path,
            "required value: at least one point must be specified",
        ));
        return;
    }
    if let Some(i) = (1..shape.len()).find(|&i| shape[i - 1].utilization >= shape[i].utilization) {
        errs.push(FieldError::new(
            format!("{path}[{i}].utilization"),
            format!(
                "invalid value {}: values must be sorted in increasing order",
                shape[i].utilization
            ),
        ));
    }
    for (i, p) in shape.iter().enumerate() {
        if !(0..=100).contains(&p.utilization) {
            errs.push(FieldError::new(
                format!("{path}[{i}].utilization"),
                format!(
                    "invalid value {}: not in valid range [0, 100]",
                    p.utilization
                ),
            ));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&p.score) {
            errs.push(FieldError::new(
                format!("{path}[{i}].score"),
                format!(
                    "invalid value {}: not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]",
                    p.score
                ),
            ));
        }
    }
}

fn shape_from_v1(shape: Option<&Vec<v1::UtilizationShapePoint>>) -> Vec<UtilizationShapePoint> {
    shape
        .iter()
        .copied()
        .flatten()
        .map(|p| UtilizationShapePoint {
            utilization: p.utilization,
            score: p.score,
        })
        .collect()
}

/// `SetDefaults_NodeResourcesFitArgs` + `ValidateNodeResourcesFitArgs`.
fn node_resources_fit(
    errs: &mut Vec<FieldError>,
    path: &str,
    raw: &v1::NodeResourcesFitArgs,
) -> NodeResourcesFitArgs {
    let ignored_resources = raw.ignored_resources.clone().unwrap_or_default();
    for (i, r) in ignored_resources.iter().enumerate() {
        check_qualified_name(errs, &format!("{path}.ignoredResources[{i}]"), r);
    }
    let ignored_resource_groups = raw.ignored_resource_groups.clone().unwrap_or_default();
    for (i, g) in ignored_resource_groups.iter().enumerate() {
        let p = format!("{path}.ignoredResourceGroups[{i}]");
        if g.contains('/') {
            errs.push(FieldError::new(
                p.clone(),
                format!("invalid value {g:?}: resource group name can't contain '/'"),
            ));
        }
        check_qualified_name(errs, &p, g);
    }
    let mut out = NodeResourcesFitArgs {
        ignored_resources,
        ignored_resource_groups,
        ..NodeResourcesFitArgs::default()
    };
    let Some(strategy) = &raw.scoring_strategy else {
        return out;
    };
    let sp = format!("{path}.scoringStrategy");
    let resources = default_resource_list(strategy.resources.as_ref());
    for (i, r) in resources.iter().enumerate() {
        if !(1..=100).contains(&r.weight) {
            errs.push(FieldError::new(
                format!("{sp}.resources[{i}].weight"),
                format!(
                    "invalid value {}: resource weight of {} not in valid range (0, 100]",
                    r.weight, r.name
                ),
            ));
        }
    }
    let type_ = strategy.type_.as_deref().unwrap_or("");
    let rtcr_path = format!("{sp}.requestedToCapacityRatio");
    let kind = match type_ {
        "LeastAllocated" | "MostAllocated" => {
            if strategy.requested_to_capacity_ratio.is_some() {
                errs.push(FieldError::new(
                    rtcr_path,
                    "forbidden: must be nil when type is not RequestedToCapacityRatio",
                ));
            }
            if type_ == "LeastAllocated" {
                ScoringStrategyKind::LeastAllocated
            } else {
                ScoringStrategyKind::MostAllocated
            }
        }
        "RequestedToCapacityRatio" => {
            let shape = match &strategy.requested_to_capacity_ratio {
                Some(param) => {
                    let shape = shape_from_v1(param.shape.as_ref());
                    check_shape(errs, &format!("{rtcr_path}.shape"), &shape);
                    shape
                }
                None => {
                    errs.push(FieldError::new(
                        rtcr_path,
                        "required value: must be specified when type is RequestedToCapacityRatio",
                    ));
                    Vec::new()
                }
            };
            ScoringStrategyKind::RequestedToCapacityRatio { shape }
        }
        other => {
            errs.push(FieldError::new(
                format!("{sp}.type"),
                format!(
                    "unsupported value {other:?}: supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""
                ),
            ));
            ScoringStrategyKind::LeastAllocated
        }
    };
    out.scoring_strategy = ScoringStrategy { kind, resources };
    out
}

/// `SetDefaults_NodeResourcesBalancedAllocationArgs` + `ValidateNodeResourcesBalancedAllocationArgs`.
fn balanced_allocation(
    errs: &mut Vec<FieldError>,
    path: &str,
    raw: &v1::NodeResourcesBalancedAllocationArgs,
) -> NodeResourcesBalancedAllocationArgs {
    let resources = default_resource_list(raw.resources.as_ref());
    for (i, r) in resources.iter().enumerate() {
        if resources[..i].iter().any(|prev| prev.name == r.name) {
            errs.push(FieldError::new(
                format!("{path}.resources[{i}].name"),
                format!("duplicate value {:?}", r.name),
            ));
        }
        if r.weight != 1 {
            errs.push(FieldError::new(
                format!("{path}.resources[{i}].weight"),
                format!("invalid value {}: must be 1", r.weight),
            ));
        }
    }
    NodeResourcesBalancedAllocationArgs { resources }
}

/// `SetDefaults_DefaultPreemptionArgs` + `ValidateDefaultPreemptionArgs`.
fn default_preemption(
    errs: &mut Vec<FieldError>,
    path: &str,
    raw: &v1::DefaultPreemptionArgs,
) -> Value {
    let pct = raw.min_candidate_nodes_percentage.unwrap_or(10);
    let abs = raw.min_candidate_nodes_absolute.unwrap_or(100);
    let pct_path = format!("{path}.minCandidateNodesPercentage");
    let abs_path = format!("{path}.minCandidateNodesAbsolute");
    if !(0..=100).contains(&pct) {
        errs.push(FieldError::new(
            pct_path.clone(),
            format!("invalid value {pct}: not in valid range [0, 100]"),
        ));
    }
    if abs < 0 {
        errs.push(FieldError::new(
            abs_path.clone(),
            format!("invalid value {abs}: not in valid range [0, inf)"),
        ));
    }
    if pct == 0 && abs == 0 {
        errs.push(FieldError::new(
            pct_path,
            "invalid value 0: cannot be zero at the same time as minCandidateNodesAbsolute",
        ));
        errs.push(FieldError::new(
            abs_path,
            "invalid value 0: cannot be zero at the same time as minCandidateNodesPercentage",
        ));
    }
    json!({"minCandidateNodesPercentage": pct, "minCandidateNodesAbsolute": abs})
}

/// `SetDefaults_InterPodAffinityArgs` + `ValidateInterPodAffinityArgs`.
fn inter_pod_affinity(
    errs: &mut Vec<FieldError>,
    path: &str,
    raw: &v1::InterPodAffinityArgs,
) -> Value {
    let weight = raw.hard_pod_affinity_weight.unwrap_or(1);
    if !(0..=100).contains(&weight) {
        errs.push(FieldError::new(
            format!("{path}.hardPodAffinityWeight"),
            format!("invalid value {weight}: not in valid range [0, 100]"),
        ));
    }
    json!({
        "hardPodAffinityWeight": weight,
        "ignorePreferredTermsOfExistingPods": raw.ignore_preferred_terms_of_existing_pods.unwrap_or(false),
    })
}

/// `SetDefaults_PodTopologySpreadArgs` + `ValidatePodTopologySpreadArgs`.
fn pod_topology_spread(
    errs: &mut Vec<FieldError>,
    path: &str,
    raw: &v1::PodTopologySpreadArgs,
) -> Value {
    let defaulting = raw
        .defaulting_type
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "System".to_string());
    let constraints = raw.default_constraints.clone().unwrap_or_default();
    let dt_path = format!("{path}.defaultingType");
    if defaulting != "System" && defaulting != "List" {
        errs.push(FieldError::new(
            dt_path,
            format!("unsupported value {defaulting:?}: supported values: \"System\", \"List\""),
        ));
    } else if defaulting == "System" && !constraints.is_empty() {
        errs.push(FieldError::new(
            dt_path,
            "invalid value \"System\": when .defaultConstraints are not empty",
        ));
    }
    let cp = format!("{path}.defaultConstraints");
    for (i, c) in constraints.iter().enumerate() {
        let p = format!("{cp}[{i}]");
        if c.max_skew <= 0 {
            errs.push(FieldError::new(
                format!("{p}.maxSkew"),
                format!("invalid value {}: not in valid range (0, inf)", c.max_skew),
            ));
        }
        if c.topology_key.is_empty() {
            errs.push(FieldError::new(
                format!("{p}.topologyKey"),
                "required value: can not be empty",
            ));
        } else {
            check_qualified_name(errs, &format!("{p}.topologyKey"), &c.topology_key);
        }
        match c.when_unsatisfiable.as_str() {
            "" => errs.push(FieldError::new(format!("{p}.whenUnsatisfiable"), "required value: can not be empty")),
            "DoNotSchedule" | "ScheduleAnyway" => {}
            other => errs.push(FieldError::new(
                format!("{p}.whenUnsatisfiable"),
                format!("unsupported value {other:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\""),
            )),
        }
        if c.label_selector.is_some() {
            errs.push(FieldError::new(
                format!("{p}.labelSelector"),
                "forbidden: constraint must not define a selector, as they deduced for each pod",
            ));
        }
        if constraints[..i].iter().any(|o| {
            o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
        }) {
            errs.push(FieldError::new(
                p,
                format!(
                    "duplicate value \"{{{}, {}}}\"",
                    c.topology_key, c.when_unsatisfiable
                ),
            ));
        }
    }
    let mut out = Map::new();
    if !constraints.is_empty() {
        out.insert(
            "defaultConstraints".to_string(),
            serde_json::to_value(&constraints).unwrap_or(Value::Null),
        );
    }
    out.insert("defaultingType".to_string(), Value::String(defaulting));
    Value::Object(out)
}

/// `SetDefaults_VolumeBindingArgs` + `ValidateVolumeBindingArgs` with upstream 1.35's default
/// feature gates (`StorageCapacityScoring` is alpha and off, so `shape` is rejected).
fn volume_binding(errs: &mut Vec<FieldError>, path: &str, raw: &v1::VolumeBindingArgs) -> Value {
    let timeout = raw.bind_timeout_seconds.unwrap_or(600);
    if timeout < 0 {
        errs.push(FieldError::new(
            format!("{path}.bindTimeoutSeconds"),
            format!("invalid value {timeout}: invalid BindTimeoutSeconds, should not be a negative value"),
        ));
    }
    if raw.shape.is_some() {
        errs.push(FieldError::new(
            format!("{path}.shape"),
            "unexpected field `shape`, remove it or turn on the feature gate StorageCapacityScoring",
        ));
    }
    json!({"bindTimeoutSeconds": timeout})
}

/// `ValidateDynamicResourcesArgs` (durations must parse; filterTimeout >= 0, bindingTimeout >= 1s).
fn dynamic_resources(
    errs: &mut Vec<FieldError>,
    path: &str,
    raw: &v1::DynamicResourcesArgs,
) -> Value {
    let mut out = Map::new();
    for (field, value, min_ns, rule) in [
        (
            "filterTimeout",
            &raw.filter_timeout,
            0_i128,
            "must be zero or positive",
        ),
        (
            "bindingTimeout",
            &raw.binding_timeout,
            1_000_000_000,
            "must be at least 1 second",
        ),
    ] {
        let Some(text) = value else { continue };
        match parse_go_duration(text) {
            Ok(ns) if ns < min_ns => errs.push(FieldError::new(
                format!("{path}.{field}"),
                format!("invalid value {text:?}: {rule}"),
            )),
            Ok(_) => {
                out.insert(field.to_string(), Value::String(text.clone()));
            }
            Err(m) => errs.push(FieldError::new(format!("{path}.{field}"), m)),
        }
    }
    Value::Object(out)
}

/// Decodes, defaults and validates one profile's `pluginConfig`, then adds defaulted arguments
/// for enabled plugins that have an args kind but no entry (as v1 defaulting does).
pub(crate) fn resolve_args(
    cat: &super::registry::Catalog<'_>,
    errs: &mut Vec<FieldError>,
    profile_path: &str,
    configs: &[v1::PluginConfig],
    enabled_names: impl IntoIterator<Item = String>,
) -> PluginArgs {
    let mut args = PluginArgs::default();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, cfg) in configs.iter().enumerate() {
        let entry_path = format!("{profile_path}.pluginConfig[{j}]");
        let name = cfg.name.as_str();
        if let Some(first) = seen.insert(name, j) {
            seen.insert(name, first);
            errs.push(FieldError::new(
                entry_path.clone(),
                format!("duplicate value {name:?} (also at {profile_path}.pluginConfig[{first}])"),
            ));
            continue;
        }
        if cat.points(name).is_none() {
            let message = if super::registry::REMOVED_PLUGINS.contains(&name) {
                format!("plugin {name:?} was removed in {}", v1::API_VERSION)
            } else {
                format!("unknown plugin {name:?}")
            };
            errs.push(FieldError::new(format!("{entry_path}.name"), message));
            continue;
        }
        let path = format!("{entry_path}.args");
        let empty = Value::Object(Map::new());
        let value = match &cfg.args {
            None | Some(Value::Null) => &empty,
            Some(v) => v,
        };
        macro_rules! typed {
            ($ty:ty) => {{
                let Some(raw) = decode::<$ty>(errs, &path, value) else {
                    continue;
                };
                check_type_meta(
                    errs,
                    &path,
                    name,
                    raw.api_version.as_deref(),
                    raw.kind.as_deref(),
                );
                raw
            }};
        }
        match name {
            "NodeResourcesFit" => {
                let raw = typed!(v1::NodeResourcesFitArgs);
                args.node_resources_fit = node_resources_fit(errs, &path, &raw);
            }
            "NodeResourcesBalancedAllocation" => {
                let raw = typed!(v1::NodeResourcesBalancedAllocationArgs);
                args.balanced_allocation = balanced_allocation(errs, &path, &raw);
            }
            "NodeAffinity" => {
                let raw = typed!(v1::NodeAffinityArgs);
                if let Some(affinity) = &raw.added_affinity {
                    check_added_affinity(errs, &format!("{path}.addedAffinity"), affinity);
                }
                args.node_affinity = NodeAffinityArgs {
                    added_affinity: raw.added_affinity,
                };
            }
            "DefaultPreemption" => {
                let raw = typed!(v1::DefaultPreemptionArgs);
                args.other
                    .insert(name.to_string(), default_preemption(errs, &path, &raw));
            }
            "InterPodAffinity" => {
                let raw = typed!(v1::InterPodAffinityArgs);
                args.other
                    .insert(name.to_string(), inter_pod_affinity(errs, &path, &raw));
            }
            "PodTopologySpread" => {
                let raw = typed!(v1::PodTopologySpreadArgs);
                args.other
                    .insert(name.to_string(), pod_topology_spread(errs, &path, &raw));
            }
            "VolumeBinding" => {
                let raw = typed!(v1::VolumeBindingArgs);
                args.other
                    .insert(name.to_string(), volume_binding(errs, &path, &raw));
            }
            "DynamicResources" => {
                let raw = typed!(v1::DynamicResourcesArgs);
                args.other
                    .insert(name.to_string(), dynamic_resources(errs, &path, &raw));
            }
            // No args kind upstream (an in-tree plugin ignores them), or an out-of-tree
            // plugin's: kept as written, for its factory to decode
            // ([`crate::config::ProfileConfig::decode_args`]).
            _ => {
                args.other.insert(name.to_string(), value.clone());
            }
        }
    }
    // upstream setDefaults_KubeSchedulerProfile: defaulted args for enabled plugins without an entry.
    let mut scratch = Vec::new();
    for name in enabled_names {
        if seen.contains_key(name.as_str()) || !PLUGINS_WITH_ARGS.contains(&name.as_str()) {
            continue;
        }
        let value = match name.as_str() {
            "DefaultPreemption" => {
                default_preemption(&mut scratch, "", &v1::DefaultPreemptionArgs::default())
            }
            "InterPodAffinity" => {
                inter_pod_affinity(&mut scratch, "", &v1::InterPodAffinityArgs::default())
            }
            "PodTopologySpread" => {
                pod_topology_spread(&mut scratch, "", &v1::PodTopologySpreadArgs::default())
            }
            "VolumeBinding" => volume_binding(&mut scratch, "", &v1::VolumeBindingArgs::default()),
            "DynamicResources" => Value::Object(Map::new()),
            // Typed: already at their defaults.
            _ => continue,
        };
        args.other.insert(name, value);
    }
    args
}
