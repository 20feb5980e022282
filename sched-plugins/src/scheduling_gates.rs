//! SchedulingGates: a pod with `spec.schedulingGates` stays out of scheduling (PreEnqueue).
//!
//! Mirrors upstream `pkg/scheduler/framework/plugins/schedulinggates/scheduling_gates.go`
//! (`PreEnqueue`): the status is `UnschedulableAndUnresolvable` with the message
//! `waiting for scheduling gates: [g1 g2]` (the gate names printed with Go's `%v`).

use sched_core::config::ProfileConfig;
use sched_core::framework::{Plugin, PreEnqueuePlugin, Rejection};
use sched_core::intern::Interner;
use sched_core::model::PodInfo;
use std::sync::Arc;

/// The upstream plugin name.
pub const NAME: &str = "SchedulingGates";

/// upstream `SchedulingGates`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SchedulingGates;

impl SchedulingGates {
    /// Builds the plugin (no arguments).
    ///
    /// # Errors
    /// Never.
    pub fn factory(
        _cfg: &ProfileConfig,
        _interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        Ok(Arc::new(SchedulingGates))
    }
}

/// upstream's message: `fmt.Sprintf("waiting for scheduling gates: %v", gates)`.
#[must_use]
pub fn waiting_message(gates: &[Arc<str>]) -> String {
    let mut msg = String::from("waiting for scheduling gates: [");
    for (i, g) in gates.iter().enumerate() {
        if i > 0 {
            msg.push(' ');
        }
        msg.push_str(g);
    }
    msg.push(']');
    msg
}

impl Plugin for SchedulingGates {
    fn name(&self) -> &'static str {
        NAME
    }
    /// upstream `EventsToRegister`: `{Pod, UpdatePodSchedulingGatesEliminated}` of the pod
    /// itself.
    fn events_to_register(&self) -> sched_core::framework::ClusterEvents {
        use sched_core::framework::ClusterEvents as C;
        C::UNSCHEDULED_POD_UPDATE
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        Some(self)
    }
}

impl PreEnqueuePlugin for SchedulingGates {
    /// upstream `PreEnqueue`.
    fn pre_enqueue(&self, pod: &PodInfo) -> Result<(), Rejection> {
        if pod.scheduling_gates.is_empty() {
            return Ok(());
        }
        Err(Rejection::unresolvable(waiting_message(
            &pod.scheduling_gates,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestCluster;
    use sched_core::framework::Code;
    use serde_json::json;

    #[test]
    fn pre_enqueue_table() {
        let cases: Vec<(&str, Vec<&str>, Result<(), &str>)> = vec![
            // upstream: scheduling_gates_test.go TestPreEnqueue "pod does not carry scheduling gates"
            ("pod does not carry scheduling gates", vec![], Ok(())),
            // upstream: TestPreEnqueue "pod carries scheduling gates"
            (
                "pod carries scheduling gates",
                vec!["foo", "bar"],
                Err("waiting for scheduling gates: [foo bar]"),
            ),
            // no upstream row: one gate.
            (
                "one gate",
                vec!["example.com/wait"],
                Err("waiting for scheduling gates: [example.com/wait]"),
            ),
        ];
        let mut c = TestCluster::new();
        for (name, gates, want) in cases {
            let gates: Vec<_> = gates.iter().map(|g| json!({"name": g})).collect();
            let pod = c.pod(json!({
                "metadata": {"name": "p", "namespace": "default"},
                "spec": {"containers": [{"name": "c"}], "schedulingGates": gates}
            }));
            let got = SchedulingGates.pre_enqueue(&pod);
            match want {
                Ok(()) => assert_eq!(got, Ok(()), "{name}"),
                Err(msg) => {
                    let r = got.expect_err(name);
                    assert_eq!(r.code, Code::UnschedulableAndUnresolvable, "{name}");
                    assert_eq!(r.message(), msg, "{name}");
                }
            }
        }
    }
}
