//! GPU sharing for Placer, as out-of-tree plugins that use only sched-core's public API.
//!
//! - [`GpuDevices`] ([`devices`]): a state extension keeping every node's per-device free GPU
//!   milli-units in step with the cluster state (assume, forget, add, remove, node changes).
//! - `GpuShare` ([`share::GpuShare`]): PreFilter/Filter (a share fits on one device, `k` whole
//!   GPUs need `k` free devices, the pod's GPU models — its required node affinity on the
//!   model label, which is how the OpenB loader writes `gpu_spec` — must include the node's) and
//!   Reserve (picks the devices and records them as its claim in the placement).
//! - The FGD paper's placement policies as Score plugins ([`policies`]): `Random`, `DotProd`,
//!   `GpuClustering`, `GpuPacking`, `BestFit` and `FGD` (fragmentation gradient descent over
//!   the target workload's typical pods, [`frag`]).
//!
//! Register them with `sched_plugins::registry_with(placer_gpu_share::SPECS)` and install the
//! extension on the state the scheduler runs on with [`install`] before scheduling.

pub mod devices;
pub mod frag;
pub mod policies;
pub mod share;

pub use devices::{GpuDevices, GpuRequest, NodeGpus};
pub use frag::{FragModel, TypicalPod};

use sched_core::PluginSpec;
use sched_core::state::ClusterState;

/// Every plugin of this crate.
pub const SPECS: [PluginSpec; 7] = [
    share::SPEC,
    policies::RANDOM,
    policies::DOT_PROD,
    policies::GPU_CLUSTERING,
    policies::GPU_PACKING,
    policies::BEST_FIT,
    policies::FGD,
];

/// Default extended resource of GPU milli-units (the OpenB trace's).
pub const DEFAULT_GPU_RESOURCE: &str = "alibabacloud.com/gpu-milli";
/// Default node label of the GPU model (the OpenB loader's).
pub const DEFAULT_GPU_MODEL_LABEL: &str = "alibabacloud.com/gpu-model";

/// Installs the [`GpuDevices`] extension on `state` for GPUs requested as `resource` and
/// models labelled `model_label` (replacing an installed one), replaying the nodes and pods
/// already there.
pub fn install(state: &mut ClusterState, resource: &str, model_label: &str) {
    let resource = state.interner_mut().intern(resource);
    let model_label = state.interner_mut().intern(model_label);
    state.install_extension(GpuDevices::new(resource, model_label));
}
