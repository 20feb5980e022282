//! Properties of the cycle on random clusters: a chosen node passes every filter and never
//! exceeds allocatable; scores lie in 0..=100; the same seed gives the same choice; `explain`
//! selects what `schedule` selects with `percentageOfNodesToScore: 100`; every score plugin's
//! batch `score_nodes` gives what `score` gives node by node, and every filter's batch
//! `filter_nodes` what `filter` gives.

use placer_tests::Harness;
use proptest::prelude::*;
use sched_core::framework::{ClusterView, CycleState};
use sched_core::scheduler::NodeOutcome;
use serde_json::{Value, json};

fn arb_node(i: usize) -> impl Strategy<Value = Value> {
    (1u32..16, 1u32..32, 0u8..5, any::<bool>(), 0u8..3, 0u64..3, 0u8..8).prop_map(move |(cpu, mem, taint, ssd, zone, image, cordon)| {
        let taints = match taint {
            0 => json!([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]),
            1 => json!([{"key": "soft", "effect": "PreferNoSchedule"}]),
            2 => json!([{"key": "soft", "effect": "PreferNoSchedule"}, {"key": "dedicated", "value": "x", "effect": "NoExecute"}, {"key": "gpu", "effect": "NoSchedule"}]),
            _ => json!([]),
        };
        json!({
            "metadata": {"name": format!("n{i}"), "labels": {"disk": if ssd {"ssd"} else {"hdd"}, "zone": format!("z{zone}"), "kubernetes.io/hostname": format!("n{i}")}},
            "spec": {"taints": taints, "unschedulable": cordon == 0},
            "status": {
                "allocatable": {"cpu": cpu.to_string(), "memory": format!("{mem}Gi"), "pods": "8"},
                "images": if image == 0 { json!([]) } else { json!([{"names": ["app:1"], "sizeBytes": image * 300_000_000}]) }
            }
        })
    })
}

fn arb_pod(name: String) -> impl Strategy<Value = Value> {
    (0u32..4000, 0u32..8192, any::<bool>(), any::<bool>(), 0u8..3, 0u8..6, any::<bool>()).prop_map(move |(cpu, mem, tol, sel, pref, spread, app)| {
        let mut spec = json!({"containers": [{"name": "c", "image": "app:1", "resources": {"requests": {"cpu": format!("{cpu}m"), "memory": format!("{mem}Mi")}}}]});
        if tol {
            spec["tolerations"] = json!([{"key": "dedicated", "operator": "Exists"}]);
        }
        if sel {
            spec["nodeSelector"] = json!({"disk": "ssd"});
        }
        if pref > 0 {
            spec["affinity"] = json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": [format!("z{pref}")]}]}}]}});
        }
        // Topology spread (PodTopologySpread): hard/soft zone and hostname constraints.
        let app_sel = json!({"matchLabels": {"app": "a"}});
        let c = |skew: i32, key: &str, when: &str| json!({"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when, "labelSelector": app_sel});
        spec["topologySpreadConstraints"] = match spread {
            1 => json!([c(1, "zone", "DoNotSchedule")]),
            2 => json!([c(1, "zone", "ScheduleAnyway")]),
            3 => json!([c(1, "zone", "DoNotSchedule"), c(2, "kubernetes.io/hostname", "ScheduleAnyway")]),
            4 => {
                let mut h = c(1, "kubernetes.io/hostname", "DoNotSchedule");
                h["nodeTaintsPolicy"] = json!("Honor");
                json!([h])
            }
            _ => json!([]),
        };
        let labels = if app { json!({"app": "a"}) } else { json!({"app": "b"}) };
        json!({"metadata": {"name": name, "namespace": "default", "labels": labels}, "spec": spec})
    })
}

fn arb_cluster() -> impl Strategy<Value = (Vec<Value>, Vec<Value>)> {
    (1usize..12)
        .prop_flat_map(|n| {
            let nodes = (0..n).map(arb_node).collect::<Vec<_>>();
            let pods = proptest::collection::vec((arb_pod(String::new()), 0..n), 0..20);
            (nodes, pods)
        })
        .prop_map(|(nodes, pods)| {
            let running = pods
                .into_iter()
                .enumerate()
                .map(|(i, (mut p, n))| {
                    p["metadata"]["name"] = json!(format!("r{i}"));
                    p["spec"]["nodeName"] = json!(format!("n{n}"));
                    p
                })
                .collect();
            (nodes, running)
        })
}

const ALL_NODES: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 100\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn cycle_invariants((nodes, running) in arb_cluster(), pod in arb_pod("incoming".into()), seed in any::<u64>()) {
        let mut h = Harness::new(&nodes, &running, Some(ALL_NODES), seed);
        let info = h.pod(pod.clone());
        let placed = h.scheduler.schedule(&info, &h.state);
        let eval = h.explain(pod.clone());
        for scores in &eval.scores.scores {
            prop_assert!(scores.iter().all(|s| (0..=100).contains(s)), "{scores:?}");
        }
        match (&placed, &eval.result) {
            (Ok(p), Ok(e)) => {
                prop_assert_eq!(&p.node_name, &e.node_name, "explain and schedule agree");
                let outcome = &eval.nodes.iter().find(|(id, _)| *id == p.node).unwrap().1;
                prop_assert!(matches!(outcome, NodeOutcome::Feasible), "chosen node passes every filter");
                let n = h.state.node(p.node);
                // upstream fitsRequest checks a resource only when the pod requests it: a pod
                // requesting 0 cpu fits a node whose running pods already exceed its cpu.
                prop_assert!(info.requests.milli_cpu == 0
                    || n.requested.milli_cpu + info.requests.milli_cpu <= n.info.allocatable.milli_cpu);
                prop_assert!(info.requests.memory == 0
                    || n.requested.memory + info.requests.memory <= n.info.allocatable.memory);
                prop_assert!(i64::from(n.pod_count) < n.info.allocatable.pods);
            }
            (Err(_), Err(_)) => {
                let all_rejected = eval.nodes.iter().all(|(_, o)| matches!(o, NodeOutcome::Rejected { .. }));
                prop_assert!(all_rejected, "no node is feasible when nothing is placed");
            }
            (a, b) => prop_assert!(false, "schedule {a:?} vs explain {b:?}"),
        }
        // The same seed gives the same choice on a fresh scheduler.
        let mut again = Harness::new(&nodes, &running, Some(ALL_NODES), seed);
        let info2 = again.pod(pod);
        let placed2 = again.scheduler.schedule(&info2, &again.state);
        prop_assert_eq!(placed.ok().map(|p| p.node_name), placed2.ok().map(|p| p.node_name));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn score_nodes_equals_score((nodes, running) in arb_cluster(), pod in arb_pod("incoming".into())) {
        let mut h = Harness::new(&nodes, &running, None, 1);
        let info = h.pod(pod);
        let view = ClusterView { state: &h.state };
        let ids: Vec<_> = h.state.node_ids().to_vec();
        let profile = &h.scheduler.profiles()[0];
        // With PreScore state (as in the cycle) and without (a plugin must cope with both).
        let mut with_pre_score = CycleState::new();
        for p in &profile.pre_score {
            if let Some(ps) = p.as_pre_score() {
                let _ = ps.pre_score(&mut with_pre_score, &info, &ids, view);
            }
        }
        for cycle in [with_pre_score, CycleState::new()] {
            for (plugin, _) in &profile.score {
                let s = plugin.as_score().unwrap();
                let one_by_one: Vec<i64> = ids.iter().map(|&id| s.score(&cycle, &info, h.state.node(id), view)).collect();
                let mut batch = vec![-1; ids.len()];
                s.score_nodes(&cycle, &info, &ids, view, &mut batch);
                prop_assert_eq!(&batch, &one_by_one, "{}", plugin.name());
                // A batch split in two gives the same (parallel scoring hands out chunks).
                let mid = ids.len() / 2;
                let mut halves = vec![-1; ids.len()];
                let (lo, hi) = halves.split_at_mut(mid);
                s.score_nodes(&cycle, &info, &ids[..mid], view, lo);
                s.score_nodes(&cycle, &info, &ids[mid..], view, hi);
                prop_assert_eq!(&halves, &one_by_one, "{} in two chunks", plugin.name());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn filter_nodes_equals_filter((nodes, running) in arb_cluster(), pod in arb_pod("incoming".into()), named in 0usize..16, live in any::<u64>()) {
        let mut pod = pod;
        if named < nodes.len() {
            pod["spec"]["nodeName"] = json!(format!("n{named}"));
        }
        let mut h = Harness::new(&nodes, &running, None, 1);
        let info = h.pod(pod);
        let view = ClusterView { state: &h.state };
        let ids: Vec<_> = h.state.node_ids().to_vec();
        let profile = &h.scheduler.profiles()[0];
        let mut cycle = CycleState::new();
        for p in &profile.pre_filter {
            if let Some(pf) = p.as_pre_filter() {
                let _ = pf.pre_filter(&mut cycle, &info, view);
            }
        }
        for plugin in &profile.filter {
            let f = plugin.as_filter().unwrap();
            let one_by_one: u64 = ids
                .iter()
                .enumerate()
                .map(|(i, &id)| u64::from(f.filter(&cycle, &info, h.state.node(id), view).is_ok()) << i)
                .sum();
            let all = (1u64 << ids.len()) - 1;
            prop_assert_eq!(f.filter_nodes(&cycle, &info, &ids, all, view), one_by_one, "{}", plugin.name());
            // Only the live nodes are reported.
            prop_assert_eq!(f.filter_nodes(&cycle, &info, &ids, live & all, view), one_by_one & live, "{} (live {:b})", plugin.name(), live);
        }
    }
}

/// A node for the InterPodAffinity properties: a zone (sometimes missing) and a rack.
fn arb_ipa_node(i: usize) -> impl Strategy<Value = Value> {
    (0u8..4, 0u8..2).prop_map(move |(zone, rack)| {
        let mut labels =
            json!({"rack": format!("r{rack}"), "kubernetes.io/hostname": format!("n{i}")});
        if zone < 3 {
            labels["zone"] = json!(format!("z{zone}"));
        }
        json!({"metadata": {"name": format!("n{i}"), "labels": labels},
               "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": "32"}}})
    })
}

/// A pod with an `app` label (or none) and up to three pod (anti-)affinity terms of any kind.
fn arb_ipa_pod(name: String) -> impl Strategy<Value = Value> {
    let term = (0u8..4, 0u8..3, 0u8..3, 1i32..100, any::<bool>(), 0u8..4);
    (0u8..4, any::<bool>(), proptest::collection::vec(term, 0..4)).prop_map(move |(app, other_ns, terms)| {
        let ns = if other_ns { "other" } else { "default" };
        let mut pod = json!({"metadata": {"name": name, "namespace": ns}, "spec": {"containers": [{"name": "c"}]}});
        if app < 3 {
            pod["metadata"]["labels"] = json!({"app": format!("a{app}")});
        }
        for (kind, value, key, weight, exists, namespaces) in terms {
            let topology = ["zone", "rack", "kubernetes.io/hostname"][key as usize];
            let expr = if exists {
                json!({"key": "app", "operator": "Exists"})
            } else {
                json!({"key": "app", "operator": "In", "values": [format!("a{value}")]})
            };
            let mut t = json!({"labelSelector": {"matchExpressions": [expr]}, "topologyKey": topology});
            match namespaces {
                1 => t["namespaces"] = json!(["other"]),
                2 => t["namespaceSelector"] = json!({}),
                _ => {}
            }
            let (field, when, item) = match kind {
                0 => ("podAffinity", "requiredDuringSchedulingIgnoredDuringExecution", t),
                1 => ("podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", t),
                2 => ("podAffinity", "preferredDuringSchedulingIgnoredDuringExecution", json!({"weight": weight, "podAffinityTerm": t})),
                _ => ("podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", json!({"weight": weight, "podAffinityTerm": t})),
            };
            let list = &mut pod["spec"]["affinity"][field][when];
            if list.is_null() {
                *list = json!([]);
            }
            list.as_array_mut().unwrap().push(item);
        }
        pod
    })
}

/// upstream's semantics by brute force over every held pod on an existing node: what
/// InterPodAffinity's Filter says per node (`Ok` or the reason), and the raw scores (or `None`
/// when PreScore would skip). The incoming pod's terms in these tests have no non-empty
/// namespaceSelector, so an empty one means every namespace.
fn ipa_reference(
    state: &sched_core::state::ClusterState,
    pod: &sched_core::model::PodInfo,
    hard_weight: i64,
) -> (Vec<Result<(), &'static str>>, Option<Vec<i64>>) {
    use sched_core::model::{PodAffinityTerm, PodInfo};
    use std::collections::HashMap;
    let interner = state.interner();
    let incoming_selects = |t: &PodAffinityTerm, p: &PodInfo| {
        (t.namespaces.contains(&p.namespace_sym)
            || t.namespace_selector.as_ref().is_some_and(|s| s.is_empty()))
            && t.selector
                .as_ref()
                .is_some_and(|s| s.matches(&p.labels, interner))
    };
    let ns_labels = state.namespace_labels(pod.namespace_sym);
    let existing: Vec<_> = state.pods().filter(|e| state.node(e.node).exists).collect();
    let mut affinity: HashMap<(sched_core::intern::Sym, sched_core::intern::Sym), i64> =
        HashMap::new();
    let mut anti = affinity.clone();
    let mut existing_anti = affinity.clone();
    let mut scores = affinity.clone();
    let mut touched = false;
    let a = &pod.pod_affinity;
    for e in &existing {
        let labels = &state.node(e.node).info.labels;
        let bump = |m: &mut HashMap<_, i64>, key, by: i64| {
            if let Some(v) = labels.get(key) {
                *m.entry((key, v)).or_insert(0) += by;
                true
            } else {
                false
            }
        };
        if !a.required_affinity.is_empty()
            && a.required_affinity
                .iter()
                .all(|t| incoming_selects(t, &e.info))
        {
            for t in &a.required_affinity {
                bump(&mut affinity, t.topology_key, 1);
            }
        }
        for t in &a.required_anti_affinity {
            if incoming_selects(t, &e.info) {
                bump(&mut anti, t.topology_key, 1);
            }
        }
        for t in &e.info.pod_affinity.required_anti_affinity {
            if t.matches(pod, ns_labels, interner) {
                bump(&mut existing_anti, t.topology_key, 1);
            }
        }
        for (terms, sign) in [(&a.preferred_affinity, 1), (&a.preferred_anti_affinity, -1)] {
            for w in terms {
                if incoming_selects(&w.term, &e.info) {
                    touched |= bump(&mut scores, w.term.topology_key, sign * i64::from(w.weight));
                }
            }
        }
        if hard_weight > 0 {
            for t in &e.info.pod_affinity.required_affinity {
                if t.matches(pod, ns_labels, interner) {
                    touched |= bump(&mut scores, t.topology_key, hard_weight);
                }
            }
        }
        let ea = &e.info.pod_affinity;
        for (terms, sign) in [
            (&ea.preferred_affinity, 1),
            (&ea.preferred_anti_affinity, -1),
        ] {
            for w in terms {
                if w.term.matches(pod, ns_labels, interner) {
                    touched |= bump(&mut scores, w.term.topology_key, sign * i64::from(w.weight));
                }
            }
        }
    }
    affinity.retain(|_, v| *v != 0);
    let matches_own = !a.required_affinity.is_empty()
        && a.required_affinity.iter().all(|t| incoming_selects(t, pod));
    let filter = state
        .node_ids()
        .iter()
        .map(|&id| {
            let labels = &state.node(id).info.labels;
            let mut pods_exist = true;
            for t in &a.required_affinity {
                match labels.get(t.topology_key) {
                    None => return Err("affinity"),
                    Some(v) if affinity.get(&(t.topology_key, v)).copied().unwrap_or(0) <= 0 => {
                        pods_exist = false
                    }
                    Some(_) => {}
                }
            }
            if !(pods_exist || affinity.is_empty() && matches_own) {
                return Err("affinity");
            }
            if a.required_anti_affinity.iter().any(|t| {
                labels
                    .get(t.topology_key)
                    .is_some_and(|v| anti.get(&(t.topology_key, v)).copied().unwrap_or(0) > 0)
            }) {
                return Err("anti-affinity");
            }
            if labels
                .0
                .iter()
                .any(|&(k, v)| existing_anti.get(&(k, v)).copied().unwrap_or(0) > 0)
            {
                return Err("existing anti-affinity");
            }
            Ok(())
        })
        .collect();
    let raw = touched.then(|| {
        let keys: std::collections::BTreeSet<_> = scores.keys().map(|&(k, _)| k).collect();
        state
            .node_ids()
            .iter()
            .map(|&id| {
                let labels = &state.node(id).info.labels;
                keys.iter()
                    .map(|&k| {
                        labels
                            .get(k)
                            .map_or(0, |v| scores.get(&(k, v)).copied().unwrap_or(0))
                    })
                    .sum()
            })
            .collect()
    });
    (filter, raw)
}

fn arb_ipa_cluster() -> impl Strategy<Value = (Vec<Value>, Vec<Value>)> {
    (1usize..10)
        .prop_flat_map(|n| {
            let nodes = (0..n).map(arb_ipa_node).collect::<Vec<_>>();
            let pods = proptest::collection::vec((arb_ipa_pod(String::new()), 0..n + 1), 0..16);
            (nodes, pods)
        })
        .prop_map(|(nodes, pods)| {
            let running = pods
                .into_iter()
                .enumerate()
                .map(|(i, (mut p, n))| {
                    p["metadata"]["name"] = json!(format!("r{i}"));
                    // n == nodes.len() puts the pod on a node that does not exist.
                    p["spec"]["nodeName"] = json!(format!("n{n}"));
                    p
                })
                .collect();
            (nodes, running)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// InterPodAffinity: batch forms equal per-node forms; removing then re-adding a placed pod
    /// in PreFilter state (preemption's dry run) restores every node's Filter result, and
    /// removing it gives what PreFilter computes on a cluster without it.
    #[test]
    fn inter_pod_affinity_batch_forms_and_add_remove((nodes, running) in arb_ipa_cluster(), pod in arb_ipa_pod("incoming".into()), victim in 0usize..16) {
        let mut h = Harness::new(&nodes, &running, None, 1);
        let info = h.pod(pod.clone());
        let view = ClusterView { state: &h.state };
        let ids: Vec<_> = h.state.node_ids().to_vec();
        let profile = &h.scheduler.profiles()[0];
        let plugin = profile.filter.iter().find(|p| p.name() == "InterPodAffinity").expect("enabled").clone();
        let pf = plugin.as_pre_filter().unwrap();
        let f = plugin.as_filter().unwrap();
        let mut cycle = CycleState::new();
        let proceed = matches!(pf.pre_filter(&mut cycle, &info, view), Ok(sched_core::framework::PreFilterOutcome::Proceed));
        let results = |cycle: &CycleState| -> Vec<bool> {
            ids.iter().map(|&id| f.filter(cycle, &info, h.state.node(id), view).is_ok()).collect()
        };
        let before = results(&cycle);
        let mask: u64 = before.iter().enumerate().map(|(i, &ok)| u64::from(ok) << i).sum();
        let all = (1u64 << ids.len()) - 1;
        prop_assert_eq!(f.filter_nodes(&cycle, &info, &ids, all, view), mask);
        // Against upstream's rules evaluated by brute force.
        let (want_filter, want_raw) = ipa_reference(&h.state, &info, 1);
        if proceed {
            let got_filter: Vec<Result<(), &str>> = ids.iter().map(|&id| match f.filter(&cycle, &info, h.state.node(id), view) {
                Ok(()) => Ok(()),
                Err(r) => Err(match r.message().as_str() {
                    "node(s) didn't match pod affinity rules" => "affinity",
                    "node(s) didn't match pod anti-affinity rules" => "anti-affinity",
                    "node(s) didn't satisfy existing pods anti-affinity rules" => "existing anti-affinity",
                    other => panic!("unexpected rejection {other}"),
                }),
            }).collect();
            prop_assert_eq!(&got_filter, &want_filter);
        } else {
            prop_assert!(want_filter.iter().all(Result::is_ok), "PreFilter skipped but {want_filter:?}");
        }

        if proceed && victim < running.len() {
            let name = format!("r{victim}");
            let entry = h.state.pods().find(|e| *e.info.name == *name).expect("held");
            let key = entry.info.key.clone();
            let node = h.state.node(entry.node);
            if node.exists {
                let victim_info = entry.info.clone();
                let mut removed = cycle.clone();
                pf.remove_pod(&mut removed, &info, &victim_info, node, view);
                // PreFilter on the cluster without the victim agrees with the removal.
                let without: Vec<Value> = running.iter().enumerate().filter(|(i, _)| *i != victim).map(|(_, p)| p.clone()).collect();
                let mut h2 = Harness::new(&nodes, &without, None, 1);
                let info2 = h2.pod(pod.clone());
                let view2 = ClusterView { state: &h2.state };
                let plugin2 = h2.scheduler.profiles()[0].filter.iter().find(|p| p.name() == "InterPodAffinity").unwrap().clone();
                let mut fresh = CycleState::new();
                let fresh_out = plugin2.as_pre_filter().unwrap().pre_filter(&mut fresh, &info2, view2);
                if matches!(fresh_out, Ok(sched_core::framework::PreFilterOutcome::Skip)) {
                    // Nothing constrains the pod without the victim: every node passes.
                    for &id in &ids {
                        prop_assert!(f.filter(&removed, &info, h.state.node(id), view).is_ok());
                    }
                } else if matches!(fresh_out, Ok(sched_core::framework::PreFilterOutcome::Proceed)) {
                    for &id in &ids {
                        let name = &h.state.node(id).info.name;
                        let id2 = h2.state.node_id(name).unwrap();
                        prop_assert_eq!(
                            f.filter(&removed, &info, h.state.node(id), view).is_ok(),
                            plugin2.as_filter().unwrap().filter(&fresh, &info2, h2.state.node(id2), view2).is_ok(),
                            "node {} after removing {}", name, key
                        );
                    }
                }
                let mut restored = removed.clone();
                pf.add_pod(&mut restored, &info, &victim_info, node, view);
                prop_assert_eq!(results(&restored), before, "remove then add restores");
            }
        }

        let mut scored = CycleState::new();
        let ps = plugin.as_pre_score().unwrap();
        let s = plugin.as_score().unwrap();
        if matches!(ps.pre_score(&mut scored, &info, &ids, view), Ok(sched_core::framework::PreScoreOutcome::Proceed)) {
            let one_by_one: Vec<i64> = ids.iter().map(|&id| s.score(&scored, &info, h.state.node(id), view)).collect();
            let mut batch = vec![-1; ids.len()];
            s.score_nodes(&scored, &info, &ids, view, &mut batch);
            prop_assert_eq!(&batch, &one_by_one);
            prop_assert_eq!(Some(&one_by_one), want_raw.as_ref(), "raw scores");
            let mut normalized = one_by_one.clone();
            s.normalize(&scored, &info, &mut normalized);
            prop_assert!(normalized.iter().all(|v| (0..=100).contains(v)), "{normalized:?}");
        } else {
            prop_assert_eq!(want_raw, None, "PreScore skipped");
        }
        // The whole cycle still holds its invariants with these pods.
        let placed = h.scheduler.schedule(&info, &h.state);
        if let Ok(p) = placed {
            let mut c = CycleState::new();
            if matches!(pf.pre_filter(&mut c, &info, view), Ok(sched_core::framework::PreFilterOutcome::Proceed)) {
                prop_assert!(f.filter(&c, &info, h.state.node(p.node), view).is_ok(), "chosen node passes InterPodAffinity");
            }
        }
    }
}
