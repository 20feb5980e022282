//! The scheduling cycle: PreFilter → Filter → PostFilter (on failure) → PreScore → Score →
//! NormalizeScore → weighted sum → host selection.
//!
//! One function, `Scheduler::evaluate`, runs the cycle. [`Scheduler::schedule`] runs it the
//! way kube-scheduler does (stop after `numFeasibleNodesToFind` feasible nodes, start where the
//! previous cycle stopped); [`Scheduler::explain`] runs it over every node and keeps every
//! status and score. The daemon, the simulator and library users all come through here.

use crate::config::ExtensionPoint;
use crate::framework::{
    ClusterView, Code, CycleObserver, CycleState, MAX_NODE_SCORE, MIN_NODE_SCORE, NodeMask,
    PostFilterInput, PostFilterOutcome, PreFilterOutcome, PreScoreOutcome, Profile, Rejection,
    SkipSet,
};
use crate::intern::{Interner, InternerStamp, Sym};
use crate::model::PodInfo;
use crate::state::{ClusterState, NodeId};
use rayon::prelude::*;
use smallvec::SmallVec;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The observer of one cycle (none: nothing is timed) and the profile it runs.
#[derive(Clone, Copy)]
struct Obs<'a> {
    observer: Option<&'a dyn CycleObserver>,
    profile: &'a str,
}

impl Obs<'_> {
    /// The start of something to time, when someone listens.
    fn start(&self) -> Option<Instant> {
        self.observer.map(|_| Instant::now())
    }

    fn elapsed(since: Option<Instant>) -> Option<Duration> {
        since.map(|t| t.elapsed())
    }

    fn point(&self, point: ExtensionPoint, status: &'static str, elapsed: Option<Duration>) {
        if let (Some(o), Some(d)) = (self.observer, elapsed) {
            o.extension_point(self.profile, point, status, d);
        }
    }

    fn plugin(
        &self,
        point: ExtensionPoint,
        plugin: &'static str,
        status: &'static str,
        since: Option<Instant>,
    ) {
        if let (Some(o), Some(t)) = (self.observer, since) {
            o.plugin(self.profile, point, plugin, status, t.elapsed());
        }
    }
}

const SUCCESS: &str = "Success";

/// A plugin call's status label: `Success`, or its rejection's code.
fn status_of<T>(r: &Result<T, Rejection>) -> &'static str {
    r.as_ref().map_or_else(|r| r.code.as_str(), |_| SUCCESS)
}

/// upstream: `minFeasibleNodesToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// upstream: `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;
/// Default for [`Scheduler::set_parallel_threshold`]: effectively "never parallel". Measured on
/// the 2-vCPU reference machine (5,000 nodes, 100,000 pods, the default percentage), rayon
/// made the cycle slower: 124 µs vs 90 µs per pod before the batch filters, 83–91 µs vs 33 µs
/// after them (threshold 256 or 128). Machines with more cores can lower it; decisions do not
/// depend on it.
pub const DEFAULT_PARALLEL_THRESHOLD: usize = 1 << 20;

/// Where a pod goes.
#[derive(Clone, Debug)]
pub struct Placement {
    /// The chosen node.
    pub node: NodeId,
    /// Its name.
    pub node_name: Arc<str>,
    /// How many nodes were found feasible.
    pub feasible_nodes: usize,
    /// How many nodes were filtered.
    pub evaluated_nodes: usize,
    /// What the profile's Reserve plugins claimed on the node, in profile order (copy them to
    /// [`PodInfo::claims`] of the pod before assuming it).
    pub claims: Vec<crate::model::Claim>,
}

/// Why the cycle found no node (upstream `Diagnosis`).
#[derive(Clone, Debug, Default)]
pub struct Diagnosis {
    /// Each explicitly rejected node with the plugin that rejected it.
    pub statuses: Vec<(NodeId, &'static str, Rejection)>,
    /// Status of every node not in `statuses` (PreFilter rejection or narrowing), and the plugin.
    pub absent: Option<(&'static str, Rejection)>,
    /// The PreFilter rejection message, when the cycle failed at PreFilter.
    pub pre_filter_msg: Option<String>,
    /// The PostFilter message appended to the FitError text.
    pub post_filter_msg: Option<String>,
    /// Plugins that rejected the pod somewhere.
    pub unschedulable_plugins: BTreeSet<&'static str>,
    /// Set when preemption would make room: the node and the pods it would evict.
    pub nomination: Option<(NodeId, Vec<Arc<str>>)>,
}

/// No node fits the pod (upstream `FitError`).
#[derive(Clone, Debug)]
pub struct FitError {
    /// `ns/name`.
    pub pod: Arc<str>,
    /// Number of nodes in the snapshot.
    pub num_all_nodes: usize,
    /// Why.
    pub diagnosis: Diagnosis,
}

impl FitError {
    /// Upstream's `FitError.Error()` text: `0/N nodes are available: …`.
    #[must_use]
    pub fn message(&self) -> String {
        let mut msg = format!("0/{} nodes are available:", self.num_all_nodes);
        let d = &self.diagnosis;
        if let Some(pre) = &d.pre_filter_msg {
            let _ = write!(msg, " {pre}.");
        } else {
            let _ = write!(
                msg,
                " {}.",
                reason_histogram(self.num_all_nodes, &d.statuses, d.absent.as_ref())
            );
        }
        if let Some(post) = &d.post_filter_msg {
            msg.push(' ');
            msg.push_str(post);
        }
        msg
    }
}

/// Upstream's reason histogram: `"<count> <reason>"` entries, sorted byte-wise, joined by `", "`.
#[must_use]
pub fn reason_histogram(
    num_all_nodes: usize,
    statuses: &[(NodeId, &'static str, Rejection)],
    absent: Option<&(&'static str, Rejection)>,
) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    // Runs of the same reason (most nodes fail alike) are counted before touching the map; the
    // same text at the same address is the same reason without comparing the bytes.
    let mut run: Option<(&str, usize)> = None;
    for (_, _, r) in statuses {
        for reason in &r.reasons {
            let text = reason.as_str();
            match &mut run {
                Some((t, n)) if std::ptr::eq(*t, text) || *t == text => *n += 1,
                _ => {
                    if let Some((t, n)) = run.replace((text, 1)) {
                        *counts.entry(t).or_default() += n;
                    }
                }
            }
        }
    }
    if let Some((t, n)) = run {
        *counts.entry(t).or_default() += n;
    }
    if statuses.len() < num_all_nodes
        && let Some((_, r)) = absent
    {
        for reason in &r.reasons {
            *counts.entry(reason.as_str()).or_default() += num_all_nodes - statuses.len();
        }
    }
    let mut entries: Vec<String> = counts
        .into_iter()
        .map(|(r, c)| format!("{c} {r}"))
        .collect();
    entries.sort();
    entries.join(", ")
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// Why `schedule` returned no placement.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ScheduleError {
    /// No profile has the pod's `schedulerName`.
    #[error("pod {pod}: no profile schedules schedulerName {scheduler_name:?} (profiles: {known})")]
    NoProfile {
        /// `ns/name`.
        pod: Arc<str>,
        /// The pod's `schedulerName`.
        scheduler_name: Arc<str>,
        /// The profiles there are, comma separated.
        known: String,
    },
    /// A PreEnqueue plugin keeps the pod out of scheduling (e.g. scheduling gates).
    #[error("{message}")]
    NotReady {
        /// The plugin.
        plugin: &'static str,
        /// Its message.
        message: String,
    },
    /// The cluster has no nodes (upstream `ErrNoNodesAvailable`).
    #[error("no nodes available to schedule pods")]
    NoNodes,
    /// No node fits.
    #[error("{0}")]
    Unschedulable(Box<FitError>),
    /// The state's interner is not the one the scheduler's plugins were built with (nor a
    /// clone made after): their symbols would name other strings, so nothing is decided.
    #[error(
        "the cluster state was not built with the interner this scheduler's plugins were built with; build the scheduler from the state's interner (state.interner_mut())"
    )]
    ForeignState,
    /// A plugin failed with an internal error.
    #[error("running {plugin}: {message}")]
    Internal {
        /// The plugin.
        plugin: &'static str,
        /// Its message.
        message: String,
    },
}

impl ScheduleError {
    /// The FitError, when the error is one.
    #[must_use]
    pub fn fit_error(&self) -> Option<&FitError> {
        match self {
            ScheduleError::Unschedulable(f) => Some(f),
            _ => None,
        }
    }
}

/// One node's outcome in an evaluation.
#[derive(Clone, Debug)]
pub enum NodeOutcome {
    /// Passed every filter.
    Feasible,
    /// Rejected by `plugin`.
    Rejected {
        /// The rejecting plugin.
        plugin: &'static str,
        /// Its rejection.
        rejection: Rejection,
    },
    /// Not filtered (the cycle had found enough feasible nodes).
    NotEvaluated,
}

/// Scores of the feasible nodes, per plugin (normalized, before weighting).
#[derive(Clone, Debug, Default)]
pub struct ScoreTable {
    /// Score plugins that ran, with their weights, in profile order.
    pub plugins: Vec<(&'static str, i64)>,
    /// The scored nodes.
    pub nodes: Vec<NodeId>,
    /// `scores[p][i]`: plugin `p`'s normalized score for `nodes[i]`.
    pub scores: Vec<Vec<i64>>,
    /// Σ weight × score per node.
    pub totals: Vec<i64>,
}

/// Everything one run of the cycle found.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Profile that ran.
    pub profile: String,
    /// Per node (in `ClusterState::node_ids` order): its filter outcome.
    pub nodes: Vec<(NodeId, NodeOutcome)>,
    /// Scores of the nodes the real cycle scored (empty when fewer than two nodes were
    /// feasible: upstream skips scoring then).
    pub scores: ScoreTable,
    /// The result: what `schedule` decides for this pod now, with the same seed.
    pub result: Result<Placement, ScheduleError>,
    /// The nodes the real cycle filtered (upstream stops at `numFeasibleNodesToFind`, starting
    /// where the previous cycle stopped); `nodes` has the outcome of every node regardless.
    pub evaluated: BTreeSet<NodeId>,
}

/// What PreFilter left for Filter.
struct PreFiltered {
    cycle: CycleState,
    skip: SkipSet,
    narrowed: Option<BTreeSet<Sym>>,
    narrowing_plugins: Vec<&'static str>,
}

/// How PreFilter failed.
enum PreFilterFailure {
    /// A plugin rejected the pod (or narrowed node sets did not intersect).
    Rejected {
        plugin: &'static str,
        rejection: Rejection,
        pre: Box<PreFiltered>,
    },
    /// A plugin failed internally.
    Internal {
        plugin: &'static str,
        message: String,
    },
}

/// One parallel worker's filter results: (index, node) for feasible nodes, and (index, node,
/// rejecting filter) for the others.
#[derive(Default)]
struct FilterChunk {
    feasible: Vec<(usize, NodeId)>,
    rejected: Vec<(usize, NodeId, u16)>,
}

/// How many nodes the scan filters at a time (one plugin over the block, then the next).
const FILTER_BLOCK: usize = 64;
const _: () = assert!(FILTER_BLOCK <= NodeMask::BITS as usize);
/// A block entry's mark for a node that passed every filter.
const FEASIBLE: u16 = u16::MAX;
/// A filtered block: its nodes, and for each the index of the filter that rejected it, or
/// [`FEASIBLE`].
struct Block {
    len: usize,
    ids: [NodeId; FILTER_BLOCK],
    verdicts: [u16; FILTER_BLOCK],
}

impl Block {
    fn new() -> Self {
        Block {
            len: 0,
            ids: [NodeId(0); FILTER_BLOCK],
            verdicts: [FEASIBLE; FILTER_BLOCK],
        }
    }

    /// Appends the feasible nodes to `feasible` and the others to `rejected`, in scan order
    /// (without branching on the verdicts).
    fn split_into(&self, feasible: &mut Vec<NodeId>, rejected: &mut Vec<(NodeId, u16)>) {
        let mut f = [NodeId(0); FILTER_BLOCK];
        let mut r = [(NodeId(0), 0u16); FILTER_BLOCK];
        let (mut nf, mut nr) = (0, 0);
        for (id, k) in self.iter() {
            let ok = k == FEASIBLE;
            f[nf & (FILTER_BLOCK - 1)] = id;
            r[nr & (FILTER_BLOCK - 1)] = (id, k);
            nf += usize::from(ok);
            nr += usize::from(!ok);
        }
        feasible.extend_from_slice(&f[..nf]);
        rejected.extend_from_slice(&r[..nr]);
    }

    /// The nodes in scan order with their verdicts.
    fn iter(&self) -> impl Iterator<Item = (NodeId, u16)> + '_ {
        self.ids[..self.len]
            .iter()
            .copied()
            .zip(self.verdicts[..self.len].iter().copied())
    }
}

/// Buffers one cycle uses; the scheduler keeps them between cycles so that a cycle does not
/// allocate them anew.
#[derive(Default)]
struct Scratch {
    /// Feasible nodes in scan order.
    feasible: Vec<NodeId>,
    /// Rejected nodes in scan order, with the index of the rejecting filter.
    rejected: Vec<(NodeId, u16)>,
    /// One column of scores per running score plugin.
    columns: Vec<Vec<i64>>,
    /// Weighted totals per feasible node.
    totals: Vec<i64>,
}

/// A [`Scratch`] taken from the scheduler's pool, given back when dropped.
struct ScratchGuard<'a> {
    pool: &'a Mutex<Vec<Scratch>>,
    scratch: Option<Scratch>,
}

impl<'a> ScratchGuard<'a> {
    fn take(pool: &'a Mutex<Vec<Scratch>>) -> Self {
        let scratch = pool
            .lock()
            .map(|mut p| p.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        ScratchGuard {
            pool,
            scratch: Some(scratch),
        }
    }
}

impl std::ops::Deref for ScratchGuard<'_> {
    type Target = Scratch;
    fn deref(&self) -> &Scratch {
        self.scratch.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for ScratchGuard<'_> {
    fn deref_mut(&mut self) -> &mut Scratch {
        self.scratch.as_mut().expect("present until drop")
    }
}

impl Drop for ScratchGuard<'_> {
    fn drop(&mut self) {
        if let (Some(s), Ok(mut pool)) = (self.scratch.take(), self.pool.lock()) {
            pool.push(s);
        }
    }
}

/// How much of the cluster a cycle looks at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reach {
    /// Upstream's behaviour: stop at `numFeasibleNodesToFind`, rotate the start.
    Upstream,
    /// Every node, from the first (for explanations).
    AllNodes,
    /// As `Upstream`, keeping the scores and the evaluated nodes, without moving the start.
    Preview,
}

/// The scheduler: profiles, global settings and the seed that decides ties.
pub struct Scheduler {
    profiles: Vec<Profile>,
    percentage_of_nodes_to_score: Option<u32>,
    seed: u64,
    next_start_node_index: AtomicUsize,
    parallel_threshold: usize,
    scratch: Mutex<Vec<Scratch>>,
    /// The interner the profiles' plugins interned their symbols with.
    interner: InternerStamp,
    observer: Option<Arc<dyn CycleObserver>>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("profiles", &self.profiles)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler over `profiles`, whose plugins were built with `interner` (the cluster
    /// state's: [`ClusterState::interner_mut`]). `percentage_of_nodes_to_score` is the global
    /// setting (`None` or `Some(0)`: adaptive); `seed` decides every tie. Used with a state
    /// whose interner is another, every cycle fails with [`ScheduleError::ForeignState`].
    #[must_use]
    pub fn new(
        profiles: Vec<Profile>,
        interner: &Interner,
        percentage_of_nodes_to_score: Option<u32>,
        seed: u64,
    ) -> Self {
        Scheduler {
            interner: interner.stamp(),
            observer: None,
            profiles,
            percentage_of_nodes_to_score,
            seed,
            next_start_node_index: AtomicUsize::new(0),
            parallel_threshold: DEFAULT_PARALLEL_THRESHOLD,
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// The profiles.
    #[must_use]
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The profile named `scheduler_name`.
    #[must_use]
    pub fn profile(&self, scheduler_name: &str) -> Option<&Profile> {
        self.profiles
            .iter()
            .find(|p| p.scheduler_name == scheduler_name)
    }

    /// Whether this scheduler has a profile for the pod.
    #[must_use]
    pub fn handles(&self, pod: &PodInfo) -> bool {
        self.profile(&pod.scheduler_name).is_some()
    }

    /// Filters and scores batches of at least `nodes` nodes in parallel (rayon); smaller ones on
    /// the calling thread. Decisions do not depend on it.
    pub fn set_parallel_threshold(&mut self, nodes: usize) {
        self.parallel_threshold = nodes.max(1);
    }

    /// Reports every cycle's extension point and plugin durations to `observer` (upstream's
    /// metrics recorder); `explain` is not observed.
    pub fn set_observer(&mut self, observer: Arc<dyn CycleObserver>) {
        self.observer = Some(observer);
    }

    fn obs<'a>(&'a self, profile: &'a Profile, observed: bool) -> Obs<'a> {
        Obs {
            observer: self.observer.as_deref().filter(|_| observed),
            profile: &profile.scheduler_name,
        }
    }

    /// Resets the rotating start index (upstream `nextStartNodeIndex`), for replays.
    pub fn reset(&self) {
        self.next_start_node_index.store(0, Ordering::Relaxed);
    }

    /// Schedules one pod the way kube-scheduler does.
    ///
    /// # Errors
    /// See [`ScheduleError`].
    pub fn schedule(
        &self,
        pod: &PodInfo,
        state: &ClusterState,
    ) -> Result<Placement, ScheduleError> {
        self.evaluate(pod, state, Reach::Upstream).result
    }

    /// Runs the PreBind plugins of the pod's profile in order (upstream `RunPreBindPlugins`);
    /// the driver calls it before it binds the pod to `node`.
    ///
    /// # Errors
    /// The first plugin that fails, with its message.
    pub fn pre_bind(&self, pod: &PodInfo, node: &str) -> Result<(), ScheduleError> {
        let Some(profile) = self.profile(&pod.scheduler_name) else {
            return Ok(());
        };
        let obs = self.obs(profile, true);
        let started = obs.start();
        for plugin in &profile.pre_bind {
            let Some(p) = plugin.as_pre_bind() else {
                continue;
            };
            let t = obs.start();
            let r = p.pre_bind(pod, node);
            let status = status_of(&r);
            obs.plugin(ExtensionPoint::PreBind, plugin.name(), status, t);
            if let Err(r) = r {
                obs.point(ExtensionPoint::PreBind, status, Obs::elapsed(started));
                return Err(ScheduleError::Internal {
                    plugin: plugin.name(),
                    message: format!("PreBind: {}", r.message()),
                });
            }
        }
        obs.point(ExtensionPoint::PreBind, SUCCESS, Obs::elapsed(started));
        Ok(())
    }

    /// Runs the Permit plugins of the pod's profile (upstream `RunPermitPlugins`): the first
    /// that rejects, with its rejection.
    pub(crate) fn run_permit(
        &self,
        pod: &PodInfo,
        node: NodeId,
        state: &ClusterState,
    ) -> Option<(&'static str, Rejection)> {
        let profile = self.profile(&pod.scheduler_name)?;
        let view = ClusterView { state };
        let obs = self.obs(profile, true);
        let started = obs.start();
        let rejected = profile.permit.iter().find_map(|plugin| {
            let p = plugin.as_permit()?;
            let t = obs.start();
            let r = p.permit(pod, node, view);
            let status = status_of(&r);
            obs.plugin(ExtensionPoint::Permit, plugin.name(), status, t);
            r.err().map(|r| (plugin.name(), r))
        });
        let status = rejected.as_ref().map_or(SUCCESS, |(_, r)| r.code.as_str());
        obs.point(ExtensionPoint::Permit, status, Obs::elapsed(started));
        rejected
    }

    /// What `placer explain` prints: every node's filter outcome, and the decision, scores and
    /// evaluated nodes of the cycle `schedule` would run now (same seed, same start index, same
    /// `numFeasibleNodesToFind` cutoff), so the selected node is always the one `schedule`
    /// picks. Does not advance the start index.
    #[must_use]
    pub fn explain(&self, pod: &PodInfo, state: &ClusterState) -> Evaluation {
        let all = self.evaluate(pod, state, Reach::AllNodes);
        let real = self.evaluate(pod, state, Reach::Preview);
        Evaluation {
            nodes: all.nodes,
            ..real
        }
    }

    /// upstream: `numFeasibleNodesToFind`.
    #[must_use]
    pub fn num_feasible_nodes_to_find(&self, profile: &Profile, num_all_nodes: usize) -> usize {
        if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
            return num_all_nodes;
        }
        let mut percentage = profile
            .percentage_of_nodes_to_score
            .or(self.percentage_of_nodes_to_score)
            .unwrap_or(0) as usize;
        if percentage == 0 {
            percentage = 50usize.saturating_sub(num_all_nodes / 125);
            percentage = percentage.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
        }
        let n = num_all_nodes * percentage.min(100) / 100;
        n.max(MIN_FEASIBLE_NODES_TO_FIND)
    }

    #[allow(clippy::too_many_lines)] // the cycle reads best as one piece, step by step as upstream's schedulePod
    fn evaluate(&self, pod: &PodInfo, state: &ClusterState, reach: Reach) -> Evaluation {
        let view = ClusterView { state };
        let all = state.node_ids();
        let mut eval = Evaluation {
            profile: pod.scheduler_name.to_string(),
            nodes: Vec::new(),
            scores: ScoreTable::default(),
            result: Err(ScheduleError::NoNodes),
            evaluated: BTreeSet::new(),
        };
        let Some(profile) = self.profile(&pod.scheduler_name) else {
            eval.result = Err(ScheduleError::NoProfile {
                pod: pod.key.clone(),
                scheduler_name: pod.scheduler_name.clone(),
                known: self
                    .profiles
                    .iter()
                    .map(|p| p.scheduler_name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
            return eval;
        };
        if !state.interner().accepts(self.interner) {
            eval.result = Err(ScheduleError::ForeignState);
            return eval;
        }
        let obs = self.obs(profile, reach == Reach::Upstream);
        for plugin in &profile.pre_enqueue {
            if let Some(p) = plugin.as_pre_enqueue()
                && let Err(r) = p.pre_enqueue(pod)
            {
                eval.result = Err(ScheduleError::NotReady {
                    plugin: plugin.name(),
                    message: r.message(),
                });
                return eval;
            }
        }
        if all.is_empty() {
            return eval;
        }
        let fail = |eval: &mut Evaluation, diagnosis: Diagnosis| {
            eval.result = Err(ScheduleError::Unschedulable(Box::new(FitError {
                pod: pod.key.clone(),
                num_all_nodes: all.len(),
                diagnosis,
            })));
        };

        // PreFilter.
        let PreFiltered {
            mut cycle,
            skip,
            narrowed,
            narrowing_plugins,
        } = match self.run_pre_filter(profile, pod, view, obs) {
            Ok(pre) => pre,
            Err(PreFilterFailure::Internal { plugin, message }) => {
                eval.result = Err(ScheduleError::Internal { plugin, message });
                return eval;
            }
            Err(PreFilterFailure::Rejected {
                plugin,
                rejection,
                pre,
            }) => {
                let msg = rejection.message();
                self.fail_at_pre_filter(&mut eval, plugin, rejection, msg, all, reach);
                if let Err(ScheduleError::Unschedulable(f)) = &mut eval.result {
                    f.diagnosis
                        .unschedulable_plugins
                        .extend(pre.narrowing_plugins.iter().copied());
                    self.run_post_filter(profile, &pre.cycle, &pre.skip, pod, view, f, obs);
                }
                return eval;
            }
        };

        // The nodes to filter: all, or the PreFilter result in snapshot order.
        let narrowed_ids: Option<Vec<NodeId>> = narrowed.as_ref().map(|names| {
            all.iter()
                .copied()
                .filter(|&id| names.contains(&state.node(id).info.name_sym))
                .collect()
        });
        let absent = narrowed.as_ref().map(|_| {
            let mut plugins = narrowing_plugins.clone();
            plugins.sort_unstable();
            plugins.dedup();
            (
                narrowing_plugins[0],
                Rejection::unresolvable(format!(
                    "node(s) didn't satisfy plugin(s) [{}]",
                    plugins.join(" ")
                )),
            )
        });
        // upstream findNodesThatFitPod: a pod nominated by an earlier preemption tries its
        // nominated node first ("likely the only candidate that will fit"), whatever PreFilter
        // narrowed to; when it passes every filter it is the only feasible node, chosen
        // without scoring and without moving the start index. Otherwise the scan runs as usual.
        if reach != Reach::AllNodes
            && let Some(id) = pod
                .nominated_node_name
                .as_deref()
                .and_then(|name| state.node_id(name))
            && {
                let t = obs.start();
                let passes = self.passes_filters_on_node(profile, &cycle, &skip, pod, id, view);
                obs.point(ExtensionPoint::Filter, SUCCESS, Obs::elapsed(t));
                passes
            }
        {
            eval.result = self
                .run_reserve(profile, &mut cycle, pod, id, view, obs)
                .map(|claims| Placement {
                    node: id,
                    node_name: state.node(id).info.name.clone(),
                    feasible_nodes: 1,
                    evaluated_nodes: 1,
                    claims,
                });
            if reach == Reach::Preview {
                eval.evaluated.insert(id);
            }
            return eval;
        }
        let candidates: &[NodeId] = narrowed_ids.as_deref().unwrap_or(all);
        let n = candidates.len();

        // Filter.
        let (to_find, start) = match reach {
            Reach::AllNodes => (n, 0),
            Reach::Upstream | Reach::Preview => {
                let mut k = self.num_feasible_nodes_to_find(profile, n);
                if profile.score.is_empty() {
                    // upstream: with no Score plugins (and no extenders) one feasible node is enough.
                    k = 1;
                }
                let start = if n == 0 {
                    0
                } else {
                    self.next_start_node_index.load(Ordering::Relaxed) % n
                };
                (k, start)
            }
        };
        // The cycle's buffers come from the scheduler's pool and go back to it on return.
        let mut scratch = ScratchGuard::take(&self.scratch);
        let Scratch {
            feasible,
            rejected,
            columns,
            totals,
        } = &mut *scratch;
        feasible.clear();
        rejected.clear();
        // Rejected nodes are kept as (node, index of the rejecting filter) only: a successful
        // cycle never reads their reasons, so the scan does not carry them. The statuses are
        // rebuilt below, when the cycle fails or explains, by running that same filter again
        // (filters are pure functions of the cycle state, the pod and the node).
        // The filters that run for this pod, resolved once (not per node).
        let filters: SmallVec<[(&'static str, &dyn crate::framework::FilterPlugin); 16]> = profile
            .filter
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(*i))
            .filter_map(|(_, p)| p.as_filter().map(|f| (p.name(), f)))
            .collect();
        // Filters a block of at most FILTER_BLOCK consecutive positions of the scan, one plugin
        // at a time over the nodes still feasible; gives each node with the index of the
        // filter that rejected it, or FEASIBLE.
        // Rejections found with nominated pods added (not reproducible by re-running a filter
        // on the node alone), kept as found.
        let nominated_rejections: Mutex<Vec<(NodeId, &'static str, Rejection)>> =
            Mutex::new(Vec::new());
        // The AddPod extensions for nominated pods, resolved once per cycle.
        let extensions = profile.pre_filter_extensions(&skip);
        let filter_block = |lo: usize, hi: usize, out: &mut Block| {
            out.len = hi - lo;
            for (r, i) in (lo..hi).enumerate() {
                // `(start + i) % n` without a division: both are below `n`.
                let j = start + i;
                out.ids[r] = candidates[if j >= n { j - n } else { j }];
            }
            out.verdicts = [FEASIBLE; FILTER_BLOCK];
            let mut live: NodeMask = if out.len == FILTER_BLOCK {
                !0
            } else {
                (1 << out.len) - 1
            };
            if state.has_nominations() {
                // upstream RunFilterPluginsWithNominatedPods: a node with pods nominated to it
                // of at least this pod's priority is filtered twice, with them and without.
                let mut rest = live;
                while rest != 0 {
                    let r = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    let id = out.ids[r];
                    let mut nominated = state
                        .nominated_pods(id)
                        .iter()
                        .filter(|p| p.priority >= pod.priority && p.key != pod.key)
                        .peekable();
                    if nominated.peek().is_none() {
                        continue;
                    }
                    live &= !(1 << r);
                    let node = state.node(id);
                    let mut with = node.clone();
                    let mut with_cycle = cycle.clone();
                    for p in nominated {
                        with.hold(p);
                        extensions.run(&mut with_cycle, pod, p, &with, view, true);
                    }
                    let first = |c: &CycleState, n: &crate::state::NodeState| {
                        filters.iter().enumerate().find_map(|(k, (name, f))| {
                            f.filter(c, pod, n, view).err().map(|e| (k, *name, e))
                        })
                    };
                    if let Some((k, name, e)) =
                        first(&with_cycle, &with).or_else(|| first(&cycle, node))
                    {
                        out.verdicts[r] = k as u16;
                        if let Ok(mut v) = nominated_rejections.lock() {
                            v.push((id, name, e));
                        }
                    }
                }
            }
            for (k, (_, f)) in filters.iter().enumerate() {
                if live == 0 {
                    break;
                }
                let pass = f.filter_nodes(&cycle, pod, &out.ids[..out.len], live, view) & live;
                let mut failed = live & !pass;
                while failed != 0 {
                    out.verdicts[failed.trailing_zeros() as usize] = k as u16;
                    failed &= failed - 1;
                }
                live = pass;
            }
        };
        // Nodes are taken in order from the start index and the scan stops once `to_find`
        // nodes are feasible, so which nodes are processed is deterministic (upstream's parallel
        // scan may look at a few more). Large batches are filtered in parallel, in order.
        let filter_started = obs.start();
        let mut next = 0;
        let mut block = Block::new();
        while next < n && feasible.len() < to_find {
            let batch = (to_find - feasible.len()).max(64).min(n - next);
            if batch < self.parallel_threshold {
                // A block never holds more nodes than are still to be found, so it cannot
                // overshoot the cutoff: every node in it counts as processed.
                let len = (to_find - feasible.len()).min(FILTER_BLOCK).min(n - next);
                filter_block(next, next + len, &mut block);
                block.split_into(feasible, rejected);
                next += len;
                continue;
            }
            // Each worker filters a contiguous chunk and keeps only compact results; chunks are
            // merged in index order so the cutoff falls exactly where a sequential scan's would.
            let chunk = batch.div_ceil(rayon::current_num_threads().max(1)).max(64);
            let parts: Vec<FilterChunk> = (0..batch.div_ceil(chunk))
                .into_par_iter()
                .map(|c| {
                    let lo = next + c * chunk;
                    let hi = (lo + chunk).min(next + batch);
                    let mut part = FilterChunk::default();
                    let mut block = Block::new();
                    for b in (lo..hi).step_by(FILTER_BLOCK) {
                        filter_block(b, (b + FILTER_BLOCK).min(hi), &mut block);
                        for (i, (id, k)) in (b..).zip(block.iter()) {
                            if k == FEASIBLE {
                                part.feasible.push((i, id));
                            } else {
                                part.rejected.push((i, id, k));
                            }
                        }
                    }
                    part
                })
                .collect();
            'merge: for part in parts {
                let mut rejected_iter = part.rejected.into_iter().peekable();
                for (i, id) in part.feasible {
                    while let Some((_, rid, k)) = rejected_iter.next_if(|(ri, ..)| *ri < i) {
                        rejected.push((rid, k));
                    }
                    feasible.push(id);
                    if feasible.len() == to_find {
                        // Nodes after this one count as not processed, as in a sequential scan.
                        break 'merge;
                    }
                }
                rejected.extend(rejected_iter.map(|(_, rid, k)| (rid, k)));
            }
            next += batch;
        }
        let evaluated = feasible.len() + rejected.len();
        let filter_elapsed = Obs::elapsed(filter_started);
        if reach != Reach::Upstream {
            eval.evaluated = feasible
                .iter()
                .copied()
                .chain(rejected.iter().map(|&(id, _)| id))
                .collect();
        }
        if reach == Reach::Upstream {
            let prev = self.next_start_node_index.load(Ordering::Relaxed);
            self.next_start_node_index
                .store((prev + evaluated) % all.len(), Ordering::Relaxed);
        }
        // The rejected nodes' statuses, when someone will read them.
        let statuses = |rejected: &[(NodeId, u16)]| -> Vec<(NodeId, &'static str, Rejection)> {
            // By node, once: with many nominations (a preemption-heavy cluster) a lookup per
            // rejected node into the list would be quadratic.
            let kept: rustc_hash::FxHashMap<NodeId, (&'static str, Rejection)> =
                nominated_rejections
                    .lock()
                    .map(|v| v.iter().map(|(id, n, r)| (*id, (*n, r.clone()))).collect())
                    .unwrap_or_default();
            rejected
                .iter()
                .map(|&(id, k)| {
                    if let Some((name, r)) = kept.get(&id) {
                        return (id, *name, r.clone());
                    }
                    let (name, f) = filters[usize::from(k)];
                    let rejection = f
                        .filter(&cycle, pod, state.node(id), view)
                        .err()
                        .unwrap_or_else(|| {
                            Rejection::error("filter result changed between two runs")
                        });
                    (id, name, rejection)
                })
                .collect()
        };
        let rejected: Vec<(NodeId, &'static str, Rejection)> =
            if reach == Reach::AllNodes || feasible.is_empty() {
                statuses(rejected)
            } else {
                Vec::new()
            };
        // upstream: an Unschedulable node is a successful Filter run; an Error fails it.
        let filter_status = if rejected.iter().any(|(_, _, r)| r.code == Code::Error) {
            "Error"
        } else {
            SUCCESS
        };
        obs.point(ExtensionPoint::Filter, filter_status, filter_elapsed);
        if reach == Reach::AllNodes {
            let mut outcome: BTreeMap<NodeId, NodeOutcome> = BTreeMap::new();
            for &id in feasible.iter() {
                outcome.insert(id, NodeOutcome::Feasible);
            }
            for (id, plugin, r) in &rejected {
                outcome.insert(
                    *id,
                    NodeOutcome::Rejected {
                        plugin,
                        rejection: r.clone(),
                    },
                );
            }
            eval.nodes = all
                .iter()
                .map(|&id| {
                    let o = outcome.remove(&id).unwrap_or_else(|| match &absent {
                        Some((plugin, r)) => NodeOutcome::Rejected {
                            plugin,
                            rejection: r.clone(),
                        },
                        None => NodeOutcome::NotEvaluated,
                    });
                    (id, o)
                })
                .collect();
        }

        if feasible.is_empty() {
            let mut diagnosis = Diagnosis {
                unschedulable_plugins: rejected.iter().map(|(_, p, _)| *p).collect(),
                statuses: rejected,
                absent,
                ..Diagnosis::default()
            };
            diagnosis
                .unschedulable_plugins
                .extend(narrowing_plugins.iter().copied());
            let mut fit = FitError {
                pod: pod.key.clone(),
                num_all_nodes: all.len(),
                diagnosis,
            };
            self.run_post_filter(profile, &cycle, &skip, pod, view, &mut fit, obs);
            fail(&mut eval, fit.diagnosis);
            return eval;
        }
        if feasible.len() == 1 {
            // upstream: a single feasible node is chosen without PreScore/Score.
            let node = feasible[0];
            eval.result = self
                .run_reserve(profile, &mut cycle, pod, node, view, obs)
                .map(|claims| Placement {
                    node,
                    node_name: state.node(node).info.name.clone(),
                    feasible_nodes: 1,
                    evaluated_nodes: evaluated,
                    claims,
                });
            return eval;
        }

        // PreScore.
        let mut score_skipped: Vec<&'static str> = Vec::new();
        let pre_score_started = obs.start();
        for plugin in &profile.pre_score {
            let Some(p) = plugin.as_pre_score() else {
                continue;
            };
            let t = obs.start();
            let outcome = p.pre_score(&mut cycle, pod, feasible, view);
            let status = match &outcome {
                Ok(PreScoreOutcome::Proceed) => SUCCESS,
                Ok(PreScoreOutcome::Skip) => "Skip",
                Err(r) => r.code.as_str(),
            };
            obs.plugin(ExtensionPoint::PreScore, plugin.name(), status, t);
            match outcome {
                Ok(PreScoreOutcome::Proceed) => {}
                Ok(PreScoreOutcome::Skip) => score_skipped.push(plugin.name()),
                Err(r) => {
                    obs.point(
                        ExtensionPoint::PreScore,
                        "Error",
                        Obs::elapsed(pre_score_started),
                    );
                    eval.result = Err(ScheduleError::Internal {
                        plugin: plugin.name(),
                        message: r.message(),
                    });
                    return eval;
                }
            }
        }
        obs.point(
            ExtensionPoint::PreScore,
            SUCCESS,
            Obs::elapsed(pre_score_started),
        );
        let score_started = obs.start();

        // Score: the plugins that did not skip, with their weights.
        let scorers: Vec<(
            &Arc<dyn crate::framework::Plugin>,
            &dyn crate::framework::ScorePlugin,
            i64,
        )> = profile
            .score
            .iter()
            .filter(|(p, _)| !score_skipped.contains(&p.name()))
            .filter_map(|(p, w)| p.as_score().map(|s| (p, s, *w)))
            .collect();
        // One column of raw scores per plugin, each filled by one `score_nodes` call (chunks of
        // nodes in parallel when there are many).
        columns.resize_with(scorers.len().max(columns.len()), Vec::new);
        let mut plugin_elapsed: SmallVec<[Option<Duration>; 8]> = SmallVec::new();
        for ((_, s, _), column) in scorers.iter().zip(columns.iter_mut()) {
            let t = obs.start();
            column.clear();
            column.resize(feasible.len(), 0);
            if feasible.len() >= self.parallel_threshold {
                column
                    .par_chunks_mut(256)
                    .zip(feasible.par_chunks(256))
                    .for_each(|(out, ids)| s.score_nodes(&cycle, pod, ids, view, out));
            } else {
                s.score_nodes(&cycle, pod, feasible, view, column);
            }
            plugin_elapsed.push(Obs::elapsed(t));
        }
        // NormalizeScore, range check, weights.
        totals.clear();
        totals.resize(feasible.len(), 0);
        for (i, ((plugin, s, weight), scores)) in scorers.iter().zip(columns.iter_mut()).enumerate()
        {
            let t = obs.start();
            if s.has_normalize() {
                s.normalize(&cycle, pod, scores);
            }
            if let (Some(o), Some(scored), Some(t)) = (obs.observer, plugin_elapsed[i], t) {
                o.plugin(
                    obs.profile,
                    ExtensionPoint::Score,
                    plugin.name(),
                    SUCCESS,
                    scored + t.elapsed(),
                );
            }
            let (lowest, highest) = scores
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            if lowest < MIN_NODE_SCORE || highest > MAX_NODE_SCORE {
                // upstream: a score outside [MinNodeScore, MaxNodeScore] after normalization is an error.
                let bad = scores
                    .iter()
                    .find(|&&v| !(MIN_NODE_SCORE..=MAX_NODE_SCORE).contains(&v))
                    .copied()
                    .unwrap_or(lowest);
                eval.result = Err(ScheduleError::Internal {
                    plugin: plugin.name(),
                    message: format!("plugin {} returns an invalid score {bad}", plugin.name()),
                });
                obs.point(ExtensionPoint::Score, "Error", Obs::elapsed(score_started));
                return eval;
            }
            for (t, v) in totals.iter_mut().zip(scores.iter()) {
                *t += v * weight;
            }
        }

        // Select the host: the highest total; ties broken by the seeded RNG (the k-th of the
        // tied nodes in scan order).
        let best = totals.iter().copied().max().unwrap_or(0);
        let num_ties = totals.iter().filter(|&&t| t == best).count();
        let k = (tie_break(self.seed, &pod.key) % num_ties as u64) as usize;
        let pick = (0..totals.len())
            .filter(|&i| totals[i] == best)
            .nth(k)
            .unwrap_or(0);
        let node = feasible[pick];
        let feasible_nodes = feasible.len();
        obs.point(ExtensionPoint::Score, SUCCESS, Obs::elapsed(score_started));
        eval.result = self
            .run_reserve(profile, &mut cycle, pod, node, view, obs)
            .map(|claims| Placement {
                node,
                node_name: state.node(node).info.name.clone(),
                feasible_nodes,
                evaluated_nodes: evaluated,
                claims,
            });
        if reach != Reach::Upstream {
            eval.scores = ScoreTable {
                plugins: scorers.iter().map(|(p, _, w)| (p.name(), *w)).collect(),
                nodes: feasible.clone(),
                scores: columns[..scorers.len()].to_vec(),
                totals: totals.clone(),
            };
        }
        eval
    }

    /// Whether `pod` passes every Filter on node `id` (upstream
    /// `RunFilterPluginsWithNominatedPods`: with the pods nominated there of at least its
    /// priority, and without them).
    fn passes_filters_on_node(
        &self,
        profile: &Profile,
        cycle: &CycleState,
        skip: &SkipSet,
        pod: &PodInfo,
        id: NodeId,
        view: ClusterView<'_>,
    ) -> bool {
        let state = view.state;
        let node = state.node(id);
        let mut nominated = state
            .nominated_pods(id)
            .iter()
            .filter(|p| p.priority >= pod.priority && p.key != pod.key)
            .peekable();
        if nominated.peek().is_some() {
            let extensions = profile.pre_filter_extensions(skip);
            let mut with = node.clone();
            let mut with_cycle = cycle.clone();
            for p in nominated {
                with.hold(p);
                extensions.run(&mut with_cycle, pod, p, &with, view, true);
            }
            if profile
                .run_filters(&with_cycle, skip, pod, &with, view)
                .is_err()
            {
                return false;
            }
        }
        profile.run_filters(cycle, skip, pod, node, view).is_ok()
    }

    /// Runs the profile's Reserve plugins on the chosen node, in order (upstream
    /// `RunReservePluginsReserve`), collecting their claims. When one fails, every Reserve
    /// plugin's Unreserve runs, in reverse order (upstream `RunReservePluginsUnreserve`), and
    /// the cycle fails with the plugin's message. Placer runs Reserve before the caller
    /// assumes the pod (upstream: just after), so that the claims travel with the pod into
    /// the state; the plugins see the state without the pod.
    fn run_reserve(
        &self,
        profile: &Profile,
        cycle: &mut CycleState,
        pod: &PodInfo,
        node: NodeId,
        view: ClusterView<'_>,
        obs: Obs<'_>,
    ) -> Result<Vec<crate::model::Claim>, ScheduleError> {
        let mut claims = Vec::new();
        let started = obs.start();
        for plugin in &profile.reserve {
            let Some(r) = plugin.as_reserve() else {
                continue;
            };
            let t = obs.start();
            let outcome = r.reserve(cycle, pod, node, view);
            let status = status_of(&outcome);
            obs.plugin(ExtensionPoint::Reserve, plugin.name(), status, t);
            match outcome {
                Ok(Some(value)) => claims.push(crate::model::Claim {
                    plugin: plugin.name(),
                    value,
                }),
                Ok(None) => {}
                Err(rejection) => {
                    for p in profile.reserve.iter().rev() {
                        if let Some(u) = p.as_reserve() {
                            u.unreserve(cycle, pod, node, view);
                        }
                    }
                    obs.point(ExtensionPoint::Reserve, status, Obs::elapsed(started));
                    return Err(ScheduleError::Internal {
                        plugin: plugin.name(),
                        message: format!("Reserve: {}", rejection.message()),
                    });
                }
            }
        }
        obs.point(ExtensionPoint::Reserve, SUCCESS, Obs::elapsed(started));
        Ok(claims)
    }

    /// Runs the profile's PreFilter plugins (upstream `RunPreFilterPlugins`): the typed cycle
    /// state, the Filter plugins to skip, and the intersection of narrowed node sets.
    fn run_pre_filter(
        &self,
        profile: &Profile,
        pod: &PodInfo,
        view: ClusterView<'_>,
        obs: Obs<'_>,
    ) -> Result<PreFiltered, PreFilterFailure> {
        let started = obs.start();
        let result = self.run_pre_filter_plugins(profile, pod, view, obs);
        let status = match &result {
            Ok(_) => SUCCESS,
            Err(PreFilterFailure::Internal { .. }) => "Error",
            Err(PreFilterFailure::Rejected { rejection, .. }) => rejection.code.as_str(),
        };
        obs.point(ExtensionPoint::PreFilter, status, Obs::elapsed(started));
        result
    }

    fn run_pre_filter_plugins(
        &self,
        profile: &Profile,
        pod: &PodInfo,
        view: ClusterView<'_>,
        obs: Obs<'_>,
    ) -> Result<PreFiltered, PreFilterFailure> {
        let mut pre = PreFiltered {
            cycle: CycleState::new(),
            skip: SkipSet::default(),
            narrowed: None,
            narrowing_plugins: Vec::new(),
        };
        for plugin in &profile.pre_filter {
            let Some(p) = plugin.as_pre_filter() else {
                continue;
            };
            let t = obs.start();
            let outcome = p.pre_filter(&mut pre.cycle, pod, view);
            let status = match &outcome {
                Ok(PreFilterOutcome::Skip) => "Skip",
                Ok(_) => SUCCESS,
                Err(r) => r.code.as_str(),
            };
            obs.plugin(ExtensionPoint::PreFilter, plugin.name(), status, t);
            match outcome {
                Ok(PreFilterOutcome::Proceed) => {}
                Ok(PreFilterOutcome::Skip) => {
                    if let Some(i) = profile
                        .filter
                        .iter()
                        .position(|f| f.name() == plugin.name())
                    {
                        pre.skip.insert(i);
                    }
                }
                Ok(PreFilterOutcome::Narrow(names)) => {
                    pre.narrowing_plugins.push(plugin.name());
                    let names: BTreeSet<Sym> = names.into_iter().collect();
                    let merged = match pre.narrowed.take() {
                        None => names,
                        Some(prev) => prev.intersection(&names).copied().collect(),
                    };
                    if merged.is_empty() {
                        // upstream RunPreFilterPlugins: an empty intersection fails the cycle.
                        let msg = if pre.narrowing_plugins.len() == 1 {
                            format!("node(s) didn't satisfy plugin {}", pre.narrowing_plugins[0])
                        } else {
                            format!(
                                "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                                pre.narrowing_plugins.join(" ")
                            )
                        };
                        return Err(PreFilterFailure::Rejected {
                            plugin: plugin.name(),
                            rejection: Rejection::unresolvable(msg),
                            pre: Box::new(pre),
                        });
                    }
                    pre.narrowed = Some(merged);
                }
                Err(r) if r.code == Code::Error => {
                    return Err(PreFilterFailure::Internal {
                        plugin: plugin.name(),
                        message: r.message(),
                    });
                }
                Err(rejection) => {
                    return Err(PreFilterFailure::Rejected {
                        plugin: plugin.name(),
                        rejection,
                        pre: Box::new(pre),
                    });
                }
            }
        }
        Ok(pre)
    }

    fn fail_at_pre_filter(
        &self,
        eval: &mut Evaluation,
        plugin: &'static str,
        rejection: Rejection,
        msg: String,
        all: &[NodeId],
        reach: Reach,
    ) {
        if reach != Reach::Upstream {
            // upstream: a PreFilter rejection is every node's status.
            eval.evaluated = all.iter().copied().collect();
        }
        if reach == Reach::AllNodes {
            eval.nodes = all
                .iter()
                .map(|&id| {
                    (
                        id,
                        NodeOutcome::Rejected {
                            plugin,
                            rejection: rejection.clone(),
                        },
                    )
                })
                .collect();
        }
        let mut unschedulable_plugins = BTreeSet::new();
        unschedulable_plugins.insert(plugin);
        eval.result = Err(ScheduleError::Unschedulable(Box::new(FitError {
            pod: Arc::from(""),
            num_all_nodes: all.len(),
            diagnosis: Diagnosis {
                absent: Some((plugin, rejection)),
                pre_filter_msg: Some(msg),
                unschedulable_plugins,
                ..Diagnosis::default()
            },
        })));
    }

    #[allow(clippy::too_many_arguments)] // the cycle's pieces PostFilter reads, and its observer
    fn run_post_filter(
        &self,
        profile: &Profile,
        cycle: &CycleState,
        skip: &SkipSet,
        pod: &PodInfo,
        view: ClusterView<'_>,
        fit: &mut FitError,
        obs: Obs<'_>,
    ) {
        fit.pod = pod.key.clone();
        if profile.post_filter.is_empty() {
            return;
        }
        let started = obs.start();
        // The PostFilter reads the diagnosis's statuses in place (no copy per node).
        let d = &fit.diagnosis;
        let extensions = profile.pre_filter_extensions(skip);
        // upstream SelectVictimsOnNode filters with RunFilterPluginsWithNominatedPods: pods
        // nominated to the node of at least this pod's priority are added first (through AddPod
        // too), then the node is filtered again without them.
        let run_filters = |c: &CycleState, node: &crate::state::NodeState| {
            if view.state.has_nominations()
                && let Some(id) = view.state.node_id(&node.info.name)
            {
                let mut nominated = view
                    .state
                    .nominated_pods(id)
                    .iter()
                    .filter(|p| p.priority >= pod.priority && p.key != pod.key)
                    .peekable();
                if nominated.peek().is_some() {
                    let mut with = node.clone();
                    let mut with_cycle = c.clone();
                    for p in nominated {
                        with.hold(p);
                        extensions.run(&mut with_cycle, pod, p, &with, view, true);
                    }
                    profile.run_filters(&with_cycle, skip, pod, &with, view)?;
                }
            }
            profile.run_filters(c, skip, pod, node, view)
        };
        let add_pod = |c: &mut CycleState, other: &PodInfo, node: &crate::state::NodeState| {
            extensions.run(c, pod, other, node, view, true);
        };
        let remove_pod = |c: &mut CycleState, other: &PodInfo, node: &crate::state::NodeState| {
            extensions.run(c, pod, other, node, view, false);
        };
        let input = PostFilterInput {
            pod,
            view,
            statuses: &d.statuses,
            absent: d.absent.as_ref().map(|(_, r)| r),
            extensions: !extensions.is_empty(),
            cycle,
            run_filters: &run_filters,
            add_pod: &add_pod,
            remove_pod: &remove_pod,
            seed: self.seed,
        };
        let mut messages = Vec::new();
        for plugin in &profile.post_filter {
            let Some(p) = plugin.as_post_filter() else {
                continue;
            };
            let t = obs.start();
            let outcome = p.post_filter(&input);
            let status = match &outcome {
                PostFilterOutcome::Unschedulable { .. } => "Unschedulable",
                PostFilterOutcome::Nominate { .. } => SUCCESS,
            };
            obs.plugin(ExtensionPoint::PostFilter, plugin.name(), status, t);
            match outcome {
                PostFilterOutcome::Unschedulable { message } => {
                    if !message.is_empty() {
                        messages.push(message);
                    }
                }
                PostFilterOutcome::Nominate { node, victims, .. } => {
                    // upstream: a successful PostFilter adds no message; the pod is nominated.
                    fit.diagnosis.nomination = Some((node, victims));
                    messages.clear();
                    break;
                }
            }
        }
        let status = if fit.diagnosis.nomination.is_some() {
            SUCCESS
        } else {
            "Unschedulable"
        };
        obs.point(ExtensionPoint::PostFilter, status, Obs::elapsed(started));
        if !messages.is_empty() {
            fit.diagnosis.post_filter_msg = Some(messages.join(", "));
        }
    }
}

/// A seeded, per-pod tie breaker: the same seed and pod always give the same number.
#[must_use]
pub fn tie_break(seed: u64, key: &str) -> u64 {
    // FNV-1a over the key, then splitmix64 with the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = seed ^ h;
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_histogram_counts_interleaved_runs_and_equal_texts_at_other_addresses() {
        let a = || Rejection::unschedulable("Insufficient cpu");
        let b = || Rejection::unschedulable("node(s) had untolerated taint(s)");
        // Same text, not the same &'static str: counted as one reason.
        let owned: &'static str = Box::leak(String::from("Insufficient cpu").into_boxed_str());
        let statuses: Vec<(NodeId, &'static str, Rejection)> =
            [a(), a(), b(), a(), Rejection::unschedulable(owned), b()]
                .into_iter()
                .enumerate()
                .map(|(i, r)| (NodeId(u32::try_from(i).unwrap()), "P", r))
                .collect();
        assert_eq!(
            reason_histogram(8, &statuses, Some(&("P", b()))),
            "4 Insufficient cpu, 4 node(s) had untolerated taint(s)"
        );
        assert_eq!(
            reason_histogram(6, &statuses[..3], None),
            "1 node(s) had untolerated taint(s), 2 Insufficient cpu"
        );
    }
}
