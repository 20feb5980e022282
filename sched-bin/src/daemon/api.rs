//! The daemon's writes to the API server, each as upstream's scheduler does it:
//! the binding (`DefaultBinder`), events (`events.k8s.io/v1`, through client-go's events
//! recorder in upstream) and the `PodScheduled` condition (`util.PatchPodStatus`).

use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use std::sync::Arc;

/// Errors of a binding.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// 409: the pod is already bound, its UID changed, or it is being deleted. The pod is dropped.
    #[error("binding conflict: {0}")]
    Conflict(String),
    /// 404: the pod is gone.
    #[error("pod not found: {0}")]
    NotFound(String),
    /// Anything else: the pod is requeued with backoff.
    #[error("binding rejected: {0}")]
    Other(#[source] kube::Error),
}

/// What the daemon needs to address a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID (the binding's precondition).
    pub uid: String,
    /// Resource version the daemon last saw.
    pub resource_version: String,
}

impl PodRef {
    /// The reference of a pod object.
    #[must_use]
    pub fn of(pod: &Pod) -> Self {
        PodRef {
            namespace: pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            resource_version: pod.metadata.resource_version.clone().unwrap_or_default(),
        }
    }
}

/// Binds `pod` to `node` through `pods/{name}/binding`, with the pod's UID as precondition.
/// A 409 saying the pod is already assigned to `node` counts as success: the pod is bound
/// where it was to be (e.g. an earlier attempt that timed out was applied).
///
/// # Errors
/// See [`BindError`].
pub async fn bind(client: &Client, pod: &PodRef, node: &str) -> Result<(), BindError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let binding = Binding {
        metadata: ObjectMeta {
            name: Some(pod.name.clone()),
            namespace: Some(pod.namespace.clone()),
            uid: Some(pod.uid.clone()).filter(|u| !u.is_empty()),
            ..ObjectMeta::default()
        },
        target: ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.to_string()),
            ..ObjectReference::default()
        },
    };
    match api
        .create_subresource::<Binding, serde_json::Value>(
            "binding",
            &pod.name,
            &PostParams::default(),
            &binding,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 && already_assigned_to(&s.message, node) => {
            Ok(())
        }
        Err(kube::Error::Api(s)) if s.code == 409 => Err(BindError::Conflict(s.message)),
        Err(kube::Error::Api(s)) if s.code == 404 => Err(BindError::NotFound(s.message)),
        Err(e) => Err(BindError::Other(e)),
    }
}

/// Whether a 409 message is the API server's refusal of a binding because the pod is already
/// assigned to `node` (`pod <name> is already assigned to node "<node>"`, in
/// `pkg/registry/core/pod/storage`).
#[must_use]
pub fn already_assigned_to(message: &str, node: &str) -> bool {
    message
        .strip_suffix(&format!("is already assigned to node \"{node}\""))
        .is_some_and(|rest| rest.ends_with(' '))
}

/// Truncates an event note to the API's 1 kB limit as upstream does (`…` marks the cut).
#[must_use]
pub fn truncate_note(note: &str) -> String {
    const MAX: usize = 1024;
    if note.len() <= MAX {
        return note.to_string();
    }
    let mut cut = MAX - 3;
    while !note.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &note[..cut])
}

/// Emits `events.k8s.io/v1` events about pods, as one reporting controller.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    reporting_controller: Arc<str>,
    reporting_instance: Arc<str>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("reporting_controller", &self.reporting_controller)
            .field("reporting_instance", &self.reporting_instance)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder reporting as `controller` (upstream: the profile's scheduler name) from
    /// `instance` (upstream: `<controller>-<hostname>`).
    #[must_use]
    pub fn new(client: Client, controller: &str, instance: &str) -> Self {
        Recorder {
            client,
            reporting_controller: controller.into(),
            reporting_instance: instance.into(),
        }
    }

    /// The event object for `pod`.
    #[must_use]
    pub fn event(
        &self,
        pod: &PodRef,
        type_: &str,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Event {
        let now = jiff::Timestamp::now();
        Event {
            metadata: ObjectMeta {
                // upstream (client-go events): `<name>.<unix nanos in hex>`.
                name: Some(format!("{}.{:x}", pod.name, now.as_nanosecond())),
                namespace: Some(pod.namespace.clone()),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            type_: Some(type_.into()),
            reason: Some(reason.into()),
            action: Some(action.into()),
            note: Some(truncate_note(note)),
            reporting_controller: Some(self.reporting_controller.to_string()),
            reporting_instance: Some(self.reporting_instance.to_string()),
            regarding: Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                namespace: Some(pod.namespace.clone()),
                name: Some(pod.name.clone()),
                uid: Some(pod.uid.clone()).filter(|u| !u.is_empty()),
                resource_version: Some(pod.resource_version.clone()).filter(|v| !v.is_empty()),
                ..ObjectReference::default()
            }),
            ..Event::default()
        }
    }

    /// Creates an event; failures are logged, never returned (events are best effort).
    pub async fn emit(&self, pod: &PodRef, type_: &str, reason: &str, action: &str, note: &str) {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &pod.namespace);
        let ev = self.event(pod, type_, reason, action, note);
        if let Err(e) = api.create(&PostParams::default(), &ev).await {
            tracing::warn!(pod = %format!("{}/{}", pod.namespace, pod.name), %reason, error = %e, "failed to emit event");
        }
    }

    /// upstream: `Normal Scheduled Binding "Successfully assigned ns/name to node"`.
    pub async fn scheduled(&self, pod: &PodRef, node: &str) {
        let note = format!(
            "Successfully assigned {}/{} to {node}",
            pod.namespace, pod.name
        );
        self.emit(pod, "Normal", "Scheduled", "Binding", &note)
            .await;
    }

    /// upstream: `Warning FailedScheduling Scheduling "<message>"`.
    pub async fn failed_scheduling(&self, pod: &PodRef, message: &str) {
        self.emit(pod, "Warning", "FailedScheduling", "Scheduling", message)
            .await;
    }
}

/// The `PodScheduled` condition as `(status, reason, message)`, for change detection.
pub type ConditionKey = (String, String, String);

/// The pod's current `PodScheduled` condition.
#[must_use]
pub fn pod_scheduled_condition(pod: &Pod) -> Option<ConditionKey> {
    let c = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled")?;
    Some((
        c.status.clone(),
        c.reason.clone().unwrap_or_default(),
        c.message.clone().unwrap_or_default(),
    ))
}

/// The strategic-merge patch that sets `PodScheduled=False` with `reason` and `message`, and
/// `status.nominatedNodeName` when preemption nominated a node.
#[must_use]
pub fn pod_scheduled_false_patch(
    reason: &str,
    message: &str,
    nominated: Option<&str>,
) -> serde_json::Value {
    let mut patch = serde_json::json!({
        "status": {
            "conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "reason": reason,
                "message": message,
                "lastProbeTime": null,
                "lastTransitionTime": jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now()).to_string(),
            }]
        }
    });
    if let Some(node) = nominated {
        patch["status"]["nominatedNodeName"] = serde_json::Value::from(node);
    }
    patch
}

/// Patches `pods/{name}/status` with `PodScheduled=False`. Failures are logged.
pub async fn patch_pod_scheduled_false(
    client: &Client,
    pod: &PodRef,
    reason: &str,
    message: &str,
    nominated: Option<&str>,
) {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let patch = Patch::Strategic(pod_scheduled_false_patch(reason, message, nominated));
    if let Err(e) = api
        .patch_status(&pod.name, &PatchParams::default(), &patch)
        .await
    {
        tracing::warn!(pod = %format!("{}/{}", pod.namespace, pod.name), error = %e, "failed to update pod condition");
    }
}

/// Deletes a preemption victim, on the condition that it is still the pod that was chosen
/// (its UID). A victim already gone is fine; other failures are logged (the preemptor stays
/// nominated and is retried when the victim leaves, as upstream).
pub async fn delete_victim(client: &Client, pod: &PodRef) {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let mut params = kube::api::DeleteParams::default();
    if !pod.uid.is_empty() {
        params.preconditions = Some(kube::api::Preconditions {
            uid: Some(pod.uid.clone()),
            resource_version: None,
        });
    }
    match api.delete(&pod.name, &params).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => {
            tracing::warn!(pod = %format!("{}/{}", pod.namespace, pod.name), error = %e, "failed to delete preemption victim");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::already_assigned_to;

    #[test]
    fn a_conflict_naming_the_chosen_node_is_recognised() {
        let msg = r#"Operation cannot be fulfilled on pods/binding "p1": pod p1 is already assigned to node "n1""#;
        assert!(already_assigned_to(msg, "n1"));
        assert!(!already_assigned_to(msg, "n2"));
        assert!(!already_assigned_to(msg, "1"), "the whole node name");
        assert!(!already_assigned_to("Conflict", "n1"));
    }
}
