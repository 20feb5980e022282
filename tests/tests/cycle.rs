//! The scheduling cycle with the default profile, end to end through public APIs.
//! Messages are upstream's `FitError.Error()` text, including DefaultPreemption's suffix.

use placer_tests::{Harness, node, pod, running};
use sched_core::scheduler::{NodeOutcome, ScheduleError};
use serde_json::json;

fn taint() -> serde_json::Value {
    json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
}

#[test]
fn fit_error_histogram_and_preemption_suffix() {
    // The brief's example: 2 nodes lack free cpu, 3 have untolerated taints.
    let nodes = vec![
        node("a", "4", "4Gi", json!({}), json!([])),
        node("b", "4", "4Gi", json!({}), json!([])),
        node("c", "8", "4Gi", json!({}), taint()),
        node("d", "8", "4Gi", json!({}), taint()),
        node("e", "8", "4Gi", json!({}), taint()),
    ];
    let pods = vec![
        running("x", "a", "3", "1Gi", 0),
        running("y", "b", "3", "1Gi", 0),
    ];
    let mut h = Harness::new(&nodes, &pods, None, 1);
    let err = h.place(pod("big", "2", "1Gi")).unwrap_err();
    // Full nodes are Unschedulable, so preemption is tried there (no lower-priority victims);
    // taints are UnschedulableAndUnresolvable: preemption is not helpful.
    assert_eq!(
        err,
        "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint(s). \
         preemption: 0/5 nodes are available: 2 No preemption victims found for incoming pod, \
         3 Preemption is not helpful for scheduling."
    );
}

#[test]
fn a_request_beyond_allocatable_is_not_helped_by_preemption() {
    // upstream fit.go: a request larger than the node's allocatable is UnschedulableAndUnresolvable.
    let nodes = vec![node("a", "1", "4Gi", json!({}), json!([]))];
    let mut h = Harness::new(&nodes, &[], None, 1);
    assert_eq!(
        h.place(pod("big", "2", "1Gi")).unwrap_err(),
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: \
         1 Preemption is not helpful for scheduling."
    );
}

#[test]
fn histogram_sorts_strings_bytewise() {
    // upstream sorts "<count> <reason>" strings, so "10 …" sorts before "2 …".
    let mut nodes = Vec::new();
    for i in 0..10 {
        nodes.push(node(
            &format!("small-{i}"),
            "1",
            "4Gi",
            json!({}),
            json!([]),
        ));
    }
    nodes.push(node("t1", "8", "4Gi", json!({}), taint()));
    nodes.push(node("t2", "8", "4Gi", json!({}), taint()));
    let config = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n  plugins:\n    postFilter:\n      disabled: [{name: DefaultPreemption}]\n";
    let mut h = Harness::new(&nodes, &[], Some(config), 1);
    let err = h.place(pod("big", "2", "1Gi")).unwrap_err();
    // Without a PostFilter plugin there is no preemption suffix.
    assert_eq!(
        err,
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint(s)."
    );
}

#[test]
fn a_node_with_two_failing_resources_counts_twice() {
    // upstream TestSchedulerFailedSchedulingReasons: every reason of every node is counted.
    let nodes = vec![
        node("a", "1", "1Gi", json!({}), json!([])),
        node("b", "1", "1Gi", json!({}), json!([])),
    ];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let err = h.place(pod("big", "2", "2Gi")).unwrap_err();
    assert!(
        err.starts_with("0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. "),
        "{err}"
    );
}

#[test]
fn preemption_nominates_a_node_when_evicting_lower_priority_pods_helps() {
    let nodes = vec![node("a", "2", "4Gi", json!({}), json!([]))];
    let pods = vec![running("low", "a", "1500m", "1Gi", 0)];
    let mut h = Harness::new(&nodes, &pods, None, 1);
    let mut p = pod("urgent", "1", "1Gi");
    p["spec"]["priority"] = json!(1000);
    let pod = h.pod(p);
    match h.scheduler.schedule(&pod, &h.state) {
        Err(ScheduleError::Unschedulable(fit)) => {
            let (node, victims) = fit.diagnosis.nomination.clone().expect("nominated");
            assert_eq!(&*h.state.node(node).info.name, "a");
            assert_eq!(
                victims.iter().map(|v| &**v).collect::<Vec<_>>(),
                vec!["default/low"]
            );
            // upstream: a successful PostFilter adds nothing to the message.
            assert_eq!(
                fit.message(),
                "0/1 nodes are available: 1 Insufficient cpu."
            );
        }
        other => panic!("expected a nomination, got {other:?}"),
    }
}

#[test]
fn preemption_policy_never_is_not_eligible() {
    let nodes = vec![node("a", "1", "4Gi", json!({}), json!([]))];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let mut p = pod("p", "2", "1Gi");
    p["spec"]["preemptionPolicy"] = json!("Never");
    assert_eq!(
        h.place(p).unwrap_err(),
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    );
}

#[test]
fn match_fields_narrowing_reports_absent_nodes() {
    // upstream: NodeAffinity PreFilter narrows to metadata.name In [..]; other nodes get
    // "node(s) didn't satisfy plugin(s) [NodeAffinity]".
    let nodes = vec![
        node("a", "1", "4Gi", json!({}), json!([])),
        node("b", "8", "4Gi", json!({}), json!([])),
        node("c", "8", "4Gi", json!({}), json!([])),
    ];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let mut p = pod("p", "2", "1Gi");
    p["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a"]}]}]}}});
    let err = h.place(p.clone()).unwrap_err();
    assert!(
        err.starts_with(
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        ),
        "{err}"
    );
    let eval = h.explain(p);
    match &eval.nodes[1].1 {
        NodeOutcome::Rejected { plugin, rejection } => {
            assert_eq!(*plugin, "NodeAffinity");
            assert_eq!(
                rejection.message(),
                "node(s) didn't satisfy plugin(s) [NodeAffinity]"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_single_feasible_node_is_chosen_without_scoring() {
    let nodes = vec![
        node("a", "1", "4Gi", json!({}), json!([])),
        node("b", "4", "4Gi", json!({}), json!([])),
    ];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let eval = h.explain(pod("p", "2", "1Gi"));
    assert_eq!(&*eval.result.as_ref().unwrap().node_name, "b");
    assert!(eval.scores.plugins.is_empty(), "no Score plugin ran");
}

#[test]
fn least_allocated_prefers_the_emptier_node() {
    let nodes = vec![
        node("a", "4", "8Gi", json!({}), json!([])),
        node("b", "4", "8Gi", json!({}), json!([])),
    ];
    let pods = vec![running("x", "a", "3", "6Gi", 0)];
    let mut h = Harness::new(&nodes, &pods, None, 1);
    assert_eq!(h.place(pod("p", "500m", "1Gi")).unwrap(), "b");
}

#[test]
fn pods_needing_unbuilt_plugins_are_reported_not_placed() {
    let nodes = vec![node("a", "4", "8Gi", json!({}), json!([]))];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let mut p = pod("p", "100m", "1Gi");
    p["spec"]["volumes"] =
        json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]);
    let err = h.place(p).unwrap_err();
    assert!(
        err.starts_with(
            "0/1 nodes are available: pod uses persistentVolumeClaim or ephemeral volumes, which \
             needs plugin VolumeBinding: not implemented in Placer."
        ),
        "{err}"
    );
}

#[test]
fn topology_spread_constraints_run_through_the_cycle() {
    // PodTopologySpread is built: a node without the topology key is unresolvable, and a
    // skewed zone is avoided.
    let nodes = vec![
        node("a", "4", "8Gi", json!({}), json!([])),
        node("b", "4", "8Gi", json!({"zone": "z1"}), json!([])),
        node("c", "4", "8Gi", json!({"zone": "z2"}), json!([])),
    ];
    let mut running_b = running("x", "b", "100m", "1Gi", 0);
    running_b["metadata"]["labels"] = json!({"app": "web"});
    let mut h = Harness::new(&nodes, &[running_b], None, 1);
    let mut p = pod("p", "100m", "1Gi");
    p["metadata"]["labels"] = json!({"app": "web"});
    p["spec"]["topologySpreadConstraints"] = json!([{"maxSkew": 1, "topologyKey": "zone",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}]);
    assert_eq!(h.place(p.clone()).unwrap(), "c");
    let mut h = Harness::new(&nodes[..1], &[], None, 1);
    let err = h.place(p).unwrap_err();
    assert!(
        err.starts_with(
            "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label)."
        ),
        "{err}"
    );
}

#[test]
fn disabling_the_plugin_drops_its_constraint_as_upstream() {
    let nodes = vec![node("a", "4", "8Gi", json!({}), json!([]))];
    let config = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n  plugins:\n    multiPoint:\n      disabled: [{name: PodTopologySpread}]\n";
    let mut h = Harness::new(&nodes, &[], Some(config), 1);
    let mut p = pod("p", "100m", "1Gi");
    p["spec"]["topologySpreadConstraints"] =
        json!([{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]);
    assert_eq!(h.place(p).unwrap(), "a");
}

#[test]
fn scheduling_gates_keep_a_pod_out() {
    let nodes = vec![node("a", "4", "8Gi", json!({}), json!([]))];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let mut p = pod("p", "100m", "1Gi");
    p["spec"]["schedulingGates"] = json!([{"name": "example.com/wait"}]);
    let pod = h.pod(p);
    assert!(matches!(
        h.scheduler.schedule(&pod, &h.state),
        Err(ScheduleError::NotReady {
            plugin: "SchedulingGates",
            ..
        })
    ));
}

#[test]
fn unknown_scheduler_name_is_a_clear_error() {
    let nodes = vec![node("a", "4", "8Gi", json!({}), json!([]))];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let mut p = pod("p", "100m", "1Gi");
    p["spec"]["schedulerName"] = json!("my-scheduler");
    assert_eq!(
        h.place(p).unwrap_err(),
        "pod default/p: no profile schedules schedulerName \"my-scheduler\" (profiles: default-scheduler)"
    );
}

#[test]
fn num_feasible_nodes_to_find_follows_upstream() {
    // upstream: schedule_one_test.go TestNumFeasibleNodesToFind.
    let h = Harness::new(&[], &[], None, 1);
    let profile = &h.scheduler.profiles()[0];
    for (nodes, want) in [
        (10, 10),
        (99, 99),
        (100, 100),
        (1000, 420),
        (5000, 500),
        (6000, 300),
        (20000, 1000),
    ] {
        assert_eq!(
            h.scheduler.num_feasible_nodes_to_find(profile, nodes),
            want,
            "{nodes} nodes"
        );
    }
}

#[test]
fn empty_cluster_has_no_nodes_available() {
    let mut h = Harness::new(&[], &[], None, 1);
    assert_eq!(
        h.place(pod("p", "1", "1Gi")).unwrap_err(),
        "no nodes available to schedule pods"
    );
}

#[test]
fn filtering_stops_exactly_at_num_feasible_nodes_to_find() {
    // 1000 nodes, every third tainted: upstream finds 420 feasible nodes (42%) and stops. The
    // 420th feasible node is index 628, so 629 nodes are processed (209 rejected), whichever
    // way the batches are split between threads; the next cycle starts at node 629.
    let nodes: Vec<_> = (0..1000)
        .map(|i| {
            let taints = if i % 3 == 2 { taint() } else { json!([]) };
            node(&format!("n{i:04}"), "4", "8Gi", json!({}), taints)
        })
        .collect();
    // Sequential, and parallel in small chunks: the same nodes are processed and chosen.
    let mut chosen = Vec::new();
    for threshold in [usize::MAX, 64] {
        let mut h = Harness::new(&nodes, &[], None, 1);
        h.scheduler.set_parallel_threshold(threshold);
        let p = h.pod(pod("p", "100m", "128Mi"));
        let placed = h.scheduler.schedule(&p, &h.state).unwrap();
        assert_eq!(
            (placed.feasible_nodes, placed.evaluated_nodes),
            (420, 629),
            "threshold {threshold}"
        );
        let first = placed.node_name;
        // Second cycle starts at 629: nodes 629..=999 hold 247 feasible (124 rejected), then it
        // wraps to 0 for 173 more (86 rejected): 630 processed.
        let placed = h.scheduler.schedule(&p, &h.state).unwrap();
        assert_eq!(
            (placed.feasible_nodes, placed.evaluated_nodes),
            (420, 630),
            "threshold {threshold}"
        );
        let explained = h.explain(pod("p", "100m", "128Mi"));
        assert_eq!(explained.nodes.len(), 1000);
        chosen.push((first, placed.node_name, explained.result.unwrap().node_name));
    }
    assert_eq!(
        chosen[0], chosen[1],
        "the parallel path decides exactly as the sequential one"
    );
}

#[test]
fn a_running_pods_required_anti_affinity_keeps_selected_pods_off_its_domain() {
    // upstream InterPodAffinity: a node in the topology domain of a running pod whose required
    // anti-affinity selects the incoming pod fails (Unschedulable) with
    // "node(s) didn't satisfy existing pods anti-affinity rules".
    let host = |n: &str| json!({"kubernetes.io/hostname": n});
    let nodes = vec![
        node("a", "8", "8Gi", host("a"), json!([])),
        node("b", "8", "8Gi", host("b"), json!([])),
    ];
    let mut guard = running("db-0", "a", "1", "1Gi", 0);
    guard["metadata"]["namespace"] = json!("data");
    guard["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "db"}}}]}});
    let mut db1 = pod("db-1", "1", "1Gi");
    db1["metadata"]["namespace"] = json!("data");
    db1["metadata"]["labels"] = json!({"app": "db"});
    let mut h = Harness::new(&nodes, std::slice::from_ref(&guard), None, 1);
    assert_eq!(h.place(db1.clone()), Ok("b".to_string()));
    // With node a only, the pod does not fit.
    let mut one = Harness::new(&nodes[..1], &[guard], None, 1);
    let err = one.place(db1.clone()).unwrap_err();
    assert!(
        err.starts_with(
            "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules."
        ),
        "{err}"
    );
    // Other labels, or another namespace (the term applies to its own namespace): unaffected.
    let mut web = db1.clone();
    web["metadata"]["labels"] = json!({"app": "web"});
    assert_eq!(one.place(web), Ok("a".to_string()));
    let mut elsewhere = db1;
    elsewhere["metadata"]["namespace"] = json!("default");
    assert_eq!(one.place(elsewhere), Ok("a".to_string()));
}

#[test]
fn nominated_pods_of_higher_or_equal_priority_hold_their_room() {
    // upstream RunFilterPluginsWithNominatedPods: a node is filtered with the pods nominated
    // to it of priority >= the incoming pod's added; lower-priority nominations are ignored.
    let nodes = vec![
        node("a", "4", "4Gi", json!({}), json!([])),
        node("b", "4", "4Gi", json!({}), json!([])),
    ];
    let mut h = Harness::new(&nodes, &[], None, 1);
    let a = h.state.node_id("a").unwrap();
    let b = h.state.node_id("b").unwrap();
    let mut big = pod("nominee", "3", "1Gi");
    big["spec"]["priority"] = json!(10);
    let nominee = h.pod(big);
    h.state.nominate(nominee.clone(), a);
    let other = h.pod(pod("other", "3", "1Gi"));
    h.state.nominate(other, b);
    // Priority 10 holds a: only b is left, where a priority-0 nomination does not count for
    // a priority-5 pod but does for a priority-0 one.
    let mut p5 = pod("p5", "2", "1Gi");
    p5["spec"]["priority"] = json!(5);
    assert_eq!(h.place(p5).unwrap(), "b");
    let err = h.place(pod("p0", "2", "1Gi")).unwrap_err();
    assert!(
        err.starts_with("0/2 nodes are available: 2 Insufficient cpu."),
        "{err}"
    );
    // explain shows the rejection found with the nominated pod added.
    let eval = h.explain(pod("p0b", "2", "1Gi"));
    let NodeOutcome::Rejected { plugin, rejection } = &eval.nodes[0].1 else {
        panic!("a should be rejected: {:?}", eval.nodes[0]);
    };
    assert_eq!(
        (*plugin, rejection.message().as_str()),
        ("NodeResourcesFit", "Insufficient cpu")
    );
    // The nominated pod itself is not blocked by its own nomination; binding clears it.
    assert_eq!(
        h.scheduler
            .schedule(&nominee, &h.state)
            .unwrap()
            .feasible_nodes,
        2
    );
    h.state.assume(nominee, a).unwrap();
    assert_eq!(h.state.nominated_pods(a).len(), 0);
    assert!(h.state.clear_nomination("default/other"));
    assert!(!h.state.has_nominations());
}

#[test]
fn preemption_picks_the_node_whose_highest_priority_victims_started_latest() {
    // upstream pickOneNodeForPreemption's fifth rule (latestStartTimeScoreFunc): two full nodes
    // tie on highest victim priority, priority sum and victim count; the victim on b started
    // later (`status.startTime`), so b is chosen, whatever the node order.
    let nodes = vec![
        node("a", "1", "4Gi", json!({}), json!([])),
        node("b", "1", "4Gi", json!({}), json!([])),
    ];
    let started = |name: &str, node: &str, at: &str| {
        let mut p = running(name, node, "1", "1Gi", 0);
        p["status"] = json!({"phase": "Running", "startTime": at});
        p
    };
    for (a_start, b_start, want) in [
        ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "b"),
        ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "a"),
    ] {
        let pods = vec![started("va", "a", a_start), started("vb", "b", b_start)];
        let mut h = Harness::new(&nodes, &pods, None, 1);
        let mut p = pod("urgent", "1", "1Gi");
        p["spec"]["priority"] = json!(1000);
        let p = h.pod(p);
        let err = h.scheduler.schedule(&p, &h.state).unwrap_err();
        let (node, _) = err
            .fit_error()
            .unwrap()
            .diagnosis
            .nomination
            .clone()
            .unwrap();
        assert_eq!(
            &*h.state.node(node).info.name,
            want,
            "{a_start} vs {b_start}"
        );
    }
}

#[test]
fn preemption_reprieves_the_victim_that_started_first() {
    // upstream MoreImportantPod: equal priority, the earlier status.startTime is more important
    // and is reprieved first. a (2 cpu) runs two 1-cpu pods of priority 0; the preemptor needs
    // 1 cpu: one victim is enough, and it is the one that started later.
    let nodes = vec![node("a", "2", "4Gi", json!({}), json!([]))];
    let mut early = running("early", "a", "1", "1Gi", 0);
    early["status"] = json!({"phase": "Running", "startTime": "2026-01-01T00:00:00Z"});
    let mut late = running("late", "a", "1", "1Gi", 0);
    late["status"] = json!({"phase": "Running", "startTime": "2026-01-02T00:00:00Z"});
    for pods in [vec![early.clone(), late.clone()], vec![late, early]] {
        let mut h = Harness::new(&nodes, &pods, None, 1);
        let mut p = pod("urgent", "1", "1Gi");
        p["spec"]["priority"] = json!(1000);
        let p = h.pod(p);
        let err = h.scheduler.schedule(&p, &h.state).unwrap_err();
        let (_, victims) = err
            .fit_error()
            .unwrap()
            .diagnosis
            .nomination
            .clone()
            .unwrap();
        assert_eq!(
            victims.iter().map(|v| &**v).collect::<Vec<_>>(),
            ["default/late"]
        );
    }
}

#[test]
fn preemption_dry_runs_only_upstreams_candidate_sample() {
    // upstream DefaultPreemption: calculateNumCandidates = max(nodes * minCandidateNodesPercentage
    // / 100, minCandidateNodesAbsolute), capped at the potential nodes, from a random offset (here
    // the seed's). Ten full nodes, each with one victim of priority i: with every node a
    // candidate, the node whose victim has the lowest priority wins; with one candidate, the
    // node at the offset does.
    let nodes: Vec<_> = (0..10)
        .map(|i| node(&format!("n{i}"), "1", "4Gi", json!({}), json!([])))
        .collect();
    let running_pods: Vec<_> = (0..10)
        .map(|i| running(&format!("v{i}"), &format!("n{i}"), "1", "1Gi", 10 - i))
        .collect();
    let mut high = pod("preemptor", "1", "1Gi");
    high["spec"]["priority"] = json!(100);
    let nominated = |h: &mut Harness| {
        let p = h.pod(high.clone());
        let err = h.scheduler.schedule(&p, &h.state).unwrap_err();
        let (node, victims) = err
            .fit_error()
            .unwrap()
            .diagnosis
            .nomination
            .clone()
            .unwrap();
        (h.state.node(node).info.name.to_string(), victims)
    };
    let mut all = Harness::new(&nodes, &running_pods, None, 1);
    let (node, victims) = nominated(&mut all);
    assert_eq!(node, "n9", "lowest victim priority among all ten");
    assert_eq!(victims.len(), 1);
    let one = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n  pluginConfig:\n  - name: DefaultPreemption\n    args: {minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1}\n";
    let mut picked = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let mut h = Harness::new(&nodes, &running_pods, Some(one), seed);
        let first = nominated(&mut h).0;
        // The same seed decides the same offset.
        let mut again = Harness::new(&nodes, &running_pods, Some(one), seed);
        assert_eq!(nominated(&mut again).0, first);
        picked.insert(first);
    }
    assert!(picked.len() > 3, "offsets vary with the seed: {picked:?}");
}

#[test]
fn preemption_dry_run_sees_a_victims_removal_through_inter_pod_affinity_remove_pod() {
    // upstream RemovePod: the incoming pod's required anti-affinity to app=db (hostname) fails
    // on the only node while the low-priority db pod runs there; the dry run removes it and
    // InterPodAffinity's PreFilter state must follow, or the node would still fail and
    // preemption would report "not helpful".
    let nodes = vec![node(
        "a",
        "4",
        "4Gi",
        json!({"kubernetes.io/hostname": "a"}),
        json!([]),
    )];
    let mut db = running("db", "a", "100m", "100Mi", 0);
    db["metadata"]["labels"] = json!({"app": "db"});
    let mut h = Harness::new(&nodes, &[db], None, 1);
    let mut p = pod("urgent", "100m", "100Mi");
    p["spec"]["priority"] = json!(1000);
    p["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "db"}}}]}});
    let pod = h.pod(p);
    match h.scheduler.schedule(&pod, &h.state) {
        Err(ScheduleError::Unschedulable(fit)) => {
            assert_eq!(
                fit.message(),
                "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules."
            );
            let (node, victims) = fit.diagnosis.nomination.clone().expect("nominated");
            assert_eq!(&*h.state.node(node).info.name, "a");
            assert_eq!(
                victims.iter().map(|v| &**v).collect::<Vec<_>>(),
                vec!["default/db"]
            );
        }
        other => panic!("expected a nomination, got {other:?}"),
    }
}

#[test]
fn queueing_events_are_the_rejecting_plugins_registrations() {
    // upstream EventsToRegister (queueing hints on) and isPodWorthRequeuing: a pod is moved
    // only by events some plugin that rejected it registered; none named means any event.
    use sched_core::framework::ClusterEvents as C;
    let h = Harness::new(&[], &[], None, 1);
    let profile = &h.scheduler.profiles()[0];
    let fit = profile.events_for(["NodeResourcesFit"]);
    assert!(fit.contains(C::NODE_ADD | C::NODE_ALLOCATABLE | C::ASSIGNED_POD_DELETE));
    assert!(!fit.intersects(C::ASSIGNED_POD_ADD | C::NODE_LABEL));
    let affinity = profile.events_for(["InterPodAffinity"]);
    assert!(affinity.contains(C::ASSIGNED_POD_ADD | C::ASSIGNED_POD_LABEL | C::NODE_LABEL));
    let both = profile.events_for(["NodeResourcesFit", "TaintToleration"]);
    assert!(both.contains(fit) && both.contains(C::UNSCHEDULED_POD_UPDATE));
    assert_eq!(profile.events_for([]), C::ALL);
    assert_eq!(profile.events_for(["NotInTheProfile"]), C::ALL);
    assert_eq!(
        profile.events_for(["SchedulingGates"]),
        C::UNSCHEDULED_POD_UPDATE
    );
}

#[test]
fn preemption_dry_run_counts_pods_nominated_to_the_node() {
    // upstream SelectVictimsOnNode runs RunFilterPluginsWithNominatedPods: a (4 cpu) runs low
    // (3 cpu, priority 0) and has nominee (2 cpu, priority 500) nominated to it. urgent (3 cpu,
    // priority 100) would fit once low is evicted, but not beside the nominee: no candidate.
    // Without the nomination it preempts low.
    let nodes = vec![node("a", "4", "4Gi", json!({}), json!([]))];
    let pods = vec![running("low", "a", "3", "1Gi", 0)];
    let mut urgent = pod("urgent", "3", "1Gi");
    urgent["spec"]["priority"] = json!(100);
    let mut plain = Harness::new(&nodes, &pods, None, 1);
    let p = plain.pod(urgent.clone());
    let err = plain.scheduler.schedule(&p, &plain.state).unwrap_err();
    assert!(err.fit_error().unwrap().diagnosis.nomination.is_some());

    let mut h = Harness::new(&nodes, &pods, None, 1);
    let a = h.state.node_id("a").unwrap();
    let mut nominee = pod("nominee", "2", "1Gi");
    nominee["spec"]["priority"] = json!(500);
    let nominee = h.pod(nominee);
    h.state.nominate(nominee, a);
    let p = h.pod(urgent);
    let err = h.scheduler.schedule(&p, &h.state).unwrap_err();
    let fit = err.fit_error().unwrap();
    assert!(fit.diagnosis.nomination.is_none(), "{}", fit.message());
    assert_eq!(
        fit.message(),
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: \
         1 Insufficient cpu."
    );
}

#[test]
fn a_scheduler_refuses_a_state_whose_interner_it_was_not_built_with() {
    // Sym ids are per interner: a scheduler whose plugins interned "zone" or a selector value
    // in one state would compare other strings in another. It must refuse, not decide.
    let nodes = vec![
        node("a", "4", "8Gi", json!({"disk": "ssd"}), json!([])),
        node("b", "4", "8Gi", json!({}), json!([])),
    ];
    let mut h = Harness::new(&nodes, &[], None, 0);
    let mut selective = pod("p", "1", "1Gi");
    selective["spec"]["nodeSelector"] = json!({"disk": "ssd"});
    // A clone of the state taken after the scheduler was built shares its symbols.
    let mut clone = h.state.clone();
    let p = clone
        .convert_pod(&serde_json::from_value(selective.clone()).unwrap())
        .unwrap();
    let placed = h
        .scheduler
        .schedule(&p, &clone)
        .expect("a clone is accepted");
    assert_eq!(&*placed.node_name, "a");
    // A state built apart, with the same nodes, is refused with a typed error.
    let other = Harness::new(&nodes, &[], None, 0);
    let mut foreign = other.state;
    let q = foreign
        .convert_pod(&serde_json::from_value(selective).unwrap())
        .unwrap();
    let err = h.scheduler.schedule(&q, &foreign).unwrap_err();
    assert!(matches!(err, ScheduleError::ForeignState), "{err}");
    assert!(matches!(
        h.scheduler.explain(&q, &foreign).result,
        Err(ScheduleError::ForeignState)
    ));
    // The original state still works.
    assert_eq!(h.place(pod("r", "1", "1Gi")).unwrap().len(), 1);
}
