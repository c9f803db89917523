//! The PV controller: claims bind to a matching Available volume or to one provisioned
//! for them (`pvc-<uid>`); volumes go Available, Bound, then Released or deleted.

use serde_json::{json, Value};

use super::Ctx;
use crate::meta;
use crate::resources::rt;

/// A quantity such as `1Gi`, `500M` or `2` in bytes.
fn quantity(q: &Value) -> f64 {
    let text = q.as_str().map(String::from).unwrap_or_else(|| q.to_string());
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "m" => 1e-3,
        _ => 1.0,
    };
    number.parse::<f64>().unwrap_or(0.0) * factor
}

fn fits(pv: &Value, pvc: &Value) -> bool {
    let class = |o: &Value| {
        o["spec"]["storageClassName"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let modes_ok = pvc["spec"]["accessModes"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|m| {
            pv["spec"]["accessModes"]
                .as_array()
                .is_some_and(|pm| pm.contains(m))
        });
    pv["spec"]["claimRef"].is_null()
        && pv["status"]["phase"] == "Available"
        && class(pv) == class(pvc)
        && modes_ok
        && quantity(&pv["spec"]["capacity"]["storage"])
            >= quantity(&pvc["spec"]["resources"]["requests"]["storage"])
}

pub fn step(ctx: &mut Ctx<'_>) {
    let (pvs, pvcs) = (rt("persistentvolumes"), rt("persistentvolumeclaims"));
    for mut pv in ctx.state.list(pvs, None) {
        if meta::is_deleting(&pv) {
            continue;
        }
        let claim = &pv["spec"]["claimRef"];
        let phase = if claim.is_null() {
            "Available"
        } else {
            let bound = ctx
                .state
                .get(
                    pvcs,
                    claim["namespace"].as_str().unwrap_or_default(),
                    claim["name"].as_str().unwrap_or_default(),
                )
                .is_some_and(|c| claim["uid"].is_null() || c["metadata"]["uid"] == claim["uid"]);
            match (bound, pv["spec"]["persistentVolumeReclaimPolicy"].as_str()) {
                (true, _) => "Bound",
                (false, Some("Delete")) => {
                    ctx.state.remove(pvs, "", meta::name(&pv));
                    continue;
                }
                (false, _) => "Released",
            }
        };
        pv["status"] = json!({"phase": phase});
        ctx.state.put(pvs, pv);
    }
    for mut pvc in ctx.state.list(pvcs, None) {
        if meta::is_deleting(&pvc) || pvc["status"]["phase"] == "Bound" {
            continue;
        }
        let candidates = ctx.state.list(pvs, None);
        let pv = match pvc["spec"]["volumeName"].as_str() {
            Some(name) => candidates
                .into_iter()
                .find(|pv| meta::name(pv) == name && pv["spec"]["claimRef"].is_null()),
            None => candidates.into_iter().find(|pv| fits(pv, &pvc)),
        };
        let pv = match pv {
            Some(pv) => pv,
            None if pvc["spec"]["volumeName"].is_string() => continue,
            None => {
                let Some(created) = ctx.create(
                    "persistentvolumes",
                    json!({
                        "metadata": {"name": format!("pvc-{}", meta::uid(&pvc)),
                                     "annotations": {"pv.kubernetes.io/provisioned-by": "fake.csi.k8s.io"}},
                        "spec": {
                            "capacity": {"storage": pvc["spec"]["resources"]["requests"]["storage"]},
                            "accessModes": pvc["spec"]["accessModes"],
                            "storageClassName": pvc["spec"]["storageClassName"],
                            "persistentVolumeReclaimPolicy": "Delete",
                            "volumeMode": "Filesystem",
                            "hostPath": {"path": format!("/var/lib/fake-kube/pvc-{}", meta::uid(&pvc))},
                        },
                    }),
                ) else {
                    continue;
                };
                created
            }
        };
        let mut bound_pv = pv.clone();
        bound_pv["spec"]["claimRef"] = json!({
            "kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": meta::namespace(&pvc),
            "name": meta::name(&pvc), "uid": meta::uid(&pvc), "resourceVersion": pvc["metadata"]["resourceVersion"],
        });
        bound_pv["status"] = json!({"phase": "Bound"});
        ctx.state.put(pvs, bound_pv);
        pvc["spec"]["volumeName"] = json!(meta::name(&pv));
        let annotations = &mut pvc["metadata"]["annotations"];
        if !annotations.is_object() {
            *annotations = json!({});
        }
        annotations["pv.kubernetes.io/bind-completed"] = json!("yes");
        annotations["pv.kubernetes.io/bound-by-controller"] = json!("yes");
        pvc["status"] = json!({
            "phase": "Bound", "accessModes": pv["spec"]["accessModes"], "capacity": pv["spec"]["capacity"],
        });
        ctx.state.put(pvcs, pvc);
    }
}
