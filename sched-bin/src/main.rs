//! `placer`: run | explain | simulate | snapshot.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use sched_bin::daemon::{DaemonOptions, LogFormat};
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
    Explain(sched_bin::explain::ExplainArgs),
    /// Schedule a snapshot's pending pods (and a timed scenario) offline.
    Simulate(sched_bin::simulate::SimulateArgs),
    /// Run as a leader-elected secondary scheduler against a cluster.
    Run(RunArgs),
    /// Write the cluster's nodes, pods, namespaces, services and workloads as a snapshot.
    Snapshot(sched_bin::snapshot::SnapshotArgs),
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
    /// Address for /healthz, /livez, /readyz and /metrics (plain HTTP).
    #[arg(long, default_value = "0.0.0.0:10259")]
    listen: SocketAddr,
    /// Leader election identity (default: hostname plus a random suffix).
    #[arg(long)]
    identity: Option<String>,
}

fn run_daemon(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = sched_bin::common::load_config(Some(&args.config))?;
    let log_format = match args.log_format {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    };
    sched_bin::daemon::init_tracing(log_format);
    let opts = DaemonOptions {
        config,
        kubeconfig: args.kubeconfig,
        log_format,
        listen: args.listen,
        identity: args.identity,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(sched_bin::daemon::run(opts))?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Explain(args) => sched_bin::explain::run(&args).map(|out| {
            let _ = std::io::stdout().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }),
        Command::Simulate(args) => sched_bin::simulate::run(args),
        Command::Run(args) => run_daemon(args),
        Command::Snapshot(args) => tokio::runtime::Runtime::new()
            .context("starting the async runtime")
            .and_then(|rt| rt.block_on(sched_bin::snapshot::run(&args)))
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
