//! When an object counts as ready: the rules of Tacker's Kubernetes driver.
//!
//! - Deployment, ReplicaSet: `status.replicas == status.readyReplicas` (both equal to
//!   `spec.replicas`, and the status describes the current generation);
//! - StatefulSet: `status.readyReplicas == spec.replicas` (and `status.replicas` too);
//! - DaemonSet: `status.numberReady == status.desiredNumberScheduled`;
//! - Pod: `status.phase == Running`; Namespace: `Active`; PVC: `Bound`; PV: `Available`
//!   or `Bound`;
//! - Service: its Endpoints (same name) can be read (when it selects pods: others get none);
//! - anything else: ready once created.

use kube::api::{Api, DynamicObject};
use serde_json::Value;

use crate::client::Session;
use crate::error::Result;

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The wanted replicas of a Deployment, ReplicaSet or StatefulSet (Kubernetes' default 1).
pub fn wanted_replicas(object: &Value) -> i64 {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// Whether the status was written for the current spec.
fn observed(object: &Value) -> bool {
    match (
        object.pointer("/metadata/generation").and_then(Value::as_i64),
        object
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64),
    ) {
        (Some(generation), Some(observed)) => observed >= generation,
        _ => true,
    }
}

/// `None` when `object` (as read from the server) is ready, else why not.
pub fn pending(kind: &str, object: &Value) -> Option<String> {
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" => {
            let want = wanted_replicas(object);
            let replicas = int(object, "/status/replicas");
            let ready = int(object, "/status/readyReplicas");
            (!(observed(object) && replicas == want && ready == want))
                .then(|| format!("{ready}/{want} replicas ready"))
        }
        "DaemonSet" => {
            let desired = int(object, "/status/desiredNumberScheduled");
            let ready = int(object, "/status/numberReady");
            let has_status = object.pointer("/status/desiredNumberScheduled").is_some();
            (!(has_status && observed(object) && ready == desired))
                .then(|| format!("{ready}/{desired} pods ready"))
        }
        "Pod" => phase(object, &["Running"]),
        "Namespace" => phase(object, &["Active"]),
        "PersistentVolumeClaim" => phase(object, &["Bound"]),
        "PersistentVolume" => phase(object, &["Available", "Bound"]),
        _ => None,
    }
}

fn phase(object: &Value, ok: &[&str]) -> Option<String> {
    let phase = text(object, "/status/phase");
    (!ok.contains(&phase)).then(|| {
        if phase.is_empty() {
            "no phase yet".to_owned()
        } else {
            format!("phase {phase}")
        }
    })
}

/// The kind (apiVersion, kind) whose changes can make an object of `kind` ready: its own
/// for the kinds with a status rule, Endpoints for a Service; none for the kinds that are
/// ready once created.
pub fn decided_by<'a>(api_version: &'a str, kind: &'a str) -> Option<(&'a str, &'a str)> {
    match kind {
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Pod"
        | "Namespace"
        | "PersistentVolumeClaim"
        | "PersistentVolume" => Some((api_version, kind)),
        "Service" => Some(("v1", "Endpoints")),
        _ => None,
    }
}

/// A Service is ready when its Endpoints object can be read.
pub async fn service_pending(session: &Session, namespace: &str, name: &str) -> Result<Option<String>> {
    let resource = kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Endpoints"));
    let api: Api<DynamicObject> = Api::namespaced_with(session.client.clone(), namespace, &resource);
    match api.get_opt(name).await {
        Ok(Some(_)) => Ok(None),
        Ok(None) => Ok(Some("no Endpoints yet".into())),
        Err(e) => Err(session.err(format!("read Endpoints {namespace}/{name}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workload_rules() {
        let fresh = json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}});
        assert_eq!(
            pending("Deployment", &fresh).as_deref(),
            Some("0/2 replicas ready")
        );
        let ready = json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
                           "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2}});
        assert_eq!(pending("Deployment", &ready), None);
        assert_eq!(pending("StatefulSet", &ready), None);
        let stale = json!({"metadata": {"generation": 3}, "spec": {"replicas": 2},
                           "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2}});
        assert!(pending("ReplicaSet", &stale).is_some());
        let zero = json!({"spec": {"replicas": 0}, "status": {}});
        assert_eq!(pending("Deployment", &zero), None);
        let ds = json!({"status": {"desiredNumberScheduled": 1, "numberReady": 1}});
        assert_eq!(pending("DaemonSet", &ds), None);
        assert!(pending("DaemonSet", &json!({})).is_some());
        assert_eq!(pending("Pod", &json!({"status": {"phase": "Running"}})), None);
        assert_eq!(
            pending("Pod", &json!({"status": {"phase": "Pending"}})).as_deref(),
            Some("phase Pending")
        );
        assert_eq!(
            pending("PersistentVolume", &json!({"status": {"phase": "Available"}})),
            None
        );
        assert_eq!(pending("ConfigMap", &json!({})), None);
    }

    #[test]
    fn what_decides_readiness() {
        assert_eq!(
            decided_by("apps/v1", "Deployment"),
            Some(("apps/v1", "Deployment"))
        );
        assert_eq!(decided_by("v1", "Service"), Some(("v1", "Endpoints")));
        assert_eq!(decided_by("v1", "ConfigMap"), None);
    }
}
