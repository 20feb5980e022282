//! Admission plugins the API server runs on pods, applied to the pods Placer reads.
//!
//! - `DefaultTolerationSeconds` (upstream `plugin/pkg/admission/defaulttolerationseconds`):
//!   a pod without a toleration for `node.kubernetes.io/not-ready:NoExecute` (resp.
//!   `node.kubernetes.io/unreachable:NoExecute`) gets `operator: Exists, effect: NoExecute,
//!   tolerationSeconds: 300` for it. A toleration with an empty key or an empty effect counts
//!   as tolerating, as upstream.

use k8s_openapi::api::core::v1::{Pod, Toleration};

/// The taint the node lifecycle controller puts on a node whose Ready condition is False.
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
/// The taint the node lifecycle controller puts on a node whose Ready condition is Unknown.
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// upstream `--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds`.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// The DefaultTolerationSeconds admission plugin: `Some` of the pod with the tolerations it
/// lacks added, `None` when it has both.
#[must_use]
pub fn default_toleration_seconds(pod: &Pod) -> Option<Pod> {
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    let tolerates = |key: &str| {
        tolerations.iter().any(|t| {
            let k = t.key.as_deref().unwrap_or_default();
            let e = t.effect.as_deref().unwrap_or_default();
            (k == key || k.is_empty()) && (e == "NoExecute" || e.is_empty())
        })
    };
    let missing: Vec<&str> = [NOT_READY_TAINT, UNREACHABLE_TAINT]
        .into_iter()
        .filter(|k| !tolerates(k))
        .collect();
    if missing.is_empty() || pod.spec.is_none() {
        return None;
    }
    let mut pod = pod.clone();
    let spec = pod.spec.as_mut()?;
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    for key in missing {
        list.push(Toleration {
            key: Some(key.to_string()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
            value: None,
        });
    }
    Some(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(tolerations: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c"}], "tolerations": tolerations}
        }))
        .unwrap()
    }

    fn seconds_of(p: &Pod, key: &str) -> Vec<Option<i64>> {
        p.spec
            .as_ref()
            .unwrap()
            .tolerations
            .iter()
            .flatten()
            .filter(|t| t.key.as_deref() == Some(key))
            .map(|t| t.toleration_seconds)
            .collect()
    }

    #[test]
    fn default_toleration_seconds_admission_adds_both_tolerations() {
        let p = default_toleration_seconds(&pod(json!([]))).expect("defaulted");
        assert_eq!(seconds_of(&p, NOT_READY_TAINT), [Some(300)]);
        assert_eq!(seconds_of(&p, UNREACHABLE_TAINT), [Some(300)]);
    }

    #[test]
    fn default_toleration_seconds_admission_keeps_a_pods_own_toleration() {
        let own = json!([{"key": UNREACHABLE_TAINT, "operator": "Exists",
                          "effect": "NoExecute", "tolerationSeconds": 30}]);
        let p = default_toleration_seconds(&pod(own)).expect("not-ready added");
        assert_eq!(seconds_of(&p, UNREACHABLE_TAINT), [Some(30)]);
        assert_eq!(seconds_of(&p, NOT_READY_TAINT), [Some(300)]);
    }

    #[test]
    fn default_toleration_seconds_admission_counts_empty_key_and_effect_as_tolerating() {
        // upstream: an empty key (with Exists) or an empty effect tolerates the taint.
        assert!(default_toleration_seconds(&pod(json!([{"operator": "Exists"}]))).is_none());
        let by_key = json!([{"key": NOT_READY_TAINT, "operator": "Exists"},
                            {"key": UNREACHABLE_TAINT, "operator": "Exists"}]);
        assert!(default_toleration_seconds(&pod(by_key)).is_none());
    }
}
