//! `placer explain`: why a pod would go where it goes, and why not elsewhere.
//!
//! Runs the one scheduling cycle over every node (`Scheduler::explain`) and prints each
//! node's first rejecting filter with upstream's reasons, or its per-plugin normalized scores.

use crate::common::{OutputFormat, load_config_with};
use anyhow::{Context, bail};
use sched_core::framework::Rejection;
use sched_core::scheduler::{Evaluation, NodeOutcome, ScheduleError};
use sched_core::state::ClusterState;
use serde_json::{Value, json};
use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Flags of `placer explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The cluster: a `kind: List`, a YAML stream, JSON, a directory, or `-` for stdin.
    #[arg(long)]
    pub cluster: PathBuf,
    /// The pod to explain (a Pod manifest).
    #[arg(long)]
    pub pod: PathBuf,
    /// A `KubeSchedulerConfiguration` file (default: upstream's default profile).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Seed that breaks ties between equally scored nodes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Load the valid objects of the cluster and report invalid ones instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,
}

/// Runs `placer explain` and returns what to print.
///
/// # Errors
/// Unreadable or invalid inputs, or a pod whose `schedulerName` names no profile.
pub fn run(args: &ExplainArgs) -> anyhow::Result<String> {
    run_with(args, &[])
}

/// [`run`] with out-of-tree `plugins` the configuration may enable.
///
/// # Errors
/// As [`run`], and a plugin that cannot be registered.
pub fn run_with(args: &ExplainArgs, plugins: &[sched_core::PluginSpec]) -> anyhow::Result<String> {
    let registry = crate::common::registry(plugins)?;
    let config = load_config_with(args.config.as_deref(), &registry)?;
    let opts = LoadOptions {
        skip_invalid: args.skip_invalid,
    };
    let mut cluster = LoadedCluster::load(&args.cluster, opts)?;
    let snap = Snapshot::load(&args.pod, LoadOptions::default())?;
    let [(_, pod)] = snap.pods.as_slice() else {
        bail!(
            "{}: expected exactly one Pod, found {} pod(s)",
            args.pod.display(),
            snap.pods.len()
        );
    };
    // As the API server would admit it: priority and preemptionPolicy from its PriorityClass.
    let admitted = cluster
        .priority_classes
        .admit(pod)
        .map_err(|(field, message)| {
            anyhow::anyhow!(
                "{}: Pod {}: {field}: {message}",
                args.pod.display(),
                pod_name(pod)
            )
        })?;
    let pod = admitted.as_ref().unwrap_or(pod);
    let pod = cluster
        .state
        .convert_pod(pod)
        .with_context(|| format!("{}", args.pod.display()))?;
    let scheduler = sched_plugins::scheduler_with_registry(
        &registry,
        &config,
        cluster.state.interner_mut(),
        args.seed,
    )?;
    let eval = scheduler.explain(&pod, &cluster.state);
    if let Err(e @ ScheduleError::NoProfile { .. }) = &eval.result {
        bail!("{e}");
    }
    let mut out = match args.output {
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(&pod.key, &eval, &cluster.state))?;
            s.push('\n');
            s
        }
        OutputFormat::Table => to_table(&pod.key, &eval, &cluster.state),
    };
    if !cluster.skipped_invalid.is_empty() && args.output == OutputFormat::Table {
        let _ = writeln!(
            out,
            "\nSkipped {} invalid object(s):",
            cluster.skipped_invalid.len()
        );
        for p in &cluster.skipped_invalid {
            let _ = writeln!(out, "  {p}");
        }
    }
    Ok(out)
}

fn reasons(r: &Rejection) -> Vec<String> {
    r.reasons.iter().map(|x| x.as_str().to_string()).collect()
}

/// The JSON contract of DESIGN.md.
#[must_use]
pub fn to_json(pod: &str, eval: &Evaluation, state: &ClusterState) -> Value {
    let nodes: Vec<Value> = eval
        .nodes
        .iter()
        .map(|(id, outcome)| {
            let name = &*state.node(*id).info.name;
            let mut v = node_json(name, *id, outcome, eval);
            // The real cycle stopped before this node (upstream's numFeasibleNodesToFind).
            if !eval.evaluated.contains(id) {
                v["evaluated"] = json!(false);
            }
            v
        })
        .collect();
    let (selected, message, nominated) = result_json(eval, state);
    let mut v = json!({
        "pod": pod,
        "profile": eval.profile,
        "nodes": nodes,
        "selected": selected,
        "message": message,
    });
    if !nominated.is_null() {
        v["nominated"] = nominated;
    }
    v
}

fn node_json(
    name: &str,
    id: sched_core::NodeId,
    outcome: &NodeOutcome,
    eval: &Evaluation,
) -> Value {
    match outcome {
        NodeOutcome::Rejected { plugin, rejection } => json!({
            "node": name, "feasible": false, "plugin": plugin,
            "reasons": reasons(rejection), "code": rejection.code.as_str(),
        }),
        NodeOutcome::Feasible | NodeOutcome::NotEvaluated => {
            let t = &eval.scores;
            match t.nodes.iter().position(|n| *n == id) {
                Some(i) => {
                    let scores: serde_json::Map<String, Value> = t
                        .plugins
                        .iter()
                        .zip(&t.scores)
                        .map(|((p, _), s)| ((*p).to_string(), json!(s[i])))
                        .collect();
                    json!({"node": name, "feasible": true, "scores": scores, "total": t.totals[i]})
                }
                // A single feasible node is chosen without scoring (upstream).
                None => json!({"node": name, "feasible": true, "scores": {}, "total": null}),
            }
        }
    }
}

fn result_json(eval: &Evaluation, state: &ClusterState) -> (Value, Value, Value) {
    match &eval.result {
        Ok(p) => (json!(&*p.node_name), Value::Null, Value::Null),
        Err(ScheduleError::Unschedulable(fit)) => {
            let nominated = fit.diagnosis.nomination.as_ref().map_or(Value::Null, |(node, victims)| {
                json!({"node": &*state.node(*node).info.name, "victims": victims.iter().map(|v| &**v).collect::<Vec<_>>()})
            });
            (Value::Null, json!(fit.message()), nominated)
        }
        Err(e) => (Value::Null, json!(e.to_string()), Value::Null),
    }
}

/// A table for people: one row per node, one column per score plugin.
#[must_use]
pub fn to_table(pod: &str, eval: &Evaluation, state: &ClusterState) -> String {
    let t = &eval.scores;
    let mut header = vec!["NODE".to_string(), "RESULT".to_string()];
    header.extend(t.plugins.iter().map(|(p, w)| format!("{p}(x{w})")));
    header.push("TOTAL".into());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (id, outcome) in &eval.nodes {
        let name = state.node(*id).info.name.to_string();
        let mut row = vec![name];
        match outcome {
            NodeOutcome::Rejected { plugin, rejection } => {
                row.push(format!("rejected by {plugin}: {}", rejection.message()));
            }
            NodeOutcome::Feasible | NodeOutcome::NotEvaluated => {
                let selected = matches!(&eval.result, Ok(p) if p.node == *id);
                row.push(
                    if selected {
                        "feasible (selected)"
                    } else if !eval.evaluated.contains(id) {
                        // upstream stops filtering at numFeasibleNodesToFind.
                        "feasible (not evaluated by the cycle)"
                    } else {
                        "feasible"
                    }
                    .into(),
                );
                if let Some(i) = t.nodes.iter().position(|n| n == id) {
                    row.extend(t.scores.iter().map(|s| s[i].to_string()));
                    row.push(t.totals[i].to_string());
                }
            }
        }
        rows.push(row);
    }
    let cols = header.len();
    let mut widths = vec![0; cols];
    for r in std::iter::once(&header).chain(&rows) {
        for (i, c) in r.iter().enumerate().take(cols) {
            // The rejection text spans the score columns; do not let it widen them.
            if i == 1 && r.len() == 2 {
                continue;
            }
            widths[i] = widths[i].max(c.len());
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "Pod {pod} (profile {})\n", eval.profile);
    for r in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                let _ = write!(line, "{c:<w$}  ", w = widths[i]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
    match &eval.result {
        Ok(p) => {
            let _ = writeln!(out, "Selected: {}", p.node_name);
            if t.nodes.is_empty() {
                let _ = writeln!(
                    out,
                    "(the only feasible node: chosen without scoring, as upstream does)"
                );
            }
        }
        Err(ScheduleError::Unschedulable(fit)) => {
            let _ = writeln!(out, "Unschedulable: {}", fit.message());
            if let Some((node, victims)) = &fit.diagnosis.nomination {
                let _ = writeln!(
                    out,
                    "Preemption would make room on {} by evicting: {}",
                    state.node(*node).info.name,
                    victims.iter().map(|v| &**v).collect::<Vec<_>>().join(", ")
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "Not scheduled: {e}");
        }
    }
    out
}

fn pod_name(pod: &k8s_openapi::api::core::v1::Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or("<unnamed>")
    )
}
