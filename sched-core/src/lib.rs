//! Placer's scheduling core: a pure filter/score core with no I/O and no async runtime.
//!
//! Data flows one way: k8s-openapi objects are converted once ([`convert`]) into the compact
//! [`model`] (integer quantities, interned labels), held in a [`state::ClusterState`] whose
//! per-node aggregates are updated in O(1) per pod, and scheduled by one cycle
//! ([`scheduler::Scheduler`]) that runs the plugins of a [`framework::Profile`] built from an
//! upstream `KubeSchedulerConfiguration` ([`config`]).
pub mod config;
pub mod convert;
pub mod framework;
pub mod intern;
pub mod model;
pub mod quantity;
pub mod scheduler;
pub mod state;

pub use framework::{Profile, Registry};
pub use scheduler::{FitError, Placement, ScheduleError, Scheduler};
pub use state::{ClusterState, NodeId};
