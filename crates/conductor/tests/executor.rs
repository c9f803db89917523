//! The executor on its own, over a real database and the in-memory test driver: the
//! states an occurrence goes through, and the claim that fences every write.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_conductor::Executor;
use tacker_crypto::KeyVault;
use tacker_db::instances::OpOccRow;
use tacker_driver::{Drivers, TestDriver};
use tacker_lcm::notifications::Notifier;
use tacker_lcm::{CancelMode, OpState};
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::{backend_tests, kubernetes_in_memory, TestApp};
use tokio_util::sync::CancellationToken;

const PROJECT: &str = "conductor-tests";
const LEASE: Duration = Duration::from_secs(30);

fn executor(app: &TestApp, drivers: Drivers) -> Executor {
    Executor {
        db: app.db.clone(),
        vault: KeyVault::new(&app.config.vim_key_dir, None),
        drivers,
        packages: tacker_pkgstore::PackageStore::new(&app.config.vnf_package).unwrap(),
        notifier: Notifier {
            endpoint: "http://127.0.0.1".into(),
        },
        holder: "executor-test".into(),
        lease: LEASE,
        cancel_check: Duration::from_millis(50),
    }
}

async fn send(app: &TestApp, method: Method, path: &str, body: Value) -> (u16, Value) {
    let request = app
        .request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v2{path}"))
        .header("Version", "2.0.0")
        .json(&body);
    app.send(request).await
}

/// A project with a default Kubernetes VIM, the sample package and one instance.
async fn instance(app: &TestApp) -> String {
    let vim = json!({"vim": {
        "type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
        "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "token"},
        "vim_project": {"name": "default"},
    }});
    let (status, _) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&vim))
        .await;
    assert_eq!(status, 201);
    let package = create_and_upload_as(app, Some(PROJECT), sample_package()).await;
    assert_eq!(
        wait_onboarding(app, &package).await["onboardingState"],
        "ONBOARDED"
    );
    let (status, created) = send(
        app,
        Method::POST,
        "/vnf_instances",
        json!({"vnfdId": SAMPLE_VNFD_ID}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

async fn instantiate(app: &TestApp, id: &str, extra: Value) -> String {
    let mut params = json!({"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let body = json!({"flavourId": "simple", "additionalParams": params});
    let response = app
        .request_as(
            PROJECT,
            "member,reader",
            Method::POST,
            &format!("/vnflcm/v2/vnf_instances/{id}/instantiate"),
        )
        .header("Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_owned()
}

/// Claims the occurrence as a conductor would.
async fn claim(app: &TestApp, op_id: &str) -> OpOccRow {
    let claimed = app
        .db
        .claim_op_occs("executor-test", LEASE, 10, &Default::default())
        .await
        .unwrap();
    claimed
        .ops
        .into_iter()
        .find(|op| op.id == op_id)
        .expect("claimed")
}

/// An instance, an instantiate of it asked for (`extra` additionalParams), and an
/// executor whose Kubernetes VIM type runs in `driver`.
async fn prepared(app: &TestApp, extra: Value) -> (String, String, Arc<TestDriver>, Executor) {
    let id = instance(app).await;
    let driver = Arc::new(TestDriver::new());
    let executor = executor(app, kubernetes_in_memory(driver.clone()));
    let op_id = instantiate(app, &id, extra).await;
    (id, op_id, driver, executor)
}

async fn op(app: &TestApp, id: &str) -> OpOccRow {
    app.db.get_op_occ(id).await.unwrap().unwrap()
}

backend_tests!(an_instantiate_runs_to_completed_and_releases_its_claim => completed);

async fn completed(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(&app, json!({})).await;
    executor
        .run(claim(&app, &op_id).await, CancellationToken::new())
        .await;

    let done = op(&app, &op_id).await;
    assert_eq!(done.operation_state.as_str(), "COMPLETED");
    assert_eq!((done.claimed_by, done.pending_action), (None, None));
    assert_eq!(driver.changes(&id, "instantiate"), 1);
    let instance = app.db.get_instance(&id).await.unwrap().unwrap();
    assert_eq!(instance.instantiation_state.as_str(), "INSTANTIATED");
    assert_eq!(instance.active_op_occ_id, None, "the instance is free again");
    // What the Kubernetes VIM type records is kept for later operations.
    let info = instance.instantiated_vnf_info.unwrap().to_value();
    assert_eq!(
        info["metadata"]["lcm-kubernetes-def-files"],
        json!(["Files/kubernetes/deployment.yaml"])
    );
    let vnfcs = info["vnfcResourceInfo"].as_array().unwrap();
    assert!(!vnfcs.is_empty());
    assert_eq!(
        driver.pods(&id).len(),
        vnfcs.len(),
        "what runs is what the instance says"
    );
}

backend_tests!(a_failing_driver_ends_failed_temp_with_its_error => failed_temp);

async fn failed_temp(app: TestApp) {
    let (id, op_id, driver, executor) =
        prepared(&app, json!({"tacker-rs-test": {"fail": "instantiate"}})).await;
    executor
        .run(claim(&app, &op_id).await, CancellationToken::new())
        .await;

    let failed = op(&app, &op_id).await;
    assert_eq!(failed.operation_state.as_str(), "FAILED_TEMP");
    let error = failed.error.unwrap().to_value();
    assert_eq!(error["status"], 500);
    assert_eq!(error["detail"], "test driver: instantiate failed as requested");
    assert_eq!(failed.claimed_by, None);
    let instance = app.db.get_instance(&id).await.unwrap().unwrap();
    assert_eq!(instance.instantiation_state.as_str(), "NOT_INSTANTIATED");
    assert_eq!(
        instance.active_op_occ_id.as_deref(),
        Some(op_id.as_str()),
        "held for retry or rollback"
    );
    assert!(
        driver.pods(&id).is_empty(),
        "the failed step left nothing running"
    );
}

backend_tests!(a_vim_type_without_a_driver_is_not_implemented => no_driver);

async fn no_driver(app: TestApp) {
    let id = instance(&app).await;
    let executor = executor(&app, Drivers::new());
    let op_id = instantiate(&app, &id, json!({})).await;
    executor
        .run(claim(&app, &op_id).await, CancellationToken::new())
        .await;
    let failed = op(&app, &op_id).await;
    assert_eq!(failed.operation_state.as_str(), "FAILED_TEMP");
    let error = failed.error.unwrap().to_value();
    assert_eq!(error["status"], 501);
    assert_eq!(error["title"], "Not Implemented");
}

backend_tests!(a_claim_taken_by_another_conductor_fences_every_write => fenced);

async fn fenced(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(&app, json!({})).await;
    let mine = claim(&app, &op_id).await;
    // Another conductor's claim replaced ours before we began.
    tacker_testkit::raw::execute(
        &app.config.database_connection,
        &format!("UPDATE vnf_lcm_op_occs SET claimed_by = 'other/1' WHERE id = '{op_id}'"),
    )
    .await
    .unwrap();
    executor.run(mine, CancellationToken::new()).await;

    let untouched = op(&app, &op_id).await;
    assert_eq!(untouched.operation_state.as_str(), "STARTING", "nothing written");
    assert_eq!(untouched.claimed_by.as_deref(), Some("other/1"));
    assert_eq!(driver.changes(&id, "instantiate"), 0, "the VIM was not touched");
}

backend_tests!(an_occurrence_found_processing_was_interrupted => interrupted);

async fn interrupted(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(&app, json!({})).await;
    // A dead conductor had moved it to PROCESSING; its lease has run out.
    tacker_testkit::raw::execute(
        &app.config.database_connection,
        &format!("UPDATE vnf_lcm_op_occs SET operation_state = 'PROCESSING' WHERE id = '{op_id}'"),
    )
    .await
    .unwrap();
    executor
        .run(claim(&app, &op_id).await, CancellationToken::new())
        .await;

    let failed = op(&app, &op_id).await;
    assert_eq!(failed.operation_state.as_str(), "FAILED_TEMP");
    let error = failed.error.unwrap().to_value();
    assert_eq!(error["detail"], "Failure due to conductor processing error.");
    assert_eq!(
        driver.changes(&id, "instantiate"),
        0,
        "its half-done step is not repeated"
    );
}

backend_tests!(a_stop_during_the_step_ends_failed_temp => stopped_early);

async fn stopped_early(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(
        &app,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 60_000}}}),
    )
    .await;
    let stop = CancellationToken::new();
    let run = executor.run(claim(&app, &op_id).await, stop.clone());
    let stopper = async {
        // Stop once the step has begun.
        for _ in 0..100 {
            if op(&app, &op_id).await.operation_state == OpState::Processing {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.cancel();
    };
    tokio::join!(run, stopper);
    let stopped = op(&app, &op_id).await;
    assert_eq!(stopped.operation_state.as_str(), "FAILED_TEMP");
    assert_eq!(stopped.claimed_by, None);
    assert!(stopped.error.unwrap().as_str().contains("conductor was stopped"));
    assert_eq!(driver.changes(&id, "instantiate"), 0);
}

/// Waits until the occurrence is in `state`.
async fn until_state(app: &TestApp, op_id: &str, state: OpState) {
    for _ in 0..250 {
        if op(app, op_id).await.operation_state == state {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{op_id} did not reach {state}");
}

fn error_detail(op: &OpOccRow) -> String {
    let error: Value = op.error.as_ref().unwrap().to_value();
    error["detail"].as_str().unwrap().to_owned()
}

backend_tests!(a_graceful_cancel_stops_before_the_next_call_to_the_vim => graceful_cancel);

async fn graceful_cancel(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(
        &app,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 400}}}),
    )
    .await;
    let claimed = claim(&app, &op_id).await;
    // Asked for after the conductor read the row: it is found by polling.
    app.db
        .request_op_cancel(&op_id, CancelMode::Graceful, chrono::Utc::now())
        .await
        .unwrap();
    executor.run(claimed, CancellationToken::new()).await;

    let cancelled = op(&app, &op_id).await;
    assert_eq!(cancelled.operation_state, OpState::FailedTemp);
    assert!(
        error_detail(&cancelled).starts_with("The operation was cancelled (GRACEFUL)"),
        "{:?}",
        cancelled.error
    );
    assert_eq!(
        (
            cancelled.is_cancel_pending,
            cancelled.cancel_mode,
            cancelled.claimed_by
        ),
        (false, None, None),
        "no cancel is pending once the operation stopped"
    );
    assert_eq!(driver.changes(&id, "instantiate"), 0, "the VIM was not called");
    let instance = app.db.get_instance(&id).await.unwrap().unwrap();
    assert_eq!(
        instance.active_op_occ_id.as_deref(),
        Some(op_id.as_str()),
        "held for retry, rollback or fail"
    );
}

backend_tests!(a_cancel_found_at_the_claim_rolls_back_before_anything_runs => cancelled_unstarted);

async fn cancelled_unstarted(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(&app, json!({})).await;
    app.db
        .request_op_cancel(&op_id, CancelMode::Forceful, chrono::Utc::now())
        .await
        .unwrap();
    executor
        .run(claim(&app, &op_id).await, CancellationToken::new())
        .await;

    let rolled = op(&app, &op_id).await;
    assert_eq!(rolled.operation_state, OpState::RolledBack);
    assert_eq!(
        error_detail(&rolled),
        "The operation was cancelled before it started."
    );
    assert_eq!(driver.changes(&id, "instantiate"), 0);
    let instance = app.db.get_instance(&id).await.unwrap().unwrap();
    assert_eq!(instance.active_op_occ_id, None, "the instance is free again");
}

backend_tests!(a_forceful_cancel_overtakes_a_graceful_one_and_stops_at_once => forceful_cancel);

async fn forceful_cancel(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(
        &app,
        json!({"tacker-rs-test": {"delay_ms": {"instantiate": 60_000}}}),
    )
    .await;
    let run = executor.run(claim(&app, &op_id).await, CancellationToken::new());
    let canceller = async {
        until_state(&app, &op_id, OpState::Processing).await;
        app.db
            .request_op_cancel(&op_id, CancelMode::Graceful, chrono::Utc::now())
            .await
            .unwrap();
        // GRACEFUL waits for the step in hand to end (a minute here).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pending = op(&app, &op_id).await;
        assert_eq!(pending.operation_state, OpState::Processing);
        assert!(pending.is_cancel_pending);
        assert_eq!(pending.cancel_mode.as_deref(), Some("GRACEFUL"));
        // A second GRACEFUL is refused; FORCEFUL may follow.
        assert!(app
            .db
            .request_op_cancel(&op_id, CancelMode::Graceful, chrono::Utc::now())
            .await
            .is_err());
        app.db
            .request_op_cancel(&op_id, CancelMode::Forceful, chrono::Utc::now())
            .await
            .unwrap();
    };
    tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(run, canceller) })
        .await
        .expect("a FORCEFUL cancel does not wait for the step");

    let cancelled = op(&app, &op_id).await;
    assert_eq!(cancelled.operation_state, OpState::FailedTemp);
    assert!(error_detail(&cancelled).starts_with("The operation was cancelled (FORCEFUL)"));
    assert_eq!((cancelled.is_cancel_pending, cancelled.claimed_by), (false, None));
    assert_eq!(driver.changes(&id, "instantiate"), 0);
    // Nothing is left to cancel.
    assert!(app
        .db
        .request_op_cancel(&op_id, CancelMode::Forceful, chrono::Utc::now())
        .await
        .is_err());
}

backend_tests!(a_rollback_can_be_cancelled_and_asked_for_again => cancelled_rollback);

async fn cancelled_rollback(app: TestApp) {
    let (id, op_id, driver, executor) = prepared(
        &app,
        json!({"tacker-rs-test": {"fail": "instantiate", "delay_ms": {"rollback": 60_000}}}),
    )
    .await;
    executor
        .run(claim(&app, &op_id).await, CancellationToken::new())
        .await;
    let ask_rollback = || async {
        app.db
            .request_op_action(
                &op_id,
                OpState::FailedTemp,
                OpState::FailedTemp,
                Some("rollback"),
                None,
                false,
                chrono::Utc::now(),
                &[],
            )
            .await
            .unwrap()
    };
    ask_rollback().await;
    let run = executor.run(claim(&app, &op_id).await, CancellationToken::new());
    let canceller = async {
        until_state(&app, &op_id, OpState::RollingBack).await;
        app.db
            .request_op_cancel(&op_id, CancelMode::Forceful, chrono::Utc::now())
            .await
            .unwrap();
    };
    tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(run, canceller) })
        .await
        .expect("the rollback stops at once");
    let cancelled = op(&app, &op_id).await;
    assert_eq!(cancelled.operation_state, OpState::FailedTemp);
    assert!(error_detail(&cancelled).starts_with("The operation was cancelled (FORCEFUL)"));
    assert_eq!(driver.changes(&id, "rollback"), 0);
    // The user may roll back again (this time it runs to its end).
    ask_rollback().await;
    assert_eq!(op(&app, &op_id).await.pending_action.as_deref(), Some("rollback"));
}

backend_tests!(an_unreadable_occurrence_holds_up_no_other => unreadable_claimed);

/// A won row that does not decode (a corrupt column) is reported apart and stays claimed
/// until its lease runs out; the others are claimed as usual.
async fn unreadable_claimed(app: TestApp) {
    let first = instance(&app).await;
    let (status, second) = send(
        &app,
        Method::POST,
        "/vnf_instances",
        json!({"vnfdId": SAMPLE_VNFD_ID}),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    let corrupt = instantiate(&app, &first, json!({})).await;
    let readable = instantiate(&app, second["id"].as_str().unwrap(), json!({})).await;
    let sql = format!("UPDATE vnf_lcm_op_occs SET error = 'not JSON' WHERE id = '{corrupt}'");
    tacker_testkit::raw::execute(&app.database.connection, &sql)
        .await
        .unwrap();

    let none_running = Default::default();
    let claim = || app.db.claim_op_occs("executor-test", LEASE, 10, &none_running);
    let claimed = claim().await.unwrap();
    let ids: Vec<&str> = claimed.ops.iter().map(|op| op.id.as_str()).collect();
    assert_eq!(ids, [readable.as_str()]);
    let [(id, error)] = &claimed.unreadable[..] else {
        panic!("{:?}", claimed.unreadable)
    };
    assert_eq!(id, &corrupt);
    assert!(error.to_string().contains("column \"error\""), "{error}");
    let again = claim().await.unwrap();
    assert!(again.ops.is_empty() && again.unreadable.is_empty(), "{again:?}");
}
