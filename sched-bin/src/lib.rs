//! The `placer` binary's library half: command implementations and the daemon, kept in a
//! library so integration tests can drive them.
pub mod cli;
pub mod common;
pub mod daemon;
pub mod explain;
pub mod record;
pub mod simulate;
pub mod snapshot;
pub mod sweep;
