//! Cluster snapshot loading: what `placer snapshot` writes, or
//! `kubectl get nodes,pods,namespaces,services,replicasets,statefulsets,replicationcontrollers
//! -A -o yaml` prints, and friends.
//!
//! Accepted: a `kind: List` (YAML or JSON), a multi-document YAML stream, a single object, a
//! directory of such files (`*.yaml`, `*.yml`, `*.json`, in name order), or `-` for stdin.
//! Read kinds: Node, Pod, Namespace, Service, ReplicaSet, StatefulSet, ReplicationController,
//! PriorityClass, PodDisruptionBudget (`policy/v1`; all but Node and Pod only for what the scheduler needs of them: names, namespace labels,
//! selectors). Objects of other kinds are skipped and counted. Every problem names the file, the document,
//! the list item, the object (`ns/name`) and the field, with the line and column where YAML
//! gives them. A malformed object never disappears silently: the load fails with the list of
//! problems, or, with `skip_invalid`, loads the rest and reports each skip.

use crate::output::Loaded;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ReplicationController, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sched_core::model::PodInfo;
use sched_core::state::ClusterState;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where an object came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// File path (`-` for stdin).
    pub file: String,
    /// 1-based document index in a YAML stream.
    pub document: usize,
    /// 0-based index in a `List`'s `items`, when in a list.
    pub item: Option<usize>,
    /// 1-based line of the object, when known.
    pub line: Option<u64>,
    /// 1-based column of the object, when known.
    pub column: Option<u64>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": document {}", self.document)?;
        if let Some(i) = self.item {
            write!(f, ", items[{i}]")?;
        }
        Ok(())
    }
}

/// One thing wrong with one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub source: Source,
    /// `Pod ns/name`, `Node name`, `Service ns/name`, or what is known.
    pub object: String,
    /// The field path (`spec.containers[0].resources.requests.cpu`), or empty.
    pub field: String,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.object)?;
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a snapshot could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML/JSON.
    #[error("{file}{}: {message}", location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Syntax {
        /// The file.
        file: String,
        /// Line and column.
        location: Option<(u64, u64)>,
        /// The parser's message.
        message: String,
    },
    /// The input holds no object at all (an empty file or directory, a cut-off download).
    #[error(
        "{0}: no Kubernetes objects found (expected Nodes, Pods, … as `kubectl get -o yaml` writes them)"
    )]
    Empty(String),
    /// Objects were malformed (and `skip_invalid` was off).
    #[error("{} invalid object(s) in the snapshot (use --skip-invalid to load the rest):\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// `Result` with [`LoadError`].
pub type Result<T, E = LoadError> = std::result::Result<T, E>;

/// Options for loading.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Load the valid objects and report the invalid ones instead of failing.
    pub skip_invalid: bool,
}

/// The raw objects of a snapshot.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Nodes, in load order.
    pub nodes: Vec<(Source, Node)>,
    /// Pods, in load order.
    pub pods: Vec<(Source, Pod)>,
    /// Namespaces, in load order.
    pub namespaces: Vec<(Source, Namespace)>,
    /// Services, in load order.
    pub services: Vec<(Source, Service)>,
    /// ReplicaSets, in load order.
    pub replica_sets: Vec<(Source, ReplicaSet)>,
    /// StatefulSets, in load order.
    pub stateful_sets: Vec<(Source, StatefulSet)>,
    /// ReplicationControllers, in load order.
    pub replication_controllers: Vec<(Source, ReplicationController)>,
    /// PriorityClasses, in load order.
    pub priority_classes: Vec<(Source, PriorityClass)>,
    /// PodDisruptionBudgets, in load order.
    pub pod_disruption_budgets: Vec<(Source, PodDisruptionBudget)>,
    /// Deployments, in load order.
    pub deployments: Vec<(Source, Deployment)>,
    /// DaemonSets, in load order.
    pub daemon_sets: Vec<(Source, DaemonSet)>,
    /// Jobs, in load order.
    pub jobs: Vec<(Source, Job)>,
    /// Objects of other kinds, counted by kind.
    pub skipped_kinds: BTreeMap<String, usize>,
    /// Objects skipped as invalid (only with `skip_invalid`).
    pub skipped_invalid: Vec<Problem>,
    /// Non-empty documents read (a `kind: List` with `items: []` is one: an empty cluster on
    /// purpose, unlike an empty file).
    documents: usize,
}

impl Snapshot {
    /// Loads a path: a file, a directory of files, or `-` for stdin.
    ///
    /// # Errors
    /// I/O, syntax, or invalid objects (unless `skip_invalid`).
    pub fn load(path: &Path, opts: LoadOptions) -> Result<Snapshot> {
        let mut snap = Snapshot::default();
        let mut problems = Vec::new();
        if path == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| LoadError::Io {
                    path: "-".into(),
                    source,
                })?;
            snap.add_text(&text, "-", &mut problems)?;
        } else if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|source| LoadError::Io {
                    path: path.display().to_string(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect();
            files.sort();
            for f in files {
                snap.add_file(&f, &mut problems)?;
            }
        } else {
            snap.add_file(path, &mut problems)?;
        }
        snap.finish(problems, opts, &path.display().to_string())
    }

    /// Loads from text (`file` names it in messages).
    ///
    /// # Errors
    /// Syntax errors, or invalid objects (unless `skip_invalid`).
    pub fn from_text(text: &str, file: &str, opts: LoadOptions) -> Result<Snapshot> {
        let mut snap = Snapshot::default();
        let mut problems = Vec::new();
        snap.add_text(text, file, &mut problems)?;
        snap.finish(problems, opts, file)
    }

    /// Whether the input held no document at all (empty, or only comments).
    fn is_empty(&self) -> bool {
        self.documents == 0
    }

    fn finish(mut self, problems: Vec<Problem>, opts: LoadOptions, what: &str) -> Result<Snapshot> {
        if problems.is_empty() && self.is_empty() {
            return Err(LoadError::Empty(what.to_string()));
        }
        if problems.is_empty() {
            return Ok(self);
        }
        if opts.skip_invalid {
            self.skipped_invalid.extend(problems);
            Ok(self)
        } else {
            Err(LoadError::Invalid(problems))
        }
    }

    fn add_file(&mut self, path: &Path, problems: &mut Vec<Problem>) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.add_text(&text, &path.display().to_string(), problems)
    }

    fn add_text(&mut self, text: &str, file: &str, problems: &mut Vec<Problem>) -> Result<()> {
        let trimmed = text.trim_start();
        let json = trimmed.starts_with('{') || trimmed.starts_with('[');
        if !json && let Some((loc, items)) = parse_block_list_typed(text) {
            // `kubectl get -o yaml`'s layout: one `kind: List` document, typed item by item.
            self.documents += 1;
            let source = Source {
                file: file.to_string(),
                document: 1,
                item: None,
                line: loc.map(|l| l.0),
                column: loc.map(|l| l.1),
            };
            for (i, obj) in items.into_iter().enumerate() {
                let s = Source {
                    item: Some(i),
                    ..source.clone()
                };
                self.add_typed(obj, s, problems);
            }
            return Ok(());
        }
        for (i, (doc, loc)) in parse_documents(text, file)?.into_iter().enumerate() {
            let source = Source {
                file: file.to_string(),
                document: i + 1,
                item: None,
                line: loc.map(|l| l.0),
                column: loc.map(|l| l.1),
            };
            self.add_value(doc, source, problems);
        }
        Ok(())
    }

    fn add_value(&mut self, doc: Value, source: Source, problems: &mut Vec<Problem>) {
        if doc.is_null() {
            return; // an empty YAML document
        }
        self.documents += 1;
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if kind.ends_with("List") && doc.get("items").is_some() {
            let Value::Object(mut map) = doc else { return };
            let items = match map.remove("items") {
                Some(Value::Array(items)) => items,
                Some(Value::Null) | None => Vec::new(),
                Some(_) => {
                    problems.push(Problem {
                        source,
                        object: kind,
                        field: "items".into(),
                        message: "expected a list of objects".into(),
                    });
                    return;
                }
            };
            for (i, item) in items.into_iter().enumerate() {
                let s = Source {
                    item: Some(i),
                    ..source.clone()
                };
                self.add_object(item, s, problems);
            }
        } else {
            self.add_object(doc, source, problems);
        }
    }

    /// Adds one object (a scenario's `createWorkloads` entry) as if read from a file.
    pub(crate) fn add_one(&mut self, obj: Value, source: Source, problems: &mut Vec<Problem>) {
        self.documents += 1;
        self.add_object(obj, source, problems);
    }

    fn add_object(&mut self, obj: Value, source: Source, problems: &mut Vec<Problem>) {
        self.add_typed(typed(obj), source, problems);
    }

    /// Keeps one object read and typed ([`typed`]), or records why it is not kept.
    fn add_typed(&mut self, obj: TypedObject, source: Source, problems: &mut Vec<Problem>) {
        match obj {
            TypedObject::Node(o) => self.nodes.push((source, *o)),
            TypedObject::Pod(o) => self.pods.push((source, *o)),
            TypedObject::Namespace(o) => self.namespaces.push((source, *o)),
            TypedObject::Service(o) => self.services.push((source, *o)),
            TypedObject::ReplicaSet(o) => self.replica_sets.push((source, *o)),
            TypedObject::StatefulSet(o) => self.stateful_sets.push((source, *o)),
            TypedObject::ReplicationController(o) => {
                self.replication_controllers.push((source, *o));
            }
            TypedObject::PriorityClass(o) => self.priority_classes.push((source, *o)),
            TypedObject::PodDisruptionBudget(o) => self.pod_disruption_budgets.push((source, *o)),
            TypedObject::Deployment(o) => self.deployments.push((source, *o)),
            TypedObject::DaemonSet(o) => self.daemon_sets.push((source, *o)),
            TypedObject::Job(o) => self.jobs.push((source, *o)),
            TypedObject::OtherKind(kind) => *self.skipped_kinds.entry(kind).or_default() += 1,
            TypedObject::Invalid {
                object,
                field,
                message,
            } => problems.push(Problem {
                source,
                object,
                field,
                message,
            }),
        }
    }
}

/// One object of a snapshot, deserialized into its kind's type (or why it is not one): what
/// [`Snapshot`] keeps. Built by [`typed`], which needs nothing but the object, so large files
/// type their items in parallel as they parse them.
enum TypedObject {
    Node(Box<Node>),
    Pod(Box<Pod>),
    Namespace(Box<Namespace>),
    Service(Box<Service>),
    ReplicaSet(Box<ReplicaSet>),
    StatefulSet(Box<StatefulSet>),
    ReplicationController(Box<ReplicationController>),
    PriorityClass(Box<PriorityClass>),
    PodDisruptionBudget(Box<PodDisruptionBudget>),
    Deployment(Box<Deployment>),
    DaemonSet(Box<DaemonSet>),
    Job(Box<Job>),
    /// A kind Placer does not read, counted.
    OtherKind(String),
    /// Not an object of its kind: the problem's object, field and message.
    Invalid {
        object: String,
        field: String,
        message: String,
    },
}

/// Types one object by its `kind`.
fn typed(obj: Value) -> TypedObject {
    let kind = obj.get("kind").and_then(Value::as_str).map(str::to_string);
    let name = describe(&obj);
    macro_rules! as_kind {
        ($variant:ident, $kind:literal) => {
            match deserialize(obj) {
                Ok(o) => TypedObject::$variant(Box::new(o)),
                Err((field, message)) => TypedObject::Invalid {
                    object: format!("{} {name}", $kind),
                    field,
                    message,
                },
            }
        };
    }
    match kind.as_deref() {
        Some("Node") => as_kind!(Node, "Node"),
        Some("Pod") => as_kind!(Pod, "Pod"),
        Some("Namespace") => as_kind!(Namespace, "Namespace"),
        Some("Service") => as_kind!(Service, "Service"),
        Some("ReplicaSet") => as_kind!(ReplicaSet, "ReplicaSet"),
        Some("StatefulSet") => as_kind!(StatefulSet, "StatefulSet"),
        Some("ReplicationController") => as_kind!(ReplicationController, "ReplicationController"),
        Some("PriorityClass") => as_kind!(PriorityClass, "PriorityClass"),
        Some("PodDisruptionBudget") => as_kind!(PodDisruptionBudget, "PodDisruptionBudget"),
        Some("Deployment") => as_kind!(Deployment, "Deployment"),
        Some("DaemonSet") => as_kind!(DaemonSet, "DaemonSet"),
        Some("Job") => as_kind!(Job, "Job"),
        Some(other) => TypedObject::OtherKind(other.to_string()),
        None => TypedObject::Invalid {
            object: format!("object {name}"),
            field: "kind".into(),
            message: "missing: expected Node, Pod, List or another Kubernetes kind".into(),
        },
    }
}

/// Kinds whose objects live in a namespace (`default` when `metadata.namespace` is missing).
const NAMESPACED: [&str; 9] = [
    "Pod",
    "Deployment",
    "DaemonSet",
    "Job",
    "PodDisruptionBudget",
    "Service",
    "ReplicaSet",
    "StatefulSet",
    "ReplicationController",
];

/// `ns/name` (namespaced kinds), `name`, or `<unnamed>` from an object's metadata.
fn describe(obj: &Value) -> String {
    let meta = obj.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    let namespaced = obj
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| NAMESPACED.contains(&k));
    if !namespaced {
        return name.to_string();
    }
    let ns = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    format!("{ns}/{name}")
}

fn deserialize<T: serde::de::DeserializeOwned>(
    v: Value,
) -> std::result::Result<T, (String, String)> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        (field, e.into_inner().to_string())
    })
}

type DocLocation = Option<(u64, u64)>;

/// Splits text into documents. JSON is parsed as JSON (fast, exact numbers); anything else as a
/// YAML stream, keeping each document's start position.
fn parse_documents(text: &str, file: &str) -> Result<Vec<(Value, DocLocation)>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => Ok(items.into_iter().map(|v| (v, None)).collect()),
            Ok(v) => Ok(vec![(v, None)]),
            Err(e) => Err(LoadError::Syntax {
                file: file.to_string(),
                location: Some((e.line() as u64, e.column() as u64)),
                message: e.to_string(),
            }),
        };
    }
    let mut options = serde_saphyr::Options::default();
    // Snapshots of large clusters exceed the parser's default event budget; input is local files.
    options.budget = None;
    let docs: Vec<serde_saphyr::Spanned<Value>> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| LoadError::Syntax {
            file: file.to_string(),
            location: e.location().map(|l| (l.line(), l.column())),
            message: e.to_string(),
        })?;
    Ok(docs
        .into_iter()
        .map(|d| {
            let loc = (d.defined.line() > 0).then(|| (d.defined.line(), d.defined.column()));
            (d.value, loc)
        })
        .collect())
}

/// A `kind: List` laid out as `kubectl get -o yaml` writes it, parsed item by item on every
/// core: top-level keys at column 0, and `items:` alone on its line followed by a block
/// sequence whose entries start with `- ` at column 0. Each entry is a YAML document of its
/// own there (an entry cannot refer to another's anchors, and its lines are indented), so
/// parsing the entries apart gives the same values as parsing the whole text. `None` for any
/// other layout, or when a piece does not parse alone (an alias across entries, a syntax
/// error): the caller then parses the whole text, which reports errors with their position.
#[cfg(test)]
fn parse_block_list(text: &str) -> Option<Vec<(Value, DocLocation)>> {
    use rayon::prelude::*;
    let (mut head, items, loc) = split_block_list(text)?;
    let parsed: Option<Vec<Value>> = items.par_iter().map(|item| parse_item(item)).collect();
    head.insert("items".into(), Value::Array(parsed?));
    Some(vec![(Value::Object(head), loc)])
}

/// [`parse_block_list`]'s items typed as they are parsed, each on its own core, so that the
/// document is never held as one `Value` tree: the list's position and its objects.
fn parse_block_list_typed(text: &str) -> Option<(DocLocation, Vec<TypedObject>)> {
    use rayon::prelude::*;
    let (_, items, loc) = split_block_list(text)?;
    let typed: Option<Vec<TypedObject>> = items
        .par_iter()
        .map(|item| parse_item(item).map(typed))
        .collect();
    Some((loc, typed?))
}

fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.budget = None;
    o
}

/// One `- …` entry of a block list, parsed alone.
fn parse_item(item: &str) -> Option<Value> {
    match serde_saphyr::from_str_with_options::<Vec<Value>>(item, yaml_options()) {
        Ok(mut one) if one.len() == 1 => one.pop(),
        _ => None,
    }
}

/// The header (every top-level key but `items`), the entries of `items` as text, and the
/// position of the first line, when `text` has the layout [`parse_block_list`] describes.
fn split_block_list(
    text: &str,
) -> Option<(serde_json::Map<String, Value>, Vec<&str>, DocLocation)> {
    let mut header = String::new();
    let mut items: Vec<&str> = Vec::new();
    let mut first_line: Option<u64> = None;
    let mut in_items = false;
    let mut seen_items = false;
    let mut item_start: Option<usize> = None;
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let bare = line.trim_end();
        let blank_or_comment = bare.is_empty() || bare.starts_with('#');
        if bare.starts_with("---") || bare.starts_with("...") || bare.starts_with('%') {
            return None; // several documents, or directives: the general path
        }
        if first_line.is_none() && !blank_or_comment {
            first_line = Some(n as u64 + 1);
        }
        if in_items {
            if bare == "-" || bare.starts_with("- ") {
                if let Some(s) = item_start.replace(start) {
                    items.push(&text[s..start]);
                }
                continue;
            }
            if blank_or_comment || line.starts_with(' ') {
                if item_start.is_none() && !blank_or_comment {
                    return None; // an indented sequence: the general path
                }
                continue;
            }
            // Another top-level key ends the sequence.
            if let Some(s) = item_start.take() {
                items.push(&text[s..start]);
            }
            in_items = false;
        }
        if bare == "items:" {
            if seen_items {
                return None;
            }
            in_items = true;
            seen_items = true;
            continue;
        }
        header.push_str(line);
    }
    if let Some(s) = item_start {
        items.push(&text[s..]);
    }
    if !seen_items || items.len() < 64 {
        return None; // nothing to gain on a small file
    }
    let Ok(Value::Object(head)) =
        serde_saphyr::from_str_with_options::<Value>(&header, yaml_options())
    else {
        return None;
    };
    let kind = head.get("kind").and_then(Value::as_str).unwrap_or_default();
    if !kind.ends_with("List") || head.contains_key("items") {
        return None;
    }
    Some((head, items, first_line.map(|l| (l, 1))))
}

/// A snapshot converted into a cluster state plus its pending pods.
#[derive(Debug)]
pub struct LoadedCluster {
    /// Nodes and running pods.
    pub state: ClusterState,
    /// Pods without `spec.nodeName` (not terminal), in load order.
    pub pending: Vec<PodInfo>,
    /// Terminal pods (Succeeded/Failed): they hold nothing.
    pub terminal: usize,
    /// Objects skipped as invalid (with `skip_invalid`).
    pub skipped_invalid: Vec<Problem>,
    /// Objects of other kinds, counted by kind.
    pub skipped_kinds: BTreeMap<String, usize>,
    /// Objects loaded into the state (or, for pending pods, into `pending`), by group.
    pub loaded: Loaded,
    /// The snapshot's PriorityClasses, to admit pods read later (`explain --pod`).
    pub priority_classes: PriorityClasses,
    /// The ReplicaSets, StatefulSets and Deployments a scenario's `scale` events act on.
    pub workloads: crate::workloads::Workloads,
    /// Owner references of the snapshot's objects (`kubectl drain` reads controllers).
    pub owners: std::sync::Arc<crate::owners::OwnerGraph>,
}

impl LoadedCluster {
    /// Converts a snapshot: nodes first (in order), then Namespaces, Services,
    /// ReplicationControllers, ReplicaSets and StatefulSets, then pods.
    ///
    /// # Errors
    /// Invalid objects (unparsable quantities, duplicates, …) unless `skip_invalid`.
    pub fn from_snapshot(snap: Snapshot, opts: LoadOptions) -> Result<LoadedCluster> {
        let owners = std::sync::Arc::new(crate::owners::OwnerGraph::from_snapshot(&snap));
        let mut state = ClusterState::new();
        let mut problems = Vec::new();
        let mut loaded = Loaded::default();
        for (source, node) in &snap.nodes {
            let name = node
                .metadata
                .name
                .clone()
                .unwrap_or_else(|| "<unnamed>".into());
            match state
                .convert_node(node)
                .and_then(|info| state.add_node(info))
            {
                Ok(_) => loaded.nodes += 1,
                Err(e) => problems.push(problem_from(source, &format!("Node {name}"), e)),
            }
        }
        apply_objects(
            &snap.namespaces,
            &mut loaded.namespaces,
            &mut problems,
            |ns| state.apply_namespace(ns),
        );
        apply_objects(&snap.services, &mut loaded.services, &mut problems, |svc| {
            state.apply_service(svc)
        });
        apply_objects(
            &snap.replication_controllers,
            &mut loaded.replication_controllers,
            &mut problems,
            |rc| state.apply_replication_controller(rc),
        );
        let mut snap = snap;
        dedup(&mut snap.deployments, &mut problems);
        dedup(&mut snap.daemon_sets, &mut problems);
        dedup(&mut snap.jobs, &mut problems);
        // The workload controllers, once: the pods (and Deployments' ReplicaSets) missing.
        let expansion = crate::workloads::expand(&snap, &mut state, &mut problems);
        loaded.deployments = expansion.deployments;
        loaded.daemon_sets = expansion.daemon_sets;
        loaded.jobs = expansion.jobs;
        apply_objects(
            &snap.replica_sets,
            &mut loaded.replica_sets,
            &mut problems,
            |rs| state.apply_replica_set(rs),
        );
        apply_objects(
            &expansion.replica_sets,
            &mut loaded.created_replica_sets,
            &mut problems,
            |rs| state.apply_replica_set(rs),
        );
        apply_objects(
            &snap.stateful_sets,
            &mut loaded.stateful_sets,
            &mut problems,
            |ss| state.apply_stateful_set(ss),
        );
        apply_objects(
            &snap.pod_disruption_budgets,
            &mut loaded.pod_disruption_budgets,
            &mut problems,
            |pdb| state.apply_disruption_budget(pdb),
        );
        let classes = PriorityClasses::new(&snap.priority_classes, &mut problems);
        loaded.priority_classes = classes.loaded;
        let mut pending = Vec::new();
        let mut pending_keys: std::collections::HashSet<Arc<str>> =
            std::collections::HashSet::new();
        let mut terminal = 0;
        let from_snapshot = snap.pods.len();
        for (i, (source, pod)) in snap.pods.iter().chain(&expansion.pods).enumerate() {
            let count = |loaded: &mut Loaded| {
                if i < from_snapshot {
                    loaded.pods += 1;
                } else {
                    loaded.created_pods += 1;
                }
            };
            let admitted;
            let defaulted;
            // The DefaultTolerationSeconds admission plugin, then Priority.
            let pod = match crate::admission::default_toleration_seconds(pod) {
                Some(p) => {
                    defaulted = p;
                    &defaulted
                }
                None => pod,
            };
            let pod = match classes.admit(pod) {
                Ok(None) => pod,
                Ok(Some(p)) => {
                    admitted = p;
                    &admitted
                }
                Err((field, message)) => {
                    problems.push(Problem {
                        source: source.clone(),
                        object: format!("Pod {}", describe_pod(pod)),
                        field: field.into(),
                        message,
                    });
                    continue;
                }
            };
            let info = match state.convert_pod(pod) {
                Ok(info) => info,
                Err(e) => {
                    let name = describe_pod(pod);
                    problems.push(problem_from(source, &format!("Pod {name}"), e));
                    continue;
                }
            };
            if info.terminal {
                terminal += 1;
                count(&mut loaded);
            } else if info.node_name.is_some() {
                let key = info.key.clone();
                match state.add_pod(info) {
                    Ok(_) => count(&mut loaded),
                    Err(e) => problems.push(problem_from(source, &format!("Pod {key}"), e)),
                }
            } else {
                // A pending pod named like another pending or a bound one is the same object
                // twice: reported, not dropped in silence.
                if state.pod(&info.key).is_some() || !pending_keys.insert(info.key.clone()) {
                    problems.push(Problem {
                        source: source.clone(),
                        object: format!("Pod {}", info.key),
                        field: "metadata.name".into(),
                        message: "a pod with this namespace/name appears twice".into(),
                    });
                    continue;
                }
                pending.push(info);
                count(&mut loaded);
            }
        }
        let mut skipped_invalid = snap.skipped_invalid;
        if !problems.is_empty() {
            if !opts.skip_invalid {
                return Err(LoadError::Invalid(problems));
            }
            skipped_invalid.extend(problems);
        }
        Ok(LoadedCluster {
            workloads: expansion.workloads,
            priority_classes: classes,
            state,
            pending,
            terminal,
            skipped_invalid,
            skipped_kinds: snap.skipped_kinds,
            loaded,
            owners,
        })
    }

    /// Loads and converts a path in one step.
    ///
    /// # Errors
    /// As [`Snapshot::load`] and [`LoadedCluster::from_snapshot`].
    pub fn load(path: &Path, opts: LoadOptions) -> Result<LoadedCluster> {
        Self::from_snapshot(Snapshot::load(path, opts)?, opts)
    }
}

/// Removes the second and later objects of one namespace/name, each a problem naming it.
fn dedup<T>(objects: &mut Vec<(Source, T)>, problems: &mut Vec<Problem>)
where
    T: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    let mut seen = BTreeSet::new();
    objects.retain(|(source, obj)| {
        let meta = obj.metadata();
        let Some(name) = meta.name.as_deref() else {
            return true;
        };
        let id = format!("{}/{name}", meta.namespace.as_deref().unwrap_or("default"));
        if seen.insert(id.clone()) {
            return true;
        }
        problems.push(Problem {
            source: source.clone(),
            object: format!("{} {id}", T::KIND),
            field: "metadata.name".into(),
            message: format!("a {} with this namespace/name appears twice", T::KIND),
        });
        false
    });
}

/// Applies each object with `apply`, counting successes in `count`; a second object with the
/// same (namespace and) name, or one the state refuses, is a problem naming it.
fn apply_objects<T>(
    objects: &[(Source, T)],
    count: &mut usize,
    problems: &mut Vec<Problem>,
    mut apply: impl FnMut(&T) -> sched_core::state::Result<()>,
) where
    T: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    let namespaced = NAMESPACED.contains(&T::KIND);
    let mut seen = BTreeSet::new();
    for (source, obj) in objects {
        let meta = obj.metadata();
        let name = meta.name.as_deref().unwrap_or("<unnamed>");
        let id = if namespaced {
            format!("{}/{name}", meta.namespace.as_deref().unwrap_or("default"))
        } else {
            name.to_string()
        };
        let object = format!("{} {id}", T::KIND);
        if meta.name.is_some() && !seen.insert(id) {
            problems.push(Problem {
                source: source.clone(),
                object,
                field: "metadata.name".into(),
                message: format!(
                    "a {} with this {} appears twice",
                    T::KIND,
                    if namespaced { "namespace/name" } else { "name" }
                ),
            });
            continue;
        }
        match apply(obj) {
            Ok(()) => *count += 1,
            Err(e) => problems.push(problem_from(source, &object, e)),
        }
    }
}

fn describe_pod(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or("<unnamed>")
    )
}

/// The PriorityClasses of a snapshot, applied to pods as upstream's Priority admission plugin
/// does at pod creation (`plugin/pkg/admission/priority`): a pod without `spec.priority` gets
/// its class's value and preemptionPolicy, or the `globalDefault` class's when it names none
/// (0 without one); a class that does not exist is an error, and so is a priority or
/// preemptionPolicy that differs from its class's. The two classes every API server creates,
/// `system-cluster-critical` and `system-node-critical`, exist even when the snapshot omits them.
#[derive(Clone, Debug, Default)]
pub struct PriorityClasses {
    by_name: BTreeMap<String, (i32, Option<String>)>,
    global_default: Option<String>,
    /// How many came from the snapshot (the system classes are not counted).
    loaded: usize,
}

impl PriorityClasses {
    /// upstream `SystemCriticalPriority` and the built-in classes.
    const SYSTEM: [(&'static str, i32); 2] = [
        ("system-cluster-critical", 2_000_000_000),
        ("system-node-critical", 2_000_001_000),
    ];

    fn new(classes: &[(Source, PriorityClass)], problems: &mut Vec<Problem>) -> Self {
        let mut by_name = BTreeMap::new();
        let mut loaded = 0;
        let mut global_default: Option<(String, i32)> = None;
        for (source, pc) in classes {
            let name = pc.metadata.name.clone().unwrap_or_default();
            if name.is_empty() {
                problems.push(Problem {
                    source: source.clone(),
                    object: "PriorityClass <unnamed>".into(),
                    field: "metadata.name".into(),
                    message: "a PriorityClass needs a name".into(),
                });
                continue;
            }
            let Some(value) = pc.value else {
                problems.push(Problem {
                    source: source.clone(),
                    object: format!("PriorityClass {name}"),
                    field: "value".into(),
                    message: "required: the class's integer priority".into(),
                });
                continue;
            };
            if by_name
                .insert(name.clone(), (value, pc.preemption_policy.clone()))
                .is_none()
            {
                loaded += 1;
            } else {
                problems.push(Problem {
                    source: source.clone(),
                    object: format!("PriorityClass {name}"),
                    field: "metadata.name".into(),
                    message: "a PriorityClass with this name appears twice".into(),
                });
            }
            // upstream getDefaultPriority: the globalDefault class with the lowest value when
            // several claim it (validation allows one; a snapshot may hold a transient second).
            if pc.global_default == Some(true)
                && global_default.as_ref().is_none_or(|(_, v)| value < *v)
            {
                global_default = Some((name, value));
            }
        }
        for (name, value) in Self::SYSTEM {
            by_name
                .entry(name.to_string())
                .or_insert((value, Some("PreemptLowerPriority".into())));
        }
        PriorityClasses {
            by_name,
            global_default: global_default.map(|(n, _)| n),
            loaded,
        }
    }

    /// The pod as admission would store it: `None` when it is unchanged; an error names the
    /// field and says why.
    ///
    /// # Errors
    /// An unknown class, or a priority or preemptionPolicy its class contradicts.
    pub fn admit(&self, pod: &Pod) -> std::result::Result<Option<Pod>, (&'static str, String)> {
        let Some(spec) = pod.spec.as_ref() else {
            return Ok(None);
        };
        let named = spec
            .priority_class_name
            .as_deref()
            .filter(|n| !n.is_empty());
        if named.is_none() && self.global_default.is_none() {
            // Priority as written, 0 when unset, as upstream without a default class.
            return Ok(None);
        }
        if let Some(p) = spec.priority {
            // Already admitted (a live cluster's pods), or written by hand: kept, unless it
            // contradicts a class that exists. (Admission would refuse a priority without a
            // class; hand-written pods and scenario templates commonly give `priority` alone,
            // and a running pod keeps its value after its class is deleted.)
            if let Some((value, _)) = named.and_then(|n| self.by_name.get(n))
                && p != *value
            {
                return Err((
                    "spec.priority",
                    format!(
                        "the integer value of priority ({p}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
                    ),
                ));
            }
            return Ok(None);
        }
        let (value, policy) = match named.or(self.global_default.as_deref()) {
            None => (0, None),
            Some(name) => match self.by_name.get(name) {
                Some((v, p)) => (*v, p.clone()),
                None => {
                    return Err((
                        "spec.priorityClassName",
                        format!("no PriorityClass with name {name} was found"),
                    ));
                }
            },
        };
        if let (Some(want), Some(have)) = (&policy, &spec.preemption_policy)
            && want != have
        {
            return Err((
                "spec.preemptionPolicy",
                format!(
                    "the string value of PreemptionPolicy ({have}) must not be provided in pod spec; priority admission controller computed {want} from the given PriorityClass name"
                ),
            ));
        }
        let mut pod = pod.clone();
        let spec = pod.spec.as_mut().expect("checked above");
        spec.priority = Some(value);
        if policy.is_some() {
            spec.preemption_policy = policy;
        }
        Ok(Some(pod))
    }
}

fn problem_from(source: &Source, object: &str, e: sched_core::state::StateError) -> Problem {
    match e {
        sched_core::state::StateError::Convert(c) => Problem {
            source: source.clone(),
            object: format!("{} {}", c.kind, c.object),
            field: c.field,
            message: c.message,
        },
        other => Problem {
            source: source.clone(),
            object: object.to_string(),
            field: String::new(),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole-text parse `parse_documents` falls back to.
    fn parse_whole(text: &str) -> Vec<(Value, DocLocation)> {
        let mut options = serde_saphyr::Options::default();
        options.budget = None;
        serde_saphyr::from_multiple_with_options::<serde_saphyr::Spanned<Value>>(text, options)
            .unwrap()
            .into_iter()
            .map(|d| (d.value, Some((d.defined.line(), d.defined.column()))))
            .collect()
    }

    fn big_list(items: usize) -> String {
        let mut text = String::from("# written by a test\n\napiVersion: v1\nitems:\n");
        for i in 0..items {
            text.push_str(&format!(
                "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n    labels: {{app: \"a\"}}\n  \
                 spec:\n    containers:\n    - name: c\n      args:\n      - \"--x\"\n      - |\n        line one\n\n        line two\n\
                 # a comment between items\n"
            ));
        }
        text.push_str("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
        text
    }

    #[test]
    fn a_block_list_parsed_item_by_item_equals_the_whole_parse() {
        let text = big_list(100);
        let fast = parse_block_list(&text).expect("the kubectl layout takes the item-by-item path");
        assert_eq!(fast, parse_whole(&text));
        assert_eq!(fast[0].0["items"].as_array().unwrap().len(), 100);
    }

    #[test]
    fn layouts_the_item_by_item_parse_does_not_take() {
        // An alias to an anchor of another item only parses as a whole.
        let mut aliased = big_list(70);
        aliased = aliased.replacen("name: p0", "name: &first p0", 1);
        aliased = aliased.replacen("name: p1\n", "name: *first\n", 1);
        assert!(parse_block_list(&aliased).is_none());
        let docs = parse_documents(&aliased, "f.yaml").unwrap();
        assert_eq!(docs[0].0["items"][1]["metadata"]["name"], "p0");
        // Indented items, several documents, few items: the whole parse.
        assert!(
            parse_block_list(
                &big_list(70)
                    .replace("\n- ", "\n  - ")
                    .replace("\n  ", "\n    ")
            )
            .is_none()
        );
        assert!(parse_block_list(&format!("{}---\nkind: Pod\n", big_list(70))).is_none());
        assert!(parse_block_list(&big_list(3)).is_none());
        // A syntax error inside an item is reported by the whole parse, with its position.
        let broken = big_list(70).replacen("name: p5", "name: [p5", 1);
        assert!(parse_block_list(&broken).is_none());
        assert!(matches!(
            parse_documents(&broken, "f.yaml"),
            Err(LoadError::Syntax {
                location: Some(_),
                ..
            })
        ));
    }

    const LIST: &str = r#"apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
  status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: shop}
  spec:
    nodeName: n1
    containers: [{name: c, resources: {requests: {cpu: 500m}}}]
- apiVersion: v1
  kind: Pod
  metadata: {name: pending}
  spec: {containers: [{name: c}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: done}
  spec: {nodeName: n1, containers: [{name: c, resources: {requests: {cpu: "3"}}}]}
  status: {phase: Succeeded}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm}
"#;

    #[test]
    fn loads_a_kubectl_list() {
        let snap = Snapshot::from_text(LIST, "list.yaml", LoadOptions::default()).unwrap();
        assert_eq!(snap.nodes.len(), 1);
        assert_eq!(snap.pods.len(), 3);
        assert_eq!(snap.skipped_kinds.get("ConfigMap"), Some(&1));
        let c = LoadedCluster::from_snapshot(snap, LoadOptions::default()).unwrap();
        assert_eq!(c.pending.len(), 1);
        assert_eq!(&*c.pending[0].key, "default/pending");
        assert_eq!(c.terminal, 1);
        let n1 = c.state.node_id("n1").unwrap();
        // The terminal pod holds nothing; the running one holds 500m.
        assert_eq!(c.state.node(n1).requested.milli_cpu, 500);
        assert_eq!((c.loaded.nodes, c.loaded.pods), (1, 3));
    }

    /// One object of each kind read besides Nodes and Pods, and two of kinds that are not.
    const OBJECTS: &str = r#"apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop, labels: {team: web}}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: shop}
  spec: {selector: {app: web}, ports: [{port: 80}]}
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata: {name: web-5d4f, namespace: shop}
  spec:
    selector: {matchLabels: {app: web}}
    template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: db, namespace: shop}
  spec:
    serviceName: db
    selector: {matchLabels: {app: db}}
    template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}
- apiVersion: v1
  kind: ReplicationController
  metadata: {name: legacy}
  spec: {selector: {app: legacy}}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm, namespace: shop}
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: web, namespace: shop}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm2, namespace: shop}
"#;

    #[test]
    fn loads_namespaces_services_and_workloads_from_a_list() {
        let snap = Snapshot::from_text(OBJECTS, "objects.yaml", LoadOptions::default()).unwrap();
        assert_eq!(snap.namespaces.len(), 1);
        assert_eq!(snap.services.len(), 1);
        assert_eq!(snap.replica_sets.len(), 1);
        assert_eq!(snap.stateful_sets.len(), 1);
        assert_eq!(snap.replication_controllers.len(), 1);
        assert_eq!(snap.services[0].0.item, Some(1));
        assert_eq!(
            snap.skipped_kinds,
            [("ConfigMap".to_string(), 2), ("CronJob".to_string(), 1)]
                .into_iter()
                .collect()
        );
        let c = LoadedCluster::from_snapshot(snap, LoadOptions::default()).unwrap();
        assert_eq!(
            c.loaded,
            Loaded {
                namespaces: 1,
                services: 1,
                replica_sets: 1,
                stateful_sets: 1,
                replication_controllers: 1,
                // spec.replicas defaults to 1: the ReplicaSet's and the StatefulSet's pod.
                created_pods: 2,
                ..Loaded::default()
            }
        );
        let mut made: Vec<&str> = c.pending.iter().map(|p| &*p.key).collect();
        made.sort_unstable();
        assert_eq!(made[0], "shop/db-0");
        assert!(made[1].starts_with("shop/web-5d4f-"), "{made:?}");
        assert_eq!(c.state.num_namespaces(), 1);
        assert_eq!(c.state.num_services(), 1);
        assert_eq!(c.state.num_workloads(), 3);
    }

    #[test]
    fn loads_the_new_kinds_from_a_stream_and_a_directory() {
        let stream = "kind: Namespace\nmetadata: {name: a}\n---\n\
                      kind: Service\nmetadata: {name: s, namespace: a}\n---\n\
                      kind: ReplicaSet\napiVersion: apps/v1\nmetadata: {name: r, namespace: a}\n\
                      spec: {selector: {matchLabels: {app: r}}}\n---\n\
                      kind: Secret\nmetadata: {name: s, namespace: a}\n";
        let snap = Snapshot::from_text(stream, "s.yaml", LoadOptions::default()).unwrap();
        assert_eq!(snap.namespaces.len(), 1);
        assert_eq!(snap.services[0].0.document, 2);
        assert_eq!(snap.replica_sets[0].0.document, 3);
        assert_eq!(snap.skipped_kinds.get("Secret"), Some(&1));

        let dir = std::env::temp_dir().join(format!("placer-snap-objects-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("1-nodes.yaml"),
            "kind: Node\nmetadata: {name: n1}\n",
        )
        .unwrap();
        std::fs::write(dir.join("2-objects.yaml"), OBJECTS).unwrap();
        std::fs::write(
            dir.join("3-sts.json"),
            r#"{"kind":"StatefulSet","apiVersion":"apps/v1","metadata":{"name":"j","namespace":"a"},"spec":{"selector":{},"template":{}}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("ignored.txt"), "kind: Service\n").unwrap();
        let c = LoadedCluster::load(&dir, LoadOptions::default()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(c.loaded.nodes, 1);
        assert_eq!(c.loaded.services, 1);
        assert_eq!(c.loaded.stateful_sets, 2);
        assert_eq!(c.skipped_kinds.get("ConfigMap"), Some(&2));
    }

    #[test]
    fn bad_new_kind_objects_name_file_item_object_and_field() {
        let cases = [
            (
                "spec: {selector: {app: web}, ports: [{port: 80}]}",
                "spec: {selector: [app], ports: [{port: 80}]}",
                "Service shop/web: spec.selector",
                "items[1]",
            ),
            (
                "metadata: {name: shop, labels: {team: web}}",
                "metadata: {name: shop, labels: [team]}",
                "Namespace shop: metadata.labels",
                "items[0]",
            ),
            (
                "selector: {matchLabels: {app: web}}",
                "selector: {matchLabels: [app]}",
                "ReplicaSet shop/web-5d4f: spec.selector.matchLabels",
                "items[2]",
            ),
            (
                "serviceName: db",
                "serviceName: [db]",
                "StatefulSet shop/db: spec.serviceName",
                "items[3]",
            ),
            (
                "spec: {selector: {app: legacy}}",
                "spec: {selector: {app: [legacy]}}",
                "ReplicationController default/legacy: spec.selector.app",
                "items[4]",
            ),
        ];
        for (from, to, object_and_field, item) in cases {
            let text = OBJECTS.replace(from, to);
            assert_ne!(text, OBJECTS, "{from}");
            let msg = Snapshot::from_text(&text, "objects.yaml", LoadOptions::default())
                .unwrap_err()
                .to_string();
            assert!(msg.contains("objects.yaml"), "{msg}");
            assert!(msg.contains(item), "{msg}");
            assert!(msg.contains(object_and_field), "{msg}");
            // With --skip-invalid the rest loads and the bad object is reported.
            let opts = LoadOptions { skip_invalid: true };
            let c = LoadedCluster::from_snapshot(
                Snapshot::from_text(&text, "objects.yaml", opts).unwrap(),
                opts,
            )
            .unwrap();
            assert_eq!(c.skipped_invalid.len(), 1, "{object_and_field}");
            let l = &c.loaded;
            let total = l.namespaces
                + l.services
                + l.replica_sets
                + l.stateful_sets
                + l.replication_controllers;
            assert_eq!(total, 4, "{object_and_field}");
        }
    }

    #[test]
    fn a_duplicate_service_is_a_problem() {
        let text = format!(
            "{OBJECTS}- kind: Service\n  metadata: {{name: web, namespace: shop}}\n\
             - kind: Service\n  metadata: {{name: web, namespace: other}}\n"
        );
        let err = LoadedCluster::from_snapshot(
            Snapshot::from_text(&text, "d.yaml", LoadOptions::default()).unwrap(),
            LoadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("items[8]"), "{err}");
        assert!(err.contains("Service shop/web: metadata.name"), "{err}");
        assert!(err.contains("appears twice"), "{err}");
        assert!(!err.contains("other/web"), "{err}");
    }

    #[test]
    fn loads_a_multi_document_stream_and_json() {
        let yaml = "kind: Node\nmetadata: {name: a}\n---\nkind: Node\nmetadata: {name: b}\n---\n";
        let snap = Snapshot::from_text(yaml, "s.yaml", LoadOptions::default()).unwrap();
        assert_eq!(snap.nodes.len(), 2);
        assert_eq!(snap.nodes[1].0.document, 2);
        let json = r#"{"kind":"List","items":[{"kind":"Node","metadata":{"name":"j"}}]}"#;
        let snap = Snapshot::from_text(json, "s.json", LoadOptions::default()).unwrap();
        assert_eq!(snap.nodes.len(), 1);
    }

    #[test]
    fn bad_quantity_names_file_item_object_and_field() {
        let text = LIST.replace("cpu: 500m", "cpu: lots");
        let err = LoadedCluster::from_snapshot(
            Snapshot::from_text(&text, "list.yaml", LoadOptions::default()).unwrap(),
            LoadOptions::default(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("list.yaml"), "{msg}");
        assert!(msg.contains("items[1]"), "{msg}");
        assert!(msg.contains("Pod shop/web"), "{msg}");
        assert!(
            msg.contains("spec.containers[0].resources.requests.cpu"),
            "{msg}"
        );
        assert!(msg.contains("\"lots\""), "{msg}");
    }

    #[test]
    fn wrong_field_type_names_the_path() {
        let text = LIST.replace(
            "nodeName: n1\n    containers",
            "nodeName: [n1]\n    containers",
        );
        let err = Snapshot::from_text(&text, "list.yaml", LoadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("Pod shop/web: spec.nodeName"), "{msg}");
    }

    #[test]
    fn skip_invalid_loads_the_rest_and_reports() {
        let text = LIST.replace("cpu: 500m", "cpu: lots");
        let opts = LoadOptions { skip_invalid: true };
        let c =
            LoadedCluster::from_snapshot(Snapshot::from_text(&text, "l.yaml", opts).unwrap(), opts)
                .unwrap();
        assert_eq!(c.skipped_invalid.len(), 1);
        assert_eq!(c.pending.len(), 1);
        assert_eq!(c.state.num_nodes(), 1);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = Snapshot::from_text(
            "kind: Node\nmetadata: {name: [\n",
            "bad.yaml",
            LoadOptions::default(),
        )
        .unwrap_err();
        match err {
            LoadError::Syntax { location, .. } => assert!(location.is_some()),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn object_without_kind_is_a_problem_not_a_silent_skip() {
        let err = Snapshot::from_text("metadata: {name: x}\n", "k.yaml", LoadOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("kind"), "{err}");
    }
}
