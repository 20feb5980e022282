//! `placer record` against the in-process fake API server (paused time): what happens on the
//! cluster becomes a scenario, which `placer simulate` replays against the snapshot taken at
//! the start.

use k8s_openapi::api::core::v1::{Node, Taint};
use sched_bin::daemon::fake::{FakeApiServer, make_node, make_pod};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const NS: &str = "default";

fn with(mut n: Node, f: impl FnOnce(&mut Node)) -> Node {
    f(&mut n);
    n
}

#[tokio::test(start_paused = true)]
async fn a_recording_replays_what_happened_on_the_cluster() {
    let fake = FakeApiServer::new();
    fake.put_node(make_node("n1", 2000, 110));
    let mut r1 = make_pod(NS, "r1", "default-scheduler", 1500, 0);
    r1.spec.as_mut().unwrap().node_name = Some("n1".into());
    fake.put_pod(r1);
    let client = fake.client("record");
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (client, stop) = (client.clone(), stop.clone());
        async move { sched_bin::record::record(&client, stop.cancelled_owned()).await }
    });
    let step = || tokio::time::sleep(Duration::from_secs(1));
    step().await;
    // 1 s: a pod that fits nowhere yet (n1 holds r1).
    fake.put_pod(make_pod(NS, "new", "default-scheduler", 1000, 0));
    step().await;
    // 2 s: a node that could hold it, but tainted at once, then untainted.
    let taint = Taint {
        key: "maintenance".into(),
        value: Some("planned".into()),
        effect: "NoSchedule".into(),
        time_added: None,
    };
    let n2 = make_node("n2", 4000, 110);
    fake.put_node(n2.clone());
    fake.put_node(with(n2.clone(), |n| {
        n.spec.get_or_insert_default().taints = Some(vec![taint.clone()]);
    }));
    step().await;
    // 3 s: n1 cordoned; 4 s: r1 deleted; 5 s: n2 untainted and relabelled (not replayable).
    fake.put_node(with(make_node("n1", 2000, 110), |n| {
        n.spec.get_or_insert_default().unschedulable = Some(true);
    }));
    step().await;
    fake.delete_pod(NS, "r1");
    step().await;
    fake.put_node(with(n2, |n| {
        n.metadata
            .labels
            .get_or_insert_default()
            .insert("zone".into(), "b".into());
    }));
    step().await;
    stop.cancel();
    let (snapshot, rec) = task.await.unwrap().expect("recorded");
    let text = rec.scenario("the fake API server").unwrap();

    // The events, in order, each once.
    let doc: Value = serde_saphyr::from_str(&text).expect("YAML");
    let actions: Vec<String> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let o = e.as_object().unwrap();
            o.keys().find(|k| *k != "at").unwrap().clone()
        })
        .collect();
    assert_eq!(
        actions,
        [
            "createPods",
            "addNodes",
            "taint",
            "cordon",
            "deletePods",
            "untaint"
        ],
        "{text}"
    );
    let ats: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert_eq!(ats[0], "1000ms", "{text}");
    assert_eq!(doc["events"][4]["deletePods"][0], "default/r1");
    assert!(
        text.contains("1 change(s) seen that no scenario action replays")
            && text.contains("node n2's labels or allocatable changed"),
        "{text}"
    );
    assert_eq!(rec.counts(), (6, 1));

    // The snapshot is the cluster at the start: n1 and r1, not what came later.
    assert!(snapshot.contains("name: r1") && !snapshot.contains("name: new"));

    // Replayed: `new` waits until r1 is gone and n2 tolerable; then it is placed on n2
    // (n1 is cordoned by then).
    let dir = std::env::temp_dir().join(format!("placer-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (snap, scen) = (dir.join("snapshot.yaml"), dir.join("scenario.yaml"));
    std::fs::write(&snap, &snapshot).unwrap();
    std::fs::write(&scen, &text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_placer"))
        .args(["simulate", "--cluster"])
        .arg(&snap)
        .arg("--scenario")
        .arg(&scen)
        .args(["--output", "json"])
        .output()
        .expect("placer runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let placed: Vec<(&str, &str)> = v["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "scheduled")
        .map(|p| (p["pod"].as_str().unwrap(), p["node"].as_str().unwrap()))
        .collect();
    assert!(
        placed.contains(&("default/new", "n2")),
        "{placed:?}\n{text}"
    );
}
