//! `--log-format json` over a whole daemon run against the in-process fake API server.
//!
//! A test binary of its own, with this one test: tracing caches each callsite's interest
//! globally, and a callsite first hit by another test's thread while this test's (thread-local)
//! subscriber is being created can keep `never` and drop this test's events.

use sched_bin::daemon::fake::{FakeApiServer, make_node, make_pod};
use sched_bin::daemon::{Daemon, LogFormat, log_dispatch};
use sched_core::config::SchedulerConfig;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const NS: &str = "default";
const SCHED: &str = "placer";
const UNFIT: &str = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";

fn failed_scheduling_events(fake: &FakeApiServer) -> usize {
    fake.events()
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .count()
}

/// Captures what a log subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tracing_subscriber::fmt::MakeWriter<'_> for Captured {
    type Writer = Captured;
    fn make_writer(&self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The top-level keys of a JSON object in order, duplicates kept (`serde_json::Value` would
/// silently keep the last of two equal keys).
fn json_keys(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(line)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line:?}"))
        .0
}

/// `--log-format json`: the daemon's own subscriber (`log_dispatch`, what `init_tracing`
/// installs) over a whole scheduling run — one JSON object per line, each with a timestamp, a
/// level, a target and a message, no key twice, and multi-line messages escaped.
#[tokio::test(start_paused = true)]
async fn json_log_format_writes_one_object_per_line() {
    let logs = Captured::default();
    let dispatch = log_dispatch(
        LogFormat::Json,
        // Per-pod lines are DEBUG (a periodic summary is INFO): enable them for the daemon.
        tracing_subscriber::EnvFilter::new("info,sched_bin=debug"),
        logs.clone(),
    );
    // The test runtime has one thread: every task of the daemon logs through this default.
    let _guard = tracing::dispatcher::set_default(&dispatch);

    let fake = FakeApiServer::new();
    fake.put_node(make_node("small", 1000, 110));
    fake.put_pod(make_pod(NS, "p1", SCHED, 500, 0));
    fake.put_pod(make_pod(NS, "big", SCHED, 2000, 0));
    let cfg = SchedulerConfig::from_yaml(&format!(
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: {SCHED}
"
    ))
    .unwrap();
    let daemon = Daemon::from_config(fake.client("a"), &cfg, "a").expect("daemon");
    let stop = CancellationToken::new();
    let handle = tokio::spawn(daemon.run(stop.clone()));
    let mut waited = Duration::ZERO;
    while fake.pod(NS, "p1").and_then(|p| p.spec?.node_name).is_none()
        || failed_scheduling_events(&fake) != 1
    {
        assert!(
            waited < Duration::from_secs(60),
            "p1 never bound or big never failed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    tracing::warn!(detail = "two\nlines \"quoted\"", "a multi-line field");
    stop.cancel();
    handle.await.unwrap().unwrap();

    let text = logs.text();
    assert!(text.ends_with('\n'), "every object ends its line");
    let mut messages = Vec::new();
    for line in text.lines() {
        let keys = json_keys(line);
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "a key twice: {line}");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for k in ["timestamp", "level", "target", "message"] {
            assert!(v.get(k).is_some_and(|x| x.is_string()), "no {k}: {line}");
        }
        messages.push(v);
    }
    let find = |msg: &str| {
        messages
            .iter()
            .find(|v| v["message"] == msg)
            .unwrap_or_else(|| panic!("no {msg:?} in:\n{text}"))
    };
    let bound = find("successfully bound pod");
    assert_eq!(bound["level"], "DEBUG", "per-pod lines are DEBUG");
    assert_eq!(bound["pod"], "default/p1");
    assert_eq!(bound["node"], "small");
    let failed = find("unable to schedule pod; waiting");
    assert_eq!(failed["pod"], "default/big");
    assert_eq!(failed["reason"], "Unschedulable");
    assert_eq!(
        failed["err"], UNFIT,
        "the FitError text, not a second `message`"
    );
    find("pod cache synced");
    find("shutting down");
    assert_eq!(
        find("a multi-line field")["detail"],
        "two\nlines \"quoted\""
    );

    // The text format is not JSON (the format switch is honoured).
    let logs = Captured::default();
    let text_dispatch = log_dispatch(
        LogFormat::Text,
        tracing_subscriber::EnvFilter::new("info"),
        logs.clone(),
    );
    tracing::dispatcher::with_default(&text_dispatch, || tracing::info!(pod = "a/b", "hello"));
    let line = logs.text();
    assert!(
        line.contains("hello")
            && line.contains("pod")
            && serde_json::from_str::<serde_json::Value>(line.trim()).is_err(),
        "{line}"
    );
}
