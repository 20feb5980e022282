//! `kubectl drain --ignore-daemonsets`, PodDisruptionBudgets and time-based eviction on the
//! virtual clock. Every expected time, count and message was worked out by hand from the
//! cluster in the test (kubectl retries a 429 every 5 s; the drain timeout is 5m by default;
//! DefaultTolerationSeconds gives 300 s).

use simulator::drain::{DrainOptions, NodeDrain, Outcome};
use simulator::engine::{PodStatus, Simulation};
use simulator::output::{DrainOut, Output};
use simulator::run::{Input, Request};
use simulator::scenario::Scenario;
use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};
use std::path::Path;

/// A node `name` with `cpu` cores, 16Gi and 110 pods.
fn node(name: &str, cpu: u32) -> String {
    format!(
        "- kind: Node\n  metadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}}}}}\n  \
         status: {{allocatable: {{cpu: \"{cpu}\", memory: 16Gi, pods: \"110\"}}}}\n"
    )
}

/// A pod: `meta` and `spec` are extra flow-mapping entries (`, key: value…`) of its metadata
/// and spec; it requests `cpu` cores.
fn pod(name: &str, cpu: u32, node: Option<&str>, meta: &str, spec: &str) -> String {
    let node = node.map(|n| format!("nodeName: {n}, ")).unwrap_or_default();
    format!(
        "- kind: Pod\n  metadata: {{name: {name}, namespace: default, \
         creationTimestamp: \"2024-01-01T00:00:00Z\"{meta}}}\n  spec: {{{node}\
         containers: [{{name: c, resources: {{requests: {{cpu: \"{cpu}\"}}}}}}]{spec}}}\n"
    )
}

/// Owned by controller `kind` named `owner`.
fn owned(kind: &str, owner: &str) -> String {
    let api = if kind == "Node" { "v1" } else { "apps/v1" };
    format!(
        ", ownerReferences: [{{apiVersion: {api}, kind: {kind}, name: {owner}, \
         uid: {owner}-uid, controller: true}}]"
    )
}

/// A ReplicaSet pod labelled `app: web`.
fn web(name: &str, cpu: u32, node: Option<&str>) -> String {
    pod(
        name,
        cpu,
        node,
        &format!(", labels: {{app: web}}{}", owned("ReplicaSet", "web")),
        "",
    )
}

/// A PodDisruptionBudget `web-pdb` over `app: web`; `rule` is `minAvailable: 2` or the like,
/// `status` extra status entries.
fn pdb(rule: &str, status: &str) -> String {
    format!(
        "- apiVersion: policy/v1\n  kind: PodDisruptionBudget\n  \
         metadata: {{name: web-pdb, namespace: default}}\n  \
         spec: {{{rule}, selector: {{matchLabels: {{app: web}}}}}}\n  \
         status: {{disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0{status}}}\n"
    )
}

fn cluster(items: &[String]) -> Input {
    let mut text = String::from("kind: List\nitems:\n");
    for i in items {
        text.push_str(i);
    }
    let snap = Snapshot::from_text(&text, "cluster.yaml", LoadOptions::default()).unwrap();
    Input::from(LoadedCluster::from_snapshot(snap, LoadOptions::default()).unwrap())
}

fn drain(input: &Input, nodes: &[&str], opts: DrainOptions) -> Output {
    let req = Request {
        drain: nodes.iter().map(ToString::to_string).collect(),
        drain_options: opts,
        ..Request::default()
    };
    simulator::simulate(input, &req, &mut |_, _| {}).unwrap()
}

fn drained(out: &Output) -> &DrainOut {
    out.drain.as_ref().expect("a drain section")
}

fn pods_on(out: &Output, node: &str) -> u32 {
    out.nodes.iter().find(|n| n.node == node).unwrap().pods
}

/// Where a pod of the state is placed now.
fn placed_on(sim: &Simulation, key: &str) -> Option<String> {
    let e = sim.state().pod(key)?;
    Some(sim.state().node(e.node).info.name.to_string())
}

fn node_of<'a>(out: &'a Output, pod: &str) -> Option<&'a str> {
    out.pods
        .iter()
        .find(|p| p.pod == pod)
        .and_then(|p| p.node.as_deref())
}

/// Runs `scenario` on `input` and returns the simulation.
fn run_scenario(input: &Input, scenario: &str) -> Simulation {
    let sc = Scenario::from_text(scenario, "scenario.yaml", Path::new(".")).unwrap();
    let mut sim = Simulation::new(
        input.state.clone(),
        input.pending.clone(),
        &Default::default(),
        0,
    )
    .unwrap();
    sim.run_scenario(&sc, &mut |_, _| {}).unwrap();
    sim
}

fn pod_drain<'a>(report: &'a NodeDrain, key: &str) -> &'a simulator::drain::PodDrain {
    report.pods.iter().find(|p| &*p.key == key).unwrap()
}

// ---- PodDisruptionBudgets ------------------------------------------------------------------

/// a1, a2 on n1 (4 cpu) and b on n2 (8 cpu), all under one `maxUnavailable: 1` budget.
fn two_web_pods_on_n1_under_max_unavailable_1() -> Input {
    cluster(&[
        node("n1", 4),
        node("n2", 8),
        web("a1", 1, Some("n1")),
        web("a2", 1, Some("n1")),
        web("b", 1, Some("n2")),
        pdb("maxUnavailable: 1", ""),
    ])
}

#[test]
fn pdb_blocks_an_eviction_until_the_replacement_of_the_first_is_placed() {
    // maxUnavailable 1 over a1, a2 (n1) and b (n2): 3 healthy, 3 expected → 1 allowed.
    // Round at 0s: a1 accepted (allowed → 0), a2 refused (429). a1 is recreated and placed on
    // n2. Round at 5s: the controller sees 3 healthy again → 1 allowed → a2 evicted.
    let input = two_web_pods_on_n1_under_max_unavailable_1();
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    assert_eq!((d.evicted, d.rescheduled, d.stranded), (2, 2, 0));
    let at: Vec<(&str, &str, u32)> = d
        .pods
        .iter()
        .map(|p| (p.pod.as_str(), p.evicted_at.as_str(), p.refusals))
        .collect();
    assert_eq!(at, [("default/a1", "0s", 0), ("default/a2", "5s", 1)]);
    assert_eq!(d.duration, "5s");
    assert_eq!(node_of(&out, "default/a1"), Some("n2"));
    assert_eq!(node_of(&out, "default/a2"), Some("n2"));
}

#[test]
fn pdb_min_available_refuses_until_the_timeout_and_names_the_blocked_pod() {
    // minAvailable 2 over a (n1) and b (n2): 2 healthy → 0 allowed, and nothing changes.
    // kubectl retries at 0s, 5s, …, 20s (5 refusals) and gives up at the 20s timeout.
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        web("a", 1, Some("n1")),
        web("b", 1, Some("n2")),
        pdb("minAvailable: 2", ""),
    ]);
    let opts = DrainOptions {
        timeout: 20_000,
        ..DrainOptions::default()
    };
    let out = drain(&input, &["n1"], opts);
    let d = drained(&out);
    assert!(!d.ok && !d.complete, "{d:?}");
    assert_eq!(d.evicted, 0);
    assert_eq!(d.duration, "20s");
    assert_eq!(d.blocked.len(), 1, "{d:?}");
    assert_eq!(d.blocked[0].pod, "default/a");
    assert_eq!(d.blocked[0].node, "n1");
    assert_eq!(
        d.blocked[0].reason,
        "timed out after 20s: Cannot evict pod as it would violate the pod's disruption \
         budget. The disruption budget web-pdb needs 2 healthy pods and has 2 currently"
    );
    assert_eq!(pods_on(&out, "n1"), 1, "a stays where it was");

    // The default timeout is 5m: 61 refusals (0s … 300s).
    let mut sim = Simulation::new(input.state.clone(), Vec::new(), &Default::default(), 0).unwrap();
    sim.run_snapshot();
    let n1 = sim.state().node_id("n1").unwrap();
    let first = simulator::drain::start(&mut sim, &[n1], DrainOptions::default());
    sim.run_timers_until(10 * 60 * 1000);
    let r = &sim.drains().reports[first];
    let a = pod_drain(r, "default/a");
    assert_eq!(a.outcome, Outcome::TimedOut);
    assert_eq!(a.retries, 61);
    assert_eq!(r.ended, Some(300_000));
    assert!(!r.complete());
}

#[test]
fn pdb_min_available_allows_once_a_pending_pod_of_the_budget_is_scheduled() {
    // minAvailable 2 over a (n1), b (n2) and c (pending, 4 cpu: fits no node). The drain
    // starts at 1s: 2 healthy of 3 expected → 0 allowed; refused at 1s, 6s, 11s. At 12s n3
    // (8 cpu) arrives and c is placed there: 3 healthy → 1 allowed; a is evicted at 16s and
    // its replacement goes to n3 (n1 cordoned, n2 full).
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        web("a", 1, Some("n1")),
        web("b", 1, Some("n2")),
        pod("filler", 3, Some("n2"), &owned("ReplicaSet", "filler"), ""),
        web("c", 4, None),
        pdb("minAvailable: 2", ""),
    ]);
    let sim = run_scenario(
        &input,
        "events:\n- at: 1s\n  drain: {node: n1, timeout: 1m}\n- at: 12s\n  addNodes:\n    \
         nodes:\n    - metadata: {name: n3}\n      status: {allocatable: {cpu: \"8\", memory: 16Gi, pods: \"110\"}}\n",
    );
    let r = &sim.drains().reports[0];
    assert_eq!(&*r.node, "n1");
    let a = pod_drain(r, "default/a");
    assert_eq!(a.outcome, Outcome::Evicted { at: 16_000 });
    assert_eq!(a.retries, 3);
    assert_eq!(r.ended, Some(16_000));
    assert!(r.complete());
    let rec = sim.record("default/a").unwrap();
    assert_eq!(rec.status, PodStatus::Scheduled);
    assert_eq!(rec.node.as_deref(), Some("n3"));
    assert_eq!(sim.record("default/c").unwrap().node.as_deref(), Some("n3"));
}

#[test]
fn disrupted_pods_are_not_healthy_until_the_deletion_timeout() {
    // upstream countHealthyPods: b is listed in status.disruptedPods (at the snapshot's time),
    // so it is not healthy for DeletionTimeout (2m): 1 healthy of 2, maxUnavailable 1 →
    // desired 1 → 0 allowed. At 2m the entry expires: 2 healthy → 1 allowed: a evicted at 2m
    // after 24 refusals (0s … 115s).
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        web("a", 1, Some("n1")),
        web("b", 1, Some("n2")),
        pdb(
            "maxUnavailable: 1",
            ", disruptedPods: {b: \"2024-01-01T00:00:00Z\"}",
        ),
    ]);
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    assert_eq!(d.pods.len(), 1);
    assert_eq!(d.pods[0].evicted_at, "2m");
    assert_eq!(d.pods[0].refusals, 24);
}

#[test]
fn a_pod_guarded_by_two_budgets_fails_without_retry() {
    // The eviction subresource does not support more than one budget: an error, not a 429.
    let second = pdb("maxUnavailable: 5", "").replace("web-pdb", "web-pdb-2");
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        web("a", 1, Some("n1")),
        pdb("maxUnavailable: 5", ""),
        second,
    ]);
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(!d.complete, "{d:?}");
    assert_eq!(d.duration, "0s", "not retried");
    assert_eq!(
        d.blocked[0].reason,
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does \
         not support (web-pdb, web-pdb-2)"
    );
}

// ---- kubectl drain's filters ---------------------------------------------------------------

#[test]
fn daemonset_pod_is_left_on_the_drained_node_and_not_rescheduled() {
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        pod("ds-n1", 1, Some("n1"), &owned("DaemonSet", "agent"), ""),
        web("a", 1, Some("n1")),
    ]);
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    assert_eq!(d.evicted, 1);
    assert_eq!(d.left.len(), 1);
    assert_eq!(d.left[0].pod, "default/ds-n1");
    assert_eq!(
        d.left[0].reason,
        "DaemonSet-managed pod: ignored (--ignore-daemonsets)"
    );
    assert!(
        out.pods.iter().all(|p| p.pod != "default/ds-n1"),
        "never evicted nor rescheduled"
    );
    assert_eq!(node_of(&out, "default/a"), Some("n2"));
    assert_eq!(out.nodes.iter().find(|n| n.node == "n1").unwrap().pods, 1);
}

#[test]
fn mirror_pod_is_skipped_as_kubectl_does_even_without_a_controller() {
    // kubectl's mirrorPodFilter returns Skip (no error, no warning) and runs before the
    // unreplicated filter: a mirror pod never needs --force. The kubelet's mirror pods are
    // controlled by their Node; one without an owner is skipped too.
    let mirror = ", annotations: {kubernetes.io/config.mirror: abc123}";
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        pod(
            "etcd-n1",
            1,
            Some("n1"),
            &format!("{mirror}{}", owned("Node", "n1")),
            "",
        ),
        pod("static-n1", 1, Some("n1"), mirror, ""),
        web("a", 1, Some("n1")),
    ]);
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    let left: Vec<&str> = d.left.iter().map(|b| b.pod.as_str()).collect();
    assert_eq!(left, ["default/etcd-n1", "default/static-n1"]);
    assert!(d.left.iter().all(|b| b.reason.starts_with("mirror pod")));
    assert_eq!(pods_on(&out, "n1"), 2, "both mirror pods stay");
    assert_eq!(node_of(&out, "default/a"), Some("n2"));
}

#[test]
fn emptydir_pod_is_refused_without_delete_emptydir_data_and_evicted_with_it() {
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        pod(
            "cache",
            1,
            Some("n1"),
            &owned("ReplicaSet", "cache"),
            ", volumes: [{name: scratch, emptyDir: {}}]",
        ),
        web("a", 1, Some("n1")),
    ]);
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(!d.ok && !d.complete, "{d:?}");
    assert_eq!(d.evicted, 0, "one refused pod keeps every pod of the node");
    let reasons: Vec<(&str, &str)> = d
        .blocked
        .iter()
        .map(|b| (b.pod.as_str(), b.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "default/a",
                "not evicted: other pods of the node were refused"
            ),
            (
                "default/cache",
                "cannot delete Pods with local storage (use --delete-emptydir-data to override)"
            ),
        ]
    );
    assert_eq!(pods_on(&out, "n1"), 2, "nothing evicted");

    let out = drain(
        &input,
        &["n1"],
        DrainOptions {
            delete_emptydir_data: true,
            ..DrainOptions::default()
        },
    );
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    assert_eq!(d.evicted, 2);
    assert_eq!(node_of(&out, "default/cache"), Some("n2"));
}

#[test]
fn nodes_drain_one_after_the_other() {
    // kubectl RunDrain: n3's drain starts when n1's is done (5s, as in the PDB test above).
    let input = cluster(&[
        node("n1", 4),
        node("n2", 8),
        node("n3", 4),
        web("a1", 1, Some("n1")),
        web("a2", 1, Some("n1")),
        web("b", 1, Some("n2")),
        pod("x", 1, Some("n3"), &owned("ReplicaSet", "x"), ""),
        pdb("maxUnavailable: 1", ""),
    ]);
    let out = drain(&input, &["n1", "n3"], DrainOptions::default());
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    let at: Vec<(&str, &str)> = d
        .pods
        .iter()
        .map(|p| (p.pod.as_str(), p.evicted_at.as_str()))
        .collect();
    assert_eq!(
        at,
        [
            ("default/a1", "0s"),
            ("default/a2", "5s"),
            ("default/x", "5s")
        ]
    );
    assert_eq!(node_of(&out, "default/x"), Some("n2"));
}

#[test]
fn a_failed_node_aborts_the_drain_of_the_nodes_after_it() {
    // kubectl without --ignore-errors: "unable to drain node "n1", aborting command"; n2 is
    // cordoned (every node is cordoned first) but its pod is not evicted.
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        node("n3", 4),
        pod("bare", 1, Some("n1"), "", ""),
        web("b", 1, Some("n2")),
    ]);
    let out = drain(&input, &["n1", "n2"], DrainOptions::default());
    let d = drained(&out);
    assert!(!d.complete, "{d:?}");
    assert_eq!(d.evicted, 0);
    let b = d.blocked.iter().find(|b| b.pod == "default/b").unwrap();
    assert_eq!(b.node, "n2");
    assert_eq!(
        b.reason,
        "node not drained: kubectl drain aborted after node n1 failed (unable to drain node \
         \"n1\", aborting command)"
    );
    assert_eq!(pods_on(&out, "n2"), 1, "b stays on n2");
    assert_eq!(pods_on(&out, "n1"), 1, "bare stays on n1");
    assert!(
        out.nodes
            .iter()
            .find(|n| n.node == "n2")
            .unwrap()
            .unschedulable
    );
}

// ---- time-based eviction -------------------------------------------------------------------

#[test]
fn toleration_seconds_evict_on_the_virtual_clock() {
    // At 10s n1 gets maintenance:NoExecute. none (no toleration): evicted at 10s; t30
    // (tolerationSeconds 30): at 40s; forever (no tolerationSeconds): never. They are bare
    // pods: evicted means deleted, at the time recorded as `ended`.
    let tol = |secs: &str| {
        format!(", tolerations: [{{key: maintenance, operator: Exists, effect: NoExecute{secs}}}]")
    };
    let input = cluster(&[
        node("n1", 4),
        pod("none", 1, Some("n1"), "", ""),
        pod("t30", 1, Some("n1"), "", &tol(", tolerationSeconds: 30")),
        pod("forever", 1, Some("n1"), "", &tol("")),
    ]);
    let sim = run_scenario(
        &input,
        "events:\n- at: 10s\n  taint: {node: n1, key: maintenance, effect: NoExecute}\n\
         - at: 5m\n  cordon: n1\n",
    );
    let ended = |k: &str| {
        let r = sim.record(k).unwrap();
        (r.status, r.ended, r.evicted_by.clone())
    };
    assert_eq!(
        ended("default/none"),
        (
            PodStatus::Deleted,
            Some(10_000),
            Some("NoExecute taint on n1".into())
        )
    );
    assert_eq!(
        ended("default/t30"),
        (
            PodStatus::Deleted,
            Some(40_000),
            Some("NoExecute taint on n1 (tolerationSeconds elapsed)".into())
        )
    );
    assert!(sim.record("default/forever").is_none(), "never evicted");
    assert_eq!(placed_on(&sim, "default/forever").as_deref(), Some("n1"));
}

#[test]
fn node_failure_evicts_after_the_default_toleration_seconds() {
    // DefaultTolerationSeconds gives plain a 300 s unreachable toleration: evicted at
    // 10s + 300s. own tolerates unreachable for 60 s: at 70s. all tolerates every taint
    // forever (operator Exists, no key): never.
    let input = cluster(&[
        node("n1", 4),
        pod("plain", 1, Some("n1"), "", ""),
        pod(
            "own",
            1,
            Some("n1"),
            "",
            ", tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, \
             effect: NoExecute, tolerationSeconds: 60}]",
        ),
        pod(
            "all",
            1,
            Some("n1"),
            "",
            ", tolerations: [{operator: Exists}]",
        ),
    ]);
    let sim = run_scenario(&input, "events:\n- at: 10s\n  nodeFailure: n1\n");
    let ended = |k: &str| sim.record(k).unwrap().ended;
    assert_eq!(ended("default/plain"), Some(310_000));
    assert_eq!(ended("default/own"), Some(70_000));
    assert!(sim.record("default/all").is_none(), "never evicted");
    assert_eq!(placed_on(&sim, "default/all").as_deref(), Some("n1"));
    // not-ready uses the other default toleration, also 300 s.
    let sim = run_scenario(
        &input,
        "events:\n- at: 10s\n  nodeFailure: {node: n1, condition: not-ready}\n",
    );
    assert_eq!(sim.record("default/plain").unwrap().ended, Some(310_000));
    assert_eq!(
        sim.record("default/own").unwrap().ended,
        Some(310_000),
        "own's toleration is for unreachable only; not-ready gets the default"
    );
}

// ---- controllers from the owner graph ------------------------------------------------------

#[test]
fn a_pod_whose_replicaset_is_missing_is_evicted_but_not_recreated() {
    // The snapshot holds ReplicaSet web-1, so web-2 (named by b's owner reference) is gone:
    // kubectl's unreplicatedFilter only asks for a controller reference, so b is evicted, and
    // nothing recreates it. a's ReplicaSet is present: a is recreated and placed on n2.
    let rs = "- apiVersion: apps/v1\n  kind: ReplicaSet\n  metadata: {name: web-1, namespace: default}\n  \
              spec: {replicas: 1, selector: {matchLabels: {app: web}}}\n"
        .to_string();
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        rs,
        pod("a", 1, Some("n1"), &owned("ReplicaSet", "web-1"), ""),
        pod("b", 1, Some("n1"), &owned("ReplicaSet", "web-2"), ""),
    ]);
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    assert_eq!((d.evicted, d.rescheduled, d.stranded), (2, 1, 0));
    assert_eq!(node_of(&out, "default/a"), Some("n2"));
    let b = d.pods.iter().find(|p| p.pod == "default/b").unwrap();
    assert_eq!(b.node, None);
    assert_eq!(
        b.message.as_deref(),
        Some(
            "deleted: its controller ReplicaSet default/web-2 is not in the snapshot: nothing recreates it"
        )
    );
    let rec = out.pods.iter().find(|p| p.pod == "default/b").unwrap();
    assert_eq!(rec.status, PodStatus::Deleted);
}

#[test]
fn a_daemonset_pod_whose_daemonset_is_missing_is_refused_unless_force() {
    // kubectl's daemonSetFilter gets the DaemonSet: NotFound is an error ("daemonsets.apps
    // "agent" not found"), or with --force a deletion. The snapshot loader does not read
    // DaemonSet objects yet, so the graph is given one (other) to make the kind captured.
    let mut input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        pod("agent-n1", 1, Some("n1"), &owned("DaemonSet", "agent"), ""),
        web("a", 1, Some("n1")),
    ]);
    let mut g = (*input.owners).clone();
    g.add("DaemonSet", "default", "other", &[]);
    input.owners = std::sync::Arc::new(g);
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(!d.complete, "{d:?}");
    assert_eq!(d.evicted, 0);
    let agent = d
        .blocked
        .iter()
        .find(|b| b.pod == "default/agent-n1")
        .unwrap();
    assert_eq!(
        agent.reason,
        "cannot delete daemonsets.apps \"agent\" not found (the snapshot holds DaemonSets but \
         not this one; --force deletes the pod)"
    );
    let out = drain(
        &input,
        &["n1"],
        DrainOptions {
            force: true,
            ..DrainOptions::default()
        },
    );
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    assert!(d.left.is_empty(), "{d:?}");
    let agent = d.pods.iter().find(|p| p.pod == "default/agent-n1").unwrap();
    assert_eq!(
        agent.message.as_deref(),
        Some(
            "deleted: daemonsets.apps \"agent\" not found: deleted under --force, nothing recreates it"
        )
    );
}

#[test]
fn a_daemonset_pod_of_a_kind_the_snapshot_does_not_hold_is_left() {
    // A `kubectl get nodes,pods` snapshot has no DaemonSets at all: the DaemonSet is taken to
    // exist (kubectl's live lookup would find it) and its pod is left, not refused.
    let input = cluster(&[
        node("n1", 4),
        pod("agent-n1", 1, Some("n1"), &owned("DaemonSet", "agent"), ""),
    ]);
    assert!(!input.owners.captures("DaemonSet"));
    let out = drain(&input, &["n1"], DrainOptions::default());
    let d = drained(&out);
    assert!(d.ok && d.complete, "{d:?}");
    assert_eq!(d.left[0].pod, "default/agent-n1");
}

#[test]
fn scenario_pods_join_the_owner_graph() {
    // A pod the scenario creates with a controller reference is found in the graph.
    let input = cluster(&[node("n1", 4)]);
    let sim = run_scenario(
        &input,
        "templates:\n  pods:\n    db:\n      metadata:\n        ownerReferences: [{apiVersion: \
         apps/v1, kind: StatefulSet, name: db, uid: db-uid, controller: true}]\n      \
         spec: {containers: [{name: c}]}\nevents:\n- at: 1s\n  createPods: {template: db}\n",
    );
    let made = sim.records()[0].key.clone();
    let (ns, name) = made.split_once('/').unwrap();
    let c = sim.owners().controller("Pod", ns, name);
    assert!(
        matches!(&c, Some(simulator::owners::Controller::NotCaptured(o)) if &*o.name == "db"),
        "{c:?}"
    );
}

#[test]
fn a_scenario_drain_is_reported_with_its_blocked_pods() {
    // The scenario's drain at 1s meets a bare pod: refused, nothing on n1 evicted; the output
    // carries the drain as `scenario_drains`, in JSON and in the table.
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        pod("bare", 1, Some("n1"), "", ""),
        web("a", 1, Some("n1")),
    ]);
    let req = Request {
        scenario: Some(
            Scenario::from_text(
                "events:\n- at: 1s\n  drain: {node: n1}\n",
                "scenario.yaml",
                Path::new("."),
            )
            .unwrap(),
        ),
        ..Request::default()
    };
    let out = simulator::simulate(&input, &req, &mut |_, _| {}).unwrap();
    assert!(out.drain.is_none());
    assert_eq!(out.scenario_drains.len(), 1);
    let d = &out.scenario_drains[0];
    assert_eq!(d.at.as_deref(), Some("1s"));
    assert_eq!(d.nodes, ["n1"]);
    assert!(!d.complete && d.evicted == 0, "{d:?}");
    let bare = d.blocked.iter().find(|b| b.pod == "default/bare").unwrap();
    assert_eq!(
        bare.reason,
        "cannot delete Pods that declare no controller (use --force to override)"
    );
    let v: serde_json::Value = serde_json::from_str(&out.to_json()).unwrap();
    assert_eq!(v["scenario_drains"][0]["at"], "1s");
    assert!(v.get("drain").is_none());
    assert!(out.to_table().contains("Drain of n1 at 1s: NOT possible"));
}

#[test]
fn a_refusal_quotes_upstreams_eviction_message_and_cause() {
    // upstream checkAndDecrement: after a1's eviction spent the one disruption, a2's refusal
    // quotes the status the controller computed (3 healthy, 2 desired): "does not allow
    // evicting pods currently" (healthy > desired), not "needs … healthy pods".
    let input = two_web_pods_on_n1_under_max_unavailable_1();
    let mut sim = Simulation::new(input.state.clone(), Vec::new(), &Default::default(), 0).unwrap();
    sim.run_snapshot();
    let n1 = sim.state().node_id("n1").unwrap();
    simulator::drain::start(&mut sim, &[n1], DrainOptions::default());
    let r = &sim.drains().reports[0];
    let a2 = pod_drain(r, "default/a2");
    assert_eq!((&a2.outcome, a2.retries), (&Outcome::Waiting, 1));
    assert_eq!(
        a2.reason.as_deref(),
        Some(
            "Cannot evict pod as it would violate the pod's disruption budget. The disruption \
             budget web-pdb does not allow evicting pods currently"
        )
    );
    let b = &sim.state().disruption_budgets()[0];
    assert_eq!(
        (b.current_healthy, b.desired_healthy, b.disruptions_allowed),
        (3, 2, 0)
    );
}
