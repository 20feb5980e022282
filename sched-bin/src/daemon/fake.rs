//! An in-process fake API server: just enough of the Kubernetes API for the daemon, served as
//! a tower service to `kube::Client` (no sockets), for tests and the throughput bench.
//!
//! It keeps Nodes, Pods, Namespaces, Services, ReplicaSets, StatefulSets,
//! ReplicationControllers, Leases and Events with one global `resourceVersion` counter, serves
//! list and (streaming) watch for the first seven with resume from a resourceVersion, the pod
//! `binding` and `status` subresources with the API server's conflict rules, and Leases with
//! `resourceVersion`-checked replace. Every request is recorded with the name of the client
//! that made it, so a test can tell two daemons apart. Faults can be injected: a binding
//! answered with a given status, bindings or lists held until released, watches expired (410
//! Gone, the client must re-list), and a client cut off from the Lease API.

use bytes::Bytes;
use futures::channel::mpsc as fmpsc;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    Binding, Container, Namespace, Node, NodeSpec, NodeStatus, Pod, PodCondition, PodSpec,
    ReplicationController, ReplicationControllerSpec, ResourceRequirements, Service, ServiceSpec,
};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::sync::Semaphore;

type Body = BoxBody<Bytes, Infallible>;
type WatchSender = fmpsc::UnboundedSender<Result<Frame<Bytes>, Infallible>>;

/// The kinds served by list and watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Node,
    Pod,
    Namespace,
    Service,
    ReplicaSet,
    StatefulSet,
    ReplicationController,
}

impl Kind {
    /// The kind of a collection path (`/api/v1/services`, `/apis/apps/v1/replicasets`, …).
    fn of_collection(segs: &[&str]) -> Option<Kind> {
        Some(match segs {
            ["api", "v1", "nodes"] => Kind::Node,
            ["api", "v1", "pods"] => Kind::Pod,
            ["api", "v1", "namespaces"] => Kind::Namespace,
            ["api", "v1", "services"] => Kind::Service,
            ["api", "v1", "replicationcontrollers"] => Kind::ReplicationController,
            ["apis", "apps", "v1", "replicasets"] => Kind::ReplicaSet,
            ["apis", "apps", "v1", "statefulsets"] => Kind::StatefulSet,
            _ => return None,
        })
    }

    /// The kind named `kind` (a `Resource::KIND`), when it is one of the stored objects.
    fn of_object(kind: &str) -> Option<Kind> {
        Some(match kind {
            "Namespace" => Kind::Namespace,
            "Service" => Kind::Service,
            "ReplicaSet" => Kind::ReplicaSet,
            "StatefulSet" => Kind::StatefulSet,
            "ReplicationController" => Kind::ReplicationController,
            _ => return None,
        })
    }

    fn list_kind(self) -> &'static str {
        match self {
            Kind::Node => "NodeList",
            Kind::Pod => "PodList",
            Kind::Namespace => "NamespaceList",
            Kind::Service => "ServiceList",
            Kind::ReplicaSet => "ReplicaSetList",
            Kind::StatefulSet => "StatefulSetList",
            Kind::ReplicationController => "ReplicationControllerList",
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            Kind::ReplicaSet | Kind::StatefulSet => "apps/v1",
            _ => "v1",
        }
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The client's name.
    pub client: String,
    /// Method.
    pub method: Method,
    /// Path (no query).
    pub path: String,
    /// Query string.
    pub query: String,
    /// Body as JSON (`Null` when empty or not JSON).
    pub body: serde_json::Value,
}

/// A successful binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindRecord {
    /// The client that bound.
    pub client: String,
    /// `namespace/name`.
    pub pod: String,
    /// The node.
    pub node: String,
}

#[derive(Default)]
struct Inner {
    rv: u64,
    nodes: BTreeMap<String, Node>,
    pods: BTreeMap<String, Pod>,
    /// Namespaces, Services and workloads by kind and `ns/name` (`name` for Namespaces).
    objects: BTreeMap<(Kind, String), serde_json::Value>,
    leases: BTreeMap<String, Lease>,
    /// Pods deleted through the API (`ns/name`, in order).
    deleted: Vec<String>,
    events: Vec<Event>,
    log: Vec<(u64, Kind, Bytes)>,
    compacted: u64,
    watchers: Vec<(Kind, WatchSender)>,
    requests: Vec<Recorded>,
    record_requests: bool,
    bindings: Vec<BindRecord>,
    bind_faults: VecDeque<u16>,
    lease_blocked: HashSet<String>,
    all_blocked: HashSet<String>,
    path_blocked: Vec<(String, String)>,
    silent_bindings: bool,
}

/// The fake API server. Cheap to clone; clones share the cluster.
#[derive(Clone)]
pub struct FakeApiServer {
    inner: Arc<Mutex<Inner>>,
    bind_gate: Gate,
    list_gate: Gate,
    client: Arc<str>,
}

/// Requests held until a semaphore gets permits (one per request), when set.
type Gate = Arc<Mutex<Option<Arc<Semaphore>>>>;

fn set_gate(gate: &Gate) -> Arc<Semaphore> {
    let s = Arc::new(Semaphore::new(0));
    *gate
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(s.clone());
    s
}

async fn pass(gate: &Gate) {
    let gate = gate
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    if let Some(gate) = gate
        && let Ok(permit) = gate.acquire().await
    {
        permit.forget();
    }
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Default for FakeApiServer {
    fn default() -> Self {
        Self::new()
    }
}

fn pod_key(ns: &str, name: &str) -> String {
    format!("{ns}/{name}")
}

fn status_body(code: u16, reason: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": if code < 300 { "Success" } else { "Failure" },
        "message": message, "reason": reason, "code": code,
    })
}

fn respond(code: u16, body: &impl Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(bytes)).boxed())
        .expect("valid response")
}

fn error(code: u16, reason: &str, message: &str) -> Response<Body> {
    respond(code, &status_body(code, reason, message))
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then_some(v)
    })
}

impl Inner {
    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn emit(&mut self, kind: Kind, type_: &str, object: &impl Serialize, rv: u64) {
        let mut line = serde_json::to_vec(&serde_json::json!({ "type": type_, "object": object }))
            .unwrap_or_default();
        line.push(b'\n');
        let line = Bytes::from(line);
        self.log.push((rv, kind, line.clone()));
        self.watchers.retain(|(k, tx)| {
            *k != kind || tx.unbounded_send(Ok(Frame::data(line.clone()))).is_ok()
        });
    }

    fn put_node(&mut self, mut node: Node) {
        let rv = self.bump();
        node.metadata.resource_version = Some(rv.to_string());
        let name = node.metadata.name.clone().unwrap_or_default();
        let type_ = if self.nodes.contains_key(&name) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.emit(Kind::Node, type_, &node, rv);
        self.nodes.insert(name, node);
    }

    fn put_pod(&mut self, mut pod: Pod) {
        let rv = self.bump();
        pod.metadata.resource_version = Some(rv.to_string());
        let ns = pod
            .metadata
            .namespace
            .get_or_insert_with(|| "default".into())
            .clone();
        let key = pod_key(&ns, pod.metadata.name.as_deref().unwrap_or_default());
        let type_ = if self.pods.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.emit(Kind::Pod, type_, &pod, rv);
        self.pods.insert(key, pod);
    }

    fn put_object(&mut self, kind: Kind, key: String, mut object: serde_json::Value) {
        let rv = self.bump();
        object["metadata"]["resourceVersion"] = serde_json::json!(rv.to_string());
        let type_ = if self.objects.contains_key(&(kind, key.clone())) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.emit(kind, type_, &object, rv);
        self.objects.insert((kind, key), object);
    }
}

/// The stored kind of `K` and the key of `namespace`/`name` (`name` for a Namespace).
///
/// # Panics
/// When `K` is not one of the kinds the fake stores besides Nodes and Pods.
fn object_key<K: k8s_openapi::Resource>(namespace: &str, name: &str) -> (Kind, String) {
    let kind = Kind::of_object(K::KIND).unwrap_or_else(|| {
        panic!(
            "the fake stores Namespaces, Services, ReplicaSets, StatefulSets and \
             ReplicationControllers this way, not {}",
            K::KIND
        )
    });
    let key = if kind == Kind::Namespace {
        name.to_string()
    } else {
        pod_key(namespace, name)
    };
    (kind, key)
}

impl FakeApiServer {
    /// An empty cluster.
    #[must_use]
    pub fn new() -> Self {
        FakeApiServer {
            inner: Arc::new(Mutex::new(Inner {
                record_requests: true,
                ..Inner::default()
            })),
            bind_gate: Arc::new(Mutex::new(None)),
            list_gate: Arc::new(Mutex::new(None)),
            client: "default".into(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A `kube::Client` talking to this server, recorded under `name`.
    #[must_use]
    pub fn client(&self, name: &str) -> kube::Client {
        kube::Client::new(self.named(name), "default")
    }

    /// This server as a tower service recorded under `name` (to wrap in layers).
    #[must_use]
    pub fn named(&self, name: &str) -> Self {
        FakeApiServer {
            inner: self.inner.clone(),
            bind_gate: self.bind_gate.clone(),
            list_gate: self.list_gate.clone(),
            client: name.into(),
        }
    }

    /// Stops (or resumes) recording requests (the bench turns it off).
    pub fn record_requests(&self, on: bool) {
        self.lock().record_requests = on;
    }

    /// Creates or replaces a node.
    pub fn put_node(&self, node: Node) {
        self.lock().put_node(node);
    }

    /// Creates or replaces a pod (uid and creation time are filled in when missing).
    pub fn put_pod(&self, mut pod: Pod) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        pod.metadata
            .uid
            .get_or_insert_with(|| format!("uid-{name}"));
        pod.metadata
            .creation_timestamp
            .get_or_insert_with(|| Time(jiff::Timestamp::now()));
        self.lock().put_pod(pod);
    }

    /// Creates or replaces a Namespace, Service, ReplicaSet, StatefulSet or
    /// ReplicationController (a namespaced object without a namespace goes to `default`).
    ///
    /// # Panics
    /// For any other kind (Nodes and Pods have [`put_node`](Self::put_node) and
    /// [`put_pod`](Self::put_pod)).
    pub fn put<K>(&self, mut object: K)
    where
        K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize,
    {
        let meta = object.metadata_mut();
        if K::KIND != "Namespace" {
            meta.namespace.get_or_insert_with(|| "default".into());
        }
        let name = meta.name.clone().unwrap_or_default();
        meta.uid.get_or_insert_with(|| format!("uid-{name}"));
        let (kind, key) = object_key::<K>(
            object.metadata().namespace.as_deref().unwrap_or_default(),
            &name,
        );
        let value = serde_json::to_value(&object).unwrap_or_default();
        self.lock().put_object(kind, key, value);
    }

    /// Deletes a Namespace (`namespace` ignored), Service, ReplicaSet, StatefulSet or
    /// ReplicationController (emits DELETED).
    ///
    /// # Panics
    /// For any other kind.
    pub fn delete<K: k8s_openapi::Resource>(&self, namespace: &str, name: &str) {
        let key = object_key::<K>(namespace, name);
        let mut g = self.lock();
        if let Some(mut object) = g.objects.remove(&key) {
            let rv = g.bump();
            object["metadata"]["resourceVersion"] = serde_json::json!(rv.to_string());
            g.emit(key.0, "DELETED", &object, rv);
        }
    }

    /// Deletes a Namespace (`namespace` ignored), Service, ReplicaSet, StatefulSet or
    /// ReplicationController without telling current watchers, and compacts history so that
    /// their resume fails with 410 Gone: only a re-list can learn about it.
    ///
    /// # Panics
    /// For any other kind.
    pub fn delete_silently<K: k8s_openapi::Resource>(&self, namespace: &str, name: &str) {
        let key = object_key::<K>(namespace, name);
        let mut g = self.lock();
        g.objects.remove(&key);
        let rv = g.bump();
        g.compacted = rv;
        g.log.clear();
    }

    /// A Namespace (`namespace` ignored), Service, ReplicaSet, StatefulSet or
    /// ReplicationController.
    ///
    /// # Panics
    /// For any other kind.
    #[must_use]
    pub fn get<K: k8s_openapi::Resource + DeserializeOwned>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<K> {
        let key = object_key::<K>(namespace, name);
        let value = self.lock().objects.get(&key).cloned()?;
        serde_json::from_value(value).ok()
    }

    /// Deletes a pod (emits DELETED).
    pub fn delete_pod(&self, ns: &str, name: &str) {
        let mut g = self.lock();
        if let Some(mut pod) = g.pods.remove(&pod_key(ns, name)) {
            let rv = g.bump();
            pod.metadata.resource_version = Some(rv.to_string());
            g.emit(Kind::Pod, "DELETED", &pod, rv);
        }
    }

    /// Deletes a pod without telling current watchers, and compacts history so that their
    /// resume fails with 410 Gone: only a re-list can learn about it.
    pub fn delete_pod_silently(&self, ns: &str, name: &str) {
        let mut g = self.lock();
        g.pods.remove(&pod_key(ns, name));
        let rv = g.bump();
        g.compacted = rv;
        g.log.clear();
    }

    /// Ends every open watch with a `410 Gone` error event and compacts history, so clients
    /// must re-list.
    pub fn expire_watches(&self) {
        let mut g = self.lock();
        let rv = g.bump();
        g.compacted = rv;
        g.log.clear();
        let mut line = serde_json::to_vec(&serde_json::json!({
            "type": "ERROR",
            "object": status_body(410, "Expired", "too old resource version"),
        }))
        .unwrap_or_default();
        line.push(b'\n');
        for (_, tx) in g.watchers.drain(..) {
            let _ = tx.unbounded_send(Ok(Frame::data(Bytes::from(line.clone()))));
        }
    }

    /// A pod.
    #[must_use]
    pub fn pod(&self, ns: &str, name: &str) -> Option<Pod> {
        self.lock().pods.get(&pod_key(ns, name)).cloned()
    }

    /// All pods.
    #[must_use]
    pub fn pods(&self) -> Vec<Pod> {
        self.lock().pods.values().cloned().collect()
    }

    /// A Lease.
    #[must_use]
    pub fn lease(&self, ns: &str, name: &str) -> Option<Lease> {
        self.lock().leases.get(&pod_key(ns, name)).cloned()
    }

    /// Successful bindings, in order.
    #[must_use]
    pub fn bindings(&self) -> Vec<BindRecord> {
        self.lock().bindings.clone()
    }

    /// Pods deleted through the API (`ns/name`), in order.
    #[must_use]
    pub fn deleted_pods(&self) -> Vec<String> {
        self.lock().deleted.clone()
    }

    /// Events created, in order.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// Requests seen, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// The next bindings are answered with these statuses (e.g. 409, 500) instead of binding.
    pub fn fail_next_bindings(&self, codes: &[u16]) {
        self.lock().bind_faults.extend(codes);
    }

    /// Holds every binding until the returned semaphore gets permits (one per binding).
    #[must_use]
    pub fn hold_bindings(&self) -> Arc<Semaphore> {
        set_gate(&self.bind_gate)
    }

    /// Holds every list (not watches) until the returned semaphore gets permits (one per list
    /// request). Held requests are recorded when they arrive.
    #[must_use]
    pub fn hold_lists(&self) -> Arc<Semaphore> {
        set_gate(&self.list_gate)
    }

    /// Cuts the named client off from the Lease API (503), or restores it.
    pub fn block_leases(&self, client: &str, blocked: bool) {
        let mut g = self.lock();
        if blocked {
            g.lease_blocked.insert(client.to_string());
        } else {
            g.lease_blocked.remove(client);
        }
    }

    /// Cuts the named client off from every API (503), or restores it.
    pub fn block_all(&self, client: &str, blocked: bool) {
        let mut g = self.lock();
        if blocked {
            g.all_blocked.insert(client.to_string());
        } else {
            g.all_blocked.remove(client);
        }
    }

    /// Answers 503 to the named client for every path starting with `prefix`, or stops.
    pub fn block_path(&self, client: &str, prefix: &str, blocked: bool) {
        let mut g = self.lock();
        g.path_blocked
            .retain(|(c, p)| !(c == client && p == prefix));
        if blocked {
            g.path_blocked
                .push((client.to_string(), prefix.to_string()));
        }
    }

    /// Bindings succeed but their pod update is not sent to watchers (a lost watch event).
    pub fn silent_bindings(&self, on: bool) {
        self.lock().silent_bindings = on;
    }

    async fn serve(self, req: Request<kube::client::Body>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let bytes = body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        let method = parts.method;
        let json: serde_json::Value =
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        {
            let mut g = self.lock();
            if g.record_requests {
                g.requests.push(Recorded {
                    client: self.client.to_string(),
                    method: method.clone(),
                    path: path.clone(),
                    query: query.clone(),
                    body: json.clone(),
                });
            }
            if g.all_blocked.contains(&*self.client)
                || g.path_blocked
                    .iter()
                    .any(|(c, p)| **c == *self.client && path.starts_with(p.as_str()))
            {
                return error(503, "ServiceUnavailable", "blocked by test");
            }
        }
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let collection = Kind::of_collection(&segs).filter(|_| method == Method::GET);
        if collection.is_some() && query_param(&query, "watch") != Some("true") {
            pass(&self.list_gate).await;
        }
        if let Some(kind) = collection {
            return self.list_or_watch(kind, &query);
        }
        match (method.clone(), segs.as_slice()) {
            (Method::POST, ["api", "v1", "namespaces", ns, "pods", name, "binding"]) => {
                pass(&self.bind_gate).await;
                self.bind(ns, name, &json)
            }
            (Method::PATCH, ["api", "v1", "namespaces", ns, "pods", name, "status"]) => {
                self.patch_status(ns, name, &json)
            }
            (Method::DELETE, ["api", "v1", "namespaces", ns, "pods", name]) => {
                self.delete_pod_request(ns, name, &json)
            }
            (Method::GET, ["api", "v1", "namespaces", ns, "pods", name]) => {
                match self.pod(ns, name) {
                    Some(p) => respond(200, &p),
                    None => error(404, "NotFound", &format!("pods \"{name}\" not found")),
                }
            }
            (Method::POST, ["apis", "events.k8s.io", "v1", "namespaces", _ns, "events"]) => {
                let Ok(ev) = serde_json::from_value::<Event>(json.clone()) else {
                    return error(400, "BadRequest", "not an Event");
                };
                let mut g = self.lock();
                let rv = g.bump();
                let mut ev = ev;
                ev.metadata.resource_version = Some(rv.to_string());
                g.events.push(ev.clone());
                respond(201, &ev)
            }
            (
                m,
                [
                    "apis",
                    "coordination.k8s.io",
                    "v1",
                    "namespaces",
                    ns,
                    "leases",
                    rest @ ..,
                ],
            ) => {
                if self.lock().lease_blocked.contains(&*self.client) {
                    return error(503, "ServiceUnavailable", "lease API blocked by test");
                }
                self.lease_op(&m, ns, rest.first().copied(), &json)
            }
            _ => error(
                404,
                "NotFound",
                &format!("the fake has no route for {method} {path}"),
            ),
        }
    }

    fn list_or_watch(&self, kind: Kind, query: &str) -> Response<Body> {
        let mut g = self.lock();
        if query_param(query, "watch") == Some("true") {
            let from: u64 = query_param(query, "resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let (tx, rx) = fmpsc::unbounded();
            if from < g.compacted {
                let mut line = serde_json::to_vec(&serde_json::json!({
                    "type": "ERROR",
                    "object": status_body(410, "Expired", "too old resource version"),
                }))
                .unwrap_or_default();
                line.push(b'\n');
                let _ = tx.unbounded_send(Ok(Frame::data(Bytes::from(line))));
            } else {
                for (rv, k, line) in &g.log {
                    if *k == kind && *rv > from {
                        let _ = tx.unbounded_send(Ok(Frame::data(line.clone())));
                    }
                }
                g.watchers.push((kind, tx));
            }
            return Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(BodyExt::boxed(StreamBody::new(rx)))
                .expect("valid response");
        }
        let rv = g.rv.to_string();
        let items: Vec<serde_json::Value> = match kind {
            Kind::Node => g
                .nodes
                .values()
                .map(|n| serde_json::to_value(n).unwrap_or_default())
                .collect(),
            Kind::Pod => g
                .pods
                .values()
                .map(|p| serde_json::to_value(p).unwrap_or_default())
                .collect(),
            _ => g
                .objects
                .range((kind, String::new())..)
                .take_while(|((k, _), _)| *k == kind)
                .map(|(_, v)| v.clone())
                .collect(),
        };
        respond(
            200,
            &serde_json::json!({
                "kind": kind.list_kind(), "apiVersion": kind.api_version(),
                "metadata": { "resourceVersion": rv },
                "items": items,
            }),
        )
    }

    fn bind(&self, ns: &str, name: &str, body: &serde_json::Value) -> Response<Body> {
        let mut g = self.lock();
        let key = pod_key(ns, name);
        if let Some(code) = g.bind_faults.pop_front() {
            return error(
                code,
                "InjectedFault",
                &format!("injected binding failure for {key}"),
            );
        }
        let Ok(binding) = serde_json::from_value::<Binding>(body.clone()) else {
            return error(400, "BadRequest", "not a Binding");
        };
        let Some(pod) = g.pods.get(&key).cloned() else {
            return error(404, "NotFound", &format!("pods \"{name}\" not found"));
        };
        if let Some(uid) = &binding.metadata.uid
            && pod.metadata.uid.as_ref() != Some(uid)
        {
            return error(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on pods/binding \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    pod.metadata.uid.clone().unwrap_or_default()
                ),
            );
        }
        if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
            return error(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is already assigned to node \"{node}\""
                ),
            );
        }
        if pod.metadata.deletion_timestamp.is_some() {
            return error(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is being deleted, cannot be assigned to a host"
                ),
            );
        }
        let node = binding.target.name.clone().unwrap_or_default();
        let mut pod = pod;
        pod.spec.get_or_insert_with(PodSpec::default).node_name = Some(node.clone());
        let status = pod.status.get_or_insert_with(Default::default);
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        conditions.retain(|c| c.type_ != "PodScheduled");
        conditions.push(PodCondition {
            type_: "PodScheduled".into(),
            status: "True".into(),
            ..PodCondition::default()
        });
        if g.silent_bindings {
            let rv = g.bump();
            pod.metadata.resource_version = Some(rv.to_string());
            g.pods.insert(key.clone(), pod);
        } else {
            g.put_pod(pod);
        }
        g.bindings.push(BindRecord {
            client: self.client.to_string(),
            pod: key,
            node,
        });
        respond(201, &status_body(201, "", ""))
    }

    /// `DELETE pods/{name}`, honouring a UID precondition (a mismatch is 409, as the API
    /// server answers).
    fn delete_pod_request(&self, ns: &str, name: &str, body: &serde_json::Value) -> Response<Body> {
        let mut g = self.lock();
        let Some(pod) = g.pods.get(&pod_key(ns, name)).cloned() else {
            return error(404, "NotFound", &format!("pods \"{name}\" not found"));
        };
        if let Some(uid) = body.pointer("/preconditions/uid").and_then(|u| u.as_str())
            && pod.metadata.uid.as_deref() != Some(uid)
        {
            return error(
                409,
                "Conflict",
                "Precondition failed: UID in precondition does not match",
            );
        }
        g.pods.remove(&pod_key(ns, name));
        let rv = g.bump();
        let mut pod = pod;
        pod.metadata.resource_version = Some(rv.to_string());
        g.emit(Kind::Pod, "DELETED", &pod, rv);
        g.deleted.push(pod_key(ns, name));
        respond(200, &pod)
    }

    fn patch_status(&self, ns: &str, name: &str, body: &serde_json::Value) -> Response<Body> {
        let mut g = self.lock();
        let Some(mut pod) = g.pods.get(&pod_key(ns, name)).cloned() else {
            return error(404, "NotFound", &format!("pods \"{name}\" not found"));
        };
        let patch: Vec<PodCondition> = body
            .pointer("/status/conditions")
            .and_then(|c| serde_json::from_value(c.clone()).ok())
            .unwrap_or_default();
        let status = pod.status.get_or_insert_with(Default::default);
        if let Some(n) = body
            .pointer("/status/nominatedNodeName")
            .and_then(|n| n.as_str())
        {
            status.nominated_node_name = Some(n.to_string());
        }
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        // Strategic merge on `conditions`: merge key `type`.
        for c in patch {
            match conditions.iter_mut().find(|e| e.type_ == c.type_) {
                Some(e) => *e = c,
                None => conditions.push(c),
            }
        }
        g.put_pod(pod.clone());
        let pod = g.pods.get(&pod_key(ns, name)).cloned();
        respond(200, &pod)
    }

    fn lease_op(
        &self,
        method: &Method,
        ns: &str,
        name: Option<&str>,
        body: &serde_json::Value,
    ) -> Response<Body> {
        let mut g = self.lock();
        match (method, name) {
            (&Method::GET, Some(name)) => match g.leases.get(&pod_key(ns, name)) {
                Some(l) => respond(200, l),
                None => error(
                    404,
                    "NotFound",
                    &format!("leases.coordination.k8s.io \"{name}\" not found"),
                ),
            },
            (&Method::POST, None) => {
                let Ok(mut lease) = serde_json::from_value::<Lease>(body.clone()) else {
                    return error(400, "BadRequest", "not a Lease");
                };
                let name = lease.metadata.name.clone().unwrap_or_default();
                let key = pod_key(ns, &name);
                if g.leases.contains_key(&key) {
                    return error(
                        409,
                        "AlreadyExists",
                        &format!("leases.coordination.k8s.io \"{name}\" already exists"),
                    );
                }
                let rv = g.bump();
                lease.metadata.resource_version = Some(rv.to_string());
                lease.metadata.namespace = Some(ns.to_string());
                g.leases.insert(key, lease.clone());
                respond(201, &lease)
            }
            (&Method::PUT, Some(name)) => {
                let Ok(mut lease) = serde_json::from_value::<Lease>(body.clone()) else {
                    return error(400, "BadRequest", "not a Lease");
                };
                let key = pod_key(ns, name);
                let Some(current) = g.leases.get(&key) else {
                    return error(
                        404,
                        "NotFound",
                        &format!("leases.coordination.k8s.io \"{name}\" not found"),
                    );
                };
                if lease.metadata.resource_version.is_some()
                    && lease.metadata.resource_version != current.metadata.resource_version
                {
                    return error(
                        409,
                        "Conflict",
                        &format!(
                            "Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
                        ),
                    );
                }
                let rv = g.bump();
                lease.metadata.resource_version = Some(rv.to_string());
                g.leases.insert(key, lease.clone());
                respond(200, &lease)
            }
            _ => error(405, "MethodNotAllowed", "unsupported lease operation"),
        }
    }
}

impl tower::Service<Request<kube::client::Body>> for FakeApiServer {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<kube::client::Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.serve(req).await) })
    }
}

/// A Ready node with `milli_cpu` cpu, 64Gi memory and room for `pods` pods.
#[must_use]
pub fn make_node(name: &str, milli_cpu: i64, pods: i64) -> Node {
    let alloc: BTreeMap<String, Quantity> = [
        ("cpu".to_string(), Quantity(format!("{milli_cpu}m"))),
        ("memory".to_string(), Quantity("64Gi".into())),
        ("pods".to_string(), Quantity(pods.to_string())),
    ]
    .into_iter()
    .collect();
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                [("kubernetes.io/hostname".to_string(), name.to_string())]
                    .into_iter()
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            allocatable: Some(alloc.clone()),
            capacity: Some(alloc),
            ..NodeStatus::default()
        }),
    }
}

/// A pending pod for `scheduler` requesting `milli_cpu` cpu, with `priority`.
#[must_use]
pub fn make_pod(ns: &str, name: &str, scheduler: &str, milli_cpu: i64, priority: i32) -> Pod {
    let requests: BTreeMap<String, Quantity> =
        [("cpu".to_string(), Quantity(format!("{milli_cpu}m")))]
            .into_iter()
            .collect();
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            uid: Some(format!("uid-{name}")),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            scheduler_name: Some(scheduler.into()),
            priority: Some(priority),
            containers: vec![Container {
                name: "c".into(),
                image: Some("registry.example/app:1".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(requests),
                    ..ResourceRequirements::default()
                }),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        status: Some(k8s_openapi::api::core::v1::PodStatus {
            phase: Some("Pending".into()),
            ..Default::default()
        }),
    }
}

fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

fn object_meta(ns: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(Into::into),
        ..ObjectMeta::default()
    }
}

fn label_selector(labels: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(string_map(labels)),
        ..LabelSelector::default()
    }
}

/// A Namespace with `labels`.
#[must_use]
pub fn make_namespace(name: &str, labels: &[(&str, &str)]) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            labels: Some(string_map(labels)),
            ..object_meta(None, name)
        },
        ..Namespace::default()
    }
}

/// A Service selecting pods with `selector`.
#[must_use]
pub fn make_service(ns: &str, name: &str, selector: &[(&str, &str)]) -> Service {
    Service {
        metadata: object_meta(Some(ns), name),
        spec: Some(ServiceSpec {
            selector: Some(string_map(selector)),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// A ReplicaSet selecting (`matchLabels`) pods with `selector`.
#[must_use]
pub fn make_replica_set(ns: &str, name: &str, selector: &[(&str, &str)]) -> ReplicaSet {
    ReplicaSet {
        metadata: object_meta(Some(ns), name),
        spec: ReplicaSetSpec {
            selector: label_selector(selector),
            ..ReplicaSetSpec::default()
        },
        ..ReplicaSet::default()
    }
}

/// A StatefulSet selecting (`matchLabels`) pods with `selector`.
#[must_use]
pub fn make_stateful_set(ns: &str, name: &str, selector: &[(&str, &str)]) -> StatefulSet {
    StatefulSet {
        metadata: object_meta(Some(ns), name),
        spec: StatefulSetSpec {
            selector: label_selector(selector),
            ..StatefulSetSpec::default()
        },
        ..StatefulSet::default()
    }
}

/// A ReplicationController selecting pods with `selector`.
#[must_use]
pub fn make_replication_controller(
    ns: &str,
    name: &str,
    selector: &[(&str, &str)],
) -> ReplicationController {
    ReplicationController {
        metadata: object_meta(Some(ns), name),
        spec: Some(ReplicationControllerSpec {
            selector: Some(string_map(selector)),
            ..ReplicationControllerSpec::default()
        }),
        ..ReplicationController::default()
    }
}
