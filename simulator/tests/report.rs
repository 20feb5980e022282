//! `--report DIR`: the files are written, the plots have data, and the page references them
//! with relative paths (so it opens from disk). `tests/check_report_chromium.sh` checks the
//! rendering in headless Chromium.

use simulator::run::{Input, Request};
use simulator::scenario::Scenario;
use simulator::snapshot::{LoadOptions, LoadedCluster};
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

#[test]
fn the_report_has_the_summary_plots_and_reasons() {
    let input = Input::from(
        LoadedCluster::load(&examples().join("cluster.yaml"), LoadOptions::default()).unwrap(),
    );
    let req = Request {
        // search-indexer on worker-b1 has no controller: --force lets the drain evict it.
        drain_options: simulator::drain::DrainOptions {
            force: true,
            ..Default::default()
        },
        scenario: Some(Scenario::load(&examples().join("scenarios/busy-morning.yaml")).unwrap()),
        drain: vec!["worker-b1".into()],
        ..Request::default()
    };
    let out = simulator::simulate(&input, &req, &mut |_, _| {}).unwrap();
    let dir = std::env::temp_dir().join(format!("placer-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    simulator::report::write(&dir, &out).unwrap();
    let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert_eq!(json, out.to_json());
    let alloc = std::fs::read_to_string(dir.join("allocation.svg")).unwrap();
    assert!(alloc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    // One line per resource: cpu, memory, ephemeral-storage, nvidia.com/gpu, pods.
    assert_eq!(
        alloc.matches("<polyline class=\"series\"").count(),
        5,
        "{alloc}"
    );
    assert!(alloc.contains(">cpu ("), "{alloc}");
    let nodes = std::fs::read_to_string(dir.join("nodes.svg")).unwrap();
    assert!(nodes.contains("<rect class=\"bar\""), "{nodes}");
    assert!(
        nodes.contains("Nodes by allocation at the end (7 nodes)"),
        "{nodes}"
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for want in [
        "<img id=\"allocation-plot\" src=\"allocation.svg\"",
        "<img id=\"nodes-plot\" src=\"nodes.svg\"",
        "<h2 id=\"unschedulable\">",
        // The forced drain's deleted bare pod, with why.
        "deleted: no controller recreates it (--force)",
        "<h2 id=\"drain\">Drain of worker-b1</h2>",
        "<h2 id=\"timeline\">",
        "<p>Loaded from the snapshot: 6 node(s), 15 pod(s), 0 namespace(s),",
    ] {
        assert!(html.contains(want), "index.html lacks {want}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network references"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn html_is_escaped() {
    assert_eq!(
        simulator::report::escape("<a href=\"x\">&'"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
}
