//! The pods of a VDU's workload: those its `spec.selector` matches whose names follow the
//! workload's naming rule (as Tacker checks), so that another workload's pods with the
//! same labels are not counted.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::client::Session;
use crate::error::{Error, Result};
use crate::manifests::VduWorkload;

/// A pod as the driver looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodState {
    pub name: String,
    pub uid: String,
    pub running: bool,
    /// Being deleted (deletionTimestamp set).
    pub terminating: bool,
}

/// The label selector string of a workload's `spec.selector`.
pub fn selector(live: &Value) -> Result<String> {
    let mut terms = Vec::new();
    if let Some(labels) = live
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            terms.push(format!("{key}={}", value.as_str().unwrap_or_default()));
        }
    }
    for expression in live
        .pointer("/spec/selector/matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "In" => terms.push(format!("{key} in ({})", values.join(","))),
            "NotIn" => terms.push(format!("{key} notin ({})", values.join(","))),
            "Exists" => terms.push(key.to_owned()),
            "DoesNotExist" => terms.push(format!("!{key}")),
            _ => {}
        }
    }
    if terms.is_empty() {
        let name = live
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(Error::Manifest(format!("workload {name} has no spec.selector")));
    }
    Ok(terms.join(","))
}

fn lower_alnum(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Tacker's pod naming rules: Deployment `<name>-<hash≤10>-<5>`, ReplicaSet and
/// DaemonSet `<name>-<5>`, StatefulSet `<name>-<ordinal>`.
pub fn named_after(kind: &str, workload: &str, pod: &str) -> bool {
    let Some(rest) = pod.strip_prefix(workload).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    match kind {
        "Deployment" => rest.split_once('-').is_some_and(|(hash, id)| {
            lower_alnum(hash) && hash.len() <= 10 && lower_alnum(id) && id.len() == 5
        }),
        "ReplicaSet" | "DaemonSet" => lower_alnum(rest) && rest.len() == 5,
        "StatefulSet" => !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// The pods of `workload` (live object `live`) in `namespace`, sorted by name.
pub async fn of_workload(
    session: &Session,
    namespace: &str,
    workload: &VduWorkload,
    live: &Value,
) -> Result<Vec<PodState>> {
    let selector = selector(live)?;
    let api: Api<Pod> = Api::namespaced(session.client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| session.err(format!("list Pods {namespace} ({selector})"), e))?;
    let mut pods: Vec<PodState> = list
        .items
        .into_iter()
        .filter_map(|pod| {
            let name = pod.metadata.name?;
            named_after(&workload.kind, &workload.name, &name).then(|| PodState {
                uid: pod.metadata.uid.unwrap_or_default(),
                running: pod.status.and_then(|s| s.phase).as_deref() == Some("Running"),
                terminating: pod.metadata.deletion_timestamp.is_some(),
                name,
            })
        })
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(pods)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_and_naming_rules() {
        let live = json!({"spec": {"selector": {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                 {"key": "x", "operator": "DoesNotExist"}]}}});
        assert_eq!(selector(&live).unwrap(), "app=web,tier in (a,b),!x");
        assert!(selector(&json!({"metadata": {"name": "w"}})).is_err());

        assert!(named_after("Deployment", "web", "web-5d8f7c9b4-x2k9z"));
        assert!(!named_after("Deployment", "web", "web-api-5d8f7c9b4-x2k9z"));
        assert!(!named_after("Deployment", "web", "webx-5d8f7c9b4-x2k9z"));
        assert!(named_after("StatefulSet", "kv", "kv-0"));
        assert!(named_after("StatefulSet", "kv", "kv-12"));
        assert!(!named_after("StatefulSet", "kv", "kv-a"));
        assert!(named_after("ReplicaSet", "rs", "rs-abcde"));
        assert!(named_after("DaemonSet", "ds", "ds-abc12"));
        assert!(!named_after("DaemonSet", "ds", "ds-abc1"));
    }
}
