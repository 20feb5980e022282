//! `/healthz`, `/livez`, `/readyz` and `/metrics` over plain HTTP.
//!
//! Upstream serves these on its secure port 10259 over HTTPS with delegated authn/z; Placer
//! listens on the same port number by default but serves plain HTTP, for probes and a
//! Prometheus scrape inside the cluster network.
//!
//! `/readyz` is 200 once every cache has synced, leader or not (a standby is ready: it can
//! take over at once). `/healthz` and `/livez` are 200 while the process serves.

use super::engine::Shared;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Errors of the HTTP endpoint.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("binding {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What the endpoints read.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// Readiness and metrics.
    pub shared: Arc<Shared>,
    /// The registry to expose.
    pub registry: Arc<Registry>,
}

impl Endpoints {
    /// Answers one request.
    #[must_use]
    pub fn respond(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        let text = |code: StatusCode, body: String| {
            Response::builder()
                .status(code)
                .header("content-type", "text/plain; charset=utf-8")
                .body(Full::new(Bytes::from(body)))
                .expect("static response parts are valid")
        };
        if method != Method::GET && method != Method::HEAD {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed\n".into(),
            );
        }
        match path {
            "/healthz" | "/livez" => text(StatusCode::OK, "ok".into()),
            "/readyz" => {
                if self.shared.synced.load(Ordering::Acquire) {
                    text(StatusCode::OK, "ok".into())
                } else {
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "[-]informer-sync failed: caches not synced\nreadyz check failed".into(),
                    )
                }
            }
            "/metrics" => {
                self.shared.metrics.process.refresh();
                match super::metrics::encode(&self.registry) {
                    Ok(body) => Response::builder()
                        .status(StatusCode::OK)
                        .header(
                            "content-type",
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )
                        .body(Full::new(Bytes::from(body)))
                        .expect("static response parts are valid"),
                    Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                }
            }
            _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
        }
    }
}

/// Binds `addr` (so that a port conflict fails start-up) and returns the serving future,
/// which runs until `stop` is cancelled.
///
/// # Errors
/// [`Error::Bind`].
pub async fn bind(
    addr: SocketAddr,
    endpoints: Endpoints,
    stop: CancellationToken,
) -> Result<(SocketAddr, impl std::future::Future<Output = ()>), Error> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let serve = async move {
        loop {
            let (stream, _) = tokio::select! {
                () = stop.cancelled() => return,
                r = listener.accept() => match r {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
            };
            let endpoints = endpoints.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let resp = endpoints.respond(req.method(), req.uri().path());
                    async move { Ok::<_, std::convert::Infallible>(resp) }
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await
                {
                    tracing::debug!(error = %e, "http connection error");
                }
            });
        }
    };
    Ok((local, serve))
}
