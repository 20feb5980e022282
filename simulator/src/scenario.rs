//! Timed scenarios: what happens to the cluster, and when, on a virtual clock.
//!
//! A scenario is a YAML file (format in `docs/scenarios.md`): reusable pod and node
//! `templates`, a list of `events` each at a virtual time (`at: 90s`), and optionally a
//! workload `trace` (see [`crate::trace`]) whose pods arrive and leave on their own schedule.
//! Every problem is reported with the file, line, column and field path, at load time when
//! it can be known then (syntax, unknown fields, bad durations, quantities a Pod cannot hold)
//! and at run time otherwise (an event naming a pod or node that does not exist at that time).

use crate::trace::{self, Trace};
use crate::yaml::{self, Kind, Node as YNode};
use k8s_openapi::api::core::v1::{Node, Pod};
use sched_core::intern::Interner;
use sched_core::model::TaintEffect;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Virtual time in milliseconds since the start of the run.
pub type Millis = i64;

/// The longest `at` or `duration` a scenario may give: 100 years of virtual time, so that
/// sums of times never come near `i64::MAX`.
pub const MAX_MILLIS: Millis = 100 * 365 * 86_400_000;

/// The most objects one `createPods` or `addNodes` event may make, so that a few bytes of
/// scenario cannot ask for unbounded memory.
pub const MAX_COUNT: u64 = 1_000_000;

/// Where something was written: file, line, column and field path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: Arc<str>,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// Field path, e.g. `events[3].drain`.
    pub field: String,
}

impl Location {
    fn at(file: &Arc<str>, node: &YNode, field: impl Into<String>) -> Location {
        Location {
            file: file.clone(),
            line: node.line,
            column: node.column,
            field: field.into(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        Ok(())
    }
}

/// A scenario that could not be loaded, or an event that could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ScenarioError {
    /// Where.
    pub location: Location,
    /// What is wrong and what was expected.
    pub message: String,
}

/// `Result` with [`ScenarioError`].
pub type Result<T, E = ScenarioError> = std::result::Result<T, E>;

fn err<T>(location: Location, message: impl Into<String>) -> Result<T> {
    Err(ScenarioError {
        location,
        message: message.into(),
    })
}

/// A name written in the scenario, with where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The name (`namespace/name` for pods).
    pub name: String,
    /// Where it was written.
    pub location: Location,
}

/// A pod to create.
#[derive(Clone, Debug)]
pub struct NewPod {
    /// The manifest (a template shared by the pods made from it).
    pub manifest: Arc<Pod>,
    /// The name to give it (overrides the manifest's).
    pub name: String,
    /// It finishes (terminates, holding nothing) this long after it starts running.
    pub duration: Option<Millis>,
}

/// What an event does.
#[derive(Clone, Debug)]
pub enum Action {
    /// Create pods (they join the scheduling queue).
    CreatePods(Vec<NewPod>),
    /// Delete pods (running or pending).
    DeletePods(Vec<Named>),
    /// Add nodes.
    AddNodes(Vec<Arc<Node>>),
    /// Remove nodes; their pods are recreated pending, as their controllers would.
    RemoveNodes(Vec<Named>),
    /// Mark nodes unschedulable.
    Cordon(Vec<Named>),
    /// Mark nodes schedulable.
    Uncordon(Vec<Named>),
    /// Cordon nodes and evict their pods, which are recreated pending and rescheduled.
    Drain(Vec<Named>, crate::drain::DrainOptions),
    /// The node lifecycle controller marks nodes failed: `NoSchedule` and `NoExecute` taints
    /// for the condition.
    NodeFailure(Vec<Named>, FailureCondition),
    /// Add (or replace, same key and effect) a taint on nodes. `NoExecute` evicts pods that
    /// do not tolerate it.
    Taint {
        /// The nodes.
        nodes: Vec<Named>,
        /// Taint key.
        key: String,
        /// Taint value.
        value: String,
        /// Taint effect.
        effect: TaintEffect,
    },
    /// Remove taints with this key (and effect, when given) from nodes.
    Untaint {
        /// The nodes.
        nodes: Vec<Named>,
        /// Taint key.
        key: String,
        /// Only this effect (all when `None`).
        effect: Option<TaintEffect>,
    },
    /// Scale a ReplicaSet, StatefulSet or Deployment (its current ReplicaSet) to `replicas`,
    /// as its controller would (`crate::workloads::Workloads::scale`).
    Scale {
        /// The kind.
        kind: crate::workloads::Kind,
        /// `namespace/name`.
        name: Named,
        /// The new `spec.replicas`.
        replicas: i64,
    },
    /// Roll a Deployment out to a new pod template (`crate::workloads::Workloads::rollout`).
    Rollout {
        /// The Deployment's `namespace/name`.
        name: Named,
        /// The new template (labels, annotations and spec of a `templates.pods` entry).
        template: Arc<k8s_openapi::api::core::v1::PodTemplateSpec>,
    },
    /// Create workloads (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs): their
    /// controllers create their pods now (`crate::workloads::expand` on the cluster as it is).
    CreateWorkloads(Arc<crate::snapshot::Snapshot>),
    /// Trace pod `row` arrives.
    TraceArrive(u32),
    /// Trace pod `row` leaves (is deleted).
    TraceDepart(u32),
}

/// What failed on a node, as the node lifecycle controller reads its Ready condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureCondition {
    /// Ready is Unknown (the kubelet stopped reporting): `node.kubernetes.io/unreachable`.
    Unreachable,
    /// Ready is False: `node.kubernetes.io/not-ready`.
    NotReady,
}

impl FailureCondition {
    /// The taint key the node lifecycle controller applies.
    #[must_use]
    pub fn taint(self) -> &'static str {
        match self {
            FailureCondition::Unreachable => crate::admission::UNREACHABLE_TAINT,
            FailureCondition::NotReady => crate::admission::NOT_READY_TAINT,
        }
    }
}

impl Action {
    /// A short description for timelines (`drain worker-b1`, `create 3 pods`).
    #[must_use]
    pub fn describe(&self) -> String {
        fn names(v: &[Named]) -> String {
            let mut s: Vec<&str> = v.iter().map(|n| n.name.as_str()).take(3).collect();
            if v.len() > 3 {
                s.push("…");
            }
            s.join(",")
        }
        match self {
            Action::CreatePods(p) => match p.as_slice() {
                [one] => format!("create pod {}", one.name),
                many => format!("create {} pods", many.len()),
            },
            Action::DeletePods(p) => format!("delete pod {}", names(p)),
            Action::AddNodes(n) => match n.as_slice() {
                [one] => format!(
                    "add node {}",
                    one.metadata.name.as_deref().unwrap_or_default()
                ),
                many => format!("add {} nodes", many.len()),
            },
            Action::RemoveNodes(n) => format!("remove node {}", names(n)),
            Action::Cordon(n) => format!("cordon {}", names(n)),
            Action::Uncordon(n) => format!("uncordon {}", names(n)),
            Action::Drain(n, _) => format!("drain {}", names(n)),
            Action::NodeFailure(n, c) => format!("node failure ({}) {}", c.taint(), names(n)),
            Action::Taint {
                nodes,
                key,
                value,
                effect,
            } => {
                let v = if value.is_empty() {
                    String::new()
                } else {
                    format!("={value}")
                };
                format!("taint {} {key}{v}:{}", names(nodes), effect.as_str())
            }
            Action::Untaint { nodes, key, .. } => format!("untaint {} {key}", names(nodes)),
            Action::Scale {
                kind,
                name,
                replicas,
            } => format!("scale {} {} to {replicas}", kind.as_str(), name.name),
            Action::Rollout { name, .. } => format!("rollout Deployment {}", name.name),
            Action::CreateWorkloads(snap) => {
                let n = snap.deployments.len()
                    + snap.replica_sets.len()
                    + snap.stateful_sets.len()
                    + snap.daemon_sets.len()
                    + snap.jobs.len();
                format!("create {n} workload(s)")
            }
            Action::TraceArrive(_) => "trace arrival".into(),
            Action::TraceDepart(_) => "trace departure".into(),
        }
    }
}

/// One event.
#[derive(Clone, Debug)]
pub struct Event {
    /// When.
    pub at: Millis,
    /// What.
    pub action: Action,
    /// Where it was written (the event's entry in `events`).
    pub location: Location,
}

/// A loaded scenario.
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    /// The file it came from.
    pub file: Arc<str>,
    /// Free text from `description`.
    pub description: Option<String>,
    /// The events, in time order (file order within one time).
    pub events: Vec<Event>,
    /// The trace, when the scenario has one.
    pub trace: Option<Trace>,
}

impl Scenario {
    /// Loads a scenario file.
    ///
    /// # Errors
    /// Unreadable files, syntax errors, and every malformed field, with file, line and field.
    pub fn load(path: &Path) -> Result<Scenario> {
        let file: Arc<str> = Arc::from(path.display().to_string());
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            location: Location {
                file: file.clone(),
                ..Location::default()
            },
            message: format!("cannot read: {e}"),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_text(&text, &file, &base)
    }

    /// Parses a scenario from text; `file` names it in messages, and relative paths in it
    /// (template files, trace files) are resolved from `base`.
    ///
    /// # Errors
    /// As [`Scenario::load`].
    pub fn from_text(text: &str, file: &str, base: &Path) -> Result<Scenario> {
        let file: Arc<str> = Arc::from(file);
        let root = yaml::parse(text).map_err(|e| ScenarioError {
            location: Location {
                file: file.clone(),
                line: e.location.map_or(0, |l| l.0),
                column: e.location.map_or(0, |l| l.1),
                field: String::new(),
            },
            message: format!("not valid YAML: {}", e.message),
        })?;
        let mut p = Parser {
            file: file.clone(),
            base: base.to_path_buf(),
            pod_templates: BTreeMap::new(),
            node_templates: BTreeMap::new(),
            counters: BTreeMap::new(),
        };
        p.scenario(&root)
    }

    /// The number of events (trace arrivals and departures included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are no events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

struct PodTemplate {
    manifest: Arc<Pod>,
    base: String,
}

struct NodeTemplate {
    manifest: Node,
    base: String,
}

struct Parser {
    file: Arc<str>,
    base: PathBuf,
    pod_templates: BTreeMap<String, PodTemplate>,
    node_templates: BTreeMap<String, NodeTemplate>,
    /// Next index per generated name base, so repeated template events never collide.
    counters: BTreeMap<String, u64>,
}

impl Parser {
    fn loc(&self, node: &YNode, field: &str) -> Location {
        Location::at(&self.file, node, field)
    }

    fn map<'a>(
        &self,
        node: &'a YNode,
        field: &str,
        allowed: &[&str],
    ) -> Result<&'a [(String, YNode)]> {
        let Kind::Map(entries) = &node.value else {
            return err(
                self.loc(node, field),
                format!("expected a mapping, found {}", node.value.type_name()),
            );
        };
        for (k, v) in entries {
            if !allowed.contains(&k.as_str()) {
                return err(
                    self.loc(v, &join(field, k)),
                    format!(
                        "unknown field {k:?}: expected one of {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Ok(entries)
    }

    fn string(&self, node: &YNode, field: &str) -> Result<String> {
        match &node.value {
            Kind::Str(s) => Ok(s.clone()),
            Kind::Int(i) => Ok(i.to_string()),
            Kind::Bool(_) => err(
                self.loc(node, field),
                "expected a string, found a boolean (YAML reads y, n, yes, no, on, off, true, false as booleans: quote the name)",
            ),
            other => err(
                self.loc(node, field),
                format!("expected a string, found {}", other.type_name()),
            ),
        }
    }

    fn names(&self, node: &YNode, field: &str) -> Result<Vec<Named>> {
        match &node.value {
            Kind::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let f = format!("{field}[{i}]");
                    Ok(Named {
                        name: self.string(n, &f)?,
                        location: self.loc(n, &f),
                    })
                })
                .collect(),
            _ => Ok(vec![Named {
                name: self.string(node, field)?,
                location: self.loc(node, field),
            }]),
        }
    }

    fn count(&self, node: &YNode, field: &str) -> Result<u64> {
        match node.value {
            Kind::Int(i) if i >= 1 && i.unsigned_abs() <= MAX_COUNT => Ok(i.unsigned_abs()),
            Kind::Int(i) if i >= 1 => err(
                self.loc(node, field),
                format!("{i} is too many: at most {MAX_COUNT} objects per event"),
            ),
            _ => err(
                self.loc(node, field),
                "expected a positive whole number".to_string(),
            ),
        }
    }

    fn duration(&self, node: &YNode, field: &str) -> Result<Millis> {
        let parsed = match &node.value {
            Kind::Int(i) if *i >= 0 => i.checked_mul(1000),
            Kind::Float(f) if *f >= 0.0 && f.is_finite() => Some((f * 1000.0).round() as i64),
            Kind::Str(s) => parse_duration(s),
            _ => None,
        };
        if let Some(ms) = parsed
            && ms > MAX_MILLIS
        {
            return err(
                self.loc(node, field),
                format!(
                    "{} is too long: at most {} ({MAX_MILLIS} ms) of virtual time",
                    describe_value(node),
                    format_millis(MAX_MILLIS)
                ),
            );
        }
        parsed.ok_or_else(|| ScenarioError {
            location: self.loc(node, field),
            message: format!(
                "expected a duration such as 90s, 1m30s, 500ms, 2h or a number of seconds, found {}",
                describe_value(node)
            ),
        })
    }

    fn scenario(&mut self, root: &YNode) -> Result<Scenario> {
        let entries = self.map(root, "", &["description", "templates", "events", "trace"])?;
        let mut scenario = Scenario {
            file: self.file.clone(),
            ..Scenario::default()
        };
        if let Some(d) = root.get("description") {
            scenario.description = Some(self.string(d, "description")?);
        }
        if let Some(t) = root.get("templates") {
            self.templates(t)?;
        }
        if let Some(t) = root.get("trace") {
            let tr = self.trace(t)?;
            for (row, pod) in tr.pods.iter().enumerate() {
                let row = u32::try_from(row).expect("fewer than 2^32 trace pods");
                scenario.events.push(Event {
                    at: pod.arrive,
                    action: Action::TraceArrive(row),
                    location: Location::default(),
                });
                if let Some(leave) = pod.leave {
                    scenario.events.push(Event {
                        at: leave,
                        action: Action::TraceDepart(row),
                        location: Location::default(),
                    });
                }
            }
            scenario.trace = Some(tr);
        }
        if let Some(events) = root.get("events") {
            let Kind::Seq(items) = &events.value else {
                return err(
                    self.loc(events, "events"),
                    format!(
                        "expected a list of events, found {}",
                        events.value.type_name()
                    ),
                );
            };
            for (i, item) in items.iter().enumerate() {
                let e = self.event(item, &format!("events[{i}]"))?;
                scenario.events.push(e);
            }
        }
        let _ = entries;
        // Stable: file order within one instant. Trace departures come before trace arrivals
        // of the same second, so a replay frees room before it needs it, except a pod's own
        // departure, which follows its arrival (pods that live less than a second).
        let trace = scenario.trace.as_ref();
        let key = |e: &Event| {
            let rank = match e.action {
                Action::TraceDepart(row) => {
                    let arrive = trace.map_or(0, |t| t.pods[row as usize].arrive);
                    if arrive == e.at { 2 } else { 0 }
                }
                Action::TraceArrive(_) => 1,
                _ => 3,
            };
            (e.at, rank)
        };
        // Sort small keys, not the events (a trace has hundreds of thousands).
        let mut order: Vec<((Millis, u8), usize)> = scenario
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (key(e), i))
            .collect();
        order.sort_unstable();
        let mut slots: Vec<Option<Event>> = std::mem::take(&mut scenario.events)
            .into_iter()
            .map(Some)
            .collect();
        scenario.events = order
            .into_iter()
            .map(|(_, i)| slots[i].take().expect("each index once"))
            .collect();
        Ok(scenario)
    }

    fn templates(&mut self, node: &YNode) -> Result<()> {
        for (k, v) in self.map(node, "templates", &["pods", "nodes"])? {
            let field = format!("templates.{k}");
            let Kind::Map(entries) = &v.value else {
                return err(
                    self.loc(v, &field),
                    format!(
                        "expected a mapping of template names, found {}",
                        v.value.type_name()
                    ),
                );
            };
            for (name, body) in entries {
                let f = join(&field, name);
                if k == "pods" {
                    let (manifest, _) = self.object::<Pod>(body, &f, "Pod")?;
                    let base = base_name(&manifest.metadata, name);
                    self.pod_templates.insert(
                        name.clone(),
                        PodTemplate {
                            manifest: Arc::new(manifest),
                            base,
                        },
                    );
                } else {
                    let (manifest, _) = self.object::<Node>(body, &f, "Node")?;
                    let base = base_name(&manifest.metadata, name);
                    self.node_templates
                        .insert(name.clone(), NodeTemplate { manifest, base });
                }
            }
        }
        Ok(())
    }

    /// A Kubernetes object written inline, or a path (relative to the scenario) to a file
    /// holding one. Checked by converting it once, so bad quantities are found at load time.
    fn object<T: serde::de::DeserializeOwned + Checkable>(
        &self,
        node: &YNode,
        field: &str,
        kind: &str,
    ) -> Result<(T, Location)> {
        if let Kind::Str(rel) = &node.value {
            let path = self.base.join(rel);
            let loaded = load_object::<T>(&path, kind).map_err(|mut e| {
                e.message = format!("{} (referenced at {})", e.message, self.loc(node, field));
                e
            })?;
            return Ok((loaded, self.loc(node, field)));
        }
        let obj = parse_object::<T>(node, &self.file, field, kind)?;
        Ok((obj, self.loc(node, field)))
    }

    fn trace(&self, node: &YNode) -> Result<Trace> {
        self.map(
            node,
            "trace",
            &["format", "nodes", "pods", "gpuResource", "gpuModelLabel"],
        )?;
        let format = match node.get("format") {
            Some(f) => self.string(f, "trace.format")?,
            None => return err(self.loc(node, "trace.format"), "required: expected openb"),
        };
        if format != "openb" {
            return err(
                self.loc(node.get("format").unwrap_or(node), "trace.format"),
                format!("unknown trace format {format:?}: expected openb"),
            );
        }
        let mut opts = trace::OpenbOptions::default();
        if let Some(g) = node.get("gpuResource") {
            opts.gpu_resource = self.string(g, "trace.gpuResource")?;
        }
        if let Some(g) = node.get("gpuModelLabel") {
            opts.gpu_model_label = self.string(g, "trace.gpuModelLabel")?;
        }
        let path_of = |key: &str| -> Result<Option<PathBuf>> {
            node.get(key)
                .map(|n| {
                    self.string(n, &format!("trace.{key}"))
                        .map(|s| self.base.join(s))
                })
                .transpose()
        };
        let Some(pods) = path_of("pods")? else {
            return err(
                self.loc(node, "trace.pods"),
                "required: the pod list CSV file",
            );
        };
        let nodes = path_of("nodes")?;
        trace::load_openb(nodes.as_deref(), &pods, &opts).map_err(|e| ScenarioError {
            location: Location {
                file: Arc::from(e.file.as_str()),
                line: e.line,
                column: 0,
                field: e.field.clone(),
            },
            message: e.message,
        })
    }

    fn event(&mut self, node: &YNode, field: &str) -> Result<Event> {
        const ACTIONS: &[&str] = &[
            "createPods",
            "deletePods",
            "addNodes",
            "removeNodes",
            "cordon",
            "uncordon",
            "drain",
            "nodeFailure",
            "node-failure",
            "taint",
            "untaint",
            "scale",
            "rollout",
            "createWorkloads",
        ];
        let mut allowed = vec!["at"];
        allowed.extend_from_slice(ACTIONS);
        let entries = self.map(node, field, &allowed)?;
        let at = match node.get("at") {
            Some(a) => self.duration(a, &join(field, "at"))?,
            None => {
                return err(
                    self.loc(node, &join(field, "at")),
                    "required: when the event happens (e.g. 30s)",
                );
            }
        };
        let actions: Vec<&(String, YNode)> = entries.iter().filter(|(k, _)| k != "at").collect();
        let [(name, body)] = actions.as_slice() else {
            return err(
                self.loc(node, field),
                format!(
                    "expected exactly one action, found {}: actions are {}",
                    actions.len(),
                    ACTIONS.join(", ")
                ),
            );
        };
        let f = join(field, name);
        let action = match name.as_str() {
            "createPods" => self.create_pods(body, &f)?,
            "deletePods" => Action::DeletePods(self.names(body, &f)?),
            "addNodes" => self.add_nodes(body, &f)?,
            "removeNodes" => Action::RemoveNodes(self.names(body, &f)?),
            "cordon" => Action::Cordon(self.names(body, &f)?),
            "uncordon" => Action::Uncordon(self.names(body, &f)?),
            "drain" => self.drain(body, &f)?,
            "nodeFailure" | "node-failure" => self.node_failure(body, &f)?,
            "taint" | "untaint" => self.taint(body, &f, name == "taint")?,
            "scale" => self.scale(body, &f)?,
            "rollout" => self.rollout(body, &f)?,
            "createWorkloads" => self.create_workloads(body, &f)?,
            _ => unreachable!("checked against ACTIONS"),
        };
        Ok(Event {
            at,
            action,
            location: self.loc(node, field),
        })
    }

    /// `template` and its optional `count` (default 1) of a create-pods or add-nodes event.
    fn template_and_count(
        &self,
        node: &YNode,
        template: &YNode,
        field: &str,
    ) -> Result<(String, u64)> {
        let name = self.string(template, &join(field, "template"))?;
        let count = node
            .get("count")
            .map(|c| self.count(c, &join(field, "count")))
            .transpose()?
            .unwrap_or(1);
        Ok((name, count))
    }

    fn next_names(&mut self, base: &str, count: u64) -> Vec<String> {
        let next = self.counters.entry(base.to_string()).or_insert(0);
        (0..count)
            .map(|_| {
                *next += 1;
                format!("{base}-{next}")
            })
            .collect()
    }

    fn create_pods(&mut self, node: &YNode, field: &str) -> Result<Action> {
        self.map(node, field, &["template", "count", "pods", "duration"])?;
        let duration = node
            .get("duration")
            .map(|d| self.duration(d, &join(field, "duration")))
            .transpose()?;
        match (node.get("template"), node.get("pods")) {
            (Some(t), None) => {
                let (name, count) = self.template_and_count(node, t, field)?;
                let Some(tpl) = self.pod_templates.get(&name) else {
                    return err(
                        self.loc(t, &join(field, "template")),
                        format!(
                            "no pod template {name:?} in templates.pods (known: {})",
                            known(self.pod_templates.keys())
                        ),
                    );
                };
                let manifest = tpl.manifest.clone();
                let base = tpl.base.clone();
                let pods = self
                    .next_names(&base, count)
                    .into_iter()
                    .map(|name| NewPod {
                        manifest: manifest.clone(),
                        name,
                        duration,
                    })
                    .collect();
                Ok(Action::CreatePods(pods))
            }
            (None, Some(list)) => {
                if let Some(c) = node.get("count") {
                    return err(
                        self.loc(c, &join(field, "count")),
                        "count goes with template, not with an inline pods list",
                    );
                }
                let Kind::Seq(items) = &list.value else {
                    return err(
                        self.loc(list, &join(field, "pods")),
                        format!(
                            "expected a list of Pod manifests, found {}",
                            list.value.type_name()
                        ),
                    );
                };
                let mut pods = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let f = format!("{field}.pods[{i}]");
                    let (manifest, loc) = self.object::<Pod>(item, &f, "Pod")?;
                    let Some(name) = manifest.metadata.name.clone() else {
                        return err(loc, "metadata.name: required for an inline pod");
                    };
                    pods.push(NewPod {
                        manifest: Arc::new(manifest),
                        name,
                        duration,
                    });
                }
                Ok(Action::CreatePods(pods))
            }
            _ => err(
                self.loc(node, field),
                "expected either template (with an optional count) or pods (a list of Pod manifests)",
            ),
        }
    }

    fn add_nodes(&mut self, node: &YNode, field: &str) -> Result<Action> {
        self.map(node, field, &["template", "count", "nodes"])?;
        match (node.get("template"), node.get("nodes")) {
            (Some(t), None) => {
                let (name, count) = self.template_and_count(node, t, field)?;
                let Some(tpl) = self.node_templates.get(&name) else {
                    return err(
                        self.loc(t, &join(field, "template")),
                        format!(
                            "no node template {name:?} in templates.nodes (known: {})",
                            known(self.node_templates.keys())
                        ),
                    );
                };
                let manifest = tpl.manifest.clone();
                let base = tpl.base.clone();
                let nodes = self
                    .next_names(&base, count)
                    .into_iter()
                    .map(|n| Arc::new(rename_node(&manifest, &n)))
                    .collect();
                Ok(Action::AddNodes(nodes))
            }
            (None, Some(list)) => {
                let Kind::Seq(items) = &list.value else {
                    return err(
                        self.loc(list, &join(field, "nodes")),
                        format!(
                            "expected a list of Node manifests, found {}",
                            list.value.type_name()
                        ),
                    );
                };
                let mut nodes = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let f = format!("{field}.nodes[{i}]");
                    let (manifest, loc) = self.object::<Node>(item, &f, "Node")?;
                    if manifest.metadata.name.is_none() {
                        return err(loc, "metadata.name: required for an inline node");
                    }
                    nodes.push(Arc::new(manifest));
                }
                Ok(Action::AddNodes(nodes))
            }
            _ => err(
                self.loc(node, field),
                "expected either template (with an optional count) or nodes (a list of Node manifests)",
            ),
        }
    }

    fn bool(&self, node: &YNode, field: &str) -> Result<bool> {
        match node.value {
            Kind::Bool(b) => Ok(b),
            ref other => err(
                self.loc(node, field),
                format!("expected true or false, found {}", other.type_name()),
            ),
        }
    }

    /// `node`/`nodes` of a map-form action, or the body itself as names.
    fn action_nodes(&self, node: &YNode, field: &str) -> Result<Vec<Named>> {
        match (node.get("node"), node.get("nodes")) {
            (Some(n), None) => self.names(n, &join(field, "node")),
            (None, Some(n)) => self.names(n, &join(field, "nodes")),
            _ => err(
                self.loc(node, field),
                "expected node (one name) or nodes (a list)",
            ),
        }
    }

    /// `drain: NAME`, `drain: [NAMES]` or `drain: {node|nodes, force, deleteEmptydirData,
    /// timeout}`.
    fn drain(&self, node: &YNode, field: &str) -> Result<Action> {
        let mut opts = crate::drain::DrainOptions::default();
        if !matches!(node.value, Kind::Map(_)) {
            return Ok(Action::Drain(self.names(node, field)?, opts));
        }
        self.map(
            node,
            field,
            &["node", "nodes", "force", "deleteEmptydirData", "timeout"],
        )?;
        let nodes = self.action_nodes(node, field)?;
        if let Some(v) = node.get("force") {
            opts.force = self.bool(v, &join(field, "force"))?;
        }
        if let Some(v) = node.get("deleteEmptydirData") {
            opts.delete_emptydir_data = self.bool(v, &join(field, "deleteEmptydirData"))?;
        }
        if let Some(v) = node.get("timeout") {
            opts.timeout = self.duration(v, &join(field, "timeout"))?;
        }
        Ok(Action::Drain(nodes, opts))
    }

    /// `nodeFailure: NAME`, `[NAMES]` or `{node|nodes, condition: unreachable|not-ready}`.
    fn node_failure(&self, node: &YNode, field: &str) -> Result<Action> {
        if !matches!(node.value, Kind::Map(_)) {
            return Ok(Action::NodeFailure(
                self.names(node, field)?,
                FailureCondition::Unreachable,
            ));
        }
        self.map(node, field, &["node", "nodes", "condition"])?;
        let nodes = self.action_nodes(node, field)?;
        let condition = match node.get("condition") {
            None => FailureCondition::Unreachable,
            Some(c) => match self.string(c, &join(field, "condition"))?.as_str() {
                "unreachable" => FailureCondition::Unreachable,
                "not-ready" => FailureCondition::NotReady,
                other => {
                    return err(
                        self.loc(c, &join(field, "condition")),
                        format!(
                            "unknown condition {other:?}: expected unreachable (Ready Unknown) or not-ready (Ready False)"
                        ),
                    );
                }
            },
        };
        Ok(Action::NodeFailure(nodes, condition))
    }

    /// `createWorkloads: [manifests]`: Deployments, ReplicaSets, StatefulSets, DaemonSets and
    /// Jobs, checked as the snapshot's are.
    fn create_workloads(&self, node: &YNode, field: &str) -> Result<Action> {
        const KINDS: [&str; 5] = [
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "Job",
        ];
        let Kind::Seq(items) = &node.value else {
            return err(
                self.loc(node, field),
                format!(
                    "expected a list of workload manifests ({}), found {}",
                    KINDS.join(", "),
                    node.value.type_name()
                ),
            );
        };
        let mut snap = crate::snapshot::Snapshot::default();
        for (i, item) in items.iter().enumerate() {
            let f = format!("{field}[{i}]");
            let kind = item
                .get("kind")
                .map(|k| self.string(k, &join(&f, "kind")))
                .transpose()?;
            if !kind.as_deref().is_some_and(|k| KINDS.contains(&k)) {
                return err(
                    self.loc(item.get("kind").unwrap_or(item), &join(&f, "kind")),
                    format!(
                        "expected one of {}, found {}",
                        KINDS.join(", "),
                        kind.map_or_else(|| "none".to_string(), |k| format!("{k:?}"))
                    ),
                );
            }
            let source = crate::snapshot::Source {
                file: self.file.to_string(),
                document: 1,
                item: Some(i),
                line: Some(item.line),
                column: Some(item.column),
            };
            let mut problems = Vec::new();
            snap.add_one(item.to_json(), source, &mut problems);
            if let Some(p) = problems.first() {
                let target = item.locate(&p.field);
                return err(
                    self.loc(target, &join(&f, &p.field)),
                    format!("{}: {}", p.object, p.message),
                );
            }
        }
        // Checked now, as the snapshot's workloads are at load (selector, replicas, template).
        let mut problems = Vec::new();
        crate::workloads::expand(
            &snap,
            &mut sched_core::state::ClusterState::new(),
            &mut problems,
        );
        if let Some(p) = problems.first() {
            let i = p.source.item.unwrap_or(0);
            let item = &items[i];
            return err(
                self.loc(
                    item.locate(&p.field),
                    &join(&format!("{field}[{i}]"), &p.field),
                ),
                format!("{}: {}", p.object, p.message),
            );
        }
        Ok(Action::CreateWorkloads(Arc::new(snap)))
    }

    /// `rollout: {kind: Deployment, name: ns/name, template: POD_TEMPLATE}`.
    fn rollout(&self, node: &YNode, field: &str) -> Result<Action> {
        self.map(node, field, &["kind", "name", "template"])?;
        if let Some(k) = node.get("kind") {
            let kf = join(field, "kind");
            if crate::workloads::Kind::parse(&self.string(k, &kf)?)
                != Some(crate::workloads::Kind::Deployment)
            {
                return err(
                    self.loc(k, &kf),
                    format!(
                        "rollout is implemented for Deployments only, found {}",
                        describe_value(k)
                    ),
                );
            }
        }
        let Some(n) = node.get("name") else {
            return err(
                self.loc(node, &join(field, "name")),
                "required: the Deployment's namespace/name",
            );
        };
        let name_field = join(field, "name");
        let mut name = self.string(n, &name_field)?;
        if !name.contains('/') {
            name = format!("default/{name}");
        }
        let Some(t) = node.get("template") else {
            return err(
                self.loc(node, &join(field, "template")),
                "required: the name of a templates.pods entry (its labels and spec become the Deployment's pod template)",
            );
        };
        let tf = join(field, "template");
        let tname = self.string(t, &tf)?;
        let Some(tpl) = self.pod_templates.get(&tname) else {
            return err(
                self.loc(t, &tf),
                format!(
                    "no pod template {tname:?} in templates.pods (known: {})",
                    known(self.pod_templates.keys())
                ),
            );
        };
        let m = &tpl.manifest.metadata;
        let template = k8s_openapi::api::core::v1::PodTemplateSpec {
            metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                labels: m.labels.clone(),
                annotations: m.annotations.clone(),
                ..Default::default()
            }),
            spec: tpl.manifest.spec.clone(),
        };
        Ok(Action::Rollout {
            name: Named {
                name,
                location: self.loc(n, &name_field),
            },
            template: Arc::new(template),
        })
    }

    /// `scale: {kind: Deployment|ReplicaSet|StatefulSet, name: ns/name, replicas: N}`.
    fn scale(&self, node: &YNode, field: &str) -> Result<Action> {
        use crate::workloads::{Kind as W, MAX_WORKLOAD_PODS};
        self.map(node, field, &["kind", "name", "replicas"])?;
        let required = |key: &str, what: &str| {
            node.get(key).ok_or_else(|| ScenarioError {
                location: self.loc(node, &join(field, key)),
                message: format!("required: {what}"),
            })
        };
        let k = required("kind", "Deployment, ReplicaSet or StatefulSet")?;
        let kind_field = join(field, "kind");
        let kind = match W::parse(&self.string(k, &kind_field)?) {
            Some(w @ (W::Deployment | W::ReplicaSet | W::StatefulSet)) => w,
            Some(W::DaemonSet) => {
                return err(
                    self.loc(k, &kind_field),
                    "a DaemonSet runs one pod per eligible node: it has no replicas to scale",
                );
            }
            Some(W::Job) => {
                return err(
                    self.loc(k, &kind_field),
                    "scaling a Job (its parallelism) is not supported: expected Deployment, ReplicaSet or StatefulSet",
                );
            }
            None => {
                return err(
                    self.loc(k, &kind_field),
                    format!(
                        "unknown kind {}: expected Deployment, ReplicaSet or StatefulSet",
                        describe_value(k)
                    ),
                );
            }
        };
        let n = required("name", "the workload's namespace/name")?;
        let name_field = join(field, "name");
        let mut name = self.string(n, &name_field)?;
        if !name.contains('/') {
            name = format!("default/{name}");
        }
        let r = required("replicas", "the new number of replicas")?;
        let replicas = match r.value {
            Kind::Int(i) if (0..=MAX_WORKLOAD_PODS).contains(&i) => i,
            _ => {
                return err(
                    self.loc(r, &join(field, "replicas")),
                    format!(
                        "expected a whole number from 0 to {MAX_WORKLOAD_PODS}, found {}",
                        describe_value(r)
                    ),
                );
            }
        };
        Ok(Action::Scale {
            kind,
            name: Named {
                name,
                location: self.loc(n, &name_field),
            },
            replicas,
        })
    }

    fn taint(&self, node: &YNode, field: &str, add: bool) -> Result<Action> {
        self.map(node, field, &["node", "nodes", "key", "value", "effect"])?;
        let nodes = match (node.get("node"), node.get("nodes")) {
            (Some(n), None) => self.names(n, &join(field, "node"))?,
            (None, Some(n)) => self.names(n, &join(field, "nodes"))?,
            _ => {
                return err(
                    self.loc(node, field),
                    "expected node (one name) or nodes (a list)",
                );
            }
        };
        let Some(key) = node.get("key") else {
            return err(
                self.loc(node, &join(field, "key")),
                "required: the taint key",
            );
        };
        let key = self.string(key, &join(field, "key"))?;
        let value = node
            .get("value")
            .map(|v| self.string(v, &join(field, "value")))
            .transpose()?
            .unwrap_or_default();
        let effect = match node.get("effect") {
            None => None,
            Some(e) => {
                let s = self.string(e, &join(field, "effect"))?;
                Some(parse_effect(&s).ok_or_else(|| ScenarioError {
                    location: self.loc(e, &join(field, "effect")),
                    message: format!("unknown taint effect {s:?}: expected NoSchedule, PreferNoSchedule or NoExecute"),
                })?)
            }
        };
        if add {
            let Some(effect) = effect else {
                return err(
                    self.loc(node, &join(field, "effect")),
                    "required: NoSchedule, PreferNoSchedule or NoExecute",
                );
            };
            Ok(Action::Taint {
                nodes,
                key,
                value,
                effect,
            })
        } else {
            if let Some(v) = node.get("value") {
                return err(
                    self.loc(v, &join(field, "value")),
                    "untaint removes taints by key (and effect); a value is not used",
                );
            }
            Ok(Action::Untaint { nodes, key, effect })
        }
    }
}

/// A parsed taint effect.
#[must_use]
pub fn parse_effect(s: &str) -> Option<TaintEffect> {
    match s {
        "NoSchedule" => Some(TaintEffect::NoSchedule),
        "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
        "NoExecute" => Some(TaintEffect::NoExecute),
        _ => None,
    }
}

fn join(field: &str, key: &str) -> String {
    if field.is_empty() {
        key.to_string()
    } else {
        format!("{field}.{key}")
    }
}

fn known<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = keys.map(String::as_str).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn describe_value(node: &YNode) -> String {
    match &node.value {
        Kind::Str(s) => format!("{s:?}"),
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => f.to_string(),
        other => other.type_name().to_string(),
    }
}

/// The base of generated names: `metadata.name`, else `generateName` without its trailing
/// dash, else the template's key.
fn base_name(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> String {
    meta.name
        .clone()
        .or_else(|| {
            meta.generate_name
                .as_ref()
                .map(|g| g.trim_end_matches('-').to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| key.to_string())
}

/// A copy of `node` named `name`, with its `kubernetes.io/hostname` label (if any) following.
#[must_use]
pub fn rename_node(node: &Node, name: &str) -> Node {
    let mut n = node.clone();
    n.metadata.name = Some(name.to_string());
    n.metadata.generate_name = None;
    if let Some(labels) = n.metadata.labels.as_mut()
        && labels.contains_key("kubernetes.io/hostname")
    {
        labels.insert("kubernetes.io/hostname".into(), name.to_string());
    }
    n
}

/// Parses `90s`, `1m30s`, `500ms`, `2h`, `1d`, `1.5m` or a plain number of seconds.
#[must_use]
pub fn parse_duration(s: &str) -> Option<Millis> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| (secs * 1000.0).round() as i64);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * factor;
    }
    Some(total.round() as i64)
}

/// Formats virtual time compactly: `0s`, `90s` → `1m30s`, `1h2m`, `250ms`.
#[must_use]
pub fn format_millis(ms: Millis) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    if rest < 0 {
        out.push('-');
        rest = -rest;
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Objects whose conversion can be checked at load time.
pub trait Checkable {
    /// Converts with a scratch interner; `Err((field, message))` names the bad field.
    ///
    /// # Errors
    /// The field the conversion rejected.
    fn check(&self) -> std::result::Result<(), (String, String)>;
}

impl Checkable for Pod {
    fn check(&self) -> std::result::Result<(), (String, String)> {
        let mut probe = self.clone();
        if probe.metadata.name.is_none() {
            probe.metadata.name = Some("template".into());
        }
        sched_core::convert::pod_info(&probe, &mut Interner::new())
            .map(|_| ())
            .map_err(|e| (e.field, e.message))
    }
}

impl Checkable for Node {
    fn check(&self) -> std::result::Result<(), (String, String)> {
        let mut probe = self.clone();
        if probe.metadata.name.is_none() {
            probe.metadata.name = Some("template".into());
        }
        sched_core::convert::node_info(&probe, &mut Interner::new())
            .map(|_| ())
            .map_err(|e| (e.field, e.message))
    }
}

/// Parses a located YAML node as a Kubernetes object of `kind` (`kind` may be omitted).
///
/// # Errors
/// The field that does not deserialize or convert, with its line.
pub fn parse_object<T: serde::de::DeserializeOwned + Checkable>(
    node: &YNode,
    file: &Arc<str>,
    field: &str,
    kind: &str,
) -> Result<T> {
    let at = |path: &str, message: String| {
        let target = node.locate(path);
        ScenarioError {
            location: Location::at(file, target, join(field, path)),
            message,
        }
    };
    if !matches!(node.value, Kind::Map(_)) {
        return Err(at(
            "",
            format!(
                "expected a {kind} manifest (a mapping), found {}",
                node.value.type_name()
            ),
        ));
    }
    if let Some(k) = node.get("kind")
        && k.value != Kind::Str(kind.to_string())
    {
        return Err(at(
            "kind",
            format!("expected {kind}, found {}", describe_value(k)),
        ));
    }
    let obj: T = serde_path_to_error::deserialize(node.to_json()).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        at(&path, e.into_inner().to_string())
    })?;
    obj.check().map_err(|(path, message)| at(&path, message))?;
    Ok(obj)
}

/// Loads a file holding one Kubernetes object of `kind` (a Node or Pod template).
///
/// # Errors
/// Unreadable file, syntax error, or a malformed field (with its line).
pub fn load_object<T: serde::de::DeserializeOwned + Checkable>(
    path: &Path,
    kind: &str,
) -> Result<T> {
    let file: Arc<str> = Arc::from(path.display().to_string());
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        location: Location {
            file: file.clone(),
            ..Location::default()
        },
        message: format!("cannot read: {e}"),
    })?;
    let root = yaml::parse(&text).map_err(|e| ScenarioError {
        location: Location {
            file: file.clone(),
            line: e.location.map_or(0, |l| l.0),
            column: e.location.map_or(0, |l| l.1),
            field: String::new(),
        },
        message: format!("not valid YAML: {}", e.message),
    })?;
    parse_object(&root, &file, "", kind)
}

/// A node template for `--add-nodes` and `--plan`: a Node manifest and the base of the names
/// given to its copies.
#[derive(Clone, Debug)]
pub struct NodeTemplateFile {
    /// The manifest.
    pub node: Node,
    /// Copies are named `<base>-1`, `<base>-2`, …
    pub base: String,
}

impl NodeTemplateFile {
    /// Loads a node template file. The base name is `metadata.name`, else `generateName`,
    /// else the file's stem.
    ///
    /// # Errors
    /// As [`load_object`].
    pub fn load(path: &Path) -> Result<NodeTemplateFile> {
        let node: Node = load_object(path, "Node")?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("node")
            .to_string();
        let base = base_name(&node.metadata, &stem);
        Ok(NodeTemplateFile { node, base })
    }

    /// `count` copies, named `<base>-<first>` onwards.
    #[must_use]
    pub fn copies(&self, first: u64, count: u64) -> Vec<Node> {
        (first..first + count)
            .map(|i| rename_node(&self.node, &format!("{}-{i}", self.base)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario> {
        Scenario::from_text(text, "s.yaml", Path::new("."))
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("500ms"), Some(500));
        assert_eq!(parse_duration("2h"), Some(7_200_000));
        assert_eq!(parse_duration("1.5m"), Some(90_000));
        assert_eq!(parse_duration("12"), Some(12_000));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(format_millis(90_000), "1m30s");
        assert_eq!(format_millis(3_723_250), "1h2m3s250ms");
        assert_eq!(format_millis(0), "0s");
    }

    const GOOD: &str = r#"
templates:
  pods:
    web:
      metadata: {namespace: shop}
      spec: {containers: [{name: c, resources: {requests: {cpu: 500m}}}]}
  nodes:
    big:
      metadata: {labels: {kubernetes.io/hostname: x}}
      status: {allocatable: {cpu: "8", memory: 32Gi, pods: "110"}}
events:
- at: 1m
  drain: n1
- at: 0s
  createPods: {template: web, count: 2, duration: 5m}
- at: 30s
  addNodes: {template: big, count: 2}
- at: 30s
  createPods: {template: web}
- at: 2m
  taint: {node: n2, key: k, value: v, effect: NoExecute}
- at: 3m
  untaint: {nodes: [n2], key: k}
- at: 4m
  deletePods: [shop/web-1]
"#;

    #[test]
    fn a_scenario_loads_in_time_order_with_generated_names() {
        let s = parse(GOOD).unwrap();
        let times: Vec<Millis> = s.events.iter().map(|e| e.at).collect();
        assert_eq!(
            times,
            vec![0, 30_000, 30_000, 60_000, 120_000, 180_000, 240_000]
        );
        let Action::CreatePods(p) = &s.events[0].action else {
            panic!()
        };
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["web-1", "web-2"]
        );
        assert_eq!(p[0].duration, Some(300_000));
        let Action::AddNodes(n) = &s.events[1].action else {
            panic!()
        };
        assert_eq!(n[1].metadata.name.as_deref(), Some("big-2"));
        assert_eq!(
            n[1].metadata.labels.as_ref().unwrap()["kubernetes.io/hostname"],
            "big-2"
        );
        // The second createPods of the same template continues the numbering.
        let Action::CreatePods(p) = &s.events[2].action else {
            panic!()
        };
        assert_eq!(p[0].name, "web-3");
        assert_eq!(s.events[3].location.line, 12);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases = [
            (
                "events:\n- at: soon\n  drain: n1\n",
                "s.yaml:2:7: events[0].at",
                "duration",
            ),
            (
                "events:\n- at: 1s\n  drian: n1\n",
                "s.yaml:3:10: events[0].drian",
                "unknown field",
            ),
            (
                "events:\n- at: 1s\n",
                "s.yaml:2:3: events[0]",
                "exactly one action",
            ),
            (
                "events:\n- at: 1s\n  createPods: {template: nope}\n",
                "s.yaml:3:26: events[0].createPods.template",
                "no pod template",
            ),
            (
                "events:\n- at: 1s\n  createPods:\n    pods:\n    - metadata: {name: p}\n      spec:\n        containers:\n        - name: c\n          resources: {requests: {cpu: lots}}\n",
                "s.yaml:9:39: events[0].createPods.pods[0].spec.containers[0].resources.requests.cpu",
                "lots",
            ),
            (
                "events:\n- at: 1s\n  addNodes:\n    nodes:\n    - metadata: {name: n1}\n      spec: {unschedulable: maybe}\n",
                "s.yaml:6:29: events[0].addNodes.nodes[0].spec.unschedulable",
                "boolean",
            ),
            (
                "events:\n- at: 1s\n  taint: {node: n1, key: k, effect: Sometimes}\n",
                "s.yaml:3:37: events[0].taint.effect",
                "unknown taint effect",
            ),
            ("evnts: []\n", "s.yaml:1:8: evnts", "unknown field"),
            (
                "events:\n- at: 1s\n  createPods: {template: [x]}\n",
                "s.yaml:3:26: events[0].createPods.template",
                "expected a string",
            ),
        ];
        for (text, want_loc, want_msg) in cases {
            let e = parse(text).unwrap_err();
            let s = e.to_string();
            assert!(
                s.starts_with(want_loc),
                "{text:?}\n got: {s}\nwant: {want_loc}"
            );
            assert!(
                s.contains(want_msg),
                "{text:?}\n got: {s}\nwant: {want_msg}"
            );
        }
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = parse("events: [\n").unwrap_err();
        assert!(e.location.line > 0, "{e}");
        assert!(e.to_string().contains("not valid YAML"), "{e}");
    }
}
