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
    load_config_with(path, &sched_plugins::default_registry())
}

/// [`load_config`] where the profiles may name `registry`'s out-of-tree plugins.
///
/// # Errors
/// As [`load_config`].
pub fn load_config_with(
    path: Option<&Path>,
    registry: &sched_core::Registry,
) -> anyhow::Result<SchedulerConfig> {
    match path {
        None => Ok(SchedulerConfig::default_config()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            SchedulerConfig::from_yaml_with(&text, registry)
                .with_context(|| format!("{}", p.display()))
        }
    }
}

/// The default registry plus `plugins`, with the error a user can act on.
///
/// # Errors
/// A plugin whose name is taken or whose spec is invalid.
pub fn registry(plugins: &[sched_core::PluginSpec]) -> anyhow::Result<sched_core::Registry> {
    sched_plugins::registry_with(plugins.iter().copied()).context("registering plugins")
}
