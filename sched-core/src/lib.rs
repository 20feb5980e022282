//! Placer's scheduling core: a pure filter/score core with no I/O and no async runtime.
//!
//! Data flows one way: k8s-openapi objects are converted once ([`convert`]) into the compact
//! [`model`] (integer quantities, interned labels), held in a [`state::ClusterState`] whose
//! per-node aggregates are updated in O(1) per pod, and scheduled by one cycle
//! ([`scheduler::Scheduler`]) that runs the plugins of a [`framework::Profile`] built from an
//! upstream `KubeSchedulerConfiguration` ([`config`]).
//!
//! # Where would this pod go, and why not elsewhere?
//!
//! An embedding controller (an autoscaler, a descheduler, an admission webhook) asks without a
//! network round trip. The plugins live in `sched-plugins`; this crate holds the cycle.
//!
//! ```
//! use k8s_openapi::api::core::v1::{Node, Pod};
//! use sched_core::{ClusterState, config::SchedulerConfig, scheduler::NodeOutcome};
//!
//! let node = |name: &str, cpu: &str| -> Node {
//!     serde_json::from_value(serde_json::json!({
//!         "metadata": {"name": name},
//!         "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}
//!     })).unwrap()
//! };
//! let pod: Pod = serde_json::from_value(serde_json::json!({
//!     "metadata": {"name": "web", "namespace": "shop"},
//!     "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}]}
//! })).unwrap();
//!
//! // Load the cluster once; keep it current with add/update/remove as objects change.
//! let mut state = ClusterState::new();
//! for n in [node("small", "1"), node("big", "4")] {
//!     let info = state.convert_node(&n)?;
//!     state.add_node(info)?;
//! }
//! // Upstream's default profile (or parse a KubeSchedulerConfiguration with from_yaml).
//! let config = SchedulerConfig::default_config();
//! let scheduler = sched_plugins::scheduler_from_config(&config, state.interner_mut(), 0)?;
//!
//! let pod = state.convert_pod(&pod)?;
//! let placement = scheduler.schedule(&pod, &state)?;
//! assert_eq!(&*placement.node_name, "big");
//!
//! // Why not elsewhere: every node's first failing filter, with upstream's reasons.
//! for (id, outcome) in &scheduler.explain(&pod, &state).nodes {
//!     if let NodeOutcome::Rejected { plugin, rejection } = outcome {
//!         let name = &state.node(*id).info.name;
//!         assert_eq!((&**name, *plugin, rejection.message().as_str()),
//!                    ("small", "NodeResourcesFit", "Insufficient cpu"));
//!     }
//! }
//! // Once bound, account for it so the next question sees it.
//! state.assume(pod, placement.node)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
pub mod config;
pub mod convert;
pub mod cycle;
pub mod framework;
pub mod intern;
pub mod model;
pub mod quantity;
pub mod queue;
pub mod scheduler;
pub mod state;

// What an embedding controller needs, from the crate root: the state and what goes into it,
// the scheduler and its configuration, the registry plugins declare themselves in, `explain`'s
// answer, and the loop and queue around one attempt.
pub use config::{ExtensionPoint, SchedulerConfig};
pub use cycle::{Decision, Nomination, SchedulingLoop};
pub use framework::{
    ClusterChange, ClusterEvents, CycleObserver, Plugin, PluginSpec, Profile, QueueingHint,
    Registry, RegistryError,
};
pub use intern::{Interner, Sym};
pub use model::{NodeInfo, PodInfo};
pub use queue::{SchedulingQueue, Where};
pub use scheduler::{Evaluation, FitError, NodeOutcome, Placement, ScheduleError, Scheduler};
pub use state::{ClusterState, NodeId};
