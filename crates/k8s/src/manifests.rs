//! The Kubernetes objects an operation works on: the plan's manifest files read from the
//! unpacked package, put into one namespace, labelled with the instance id, sized by the
//! plan's VDU replica counts, and ordered so that what others depend on comes first.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use serde_json::{json, Map, Value};
use tacker_driver::{Operation as LcmOperation, Plan};

use crate::error::{Error, Result};
use crate::resources;

/// The label that marks every object (and pod) an instance owns.
pub const INSTANCE_LABEL: &str = "tacker_vnf_instance_id";

/// Kinds a VDU can name (by `metadata.name`).
pub const WORKLOAD_KINDS: [&str; 4] = ["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"];

/// The order objects are created in (and deleted in reverse); other kinds come last.
const ORDER: [&[&str]; 14] = [
    &["Namespace"],
    &["ServiceAccount"],
    &["Role", "ClusterRole"],
    &["RoleBinding", "ClusterRoleBinding"],
    &["ConfigMap"],
    &["Secret"],
    &["PersistentVolume"],
    &["PersistentVolumeClaim"],
    &["Service"],
    &["Deployment"],
    &["StatefulSet"],
    &["ReplicaSet"],
    &["DaemonSet"],
    &["Job"],
];

/// A VDU's workload as the manifests describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VduWorkload {
    pub vdu_id: String,
    pub kind: String,
    pub api_version: String,
    pub name: String,
    /// The wanted replicas (`None` for a DaemonSet: one pod per node).
    pub replicas: Option<u32>,
}

/// The objects of one operation, in creation order.
#[derive(Debug, Clone)]
pub struct Manifests {
    pub namespace: String,
    pub objects: Vec<Value>,
    pub workloads: Vec<VduWorkload>,
}

/// `additionalParams` and instance-metadata key of the manifests, Tacker's name.
pub const DEF_FILES: &str = "lcm-kubernetes-def-files";

/// The manifests `plan` works on: those its request names (instantiate, change_vnfpkg,
/// and their rollbacks), else those recorded when the instance was instantiated or last
/// moved to a package.
pub fn files(plan: &Plan) -> Vec<String> {
    let named = |map: &Map<String, Value>| {
        map.get(DEF_FILES)
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
    };
    let from_request = matches!(
        plan.operation,
        LcmOperation::Instantiate | LcmOperation::ChangeVnfpkg
    )
    .then(|| named(&plan.additional_params))
    .flatten();
    from_request
        .or_else(|| named(&plan.instance_metadata))
        .unwrap_or_default()
}

/// The namespace the request names, else the one recorded at instantiation.
pub fn explicit_namespace(plan: &Plan) -> Option<&str> {
    [&plan.additional_params, &plan.instance_metadata]
        .into_iter()
        .find_map(|map| {
            map.get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
        })
}

/// Reads `files` (paths inside the package) of `plan` and prepares them for `plan`.
pub fn load(plan: &Plan, files: &[String]) -> Result<Manifests> {
    let mut sourced = Vec::new();
    for file in files {
        let text = read(&plan.package_dir, file)?;
        let objects = tacker_pkg::parse_manifests(&text, file).map_err(|e| Error::Manifest(e.to_string()))?;
        sourced.extend(objects.into_iter().map(|o| (file.as_str(), o)));
    }
    let namespace = namespace(plan, &sourced)?;
    let mut objects: Vec<Value> = sourced
        .into_iter()
        .map(|(_, object)| prepare(object, &namespace, &plan.instance_id))
        .collect();
    objects.sort_by_key(|o| rank(kind(o)));
    let workloads = size_workloads(plan, files, &mut objects)?;
    Ok(Manifests {
        namespace,
        objects,
        workloads,
    })
}

/// A file of the package; the path must stay inside it.
fn read(package_dir: &Path, file: &str) -> Result<String> {
    let relative = Path::new(file);
    if file.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Error::Manifest(format!(
            "lcm-kubernetes-def-files: {file:?} is not a path inside the package"
        )));
    }
    std::fs::read_to_string(package_dir.join(relative)).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "does not exist".to_owned()
        } else {
            e.to_string()
        };
        Error::Manifest(format!(
            "'{file}' in lcm-kubernetes-def-files {why} in the VNF package"
        ))
    })
}

pub fn kind(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or_default()
}

pub fn api_version(object: &Value) -> &str {
    object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub fn name(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Position of a kind in the creation order.
pub fn rank(kind: &str) -> usize {
    ORDER
        .iter()
        .position(|kinds| kinds.contains(&kind))
        .unwrap_or(ORDER.len())
}

/// `additionalParams.namespace` (or the one instantiate recorded), else the namespace every
/// namespaced object declares,
/// else `default`. An object in another namespace than the chosen one is an error.
fn namespace(plan: &Plan, sourced: &[(&str, Value)]) -> Result<String> {
    let explicit = explicit_namespace(plan);
    let declared: Vec<(&str, &Value, &str)> = sourced
        .iter()
        .filter(|(_, o)| !resources::cluster_scoped(api_version(o), kind(o)))
        .filter_map(|(file, o)| {
            let ns = o
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())?;
            Some((*file, o, ns))
        })
        .collect();
    if let Some(explicit) = explicit {
        if let Some((file, o, ns)) = declared.iter().find(|(_, _, ns)| *ns != explicit) {
            return Err(Error::Manifest(format!(
                "{file}: {} {} is in namespace '{ns}', but additionalParams.namespace is '{explicit}'",
                kind(o),
                name(o)
            )));
        }
        return Ok(explicit.to_owned());
    }
    let distinct: BTreeSet<&str> = declared.iter().map(|(_, _, ns)| *ns).collect();
    match distinct.len() {
        0 => Ok("default".into()),
        1 => Ok(distinct.into_iter().next().unwrap_or("default").to_owned()),
        _ => Err(Error::Manifest(format!(
            "the manifests use several namespaces ({}); one VNF instance uses one namespace",
            distinct.into_iter().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Sets the namespace and the instance label (on the object and its pod templates).
fn prepare(mut object: Value, namespace: &str, instance_id: &str) -> Value {
    let cluster = resources::cluster_scoped(api_version(&object), kind(&object));
    let kind = kind(&object).to_owned();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if cluster {
            metadata.remove("namespace");
        } else {
            metadata.insert("namespace".into(), json!(namespace));
        }
        label(metadata, instance_id);
    }
    let templates: &[&str] = match kind.as_str() {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" | "Job" => &["/spec/template"],
        "CronJob" => &["/spec/jobTemplate", "/spec/jobTemplate/spec/template"],
        _ => &[],
    };
    for pointer in templates {
        if let Some(template) = object.pointer_mut(pointer).and_then(Value::as_object_mut) {
            let metadata = template.entry("metadata").or_insert_with(|| json!({}));
            if let Some(metadata) = metadata.as_object_mut() {
                label(metadata, instance_id);
            }
        }
    }
    object
}

fn label(metadata: &mut Map<String, Value>, instance_id: &str) {
    let labels = metadata.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    if let Some(labels) = labels.as_object_mut() {
        labels.insert(INSTANCE_LABEL.into(), json!(instance_id));
    }
}

/// Finds each VDU's workload and sets its replicas.
fn size_workloads(plan: &Plan, files: &[String], objects: &mut [Value]) -> Result<Vec<VduWorkload>> {
    let mut found = Vec::new();
    for workload in &plan.workloads {
        let object = objects
            .iter_mut()
            .find(|o| WORKLOAD_KINDS.contains(&kind(o)) && name(o) == workload.name)
            .ok_or_else(|| {
                Error::Manifest(format!(
                    "VDU {} (name '{}') has no Deployment, StatefulSet, ReplicaSet or DaemonSet named '{}' in {}",
                    workload.vdu_id,
                    workload.name,
                    workload.name,
                    files.join(", ")
                ))
            })?;
        let replicas = (kind(object) != "DaemonSet").then_some(workload.replicas);
        if let (Some(replicas), Some(spec)) =
            (replicas, object.get_mut("spec").and_then(Value::as_object_mut))
        {
            spec.insert("replicas".into(), json!(replicas));
        }
        found.push(VduWorkload {
            vdu_id: workload.vdu_id.clone(),
            kind: kind(object).to_owned(),
            api_version: api_version(object).to_owned(),
            name: workload.name.clone(),
            replicas,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use tacker_driver::{Operation as LcmOperation, VimConnection, Workload};

    fn plan(dir: PathBuf, namespace: Option<&str>, workloads: &[(&str, &str, u32)]) -> Plan {
        let mut additional = Map::new();
        if let Some(ns) = namespace {
            additional.insert("namespace".into(), json!(ns));
        }
        Plan {
            instance_id: "inst-1".into(),
            operation: LcmOperation::Instantiate,
            instance_metadata: Map::new(),
            vim: VimConnection {
                id: "vim1".into(),
                vim_type: "kubernetes".into(),
                info: Map::new(),
            },
            package_dir: dir,
            additional_params: additional,
            workloads: workloads
                .iter()
                .map(|(vdu, name, n)| Workload {
                    vdu_id: (*vdu).into(),
                    name: (*name).into(),
                    replicas: *n,
                })
                .collect(),
            fence: Default::default(),
        }
    }

    fn package(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tacker-k8s-manifests-{}", uuid_like()));
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap_or(&dir)).ok();
            std::fs::write(path, text).ok();
        }
        dir
    }

    fn uuid_like() -> String {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n";
    const OTHERS: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: extra}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";

    #[test]
    fn ordered_namespaced_labelled_and_sized() {
        let dir = package(&[("F/d.yaml", DEPLOY), ("F/o.yaml", OTHERS)]);
        let files = vec!["F/d.yaml".to_owned(), "F/o.yaml".to_owned()];
        let m = load(&plan(dir.clone(), Some("ns1"), &[("VDU1", "web", 3)]), &files)
            .unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<&str> = m.objects.iter().map(kind).collect();
        assert_eq!(
            kinds,
            ["Namespace", "ConfigMap", "Service", "Deployment", "Widget"]
        );
        assert_eq!(m.namespace, "ns1");
        assert!(m.objects[0].pointer("/metadata/namespace").is_none());
        assert_eq!(m.objects[3]["metadata"]["namespace"], "ns1");
        assert_eq!(m.objects[3]["spec"]["replicas"], 3);
        assert_eq!(m.objects[3]["metadata"]["labels"][INSTANCE_LABEL], "inst-1");
        assert_eq!(
            m.objects[3]["spec"]["template"]["metadata"]["labels"][INSTANCE_LABEL],
            "inst-1"
        );
        assert_eq!(
            m.objects[3]["spec"]["template"]["metadata"]["labels"]["app"],
            "web"
        );
        assert_eq!(m.workloads[0].kind, "Deployment");

        let err = load(&plan(dir.clone(), None, &[("VDU9", "nope", 1)]), &files)
            .unwrap_err()
            .to_string();
        assert!(err.contains("VDU VDU9") && err.contains("'nope'"), "{err}");
        let err = load(&plan(dir.clone(), None, &[]), &["../x.yaml".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a path inside the package"), "{err}");
        let err = load(&plan(dir.clone(), None, &[]), &["F/missing.yaml".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn the_namespace_comes_from_the_manifests_when_uniform() {
        let a = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: one}\n";
        let b = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let c = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: two}\n";
        let dir = package(&[("a.yaml", a), ("b.yaml", b), ("c.yaml", c)]);
        let ab = vec!["a.yaml".to_owned(), "b.yaml".to_owned()];
        let m = load(&plan(dir.clone(), None, &[]), &ab).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.namespace, "one");
        assert_eq!(m.objects[1]["metadata"]["namespace"], "one");
        let m = load(&plan(dir.clone(), None, &[]), &["b.yaml".into()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.namespace, "default");
        let err = load(&plan(dir.clone(), None, &[]), &["a.yaml".into(), "c.yaml".into()]).unwrap_err();
        assert!(err.to_string().contains("several namespaces (one, two)"), "{err}");
        let err = load(&plan(dir.clone(), Some("two"), &[]), &ab).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a.yaml: ConfigMap a is in namespace 'one'"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
