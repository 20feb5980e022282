//! Placer's offline simulator: snapshot and scenario loading, replay on a virtual clock,
//! what-if edits and reports. It drives the same `Scheduler::schedule` as the daemon.
pub mod snapshot;
