//! The daemon's API traffic, call by call, the kube-rs way (`kube/src/mock_tests.rs`): a
//! `tower_test::mock::pair` stands in for the API server and a scenario verifier asserts the
//! method, path and body of each request and answers it.

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::client::Body;
use kube::{Api, Client};
use sched_bin::daemon::api::{self, BindError, PodRef, Recorder};
use sched_bin::daemon::leader::{self, ElectionConfig, Elector, Stopped};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tower_test::mock::{self, Handle};

type ApiServerHandle = Handle<Request<Body>, Response<Body>>;

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/placer-system/leases";
const LEASE: &str = "/apis/coordination.k8s.io/v1/namespaces/placer-system/leases/placer";

/// One expected request and the answer to it.
struct Step {
    method: Method,
    path: &'static str,
    /// Asserts on the request body (JSON).
    check: fn(&Value),
    status: u16,
    answer: Value,
}

fn step(method: Method, path: &'static str, check: fn(&Value), status: u16, answer: Value) -> Step {
    Step {
        method,
        path,
        check,
        status,
        answer,
    }
}

fn any(_: &Value) {}

fn status(code: u16, reason: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code, "message": reason})
}

fn lease(rv: &str, holder: Option<&str>) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "placer", "namespace": "placer-system", "resourceVersion": rv},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "leaseTransitions": 0},
    })
}

/// Plays `steps` in order against the mock, asserting each request.
struct ApiServerVerifier(ApiServerHandle);

impl ApiServerVerifier {
    fn run(mut self, steps: Vec<Step>) -> tokio::task::JoinHandle<Self> {
        tokio::spawn(async move {
            for (i, s) in steps.into_iter().enumerate() {
                let (req, send) = self.0.next_request().await.expect("service not called");
                assert_eq!(req.method(), s.method, "step {i}: method of {}", req.uri());
                assert_eq!(req.uri().path(), s.path, "step {i}: path");
                let bytes = req.into_body().collect().await.unwrap().to_bytes();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                (s.check)(&body);
                send.send_response(
                    Response::builder()
                        .status(StatusCode::from_u16(s.status).unwrap())
                        .body(Body::from(serde_json::to_vec(&s.answer).unwrap()))
                        .unwrap(),
                );
            }
            self
        })
    }
}

fn testcontext() -> (Client, ApiServerVerifier) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "default"), ApiServerVerifier(handle))
}

fn election(client: &Client) -> (Api<Lease>, Elector) {
    let cfg = ElectionConfig::new("a", "placer-system", "placer");
    (
        Api::namespaced(client.clone(), "placer-system"),
        Elector::new(cfg),
    )
}

#[tokio::test(start_paused = true)]
async fn lease_is_created_renewed_with_its_resource_version_and_released() {
    let (client, verifier) = testcontext();
    let steps = vec![
        step(Method::GET, LEASE, any, 404, status(404, "NotFound")),
        step(
            Method::POST,
            LEASES,
            |b| {
                assert_eq!(b["metadata"]["name"], "placer");
                assert_eq!(b["spec"]["holderIdentity"], "a");
                assert_eq!(b["spec"]["leaseDurationSeconds"], 15);
                assert_eq!(b["spec"]["leaseTransitions"], 0);
                assert!(b["spec"]["renewTime"].is_string());
            },
            201,
            lease("1", Some("a")),
        ),
        step(Method::GET, LEASE, any, 200, lease("1", Some("a"))),
        step(
            Method::PUT,
            LEASE,
            |b| {
                assert_eq!(
                    b["metadata"]["resourceVersion"], "1",
                    "replace is checked against the version read"
                );
                assert_eq!(b["spec"]["holderIdentity"], "a");
            },
            200,
            lease("2", Some("a")),
        ),
        // Release: read, then replace with an empty holder.
        step(Method::GET, LEASE, any, 200, lease("2", Some("a"))),
        step(
            Method::PUT,
            LEASE,
            |b| {
                assert_eq!(b["metadata"]["resourceVersion"], "2");
                assert!(b["spec"].get("holderIdentity").is_none_or(Value::is_null));
                assert_eq!(b["spec"]["leaseDurationSeconds"], 1);
            },
            200,
            lease("3", None),
        ),
    ];
    let server = verifier.run(steps);
    let (api, elector) = election(&client);
    let (tx, mut rx) = watch::channel(false);
    let stop = CancellationToken::new();
    let run = tokio::spawn(leader::run(api, elector, tx, stop.clone()));
    rx.changed().await.unwrap();
    assert!(*rx.borrow(), "leading after the create");
    // One renewal after one retry period.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.cancel();
    assert_eq!(run.await.unwrap().unwrap(), Stopped::Released);
    assert!(!*rx.borrow());
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn lease_held_by_another_is_not_written() {
    let (client, verifier) = testcontext();
    // Three reads, no write: the holder keeps renewing (the record changes every time).
    let steps = vec![
        step(Method::GET, LEASE, any, 200, lease("1", Some("b"))),
        step(Method::GET, LEASE, any, 200, lease("2", Some("b"))),
        step(Method::GET, LEASE, any, 200, lease("3", Some("b"))),
    ];
    let server = verifier.run(steps);
    let (api, elector) = election(&client);
    let (tx, rx) = watch::channel(false);
    let stop = CancellationToken::new();
    let run = tokio::spawn(leader::run(api, elector, tx, stop.clone()));
    let server = server.await.unwrap();
    stop.cancel();
    assert_eq!(run.await.unwrap().unwrap(), Stopped::NotLeading);
    assert!(!*rx.borrow());
    drop(server);
}

#[tokio::test(start_paused = true)]
async fn renewal_conflicts_past_the_renew_deadline_lose_leadership() {
    let (client, verifier) = testcontext();
    let mut steps = vec![
        step(Method::GET, LEASE, any, 200, lease("1", None)),
        step(Method::PUT, LEASE, any, 200, lease("2", Some("a"))),
    ];
    // Every renewal is answered 409 (someone wrote in between), one every 2 s. The fifth
    // attempt starts at the renew deadline (10 s after the last success): it is cut off after
    // before it is answered, and leadership is lost then.
    for _ in 0..4 {
        steps.push(step(Method::GET, LEASE, any, 200, lease("2", Some("a"))));
        steps.push(step(Method::PUT, LEASE, any, 409, status(409, "Conflict")));
    }
    let server = verifier.run(steps);
    let (api, elector) = election(&client);
    let (tx, rx) = watch::channel(false);
    let start = tokio::time::Instant::now();
    let err = leader::run(api, elector, tx, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, leader::Error::LeadershipLost { .. }));
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert!(!*rx.borrow());
    server.await.unwrap();
}

fn pod_ref() -> PodRef {
    PodRef {
        namespace: "default".into(),
        name: "p1".into(),
        uid: "uid-p1".into(),
        resource_version: "7".into(),
    }
}

#[tokio::test]
async fn binding_posts_the_uid_and_maps_409_to_conflict() {
    let (client, verifier) = testcontext();
    let check: fn(&Value) = |b| {
        assert_eq!(b["kind"], "Binding");
        assert_eq!(b["metadata"]["name"], "p1");
        assert_eq!(b["metadata"]["uid"], "uid-p1");
        assert_eq!(b["target"], json!({"kind": "Node", "name": "n1"}));
    };
    let path = "/api/v1/namespaces/default/pods/p1/binding";
    let server = verifier.run(vec![
        step(
            Method::POST,
            path,
            check,
            201,
            json!({"kind": "Status", "status": "Success", "code": 201}),
        ),
        step(Method::POST, path, check, 409, status(409, "Conflict")),
        step(Method::POST, path, check, 404, status(404, "NotFound")),
        step(Method::POST, path, check, 500, status(500, "InternalError")),
    ]);
    assert!(api::bind(&client, &pod_ref(), "n1").await.is_ok());
    assert!(matches!(
        api::bind(&client, &pod_ref(), "n1").await,
        Err(BindError::Conflict(_))
    ));
    assert!(matches!(
        api::bind(&client, &pod_ref(), "n1").await,
        Err(BindError::NotFound(_))
    ));
    assert!(matches!(
        api::bind(&client, &pod_ref(), "n1").await,
        Err(BindError::Other(_))
    ));
    server.await.unwrap();
}

#[tokio::test]
async fn events_and_condition_have_upstreams_shape() {
    let (client, verifier) = testcontext();
    let server = verifier.run(vec![
        step(
            Method::POST,
            "/apis/events.k8s.io/v1/namespaces/default/events",
            |b| {
                assert_eq!(b["type"], "Normal");
                assert_eq!(b["reason"], "Scheduled");
                assert_eq!(b["action"], "Binding");
                assert_eq!(b["note"], "Successfully assigned default/p1 to n1");
                assert_eq!(b["reportingController"], "placer");
                assert_eq!(b["reportingInstance"], "placer-host");
                assert_eq!(b["regarding"]["kind"], "Pod");
                assert_eq!(b["regarding"]["uid"], "uid-p1");
                assert!(b["metadata"]["name"].as_str().unwrap().starts_with("p1."));
                assert!(b["eventTime"].is_string());
            },
            201,
            json!({}),
        ),
        step(
            Method::POST,
            "/apis/events.k8s.io/v1/namespaces/default/events",
            |b| {
                assert_eq!(b["type"], "Warning");
                assert_eq!(b["reason"], "FailedScheduling");
                assert_eq!(b["action"], "Scheduling");
                assert_eq!(b["note"], "0/3 nodes are available: 3 Insufficient cpu.");
            },
            201,
            json!({}),
        ),
        step(
            Method::PATCH,
            "/api/v1/namespaces/default/pods/p1/status",
            |b| {
                let c = &b["status"]["conditions"][0];
                assert_eq!(c["type"], "PodScheduled");
                assert_eq!(c["status"], "False");
                assert_eq!(c["reason"], "Unschedulable");
                assert_eq!(c["message"], "0/3 nodes are available: 3 Insufficient cpu.");
            },
            200,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"}}),
        ),
    ]);
    let rec = Recorder::new(client.clone(), "placer", "placer-host");
    rec.scheduled(&pod_ref(), "n1").await;
    rec.failed_scheduling(&pod_ref(), "0/3 nodes are available: 3 Insufficient cpu.")
        .await;
    api::patch_pod_scheduled_false(
        &client,
        &pod_ref(),
        "Unschedulable",
        "0/3 nodes are available: 3 Insufficient cpu.",
        None,
    )
    .await;
    server.await.unwrap();
}

#[test]
fn long_notes_are_truncated_to_the_api_limit() {
    let long = "x".repeat(2000);
    let t = api::truncate_note(&long);
    assert_eq!(t.len(), 1024);
    assert!(t.ends_with("..."));
    assert_eq!(api::truncate_note("short"), "short");
}
