//! The manifests of `deploy/` stay true to the daemon: the ConfigMap's configuration parses
//! and validates, the Deployment probes the daemon's paths on its port, RBAC grants what the
//! daemon calls and the Lease Role names the configured Lease.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use sched_bin::daemon::DEFAULT_PORT;
use sched_core::config::SchedulerConfig;
use serde_json::Value;

fn read(name: &str) -> String {
    let path = format!("{}/../deploy/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn config() -> SchedulerConfig {
    let cm: ConfigMap = serde_saphyr::from_str(&read("configmap.yaml")).unwrap();
    let text = cm
        .data
        .unwrap()
        .remove("config.yaml")
        .expect("config.yaml key");
    SchedulerConfig::from_yaml(&text).expect("the shipped configuration is valid")
}

#[test]
fn configmap_holds_a_valid_leader_elected_configuration() {
    let cfg = config();
    assert!(cfg.leader_election.leader_elect);
    assert_eq!(cfg.leader_election.resource_name, "placer");
    assert_eq!(cfg.leader_election.resource_namespace, "placer-system");
    assert_eq!(cfg.profiles.len(), 1);
    assert_eq!(cfg.profiles[0].scheduler_name, "placer");
    let example: Value = serde_saphyr::from_str(&read("example-pod.yaml")).unwrap();
    assert_eq!(
        example["spec"]["schedulerName"], "placer",
        "the example pod selects the profile"
    );
}

#[test]
fn deployment_runs_two_replicas_with_probes_on_the_daemon_port() {
    let d: Deployment = serde_saphyr::from_str(&read("deployment.yaml")).unwrap();
    let spec = d.spec;
    assert_eq!(spec.replicas, Some(2));
    let pod = spec.template.spec.unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some("placer"));
    let c = &pod.containers[0];
    let args = c.args.clone().unwrap();
    assert_eq!(&args[..3], ["run", "--config", "/etc/placer/config.yaml"]);
    let port = &c.ports.as_ref().unwrap()[0];
    assert_eq!(port.container_port, i32::from(DEFAULT_PORT));
    let live = c
        .liveness_probe
        .as_ref()
        .unwrap()
        .http_get
        .as_ref()
        .unwrap();
    let ready = c
        .readiness_probe
        .as_ref()
        .unwrap()
        .http_get
        .as_ref()
        .unwrap();
    assert_eq!(live.path.as_deref(), Some("/livez"));
    assert_eq!(ready.path.as_deref(), Some("/readyz"));
    let res = c.resources.as_ref().unwrap();
    assert!(res.requests.is_some() && res.limits.is_some());
}

fn rules(file: &str, kind: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(&read(file)).unwrap();
    docs.into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("{file} has no {kind}"))["rules"]
        .as_array()
        .unwrap()
        .clone()
}

fn grants(rules: &[Value], group: &str, resource: &str, verb: &str) -> bool {
    let has =
        |r: &Value, k: &str, v: &str| r[k].as_array().is_some_and(|a| a.iter().any(|x| x == v));
    rules.iter().any(|r| {
        has(r, "apiGroups", group) && has(r, "resources", resource) && has(r, "verbs", verb)
    })
}

#[test]
fn cluster_role_is_minimal_and_sufficient() {
    let r = rules("clusterrole.yaml", "ClusterRole");
    let must = [
        ("", "nodes", "watch"),
        ("", "pods", "watch"),
        ("", "pods", "list"),
        ("", "pods/binding", "create"),
        ("", "pods/status", "patch"),
        ("events.k8s.io", "events", "create"),
        ("", "namespaces", "list"),
        ("", "namespaces", "watch"),
        ("", "services", "list"),
        ("", "services", "watch"),
        ("", "replicationcontrollers", "list"),
        ("", "replicationcontrollers", "watch"),
        ("apps", "replicasets", "list"),
        ("apps", "replicasets", "watch"),
        ("apps", "statefulsets", "list"),
        ("apps", "statefulsets", "watch"),
    ];
    for (group, resource, verb) in must {
        assert!(
            grants(&r, group, resource, verb),
            "missing {verb} {group}/{resource}"
        );
    }
    for (group, resource, verb) in [
        ("", "pods", "delete"),
        ("", "nodes", "update"),
        ("", "secrets", "get"),
        // Shown unused on a real API server (controlplane_e2e) and removed.
        ("", "nodes", "get"),
        ("", "pods", "get"),
        ("events.k8s.io", "events", "patch"),
        // The watched objects are only listed and watched, never read one by one or written.
        ("", "namespaces", "get"),
        ("", "services", "get"),
        ("", "services", "update"),
        ("", "replicationcontrollers", "get"),
        ("apps", "replicasets", "get"),
        ("apps", "statefulsets", "get"),
        ("apps", "deployments", "list"),
        ("", "endpoints", "list"),
        ("", "replicasets", "list"),
        ("apps", "services", "list"),
    ] {
        assert!(
            !grants(&r, group, resource, verb),
            "too broad: {verb} {group}/{resource}"
        );
    }
    // Exactly these, nothing more: what the rules grant, (group, resource, verb) by
    // (group, resource, verb), is the list above plus get/list on nodes and get on pods.
    let mut granted = std::collections::BTreeSet::new();
    for x in &r {
        let items = |k: &str| {
            x[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        for g in items("apiGroups") {
            for res in items("resources") {
                for v in items("verbs") {
                    granted.insert((g.clone(), res.clone(), v));
                }
            }
        }
    }
    let mut expected: std::collections::BTreeSet<(String, String, String)> = must
        .iter()
        .map(|(g, r, v)| ((*g).to_string(), (*r).to_string(), (*v).to_string()))
        .collect();
    expected.insert((String::new(), "nodes".to_string(), "list".to_string()));
    assert_eq!(granted, expected, "nothing beyond the list above");
    assert!(
        r.iter().all(|x| x.get("resourceNames").is_none()
            && x["verbs"].as_array().unwrap().iter().all(|v| v != "*")
            && x["resources"].as_array().unwrap().iter().all(|v| v != "*")),
        "no wildcards"
    );
}

#[test]
fn lease_role_names_the_configured_lease() {
    let cfg = config();
    let r = rules("role-lease.yaml", "Role");
    let named = r
        .iter()
        .find(|x| x["verbs"].as_array().unwrap().iter().any(|v| v == "update"))
        .unwrap();
    assert_eq!(
        named["resourceNames"][0],
        cfg.leader_election.resource_name.as_str()
    );
    assert!(grants(&r, "coordination.k8s.io", "leases", "get"));
    assert!(grants(&r, "coordination.k8s.io", "leases", "create"));
}
