//! Fault management end to end with a real Prometheus and Alertmanager (Debian's
//! packages, tacker_testkit::monitoring): a pod's series crosses an operator's alert rule,
//! Prometheus fires, Alertmanager posts to tacker-rs's `/alert`, the alarm is raised and
//! its subscriber notified; the series falls back, the alert resolves and the alarm is
//! cleared. An auto-heal rule replaces a pod through an LCM HEAL occurrence.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::monitoring::{monitoring, TARGET_LABEL};
use tacker_testkit::{backend_tests, TestApp, TestBackend};

use crate::lcm_helpers::{expect, v2, wait_op, Receiver, PROJECT};
use crate::vnffm::{fm, instance_with_pods};

const PLUGIN: &str =
    "[prometheus_plugin]\nfault_management = true\nauto_healing = true\ntimer_interval = 1\n";

async fn with_prometheus_plugin<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if monitoring().is_none() {
        return;
    }
    let Some(app) = TestApp::builder(backend).conf(PLUGIN).spawn().await else {
        return;
    };
    body(app).await
}

/// Polls `/vnffm/v1/alarms` until `predicate` holds.
async fn wait_alarms(app: &TestApp, what: &str, predicate: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let (_, alarms) = expect(fm(app, PROJECT, Method::GET, "/alarms"), 200).await;
        let alarms = alarms.as_array().unwrap().clone();
        if predicate(&alarms) {
            return alarms;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {what} within 30 s");
}

backend_tests!(prometheus_alerts_become_alarms_and_heals => prometheus_alerts_become_alarms_and_heals, setup = with_prometheus_plugin);

/// The labels of a pod's series.
fn memory(pod: &str) -> [(&str, &str); 2] {
    [("namespace", "default"), ("pod", pod)]
}

async fn prometheus_alerts_become_alarms_and_heals(app: TestApp) {
    let rig = monitoring().unwrap();
    let conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, pods) = instance_with_pods(&app).await;
    let (vnfc_id, pod) = pods[0].clone();
    let (healed_vnfc, healed_pod) = pods.last().unwrap().clone();
    let (location, _) = expect(
        v2(&app, Method::PATCH, &format!("/vnf_instances/{instance_id}"))
            .header("Content-Type", "application/merge-patch+json")
            .json(&json!({"vnfConfigurableProperties": {"isAutohealEnabled": true}})),
        202,
    )
    .await;
    wait_op(&app, &location.unwrap(), &["COMPLETED"]).await;
    let receiver = Receiver::start(None).await;
    expect(
        fm(&app, PROJECT, Method::POST, "/subscriptions").json(&json!({"callbackUri": receiver.callback})),
        201,
    )
    .await;

    // The operator's rules, as Tacker's documentation writes them, plus the label that
    // tells the rig's relay which test server this is.
    let target = app.socket_addr().to_string();
    rig.set_series("pod_memory_working_set_bytes", &memory(&pod), 900.0);
    rig.set_series("pod_memory_working_set_bytes", &memory(&healed_pod), 100.0);
    let rule = |name: &str, pod: &str, labels: Value| {
        let mut all =
            json!({"receiver_type": "tacker", "vnf_instance_id": instance_id, TARGET_LABEL: target});
        all.as_object_mut()
            .unwrap()
            .extend(labels.as_object().unwrap().clone());
        json!({"alert": name, "expr": format!("pod_memory_working_set_bytes{{pod=\"{pod}\"}} > 500"), "for": "0s",
               "labels": all,
               "annotations": {"probable_cause": "Memory pressure", "fault_type": "Memory", "fault_details": "over 500 bytes"}})
    };
    let file = format!("{instance_id}.json");
    rig.write_rule_group(
        &file,
        &format!("tacker-{instance_id}"),
        json!([
            rule(
                "PodMemoryHigh",
                &pod,
                json!({"function_type": "vnffm", "pod": pod,
                "perceived_severity": "MAJOR", "event_type": "EQUIPMENT_ALARM"})
            ),
            rule(
                "PodNeedsHeal",
                &healed_pod,
                json!({"function_type": "auto_heal", "vnfc_info_id": healed_vnfc})
            ),
        ]),
    )
    .await;
    let groups = rig.rule_groups().await;
    assert!(groups.to_string().contains("PodMemoryHigh"), "{groups}");

    // Firing: an alarm on the VNFC, and its notification.
    let alarms = wait_alarms(&app, "alarm", |a| !a.is_empty()).await;
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    let alarm = &alarms[0];
    assert_eq!(alarm["vnfcInstanceIds"], json!([vnfc_id]));
    assert_eq!(alarm["perceivedSeverity"], "MAJOR");
    assert_eq!(alarm["eventType"], "EQUIPMENT_ALARM");
    assert_eq!(alarm["probableCause"], "Memory pressure");
    let alarm_id = alarm["id"].as_str().unwrap().to_owned();
    receiver
        .wait_for("AlarmNotification", |n| {
            n.iter().any(|n| {
                n["notificationType"] == "AlarmNotification" && n["alarm"]["id"] == alarm_id.as_str()
            })
        })
        .await;

    // Resolved: the alarm is cleared, and its subscriber told.
    rig.set_series("pod_memory_working_set_bytes", &memory(&pod), 100.0);
    wait_alarms(&app, "cleared alarm", |a| {
        a.iter().all(|a| a["alarmClearedTime"].is_string())
    })
    .await;
    receiver
        .wait_for("AlarmClearedNotification", |n| {
            n.iter().any(|n| {
                n["notificationType"] == "AlarmClearedNotification" && n["alarmId"] == alarm_id.as_str()
            })
        })
        .await;

    // Auto-heal: the alert becomes a HEAL occurrence that replaces the pod.
    rig.set_series("pod_memory_working_set_bytes", &memory(&healed_pod), 900.0);
    let heal = 'found: {
        for _ in 0..300 {
            let (_, ops) = expect(
                v2(&app, Method::GET, "/vnf_lcm_op_occs?filter=(eq,operation,HEAL)"),
                200,
            )
            .await;
            if let Some(op) = ops
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["operationState"] == "COMPLETED")
            {
                break 'found op.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no completed HEAL within 30 s");
    };
    let heal_path = format!("/vnf_lcm_op_occs/{}", heal["id"].as_str().unwrap());
    let (_, heal) = expect(v2(&app, Method::GET, &heal_path), 200).await;
    assert_eq!(heal["isAutomaticInvocation"], true, "{heal}");
    assert_eq!(heal["vnfInstanceId"], instance_id.as_str());
    assert_eq!(heal["operationParams"]["vnfcInstanceId"], json!([healed_vnfc]));
    assert_eq!(conductor.driver.changes(&instance_id, "heal"), 1);
    let running: Vec<String> = conductor
        .driver
        .pods(&instance_id)
        .iter()
        .map(|v| v.resource_id.clone())
        .collect();
    assert!(
        !running.contains(&healed_pod),
        "{healed_pod} was replaced: {running:?}"
    );
    assert!(running.contains(&pod), "the other pods stay: {running:?}");

    rig.remove_rule_file(&file).await;
    for pod in [&pod, &healed_pod] {
        rig.remove_series("pod_memory_working_set_bytes", &memory(pod));
    }
}
