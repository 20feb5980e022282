//! Scenario tests with hand-checked expectations: every expected node, count and message
//! below was worked out by hand from the cluster in the test, not copied from a run.

use simulator::engine::PodStatus;
use simulator::output::Output;
use simulator::run::{Input, Request};
use simulator::scenario::{NodeTemplateFile, Scenario};
use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};
use std::fmt::Write as _;
use std::path::Path;

/// A node `name` with `cpu` cores, 16Gi and 110 pods.
fn node(name: &str, cpu: u32) -> String {
    format!(
        "- kind: Node\n  metadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}}}}}\n  \
         status: {{allocatable: {{cpu: \"{cpu}\", memory: 16Gi, pods: \"110\"}}}}\n"
    )
}

/// A pod `name` requesting `cpu` cores and 1Gi, on `node` (or pending), with `priority`.
fn pod(name: &str, cpu: u32, node: Option<&str>, priority: i32) -> String {
    let node = node.map(|n| format!("nodeName: {n}, ")).unwrap_or_default();
    format!(
        "- kind: Pod\n  metadata: {{name: {name}, namespace: default}}\n  spec: {{{node}priority: {priority}, \
         containers: [{{name: c, resources: {{requests: {{cpu: \"{cpu}\", memory: 1Gi}}}}}}]}}\n"
    )
}

/// `pod` owned by a ReplicaSet (a controller recreates it when it is evicted).
fn controlled(pod: String) -> String {
    pod.replacen(
        "namespace: default}",
        "namespace: default, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, \
         name: rs, uid: rs-uid, controller: true}]}",
        1,
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

fn scenario(text: &str) -> Scenario {
    Scenario::from_text(text, "scenario.yaml", Path::new(".")).unwrap()
}

fn run(input: &Input, req: &Request) -> Output {
    simulator::simulate(input, req, &mut |_, _| {}).unwrap()
}

fn with_scenario(text: &str) -> Request {
    Request {
        drain_options: Default::default(),
        scenario: Some(scenario(text)),
        ..Request::default()
    }
}

fn node_of<'a>(out: &'a Output, pod: &str) -> Option<&'a str> {
    out.pods
        .iter()
        .find(|p| p.pod == pod)
        .and_then(|p| p.node.as_deref())
}

fn status_of(out: &Output, pod: &str) -> PodStatus {
    out.pods
        .iter()
        .find(|p| p.pod == pod)
        .map(|p| p.status)
        .unwrap()
}

fn pods_on(out: &Output, node: &str) -> u32 {
    out.nodes
        .iter()
        .find(|n| n.node == node)
        .map(|n| n.pods)
        .unwrap()
}

#[test]
fn a_drain_that_succeeds_moves_every_pod() {
    // n1 (4 cpu) runs a and b (1 cpu each); n2 (4 cpu) runs c (1 cpu): 3 cpu free on n2.
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        controlled(pod("a", 1, Some("n1"), 0)),
        controlled(pod("b", 1, Some("n1"), 0)),
        pod("c", 1, Some("n2"), 0),
    ]);
    let out = run(
        &input,
        &Request {
            drain_options: Default::default(),
            drain: vec!["n1".into()],
            ..Request::default()
        },
    );
    let d = out.drain.as_ref().unwrap();
    assert!(d.ok, "{d:?}");
    assert_eq!((d.evicted, d.rescheduled, d.stranded), (2, 2, 0));
    assert_eq!(node_of(&out, "default/a"), Some("n2"));
    assert_eq!(node_of(&out, "default/b"), Some("n2"));
    assert_eq!(pods_on(&out, "n1"), 0);
    assert_eq!(pods_on(&out, "n2"), 3);
    assert!(out.nodes[0].unschedulable, "a drained node stays cordoned");
    assert!(d.pods.iter().all(|p| p.from == "n1"));
}

#[test]
fn kubectl_drain_refuses_bare_pods_unless_force_then_deletes_them() {
    // kubectl drain: "cannot delete Pods that declare no controller (use --force to
    // override)"; one refused pod means nothing on that node is evicted.
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        pod("a", 1, Some("n1"), 0),
        controlled(pod("b", 1, Some("n1"), 0)),
    ]);
    let plain = Request {
        drain: vec!["n1".into()],
        ..Request::default()
    };
    let out = run(&input, &plain);
    let d = out.drain.as_ref().unwrap();
    assert!(!d.ok && !d.complete, "{d:?}");
    assert_eq!(d.evicted, 0);
    assert_eq!(d.blocked.len(), 2, "{d:?}");
    let a = d.blocked.iter().find(|b| b.pod == "default/a").unwrap();
    assert_eq!(
        a.reason,
        "cannot delete Pods that declare no controller (use --force to override)"
    );
    assert_eq!(pods_on(&out, "n1"), 2);
    let forced = Request {
        drain_options: simulator::drain::DrainOptions {
            force: true,
            ..Default::default()
        },
        ..plain
    };
    let out = run(&input, &forced);
    let d = out.drain.as_ref().unwrap();
    assert!(d.ok && d.complete, "{d:?}");
    assert_eq!((d.evicted, d.rescheduled, d.stranded), (2, 1, 0));
    assert_eq!(node_of(&out, "default/b"), Some("n2"));
    let a = out.pods.iter().find(|p| p.pod == "default/a").unwrap();
    assert_eq!(
        a.status,
        simulator::engine::PodStatus::Deleted,
        "a bare pod is gone"
    );
}

#[test]
fn a_drain_that_cannot_names_the_stranded_pod_and_why() {
    // a needs 3 cpu; n2 has 4 - 2 = 2 free; n1 is cordoned by the drain. Priorities are
    // equal, so preemption finds no victims on n2 and cannot help on the cordoned n1.
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        controlled(pod("a", 3, Some("n1"), 0)),
        pod("c", 2, Some("n2"), 0),
    ]);
    let out = run(
        &input,
        &Request {
            drain_options: Default::default(),
            drain: vec!["n1".into()],
            ..Request::default()
        },
    );
    let d = out.drain.as_ref().unwrap();
    assert!(!d.ok);
    assert_eq!((d.evicted, d.rescheduled, d.stranded), (1, 0, 1));
    assert_eq!(d.pods[0].pod, "default/a");
    assert_eq!(d.pods[0].from, "n1");
    assert_eq!(d.pods[0].node, None);
    assert_eq!(
        d.pods[0].message.as_deref(),
        Some(
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable. \
             preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, \
             1 Preemption is not helpful for scheduling."
        )
    );
    assert_eq!(out.summary.unschedulable, 1);
    assert_eq!(out.unschedulable[0].pods, ["default/a"]);
}

#[test]
fn draining_an_unknown_node_is_an_error() {
    let input = cluster(&[node("n1", 4)]);
    let req = Request {
        drain_options: Default::default(),
        drain: vec!["nope".into()],
        ..Request::default()
    };
    let e = simulator::simulate(&input, &req, &mut |_, _| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--drain: node nope does not exist (at the end of the run)"
    );
}

#[test]
fn a_node_added_unblocks_pending_pods() {
    // Two pending pods of 3 cpu, one 4-cpu node: p1 fits, p2 waits. At 1m a second 4-cpu
    // node arrives and p2 is retried and placed on it.
    let input = cluster(&[node("n1", 4), pod("p1", 3, None, 0), pod("p2", 3, None, 0)]);
    let req = with_scenario(
        "events:\n- at: 1m\n  addNodes:\n    nodes:\n    - metadata: {name: n2}\n      \
         status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n",
    );
    let out = run(&input, &req);
    assert_eq!(node_of(&out, "default/p1"), Some("n1"));
    assert_eq!(node_of(&out, "default/p2"), Some("n2"));
    assert_eq!(out.summary.unschedulable, 0);
    // Timeline: the snapshot, the time-0 round (p1 placed, p2 waits), then 1m (p2 placed).
    let t: Vec<(String, u32, u32, u32)> = out
        .timeline
        .iter()
        .map(|s| (s.time.clone(), s.scheduled, s.pending, s.unschedulable))
        .collect();
    assert_eq!(
        t,
        [
            ("0s".to_string(), 0, 2, 0),
            ("0s".into(), 1, 1, 1),
            ("1m".into(), 1, 0, 0)
        ]
    );
    let cpu = &out.timeline[2].allocation.0[0];
    assert_eq!(cpu.0, "cpu");
    assert_eq!(
        (
            cpu.1.requested.as_str(),
            cpu.1.allocatable.as_str(),
            cpu.1.percent
        ),
        ("6", "8", 75.0)
    );
}

#[test]
fn a_node_too_small_does_not_unblock() {
    // The added node has 2 cpu: p2 (3 cpu) stays unschedulable, and its message describes
    // the cluster at the end (two nodes, neither with 3 cpu free).
    let input = cluster(&[node("n1", 4), pod("p1", 3, None, 0), pod("p2", 3, None, 0)]);
    let req = with_scenario(
        "events:\n- at: 1m\n  addNodes:\n    nodes:\n    - metadata: {name: n2}\n      \
         status: {allocatable: {cpu: \"2\", memory: 16Gi, pods: \"110\"}}\n",
    );
    let out = run(&input, &req);
    assert_eq!(status_of(&out, "default/p2"), PodStatus::Unschedulable);
    let msg = out.pods[1].message.as_deref().unwrap();
    assert!(
        msg.starts_with("0/2 nodes are available: 2 Insufficient cpu."),
        "{msg}"
    );
}

#[test]
fn pods_finishing_free_room() {
    // One 4-cpu node; three 3-cpu jobs of 5m arrive at 0s: one runs at a time.
    // job-1 runs 0–5m, job-2 5m–10m, job-3 10m–15m.
    let input = cluster(&[node("n1", 4)]);
    let req = with_scenario(
        "templates:\n  pods:\n    job:\n      spec: {containers: [{name: c, resources: {requests: {cpu: \"3\"}}}]}\n\
         events:\n- at: 0s\n  createPods: {template: job, count: 3, duration: 5m}\n",
    );
    let out = run(&input, &req);
    assert_eq!(out.summary.finished, 3);
    assert_eq!(out.summary.scheduled, 3);
    assert_eq!(out.summary.end, "15m");
    let t: Vec<(String, u32, u32)> = out
        .timeline
        .iter()
        .map(|s| (s.time.clone(), s.scheduled, s.pending))
        .collect();
    assert_eq!(
        t,
        [
            ("0s".to_string(), 0, 0),
            ("0s".into(), 1, 2),
            ("5m".into(), 1, 1),
            ("10m".into(), 1, 0),
            ("15m".into(), 0, 0)
        ]
    );
    assert_eq!(out.timeline[2].events, ["1 pod(s) finished"]);
    assert_eq!(pods_on(&out, "n1"), 0);
}

#[test]
fn deleting_a_pod_frees_room_for_a_waiting_one() {
    let input = cluster(&[
        node("n1", 4),
        pod("old", 3, Some("n1"), 0),
        pod("new", 3, None, 0),
    ]);
    let out = run(
        &input,
        &with_scenario("events:\n- at: 30s\n  deletePods: old\n"),
    );
    assert_eq!(node_of(&out, "default/new"), Some("n1"));
    assert_eq!(status_of(&out, "default/old"), PodStatus::Deleted);
    assert_eq!(out.summary.deleted, 1);
}

/// `pod(...)` owned by ReplicaSet `rs` (`controller: true`): a controller recreates it.
fn owned(pod_yaml: &str) -> String {
    pod_yaml.replacen(
        "namespace: default}",
        "namespace: default, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, \
         uid: u1, controller: true}]}",
        1,
    )
}

#[test]
fn higher_priority_preempts_and_a_bare_victim_is_gone() {
    // n1 (4 cpu) runs low (3 cpu, priority 0, no controller). high (3 cpu, priority 100) is
    // pending: DefaultPreemption evicts low and high takes its place. Upstream deletes the
    // victim and nothing recreates a bare pod, so low ends deleted, not pending.
    let input = cluster(&[
        node("n1", 4),
        pod("low", 3, Some("n1"), 0),
        pod("high", 3, None, 100),
    ]);
    let out = run(&input, &Request::default());
    assert_eq!(node_of(&out, "default/high"), Some("n1"));
    assert_eq!(status_of(&out, "default/low"), PodStatus::Deleted);
    let low = out.pods.iter().find(|p| p.pod == "default/low").unwrap();
    assert_eq!(low.evictions, 1);
    assert_eq!(low.evicted_by.as_deref(), Some("preempted by default/high"));
    assert_eq!(low.node.as_deref(), Some("n1"), "the node it ran on");
    assert_eq!(out.summary.preemptions, 1);
    assert_eq!(out.summary.evictions, 1);
    assert_eq!((out.summary.deleted, out.summary.unschedulable), (1, 0));
}

#[test]
fn higher_priority_preempts_and_a_controlled_victim_is_recreated_and_waits() {
    // The same, but low belongs to a ReplicaSet: its controller recreates it pending, and it
    // waits for room.
    let input = cluster(&[
        node("n1", 4),
        owned(&pod("low", 3, Some("n1"), 0)),
        pod("high", 3, None, 100),
    ]);
    let out = run(&input, &Request::default());
    assert_eq!(node_of(&out, "default/high"), Some("n1"));
    assert_eq!(status_of(&out, "default/low"), PodStatus::Unschedulable);
    let low = out.pods.iter().find(|p| p.pod == "default/low").unwrap();
    assert_eq!(low.evictions, 1);
    assert_eq!(low.evicted_by.as_deref(), Some("preempted by default/high"));
    assert_eq!(out.summary.evictions, 1);
}

#[test]
fn cordon_taint_and_noexecute() {
    // t0: cordon n1 → new pod goes to n2. 1m: NoExecute taint on n2 evicts it (no
    // toleration), uncordon n1 → its controller's replacement lands on n1. 2m: untaint n2.
    let input = cluster(&[node("n1", 4), node("n2", 4)]);
    let req = with_scenario(
        "templates:\n  pods:\n    w:\n      metadata: {ownerReferences: [{apiVersion: batch/v1, kind: Job, name: j, uid: u, controller: true}]}\n      spec: {containers: [{name: c, resources: {requests: {cpu: \"1\"}}}]}\n\
         events:\n\
         - at: 0s\n  cordon: n1\n\
         - at: 0s\n  createPods: {template: w}\n\
         - at: 1m\n  taint: {node: n2, key: k, effect: NoExecute}\n\
         - at: 1m\n  uncordon: [n1]\n\
         - at: 2m\n  untaint: {node: n2, key: k, effect: NoExecute}\n",
    );
    let out = run(&input, &req);
    let w = out.pods.iter().find(|p| p.pod == "default/w-1").unwrap();
    assert_eq!(w.node.as_deref(), Some("n1"));
    assert_eq!(w.evictions, 1);
    assert_eq!(w.evicted_by.as_deref(), Some("NoExecute taint on n2"));
    assert_eq!(out.timeline[1].events, ["cordon n1", "create pod w-1"]);
}

#[test]
fn noexecute_taint_deletes_a_bare_pod_for_good() {
    // a runs on n1 with no controller; a NoExecute taint on n1 evicts it. Upstream's taint
    // eviction controller deletes it and nothing recreates it, though n2 has room.
    let input = cluster(&[node("n1", 4), node("n2", 4), pod("a", 1, Some("n1"), 0)]);
    let req = with_scenario("events:\n- at: 1m\n  taint: {node: n1, key: k, effect: NoExecute}\n");
    let out = run(&input, &req);
    assert_eq!(status_of(&out, "default/a"), PodStatus::Deleted);
    assert_eq!(pods_on(&out, "n2"), 0);
    assert_eq!(out.summary.evictions, 1);
}

#[test]
fn events_naming_missing_nodes_or_pods_are_errors_with_file_line_and_field() {
    let input = cluster(&[node("n1", 4), pod("a", 1, Some("n1"), 0)]);
    let cases = [
        (
            "events:\n- at: 1s\n  drain: n9\n",
            "scenario.yaml:3:10: events[0].drain: node n9 does not exist at 1s",
        ),
        (
            "events:\n- at: 1s\n  cordon: [n1, n7]\n",
            "scenario.yaml:3:16: events[0].cordon[1]: node n7 does not exist at 1s",
        ),
        (
            "events:\n- at: 2s\n  deletePods: [a, ghost]\n",
            "scenario.yaml:3:19: events[0].deletePods[1]: pod default/ghost does not exist at 2s",
        ),
        (
            "events:\n- at: 1s\n  deletePods: a\n- at: 2s\n  deletePods: a\n",
            "scenario.yaml:5:15: events[1].deletePods: pod default/a does not exist at 2s",
        ),
        (
            "events:\n- at: 1s\n  removeNodes: n1\n- at: 2s\n  uncordon: n1\n",
            "scenario.yaml:5:13: events[1].uncordon: node n1 does not exist at 2s",
        ),
        (
            "events:\n- at: 1s\n  untaint: {node: n1, key: nope}\n",
            "scenario.yaml:3:19: events[0].untaint.node: node n1 has no taint with key nope",
        ),
        (
            "events:\n- at: 1s\n  addNodes: {nodes: [{metadata: {name: n1}}]}\n",
            "scenario.yaml:2:3: events[0]: node n1 already exists",
        ),
        (
            "events:\n- at: 1s\n  createPods: {pods: [{metadata: {name: a}}]}\n",
            "scenario.yaml:2:3: events[0]: pod default/a already exists",
        ),
    ];
    for (text, want) in cases {
        let e = simulator::simulate(&input, &with_scenario(text), &mut |_, _| {}).unwrap_err();
        assert_eq!(e.to_string(), want, "{text}");
    }
}

#[test]
fn removing_a_node_reschedules_its_controlled_pods_and_deletes_bare_ones() {
    // a (ReplicaSet-owned) is recreated and lands on n2; b (bare) is deleted with the node,
    // as upstream's pod garbage collector does and nothing recreates it.
    let input = cluster(&[
        node("n1", 4),
        node("n2", 4),
        owned(&pod("a", 1, Some("n1"), 0)),
        pod("b", 1, Some("n1"), 0),
    ]);
    let out = run(
        &input,
        &with_scenario("events:\n- at: 10s\n  removeNodes: [n1]\n"),
    );
    assert_eq!(node_of(&out, "default/a"), Some("n2"));
    assert_eq!(status_of(&out, "default/b"), PodStatus::Deleted);
    assert_eq!(out.summary.nodes, 1);
    assert_eq!(out.nodes.len(), 1);
}

fn template(dir: &str, cpu: u32) -> NodeTemplateFile {
    let d = std::env::temp_dir().join(format!("placer-sim-{dir}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("small.yaml");
    std::fs::write(
        &p,
        format!(
            "kind: Node\nmetadata: {{name: small}}\nstatus: {{allocatable: {{cpu: \"{cpu}\", memory: 16Gi, pods: \"110\"}}}}\n"
        ),
    )
    .unwrap();
    NodeTemplateFile::load(&p).unwrap()
}

#[test]
fn plan_finds_the_smallest_number_of_nodes() {
    // A full 4-cpu node and five pending 3-cpu pods: each 4-cpu template node holds one,
    // so the answer is 5 (4 leaves one pod out).
    let mut items = vec![node("n1", 4), pod("busy", 4, Some("n1"), 0)];
    for i in 1..=5 {
        items.push(pod(&format!("p{i}"), 3, None, 0));
    }
    let input = cluster(&items);
    let req = Request {
        drain_options: Default::default(),
        plan: Some(template("plan", 4)),
        ..Request::default()
    };
    let out = run(&input, &req);
    let plan = out.plan.as_ref().unwrap();
    assert_eq!(plan.nodes, Some(5));
    assert_eq!(
        plan.added,
        ["small-1", "small-2", "small-3", "small-4", "small-5"]
    );
    let tried: Vec<(u64, usize)> = plan
        .probes
        .iter()
        .map(|p| (p.nodes, p.unschedulable))
        .collect();
    assert_eq!(
        tried,
        [(0, 5), (1, 4), (2, 3), (4, 1), (8, 0), (6, 0), (5, 0)]
    );
    assert_eq!(out.summary.unschedulable, 0);
    assert_eq!(out.summary.nodes, 6);
}

#[test]
fn plan_says_why_no_number_helps() {
    // A 6-cpu pod never fits a 4-cpu template node.
    let input = cluster(&[
        node("n1", 4),
        pod("huge", 6, None, 0),
        pod("ok", 3, None, 0),
    ]);
    let req = Request {
        drain_options: Default::default(),
        plan: Some(template("noplan", 4)),
        ..Request::default()
    };
    let out = run(&input, &req);
    let plan = out.plan.as_ref().unwrap();
    assert_eq!(plan.nodes, None);
    assert_eq!(plan.blockers.len(), 1);
    assert_eq!(plan.blockers[0].pods, ["default/huge"]);
    assert!(
        plan.blockers[0]
            .message
            .starts_with("0/1 nodes are available: 1 Insufficient cpu."),
        "{}",
        plan.blockers[0].message
    );
    let mut table = String::new();
    let _ = write!(table, "{}", out.to_table());
    assert!(table.contains("no number of small nodes"), "{table}");
}

#[test]
fn plan_needs_nothing_when_everything_fits() {
    let input = cluster(&[node("n1", 4), pod("ok", 1, None, 0)]);
    let out = run(
        &input,
        &Request {
            drain_options: Default::default(),
            plan: Some(template("zero", 4)),
            ..Request::default()
        },
    );
    assert_eq!(out.plan.as_ref().unwrap().nodes, Some(0));
    assert!(out.added_nodes.is_empty());
}

#[test]
fn add_nodes_before_the_run() {
    let input = cluster(&[node("n1", 2), pod("a", 3, None, 0), pod("b", 3, None, 0)]);
    let out = run(
        &input,
        &Request {
            drain_options: Default::default(),
            add_nodes: vec![(template("add", 4), 2)],
            ..Request::default()
        },
    );
    assert_eq!(out.added_nodes, ["small-1", "small-2"]);
    assert_eq!(out.summary.scheduled, 2);
    let mut placed: Vec<&str> = ["default/a", "default/b"]
        .iter()
        .map(|p| node_of(&out, p).unwrap())
        .collect();
    placed.sort_unstable();
    assert_eq!(placed, ["small-1", "small-2"]);
}

#[test]
fn an_openb_trace_replays_arrivals_departures_and_gpu_models() {
    // Nodes: cpu-only c0 (4 cores, 16Gi) and g0 (8 cores, 64Gi, 2 T4 = 2000 GPU milli-units).
    // The default profile ranks by LeastAllocated + BalancedAllocation after placement
    // (nothing else differs between the nodes here):
    // - p0 (t=0..100s, 1 core, half a T4) → g0, the only T4 node.
    // - p1 (t=10.., wants a V100) → no node has one: NodeAffinity rejects both, and
    //   preemption cannot help with that.
    // - p2 (t=20..50, 3 cores): c0 would be 75% cpu (least 59, balanced 65 = 124), g0 50%
    //   (least 73, balanced 76 = 149) → g0.
    // - p3 (t=30..200, 2 cores): c0 50% (71 + 78 = 149), g0 75% (60 + 64 = 124) → c0.
    // - p2 leaves at 50s. p4 (t=60..300, 4 cores): c0 has 2 free → only g0 fits → g0.
    let dir = std::env::temp_dir().join(format!("placer-openb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("nodes.csv"),
        "sn,cpu_milli,memory_mib,gpu,model\nc0,4000,16384,0,\ng0,8000,65536,2,T4\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("pods.csv"),
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
         p0,1000,1024,1,500,T4,LS,Running,0,100,0\n\
         p1,1000,1024,1,1000,V100M16|V100M32,LS,Pending,10,,\n\
         p2,3000,1024,0,0,,BE,Running,20,50,20\n\
         p3,2000,1024,0,0,,BE,Running,30,200,30\n\
         p4,4000,1024,0,0,,BE,Running,60,300,60\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "trace: {format: openb, nodes: nodes.csv, pods: pods.csv}\n",
    )
    .unwrap();
    let s = Scenario::load(&dir.join("s.yaml")).unwrap();
    assert_eq!(s.len(), 9, "5 arrivals + 4 departures");
    let out = run(
        &cluster(&[]),
        &Request {
            drain_options: Default::default(),
            scenario: Some(s),
            ..Request::default()
        },
    );
    let placed: Vec<(&str, Option<&str>)> = ["p0", "p2", "p3", "p4"]
        .iter()
        .map(|p| (*p, node_of(&out, &format!("default/{p}"))))
        .collect();
    assert_eq!(
        placed,
        [
            ("p0", Some("g0")),
            ("p2", Some("g0")),
            ("p3", Some("c0")),
            ("p4", Some("g0"))
        ]
    );
    assert_eq!(status_of(&out, "default/p1"), PodStatus::Unschedulable);
    assert_eq!(
        out.pods[1].message.as_deref(),
        Some(
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        )
    );
    assert_eq!(status_of(&out, "default/p2"), PodStatus::Deleted);
    assert_eq!(
        (
            out.summary.scheduled,
            out.summary.unschedulable,
            out.summary.deleted
        ),
        (4, 1, 4)
    );
    assert_eq!(out.summary.end, "5m");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_bundled_scenario_and_template_loads() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for entry in std::fs::read_dir(examples.join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "empty-cluster.yaml" {
            let c = LoadedCluster::load(&path, LoadOptions::default()).unwrap();
            assert_eq!(c.state.num_nodes(), 0);
            continue;
        }
        // Every example loads on a fresh clone, the OpenB one included (its trace sample ships
        // in examples/data/openb).
        match Scenario::load(&path) {
            Ok(s) => assert!(!s.is_empty(), "{name} has no events"),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    for entry in std::fs::read_dir(examples.join("templates")).unwrap() {
        let path = entry.unwrap().path();
        NodeTemplateFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_pending_pod_being_deleted_is_never_scheduled() {
    // upstream scheduleOne: "skip schedule deleting pod". n1 has room for both; only `live`
    // is scheduled, `going` ends deleted (while waiting) with the reason.
    let going = pod("going", 1, None, 0).replacen(
        "namespace: default}",
        "namespace: default, deletionTimestamp: \"2026-01-01T00:00:00Z\"}",
        1,
    );
    let input = cluster(&[node("n1", 4), going, pod("live", 1, None, 0)]);
    let out = run(&input, &Request::default());
    assert_eq!(node_of(&out, "default/live"), Some("n1"));
    assert_eq!(status_of(&out, "default/going"), PodStatus::Deleted);
    let going = out.pods.iter().find(|p| p.pod == "default/going").unwrap();
    assert!(
        going
            .message
            .as_deref()
            .unwrap()
            .contains("deletionTimestamp"),
        "{going:?}"
    );
    assert_eq!(
        (out.summary.deleted_waiting, out.summary.unschedulable),
        (1, 0)
    );
    assert_eq!(pods_on(&out, "n1"), 1);
}

fn class(name: &str, value: i32, global_default: bool) -> String {
    format!(
        "- kind: PriorityClass\n  apiVersion: scheduling.k8s.io/v1\n  metadata: {{name: {name}}}\n  value: {value}\n  globalDefault: {global_default}\n"
    )
}

/// `pod(...)` without `priority`, naming `class` (or none).
fn classed(name: &str, cpu: u32, node: Option<&str>, class: Option<&str>) -> String {
    let node = node.map(|n| format!("nodeName: {n}, ")).unwrap_or_default();
    let class = class
        .map(|c| format!("priorityClassName: {c}, "))
        .unwrap_or_default();
    format!(
        "- kind: Pod\n  metadata: {{name: {name}, namespace: default}}\n  spec: {{{node}{class}\
         containers: [{{name: c, resources: {{requests: {{cpu: \"{cpu}\", memory: 1Gi}}}}}}]}}\n"
    )
}

fn load_err(items: &[String]) -> String {
    let mut text = String::from("kind: List\nitems:\n");
    for i in items {
        text.push_str(i);
    }
    let snap = Snapshot::from_text(&text, "cluster.yaml", LoadOptions::default()).unwrap();
    match LoadedCluster::from_snapshot(snap, LoadOptions::default()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn priority_classes_give_pods_their_priority_as_admission_does() {
    // upstream Priority admission: `high` (1000) makes the pending pod preempt the running one
    // (no class: the globalDefault `low`, 10); system-node-critical exists without an object.
    let input = cluster(&[
        class("low", 10, true),
        class("high", 1000, false),
        node("n1", 4),
        classed("running", 3, Some("n1"), None),
        classed("urgent", 3, None, Some("high")),
    ]);
    let out = run(&input, &Request::default());
    assert_eq!(
        out.summary.loaded.priority_classes, 2,
        "the system classes are not counted"
    );
    assert_eq!(node_of(&out, "default/urgent"), Some("n1"));
    assert_eq!(out.summary.preemptions, 1);
    // The globalDefault gives the running pod 10: a pod of the default class cannot preempt it.
    let input = cluster(&[
        class("low", 10, true),
        node("n1", 4),
        classed("running", 3, Some("n1"), None),
        classed("peer", 3, None, None),
        classed("critical", 3, None, Some("system-node-critical")),
    ]);
    let out = run(&input, &Request::default());
    assert_eq!(node_of(&out, "default/critical"), Some("n1"));
    assert_eq!(status_of(&out, "default/peer"), PodStatus::Unschedulable);
}

#[test]
fn an_unknown_priority_class_or_a_contradicting_priority_is_an_error_naming_the_field() {
    let e = load_err(&[node("n1", 4), classed("p", 1, None, Some("gold"))]);
    assert!(
        e.contains("Pod default/p")
            && e.contains("spec.priorityClassName")
            && e.contains("no PriorityClass with name gold was found"),
        "{e}"
    );
    let contradicting = classed("p", 1, None, Some("high")).replace(
        "priorityClassName: high, ",
        "priorityClassName: high, priority: 5, ",
    );
    let e = load_err(&[class("high", 1000, false), node("n1", 4), contradicting]);
    assert!(
        e.contains("spec.priority") && e.contains("computed 1000"),
        "{e}"
    );
}

#[test]
fn a_pending_pod_named_like_a_running_one_is_reported_not_dropped() {
    let e = load_err(&[
        node("n1", 4),
        pod("a", 1, Some("n1"), 0),
        pod("a", 1, None, 0),
    ]);
    assert!(
        e.contains("Pod default/a") && e.contains("appears twice"),
        "{e}"
    );
}

#[test]
fn an_empty_snapshot_is_an_error_but_an_empty_list_is_an_empty_cluster() {
    for text in ["", "\n# only a comment\n", "---\n---\n"] {
        let e = Snapshot::from_text(text, "cluster.yaml", LoadOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{text:?} should fail"))
            .to_string();
        assert!(
            e.starts_with("cluster.yaml: no Kubernetes objects found"),
            "{e}"
        );
    }
    let empty_list = "apiVersion: v1\nkind: List\nitems: []\n";
    assert!(Snapshot::from_text(empty_list, "cluster.yaml", LoadOptions::default()).is_ok());
}

#[test]
fn pods_of_another_scheduler_are_listed_apart_not_unschedulable_nor_planned_for() {
    // `theirs` names a schedulerName no profile has: upstream's default-scheduler profile
    // leaves it to its scheduler; it is neither unschedulable nor a reason to add nodes.
    let theirs = pod("theirs", 1, None, 0).replacen("spec: {", "spec: {schedulerName: batch, ", 1);
    let input = cluster(&[node("n1", 4), pod("ours", 1, None, 0), theirs]);
    let out = run(&input, &Request::default());
    assert_eq!(node_of(&out, "default/ours"), Some("n1"));
    assert_eq!(status_of(&out, "default/theirs"), PodStatus::OtherScheduler);
    let theirs = out.pods.iter().find(|p| p.pod == "default/theirs").unwrap();
    assert!(
        theirs.message.as_deref().unwrap().contains("\"batch\""),
        "{theirs:?}"
    );
    assert_eq!(
        (
            out.summary.pods,
            out.summary.scheduled,
            out.summary.unschedulable,
            out.summary.other_scheduler
        ),
        (2, 1, 0, 1)
    );
    assert!(out.unschedulable.is_empty());
    let json = out.to_json();
    assert!(json.contains("\"status\": \"other_scheduler\""), "{json}");
    assert!(
        out.to_table().contains("1 left to another scheduler"),
        "{}",
        out.to_table()
    );
}

#[test]
fn scenario_pods_are_admitted_with_the_snapshots_priority_classes() {
    // A created pod naming `high` gets 1000 and preempts the running pod (default class 0);
    // naming a class the snapshot lacks is an error at the event.
    let input = cluster(&[
        class("high", 1000, false),
        node("n1", 4),
        classed("running", 3, Some("n1"), None),
    ]);
    let req = with_scenario(
        "templates:\n  pods:\n    urgent:\n      spec: {priorityClassName: high, containers: [{name: c, resources: {requests: {cpu: \"3\"}}}]}\n\
         events:\n- at: 1s\n  createPods: {template: urgent}\n",
    );
    let out = run(&input, &req);
    assert_eq!(node_of(&out, "default/urgent-1"), Some("n1"));
    assert_eq!(out.summary.preemptions, 1);
    let req = with_scenario(
        "templates:\n  pods:\n    gold:\n      spec: {priorityClassName: gold, containers: [{name: c}]}\n\
         events:\n- at: 1s\n  createPods: {template: gold}\n",
    );
    let e = simulator::simulate(&input, &req, &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spec.priorityClassName") && e.contains("no PriorityClass with name gold"),
        "{e}"
    );
}

#[test]
fn times_and_counts_are_bounded_with_the_field_in_the_error() {
    // `at` near i64::MAX would wrap the virtual clock; a huge count in a few bytes would ask for
    // unbounded memory: both are errors naming the field.
    let cases = [
        (
            "events:\n- at: 9223372036854775s\n  cordon: n1\n",
            "events[0].at",
            "is too long",
        ),
        (
            "templates:\n  pods:\n    w:\n      spec: {containers: [{name: c}]}\nevents:\n- at: 0s\n  createPods: {template: w, count: 100000000}\n",
            "events[0].createPods.count",
            "at most 1000000 objects per event",
        ),
        (
            "templates:\n  pods:\n    w:\n      spec: {containers: [{name: c}]}\nevents:\n- at: 0s\n  createPods: {template: w, duration: 1e300}\n",
            "events[0].createPods.duration",
            "is too long",
        ),
    ];
    for (text, field, want) in cases {
        let e = Scenario::from_text(text, "scenario.yaml", Path::new("."))
            .err()
            .unwrap_or_else(|| panic!("{text} should fail"))
            .to_string();
        assert!(e.contains(field) && e.contains(want), "{text}: {e}");
    }
    // 100 years is still fine.
    assert!(
        Scenario::from_text(
            "events:\n- at: 36500d\n  cordon: n1\n",
            "scenario.yaml",
            Path::new(".")
        )
        .is_ok()
    );
}
