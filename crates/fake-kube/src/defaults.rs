//! What the apiserver does to a new object before storing it, per kind: defaulting,
//! resetting status, allocating IPs and the validation the driver can run into.

use serde_json::{json, Value};

use crate::meta;
use crate::resources::ResourceType;
use crate::selector::LabelSelector;
use crate::status::ApiError;
use crate::store::State;

/// Prepares a new object of `rt` for [`State::create`].
pub fn prepare_create(state: &mut State, rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    if rt.status {
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
    }
    let name = meta::name(obj).to_string();
    let invalid = |field: &str, reason: &str, message: &str| {
        ApiError::invalid(rt.kind, rt.group, &name, field, reason, message)
    };
    match rt.plural {
        "namespaces" => {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
            obj["status"] = json!({"phase": "Active"});
        }
        "pods" => {
            let containers = obj["spec"]["containers"].as_array();
            if containers.is_none_or(|c| c.is_empty()) {
                return Err(invalid("spec.containers", "FieldValueRequired", "Required value"));
            }
            default_pod_spec(&mut obj["spec"]);
            obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
        }
        "services" => default_service(state, obj),
        "persistentvolumeclaims" | "persistentvolumes" => {
            obj["status"] = json!({"phase": "Pending"});
        }
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" => {
            check_selector(rt, obj)?;
            if rt.plural != "daemonsets" && !obj["spec"]["replicas"].is_i64() {
                obj["spec"]["replicas"] = json!(1);
            }
            default_pod_spec(&mut obj["spec"]["template"]["spec"]);
            match rt.plural {
                "deployments" => {
                    default(&mut obj["spec"]["revisionHistoryLimit"], json!(10));
                    default(&mut obj["spec"]["progressDeadlineSeconds"], json!(600));
                    default(
                        &mut obj["spec"]["strategy"],
                        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
                    );
                }
                "statefulsets" => {
                    default(&mut obj["spec"]["podManagementPolicy"], json!("OrderedReady"));
                    default(
                        &mut obj["spec"]["updateStrategy"],
                        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                    );
                }
                _ => {}
            }
        }
        "jobs" => default_job(rt, obj)?,
        _ => {}
    }
    Ok(())
}

fn default(slot: &mut Value, value: Value) {
    if slot.is_null() {
        *slot = value;
    }
}

pub(crate) fn default_pod_spec(spec: &mut Value) {
    default(&mut spec["restartPolicy"], json!("Always"));
    default(&mut spec["dnsPolicy"], json!("ClusterFirst"));
    default(&mut spec["schedulerName"], json!("default-scheduler"));
    default(&mut spec["terminationGracePeriodSeconds"], json!(30));
    default(&mut spec["serviceAccountName"], json!("default"));
    default(&mut spec["securityContext"], json!({}));
}

/// `spec.selector` is required and must select the template's labels.
fn check_selector(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = meta::name(obj);
    let selector = &obj["spec"]["selector"];
    if !selector.is_object() {
        return Err(ApiError::invalid(
            rt.kind,
            rt.group,
            name,
            "spec.selector",
            "FieldValueRequired",
            "Required value",
        ));
    }
    let containers = obj["spec"]["template"]["spec"]["containers"].as_array();
    if containers.is_none_or(|c| c.is_empty()) {
        return Err(ApiError::invalid(
            rt.kind,
            rt.group,
            name,
            "spec.template.spec.containers",
            "FieldValueRequired",
            "Required value",
        ));
    }
    let labels = meta::labels(&obj["spec"]["template"]);
    let parsed = LabelSelector::from_object(selector);
    if parsed.is_empty() || !parsed.matches(&labels) {
        return Err(ApiError::invalid(
            rt.kind,
            rt.group,
            name,
            "spec.template.metadata.labels",
            "FieldValueInvalid",
            &format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                Value::Object(labels.clone())
            ),
        ));
    }
    Ok(())
}

fn default_service(state: &mut State, obj: &mut Value) {
    let spec = &mut obj["spec"];
    default(spec, json!({}));
    default(&mut spec["type"], json!("ClusterIP"));
    default(&mut spec["sessionAffinity"], json!("None"));
    if spec["type"] != "ExternalName" {
        if spec["clusterIP"].is_null() || spec["clusterIP"] == "" {
            spec["clusterIP"] = json!(state.allocate_cluster_ip());
        }
        spec["clusterIPs"] = json!([spec["clusterIP"]]);
    }
    let node_ports = spec["type"] == "NodePort" || spec["type"] == "LoadBalancer";
    if let Some(ports) = spec["ports"].as_array_mut() {
        for port in ports {
            default(&mut port["protocol"], json!("TCP"));
            let number = port["port"].clone();
            default(&mut port["targetPort"], number);
            if node_ports && port["nodePort"].is_null() {
                port["nodePort"] = json!(state.allocate_node_port());
            }
        }
    }
    obj["status"] = json!({"loadBalancer": {}});
}

/// Jobs get a generated selector on their own uid unless `spec.manualSelector`.
fn default_job(rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    default(&mut obj["spec"]["completions"], json!(1));
    default(&mut obj["spec"]["parallelism"], json!(1));
    default(&mut obj["spec"]["backoffLimit"], json!(6));
    default(&mut obj["spec"]["completionMode"], json!("NonIndexed"));
    default(
        &mut obj["spec"]["template"]["spec"]["restartPolicy"],
        json!("Never"),
    );
    default_pod_spec(&mut obj["spec"]["template"]["spec"]);
    if obj["spec"]["manualSelector"] == json!(true) {
        return check_selector(rt, obj);
    }
    if obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .is_none_or(|c| c.is_empty())
    {
        return Err(ApiError::invalid(
            rt.kind,
            rt.group,
            meta::name(obj),
            "spec.template.spec.containers",
            "FieldValueRequired",
            "Required value",
        ));
    }
    let uid = uuid::Uuid::new_v4().to_string();
    let name = meta::name(obj).to_string();
    meta::metadata_mut(obj).insert("uid".into(), json!(uid));
    obj["spec"]["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    let labels = &mut obj["spec"]["template"]["metadata"]["labels"];
    default(labels, json!({}));
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("job-name", &name),
    ] {
        labels[k] = json!(v);
    }
    Ok(())
}
