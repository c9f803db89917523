//! Subscriptions and notifications: filters, authentication, delivery through the
//! outbox, and no notification lost across a conductor restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::{backend_tests, TestApp, TestBackend};

use crate::lcm_helpers::{
    expect, instantiated, project_with_vim_and_package, v2, wait_op, Receiver, SAMPLE_VNFD_ID,
};

fn states(received: &[Value]) -> Vec<String> {
    received
        .iter()
        .filter(|n| n["notificationType"] == "VnfLcmOperationOccurrenceNotification")
        .map(|n| n["operationState"].as_str().unwrap_or_default().to_string())
        .collect()
}

backend_tests!(notifications_reach_subscribers => notifications_reach_subscribers);

async fn notifications_reach_subscribers(app: TestApp) {
    let vim_id = project_with_vim_and_package(&app).await;
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let receiver = Receiver::start(Some(("subscriber", "hook-secret"))).await;
    let body = json!({
        "callbackUri": receiver.callback,
        "filter": {"notificationTypes": ["VnfIdentifierCreationNotification", "VnfLcmOperationOccurrenceNotification"],
                   "vnfInstanceSubscriptionFilter": {"vnfdIds": [SAMPLE_VNFD_ID]}},
        "authentication": {"authType": ["BASIC"], "paramsBasic": {"userName": "subscriber", "password": "hook-secret"}},
    });
    let (location, subscription) = expect(v2(&app, Method::POST, "/subscriptions").json(&body), 201).await;
    assert!(location.unwrap().ends_with(&format!(
        "/vnflcm/v2/subscriptions/{}",
        subscription["id"].as_str().unwrap()
    )));
    assert!(subscription.get("authentication").is_none());
    assert!(!subscription.to_string().contains("hook-secret"));

    let (id, location) = instantiated(&app, &vim_id, json!({})).await;
    wait_op(&app, &location, &["COMPLETED"]).await;
    let received = receiver
        .wait_for("the COMPLETED notification", |r| {
            states(r).contains(&"COMPLETED".to_string())
        })
        .await;
    assert_eq!(
        received[0]["notificationType"],
        "VnfIdentifierCreationNotification"
    );
    assert_eq!(received[0]["vnfInstanceId"], id.as_str());
    assert_eq!(states(&received), ["STARTING", "PROCESSING", "COMPLETED"]);
    let completed = received.last().unwrap();
    assert_eq!(completed["notificationStatus"], "RESULT");
    assert_eq!(completed["operation"], "INSTANTIATE");
    assert!(completed["_links"]["vnfLcmOpOcc"]["href"]
        .as_str()
        .unwrap()
        .ends_with(location.split_once("/vnflcm/v2").unwrap().1));
    assert_eq!(completed["affectedVnfcs"].as_array().unwrap().len(), 2);

    let (_, list) = expect(v2(&app, Method::GET, "/subscriptions"), 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let sub_path = format!("/subscriptions/{}", subscription["id"].as_str().unwrap());
    expect(v2(&app, Method::DELETE, &sub_path), 204).await;
    expect(v2(&app, Method::GET, &sub_path), 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_notification_is_lost_across_a_conductor_restart() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    project_with_vim_and_package(&app).await;
    let receiver = Receiver::start(None).await;
    expect(
        v2(&app, Method::POST, "/subscriptions").json(&json!({"callbackUri": receiver.callback})),
        201,
    )
    .await;

    // The subscriber is down while the first conductor tries, then that conductor dies.
    receiver.fail_posts(true);
    let first = app.spawn_conductor(Duration::from_secs(1));
    let (_, created) = expect(
        v2(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    drop(first);
    assert!(receiver.received().is_empty());

    receiver.fail_posts(false);
    let _second = app.spawn_conductor(Duration::from_secs(1));
    let received = receiver
        .wait_for("the creation notification", |r| !r.is_empty())
        .await;
    assert_eq!(
        received[0]["notificationType"],
        "VnfIdentifierCreationNotification"
    );
    assert_eq!(received[0]["vnfInstanceId"], created["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_checked_before_they_are_stored() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let receiver = Receiver::start(Some(("u", "p"))).await;
    let cases = [
        (json!({}), 400, "'callbackUri' is a required property"),
        (json!({"callbackUri": "ftp://x/y"}), 400, "is not an http(s) URI"),
        (
            json!({"callbackUri": receiver.callback, "filter": {"operationTypes": ["EXPLODE"]}}),
            400,
            "'\"EXPLODE\"' is not one of",
        ),
        (
            json!({"callbackUri": receiver.callback, "authentication": {"authType": ["BASIC"]}}),
            400,
            "paramsBasic",
        ),
        (
            json!({"callbackUri": receiver.callback}),
            422,
            "Notification test to",
        ),
        (
            json!({"callbackUri": receiver.callback, "authentication": {"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "wrong"}}}),
            422,
            "401",
        ),
    ];
    for (body, status, expected) in cases {
        let (_, error) = expect(v2(&app, Method::POST, "/subscriptions").json(&body), status).await;
        let detail = error["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{body}: {detail}");
        assert!(!detail.contains("wrong"), "{detail}");
    }
    let (_, list) = expect(v2(&app, Method::GET, "/subscriptions"), 200).await;
    assert_eq!(list, json!([]));
}
