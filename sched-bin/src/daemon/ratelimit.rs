//! Client-side rate limiting (`clientConnection.qps` / `burst`), as client-go's token bucket.
//!
//! kube-rs has no client-side limiter; this is a tower layer put in front of the client's
//! service. Each request takes one token; tokens refill at `qps` up to `burst`. A request that
//! finds no token reserves one and waits until it would have been refilled (golang
//! `rate.Limiter.Wait`), so waiting requests are served in arrival order.

use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

/// A token bucket.
#[derive(Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket. `qps <= 0` means unlimited.
    #[must_use]
    pub fn new(qps: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            qps,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// How long the caller must wait for its token (zero when one is available). Takes the
    /// token (or reserves a future one).
    pub fn reserve(&self) -> Duration {
        if self.qps <= 0.0 {
            return Duration::ZERO;
        }
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(s.1).as_secs_f64();
        s.0 = (s.0 + elapsed * self.qps).min(self.burst);
        s.1 = now;
        s.0 -= 1.0;
        if s.0 >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-s.0 / self.qps)
        }
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The layer: wraps a (cloneable) service in [`RateLimit`].
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    bucket: Arc<TokenBucket>,
}

impl RateLimitLayer {
    /// A layer limiting to `qps` with `burst`.
    #[must_use]
    pub fn new(qps: f64, burst: u32) -> Self {
        RateLimitLayer {
            bucket: Arc::new(TokenBucket::new(qps, burst)),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            bucket: self.bucket.clone(),
        }
    }
}

/// A service that takes a token before each request.
#[derive(Clone, Debug)]
pub struct RateLimit<S> {
    inner: S,
    bucket: Arc<TokenBucket>,
}

impl<S, Req> Service<Req> for RateLimit<S>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness of the inner service is awaited per call, after the token.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let inner = self.inner.clone();
        let bucket = self.bucket.clone();
        Box::pin(async move {
            bucket.acquire().await;
            inner.oneshot(req).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_qps() {
        let b = TokenBucket::new(10.0, 3);
        for _ in 0..3 {
            assert_eq!(b.reserve(), Duration::ZERO);
        }
        assert_eq!(b.reserve(), Duration::from_millis(100));
        assert_eq!(b.reserve(), Duration::from_millis(200));
        tokio::time::advance(Duration::from_secs(1)).await;
        // 10 tokens refilled, 2 were owed, capped at the burst of 3.
        assert_eq!(b.reserve(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn non_positive_qps_is_unlimited() {
        let b = TokenBucket::new(0.0, 1);
        for _ in 0..100 {
            assert_eq!(b.reserve(), Duration::ZERO);
        }
    }
}
