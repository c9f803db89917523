//! The resource types this server serves, as discovery lists them.

/// One resource type: where it lives, what it is called and which subresources it has.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Has a `/status` subresource (status is then kept apart from spec writes).
    pub status: bool,
    /// Has a `/scale` subresource.
    pub scale: bool,
}

/// The verbs every resource type answers to.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

macro_rules! rt {
    ($group:literal, $version:literal, $plural:literal, $singular:literal, $kind:literal, $ns:literal,
     [$($short:literal),*], status=$status:literal, scale=$scale:literal) => {
        ResourceType {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $ns,
            short_names: &[$($short),*],
            status: $status,
            scale: $scale,
        }
    };
}

/// Every served resource type.
#[rustfmt::skip]
pub static RESOURCES: &[ResourceType] = &[
    rt!("", "v1", "namespaces", "namespace", "Namespace", false, ["ns"], status = true, scale = false),
    rt!("", "v1", "nodes", "node", "Node", false, ["no"], status = true, scale = false),
    rt!("", "v1", "pods", "pod", "Pod", true, ["po"], status = true, scale = false),
    rt!("", "v1", "services", "service", "Service", true, ["svc"], status = true, scale = false),
    rt!("", "v1", "endpoints", "endpoints", "Endpoints", true, ["ep"], status = false, scale = false),
    rt!("", "v1", "configmaps", "configmap", "ConfigMap", true, ["cm"], status = false, scale = false),
    rt!("", "v1", "secrets", "secret", "Secret", true, [], status = false, scale = false),
    rt!("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, ["sa"], status = false, scale = false),
    rt!("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, ["pvc"], status = true, scale = false),
    rt!("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, ["pv"], status = true, scale = false),
    rt!("", "v1", "limitranges", "limitrange", "LimitRange", true, ["limits"], status = false, scale = false),
    rt!("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, ["quota"], status = true, scale = false),
    rt!("", "v1", "podtemplates", "podtemplate", "PodTemplate", true, [], status = false, scale = false),
    rt!("apps", "v1", "deployments", "deployment", "Deployment", true, ["deploy"], status = true, scale = true),
    rt!("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, ["rs"], status = true, scale = true),
    rt!("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, ["sts"], status = true, scale = true),
    rt!("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, ["ds"], status = true, scale = false),
    rt!("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, [], status = false, scale = false),
    rt!("batch", "v1", "jobs", "job", "Job", true, [], status = true, scale = false),
    rt!("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, ["hpa"], status = true, scale = false),
    rt!("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, [], status = false, scale = false),
    rt!("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, ["netpol"], status = false, scale = false),
    rt!("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, [], status = false, scale = false),
    rt!("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, [], status = false, scale = false),
    rt!("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, [], status = false, scale = false),
    rt!("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, [], status = false, scale = false),
    rt!("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, ["pc"], status = false, scale = false),
    rt!("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, ["sc"], status = false, scale = false),
    rt!("storage.k8s.io", "v1", "volumeattachments", "volumeattachment", "VolumeAttachment", false, [], status = true, scale = false),
];

impl ResourceType {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn group_resource(&self) -> crate::status::GroupResource {
        crate::status::GroupResource::new(self.group, self.plural)
    }

    /// The resource type named `plural` in `group`/`version`.
    pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
        RESOURCES
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// The resource type of an object with this `apiVersion` and `kind`.
    pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
        RESOURCES
            .iter()
            .find(|r| r.kind == kind && r.api_version() == api_version)
    }

    /// The resource type by plural name alone (the first group that serves it).
    pub fn by_plural(plural: &str) -> Option<&'static ResourceType> {
        RESOURCES.iter().find(|r| r.plural == plural)
    }
}

/// Shorthands the reconciler uses.
pub(crate) fn rt(plural: &str) -> &'static ResourceType {
    // Only called with names from the table above.
    #[allow(clippy::expect_used)]
    ResourceType::by_plural(plural).expect("resource type in the table")
}

/// The groups in discovery order, each with its (single) version.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}
