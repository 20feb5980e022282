//! `placer sweep` on the OpenB sample shipped in `examples/data/openb`: determinism for a
//! seed, the curve's contract, and flag errors.

use sched_bin::sweep::{POLICIES, Workload, parse_seeds, run_one};
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
