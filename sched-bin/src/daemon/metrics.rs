//! Prometheus metrics with upstream's names, labels and buckets
//! (`pkg/scheduler/metrics/metrics.go`), on a registry owned by the daemon (no global registry).
//!
//! Counters are registered without their `_total` suffix: the OpenMetrics encoder appends it,
//! so `scheduler_schedule_attempts` is exposed as `scheduler_schedule_attempts_total`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Result of a scheduling attempt (upstream's `result` label values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptResult {
    /// The pod was bound.
    Scheduled,
    /// No node fits.
    Unschedulable,
    /// An internal or API error.
    Error,
}

impl AttemptResult {
    /// Upstream's label value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptResult::Scheduled => "scheduled",
            AttemptResult::Unschedulable => "unschedulable",
            AttemptResult::Error => "error",
        }
    }
}

/// Labels `result`, `profile`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ResultLabels {
    /// `scheduled` | `unschedulable` | `error`.
    pub result: &'static str,
    /// The profile (`schedulerName`).
    pub profile: String,
}

/// Label `queue`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct QueueLabels {
    /// `active` | `backoff` | `unschedulable` | `gated`.
    pub queue: &'static str,
}

/// Labels `queue`, `event`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct IncomingLabels {
    /// The sub-queue the pod went to.
    pub queue: &'static str,
    /// The event that moved it.
    pub event: &'static str,
}

/// Labels `extension_point`, `status`, `profile`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ExtensionPointLabels {
    /// `PreFilter`, `Filter`, `PostFilter`, `PreScore`, `Score`, `Reserve`, `Permit`,
    /// `PreBind` (from the scheduler's [`sched_core::CycleObserver`]) or `Bind` (the loop's).
    pub extension_point: &'static str,
    /// `Success` or a status code (`Unschedulable`, `UnschedulableAndUnresolvable`, `Error`).
    pub status: &'static str,
    /// The profile.
    pub profile: String,
}

/// Labels `plugin`, `extension_point`, `status`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct PluginLabels {
    /// The plugin.
    pub plugin: &'static str,
    /// The extension point.
    pub extension_point: &'static str,
    /// `Success` or a status code.
    pub status: &'static str,
}

/// Labels `plugin`, `profile`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct UnschedulableLabels {
    /// A plugin that rejected the pods.
    pub plugin: &'static str,
    /// The profile.
    pub profile: std::sync::Arc<str>,
}

/// Label `attempts`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct AttemptsLabels {
    /// Number of attempts it took, as text.
    pub attempts: String,
}

/// Label `operation`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OperationLabels {
    /// `binding`.
    pub operation: &'static str,
}

/// Label `type` of the cache size gauge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CacheLabels {
    /// `nodes` | `pods` | `assumed_pods`.
    pub r#type: &'static str,
}

/// Label `name` of the leader gauge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct LeaderLabels {
    /// The Lease name.
    pub name: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn attempt_duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn extension_point_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 12))
}

fn plugin_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.00001, 1.5, 20))
}

fn sli_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 20))
}

/// Every metric the daemon exposes.
#[derive(Debug)]
pub struct Metrics {
    /// `scheduler_schedule_attempts_total{result,profile}`.
    pub schedule_attempts: Family<ResultLabels, Counter>,
    /// `scheduler_scheduling_attempt_duration_seconds{result,profile}` (1 ms × 2^0..14).
    pub scheduling_attempt_duration: HistogramFamily<ResultLabels>,
    /// `scheduler_scheduling_algorithm_duration_seconds`.
    pub scheduling_algorithm_duration: Histogram,
    /// `scheduler_pending_pods{queue}`.
    pub pending_pods: Family<QueueLabels, Gauge>,
    /// `scheduler_pod_scheduling_attempts` (1, 2, 4, 8, 16).
    pub pod_scheduling_attempts: Histogram,
    /// `scheduler_pod_scheduling_sli_duration_seconds{attempts}`.
    pub pod_scheduling_sli_duration: HistogramFamily<AttemptsLabels>,
    /// `scheduler_framework_extension_point_duration_seconds{extension_point,status,profile}`
    /// (0.1 ms × 2^0..11).
    pub framework_extension_point_duration: HistogramFamily<ExtensionPointLabels>,
    /// `scheduler_plugin_execution_duration_seconds{plugin,extension_point,status}`
    /// (0.01 ms × 1.5^0..19), in sampled cycles.
    pub plugin_execution_duration: HistogramFamily<PluginLabels>,
    /// `scheduler_queue_incoming_pods_total{queue,event}`.
    pub queue_incoming_pods: Family<IncomingLabels, Counter>,
    /// `scheduler_goroutines{operation}`: bindings in flight.
    pub goroutines: Family<OperationLabels, Gauge>,
    /// `scheduler_scheduler_cache_size{type}`.
    pub cache_size: Family<CacheLabels, Gauge>,
    /// `leader_election_master_status{name}`: 1 while leading.
    pub leader: Family<LeaderLabels, Gauge>,
    /// `scheduler_unschedulable_pods{plugin,profile}`: pods waiting as unschedulable, under
    /// each plugin that rejected them.
    pub unschedulable_pods: Family<UnschedulableLabels, Gauge>,
    /// `scheduler_preemption_attempts_total`: DefaultPreemption's PostFilter runs.
    pub preemption_attempts: Counter,
    /// `scheduler_preemption_victims` (1, 2, 4, … 64): victims of each preemption that
    /// nominated a node.
    pub preemption_victims: Histogram,
    /// `process_*`, read from `/proc/self` at each scrape.
    pub process: ProcessMetrics,
}

/// upstream client_golang's process collector (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, `process_virtual_memory_bytes`,
/// `process_start_time_seconds`, `process_open_fds`, `process_max_fds`), from `/proc/self` on
/// Linux; absent elsewhere (the gauges stay 0).
#[derive(Debug, Default)]
pub struct ProcessMetrics {
    cpu_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    cpu_seen: std::sync::Mutex<f64>,
    resident_memory: Gauge<i64>,
    virtual_memory: Gauge<i64>,
    start_time: Gauge<f64, std::sync::atomic::AtomicU64>,
    open_fds: Gauge<i64>,
    max_fds: Gauge<i64>,
}

/// Linux's `USER_HZ` (clock ticks per second in `/proc/<pid>/stat`), 100 on every
/// architecture Linux supports; page size 4 KiB (x86-64, arm64 default).
const CLOCK_TICKS: f64 = 100.0;
const PAGE_SIZE: i64 = 4096;

impl ProcessMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            self.cpu_seconds.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            self.resident_memory.clone(),
        );
        registry.register(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            self.virtual_memory.clone(),
        );
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            self.start_time.clone(),
        );
        registry.register(
            "process_open_fds",
            "Number of open file descriptors.",
            self.open_fds.clone(),
        );
        registry.register(
            "process_max_fds",
            "Maximum number of open file descriptors.",
            self.max_fds.clone(),
        );
    }

    /// Reads `/proc/self` (stat, fd, limits, and `/proc/stat`'s boot time); what cannot be
    /// read keeps its last value.
    pub fn refresh(&self) {
        if let Some(stat) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| ProcStat::parse(&s))
        {
            let cpu = (stat.utime + stat.stime) as f64 / CLOCK_TICKS;
            let mut seen = self
                .cpu_seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if cpu > *seen {
                self.cpu_seconds.inc_by(cpu - *seen);
                *seen = cpu;
            }
            self.virtual_memory
                .set(i64::try_from(stat.vsize).unwrap_or(i64::MAX));
            self.resident_memory
                .set(stat.rss_pages.saturating_mul(PAGE_SIZE));
            if let Some(btime) = std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|s| boot_time(&s))
            {
                self.start_time
                    .set(btime as f64 + stat.start_ticks as f64 / CLOCK_TICKS);
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds
                .set(i64::try_from(dir.count()).unwrap_or(i64::MAX));
        }
        if let Some(max) = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|s| max_open_files(&s))
        {
            self.max_fds.set(max);
        }
    }
}

/// The fields of `/proc/<pid>/stat` the process collector reads.
#[derive(Debug, PartialEq, Eq)]
struct ProcStat {
    utime: u64,
    stime: u64,
    start_ticks: u64,
    vsize: u64,
    rss_pages: i64,
}

impl ProcStat {
    /// `pid (comm) state ppid …`: `comm` may hold spaces and parentheses, so fields are
    /// counted after the last `)` (utime is field 14, stime 15, starttime 22, vsize 23,
    /// rss 24, per proc(5)).
    fn parse(text: &str) -> Option<Self> {
        let rest = &text[text.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // f[0] is field 3 (state).
        let field = |n: usize| f.get(n - 3).copied();
        Some(ProcStat {
            utime: field(14)?.parse().ok()?,
            stime: field(15)?.parse().ok()?,
            start_ticks: field(22)?.parse().ok()?,
            vsize: field(23)?.parse().ok()?,
            rss_pages: field(24)?.parse().ok()?,
        })
    }
}

/// `btime` of `/proc/stat`: the boot time, in seconds since the epoch.
fn boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The soft limit of `Max open files` in `/proc/<pid>/limits`.
fn max_open_files(text: &str) -> Option<i64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let m = Metrics {
            schedule_attempts: Family::default(),
            scheduling_attempt_duration: Family::new_with_constructor(attempt_duration_histogram),
            scheduling_algorithm_duration: attempt_duration_histogram(),
            pending_pods: Family::default(),
            pod_scheduling_attempts: Histogram::new(exponential_buckets(1.0, 2.0, 5)),
            pod_scheduling_sli_duration: Family::new_with_constructor(sli_histogram),
            framework_extension_point_duration: Family::new_with_constructor(
                extension_point_histogram,
            ),
            plugin_execution_duration: Family::new_with_constructor(plugin_histogram),
            queue_incoming_pods: Family::default(),
            goroutines: Family::default(),
            cache_size: Family::default(),
            leader: Family::default(),
            unschedulable_pods: Family::default(),
            preemption_attempts: Counter::default(),
            preemption_victims: Histogram::new(exponential_buckets(1.0, 2.0, 7)),
            process: ProcessMetrics::default(),
        };
        registry.register(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
            m.schedule_attempts.clone(),
        );
        registry.register(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
            m.scheduling_attempt_duration.clone(),
        );
        registry.register(
            "scheduler_scheduling_algorithm_duration_seconds",
            "Scheduling algorithm latency in seconds",
            m.scheduling_algorithm_duration.clone(),
        );
        registry.register(
            "scheduler_pending_pods",
            "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
            m.pending_pods.clone(),
        );
        registry.register(
            "scheduler_pod_scheduling_attempts",
            "Number of attempts to successfully schedule a pod.",
            m.pod_scheduling_attempts.clone(),
        );
        registry.register(
            "scheduler_pod_scheduling_sli_duration_seconds",
            "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.",
            m.pod_scheduling_sli_duration.clone(),
        );
        registry.register(
            "scheduler_framework_extension_point_duration_seconds",
            "Latency for running all plugins of a specific extension point.",
            m.framework_extension_point_duration.clone(),
        );
        registry.register(
            "scheduler_plugin_execution_duration_seconds",
            "Duration for running a plugin at a specific extension point.",
            m.plugin_execution_duration.clone(),
        );
        registry.register(
            "scheduler_unschedulable_pods",
            "The number of unschedulable pods broken down by plugin name. A pod will increment the gauge for all plugins that caused it to not schedule and so this metric have meaning only when broken down by plugin.",
            m.unschedulable_pods.clone(),
        );
        registry.register(
            "scheduler_preemption_attempts",
            "Total preemption attempts in the cluster till now",
            m.preemption_attempts.clone(),
        );
        registry.register(
            "scheduler_preemption_victims",
            "Number of selected preemption victims",
            m.preemption_victims.clone(),
        );
        m.process.register(registry);
        registry.register(
            "scheduler_queue_incoming_pods",
            "Number of pods added to scheduling queues by event and queue type.",
            m.queue_incoming_pods.clone(),
        );
        registry.register(
            "scheduler_goroutines",
            "Number of running goroutines split by the work they do such as binding.",
            m.goroutines.clone(),
        );
        registry.register(
            "scheduler_scheduler_cache_size",
            "Number of nodes, pods, and assumed (bound) pods in the scheduler cache.",
            m.cache_size.clone(),
        );
        registry.register(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
            m.leader.clone(),
        );
        for queue in ["active", "backoff", "unschedulable", "gated"] {
            m.pending_pods.get_or_create(&QueueLabels { queue }).set(0);
        }
        m
    }

    /// Counts one attempt and its duration.
    pub fn attempt(&self, result: AttemptResult, profile: &str, seconds: f64) {
        let labels = ResultLabels {
            result: result.as_str(),
            profile: profile.to_string(),
        };
        self.schedule_attempts.get_or_create(&labels).inc();
        self.scheduling_attempt_duration
            .get_or_create(&labels)
            .observe(seconds);
    }

    /// Observes one extension point's duration.
    pub fn extension_point(
        &self,
        point: &'static str,
        status: &'static str,
        profile: &str,
        seconds: f64,
    ) {
        self.framework_extension_point_duration
            .get_or_create(&ExtensionPointLabels {
                extension_point: point,
                status,
                profile: profile.to_string(),
            })
            .observe(seconds);
    }

    /// Observes one plugin's run at one extension point.
    pub fn plugin_execution(
        &self,
        plugin: &'static str,
        point: &'static str,
        status: &'static str,
        seconds: f64,
    ) {
        self.plugin_execution_duration
            .get_or_create(&PluginLabels {
                plugin,
                extension_point: point,
                status,
            })
            .observe(seconds);
    }
}

/// Encodes `registry` in the OpenMetrics text format.
///
/// # Errors
/// Only on a formatter error, which writing to a `String` never produces.
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry)?;
    Ok(out)
}

#[cfg(test)]
mod process_tests {
    use super::{ProcStat, boot_time, max_open_files};

    #[test]
    fn proc_stat_fields_are_counted_after_the_command_name_whatever_it_holds() {
        // A command name with spaces and a parenthesis, as proc(5) allows.
        let line = "4242 (placer (x) run) S 1 4242 4242 0 -1 4194304 1500 0 0 0 \
                    250 75 0 0 20 0 9 0 123456 987654321 2048 18446744073709551615";
        assert_eq!(
            ProcStat::parse(line),
            Some(ProcStat {
                utime: 250,
                stime: 75,
                start_ticks: 123456,
                vsize: 987654321,
                rss_pages: 2048,
            })
        );
        assert_eq!(ProcStat::parse("4242 (cut"), None);
        assert_eq!(ProcStat::parse("4242 (short) S 1 2"), None);
    }

    #[test]
    fn boot_time_and_the_open_files_soft_limit_are_read_from_their_lines() {
        assert_eq!(
            boot_time("cpu  1 2 3\nbtime 1764800000\nprocesses 9\n"),
            Some(1_764_800_000)
        );
        assert_eq!(boot_time("cpu 1\n"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1048576              1048576              files\n";
        assert_eq!(max_open_files(limits), Some(1_048_576));
    }

    #[test]
    fn this_process_is_read_on_linux() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let stat = ProcStat::parse(&std::fs::read_to_string("/proc/self/stat").unwrap())
            .expect("this process's stat parses");
        assert!(stat.rss_pages > 0 && stat.vsize > 0);
    }
}
