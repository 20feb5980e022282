//! The out-of-tree plugin through Placer's public API only: configuration (multiPoint, weights,
//! typed args and their errors), placement in `simulate`, and the `placer` binary built with it.

use placer_label_preference::{NAME, SPEC};
use sched_core::config::{ExtensionPoint, SchedulerConfig};
use simulator::engine::PodStatus;
use simulator::run::{Input, Request};
use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};
use std::process::Command;

fn registry() -> sched_core::Registry {
    sched_plugins::registry_with([SPEC]).expect("registers")
}

fn config(args: &str) -> String {
    format!(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n\
         - schedulerName: default-scheduler\n  plugins:\n    multiPoint:\n      enabled:\n\
         \x20     - {{name: {NAME}, weight: 5}}\n  pluginConfig:\n  - name: {NAME}\n    args: {args}\n"
    )
}

/// Three empty 4-cpu nodes; only `fast` has `example.com/tier: fast`.
const CLUSTER: &str = "kind: List\nitems:\n\
- kind: Node\n  metadata: {name: a, labels: {kubernetes.io/hostname: a}}\n  status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n\
- kind: Node\n  metadata: {name: fast, labels: {kubernetes.io/hostname: fast, example.com/tier: fast}}\n  status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n\
- kind: Node\n  metadata: {name: z, labels: {kubernetes.io/hostname: z, example.com/tier: slow}}\n  status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n";

fn pending(name: &str, cpu: &str) -> String {
    format!(
        "- kind: Pod\n  metadata: {{name: {name}, namespace: default}}\n  spec: {{containers: [{{name: c, resources: {{requests: {{cpu: \"{cpu}\"}}}}}}]}}\n"
    )
}

fn simulate(config_text: &str, pods: &[String]) -> simulator::output::Output {
    let mut text = CLUSTER.to_string();
    for p in pods {
        text.push_str(p);
    }
    let snap = Snapshot::from_text(&text, "cluster.yaml", LoadOptions::default()).unwrap();
    let input = Input::from(LoadedCluster::from_snapshot(snap, LoadOptions::default()).unwrap());
    let req = Request {
        drain_options: Default::default(),
        config: SchedulerConfig::from_yaml_with(config_text, &registry()).expect("config"),
        plugins: vec![SPEC],
        ..Request::default()
    };
    simulator::simulate(&input, &req, &mut |_, _| {}).expect("simulates")
}

#[test]
fn multi_point_enables_it_at_its_declared_points_with_its_weight() {
    let cfg = SchedulerConfig::from_yaml_with(&config("{label: example.com/tier}"), &registry())
        .expect("config");
    let p = &cfg.profiles[0];
    assert!(
        p.plugins(ExtensionPoint::Filter)
            .iter()
            .any(|r| r.name == NAME)
    );
    assert_eq!(p.score_weight(NAME), Some(5));
    assert!(
        !p.plugins(ExtensionPoint::PreFilter)
            .iter()
            .any(|r| r.name == NAME)
    );
}

#[test]
fn without_the_registry_the_name_is_unknown() {
    let e = SchedulerConfig::from_yaml(&config("{label: x}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown plugin \"NodeLabelPreference\""), "{e}");
}

#[test]
fn args_errors_name_the_field() {
    let build = |args: &str| {
        let cfg = SchedulerConfig::from_yaml_with(&config(args), &registry()).expect("config");
        let mut state = sched_core::ClusterState::new();
        sched_plugins::scheduler_with_registry(&registry(), &cfg, state.interner_mut(), 0)
            .err()
            .map(|e| e.to_string())
    };
    for (args, want) in [
        ("{label: [1]}", "args.label: invalid type"),
        ("{lable: x}", "unknown field `lable`"),
        ("{}", "missing field `label`"),
        ("{label: \"\"}", "args.label: must not be empty"),
        ("{label: x, required: maybe}", "args.required: invalid type"),
    ] {
        let e = build(args).unwrap_or_else(|| panic!("{args} should fail"));
        assert!(e.contains(want), "{args}: {e}");
        assert!(e.contains("plugin \"NodeLabelPreference\""), "{e}");
    }
    assert_eq!(
        build("{label: x, value: fast, required: true, apiVersion: v1, kind: K}"),
        None
    );
}

#[test]
fn simulate_prefers_the_labelled_node() {
    let out = simulate(
        &config("{label: example.com/tier, value: fast}"),
        &[pending("p1", "1"), pending("p2", "1")],
    );
    for p in &out.pods {
        assert_eq!(p.node.as_deref(), Some("fast"), "{}", p.pod);
    }
}

#[test]
fn simulate_requires_the_label_with_its_own_reason() {
    // `fast` has 4 cpu: p1 (3) fits, p2 (3) does not, and the other nodes lack the value.
    let out = simulate(
        &config("{label: example.com/tier, value: fast, required: true}"),
        &[pending("p1", "3"), pending("p2", "3")],
    );
    let p2 = out.pods.iter().find(|p| p.pod == "default/p2").unwrap();
    assert_eq!(p2.status, PodStatus::Unschedulable);
    assert_eq!(
        p2.message.as_deref(),
        Some(
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't have label example.com/tier. \
             preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
             2 Preemption is not helpful for scheduling."
        )
    );
}

#[test]
fn the_custom_placer_binary_explains_with_the_plugin() {
    let dir = std::env::temp_dir().join(format!("placer-oot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cluster, pod, cfg) = (dir.join("c.yaml"), dir.join("p.yaml"), dir.join("k.yaml"));
    std::fs::write(&cluster, CLUSTER).unwrap();
    std::fs::write(
        &pod,
        pending("web", "1")
            .replacen("- kind", "kind", 1)
            .replace("\n  ", "\n"),
    )
    .unwrap();
    std::fs::write(&cfg, config("{label: example.com/tier, value: fast}")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_placer-with-label-preference"))
        .args(["explain", "--output", "json", "--cluster"])
        .arg(&cluster)
        .arg("--pod")
        .arg(&pod)
        .arg("--config")
        .arg(&cfg)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["selected"], "fast", "{v}");
    let fast = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "fast")
        .unwrap();
    assert_eq!(fast["scores"][NAME], 100, "{fast}");
    let _ = std::fs::remove_dir_all(&dir);
}
