//! From a profile's `plugins` section to one ordered plugin list per extension point, the way
//! upstream gets there in two steps:
//!
//! 1. v1 defaulting (`apis/config/v1/default_plugins.go`, `mergePlugins`): the user's sets are
//!    merged into the default set, point by point. The defaults only populate `multiPoint`, so
//!    a specific point's merged set is exactly what the user wrote.
//! 2. Framework construction (`framework/runtime/framework.go`, `NewFramework`,
//!    `expandMultiPointPlugins`, `getScoreWeights`): specific points are taken as written, then
//!    every `multiPoint` plugin is added at each point it implements unless that point disables
//!    it (or `*`). A plugin named both at a specific point and in `multiPoint` keeps the specific
//!    entry; such overrides come first, then the `multiPoint` plugins, then the remaining
//!    specific ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::registry::{Catalog, DEFAULT_MULTI_POINT, REMOVED_PLUGINS};
use super::{ExtensionPoint, FieldError, PluginRef, v1};

/// A plugin set in upstream's internal form: weight 0 means unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Set {
    pub(crate) enabled: Vec<(String, i32)>,
    pub(crate) disabled: Vec<String>,
}

impl Set {
    fn from_v1(set: Option<&v1::PluginSet>) -> Set {
        let Some(set) = set else {
            return Set::default();
        };
        Set {
            enabled: set
                .enabled
                .iter()
                .flatten()
                .map(|p| (p.name.clone(), p.weight.unwrap_or(0)))
                .collect(),
            disabled: set
                .disabled
                .iter()
                .flatten()
                .map(|p| p.name.clone())
                .collect(),
        }
    }

    fn disables(&self, name: &str) -> bool {
        self.disabled.iter().any(|d| d == name)
    }
}

/// The result of resolving one profile's plugins.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Ordered plugins per extension point (every point present).
    pub(crate) points: BTreeMap<ExtensionPoint, Vec<PluginRef>>,
    /// The merged `queueSort` set, compared across profiles as upstream's validation does.
    pub(crate) queue_sort: Set,
    /// Names enabled anywhere after merging (upstream's `pluginsNames`), for default args.
    pub(crate) enabled_names: BTreeSet<String>,
}

/// The v1 `plugins` section for `point`.
fn specific_v1(plugins: Option<&v1::Plugins>, point: ExtensionPoint) -> Option<&v1::PluginSet> {
    let p = plugins?;
    match point {
        ExtensionPoint::QueueSort => p.queue_sort.as_ref(),
        ExtensionPoint::PreEnqueue => p.pre_enqueue.as_ref(),
        ExtensionPoint::PreFilter => p.pre_filter.as_ref(),
        ExtensionPoint::Filter => p.filter.as_ref(),
        ExtensionPoint::PostFilter => p.post_filter.as_ref(),
        ExtensionPoint::PreScore => p.pre_score.as_ref(),
        ExtensionPoint::Score => p.score.as_ref(),
        ExtensionPoint::Reserve => p.reserve.as_ref(),
        ExtensionPoint::Permit => p.permit.as_ref(),
        ExtensionPoint::PreBind => p.pre_bind.as_ref(),
        ExtensionPoint::Bind => p.bind.as_ref(),
        ExtensionPoint::PostBind => p.post_bind.as_ref(),
    }
}

fn unknown_plugin_message(name: &str) -> String {
    if REMOVED_PLUGINS.contains(&name) {
        format!(
            "plugin {name:?} was removed in {} (its function moved to NodeVolumeLimits); remove it from the configuration",
            v1::API_VERSION
        )
    } else {
        format!("unknown plugin {name:?}")
    }
}

/// Rejects names neither upstream's in-tree registry nor the out-of-tree plugins have.
fn check_names(
    cat: &Catalog<'_>,
    errs: &mut Vec<FieldError>,
    path: &str,
    set: Option<&v1::PluginSet>,
) {
    let Some(set) = set else { return };
    for (j, p) in set.enabled.iter().flatten().enumerate() {
        if cat.points(&p.name).is_none() {
            errs.push(FieldError::new(
                format!("{path}.enabled[{j}]"),
                unknown_plugin_message(&p.name),
            ));
        }
    }
    for (j, p) in set.disabled.iter().flatten().enumerate() {
        if p.name != "*" && cat.points(&p.name).is_none() {
            errs.push(FieldError::new(
                format!("{path}.disabled[{j}]"),
                unknown_plugin_message(&p.name),
            ));
        }
    }
}

/// upstream `mergePluginSet`: defaults first (minus disabled ones, each replaced in place by a
/// user entry of the same name), then the user's remaining entries in their order.
fn merge(default: &Set, custom: &Set) -> Set {
    let mut disabled: Vec<String> = custom.disabled.clone();
    disabled.extend(default.disabled.iter().cloned());
    // Later duplicates win, as with upstream's map keyed by name.
    let mut custom_index: HashMap<&str, usize> = HashMap::new();
    for (i, (name, _)) in custom.enabled.iter().enumerate() {
        custom_index.insert(name.as_str(), i);
    }
    let mut replaced: BTreeSet<usize> = BTreeSet::new();
    let mut enabled = Vec::new();
    if !disabled.iter().any(|d| d == "*") {
        for plugin in &default.enabled {
            if disabled.contains(&plugin.0) {
                continue;
            }
            match custom_index.get(plugin.0.as_str()) {
                Some(&i) => {
                    replaced.insert(i);
                    enabled.push(custom.enabled[i].clone());
                }
                None => enabled.push(plugin.clone()),
            }
        }
    }
    for (i, plugin) in custom.enabled.iter().enumerate() {
        if !replaced.contains(&i) {
            enabled.push(plugin.clone());
        }
    }
    Set { enabled, disabled }
}

fn interface_name(point: ExtensionPoint) -> String {
    let key = point.config_name();
    let mut chars = key.chars();
    let first = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_default();
    format!("{first}{}Plugin", chars.as_str())
}

/// Resolves one profile. `path` is the profile's path (`profiles[0]`). Returns `None` when
/// errors were pushed.
pub(crate) fn resolve_plugins(
    cat: &Catalog<'_>,
    errs: &mut Vec<FieldError>,
    path: &str,
    scheduler_name: &str,
    plugins: Option<&v1::Plugins>,
) -> Option<Resolved> {
    let before = errs.len();
    let plugins_path = format!("{path}.plugins");
    check_names(
        cat,
        errs,
        &format!("{plugins_path}.multiPoint"),
        plugins.and_then(|p| p.multi_point.as_ref()),
    );
    for point in ExtensionPoint::ALL {
        check_names(
            cat,
            errs,
            &format!("{plugins_path}.{}", point.config_name()),
            specific_v1(plugins, point),
        );
    }
    if errs.len() > before {
        return None;
    }

    let default_multi = Set {
        enabled: DEFAULT_MULTI_POINT
            .iter()
            .map(|(n, w)| ((*n).to_string(), *w))
            .collect(),
        disabled: Vec::new(),
    };
    let multi = merge(
        &default_multi,
        &Set::from_v1(plugins.and_then(|p| p.multi_point.as_ref())),
    );
    let specific: BTreeMap<ExtensionPoint, Set> = ExtensionPoint::ALL
        .into_iter()
        .map(|point| {
            (
                point,
                merge(&Set::default(), &Set::from_v1(specific_v1(plugins, point))),
            )
        })
        .collect();

    let mut enabled_names: BTreeSet<String> =
        multi.enabled.iter().map(|(n, _)| n.clone()).collect();
    for set in specific.values() {
        enabled_names.extend(set.enabled.iter().map(|(n, _)| n.clone()));
    }

    // upstream getScoreWeights: the specific Score entry wins over the multiPoint one; 0 → 1.
    let mut score_weight: HashMap<&str, i32> = HashMap::new();
    for (name, weight) in specific[&ExtensionPoint::Score]
        .enabled
        .iter()
        .chain(multi.enabled.iter())
    {
        if cat.implements(name, ExtensionPoint::Score) {
            score_weight
                .entry(name.as_str())
                .or_insert(if *weight == 0 { 1 } else { *weight });
        }
    }

    let mut points = BTreeMap::new();
    for point in ExtensionPoint::ALL {
        let set = &specific[&point];
        let set_path = format!("{plugins_path}.{}", point.config_name());
        // upstream updatePluginList: a specific point's plugins must implement it, once each.
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (j, (name, _)) in set.enabled.iter().enumerate() {
            if !cat.implements(name, point) {
                let implemented: Vec<&str> = cat
                    .points(name)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| p.config_name())
                    .collect();
                errs.push(FieldError::new(
                    format!("{set_path}.enabled[{j}]"),
                    format!(
                        "plugin {name:?} does not extend {} (it implements: {})",
                        interface_name(point),
                        implemented.join(", ")
                    ),
                ));
            } else if !seen.insert(name.as_str()) {
                errs.push(FieldError::new(
                    format!("{set_path}.enabled[{j}]"),
                    format!(
                        "plugin {name:?} already registered as {:?}",
                        interface_name(point)
                    ),
                ));
            }
        }
        let specific_names: Vec<&str> = set.enabled.iter().map(|(n, _)| n.as_str()).collect();
        let mut ordered: Vec<&str> = specific_names.clone();
        if !multi.enabled.is_empty() && !set.disables("*") {
            let mut overrides: BTreeSet<&str> = BTreeSet::new();
            let mut from_multi: Vec<&str> = Vec::new();
            for (name, _) in &multi.enabled {
                let name = name.as_str();
                if !cat.implements(name, point) || set.disables(name) {
                    continue;
                }
                if specific_names.contains(&name) {
                    overrides.insert(name);
                    continue;
                }
                if from_multi.contains(&name) {
                    errs.push(FieldError::new(
                        format!("{plugins_path}.multiPoint.enabled"),
                        format!(
                            "plugin {name:?} already registered as {:?}",
                            interface_name(point)
                        ),
                    ));
                    continue;
                }
                from_multi.push(name);
            }
            ordered = specific_names
                .iter()
                .copied()
                .filter(|n| overrides.contains(n))
                .collect();
            ordered.extend(from_multi);
            ordered.extend(
                specific_names
                    .iter()
                    .copied()
                    .filter(|n| !overrides.contains(n)),
            );
        }
        let refs: Vec<PluginRef> = ordered
            .into_iter()
            .map(|name| PluginRef {
                name: name.to_string(),
                weight: if point == ExtensionPoint::Score {
                    score_weight.get(name).copied().unwrap_or(1)
                } else {
                    0
                },
            })
            .collect();
        points.insert(point, refs);
    }

    let queue_sorts = points[&ExtensionPoint::QueueSort].len();
    if queue_sorts != 1 {
        errs.push(FieldError::new(
            plugins_path.clone(),
            format!(
                "only one queue sort plugin required for profile with scheduler name {scheduler_name:?}, but got {queue_sorts}"
            ),
        ));
    }
    if points[&ExtensionPoint::Bind].is_empty() {
        errs.push(FieldError::new(
            plugins_path.clone(),
            format!("at least one bind plugin is needed for profile with scheduler name {scheduler_name:?}"),
        ));
    }
    if errs.len() > before {
        return None;
    }
    Some(Resolved {
        points,
        queue_sort: specific[&ExtensionPoint::QueueSort].clone(),
        enabled_names,
    })
}
