//! Guards for upstream plugins Placer has not built yet.
//!
//! A guard carries the upstream name and sits at every extension point the upstream plugin
//! has. For a pod that does not use the plugin's feature it does nothing (PreFilter and
//! PreScore return Skip, Filter passes). For a pod that does — topology spread constraints,
//! PVC-backed volumes, resource claims — its PreFilter rejects the pod as
//! `UnschedulableAndUnresolvable` with a reason naming the missing plugin, so the pod is never
//! placed as if the constraint were absent. A profile that disables the upstream plugin
//! disables the guard too, which is exactly upstream's behaviour for that profile.

use sched_core::config::ProfileConfig;
use sched_core::framework::{
    ClusterView, CycleState, FilterPlugin, FilterResult, PermitPlugin, Plugin, PostFilterInput,
    PostFilterOutcome, PostFilterPlugin, PreBindPlugin, PreEnqueuePlugin, PreFilterOutcome,
    PreFilterPlugin, PreScoreOutcome, PreScorePlugin, Rejection, ReservePlugin, ScorePlugin,
};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use sched_core::state::{NodeId, NodeState};
use std::sync::Arc;

/// A stand-in for an upstream plugin that is not implemented.
#[derive(Debug, Clone, Copy)]
pub struct Unimplemented {
    /// The upstream plugin name.
    pub name: &'static str,
    /// Which `UnsupportedConstraint::plugin` values this guard rejects.
    pub guards: &'static str,
}

impl Unimplemented {
    /// The rejection for a pod that needs this plugin, if it does.
    #[must_use]
    pub fn check(&self, pod: &PodInfo) -> Option<Rejection> {
        pod.unsupported
            .iter()
            .find(|c| c.plugin == self.guards)
            .map(|c| {
                Rejection::unresolvable(format!(
                    "pod uses {}, which needs plugin {}: not implemented in Placer",
                    c.what, c.plugin
                ))
            })
    }
}

impl Plugin for Unimplemented {
    fn name(&self) -> &'static str {
        self.name
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        Some(self)
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        Some(self)
    }
    fn as_permit(&self) -> Option<&dyn PermitPlugin> {
        Some(self)
    }
    fn as_pre_bind(&self) -> Option<&dyn PreBindPlugin> {
        Some(self)
    }
}

impl PreEnqueuePlugin for Unimplemented {
    fn pre_enqueue(&self, _pod: &PodInfo) -> Result<(), Rejection> {
        Ok(())
    }
}

impl PreFilterPlugin for Unimplemented {
    /// Filter reads only the node it is given: no AddPod/RemovePod state.
    fn has_pod_extensions(&self) -> bool {
        false
    }

    fn pre_filter(
        &self,
        _cycle: &mut CycleState,
        pod: &PodInfo,
        _view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        if let Some(r) = self.check(pod) {
            return Err(r);
        }
        Ok(PreFilterOutcome::Skip)
    }
}

impl FilterPlugin for Unimplemented {
    fn filter(
        &self,
        _: &CycleState,
        _: &PodInfo,
        _: &NodeState,
        _: ClusterView<'_>,
    ) -> FilterResult {
        Ok(())
    }
}

/// upstream DynamicResources' PostFilter returns a bare Unschedulable (no reasons, so nothing
/// is added to the message) for pods without claims; pods with claims never get this far here.
impl PostFilterPlugin for Unimplemented {
    fn post_filter(&self, _input: &PostFilterInput<'_>) -> PostFilterOutcome {
        PostFilterOutcome::Unschedulable {
            message: String::new(),
        }
    }
}

impl PreScorePlugin for Unimplemented {
    fn pre_score(
        &self,
        _: &mut CycleState,
        _: &PodInfo,
        _: &[NodeId],
        _: ClusterView<'_>,
    ) -> Result<PreScoreOutcome, Rejection> {
        Ok(PreScoreOutcome::Skip)
    }
}

impl ScorePlugin for Unimplemented {
    fn score(&self, _: &CycleState, _: &PodInfo, _: &NodeState, _: ClusterView<'_>) -> i64 {
        0
    }
}

impl ReservePlugin for Unimplemented {
    fn reserve(
        &self,
        _: &mut CycleState,
        _: &PodInfo,
        _: NodeId,
        _: ClusterView<'_>,
    ) -> Result<Option<Arc<str>>, Rejection> {
        Ok(None)
    }
    fn unreserve(&self, _: &mut CycleState, _: &PodInfo, _: NodeId, _: ClusterView<'_>) {}
}

macro_rules! guard_factory {
    ($fn_name:ident, $name:literal, $guards:literal) => {
        #[doc = concat!("Factory for the `", $name, "` guard.")]
        pub fn $fn_name(_: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
            Ok(Arc::new(Unimplemented {
                name: $name,
                guards: $guards,
            }))
        }
    };
}

guard_factory!(volume_binding, "VolumeBinding", "VolumeBinding");
guard_factory!(volume_restrictions, "VolumeRestrictions", "VolumeBinding");
guard_factory!(volume_zone, "VolumeZone", "VolumeBinding");
guard_factory!(node_volume_limits, "NodeVolumeLimits", "VolumeBinding");
guard_factory!(dynamic_resources, "DynamicResources", "DynamicResources");

/// upstream `DefaultBinder`: binding is done by whoever drives the scheduler (the daemon posts
/// a Binding; the simulator assumes). It has no filter or score role.
#[derive(Debug, Clone, Copy)]
pub struct DefaultBinder;

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        "DefaultBinder"
    }
}

impl DefaultBinder {
    /// Factory.
    ///
    /// # Errors
    /// Never.
    pub fn factory(_: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(DefaultBinder))
    }
}

/// A pod that needs the plugin never gets past PreFilter, so Permit allows every pod it sees.
impl PermitPlugin for Unimplemented {
    fn permit(&self, _: &PodInfo, _: NodeId, _: ClusterView<'_>) -> Result<(), Rejection> {
        Ok(())
    }
}

/// Likewise PreBind (upstream VolumeBinding binds the pod's claims here; pods with claims were
/// rejected at PreFilter).
impl PreBindPlugin for Unimplemented {
    fn pre_bind(&self, _: &PodInfo, _: &str) -> Result<(), Rejection> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestCluster;
    use serde_json::json;

    #[test]
    fn guard_rejects_only_pods_that_need_the_plugin() {
        let mut c = TestCluster::new();
        let spread = c.pod(json!({
            "metadata": {"name": "claims"},
            "spec": {"containers": [{"name": "c"}],
                     "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}]}
        }));
        let plain =
            c.pod(json!({"metadata": {"name": "plain"}, "spec": {"containers": [{"name": "c"}]}}));
        let guard = Unimplemented {
            name: "DynamicResources",
            guards: "DynamicResources",
        };
        let mut cycle = CycleState::new();
        let r = guard.pre_filter(&mut cycle, &spread, c.view()).unwrap_err();
        assert_eq!(
            r.code,
            sched_core::framework::Code::UnschedulableAndUnresolvable
        );
        assert_eq!(
            r.message(),
            "pod uses spec.resourceClaims, which needs plugin DynamicResources: not implemented in Placer"
        );
        assert_eq!(
            guard.pre_filter(&mut cycle, &plain, c.view()),
            Ok(PreFilterOutcome::Skip)
        );
    }

    #[test]
    fn volume_guards_name_volume_binding() {
        let mut c = TestCluster::new();
        let pvc = c.pod(json!({
            "metadata": {"name": "db"},
            "spec": {"containers": [{"name": "c"}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}
        }));
        let guard = Unimplemented {
            name: "VolumeRestrictions",
            guards: "VolumeBinding",
        };
        let r = guard.check(&pvc).expect("rejected");
        assert!(
            r.message().contains("needs plugin VolumeBinding"),
            "{}",
            r.message()
        );
    }
}
