//! The out-of-tree plugin in `placer run`'s daemon, against sched-bin's in-process fake API
//! server on paused time: the profile enables it, and the pod is bound where it says.

use placer_label_preference::{NAME, SPEC};
use sched_bin::daemon::Daemon;
use sched_bin::daemon::fake::{FakeApiServer, make_node, make_pod};
use sched_core::config::SchedulerConfig;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[tokio::test(start_paused = true)]
async fn the_daemon_binds_where_the_plugin_requires() {
    let registry = sched_plugins::registry_with([SPEC]).expect("registers");
    let cfg = SchedulerConfig::from_yaml_with(
        &format!(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
             leaderElection: {{leaderElect: false}}\nprofiles:\n- schedulerName: placer\n  plugins:\n\
             \x20   multiPoint: {{enabled: [{{name: {NAME}}}]}}\n  pluginConfig:\n  - name: {NAME}\n\
             \x20   args: {{label: example.com/tier, value: fast, required: true}}\n"
        ),
        &registry,
    )
    .expect("config");
    let fake = FakeApiServer::new();
    // Three equal nodes; only n2 carries the label.
    for name in ["n1", "n2", "n3"] {
        let mut n = make_node(name, 4000, 110);
        if name == "n2" {
            n.metadata
                .labels
                .get_or_insert_default()
                .insert("example.com/tier".into(), "fast".into());
        }
        fake.put_node(n);
    }
    for i in 0..3 {
        fake.put_pod(make_pod("default", &format!("p{i}"), "placer", 500, 0));
    }
    let daemon = Daemon::from_config_with(fake.client("a"), &cfg, "a", &registry).expect("daemon");
    let stop = CancellationToken::new();
    let handle = tokio::spawn(daemon.run(stop.clone()));
    let bound = |name: &str| {
        fake.pod("default", name)
            .and_then(|p| p.spec.and_then(|s| s.node_name))
    };
    for _ in 0..600 {
        if (0..3).all(|i| bound(&format!("p{i}")).is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..3 {
        assert_eq!(bound(&format!("p{i}")).as_deref(), Some("n2"), "p{i}");
    }
    stop.cancel();
    let _ = handle.await;
}
