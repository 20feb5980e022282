//! `GpuShare`: per-device GPU filtering and device choice at Reserve.

use crate::devices::{GpuDevices, GpuRequest, NodeGpus, format_claim};
use sched_core::PluginSpec;
use sched_core::config::{ExtensionPoint, ProfileConfig};
use sched_core::framework::{
    ClusterEvents, ClusterView, CycleState, FilterPlugin, FilterResult, Plugin, PreFilterOutcome,
    PreFilterPlugin, Rejection, ReservePlugin,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{LabelRequirement, PodInfo};
use sched_core::state::{NodeId, NodeState};
use smallvec::SmallVec;
use std::sync::Arc;

/// The plugin's name.
pub const NAME: &str = "GpuShare";

/// The plugin, declared once.
pub const SPEC: PluginSpec = PluginSpec {
    name: NAME,
    points: &[
        ExtensionPoint::PreFilter,
        ExtensionPoint::Filter,
        ExtensionPoint::Reserve,
    ],
    factory: GpuShare::factory,
};

/// `pluginConfig[].args` of `GpuShare`: none (the resource and the model label are the
/// [`GpuDevices`] extension's, see [`crate::install`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GpuShareArgs {}

/// A pod's GPU needs, computed at PreFilter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuPod {
    /// The request.
    pub req: GpuRequest,
    /// GPU models the pod accepts (empty: any).
    pub models: SmallVec<[Sym; 4]>,
}

impl GpuPod {
    /// Whether the pod accepts the node's GPU model.
    #[must_use]
    pub fn accepts(&self, node: &NodeGpus) -> bool {
        self.models.is_empty() || self.models.contains(&node.model)
    }
}

/// Device indices a policy prefers for the pod, written to the cycle state by the policy's
/// Reserve before `GpuShare`'s Reserve runs (list the policy before `GpuShare` at Reserve).
/// `GpuShare` takes them when they are valid on the chosen node, its own best fit otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePreference {
    /// The node they were chosen on.
    pub node: NodeId,
    /// The device indices.
    pub devices: SmallVec<[u8; 8]>,
}

/// Per-device GPU filtering and device choice.
#[derive(Debug)]
pub struct GpuShare;

const NOT_INSTALLED: &str = "GpuShare: the GpuDevices state extension is not installed on the cluster state (call placer_gpu_share::install before scheduling)";

/// The extension, or the error a plugin reports without it.
///
/// # Errors
/// The extension is not installed.
pub fn extension<'a>(view: &ClusterView<'a>) -> Result<&'a GpuDevices, Rejection> {
    view.state
        .extension::<GpuDevices>()
        .ok_or_else(|| Rejection::error(NOT_INSTALLED))
}

/// The GPU models `pod` accepts: the values of `In` requirements on `model_label` in its
/// required node affinity terms (their union) and its `nodeSelector`; empty when none
/// constrains the model.
#[must_use]
pub fn accepted_models(pod: &PodInfo, model_label: Sym) -> SmallVec<[Sym; 4]> {
    let mut out: SmallVec<[Sym; 4]> = SmallVec::new();
    if let Some(sel) = &pod.required_affinity {
        for term in &sel.terms {
            for e in &term.expressions {
                if let LabelRequirement::In { key, values } = e
                    && *key == model_label
                {
                    out.extend(values.iter().copied());
                }
            }
        }
    }
    for &(k, v) in &pod.node_selector {
        if k == model_label {
            out.push(v);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

impl GpuShare {
    /// Builds the plugin.
    ///
    /// # Errors
    /// Args that do not decode.
    pub fn factory(cfg: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        let _: GpuShareArgs = cfg.decode_args(NAME)?;
        Ok(Arc::new(GpuShare))
    }

    fn check(pod: &GpuPod, node: &NodeGpus) -> FilterResult {
        if node.free.is_empty() {
            return Err(Rejection::unresolvable("node(s) had no GPU"));
        }
        if !pod.accepts(node) {
            return Err(Rejection::unresolvable(
                "node(s) had a GPU model the pod's GPU model constraint does not accept",
            ));
        }
        if usize::from(pod.req.count) > node.free.len() {
            return Err(Rejection::unresolvable(
                "node(s) had fewer GPUs than requested",
            ));
        }
        if !node.fits(pod.req) {
            return Err(Rejection::unschedulable(if pod.req.is_share() {
                "node(s) had no GPU with enough free GPU milli-units"
            } else {
                "node(s) had too few fully free GPUs"
            }));
        }
        Ok(())
    }
}

impl Plugin for GpuShare {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        Some(self)
    }
    fn events_to_register(&self) -> ClusterEvents {
        // GPUs are freed by pods leaving and added by nodes.
        ClusterEvents::NODE_ALL | ClusterEvents::ASSIGNED_POD_DELETE
    }
}

impl PreFilterPlugin for GpuShare {
    fn pre_filter(
        &self,
        cycle: &mut CycleState,
        pod: &PodInfo,
        view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        let ext = extension(&view)?;
        let req = match ext.request(pod) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(PreFilterOutcome::Skip),
            Err(e) => return Err(Rejection::unresolvable(e)),
        };
        cycle.write(GpuPod {
            req,
            models: accepted_models(pod, ext.model_label()),
        });
        Ok(PreFilterOutcome::Proceed)
    }

    fn has_pod_extensions(&self) -> bool {
        false
    }
}

impl FilterPlugin for GpuShare {
    fn filter(
        &self,
        cycle: &CycleState,
        _pod: &PodInfo,
        node: &NodeState,
        view: ClusterView<'_>,
    ) -> FilterResult {
        let ext = extension(&view)?;
        let Some(gp) = cycle.read::<GpuPod>() else {
            return Err(Rejection::error("GpuShare: PreFilter did not run"));
        };
        let id = view
            .state
            .node_id(&node.info.name)
            .ok_or_else(|| Rejection::error("GpuShare: node not in the state"))?;
        Self::check(gp, ext.node(id))
    }

    fn filter_nodes(
        &self,
        cycle: &CycleState,
        _pod: &PodInfo,
        nodes: &[NodeId],
        live: sched_core::framework::NodeMask,
        view: ClusterView<'_>,
    ) -> sched_core::framework::NodeMask {
        let (Ok(ext), Some(gp)) = (extension(&view), cycle.read::<GpuPod>()) else {
            return 0;
        };
        sched_core::framework::mask_where(nodes, live, |id| Self::check(gp, ext.node(id)).is_ok())
    }
}

impl ReservePlugin for GpuShare {
    fn reserve(
        &self,
        cycle: &mut CycleState,
        _pod: &PodInfo,
        node: NodeId,
        view: ClusterView<'_>,
    ) -> Result<Option<Arc<str>>, Rejection> {
        let Some(gp) = cycle.read::<GpuPod>() else {
            return Ok(None);
        };
        let ext = extension(&view)?;
        let gpus = ext.node(node);
        let preferred = cycle
            .read::<DevicePreference>()
            .filter(|p| p.node == node && gpus.valid(gp.req, &p.devices))
            .map(|p| p.devices.clone());
        match preferred.or_else(|| gpus.best_fit(gp.req)) {
            Some(d) => Ok(Some(format_claim(&d))),
            None => Err(Rejection::error(
                "GpuShare: the chosen node has no room for the pod's GPUs",
            )),
        }
    }

    fn unreserve(&self, _: &mut CycleState, _: &PodInfo, _: NodeId, _: ClusterView<'_>) {}
}
