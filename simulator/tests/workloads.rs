//! Workload expansion: the pods a snapshot's Deployments, ReplicaSets, StatefulSets,
//! DaemonSets and Jobs lack are created as their controllers would create them, and a
//! scenario's `scale` events resize them. Expectations worked out by hand from upstream's
//! controllers (`pkg/controller/{deployment,replicaset,statefulset,daemon,job}`).

use sched_core::model::{PodInfo, WorkloadKind};
use simulator::engine::PodStatus;
use simulator::output::Output;
use simulator::run::{Input, Request};
use simulator::scenario::Scenario;
use simulator::snapshot::{LoadOptions, LoadedCluster, Snapshot};
use std::path::Path;

fn node(name: &str, extra: &str) -> String {
    format!(
        "- kind: Node\n  metadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}, role: worker}}}}\n  \
         spec: {{{extra}}}\n  status: {{allocatable: {{cpu: \"8\", memory: 16Gi, pods: \"110\"}}}}\n"
    )
}

fn list(items: &[&str]) -> String {
    let mut text = String::from("kind: List\nitems:\n");
    for i in items {
        text.push_str(i);
    }
    text
}

fn load(text: &str) -> LoadedCluster {
    let snap = Snapshot::from_text(text, "cluster.yaml", LoadOptions::default()).unwrap();
    LoadedCluster::from_snapshot(snap, LoadOptions::default()).unwrap()
}

fn load_err(text: &str) -> String {
    match Snapshot::from_text(text, "cluster.yaml", LoadOptions::default()) {
        Err(e) => e.to_string(),
        Ok(snap) => LoadedCluster::from_snapshot(snap, LoadOptions::default())
            .unwrap_err()
            .to_string(),
    }
}

fn label<'a>(c: &'a LoadedCluster, p: &PodInfo, key: &str) -> Option<&'a str> {
    let i = c.state.interner();
    let k = i.get(key)?;
    p.labels.get(k).map(|v| i.resolve(v))
}

const DEPLOYMENT: &str = "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web, namespace: shop, uid: web-uid}\n  spec:\n    replicas: 3\n    selector: {matchLabels: {app: web}}\n    template:\n      metadata: {labels: {app: web}}\n      spec: {containers: [{name: c, resources: {requests: {cpu: \"1\"}}}]}\n";

#[test]
fn a_deployment_makes_a_replica_set_with_its_pod_template_hash_and_the_pods() {
    let c = load(&list(&[&node("n1", ""), DEPLOYMENT]));
    assert_eq!(c.loaded.deployments, 1);
    assert_eq!(c.loaded.created_replica_sets, 1);
    assert_eq!(c.loaded.created_pods, 3);
    assert_eq!(c.loaded.pods, 0, "pods read from the snapshot");
    assert_eq!(c.pending.len(), 3);
    let hash = label(&c, &c.pending[0], "pod-template-hash")
        .expect("pod-template-hash label")
        .to_string();
    assert!(
        !hash.is_empty()
            && hash
                .bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)),
        "{hash}"
    );
    let rs = format!("web-{hash}");
    for p in &c.pending {
        // <rs>-<5 chars>, the template's labels plus the hash, owned by the ReplicaSet.
        let suffix = p.name.strip_prefix(&format!("{rs}-")).expect(&p.name);
        assert_eq!(suffix.len(), 5, "{}", p.name);
        assert_eq!(&*p.namespace, "shop");
        assert_eq!(label(&c, p, "app"), Some("web"));
        assert_eq!(label(&c, p, "pod-template-hash"), Some(hash.as_str()));
        let owner = p.controller.as_ref().expect("controller owner");
        assert_eq!(
            (owner.kind, &*owner.name),
            (WorkloadKind::ReplicaSet, rs.as_str())
        );
        assert!(p.has_controller && !p.drain.daemon_set);
        assert_eq!(p.node_name, None);
    }
    let mut names: Vec<&str> = c.pending.iter().map(|p| &*p.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 3, "distinct names");
    // Deterministic: the same snapshot gives the same names.
    let again = load(&list(&[&node("n1", ""), DEPLOYMENT]));
    let a: Vec<&str> = again.pending.iter().map(|p| &*p.name).collect();
    assert_eq!(a, c.pending.iter().map(|p| &*p.name).collect::<Vec<_>>());
    // The ReplicaSet made for it is a workload selector like the snapshot's own.
    assert_eq!(c.state.num_workloads(), 1);
}

/// The snapshot's ReplicaSet of the Deployment (same template, with its hash) and the pods it
/// owns (`ownerReferences` uid).
fn current_rs(pods: usize) -> String {
    let mut s = String::from(
        "- apiVersion: apps/v1\n  kind: ReplicaSet\n  metadata: {name: web-abc, namespace: shop, uid: rs-uid, \
         ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: web-uid, controller: true}]}\n  \
         spec:\n    replicas: 3\n    selector: {matchLabels: {app: web, pod-template-hash: abc}}\n    \
         template:\n      metadata: {labels: {app: web, pod-template-hash: abc}}\n      \
         spec: {containers: [{name: c, resources: {requests: {cpu: \"1\"}}}]}\n",
    );
    for i in 0..pods {
        s.push_str(&format!(
            "- kind: Pod\n  metadata: {{name: web-abc-{i}, namespace: shop, labels: {{app: web, pod-template-hash: abc}}, \
             ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: rs-uid, controller: true}}]}}\n  \
             spec: {{nodeName: n1, containers: [{{name: c}}]}}\n"
        ));
    }
    s
}

#[test]
fn pods_already_owned_count_and_only_the_missing_ones_are_created() {
    let c = load(&list(&[&node("n1", ""), DEPLOYMENT, &current_rs(2)]));
    // The Deployment's current ReplicaSet exists (template equal but for the hash): no new one.
    assert_eq!(c.loaded.created_replica_sets, 0);
    assert_eq!(c.loaded.created_pods, 1);
    assert_eq!(c.pending.len(), 1);
    assert!(
        c.pending[0].name.starts_with("web-abc-"),
        "{}",
        c.pending[0].name
    );
    assert_eq!(c.pending[0].name.len(), "web-abc-".len() + 5);
    // All present: nothing is created.
    let full = load(&list(&[&node("n1", ""), DEPLOYMENT, &current_rs(3)]));
    assert_eq!(full.loaded.created_pods, 0);
    assert!(full.pending.is_empty());
    // A pod being deleted does not count (upstream FilterActivePods): one replacement.
    let terminating = current_rs(3).replacen(
        "name: web-abc-2, namespace: shop,",
        "name: web-abc-2, namespace: shop, deletionTimestamp: \"2026-01-01T00:00:00Z\",",
        1,
    );
    let t = load(&list(&[&node("n1", ""), DEPLOYMENT, &terminating]));
    assert_eq!(t.loaded.created_pods, 1);
}

#[test]
fn a_changed_template_makes_a_new_replica_set_within_max_surge() {
    // The Deployment's template asks 2 cpus; the snapshot's ReplicaSet runs 3 pods of 1 cpu.
    // Rolling update, 25% surge of 3 = 1 (rounded up): the new ReplicaSet gets 3 + 1 - 3 = 1.
    let changed = DEPLOYMENT.replace("cpu: \"1\"", "cpu: \"2\"");
    let c = load(&list(&[&node("n1", ""), &changed, &current_rs(3)]));
    assert_eq!(c.loaded.created_replica_sets, 1);
    assert_eq!(c.loaded.created_pods, 1);
    assert_eq!(c.pending[0].requests.milli_cpu, 2000);
    assert_ne!(label(&c, &c.pending[0], "pod-template-hash"), Some("abc"));
}

const STATEFUL: &str = "- apiVersion: apps/v1\n  kind: StatefulSet\n  metadata: {name: db, namespace: data}\n  spec:\n    replicas: 3\n    serviceName: db\n    selector: {matchLabels: {app: db}}\n    template:\n      metadata: {labels: {app: db}}\n      spec: {containers: [{name: c}]}\n";

#[test]
fn a_stateful_set_creates_its_missing_ordinals() {
    let existing = "- kind: Pod\n  metadata: {name: db-1, namespace: data, labels: {app: db}, \
                    ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: \"\", controller: true}]}\n  \
                    spec: {nodeName: n1, containers: [{name: c}]}\n";
    let c = load(&list(&[&node("n1", ""), STATEFUL, existing]));
    let names: Vec<&str> = c.pending.iter().map(|p| &*p.name).collect();
    assert_eq!(names, ["db-0", "db-2"]);
    for p in &c.pending {
        assert_eq!(
            label(&c, p, "statefulset.kubernetes.io/pod-name"),
            Some(&*p.name)
        );
        assert_eq!(label(&c, p, "app"), Some("db"));
        let owner = p.controller.as_ref().unwrap();
        assert_eq!(
            (owner.kind, &*owner.name),
            (WorkloadKind::StatefulSet, "db")
        );
    }
    assert_eq!(
        label(&c, &c.pending[1], "apps.kubernetes.io/pod-index"),
        Some("2")
    );
    // spec.ordinals.start shifts the names.
    let shifted = STATEFUL.replace("replicas: 3", "replicas: 2\n    ordinals: {start: 5}");
    let s = load(&list(&[&node("n1", ""), &shifted]));
    let names: Vec<&str> = s.pending.iter().map(|p| &*p.name).collect();
    assert_eq!(names, ["db-5", "db-6"]);
}

#[test]
fn stateful_set_volume_claim_templates_become_claims_the_simulation_reports() {
    let with_claims = STATEFUL.replace(
        "    serviceName: db\n",
        "    serviceName: db\n    volumeClaimTemplates: [{metadata: {name: data}}]\n",
    );
    let c = load(&list(&[&node("n1", ""), &with_claims]));
    // upstream: a PersistentVolumeClaim volume data-db-<i> per pod: VolumeBinding's business,
    // which Placer reports as unsupported rather than ignoring.
    assert!(
        c.pending[0]
            .unsupported
            .iter()
            .any(|u| u.plugin == "VolumeBinding"),
        "{:?}",
        c.pending[0].unsupported
    );
}

fn daemon_set(extra_spec: &str) -> String {
    format!(
        "- apiVersion: apps/v1\n  kind: DaemonSet\n  metadata: {{name: agent, namespace: kube-system}}\n  spec:\n    \
         selector: {{matchLabels: {{app: agent}}}}\n    template:\n      metadata: {{labels: {{app: agent}}}}\n      \
         spec: {{nodeSelector: {{role: worker}}, containers: [{{name: c, resources: {{requests: {{cpu: 100m}}}}}}]{extra_spec}}}\n"
    )
}

#[test]
fn a_daemon_set_runs_one_pod_per_eligible_node() {
    let items = [
        node("plain", ""),
        // Tainted NoSchedule, not tolerated: not eligible.
        node(
            "dedicated",
            "taints: [{key: dedicated, value: gpu, effect: NoSchedule}]",
        ),
        // Cordoned: the DaemonSet pod tolerates node.kubernetes.io/unschedulable.
        node(
            "cordoned",
            "unschedulable: true, taints: [{key: node.kubernetes.io/unschedulable, effect: NoSchedule}]",
        ),
        // Not ready: tolerated (NoExecute, added by the controller).
        node(
            "notready",
            "taints: [{key: node.kubernetes.io/not-ready, effect: NoExecute}]",
        ),
        // PreferNoSchedule is not read by the DaemonSet controller.
        node("prefer", "taints: [{key: x, effect: PreferNoSchedule}]"),
        // Not selected by the template's nodeSelector.
        node("other", "").replace("role: worker", "role: infra"),
        daemon_set(""),
    ];
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    let c = load(&list(&refs));
    assert_eq!(c.loaded.daemon_sets, 1);
    let i = c.state.interner();
    let mut targets: Vec<String> = c
        .pending
        .iter()
        .map(|p| {
            // Pinned by required node affinity `matchFields metadata.name In [node]`.
            let sel = p.required_affinity.as_ref().expect("node affinity");
            assert_eq!(sel.terms.len(), 1);
            assert_eq!(sel.terms[0].fields.len(), 1);
            assert!(sel.terms[0].fields[0].is_in);
            assert!(p.drain.daemon_set, "drain sees a DaemonSet pod");
            assert!(p.name.starts_with("agent-") && p.name.len() == "agent-".len() + 5);
            i.resolve(sel.terms[0].fields[0].node_name).to_string()
        })
        .collect();
    targets.sort();
    assert_eq!(targets, ["cordoned", "notready", "plain", "prefer"]);
    // The controller's tolerations, without tolerationSeconds (so DefaultTolerationSeconds
    // adds nothing): 6, and network-unavailable for hostNetwork.
    assert_eq!(c.pending[0].tolerations.len(), 6);
    assert!(c.pending[0].tolerations.iter().all(|t| t.seconds.is_none()));
    let host = load(&list(&[
        &node("plain", ""),
        &daemon_set(", hostNetwork: true"),
    ]));
    assert_eq!(host.pending[0].tolerations.len(), 7);

    // Scheduled for real: each lands on its node, the cordoned one included.
    let out = run(&Input::from(c), &Request::default());
    let mut placed: Vec<&str> = out.pods.iter().filter_map(|p| p.node.as_deref()).collect();
    placed.sort_unstable();
    assert_eq!(placed, ["cordoned", "notready", "plain", "prefer"]);
}

#[test]
fn a_daemon_set_pod_already_on_a_node_covers_it() {
    let existing = "- kind: Pod\n  metadata: {name: agent-old, namespace: kube-system, labels: {app: agent}, \
                    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: \"\", controller: true}]}\n  \
                    spec: {nodeName: a, containers: [{name: c}]}\n";
    let c = load(&list(&[
        &node("a", ""),
        &node("b", ""),
        &daemon_set(""),
        existing,
    ]));
    assert_eq!(c.loaded.created_pods, 1);
    let sel = c.pending[0].required_affinity.as_ref().unwrap();
    assert_eq!(
        c.state.interner().resolve(sel.terms[0].fields[0].node_name),
        "b"
    );
}

fn job(spec: &str, status: &str) -> String {
    format!(
        "- apiVersion: batch/v1\n  kind: Job\n  metadata: {{name: batch, namespace: default, uid: job-uid}}\n  spec:\n    {spec}\n    \
         template:\n      spec: {{restartPolicy: Never, containers: [{{name: c}}]}}\n  status: {{{status}}}\n"
    )
}

fn job_pods(spec: &str, status: &str, extra: &[&str]) -> Vec<String> {
    let j = job(spec, status);
    let mut items = vec![node("n1", ""), j];
    items.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    let c = load(&list(&refs));
    c.pending.iter().map(|p| p.name.to_string()).collect()
}

#[test]
fn a_job_keeps_min_of_parallelism_and_remaining_completions_active() {
    // min(2, 5 - 2) = 2.
    assert_eq!(
        job_pods("parallelism: 2\n    completions: 5", "succeeded: 2", &[]).len(),
        2
    );
    // min(4, 3 - 2) = 1.
    assert_eq!(
        job_pods("parallelism: 4\n    completions: 3", "succeeded: 2", &[]).len(),
        1
    );
    // One active pod already: 2 - 1 = 1 more.
    let active = "- kind: Pod\n  metadata: {name: batch-x, namespace: default, \
                  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: batch, uid: job-uid, controller: true}]}\n  \
                  spec: {nodeName: n1, restartPolicy: Never, containers: [{name: c}]}\n";
    assert_eq!(
        job_pods("parallelism: 2\n    completions: 5", "", &[active]).len(),
        1
    );
    // Defaults: parallelism 1, completions 1.
    let one = job_pods("backoffLimit: 6", "", &[]);
    assert_eq!(one.len(), 1);
    assert!(one[0].starts_with("batch-") && one[0].len() == "batch-".len() + 5);
    // A work queue (no completions) that had a success creates no new pod.
    assert!(job_pods("parallelism: 3", "succeeded: 1", &[]).is_empty());
    // Suspended, complete: nothing.
    assert!(job_pods("parallelism: 2\n    suspend: true", "", &[]).is_empty());
    assert!(
        job_pods(
            "parallelism: 2",
            "conditions: [{type: Complete, status: \"True\"}]",
            &[]
        )
        .is_empty()
    );
    // Indexed: the indexes neither completed nor running, lowest first.
    let indexed = job_pods(
        "parallelism: 3\n    completions: 4\n    completionMode: Indexed",
        "succeeded: 1, completedIndexes: \"1\"",
        &[],
    );
    assert_eq!(indexed.len(), 3);
    assert!(indexed[0].starts_with("batch-0-"), "{indexed:?}");
    assert!(indexed[1].starts_with("batch-2-"), "{indexed:?}");
    assert!(indexed[2].starts_with("batch-3-"), "{indexed:?}");
}

#[test]
fn job_pods_carry_the_api_servers_generated_labels() {
    let c = load(&list(&[&node("n1", ""), &job("parallelism: 1", "")]));
    let p = &c.pending[0];
    assert_eq!(label(&c, p, "batch.kubernetes.io/job-name"), Some("batch"));
    assert_eq!(
        label(&c, p, "batch.kubernetes.io/controller-uid"),
        Some("job-uid")
    );
    assert!(p.has_controller);
    assert_eq!(c.loaded.jobs, 1);
}

#[test]
fn bad_workloads_name_the_file_the_object_and_the_field() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            DEPLOYMENT.replace("replicas: 3", "replicas: -1"),
            "Deployment shop/web: spec.replicas",
            "must be greater than or equal to 0",
        ),
        (
            DEPLOYMENT.replace(
                "selector: {matchLabels: {app: web}}",
                "selector: {matchLabels: {app: api}}",
            ),
            "Deployment shop/web: spec.template.metadata.labels",
            "`selector` does not match template `labels`",
        ),
        (
            current_rs(0).replace(
                "selector: {matchLabels: {app: web, pod-template-hash: abc}}",
                "selector: {matchLabels: {app: other}}",
            ),
            "ReplicaSet shop/web-abc: spec.template.metadata.labels",
            "`selector` does not match template `labels`",
        ),
        (
            STATEFUL.replace("replicas: 3", "replicas: -2"),
            "StatefulSet data/db: spec.replicas",
            "-2: must be greater than or equal to 0",
        ),
        (
            daemon_set("").replace("selector: {matchLabels: {app: agent}}", "selector: {}"),
            "DaemonSet kube-system/agent: spec.selector",
            "empty selector is invalid for daemonset",
        ),
        (
            job("parallelism: 1", "").replace("restartPolicy: Never", "restartPolicy: Always"),
            "Job default/batch: spec.template.spec.restartPolicy",
            "expected \"OnFailure\" or \"Never\"",
        ),
        (
            job("parallelism: -3", ""),
            "Job default/batch: spec.parallelism",
            "must be greater than or equal to 0",
        ),
        (
            DEPLOYMENT.replace("cpu: \"1\"", "cpu: lots"),
            "Deployment shop/web: spec.template.spec.containers[0].resources.requests.cpu",
            "lots",
        ),
        (
            DEPLOYMENT.replace(
                "replicas: 3\n",
                "replicas: 3\n    strategy: {rollingUpdate: {maxSurge: lots}}\n",
            ),
            "Deployment shop/web: spec.strategy.rollingUpdate.maxSurge",
            "a valid percent string must be a numeric string followed by an ending '%'",
        ),
        (
            DEPLOYMENT.replace(
                "replicas: 3\n",
                "replicas: 3\n    strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}}\n",
            ),
            "Deployment shop/web: spec.strategy.rollingUpdate.maxUnavailable",
            "may not be 0 when `maxSurge` is 0",
        ),
        (
            DEPLOYMENT.replace("replicas: 3", "replicas: 2000000"),
            "Deployment shop/web: spec.replicas",
            "too many",
        ),
    ];
    for (bad, object_and_field, message) in cases {
        let text = list(&[&node("n1", ""), &bad]);
        let err = load_err(&text);
        assert!(err.contains("cluster.yaml"), "{err}");
        assert!(err.contains("items[1]"), "{err}");
        assert!(err.contains(object_and_field), "{err}");
        assert!(err.contains(message), "{err}");
        // --skip-invalid: the rest loads, the workload creates nothing, the skip is listed.
        let opts = LoadOptions { skip_invalid: true };
        let c = LoadedCluster::from_snapshot(
            Snapshot::from_text(&text, "cluster.yaml", opts).unwrap(),
            opts,
        )
        .unwrap();
        assert_eq!(c.skipped_invalid.len(), 1, "{object_and_field}");
        assert!(c.pending.is_empty(), "{object_and_field}");
        assert_eq!(c.loaded.nodes, 1);
    }
}

#[test]
fn a_duplicate_deployment_is_a_problem_not_twice_the_pods() {
    let err = load_err(&list(&[&node("n1", ""), DEPLOYMENT, DEPLOYMENT]));
    assert!(err.contains("items[2]"), "{err}");
    assert!(err.contains("Deployment shop/web: metadata.name"), "{err}");
    assert!(err.contains("appears twice"), "{err}");
}

fn run(input: &Input, req: &Request) -> Output {
    simulator::simulate(input, req, &mut |_, _| {}).unwrap()
}

fn scenario(text: &str) -> Request {
    Request {
        scenario: Some(Scenario::from_text(text, "scenario.yaml", Path::new(".")).unwrap()),
        ..Request::default()
    }
}

fn live(out: &Output, prefix: &str) -> Vec<(String, PodStatus)> {
    out.pods
        .iter()
        .filter(|p| p.pod.starts_with(prefix))
        .filter(|p| !matches!(p.status, PodStatus::Deleted | PodStatus::Finished))
        .map(|p| (p.pod.clone(), p.status))
        .collect()
}

#[test]
fn summary_counts_the_pods_created_from_workloads() {
    let input = Input::from(load(&list(&[&node("n1", ""), DEPLOYMENT])));
    let out = run(&input, &Request::default());
    assert_eq!(out.summary.loaded.created_pods, 3);
    assert_eq!(out.summary.loaded.created_replica_sets, 1);
    assert_eq!(out.summary.loaded.deployments, 1);
    let text = out.summary.loaded_text();
    assert!(text.contains("1 deployment(s)"), "{text}");
    assert!(
        text.contains("created by workload controllers: 3 pod(s), 1 replicaset(s)"),
        "{text}"
    );
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["summary"]["loaded"]["created_pods"], 3);
    assert_eq!(json["summary"]["loaded"]["daemon_sets"], 0);
    assert_eq!(live(&out, "shop/web-").len(), 3);
    assert!(
        live(&out, "shop/web-")
            .iter()
            .all(|(_, s)| *s == PodStatus::Scheduled)
    );
}

#[test]
fn scale_a_deployment_up_then_down() {
    // n1 holds 8 cpus: 3 pods of 1 cpu, then 10 (8 placed, 2 waiting), then 5: the two waiting
    // pods go first (upstream getPodsToDelete: unassigned before assigned), then 3 placed.
    let input = Input::from(load(&list(&[&node("n1", ""), DEPLOYMENT])));
    let req = scenario(
        "events:\n\
         - {at: 10s, scale: {kind: Deployment, name: shop/web, replicas: 10}}\n\
         - {at: 20s, scale: {kind: deployment, name: shop/web, replicas: 5}}\n",
    );
    let out = run(&input, &req);
    let left = live(&out, "shop/web-");
    assert_eq!(left.len(), 5, "{left:?}");
    assert!(
        left.iter().all(|(_, s)| *s == PodStatus::Scheduled),
        "{left:?}"
    );
    let deleted_waiting = out
        .pods
        .iter()
        .filter(|p| p.status == PodStatus::Deleted && p.node.is_none())
        .count();
    assert_eq!(deleted_waiting, 2, "the waiting pods were deleted first");
    let step = out
        .timeline
        .iter()
        .find(|s| s.events.iter().any(|e| e.contains("scale")));
    assert!(step.is_some(), "the timeline names the scale");
}

#[test]
fn scale_a_stateful_set_adds_and_removes_the_highest_ordinals() {
    let input = Input::from(load(&list(&[&node("n1", ""), STATEFUL])));
    let up = run(
        &input,
        &scenario("events:\n- {at: 5s, scale: {kind: StatefulSet, name: data/db, replicas: 5}}\n"),
    );
    let mut names: Vec<String> = live(&up, "data/db-").into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "data/db-0",
            "data/db-1",
            "data/db-2",
            "data/db-3",
            "data/db-4"
        ]
    );
    let down = run(
        &input,
        &scenario("events:\n- {at: 5s, scale: {kind: sts, name: data/db, replicas: 1}}\n"),
    );
    let names: Vec<String> = live(&down, "data/db-")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["data/db-0"]);
}

#[test]
fn scale_errors_name_the_file_line_and_field() {
    let bad = [
        (
            "{kind: DaemonSet, name: a/b, replicas: 1}",
            "events[0].scale.kind",
            "no replicas to scale",
        ),
        (
            "{kind: Pod, name: a/b, replicas: 1}",
            "events[0].scale.kind",
            "unknown kind",
        ),
        (
            "{kind: Deployment, name: a/b, replicas: -1}",
            "events[0].scale.replicas",
            "whole number",
        ),
        (
            "{kind: Deployment, name: a/b}",
            "events[0].scale.replicas",
            "required",
        ),
        (
            "{kind: Deployment, name: a/b, replicas: 1, extra: 2}",
            "events[0].scale.extra",
            "unknown field",
        ),
    ];
    for (body, field, message) in bad {
        let text = format!("events:\n- at: 1s\n  scale: {body}\n");
        let e = Scenario::from_text(&text, "s.yaml", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:"), "{e}");
        assert!(e.contains(field), "{e}");
        assert!(e.contains(message), "{e}");
    }
    // A workload the snapshot does not hold: an error at run time naming where.
    let input = Input::from(load(&list(&[&node("n1", ""), DEPLOYMENT])));
    let req =
        scenario("events:\n- {at: 1s, scale: {kind: Deployment, name: shop/api, replicas: 2}}\n");
    let e = simulator::simulate(&input, &req, &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("scenario.yaml:2"), "{e}");
    assert!(e.contains("no Deployment shop/api"), "{e}");
}

/// A scenario rolling `shop/web` (4 pods of 1 cpu on n1, 8 cpus) out to pods of `cpu` cpus.
fn rollout_to(cpu: u32) -> Output {
    let four = DEPLOYMENT.replace("replicas: 3", "replicas: 4");
    let input = Input::from(load(&list(&[&node("n1", ""), &four])));
    let text = format!(
        "templates:\n  pods:\n    web-v2:\n      metadata: {{labels: {{app: web, version: v2}}}}\n      \
         spec: {{containers: [{{name: c, resources: {{requests: {{cpu: \"{cpu}\"}}}}}}]}}\n\
         events:\n- {{at: 10s, rollout: {{kind: Deployment, name: shop/web, template: web-v2}}}}\n"
    );
    run(&input, &scenario(&text))
}

#[test]
fn a_rollout_replaces_every_old_pod_within_surge_and_unavailability() {
    // 25% of 4: maxSurge 1, maxUnavailable 1. 4 new pods of 2 cpus fill n1 exactly.
    let out = rollout_to(2);
    let left = live(&out, "shop/web-");
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(
        left.iter().all(|(_, s)| *s == PodStatus::Scheduled),
        "{left:?}"
    );
    let old_hash_prefix = out
        .pods
        .iter()
        .find(|p| p.status == PodStatus::Deleted)
        .map(|p| p.pod[..p.pod.rfind('-').unwrap()].to_string())
        .expect("old pods deleted");
    assert!(
        left.iter()
            .all(|(n, _)| !n.starts_with(&format!("{old_hash_prefix}-"))),
        "{left:?}"
    );
    let deleted = out
        .pods
        .iter()
        .filter(|p| p.status == PodStatus::Deleted)
        .count();
    assert_eq!(deleted, 4, "every old pod replaced");
}

#[test]
fn a_rollout_that_does_not_fit_stalls_keeping_min_available() {
    // New pods of 3 cpus: worked by hand (see the rolling update steps in workloads.rs):
    // step 1 new 1 (placed), old 4 → 2; step 2 new 3 (2 placed), old 2 → 1; step 3 new 4;
    // then nothing may change: 1 old + 2 new placed (= replicas - maxUnavailable), 2 waiting.
    let out = rollout_to(3);
    let left = live(&out, "shop/web-");
    let placed = left
        .iter()
        .filter(|(_, s)| *s == PodStatus::Scheduled)
        .count();
    let waiting = left.len() - placed;
    assert_eq!((placed, waiting), (3, 2), "{left:?}");
}

#[test]
fn rollout_errors() {
    let e = Scenario::from_text(
        "events:\n- {at: 1s, rollout: {kind: StatefulSet, name: a/b, template: t}}\n",
        "s.yaml",
        Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("events[0].rollout.kind") && e.contains("Deployments only"),
        "{e}"
    );
    let e = Scenario::from_text(
        "events:\n- {at: 1s, rollout: {name: a/b, template: nope}}\n",
        "s.yaml",
        Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("events[0].rollout.template") && e.contains("no pod template \"nope\""),
        "{e}"
    );
    // A template the selector does not select: refused at run time, as the API server would.
    let input = Input::from(load(&list(&[&node("n1", ""), DEPLOYMENT])));
    let req = scenario(
        "templates:\n  pods:\n    other:\n      metadata: {labels: {app: other}}\n      spec: {containers: [{name: c}]}\n\
         events:\n- {at: 1s, rollout: {name: shop/web, template: other}}\n",
    );
    let e = simulator::simulate(&input, &req, &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`selector` does not match template `labels`"),
        "{e}"
    );
}

#[test]
fn a_node_added_during_the_run_gets_the_daemon_set_pod_and_a_removed_one_takes_it_along() {
    let input = Input::from(load(&list(&[&node("a", ""), &daemon_set("")])));
    let req = scenario(
        "templates:\n  nodes:\n    worker:\n      metadata: {labels: {role: worker}}\n      \
         status: {allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}}\n    \
         infra:\n      metadata: {labels: {role: infra}}\n      \
         status: {allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}}\n\
         events:\n\
         - {at: 10s, addNodes: {template: worker}}\n\
         - {at: 10s, addNodes: {template: infra}}\n\
         - {at: 20s, removeNodes: a}\n",
    );
    let out = run(&input, &req);
    let agents: Vec<(&str, PodStatus, Option<&str>)> = out
        .pods
        .iter()
        .filter(|p| p.pod.starts_with("kube-system/agent-"))
        .map(|p| (p.pod.as_str(), p.status, p.node.as_deref()))
        .collect();
    // One on a (deleted with it, not recreated pending), one on the new worker, none on infra.
    assert_eq!(agents.len(), 2, "{agents:?}");
    assert!(
        agents
            .iter()
            .any(|(_, s, n)| *s == PodStatus::Scheduled && *n == Some("worker-1")),
        "{agents:?}"
    );
    assert!(
        agents.iter().any(|(_, s, _)| *s == PodStatus::Deleted),
        "{agents:?}"
    );
    assert_eq!(out.summary.unschedulable, 0);
}

#[test]
fn a_scenario_creates_workloads_whose_controllers_make_their_pods() {
    let input = Input::from(load(&list(&[&node("a", ""), &node("b", "")])));
    let req = scenario(&format!(
        "events:\n- at: 5s\n  createWorkloads:\n{}{}",
        indent(&DEPLOYMENT.replace("replicas: 3", "replicas: 2")),
        indent(&daemon_set("")),
    ));
    let out = run(&input, &req);
    let web = live(&out, "shop/web-");
    assert_eq!(web.len(), 2, "{web:?}");
    let agents = live(&out, "kube-system/agent-");
    assert_eq!(agents.len(), 2, "one per node: {agents:?}");
    assert!(
        web.iter()
            .chain(&agents)
            .all(|(_, s)| *s == PodStatus::Scheduled),
        "{web:?} {agents:?}"
    );
    // The Deployment made then can be scaled later.
    let req = scenario(&format!(
        "events:\n- at: 5s\n  createWorkloads:\n{}- {{at: 6s, scale: {{kind: Deployment, name: shop/web, replicas: 4}}}}\n",
        indent(DEPLOYMENT),
    ));
    assert_eq!(live(&run(&input, &req), "shop/web-").len(), 4);
}

#[test]
fn create_workloads_errors_name_the_item_and_field_at_load() {
    let bad = [
        (
            "  - {kind: ConfigMap, metadata: {name: x}}\n",
            "events[0].createWorkloads[0].kind",
            "expected one of Deployment",
        ),
        (
            &*indent(&DEPLOYMENT.replace("replicas: 3", "replicas: -4")),
            "events[0].createWorkloads[0].spec.replicas",
            "Deployment shop/web: -4: must be greater than or equal to 0",
        ),
        (
            &*indent(&DEPLOYMENT.replace("replicas: 3", "replicas: [3]")),
            "events[0].createWorkloads[0].spec.replicas",
            "Deployment shop/web",
        ),
    ];
    for (items, field, message) in bad {
        let text = format!("events:\n- at: 5s\n  createWorkloads:\n{items}");
        let e = Scenario::from_text(&text, "s.yaml", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:"), "{e}");
        assert!(e.contains(field), "{e}");
        assert!(e.contains(message), "{e}");
    }
}

/// `text` indented by two spaces (a list item under an event key).
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

#[test]
fn a_stalled_rollout_resumes_when_a_later_event_frees_room() {
    // As a_rollout_that_does_not_fit_stalls_keeping_min_available (1 old + 2 new placed, 2
    // new waiting), then a second 8-cpu node: the controller takes the rollout up again, the
    // waiting new pods land there and the last old pod goes.
    let four = DEPLOYMENT.replace("replicas: 3", "replicas: 4");
    let input = Input::from(load(&list(&[&node("n1", ""), &four])));
    let text = "templates:\n  pods:\n    web-v2:\n      metadata: {labels: {app: web, version: v2}}\n      \
                spec: {containers: [{name: c, resources: {requests: {cpu: \"3\"}}}]}\n  \
                nodes:\n    big:\n      status: {allocatable: {cpu: \"8\", memory: 16Gi, pods: \"110\"}}\n\
                events:\n- {at: 10s, rollout: {kind: Deployment, name: shop/web, template: web-v2}}\n\
                - {at: 20s, addNodes: {template: big}}\n";
    let out = run(&input, &scenario(text));
    let left = live(&out, "shop/web-");
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(
        left.iter().all(|(_, s)| *s == PodStatus::Scheduled),
        "{left:?}"
    );
    let cpu: Vec<u32> = out.nodes.iter().map(|n| n.pods).collect();
    assert_eq!(cpu.iter().sum::<u32>(), 4, "{cpu:?}");
}
