//! A conductor meets faults mid-operation: the database stalls for longer than its lease,
//! another conductor takes its operation over, it is stopped (SIGTERM). It never fails an
//! operation it is still running, never runs one twice, and leaves nothing claimed.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tacker_testkit::db_fault::SqliteWriteLock;
use tacker_testkit::{backend_tests, with_backend, TestApp, TestBackend};

use crate::lcm_helpers::{act_and_wait, expect, instantiated, project_with_vim_and_package, v2, wait_op};

const LEASE: Duration = Duration::from_secs(2);

/// Holds the database for `how_long`: SQLite's write lock elsewhere, or a stalled relay.
async fn stall_database(app: &TestApp, how_long: Duration) {
    match &app.relay {
        Some(relay) => {
            relay.stall();
            tokio::time::sleep(how_long).await;
            relay.restore();
        }
        None => {
            let lock = SqliteWriteLock::take(&app.database.connection).await;
            tokio::time::sleep(how_long).await;
            drop(lock);
        }
    }
}

async fn stall_longer_than_the_lease(backend: TestBackend) {
    let Some(app) = TestApp::builder(backend).through_relay().spawn().await else {
        return;
    };
    let vim_id = project_with_vim_and_package(&app).await;
    let conductor = app.spawn_conductor(LEASE);
    let (id, location) = instantiated(
        &app,
        &vim_id,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 1500}}}),
    )
    .await;
    wait_op(&app, &location, &["PROCESSING"]).await;
    // The stall outlasts the lease twice over, and the driver's step ends inside it.
    stall_database(&app, LEASE * 2 + Duration::from_millis(500)).await;
    let op = wait_op(&app, &location, &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
    assert_eq!(
        conductor.driver.changes(&id, "instantiate"),
        1,
        "the operation ran exactly once"
    );
    let row = app
        .db
        .get_op_occ(op["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.claimed_by, None, "nothing is left claimed");
}

backend_tests!(
    a_stall_longer_than_the_lease_does_not_fail_the_operation => stall_longer_than_the_lease,
    setup = with_backend
);

backend_tests!(a_superseded_execution_changes_nothing => superseded_execution);

/// Another conductor has taken the operation over (its claim is in the row): the first
/// execution stops before its next call to the VIM and writes nothing.
async fn superseded_execution(app: TestApp) {
    let vim_id = project_with_vim_and_package(&app).await;
    let conductor = app.spawn_conductor(Duration::from_millis(900));
    let (id, location) = instantiated(
        &app,
        &vim_id,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 2500}}}),
    )
    .await;
    let op = wait_op(&app, &location, &["PROCESSING"]).await;
    let op_id = op["id"].as_str().unwrap();
    let taken = tacker_testkit::raw::execute(
        &app.config.database_connection,
        &format!(
            "UPDATE vnf_lcm_op_occs SET claimed_by = 'another-conductor/1', \
             lease_until = '2999-01-01 00:00:00' WHERE id = '{op_id}'"
        ),
    )
    .await
    .unwrap();
    assert_eq!(taken, 1);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        conductor.driver.changes(&id, "instantiate"),
        0,
        "the superseded execution did not touch the VIM"
    );
    let row = app.db.get_op_occ(op_id).await.unwrap().unwrap();
    assert_eq!(row.operation_state.as_str(), "PROCESSING", "it wrote nothing");
    assert_eq!(row.claimed_by.as_deref(), Some("another-conductor/1"));
}

backend_tests!(a_stopped_conductor_finishes_its_operations => stop_finishes);

async fn stop_finishes(app: TestApp) {
    let vim_id = project_with_vim_and_package(&app).await;
    let conductor = app.spawn_stoppable_conductor(Duration::from_secs(30), Duration::from_secs(30));
    let (_, location) = instantiated(
        &app,
        &vim_id,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 1000}}}),
    )
    .await;
    wait_op(&app, &location, &["PROCESSING"]).await;
    conductor.shut_down().await;
    // Shut down means done: no polling needed.
    let (_, op) = expect(
        v2(&app, Method::GET, location.split_once("/vnflcm/v2").unwrap().1),
        200,
    )
    .await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
}

backend_tests!(an_operation_outlasting_the_drain_ends_failed_temp => stop_interrupts);

/// The drain period ends first: the operation ends FAILED_TEMP saying why, released,
/// and another conductor retries it to completion.
async fn stop_interrupts(app: TestApp) {
    let vim_id = project_with_vim_and_package(&app).await;
    let conductor = app.spawn_stoppable_conductor(Duration::from_secs(30), Duration::from_millis(300));
    let (_, location) = instantiated(
        &app,
        &vim_id,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 60_000}}}),
    )
    .await;
    let op = wait_op(&app, &location, &["PROCESSING"]).await;
    conductor.shut_down().await;
    let row = app
        .db
        .get_op_occ(op["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.operation_state.as_str(), "FAILED_TEMP");
    assert_eq!(row.claimed_by, None);
    assert!(row.error.unwrap().as_str().contains("conductor was stopped"));

    // The retry runs without the delay: the instance's parameters are the same, so lift
    // it through the stored request.
    tacker_testkit::raw::execute(
        &app.config.database_connection,
        &format!(
            "UPDATE vnf_lcm_op_occs SET operation_params = REPLACE(operation_params, '60000', '10') WHERE id = '{}'",
            op["id"].as_str().unwrap()
        ),
    )
    .await
    .unwrap();
    let _next = app.spawn_conductor(Duration::from_secs(30));
    let op = act_and_wait(&app, &location, "retry", &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
}
