//! The statefulset controller (pods `<sts>-<ordinal>` in order, with their PVCs), the
//! daemonset controller (one pod on the fake node) and the job controller (pods that run
//! to completion).

use serde_json::{json, Map, Value};

use super::workloads::template_hash;
use super::{is_active, is_ready, Ctx, NODE_NAME};
use crate::meta;
use crate::resources::rt;

fn labels(pairs: &[(&str, String)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
}

fn ordinal(sts: &Value, pod: &Value) -> Option<i64> {
    meta::name(pod)
        .strip_prefix(&format!("{}-", meta::name(sts)))?
        .parse()
        .ok()
}

pub fn statefulsets(ctx: &mut Ctx<'_>) {
    for sts in ctx.state.list(rt("statefulsets"), None) {
        if meta::is_deleting(&sts) {
            continue;
        }
        let (ns, name) = (meta::namespace(&sts).to_string(), meta::name(&sts).to_string());
        let desired = meta::int(&sts["spec"]["replicas"], 1);
        let ordered = sts["spec"]["podManagementPolicy"] != "Parallel";
        let revision = format!("{name}-{}", template_hash(&sts["spec"]["template"]));
        let pods = ctx.owned_pods(&sts);
        let find = |i: i64| pods.iter().find(|p| ordinal(&sts, p) == Some(i));
        let mut blocked = false;
        for i in 0..desired {
            match find(i) {
                Some(pod) if meta::is_deleting(pod) => blocked = true,
                Some(pod) if pod["status"]["phase"] == "Failed" => {
                    ctx.delete("pods", pod);
                    blocked = true;
                }
                Some(pod) => blocked |= ordered && !is_ready(pod),
                None if blocked => {}
                None => {
                    let pod_name = format!("{name}-{i}");
                    let mut template = sts["spec"]["template"].clone();
                    template["spec"]["hostname"] = json!(pod_name);
                    if let Some(service) = sts["spec"]["serviceName"].as_str() {
                        template["spec"]["subdomain"] = json!(service);
                    }
                    for claim in sts["spec"]["volumeClaimTemplates"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                    {
                        let claim_name = format!("{}-{pod_name}", meta::name(&claim));
                        if ctx
                            .state
                            .get(rt("persistentvolumeclaims"), &ns, &claim_name)
                            .is_none()
                        {
                            let mut pvc = claim.clone();
                            pvc["metadata"]["name"] = json!(claim_name);
                            pvc["metadata"]["namespace"] = json!(ns);
                            pvc["metadata"]["labels"] = sts["spec"]["selector"]["matchLabels"].clone();
                            ctx.create("persistentvolumeclaims", pvc);
                        }
                        let volumes = &mut template["spec"]["volumes"];
                        if !volumes.is_array() {
                            *volumes = json!([]);
                        }
                        if let Some(v) = volumes.as_array_mut() {
                            v.push(json!({"name": meta::name(&claim), "persistentVolumeClaim": {"claimName": claim_name}}));
                        }
                    }
                    let extra = labels(&[
                        ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
                        ("apps.kubernetes.io/pod-index", i.to_string()),
                        ("controller-revision-hash", revision.clone()),
                    ]);
                    ctx.create_pod(&sts, &template, &pod_name, &extra);
                    blocked |= ordered;
                }
            }
        }
        // Scale down from the highest ordinal, one at a time when ordered.
        let mut extra: Vec<&Value> = pods
            .iter()
            .filter(|p| ordinal(&sts, p).is_none_or(|i| i >= desired))
            .collect();
        extra.sort_by_key(|p| std::cmp::Reverse(ordinal(&sts, p)));
        let terminating = pods.iter().any(meta::is_deleting);
        for pod in extra.into_iter().filter(|p| !meta::is_deleting(p)) {
            if ordered && terminating {
                break;
            }
            ctx.delete("pods", pod);
            if ordered {
                break;
            }
        }
        // Rolling update: replace the highest outdated pod once all are ready.
        let all_ready = pods.len() as i64 == desired && pods.iter().all(is_ready);
        if all_ready {
            let mut outdated: Vec<&Value> = pods
                .iter()
                .filter(|p| p["metadata"]["labels"]["controller-revision-hash"] != json!(revision))
                .collect();
            outdated.sort_by_key(|p| std::cmp::Reverse(ordinal(&sts, p)));
            if let Some(pod) = outdated.first() {
                ctx.delete("pods", pod);
            }
        }
    }
}

pub fn daemonsets(ctx: &mut Ctx<'_>) {
    for ds in ctx.state.list(rt("daemonsets"), None) {
        if meta::is_deleting(&ds) {
            continue;
        }
        let revision = template_hash(&ds["spec"]["template"]);
        let pods: Vec<Value> = ctx.owned_pods(&ds).into_iter().filter(is_active).collect();
        for pod in &pods {
            if pod["metadata"]["labels"]["controller-revision-hash"] != json!(revision) {
                ctx.delete("pods", pod);
            }
        }
        if pods.is_empty() {
            let mut template = ds["spec"]["template"].clone();
            template["spec"]["nodeName"] = json!(NODE_NAME);
            let generation = meta::int(&ds["metadata"]["generation"], 1).to_string();
            let extra = labels(&[
                ("controller-revision-hash", revision),
                ("pod-template-generation", generation),
            ]);
            let name = ctx.pod_name(meta::name(&ds), meta::namespace(&ds));
            ctx.create_pod(&ds, &template, &name, &extra);
        }
    }
}

pub fn jobs(ctx: &mut Ctx<'_>) {
    for job in ctx.state.list(rt("jobs"), None) {
        if meta::is_deleting(&job) || finished(&job) || job["spec"]["suspend"] == json!(true) {
            continue;
        }
        let pods = ctx.owned_pods(&job);
        let count = |phase: &str| pods.iter().filter(|p| p["status"]["phase"] == phase).count() as i64;
        let (succeeded, failed) = (count("Succeeded"), count("Failed"));
        let active = pods.iter().filter(|p| is_active(p)).count() as i64;
        let completions = meta::int(&job["spec"]["completions"], 1);
        let parallelism = meta::int(&job["spec"]["parallelism"], 1);
        if failed > meta::int(&job["spec"]["backoffLimit"], 6) {
            continue;
        }
        let want = parallelism.min(completions - succeeded).max(0);
        for _ in active..want {
            let name = ctx.pod_name(meta::name(&job), meta::namespace(&job));
            ctx.create_pod(&job, &job["spec"]["template"], &name, &Map::new());
        }
    }
}

/// Has the job a Complete or Failed condition?
pub fn finished(job: &Value) -> bool {
    job["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
    })
}
