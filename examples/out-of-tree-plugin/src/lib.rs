//! `NodeLabelPreference`: an out-of-tree plugin for Placer, written the way a user outside the
//! project would write one. It prefers (Score) or requires (Filter) nodes carrying a label:
//!
//! ```yaml
//! profiles:
//! - schedulerName: placer
//!   plugins:
//!     multiPoint:
//!       enabled:
//!       - {name: NodeLabelPreference, weight: 5}
//!   pluginConfig:
//!   - name: NodeLabelPreference
//!     args: {label: example.com/tier, value: fast, required: false}
//! ```
//!
//! Its [`SPEC`] declares the name, the extension points and the factory once; the factory
//! decodes the args into [`NodeLabelPreferenceArgs`] (errors name the field). Register it with
//! `sched_plugins::registry_with([SPEC])`, or build a `placer` that has it (see `src/main.rs`).

use sched_core::PluginSpec;
use sched_core::config::{ExtensionPoint, ProfileConfig};
use sched_core::framework::{
    ClusterView, CycleState, FilterPlugin, FilterResult, Plugin, Rejection, ScorePlugin,
};
use sched_core::intern::{Interner, Sym};
use sched_core::model::PodInfo;
use sched_core::state::NodeState;
use std::sync::Arc;

/// The plugin's name, as configurations spell it.
pub const NAME: &str = "NodeLabelPreference";

/// The plugin, declared once.
pub const SPEC: PluginSpec = PluginSpec {
    name: NAME,
    points: &[ExtensionPoint::Filter, ExtensionPoint::Score],
    factory: NodeLabelPreference::factory,
};

/// `pluginConfig[].args` of `NodeLabelPreference`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeLabelPreferenceArgs {
    /// The label key.
    pub label: String,
    /// The value the label must have; any value when unset.
    #[serde(default)]
    pub value: Option<String>,
    /// Reject nodes without the label (Filter) instead of only preferring the others.
    #[serde(default)]
    pub required: bool,
}

/// Prefers or requires nodes with a label.
#[derive(Debug)]
pub struct NodeLabelPreference {
    key: Sym,
    value: Option<Sym>,
    required: bool,
    reason: Arc<str>,
}

impl NodeLabelPreference {
    /// Builds the plugin from its profile's args.
    ///
    /// # Errors
    /// Args that do not decode, or an empty label.
    pub fn factory(
        cfg: &ProfileConfig,
        interner: &mut Interner,
    ) -> Result<Arc<dyn Plugin>, String> {
        let args: NodeLabelPreferenceArgs = cfg.decode_args(NAME)?;
        if args.label.is_empty() {
            return Err("args.label: must not be empty".to_string());
        }
        Ok(Arc::new(NodeLabelPreference {
            key: interner.intern(&args.label),
            value: args.value.as_deref().map(|v| interner.intern(v)),
            required: args.required,
            reason: Arc::from(format!("node(s) didn't have label {}", args.label)),
        }))
    }

    fn matches(&self, node: &NodeState) -> bool {
        match (node.info.labels.get(self.key), self.value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(v), Some(want)) => v == want,
        }
    }
}

impl Plugin for NodeLabelPreference {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeLabelPreference {
    fn filter(
        &self,
        _cycle: &CycleState,
        _pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> FilterResult {
        if !self.required || self.matches(node) {
            return Ok(());
        }
        // No other pod's removal helps: preemption need not try this node.
        Err(Rejection::unresolvable(self.reason.clone()))
    }
}

impl ScorePlugin for NodeLabelPreference {
    fn score(
        &self,
        _cycle: &CycleState,
        _pod: &PodInfo,
        node: &NodeState,
        _view: ClusterView<'_>,
    ) -> i64 {
        if self.matches(node) { 100 } else { 0 }
    }
}
