//! The deployment controller (a ReplicaSet per pod template, old ones scaled to zero) and
//! the replicaset controller (pods `<rs>-<5 chars>` up or down to `spec.replicas`).

use serde_json::{json, Map, Value};

use super::{is_active, is_ready, Ctx};
use crate::defaults::default_pod_spec;
use crate::meta;
use crate::resources::rt;

/// The pod-template-hash of a template (defaulted first, so equal templates hash equally).
pub fn template_hash(template: &Value) -> String {
    let mut t = template.clone();
    default_pod_spec(&mut t["spec"]);
    meta::stable_hash(&t)
}

fn with_label(map: &Value, key: &str, value: &str) -> Value {
    let mut m = map.as_object().cloned().unwrap_or_default();
    m.insert(key.into(), json!(value));
    Value::Object(m)
}

pub fn deployments(ctx: &mut Ctx<'_>) {
    for d in ctx.state.list(rt("deployments"), None) {
        if meta::is_deleting(&d) || d["spec"]["paused"] == json!(true) {
            continue;
        }
        let hash = template_hash(&d["spec"]["template"]);
        let name = format!("{}-{hash}", meta::name(&d));
        let desired = meta::int(&d["spec"]["replicas"], 1);
        let owned: Vec<Value> = ctx
            .state
            .list(rt("replicasets"), Some(meta::namespace(&d)))
            .into_iter()
            .filter(|rs| meta::controller_uid(rs) == Some(meta::uid(&d)) && !meta::is_deleting(rs))
            .collect();
        let revision = |rs: &Value| {
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0)
        };
        if !owned.iter().any(|rs| meta::name(rs) == name) {
            let next = owned.iter().map(revision).max().unwrap_or(0) + 1;
            let mut template = d["spec"]["template"].clone();
            template["metadata"]["labels"] =
                with_label(&template["metadata"]["labels"], "pod-template-hash", &hash);
            let mut selector = d["spec"]["selector"].clone();
            selector["matchLabels"] = with_label(&selector["matchLabels"], "pod-template-hash", &hash);
            let rs = json!({
                "metadata": {
                    "name": name, "namespace": meta::namespace(&d),
                    "labels": template["metadata"]["labels"],
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                        "deployment.kubernetes.io/max-replicas": (desired + 1).to_string(),
                        "deployment.kubernetes.io/revision": next.to_string(),
                    },
                    "ownerReferences": [meta::controller_ref(&d)],
                },
                "spec": {"replicas": desired, "selector": selector, "template": template},
            });
            ctx.create("replicasets", rs);
        }
        for mut rs in owned {
            let want = if meta::name(&rs) == name { desired } else { 0 };
            if meta::int(&rs["spec"]["replicas"], 1) != want {
                rs["spec"]["replicas"] = json!(want);
                rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                    json!(desired.to_string());
                let (ns, rs_name) = (meta::namespace(&rs).to_string(), meta::name(&rs).to_string());
                let _ = ctx.state.update(
                    rt("replicasets"),
                    &ns,
                    &rs_name,
                    rs,
                    crate::store::UpdateMode::Main,
                );
            }
        }
    }
}

pub fn replicasets(ctx: &mut Ctx<'_>) {
    for rs in ctx.state.list(rt("replicasets"), None) {
        if meta::is_deleting(&rs) {
            continue;
        }
        let desired = meta::int(&rs["spec"]["replicas"], 1).max(0) as usize;
        let mut active: Vec<Value> = ctx.owned_pods(&rs).into_iter().filter(is_active).collect();
        if active.len() < desired {
            for _ in active.len()..desired {
                let name = ctx.pod_name(meta::name(&rs), meta::namespace(&rs));
                ctx.create_pod(&rs, &rs["spec"]["template"], &name, &Map::new());
            }
        } else if active.len() > desired {
            // Not-ready pods go first, then the newest.
            active.sort_by_key(|p| {
                (
                    is_ready(p),
                    std::cmp::Reverse(
                        p["metadata"]["creationTimestamp"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    ),
                )
            });
            for pod in &active[..active.len() - desired] {
                ctx.delete("pods", pod);
            }
        }
    }
}
