//! The synthetic clusters the benches (and the simulator's speed runs) share.
//!
//! Deterministic for a seed. Nodes come in a few realistic shapes across zones, with labels
//! (zone, instance type, disk), a tenth tainted for dedicated workloads and a few cordoned.
//! Pods come in mixed sizes, a fraction with node selectors, preferred affinity, tolerations
//! and extended resources, so every default plugin has work to do.

use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;

/// A small, fast, seeded PRNG (splitmix64): the benches need reproducible clusters, not quality.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// `true` with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];
/// (instance type, cpu cores, memory GiB, gpus)
const SHAPES: [(&str, u64, u64, u64); 4] = [
    ("m5.2xlarge", 8, 32, 0),
    ("m5.4xlarge", 16, 64, 0),
    ("r5.4xlarge", 16, 128, 0),
    ("p4d.8xlarge", 32, 256, 4),
];

/// One synthetic node.
#[must_use]
pub fn node(i: usize, rng: &mut Rng) -> Node {
    let (itype, cpu, mem, gpus) =
        SHAPES[(rng.below(100) as usize * SHAPES.len()) / 100 % SHAPES.len()];
    let zone = ZONES[i % ZONES.len()];
    let mut alloc = serde_json::Map::new();
    alloc.insert("cpu".into(), json!(format!("{}m", cpu * 1000 - 100)));
    alloc.insert("memory".into(), json!(format!("{}Mi", mem * 1024 - 512)));
    alloc.insert("pods".into(), json!("110"));
    alloc.insert("ephemeral-storage".into(), json!("100Gi"));
    if gpus > 0 {
        alloc.insert("nvidia.com/gpu".into(), json!(gpus.to_string()));
    }
    let mut taints = Vec::new();
    if gpus > 0 {
        taints.push(json!({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}));
    } else if rng.chance(5) {
        taints.push(json!({"key": "dedicated", "value": "batch", "effect": "NoSchedule"}));
    }
    if rng.chance(10) {
        taints.push(json!({"key": "maintenance", "effect": "PreferNoSchedule"}));
    }
    let cordoned = rng.chance(1);
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": format!("node-{i:05}"), "labels": {
            "kubernetes.io/hostname": format!("node-{i:05}"),
            "topology.kubernetes.io/zone": zone,
            "node.kubernetes.io/instance-type": itype,
            "disktype": if rng.chance(30) { "ssd" } else { "hdd" },
            "pool": format!("pool-{}", i % 20),
        }},
        "spec": {"taints": taints, "unschedulable": cordoned},
        "status": {"allocatable": alloc, "images": [
            {"names": ["registry.example.com/app:1.0"], "sizeBytes": 250_000_000},
        ]}
    }))
    .expect("synthetic node")
}

/// One synthetic pod; `node` binds it (a running pod), `None` leaves it pending.
#[must_use]
pub fn pod(i: usize, node: Option<&str>, rng: &mut Rng) -> Pod {
    // Small pods dominate, as in real clusters.
    let (cpu, mem) = match rng.below(100) {
        0..=59 => (50 + rng.below(200), 64 + rng.below(448)),
        60..=89 => (250 + rng.below(750), 256 + rng.below(1792)),
        90..=98 => (1000 + rng.below(1000), 2048 + rng.below(4096)),
        _ => (2000 + rng.below(2000), 4096 + rng.below(8192)),
    };
    let mut requests = serde_json::Map::new();
    requests.insert("cpu".into(), json!(format!("{cpu}m")));
    requests.insert("memory".into(), json!(format!("{mem}Mi")));
    let mut spec = serde_json::Map::new();
    let mut tolerations = Vec::new();
    if rng.chance(2) {
        requests.insert("nvidia.com/gpu".into(), json!("1"));
        tolerations
            .push(json!({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}));
    }
    if rng.chance(5) {
        tolerations.push(json!({"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}));
    }
    if rng.chance(10) {
        spec.insert("nodeSelector".into(), json!({"disktype": "ssd"}));
    }
    if rng.chance(20) {
        spec.insert(
            "affinity".into(),
            json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 50, "preference": {"matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [ZONES[i % 3]]}]}}
            ]}}),
        );
    }
    spec.insert("tolerations".into(), json!(tolerations));
    spec.insert(
        "containers".into(),
        json!([{"name": "app", "image": "registry.example.com/app:1.0", "resources": {"requests": requests}}]),
    );
    if let Some(n) = node {
        spec.insert("nodeName".into(), json!(n));
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("pod-{i:06}"), "namespace": format!("ns-{}", i % 50),
                     "creationTimestamp": "2026-11-21T00:00:00Z"},
        "spec": spec,
        "status": {"phase": if node.is_some() { "Running" } else { "Pending" }}
    }))
    .expect("synthetic pod")
}

/// A cluster of `nodes` nodes and `pods` running pods. Pods are spread round-robin, each on
/// the next node that could really hold it (taints tolerated, selector met, GPUs present,
/// under 85% cpu), so the cluster is busy but not overcommitted.
#[must_use]
pub fn synthetic_cluster(nodes: usize, pods: usize, seed: u64) -> (Vec<Node>, Vec<Pod>) {
    let mut rng = Rng::new(seed);
    let node_list: Vec<Node> = (0..nodes).map(|i| node(i, &mut rng)).collect();
    let mut slots: Vec<Slot> = node_list.iter().map(Slot::of).collect();
    let mut cursor = 0;
    let mut pod_list = Vec::with_capacity(pods);
    for i in 0..pods {
        let mut p = pod(i, None, &mut rng);
        let want = Want::of(&p);
        let n = slots.len();
        let mut chosen = cursor % n.max(1);
        for k in 0..n.min(64) {
            let j = (cursor + k) % n;
            if slots[j].fits(&want) {
                chosen = j;
                break;
            }
        }
        cursor = chosen + 1;
        slots[chosen].used_milli += want.milli;
        if let Some(spec) = p.spec.as_mut() {
            spec.node_name = Some(slots[chosen].name.clone());
        }
        if let Some(status) = p.status.as_mut() {
            status.phase = Some("Running".into());
        }
        pod_list.push(p);
    }
    (node_list, pod_list)
}

struct Slot {
    name: String,
    milli: u64,
    used_milli: u64,
    gpu: bool,
    ssd: bool,
    batch_taint: bool,
    cordoned: bool,
}

impl Slot {
    fn of(n: &Node) -> Slot {
        let labels = n.metadata.labels.clone().unwrap_or_default();
        let alloc = n
            .status
            .as_ref()
            .and_then(|s| s.allocatable.clone())
            .unwrap_or_default();
        let cpu = alloc
            .get("cpu")
            .map_or(0, |q| q.0.trim_end_matches('m').parse().unwrap_or(0));
        let taints = n
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        Slot {
            name: n.metadata.name.clone().unwrap_or_default(),
            milli: cpu,
            used_milli: 0,
            gpu: alloc.contains_key("nvidia.com/gpu"),
            ssd: labels.get("disktype").is_some_and(|d| d == "ssd"),
            batch_taint: taints.iter().any(|t| t.key == "dedicated"),
            cordoned: n
                .spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false),
        }
    }

    fn fits(&self, w: &Want) -> bool {
        !self.cordoned
            && self.gpu == w.gpu
            && (!w.ssd || self.ssd)
            && (!self.batch_taint || w.batch)
            && (self.used_milli + w.milli) * 100 <= self.milli * 85
    }
}

struct Want {
    milli: u64,
    gpu: bool,
    ssd: bool,
    batch: bool,
}

impl Want {
    fn of(p: &Pod) -> Want {
        let spec = p.spec.as_ref();
        let req = spec
            .and_then(|s| s.containers.first())
            .and_then(|c| c.resources.as_ref())
            .and_then(|r| r.requests.clone())
            .unwrap_or_default();
        let tol = spec.and_then(|s| s.tolerations.clone()).unwrap_or_default();
        Want {
            milli: req
                .get("cpu")
                .map_or(0, |q| q.0.trim_end_matches('m').parse().unwrap_or(0)),
            gpu: req.contains_key("nvidia.com/gpu"),
            ssd: spec.and_then(|s| s.node_selector.as_ref()).is_some(),
            batch: tol.iter().any(|t| t.key.as_deref() == Some("dedicated")),
        }
    }
}

/// `count` pending pods, numbered after `start`.
#[must_use]
pub fn pending_pods(start: usize, count: usize, seed: u64) -> Vec<Pod> {
    let mut rng = Rng::new(seed ^ 0x5eed);
    (start..start + count)
        .map(|i| pod(i, None, &mut rng))
        .collect()
}

/// How the pods of [`workload_cluster`]'s Deployments keep apart on hostnames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostnameAntiAffinity {
    /// `preferredDuringScheduling…` podAntiAffinity on `kubernetes.io/hostname`, weight 100.
    Preferred,
    /// `requiredDuringScheduling…` podAntiAffinity on `kubernetes.io/hostname`.
    Required,
}

/// A cluster of Deployments as kubectl would show it: `nodes` synthetic nodes; `deployments`
/// Deployments of `replicas` running pods each, every one with a ReplicaSet (the pods' controller,
/// with `pod-template-hash`), a Service selecting its pods, `ScheduleAnyway` zone spreading
/// (maxSkew 1) and hostname anti-affinity; plus what [`workload_pod`] needs to make one more
/// replica. Replicas of a Deployment are on distinct nodes.
#[derive(Clone, Debug)]
pub struct WorkloadCluster {
    /// The nodes.
    pub nodes: Vec<Node>,
    /// The running pods.
    pub pods: Vec<Pod>,
    /// One Service per Deployment.
    pub services: Vec<k8s_openapi::api::core::v1::Service>,
    /// One ReplicaSet per Deployment.
    pub replica_sets: Vec<k8s_openapi::api::apps::v1::ReplicaSet>,
    /// Which hostname anti-affinity the pods carry.
    pub anti_affinity: HostnameAntiAffinity,
}

/// See [`WorkloadCluster`].
#[must_use]
pub fn workload_cluster(
    nodes: usize,
    deployments: usize,
    replicas: usize,
    anti_affinity: HostnameAntiAffinity,
    seed: u64,
) -> WorkloadCluster {
    let mut rng = Rng::new(seed);
    let node_list: Vec<Node> = (0..nodes).map(|i| node(i, &mut rng)).collect();
    let mut pods = Vec::with_capacity(deployments * replicas);
    let mut services = Vec::with_capacity(deployments);
    let mut replica_sets = Vec::with_capacity(deployments);
    let stride = (nodes / replicas.max(1)).max(1);
    for d in 0..deployments {
        let (ns, app, hash) = workload_names(d);
        services.push(
            serde_json::from_value(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": app, "namespace": ns},
                "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}}))
            .expect("synthetic service"),
        );
        replica_sets.push(
            serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": format!("{app}-{hash}"), "namespace": ns},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app, "pod-template-hash": hash}},
                         "template": {"metadata": {"labels": {"app": app, "pod-template-hash": hash}}}}}))
            .expect("synthetic replicaset"),
        );
        for k in 0..replicas {
            let node = (d + k * stride) % nodes.max(1);
            let name = format!("node-{node:05}");
            pods.push(workload_pod(d, k, Some(&name), anti_affinity));
        }
    }
    WorkloadCluster {
        nodes: node_list,
        pods,
        services,
        replica_sets,
        anti_affinity,
    }
}

fn workload_names(d: usize) -> (String, String, String) {
    (
        format!("ns-{}", d % 50),
        format!("dep-{d:04}"),
        format!("{:08x}", d.wrapping_mul(2_654_435_761) & 0xffff_ffff),
    )
}

/// Replica `k` of Deployment `d` of a [`workload_cluster`]; `node` binds it.
#[must_use]
pub fn workload_pod(d: usize, k: usize, node: Option<&str>, anti: HostnameAntiAffinity) -> Pod {
    let (ns, app, hash) = workload_names(d);
    let term = json!({"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": app}}});
    let anti_affinity = match anti {
        HostnameAntiAffinity::Preferred => {
            json!({"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": term}]})
        }
        HostnameAntiAffinity::Required => {
            json!({"requiredDuringSchedulingIgnoredDuringExecution": [term]})
        }
    };
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{app}-{hash}-{k:05}"), "namespace": ns,
                     "labels": {"app": app, "pod-template-hash": hash},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                         "name": format!("{app}-{hash}"), "uid": format!("uid-{d}"), "controller": true}],
                     "creationTimestamp": "2026-11-21T00:00:00Z"},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": "registry.example.com/app:1.0",
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": app}},
                "matchLabelKeys": ["pod-template-hash"]}],
            "affinity": {"podAntiAffinity": anti_affinity}
        },
        "status": {"phase": if node.is_some() { "Running" } else { "Pending" }}
    }))
    .expect("synthetic workload pod")
}

impl WorkloadCluster {
    /// Loads the cluster into a state.
    ///
    /// # Panics
    /// On a synthetic object that does not convert (a bug in the generator).
    #[must_use]
    pub fn state(&self) -> sched_core::ClusterState {
        let mut state = sched_core::ClusterState::new();
        for n in &self.nodes {
            let info = state.convert_node(n).expect("node");
            state.add_node(info).expect("node");
        }
        for s in &self.services {
            state.apply_service(s).expect("service");
        }
        for r in &self.replica_sets {
            state.apply_replica_set(r).expect("replicaset");
        }
        for p in &self.pods {
            let info = state.convert_pod(p).expect("pod");
            state.add_pod(info).expect("pod");
        }
        state
    }
}
