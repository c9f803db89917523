//! Where an object's kind lives in the API: a table of Kubernetes' built-in kinds, and
//! discovery for any other (custom resources), remembered for the operation.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::{self, Scope};

use crate::client::Session;
use crate::error::{Error, Result};

/// Built-in kinds: (group, kind, namespaced). Plurals follow Kubernetes' rule, which
/// `ApiResource::from_gvk` applies.
const BUILT_IN: &[(&str, &str, bool)] = &[
    ("", "Namespace", false),
    ("", "Node", false),
    ("", "PersistentVolume", false),
    ("", "ServiceAccount", true),
    ("", "ConfigMap", true),
    ("", "Secret", true),
    ("", "PersistentVolumeClaim", true),
    ("", "Service", true),
    ("", "Endpoints", true),
    ("", "Pod", true),
    ("", "PodTemplate", true),
    ("", "ReplicationController", true),
    ("", "LimitRange", true),
    ("", "ResourceQuota", true),
    ("apps", "Deployment", true),
    ("apps", "StatefulSet", true),
    ("apps", "ReplicaSet", true),
    ("apps", "DaemonSet", true),
    ("apps", "ControllerRevision", true),
    ("batch", "Job", true),
    ("batch", "CronJob", true),
    ("autoscaling", "HorizontalPodAutoscaler", true),
    ("policy", "PodDisruptionBudget", true),
    ("networking.k8s.io", "NetworkPolicy", true),
    ("networking.k8s.io", "Ingress", true),
    ("networking.k8s.io", "IngressClass", false),
    ("discovery.k8s.io", "EndpointSlice", true),
    ("coordination.k8s.io", "Lease", true),
    ("rbac.authorization.k8s.io", "Role", true),
    ("rbac.authorization.k8s.io", "RoleBinding", true),
    ("rbac.authorization.k8s.io", "ClusterRole", false),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", false),
    ("storage.k8s.io", "StorageClass", false),
    ("storage.k8s.io", "VolumeAttachment", false),
    ("storage.k8s.io", "CSIDriver", false),
    ("scheduling.k8s.io", "PriorityClass", false),
    ("node.k8s.io", "RuntimeClass", false),
    ("apiextensions.k8s.io", "CustomResourceDefinition", false),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        false,
    ),
    ("apiregistration.k8s.io", "APIService", false),
];

/// Kinds swept for leftovers carrying the instance label even when the manifests do not
/// name them (terminate, rollback).
pub const SWEPT: &[(&str, &str)] = &[
    ("v1", "ServiceAccount"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("v1", "Pod"),
];

fn split(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn built_in(api_version: &str, kind: &str) -> Option<bool> {
    let (group, _) = split(api_version);
    BUILT_IN
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)
        .map(|(_, _, namespaced)| *namespaced)
}

/// Whether a kind is known to be cluster-scoped (unknown kinds count as namespaced until
/// discovery says otherwise).
pub fn cluster_scoped(api_version: &str, kind: &str) -> bool {
    built_in(api_version, kind) == Some(false)
}

/// A kind's API resource and scope.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

impl Resolved {
    /// The API for objects of this kind in `namespace` (ignored for cluster kinds).
    pub fn api(&self, session: &Session, namespace: &str) -> Api<DynamicObject> {
        if self.namespaced {
            Api::namespaced_with(session.client.clone(), namespace, &self.resource)
        } else {
            Api::all_with(session.client.clone(), &self.resource)
        }
    }

    /// The same kind as `other`.
    pub fn same_kind(&self, other: &Resolved) -> bool {
        self.resource.api_version == other.resource.api_version && self.resource.kind == other.resource.kind
    }

    /// "Deployment ns/name" or "Namespace name", for messages.
    pub fn describe(&self, namespace: &str, name: &str) -> String {
        if self.namespaced {
            format!("{} {namespace}/{name}", self.resource.kind)
        } else {
            format!("{} {name}", self.resource.kind)
        }
    }
}

/// Resolves kinds for one operation, asking discovery once per unknown kind.
#[derive(Debug, Default)]
pub struct Resolver {
    cache: Mutex<HashMap<(String, String), Resolved>>,
}

impl Resolver {
    pub async fn resolve(&self, session: &Session, api_version: &str, kind: &str) -> Result<Resolved> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(found);
        }
        let (group, version) = split(api_version);
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let resolved = match built_in(api_version, kind) {
            Some(namespaced) => Resolved {
                resource: ApiResource::from_gvk(&gvk),
                namespaced,
            },
            None => {
                let (resource, caps) =
                    discovery::pinned_kind(&session.client, &gvk)
                        .await
                        .map_err(|e| match e {
                            kube::Error::Api(status) if status.code == 404 => Error::Manifest(format!(
                                "the Kubernetes API server has no kind {kind} in {api_version}"
                            )),
                            kube::Error::Discovery(d) => Error::Manifest(format!(
                                "the Kubernetes API server has no kind {kind} in {api_version} ({d})"
                            )),
                            other => session.err(format!("discover {kind} in {api_version}"), other),
                        })?;
                Resolved {
                    resource,
                    namespaced: caps.scope == Scope::Namespaced,
                }
            }
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, resolved.clone());
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_plurals_of_built_in_kinds() {
        assert!(cluster_scoped("v1", "Namespace"));
        assert!(cluster_scoped("rbac.authorization.k8s.io/v1", "ClusterRole"));
        assert!(!cluster_scoped("apps/v1", "Deployment"));
        assert!(!cluster_scoped("example.com/v1", "Widget"));
        let gvk = GroupVersionKind::gvk("", "v1", "Endpoints");
        assert_eq!(ApiResource::from_gvk(&gvk).plural, "endpoints");
        let gvk = GroupVersionKind::gvk("networking.k8s.io", "v1", "NetworkPolicy");
        assert_eq!(ApiResource::from_gvk(&gvk).plural, "networkpolicies");
    }
}
