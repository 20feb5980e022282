//! Each policy's score on hand-computed nodes, FGD's fragmentation on a hand example, and the
//! policies through a scheduling cycle.

mod common;
use common::*;
use placer_gpu_share::NodeGpus;
use placer_gpu_share::devices::GpuRequest;
use placer_gpu_share::frag::{FragModel, TypicalPod};
use placer_gpu_share::policies::{BestFit, DotProd, Fgd, GpuClustering, GpuPacking, min_max};
use sched_core::intern::Sym;
use smallvec::{SmallVec, smallvec};

fn gpus(free: &[u16], tags: &[(u16, u32)]) -> NodeGpus {
    NodeGpus {
        model: Sym::EMPTY,
        free: free.iter().copied().collect(),
        tags: tags.iter().copied().collect(),
    }
}

const SHARE_200: Option<GpuRequest> = Some(GpuRequest {
    count: 1,
    milli: 200,
});
const ONE: Option<GpuRequest> = Some(GpuRequest {
    count: 1,
    milli: 1000,
});

#[test]
fn gpu_packing_bands() {
    // Idle node of 4 GPUs: max(33 − 4, 4).
    assert_eq!(GpuPacking::value(&gpus(&[1000; 4], &[]), SHARE_200), 29);
    // A share on the partly used GPU (30 % free): 100 − 30 / 10.
    assert_eq!(GpuPacking::value(&gpus(&[300, 1000], &[]), SHARE_200), 97);
    // A whole GPU on a partly used node: max(50 − 1, 33).
    assert_eq!(GpuPacking::value(&gpus(&[300, 1000], &[]), ONE), 49);
    // CPU pods: 0.
    assert_eq!(GpuPacking::value(&gpus(&[300, 1000], &[]), None), 0);
}

#[test]
fn gpu_clustering_bands() {
    let c = GpuClustering::with_defaults();
    // Only shares on the node, 6,000 free: 75 + 25 × 2,000 / 8,000.
    let shares = gpus(&[1000, 1000, 1000, 1000, 1000, 500, 500, 0], &[(0, 2)]);
    assert_eq!(c.value(&shares, SHARE_200), 81);
    // Shares among 2-GPU pods: 50 + 6.
    let mixed = gpus(
        &[1000, 1000, 1000, 1000, 1000, 500, 500, 0],
        &[(0, 2), (2, 1)],
    );
    assert_eq!(c.value(&mixed, SHARE_200), 56);
    // No GPU pod yet, all 8 free: 25 + 0.
    assert_eq!(c.value(&gpus(&[1000; 8], &[]), SHARE_200), 25);
    // Only other kinds: 0 + 6.
    assert_eq!(
        c.value(
            &mixed,
            Some(GpuRequest {
                count: 4,
                milli: 1000
            })
        ),
        6
    );
    assert_eq!(c.value(&mixed, None), 0);
}

#[test]
fn best_fit_raw_and_min_max() {
    let b = BestFit::with_defaults();
    // (1 − 0.5 × 32,000/128,000 − 0.5 × 3,000/8,000) × 100 = 68.75.
    assert_eq!(b.raw(64_000, &gpus(&[1000; 4], &[]), 32_000, ONE), 68);
    let mut s = [68, 50, 86];
    min_max(&mut s);
    assert_eq!(s, [50, 0, 100]);
    let mut same = [7, 7];
    min_max(&mut same);
    assert_eq!(same, [0, 0]);
}

#[test]
fn dot_prod_takes_the_best_option() {
    let d = DotProd::with_defaults();
    // Pod (16,000/128,000, 400/8,000); on GPU 1 (500 free): 1 − (0.5·0.125 + 0.0625·0.05)/2
    // = 0.9671875; on the idle GPU: 1 − (0.0625 + 0.125·0.05)/2 = 0.965625.
    let (score, devices) = d.best(
        64_000,
        &gpus(&[1000, 500], &[]),
        16_000,
        Some(GpuRequest {
            count: 1,
            milli: 400,
        }),
    );
    assert_eq!((score, devices), (96, Some(smallvec![1])));
    // Not enough cpu: 0.
    assert_eq!(d.best(1000, &gpus(&[1000], &[]), 16_000, ONE).0, 0);
}

fn types() -> Vec<TypicalPod> {
    vec![
        TypicalPod {
            cpu_milli: 1000,
            gpu_milli: 500,
            gpu_count: 1,
            models: SmallVec::new(),
            popularity: 1.0,
        },
        TypicalPod {
            cpu_milli: 1000,
            gpu_milli: 1000,
            gpu_count: 1,
            models: SmallVec::new(),
            popularity: 1.0,
        },
    ]
}

#[test]
fn fgd_fragmentation_hand_example() {
    let m = FragModel::new(types());
    // Free [1000, 300]: both kinds fit; the 300 of GPU 1 serves neither → 0.5·300 + 0.5·300.
    assert_eq!(m.frag(64_000, Sym::EMPTY, &[1000, 300]), 300.0);
    // [800, 300]: the half-GPU kind still fits (fragment 300); the whole-GPU kind does not
    // (fragment: all 1,100 free) → 0.5·300 + 0.5·1100.
    assert_eq!(m.frag(64_000, Sym::EMPTY, &[800, 300]), 700.0);
    // [1000, 100]: 0.5·100 + 0.5·100.
    assert_eq!(m.frag(64_000, Sym::EMPTY, &[1000, 100]), 100.0);
    // Too little cpu for either kind: every free milli-unit is a fragment.
    assert_eq!(m.frag(500, Sym::EMPTY, &[1000, 300]), 1300.0);
    // A CPU-only typical pod counts all free GPU as fragment (as the authors' measure does).
    let mut t = types();
    t.push(TypicalPod {
        cpu_milli: 100,
        gpu_milli: 0,
        gpu_count: 0,
        models: SmallVec::new(),
        popularity: 2.0,
    });
    let m2 = FragModel::new(t);
    assert_eq!(
        m2.frag(64_000, Sym::EMPTY, &[1000, 300]),
        0.25 * 300.0 * 2.0 + 0.5 * 1300.0
    );
    // The memoized value equals the direct sum over the typical pods.
    for free in [[1000u16, 300], [0, 0], [999, 1]] {
        let direct: f64 = m2
            .types()
            .iter()
            .map(|t| t.popularity * FragModel::fragment(t, 64_000, Sym::EMPTY, &free))
            .sum();
        assert!((m2.frag(64_000, Sym::EMPTY, &free) - direct).abs() < 1e-9);
    }
}

#[test]
fn fgd_scores_the_decrease_and_picks_the_gpu() {
    let f = Fgd::with_model(FragModel::new(types()));
    // A 200 share: on GPU 1, 300 → 100 (Δ = +200, sigmoid(0.2) = 0.5498); on GPU 0,
    // 300 → 700 (Δ = −400). GPU 1 wins with 54.
    let (score, devices) = f.best(64_000, &gpus(&[1000, 300], &[]), 1000, SHARE_200);
    assert_eq!((score, devices), (54, Some(smallvec![1])));
}

#[test]
fn policies_through_a_cycle() {
    // FGD puts a small share on the partly used GPU of `a` rather than opening `b`'s.
    let mut s = state(&[("a", 64_000, 2, "A10"), ("b", 64_000, 2, "A10")]);
    let mut p = pod(&mut s, "used", 1000, 700, &[]);
    p.claims.push(sched_core::model::Claim {
        plugin: placer_gpu_share::devices::CLAIM_PLUGIN,
        value: std::sync::Arc::from("1"),
    });
    s.assume(p, id(&s, "a")).unwrap();
    let args = "{typicalPods: [{cpuMilli: 1000, gpuMilli: 300, gpuCount: 1, popularity: 1}, {cpuMilli: 1000, gpuMilli: 1000, gpuCount: 1, popularity: 1}]}";
    let cfg = config("FGD", args);
    let sched = scheduler(&mut s, &cfg);
    let p = pod(&mut s, "small", 1000, 300, &[]);
    let placement = sched.schedule(&p, &s).unwrap();
    assert_eq!(&*placement.node_name, "a");
    assert_eq!(&*placement.claims[0].value, "1");
    // Bad args name the field.
    let e = sched_core::config::SchedulerConfig::from_yaml_with(&cfg_text_bad(), &registry())
        .map(|c| sched_plugins::scheduler_with_registry(&registry(), &c, s.interner_mut(), 1).err())
        .unwrap()
        .unwrap()
        .to_string();
    assert!(e.contains("typicalPods[0]"), "{e}");
    // The Random policy is deterministic for a seed.
    let cfg = config("Random", "{seed: 3}");
    let r1 = scheduler(&mut s, &cfg);
    let r2 = scheduler(&mut s, &cfg);
    let p = pod(&mut s, "r", 1000, 100, &[]);
    assert_eq!(
        r1.schedule(&p, &s).unwrap().node_name,
        r2.schedule(&p, &s).unwrap().node_name
    );
}

fn cfg_text_bad() -> String {
    "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n  plugins:\n    score: {enabled: [{name: FGD}]}\n  pluginConfig:\n  - name: FGD\n    args: {typicalPods: [{cpuMilli: 1, gpuMilli: 500, gpuCount: 2, popularity: 1}]}\n".to_string()
}
