//! Placer's offline simulator: snapshot and scenario loading, replay on a virtual clock,
//! what-if edits and reports. It drives the same `Scheduler::schedule` as the daemon.
//!
//! - [`snapshot`] loads what `kubectl get nodes,pods -A -o yaml` prints.
//! - [`scenario`] loads timed scenarios (YAML, documented in `docs/scenarios.md`) and
//!   [`trace`] workload traces (Alibaba OpenB CSV).
//! - [`engine`] is the replay: a scheduling queue in PrioritySort order, the real cycle, each
//!   placement assumed before the next, preemption, retries on cluster events.
//! - [`run`] answers one request end to end (add nodes, run, drain, plan) into an
//!   [`output::Output`], which prints as the JSON contract or a table; [`report`] writes it
//!   as an HTML report with SVG plots.
//!
//! Everything is deterministic for a given input and seed: no wall clock, no hash-order
//! iteration reaches the output.
pub mod admission;
pub mod drain;
pub mod engine;
pub mod eviction;
pub mod output;
pub mod owners;
pub mod report;
pub mod run;
pub mod scenario;
pub mod snapshot;
pub mod trace;
pub mod workloads;
pub mod yaml;

pub use engine::Simulation;
pub use output::Output;
pub use run::{Input, Request, simulate};
pub use scenario::Scenario;
