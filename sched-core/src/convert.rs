//! Conversion from k8s-openapi objects to the compact model, done once per object.
//!
//! This is the only place in the core that reads k8s-openapi types. Quantities are parsed
//! here; labels, taint keys, resource names and node names are interned here; a pod's
//! effective requests are computed here with upstream's rules
//! (`component-helpers/resource.PodRequests`), both plain and with the non-zero defaults
//! that scoring uses.

use crate::intern::{Interner, Sym};
use crate::model::{
    BudgetRule, ControllerRef, DisruptionBudget, DrainFacts, InclusionPolicy, LabelSelector,
    PodAffinity, PodAffinityTerm, TopologySpreadConstraint, WeightedPodAffinityTerm,
    WhenUnsatisfiable, WorkloadKind,
};
use crate::model::{
    DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, FieldRequirement, HostPort,
    LabelRequirement, Labels, NodeInfo, NodeSelector, PodInfo, PreferredTerm, Protocol, Resources,
    SelectorTerm, Taint, TaintEffect, Toleration, TolerationOperator, UnsupportedConstraint,
};
use crate::quantity::Quantity;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as LabelSelectorApi;
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A field of a Kubernetes object that could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {object}: {field}: {message}")]
pub struct ConvertError {
    /// `Node` or `Pod`.
    pub kind: &'static str,
    /// `ns/name` for a pod, the name for a node (`<unnamed>` when missing).
    pub object: String,
    /// The field path, e.g. `spec.containers[0].resources.requests.cpu`.
    pub field: String,
    /// What was wrong and what was expected.
    pub message: String,
}

/// `Result` with [`ConvertError`].
pub type Result<T, E = ConvertError> = std::result::Result<T, E>;

struct Ctx<'a> {
    kind: &'static str,
    object: &'a str,
}

impl Ctx<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> ConvertError {
        ConvertError {
            kind: self.kind,
            object: self.object.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Where a resource name goes in [`Resources`] (upstream `schedutil` / `v1helper` classification).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ResourceClass {
    /// `cpu`
    Cpu,
    /// `memory`
    Memory,
    /// `ephemeral-storage`
    EphemeralStorage,
    /// `pods`
    Pods,
    /// Extended, hugepages, attachable-volumes or `*kubernetes.io/*` resource.
    Scalar,
    /// Anything else: upstream's `NodeInfo` ignores it.
    Ignored,
}

/// Classifies a resource name as upstream's `Resource.Add`/`NewResource` do.
#[must_use]
pub fn classify_resource(name: &str) -> ResourceClass {
    match name {
        "cpu" => ResourceClass::Cpu,
        "memory" => ResourceClass::Memory,
        "ephemeral-storage" => ResourceClass::EphemeralStorage,
        "pods" => ResourceClass::Pods,
        _ if is_scalar_resource_name(name) => ResourceClass::Scalar,
        _ => ResourceClass::Ignored,
    }
}

/// upstream: `v1helper.IsScalarResourceName` = extended || hugepages || prefixed native || attachable volumes.
#[must_use]
pub fn is_scalar_resource_name(name: &str) -> bool {
    is_extended_resource_name(name)
        || name.starts_with("hugepages-")
        || is_prefixed_native_resource(name)
        || name.starts_with("attachable-volumes-")
}

/// upstream: `v1helper.IsPrefixedNativeResource`: the name contains `kubernetes.io/`.
#[must_use]
pub fn is_prefixed_native_resource(name: &str) -> bool {
    name.contains("kubernetes.io/")
}

/// upstream: `v1helper.IsExtendedResourceName`: not native, not `requests.`-prefixed, and
/// `requests.<name>` is a valid qualified name.
#[must_use]
pub fn is_extended_resource_name(name: &str) -> bool {
    let native = !name.contains('/') || is_prefixed_native_resource(name);
    if native || name.starts_with("requests.") {
        return false;
    }
    is_qualified_name(&format!("requests.{name}"))
}

/// upstream: `validation.IsQualifiedName`: `[prefix/]name`, prefix a DNS-1123 subdomain,
/// name at most 63 characters of `[-._a-zA-Z0-9]` starting and ending alphanumeric.
#[must_use]
pub fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix
        && !is_dns1123_subdomain(p)
    {
        return false;
    }
    !name.is_empty() && name.len() <= 63 && is_label_shaped(name)
}

/// upstream: `validation.IsValidLabelValue`: empty, or at most 63 characters of
/// `[-._a-zA-Z0-9]` starting and ending alphanumeric.
#[must_use]
pub fn is_valid_label_value(s: &str) -> bool {
    s.is_empty() || (s.len() <= 63 && is_label_shaped(s))
}

fn is_label_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_lowercase() | b[0].is_ascii_digit()
                && b[b.len() - 1].is_ascii_lowercase() | b[b.len() - 1].is_ascii_digit()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

fn parse_quantity(ctx: &Ctx<'_>, field: &dyn Fn() -> String, q: &ApiQuantity) -> Result<Quantity> {
    // upstream: Quantity.UnmarshalJSON trims surrounding spaces before parsing.
    Quantity::parse(q.0.trim()).map_err(|e| ctx.err(field(), e.to_string()))
}

/// Adds one resource list into `out` with upstream's units; `present` records whether cpu
/// and memory keys were present (for the non-zero defaults).
fn add_resource_list(
    ctx: &Ctx<'_>,
    field: &str,
    list: &BTreeMap<String, ApiQuantity>,
    interner: &mut Interner,
    out: &mut Resources,
) -> Result<()> {
    for (name, q) in list {
        let q = parse_quantity(ctx, &|| format!("{field}.{name}"), q)?;
        if q.is_negative() {
            // upstream ValidateResourceQuantityValue / ValidateNonnegativeQuantity.
            return Err(ctx.err(
                format!("{field}.{name}"),
                "must be greater than or equal to 0",
            ));
        }
        match classify_resource(name) {
            ResourceClass::Cpu => out.milli_cpu = out.milli_cpu.saturating_add(q.milli_value()),
            ResourceClass::Memory => out.memory = out.memory.saturating_add(q.value()),
            ResourceClass::EphemeralStorage => {
                out.ephemeral_storage = out.ephemeral_storage.saturating_add(q.value());
            }
            ResourceClass::Pods => out.pods = out.pods.saturating_add(q.value()),
            ResourceClass::Scalar => {
                let sym = interner.intern(name);
                let cur = out.scalar(sym);
                out.set_scalar(sym, cur.saturating_add(q.value()));
            }
            ResourceClass::Ignored => {}
        }
    }
    Ok(())
}

/// Converts a `v1.Node`.
///
/// # Errors
/// A missing name, an unparsable allocatable quantity, or an unknown taint effect.
pub fn node_info(node: &core::Node, interner: &mut Interner) -> Result<NodeInfo> {
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let ctx = Ctx {
        kind: "Node",
        object: if name.is_empty() { "<unnamed>" } else { name },
    };
    if name.is_empty() {
        return Err(ctx.err("metadata.name", "a node needs a name"));
    }
    let labels = intern_labels(node.metadata.labels.as_ref(), interner);
    let spec = node.spec.as_ref();
    let mut taints = crate::model::TaintList::new();
    for (i, t) in spec
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let effect = parse_taint_effect(&t.effect)
            .ok_or_else(|| ctx.err(format!("spec.taints[{i}].effect"), bad_effect(&t.effect)))?;
        taints.push(Taint {
            key: interner.intern(&t.key),
            value: interner.intern(t.value.as_deref().unwrap_or_default()),
            effect,
        });
    }
    let mut allocatable = Resources::default();
    let status = node.status.as_ref();
    // upstream API defaulting (`SetDefaults_NodeStatus`): an absent `allocatable` is a copy of
    // `capacity` (an empty but present one stays empty), as the API server stores the node.
    let (field, list) = match status {
        Some(s) if s.allocatable.is_none() => ("status.capacity", s.capacity.as_ref()),
        _ => (
            "status.allocatable",
            status.and_then(|s| s.allocatable.as_ref()),
        ),
    };
    if let Some(list) = list {
        add_resource_list(&ctx, field, list, interner, &mut allocatable)?;
    }
    let mut images = Vec::new();
    for image in status.and_then(|s| s.images.as_ref()).into_iter().flatten() {
        let size = image.size_bytes.unwrap_or(0);
        for n in image.names.iter().flatten() {
            images.push((interner.intern(n), size));
        }
    }
    // Sorted by name for binary search; a name listed twice keeps its first size.
    images.sort_by_key(|&(n, _)| n);
    images.dedup_by_key(|&mut (n, _)| n);
    Ok(NodeInfo {
        name: Arc::from(name),
        name_sym: interner.intern(name),
        labels,
        taints,
        unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
        allocatable,
        images,
    })
}

fn bad_effect(effect: &str) -> String {
    format!("unknown taint effect {effect:?}: expected NoSchedule, PreferNoSchedule or NoExecute")
}

fn parse_taint_effect(s: &str) -> Option<TaintEffect> {
    match s {
        "NoSchedule" => Some(TaintEffect::NoSchedule),
        "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
        "NoExecute" => Some(TaintEffect::NoExecute),
        _ => None,
    }
}

/// Interns a label map (or a selector map) into sorted [`Labels`].
#[must_use]
pub fn labels(map: &BTreeMap<String, String>, interner: &mut Interner) -> Labels {
    intern_labels(Some(map), interner)
}

/// A ReplicaSet's or StatefulSet's `spec.selector` as upstream's `LabelSelectorAsSelector`
/// reads it; `None` when it does not parse (upstream `DefaultSelector` then ignores it).
#[must_use]
pub fn workload_selector(sel: &LabelSelectorApi, interner: &mut Interner) -> Option<LabelSelector> {
    let s = compile_label_selector(sel, interner);
    (!s.invalid).then_some(s)
}

fn intern_labels(labels: Option<&BTreeMap<String, String>>, interner: &mut Interner) -> Labels {
    let mut out: Vec<(Sym, Sym)> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| (interner.intern(k), interner.intern(v)))
        .collect();
    out.sort_unstable_by_key(|&(k, _)| k);
    Labels(out)
}

/// One container's requests after API defaulting (requests default to limits), in model units.
struct ContainerRequests {
    res: Resources,
    has_cpu: bool,
    has_memory: bool,
}

fn container_requests(
    ctx: &Ctx<'_>,
    field: &str,
    resources: Option<&core::ResourceRequirements>,
    interner: &mut Interner,
) -> Result<ContainerRequests> {
    let mut merged: BTreeMap<String, ApiQuantity> = BTreeMap::new();
    if let Some(r) = resources {
        // upstream API defaulting (core/v1 SetDefaults_Pod): a resource with a limit but no
        // request gets request = limit. Snapshots from a live cluster already carry this;
        // hand-written pods in examples and scenarios need it to mean what the user expects.
        if let Some(limits) = &r.limits {
            merged.extend(limits.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(requests) = &r.requests {
            merged.extend(requests.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    let mut res = Resources::default();
    add_resource_list(
        ctx,
        &format!("{field}.resources.requests"),
        &merged,
        interner,
        &mut res,
    )?;
    // Requests for `pods` on a container mean nothing to the scheduler.
    res.pods = 0;
    Ok(ContainerRequests {
        has_cpu: merged.contains_key("cpu"),
        has_memory: merged.contains_key("memory"),
        res,
    })
}

/// Which defaults to apply to containers that omit a request (upstream `NonMissingContainerRequests`).
#[derive(Clone, Copy, Default)]
struct NonMissing {
    cpu: bool,
    memory: bool,
}

fn with_defaults(c: &ContainerRequests, nm: NonMissing) -> Resources {
    let mut r = c.res.clone();
    if nm.cpu && !c.has_cpu {
        r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if nm.memory && !c.has_memory {
        r.memory = DEFAULT_MEMORY_REQUEST;
    }
    r
}

/// upstream: `resource.AggregateContainerRequests`.
fn aggregate_container_requests(
    containers: &[ContainerRequests],
    init: &[(ContainerRequests, bool)],
    nm: NonMissing,
) -> Resources {
    let mut reqs = Resources::default();
    for c in containers {
        reqs.add(&with_defaults(c, nm));
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for (c, restartable) in init {
        let r = with_defaults(c, nm);
        if *restartable {
            // A sidecar runs beside the app containers and every later init container.
            reqs.add(&r);
            sidecars.add(&r);
            init_peak.max_with(&sidecars);
        } else {
            let mut during = r;
            during.add(&sidecars);
            init_peak.max_with(&during);
        }
    }
    reqs.max_with(&init_peak);
    reqs
}

/// upstream: `resource.IsSupportedPodLevelResource` (cpu, memory, hugepages-*).
fn is_supported_pod_level_resource(name: &str) -> bool {
    name == "cpu" || name == "memory" || name.starts_with("hugepages-")
}

/// Converts a `v1.Pod`.
///
/// # Errors
/// A missing name, an unparsable quantity, an unknown toleration or taint effect.
///
/// The symbols the pod brings (its labels, selector values, images…) are leased to the
/// returned `PodInfo`: the interner frees those no node, config or other live pod uses once
/// the last copy of it is dropped, so memory follows the live cluster under pod churn.
pub fn pod_info(pod: &core::Pod, interner: &mut Interner) -> Result<PodInfo> {
    interner.begin_pod();
    let info = pod_info_unleased(pod, interner);
    let lease = interner.end_pod();
    info.map(|mut info| {
        info.lease = lease;
        info
    })
}

fn pod_info_unleased(pod: &core::Pod, interner: &mut Interner) -> Result<PodInfo> {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let key = format!(
        "{namespace}/{}",
        if name.is_empty() { "<unnamed>" } else { name }
    );
    let ctx = Ctx {
        kind: "Pod",
        object: &key,
    };
    if name.is_empty() {
        return Err(ctx.err("metadata.name", "a pod needs a name"));
    }
    let default_spec = core::PodSpec::default();
    let spec = pod.spec.as_ref().unwrap_or(&default_spec);

    // Requests, per container.
    let mut containers = Vec::with_capacity(spec.containers.len());
    for (i, c) in spec.containers.iter().enumerate() {
        containers.push(container_requests(
            &ctx,
            &format!("spec.containers[{i}]"),
            c.resources.as_ref(),
            interner,
        )?);
    }
    let mut init = Vec::new();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let restartable = c.restart_policy.as_deref() == Some("Always");
        init.push((
            container_requests(
                &ctx,
                &format!("spec.initContainers[{i}]"),
                c.resources.as_ref(),
                interner,
            )?,
            restartable,
        ));
    }
    let mut overhead = Resources::default();
    if let Some(o) = &spec.overhead {
        add_resource_list(&ctx, "spec.overhead", o, interner, &mut overhead)?;
    }
    // Pod-level resources (PodLevelResources, beta and on by default since 1.34).
    let mut pod_level: Option<(Resources, NonMissing)> = None;
    if let Some(r) = &spec.resources {
        let mut list: BTreeMap<String, ApiQuantity> = BTreeMap::new();
        // API defaulting: pod-level requests default to pod-level limits for supported resources.
        for (k, v) in r.limits.iter().flatten() {
            if is_supported_pod_level_resource(k) {
                list.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in r.requests.iter().flatten() {
            if is_supported_pod_level_resource(k) {
                list.insert(k.clone(), v.clone());
            }
        }
        if !list.is_empty() {
            let mut res = Resources::default();
            add_resource_list(&ctx, "spec.resources.requests", &list, interner, &mut res)?;
            let present = NonMissing {
                cpu: list.contains_key("cpu"),
                memory: list.contains_key("memory"),
            };
            pod_level = Some((res, present));
        }
    }
    let plain_containers = aggregate_container_requests(&containers, &init, NonMissing::default());
    let (requests, non_zero) = match &pod_level {
        None => {
            let mut requests = plain_containers;
            requests.add(&overhead);
            let all = NonMissing {
                cpu: true,
                memory: true,
            };
            // A pod with no containers aggregates to 0: defaults apply per container.
            let mut nz = aggregate_container_requests(&containers, &init, all);
            nz.add(&overhead);
            (requests, nz)
        }
        Some((level, present)) => {
            let merge = |ctr: Resources| {
                // Pod-level values replace the container aggregate for the resources they set.
                let mut out = ctr;
                if present.cpu {
                    out.milli_cpu = level.milli_cpu;
                }
                if present.memory {
                    out.memory = level.memory;
                }
                for &(n, v) in &level.scalar {
                    out.set_scalar(n, v);
                }
                out.add(&overhead);
                out
            };
            let requests = merge(plain_containers.clone());
            // upstream getNonMissingContainerRequests: with pod-level requests set, default only
            // what is missing at both levels.
            let nm = NonMissing {
                cpu: !present.cpu
                    && !containers
                        .iter()
                        .chain(init.iter().map(|(c, _)| c))
                        .any(|c| c.has_cpu),
                memory: !present.memory
                    && !containers
                        .iter()
                        .chain(init.iter().map(|(c, _)| c))
                        .any(|c| c.has_memory),
            };
            let nz = merge(aggregate_container_requests(&containers, &init, nm));
            (requests, nz)
        }
    };
    let scalar_reasons = requests
        .scalar
        .iter()
        .map(|&(n, _)| Arc::from(format!("Insufficient {}", interner.resolve(n))))
        .collect();

    // Host ports: app containers and restartable init containers (upstream schedutil.GetHostPorts).
    let mut host_ports = Vec::new();
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    for c in spec.containers.iter().chain(sidecars) {
        for p in c.ports.iter().flatten() {
            let Some(port) = p.host_port.filter(|&p| p > 0) else {
                continue;
            };
            let protocol = match p.protocol.as_deref().unwrap_or("TCP") {
                "TCP" | "" => Protocol::Tcp,
                "UDP" => Protocol::Udp,
                "SCTP" => Protocol::Sctp,
                other => {
                    return Err(ctx.err(
                        format!("spec.containers[{}].ports.protocol", c.name),
                        format!("unknown protocol {other:?}: expected TCP, UDP or SCTP"),
                    ));
                }
            };
            let ip = p
                .host_ip
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("0.0.0.0");
            host_ports.push(HostPort {
                protocol,
                ip: interner.intern(ip),
                port,
            });
        }
    }

    let mut tolerations = Vec::new();
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        let effect =
            match t.effect.as_deref().unwrap_or_default() {
                "" => None,
                e => Some(parse_taint_effect(e).ok_or_else(|| {
                    ctx.err(format!("spec.tolerations[{i}].effect"), bad_effect(e))
                })?),
            };
        let operator = match t.operator.as_deref().unwrap_or_default() {
            "" | "Equal" => TolerationOperator::Equal,
            "Exists" => TolerationOperator::Exists,
            // upstream: Lt/Gt only behind the alpha gate TaintTolerationComparisonOperators (off).
            _ => TolerationOperator::Never,
        };
        tolerations.push(Toleration {
            key: interner.intern(t.key.as_deref().unwrap_or_default()),
            operator,
            value: interner.intern(t.value.as_deref().unwrap_or_default()),
            effect,
            seconds: t.toleration_seconds,
        });
    }

    let mut node_selector: Vec<(Sym, Sym)> = spec
        .node_selector
        .iter()
        .flatten()
        .map(|(k, v)| (interner.intern(k), interner.intern(v)))
        .collect();
    node_selector.sort_unstable_by_key(|&(k, _)| k);

    let affinity = spec.affinity.as_ref();
    let node_affinity = affinity.and_then(|a| a.node_affinity.as_ref());
    let required_affinity = node_affinity
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|sel| compile_node_selector(sel, interner));
    let preferred_affinity = node_affinity
        .and_then(|na| {
            na.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|terms| compile_preferred_terms(terms, interner))
        .unwrap_or_default();

    let mut unsupported = SmallVec::new();
    let mut needs = |present: bool, plugin: &'static str, what: &'static str| {
        if present {
            unsupported.push(UnsupportedConstraint { plugin, what });
        }
    };
    fn non_empty<T>(v: Option<&Vec<T>>) -> bool {
        v.is_some_and(|t| !t.is_empty())
    }
    needs(
        spec.volumes
            .iter()
            .flatten()
            .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some()),
        "VolumeBinding",
        "persistentVolumeClaim or ephemeral volumes",
    );
    needs(
        non_empty(spec.resource_claims.as_ref()),
        "DynamicResources",
        "spec.resourceClaims",
    );

    let labels = intern_labels(pod.metadata.labels.as_ref(), interner);
    let own_labels = pod.metadata.labels.clone().unwrap_or_default();
    let pod_affinity = compile_pod_affinity(&ctx, affinity, namespace, &own_labels, interner)?;
    let topology_spread = compile_spread_constraints(
        &ctx,
        spec.topology_spread_constraints
            .as_deref()
            .unwrap_or_default(),
        &own_labels,
        interner,
    )?;
    let owners = pod.metadata.owner_references.as_deref().unwrap_or_default();
    let controller = controller_ref(owners);
    let has_controller = owners.iter().any(|o| o.controller == Some(true));
    // kubectl drain's daemonSetFilter reads the controller's kind only.
    let drain = DrainFacts {
        daemon_set: owners
            .iter()
            .find(|o| o.controller == Some(true))
            .is_some_and(|o| o.kind == "DaemonSet"),
        mirror: pod
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION)),
        empty_dir: spec.volumes.iter().flatten().any(|v| v.empty_dir.is_some()),
    };

    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    let node_name_str = spec.node_name.as_deref().filter(|n| !n.is_empty());
    Ok(PodInfo {
        key: Arc::from(key.as_str()),
        namespace: Arc::from(namespace),
        name: Arc::from(name),
        uid: Arc::from(pod.metadata.uid.as_deref().unwrap_or_default()),
        scheduler_name: Arc::from(
            spec.scheduler_name
                .as_deref()
                .unwrap_or("default-scheduler"),
        ),
        priority: spec.priority.unwrap_or(0),
        creation_millis: pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map_or(0, |t| t.0.as_millisecond()),
        start_millis: pod
            .status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map_or(PodInfo::NOT_STARTED, |t| t.0.as_millisecond()),
        node_name: node_name_str.map(|n| interner.intern(n)),
        node_name_str: node_name_str.map(Arc::from),
        nominated_node_name: pod
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.as_deref())
            .filter(|n| !n.is_empty())
            .map(Arc::from),
        terminal: matches!(phase, Some("Succeeded" | "Failed")),
        non_zero_milli_cpu: non_zero.milli_cpu,
        non_zero_memory: non_zero.memory,
        requests,
        scalar_reasons,
        host_ports,
        tolerations,
        node_selector,
        required_affinity,
        preferred_affinity,
        // upstream ImageLocality sums init containers' and containers' images, normalized.
        images: spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
            .filter_map(|c| c.image.as_deref())
            .map(|i| interner.intern(&normalized_image_name(i)))
            .collect(),
        num_containers: spec.containers.len() + spec.init_containers.as_ref().map_or(0, Vec::len),
        preempt_never: spec.preemption_policy.as_deref() == Some("Never"),
        scheduling_gates: spec
            .scheduling_gates
            .iter()
            .flatten()
            .map(|g| Arc::from(g.name.as_str()))
            .collect(),
        unsupported,
        labels,
        namespace_sym: interner.intern(namespace),
        terminating: pod.metadata.deletion_timestamp.is_some(),
        pod_affinity,
        topology_spread,
        controller,
        has_controller,
        drain,
        claims: Vec::new(),
        lease: None,
    })
}

/// The annotation the kubelet puts on the API object of a static pod (upstream
/// `corev1.MirrorPodAnnotationKey`).
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Converts a `policy/v1` PodDisruptionBudget: its selector interned, its budget and status.
///
/// # Errors
/// A missing name, both `minAvailable` and `maxUnavailable` set (the API server rejects it),
/// a negative number, or a percentage that is not `0%`–`100%`.
pub fn disruption_budget(
    pdb: &k8s_openapi::api::policy::v1::PodDisruptionBudget,
    interner: &mut Interner,
) -> Result<DisruptionBudget> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let namespace = pdb.metadata.namespace.as_deref().unwrap_or("default");
    let name = pdb.metadata.name.as_deref().unwrap_or_default();
    let object = format!(
        "{namespace}/{}",
        if name.is_empty() { "<unnamed>" } else { name }
    );
    let ctx = Ctx {
        kind: "PodDisruptionBudget",
        object: &object,
    };
    if name.is_empty() {
        return Err(ctx.err("metadata.name", "required"));
    }
    let spec = pdb.spec.clone().unwrap_or_default();
    let value = |field: &str, v: &IntOrString| -> Result<(bool, i32)> {
        match v {
            IntOrString::Int(n) if *n >= 0 => Ok((false, *n)),
            IntOrString::Int(n) => Err(ctx.err(
                format!("spec.{field}"),
                format!("{n} is negative: expected a number of pods ≥ 0 or a percentage"),
            )),
            IntOrString::String(s) => s
                .strip_suffix('%')
                .and_then(|p| p.parse::<i32>().ok())
                .filter(|p| (0..=100).contains(p))
                .map(|p| (true, p))
                .ok_or_else(|| {
                    ctx.err(
                        format!("spec.{field}"),
                        format!("{s:?}: expected a number of pods or a percentage 0%–100%"),
                    )
                }),
        }
    };
    let rule = match (&spec.min_available, &spec.max_unavailable) {
        (Some(_), Some(_)) => {
            return Err(ctx.err("spec", "minAvailable and maxUnavailable cannot be both set"));
        }
        (Some(v), None) => match value("minAvailable", v)? {
            (false, n) => BudgetRule::MinAvailable(n),
            (true, p) => BudgetRule::MinAvailablePercent(p),
        },
        (None, Some(v)) => match value("maxUnavailable", v)? {
            (false, n) => BudgetRule::MaxUnavailable(n),
            (true, p) => BudgetRule::MaxUnavailablePercent(p),
        },
        (None, None) => BudgetRule::Unset,
    };
    // A nil or unparsable selector selects nothing; `{}` is kept (see DisruptionBudget).
    let selector = spec
        .selector
        .as_ref()
        .map(|s| compile_label_selector(s, interner))
        .filter(|s| !s.invalid);
    let status = pdb.status.as_ref();
    let mut disrupted_pods: Vec<(Arc<str>, i64)> = status
        .and_then(|s| s.disrupted_pods.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, t)| (Arc::from(k.as_str()), t.0.as_millisecond()))
                .collect()
        })
        .unwrap_or_default();
    disrupted_pods.sort();
    Ok(DisruptionBudget {
        namespace: interner.intern(namespace),
        name: Arc::from(name),
        selector,
        rule,
        disruptions_allowed: status.and_then(|s| s.disruptions_allowed).unwrap_or(0),
        current_healthy: status.and_then(|s| s.current_healthy).unwrap_or(0),
        desired_healthy: status.and_then(|s| s.desired_healthy).unwrap_or(0),
        disrupted_pods,
    })
}

/// upstream `metav1.GetControllerOfNoCopy` narrowed to the kinds `helper.DefaultSelector`
/// reads: `v1` ReplicationController, `apps/v1` ReplicaSet and StatefulSet (group and version
/// must match exactly, as upstream compares GroupVersionKinds).
fn controller_ref(
    owners: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference],
) -> Option<ControllerRef> {
    let owner = owners.iter().find(|o| o.controller == Some(true))?;
    let kind = match (owner.api_version.as_str(), owner.kind.as_str()) {
        ("v1", "ReplicationController") => WorkloadKind::ReplicationController,
        ("apps/v1", "ReplicaSet") => WorkloadKind::ReplicaSet,
        ("apps/v1", "StatefulSet") => WorkloadKind::StatefulSet,
        _ => return None,
    };
    Some(ControllerRef {
        kind,
        name: Arc::from(owner.name.as_str()),
    })
}

/// Appends `key In [value]` (`is_in`) or `key NotIn [value]` for each key the pod carries, as
/// the API server merges `matchLabelKeys` / `mismatchLabelKeys` into a selector at pod creation
/// (a nil selector stays nil: it matches nothing either way).
fn merge_label_keys(
    sel: &mut LabelSelector,
    keys: &[String],
    own_labels: &BTreeMap<String, String>,
    is_in: bool,
    interner: &mut Interner,
) {
    for k in keys {
        if let Some(v) = own_labels.get(k) {
            let key = interner.intern(k);
            let values = smallvec::smallvec![interner.intern(v)];
            sel.requirements.push(if is_in {
                LabelRequirement::In { key, values }
            } else {
                LabelRequirement::NotIn { key, values }
            });
        }
    }
}

/// Compiles `spec.affinity.podAffinity` and `podAntiAffinity` (upstream `framework.NewPodInfo`
/// → `getAffinityTerms` / `getWeightedAffinityTerms`).
fn compile_pod_affinity(
    ctx: &Ctx<'_>,
    affinity: Option<&core::Affinity>,
    namespace: &str,
    own_labels: &BTreeMap<String, String>,
    interner: &mut Interner,
) -> Result<PodAffinity> {
    let mut out = PodAffinity::default();
    let Some(a) = affinity else {
        return Ok(out);
    };
    // podAffinity and podAntiAffinity are two API types with the same two lists.
    let lists = |base: &str,
                 required: Option<&Vec<core::PodAffinityTerm>>,
                 preferred: Option<&Vec<core::WeightedPodAffinityTerm>>,
                 interner: &mut Interner|
     -> Result<(Vec<PodAffinityTerm>, Vec<WeightedPodAffinityTerm>)> {
        let mut hard = Vec::new();
        for (i, t) in required.into_iter().flatten().enumerate() {
            let f = format!("{base}.requiredDuringSchedulingIgnoredDuringExecution[{i}]");
            hard.push(compile_pod_affinity_term(
                ctx, &f, t, namespace, own_labels, interner,
            )?);
        }
        let mut soft = Vec::new();
        for (i, w) in preferred.into_iter().flatten().enumerate() {
            let f = format!("{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            let t = compile_pod_affinity_term(
                ctx,
                &f,
                &w.pod_affinity_term,
                namespace,
                own_labels,
                interner,
            )?;
            soft.push(weighted(ctx, &f, w.weight, t)?);
        }
        Ok((hard, soft))
    };
    if let Some(pa) = &a.pod_affinity {
        (out.required_affinity, out.preferred_affinity) = lists(
            "spec.affinity.podAffinity",
            pa.required_during_scheduling_ignored_during_execution
                .as_ref(),
            pa.preferred_during_scheduling_ignored_during_execution
                .as_ref(),
            interner,
        )?;
    }
    if let Some(pa) = &a.pod_anti_affinity {
        (out.required_anti_affinity, out.preferred_anti_affinity) = lists(
            "spec.affinity.podAntiAffinity",
            pa.required_during_scheduling_ignored_during_execution
                .as_ref(),
            pa.preferred_during_scheduling_ignored_during_execution
                .as_ref(),
            interner,
        )?;
    }
    Ok(out)
}

fn weighted(
    ctx: &Ctx<'_>,
    field: &str,
    weight: i32,
    term: PodAffinityTerm,
) -> Result<WeightedPodAffinityTerm> {
    // upstream API validation: a preferred term's weight is in 1..=100.
    if !(1..=100).contains(&weight) {
        return Err(ctx.err(
            format!("{field}.weight"),
            format!("invalid value {weight}: must be in the range 1-100"),
        ));
    }
    Ok(WeightedPodAffinityTerm { weight, term })
}

/// Compiles one `PodAffinityTerm` (upstream `newAffinityTerm`: no namespaces and no
/// namespaceSelector means the pod's own namespace).
fn compile_pod_affinity_term(
    ctx: &Ctx<'_>,
    field: &str,
    t: &core::PodAffinityTerm,
    own_namespace: &str,
    own_labels: &BTreeMap<String, String>,
    interner: &mut Interner,
) -> Result<PodAffinityTerm> {
    if t.topology_key.is_empty() {
        // upstream API validation: topologyKey is required for pod (anti-)affinity terms.
        return Err(ctx.err(
            format!("{field}.topologyKey"),
            "required value: can not be empty",
        ));
    }
    let listed = t.namespaces.as_deref().unwrap_or_default();
    let namespaces = if listed.is_empty() && t.namespace_selector.is_none() {
        smallvec::smallvec![interner.intern(own_namespace)]
    } else {
        listed.iter().map(|n| interner.intern(n)).collect()
    };
    let selector = t.label_selector.as_ref().map(|sel| {
        let mut s = compile_label_selector(sel, interner);
        merge_label_keys(
            &mut s,
            t.match_label_keys.as_deref().unwrap_or_default(),
            own_labels,
            true,
            interner,
        );
        merge_label_keys(
            &mut s,
            t.mismatch_label_keys.as_deref().unwrap_or_default(),
            own_labels,
            false,
            interner,
        );
        s
    });
    Ok(PodAffinityTerm {
        namespaces,
        namespace_selector: t
            .namespace_selector
            .as_ref()
            .map(|sel| compile_label_selector(sel, interner)),
        selector,
        topology_key: interner.intern(&t.topology_key),
    })
}

/// Compiles `spec.topologySpreadConstraints`, with upstream's API validation of each field and
/// the scheduler's defaults (`minDomains` 1, `nodeAffinityPolicy: Honor`,
/// `nodeTaintsPolicy: Ignore`; upstream `filterTopologySpreadConstraints`).
fn compile_spread_constraints(
    ctx: &Ctx<'_>,
    constraints: &[core::TopologySpreadConstraint],
    own_labels: &BTreeMap<String, String>,
    interner: &mut Interner,
) -> Result<Vec<TopologySpreadConstraint>> {
    let mut out = Vec::with_capacity(constraints.len());
    for (i, c) in constraints.iter().enumerate() {
        let f = |name: &str| format!("spec.topologySpreadConstraints[{i}].{name}");
        if c.max_skew <= 0 {
            return Err(ctx.err(
                f("maxSkew"),
                format!("invalid value {}: must be greater than zero", c.max_skew),
            ));
        }
        if c.topology_key.is_empty() {
            return Err(ctx.err(f("topologyKey"), "required value: can not be empty"));
        }
        let when_unsatisfiable = match c.when_unsatisfiable.as_str() {
            "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
            "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
            other => {
                return Err(ctx.err(
                    f("whenUnsatisfiable"),
                    format!(
                        "unsupported value {other:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\""
                    ),
                ));
            }
        };
        if let Some(m) = c.min_domains {
            if m <= 0 {
                return Err(ctx.err(
                    f("minDomains"),
                    format!("invalid value {m}: must be greater than zero"),
                ));
            }
            if when_unsatisfiable != WhenUnsatisfiable::DoNotSchedule {
                return Err(ctx.err(
                    f("minDomains"),
                    format!(
                        "invalid value {m}: can only use minDomains if whenUnsatisfiable=DoNotSchedule"
                    ),
                ));
            }
        }
        let policy = |v: Option<&str>, name: &str, default: InclusionPolicy| match v {
            None => Ok(default),
            Some("Honor") => Ok(InclusionPolicy::Honor),
            Some("Ignore") => Ok(InclusionPolicy::Ignore),
            Some(other) => Err(ctx.err(
                f(name),
                format!("unsupported value {other:?}: supported values: \"Honor\", \"Ignore\""),
            )),
        };
        let node_affinity_policy = policy(
            c.node_affinity_policy.as_deref(),
            "nodeAffinityPolicy",
            InclusionPolicy::Honor,
        )?;
        let node_taints_policy = policy(
            c.node_taints_policy.as_deref(),
            "nodeTaintsPolicy",
            InclusionPolicy::Ignore,
        )?;
        let selector = c.label_selector.as_ref().map(|sel| {
            let mut s = compile_label_selector(sel, interner);
            merge_label_keys(
                &mut s,
                c.match_label_keys.as_deref().unwrap_or_default(),
                own_labels,
                true,
                interner,
            );
            s
        });
        out.push(TopologySpreadConstraint {
            max_skew: c.max_skew,
            topology_key: interner.intern(&c.topology_key),
            when_unsatisfiable,
            selector,
            min_domains: c.min_domains.unwrap_or(1),
            node_affinity_policy,
            node_taints_policy,
        });
    }
    Ok(out)
}

/// upstream `metav1.LabelSelectorAsSelector`: matchLabels and matchExpressions ANDed; a parse
/// error makes the selector match nothing.
pub fn compile_label_selector(sel: &LabelSelectorApi, interner: &mut Interner) -> LabelSelector {
    let mut out = LabelSelector::default();
    for (k, v) in sel.match_labels.iter().flatten() {
        if !is_qualified_name(k) || !is_valid_label_value(v) {
            out.invalid = true;
            continue;
        }
        out.requirements.push(LabelRequirement::In {
            key: interner.intern(k),
            values: smallvec::smallvec![interner.intern(v)],
        });
    }
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default();
        if !is_qualified_name(&e.key) || values.iter().any(|v| !is_valid_label_value(v)) {
            out.invalid = true;
            continue;
        }
        let key = interner.intern(&e.key);
        let syms: SmallVec<[Sym; 4]> = values.iter().map(|v| interner.intern(v)).collect();
        let req = match (e.operator.as_str(), values.is_empty()) {
            ("In", false) => LabelRequirement::In { key, values: syms },
            ("NotIn", false) => LabelRequirement::NotIn { key, values: syms },
            ("Exists", true) => LabelRequirement::Exists { key },
            ("DoesNotExist", true) => LabelRequirement::DoesNotExist { key },
            _ => {
                out.invalid = true;
                continue;
            }
        };
        out.requirements.push(req);
    }
    out
}

/// upstream `normalizedImageName`: appends `:latest` when the last `:` does not come after
/// the last `/` (so `host:5000/img` gets a tag, `img@sha256:…` and `img:tag` do not).
#[must_use]
pub fn normalized_image_name(name: &str) -> std::borrow::Cow<'_, str> {
    // Go's strings.LastIndex returns -1 when absent, so "absent" sorts before every index.
    if name.rfind(':') <= name.rfind('/') {
        std::borrow::Cow::Owned(format!("{name}:latest"))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// Compiles a `NodeSelector` as upstream's `nodeaffinity.NewNodeSelector` with lenient
/// parsing: terms with neither expressions nor fields are dropped; a term with a requirement
/// that fails parsing is kept but marked invalid, so it never matches.
pub fn compile_node_selector(sel: &core::NodeSelector, interner: &mut Interner) -> NodeSelector {
    NodeSelector {
        terms: sel
            .node_selector_terms
            .iter()
            .filter(|t| !is_empty_term(t))
            .map(|t| compile_term(t, interner))
            .collect(),
    }
}

fn is_empty_term(t: &core::NodeSelectorTerm) -> bool {
    t.match_expressions.as_ref().is_none_or(Vec::is_empty)
        && t.match_fields.as_ref().is_none_or(Vec::is_empty)
}

/// Compiles preferred terms as upstream's `nodeaffinity.NewPreferredSchedulingTerms`: terms with
/// weight 0 or an empty preference are dropped.
pub fn compile_preferred_terms(
    terms: &[core::PreferredSchedulingTerm],
    interner: &mut Interner,
) -> Vec<PreferredTerm> {
    terms
        .iter()
        .filter(|t| t.weight != 0 && !is_empty_term(&t.preference))
        .map(|t| PreferredTerm {
            weight: i64::from(t.weight),
            term: compile_term(&t.preference, interner),
        })
        .collect()
}

fn compile_term(t: &core::NodeSelectorTerm, interner: &mut Interner) -> SelectorTerm {
    let mut term = SelectorTerm::default();
    for r in t.match_expressions.iter().flatten() {
        match compile_label_requirement(r, interner) {
            Ok(req) => term.expressions.push(req),
            Err(e) => {
                term.invalid.get_or_insert_with(|| Arc::from(e));
            }
        }
    }
    for r in t.match_fields.iter().flatten() {
        match compile_field_requirement(r, interner) {
            Ok(req) => term.fields.push(req),
            Err(e) => {
                term.invalid.get_or_insert_with(|| Arc::from(e));
            }
        }
    }
    term
}

/// upstream: `nodeaffinity.nodeSelectorRequirementsAsSelector` → `labels.NewRequirement` validation.
fn compile_label_requirement(
    r: &core::NodeSelectorRequirement,
    interner: &mut Interner,
) -> std::result::Result<LabelRequirement, String> {
    if !is_qualified_name(&r.key) {
        return Err(format!("invalid label key {:?}", r.key));
    }
    let values = r.values.as_deref().unwrap_or_default();
    for v in values {
        if !is_valid_label_value(v) {
            return Err(format!("invalid label value {v:?}"));
        }
    }
    let key = interner.intern(&r.key);
    let mut syms = || {
        values
            .iter()
            .map(|v| interner.intern(v))
            .collect::<SmallVec<[Sym; 4]>>()
    };
    match r.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => {
            Err(format!("{}: values set can't be empty", r.operator))
        }
        "In" => Ok(LabelRequirement::In {
            key,
            values: syms(),
        }),
        "NotIn" => Ok(LabelRequirement::NotIn {
            key,
            values: syms(),
        }),
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            Err(format!("{}: values set must be empty", r.operator))
        }
        "Exists" => Ok(LabelRequirement::Exists { key }),
        "DoesNotExist" => Ok(LabelRequirement::DoesNotExist { key }),
        "Gt" | "Lt" => {
            let [v] = values else {
                return Err(format!(
                    "{}: values must have exactly one element",
                    r.operator
                ));
            };
            let value = crate::intern::parse_go_int64(v)
                .ok_or_else(|| format!("{}: value {v:?} is not an integer", r.operator))?;
            Ok(if r.operator == "Gt" {
                LabelRequirement::Gt { key, value }
            } else {
                LabelRequirement::Lt { key, value }
            })
        }
        other => Err(format!("{other:?} is not a valid node selector operator")),
    }
}

/// upstream: `nodeaffinity.nodeSelectorRequirementsAsFieldSelector`: only `metadata.name`,
/// `In`/`NotIn`, exactly one value.
fn compile_field_requirement(
    r: &core::NodeSelectorRequirement,
    interner: &mut Interner,
) -> std::result::Result<FieldRequirement, String> {
    if r.key != "metadata.name" {
        return Err(format!("field key {:?} is not supported", r.key));
    }
    let values = r.values.as_deref().unwrap_or_default();
    let [v] = values else {
        return Err(format!(
            "matchFields {} must have exactly one value",
            r.operator
        ));
    };
    let is_in = match r.operator.as_str() {
        "In" => true,
        "NotIn" => false,
        other => return Err(format!("{other:?} is not a valid field selector operator")),
    };
    Ok(FieldRequirement {
        is_in,
        node_name: interner.intern(v),
    })
}
