//! Test helpers for the node_resources tables: JSON builders shaped like upstream's
//! `st.MakePod()`/`st.MakeNode()` wrappers and a harness that runs a plugin's extension points
//! through its `Plugin` accessors.

use crate::testing::TestCluster;
use sched_core::config::{
    NodeResourcesBalancedAllocationArgs, NodeResourcesFitArgs, PluginArgs, ProfileConfig,
    ResourceSpec, ScoringStrategy, ScoringStrategyKind, UtilizationShapePoint,
};
use sched_core::framework::{Plugin, PreFilterOutcome, PreScoreOutcome, Rejection};
use sched_core::intern::Interner;
use sched_core::state::NodeId;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A profile with `args` and no plugin lists (factories only read the arguments).
pub(super) fn profile(args: PluginArgs) -> ProfileConfig {
    ProfileConfig {
        scheduler_name: "default-scheduler".to_string(),
        percentage_of_nodes_to_score: None,
        points: BTreeMap::new(),
        args,
    }
}

/// `ResourceSpec`s from `(name, weight)` pairs.
pub(super) fn resources(list: &[(&str, i64)]) -> Vec<ResourceSpec> {
    list.iter()
        .map(|&(name, weight)| ResourceSpec {
            name: name.to_string(),
            weight,
        })
        .collect()
}

/// upstream `defaultResources`: cpu and memory, weight 1.
pub(super) const DEFAULT_RESOURCES: &[(&str, i64)] = &[("cpu", 1), ("memory", 1)];

/// A shape from `(utilization, score)` pairs as configured (scores 0..=10).
pub(super) fn shape(points: &[(i32, i32)]) -> ScoringStrategyKind {
    ScoringStrategyKind::RequestedToCapacityRatio {
        shape: points
            .iter()
            .map(|&(utilization, score)| UtilizationShapePoint { utilization, score })
            .collect(),
    }
}

/// NodeResourcesFit arguments with a scoring strategy and no ignored resources.
pub(super) fn fit_args(kind: ScoringStrategyKind, res: &[(&str, i64)]) -> NodeResourcesFitArgs {
    NodeResourcesFitArgs {
        ignored_resources: Vec::new(),
        ignored_resource_groups: Vec::new(),
        scoring_strategy: ScoringStrategy {
            kind,
            resources: resources(res),
        },
    }
}

/// Builds NodeResourcesFit through its registry factory.
pub(super) fn fit_plugin(
    args: NodeResourcesFitArgs,
    interner: &mut Interner,
) -> Result<Arc<dyn Plugin>, String> {
    let all = PluginArgs {
        node_resources_fit: args,
        ..PluginArgs::default()
    };
    super::NodeResourcesFit::factory(&profile(all), interner)
}

/// Builds NodeResourcesBalancedAllocation through its registry factory.
pub(super) fn balanced_plugin(
    res: &[(&str, i64)],
    interner: &mut Interner,
) -> Result<Arc<dyn Plugin>, String> {
    let all = PluginArgs {
        balanced_allocation: NodeResourcesBalancedAllocationArgs {
            resources: resources(res),
        },
        ..PluginArgs::default()
    };
    super::NodeResourcesBalancedAllocation::factory(&profile(all), interner)
}

/// A resource list from `(name, quantity)` pairs.
pub(super) fn list(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|&(k, v)| (k.to_string(), json!(v)))
            .collect::<Map<String, Value>>(),
    )
}

/// A node with `status.allocatable` (like `st.MakeNode().Capacity(..)`, minus the implicit
/// `pods: 32`, which scoring never reads).
pub(super) fn node(name: &str, allocatable: &[(&str, &str)]) -> Value {
    json!({"metadata": {"name": name}, "status": {"allocatable": list(allocatable)}})
}

fn container(i: usize, requests: &Value) -> Value {
    json!({"name": format!("c{i}"), "resources": {"requests": requests}})
}

/// A pod spec with one container per request list (like `st.MakePod().Req(..).Req(..)`);
/// `&[]` gives a pod without containers (`st.MakePod().Obj()`).
pub(super) fn spec(containers: &[Value]) -> Value {
    spec_with_init(containers, &[])
}

/// As [`spec`], plus plain init containers.
pub(super) fn spec_with_init(containers: &[Value], init: &[Value]) -> Value {
    let mut s = json!({
        "containers": containers.iter().enumerate().map(|(i, r)| container(i, r)).collect::<Vec<_>>(),
    });
    if !init.is_empty() {
        s["initContainers"] = init
            .iter()
            .enumerate()
            .map(|(i, r)| container(100 + i, r))
            .collect::<Vec<_>>()
            .into();
    }
    s
}

/// As [`spec`], plus one restartable init (sidecar) container (`SidecarReq`).
pub(super) fn spec_with_sidecar(containers: &[Value], sidecar: &Value) -> Value {
    let mut s = spec(containers);
    s["initContainers"] = json!([{
        "name": "sidecar",
        "restartPolicy": "Always",
        "resources": {"requests": sidecar},
    }]);
    s
}

/// A full pod object around `spec`.
pub(super) fn pod(name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

/// A cluster with `nodes` and `existing` pods (spec, node name), pods named in order.
pub(super) fn cluster(nodes: &[Value], existing: &[(Value, &str)]) -> (TestCluster, Vec<NodeId>) {
    let mut tc = TestCluster::new();
    let ids = nodes.iter().map(|n| tc.node(n.clone())).collect();
    for (i, (s, on)) in existing.iter().enumerate() {
        tc.running(pod(&format!("existing-{i}"), s.clone()), on);
    }
    (tc, ids)
}

/// Runs PreScore (when `run_pre_score`) and Score on every node, in node order. Returns the
/// PreScore outcome (`None` when not run) and the scores (empty after a Skip, as the framework
/// then does not call Score).
pub(super) fn run_scores(
    build: impl FnOnce(&mut Interner) -> Result<Arc<dyn Plugin>, String>,
    nodes: &[Value],
    existing: &[(Value, &str)],
    incoming: Value,
    run_pre_score: bool,
) -> Result<(Option<PreScoreOutcome>, Vec<i64>), String> {
    let (mut tc, ids) = cluster(nodes, existing);
    let plugin = build(tc.state.interner_mut())?;
    let pod = tc.pod(pod("incoming", incoming));
    let mut cycle = crate::testing::cycle();
    let mut outcome = None;
    if run_pre_score {
        let p = plugin.as_pre_score().expect("PreScore implemented");
        let o = p
            .pre_score(&mut cycle, &pod, &ids, tc.view())
            .map_err(|r: Rejection| r.message())?;
        outcome = Some(o);
        if o == PreScoreOutcome::Skip {
            return Ok((outcome, Vec::new()));
        }
    }
    let s = plugin.as_score().expect("Score implemented");
    assert!(!s.has_normalize(), "upstream: no ScoreExtensions");
    let scores = ids
        .iter()
        .map(|&id| s.score(&cycle, &pod, tc.node_state(id), tc.view()))
        .collect();
    Ok((outcome, scores))
}

/// Runs PreFilter and Filter for `incoming` on a single node with `existing` pods on it.
pub(super) fn run_filter(
    plugin_args: NodeResourcesFitArgs,
    node_json: Value,
    existing: &[Value],
    incoming: Value,
) -> Result<(), Rejection> {
    let name = node_json["metadata"]["name"]
        .as_str()
        .expect("node name")
        .to_string();
    let existing: Vec<(Value, &str)> = existing
        .iter()
        .map(|s| (s.clone(), name.as_str()))
        .collect();
    let (mut tc, ids) = cluster(&[node_json], &existing);
    let plugin = fit_plugin(plugin_args, tc.state.interner_mut()).expect("plugin builds");
    let pod = tc.pod(pod("incoming", incoming));
    let mut cycle = crate::testing::cycle();
    let pre = plugin.as_pre_filter().expect("PreFilter implemented");
    assert_eq!(
        pre.pre_filter(&mut cycle, &pod, tc.view()),
        Ok(PreFilterOutcome::Proceed)
    );
    let f = plugin.as_filter().expect("Filter implemented");
    f.filter(&cycle, &pod, tc.node_state(ids[0]), tc.view())
}
