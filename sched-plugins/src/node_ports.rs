//! NodePorts: the host ports a pod wants must be free on the node.
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/nodeports/node_ports.go` (`PreFilter`,
//! `Filter`, `fitsPorts`, `ErrReason`) and `HostPortInfo.CheckConflict` in
//! `pkg/scheduler/framework/types.go`. The wanted ports are upstream `util.GetHostPorts`
//! (containers and restartable init containers, `hostPort > 0`), computed once at pod
//! conversion ([`PodInfo::host_ports`], empty host IP already `0.0.0.0`, empty protocol `TCP`).

use sched_core::config::ProfileConfig;
use sched_core::framework::{
    ClusterChange, ClusterView, CycleState, FilterPlugin, FilterResult, Plugin, PreFilterOutcome,
    PreFilterPlugin, QueueingHint, Rejection,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::{HostPort, PodInfo};
use sched_core::state::NodeState;
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "NodePorts";

/// upstream `ErrReason` (code `Unschedulable`: preemption can free a port).
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// upstream `DefaultBindAllHostIP`.
pub const DEFAULT_BIND_ALL_HOST_IP: &str = "0.0.0.0";

/// upstream `NodePorts`.
#[derive(Debug, Clone, Copy)]
pub struct NodePorts {
    /// `0.0.0.0`, interned with the cluster state's interner.
    bind_all: Sym,
}

impl NodePorts {
    /// Builds the plugin, interning `0.0.0.0` with the state's interner.
    ///
    /// # Errors
    /// Never.
    pub fn factory(
        _cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(NodePorts {
            bind_all: interner.intern(DEFAULT_BIND_ALL_HOST_IP),
        }))
    }

    /// upstream `HostPortInfo.CheckConflict`: a wanted `0.0.0.0` port conflicts with the same
    /// (protocol, port) on any IP; a wanted specific IP conflicts with the same (protocol,
    /// port) on that IP or on `0.0.0.0`.
    #[must_use]
    pub fn conflicts(&self, used: &[(HostPort, u32)], want: &HostPort) -> bool {
        used.iter().any(|(u, _)| self.conflict(u, want))
    }

    /// One used port against one wanted port, as [`NodePorts::conflicts`].
    fn conflict(&self, used: &HostPort, want: &HostPort) -> bool {
        used.protocol == want.protocol
            && used.port == want.port
            && (want.ip == self.bind_all || used.ip == self.bind_all || used.ip == want.ip)
    }
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister` with queueing hints (always on in 1.35): `{Pod, Delete}`
    /// with `isSchedulableAfterPodDeleted`, `{Node, Add}` without a hint.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::ASSIGNED_POD_DELETE | C::NODE_ADD
    }
    /// upstream `isSchedulableAfterPodDeleted`: a deleted assigned pod helps only when one of
    /// its host ports conflicts with one the pod wants.
    fn queueing_hint(
        &self,
        pod: &PodInfo,
        change: &ClusterChange,
        _interner: &Interner,
    ) -> QueueingHint {
        let ClusterChange::AssignedPodDeleted(deleted) = change else {
            return QueueingHint::Queue;
        };
        let freed = |want: &HostPort| deleted.host_ports.iter().any(|u| self.conflict(u, want));
        QueueingHint::from(pod.host_ports.iter().any(freed))
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for NodePorts {
    /// Filter reads only the node it is given: no AddPod/RemovePod state.
    fn has_pod_extensions(&self) -> bool {
        false
    }

    /// upstream `PreFilter`: Skip when the pod wants no host port.
    fn pre_filter(
        &self,
        _cycle: &mut CycleState,
        pod: &PodInfo,
        _view: ClusterView<'_>,
    ) -> Result<PreFilterOutcome, Rejection> {
        if pod.host_ports.is_empty() {
            Ok(PreFilterOutcome::Skip)
        } else {
            Ok(PreFilterOutcome::Proceed)
        }
    }
}

impl FilterPlugin for NodePorts {
    /// upstream `Filter` / `fitsPorts`: any conflicting wanted port rejects the node.
    fn filter(
        &self,
        _cycle: &CycleState,
        pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> FilterResult {
        if pod
            .host_ports
            .iter()
            .any(|p| self.conflicts(&node.used_ports, p))
        {
            return Err(Rejection::unschedulable(ERR_REASON));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestCluster, cycle};
    use sched_core::framework::Code;
    use serde_json::{Value, json};

    fn profile() -> ProfileConfig {
        ProfileConfig {
            scheduler_name: "default-scheduler".into(),
            percentage_of_nodes_to_score: None,
            points: Default::default(),
            args: Default::default(),
        }
    }

    /// A pod whose one container wants `PROTO/IP/PORT` host ports (upstream test `newPod`).
    fn pod_with_ports(name: &str, ports: &[&str]) -> Value {
        let ports: Vec<Value> = ports
            .iter()
            .map(|p| {
                let parts: Vec<&str> = p.split('/').collect();
                let port: i32 = parts[2].parse().expect("port");
                json!({"containerPort": port, "hostPort": port, "protocol": parts[0], "hostIP": parts[1]})
            })
            .collect();
        json!({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "ports": ports}]}
        })
    }

    #[test]
    fn pre_filter_skips_pods_without_host_ports() {
        // upstream: node_ports_test.go TestNodePorts "skip filter"
        let mut c = TestCluster::new();
        let plugin = NodePorts::factory(&profile(), c.state.interner_mut()).expect("factory");
        let pf = plugin.as_pre_filter().expect("prefilter");
        let pod =
            c.pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}));
        assert_eq!(
            pf.pre_filter(&mut cycle(), &pod, c.view()),
            Ok(PreFilterOutcome::Skip)
        );
        // no upstream row: container ports without hostPort do not count.
        let pod = c.pod(json!({"metadata": {"name": "q"}, "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}));
        assert_eq!(
            pf.pre_filter(&mut cycle(), &pod, c.view()),
            Ok(PreFilterOutcome::Skip)
        );
        let pod = c.pod(pod_with_ports("r", &["TCP/127.0.0.1/8080"]));
        assert_eq!(
            pf.pre_filter(&mut cycle(), &pod, c.view()),
            Ok(PreFilterOutcome::Proceed)
        );
    }

    #[test]
    fn filter_table() {
        let conflict = Err(Rejection::unschedulable(ERR_REASON));
        let cases: Vec<(&str, &[&str], &[&str], FilterResult)> = vec![
            // upstream: node_ports_test.go TestNodePorts "other port"
            (
                "other port",
                &["UDP/127.0.0.1/8080"],
                &["UDP/127.0.0.1/9090"],
                Ok(()),
            ),
            // upstream: TestNodePorts "same udp port"
            (
                "same udp port",
                &["UDP/127.0.0.1/8080"],
                &["UDP/127.0.0.1/8080"],
                conflict.clone(),
            ),
            // upstream: TestNodePorts "same tcp port"
            (
                "same tcp port",
                &["TCP/127.0.0.1/8080"],
                &["TCP/127.0.0.1/8080"],
                conflict.clone(),
            ),
            // upstream: TestNodePorts "different host ip"
            (
                "different host ip",
                &["TCP/127.0.0.1/8080"],
                &["TCP/127.0.0.2/8080"],
                Ok(()),
            ),
            // upstream: TestNodePorts "different protocol"
            (
                "different protocol",
                &["UDP/127.0.0.1/8080"],
                &["TCP/127.0.0.1/8080"],
                Ok(()),
            ),
            // upstream: TestNodePorts "second udp port conflict"
            (
                "second udp port conflict",
                &["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"],
                &["UDP/127.0.0.1/8080"],
                conflict.clone(),
            ),
            // upstream: TestNodePorts "first tcp port conflict"
            (
                "first tcp port conflict",
                &["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
                &["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"],
                conflict.clone(),
            ),
            // upstream: TestNodePorts "first tcp port conflict due to 0.0.0.0 hostIP"
            (
                "wanted 0.0.0.0 conflicts with a specific IP",
                &["TCP/0.0.0.0/8001"],
                &["TCP/127.0.0.1/8001"],
                conflict.clone(),
            ),
            // upstream: TestNodePorts "TCP hostPort conflict due to 0.0.0.0 hostIP"
            (
                "TCP hostPort conflict due to 0.0.0.0 hostIP",
                &["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
                &["TCP/127.0.0.1/8001"],
                conflict.clone(),
            ),
            // upstream: TestNodePorts "second tcp port conflict to 0.0.0.0 hostIP"
            (
                "used 0.0.0.0 conflicts with a wanted specific IP",
                &["TCP/127.0.0.1/8001"],
                &["TCP/0.0.0.0/8001"],
                conflict.clone(),
            ),
            // upstream: TestNodePorts "second different protocol"
            (
                "second different protocol",
                &["UDP/127.0.0.1/8001"],
                &["TCP/0.0.0.0/8001"],
                Ok(()),
            ),
            // upstream: TestNodePorts "UDP hostPort conflict due to 0.0.0.0 hostIP"
            (
                "UDP hostPort conflict due to 0.0.0.0 hostIP",
                &["UDP/127.0.0.1/8001"],
                &["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
                conflict.clone(),
            ),
            // no upstream row: an empty hostIP means 0.0.0.0 (HostPortInfo.sanitize).
            (
                "empty hostIP is 0.0.0.0",
                &["TCP//8001"],
                &["TCP/10.1.1.1/8001"],
                conflict.clone(),
            ),
            // no upstream row: an empty protocol means TCP (HostPortInfo.sanitize).
            (
                "empty protocol is TCP",
                &["/10.1.1.1/8001"],
                &["TCP/10.1.1.1/8001"],
                conflict.clone(),
            ),
        ];
        for (name, want_ports, used_ports, want) in cases {
            let mut c = TestCluster::new();
            let plugin = NodePorts::factory(&profile(), c.state.interner_mut()).expect("factory");
            let id = c.node(json!({"metadata": {"name": "m1"}}));
            c.running(pod_with_ports("existing", used_ports), "m1");
            let pod = c.pod(pod_with_ports("incoming", want_ports));
            let mut state = cycle();
            let pf = plugin.as_pre_filter().expect("prefilter");
            assert_eq!(
                pf.pre_filter(&mut state, &pod, c.view()),
                Ok(PreFilterOutcome::Proceed),
                "{name}"
            );
            let got = plugin.as_filter().expect("filter").filter(
                &state,
                &pod,
                c.node_state(id),
                c.view(),
            );
            assert_eq!(got, want, "{name}");
            if let Err(r) = got {
                assert_eq!(r.code, Code::Unschedulable, "{name}");
            }
        }
    }

    #[test]
    fn sidecar_ports_count_and_plain_init_ports_do_not() {
        // no upstream row: util.GetHostPorts takes restartable init containers, not plain ones.
        let mut c = TestCluster::new();
        let plugin = NodePorts::factory(&profile(), c.state.interner_mut()).expect("factory");
        let id = c.node(json!({"metadata": {"name": "m1"}}));
        c.running(pod_with_ports("existing", &["TCP/0.0.0.0/80"]), "m1");
        let init = |policy: Option<&str>| {
            let mut ic = json!({"name": "i", "ports": [{"containerPort": 80, "hostPort": 80}]});
            if let Some(p) = policy {
                ic["restartPolicy"] = json!(p);
            }
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}], "initContainers": [ic]}})
        };
        let f = plugin.as_filter().expect("filter");
        let sidecar = c.pod(init(Some("Always")));
        assert_eq!(
            f.filter(&cycle(), &sidecar, c.node_state(id), c.view()),
            Err(Rejection::unschedulable(ERR_REASON))
        );
        let plain = c.pod(init(None));
        assert!(plain.host_ports.is_empty());
    }
}
