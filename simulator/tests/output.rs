//! Snapshot tests of the JSON and table output on the bundled examples (insta), and the
//! determinism contract: the same input and seed reproduce a run byte for byte.

use simulator::output::Output;
use simulator::run::{Input, Request};
use simulator::scenario::{NodeTemplateFile, Scenario};
use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn example_cluster() -> Input {
    Input::from(
        LoadedCluster::load(&examples().join("cluster.yaml"), LoadOptions::default()).unwrap(),
    )
}

fn run(input: &Input, req: &Request) -> Output {
    simulator::simulate(input, req, &mut |_, _| {}).unwrap()
}

fn busy_morning() -> Request {
    Request {
        drain_options: Default::default(),
        scenario: Some(Scenario::load(&examples().join("scenarios/busy-morning.yaml")).unwrap()),
        ..Request::default()
    }
}

#[test]
fn example_cluster_json() {
    insta::assert_snapshot!(run(&example_cluster(), &Request::default()).to_json());
}

#[test]
fn example_cluster_table() {
    insta::assert_snapshot!(run(&example_cluster(), &Request::default()).to_table());
}

#[test]
fn example_scenario_table() {
    insta::assert_snapshot!(run(&example_cluster(), &busy_morning()).to_table());
}

#[test]
fn example_scenario_json() {
    insta::assert_snapshot!(run(&example_cluster(), &busy_morning()).to_json());
}

#[test]
fn example_drain_and_plan_tables() {
    let drain = Request {
        drain_options: Default::default(),
        drain: vec!["worker-a2".into(), "worker-b1".into()],
        ..Request::default()
    };
    insta::assert_snapshot!("drain", run(&example_cluster(), &drain).to_table());
    let plan = Request {
        drain_options: Default::default(),
        plan: Some(
            NodeTemplateFile::load(&examples().join("templates/highmem-32x128.yaml")).unwrap(),
        ),
        ..Request::default()
    };
    insta::assert_snapshot!("plan", run(&example_cluster(), &plan).to_table());
    let no_plan = Request {
        drain_options: Default::default(),
        plan: Some(
            NodeTemplateFile::load(&examples().join("templates/worker-16x64.yaml")).unwrap(),
        ),
        ..Request::default()
    };
    insta::assert_snapshot!("no_plan", run(&example_cluster(), &no_plan).to_table());
}

/// 60 identical nodes and 400 pending pods of a few identical shapes: every placement is
/// decided among tied nodes, so any nondeterminism (hash order, threads) would show.
fn tied_cluster() -> Input {
    let mut text = String::from("kind: List\nitems:\n");
    for i in 0..60 {
        text.push_str(&format!(
            "- kind: Node\n  metadata: {{name: n{i:02}}}\n  status: {{allocatable: {{cpu: \"8\", memory: 32Gi, pods: \"110\"}}}}\n"
        ));
    }
    for i in 0..400 {
        let cpu = [250, 500, 1000, 2000][i % 4];
        let prio = [0, 10][i % 2];
        text.push_str(&format!(
            "- kind: Pod\n  metadata: {{name: p{i:03}, namespace: ns{}}}\n  spec: {{priority: {prio}, containers: [{{name: c, resources: {{requests: {{cpu: {cpu}m, memory: 1Gi}}}}}}]}}\n",
            i % 3
        ));
    }
    let snap = Snapshot::from_text(&text, "tied.yaml", LoadOptions::default()).unwrap();
    Input::from(LoadedCluster::from_snapshot(snap, LoadOptions::default()).unwrap())
}

fn churn() -> Request {
    let text = "templates:\n  pods:\n    j:\n      spec: {containers: [{name: c, resources: {requests: {cpu: 1500m}}}]}\n\
                events:\n\
                - at: 10s\n  createPods: {template: j, count: 50, duration: 1m}\n\
                - at: 20s\n  drain: [n03, n17]\n\
                - at: 30s\n  removeNodes: n40\n\
                - at: 90s\n  createPods: {template: j, count: 80, duration: 30s}\n";
    Request {
        drain_options: Default::default(),
        scenario: Some(Scenario::from_text(text, "churn.yaml", Path::new(".")).unwrap()),
        ..Request::default()
    }
}

#[test]
fn same_seed_same_bytes() {
    let input = tied_cluster();
    for seed in [0, 7, 123_456_789] {
        let req = Request { seed, ..churn() };
        let a = run(&input, &req).to_json();
        let b = run(&input, &req).to_json();
        assert_eq!(a, b, "seed {seed}: two runs differ");
        // A fresh load of the same input, too.
        let c = run(&tied_cluster(), &req).to_json();
        assert_eq!(a, c, "seed {seed}: a reloaded input differs");
    }
}

#[test]
fn the_seed_decides_ties() {
    let input = tied_cluster();
    let a = run(
        &input,
        &Request {
            drain_options: Default::default(),
            seed: 1,
            ..Request::default()
        },
    );
    let b = run(
        &input,
        &Request {
            drain_options: Default::default(),
            seed: 2,
            ..Request::default()
        },
    );
    assert_eq!(a.summary.scheduled, b.summary.scheduled);
    assert_ne!(
        a.pods, b.pods,
        "different seeds should break some ties differently"
    );
}

/// `summary.loaded`, `summary.skipped_kinds` and `summary.skipped_invalid` count what the
/// snapshot held, in the JSON (beside the existing keys, which keep their names and order)
/// and in the table.
#[test]
fn summary_counts_each_loaded_group_and_the_skipped_kinds() {
    let text = "kind: List\nitems:\n\
        - kind: Node\n  metadata: {name: n1}\n  status: {allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}}\n\
        - kind: Pod\n  metadata: {name: web-1, namespace: shop, labels: {app: web}}\n  spec: {containers: [{name: c}]}\n\
        - kind: Namespace\n  metadata: {name: shop}\n\
        - kind: Namespace\n  metadata: {name: data}\n\
        - kind: Service\n  metadata: {name: web, namespace: shop}\n  spec: {selector: {app: web}}\n\
        - kind: ReplicaSet\n  apiVersion: apps/v1\n  metadata: {name: web-1, namespace: shop}\n  spec: {selector: {matchLabels: {app: web}}}\n\
        - kind: StatefulSet\n  apiVersion: apps/v1\n  metadata: {name: db, namespace: data}\n  spec: {selector: {matchLabels: {app: db}}, template: {}}\n\
        - kind: ReplicationController\n  metadata: {name: old, namespace: shop}\n  spec: {selector: {app: old}}\n\
        - kind: ConfigMap\n  metadata: {name: a, namespace: shop}\n\
        - kind: ConfigMap\n  metadata: {name: b, namespace: shop}\n\
        - kind: CronJob\n  apiVersion: batch/v1\n  metadata: {name: web, namespace: shop}\n\
        - kind: Service\n  metadata: {name: bad, namespace: shop}\n  spec: {ports: 80}\n";
    let opts = LoadOptions { skip_invalid: true };
    let snap = Snapshot::from_text(text, "objects.yaml", opts).unwrap();
    let input = Input::from(LoadedCluster::from_snapshot(snap, opts).unwrap());
    let out = run(&input, &Request::default());
    let text = out.to_json();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let summary = json["summary"].as_object().unwrap();
    // In written order (serde_json's map here sorts its keys).
    let mut keys: Vec<&str> = summary.keys().map(String::as_str).collect();
    keys.sort_by_key(|k| text.find(&format!("\n    \"{k}\": ")).unwrap());
    assert_eq!(
        keys,
        [
            "pods",
            "scheduled",
            "unschedulable",
            "nodes",
            "finished",
            "deleted",
            "deleted_waiting",
            "preemptions",
            "evictions",
            "attempts",
            "end",
            "seed",
            "loaded",
            "skipped_kinds",
            "skipped_invalid",
            "other_scheduler"
        ],
        "existing keys keep their names and order; new ones come after"
    );
    assert_eq!(
        summary["loaded"],
        serde_json::json!({
            "nodes": 1, "pods": 1, "namespaces": 2, "services": 1, "replica_sets": 1,
            "stateful_sets": 1, "replication_controllers": 1, "priority_classes": 0,
            "pod_disruption_budgets": 0, "deployments": 0, "daemon_sets": 0, "jobs": 0,
            "created_pods": 0, "created_replica_sets": 0,
        })
    );
    assert_eq!(
        summary["skipped_kinds"],
        serde_json::json!({"ConfigMap": 2, "CronJob": 1})
    );
    assert_eq!(summary["skipped_invalid"], 1);
    let table = out.to_table();
    assert!(
        table.contains(
            "Loaded from the snapshot: 1 node(s), 1 pod(s), 2 namespace(s), 1 service(s), \
             1 replicaset(s), 1 statefulset(s), 1 replicationcontroller(s), 0 priorityclass(s), 0 poddisruptionbudget(s), \
             0 deployment(s), 0 daemonset(s), 0 job(s); \
             skipped 3 object(s) of other kinds (ConfigMap 2, CronJob 1); \
             skipped 1 invalid object(s).\n"
        ),
        "{table}"
    );
    // A plan run reports the same load.
    let plan = Request {
        drain_options: Default::default(),
        plan: Some(
            NodeTemplateFile::load(&examples().join("templates/worker-16x64.yaml")).unwrap(),
        ),
        ..Request::default()
    };
    assert_eq!(run(&input, &plan).summary.loaded, out.summary.loaded);
}

/// The Deployment-shaped example reads whole: its Namespaces, Service and ReplicaSets reach
/// the state beside the nodes and pods, nothing skipped.
#[test]
fn topology_example_loads_every_object() {
    let c = LoadedCluster::load(
        &examples().join("topology/cluster.yaml"),
        LoadOptions::default(),
    )
    .unwrap();
    assert!(c.skipped_kinds.is_empty(), "{:?}", c.skipped_kinds);
    assert_eq!(
        (
            c.loaded.namespaces,
            c.loaded.services,
            c.loaded.replica_sets
        ),
        (2, 1, 2)
    );
    assert_eq!((c.loaded.nodes, c.loaded.pods), (5, 5));
    assert_eq!(c.state.num_namespaces(), 2);
    assert_eq!(c.state.num_services(), 1);
    assert_eq!(c.state.num_workloads(), 2);
}
