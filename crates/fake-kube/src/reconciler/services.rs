//! The endpoints controller: an `Endpoints` object per Service with a selector, with the
//! IPs of the selected pods (ready ones in `addresses`, others in `notReadyAddresses`).

use serde_json::{json, Value};

use super::{is_ready, Ctx};
use crate::meta;
use crate::resources::rt;
use crate::selector::LabelSelector;

const MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";

fn target_port(port: &Value, pods: &[&Value]) -> Option<i64> {
    match &port["targetPort"] {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => pods.iter().find_map(|p| {
            p["spec"]["containers"].as_array()?.iter().find_map(|c| {
                c["ports"]
                    .as_array()?
                    .iter()
                    .find(|cp| cp["name"] == json!(name))
                    .and_then(|cp| cp["containerPort"].as_i64())
            })
        }),
        _ => port["port"].as_i64(),
    }
}

fn address(pod: &Value) -> Value {
    json!({
        "ip": pod["status"]["podIP"],
        "nodeName": pod["spec"]["nodeName"],
        "targetRef": {"kind": "Pod", "namespace": meta::namespace(pod), "name": meta::name(pod), "uid": meta::uid(pod)},
    })
}

pub fn step(ctx: &mut Ctx<'_>) {
    let endpoints = rt("endpoints");
    let services = ctx.state.list(rt("services"), None);
    for svc in &services {
        let Some(selector) = svc["spec"]["selector"].as_object().filter(|s| !s.is_empty()) else {
            continue;
        };
        if meta::is_deleting(svc) {
            continue;
        }
        let selector = LabelSelector::from_labels(selector);
        let pods = ctx.state.list(rt("pods"), Some(meta::namespace(svc)));
        let mut selected: Vec<&Value> = pods
            .iter()
            .filter(|p| !meta::is_deleting(p) && p["status"]["podIP"].is_string())
            .filter(|p| selector.matches(&meta::labels(p)))
            .collect();
        selected.sort_by_key(|p| p["status"]["podIP"].as_str().unwrap_or_default().to_string());
        let ready: Vec<Value> = selected
            .iter()
            .filter(|p| is_ready(p))
            .map(|p| address(p))
            .collect();
        let not_ready: Vec<Value> = selected
            .iter()
            .filter(|p| !is_ready(p))
            .map(|p| address(p))
            .collect();
        let ports: Vec<Value> = svc["spec"]["ports"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                let mut port = json!({"port": target_port(p, &selected)?, "protocol": p["protocol"]});
                if let Some(name) = p["name"].as_str() {
                    port["name"] = json!(name);
                }
                Some(port)
            })
            .collect();
        let mut subset = json!({});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        let (ns, name) = (meta::namespace(svc), meta::name(svc));
        let mut labels = meta::labels(svc);
        labels.insert(MANAGED_BY.into(), json!("endpoint-controller"));
        let mut desired = json!({"metadata": {"name": name, "namespace": ns, "labels": labels}});
        if !selected.is_empty() {
            subset["ports"] = json!(ports);
            desired["subsets"] = json!([subset]);
        }
        match ctx.state.get(endpoints, ns, name).cloned() {
            None => {
                ctx.create("endpoints", desired);
            }
            Some(mut existing) => {
                existing["metadata"]["labels"] = desired["metadata"]["labels"].clone();
                match desired.get("subsets") {
                    Some(s) => existing["subsets"] = s.clone(),
                    None => {
                        existing.as_object_mut().map(|o| o.remove("subsets"));
                    }
                }
                ctx.state.put(endpoints, existing);
            }
        }
    }
    // Endpoints this controller made whose Service is gone.
    for ep in ctx.state.list(endpoints, None) {
        let managed = ep["metadata"]["labels"][MANAGED_BY] == "endpoint-controller";
        if managed
            && ctx
                .state
                .get(rt("services"), meta::namespace(&ep), meta::name(&ep))
                .is_none()
        {
            ctx.state.remove(endpoints, meta::namespace(&ep), meta::name(&ep));
        }
    }
}
