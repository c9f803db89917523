//! Status counts of the workload controllers, kept in step with their pods. Counts that
//! the API types mark `omitempty` are left out when zero, as the real apiserver sends them.

use serde_json::{json, Map, Value};

use super::stateful::finished;
use super::{is_active, is_ready, Ctx};
use crate::meta;
use crate::resources::rt;
use crate::store::State;

fn count(status: &mut Map<String, Value>, key: &str, n: i64, omit_zero: bool) {
    if n == 0 && omit_zero {
        status.remove(key);
    } else {
        status.insert(key.into(), json!(n));
    }
}

/// A condition that keeps its transition time while status and reason stay the same.
fn condition(old: &Value, kind: &str, ok: bool, reason: &str, message: &str) -> Value {
    let status = if ok { "True" } else { "False" };
    let previous = old["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .filter(|c| c["status"] == status && c["reason"] == reason);
    if let Some(previous) = previous {
        return previous.clone();
    }
    let now = meta::now();
    json!({"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
           "reason": reason, "message": message})
}

fn write_status(state: &mut State, plural: &str, mut obj: Value, status: Map<String, Value>) {
    if obj["status"] != Value::Object(status.clone()) {
        obj["status"] = Value::Object(status);
        state.put(rt(plural), obj);
    }
}

fn base(obj: &Value) -> Map<String, Value> {
    let mut status = obj["status"].as_object().cloned().unwrap_or_default();
    status.insert("observedGeneration".into(), obj["metadata"]["generation"].clone());
    status
}

pub fn step(ctx: &mut Ctx<'_>) {
    replicasets(ctx);
    deployments(ctx);
    statefulsets(ctx);
    daemonsets(ctx);
    jobs(ctx);
}

fn replicasets(ctx: &mut Ctx<'_>) {
    for rs in ctx.state.list(rt("replicasets"), None) {
        let pods: Vec<Value> = ctx.owned_pods(&rs).into_iter().filter(is_active).collect();
        let ready = pods.iter().filter(|p| is_ready(p)).count() as i64;
        let mut status = base(&rs);
        count(&mut status, "replicas", pods.len() as i64, false);
        count(&mut status, "fullyLabeledReplicas", pods.len() as i64, true);
        count(&mut status, "readyReplicas", ready, true);
        count(&mut status, "availableReplicas", ready, true);
        write_status(ctx.state, "replicasets", rs, status);
    }
}

fn deployments(ctx: &mut Ctx<'_>) {
    for d in ctx.state.list(rt("deployments"), None) {
        let sets: Vec<Value> = ctx
            .state
            .list(rt("replicasets"), Some(meta::namespace(&d)))
            .into_iter()
            .filter(|rs| meta::controller_uid(rs) == Some(meta::uid(&d)))
            .collect();
        let hash = super::workloads::template_hash(&d["spec"]["template"]);
        let current = format!("{}-{hash}", meta::name(&d));
        let sum = |key: &str| {
            sets.iter()
                .map(|rs| meta::int(&rs["status"][key], 0))
                .sum::<i64>()
        };
        let (replicas, ready, available) = (sum("replicas"), sum("readyReplicas"), sum("availableReplicas"));
        let updated = sets
            .iter()
            .find(|rs| meta::name(rs) == current)
            .map(|rs| meta::int(&rs["status"]["replicas"], 0))
            .unwrap_or(0);
        let desired = meta::int(&d["spec"]["replicas"], 1);
        let mut status = base(&d);
        count(&mut status, "replicas", replicas, true);
        count(&mut status, "updatedReplicas", updated, true);
        count(&mut status, "readyReplicas", ready, true);
        count(&mut status, "availableReplicas", available, true);
        count(
            &mut status,
            "unavailableReplicas",
            (desired - available).max(0),
            true,
        );
        let old = Value::Object(status.clone());
        let complete = updated == desired && replicas == desired && available == desired;
        let conditions = vec![
            condition(
                &old,
                "Available",
                available >= desired,
                if available >= desired {
                    "MinimumReplicasAvailable"
                } else {
                    "MinimumReplicasUnavailable"
                },
                if available >= desired {
                    "Deployment has minimum availability."
                } else {
                    "Deployment does not have minimum availability."
                },
            ),
            condition(
                &old,
                "Progressing",
                true,
                if complete {
                    "NewReplicaSetAvailable"
                } else {
                    "ReplicaSetUpdated"
                },
                &format!("ReplicaSet \"{current}\" is progressing."),
            ),
        ];
        status.insert("conditions".into(), Value::Array(conditions));
        write_status(ctx.state, "deployments", d, status);
    }
}

fn statefulsets(ctx: &mut Ctx<'_>) {
    for sts in ctx.state.list(rt("statefulsets"), None) {
        let revision = format!(
            "{}-{}",
            meta::name(&sts),
            super::workloads::template_hash(&sts["spec"]["template"])
        );
        let pods: Vec<Value> = ctx.owned_pods(&sts).into_iter().filter(is_active).collect();
        let ready = pods.iter().filter(|p| is_ready(p)).count() as i64;
        let updated = pods
            .iter()
            .filter(|p| p["metadata"]["labels"]["controller-revision-hash"] == json!(revision))
            .count() as i64;
        let mut status = base(&sts);
        count(&mut status, "replicas", pods.len() as i64, false);
        count(&mut status, "readyReplicas", ready, true);
        count(&mut status, "currentReplicas", updated, true);
        count(&mut status, "updatedReplicas", updated, true);
        count(&mut status, "availableReplicas", ready, false);
        status.insert("currentRevision".into(), json!(revision));
        status.insert("updateRevision".into(), json!(revision));
        status.insert("collisionCount".into(), json!(0));
        write_status(ctx.state, "statefulsets", sts, status);
    }
}

fn daemonsets(ctx: &mut Ctx<'_>) {
    for ds in ctx.state.list(rt("daemonsets"), None) {
        let pods: Vec<Value> = ctx.owned_pods(&ds).into_iter().filter(is_active).collect();
        let ready = pods.iter().filter(|p| is_ready(p)).count() as i64;
        let scheduled = pods.len().min(1) as i64;
        let mut status = base(&ds);
        count(&mut status, "currentNumberScheduled", scheduled, false);
        count(&mut status, "numberMisscheduled", 0, false);
        count(&mut status, "desiredNumberScheduled", 1, false);
        count(&mut status, "numberReady", ready, false);
        count(&mut status, "updatedNumberScheduled", scheduled, true);
        count(&mut status, "numberAvailable", ready, true);
        count(&mut status, "numberUnavailable", 1 - ready.min(1), true);
        write_status(ctx.state, "daemonsets", ds, status);
    }
}

fn jobs(ctx: &mut Ctx<'_>) {
    for job in ctx.state.list(rt("jobs"), None) {
        if finished(&job) {
            continue;
        }
        let pods = ctx.owned_pods(&job);
        let n = |phase: &str| pods.iter().filter(|p| p["status"]["phase"] == phase).count() as i64;
        let (succeeded, failed) = (n("Succeeded"), n("Failed"));
        let active = pods.iter().filter(|p| is_active(p)).count() as i64;
        let ready = pods.iter().filter(|p| is_ready(p)).count() as i64;
        let mut status = job["status"].as_object().cloned().unwrap_or_default();
        if !status.contains_key("startTime") {
            status.insert("startTime".into(), json!(meta::now()));
        }
        count(&mut status, "active", active, true);
        count(&mut status, "succeeded", succeeded, true);
        count(&mut status, "failed", failed, true);
        status.insert("ready".into(), json!(ready));
        status.insert(
            "terminating".into(),
            json!(pods.iter().filter(|p| meta::is_deleting(p)).count()),
        );
        let old = Value::Object(status.clone());
        if succeeded >= meta::int(&job["spec"]["completions"], 1) {
            let now = meta::now();
            status.insert("completionTime".into(), json!(now));
            status.insert(
                "conditions".into(),
                json!([
                    condition(
                        &old,
                        "SuccessCriteriaMet",
                        true,
                        "CompletionsReached",
                        "Reached expected number of succeeded pods"
                    ),
                    condition(
                        &old,
                        "Complete",
                        true,
                        "CompletionsReached",
                        "Reached expected number of succeeded pods"
                    ),
                ]),
            );
        } else if failed > meta::int(&job["spec"]["backoffLimit"], 6) {
            status.insert(
                "conditions".into(),
                json!([
                    condition(
                        &old,
                        "FailureTarget",
                        true,
                        "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit"
                    ),
                    condition(
                        &old,
                        "Failed",
                        true,
                        "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit"
                    ),
                ]),
            );
        }
        write_status(ctx.state, "jobs", job, status);
    }
}
