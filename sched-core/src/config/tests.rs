//! Tests for `config`, one case per rule, citing the upstream test each mirrors.

use super::ExtensionPoint::{
    Bind, Filter, Permit, PostBind, PostFilter, PreBind, PreEnqueue, PreFilter, PreScore,
    QueueSort, Reserve, Score,
};
use super::*;

/// Strips the common indentation of non-empty lines, so YAML can be indented in the source.
fn unindent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `body` under the v1 header.
fn parse(body: &str) -> Result<SchedulerConfig> {
    SchedulerConfig::from_yaml(&format!(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n{}",
        unindent(body)
    ))
}

/// The error message for `body`, which must be rejected.
fn error(body: &str) -> String {
    match parse(body) {
        Ok(cfg) => panic!("expected an error, got {cfg:#?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_error(body: &str, want: &str) {
    let got = error(body);
    assert!(
        got.contains(want),
        "error {got:?} does not contain {want:?}"
    );
}

/// `(name, weight)` at `point` of the only profile.
fn list(cfg: &SchedulerConfig, point: ExtensionPoint) -> Vec<(String, i32)> {
    cfg.profiles[0]
        .plugins(point)
        .iter()
        .map(|r| (r.name.clone(), r.weight))
        .collect()
}

fn names(cfg: &SchedulerConfig, point: ExtensionPoint) -> Vec<String> {
    list(cfg, point).into_iter().map(|(n, _)| n).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// Defaults

/// upstream `apis/config/testing/defaults/defaults.go` `ExpandedPluginsV1` as of 1.35 (in-tree
/// volume-limit plugins removed in 1.32; DynamicResources on by default; DRA scoring and
/// DefaultPreemption's PreEnqueue), checked by `cmd/kube-scheduler/app/server_test.go`
/// `TestSetup/default config`.
#[test]
fn default_profile_matches_upstream_expanded_plugins() {
    let cfg = SchedulerConfig::default_config();
    assert_eq!(cfg.profiles.len(), 1);
    assert_eq!(cfg.profiles[0].scheduler_name, "default-scheduler");
    assert_eq!(
        names(&cfg, PreEnqueue),
        strs(&["SchedulingGates", "DynamicResources", "DefaultPreemption"])
    );
    assert_eq!(names(&cfg, QueueSort), strs(&["PrioritySort"]));
    assert_eq!(
        names(&cfg, PreFilter),
        strs(&[
            "NodeAffinity",
            "NodePorts",
            "NodeResourcesFit",
            "VolumeRestrictions",
            "NodeVolumeLimits",
            "VolumeBinding",
            "VolumeZone",
            "PodTopologySpread",
            "InterPodAffinity",
            "DynamicResources",
        ])
    );
    assert_eq!(
        names(&cfg, Filter),
        strs(&[
            "NodeUnschedulable",
            "NodeName",
            "TaintToleration",
            "NodeAffinity",
            "NodePorts",
            "NodeResourcesFit",
            "VolumeRestrictions",
            "NodeVolumeLimits",
            "VolumeBinding",
            "VolumeZone",
            "PodTopologySpread",
            "InterPodAffinity",
            "DynamicResources",
        ])
    );
    assert_eq!(
        names(&cfg, PostFilter),
        strs(&["DynamicResources", "DefaultPreemption"])
    );
    assert_eq!(
        names(&cfg, PreScore),
        strs(&[
            "TaintToleration",
            "NodeAffinity",
            "NodeResourcesFit",
            "VolumeBinding",
            "PodTopologySpread",
            "InterPodAffinity",
            "NodeResourcesBalancedAllocation",
        ])
    );
    assert_eq!(
        names(&cfg, Reserve),
        strs(&["VolumeBinding", "DynamicResources"])
    );
    assert!(names(&cfg, Permit).is_empty());
    assert_eq!(
        names(&cfg, PreBind),
        strs(&["VolumeBinding", "DynamicResources"])
    );
    assert_eq!(names(&cfg, Bind), strs(&["DefaultBinder"]));
    assert!(names(&cfg, PostBind).is_empty());
}

/// The default Score list and weights, in upstream's order (`ExpandedPluginsV1.Score`).
#[test]
fn default_score_weights() {
    let cfg = SchedulerConfig::default_config();
    let want: Vec<(String, i32)> = [
        ("TaintToleration", 3),
        ("NodeAffinity", 2),
        ("NodeResourcesFit", 1),
        ("VolumeBinding", 1),
        ("PodTopologySpread", 2),
        ("InterPodAffinity", 2),
        ("DynamicResources", 1),
        ("NodeResourcesBalancedAllocation", 1),
        ("ImageLocality", 1),
    ]
    .iter()
    .map(|(n, w)| ((*n).to_string(), *w))
    .collect();
    assert_eq!(list(&cfg, Score), want);
    // Non-score points carry no weight, as upstream's expanded lists.
    assert!(
        cfg.profiles[0]
            .plugins(Filter)
            .iter()
            .all(|r| r.weight == 0)
    );
    assert_eq!(cfg.profiles[0].score_weight("TaintToleration"), Some(3));
    assert_eq!(cfg.profiles[0].score_weight("NodeName"), None);
}

/// upstream `apis/config/v1/defaults_test.go` `TestSchedulerDefaults/empty config`.
#[test]
fn default_top_level_values() {
    let cfg = SchedulerConfig::default_config();
    assert_eq!(cfg.parallelism, 16);
    assert_eq!(cfg.percentage_of_nodes_to_score, None);
    assert_eq!(cfg.pod_initial_backoff, Duration::from_secs(1));
    assert_eq!(cfg.pod_max_backoff, Duration::from_secs(10));
    assert_eq!(
        cfg.leader_election,
        LeaderElectionConfig {
            leader_elect: true,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            resource_lock: "leases".to_string(),
            resource_name: "kube-scheduler".to_string(),
            resource_namespace: "kube-system".to_string(),
        }
    );
    assert_eq!(
        cfg.client_connection,
        ClientConnectionConfig {
            kubeconfig: None,
            qps: 50.0,
            burst: 100,
            content_type: None
        }
    );
    assert_eq!(cfg.profiles[0].percentage_of_nodes_to_score, None);
}

/// upstream `defaults_test.go` `TestPluginArgsDefaults` (NodeResourcesFitArgs empty,
/// NodeResourcesBalancedAllocationArgs empty, ...) and `PluginConfigsV1`.
#[test]
fn default_plugin_args() {
    let cfg = SchedulerConfig::default_config();
    let args = &cfg.profiles[0].args;
    let cpu_mem = vec![
        ResourceSpec {
            name: "cpu".to_string(),
            weight: 1,
        },
        ResourceSpec {
            name: "memory".to_string(),
            weight: 1,
        },
    ];
    assert_eq!(
        args.node_resources_fit.scoring_strategy.kind,
        ScoringStrategyKind::LeastAllocated
    );
    assert_eq!(args.node_resources_fit.scoring_strategy.resources, cpu_mem);
    assert!(args.node_resources_fit.ignored_resources.is_empty());
    assert_eq!(args.balanced_allocation.resources, cpu_mem);
    assert_eq!(args.node_affinity.added_affinity, None);
    assert_eq!(
        args.other["DefaultPreemption"],
        serde_json::json!({"minCandidateNodesPercentage": 10, "minCandidateNodesAbsolute": 100})
    );
    assert_eq!(
        args.other["InterPodAffinity"],
        serde_json::json!({"hardPodAffinityWeight": 1, "ignorePreferredTermsOfExistingPods": false})
    );
    assert_eq!(
        args.other["PodTopologySpread"],
        serde_json::json!({"defaultingType": "System"})
    );
    assert_eq!(
        args.other["VolumeBinding"],
        serde_json::json!({"bindTimeoutSeconds": 600})
    );
}

/// upstream `server_test.go` `TestSetup/component configuration v1 with only scheduler name
/// configured`: a file with just a profile name gets the default plugins.
#[test]
fn minimal_file_equals_default_config() {
    assert_eq!(parse("").unwrap(), SchedulerConfig::default_config());
    let cfg = parse(
        r"
        profiles:
        - schedulerName: simplified-scheduler
        ",
    )
    .unwrap();
    assert_eq!(cfg.profiles[0].scheduler_name, "simplified-scheduler");
    assert_eq!(
        cfg.profiles[0].points,
        SchedulerConfig::default_config().profiles[0].points
    );
    assert!(cfg.profile("simplified-scheduler").is_some());
    assert!(cfg.profile("default-scheduler").is_none());
}

#[test]
fn json_text_is_accepted() {
    let cfg = SchedulerConfig::from_yaml(
        "{\n\t\"apiVersion\": \"kubescheduler.config.k8s.io/v1\",\n\t\"kind\": \"KubeSchedulerConfiguration\",\n\t\"parallelism\": 4\n}",
    )
    .unwrap();
    assert_eq!(cfg.parallelism, 4);
}

/// upstream `server_test.go` `TestSetup/leader election settings specified by ComponentConfig only`.
#[test]
fn leader_election_and_client_connection_are_read() {
    let cfg = parse(
        r"
        leaderElection:
          leaseDuration: 1h
          renewDeadline: 1m30s
          retryPeriod: 500ms
          resourceNamespace: placer
        clientConnection:
          kubeconfig: /etc/kubeconfig
          qps: 20.5
          burst: 40
          contentType: application/json
          acceptContentTypes: application/json
        podInitialBackoffSeconds: 2
        podMaxBackoffSeconds: 30
        percentageOfNodesToScore: 50
        healthzBindAddress: 0.0.0.0:10251
        metricsBindAddress: 0.0.0.0:10251
        enableProfiling: false
        delayCacheUntilActive: true
        extenders: []
        ",
    )
    .unwrap();
    let le = &cfg.leader_election;
    assert_eq!(le.lease_duration, Duration::from_secs(3600));
    assert_eq!(le.renew_deadline, Duration::from_secs(90));
    assert_eq!(le.retry_period, Duration::from_millis(500));
    assert_eq!(le.resource_namespace, "placer");
    assert_eq!(le.resource_name, "kube-scheduler");
    let cc = &cfg.client_connection;
    assert_eq!(cc.kubeconfig.as_deref(), Some("/etc/kubeconfig"));
    assert!((cc.qps - 20.5).abs() < f32::EPSILON);
    assert_eq!(cc.burst, 40);
    assert_eq!(cc.content_type.as_deref(), Some("application/json"));
    assert_eq!(cfg.pod_initial_backoff, Duration::from_secs(2));
    assert_eq!(cfg.pod_max_backoff, Duration::from_secs(30));
    assert_eq!(cfg.percentage_of_nodes_to_score, Some(50));
}

// ---------------------------------------------------------------------------------------------
// Plugin merging and multiPoint expansion

/// upstream `server_test.go` `TestSetup/component configuration v1`: multiPoint with
/// `disabled: "*"` plus per-point disables (expected lists adapted to 1.35's plugins).
#[test]
fn multipoint_disable_all_then_enable_with_specific_disables() {
    let cfg = parse(
        r#"
        profiles:
        - plugins:
            multiPoint:
              enabled:
              - name: SchedulingGates
              - name: DefaultBinder
              - name: PrioritySort
              - name: DefaultPreemption
              - name: VolumeBinding
              - name: NodeResourcesFit
              - name: NodePorts
              - name: InterPodAffinity
              - name: TaintToleration
              - name: DynamicResources
              disabled:
              - name: "*"
            preFilter:
              disabled:
              - name: VolumeBinding
              - name: InterPodAffinity
            filter:
              disabled:
              - name: VolumeBinding
              - name: InterPodAffinity
              - name: TaintToleration
            score:
              disabled:
              - name: VolumeBinding
              - name: NodeResourcesFit
        "#,
    )
    .unwrap();
    assert_eq!(
        names(&cfg, PreEnqueue),
        strs(&["SchedulingGates", "DefaultPreemption", "DynamicResources"])
    );
    assert_eq!(names(&cfg, QueueSort), strs(&["PrioritySort"]));
    assert_eq!(
        names(&cfg, PreFilter),
        strs(&["NodeResourcesFit", "NodePorts", "DynamicResources"])
    );
    assert_eq!(
        names(&cfg, Filter),
        strs(&["NodeResourcesFit", "NodePorts", "DynamicResources"])
    );
    assert_eq!(
        names(&cfg, PostFilter),
        strs(&["DefaultPreemption", "DynamicResources"])
    );
    assert_eq!(
        names(&cfg, PreScore),
        strs(&[
            "VolumeBinding",
            "NodeResourcesFit",
            "InterPodAffinity",
            "TaintToleration"
        ])
    );
    assert_eq!(
        list(&cfg, Score),
        vec![
            ("InterPodAffinity".to_string(), 1),
            ("TaintToleration".to_string(), 1),
            ("DynamicResources".to_string(), 1),
        ]
    );
    assert_eq!(
        names(&cfg, Reserve),
        strs(&["VolumeBinding", "DynamicResources"])
    );
    assert_eq!(
        names(&cfg, PreBind),
        strs(&["VolumeBinding", "DynamicResources"])
    );
    assert_eq!(names(&cfg, Bind), strs(&["DefaultBinder"]));
}

/// upstream `server_test.go` `TestSetup/multiple profiles`: a second profile that disables all
/// filter and score plugins keeps queue sort, bind and the rest.
#[test]
fn multiple_profiles_with_disabled_points() {
    let cfg = parse(
        r#"
        profiles:
        - schedulerName: profile-default-plugins
        - schedulerName: profile-disable-all-filter-and-score-plugins
          plugins:
            preFilter:
              disabled:
              - name: "*"
            filter:
              disabled:
              - name: "*"
            postFilter:
              disabled:
              - name: "*"
            preScore:
              disabled:
              - name: "*"
            score:
              disabled:
              - name: "*"
        "#,
    )
    .unwrap();
    let default = SchedulerConfig::default_config();
    assert_eq!(cfg.profiles[0].points, default.profiles[0].points);
    let second = cfg
        .profile("profile-disable-all-filter-and-score-plugins")
        .unwrap();
    for point in [PreFilter, Filter, PostFilter, PreScore, Score] {
        assert!(second.plugins(point).is_empty(), "{point} should be empty");
    }
    for point in [QueueSort, PreEnqueue, Reserve, PreBind, Bind] {
        assert_eq!(
            second.plugins(point),
            default.profiles[0].plugins(point),
            "{point}"
        );
    }
}

/// upstream `framework_test.go` `TestNewFrameworkMultiPointExpansion/disable MultiPoint plugin
/// at some extension points`.
#[test]
fn multipoint_plugin_disabled_at_some_points() {
    let cfg = parse(
        r"
        profiles:
        - plugins:
            preScore:
              disabled:
              - name: TaintToleration
            score:
              disabled:
              - name: TaintToleration
        ",
    )
    .unwrap();
    assert!(names(&cfg, Filter).contains(&"TaintToleration".to_string()));
    assert!(!names(&cfg, PreScore).contains(&"TaintToleration".to_string()));
    assert!(!names(&cfg, Score).contains(&"TaintToleration".to_string()));
}

/// upstream `framework_test.go` `TestNewFrameworkMultiPointExpansion/Reorder MultiPoint plugins
/// (specified extension takes precedence)`: plugins named at the specific point come first in
/// that point's order, and take that entry's weight (unset → 1, not the multiPoint 3).
#[test]
fn specific_point_takes_precedence_over_multipoint() {
    let cfg = parse(
        r"
        profiles:
        - plugins:
            score:
              enabled:
              - name: ImageLocality
              - name: TaintToleration
        ",
    )
    .unwrap();
    assert_eq!(
        list(&cfg, Score),
        vec![
            ("ImageLocality".to_string(), 1),
            ("TaintToleration".to_string(), 1),
            ("NodeAffinity".to_string(), 2),
            ("NodeResourcesFit".to_string(), 1),
            ("VolumeBinding".to_string(), 1),
            ("PodTopologySpread".to_string(), 2),
            ("InterPodAffinity".to_string(), 2),
            ("DynamicResources".to_string(), 1),
            ("NodeResourcesBalancedAllocation".to_string(), 1),
        ]
    );
}

/// upstream `framework_test.go` `TestNewFrameworkMultiPointExpansion/Override MultiPoint plugins
/// weights` and `default_plugins_test.go` `TestMergePlugins` (a re-configured default plugin
/// keeps its position).
#[test]
fn custom_weights() {
    let cfg = parse(
        r"
        profiles:
        - plugins:
            multiPoint:
              enabled:
              - name: NodeResourcesFit
                weight: 4
              - name: ImageLocality
                weight: 0
            score:
              enabled:
              - name: TaintToleration
                weight: 10
        ",
    )
    .unwrap();
    let score = list(&cfg, Score);
    assert_eq!(score[0], ("TaintToleration".to_string(), 10));
    // TaintToleration (specific) first, then the multiPoint order: NodeAffinity, NodeResourcesFit, ...
    assert_eq!(score[2], ("NodeResourcesFit".to_string(), 4));
    assert_eq!(score.last().unwrap(), &("ImageLocality".to_string(), 1));
    // Replacing a default in place does not move it at other points.
    assert_eq!(
        names(&cfg, Filter),
        names(&SchedulerConfig::default_config(), Filter)
    );
}

/// upstream has no range check on plugin weights (only 0 → 1 and an int64 overflow guard that
/// int32 weights cannot reach): large and negative weights are accepted.
#[test]
fn plugin_weights_are_not_range_checked() {
    let cfg = parse(
        r"
        profiles:
        - plugins:
            score:
              enabled:
              - name: ImageLocality
                weight: 1000
              - name: NodeAffinity
                weight: -2
        ",
    )
    .unwrap();
    assert_eq!(cfg.profiles[0].score_weight("ImageLocality"), Some(1000));
    assert_eq!(cfg.profiles[0].score_weight("NodeAffinity"), Some(-2));
}

/// upstream `framework_test.go` `TestNewFrameworkMultiPointExpansion/disable and enable
/// MultiPoint plugins with '*'`: only the listed plugins remain.
#[test]
fn multipoint_disable_all_keeps_only_listed_plugins() {
    let cfg = parse(
        r#"
        profiles:
        - plugins:
            multiPoint:
              enabled:
              - name: PrioritySort
              - name: DefaultBinder
              - name: NodeResourcesBalancedAllocation
                weight: 7
              disabled:
              - name: "*"
        "#,
    )
    .unwrap();
    assert_eq!(names(&cfg, QueueSort), strs(&["PrioritySort"]));
    assert_eq!(
        names(&cfg, PreScore),
        strs(&["NodeResourcesBalancedAllocation"])
    );
    assert_eq!(
        list(&cfg, Score),
        vec![("NodeResourcesBalancedAllocation".to_string(), 7)]
    );
    assert_eq!(names(&cfg, Bind), strs(&["DefaultBinder"]));
    assert!(names(&cfg, Filter).is_empty());
    assert!(names(&cfg, PreEnqueue).is_empty());
    assert!(!cfg.profiles[0].is_enabled("NodeName"));
}

/// A specific point disabling `*` skips multiPoint expansion there but keeps its own entries,
/// which are appended after nothing (upstream `expandMultiPointPlugins`).
#[test]
fn specific_disable_all_with_specific_enabled() {
    let cfg = parse(
        r#"
        profiles:
        - plugins:
            filter:
              disabled:
              - name: "*"
              enabled:
              - name: NodeName
              - name: NodeResourcesFit
        "#,
    )
    .unwrap();
    assert_eq!(names(&cfg, Filter), strs(&["NodeName", "NodeResourcesFit"]));
    assert_eq!(
        names(&cfg, PreFilter),
        names(&SchedulerConfig::default_config(), PreFilter)
    );
}

/// A plugin enabled at a specific point but not in multiPoint is appended after the
/// multiPoint ones (upstream `expandMultiPointPlugins`, part 3).
#[test]
fn specific_only_plugins_come_after_multipoint() {
    let cfg = parse(
        r"
        profiles:
        - plugins:
            permit:
              enabled:
              - name: GangScheduling
            multiPoint:
              disabled:
              - name: ImageLocality
        ",
    )
    .unwrap();
    assert_eq!(names(&cfg, Permit), strs(&["GangScheduling"]));
    assert!(!names(&cfg, Score).contains(&"ImageLocality".to_string()));
}

// ---------------------------------------------------------------------------------------------
// Plugin arguments

/// `NodeResourcesFitArgs` with MostAllocated; v1 defaults resource weight 0/unset to 1
/// (`defaults_test.go` `TestPluginArgsDefaults/NodeResourcesFitArgs resources with zero weight`).
#[test]
fn most_allocated_args() {
    let cfg = parse(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesFit
            args:
              apiVersion: kubescheduler.config.k8s.io/v1
              kind: NodeResourcesFitArgs
              ignoredResources: [example.com/foo]
              ignoredResourceGroups: [example.org]
              scoringStrategy:
                type: MostAllocated
                resources:
                - name: cpu
                  weight: 3
                - name: memory
                - name: nvidia.com/gpu
                  weight: 0
        ",
    )
    .unwrap();
    let fit = &cfg.profiles[0].args.node_resources_fit;
    assert_eq!(
        fit.scoring_strategy.kind,
        ScoringStrategyKind::MostAllocated
    );
    assert_eq!(
        fit.scoring_strategy.resources,
        vec![
            ResourceSpec {
                name: "cpu".to_string(),
                weight: 3
            },
            ResourceSpec {
                name: "memory".to_string(),
                weight: 1
            },
            ResourceSpec {
                name: "nvidia.com/gpu".to_string(),
                weight: 1
            },
        ]
    );
    assert_eq!(fit.ignored_resources, vec!["example.com/foo".to_string()]);
    assert_eq!(fit.ignored_resource_groups, vec!["example.org".to_string()]);
}

/// `NodeResourcesFitArgs` with RequestedToCapacityRatio (`validation_pluginargs_test.go`
/// `TestValidateRequestedToCapacityRatioScoringStrategy/increasing utilization values`);
/// empty resources default to cpu/memory.
#[test]
fn requested_to_capacity_ratio_args() {
    let cfg = parse(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesFit
            args:
              scoringStrategy:
                type: RequestedToCapacityRatio
                requestedToCapacityRatio:
                  shape:
                  - utilization: 0
                    score: 0
                  - utilization: 100
                    score: 10
        ",
    )
    .unwrap();
    let strategy = &cfg.profiles[0].args.node_resources_fit.scoring_strategy;
    assert_eq!(
        strategy.kind,
        ScoringStrategyKind::RequestedToCapacityRatio {
            shape: vec![
                UtilizationShapePoint {
                    utilization: 0,
                    score: 0
                },
                UtilizationShapePoint {
                    utilization: 100,
                    score: 10
                },
            ]
        }
    );
    assert_eq!(strategy.resources, super::args::default_resources());
}

/// `NodeResourcesBalancedAllocationArgs` and `NodeAffinityArgs` parse
/// (`TestValidateNodeAffinityArgs/valid added affinity`).
#[test]
fn balanced_allocation_and_node_affinity_args() {
    let cfg = parse(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesBalancedAllocation
            args:
              resources:
              - name: cpu
              - name: memory
                weight: 1
              - name: example.com/gpu
          - name: NodeAffinity
            args:
              addedAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                  nodeSelectorTerms:
                  - matchExpressions:
                    - key: label-1
                      operator: In
                      values: [label-1-val]
                preferredDuringSchedulingIgnoredDuringExecution:
                - weight: 1
                  preference:
                    matchFields:
                    - key: metadata.name
                      operator: In
                      values: [node-1]
        ",
    )
    .unwrap();
    let args = &cfg.profiles[0].args;
    assert_eq!(args.balanced_allocation.resources.len(), 3);
    assert!(
        args.balanced_allocation
            .resources
            .iter()
            .all(|r| r.weight == 1)
    );
    let affinity = args.node_affinity.added_affinity.as_ref().unwrap();
    let terms = &affinity
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .unwrap()
        .node_selector_terms;
    assert_eq!(
        terms[0].match_expressions.as_ref().unwrap()[0].key,
        "label-1"
    );
}

/// Other args kinds are validated, defaulted and kept as upstream JSON; args of plugins without
/// an args kind are kept as written.
#[test]
fn other_plugin_args_are_kept() {
    let cfg = parse(
        r"
        profiles:
        - pluginConfig:
          - name: InterPodAffinity
            args:
              hardPodAffinityWeight: 5
          - name: PodTopologySpread
            args:
              defaultingType: List
              defaultConstraints:
              - maxSkew: 1
                topologyKey: topology.kubernetes.io/zone
                whenUnsatisfiable: ScheduleAnyway
          - name: DynamicResources
            args:
              filterTimeout: 5s
          - name: PrioritySort
            args: {anything: goes}
        ",
    )
    .unwrap();
    let other = &cfg.profiles[0].args.other;
    assert_eq!(
        other["InterPodAffinity"],
        serde_json::json!({"hardPodAffinityWeight": 5, "ignorePreferredTermsOfExistingPods": false})
    );
    assert_eq!(other["PodTopologySpread"]["defaultingType"], "List");
    assert_eq!(
        other["PodTopologySpread"]["defaultConstraints"][0]["maxSkew"],
        1
    );
    assert_eq!(
        other["DynamicResources"],
        serde_json::json!({"filterTimeout": "5s"})
    );
    assert_eq!(
        other["PrioritySort"],
        serde_json::json!({"anything": "goes"})
    );
    // Defaults are still added for enabled plugins without an entry.
    assert_eq!(
        other["VolumeBinding"],
        serde_json::json!({"bindTimeoutSeconds": 600})
    );
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the field path

#[test]
fn unknown_plugin_names_the_field() {
    let got = error(
        r"
        profiles:
        - plugins:
            score:
              enabled:
              - name: ImageLocality
              - name: Foo
        ",
    );
    assert!(
        got.contains(r#"profiles[0].plugins.score.enabled[1]: unknown plugin "Foo""#),
        "{got}"
    );
}

/// upstream `validation_test.go` `TestValidateKubeSchedulerConfigurationV1/invalid plugins`
/// (removed in-tree volume-limit plugins).
#[test]
fn removed_plugin_is_rejected() {
    assert_error(
        r"
        profiles:
        - plugins:
            filter:
              enabled:
              - name: EBSLimits
        ",
        r#"profiles[0].plugins.filter.enabled[0]: plugin "EBSLimits" was removed"#,
    );
}

#[test]
fn unknown_disabled_plugin_is_rejected() {
    assert_error(
        r"
        profiles:
        - plugins:
            multiPoint:
              disabled:
              - name: NodeResourceFit
        ",
        r#"profiles[0].plugins.multiPoint.disabled[0]: unknown plugin "NodeResourceFit""#,
    );
}

/// upstream `framework_test.go` `TestInitFrameworkWithScorePlugins/enabled Score plugin doesn't
/// extend the ScorePlugin interface`.
#[test]
fn plugin_at_point_it_does_not_implement() {
    assert_error(
        r"
        profiles:
        - plugins:
            score:
              enabled:
              - name: NodeName
        ",
        r#"profiles[0].plugins.score.enabled[0]: plugin "NodeName" does not extend ScorePlugin (it implements: filter)"#,
    );
}

/// upstream `framework_test.go` `TestNewFrameworkErrors/duplicate plugin name`.
#[test]
fn duplicate_plugin_at_a_point() {
    assert_error(
        r"
        profiles:
        - plugins:
            filter:
              enabled:
              - name: NodeName
              - name: NodeName
        ",
        r#"profiles[0].plugins.filter.enabled[1]: plugin "NodeName" already registered as "FilterPlugin""#,
    );
}

/// upstream `framework_test.go` `TestNewFrameworkMultiPointExpansion/Expect 'already
/// registered' error`.
#[test]
fn duplicate_plugin_in_multipoint() {
    assert_error(
        r"
        profiles:
        - plugins:
            multiPoint:
              enabled:
              - name: ImageLocality
              - name: ImageLocality
        ",
        r#"profiles[0].plugins.multiPoint.enabled: plugin "ImageLocality" already registered as "ScorePlugin""#,
    );
}

/// upstream `framework.go` `NewFramework`: exactly one queue sort plugin, at least one binder.
#[test]
fn queue_sort_and_bind_are_required() {
    assert_error(
        r#"
        profiles:
        - plugins:
            multiPoint:
              disabled:
              - name: "*"
              enabled:
              - name: NodeName
        "#,
        r#"profiles[0].plugins: only one queue sort plugin required for profile with scheduler name "default-scheduler", but got 0"#,
    );
    assert_error(
        r#"
        profiles:
        - plugins:
            bind:
              disabled:
              - name: "*"
        "#,
        r#"profiles[0].plugins: at least one bind plugin is needed for profile with scheduler name "default-scheduler""#,
    );
}

/// upstream `validation_test.go` `TestValidateKubeSchedulerConfigurationV1/repeated-scheduler-name`.
#[test]
fn duplicate_scheduler_name() {
    assert_error(
        r"
        profiles:
        - schedulerName: a
        - schedulerName: a
        ",
        r#"profiles[1].schedulerName: duplicate value "a" (also at profiles[0].schedulerName)"#,
    );
}

/// upstream `validation_test.go` `TestValidateKubeSchedulerConfigurationV1/scheduler-name-not-set`:
/// with several profiles no name is defaulted.
#[test]
fn scheduler_name_required_with_several_profiles() {
    assert_error(
        r"
        profiles:
        - schedulerName: a
        - percentageOfNodesToScore: 10
        ",
        "profiles[1].schedulerName: required value",
    );
}

/// upstream `validation_test.go` `TestValidateKubeSchedulerConfigurationV1/bad-percentage-nodes-to-score`
/// and `.../bad-percentage-of-nodes-to-score-in-profile`.
#[test]
fn percentage_of_nodes_to_score_range() {
    assert_error(
        "percentageOfNodesToScore: 101",
        "percentageOfNodesToScore: invalid value 101: not in valid range [0-100]",
    );
    assert_error(
        r"
        profiles:
        - percentageOfNodesToScore: -1
        ",
        "profiles[0].percentageOfNodesToScore: invalid value -1",
    );
    let cfg = parse(
        r"
        percentageOfNodesToScore: 0
        profiles:
        - percentageOfNodesToScore: 35
        ",
    )
    .unwrap();
    assert_eq!(cfg.percentage_of_nodes_to_score, Some(0));
    assert_eq!(cfg.profiles[0].percentage_of_nodes_to_score, Some(35));
}

/// upstream `validation_test.go` `.../non-positive-parallelism`, `.../bad-pod-initial-backoff`,
/// `.../bad-pod-max-backoff`.
#[test]
fn parallelism_and_backoff_ranges() {
    assert_error(
        "parallelism: 0",
        "parallelism: invalid value 0: should be an integer value greater than zero",
    );
    assert_error(
        "podInitialBackoffSeconds: 0",
        "podInitialBackoffSeconds: invalid value 0: must be greater than 0",
    );
    assert_error(
        "podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 4",
        "podMaxBackoffSeconds: invalid value 4: must be greater than or equal to PodInitialBackoffSeconds",
    );
}

/// upstream `validation_test.go` `.../bad-resource-lock-not-leases` and component-base
/// `TestValidateLeaderElectionConfiguration`.
#[test]
fn leader_election_rules() {
    assert_error(
        "leaderElection:\n  resourceLock: configmaps",
        r#"leaderElection.resourceLock: invalid value "configmaps": resourceLock value must be "leases""#,
    );
    assert_error(
        "leaderElection:\n  leaseDuration: 10s\n  renewDeadline: 10s",
        "leaderElection.leaseDuration: invalid value: must be greater than `RenewDeadline`",
    );
    assert_error(
        "leaderElection:\n  retryPeriod: -1s",
        "leaderElection.retryPeriod: invalid value: must be greater than zero",
    );
    assert_error(
        "leaderElection:\n  leaseDuration: 15",
        "leaderElection.leaseDuration: invalid type: integer `15`, expected a string",
    );
    assert_error(
        "leaderElection:\n  leaseDuration: 15 seconds",
        r#"leaderElection.leaseDuration: unknown unit " seconds""#,
    );
    // Not validated when leader election is off.
    let cfg = parse("leaderElection:\n  leaderElect: false\n  resourceLock: configmaps").unwrap();
    assert!(!cfg.leader_election.leader_elect);
}

#[test]
fn negative_burst_is_rejected() {
    assert_error(
        "clientConnection:\n  burst: -1",
        "clientConnection.burst: invalid value -1: must be non-negative",
    );
}

#[test]
fn extenders_are_not_supported() {
    assert_error(
        "extenders:\n- urlPrefix: http://127.0.0.1:8888/\n  filterVerb: filter",
        "extenders: not supported: Placer does not call scheduler extenders",
    );
}

#[test]
fn api_version_and_kind_are_checked() {
    let got = SchedulerConfig::from_yaml(
        "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration",
    )
    .unwrap_err()
    .to_string();
    assert!(
        got.contains(r#"apiVersion: unsupported value "kubescheduler.config.k8s.io/v1beta3": expected "kubescheduler.config.k8s.io/v1""#),
        "{got}"
    );
    let got = SchedulerConfig::from_yaml("apiVersion: kubescheduler.config.k8s.io/v1\nkind: Pod")
        .unwrap_err()
        .to_string();
    assert!(
        got.contains(r#"kind: unsupported value "Pod": expected "KubeSchedulerConfiguration""#),
        "{got}"
    );
    let got = SchedulerConfig::from_yaml("kind: KubeSchedulerConfiguration")
        .unwrap_err()
        .to_string();
    assert!(
        got.contains(r#"apiVersion: required value: expected "kubescheduler.config.k8s.io/v1""#),
        "{got}"
    );
    let got = SchedulerConfig::from_yaml("").unwrap_err().to_string();
    assert!(
        got.contains("expected a KubeSchedulerConfiguration mapping"),
        "{got}"
    );
}

#[test]
fn yaml_document_marker_and_flow_mapping_are_accepted() {
    let cfg = SchedulerConfig::from_yaml(
        "---\napiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nparallelism: 2\n",
    )
    .unwrap();
    assert_eq!(cfg.parallelism, 2);
    let cfg = SchedulerConfig::from_yaml(
        "{apiVersion: kubescheduler.config.k8s.io/v1, kind: KubeSchedulerConfiguration, parallelism: 3}",
    )
    .unwrap();
    assert_eq!(cfg.parallelism, 3);
}

#[test]
fn syntax_errors_are_reported() {
    let e = SchedulerConfig::from_yaml("apiVersion: [unclosed").unwrap_err();
    assert!(matches!(e, ConfigError::Syntax(_)), "{e:?}");
    assert!(e.field_errors().is_empty());
}

/// Unknown fields are errors that name their path (upstream decodes strictly).
#[test]
fn unknown_fields_name_their_path() {
    assert_error("parallelsim: 4", "parallelsim: unknown field `parallelsim`");
    assert_error(
        r"
        profiles:
        - plugins:
            score:
              enabled:
              - name: ImageLocality
              - name: NodeAffinity
                wieght: 2
        ",
        "profiles[0].plugins.score.enabled[1].wieght: unknown field `wieght`, expected `name` or `weight`",
    );
    assert_error(
        r"
        profiles:
        - plugins:
            placementScore: {}
        ",
        "profiles[0].plugins.placementScore: unknown field `placementScore`",
    );
    assert_error(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesFit
            args:
              scoringStrategy:
                type: LeastAllocated
                resource: []
        ",
        "profiles[0].pluginConfig[0].args.scoringStrategy.resource: unknown field `resource`",
    );
}

#[test]
fn wrong_types_name_their_path() {
    assert_error(
        "parallelism: many",
        r#"parallelism: invalid type: string "many", expected i32"#,
    );
    assert_error(
        r"
        profiles:
        - plugins:
            score:
              enabled:
              - weight: 2
        ",
        "profiles[0].plugins.score.enabled[0]: missing field `name`",
    );
}

/// upstream `validation_test.go` `.../duplicated-plugin-config` and `framework_test.go`
/// `TestNewFrameworkErrors/duplicate plugin config`.
#[test]
fn duplicate_plugin_config() {
    assert_error(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesFit
          - name: NodeResourcesFit
        ",
        r#"profiles[0].pluginConfig[1]: duplicate value "NodeResourcesFit" (also at profiles[0].pluginConfig[0])"#,
    );
}

#[test]
fn plugin_config_for_unknown_plugin() {
    assert_error(
        r"
        profiles:
        - pluginConfig:
          - name: Foo
            args: {}
        ",
        r#"profiles[0].pluginConfig[0].name: unknown plugin "Foo""#,
    );
}

/// upstream `PluginConfig.decodeNestedObjects`: an explicit kind must be the plugin's args kind.
#[test]
fn plugin_args_kind_must_match() {
    assert_error(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesFit
            args:
              kind: NodeResourcesBalancedAllocationArgs
        ",
        r#"profiles[0].pluginConfig[0].args.kind: args for plugin NodeResourcesFit were not of type NodeResourcesFitArgs, got "NodeResourcesBalancedAllocationArgs""#,
    );
}

/// One `NodeResourcesFit` args case per row of upstream `validation_pluginargs_test.go`.
#[test]
fn node_resources_fit_args_errors() {
    let fit = |args: &str| {
        format!(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n{}",
            unindent(args)
                .lines()
                .map(|l| format!("      {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let cases: &[(&str, &str, &str)] = &[
        // TestValidateFitArgs/IgnoredResources: too long value
        (
            "ignoredResources: [longvalueaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]",
            "args.ignoredResources[0]",
            "name part must be no more than 63 characters",
        ),
        // TestValidateFitArgs/IgnoredResources: name is empty
        (
            "ignoredResources: [example.com/]",
            "args.ignoredResources[0]",
            "name part must be non-empty",
        ),
        // TestValidateFitArgs/IgnoredResources: name has too many slash
        (
            "ignoredResources: [example.com/aaa/bbb]",
            "args.ignoredResources[0]",
            "a qualified name must consist of alphanumeric characters",
        ),
        // TestValidateFitArgs/IgnoredResourceGroups: name cannot be contain slash
        (
            "ignoredResourceGroups: [example.com/aa]",
            "args.ignoredResourceGroups[0]",
            "resource group name can't contain '/'",
        ),
        // unsupported strategy type
        (
            "scoringStrategy:\n  type: BestFit",
            "args.scoringStrategy.type",
            r#"unsupported value "BestFit": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio""#,
        ),
        // type is not defaulted when scoringStrategy is given
        (
            "scoringStrategy:\n  resources: [{name: cpu}]",
            "args.scoringStrategy.type",
            r#"unsupported value """#,
        ),
        // TestValidateLeastAllocatedScoringStrategy/weight greater than max
        (
            "scoringStrategy:\n  type: LeastAllocated\n  resources: [{name: cpu, weight: 101}]",
            "args.scoringStrategy.resources[0].weight",
            "invalid value 101: resource weight of cpu not in valid range (0, 100]",
        ),
        // TestValidateMostAllocatedScoringStrategy/multi invalid resources (negative: 0 defaults to 1)
        (
            "scoringStrategy:\n  type: MostAllocated\n  resources: [{name: cpu, weight: -1}]",
            "args.scoringStrategy.resources[0].weight",
            "not in valid range (0, 100]",
        ),
        // RequestedToCapacityRatio without its parameters
        (
            "scoringStrategy:\n  type: RequestedToCapacityRatio",
            "args.scoringStrategy.requestedToCapacityRatio",
            "must be specified when type is RequestedToCapacityRatio",
        ),
        // TestValidateRequestedToCapacityRatioScoringStrategy/no shapes
        (
            "scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio: {}",
            "args.scoringStrategy.requestedToCapacityRatio.shape",
            "at least one point must be specified",
        ),
        // TestValidateRequestedToCapacityRatioScoringStrategy/non-increasing utilization values
        (
            "scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio:\n    shape: [{utilization: 10, score: 3}, {utilization: 20, score: 3}, {utilization: 15, score: 3}]",
            "args.scoringStrategy.requestedToCapacityRatio.shape[2].utilization",
            "values must be sorted in increasing order",
        ),
        // TestValidateRequestedToCapacityRatioScoringStrategy/duplicated utilization values
        (
            "scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio:\n    shape: [{utilization: 10, score: 3}, {utilization: 10, score: 3}]",
            "args.scoringStrategy.requestedToCapacityRatio.shape[1].utilization",
            "values must be sorted in increasing order",
        ),
        // TestValidateRequestedToCapacityRatioScoringStrategy/utilization greater than max
        (
            "scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio:\n    shape: [{utilization: 101, score: 3}]",
            "args.scoringStrategy.requestedToCapacityRatio.shape[0].utilization",
            "not in valid range [0, 100]",
        ),
        // TestValidateRequestedToCapacityRatioScoringStrategy/score greater than max
        (
            "scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio:\n    shape: [{utilization: 10, score: 11}]",
            "args.scoringStrategy.requestedToCapacityRatio.shape[0].score",
            "not in valid range [0, 10]",
        ),
        // TestValidateRequestedToCapacityRatioScoringStrategy/score less than min
        (
            "scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio:\n    shape: [{utilization: 10, score: -1}]",
            "args.scoringStrategy.requestedToCapacityRatio.shape[0].score",
            "not in valid range [0, 10]",
        ),
        // the shape is forbidden for the other strategies
        (
            "scoringStrategy:\n  type: LeastAllocated\n  requestedToCapacityRatio:\n    shape: [{utilization: 10, score: 1}]",
            "args.scoringStrategy.requestedToCapacityRatio",
            "must be nil when type is not RequestedToCapacityRatio",
        ),
    ];
    for (args, field, message) in cases {
        let got = error(&fit(args));
        let want = format!("profiles[0].pluginConfig[0].{field}: ");
        assert!(
            got.contains(&want) && got.contains(message),
            "args {args:?}: error {got:?} lacks {want:?} / {message:?}"
        );
    }
}

/// upstream `validation_pluginargs_test.go` `TestValidateNodeResourcesBalancedAllocationArgs`.
#[test]
fn balanced_allocation_args_errors() {
    assert_error(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesBalancedAllocation
            args:
              resources: [{name: cpu, weight: 2}, {name: memory, weight: 1}]
        ",
        "profiles[0].pluginConfig[0].args.resources[0].weight: invalid value 2: must be 1",
    );
    assert_error(
        r"
        profiles:
        - pluginConfig:
          - name: NodeResourcesBalancedAllocation
            args:
              resources: [{name: cpu}, {name: cpu}]
        ",
        r#"profiles[0].pluginConfig[0].args.resources[1].name: duplicate value "cpu""#,
    );
}

/// upstream `validation_pluginargs_test.go` `TestValidateNodeAffinityArgs/invalid added affinity`.
#[test]
fn node_affinity_args_errors() {
    let got = error(
        r"
        profiles:
        - pluginConfig:
          - name: NodeAffinity
            args:
              addedAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                  nodeSelectorTerms:
                  - matchExpressions:
                    - key: invalid/label/key
                      operator: In
                      values: [label-1-val]
                preferredDuringSchedulingIgnoredDuringExecution:
                - weight: 1
                  preference:
                    matchFields:
                    - key: metadata.name
                      operator: In
                      values: [node-1, node-2]
        ",
    );
    let base = "profiles[0].pluginConfig[0].args.addedAffinity";
    assert!(
        got.contains(&format!(
            "{base}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key: invalid value \"invalid/label/key\""
        )),
        "{got}"
    );
    assert!(
        got.contains(&format!(
            "{base}.preferredDuringSchedulingIgnoredDuringExecution[0].matchFields[0].values: must have one element"
        )),
        "{got}"
    );
    assert_error(
        r"
        profiles:
        - pluginConfig:
          - name: NodeAffinity
            args:
              addedAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                  nodeSelectorTerms:
                  - matchExpressions:
                    - key: zone
                      operator: Gt
                      values: [a]
        ",
        r#"matchExpressions[0].values[0]: invalid value "a": for 'Gt', 'Lt' operators, the value must be an integer"#,
    );
}

/// One row each of upstream `validation_pluginargs_test.go` for the other args kinds.
#[test]
fn other_args_errors() {
    let cases: &[(&str, &str)] = &[
        // TestValidateDefaultPreemptionArgs/all zero
        (
            "- name: DefaultPreemption\n  args: {minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0}",
            "args.minCandidateNodesPercentage: invalid value 0: cannot be zero at the same time as minCandidateNodesAbsolute",
        ),
        // TestValidateDefaultPreemptionArgs/minCandidateNodesPercentage over 100
        (
            "- name: DefaultPreemption\n  args: {minCandidateNodesPercentage: 900}",
            "args.minCandidateNodesPercentage: invalid value 900",
        ),
        // TestValidateInterPodAffinityArgs/hardPodAffinityWeight more than max
        (
            "- name: InterPodAffinity\n  args: {hardPodAffinityWeight: 101}",
            "args.hardPodAffinityWeight: invalid value 101: not in valid range [0, 100]",
        ),
        // TestValidatePodTopologySpreadArgs/system default constraints, but has constraints
        (
            "- name: PodTopologySpread\n  args:\n    defaultConstraints: [{maxSkew: 1, topologyKey: key, whenUnsatisfiable: DoNotSchedule}]",
            r#"args.defaultingType: invalid value "System": when .defaultConstraints are not empty"#,
        ),
        // TestValidatePodTopologySpreadArgs/maxSkew less than zero
        (
            "- name: PodTopologySpread\n  args:\n    defaultingType: List\n    defaultConstraints: [{maxSkew: -1, topologyKey: node, whenUnsatisfiable: DoNotSchedule}]",
            "args.defaultConstraints[0].maxSkew: invalid value -1",
        ),
        // TestValidatePodTopologySpreadArgs/whenUnsatisfiable contains unsupported action
        (
            "- name: PodTopologySpread\n  args:\n    defaultingType: List\n    defaultConstraints: [{maxSkew: 1, topologyKey: node, whenUnsatisfiable: unknown action}]",
            r#"args.defaultConstraints[0].whenUnsatisfiable: unsupported value "unknown action""#,
        ),
        // TestValidatePodTopologySpreadArgs/duplicated constraints
        (
            "- name: PodTopologySpread\n  args:\n    defaultingType: List\n    defaultConstraints: [{maxSkew: 1, topologyKey: node, whenUnsatisfiable: DoNotSchedule}, {maxSkew: 2, topologyKey: node, whenUnsatisfiable: DoNotSchedule}]",
            r#"args.defaultConstraints[1]: duplicate value "{node, DoNotSchedule}""#,
        ),
        // TestValidatePodTopologySpreadArgs/label selector present
        (
            "- name: PodTopologySpread\n  args:\n    defaultingType: List\n    defaultConstraints: [{maxSkew: 1, topologyKey: key, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {a: b}}}]",
            "args.defaultConstraints[0].labelSelector: forbidden",
        ),
        // TestValidatePodTopologySpreadArgs/wrong constraints
        (
            "- name: PodTopologySpread\n  args: {defaultingType: unknown}",
            r#"args.defaultingType: unsupported value "unknown""#,
        ),
        // TestValidateVolumeBindingArgs/negative value is invalid config
        (
            "- name: VolumeBinding\n  args: {bindTimeoutSeconds: -10}",
            "args.bindTimeoutSeconds: invalid value -10",
        ),
        // TestValidateVolumeBindingArgs/error if the shape is not nil when the feature is off
        (
            "- name: VolumeBinding\n  args:\n    shape: [{utilization: 1, score: 1}]",
            "args.shape: unexpected field `shape`, remove it or turn on the feature gate StorageCapacityScoring",
        ),
        // TestValidateDynamicResourcesArgs: negative filter timeout
        (
            "- name: DynamicResources\n  args: {filterTimeout: -1s}",
            r#"args.filterTimeout: invalid value "-1s": must be zero or positive"#,
        ),
        // unknown args field
        (
            "- name: InterPodAffinity\n  args: {hardPodAffinityWieght: 1}",
            "args.hardPodAffinityWieght: unknown field `hardPodAffinityWieght`",
        ),
    ];
    for (entry, want) in cases {
        let body = format!(
            "profiles:\n- pluginConfig:\n{}",
            entry
                .lines()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let got = error(&body);
        let want = format!("profiles[0].pluginConfig[0].{want}");
        assert!(
            got.contains(&want),
            "{entry:?}: error {got:?} lacks {want:?}"
        );
    }
}

/// upstream `validation_test.go` `TestValidateKubeSchedulerConfigurationV1/different-queue-sort`.
#[test]
fn queue_sort_must_match_across_profiles() {
    assert_error(
        r#"
        profiles:
        - schedulerName: a
        - schedulerName: b
          plugins:
            queueSort:
              enabled:
              - name: PrioritySort
              disabled:
              - name: "*"
        "#,
        "profiles[1].plugins.queueSort: invalid value: must be the same for all profiles",
    );
}

/// Several problems are reported together, as upstream aggregates field errors.
#[test]
fn errors_are_aggregated() {
    let e = parse("parallelism: 0\npercentageOfNodesToScore: 200\npodInitialBackoffSeconds: -1")
        .unwrap_err();
    let paths: Vec<&str> = e.field_errors().iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "parallelism",
            "percentageOfNodesToScore",
            "podInitialBackoffSeconds"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Registry and helpers

#[test]
fn extension_points_table() {
    assert_eq!(plugin_extension_points("ImageLocality"), Some(&[Score][..]));
    assert_eq!(
        plugin_extension_points("PrioritySort"),
        Some(&[QueueSort][..])
    );
    assert_eq!(
        plugin_extension_points("NodeResourcesFit"),
        Some(&[PreFilter, Filter, PreScore, Score][..])
    );
    assert_eq!(plugin_extension_points("EBSLimits"), None);
    assert_eq!(plugin_extension_points("Foo"), None);
    for (name, _) in registry::DEFAULT_MULTI_POINT {
        assert!(plugin_extension_points(name).is_some(), "{name}");
    }
    for name in plugin_names() {
        let points = plugin_extension_points(name).unwrap();
        assert!(!points.is_empty(), "{name}");
        assert!(
            points.windows(2).all(|w| w[0] < w[1]),
            "{name}: points out of order"
        );
    }
    assert_eq!(plugin_names().count(), 21);
}

#[test]
fn go_durations() {
    use validation::parse_go_duration as p;
    assert_eq!(p("15s"), Ok(15_000_000_000));
    assert_eq!(p("1h2m3s"), Ok(3_723_000_000_000));
    assert_eq!(p("1.5s"), Ok(1_500_000_000));
    assert_eq!(p(".5ms"), Ok(500_000));
    assert_eq!(p("-2m"), Ok(-120_000_000_000));
    assert_eq!(p("0"), Ok(0));
    assert_eq!(p("10us"), Ok(10_000));
    assert_eq!(p("10\u{b5}s"), Ok(10_000));
    assert!(p("").is_err());
    assert!(p("5").is_err());
    assert!(p("1d").is_err());
    assert!(p("s").is_err());
    assert!(p("3000000h").is_err());
}

mod properties {
    use proptest::prelude::*;

    use super::validation::parse_go_duration;

    proptest! {
        /// Any `<h>h<m>m<s>s<ms>ms` string parses to the sum of its parts.
        #[test]
        fn composite_durations_add_up(h in 0u32..1000, m in 0u32..60, s in 0u32..60, ms in 0u32..1000) {
            let text = format!("{h}h{m}m{s}s{ms}ms");
            let want = ((i128::from(h) * 3600 + i128::from(m) * 60 + i128::from(s)) * 1000 + i128::from(ms)) * 1_000_000;
            prop_assert_eq!(parse_go_duration(&text), Ok(want));
        }
    }
}

/// A stand-in out-of-tree plugin (its factory is never called here).
fn oot_factory(
    _: &ProfileConfig,
    _: &mut crate::intern::Interner,
) -> Result<std::sync::Arc<dyn crate::framework::Plugin>, String> {
    Err("not built in these tests".into())
}

fn oot_registry() -> crate::Registry {
    let mut r = crate::Registry::new();
    r.register(crate::PluginSpec {
        name: "Custom",
        points: &[ExtensionPoint::Filter, ExtensionPoint::Score],
        factory: oot_factory,
    })
    .expect("registers");
    r
}

#[test]
fn out_of_tree_plugins_expand_from_multi_point_to_their_declared_points_only() {
    let text = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: s\n  plugins:\n    multiPoint:\n      enabled: [{name: Custom, weight: 4}]\n  pluginConfig:\n  - name: Custom\n    args: {anything: [1, 2]}\n";
    let cfg = SchedulerConfig::from_yaml_with(text, &oot_registry()).expect("valid");
    let p = &cfg.profiles[0];
    let at = |point| p.plugins(point).iter().any(|r| r.name == "Custom");
    assert!(at(ExtensionPoint::Filter) && at(ExtensionPoint::Score));
    assert!(!at(ExtensionPoint::PreFilter) && !at(ExtensionPoint::PreScore));
    assert_eq!(p.score_weight("Custom"), Some(4));
    // Args are kept as written for the plugin to decode.
    assert_eq!(
        p.args.other["Custom"],
        serde_json::json!({"anything": [1, 2]})
    );
    // Enabling it at a point it does not declare is the same error as for an in-tree plugin.
    let bad = text.replace("multiPoint", "preFilter");
    let e = SchedulerConfig::from_yaml_with(&bad, &oot_registry())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("profiles[0].plugins.preFilter.enabled[0]"),
        "{e}"
    );
    // Without the registry the name is unknown, at the field that names it.
    let e = SchedulerConfig::from_yaml(text).unwrap_err().to_string();
    assert!(
        e.contains("profiles[0].plugins.multiPoint.enabled[0]: unknown plugin \"Custom\""),
        "{e}"
    );
}

#[test]
fn registering_rejects_taken_names_in_tree_names_and_points_placer_does_not_run() {
    use crate::RegistryError;
    let mut r = oot_registry();
    let spec = |name, points| crate::PluginSpec {
        name,
        points,
        factory: oot_factory,
    };
    assert_eq!(
        r.register(spec("Custom", &[ExtensionPoint::Filter])),
        Err(RegistryError::Duplicate("Custom".into()))
    );
    assert_eq!(
        r.register(spec("NodeAffinity", &[ExtensionPoint::Filter])),
        Err(RegistryError::InTreeName("NodeAffinity".into()))
    );
    assert_eq!(
        r.register(spec("Empty", &[])),
        Err(RegistryError::NoPoints("Empty".into()))
    );
    assert_eq!(
        r.register(spec("Binder", &[ExtensionPoint::Bind])),
        Err(RegistryError::UnsupportedPoint {
            plugin: "Binder".into(),
            point: "bind"
        })
    );
    assert_eq!(
        r.register_in_tree("Custom2", oot_factory),
        Err(RegistryError::NotInTree("Custom2".into()))
    );
    assert!(r.register_in_tree("NodeName", oot_factory).is_ok());
    assert_eq!(
        r.register_in_tree("NodeName", oot_factory),
        Err(RegistryError::Duplicate("NodeName".into()))
    );
}
