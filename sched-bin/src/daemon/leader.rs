//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection`
//! package does it (kube 5 ships none).
//!
//! Split in two so the rules can be tested without an API server:
//!
//! - [`Elector`] is pure decision logic. Given what the Lease looked like when it was last read
//!   and the local monotonic time, it says what to write ([`Action`]). Expiry is judged by the
//!   *local* time at which the record was last seen to change, never by the holder's
//!   `renewTime` (clocks of different machines are not comparable) — upstream
//!   `tryAcquireOrRenew` / `observedTime`.
//! - [`run`] is the I/O loop: it reads the Lease, writes what the elector decided with a
//!   `resourceVersion`-checked create or replace, publishes leadership on a `watch` channel,
//!   steps down (with [`Error::LeadershipLost`]) when renewal has failed for `renew_deadline`,
//!   and releases the Lease (empty holder) when asked to stop.
//!
//! Times come from `tokio::time::Instant`, so tests run leases in milliseconds of paused time.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Errors of the election loop.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Renewal kept failing for longer than the renew deadline: this instance must stop
    /// scheduling (upstream exits with "leaderelection lost").
    #[error("leader election lost: lease {lease} not renewed within {deadline:?}")]
    LeadershipLost {
        /// `namespace/name` of the Lease.
        lease: String,
        /// The renew deadline that passed.
        deadline: Duration,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Upstream's knobs (`leaderElection` in `KubeSchedulerConfiguration`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionConfig {
    /// This candidate's identity (upstream: `hostname_uuid`).
    pub identity: String,
    /// Namespace of the Lease.
    pub lease_namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// How long a non-leader waits after last seeing the record change before taking over (15 s).
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a renewal before giving up leadership (10 s).
    pub renew_deadline: Duration,
    /// Interval between attempts to acquire or renew (2 s).
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// Upstream's defaults (15 s / 10 s / 2 s) for a Lease and an identity.
    #[must_use]
    pub fn new(
        identity: impl Into<String>,
        lease_namespace: impl Into<String>,
        lease_name: impl Into<String>,
    ) -> Self {
        ElectionConfig {
            identity: identity.into(),
            lease_namespace: lease_namespace.into(),
            lease_name: lease_name.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// What a read of the Lease found.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    /// The Lease does not exist.
    Missing,
    /// The Lease exists with this spec at this `resourceVersion`.
    Present {
        /// `spec`.
        spec: LeaseSpec,
        /// `metadata.resourceVersion`, required for the checked replace.
        resource_version: String,
    },
}

/// What the elector wants written.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Create the Lease with this spec (it did not exist).
    Create(LeaseSpec),
    /// Replace the Lease with this spec, only if it is still at `resource_version`.
    Update {
        /// The new spec.
        spec: LeaseSpec,
        /// The version read; a write against a newer one fails with 409.
        resource_version: String,
    },
    /// Someone else holds a lease that has not expired: do nothing this round.
    Wait {
        /// The current holder.
        holder: String,
    },
}

/// The record last seen and the local time it was first seen in that form.
#[derive(Clone, Debug)]
struct Observation {
    spec: LeaseSpec,
    at: Instant,
}

/// The pure decision logic of leader election (upstream `LeaderElector.tryAcquireOrRenew`).
#[derive(Clone, Debug)]
pub struct Elector {
    cfg: ElectionConfig,
    observed: Option<Observation>,
    /// The last time this candidate wrote a record naming itself (`None`: not leading).
    last_renew: Option<Instant>,
}

fn holder(spec: &LeaseSpec) -> &str {
    spec.holder_identity.as_deref().unwrap_or("")
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

impl Elector {
    /// An elector that has seen nothing and leads nothing.
    #[must_use]
    pub fn new(cfg: ElectionConfig) -> Self {
        Elector {
            cfg,
            observed: None,
            last_renew: None,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ElectionConfig {
        &self.cfg
    }

    /// Whether this candidate currently considers itself the leader.
    #[must_use]
    pub fn is_leader(&self) -> bool {
        self.last_renew.is_some()
    }

    /// The holder named by the last record seen (empty when free or never seen).
    #[must_use]
    pub fn observed_holder(&self) -> &str {
        self.observed.as_ref().map_or("", |o| holder(&o.spec))
    }

    /// Whether the leader has failed to renew for the renew deadline and must step down.
    #[must_use]
    pub fn renewal_overdue(&self, now: Instant) -> bool {
        self.last_renew
            .is_some_and(|t| now.saturating_duration_since(t) >= self.cfg.renew_deadline)
    }

    /// Decides what to write given the Lease as just read. `wall` is the wall-clock time to put
    /// into `acquireTime` / `renewTime` (informational only: expiry never reads them).
    pub fn decide(&mut self, observed: Observed, now: Instant, wall: jiff::Timestamp) -> Action {
        let (current, rv) = match observed {
            Observed::Missing => {
                self.observed = None;
                return Action::Create(self.record(None, wall));
            }
            Observed::Present {
                spec,
                resource_version,
            } => (spec, resource_version),
        };
        // upstream: the observed time moves only when the record changes.
        match &self.observed {
            Some(o) if o.spec == current => {}
            _ => {
                self.observed = Some(Observation {
                    spec: current.clone(),
                    at: now,
                });
            }
        }
        let seen_at = self.observed.as_ref().map_or(now, |o| o.at);
        let current_holder = holder(&current);
        let mine = current_holder == self.cfg.identity;
        let duration = current
            .lease_duration_seconds
            .map_or(self.cfg.lease_duration, |s| {
                Duration::from_secs(u64::try_from(s).unwrap_or(0))
            });
        let valid = now < seen_at + duration;
        if !current_holder.is_empty() && !mine && valid {
            self.last_renew = None;
            return Action::Wait {
                holder: current_holder.to_string(),
            };
        }
        Action::Update {
            spec: self.record(Some(&current), wall),
            resource_version: rv,
        }
    }

    /// The record naming this candidate: a renewal keeps `acquireTime` and the transition
    /// count, a takeover bumps the count.
    fn record(&self, current: Option<&LeaseSpec>, wall: jiff::Timestamp) -> LeaseSpec {
        let now = Some(MicroTime(wall));
        let (acquire, transitions) = match current {
            Some(c) if holder(c) == self.cfg.identity => (
                c.acquire_time.clone().or(now.clone()),
                c.lease_transitions.unwrap_or(0),
            ),
            Some(c) => (now.clone(), c.lease_transitions.unwrap_or(0) + 1),
            None => (now.clone(), 0),
        };
        LeaseSpec {
            holder_identity: Some(self.cfg.identity.clone()),
            lease_duration_seconds: Some(secs(self.cfg.lease_duration)),
            acquire_time: acquire,
            renew_time: now,
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Records a successful write of `spec` (which names this candidate).
    pub fn written(&mut self, spec: LeaseSpec, now: Instant) {
        self.observed = Some(Observation { spec, at: now });
        self.last_renew = Some(now);
    }

    /// The record that releases the Lease (upstream `release`: empty holder, 1 s duration,
    /// transitions kept), or `None` when this candidate does not lead.
    #[must_use]
    pub fn release_record(&self, wall: jiff::Timestamp) -> Option<LeaseSpec> {
        if !self.is_leader() {
            return None;
        }
        let transitions = self
            .observed
            .as_ref()
            .and_then(|o| o.spec.lease_transitions)
            .unwrap_or(0);
        Some(LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            acquire_time: Some(MicroTime(wall)),
            renew_time: Some(MicroTime(wall)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        })
    }

    /// Forgets leadership (after a release or a loss).
    pub fn step_down(&mut self) {
        self.last_renew = None;
    }
}

/// How the election loop ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Stopped while leading; the Lease was released.
    Released,
    /// Stopped while not leading (or the release write failed; the lease then expires).
    NotLeading,
}

/// Reads the Lease, decides, writes. Returns whether this candidate leads afterwards.
async fn try_acquire_or_renew(api: &Api<Lease>, elector: &mut Elector) -> bool {
    let name = elector.cfg.lease_name.clone();
    let observed = match api.get_opt(&name).await {
        Ok(None) => Observed::Missing,
        Ok(Some(lease)) => Observed::Present {
            resource_version: lease.metadata.resource_version.clone().unwrap_or_default(),
            spec: lease.spec.unwrap_or_default(),
        },
        Err(e) => {
            tracing::warn!(lease = %name, error = %e, "error retrieving lease");
            return false;
        }
    };
    let action = elector.decide(observed, Instant::now(), jiff::Timestamp::now());
    let written = match action {
        Action::Wait { .. } => return false,
        Action::Create(spec) => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(elector.cfg.lease_namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(spec.clone()),
            };
            api.create(&PostParams::default(), &lease)
                .await
                .map(|_| spec)
        }
        Action::Update {
            spec,
            resource_version,
        } => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(elector.cfg.lease_namespace.clone()),
                    resource_version: Some(resource_version),
                    ..ObjectMeta::default()
                },
                spec: Some(spec.clone()),
            };
            api.replace(&name, &PostParams::default(), &lease)
                .await
                .map(|_| spec)
        }
    };
    match written {
        Ok(spec) => {
            elector.written(spec, Instant::now());
            true
        }
        Err(e) => {
            tracing::info!(lease = %name, error = %e, "failed to acquire or renew lease");
            false
        }
    }
}

/// Runs the election until `shutdown` is cancelled (then releases the Lease if leading) or
/// leadership is lost. Leadership is published on `leading`.
///
/// # Errors
/// [`Error::LeadershipLost`] when renewal failed for `renew_deadline`.
pub async fn run(
    api: Api<Lease>,
    mut elector: Elector,
    leading: watch::Sender<bool>,
    shutdown: CancellationToken,
) -> Result<Stopped> {
    let cfg = elector.cfg.clone();
    let lease = format!("{}/{}", cfg.lease_namespace, cfg.lease_name);
    tracing::info!(%lease, identity = %cfg.identity, "attempting to acquire leader lease");
    // Acquire.
    loop {
        if try_acquire_or_renew(&api, &mut elector).await {
            break;
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(Stopped::NotLeading),
            () = tokio::time::sleep(cfg.retry_period) => {}
        }
    }
    tracing::info!(%lease, identity = %cfg.identity, "successfully acquired lease");
    leading.send_replace(true);
    // Renew.
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(cfg.retry_period) => {}
        }
        // A renewal may not outlast the renew deadline: a hung request must not keep this
        // instance leading past it (the standby takes over a lease duration after it last saw
        // the record change).
        let deadline = elector
            .last_renew
            .map_or_else(Instant::now, |t| t + cfg.renew_deadline);
        let attempt_start = Instant::now();
        match tokio::time::timeout_at(deadline, try_acquire_or_renew(&api, &mut elector)).await {
            Ok(true) => {
                // Count the renewal from when it was sent, not when the answer came back.
                elector.last_renew = Some(attempt_start);
                continue;
            }
            Ok(false) => {}
            Err(_) => tracing::warn!(%lease, "lease renewal timed out at the renew deadline"),
        }
        if !elector.is_leader() || elector.renewal_overdue(Instant::now()) {
            // Another holder took over, or renewals failed past the deadline.
            elector.step_down();
            leading.send_replace(false);
            tracing::error!(%lease, "leader election lost");
            return Err(Error::LeadershipLost {
                lease,
                deadline: cfg.renew_deadline,
            });
        }
    }
    // Release.
    leading.send_replace(false);
    release(&api, &mut elector).await
}

/// Writes the release record if this candidate still holds the Lease.
async fn release(api: &Api<Lease>, elector: &mut Elector) -> Result<Stopped> {
    let name = elector.cfg.lease_name.clone();
    let Some(spec) = elector.release_record(jiff::Timestamp::now()) else {
        return Ok(Stopped::NotLeading);
    };
    elector.step_down();
    let current = match api.get_opt(&name).await {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Stopped::NotLeading),
        Err(e) => {
            tracing::warn!(lease = %name, error = %e, "failed to read lease for release");
            return Ok(Stopped::NotLeading);
        }
    };
    if current.spec.as_ref().map_or("", holder) != elector.cfg.identity {
        return Ok(Stopped::NotLeading);
    }
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(elector.cfg.lease_namespace.clone()),
            resource_version: current.metadata.resource_version,
            ..ObjectMeta::default()
        },
        spec: Some(spec),
    };
    match api.replace(&name, &PostParams::default(), &lease).await {
        Ok(_) => {
            tracing::info!(lease = %name, "released leader lease");
            Ok(Stopped::Released)
        }
        Err(e) => {
            tracing::warn!(lease = %name, error = %e, "failed to release lease");
            Ok(Stopped::NotLeading)
        }
    }
}

#[cfg(test)]
mod tests {
    //! The decision rules, one case per rule, on paused time.
    use super::*;

    fn cfg(id: &str) -> ElectionConfig {
        ElectionConfig::new(id, "placer-system", "placer")
    }

    fn wall() -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH
    }

    fn held_by(id: &str, renew_secs: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(id.to_string()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(jiff::Timestamp::from_second(renew_secs).unwrap())),
            lease_transitions: Some(3),
            ..LeaseSpec::default()
        }
    }

    fn present(spec: LeaseSpec, rv: &str) -> Observed {
        Observed::Present {
            spec,
            resource_version: rv.to_string(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn missing_lease_is_created_with_zero_transitions() {
        let mut e = Elector::new(cfg("a"));
        let Action::Create(spec) = e.decide(Observed::Missing, Instant::now(), wall()) else {
            panic!("expected create")
        };
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.lease_transitions, Some(0));
    }

    #[tokio::test(start_paused = true)]
    async fn held_lease_is_respected_until_it_stops_changing_for_lease_duration() {
        let mut e = Elector::new(cfg("b"));
        let t0 = Instant::now();
        assert!(matches!(
            e.decide(present(held_by("a", 1), "1"), t0, wall()),
            Action::Wait { .. }
        ));
        // The holder keeps renewing: each change restarts the local clock.
        tokio::time::advance(Duration::from_secs(14)).await;
        assert!(matches!(
            e.decide(present(held_by("a", 2), "2"), Instant::now(), wall()),
            Action::Wait { .. }
        ));
        tokio::time::advance(Duration::from_secs(14)).await;
        assert!(matches!(
            e.decide(present(held_by("a", 2), "2"), Instant::now(), wall()),
            Action::Wait { .. }
        ));
        // 15 s after the last change, the lease is expired: take over with the observed rv.
        tokio::time::advance(Duration::from_secs(1)).await;
        match e.decide(present(held_by("a", 2), "2"), Instant::now(), wall()) {
            Action::Update {
                spec,
                resource_version,
            } => {
                assert_eq!(resource_version, "2");
                assert_eq!(spec.holder_identity.as_deref(), Some("b"));
                assert_eq!(
                    spec.lease_transitions,
                    Some(4),
                    "a takeover counts a transition"
                );
            }
            other => panic!("expected takeover, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_ignores_the_holders_clock() {
        // The holder's renewTime is far in the past (skewed clock), but the record was only
        // just seen: it is valid for a full lease duration from now.
        let mut e = Elector::new(cfg("b"));
        assert!(matches!(
            e.decide(
                present(held_by("a", -1_000_000), "7"),
                Instant::now(),
                wall()
            ),
            Action::Wait { .. }
        ));
        tokio::time::advance(Duration::from_millis(14_999)).await;
        assert!(matches!(
            e.decide(
                present(held_by("a", -1_000_000), "7"),
                Instant::now(),
                wall()
            ),
            Action::Wait { .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn own_lease_is_renewed_keeping_acquire_time_and_transitions() {
        let mut e = Elector::new(cfg("a"));
        let mut mine = held_by("a", 5);
        mine.acquire_time = Some(MicroTime(jiff::Timestamp::from_second(5).unwrap()));
        match e.decide(present(mine.clone(), "9"), Instant::now(), wall()) {
            Action::Update {
                spec,
                resource_version,
            } => {
                assert_eq!(resource_version, "9");
                assert_eq!(spec.acquire_time, mine.acquire_time);
                assert_eq!(spec.lease_transitions, Some(3));
            }
            other => panic!("expected renew, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn released_lease_is_taken_at_once() {
        let mut e = Elector::new(cfg("b"));
        let free = LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            lease_transitions: Some(2),
            ..LeaseSpec::default()
        };
        assert!(matches!(
            e.decide(present(free, "4"), Instant::now(), wall()),
            Action::Update { .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn leader_steps_down_after_renew_deadline_without_a_successful_write() {
        let mut e = Elector::new(cfg("a"));
        let Action::Create(spec) = e.decide(Observed::Missing, Instant::now(), wall()) else {
            panic!()
        };
        e.written(spec, Instant::now());
        assert!(e.is_leader());
        tokio::time::advance(Duration::from_millis(9_999)).await;
        assert!(!e.renewal_overdue(Instant::now()));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(e.renewal_overdue(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn seeing_another_holder_ends_leadership() {
        let mut e = Elector::new(cfg("a"));
        e.written(held_by("a", 1), Instant::now());
        assert!(matches!(
            e.decide(present(held_by("b", 2), "5"), Instant::now(), wall()),
            Action::Wait { .. }
        ));
        assert!(!e.is_leader());
        assert_eq!(e.observed_holder(), "b");
    }

    #[tokio::test(start_paused = true)]
    async fn release_record_empties_the_holder_and_keeps_transitions() {
        let mut e = Elector::new(cfg("a"));
        assert_eq!(
            e.release_record(wall()),
            None,
            "a non-leader releases nothing"
        );
        e.written(held_by("a", 1), Instant::now());
        let r = e.release_record(wall()).unwrap();
        assert_eq!(r.holder_identity, None);
        assert_eq!(r.lease_duration_seconds, Some(1));
        assert_eq!(r.lease_transitions, Some(3));
    }
}
