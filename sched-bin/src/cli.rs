//! The `placer` command line as a library entry point, so that a user builds their own
//! `placer` with extra plugins in a few lines, as upstream's
//! `app.NewSchedulerCommand(app.WithPlugin(...))`:
//!
//! ```no_run
//! // examples/out-of-tree-plugin/src/main.rs does this with its plugin.
//! fn main() -> std::process::ExitCode {
//!     // sched_bin::cli::main(vec![my_plugin::SPEC])
//!     sched_bin::cli::main(vec![])
//! }
//! ```

use crate::daemon::{DaemonOptions, LogFormat};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use sched_core::PluginSpec;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Placer: a Kubernetes scheduler with kube-scheduler's decisions, explainable and simulatable.
#[derive(Debug, Parser)]
#[command(name = "placer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Explain where a pod would be scheduled and why not elsewhere.
    Explain(crate::explain::ExplainArgs),
    /// Schedule a snapshot's pending pods (and a timed scenario) offline.
    Simulate(crate::simulate::SimulateArgs),
    /// Run as a leader-elected secondary scheduler against a cluster.
    Run(RunArgs),
    /// Write the cluster's nodes, pods, namespaces, services and workloads as a snapshot.
    Snapshot(crate::snapshot::SnapshotArgs),
    /// Watch the cluster and write what happens as a timed scenario, with the snapshot it
    /// starts from, for `placer simulate` to replay.
    Record(crate::record::RecordArgs),
    /// Replay an OpenB GPU trace under GPU-sharing placement policies (the FGD paper's
    /// experiment): unallocated and fragmented GPU % as the workload arrives.
    Sweep(crate::sweep::SweepArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

/// Flags of `placer run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The `KubeSchedulerConfiguration` (its profiles name the pods' `schedulerName`s).
    #[arg(long)]
    config: PathBuf,
    /// kubeconfig file (default: `clientConnection.kubeconfig`, `$KUBECONFIG`, or in-cluster).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormatArg,
    /// Address for /healthz, /livez, /readyz and /metrics (plain HTTP; loopback by default,
    /// e.g. `0.0.0.0:10259` to let a Prometheus scrape it).
    #[arg(long, default_value = "127.0.0.1:10259")]
    listen: SocketAddr,
    /// The most bindings in flight at once (each: a Binding POST and its `Scheduled` event).
    /// Halved on a 429 or 504 answer to a binding, grown back by one per success.
    #[arg(long, default_value_t = crate::daemon::DEFAULT_MAX_BINDS_IN_FLIGHT,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_binds_in_flight: u32,
    /// Leader election identity (default: hostname plus a random suffix).
    #[arg(long)]
    identity: Option<String>,
}

fn run_daemon(args: RunArgs, plugins: &[PluginSpec]) -> anyhow::Result<ExitCode> {
    let registry = crate::common::registry(plugins)?;
    let config = crate::common::load_config_with(Some(&args.config), &registry)?;
    let log_format = match args.log_format {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    };
    crate::daemon::init_tracing(log_format);
    let opts = DaemonOptions {
        config,
        kubeconfig: args.kubeconfig,
        log_format,
        listen: args.listen,
        identity: args.identity,
        max_binds_in_flight: args.max_binds_in_flight as usize,
        plugins: plugins.to_vec(),
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(crate::daemon::run(opts))?;
    Ok(ExitCode::SUCCESS)
}

/// Parses the command line and runs the subcommand with the in-tree plugins and `plugins`;
/// the exit code is 0 on success, 2 on an error (printed once to stderr).
#[must_use]
pub fn main(plugins: Vec<PluginSpec>) -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Explain(args) => crate::explain::run_with(&args, &plugins).map(|out| {
            let _ = std::io::stdout().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }),
        Command::Simulate(args) => crate::simulate::run_with(args, &plugins),
        Command::Run(args) => run_daemon(args, &plugins),
        Command::Sweep(args) => crate::sweep::run(&args),
        Command::Snapshot(args) => tokio::runtime::Runtime::new()
            .context("starting the async runtime")
            .and_then(|rt| rt.block_on(crate::snapshot::run(&args)))
            .map(|()| ExitCode::SUCCESS),
        Command::Record(args) => tokio::runtime::Runtime::new()
            .context("starting the async runtime")
            .and_then(|rt| rt.block_on(crate::record::run(&args)))
            .map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
