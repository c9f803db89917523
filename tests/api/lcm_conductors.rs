//! Several conductors on one database: a killed conductor's operation is taken over and
//! ends FAILED_TEMP, and two running conductors never run the same operation.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tacker_testkit::{backend_tests, TestApp, TestBackend};

use crate::lcm_helpers::{act_and_wait, expect, instantiated, project_with_vim_and_package, v2, wait_op};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_conductors_operation_is_taken_over() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let vim_id = project_with_vim_and_package(&app).await;
    let first = app.spawn_conductor(Duration::from_secs(1));
    let (id, location) = instantiated(
        &app,
        &vim_id,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 60_000}}}),
    )
    .await;
    wait_op(&app, &location, &["PROCESSING"]).await;
    drop(first); // killed mid-operation: no clean shutdown, its claim just stops being renewed

    let _second = app.spawn_conductor(Duration::from_secs(1));
    let op = wait_op(&app, &location, &["FAILED_TEMP", "COMPLETED"]).await;
    assert_eq!(op["operationState"], "FAILED_TEMP");
    assert_eq!(
        op["error"]["detail"],
        "Failure due to conductor processing error."
    );
    let op = act_and_wait(&app, &location, "rollback", &["ROLLED_BACK", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "ROLLED_BACK");
    expect(v2(&app, Method::DELETE, &format!("/vnf_instances/{id}")), 204).await;
}

backend_tests!(two_conductors_share_the_work => two_conductors_share_the_work);

async fn two_conductors_share_the_work(app: TestApp) {
    let vim_id = project_with_vim_and_package(&app).await;
    let a = app.spawn_conductor(Duration::from_secs(30));
    let b = app.spawn_conductor(Duration::from_secs(30));
    let mut started = Vec::new();
    for _ in 0..8 {
        started.push(
            instantiated(
                &app,
                &vim_id,
                json!({"tacker-rs-test": {"delay_ms": {"instantiate": 100}}}),
            )
            .await,
        );
    }
    for (id, location) in &started {
        assert_eq!(
            wait_op(&app, location, &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
            "COMPLETED"
        );
        // Exactly one conductor's driver ran it.
        let (on_a, on_b) = (!a.driver.pods(id).is_empty(), !b.driver.pods(id).is_empty());
        assert!(on_a ^ on_b, "instance {id}: on a = {on_a}, on b = {on_b}");
    }
}
