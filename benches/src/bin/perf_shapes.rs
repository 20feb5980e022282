//! `perf_shapes`: upstream kube-scheduler's `scheduler_perf` workload shapes as clusters for
//! `placer simulate`.
//!
//! ```text
//! perf_shapes CASE [--nodes N] [--init N] [--measure N] --out DIR
//! perf_shapes list
//! ```
//!
//! Writes `DIR/cluster.yaml`, a `kind: List` with, in this order: the Namespaces the case uses,
//! the Service (DefaultTopologySpreading only), the nodes, the init pods already bound
//! (`spec.nodeName`, `status.phase: Running`) and the measured pods, pending. `list` prints one
//! tab-separated line per case: case, upstream workload, nodes, init pods, measured pods,
//! threshold (pods/s, `-` when upstream publishes none), the measured pods' namespace.
//!
//! The defaults are the parameters of upstream's thresholded 5000-node workload of each case;
//! `--nodes`, `--init` and `--measure` override them. What upstream's configs and templates say,
//! and where they were read, is in `benches/README-perf.md`; the shapes in short:
//!
//! * Nodes are upstream's test nodes: 4 cpu, 32Gi memory, 110 pods, Ready, with
//!   `kubernetes.io/hostname` set to the node's name (upstream's node preparer does that) and,
//!   for the cases whose `createNodes` has a `labelNodePrepareStrategy`, a
//!   `topology.kubernetes.io/zone` label given round robin in node order. Upstream's template
//!   gives only `status.capacity`; the API server copies it into `allocatable`, so both are
//!   written (Placer does not default `allocatable`).
//! * Init pods are placed the way upstream's scheduler leaves them: one per node in node order,
//!   wrapping around (an empty cluster of identical nodes, LeastAllocated scoring), which also
//!   satisfies every init pod's own constraint (hostname anti-affinity: at most one per node;
//!   zone affinity: one zone). The generator refuses counts that would not fit (resources, the
//!   110-pod limit, anti-affinity).
//! * Measured pods carry upstream's template exactly (labels, requests and limits, affinity
//!   terms with their namespace lists, spread constraints, priority), in the namespace upstream
//!   creates them in (`namespace-<op index>` when the op names none).

use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Node names: `node-00000` …; upstream's are `<prefix><random>`, listed in name order.
fn node_name(i: usize) -> String {
    format!("node-{i:05}")
}

const TIMESTAMP: &str = "2026-01-01T00:00:00Z";
/// Upstream's test nodes: 4 cpu, 32Gi, 110 pods.
const NODE_MILLI_CPU: u64 = 4000;
const NODE_PODS: u64 = 110;

/// One of upstream's pod templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Template {
    /// `pod-default.yaml`: 100m / 500Mi.
    Default,
    /// `pod-with-pod-anti-affinity.yaml`: `color: green`, required anti-affinity to green on
    /// hostname in sched-0 and sched-1.
    PodAntiAffinity,
    /// `pod-with-pod-affinity.yaml`: `color: blue`, required affinity to blue on zone in sched-0
    /// and sched-1.
    PodAffinity,
    /// `pod-with-preferred-pod-anti-affinity.yaml`: `color: yellow`, preferred (weight 1)
    /// anti-affinity to yellow on hostname in sched-0 and sched-1.
    PreferredPodAntiAffinity,
    /// `pod-with-topology-spreading.yaml`: `color: blue`, zone maxSkew 5 DoNotSchedule.
    TopologySpreading,
    /// `pod-with-preferred-topology-spreading.yaml`: as above with ScheduleAnyway.
    PreferredTopologySpreading,
    /// `pod-with-label.yaml`: `app: scheduler-perf`, no requests.
    WithLabel,
    /// `pod-low-priority.yaml`: 900m / 500Mi, no priority, grace period 0.
    LowPriority,
    /// `pod-high-priority.yaml`: 3000m / 500Mi, priority 10.
    HighPriority,
}

impl Template {
    /// `generateName` of the template, used as the name prefix.
    fn prefix(self) -> &'static str {
        match self {
            Template::Default
            | Template::WithLabel
            | Template::LowPriority
            | Template::HighPriority => "pod-",
            Template::PodAntiAffinity => "anti-affinity-pod-",
            Template::PodAffinity => "affinity-pod-",
            Template::PreferredPodAntiAffinity => "preferred-anti-affinity-pod-",
            Template::TopologySpreading | Template::PreferredTopologySpreading => "spreading-pod-",
        }
    }

    /// Requested milli-cpu (for placing init pods).
    fn milli_cpu(self) -> u64 {
        match self {
            Template::WithLabel => 0,
            Template::LowPriority => 900,
            Template::HighPriority => 3000,
            _ => 100,
        }
    }

    /// At most this many init pods of this template on one node, by its own constraints.
    fn own_limit_per_node(self) -> u64 {
        match self {
            Template::PodAntiAffinity => 1,
            _ => u64::MAX,
        }
    }

    fn pod(self, name: &str, namespace: &str, node: Option<&str>) -> Value {
        let resources = |cpu: &str| json!({"limits": {"cpu": cpu, "memory": "500Mi"}, "requests": {"cpu": cpu, "memory": "500Mi"}});
        let pause = |cpu: &str| {
            json!({"name": "pause", "image": "registry.k8s.io/pause:3.10",
                   "ports": [{"containerPort": 80}], "resources": resources(cpu)})
        };
        let mut labels = Map::new();
        let mut spec = Map::new();
        let sched_namespaces = json!(["sched-1", "sched-0"]);
        match self {
            Template::Default => {}
            Template::PodAntiAffinity => {
                labels.insert("color".into(), json!("green"));
                spec.insert(
                    "affinity".into(),
                    json!({"podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [{
                        "labelSelector": {"matchLabels": {"color": "green"}},
                        "topologyKey": "kubernetes.io/hostname",
                        "namespaces": sched_namespaces}]}}),
                );
            }
            Template::PodAffinity => {
                labels.insert("color".into(), json!("blue"));
                spec.insert(
                    "affinity".into(),
                    json!({"podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [{
                        "labelSelector": {"matchLabels": {"color": "blue"}},
                        "topologyKey": "topology.kubernetes.io/zone",
                        "namespaces": sched_namespaces}]}}),
                );
            }
            Template::PreferredPodAntiAffinity => {
                labels.insert("color".into(), json!("yellow"));
                spec.insert(
                    "affinity".into(),
                    json!({"podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 1,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"color": "yellow"}},
                            "topologyKey": "kubernetes.io/hostname",
                            "namespaces": sched_namespaces}}]}}),
                );
            }
            Template::TopologySpreading | Template::PreferredTopologySpreading => {
                labels.insert("color".into(), json!("blue"));
                let when = if self == Template::TopologySpreading {
                    "DoNotSchedule"
                } else {
                    "ScheduleAnyway"
                };
                spec.insert(
                    "topologySpreadConstraints".into(),
                    json!([{
                    "maxSkew": 5,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": when,
                    "labelSelector": {"matchLabels": {"color": "blue"}}}]),
                );
            }
            Template::WithLabel => {
                labels.insert("app".into(), json!("scheduler-perf"));
            }
            Template::LowPriority => {
                spec.insert("terminationGracePeriodSeconds".into(), json!(0));
            }
            Template::HighPriority => {
                spec.insert("priority".into(), json!(10));
            }
        }
        let container = match self {
            Template::WithLabel => json!({"name": "pause", "image": "registry.k8s.io/pause:3.10"}),
            Template::LowPriority => pause("900m"),
            Template::HighPriority => pause("3000m"),
            _ => pause("100m"),
        };
        spec.insert("containers".into(), json!([container]));
        if let Some(n) = node {
            spec.insert("nodeName".into(), json!(n));
        }
        let mut metadata = Map::new();
        metadata.insert("name".into(), json!(name));
        metadata.insert("namespace".into(), json!(namespace));
        if !labels.is_empty() {
            metadata.insert("labels".into(), Value::Object(labels));
        }
        metadata.insert("creationTimestamp".into(), json!(TIMESTAMP));
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": metadata,
            "spec": spec,
            "status": {"phase": if node.is_some() { "Running" } else { "Pending" }}
        })
    }
}

/// One upstream test case at its thresholded 5000-node workload.
#[derive(Clone, Copy, Debug)]
struct Case {
    name: &'static str,
    /// The upstream workload whose parameters are the defaults.
    workload: &'static str,
    /// Upstream's published threshold for that workload (pods/s), if any.
    threshold: Option<u32>,
    nodes: usize,
    init_pods: usize,
    measure_pods: usize,
    /// `topology.kubernetes.io/zone` values given round robin, if the case labels nodes.
    zones: &'static [&'static str],
    init_template: Template,
    init_namespace: &'static str,
    measure_template: Template,
    measure_namespace: &'static str,
    /// Namespaces upstream creates (all written as Namespace objects).
    namespaces: &'static [&'static str],
    /// DefaultTopologySpreading: a Service in `measure_namespace` selecting
    /// `app: scheduler-perf`.
    service: bool,
}

const MOONS: &[&str] = &["moon-1", "moon-2", "moon-3"];

const CASES: &[Case] = &[
    Case {
        name: "SchedulingPodAntiAffinity",
        workload: "5000Nodes_2000Pods",
        threshold: Some(60),
        nodes: 5000,
        init_pods: 1000,
        measure_pods: 2000,
        zones: &[],
        init_template: Template::PodAntiAffinity,
        init_namespace: "sched-0",
        measure_template: Template::PodAntiAffinity,
        measure_namespace: "sched-1",
        namespaces: &["sched-0", "sched-1"],
        service: false,
    },
    Case {
        name: "SchedulingPodAffinity",
        workload: "5000Nodes_5000Pods",
        threshold: Some(35),
        nodes: 5000,
        init_pods: 5000,
        measure_pods: 5000,
        zones: &["zone1"],
        init_template: Template::PodAffinity,
        init_namespace: "sched-0",
        measure_template: Template::PodAffinity,
        measure_namespace: "sched-1",
        namespaces: &["sched-0", "sched-1"],
        service: false,
    },
    Case {
        name: "SchedulingPreferredPodAntiAffinity",
        workload: "5000Nodes_5000Pods",
        threshold: Some(90),
        nodes: 5000,
        init_pods: 5000,
        measure_pods: 5000,
        zones: &[],
        init_template: Template::PreferredPodAntiAffinity,
        init_namespace: "sched-0",
        measure_template: Template::PreferredPodAntiAffinity,
        measure_namespace: "sched-1",
        namespaces: &["sched-0", "sched-1"],
        service: false,
    },
    Case {
        name: "TopologySpreading",
        workload: "5000Nodes_5000Pods",
        threshold: Some(460),
        nodes: 5000,
        init_pods: 5000,
        measure_pods: 5000,
        zones: MOONS,
        init_template: Template::Default,
        init_namespace: "namespace-1",
        measure_template: Template::TopologySpreading,
        measure_namespace: "namespace-2",
        namespaces: &["namespace-1", "namespace-2"],
        service: false,
    },
    Case {
        name: "PreferredTopologySpreading",
        workload: "5000Nodes_5000Pods",
        threshold: Some(340),
        nodes: 5000,
        init_pods: 5000,
        measure_pods: 5000,
        zones: MOONS,
        init_template: Template::Default,
        init_namespace: "namespace-1",
        measure_template: Template::PreferredTopologySpreading,
        measure_namespace: "namespace-2",
        namespaces: &["namespace-1", "namespace-2"],
        service: false,
    },
    Case {
        name: "DefaultTopologySpreading",
        workload: "5000Nodes_50000Pods",
        threshold: Some(160),
        nodes: 5000,
        init_pods: 5000,
        measure_pods: 50000,
        zones: MOONS,
        init_template: Template::Default,
        init_namespace: "namespace-2",
        measure_template: Template::WithLabel,
        measure_namespace: "service-ns",
        namespaces: &["service-ns", "namespace-2"],
        service: true,
    },
    Case {
        // Upstream has no 5000-node workload here (commented out, kubernetes#108308); these are
        // its commented-out parameters, and it publishes no threshold for this case.
        name: "PreemptionBasic",
        workload: "5000Nodes (commented out upstream)",
        threshold: None,
        nodes: 5000,
        init_pods: 20000,
        measure_pods: 5000,
        zones: &[],
        init_template: Template::LowPriority,
        init_namespace: "namespace-1",
        measure_template: Template::HighPriority,
        measure_namespace: "namespace-2",
        namespaces: &["namespace-1", "namespace-2"],
        service: false,
    },
];

fn find_case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// What to generate.
#[derive(Clone, Debug)]
struct Shape {
    case: &'static Case,
    nodes: usize,
    init_pods: usize,
    measure_pods: usize,
}

impl Shape {
    fn of(case: &'static Case) -> Shape {
        Shape {
            case,
            nodes: case.nodes,
            init_pods: case.init_pods,
            measure_pods: case.measure_pods,
        }
    }

    /// The node of init pod `i`: one per node in node order, wrapping around.
    fn init_node(&self, i: usize) -> usize {
        i % self.nodes
    }

    /// Checks that the init pods fit where [`Shape::init_node`] puts them.
    fn check(&self) -> Result<(), String> {
        if self.nodes == 0 {
            return Err("--nodes must be at least 1".into());
        }
        let per_node = self.init_pods.div_ceil(self.nodes) as u64;
        let t = self.case.init_template;
        let by_cpu = NODE_MILLI_CPU
            .checked_div(t.milli_cpu())
            .unwrap_or(u64::MAX);
        let limit = by_cpu.min(NODE_PODS).min(t.own_limit_per_node());
        if per_node > limit {
            return Err(format!(
                "{}: {} init pods on {} nodes need {per_node} per node, but at most {limit} fit \
                 (4 cpu, 110 pods{}); lower --init or raise --nodes",
                self.case.name,
                self.init_pods,
                self.nodes,
                if t.own_limit_per_node() == 1 {
                    ", hostname anti-affinity"
                } else {
                    ""
                }
            ));
        }
        Ok(())
    }

    /// Every object of the cluster, in list order.
    fn objects(&self) -> impl Iterator<Item = Value> + '_ {
        let c = self.case;
        let namespaces = c.namespaces.iter().map(|ns| {
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns},
                                "creationTimestamp": TIMESTAMP}})
        });
        let service = c.service.then(|| {
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "service-0", "namespace": c.measure_namespace,
                                "creationTimestamp": TIMESTAMP},
                   "spec": {"selector": {"app": "scheduler-perf"},
                            "ports": [{"protocol": "TCP", "port": 80, "targetPort": 8000}]}})
        });
        let nodes = (0..self.nodes).map(move |i| self.node(i));
        let init = (0..self.init_pods).map(move |i| {
            let node = node_name(self.init_node(i));
            let name = format!("{}init-{i:05}", c.init_template.prefix());
            c.init_template.pod(&name, c.init_namespace, Some(&node))
        });
        let measure = (0..self.measure_pods).map(move |i| {
            let name = format!("{}{i:05}", c.measure_template.prefix());
            c.measure_template.pod(&name, c.measure_namespace, None)
        });
        namespaces
            .chain(service)
            .chain(nodes)
            .chain(init)
            .chain(measure)
    }

    fn node(&self, i: usize) -> Value {
        let name = node_name(i);
        let mut labels = Map::new();
        labels.insert("kubernetes.io/hostname".into(), json!(name));
        if !self.case.zones.is_empty() {
            let zone = self.case.zones[i % self.case.zones.len()];
            labels.insert("topology.kubernetes.io/zone".into(), json!(zone));
        }
        let resources = json!({"pods": "110", "cpu": "4", "memory": "32Gi"});
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "creationTimestamp": TIMESTAMP},
            "spec": {},
            "status": {
                "capacity": resources,
                "allocatable": resources,
                "conditions": [{"type": "Ready", "status": "True"}],
                "phase": "Running"
            }
        })
    }

    /// The whole `kind: List` as YAML.
    fn to_yaml(&self) -> String {
        let mut out =
            String::with_capacity(1024 * (self.nodes + self.init_pods + self.measure_pods));
        let _ = writeln!(
            out,
            "# perf_shapes {} --nodes {} --init {} --measure {}: upstream scheduler_perf {}/{}",
            self.case.name,
            self.nodes,
            self.init_pods,
            self.measure_pods,
            self.case.name,
            self.case.workload
        );
        out.push_str("apiVersion: v1\nkind: List\nitems:\n");
        for obj in self.objects() {
            yaml::seq_item(&obj, 0, &mut out);
        }
        out
    }
}

/// A small block-style YAML writer for JSON values (strings double-quoted, JSON escapes are
/// valid YAML escapes).
mod yaml {
    use serde_json::Value;

    fn pad(indent: usize, out: &mut String) {
        out.extend(std::iter::repeat_n(' ', indent));
    }

    fn key(k: &str, out: &mut String) {
        let plain = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-'))
            && !k.starts_with('-');
        if plain {
            out.push_str(k);
        } else {
            out.push_str(&Value::String(k.to_string()).to_string());
        }
    }

    /// A scalar or an empty collection, on one line; `None` for a non-empty collection.
    fn inline(v: &Value) -> Option<String> {
        match v {
            Value::Object(m) if !m.is_empty() => None,
            Value::Array(a) if !a.is_empty() => None,
            Value::Object(_) => Some("{}".into()),
            Value::Array(_) => Some("[]".into()),
            Value::String(s) if plain(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// A string that reads back as itself without quotes: starts with a letter, has no
    /// character YAML treats specially, and is not a boolean or null word.
    fn plain(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-'))
            && !matches!(
                s.to_ascii_lowercase().as_str(),
                "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
            )
    }

    /// The entries of a map at `indent`; the first one without its padding when `first_inline`
    /// (it follows a `- `).
    fn map(
        m: &serde_json::Map<String, Value>,
        indent: usize,
        first_inline: bool,
        out: &mut String,
    ) {
        for (i, (k, v)) in m.iter().enumerate() {
            if !(first_inline && i == 0) {
                pad(indent, out);
            }
            key(k, out);
            out.push(':');
            match (inline(v), v) {
                (Some(s), _) => {
                    out.push(' ');
                    out.push_str(&s);
                    out.push('\n');
                }
                (None, Value::Object(inner)) => {
                    out.push('\n');
                    map(inner, indent + 2, false, out);
                }
                (None, Value::Array(items)) => {
                    out.push('\n');
                    for item in items {
                        seq_item(item, indent + 2, out);
                    }
                }
                (None, _) => unreachable!("inline covers scalars"),
            }
        }
    }

    /// One `- item` of a sequence at `indent`.
    pub fn seq_item(v: &Value, indent: usize, out: &mut String) {
        pad(indent, out);
        out.push_str("- ");
        match (inline(v), v) {
            (Some(s), _) => {
                out.push_str(&s);
                out.push('\n');
            }
            (None, Value::Object(m)) => map(m, indent + 2, true, out),
            (None, Value::Array(items)) => {
                out.push('\n');
                for item in items {
                    seq_item(item, indent + 2, out);
                }
            }
            (None, _) => unreachable!("inline covers scalars"),
        }
    }
}

const USAGE: &str = "usage: perf_shapes CASE [--nodes N] [--init N] [--measure N] --out DIR\n       perf_shapes list";

fn parse_count(flag: &str, v: Option<String>) -> Result<usize, String> {
    v.ok_or_else(|| format!("{flag} needs a value"))?
        .parse()
        .map_err(|e| format!("{flag}: {e}"))
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut it = args.into_iter();
    let case_name = it.next().ok_or_else(|| USAGE.to_string())?;
    if case_name == "list" {
        println!("case\tworkload\tnodes\tinit\tmeasure\tthreshold\tmeasure_namespace");
        for c in CASES {
            let t = c
                .threshold
                .map_or_else(|| "-".to_string(), |t| t.to_string());
            println!(
                "{}\t{}\t{}\t{}\t{}\t{t}\t{}",
                c.name, c.workload, c.nodes, c.init_pods, c.measure_pods, c.measure_namespace
            );
        }
        return Ok(());
    }
    if case_name == "-h" || case_name == "--help" {
        println!("{USAGE}");
        return Ok(());
    }
    let case = find_case(&case_name).ok_or_else(|| {
        let names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        format!("unknown case {case_name:?}; one of: {}", names.join(", "))
    })?;
    let mut shape = Shape::of(case);
    let mut out: Option<PathBuf> = None;
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--nodes" => shape.nodes = parse_count("--nodes", it.next())?,
            "--init" => shape.init_pods = parse_count("--init", it.next())?,
            "--measure" => shape.measure_pods = parse_count("--measure", it.next())?,
            "--out" => out = Some(it.next().ok_or("--out needs a directory")?.into()),
            other => return Err(format!("unknown flag {other:?}\n{USAGE}")),
        }
    }
    let out = out.ok_or_else(|| format!("--out DIR is required\n{USAGE}"))?;
    shape.check()?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join("cluster.yaml");
    let text = shape.to_yaml();
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "{}: {} nodes, {} init pods (bound), {} measured pods (pending) -> {}",
        case.name,
        shape.nodes,
        shape.init_pods,
        shape.measure_pods,
        path.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf_shapes: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};

    fn load(shape: &Shape) -> (Snapshot, LoadedCluster) {
        let text = shape.to_yaml();
        let snap = Snapshot::from_text(&text, "cluster.yaml", LoadOptions::default())
            .expect("the generated cluster parses");
        let loaded = LoadedCluster::from_snapshot(snap.clone(), LoadOptions::default())
            .expect("the generated cluster converts");
        (snap, loaded)
    }

    /// Every case at 50 nodes (init pods scaled so they fit) parses and converts with the
    /// simulator's loader, with the expected counts of nodes, bound and pending pods.
    #[test]
    fn fifty_node_cases_load_with_expected_counts() {
        for case in CASES {
            let shape = Shape {
                case,
                nodes: 50,
                init_pods: case.init_pods * 50 / case.nodes,
                measure_pods: 30,
            };
            shape.check().expect("fits");
            let (snap, loaded) = load(&shape);
            assert_eq!(snap.nodes.len(), 50, "{}", case.name);
            assert_eq!(snap.pods.len(), shape.init_pods + 30, "{}", case.name);
            assert_eq!(loaded.pending.len(), 30, "{}", case.name);
            assert_eq!(loaded.terminal, 0, "{}", case.name);
            assert!(loaded.skipped_invalid.is_empty(), "{}", case.name);
            let bound = snap
                .pods
                .iter()
                .filter(|(_, p)| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
                .count();
            assert_eq!(bound, shape.init_pods, "{}", case.name);
            // The Namespaces and the Service are read (namespaceSelector, default spreading).
            assert!(
                snap.skipped_kinds.is_empty(),
                "{}: {:?}",
                case.name,
                snap.skipped_kinds
            );
            assert_eq!(
                snap.namespaces.len(),
                case.namespaces.len(),
                "{}",
                case.name
            );
            assert_eq!(
                snap.services.len(),
                usize::from(case.service),
                "{}",
                case.name
            );
            for (_, node) in &snap.nodes {
                let status = node.status.as_ref().expect("status");
                assert_eq!(status.capacity, status.allocatable, "{}", case.name);
                let labels = node.metadata.labels.as_ref().expect("labels");
                assert_eq!(
                    labels.get("kubernetes.io/hostname"),
                    node.metadata.name.as_ref()
                );
                assert_eq!(
                    labels.contains_key("topology.kubernetes.io/zone"),
                    !case.zones.is_empty()
                );
            }
        }
    }

    #[test]
    fn anti_affinity_init_pods_are_one_per_node() {
        let case = find_case("SchedulingPodAntiAffinity").expect("case");
        let shape = Shape {
            case,
            nodes: 50,
            init_pods: 50,
            measure_pods: 10,
        };
        let (snap, _) = load(&shape);
        let mut nodes: Vec<String> = snap
            .pods
            .iter()
            .filter_map(|(_, p)| p.spec.as_ref().and_then(|s| s.node_name.clone()))
            .collect();
        nodes.sort();
        nodes.dedup();
        assert_eq!(nodes.len(), 50);
        let too_many = Shape {
            init_pods: 51,
            ..shape
        };
        assert!(too_many.check().is_err());
    }

    #[test]
    fn preemption_init_pods_fill_four_per_node() {
        let case = find_case("PreemptionBasic").expect("case");
        assert!(
            Shape::of(case).check().is_ok(),
            "20000 low-priority pods fit 4 per node"
        );
        let five = Shape {
            case,
            nodes: 10,
            init_pods: 41,
            measure_pods: 1,
        };
        assert!(five.check().is_err(), "a fifth 900m pod does not fit 4 cpu");
    }

    #[test]
    fn yaml_writer_round_trips() {
        let v = json!({"a": {"b": [1, "x: y", {"c": [], "d": {}}], "e": null, "f\"g": true},
                       "h": [[1, 2], {"i": "-"}],
                       "j": ["True", "no", "4", "32Gi", "v1", "moon-1", "1e5", "a b", "node-00001"]});
        let mut out = String::new();
        yaml::seq_item(&v, 0, &mut out);
        let back = simulator::yaml::parse(&out).expect("valid YAML").to_json();
        assert_eq!(back, json!([v]));
    }
}
