//! The cycle's Reserve: claims in profile order; a failing Reserve runs every Reserve plugin's
//! Unreserve in reverse order and fails the cycle with the plugin's message.

mod common;
use common::*;
use sched_core::PluginSpec;
use sched_core::config::{ExtensionPoint, ProfileConfig, SchedulerConfig};
use sched_core::framework::{ClusterView, CycleState, Plugin, Rejection, ReservePlugin};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use sched_core::state::NodeId;
use std::sync::{Arc, Mutex};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Step(&'static str, bool);

impl Plugin for Step {
    fn name(&self) -> &'static str {
        self.0
    }
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        Some(self)
    }
}

impl ReservePlugin for Step {
    fn reserve(
        &self,
        _: &mut CycleState,
        _: &PodInfo,
        _: NodeId,
        _: ClusterView<'_>,
    ) -> Result<Option<Arc<str>>, Rejection> {
        LOG.lock().unwrap().push(format!("reserve {}", self.0));
        if self.1 {
            Err(Rejection::error("no room"))
        } else {
            Ok(Some(Arc::from(format!("{} was here", self.0))))
        }
    }
    fn unreserve(&self, _: &mut CycleState, _: &PodInfo, _: NodeId, _: ClusterView<'_>) {
        LOG.lock().unwrap().push(format!("unreserve {}", self.0));
    }
}

fn first(_: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(Step("First", false)))
}
fn failing(_: &ProfileConfig, _: &mut Interner) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(Step("Failing", true)))
}

const SPECS: [PluginSpec; 2] = [
    PluginSpec {
        name: "First",
        points: &[ExtensionPoint::Reserve],
        factory: first,
    },
    PluginSpec {
        name: "Failing",
        points: &[ExtensionPoint::Reserve],
        factory: failing,
    },
];

fn run(reserve: &str) -> Result<Vec<sched_core::model::Claim>, String> {
    let registry = sched_plugins::registry_with(SPECS).unwrap();
    let text = format!(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n  plugins:\n    reserve: {{enabled: {reserve}}}\n"
    );
    let cfg = SchedulerConfig::from_yaml_with(&text, &registry).unwrap();
    let mut s = state(&[("a", 4000, 0, ""), ("b", 4000, 0, "")]);
    let sched =
        sched_plugins::scheduler_with_registry(&registry, &cfg, s.interner_mut(), 1).unwrap();
    let p = pod(&mut s, "p", 100, 0, &[]);
    sched
        .schedule(&p, &s)
        .map(|pl| pl.claims)
        .map_err(|e| e.to_string())
}

#[test]
fn reserve_claims_and_unreserve_in_reverse_order_on_failure() {
    LOG.lock().unwrap().clear();
    let claims = run("[{name: First}]").unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(
        (claims[0].plugin, &*claims[0].value),
        ("First", "First was here")
    );
    LOG.lock().unwrap().clear();
    let e = run("[{name: First}, {name: Failing}]").unwrap_err();
    assert!(e.contains("running Failing: Reserve: no room"), "{e}");
    assert_eq!(
        *LOG.lock().unwrap(),
        [
            "reserve First",
            "reserve Failing",
            "unreserve Failing",
            "unreserve First"
        ]
    );
}
