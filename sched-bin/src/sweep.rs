//! `placer sweep`: the FGD paper's experiment (Weng et al., ATC '23, §6) on an OpenB trace.
//!
//! For each (pod list, policy, seed) run: the node list's nodes, and the pod list resampled
//! to `--target-pct` of the cluster's GPU capacity (shuffled passes over the list, seeded, so
//! each pod appears once per pass; pods of later passes are renamed `<name>-<pass>`), arriving
//! one by one and never leaving. Each arrival goes through the simulator's loop
//! ([`simulator::Simulation::apply`] then `schedule_pending`) with a trimmed profile: the
//! fit and node-affinity filters, `GpuShare`, and the policy as the only Score plugin (no
//! preemption). The curve samples, every `--step-pct` of arrived workload (GPU milli-units
//! requested by the pods arrived so far, in % of capacity), the unallocated GPU % (capacity
//! not held by placed pods) and the fragmented GPU % (the FGD measure of every node against
//! the pod list's typical pods, whatever the policy). Runs are independent and run in
//! parallel (rayon).

use anyhow::{Context, bail};
use placer_gpu_share::frag::{FragModel, typical_pods};
use placer_gpu_share::{GpuDevices, GpuRequest};
use rayon::prelude::*;
use sched_core::config::SchedulerConfig;
use sched_core::state::ClusterState;
use serde::Serialize;
use simulator::Simulation;
use simulator::scenario::{Action, Event, Location, Scenario};
use simulator::trace::{OpenbOptions, Trace, TracePod, load_openb};
use smallvec::SmallVec;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The policies, as their Score plugins are named.
pub const POLICIES: [&str; 6] = [
    "Random",
    "DotProd",
    "GpuClustering",
    "GpuPacking",
    "BestFit",
    "FGD",
];

/// Output formats of `sweep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepFormat {
    /// `{"runs": [{"policy", "seed", "pod_list", "curve": [...]}, ...]}`.
    Json,
    /// One row per curve point: `policy,seed,pod_list,arrived_pct,unallocated_gpu_pct,fragmented_gpu_pct`.
    Csv,
}

/// Flags of `placer sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Directory of the OpenB CSV files (`<node-list>.csv`, `<pod-list>.csv`).
    #[arg(long)]
    pub openb: PathBuf,
    /// Pod lists (file names without `.csv`), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "openb_pod_list_default")]
    pub pod_list: Vec<String>,
    /// Node list (file name without `.csv`).
    #[arg(long, default_value = "openb_node_list_all_node")]
    pub node_list: String,
    /// Policies, comma separated (Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "Random,DotProd,GpuClustering,GpuPacking,BestFit,FGD"
    )]
    pub policies: Vec<String>,
    /// Seeds: `A..B` (inclusive) or a comma-separated list.
    #[arg(long, default_value = "42..51")]
    pub seeds: String,
    /// Workload to submit, in % of the cluster's GPU capacity.
    #[arg(long, default_value_t = 130.0)]
    pub target_pct: f64,
    /// A curve point every this many % of arrived workload.
    #[arg(long, default_value_t = 1.0)]
    pub step_pct: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub output: SweepFormat,
    /// Print the KubeSchedulerConfiguration of each policy's profile instead of running.
    #[arg(long)]
    pub print_config: bool,
    /// Run only run `N` of the sweep (runs are numbered in (pod list, policy, seed) order
    /// from 0): what each index of `--emit-job`'s Indexed Job runs.
    #[arg(long)]
    pub run_index: Option<usize>,
    /// Print a Kubernetes Indexed Job (JSON) that runs this sweep, one index per run, instead
    /// of running it; `--openb` is the trace directory inside the image.
    #[arg(long)]
    pub emit_job: bool,
    /// The image of `--emit-job` (its entrypoint is `placer`).
    #[arg(long, default_value = "placer:latest")]
    pub image: String,
    /// How many indices of `--emit-job`'s Job run at once.
    #[arg(long, default_value_t = 8)]
    pub parallelism: u32,
}

/// One point of a curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Workload arrived, % of GPU capacity.
    pub arrived_pct: f64,
    /// GPU capacity not allocated, %.
    pub unallocated_gpu_pct: f64,
    /// GPU capacity free but fragmented (FGD measure), %.
    pub fragmented_gpu_pct: f64,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// Policy.
    pub policy: String,
    /// Seed.
    pub seed: u64,
    /// Pod list.
    pub pod_list: String,
    /// Pods submitted.
    pub arrived_pods: usize,
    /// Pods placed.
    pub scheduled_pods: usize,
    /// The curve.
    pub curve: Vec<Point>,
}

/// The sweep's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// Every run, in (pod list, policy, seed) order.
    pub runs: Vec<Run>,
}

/// Parses `A..B` (inclusive) or `a,b,c`.
///
/// # Errors
/// Anything else.
pub fn parse_seeds(text: &str) -> anyhow::Result<Vec<u64>> {
    let bad = || {
        format!("--seeds {text:?}: expected A..B (inclusive) or a comma-separated list of numbers")
    };
    if let Some((a, b)) = text.split_once("..") {
        let a: u64 = a.trim().parse().with_context(bad)?;
        let b: u64 = b.trim().parse().with_context(bad)?;
        if b < a || b - a > 100_000 {
            bail!(bad());
        }
        return Ok((a..=b).collect());
    }
    text.split(',')
        .map(|s| s.trim().parse::<u64>().with_context(bad))
        .collect()
}

/// A loaded experiment: the trace's nodes and a pod list.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The pod list's name.
    pub name: String,
    /// Nodes and pods (file order).
    pub trace: Trace,
    /// Σ GPU milli-units of the nodes.
    pub capacity: i64,
}

impl Workload {
    /// Loads `<dir>/<node_list>.csv` and `<dir>/<pod_list>.csv`.
    ///
    /// # Errors
    /// Unreadable or malformed files (file, line and column named), a cluster without GPUs.
    pub fn load(dir: &Path, node_list: &str, pod_list: &str) -> anyhow::Result<Workload> {
        let nodes = dir.join(format!("{node_list}.csv"));
        let pods = dir.join(format!("{pod_list}.csv"));
        let trace = load_openb(Some(&nodes), &pods, &OpenbOptions::default())?;
        let gpu = trace.options.gpu_resource.clone();
        let capacity: i64 = trace
            .nodes
            .iter()
            .filter_map(|n| n.status.as_ref()?.allocatable.as_ref()?.get(&gpu))
            .filter_map(|q| q.0.parse::<i64>().ok())
            .sum();
        if capacity == 0 {
            bail!("{}: no node has GPUs", nodes.display());
        }
        for p in &trace.pods {
            GpuRequest::decode(p.gpu_milli).map_err(|e| {
                anyhow::anyhow!(
                    "{}:{}: pod default/{}: num_gpu × gpu_milli: {e}",
                    trace.file,
                    p.line,
                    p.name
                )
            })?;
        }
        Ok(Workload {
            name: pod_list.to_string(),
            trace,
            capacity,
        })
    }

    /// The typical pods of the pod list, as FGD args (`typicalPods`).
    #[must_use]
    pub fn typical_pods_args(&self) -> serde_json::Value {
        let mut interner = sched_core::intern::Interner::new();
        let shapes = self.trace.pods.iter().map(|p| shape(p, &mut interner));
        let list: Vec<_> = typical_pods(shapes.collect::<Vec<_>>())
            .into_iter()
            .map(|t| {
                serde_json::json!({
                    "cpuMilli": t.cpu_milli,
                    "gpuMilli": t.gpu_milli,
                    "gpuCount": t.gpu_count,
                    "gpuModels": t.models.iter().map(|&m| interner.resolve(m).to_string()).collect::<Vec<_>>(),
                    "popularity": t.popularity,
                })
            })
            .collect();
        serde_json::json!({ "typicalPods": list })
    }

    /// The pods submitted in a run of `seed`: shuffled passes over the list until their GPU
    /// requests reach `target_pct` of capacity.
    #[must_use]
    pub fn resample(&self, seed: u64, target_pct: f64) -> Vec<TracePod> {
        let target = (self.capacity as f64 * target_pct / 100.0).ceil() as i64;
        let mut rng = SplitMix(seed);
        let mut out = Vec::new();
        let mut sum = 0i64;
        let gpu_pods = self.trace.pods.iter().any(|p| p.gpu_milli > 0);
        let mut pass = 0u32;
        while sum < target && gpu_pods {
            let mut order: Vec<usize> = (0..self.trace.pods.len()).collect();
            for i in (1..order.len()).rev() {
                let j = usize::try_from(rng.next() % (i as u64 + 1)).unwrap_or(0);
                order.swap(i, j);
            }
            for i in order {
                if sum >= target {
                    break;
                }
                let mut p = self.trace.pods[i].clone();
                if pass > 0 {
                    p.name = format!("{}-{pass}", p.name).into();
                }
                p.arrive = 0;
                p.leave = None;
                sum += p.gpu_milli;
                out.push(p);
            }
            pass += 1;
        }
        out
    }
}

fn shape(
    p: &TracePod,
    interner: &mut sched_core::intern::Interner,
) -> placer_gpu_share::frag::PodShape {
    let (count, milli) = match GpuRequest::decode(p.gpu_milli) {
        Ok(Some(r)) => (r.count, r.milli),
        _ => (0, 0),
    };
    let models: SmallVec<[sched_core::intern::Sym; 2]> = p
        .gpu_spec
        .split('|')
        .filter(|s| !s.is_empty())
        .map(|m| interner.intern(m))
        .collect();
    (p.cpu_milli, milli, count, models)
}

/// splitmix64: a small seeded generator, the same on every platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The `KubeSchedulerConfiguration` of a policy's run: a trimmed profile (no preemption,
/// no other scoring), `percentageOfNodesToScore: 100` as the authors' experiments.
///
/// # Errors
/// An unknown policy.
pub fn policy_config(policy: &str, seed: u64, workload: &Workload) -> anyhow::Result<String> {
    if !POLICIES.contains(&policy) {
        bail!(
            "--policies: unknown policy {policy:?} (expected one of {})",
            POLICIES.join(", ")
        );
    }
    let args = match policy {
        "FGD" => workload.typical_pods_args().to_string(),
        "Random" => format!("{{\"seed\": {seed}}}"),
        _ => "{}".to_string(),
    };
    let reserve = if matches!(policy, "FGD" | "DotProd") {
        format!("[{{name: {policy}}}, {{name: GpuShare}}]")
    } else {
        "[{name: GpuShare}]".to_string()
    };
    let pre_score = if policy == "Random" {
        "\n    preScore: {enabled: [{name: Random}]}"
    } else {
        ""
    };
    Ok(format!(
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 100
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint: {{enabled: [{{name: PrioritySort}}, {{name: DefaultBinder}}], disabled: [{{name: '*'}}]}}
    preFilter: {{enabled: [{{name: NodeResourcesFit}}, {{name: NodeAffinity}}, {{name: GpuShare}}]}}
    filter: {{enabled: [{{name: NodeUnschedulable}}, {{name: NodeResourcesFit}}, {{name: NodeAffinity}}, {{name: GpuShare}}]}}{pre_score}
    score: {{enabled: [{{name: {policy}}}]}}
    reserve: {{enabled: {reserve}}}
  pluginConfig:
  - name: {policy}
    args: {args}
"
    ))
}

/// Runs one (workload, policy, seed).
///
/// # Errors
/// A configuration or simulation error.
pub fn run_one(
    workload: &Workload,
    policy: &str,
    seed: u64,
    target_pct: f64,
    step_pct: f64,
) -> anyhow::Result<Run> {
    let registry = sched_plugins::registry_with(placer_gpu_share::SPECS)?;
    let text = policy_config(policy, seed, workload)?;
    let config = SchedulerConfig::from_yaml_with(&text, &registry)
        .with_context(|| format!("the {policy} profile"))?;
    let mut state = ClusterState::new();
    for n in &workload.trace.nodes {
        let info = state.convert_node(n)?;
        state.add_node(info)?;
    }
    let o = &workload.trace.options;
    placer_gpu_share::install(&mut state, &o.gpu_resource, &o.gpu_model_label);
    let gpu = state.interner_mut().intern(&o.gpu_resource);
    // The measure: the FGD fragmentation against the pod list's typical pods, with the
    // run's symbols.
    let shapes: Vec<_> = workload
        .trace
        .pods
        .iter()
        .map(|p| shape(p, state.interner_mut()))
        .collect();
    let model = FragModel::new(typical_pods(shapes));
    let mut sim = Simulation::with_registry(&registry, state, Vec::new(), &config, seed)?;
    let pods = workload.resample(seed, target_pct);
    let scenario = Scenario {
        file: Arc::from("sweep"),
        trace: Some(Trace {
            pods,
            ..workload.trace.clone()
        }),
        ..Scenario::default()
    };
    let n = scenario.trace.as_ref().map_or(0, |t| t.pods.len());
    let cap = workload.capacity as f64;
    let mut arrived = 0i64;
    let mut next = step_pct;
    let mut curve = Vec::new();
    for row in 0..n {
        let row32 = u32::try_from(row).context("more than 2^32 pods")?;
        let event = Event {
            at: 0,
            action: Action::TraceArrive(row32),
            location: Location::default(),
        };
        sim.apply(&event, &scenario)
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        sim.schedule_pending();
        arrived += scenario.trace.as_ref().map_or(0, |t| t.pods[row].gpu_milli);
        let pct = arrived as f64 * 100.0 / cap;
        if pct + 1e-9 >= next || row + 1 == n {
            curve.push(point(&sim, &model, gpu, pct, cap));
            while next <= pct + 1e-9 {
                next += step_pct;
            }
        }
    }
    let scheduled = sim
        .records()
        .iter()
        .filter(|r| r.status == simulator::engine::PodStatus::Scheduled)
        .count();
    Ok(Run {
        policy: policy.to_string(),
        seed,
        pod_list: workload.name.clone(),
        arrived_pods: n,
        scheduled_pods: scheduled,
        curve,
    })
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

fn point(
    sim: &Simulation,
    model: &FragModel,
    gpu: sched_core::intern::Sym,
    arrived_pct: f64,
    cap: f64,
) -> Point {
    let state = sim.state();
    let allocated = sim.totals().requested.scalar(gpu) as f64;
    let mut cache = model.cache();
    let frag: f64 = match state.extension::<GpuDevices>() {
        Some(ext) => state
            .node_ids()
            .iter()
            .map(|&id| {
                let node = state.node(id);
                let g = ext.node(id);
                cache.frag(
                    node.info.allocatable.milli_cpu - node.requested.milli_cpu,
                    g.model,
                    &g.free,
                )
            })
            .sum(),
        None => 0.0,
    };
    Point {
        arrived_pct: round(arrived_pct),
        unallocated_gpu_pct: round((cap - allocated) * 100.0 / cap),
        fragmented_gpu_pct: round(frag * 100.0 / cap),
    }
}

/// Runs the sweep: every (pod list, policy, seed), in parallel.
///
/// # Errors
/// Bad flags, unreadable trace files, or a failed run.
pub fn sweep(args: &SweepArgs) -> anyhow::Result<Sweep> {
    let seeds = parse_seeds(&args.seeds)?;
    if !(args.target_pct > 0.0 && args.target_pct <= 1000.0) {
        bail!(
            "--target-pct {}: expected a percentage in (0, 1000]",
            args.target_pct
        );
    }
    if !(args.step_pct > 0.0 && args.step_pct <= 5.0) {
        bail!(
            "--step-pct {}: expected a percentage in (0, 5]",
            args.step_pct
        );
    }
    for p in &args.policies {
        if !POLICIES.contains(&p.as_str()) {
            bail!(
                "--policies: unknown policy {p:?} (expected one of {})",
                POLICIES.join(", ")
            );
        }
    }
    let workloads = args
        .pod_list
        .iter()
        .map(|l| Workload::load(&args.openb, &args.node_list, l))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut jobs = Vec::new();
    for (w, workload) in workloads.iter().enumerate() {
        for p in &args.policies {
            for &s in &seeds {
                jobs.push((w, workload, p.as_str(), s));
            }
        }
    }
    if let Some(i) = args.run_index {
        if i >= jobs.len() {
            bail!(
                "--run-index {i}: the sweep has {} runs (0..={})",
                jobs.len(),
                jobs.len().saturating_sub(1)
            );
        }
        jobs = vec![jobs[i]];
    }
    let runs = jobs
        .par_iter()
        .map(|&(_, workload, policy, seed)| {
            run_one(workload, policy, seed, args.target_pct, args.step_pct)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Sweep { runs })
}

/// The Indexed Job that runs `args`' sweep, one index per run: each index runs
/// `placer sweep … --run-index $(JOB_COMPLETION_INDEX) --output json` and prints its run.
///
/// # Errors
/// Bad seeds.
pub fn indexed_job(args: &SweepArgs) -> anyhow::Result<serde_json::Value> {
    let runs = args.pod_list.len() * args.policies.len() * parse_seeds(&args.seeds)?.len();
    if runs == 0 {
        bail!("the sweep has no run (no pod list, policy or seed)");
    }
    let cmd: Vec<String> = [
        "sweep",
        "--openb",
        &args.openb.display().to_string(),
        "--node-list",
        &args.node_list,
        "--pod-list",
        &args.pod_list.join(","),
        "--policies",
        &args.policies.join(","),
        "--seeds",
        &args.seeds,
        "--target-pct",
        &args.target_pct.to_string(),
        "--step-pct",
        &args.step_pct.to_string(),
        "--output",
        "json",
        "--run-index",
        "$(JOB_COMPLETION_INDEX)",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    Ok(serde_json::json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "placer-sweep"},
        "spec": {
            "completionMode": "Indexed",
            "completions": runs,
            "parallelism": args.parallelism.max(1),
            "backoffLimitPerIndex": 1,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "sweep",
                    "image": args.image,
                    "args": cmd,
                    "env": [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                        "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}],
                    "resources": {"requests": {"cpu": "1", "memory": "512Mi"}},
                }],
            }},
        },
    }))
}

/// `placer sweep`.
///
/// # Errors
/// As [`sweep`].
pub fn run(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write as _;
    if args.emit_job {
        println!("{}", serde_json::to_string_pretty(&indexed_job(args)?)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.print_config {
        let w = Workload::load(
            &args.openb,
            &args.node_list,
            args.pod_list
                .first()
                .map_or("openb_pod_list_default", String::as_str),
        )?;
        let seed = parse_seeds(&args.seeds)?.first().copied().unwrap_or(0);
        for p in &args.policies {
            println!("# {p}\n---\n{}", policy_config(p, seed, &w)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let start = std::time::Instant::now();
    let result = sweep(args)?;
    let elapsed = start.elapsed();
    let mut out = std::io::stdout().lock();
    match args.output {
        SweepFormat::Json => {
            serde_json::to_writer(&mut out, &result)?;
            writeln!(out)?;
        }
        SweepFormat::Csv => {
            writeln!(
                out,
                "policy,seed,pod_list,arrived_pct,unallocated_gpu_pct,fragmented_gpu_pct"
            )?;
            for r in &result.runs {
                for p in &r.curve {
                    writeln!(
                        out,
                        "{},{},{},{},{},{}",
                        r.policy,
                        r.seed,
                        r.pod_list,
                        p.arrived_pct,
                        p.unallocated_gpu_pct,
                        p.fragmented_gpu_pct
                    )?;
                }
            }
        }
    }
    eprintln!("{}", summary(&result, elapsed));
    Ok(ExitCode::SUCCESS)
}

/// Per (pod list, policy): median and range over seeds of the unallocated GPU % at the first
/// point at or past 100 % arrived.
#[must_use]
pub fn summary(sweep: &Sweep, elapsed: std::time::Duration) -> String {
    let mut groups: Vec<((String, String), Vec<f64>)> = Vec::new();
    for r in &sweep.runs {
        let v = r
            .curve
            .iter()
            .find(|p| p.arrived_pct >= 100.0)
            .or(r.curve.last())
            .map_or(f64::NAN, |p| p.unallocated_gpu_pct);
        let k = (r.pod_list.clone(), r.policy.clone());
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((k, vec![v])),
        }
    }
    let mut s = format!(
        "{} runs in {:.2} s; unallocated GPU % at 100 % arrived (median [min, max] over seeds):\n",
        sweep.runs.len(),
        elapsed.as_secs_f64()
    );
    for ((list, policy), mut vs) in groups {
        vs.sort_by(f64::total_cmp);
        let median = if vs.len() % 2 == 1 {
            vs[vs.len() / 2]
        } else {
            (vs[vs.len() / 2 - 1] + vs[vs.len() / 2]) / 2.0
        };
        s.push_str(&format!(
            "  {list} {policy:<14} {median:6.2} [{:.2}, {:.2}]\n",
            vs[0],
            vs[vs.len() - 1]
        ));
    }
    s
}
