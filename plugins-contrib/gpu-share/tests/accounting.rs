//! Per-device accounting: filtering, the device claim in the placement, and the invariants
//! of the state extension under assume/forget.

mod common;
use common::*;
use placer_gpu_share::devices::{CLAIM_PLUGIN, GpuRequest, MILLI};
use proptest::prelude::*;
use sched_core::model::Claim;
use std::sync::Arc;

#[test]
fn a_share_must_fit_on_one_device_not_on_the_sum() {
    // Two GPUs, each 700 used: 600 free in all, but no device has 500.
    let mut s = state(&[("n", 32_000, 2, "V100M16")]);
    for (i, dev) in ["0", "1"].iter().enumerate() {
        let mut p = pod(&mut s, &format!("used{i}"), 1000, 700, &[]);
        p.claims.push(Claim {
            plugin: CLAIM_PLUGIN,
            value: Arc::from(*dev),
        });
        s.assume(p, id(&s, "n")).unwrap();
    }
    assert_eq!(gpus(&s, "n").free.as_slice(), &[300, 300]);
    let cfg = config("BestFit", "{}");
    let sched = scheduler(&mut s, &cfg);
    let p = pod(&mut s, "half", 1000, 500, &[]);
    let e = sched.schedule(&p, &s).unwrap_err().to_string();
    assert!(
        e.contains("node(s) had no GPU with enough free GPU milli-units"),
        "{e}"
    );
    let p = pod(&mut s, "small", 1000, 300, &[]);
    assert!(sched.schedule(&p, &s).is_ok());
}

#[test]
fn whole_gpus_need_fully_free_devices_and_the_placement_records_them() {
    let mut s = state(&[("n", 32_000, 4, "A10")]);
    for (name, dev) in [("s1", "1"), ("s3", "3")] {
        let mut p = pod(&mut s, name, 1000, 100, &[]);
        p.claims.push(Claim {
            plugin: CLAIM_PLUGIN,
            value: Arc::from(dev),
        });
        s.assume(p, id(&s, "n")).unwrap();
    }
    let cfg = config("GpuPacking", "{}");
    let sched = scheduler(&mut s, &cfg);
    // 3,800 milli-units free in all, but only two devices are fully free.
    let p = pod(&mut s, "three", 1000, 3000, &[]);
    let e = sched.schedule(&p, &s).unwrap_err().to_string();
    assert!(e.contains("node(s) had too few fully free GPUs"), "{e}");
    let p = pod(&mut s, "two", 1000, 2000, &[]);
    let placement = sched.schedule(&p, &s).unwrap();
    assert_eq!(placement.claims.len(), 1);
    assert_eq!(placement.claims[0].plugin, CLAIM_PLUGIN);
    assert_eq!(&*placement.claims[0].value, "0-2");
    let mut p = p;
    p.claims = placement.claims;
    s.assume(p, placement.node).unwrap();
    assert_eq!(gpus(&s, "n").free.as_slice(), &[0, 900, 0, 900]);
    s.forget("default/two").unwrap();
    assert_eq!(gpus(&s, "n").free.as_slice(), &[1000, 900, 1000, 900]);
}

#[test]
fn gpu_models_filter_and_odd_requests_are_refused_with_a_reason() {
    let mut s = state(&[("v", 32_000, 8, "V100M16"), ("t", 32_000, 2, "T4")]);
    let cfg = config("BestFit", "{}");
    let sched = scheduler(&mut s, &cfg);
    let p = pod(&mut s, "t4", 1000, 500, &["T4"]);
    assert_eq!(&*sched.schedule(&p, &s).unwrap().node_name, "t");
    let p = pod(&mut s, "odd", 1000, 1500, &[]);
    let e = sched.schedule(&p, &s).unwrap_err().to_string();
    assert!(e.contains("neither a share of one GPU"), "{e}");
}

#[test]
fn without_the_extension_the_cycle_says_so() {
    let mut s = sched_core::state::ClusterState::new();
    let info = s.convert_node(&node("n", 8000, 1, "A10")).unwrap();
    s.add_node(info).unwrap();
    let cfg = config("BestFit", "{}");
    let sched = scheduler(&mut s, &cfg);
    let p = pod(&mut s, "p", 100, 500, &[]);
    let e = sched.schedule(&p, &s).unwrap_err().to_string();
    assert!(
        e.contains("GpuDevices state extension is not installed"),
        "{e}"
    );
}

#[test]
fn a_bad_claim_falls_back_to_best_fit_and_installing_late_replays_pods() {
    let mut s = sched_core::state::ClusterState::new();
    let info = s.convert_node(&node("n", 8000, 2, "A10")).unwrap();
    let n = s.add_node(info).unwrap();
    let mut p = pod(&mut s, "a", 100, 600, &[]);
    p.claims.push(Claim {
        plugin: CLAIM_PLUGIN,
        value: Arc::from("9"),
    });
    s.assume(p, n).unwrap();
    placer_gpu_share::install(
        &mut s,
        placer_gpu_share::DEFAULT_GPU_RESOURCE,
        placer_gpu_share::DEFAULT_GPU_MODEL_LABEL,
    );
    assert_eq!(gpus(&s, "n").free.as_slice(), &[400, 1000]);
}

fn req_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..=999, (1i64..=4).prop_map(|k| k * 1000)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No device above 1000 milli-units, used milli-units equal the node's aggregate GPU
    /// request, and forgetting a pod restores its node's devices exactly.
    #[test]
    fn per_device_invariants(ops in proptest::collection::vec((0usize..3, req_strategy(), 0u8..8, any::<bool>()), 1..60)) {
        let mut s = state(&[("a", 64_000, 8, "A"), ("b", 64_000, 4, "A"), ("c", 64_000, 2, "B")]);
        let names = ["a", "b", "c"];
        let gpu = s.interner_mut().intern(placer_gpu_share::DEFAULT_GPU_RESOURCE);
        let mut placed: Vec<(String, &str, placer_gpu_share::NodeGpus)> = Vec::new();
        for (i, (n, total, pick, forget)) in ops.into_iter().enumerate() {
            let name = names[n];
            let before = gpus(&s, name);
            let req = GpuRequest::decode(total).unwrap().unwrap();
            if before.fits(req) {
                // A valid claim other than best fit when `pick` allows it.
                let fits: Vec<u8> = (0..before.free.len() as u8)
                    .filter(|&d| before.free[usize::from(d)] >= req.milli).collect();
                let devices: Vec<u8> = if req.is_share() {
                    vec![fits[usize::from(pick) % fits.len()]]
                } else {
                    fits[..usize::from(req.count)].to_vec()
                };
                let key = format!("p{i}");
                let mut p = pod(&mut s, &key, 100, total, &[]);
                p.claims.push(Claim { plugin: CLAIM_PLUGIN, value: placer_gpu_share::devices::format_claim(&devices) });
                s.assume(p, id(&s, name)).unwrap();
                let after = gpus(&s, name);
                for &d in &devices {
                    prop_assert_eq!(after.free[usize::from(d)], before.free[usize::from(d)] - req.milli);
                }
                placed.push((format!("default/{key}"), name, before));
            }
            if forget && let Some((key, name, before)) = placed.pop() {
                s.forget(&key).unwrap();
                prop_assert_eq!(gpus(&s, name), before);
            }
            for name in names {
                let g = gpus(&s, name);
                prop_assert!(g.free.iter().all(|&f| f <= MILLI));
                let used: i64 = g.free.iter().map(|&f| i64::from(MILLI - f)).sum();
                prop_assert_eq!(used, s.node(id(&s, name)).requested.scalar(gpu));
            }
        }
    }
}
