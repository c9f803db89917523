//! The kubelet of the fake node: schedules pods onto it, starts them (Pending → Running and
//! Ready after `pod_startup`, or as a [`PodFault`] says), finishes Job pods after
//! `job_duration`, and removes deleted pods after `pod_termination`.

use serde_json::{json, Value};

use super::{Ctx, NODE_NAME};
use crate::faults::PodFault;
use crate::meta;
use crate::resources::rt;

const NODE_IP: &str = "10.0.0.10";

fn condition(kind: &str, status: bool, now: &str) -> Value {
    json!({"type": kind, "status": if status { "True" } else { "False" }, "lastProbeTime": null,
           "lastTransitionTime": now})
}

fn container_statuses(pod: &Value, state: Value, ready: bool, restarts: i64) -> Value {
    let containers = pod["spec"]["containers"].as_array().cloned().unwrap_or_default();
    Value::Array(
        containers
            .iter()
            .map(|c| {
                json!({
                    "name": c["name"], "image": c["image"], "imageID": format!("docker.io/{}@sha256:fake", c["image"].as_str().unwrap_or_default()),
                    "containerID": format!("containerd://{}", uuid::Uuid::new_v4().simple()),
                    "ready": ready, "started": state.get("running").is_some(), "restartCount": restarts, "state": state,
                })
            })
            .collect(),
    )
}

fn is_job_pod(pod: &Value) -> bool {
    pod["metadata"]["ownerReferences"].as_array().is_some_and(|refs| {
        refs.iter()
            .any(|r| r["kind"] == "Job" && r["controller"] == json!(true))
    })
}

pub fn step(ctx: &mut Ctx<'_>) {
    node(ctx);
    let pods = rt("pods");
    for mut pod in ctx.state.list(pods, None) {
        let (ns, name, uid) = (
            meta::namespace(&pod).to_string(),
            meta::name(&pod).to_string(),
            meta::uid(&pod).to_string(),
        );
        let now = meta::now();
        if meta::is_deleting(&pod) {
            let grace = meta::int(&pod["metadata"]["deletionGracePeriodSeconds"], 0);
            if grace > 0 && ctx.clock.since(&uid, "terminating") < ctx.timings.pod_termination {
                continue;
            }
            if meta::finalizers(&pod).is_empty() {
                ctx.state.remove(pods, &ns, &name);
            } else if grace != 0 {
                pod["metadata"]["deletionGracePeriodSeconds"] = json!(0);
                ctx.state.put(pods, pod);
            }
            continue;
        }
        let phase = pod["status"]["phase"].as_str().unwrap_or("Pending").to_string();
        if !pod["spec"]["nodeName"].is_string() {
            pod["spec"]["nodeName"] = json!(NODE_NAME);
        }
        match phase.as_str() {
            "Pending" => {
                let fault = ctx.faults.pod_fault(&pod);
                let started = ctx.clock.since(&uid, "scheduled") >= ctx.timings.pod_startup;
                if pod["status"]["conditions"].is_null() || (started && fault != Some(PodFault::NeverReady)) {
                    start(ctx, &mut pod, started, fault, &now);
                }
            }
            "Running" if is_job_pod(&pod) && ctx.clock.since(&uid, "running") >= ctx.timings.job_duration => {
                let terminated = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": pod["status"]["startTime"], "finishedAt": now}});
                pod["status"]["phase"] = json!("Succeeded");
                pod["status"]["containerStatuses"] = container_statuses(&pod, terminated, false, 0);
                pod["status"]["conditions"] = json!([
                    condition("PodScheduled", true, &now),
                    condition("Initialized", true, &now),
                    condition("Ready", false, &now),
                    condition("ContainersReady", false, &now),
                ]);
            }
            "Running" => {
                ctx.clock.since(&uid, "running");
            }
            _ => {}
        }
        ctx.state.put(pods, pod);
    }
}

/// Moves a pod on from Pending: scheduled at once, started once `started`.
fn start(ctx: &mut Ctx<'_>, pod: &mut Value, started: bool, fault: Option<PodFault>, now: &str) {
    pod["status"]["hostIP"] = json!(NODE_IP);
    pod["status"]["hostIPs"] = json!([{"ip": NODE_IP}]);
    if !started || fault == Some(PodFault::NeverReady) {
        let waiting = json!({"waiting": {"reason": "ContainerCreating"}});
        pod["status"]["conditions"] = json!([
            condition("PodScheduled", true, now),
            condition("Initialized", true, now),
            condition("Ready", false, now),
            condition("ContainersReady", false, now),
        ]);
        pod["status"]["containerStatuses"] = container_statuses(pod, waiting, false, 0);
        return;
    }
    let ip = ctx.state.allocate_pod_ip();
    pod["status"]["podIP"] = json!(ip);
    pod["status"]["podIPs"] = json!([{"ip": ip}]);
    pod["status"]["startTime"] = json!(now);
    let (phase, ready, state, restarts) = match fault {
        Some(PodFault::CrashLoop) => (
            "Running",
            false,
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container"}}),
            3,
        ),
        Some(PodFault::Fail) => (
            "Failed",
            false,
            json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now}}),
            0,
        ),
        _ => ("Running", true, json!({"running": {"startedAt": now}}), 0),
    };
    pod["status"]["phase"] = json!(phase);
    pod["status"]["conditions"] = json!([
        condition("PodReadyToStartContainers", true, now),
        condition("Initialized", true, now),
        condition("Ready", ready, now),
        condition("ContainersReady", ready, now),
        condition("PodScheduled", true, now),
    ]);
    pod["status"]["containerStatuses"] = container_statuses(pod, state, ready, restarts);
}

/// Keeps the fake node Ready.
fn node(ctx: &mut Ctx<'_>) {
    let nodes = rt("nodes");
    let Some(mut node) = ctx.state.get(nodes, "", NODE_NAME).cloned() else {
        return;
    };
    if node["status"]["conditions"].is_array() {
        return;
    }
    let now = meta::now();
    let capacity = json!({"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"});
    node["status"] = json!({
        "capacity": capacity, "allocatable": capacity,
        "conditions": [
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "lastHeartbeatTime": now, "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now},
        ],
        "addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": NODE_NAME}],
        "nodeInfo": {"kubeletVersion": "v1.33.0-fake", "containerRuntimeVersion": "containerd://1.7.0",
                     "operatingSystem": "linux", "architecture": "amd64", "osImage": "Fake Linux",
                     "kernelVersion": "6.1.0", "kubeProxyVersion": "v1.33.0-fake", "machineID": "fake",
                     "systemUUID": "fake", "bootID": "fake"},
    });
    ctx.state.put(nodes, node);
}
