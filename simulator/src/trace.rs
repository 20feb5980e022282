//! Workload traces: pods that arrive and leave on their own schedule.
//!
//! One format is supported, the CSV files of Alibaba's OpenB GPU cluster trace
//! (`clusterdata/cluster-trace-gpu-v2023`):
//!
//! - node list `sn,cpu_milli,memory_mib,gpu,model`: one node per row, named `sn`, allocatable
//!   `cpu: <cpu_milli>m`, `memory: <memory_mib>Mi`, `pods: 110`, and when `gpu > 0`
//!   `<gpuResource>: gpu × 1000` (GPU milli-units) plus the label `<gpuModelLabel>: <model>`.
//! - pod list `name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,
//!   creation_time,deletion_time,scheduled_time` (times in seconds): pod `default/<name>`
//!   arrives at `creation_time` and is deleted at `deletion_time` (running or still pending).
//!   It requests `cpu: <cpu_milli>m`, `memory: <memory_mib>Mi`, and when `num_gpu > 0`
//!   `<gpuResource>: num_gpu × gpu_milli`. A non-empty `gpu_spec` (`V100M16|V100M32`) becomes a
//!   required node affinity `<gpuModelLabel> In [V100M16, V100M32]`. `qos`, `pod_phase` and
//!   `scheduled_time` (what happened in the real cluster) are not inputs and are ignored.
//!
//! The GPU mapping is an aggregate: NodeResourcesFit sees a node's GPU milli-units as one pool,
//! so a 0.5-GPU pod fits a node with two GPUs at 0.3 used each, which a per-device allocator
//! would refuse. Defaults: `gpuResource: alibabacloud.com/gpu-milli`,
//! `gpuModelLabel: alibabacloud.com/gpu-model`.

use crate::scenario::Millis;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// How OpenB rows become Kubernetes objects.
#[derive(Clone, Debug)]
pub struct OpenbOptions {
    /// The extended resource holding GPU milli-units.
    pub gpu_resource: String,
    /// The node label holding the GPU model.
    pub gpu_model_label: String,
}

impl Default for OpenbOptions {
    fn default() -> Self {
        OpenbOptions {
            gpu_resource: "alibabacloud.com/gpu-milli".into(),
            gpu_model_label: "alibabacloud.com/gpu-model".into(),
        }
    }
}

/// One trace pod, kept compact until it arrives.
#[derive(Clone, Debug)]
pub struct TracePod {
    /// Pod name (namespace `default`).
    pub name: Box<str>,
    /// cpu request in milli-cores.
    pub cpu_milli: i64,
    /// memory request in MiB.
    pub memory_mib: i64,
    /// GPU milli-units requested (`num_gpu × gpu_milli`).
    pub gpu_milli: i64,
    /// Acceptable GPU models (`|`-separated in the trace), empty for any.
    pub gpu_spec: Box<str>,
    /// Arrival time.
    pub arrive: Millis,
    /// Departure time, when the trace has one.
    pub leave: Option<Millis>,
    /// Line in the pod file (for messages).
    pub line: u64,
}

/// A loaded trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The pod file.
    pub file: Arc<str>,
    /// Nodes from the node file, added before the first event.
    pub nodes: Vec<Node>,
    /// Pods in file order.
    pub pods: Vec<TracePod>,
    /// Mapping options.
    pub options: OpenbOptions,
}

/// A trace file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {field}: {message}")]
pub struct TraceError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when the whole file is concerned).
    pub line: u64,
    /// The CSV column.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

struct Csv<'a> {
    file: &'a str,
    header: Vec<&'a str>,
    lines: Vec<(u64, Vec<&'a str>)>,
}

impl<'a> Csv<'a> {
    fn parse(file: &'a str, text: &'a str) -> Result<Csv<'a>, TraceError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(TraceError {
                file: file.into(),
                line: 1,
                field: String::new(),
                message: "empty file: expected a CSV header".into(),
            });
        };
        Ok(Csv {
            file,
            header: header.split(',').map(str::trim).collect(),
            lines: lines
                .map(|(i, l)| (i as u64 + 1, l.split(',').map(str::trim).collect()))
                .collect(),
        })
    }

    fn column(&self, name: &str) -> Result<usize, TraceError> {
        self.header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| TraceError {
                file: self.file.into(),
                line: 1,
                field: name.into(),
                message: format!("missing column (header has: {})", self.header.join(",")),
            })
    }

    fn int(
        &self,
        line: u64,
        row: &[&str],
        col: usize,
        optional: bool,
    ) -> Result<Option<i64>, TraceError> {
        let cell = row.get(col).copied().unwrap_or_default();
        if cell.is_empty() && optional {
            return Ok(None);
        }
        // Some exports write whole numbers as floats (`12.0`).
        cell.parse::<i64>()
            .ok()
            .or_else(|| {
                cell.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
            })
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| TraceError {
                file: self.file.into(),
                line,
                field: self.header[col].into(),
                message: format!("expected a non-negative whole number, found {cell:?}"),
            })
    }
}

fn read(path: &Path) -> Result<String, TraceError> {
    std::fs::read_to_string(path).map_err(|e| TraceError {
        file: path.display().to_string(),
        line: 0,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })
}

/// Loads an OpenB node list (optional) and pod list.
///
/// # Errors
/// Unreadable files, missing columns, or a cell that is not a number, with file, line and column.
pub fn load_openb(
    nodes: Option<&Path>,
    pods: &Path,
    options: &OpenbOptions,
) -> Result<Trace, TraceError> {
    let mut trace = Trace {
        file: Arc::from(pods.display().to_string()),
        nodes: Vec::new(),
        pods: Vec::new(),
        options: options.clone(),
    };
    if let Some(path) = nodes {
        let text = read(path)?;
        let file = path.display().to_string();
        let csv = Csv::parse(&file, &text)?;
        let (sn, cpu, mem, gpu) = (
            csv.column("sn")?,
            csv.column("cpu_milli")?,
            csv.column("memory_mib")?,
            csv.column("gpu")?,
        );
        let model = csv.header.iter().position(|h| *h == "model");
        for (line, row) in &csv.lines {
            let name = row.get(sn).copied().unwrap_or_default();
            if name.is_empty() {
                return Err(TraceError {
                    file: file.clone(),
                    line: *line,
                    field: "sn".into(),
                    message: "a node needs a name".into(),
                });
            }
            let cpu = csv.int(*line, row, cpu, false)?.unwrap_or(0);
            let mem = csv.int(*line, row, mem, false)?.unwrap_or(0);
            let gpus = csv.int(*line, row, gpu, false)?.unwrap_or(0);
            let model = model.and_then(|m| row.get(m)).copied().unwrap_or_default();
            trace
                .nodes
                .push(openb_node(name, cpu, mem, gpus, model, options));
        }
    }
    let text = read(pods)?;
    let file = pods.display().to_string();
    let csv = Csv::parse(&file, &text)?;
    let (name, cpu, mem) = (
        csv.column("name")?,
        csv.column("cpu_milli")?,
        csv.column("memory_mib")?,
    );
    // Optional columns: the multi-GPU pod lists have neither GPU models nor times (every pod
    // then arrives at time 0 and never leaves).
    let optional = |c: &str| csv.header.iter().position(|h| *h == c);
    let (num_gpu, gpu_milli, spec) = (
        optional("num_gpu"),
        optional("gpu_milli"),
        optional("gpu_spec"),
    );
    let (created, deleted) = (optional("creation_time"), optional("deletion_time"));
    trace.pods.reserve(csv.lines.len());
    for (line, row) in &csv.lines {
        let line = *line;
        let pod_name = row.get(name).copied().unwrap_or_default();
        if pod_name.is_empty() {
            return Err(TraceError {
                file: file.clone(),
                line,
                field: "name".into(),
                message: "a pod needs a name".into(),
            });
        }
        let cell = |col: Option<usize>| -> Result<Option<i64>, TraceError> {
            col.map_or(Ok(None), |c| csv.int(line, row, c, true))
        };
        let arrive = cell(created)?.unwrap_or(0) * 1000;
        let leave = cell(deleted)?.map(|s| s * 1000);
        if let Some(l) = leave
            && l < arrive
        {
            return Err(TraceError {
                file: file.clone(),
                line,
                field: "deletion_time".into(),
                message: "before creation_time".into(),
            });
        }
        let n_gpu = cell(num_gpu)?.unwrap_or(0);
        let g_milli = cell(gpu_milli)?.unwrap_or(0);
        trace.pods.push(TracePod {
            name: pod_name.into(),
            cpu_milli: csv.int(line, row, cpu, false)?.unwrap_or(0),
            memory_mib: csv.int(line, row, mem, false)?.unwrap_or(0),
            gpu_milli: n_gpu * g_milli,
            gpu_spec: spec
                .and_then(|c| row.get(c))
                .copied()
                .unwrap_or_default()
                .into(),
            arrive,
            leave,
            line,
        });
    }
    Ok(trace)
}

fn openb_node(
    name: &str,
    cpu_milli: i64,
    memory_mib: i64,
    gpus: i64,
    model: &str,
    o: &OpenbOptions,
) -> Node {
    let mut alloc = serde_json::Map::new();
    alloc.insert("cpu".into(), json!(format!("{cpu_milli}m")));
    alloc.insert("memory".into(), json!(format!("{memory_mib}Mi")));
    alloc.insert("pods".into(), json!("110"));
    let mut labels = serde_json::Map::new();
    labels.insert("kubernetes.io/hostname".into(), json!(name));
    if gpus > 0 {
        alloc.insert(o.gpu_resource.clone(), json!((gpus * 1000).to_string()));
        if !model.is_empty() {
            labels.insert(o.gpu_model_label.clone(), json!(model));
        }
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {"allocatable": alloc, "capacity": alloc},
    }))
    .expect("a well-formed Node")
}

impl Trace {
    /// The Pod manifest of trace pod `row` (built field by field: a replay builds one per
    /// arrival, and a JSON round trip would cost more than the rest of the arrival).
    #[must_use]
    pub fn pod(&self, row: u32) -> Pod {
        use k8s_openapi::api::core::v1::{
            Affinity, Container, NodeAffinity, NodeSelector, NodeSelectorRequirement,
            NodeSelectorTerm, PodSpec, ResourceRequirements,
        };
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        let p = &self.pods[row as usize];
        let mut requests = std::collections::BTreeMap::new();
        requests.insert("cpu".to_string(), Quantity(format!("{}m", p.cpu_milli)));
        requests.insert(
            "memory".to_string(),
            Quantity(format!("{}Mi", p.memory_mib)),
        );
        if p.gpu_milli > 0 {
            requests.insert(
                self.options.gpu_resource.clone(),
                Quantity(p.gpu_milli.to_string()),
            );
        }
        let affinity = (!p.gpu_spec.is_empty()).then(|| {
            let mut models: Vec<String> = p
                .gpu_spec
                .split('|')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            models.sort_unstable();
            models.dedup();
            Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: vec![NodeSelectorTerm {
                            match_expressions: Some(vec![NodeSelectorRequirement {
                                key: self.options.gpu_model_label.clone(),
                                operator: "In".into(),
                                values: Some(models),
                            }]),
                            match_fields: None,
                        }],
                    }),
                    ..NodeAffinity::default()
                }),
                ..Affinity::default()
            }
        });
        Pod {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(p.name.to_string()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "main".into(),
                    resources: Some(ResourceRequirements {
                        requests: Some(requests),
                        ..ResourceRequirements::default()
                    }),
                    ..Container::default()
                }],
                affinity,
                ..PodSpec::default()
            }),
            status: None,
        }
    }

    /// `default/<name>` of trace pod `row`.
    #[must_use]
    pub fn key(&self, row: u32) -> String {
        format!("default/{}", self.pods[row as usize].name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tempdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("placer-trace-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn openb_rows_become_nodes_and_pods() {
        let d = tempdir("ok");
        let nodes = write(
            &d,
            "n.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,262144,0,\nn1,96000,786432,8,V100M16\n",
        );
        let pods = write(
            &d,
            "p.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
             p0,12000,16384,1,460,V100M16|V100M32,LS,Running,5,20,5\n\
             p1,1000,1024,0,0,,BE,Failed,7,,\n",
        );
        let t = load_openb(Some(&nodes), &pods, &OpenbOptions::default()).unwrap();
        assert_eq!(t.nodes.len(), 2);
        let mut i = sched_core::intern::Interner::new();
        let n1 = sched_core::convert::node_info(&t.nodes[1], &mut i).unwrap();
        let gpu = i.intern("alibabacloud.com/gpu-milli");
        assert_eq!(n1.allocatable.scalar(gpu), 8000);
        assert_eq!(n1.allocatable.milli_cpu, 96_000);
        assert_eq!(t.pods[0].arrive, 5000);
        assert_eq!(t.pods[0].leave, Some(20_000));
        assert_eq!(t.pods[1].leave, None);
        let p0 = sched_core::convert::pod_info(&t.pod(0), &mut i).unwrap();
        assert_eq!(p0.requests.scalar(gpu), 460);
        assert_eq!(p0.requests.memory, 16 << 30);
        assert!(p0.required_affinity.is_some());
        assert_eq!(t.key(1), "default/p1");
    }

    #[test]
    fn bad_cells_name_file_line_and_column() {
        let d = tempdir("bad");
        let pods = write(
            &d,
            "p.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
             p0,12000,lots,1,460,,LS,Running,5,20,5\n",
        );
        let e = load_openb(None, &pods, &OpenbOptions::default()).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.field, "memory_mib");
        assert!(e.to_string().contains("p.csv:2: memory_mib"), "{e}");
        let pods = write(&d, "q.csv", "name,cpu_milli\np0,1\n");
        let e = load_openb(None, &pods, &OpenbOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("q.csv:1: memory_mib: missing column"),
            "{e}"
        );
        // The multi-GPU lists have no times: every pod arrives at 0 and stays.
        let pods = write(
            &d,
            "m.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1024,2,1000\n",
        );
        let t = load_openb(None, &pods, &OpenbOptions::default()).unwrap();
        assert_eq!(
            (t.pods[0].arrive, t.pods[0].leave, t.pods[0].gpu_milli),
            (0, None, 2000)
        );
    }
}
