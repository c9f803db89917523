//! The Prometheus + Alertmanager rig: a series of the exporter crosses a threshold, the
//! alert rule fires, Alertmanager notifies the relay, which forwards to the test's server;
//! then the series falls back and the resolution follows the same way.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tacker_testkit::monitoring::monitoring;

/// (path, body) of each POST the test's server received.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn record(State(received): State<Received>, uri: Uri, body: Bytes) -> StatusCode {
    received
        .lock()
        .unwrap()
        .push((uri.path().to_string(), serde_json::from_slice(&body).unwrap()));
    StatusCode::NO_CONTENT
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_rig_fires_and_resolves_an_alert() {
    let Some(rig) = monitoring() else {
        return;
    };
    // The test's stand-in for tacker-rs: records what reaches /alert and
    // /alert/auto_healing.
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let app = Router::new()
        .route("/alert", post(record))
        .route("/alert/auto_healing", post(record))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let id = uuid::Uuid::new_v4().simple().to_string();
    let pod = format!("vdu1-{}", &id[..8]);
    let labels = [("namespace", "default"), ("pod", pod.as_str())];
    rig.set_series("pod_cpu_usage_seconds_total", &labels, 1.0);
    let file = format!("{id}.json");
    let begun = Instant::now();
    rig.write_rule_group(
        &file,
        &format!("group-{id}"),
        json!([{
            "alert": "PodCpuHigh",
            "expr": format!("pod_cpu_usage_seconds_total{{pod=\"{pod}\"}} > 0.5"),
            "for": "0s",
            "labels": {"receiver_type": "tacker", "function_type": "vnffm",
                       "tacker_test_target": target, "perceived_severity": "WARNING",
                       "event_type": "PROCESSING_ERROR_ALARM"},
            "annotations": {"probable_cause": "cpu", "fault_details": "busy"},
        }, {
            "alert": "PodCpuHeal",
            "expr": format!("pod_cpu_usage_seconds_total{{pod=\"{pod}\"}} > 0.5"),
            "labels": {"receiver_type": "tacker", "function_type": "auto_heal",
                       "tacker_test_target": target},
        }]),
    )
    .await;
    let start = Instant::now();

    let groups = rig.rule_groups().await;
    let group = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["file"].as_str().unwrap().ends_with(&file))
        .unwrap_or_else(|| panic!("rule group of {file} not loaded: {groups}"));
    assert_eq!(group["rules"][0]["name"], "PodCpuHigh");
    assert_eq!(group["rules"][0]["type"], "alerting");
    assert_eq!(group["rules"][1]["name"], "PodCpuHeal");

    let firing = rig
        .wait_for_delivery(Duration::from_secs(15), |d| {
            d.target == target && d.path == "/alert" && d.body["status"] == "firing"
        })
        .await
        .unwrap_or_else(|| panic!("no firing notification: {:?}", rig.deliveries_to(&target)));
    let fired_in = start.elapsed();
    assert_eq!(firing.path, "/alert");
    assert_eq!(firing.status, Some(204));
    let body = &firing.body;
    assert_eq!(body["receiver"], "vnffm");
    assert_eq!(body["version"], "4");
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{body}");
    let alert = &alerts[0];
    assert_eq!(alert["status"], "firing");
    assert_eq!(alert["labels"]["alertname"], "PodCpuHigh");
    assert_eq!(alert["labels"]["pod"], pod.as_str());
    assert_eq!(alert["labels"]["namespace"], "default");
    assert_eq!(alert["labels"]["receiver_type"], "tacker");
    assert_eq!(alert["labels"]["function_type"], "vnffm");
    assert_eq!(alert["annotations"]["fault_details"], "busy");
    assert!(alert["startsAt"].as_str().unwrap().starts_with("20"), "{alert}");
    assert!(!alert["fingerprint"].as_str().unwrap().is_empty(), "{alert}");
    // What reached the server is Alertmanager's body, unchanged.
    assert!(received
        .lock()
        .unwrap()
        .contains(&("/alert".to_string(), body.clone())));
    // Another function type, another receiver and path.
    let heal = rig
        .wait_for_delivery(Duration::from_secs(5), |d| {
            d.target == target && d.body["receiver"] == "auto_heal"
        })
        .await
        .unwrap_or_else(|| panic!("no auto_heal notification: {:?}", rig.deliveries_to(&target)));
    assert_eq!(heal.path, "/alert/auto_healing");
    assert_eq!(heal.status, Some(204));
    assert_eq!(heal.body["alerts"][0]["labels"]["alertname"], "PodCpuHeal");

    rig.set_series("pod_cpu_usage_seconds_total", &labels, 0.1);
    let resolved = rig
        .wait_for_delivery(Duration::from_secs(15), |d| {
            d.target == target && d.path == "/alert" && d.body["status"] == "resolved"
        })
        .await
        .unwrap_or_else(|| panic!("no resolved notification: {:?}", rig.deliveries_to(&target)));
    let resolved_in = start.elapsed() - fired_in;
    assert_eq!(resolved.status, Some(204));
    let alert = &resolved.body["alerts"][0];
    assert_eq!(alert["status"], "resolved");
    assert_eq!(alert["fingerprint"], firing.body["alerts"][0]["fingerprint"]);
    assert!(alert["endsAt"].as_str().unwrap().starts_with("20"), "{alert}");
    assert!(received
        .lock()
        .unwrap()
        .contains(&("/alert".to_string(), resolved.body.clone())));
    eprintln!(
        "rule group loaded in {:?}, fired {fired_in:?} later, resolved {resolved_in:?} after that",
        start - begun
    );

    rig.remove_rule_file(&file).await;
    rig.remove_series("pod_cpu_usage_seconds_total", &labels);
    let groups = rig.rule_groups().await;
    assert!(!groups.to_string().contains(&file), "{groups}");
}
