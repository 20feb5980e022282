//! client-go's REST client metrics (`k8s.io/component-base/metrics/prometheus/restclient`),
//! as a tower layer in front of the kube client: `rest_client_requests_total{code,host,method}`
//! and `rest_client_request_duration_seconds{host,verb}`, plus a rate-limited WARN when the
//! API server throttles (429), which API Priority and Fairness does silently otherwise.
//!
//! The duration is the time to the response's headers (a watch counts until its stream
//! opens), as client-go's `request_latency` around the round trip.

use futures::future::BoxFuture;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

/// Labels `code`, `host`, `method`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// The HTTP status code, or `<error>` when no response came.
    pub code: String,
    /// The API server's `host:port`.
    pub host: Arc<str>,
    /// `GET`, `POST`, …
    pub method: String,
}

/// Labels `host`, `verb`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct LatencyLabels {
    /// The API server's `host:port`.
    pub host: Arc<str>,
    /// `GET`, `POST`, …
    pub verb: String,
}

fn latency_histogram() -> Histogram {
    // client-go's buckets.
    Histogram::new([
        0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0,
    ])
}

/// How often the throttling WARN may be written.
const THROTTLE_WARN_EVERY: Duration = Duration::from_secs(10);

/// The counters, shared by every client that reports to them (the main one and the Lease's).
#[derive(Debug)]
pub struct RestClientMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    /// 429s since the last WARN, and when it was written.
    throttled: Mutex<(u64, Option<Instant>)>,
}

impl Default for RestClientMetrics {
    fn default() -> Self {
        RestClientMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            throttled: Mutex::new((0, None)),
        }
    }
}

impl RestClientMetrics {
    /// Registers the two families in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "rest_client_requests",
            "Number of HTTP requests, partitioned by status code, method, and host.",
            self.requests.clone(),
        );
        registry.register(
            "rest_client_request_duration_seconds",
            "Request latency in seconds. Broken down by verb, and host.",
            self.latency.clone(),
        );
    }

    fn observe(&self, host: &Arc<str>, method: &str, code: Option<u16>, elapsed: Duration) {
        let code = code.map_or_else(|| "<error>".to_string(), |c| c.to_string());
        self.requests
            .get_or_create(&RequestLabels {
                code,
                host: host.clone(),
                method: method.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&LatencyLabels {
                host: host.clone(),
                verb: method.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a 429; every [`THROTTLE_WARN_EVERY`] at most, says how many came since.
    fn throttled(&self, method: &str, path: &str) {
        let mut t = self
            .throttled
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        t.0 += 1;
        let now = Instant::now();
        if t.1
            .is_none_or(|last| now.duration_since(last) >= THROTTLE_WARN_EVERY)
        {
            tracing::warn!(
                throttled = t.0,
                last = %format!("{method} {path}"),
                "the API server is throttling this client (HTTP 429; API Priority and Fairness or max-requests-inflight)"
            );
            *t = (0, Some(now));
        }
    }
}

/// The layer: wraps the client's service in [`RestMetrics`].
#[derive(Clone, Debug)]
pub struct RestMetricsLayer {
    metrics: Arc<RestClientMetrics>,
    host: Arc<str>,
}

impl RestMetricsLayer {
    /// Reports to `metrics`, labelling requests with `host` (the API server's `host:port`).
    #[must_use]
    pub fn new(metrics: Arc<RestClientMetrics>, host: &str) -> Self {
        RestMetricsLayer {
            metrics,
            host: Arc::from(host),
        }
    }
}

impl<S> Layer<S> for RestMetricsLayer {
    type Service = RestMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RestMetrics {
            inner,
            metrics: self.metrics.clone(),
            host: self.host.clone(),
        }
    }
}

/// A service that counts and times each request.
#[derive(Clone, Debug)]
pub struct RestMetrics<S> {
    inner: S,
    metrics: Arc<RestClientMetrics>,
    host: Arc<str>,
}

impl<S, B, RB> Service<http::Request<B>> for RestMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    RB: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness of the inner service is awaited per call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        let metrics = self.metrics.clone();
        let host = self.host.clone();
        let method = req.method().clone();
        // A `Uri` clone shares its bytes: the path is read only for a 429.
        let uri = req.uri().clone();
        Box::pin(async move {
            let start = Instant::now();
            let result = inner.oneshot(req).await;
            let code = result.as_ref().ok().map(|r| r.status().as_u16());
            metrics.observe(&host, method.as_str(), code, start.elapsed());
            if code == Some(429) {
                metrics.throttled(method.as_str(), uri.path());
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_test::mock;

    fn encode(m: &RestClientMetrics) -> String {
        let mut registry = Registry::default();
        m.register(&mut registry);
        super::super::metrics::encode(&registry).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn each_request_is_counted_by_code_method_and_host_and_timed_by_verb() {
        let metrics = Arc::new(RestClientMetrics::default());
        let (svc, mut handle) = mock::pair::<http::Request<()>, http::Response<()>>();
        let mut svc = RestMetricsLayer::new(metrics.clone(), "10.0.0.1:6443").layer(svc);
        let server = tokio::spawn(async move {
            for status in [200u16, 429, 201] {
                let (_req, send) = handle.next_request().await.expect("a request");
                tokio::time::sleep(Duration::from_millis(30)).await;
                send.send_response(http::Response::builder().status(status).body(()).unwrap());
            }
        });
        for method in ["GET", "GET", "POST"] {
            let req = http::Request::builder()
                .method(method)
                .uri("/api/v1/pods")
                .body(())
                .unwrap();
            let _ = svc.call(req).await;
        }
        server.await.unwrap();
        let text = encode(&metrics);
        for line in [
            r#"rest_client_requests_total{code="200",host="10.0.0.1:6443",method="GET"} 1"#,
            r#"rest_client_requests_total{code="429",host="10.0.0.1:6443",method="GET"} 1"#,
            r#"rest_client_requests_total{code="201",host="10.0.0.1:6443",method="POST"} 1"#,
            r#"rest_client_request_duration_seconds_count{host="10.0.0.1:6443",verb="GET"} 2"#,
            r#"rest_client_request_duration_seconds_bucket{le="0.025",host="10.0.0.1:6443",verb="GET"} 0"#,
            r#"rest_client_request_duration_seconds_bucket{le="0.1",host="10.0.0.1:6443",verb="GET"} 2"#,
        ] {
            assert!(text.contains(line), "no {line}:\n{text}");
        }
        // The 429 was warned about once and the count restarted.
        assert_eq!(metrics.throttled.lock().unwrap().0, 0);
        assert!(metrics.throttled.lock().unwrap().1.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_without_a_response_is_an_error_code() {
        let metrics = Arc::new(RestClientMetrics::default());
        let (svc, mut handle) = mock::pair::<http::Request<()>, http::Response<()>>();
        let mut svc = RestMetricsLayer::new(metrics.clone(), "h:1").layer(svc);
        let server = tokio::spawn(async move {
            let (_req, send) = handle.next_request().await.expect("a request");
            send.send_error(std::io::Error::other("connection reset"));
        });
        let req = http::Request::builder().uri("/x").body(()).unwrap();
        assert!(svc.call(req).await.is_err());
        server.await.unwrap();
        assert!(
            encode(&metrics).contains(
                r#"rest_client_requests_total{code="<error>",host="h:1",method="GET"} 1"#
            )
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_warned_about_at_most_every_ten_seconds() {
        let m = RestClientMetrics::default();
        m.throttled("POST", "/a");
        assert_eq!(m.throttled.lock().unwrap().0, 0, "the first one is written");
        m.throttled("POST", "/a");
        m.throttled("POST", "/a");
        assert_eq!(m.throttled.lock().unwrap().0, 2, "held back");
        tokio::time::advance(THROTTLE_WARN_EVERY).await;
        m.throttled("POST", "/a");
        assert_eq!(
            m.throttled.lock().unwrap().0,
            0,
            "written with the three since"
        );
    }
}
