//! `placer sweep` on the OpenB sample shipped in `examples/data/openb`: determinism for a
//! seed, the curve's contract, and flag errors.

use clap::Parser as _;
use sched_bin::sweep::{POLICIES, SweepArgs, Workload, indexed_job, parse_seeds, run_one, sweep};
use std::path::PathBuf;

fn workload() -> Workload {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/data/openb");
    Workload::load(&dir, "openb_node_list_all_node", "openb_pod_list_default").expect("loads")
}

#[test]
fn a_run_is_deterministic_for_its_seed_and_samples_the_curve() {
    let w = workload();
    let a = run_one(&w, "FGD", 42, 12.0, 1.0).unwrap();
    let b = run_one(&w, "FGD", 42, 12.0, 1.0).unwrap();
    assert_eq!(a, b);
    let c = run_one(&w, "FGD", 43, 12.0, 1.0).unwrap();
    assert_ne!(a.curve, c.curve, "another seed submits another sample");
    // A point at least every 5 % of arrived workload, up to the target.
    let mut last = 0.0;
    for p in &a.curve {
        assert!(
            p.arrived_pct - last <= 5.0,
            "{} after {last}",
            p.arrived_pct
        );
        assert!(p.fragmented_gpu_pct <= p.unallocated_gpu_pct + 1e-9);
        last = p.arrived_pct;
    }
    assert!(last >= 12.0);
    // Early on nearly everything fits: unallocated ≈ 100 − arrived.
    let p = &a.curve[0];
    assert!(
        (p.unallocated_gpu_pct - (100.0 - p.arrived_pct)).abs() < 0.5,
        "{p:?}"
    );
}

#[test]
fn every_policy_places_pods() {
    let w = workload();
    for policy in POLICIES {
        let r = run_one(&w, policy, 1, 5.0, 1.0).unwrap();
        assert!(
            r.scheduled_pods > 0 && r.scheduled_pods <= r.arrived_pods,
            "{policy}"
        );
    }
}

#[test]
fn flags_are_checked() {
    assert_eq!(parse_seeds("42..44").unwrap(), vec![42, 43, 44]);
    assert_eq!(parse_seeds("7,9").unwrap(), vec![7, 9]);
    assert!(
        parse_seeds("9..7")
            .unwrap_err()
            .to_string()
            .contains("--seeds")
    );
    let e = sched_bin::sweep::policy_config("Worst", 1, &workload()).unwrap_err();
    assert!(e.to_string().contains("unknown policy \"Worst\""), "{e}");
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    args: SweepArgs,
}

fn args(extra: &[&str]) -> SweepArgs {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/data/openb");
    let mut argv = vec![
        "sweep".to_string(),
        "--openb".into(),
        dir.display().to_string(),
    ];
    argv.extend(extra.iter().map(|s| (*s).to_string()));
    Cli::parse_from(argv).args
}

#[test]
fn the_indexed_job_has_one_index_per_run_and_an_index_runs_that_run() {
    let a = args(&[
        "--policies",
        "BestFit,FGD",
        "--seeds",
        "42..44",
        "--target-pct",
        "3",
    ]);
    let job = indexed_job(&a).unwrap();
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 6);
    let cmd = job["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap();
    assert_eq!(cmd.last().unwrap(), "$(JOB_COMPLETION_INDEX)");
    // Index 4 is (FGD, 43): policies then seeds.
    let one = args(&[
        "--policies",
        "BestFit,FGD",
        "--seeds",
        "42..44",
        "--target-pct",
        "3",
        "--run-index",
        "4",
    ]);
    let r = sweep(&one).unwrap();
    assert_eq!(r.runs.len(), 1);
    assert_eq!((r.runs[0].policy.as_str(), r.runs[0].seed), ("FGD", 43));
    let bad = args(&["--policies", "FGD", "--seeds", "1", "--run-index", "1"]);
    let e = sweep(&bad).unwrap_err().to_string();
    assert!(e.contains("--run-index 1: the sweep has 1 runs"), "{e}");
}
