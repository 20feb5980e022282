//! `placer simulate`: schedule a snapshot's pending pods, or replay a timed scenario, with the
//! real scheduling cycle on a virtual clock; answer what-if questions (`--drain`,
//! `--add-nodes`, `--plan`); print a table or the JSON contract; write an HTML report.
//!
//! This is the thin half: flags, files, the progress bar. The simulator library does the rest.

use crate::common::{OutputFormat, load_config_with};
use anyhow::{Context, bail};
use simulator::output::Output;
use simulator::run::{Input, Request};
use simulator::scenario::{NodeTemplateFile, Scenario};
use simulator::snapshot::{LoadOptions, LoadedCluster};
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Flags of `placer simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// The cluster: a `kind: List`, a YAML stream, JSON, a directory, or `-` for stdin.
    #[arg(long)]
    pub cluster: PathBuf,
    /// A timed scenario (YAML; see docs/scenarios.md).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// A `KubeSchedulerConfiguration` file (default: upstream's default profile).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seed that breaks ties between equally scored nodes; same input and seed, same output.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Write report.json, SVG plots and index.html into this directory.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Load the valid objects of the cluster and report invalid ones instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,
    /// After the run, drain these nodes: can every pod on them be placed elsewhere?
    #[arg(long, value_name = "NODE[,NODE…]", value_delimiter = ',')]
    pub drain: Vec<String>,
    /// With --drain: delete pods that no controller manages too (`kubectl drain --force`).
    #[arg(long)]
    pub force: bool,
    /// With --drain: delete pods with emptyDir volumes too (`kubectl drain
    /// --delete-emptydir-data`).
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// With --drain: give up on evictions PodDisruptionBudgets still refuse after this much
    /// virtual time (`kubectl drain --timeout`; e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub drain_timeout: String,
    /// Add COUNT copies of a Node template file before the run (repeatable).
    #[arg(long = "add-nodes", value_name = "TEMPLATE=COUNT")]
    pub add_nodes: Vec<String>,
    /// Find the smallest number of nodes of this Node template file that makes every pending
    /// pod schedulable (each count tried with the real cycle).
    #[arg(long, value_name = "TEMPLATE")]
    pub plan: Option<PathBuf>,
}

/// Runs `placer simulate`, printing to stdout.
///
/// # Errors
/// Unreadable or invalid inputs (messages name the file, line and field), or an event naming a
/// node or pod that does not exist.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    run_with(args, &[])
}

/// [`run`] with out-of-tree `plugins` the configuration may enable.
///
/// # Errors
/// As [`run`], and a plugin that cannot be registered.
pub fn run_with(
    args: SimulateArgs,
    plugins: &[sched_core::PluginSpec],
) -> anyhow::Result<ExitCode> {
    let text = execute_with(&args, plugins, ProgressBar::stderr())?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Parses `TEMPLATE=COUNT`.
fn parse_add(spec: &str) -> anyhow::Result<(PathBuf, u64)> {
    let Some((path, count)) = spec.rsplit_once('=') else {
        bail!(
            "--add-nodes {spec:?}: expected TEMPLATE=COUNT, e.g. examples/templates/worker-16x64.yaml=3"
        );
    };
    let count: u64 =
        count.parse().ok().filter(|c| *c > 0).with_context(|| {
            format!("--add-nodes {spec:?}: COUNT must be a positive whole number")
        })?;
    Ok((PathBuf::from(path), count))
}

/// Runs the simulation and returns what `run` prints (the report, if asked, is written too).
///
/// # Errors
/// As [`run`].
pub fn execute(args: &SimulateArgs, progress: ProgressBar) -> anyhow::Result<String> {
    execute_with(args, &[], progress)
}

/// [`execute`] with out-of-tree `plugins` the configuration may enable.
///
/// # Errors
/// As [`run`].
pub fn execute_with(
    args: &SimulateArgs,
    plugins: &[sched_core::PluginSpec],
    mut progress: ProgressBar,
) -> anyhow::Result<String> {
    let registry = crate::common::registry(plugins)?;
    let config = load_config_with(args.config.as_deref(), &registry)?;
    let opts = LoadOptions {
        skip_invalid: args.skip_invalid,
    };
    let cluster = LoadedCluster::load(&args.cluster, opts)?;
    for p in &cluster.skipped_invalid {
        eprintln!("warning: skipped invalid object: {p}");
    }
    let scenario = args.scenario.as_deref().map(Scenario::load).transpose()?;
    let mut add_nodes = Vec::new();
    for spec in &args.add_nodes {
        let (path, count) = parse_add(spec)?;
        add_nodes.push((NodeTemplateFile::load(&path)?, count));
    }
    let plan = args
        .plan
        .as_deref()
        .map(NodeTemplateFile::load)
        .transpose()?;
    let request = Request {
        config,
        seed: args.seed,
        scenario,
        add_nodes,
        drain: args
            .drain
            .iter()
            .filter(|d| !d.is_empty())
            .cloned()
            .collect(),
        drain_options: simulator::drain::DrainOptions {
            force: args.force,
            delete_emptydir_data: args.delete_emptydir_data,
            timeout: simulator::scenario::parse_duration(&args.drain_timeout).ok_or_else(|| {
                anyhow::anyhow!(
                    "--drain-timeout: expected a duration such as 90s or 5m, got {:?}",
                    args.drain_timeout
                )
            })?,
        },
        plan,
        plugins: plugins.to_vec(),
    };
    let input = Input::from(cluster);
    let output = simulator::simulate(&input, &request, &mut |done, total| {
        progress.update(done, total)
    })?;
    progress.finish();
    if let Some(dir) = &args.report {
        write_report(dir, &output)?;
        eprintln!("report written to {}", dir.join("index.html").display());
    }
    Ok(match args.output {
        OutputFormat::Json => output.to_json(),
        OutputFormat::Table => output.to_table(),
    })
}

fn write_report(dir: &Path, output: &Output) -> anyhow::Result<()> {
    simulator::report::write(dir, output)
        .with_context(|| format!("writing the report to {}", dir.display()))
}

/// A progress bar on stderr, drawn only when stderr is a terminal and the run has taken more
/// than a second.
#[derive(Debug)]
pub struct ProgressBar {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
    drawn: bool,
}

impl ProgressBar {
    /// A bar on stderr, hidden when stderr is not a terminal.
    #[must_use]
    pub fn stderr() -> Self {
        ProgressBar {
            enabled: std::io::stderr().is_terminal(),
            start: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    /// A bar that never draws.
    #[must_use]
    pub fn hidden() -> Self {
        ProgressBar {
            enabled: false,
            ..Self::stderr()
        }
    }

    fn update(&mut self, done: usize, total: usize) {
        if !self.enabled || total == 0 {
            return;
        }
        let now = Instant::now();
        let elapsed = now - self.start;
        if elapsed < Duration::from_secs(1)
            || self
                .last
                .is_some_and(|l| now - l < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        let width = 30;
        let filled = (done * width / total).min(width);
        let line = format!(
            "\r[{}{}] {:>3}% {done}/{total} events  {:.1}s ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            done * 100 / total,
            elapsed.as_secs_f64()
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
        self.drawn = true;
    }

    fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(72));
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
    }

    fn args(extra: &[&str]) -> SimulateArgs {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: SimulateArgs,
        }
        let cluster = examples().join("cluster.yaml");
        let mut argv = vec![
            "placer".to_string(),
            "--cluster".into(),
            cluster.display().to_string(),
        ];
        argv.extend(extra.iter().map(ToString::to_string));
        Cli::parse_from(argv).args
    }

    #[test]
    fn same_seed_same_bytes_from_the_command_line() {
        let scenario = examples().join("scenarios/busy-morning.yaml");
        let scenario = scenario.display().to_string();
        for output in ["json", "table"] {
            let a = args(&[
                "--scenario",
                &scenario,
                "--seed",
                "42",
                "--output",
                output,
                "--drain",
                "worker-b1",
            ]);
            let first = execute(&a, ProgressBar::hidden()).unwrap();
            let second = execute(&a, ProgressBar::hidden()).unwrap();
            assert_eq!(first, second, "--output {output}");
        }
        let json = execute(&args(&["--output", "json"]), ProgressBar::hidden()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["summary"]["pods"], 6);
        assert_eq!(v["nodes"][0]["node"], "worker-a1");
    }

    #[test]
    fn flags_parse_and_bad_ones_say_why() {
        let t = examples()
            .join("templates/worker-16x64.yaml")
            .display()
            .to_string();
        let a = args(&[
            "--drain",
            "a,b",
            "--add-nodes",
            &format!("{t}=2"),
            "--skip-invalid",
        ]);
        assert_eq!(a.drain, ["a", "b"]);
        assert_eq!(parse_add(&a.add_nodes[0]).unwrap().1, 2);
        let e = parse_add("x.yaml").unwrap_err().to_string();
        assert!(e.contains("expected TEMPLATE=COUNT"), "{e}");
        let e = parse_add("x.yaml=0").unwrap_err().to_string();
        assert!(e.contains("positive whole number"), "{e}");
        let e = execute(&args(&["--drain", "nope"]), ProgressBar::hidden())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--drain: node nope does not exist (at the end of the run)"
        );
    }

    #[test]
    fn summary_tells_what_the_snapshot_loaded() {
        let mut a = args(&["--output", "json"]);
        a.cluster = examples().join("topology/cluster.yaml");
        let v: serde_json::Value =
            serde_json::from_str(&execute(&a, ProgressBar::hidden()).unwrap()).unwrap();
        let s = &v["summary"];
        assert_eq!(s["loaded"]["namespaces"], 2);
        assert_eq!(s["loaded"]["services"], 1);
        assert_eq!(s["loaded"]["replica_sets"], 2);
        assert_eq!(s["skipped_kinds"], serde_json::json!({}));
        a.output = OutputFormat::Table;
        let table = execute(&a, ProgressBar::hidden()).unwrap();
        assert!(
            table.contains("2 namespace(s), 1 service(s), 2 replicaset(s)"),
            "{table}"
        );
    }

    #[test]
    fn report_dir_is_written() {
        let dir = std::env::temp_dir().join(format!("placer-cli-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let d = dir.display().to_string();
        execute(&args(&["--report", &d]), ProgressBar::hidden()).unwrap();
        for f in ["report.json", "allocation.svg", "nodes.svg", "index.html"] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
