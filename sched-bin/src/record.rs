//! `placer record`: watch a live cluster and write what happened as a timed scenario that
//! `placer simulate --cluster SNAPSHOT --scenario SCENARIO` replays, next to the snapshot of
//! the cluster as it was when the recording started.
//!
//! The snapshot's Nodes and Pods are the watches' initial lists (so nothing falls between the
//! snapshot and the first recorded event); Namespaces, Services and workloads are listed as
//! `placer snapshot` lists them. Then, each at its offset from the start:
//!
//! | seen on the API server | recorded as |
//! |---|---|
//! | a pod created | `createPods: {pods: [the pod]}`, as first seen (status dropped; `spec.nodeName` kept only if it was already bound) |
//! | a pod deleted, or turning `Succeeded`/`Failed` | `deletePods: [ns/name]` (once) |
//! | a node created | `addNodes: {nodes: [the node]}` |
//! | a node deleted | `removeNodes: [name]` |
//! | `spec.unschedulable` set or cleared | `cordon` / `uncordon` (its `node.kubernetes.io/unschedulable` taint goes with it) |
//! | a taint added or changed, removed | `taint: {node, key, value, effect}`, `untaint: {node, key, effect}` |
//!
//! A change no scenario action can replay (a node's labels or allocatable, a running pod's
//! labels or resources) is not dropped in silence: the scenario lists each one in its header
//! comment and `placer record` prints how many there were.

use anyhow::Context;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use kube::Client;
use kube::api::Api;
use kube::runtime::watcher;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

/// Flags of `placer record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// kubeconfig file (default: `$KUBECONFIG`, `~/.kube/config`, or in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Where to write the snapshot of the cluster at the start (`kind: List`).
    #[arg(long)]
    pub snapshot: PathBuf,
    /// Where to write the scenario of what happened afterwards.
    #[arg(long)]
    pub scenario: PathBuf,
    /// Stop after this long (`90s`, `10m`, `2h`); without it, on SIGINT or SIGTERM.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    simulator::scenario::parse_duration(s)
        .and_then(|ms| u64::try_from(ms).ok())
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{s:?}: expected a duration such as 90s, 10m or 2h"))
}

/// What the recorder remembers of a node, to tell one change from another.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NodeSeen {
    unschedulable: bool,
    /// `(key, effect)` → value, without the cordon's own taint.
    taints: BTreeMap<(String, String), String>,
    labels: BTreeMap<String, String>,
    allocatable: BTreeMap<String, String>,
}

const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

impl NodeSeen {
    fn of(n: &Node) -> Self {
        let spec = n.spec.as_ref();
        NodeSeen {
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            taints: spec
                .and_then(|s| s.taints.as_ref())
                .into_iter()
                .flatten()
                .filter(|t| t.key != UNSCHEDULABLE_TAINT)
                .map(|t: &Taint| {
                    (
                        (t.key.clone(), t.effect.clone()),
                        t.value.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            labels: n.metadata.labels.clone().unwrap_or_default(),
            allocatable: n
                .status
                .as_ref()
                .and_then(|s| s.allocatable.as_ref())
                .map(|a| a.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
                .unwrap_or_default(),
        }
    }
}

/// What the recorder remembers of a pod.
#[derive(Debug, Clone)]
struct PodSeen {
    /// Already recorded as gone (terminal).
    gone: bool,
    labels: BTreeMap<String, String>,
    requests: String,
}

impl PodSeen {
    fn of(p: &Pod) -> Self {
        PodSeen {
            gone: is_terminal(p),
            labels: p.metadata.labels.clone().unwrap_or_default(),
            requests: requests_text(p),
        }
    }
}

fn is_terminal(p: &Pod) -> bool {
    matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn requests_text(p: &Pod) -> String {
    p.spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| {
                    format!(
                        "{:?}",
                        c.resources.as_ref().and_then(|r| r.requests.as_ref())
                    )
                })
                .collect::<Vec<_>>()
                .join(";")
        })
        .unwrap_or_default()
}

fn pod_key(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or("default"),
        p.metadata.name.as_deref().unwrap_or_default()
    )
}

fn node_name(n: &Node) -> String {
    n.metadata.name.clone().unwrap_or_default()
}

/// The object as a scenario carries it: no `managedFields`, `resourceVersion` or status (a
/// node keeps its status: allocatable, images).
fn stripped<T: serde::Serialize>(o: &T, keep_status: bool) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "creationTimestamp",
            "generation",
        ] {
            meta.remove(k);
        }
    }
    if !keep_status && let Some(obj) = v.as_object_mut() {
        obj.remove("status");
    }
    v
}

/// `at` of an event: milliseconds since the start.
fn at(offset: Duration) -> String {
    format!("{}ms", offset.as_millis())
}

/// The recording: the state last seen and the events so far. Pure: fed watch events with
/// their offsets, it writes the scenario.
#[derive(Debug, Default)]
pub struct Recording {
    pods: HashMap<String, PodSeen>,
    nodes: HashMap<String, NodeSeen>,
    events: Vec<Value>,
    /// Changes no action replays, one line each.
    not_replayable: Vec<String>,
    last: Duration,
}

impl Recording {
    /// Starts from the pods and nodes of the snapshot.
    #[must_use]
    pub fn new(nodes: &[Node], pods: &[Pod]) -> Self {
        Recording {
            pods: pods.iter().map(|p| (pod_key(p), PodSeen::of(p))).collect(),
            nodes: nodes
                .iter()
                .map(|n| (node_name(n), NodeSeen::of(n)))
                .collect(),
            ..Recording::default()
        }
    }

    fn push(&mut self, offset: Duration, action: &str, value: Value) {
        self.last = self.last.max(offset);
        self.events.push(json!({"at": at(offset), action: value}));
    }

    /// A pod created or changed.
    pub fn pod_applied(&mut self, offset: Duration, p: &Pod) {
        let key = pod_key(p);
        match self.pods.get_mut(&key) {
            None => {
                self.pods.insert(key.clone(), PodSeen::of(p));
                if is_terminal(p) {
                    return; // created already finished: holds nothing, schedules nothing
                }
                let mut pod = stripped(p, false);
                pod["apiVersion"] = json!("v1");
                pod["kind"] = json!("Pod");
                self.push(offset, "createPods", json!({"pods": [pod]}));
            }
            Some(seen) => {
                if !seen.gone && is_terminal(p) {
                    seen.gone = true;
                    self.push(offset, "deletePods", json!([key]));
                    return;
                }
                let now = PodSeen::of(p);
                if !seen.gone && (now.labels != seen.labels || now.requests != seen.requests) {
                    self.not_replayable.push(format!(
                        "{}: pod {key}'s labels or requests changed",
                        at(offset)
                    ));
                }
                seen.labels = now.labels;
                seen.requests = now.requests;
            }
        }
    }

    /// A pod deleted.
    pub fn pod_deleted(&mut self, offset: Duration, key: &str) {
        if let Some(seen) = self.pods.remove(key)
            && !seen.gone
        {
            self.push(offset, "deletePods", json!([key]));
        }
    }

    /// A node created or changed.
    pub fn node_applied(&mut self, offset: Duration, n: &Node) {
        let name = node_name(n);
        let now = NodeSeen::of(n);
        let Some(seen) = self.nodes.get(&name).cloned() else {
            let mut node = stripped(n, true);
            node["apiVersion"] = json!("v1");
            node["kind"] = json!("Node");
            self.push(offset, "addNodes", json!({"nodes": [node]}));
            self.nodes.insert(name, now);
            return;
        };
        if seen.unschedulable != now.unschedulable {
            let action = if now.unschedulable {
                "cordon"
            } else {
                "uncordon"
            };
            self.push(offset, action, json!([name]));
        }
        for ((key, effect), value) in &now.taints {
            if seen.taints.get(&(key.clone(), effect.clone())) != Some(value) {
                self.push(
                    offset,
                    "taint",
                    json!({"node": name, "key": key, "value": value, "effect": effect}),
                );
            }
        }
        for (key, effect) in seen.taints.keys() {
            if !now.taints.contains_key(&(key.clone(), effect.clone())) {
                self.push(
                    offset,
                    "untaint",
                    json!({"node": name, "key": key, "effect": effect}),
                );
            }
        }
        if seen.labels != now.labels || seen.allocatable != now.allocatable {
            self.not_replayable.push(format!(
                "{}: node {name}'s labels or allocatable changed",
                at(offset)
            ));
        }
        self.nodes.insert(name, now);
    }

    /// A node deleted.
    pub fn node_deleted(&mut self, offset: Duration, name: &str) {
        if self.nodes.remove(name).is_some() {
            self.push(offset, "removeNodes", json!([name]));
        }
    }

    /// A re-list of pods (a watch restarted): what is new was created, what is missing went.
    pub fn pods_relisted(&mut self, offset: Duration, pods: &[Pod]) {
        let listed: std::collections::HashSet<String> = pods.iter().map(pod_key).collect();
        let mut gone: Vec<String> = self
            .pods
            .keys()
            .filter(|k| !listed.contains(*k))
            .cloned()
            .collect();
        gone.sort();
        for key in gone {
            self.pod_deleted(offset, &key);
        }
        for p in pods {
            self.pod_applied(offset, p);
        }
    }

    /// A re-list of nodes.
    pub fn nodes_relisted(&mut self, offset: Duration, nodes: &[Node]) {
        let listed: std::collections::HashSet<String> = nodes.iter().map(node_name).collect();
        let mut gone: Vec<String> = self
            .nodes
            .keys()
            .filter(|k| !listed.contains(*k))
            .cloned()
            .collect();
        gone.sort();
        for name in gone {
            self.node_deleted(offset, &name);
        }
        for n in nodes {
            self.node_applied(offset, n);
        }
    }

    /// How many events, and how many changes no action replays.
    #[must_use]
    pub fn counts(&self) -> (usize, usize) {
        (self.events.len(), self.not_replayable.len())
    }

    /// The scenario document.
    ///
    /// # Errors
    /// A rendering error.
    pub fn scenario(&self, source: &str) -> anyhow::Result<String> {
        let mut out = format!(
            "# Recorded by `placer record` from {source}: {} event(s) over {}.\n\
             # Replay: placer simulate --cluster <its snapshot> --scenario <this file>\n",
            self.events.len(),
            at(self.last)
        );
        if self.not_replayable.is_empty() {
            out.push_str("# Every change seen is replayed.\n");
        } else {
            out.push_str(&format!(
                "# {} change(s) seen that no scenario action replays (not applied):\n",
                self.not_replayable.len()
            ));
            for line in &self.not_replayable {
                out.push_str(&format!("#   {line}\n"));
            }
        }
        let doc = json!({"events": self.events});
        out.push_str(&serde_saphyr::to_string(&doc).context("rendering the scenario")?);
        Ok(out)
    }
}

enum Seen {
    Pod(Box<watcher::Event<Pod>>),
    Node(Box<watcher::Event<Node>>),
    Failed(&'static str, watcher::Error),
}

/// [`Seen`] with its event out of the box, to match on.
#[allow(clippy::large_enum_variant)] // one value at a time, on the stack, for one match
enum Unboxed {
    Pod(watcher::Event<Pod>),
    Node(watcher::Event<Node>),
    Failed(&'static str, watcher::Error),
}

impl Seen {
    fn unboxed(self) -> Unboxed {
        match self {
            Seen::Pod(e) => Unboxed::Pod(*e),
            Seen::Node(e) => Unboxed::Node(*e),
            Seen::Failed(what, e) => Unboxed::Failed(what, e),
        }
    }
}

/// Records until `stop` resolves: the snapshot at the start (a `kind: List` document) and the
/// recording after it.
///
/// # Errors
/// A list of the snapshot failed, or a watch ended.
pub async fn record(
    client: &Client,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<(String, Recording)> {
    let pods = watcher(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .map(|e| e.map_or_else(|err| Seen::Failed("pods", err), |e| Seen::Pod(Box::new(e))))
        .boxed();
    let nodes = watcher(Api::<Node>::all(client.clone()), watcher::Config::default())
        .map(|e| {
            e.map_or_else(
                |err| Seen::Failed("nodes", err),
                |e| Seen::Node(Box::new(e)),
            )
        })
        .boxed();
    let mut seen = futures::stream::select(pods, nodes);
    // The initial lists: the snapshot's Nodes and Pods.
    let (mut pod_buf, mut node_buf): (Vec<Pod>, Vec<Node>) = (Vec::new(), Vec::new());
    let (mut pods_in, mut nodes_in) = (None::<Vec<Pod>>, None::<Vec<Node>>);
    while pods_in.is_none() || nodes_in.is_none() {
        match seen.next().await.context("the watches ended")?.unboxed() {
            Unboxed::Pod(watcher::Event::InitApply(p)) => pod_buf.push(p),
            Unboxed::Pod(watcher::Event::InitDone) => pods_in = Some(std::mem::take(&mut pod_buf)),
            Unboxed::Node(watcher::Event::InitApply(n)) => node_buf.push(n),
            Unboxed::Node(watcher::Event::InitDone) => {
                nodes_in = Some(std::mem::take(&mut node_buf));
            }
            Unboxed::Failed(what, e) => {
                return Err(anyhow::anyhow!("watching {what}: {e}"));
            }
            _ => {}
        }
    }
    let (pods0, nodes0) = (pods_in.unwrap_or_default(), nodes_in.unwrap_or_default());
    let snapshot = crate::snapshot::render_with(client, &nodes0, &pods0).await?;
    let mut rec = Recording::new(&nodes0, &pods0);
    let start = Instant::now();
    tokio::pin!(stop);
    loop {
        let event = tokio::select! {
            () = &mut stop => break,
            e = seen.next() => e.context("the watches ended")?,
        };
        let offset = start.elapsed();
        match event.unboxed() {
            Unboxed::Pod(watcher::Event::Apply(p)) => rec.pod_applied(offset, &p),
            Unboxed::Pod(watcher::Event::Delete(p)) => rec.pod_deleted(offset, &pod_key(&p)),
            Unboxed::Pod(watcher::Event::Init) => pod_buf.clear(),
            Unboxed::Pod(watcher::Event::InitApply(p)) => pod_buf.push(p),
            Unboxed::Pod(watcher::Event::InitDone) => {
                rec.pods_relisted(offset, &std::mem::take(&mut pod_buf));
            }
            Unboxed::Node(watcher::Event::Apply(n)) => rec.node_applied(offset, &n),
            Unboxed::Node(watcher::Event::Delete(n)) => rec.node_deleted(offset, &node_name(&n)),
            Unboxed::Node(watcher::Event::Init) => node_buf.clear(),
            Unboxed::Node(watcher::Event::InitApply(n)) => node_buf.push(n),
            Unboxed::Node(watcher::Event::InitDone) => {
                rec.nodes_relisted(offset, &std::mem::take(&mut node_buf));
            }
            Unboxed::Failed(what, e) => {
                // The watcher retries (re-lists) by itself; the re-list tells what was missed.
                tracing::warn!(watch = what, error = %e, "watch failed; retrying");
            }
        }
    }
    Ok((snapshot, rec))
}

/// `placer record`.
///
/// # Errors
/// Client, list or watch errors, or an unwritable output.
pub async fn run(args: &RecordArgs) -> anyhow::Result<()> {
    let client = crate::daemon::client(
        &sched_core::config::SchedulerConfig::default_config(),
        args.kubeconfig.as_deref(),
    )
    .await?;
    let duration = args.duration;
    let stop = async move {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => crate::daemon::terminated().await,
        }
    };
    let (snapshot, rec) = record(&client, stop).await?;
    std::fs::write(&args.snapshot, snapshot)
        .with_context(|| format!("writing {}", args.snapshot.display()))?;
    let text = rec.scenario("the cluster")?;
    std::fs::write(&args.scenario, text)
        .with_context(|| format!("writing {}", args.scenario.display()))?;
    let (events, skipped) = rec.counts();
    eprintln!(
        "recorded {events} event(s) to {}, snapshot in {}{}",
        args.scenario.display(),
        args.snapshot.display(),
        if skipped > 0 {
            format!("; {skipped} change(s) no scenario action replays are listed in its header")
        } else {
            String::new()
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::fake::{make_node, make_pod};

    fn action(e: &Value) -> &str {
        e.as_object().unwrap().keys().find(|k| *k != "at").unwrap()
    }

    #[test]
    fn a_pod_that_finishes_is_deleted_once_and_its_later_deletion_adds_nothing() {
        let mut rec = Recording::new(&[], &[make_pod("ns", "job", "s", 100, 0)]);
        let mut done = make_pod("ns", "job", "s", 100, 0);
        done.status.as_mut().unwrap().phase = Some("Succeeded".into());
        rec.pod_applied(Duration::from_secs(3), &done);
        rec.pod_applied(Duration::from_secs(4), &done);
        rec.pod_deleted(Duration::from_secs(5), "ns/job");
        let actions: Vec<&str> = rec.events.iter().map(action).collect();
        assert_eq!(actions, ["deletePods"]);
        assert_eq!(rec.events[0]["at"], "3000ms");
        assert_eq!(rec.events[0]["deletePods"][0], "ns/job");
    }

    #[test]
    fn a_relist_records_what_changed_while_the_watch_was_away() {
        let mut rec = Recording::new(
            &[make_node("a", 1000, 10), make_node("b", 1000, 10)],
            &[make_pod("ns", "old", "s", 100, 0)],
        );
        rec.pods_relisted(
            Duration::from_secs(1),
            &[make_pod("ns", "fresh", "s", 100, 0)],
        );
        rec.nodes_relisted(Duration::from_secs(1), &[make_node("a", 1000, 10)]);
        let actions: Vec<&str> = rec.events.iter().map(action).collect();
        assert_eq!(actions, ["deletePods", "createPods", "removeNodes"]);
        assert_eq!(
            rec.events[1]["createPods"]["pods"][0]["metadata"]["name"],
            "fresh"
        );
        assert!(
            rec.events[1]["createPods"]["pods"][0]
                .get("status")
                .is_none(),
            "a created pod is replayed pending"
        );
        assert_eq!(rec.events[2]["removeNodes"][0], "b");
        // A pod seen again unchanged is nothing new.
        rec.pods_relisted(
            Duration::from_secs(2),
            &[make_pod("ns", "fresh", "s", 100, 0)],
        );
        assert_eq!(rec.events.len(), 3);
    }
}
