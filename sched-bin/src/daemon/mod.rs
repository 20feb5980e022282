//! `placer run`: the leader-elected secondary scheduler.
//!
//! The daemon adds to the core what a scheduler needs to live in a cluster, and nothing
//! scheduling-related of its own:
//!
//! - [`engine`]: the cache (Node and non-terminal Pod watchers feeding a
//!   [`sched_core::ClusterState`]), the [`queue`], the scheduling cycle, assume and the
//!   asynchronous binding;
//! - [`objects`]: the cache's Namespaces, Services, ReplicaSets, StatefulSets and
//!   ReplicationControllers (watched cluster-wide, applied to the same state);
//! - [`api`]: the binding, the `Scheduled` / `FailedScheduling` events and the
//!   `PodScheduled=False` condition, as upstream writes them;
//! - [`leader`]: leader election on a `coordination.k8s.io/v1` Lease (kube 5 ships none);
//! - [`metrics`], [`http`]: Prometheus metrics with upstream's names and the health endpoints;
//! - [`ratelimit`]: `clientConnection.qps` / `burst`;
//! - [`fake`]: an in-process fake API server for tests and the throughput bench.
//!
//! Lifecycle: watchers start at once; the loop schedules only after every initial list (of
//! the seven kinds) is in and only while this instance leads. On SIGTERM it stops taking work, waits for the
//! bindings in flight, releases the Lease and returns `Ok`. When leadership is lost (renewal
//! failed past the renew deadline) it returns an error at once, as upstream exits.

pub mod api;
pub mod engine;
pub mod fake;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod objects;
/// The scheduling queue (the core's, on tokio's clock through `std::time::Instant`).
pub use sched_core::queue;
pub mod ratelimit;
pub mod restclient;

use engine::{Engine, EngineParts, Input, Shared};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ReplicationController, Service};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use objects::ObjectEvent;
use prometheus_client::registry::Registry;
use sched_core::config::SchedulerConfig;
use sched_core::{ClusterState, Profile, Scheduler};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Upstream's secure port. Placer serves plain HTTP on it.
pub const DEFAULT_PORT: u16 = 10259;

/// Default of `--max-binds-in-flight`.
pub const DEFAULT_MAX_BINDS_IN_FLIGHT: u32 = 64;

/// The field selector of the Pod watch (upstream: non-terminal pods only).
pub const NON_TERMINAL_PODS: &str = "status.phase!=Succeeded,status.phase!=Failed";

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// What `placer run` passes in.
#[derive(Clone, Debug)]
pub struct DaemonOptions {
    /// The validated configuration.
    pub config: SchedulerConfig,
    /// `--kubeconfig` (overrides `clientConnection.kubeconfig`; in-cluster or `$KUBECONFIG` when
    /// neither is set).
    pub kubeconfig: Option<PathBuf>,
    /// Log format.
    pub log_format: LogFormat,
    /// Where `/healthz`, `/livez`, `/readyz` and `/metrics` are served (plain HTTP; default
    /// `127.0.0.1:10259`, upstream's secure port number on loopback).
    pub listen: SocketAddr,
    /// Leader election identity (default `<hostname>_<random>`).
    pub identity: Option<String>,
    /// Out-of-tree plugins the profiles may use, besides the in-tree ones.
    pub plugins: Vec<sched_core::PluginSpec>,
    /// The most bindings in flight at once ([`DEFAULT_MAX_BINDS_IN_FLIGHT`]).
    pub max_binds_in_flight: usize,
}

impl DaemonOptions {
    /// Options with the defaults for everything but the configuration.
    #[must_use]
    pub fn new(config: SchedulerConfig) -> Self {
        DaemonOptions {
            config,
            kubeconfig: None,
            log_format: LogFormat::Text,
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            identity: None,
            plugins: Vec::new(),
            max_binds_in_flight: DEFAULT_MAX_BINDS_IN_FLIGHT as usize,
        }
    }
}

/// Errors of the daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Leadership was lost.
    #[error(transparent)]
    Leader(#[from] leader::Error),
    /// The loop stopped.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// The HTTP endpoint failed.
    #[error(transparent)]
    Http(#[from] http::Error),
    /// A profile could not be built.
    #[error(transparent)]
    Profile(#[from] sched_core::framework::ProfileError),
    /// The configuration has no profile.
    #[error("the configuration has no profile")]
    NoProfile,
    /// The kubeconfig could not be loaded or the client built.
    #[error("kubernetes client: {0}")]
    Client(String),
    /// A task panicked.
    #[error("task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The daemon's settings, taken from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Leader election (`None`: `leaderElect: false`, this instance always leads).
    pub election: Option<leader::ElectionConfig>,
    /// `podInitialBackoffSeconds`.
    pub initial_backoff: Duration,
    /// `podMaxBackoffSeconds`.
    pub max_backoff: Duration,
    /// `reportingInstance` suffix of events (the hostname).
    pub instance: String,
    /// The most bindings in flight at once.
    pub max_binds_in_flight: usize,
}

impl Settings {
    /// The settings of `cfg` for this `identity`.
    #[must_use]
    pub fn from_config(cfg: &SchedulerConfig, identity: &str) -> Self {
        let le = &cfg.leader_election;
        let election = le.leader_elect.then(|| leader::ElectionConfig {
            identity: identity.to_string(),
            lease_namespace: le.resource_namespace.clone(),
            lease_name: le.resource_name.clone(),
            lease_duration: le.lease_duration,
            renew_deadline: le.renew_deadline,
            retry_period: le.retry_period,
        });
        Settings {
            election,
            initial_backoff: cfg.pod_initial_backoff,
            max_backoff: cfg.pod_max_backoff,
            instance: hostname(),
            max_binds_in_flight: DEFAULT_MAX_BINDS_IN_FLIGHT as usize,
        }
    }
}

/// The host name (`$HOSTNAME`, `/etc/hostname`, or `placer`).
#[must_use]
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "placer".to_string())
}

/// upstream's default identity: `<hostname>_<unique suffix>`.
#[must_use]
pub fn default_identity() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{}_{:016x}", hostname(), h.finish())
}

/// How a run ended without error.
#[derive(Debug)]
pub struct Stopped {
    /// Whether the Lease was released (false when not leading or without election).
    pub released: bool,
}

/// A daemon ready to run: client, cache, profiles and settings.
pub struct Daemon {
    client: Client,
    /// The Lease's own client (own connection and rate limiter), so renewals never wait
    /// behind bindings; `None`: the main client.
    pub lease_client: Option<Client>,
    state: ClusterState,
    profiles: Vec<Profile>,
    percentage_of_nodes_to_score: Option<u32>,
    settings: Settings,
    shared: Arc<Shared>,
    registry: Arc<Registry>,
    seed: u64,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    /// A daemon over already built profiles. `state` must be the state whose interner the
    /// profiles were built against.
    ///
    /// # Errors
    /// [`Error::NoProfile`] for an empty profile list.
    pub fn new(
        client: Client,
        state: ClusterState,
        profiles: Vec<Profile>,
        percentage_of_nodes_to_score: Option<u32>,
        settings: Settings,
    ) -> Result<Self> {
        if profiles.is_empty() {
            return Err(Error::NoProfile);
        }
        let mut registry = Registry::default();
        let metrics = metrics::Metrics::new(&mut registry);
        Ok(Daemon {
            client,
            lease_client: None,
            state,
            profiles,
            percentage_of_nodes_to_score,
            settings,
            shared: Arc::new(Shared {
                synced: AtomicBool::new(false),
                metrics,
                objects: objects::ObjectCounts::default(),
            }),
            registry: Arc::new(registry),
            seed: 0,
        })
    }

    /// Exposes `rest`'s `rest_client_*` families on `/metrics` (call before
    /// [`Daemon::endpoints`]; later calls are ignored, the registry being shared then).
    pub fn expose_rest_client_metrics(&mut self, rest: &restclient::RestClientMetrics) {
        if let Some(registry) = Arc::get_mut(&mut self.registry) {
            rest.register(registry);
        }
    }

    /// A daemon for `cfg`, its profiles built with the default plugin registry.
    ///
    /// # Errors
    /// A profile the registry cannot build.
    pub fn from_config(client: Client, cfg: &SchedulerConfig, identity: &str) -> Result<Self> {
        Self::from_config_with(client, cfg, identity, &sched_plugins::default_registry())
    }

    /// [`Daemon::from_config`] with the plugins of `registry` (e.g. out-of-tree ones).
    ///
    /// # Errors
    /// A profile the registry cannot build.
    pub fn from_config_with(
        client: Client,
        cfg: &SchedulerConfig,
        identity: &str,
        registry: &sched_core::Registry,
    ) -> Result<Self> {
        let mut state = ClusterState::new();
        let profiles = cfg
            .profiles
            .iter()
            .map(|p| registry.build_profile(p, state.interner_mut()))
            .collect::<Result<Vec<_>, _>>()?;
        Daemon::new(
            client,
            state,
            profiles,
            cfg.percentage_of_nodes_to_score,
            Settings::from_config(cfg, identity),
        )
    }

    /// The HTTP endpoints over this daemon's readiness and metrics.
    #[must_use]
    pub fn endpoints(&self) -> http::Endpoints {
        http::Endpoints {
            shared: self.shared.clone(),
            registry: self.registry.clone(),
        }
    }

    /// Readiness and metrics, shared with the running loop.
    #[must_use]
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Runs until `shutdown` is cancelled (then: stop taking work, finish the bindings in
    /// flight, release the Lease, return `Ok`) or until leadership is lost (`Err`).
    ///
    /// # Errors
    /// [`Error::Leader`] when leadership is lost; [`Error::Engine`] when the watchers die.
    pub async fn run(self, shutdown: CancellationToken) -> Result<Stopped> {
        let Daemon {
            client,
            lease_client,
            state,
            profiles,
            percentage_of_nodes_to_score,
            settings,
            shared,
            registry: _,
            seed,
        } = self;
        let (tx, rx) = mpsc::channel::<Input>(4096);
        let watchers = [
            tokio::spawn(forward(
                watcher(Api::<Node>::all(client.clone()), watcher::Config::default()),
                tx.clone(),
                |e| Input::Node(Box::new(e)),
                "nodes",
            )),
            tokio::spawn(forward(
                watcher(
                    Api::<Pod>::all(client.clone()),
                    watcher::Config::default().fields(NON_TERMINAL_PODS),
                ),
                tx.clone(),
                |e| Input::Pod(Box::new(e)),
                "pods",
            )),
            tokio::spawn(forward(
                watcher(
                    Api::<Namespace>::all(client.clone()),
                    watcher::Config::default(),
                ),
                tx.clone(),
                |e| Input::Object(ObjectEvent::Namespace(Box::new(e))),
                "namespaces",
            )),
            tokio::spawn(forward(
                watcher(
                    Api::<Service>::all(client.clone()),
                    watcher::Config::default(),
                ),
                tx.clone(),
                |e| Input::Object(ObjectEvent::Service(Box::new(e))),
                "services",
            )),
            tokio::spawn(forward(
                watcher(
                    Api::<ReplicaSet>::all(client.clone()),
                    watcher::Config::default(),
                ),
                tx.clone(),
                |e| Input::Object(ObjectEvent::ReplicaSet(Box::new(e))),
                "replicasets",
            )),
            tokio::spawn(forward(
                watcher(
                    Api::<StatefulSet>::all(client.clone()),
                    watcher::Config::default(),
                ),
                tx.clone(),
                |e| Input::Object(ObjectEvent::StatefulSet(Box::new(e))),
                "statefulsets",
            )),
            tokio::spawn(forward(
                watcher(
                    Api::<ReplicationController>::all(client.clone()),
                    watcher::Config::default(),
                ),
                tx.clone(),
                |e| Input::Object(ObjectEvent::ReplicationController(Box::new(e))),
                "replicationcontrollers",
            )),
        ];
        let scheduler = Scheduler::new(
            profiles,
            state.interner(),
            percentage_of_nodes_to_score,
            seed,
        );
        let engine = Engine::new(EngineParts {
            state,
            scheduler,
            initial_backoff: settings.initial_backoff,
            max_backoff: settings.max_backoff,
            client: client.clone(),
            instance: settings.instance.clone(),
            shared: shared.clone(),
            tx,
            max_binds_in_flight: settings.max_binds_in_flight,
        });
        let (lead_tx, lead_rx) = watch::channel(settings.election.is_none());
        let engine_stop = CancellationToken::new();
        let election_stop = CancellationToken::new();
        let mut election = settings.election.clone().map(|cfg| {
            let api: Api<Lease> = Api::namespaced(
                lease_client.clone().unwrap_or_else(|| client.clone()),
                &cfg.lease_namespace,
            );
            let gauge = shared
                .metrics
                .leader
                .get_or_create(&metrics::LeaderLabels {
                    name: cfg.lease_name.clone(),
                })
                .clone();
            gauge.set(0);
            let mut rx = lead_rx.clone();
            tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    let leading = *rx.borrow();
                    gauge.set(i64::from(leading));
                }
            });
            tokio::spawn(leader::run(
                api,
                leader::Elector::new(cfg),
                lead_tx,
                election_stop.clone(),
            ))
        });
        let mut engine = tokio::spawn(engine.run(rx, lead_rx, engine_stop.clone()));
        // If this future is dropped, its tasks go with it.
        let _guard = AbortOnDrop(
            watchers
                .iter()
                .map(JoinHandle::abort_handle)
                .chain(std::iter::once(engine.abort_handle()))
                .chain(election.iter().map(JoinHandle::abort_handle))
                .collect(),
        );
        let abort_watchers = || {
            for w in &watchers {
                w.abort();
            }
        };
        let lost = async {
            match election.as_mut() {
                Some(e) => e.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {
                tracing::info!("shutting down");
                engine_stop.cancel();
                let engine_result = (&mut engine).await;
                election_stop.cancel();
                let released = match election {
                    Some(e) => matches!(e.await??, leader::Stopped::Released),
                    None => false,
                };
                abort_watchers();
                engine_result??;
                Ok(Stopped { released })
            }
            r = lost => {
                engine_stop.cancel();
                engine.abort();
                abort_watchers();
                match r? {
                    Err(e) => Err(e.into()),
                    // The election only stops by itself on loss; treat anything else as one.
                    Ok(_) => Err(leader::Error::LeadershipLost {
                        lease: String::new(),
                        deadline: Duration::ZERO,
                    }
                    .into()),
                }
            }
            r = &mut engine => {
                election_stop.cancel();
                abort_watchers();
                r??;
                Err(engine::Error::InputClosed.into())
            }
        }
    }
}

/// Aborts tasks when dropped.
struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Forwards one watcher's events (managed fields stripped, errors logged, backoff applied)
/// into the loop until the loop is gone.
async fn forward<K, S>(
    stream: S,
    tx: mpsc::Sender<Input>,
    wrap: fn(watcher::Event<K>) -> Input,
    what: &'static str,
) where
    K: kube::Resource + Clone + std::fmt::Debug + Send + 'static,
    S: futures::Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
{
    let stream = stream
        .modify(|o: &mut K| o.managed_fields_mut().clear())
        .default_backoff();
    futures::pin_mut!(stream);
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(ev) => {
                if tx.send(wrap(ev)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(watch = what, error = %e, "watch failed; retrying with backoff")
            }
        }
    }
}

/// Builds the client: kubeconfig (flag, then `clientConnection.kubeconfig`, then inferred),
/// with `clientConnection.qps` / `burst` applied.
///
/// # Errors
/// [`Error::Client`].
pub async fn client(cfg: &SchedulerConfig, kubeconfig: Option<&std::path::Path>) -> Result<Client> {
    client_reporting_to(cfg, kubeconfig, &Arc::default()).await
}

/// `host:port` of the API server, the `host` label of the REST client metrics.
fn api_host(config: &kube::Config) -> String {
    config
        .cluster_url
        .authority()
        .map_or_else(String::new, ToString::to_string)
}

/// [`client`], its requests counted in `rest`.
///
/// # Errors
/// [`Error::Client`].
pub async fn client_reporting_to(
    cfg: &SchedulerConfig,
    kubeconfig: Option<&std::path::Path>,
    rest: &Arc<restclient::RestClientMetrics>,
) -> Result<Client> {
    let config = kube_config(cfg, kubeconfig).await?;
    build_client(cfg, config, 1024, rest)
}

/// The client stack both clients share: a buffer of `buffered` requests, the REST client
/// metrics, kube's retry policy, then the `qps` / `burst` token bucket.
fn build_client(
    cfg: &SchedulerConfig,
    mut config: kube::Config,
    buffered: usize,
    rest: &Arc<restclient::RestClientMetrics>,
) -> Result<Client> {
    let host = api_host(&config);
    // kube retries 429/503/504 inside its stack, where a layer of ours cannot see each try;
    // the same retry policy goes above the REST client metrics instead (client-go counts
    // every attempt).
    config.default_retry = false;
    let builder =
        kube::client::ClientBuilder::try_from(config).map_err(|e| Error::Client(e.to_string()))?;
    Ok(builder
        .with_layer(&tower::buffer::BufferLayer::new(buffered))
        .with_layer(&restclient::RestMetricsLayer::new(rest.clone(), &host))
        .with_layer(&tower::retry::RetryLayer::new(
            kube::client::retry::RetryPolicy::server_retry(),
        ))
        .with_layer(&ratelimit::RateLimitLayer::new(
            f64::from(cfg.client_connection.qps),
            cfg.client_connection.burst,
        ))
        .build())
}

/// The client configuration: `kubeconfig`, else `clientConnection.kubeconfig`, else in-cluster
/// or `$KUBECONFIG` (kube's inference).
async fn kube_config(
    cfg: &SchedulerConfig,
    kubeconfig: Option<&std::path::Path>,
) -> Result<kube::Config> {
    let path = kubeconfig
        .map(std::path::Path::to_path_buf)
        .or_else(|| cfg.client_connection.kubeconfig.as_ref().map(PathBuf::from));
    match path {
        Some(p) => {
            let kc = kube::config::Kubeconfig::read_from(&p)
                .map_err(|e| Error::Client(format!("{}: {e}", p.display())))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Client(e.to_string()))
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| Error::Client(e.to_string())),
    }
}

/// The leader election's client: the same kubeconfig, its own connection pool and its own
/// `qps` / `burst` token bucket (upstream kube-scheduler gives leader election its own
/// client too), each request bounded by the renew deadline.
///
/// # Errors
/// [`Error::Client`].
pub async fn lease_client(
    cfg: &SchedulerConfig,
    kubeconfig: Option<&std::path::Path>,
    rest: &Arc<restclient::RestClientMetrics>,
) -> Result<Client> {
    let mut config = kube_config(cfg, kubeconfig).await?;
    config.read_timeout = Some(cfg.leader_election.renew_deadline);
    config.write_timeout = Some(cfg.leader_election.renew_deadline);
    build_client(cfg, config, 64, rest)
}

/// The log subscriber of `placer run`: events passing `filter`, formatted as `format`, written
/// to `writer`. [`LogFormat::Json`] writes one JSON object per line, the event's fields
/// (`message` included) at the top level beside `timestamp`, `level`, `target` and the
/// current spans.
pub fn log_dispatch<W>(
    format: LogFormat,
    filter: tracing_subscriber::EnvFilter,
    writer: W,
) -> tracing::Dispatch
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.finish().into(),
        LogFormat::Json => builder.json().flatten_event(true).finish().into(),
    }
}

/// Installs [`log_dispatch`] on stderr as the global subscriber (`RUST_LOG`, default `info`),
/// `log` records included.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = log_dispatch(format, filter, std::io::stderr).try_init();
}

/// Waits for SIGTERM or SIGINT.
pub(crate) async fn terminated() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `placer run`: returns `Ok` after a clean shutdown on SIGTERM/SIGINT, `Err` when leadership
/// is lost or start-up fails.
///
/// # Errors
/// See [`Error`].
pub async fn run(opts: DaemonOptions) -> anyhow::Result<()> {
    let identity = opts.identity.clone().unwrap_or_else(default_identity);
    let rest = Arc::new(restclient::RestClientMetrics::default());
    let client = client_reporting_to(&opts.config, opts.kubeconfig.as_deref(), &rest).await?;
    let registry = crate::common::registry(&opts.plugins)?;
    let mut daemon = Daemon::from_config_with(client, &opts.config, &identity, &registry)?;
    daemon.settings.max_binds_in_flight = opts.max_binds_in_flight.max(1);
    daemon.lease_client =
        Some(lease_client(&opts.config, opts.kubeconfig.as_deref(), &rest).await?);
    daemon.expose_rest_client_metrics(&rest);
    let shutdown = CancellationToken::new();
    let (addr, serve) = http::bind(opts.listen, daemon.endpoints(), shutdown.child_token()).await?;
    tracing::info!(%addr, %identity, profiles = opts.config.profiles.len(), "serving /healthz /livez /readyz /metrics (plain HTTP)");
    let http = tokio::spawn(serve);
    let signals = shutdown.clone();
    tokio::spawn(async move {
        terminated().await;
        signals.cancel();
    });
    let result = daemon.run(shutdown.clone()).await;
    shutdown.cancel();
    let _ = http.await;
    match result {
        Ok(s) => {
            tracing::info!(released = s.released, "stopped");
            Ok(())
        }
        // Printed once, by the caller.
        Err(e) => Err(e.into()),
    }
}
