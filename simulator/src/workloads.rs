//! Workload controllers, run once on a snapshot and again on a scenario's `scale` events: the
//! pods a Deployment, ReplicaSet, StatefulSet, DaemonSet or Job would have its controller
//! create, made as upstream's controllers make them (`pkg/controller/{deployment,replicaset,
//! statefulset,daemon,job}`).
//!
//! Pods already owned by a workload count toward it (a pod is owned when its controller
//! `ownerReference` names the workload's kind and name in its namespace and, when both carry
//! one, its uid; without uids the pod's labels must also match the workload's selector). Only
//! missing pods are created, pending, with a controller owner reference, so that the scheduler,
//! preemption and `kubectl drain` see them as the controller's pods.
//!
//! Names: upstream gives ReplicaSet, DaemonSet and Job pods `generateName` plus five random
//! characters; Placer draws the five characters from the same alphabet with a deterministic
//! generator seeded by the owner's namespace, name and an index, so that a snapshot always
//! gives the same names. `pod-template-hash` is upstream's shape (FNV-32a, encoded with the
//! same alphabet) over Placer's serialization of the template, so its value differs from the
//! one a live API server shows; within a run it tells templates apart as upstream's does.

use crate::snapshot::{Problem, Snapshot, Source};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec,
    PodTemplateSpec, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sched_core::state::ClusterState;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// The most pods one workload may ask for (as a scenario event's `count`).
pub const MAX_WORKLOAD_PODS: i64 = crate::scenario::MAX_COUNT as i64;

/// upstream `DefaultDeploymentUniqueLabelKey`.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// upstream `StatefulSetPodNameLabel`.
pub const STATEFULSET_POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
/// upstream `PodIndexLabel` (StatefulSet and Indexed Job pods).
pub const POD_INDEX: &str = "apps.kubernetes.io/pod-index";
/// upstream `ControllerRevisionHashLabelKey`.
pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";
/// upstream `JobCompletionIndexAnnotation` (also a label since 1.28).
pub const JOB_COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// upstream `k8s.io/apimachinery/pkg/util/rand` alphabet (no vowels, no 0, 1, 3).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The tolerations upstream's DaemonSet controller adds to every DaemonSet pod
/// (`pkg/controller/daemon/util.AddOrUpdateDaemonPodTolerations`): key and effect, operator
/// `Exists`, no `tolerationSeconds`; `network-unavailable` only for `hostNetwork` pods.
pub const DAEMON_TOLERATIONS: [(&str, &str); 6] = [
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
];
/// Added for `hostNetwork` DaemonSet pods.
pub const DAEMON_HOST_NETWORK_TOLERATION: (&str, &str) =
    ("node.kubernetes.io/network-unavailable", "NoSchedule");

fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn fnv64a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// upstream `rand.SafeEncodeString`: each byte mapped into [`ALPHANUMS`].
fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// The `pod-template-hash` of a template (labels without `pod-template-hash`), with
/// upstream's collision count folded in when non-zero.
#[must_use]
pub fn template_hash(template: &PodTemplateSpec, collision: u32) -> String {
    let mut t = template.clone();
    strip_hash_label(&mut t);
    let mut bytes = serde_json::to_vec(&t).unwrap_or_default();
    if collision > 0 {
        bytes.extend_from_slice(&collision.to_le_bytes());
    }
    safe_encode(&fnv32a(&bytes).to_string())
}

fn strip_hash_label(t: &mut PodTemplateSpec) {
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH);
        if labels.is_empty() {
            t.metadata.as_mut().expect("has labels").labels = None;
        }
    }
}

/// upstream `EqualIgnoreHash`: the templates are equal once `pod-template-hash` is removed.
fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    strip_hash_label(&mut a);
    strip_hash_label(&mut b);
    serde_json::to_value(&a).ok() == serde_json::to_value(&b).ok()
}

/// Five characters of [`ALPHANUMS`], from `seed` and `n`.
fn suffix(seed: &str, n: u64) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    bytes.extend_from_slice(&n.to_le_bytes());
    let mut h = fnv64a(&bytes);
    (0..5)
        .map(|_| {
            let c = ALPHANUMS[(h % ALPHANUMS.len() as u64) as usize] as char;
            h /= ALPHANUMS.len() as u64;
            c
        })
        .collect()
}

/// A deterministic RFC 4122-shaped uid for a workload written without one.
fn synthetic_uid(kind: &str, ns: &str, name: &str) -> String {
    let a = fnv64a(format!("{kind}/{ns}/{name}").as_bytes());
    let b = fnv64a(format!("{name}/{ns}/{kind}").as_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// Label selection as upstream `metav1.LabelSelectorAsSelector`: every `matchLabels` pair and
/// every expression must hold (an empty selector matches everything).
#[must_use]
pub fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && sel.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            let have = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => have.is_some_and(|v| values.contains(v)),
                "NotIn" => have.is_none_or(|v| !values.contains(v)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            }
        })
}

/// API-server validation of a workload's selector against its template's labels (apps/v1
/// `ValidateDeploymentSpec` and friends): non-empty, well-formed, and selecting the template.
fn check_selector(
    kind: &str,
    sel: &LabelSelector,
    labels: Option<&BTreeMap<String, String>>,
) -> Result<(), (String, String)> {
    let empty = sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
        && sel.match_expressions.as_ref().is_none_or(Vec::is_empty);
    if empty {
        return Err((
            "spec.selector".into(),
            format!("empty selector is invalid for {}", kind.to_lowercase()),
        ));
    }
    for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
        let field = format!("spec.selector.matchExpressions[{i}]");
        let n = e.values.as_ref().map_or(0, Vec::len);
        match e.operator.as_str() {
            "In" | "NotIn" if n == 0 => {
                return Err((
                    format!("{field}.values"),
                    "must be specified when `operator` is 'In' or 'NotIn'".into(),
                ));
            }
            "Exists" | "DoesNotExist" if n > 0 => {
                return Err((
                    format!("{field}.values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'".into(),
                ));
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => {
                return Err((
                    format!("{field}.operator"),
                    format!(
                        "{other:?} is not a valid selector operator: expected In, NotIn, Exists or DoesNotExist"
                    ),
                ));
            }
        }
    }
    let empty_labels = BTreeMap::new();
    if !selector_matches(sel, labels.unwrap_or(&empty_labels)) {
        return Err((
            "spec.template.metadata.labels".into(),
            "`selector` does not match template `labels`".into(),
        ));
    }
    Ok(())
}

/// upstream `ValidateDeploymentStrategy` / `ValidateRollingUpdateDeployment`: `type`
/// RollingUpdate or Recreate (no `rollingUpdate` with Recreate); `maxSurge` and
/// `maxUnavailable` non-negative integers or `N%` strings, `maxUnavailable` at most 100%, and
/// not both 0.
fn check_strategy(d: &Deployment) -> Result<(), (String, String)> {
    let Some(st) = d.spec.strategy.as_ref() else {
        return Ok(());
    };
    match st.type_.as_deref() {
        None | Some("RollingUpdate") => {}
        Some("Recreate") if st.rolling_update.is_some() => {
            return Err((
                "spec.strategy.rollingUpdate".into(),
                "may not be specified when strategy `type` is 'Recreate'".into(),
            ));
        }
        Some("Recreate") => return Ok(()),
        Some(other) => {
            return Err((
                "spec.strategy.type".into(),
                format!("{other:?}: expected RollingUpdate or Recreate"),
            ));
        }
    }
    let Some(ru) = st.rolling_update.as_ref() else {
        return Ok(());
    };
    // (is zero, percent value when a percent)
    let one = |v: Option<&IntOrString>,
               key: &str|
     -> Result<(bool, Option<i64>), (String, String)> {
        let field = format!("spec.strategy.rollingUpdate.{key}");
        match v {
            None => Ok((false, None)),
            Some(IntOrString::Int(i)) if *i < 0 => {
                Err((field, format!("{i}: must be greater than or equal to 0")))
            }
            Some(IntOrString::Int(i)) => Ok((*i == 0, None)),
            Some(IntOrString::String(s)) => {
                let digits = s
                    .strip_suffix('%')
                    .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
                match digits.and_then(|d| d.parse::<i64>().ok()) {
                    Some(p) => Ok((p == 0, Some(p))),
                    None => Err((
                        field,
                        format!(
                            "{s:?}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%')"
                        ),
                    )),
                }
            }
        }
    };
    let (surge_zero, _) = one(ru.max_surge.as_ref(), "maxSurge")?;
    let (unavailable_zero, pct) = one(ru.max_unavailable.as_ref(), "maxUnavailable")?;
    if pct.is_some_and(|p| p > 100) {
        return Err((
            "spec.strategy.rollingUpdate.maxUnavailable".into(),
            "must not be greater than 100%".into(),
        ));
    }
    if surge_zero && unavailable_zero {
        return Err((
            "spec.strategy.rollingUpdate.maxUnavailable".into(),
            "may not be 0 when `maxSurge` is 0".into(),
        ));
    }
    Ok(())
}

fn check_count(v: Option<i32>, field: &str) -> Result<(), (String, String)> {
    match v {
        Some(n) if n < 0 => Err((
            field.into(),
            format!("{n}: must be greater than or equal to 0"),
        )),
        Some(n) if i64::from(n) > MAX_WORKLOAD_PODS => Err((
            field.into(),
            format!("{n} is too many: at most {MAX_WORKLOAD_PODS} pods per workload"),
        )),
        _ => Ok(()),
    }
}

fn check_template_spec(spec: Option<&PodSpec>) -> Result<(), (String, String)> {
    match spec {
        None => Err((
            "spec.template.spec".into(),
            "required: the pods' spec (containers, resources, …)".into(),
        )),
        Some(s) if s.containers.is_empty() => Err((
            "spec.template.spec.containers".into(),
            "required: at least one container".into(),
        )),
        Some(_) => Ok(()),
    }
}

/// What a controller reads of one existing pod.
#[derive(Clone, Debug)]
struct Existing {
    name: String,
    labels: BTreeMap<String, String>,
    /// Not terminal and not being deleted (upstream `FilterActivePods` / `IsPodActive`).
    active: bool,
    succeeded: bool,
    /// `spec.nodeName`, else the `metadata.name In [node]` of its required node affinity
    /// (upstream `GetTargetNodeName`).
    target_node: Option<String>,
    /// `batch.kubernetes.io/job-completion-index`.
    completion_index: Option<i64>,
    /// The controller reference's uid.
    owner_uid: String,
}

fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().find_map(|t| {
        t.match_fields.iter().flatten().find_map(|f| {
            (f.key == "metadata.name" && f.operator == "In")
                .then(|| f.values.as_ref().filter(|v| v.len() == 1)?.first().cloned())
                .flatten()
        })
    })
}

/// The snapshot's pods by controller (namespace, kind, name), built once.
struct Owned {
    by_owner: HashMap<(String, String, String), Vec<Existing>>,
    /// Every pod key (`ns/name`) the snapshot holds or a controller created.
    keys: HashSet<String>,
}

impl Owned {
    fn new(pods: &[(Source, Pod)]) -> Owned {
        let mut by_owner: HashMap<(String, String, String), Vec<Existing>> = HashMap::new();
        let mut keys = HashSet::with_capacity(pods.len());
        for (_, pod) in pods {
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            let name = pod.metadata.name.clone().unwrap_or_default();
            keys.insert(format!("{ns}/{name}"));
            let Some(owner) = pod
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.controller == Some(true))
            else {
                continue;
            };
            let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
            let terminal = matches!(phase, Some("Succeeded" | "Failed"));
            let e = Existing {
                name,
                labels: pod.metadata.labels.clone().unwrap_or_default(),
                active: !terminal && pod.metadata.deletion_timestamp.is_none(),
                succeeded: phase == Some("Succeeded"),
                target_node: target_node(pod),
                completion_index: pod
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(JOB_COMPLETION_INDEX))
                    .and_then(|v| v.parse().ok()),
                owner_uid: owner.uid.clone(),
            };
            by_owner
                .entry((ns.to_string(), owner.kind.clone(), owner.name.clone()))
                .or_default()
                .push(e);
        }
        Owned { by_owner, keys }
    }

    /// The pods `kind ns/name` controls (see the module documentation).
    fn of(
        &self,
        kind: &str,
        ns: &str,
        name: &str,
        uid: &str,
        sel: &LabelSelector,
    ) -> Vec<&Existing> {
        self.by_owner
            .get(&(ns.to_string(), kind.to_string(), name.to_string()))
            .map(|v| {
                v.iter()
                    .filter(|e| {
                        if !uid.is_empty() && !e.owner_uid.is_empty() {
                            e.owner_uid == uid
                        } else {
                            selector_matches(sel, &e.labels)
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `<base><5 chars>`, free in the namespace.
    fn generate_name(&mut self, ns: &str, base: &str) -> String {
        let mut n = 0u64;
        loop {
            let name = format!("{base}{}", suffix(&format!("{ns}/{base}"), n));
            if self.keys.insert(format!("{ns}/{name}")) {
                return name;
            }
            n += 1;
        }
    }
}

fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// upstream `GetPodFromTemplate`: labels, annotations, finalizers and spec of the template,
/// the controller owner reference, pending (no status).
fn pod_from_template(t: &PodTemplateSpec, ns: &str, name: &str, owner: OwnerReference) -> Pod {
    let tm = t.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: t.spec.clone(),
        status: None,
    }
}

fn add_label(pod: &mut Pod, k: &str, v: &str) {
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(k.into(), v.into());
}

/// upstream `AddOrUpdateTolerationInPodSpec`: a toleration equal in key, operator, value and
/// effect is replaced, otherwise the toleration is appended.
fn add_or_update_toleration(spec: &mut PodSpec, key: &str, effect: &str) {
    let new = Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Toleration::default()
    };
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    let same = |t: &Toleration| {
        t.key.as_deref() == Some(key)
            && t.operator.as_deref() == Some("Exists")
            && t.value.as_deref().unwrap_or_default().is_empty()
            && t.effect.as_deref() == Some(effect)
    };
    match list.iter_mut().find(|t| same(t)) {
        Some(t) => *t = new,
        None => list.push(new),
    }
}

/// upstream `ReplaceDaemonSetPodNodeNameNodeAffinity`: the required node affinity becomes the
/// single term `matchFields metadata.name In [node]` (preferred terms are kept).
fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let term = NodeSelectorTerm {
        match_fields: Some(vec![NodeSelectorRequirement {
            key: "metadata.name".into(),
            operator: "In".into(),
            values: Some(vec![node.into()]),
        }]),
        match_expressions: None,
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![term],
    });
}

/// upstream DaemonSet `Predicates`: fitsNodeName, fitsNodeAffinity (nodeSelector and required
/// node affinity), fitsTaints (every NoSchedule and NoExecute taint tolerated, with the
/// controller's tolerations). `spec.unschedulable` is not read: DaemonSet pods tolerate
/// `node.kubernetes.io/unschedulable`.
fn daemon_fits(
    probe: &sched_core::model::PodInfo,
    fixed_node: Option<&str>,
    info: &sched_core::model::NodeInfo,
    interner: &sched_core::intern::Interner,
) -> bool {
    let fits_name = fixed_node.is_none_or(|n| n == &*info.name);
    let fits_affinity = sched_plugins::node_affinity::pod_matches_required(probe, info, interner);
    let fits_taints = info.taints.iter().all(|t| {
        matches!(t.effect, sched_core::model::TaintEffect::PreferNoSchedule)
            || probe.tolerations.iter().any(|tol| tol.tolerates(t))
    });
    fits_name && fits_affinity && fits_taints
}

/// A DaemonSet, to run its pod on nodes added during the run.
#[derive(Clone, Debug)]
pub struct DaemonRec {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The pod every new one starts from (with the controller's tolerations; no node yet).
    pub base: Arc<Pod>,
    issued: u64,
}

/// Which of the five kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `batch/v1` Job.
    Job,
}

impl Kind {
    /// Parses a kind as written (`Deployment`, `deployment`, `deploy`, …).
    #[must_use]
    pub fn parse(s: &str) -> Option<Kind> {
        match s.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Some(Kind::Deployment),
            "replicaset" | "replicasets" | "rs" => Some(Kind::ReplicaSet),
            "statefulset" | "statefulsets" | "sts" => Some(Kind::StatefulSet),
            "daemonset" | "daemonsets" | "ds" => Some(Kind::DaemonSet),
            "job" | "jobs" => Some(Kind::Job),
            _ => None,
        }
    }

    /// The kind's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::Job => "Job",
        }
    }
}

/// A ReplicaSet or StatefulSet the simulation can scale: what its controller stamps pods from.
#[derive(Clone, Debug)]
pub struct PodSet {
    /// ReplicaSet or StatefulSet.
    pub kind: Kind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The pod every new one starts from (labels, owner reference, spec; no name).
    pub template: Arc<Pod>,
    /// The ReplicaSet's pod template (to tell a Deployment's ReplicaSets apart).
    pub source_template: Option<PodTemplateSpec>,
    /// `spec.replicas`.
    pub replicas: i64,
    /// Its pods' names, in creation order (some may be gone since).
    pub members: Vec<String>,
    /// The Deployment owning this ReplicaSet.
    pub deployment: Option<String>,
    /// StatefulSet: `spec.ordinals.start`.
    pub start: i64,
    /// StatefulSet: `spec.serviceName` and the volume claim template names.
    service: Option<String>,
    claims: Vec<String>,
    /// Names generated by scale-ups so far (seeds the next, so names are never reused).
    issued: u64,
}

impl PodSet {
    /// The pod with ordinal `i` of a StatefulSet (upstream `newStatefulSetPod`): name
    /// `<set>-<i>`, `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index`
    /// labels, hostname and subdomain, and a PersistentVolumeClaim volume per claim template
    /// (`<claim>-<set>-<i>`).
    fn stateful_pod(&self, ordinal: i64) -> Pod {
        let mut pod = (*self.template).clone();
        let name = format!("{}-{ordinal}", self.name);
        pod.metadata.name = Some(name.clone());
        add_label(&mut pod, STATEFULSET_POD_NAME, &name);
        add_label(&mut pod, POD_INDEX, &ordinal.to_string());
        if let Some(spec) = pod.spec.as_mut() {
            spec.hostname = Some(name.clone());
            if let Some(s) = &self.service {
                spec.subdomain = Some(s.clone());
            }
            let volumes = spec.volumes.get_or_insert_with(Vec::new);
            for claim in &self.claims {
                let pvc = format!("{claim}-{}-{ordinal}", self.name);
                volumes.retain(|v| v.name != *claim);
                volumes.push(Volume {
                    name: claim.clone(),
                    persistent_volume_claim: Some(
                        k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                            claim_name: pvc,
                            read_only: None,
                        },
                    ),
                    ..Volume::default()
                });
            }
        }
        pod
    }
}

/// A Deployment the simulation can scale.
#[derive(Clone, Debug)]
pub struct DeploymentRec {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The index in [`Workloads::sets`] of its current ReplicaSet.
    pub current: Option<usize>,
    /// Every ReplicaSet of it in [`Workloads::sets`] (old ones included).
    pub sets: Vec<usize>,
    /// The Deployment as the snapshot has it (selector, template, strategy, replicas).
    pub object: Arc<Deployment>,
    /// Its uid (the snapshot's, or a generated one).
    pub uid: String,
}

/// The workloads of a run, for `scale` events.
#[derive(Clone, Debug, Default)]
pub struct Workloads {
    /// ReplicaSets (the snapshot's and those made for Deployments) and StatefulSets.
    pub sets: Vec<PodSet>,
    /// Deployments.
    pub deployments: Vec<DeploymentRec>,
    /// DaemonSets.
    pub daemon_sets: Vec<DaemonRec>,
    /// Deployments whose rollout has not completed (stalled): taken up again after each event.
    pub rolling: Vec<usize>,
}

impl Workloads {
    /// The set `kind ns/name` (a Deployment's current ReplicaSet for `Deployment`).
    #[must_use]
    pub fn find(&self, kind: Kind, key: &str) -> Option<usize> {
        let (ns, name) = key.split_once('/').unwrap_or(("default", key));
        match kind {
            Kind::Deployment => self
                .deployments
                .iter()
                .find(|d| d.namespace == ns && d.name == name)
                .and_then(|d| d.current),
            _ => self
                .sets
                .iter()
                .position(|s| s.kind == kind && s.namespace == ns && s.name == name),
        }
    }
}

/// What expanding a snapshot's workloads made.
#[derive(Debug, Default)]
pub struct Expansion {
    /// The missing pods, pending, with the Source of the workload that made each.
    pub pods: Vec<(Source, Pod)>,
    /// ReplicaSets made for Deployments that had no current one.
    pub replica_sets: Vec<(Source, ReplicaSet)>,
    /// The scalable workloads.
    pub workloads: Workloads,
    /// Deployments read (valid ones).
    pub deployments: usize,
    /// DaemonSets read.
    pub daemon_sets: usize,
    /// Jobs read.
    pub jobs: usize,
}

fn problem(source: &Source, kind: &str, key: &str, (field, message): (String, String)) -> Problem {
    Problem {
        source: source.clone(),
        object: format!("{kind} {key}"),
        field,
        message,
    }
}

fn meta_key(meta: &ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_else(|| "default".into()),
        meta.name.clone().unwrap_or_else(|| "<unnamed>".into()),
    )
}

fn uid_of(meta: &ObjectMeta, kind: &str, ns: &str, name: &str) -> String {
    meta.uid
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| synthetic_uid(kind, ns, name))
}

/// A workload's pod template as the API server checks it: a pod spec, a selector that selects
/// the template's labels, and a template that converts as a pod.
fn check_template(
    state: &mut ClusterState,
    kind: &str,
    selector: &LabelSelector,
    template: &PodTemplateSpec,
    ns: &str,
) -> Result<(), (String, String)> {
    check_template_spec(template.spec.as_ref())?;
    check_selector(
        kind,
        selector,
        template.metadata.as_ref().and_then(|m| m.labels.as_ref()),
    )?;
    check_convertible(state, template, ns)
}

/// Converts the template once, as a pod, so that its quantities, selectors and affinities are
/// checked against the workload (field paths under `spec.template`).
fn check_convertible(
    state: &mut ClusterState,
    t: &PodTemplateSpec,
    ns: &str,
) -> Result<(), (String, String)> {
    let pod = pod_from_template(t, ns, "template-check", owner_ref("v1", "Check", "c", ""));
    state.convert_pod(&pod).map(|_| ()).map_err(|e| match e {
        sched_core::state::StateError::Convert(c) => {
            let f = c.field.strip_prefix("metadata.").map_or_else(
                || format!("spec.template.{}", c.field),
                |m| format!("spec.template.metadata.{m}"),
            );
            (f, c.message)
        }
        other => ("spec.template".into(), other.to_string()),
    })
}

/// The RollingUpdate parameters of a Deployment, resolved against `replicas` as upstream
/// `ResolveFenceposts`: maxSurge rounds up, maxUnavailable down, both 25% by default, and
/// both 0 becomes maxUnavailable 1. `Recreate` is (surge 0, unavailable all).
#[must_use]
pub fn fenceposts(d: &Deployment, replicas: i64) -> (i64, i64) {
    let strategy = d.spec.strategy.as_ref();
    if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
        return (0, replicas);
    }
    let ru = strategy.and_then(|s| s.rolling_update.as_ref());
    let pct = |v: Option<&IntOrString>, up: bool| -> i64 {
        match v {
            Some(IntOrString::Int(i)) => i64::from(*i),
            Some(IntOrString::String(s)) => {
                // Checked at load (check_strategy): a bad string cannot reach here.
                let p: i64 = s.trim_end_matches('%').parse().unwrap_or(25);
                let x = replicas * p;
                if up { (x + 99) / 100 } else { x / 100 }
            }
            None => {
                let x = replicas * 25;
                if up { (x + 99) / 100 } else { x / 100 }
            }
        }
    };
    let surge = pct(ru.and_then(|r| r.max_surge.as_ref()), true);
    let mut unavailable = pct(ru.and_then(|r| r.max_unavailable.as_ref()), false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// Runs each workload's controller once over the snapshot: the pods (and ReplicaSets) missing.
/// Invalid workloads are problems naming the file, `kind ns/name` and the field; they make
/// nothing.
pub fn expand(snap: &Snapshot, state: &mut ClusterState, problems: &mut Vec<Problem>) -> Expansion {
    let mut out = Expansion::default();
    let stamps_pods = !snap.deployments.is_empty()
        || !snap.daemon_sets.is_empty()
        || !snap.jobs.is_empty()
        || snap
            .replica_sets
            .iter()
            .any(|(_, rs)| rs.spec.template.as_ref().is_some_and(|t| t.spec.is_some()))
        || snap
            .stateful_sets
            .iter()
            .any(|(_, ss)| ss.spec.template.spec.is_some());
    if !stamps_pods {
        return out; // nothing to index the pods for (selector-only workloads)
    }
    let mut owned = Owned::new(&snap.pods);

    // Deployments: find (or make) the current ReplicaSet.
    let mut made_rs: Vec<(Source, ReplicaSet, usize)> = Vec::new();
    // The snapshot's ReplicaSets by controlling Deployment (with the reference's uid), and
    // their names: looked up, not scanned, per Deployment.
    let mut rs_by_deployment: HashMap<(String, String), Vec<(usize, String)>> = HashMap::new();
    let mut rs_names: HashSet<(String, String)> = HashSet::new();
    for (i, (_, rs)) in snap.replica_sets.iter().enumerate() {
        let (rns, rname) = meta_key(&rs.metadata);
        if let Some(o) = rs
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true) && o.kind == "Deployment")
        {
            rs_by_deployment
                .entry((rns.clone(), o.name.clone()))
                .or_default()
                .push((i, o.uid.clone()));
        }
        rs_names.insert((rns, rname));
    }
    let mut deployment_at: HashMap<(String, String), usize> = HashMap::new();
    for (source, d) in &snap.deployments {
        let (ns, name) = meta_key(&d.metadata);
        let key = format!("{ns}/{name}");
        let spec = &d.spec;
        let checked = check_count(spec.replicas, "spec.replicas")
            .and_then(|()| check_strategy(d))
            .and_then(|()| {
                check_template(state, "Deployment", &spec.selector, &spec.template, &ns)
            });
        if let Err(e) = checked {
            problems.push(problem(source, "Deployment", &key, e));
            continue;
        }
        out.deployments += 1;
        let uid = uid_of(&d.metadata, "Deployment", &ns, &name);
        let replicas = i64::from(spec.replicas.unwrap_or(1));
        // Its ReplicaSets: controller-owned by it.
        let mine: Vec<&(Source, ReplicaSet)> = rs_by_deployment
            .get(&(ns.clone(), name.clone()))
            .into_iter()
            .flatten()
            .map(|&(i, ref owner_uid)| (&snap.replica_sets[i], owner_uid))
            .filter(|(_, owner_uid)| {
                owner_uid.is_empty() || d.metadata.uid.as_deref().is_none_or(|u| u == *owner_uid)
            })
            .map(|(rs, _)| rs)
            .collect();
        let current = mine.iter().any(|(_, rs)| {
            rs.spec
                .template
                .as_ref()
                .is_some_and(|t| equal_ignore_hash(t, &spec.template))
        });
        deployment_at.insert((ns.clone(), name.clone()), out.workloads.deployments.len());
        out.workloads.deployments.push(DeploymentRec {
            namespace: ns.clone(),
            name: name.clone(),
            current: None,
            sets: Vec::new(),
            object: Arc::new(d.clone()),
            uid: uid.clone(),
        });
        if current || spec.paused == Some(true) {
            // The snapshot's current ReplicaSet keeps its replicas (a rollout or scale in
            // progress is not advanced); a paused Deployment makes no new ReplicaSet.
            continue;
        }
        // upstream getNewReplicaSet: a new ReplicaSet named <deployment>-<hash>, its replicas
        // what the rolling update allows next to the old ones (NewRSNewReplicas).
        let old: i64 = mine
            .iter()
            .map(|(_, rs)| i64::from(rs.spec.replicas.unwrap_or(1)))
            .sum();
        let (surge, _) = fenceposts(d, replicas);
        let new_replicas = if old == 0 {
            replicas
        } else {
            (replicas + surge - old).clamp(0, replicas)
        };
        let mut collision = 0;
        let (hash, rs_name) = loop {
            let h = template_hash(&spec.template, collision);
            let n = format!("{name}-{h}");
            if !rs_names.contains(&(ns.clone(), n.clone())) {
                break (h, n);
            }
            collision += 1;
        };
        let mut template = spec.template.clone();
        template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(rs_name.clone()),
                namespace: Some(ns.clone()),
                uid: Some(synthetic_uid("ReplicaSet", &ns, &rs_name)),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                owner_references: Some(vec![owner_ref("apps/v1", "Deployment", &name, &uid)]),
                ..ObjectMeta::default()
            },
            spec: ReplicaSetSpec {
                replicas: Some(i32::try_from(new_replicas).unwrap_or(i32::MAX)),
                selector,
                template: Some(template),
                min_ready_seconds: spec.min_ready_seconds,
            },
            status: None,
        };
        made_rs.push((source.clone(), rs, out.workloads.deployments.len() - 1));
    }

    // ReplicaSets: the snapshot's, then those just made.
    let all_rs = snap
        .replica_sets
        .iter()
        .map(|(s, rs)| (s, rs, None))
        .chain(made_rs.iter().map(|(s, rs, d)| (s, rs, Some(*d))));
    for (source, rs, made_for) in all_rs {
        let (ns, name) = meta_key(&rs.metadata);
        let key = format!("{ns}/{name}");
        let spec = &rs.spec;
        // Without a pod spec in its template, a ReplicaSet is read for its selector only
        // (what topology spreading needs), as Placer always has: nothing to stamp pods from.
        let Some(template) = spec.template.as_ref().filter(|t| t.spec.is_some()) else {
            continue;
        };
        let checked = check_count(spec.replicas, "spec.replicas")
            .and_then(|()| check_template(state, "ReplicaSet", &spec.selector, template, &ns));
        if let Err(e) = checked {
            problems.push(problem(source, "ReplicaSet", &key, e));
            continue;
        }
        let uid = uid_of(&rs.metadata, "ReplicaSet", &ns, &name);
        let replicas = i64::from(spec.replicas.unwrap_or(1));
        let existing = owned.of("ReplicaSet", &ns, &name, &uid, &spec.selector);
        let mut members: Vec<String> = existing
            .iter()
            .filter(|e| e.active)
            .map(|e| e.name.clone())
            .collect();
        let base = pod_from_template(
            template,
            &ns,
            "",
            owner_ref("apps/v1", "ReplicaSet", &name, &uid),
        );
        let missing = replicas - members.len() as i64;
        for _ in 0..missing.max(0) {
            let pod_name = owned.generate_name(&ns, &format!("{name}-"));
            let mut pod = base.clone();
            pod.metadata.name = Some(pod_name.clone());
            members.push(pod_name);
            out.pods.push((source.clone(), pod));
        }
        let deployment = made_for
            .map(|d| out.workloads.deployments[d].name.clone())
            .or_else(|| {
                rs.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .find(|o| o.controller == Some(true) && o.kind == "Deployment")
                    .map(|o| o.name.clone())
            });
        let idx = out.workloads.sets.len();
        if let Some(dname) = &deployment {
            // The Deployment's current ReplicaSet: the one made for it, or the snapshot's
            // whose template is the Deployment's.
            if let Some(&p) = deployment_at.get(&(ns.clone(), dname.clone())) {
                out.workloads.deployments[p].sets.push(idx);
                let is_current = made_for.is_some()
                    || equal_ignore_hash(
                        &out.workloads.deployments[p].object.spec.template,
                        template,
                    );
                if is_current {
                    out.workloads.deployments[p].current = Some(idx);
                }
            }
        }
        out.workloads.sets.push(PodSet {
            kind: Kind::ReplicaSet,
            namespace: ns,
            name,
            template: Arc::new(base),
            source_template: Some(template.clone()),
            replicas,
            members,
            deployment,
            start: 0,
            service: None,
            claims: Vec::new(),
            issued: 0,
        });
    }
    out.replica_sets = made_rs.into_iter().map(|(s, rs, _)| (s, rs)).collect();

    // StatefulSets: ordinals start..start+replicas.
    for (source, ss) in &snap.stateful_sets {
        let (ns, name) = meta_key(&ss.metadata);
        let key = format!("{ns}/{name}");
        let spec = &ss.spec;
        if spec.template.spec.is_none() {
            continue; // read for its selector only, as a ReplicaSet without a pod spec
        }
        let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
        let checked = check_count(spec.replicas, "spec.replicas")
            .and_then(|()| check_count(Some(start), "spec.ordinals.start"))
            .and_then(|()| {
                check_template(state, "StatefulSet", &spec.selector, &spec.template, &ns)
            });
        if let Err(e) = checked {
            problems.push(problem(source, "StatefulSet", &key, e));
            continue;
        }
        let uid = uid_of(&ss.metadata, "StatefulSet", &ns, &name);
        let replicas = i64::from(spec.replicas.unwrap_or(1));
        let start = i64::from(start);
        let mut base = pod_from_template(
            &spec.template,
            &ns,
            "",
            owner_ref("apps/v1", "StatefulSet", &name, &uid),
        );
        let revision = format!("{name}-{}", template_hash(&spec.template, 0));
        add_label(&mut base, CONTROLLER_REVISION_HASH, &revision);
        let set = PodSet {
            kind: Kind::StatefulSet,
            namespace: ns.clone(),
            name: name.clone(),
            template: Arc::new(base),
            source_template: None,
            replicas,
            members: Vec::new(),
            deployment: None,
            start,
            service: spec.service_name.clone().filter(|s| !s.is_empty()),
            claims: spec
                .volume_claim_templates
                .iter()
                .flatten()
                .filter_map(|c| c.metadata.name.clone())
                .collect(),
            issued: 0,
        };
        let existing: BTreeSet<String> = owned
            .of("StatefulSet", &ns, &name, &uid, &spec.selector)
            .iter()
            .map(|e| e.name.clone())
            .collect();
        let mut members: Vec<String> = existing.iter().cloned().collect();
        for ordinal in start..start + replicas {
            let pod_name = format!("{name}-{ordinal}");
            // A pod of that name (being deleted, or not the set's) blocks the ordinal.
            if existing.contains(&pod_name) || !owned.keys.insert(format!("{ns}/{pod_name}")) {
                continue;
            }
            out.pods.push((source.clone(), set.stateful_pod(ordinal)));
            members.push(pod_name);
        }
        out.workloads.sets.push(PodSet { members, ..set });
    }

    // DaemonSets: one pod per eligible node.
    for (source, ds) in &snap.daemon_sets {
        let (ns, name) = meta_key(&ds.metadata);
        let key = format!("{ns}/{name}");
        let spec = &ds.spec;
        let checked = check_template(state, "DaemonSet", &spec.selector, &spec.template, &ns);
        if let Err(e) = checked {
            problems.push(problem(source, "DaemonSet", &key, e));
            continue;
        }
        out.daemon_sets += 1;
        let uid = uid_of(&ds.metadata, "DaemonSet", &ns, &name);
        let mut base = pod_from_template(
            &spec.template,
            &ns,
            "",
            owner_ref("apps/v1", "DaemonSet", &name, &uid),
        );
        add_label(
            &mut base,
            CONTROLLER_REVISION_HASH,
            &template_hash(&spec.template, 0),
        );
        if let Some(ps) = base.spec.as_mut() {
            for (k, e) in DAEMON_TOLERATIONS {
                add_or_update_toleration(ps, k, e);
            }
            if ps.host_network == Some(true) {
                let (k, e) = DAEMON_HOST_NETWORK_TOLERATION;
                add_or_update_toleration(ps, k, e);
            }
        }
        let covered: HashSet<String> = owned
            .of("DaemonSet", &ns, &name, &uid, &spec.selector)
            .iter()
            .filter(|e| e.active)
            .filter_map(|e| e.target_node.clone())
            .collect();
        let mut probe = base.clone();
        probe.metadata.name = Some(format!("{name}-probe"));
        let probe = match state.convert_pod(&probe) {
            Ok(p) => p,
            Err(e) => {
                let e = ("spec.template".to_string(), e.to_string());
                problems.push(problem(source, "DaemonSet", &key, e));
                continue;
            }
        };
        let fixed_node = base
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        let mut eligible = Vec::new();
        for &id in state.node_ids() {
            let node = state.node(id);
            if node.exists
                && daemon_fits(&probe, fixed_node.as_deref(), &node.info, state.interner())
                && !covered.contains(&*node.info.name)
            {
                eligible.push(node.info.name.to_string());
            }
        }
        for node in eligible {
            let pod_name = owned.generate_name(&ns, &format!("{name}-"));
            let mut pod = base.clone();
            pod.metadata.name = Some(pod_name);
            if let Some(ps) = pod.spec.as_mut() {
                ps.node_name = None;
                pin_to_node(ps, &node);
            }
            out.pods.push((source.clone(), pod));
        }
        out.workloads.daemon_sets.push(DaemonRec {
            namespace: ns,
            name,
            base: Arc::new(base),
            issued: 0,
        });
    }

    // Jobs: active pods up to min(parallelism, completions - succeeded).
    for (source, job) in &snap.jobs {
        let (ns, name) = meta_key(&job.metadata);
        let key = format!("{ns}/{name}");
        let Some(spec) = job.spec.as_ref() else {
            problems.push(problem(
                source,
                "Job",
                &key,
                ("spec".into(), "required".into()),
            ));
            continue;
        };
        let uid = uid_of(&job.metadata, "Job", &ns, &name);
        let mut template = spec.template.clone();
        // The API server's Job strategy (manualSelector unset): the controller-uid and
        // job-name labels on the template, and the selector on the uid.
        let labels = template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .labels
            .get_or_insert_with(BTreeMap::new);
        let selector = if spec.manual_selector == Some(true) {
            spec.selector.clone().unwrap_or_default()
        } else {
            for k in ["batch.kubernetes.io/controller-uid", "controller-uid"] {
                labels.entry(k.into()).or_insert_with(|| uid.clone());
            }
            for k in ["batch.kubernetes.io/job-name", "job-name"] {
                labels.entry(k.into()).or_insert_with(|| name.clone());
            }
            spec.selector.clone().unwrap_or_else(|| LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    "batch.kubernetes.io/controller-uid".to_string(),
                    uid.clone(),
                )])),
                match_expressions: None,
            })
        };
        let restart = template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref());
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let checked = check_count(spec.parallelism, "spec.parallelism")
            .and_then(|()| check_count(spec.completions, "spec.completions"))
            .and_then(|()| check_template_spec(template.spec.as_ref()))
            .and_then(|()| match restart {
                Some("Never" | "OnFailure") => Ok(()),
                other => Err((
                    "spec.template.spec.restartPolicy".into(),
                    format!(
                        "{}: expected \"OnFailure\" or \"Never\" (a Job's pods may not restart Always)",
                        other.map_or_else(|| "required".to_string(), |o| format!("{o:?}"))
                    ),
                )),
            })
            .and_then(|()| match spec.completion_mode.as_deref() {
                None | Some("NonIndexed" | "Indexed") => Ok(()),
                Some(o) => Err((
                    "spec.completionMode".into(),
                    format!("{o:?}: expected NonIndexed or Indexed"),
                )),
            })
            .and_then(|()| {
                if indexed && spec.completions.is_none() {
                    Err((
                        "spec.completions".into(),
                        "required when completionMode is Indexed".into(),
                    ))
                } else {
                    Ok(())
                }
            })
            .and_then(|()| check_template(state, "Job", &selector, &template, &ns));
        if let Err(e) = checked {
            problems.push(problem(source, "Job", &key, e));
            continue;
        }
        out.jobs += 1;
        let status = job.status.as_ref();
        let finished = status.and_then(|s| s.conditions.as_ref()).is_some_and(|c| {
            c.iter()
                .any(|c| matches!(c.type_.as_str(), "Complete" | "Failed") && c.status == "True")
        });
        let managed_elsewhere = spec
            .managed_by
            .as_deref()
            .is_some_and(|m| m != "kubernetes.io/job-controller");
        if finished || managed_elsewhere || spec.suspend == Some(true) {
            continue;
        }
        let existing = owned.of("Job", &ns, &name, &uid, &selector);
        let active = existing.iter().filter(|e| e.active).count() as i64;
        let pod_succeeded = existing.iter().filter(|e| e.succeeded).count() as i64;
        let succeeded = i64::from(status.and_then(|s| s.succeeded).unwrap_or(0)).max(pod_succeeded);
        let parallelism = i64::from(spec.parallelism.unwrap_or(1));
        let completions = spec.completions.map(i64::from);
        // upstream manageJob: with completions, min(parallelism, completions - succeeded);
        // without (a work queue), parallelism until one pod succeeded, then none new.
        let want = match completions {
            Some(c) => parallelism.min(c - succeeded).max(0),
            None if succeeded > 0 => 0,
            None => parallelism,
        };
        let mut base = pod_from_template(
            &template,
            &ns,
            "",
            owner_ref("batch/v1", "Job", &name, &uid),
        );
        base.metadata.finalizers = None;
        if indexed {
            let c = completions.unwrap_or(0);
            let mut taken: BTreeSet<i64> =
                parse_indexes(status.and_then(|s| s.completed_indexes.as_deref()), c);
            taken.extend(
                existing
                    .iter()
                    .filter(|e| e.active || e.succeeded)
                    .filter_map(|e| e.completion_index),
            );
            let todo: Vec<i64> = (0..c)
                .filter(|i| !taken.contains(i))
                .take((want - active).max(0) as usize)
                .collect();
            for index in todo {
                let pod_name = owned.generate_name(&ns, &format!("{name}-{index}-"));
                let mut pod = base.clone();
                pod.metadata.name = Some(pod_name);
                pod.metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(JOB_COMPLETION_INDEX.into(), index.to_string());
                add_label(&mut pod, JOB_COMPLETION_INDEX, &index.to_string());
                if let Some(ps) = pod.spec.as_mut() {
                    ps.hostname.get_or_insert_with(|| format!("{name}-{index}"));
                }
                out.pods.push((source.clone(), pod));
            }
        } else {
            for _ in 0..(want - active).max(0) {
                let pod_name = owned.generate_name(&ns, &format!("{name}-"));
                let mut pod = base.clone();
                pod.metadata.name = Some(pod_name);
                out.pods.push((source.clone(), pod));
            }
        }
    }
    out
}

/// `1,3-5` (a Job's `status.completedIndexes`) as a set; malformed parts are ignored.
fn parse_indexes(s: Option<&str>, below: i64) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    for part in s.unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
                    out.extend(a.max(0)..=b.min(below - 1));
                }
            }
            None => {
                if let Ok(i) = part.trim().parse::<i64>()
                    && (0..below).contains(&i)
                {
                    out.insert(i);
                }
            }
        }
    }
    out
}

/// Where a pod a workload made stands in the simulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodPlace {
    /// Deleted, finished, or never created.
    Gone,
    /// Waiting for a node.
    Waiting,
    /// Bound to this node.
    Placed(Arc<str>),
}

/// What a controller needs of the simulation to scale a set.
pub trait PodHost {
    /// Where pod `ns/name` stands.
    fn place_of(&self, key: &str) -> PodPlace;
    /// Creates a pending pod (the manifest carries its name).
    ///
    /// # Errors
    /// A pod that cannot be created (admission, conversion, a name taken), as a message.
    fn create(&mut self, pod: Pod) -> Result<(), String>;
    /// Deletes a pod.
    fn delete(&mut self, key: &str);
    /// Runs the scheduling queue until it is empty (a rollout waits for new pods to be placed,
    /// which in the simulation is at once).
    fn schedule(&mut self);
    /// Records a new ReplicaSet's selector (topology spreading's default constraints read it).
    ///
    /// # Errors
    /// The state refuses it, as a message.
    fn add_replica_set(&mut self, rs: &ReplicaSet) -> Result<(), String>;
}

/// What one scale did: pods created and deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScaleResult {
    /// Names created.
    pub created: Vec<String>,
    /// Names deleted.
    pub deleted: Vec<String>,
}

impl Workloads {
    /// Scales set `idx` to `replicas`, as its controller would:
    /// - a ReplicaSet creates `<rs>-<5 chars>` pods, or deletes, as upstream
    ///   `getPodsToDelete` ranks them, waiting pods first, then pods on the nodes holding most
    ///   of the set's pods, newest first;
    /// - a StatefulSet creates the missing ordinals in `start..start+replicas`, or deletes the
    ///   highest ordinals first.
    ///
    /// # Errors
    /// A pod that could not be created.
    pub fn scale(
        &mut self,
        idx: usize,
        replicas: i64,
        host: &mut dyn PodHost,
    ) -> Result<ScaleResult, String> {
        let set = &mut self.sets[idx];
        set.replicas = replicas;
        let ns = set.namespace.clone();
        let mut alive: Vec<(String, PodPlace)> = Vec::new();
        for m in &set.members {
            let place = host.place_of(&format!("{ns}/{m}"));
            if place != PodPlace::Gone {
                alive.push((m.clone(), place));
            }
        }
        set.members = alive.iter().map(|(m, _)| m.clone()).collect();
        let mut result = ScaleResult::default();
        let have = alive.len() as i64;
        if set.kind == Kind::StatefulSet {
            let names: HashSet<&str> = alive.iter().map(|(m, _)| m.as_str()).collect();
            let mut to_create = Vec::new();
            for ordinal in set.start..set.start + replicas {
                if !names.contains(format!("{}-{ordinal}", set.name).as_str()) {
                    to_create.push(ordinal);
                }
            }
            let end = set.start + replicas;
            let mut to_delete: Vec<(i64, String)> = alive
                .iter()
                .filter_map(|(m, _)| {
                    let o: i64 = m.strip_prefix(&format!("{}-", set.name))?.parse().ok()?;
                    (o >= end || o < set.start).then(|| (o, m.clone()))
                })
                .collect();
            to_delete.sort_by_key(|d| std::cmp::Reverse(d.0));
            for (_, m) in to_delete {
                host.delete(&format!("{ns}/{m}"));
                result.deleted.push(m);
            }
            for ordinal in to_create {
                let pod = set.stateful_pod(ordinal);
                let n = pod.metadata.name.clone().unwrap_or_default();
                host.create(pod)?;
                set.members.push(n.clone());
                result.created.push(n);
            }
            let gone: HashSet<&String> = result.deleted.iter().collect();
            set.members.retain(|m| !gone.contains(m));
            return Ok(result);
        }
        if have > replicas {
            // Rank: waiting first; then by how many of the set's pods share the node (more
            // first); then newest (latest in members) first.
            let mut per_node: HashMap<Arc<str>, usize> = HashMap::new();
            for (_, p) in &alive {
                if let PodPlace::Placed(n) = p {
                    *per_node.entry(n.clone()).or_default() += 1;
                }
            }
            let mut ranked: Vec<(
                u8,
                std::cmp::Reverse<usize>,
                std::cmp::Reverse<usize>,
                String,
            )> = alive
                .iter()
                .enumerate()
                .map(|(i, (m, p))| match p {
                    PodPlace::Placed(n) => (
                        1,
                        std::cmp::Reverse(per_node[n]),
                        std::cmp::Reverse(i),
                        m.clone(),
                    ),
                    _ => (0, std::cmp::Reverse(0), std::cmp::Reverse(i), m.clone()),
                })
                .collect();
            ranked.sort();
            let n = usize::try_from(have - replicas).unwrap_or(0);
            for (_, _, _, m) in ranked.into_iter().take(n) {
                host.delete(&format!("{ns}/{m}"));
                result.deleted.push(m);
            }
            let gone: HashSet<&String> = result.deleted.iter().collect();
            set.members.retain(|m| !gone.contains(m));
        } else {
            let mut taken: HashSet<String> = set.members.iter().cloned().collect();
            for _ in have..replicas {
                let name = loop {
                    let seed = format!("{ns}/{}-#scale", set.name);
                    let n = format!("{}-{}", set.name, suffix(&seed, set.issued));
                    set.issued += 1;
                    if !taken.contains(&n) && host.place_of(&format!("{ns}/{n}")) == PodPlace::Gone
                    {
                        break n;
                    }
                };
                let mut pod = (*set.template).clone();
                pod.metadata.name = Some(name.clone());
                host.create(pod)?;
                taken.insert(name.clone());
                set.members.push(name.clone());
                result.created.push(name);
            }
        }
        Ok(result)
    }
}

/// What one rollout did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolloutResult {
    /// The new (or reused) ReplicaSet's name.
    pub replica_set: String,
    /// Pods created and deleted, over every step.
    pub created: usize,
    /// Pods deleted.
    pub deleted: usize,
    /// Steps of the rolling update (each: scale the new ReplicaSet up, schedule, scale old
    /// ones down).
    pub steps: usize,
    /// The rollout completed: the new ReplicaSet has every replica placed and the old ones
    /// have none. `false`: it stalled (new pods that do not fit), as upstream's would until its
    /// progress deadline.
    pub complete: bool,
}

impl Workloads {
    /// Rolls Deployment `d` out to `template`, as upstream's deployment controller does
    /// (`rolling.go`, `recreate.go`), every step at the same virtual instant (a pod counts as
    /// available once placed; `minReadySeconds` and readiness are not modelled):
    /// - the new ReplicaSet is the one whose template equals `template` but for
    ///   `pod-template-hash` (a rollback reuses it), or `<deployment>-<hash>`;
    /// - RollingUpdate: the new ReplicaSet grows up to `replicas + maxSurge` pods in all, the
    ///   queue runs, then old ReplicaSets shrink, first by their pods not placed
    ///   (`cleanupUnhealthyReplicas`), then as long as `replicas - maxUnavailable` pods stay
    ///   placed (oldest ReplicaSet first); repeated until nothing changes;
    /// - Recreate: old ReplicaSets to 0, then the new one to `replicas`.
    ///
    /// # Errors
    /// A template the Deployment's selector does not select, or a pod that cannot be created.
    pub fn rollout(
        &mut self,
        d: usize,
        template: PodTemplateSpec,
        host: &mut dyn PodHost,
    ) -> Result<RolloutResult, String> {
        let rec = self.deployments[d].clone();
        let spec = &rec.object.spec;
        check_selector(
            "Deployment",
            &spec.selector,
            template.metadata.as_ref().and_then(|m| m.labels.as_ref()),
        )
        .map_err(|(f, m)| format!("Deployment {}/{}: {f}: {m}", rec.namespace, rec.name))?;
        check_template_spec(template.spec.as_ref())
            .map_err(|(f, m)| format!("Deployment {}/{}: {f}: {m}", rec.namespace, rec.name))?;
        if spec.paused == Some(true) {
            return Err(format!(
                "Deployment {}/{} is paused (spec.paused): its controller does not roll it out",
                rec.namespace, rec.name
            ));
        }
        let desired = i64::from(spec.replicas.unwrap_or(1));
        let new = match rec.sets.iter().copied().find(|&i| {
            self.sets[i]
                .source_template
                .as_ref()
                .is_some_and(|t| equal_ignore_hash(t, &template))
        }) {
            Some(i) => i,
            None => self.new_replica_set(d, &template, host)?,
        };
        let mut result = RolloutResult {
            replica_set: self.sets[new].name.clone(),
            ..RolloutResult::default()
        };
        self.deployments[d].current = Some(new);
        let mut updated = (*rec.object).clone();
        updated.spec.template = template;
        let (surge, unavailable) = fenceposts(&updated, desired);
        self.deployments[d].object = Arc::new(updated);
        let old: Vec<usize> = self.deployments[d]
            .sets
            .iter()
            .copied()
            .filter(|&i| i != new)
            .collect();
        let recreate = rec
            .object
            .spec
            .strategy
            .as_ref()
            .and_then(|s| s.type_.as_deref())
            == Some("Recreate");
        let tally = |r: ScaleResult, result: &mut RolloutResult| {
            result.created += r.created.len();
            result.deleted += r.deleted.len();
        };
        if recreate {
            for &o in &old {
                let r = self.scale(o, 0, host)?;
                tally(r, &mut result);
            }
            let r = self.scale(new, desired, host)?;
            tally(r, &mut result);
            host.schedule();
            result.steps = 1;
        } else {
            // Bounded: each step changes some count by at least one.
            for _ in 0..=(2 * desired + 2 * old.len() as i64 + 2) {
                let before = (result.created, result.deleted);
                result.steps += 1;
                let total: i64 = std::iter::once(new)
                    .chain(old.iter().copied())
                    .map(|i| self.sets[i].replicas)
                    .sum();
                let new_replicas = self.sets[new].replicas;
                if new_replicas < desired {
                    let up = (desired + surge - total).min(desired - new_replicas);
                    if up > 0 {
                        let r = self.scale(new, new_replicas + up, host)?;
                        tally(r, &mut result);
                    }
                } else if new_replicas > desired {
                    let r = self.scale(new, desired, host)?;
                    tally(r, &mut result);
                }
                host.schedule();
                let placed = |w: &Workloads, i: usize, host: &dyn PodHost| -> i64 {
                    let ns = &w.sets[i].namespace;
                    w.sets[i]
                        .members
                        .iter()
                        .filter(|m| {
                            matches!(host.place_of(&format!("{ns}/{m}")), PodPlace::Placed(_))
                        })
                        .count() as i64
                };
                let min_available = desired - unavailable;
                let all: i64 = std::iter::once(new)
                    .chain(old.iter().copied())
                    .map(|i| self.sets[i].replicas)
                    .sum();
                let new_placed = placed(self, new, host);
                let new_unavailable = self.sets[new].replicas - new_placed;
                let mut budget = all - min_available - new_unavailable;
                // cleanupUnhealthyReplicas: old pods that are not placed go first.
                for &o in &old {
                    if budget <= 0 {
                        break;
                    }
                    let unhealthy = self.sets[o].replicas - placed(self, o, host);
                    let cut = unhealthy.min(budget);
                    if cut > 0 {
                        let to = self.sets[o].replicas - cut;
                        let r = self.scale(o, to, host)?;
                        budget -= cut;
                        tally(r, &mut result);
                    }
                }
                // scaleDownOldReplicaSetsForRollingUpdate: keep min_available placed.
                let available: i64 = std::iter::once(new)
                    .chain(old.iter().copied())
                    .map(|i| placed(self, i, host))
                    .sum();
                let mut removable = available - min_available;
                for &o in &old {
                    if removable <= 0 {
                        break;
                    }
                    let cut = self.sets[o].replicas.min(removable);
                    if cut > 0 {
                        let to = self.sets[o].replicas - cut;
                        let r = self.scale(o, to, host)?;
                        removable -= cut;
                        tally(r, &mut result);
                    }
                }
                host.schedule();
                if (result.created, result.deleted) == before {
                    break;
                }
            }
        }
        let old_left: i64 = old.iter().map(|&i| self.sets[i].replicas).sum();
        let new_placed = {
            let ns = &self.sets[new].namespace;
            self.sets[new]
                .members
                .iter()
                .filter(|m| matches!(host.place_of(&format!("{ns}/{m}")), PodPlace::Placed(_)))
                .count() as i64
        };
        result.complete =
            old_left == 0 && new_placed == desired && self.sets[new].replicas == desired;
        self.rolling.retain(|&r| r != d);
        if !result.complete {
            self.rolling.push(d);
        }
        Ok(result)
    }

    /// Takes every stalled rollout up again (room may have been freed since), as the
    /// deployment controller does on each pod and ReplicaSet change.
    ///
    /// # Errors
    /// A pod that could not be created.
    pub fn advance_rollouts(&mut self, host: &mut dyn PodHost) -> Result<(), String> {
        for d in self.rolling.clone() {
            let template = self.deployments[d].object.spec.template.clone();
            self.rollout(d, template, host)?;
        }
        Ok(())
    }

    /// upstream `getNewReplicaSet`: `<deployment>-<hash>` with replicas 0 (the rollout grows it).
    fn new_replica_set(
        &mut self,
        d: usize,
        template: &PodTemplateSpec,
        host: &mut dyn PodHost,
    ) -> Result<usize, String> {
        let rec = &self.deployments[d];
        let (ns, name) = (rec.namespace.clone(), rec.name.clone());
        let mut collision = 0;
        let (hash, rs_name) = loop {
            let h = template_hash(template, collision);
            let n = format!("{name}-{h}");
            if !self
                .sets
                .iter()
                .any(|s| s.kind == Kind::ReplicaSet && s.namespace == ns && s.name == n)
            {
                break (h, n);
            }
            collision += 1;
        };
        let mut t = template.clone();
        t.metadata
            .get_or_insert_with(ObjectMeta::default)
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = rec.object.spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash);
        let uid = synthetic_uid("ReplicaSet", &ns, &rs_name);
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(rs_name.clone()),
                namespace: Some(ns.clone()),
                uid: Some(uid.clone()),
                owner_references: Some(vec![owner_ref("apps/v1", "Deployment", &name, &rec.uid)]),
                ..ObjectMeta::default()
            },
            spec: ReplicaSetSpec {
                replicas: Some(0),
                selector,
                template: Some(t.clone()),
                min_ready_seconds: rec.object.spec.min_ready_seconds,
            },
            status: None,
        };
        host.add_replica_set(&rs)?;
        let base = pod_from_template(
            &t,
            &ns,
            "",
            owner_ref("apps/v1", "ReplicaSet", &rs_name, &uid),
        );
        let idx = self.sets.len();
        self.sets.push(PodSet {
            kind: Kind::ReplicaSet,
            namespace: ns,
            name: rs_name,
            template: Arc::new(base),
            source_template: Some(t),
            replicas: 0,
            members: Vec::new(),
            deployment: Some(name),
            start: 0,
            service: None,
            claims: Vec::new(),
            issued: 0,
        });
        self.deployments[d].sets.push(idx);
        Ok(idx)
    }

    /// The DaemonSets whose pod should run on node `id` (just added), as
    /// [`daemon_fits`] decides.
    #[must_use]
    pub fn daemons_for_node(
        &self,
        state: &mut ClusterState,
        id: sched_core::state::NodeId,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, d) in self.daemon_sets.iter().enumerate() {
            let mut probe = (*d.base).clone();
            probe.metadata.name = Some(format!("{}-probe", d.name));
            let Ok(probe) = state.convert_pod(&probe) else {
                continue; // checked at load: cannot fail for a DaemonSet registered here
            };
            let fixed = d
                .base
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .filter(|n| !n.is_empty());
            if daemon_fits(&probe, fixed, &state.node(id).info, state.interner()) {
                out.push(i);
            }
        }
        out
    }

    /// DaemonSet `ds`'s pod for `node`: `<ds>-<5 chars>` (a name `taken` says is free),
    /// pinned to the node by required node affinity.
    pub fn daemon_pod(&mut self, ds: usize, node: &str, taken: &dyn Fn(&str) -> bool) -> Pod {
        let d = &mut self.daemon_sets[ds];
        let name = loop {
            let seed = format!("{}/{}-#node", d.namespace, d.name);
            let n = format!("{}-{}", d.name, suffix(&seed, d.issued));
            d.issued += 1;
            if !taken(&format!("{}/{n}", d.namespace)) {
                break n;
            }
        };
        let mut pod = (*d.base).clone();
        pod.metadata.name = Some(name);
        if let Some(ps) = pod.spec.as_mut() {
            ps.node_name = None;
            pin_to_node(ps, node);
        }
        pod
    }

    /// The first workload of `other` whose kind and namespace/name this already holds, as
    /// `Kind ns/name`.
    #[must_use]
    pub fn first_clash(&self, other: &Workloads) -> Option<String> {
        let d = other
            .deployments
            .iter()
            .find(|d| {
                self.deployment(&format!("{}/{}", d.namespace, d.name))
                    .is_some()
            })
            .map(|d| format!("Deployment {}/{}", d.namespace, d.name));
        let s = || {
            other
                .sets
                .iter()
                .filter(|s| s.deployment.is_none() || s.kind == Kind::StatefulSet)
                .find(|s| {
                    self.find(s.kind, &format!("{}/{}", s.namespace, s.name))
                        .is_some()
                })
                .map(|s| format!("{} {}/{}", s.kind.as_str(), s.namespace, s.name))
        };
        let ds = || {
            other
                .daemon_sets
                .iter()
                .find(|o| {
                    self.daemon_sets
                        .iter()
                        .any(|d| d.namespace == o.namespace && d.name == o.name)
                })
                .map(|d| format!("DaemonSet {}/{}", d.namespace, d.name))
        };
        d.or_else(s).or_else(ds)
    }

    /// Takes `other`'s workloads in (created by a scenario event).
    pub fn absorb(&mut self, other: Workloads) {
        let offset = self.sets.len();
        self.sets.extend(other.sets);
        for mut d in other.deployments {
            d.current = d.current.map(|i| i + offset);
            for i in &mut d.sets {
                *i += offset;
            }
            self.deployments.push(d);
        }
        self.daemon_sets.extend(other.daemon_sets);
    }

    /// Records a Deployment's new `spec.replicas` (a later rollout aims at it).
    pub fn set_deployment_replicas(&mut self, key: &str, replicas: i64) {
        if let Some(d) = self.deployment(key) {
            let mut obj = (*self.deployments[d].object).clone();
            obj.spec.replicas = Some(i32::try_from(replicas).unwrap_or(i32::MAX));
            self.deployments[d].object = Arc::new(obj);
        }
    }

    /// The Deployment `ns/name`'s index in [`Workloads::deployments`].
    #[must_use]
    pub fn deployment(&self, key: &str) -> Option<usize> {
        let (ns, name) = key.split_once('/').unwrap_or(("default", key));
        self.deployments
            .iter()
            .position(|d| d.namespace == ns && d.name == name)
    }
}
