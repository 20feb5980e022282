//! Helpers shared by the subcommands.

use anyhow::Context;
use sched_core::config::SchedulerConfig;
use std::path::Path;

/// Output formats of `explain` and `simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Table,
    /// The JSON contract of DESIGN.md.
    Json,
}

/// Reads a `KubeSchedulerConfiguration` file, or upstream's defaults without one.
///
/// # Errors
/// Unreadable file or invalid configuration (the message names the file and the field).
pub fn load_config(path: Option<&Path>) -> anyhow::Result<SchedulerConfig> {
    match path {
        None => Ok(SchedulerConfig::default_config()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            SchedulerConfig::from_yaml(&text).with_context(|| format!("{}", p.display()))
        }
    }
}
