//! The all-in-one process stopped (SIGTERM) during an operation: the server stops first,
//! the conductor finishes the operation on the still-open pool, and the pool closes last.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tacker::AllInOne;
use tacker_driver::TestDriver;
use tacker_testkit::{TestApp, TestBackend};

use crate::lcm_helpers::{instantiated, project_with_vim_and_package, wait_op};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_all_in_one_lets_its_running_operation_finish() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let vim_id = project_with_vim_and_package(&app).await;

    let driver = Arc::new(TestDriver::new());
    let drivers = tacker_testkit::kubernetes_in_memory(driver.clone());
    let mut config = app.config.clone();
    config.lcm.poll_interval = Duration::from_millis(100);
    config.lcm.graceful_shutdown_timeout = Duration::from_secs(30);
    let all_in_one = AllInOne::build(config, drivers).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let process = tokio::spawn(all_in_one.run(async move {
        let _ = stopped.await;
    }));

    let (id, location) = instantiated(
        &app,
        &vim_id,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 1500}}}),
    )
    .await;
    wait_op(&app, &location, &["PROCESSING"]).await;
    stop.send(()).unwrap();
    process.await.unwrap().unwrap();

    let op = wait_op(&app, &location, &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
    assert_eq!(driver.changes(&id, "instantiate"), 1);
    let row = app
        .db
        .get_op_occ(op["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.claimed_by, None);
}
