//! `placer`: run | explain | simulate | snapshot.

use clap::{Parser, Subcommand};
use std::io::Write as _;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Explain(args) => sched_bin::explain::run(&args).map(|out| {
            let _ = std::io::stdout().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
