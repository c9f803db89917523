//! v2's header rules, requests that do not fit the instance's state, and operations that
//! fail: FAILED_TEMP, then retry, rollback or fail.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::{backend_tests, TestApp, TestBackend};

use crate::lcm_helpers::{
    act_and_wait, expect, instantiated, project_with_vim_and_package, v1, v2, wait_op, PROJECT,
    SAMPLE_VNFD_ID,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_version_header_rules_and_version_lists() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let list = "/vnflcm/v2/vnf_instances";
    let cases: [(Option<&str>, u16, &str); 4] = [
        (None, 400, "'Version' HTTP header missing."),
        (Some("two"), 400, "'Version' HTTP header value 'two' is invalid."),
        (Some("1.3.0"), 406, "Version 1.3.0 not supported."),
        (Some("2.0.0"), 200, ""),
    ];
    for (version, status, detail) in cases {
        let mut request = app.request_as(PROJECT, "member", Method::GET, list);
        if let Some(version) = version {
            request = request.header("Version", version);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{version:?}");
        assert_eq!(response.headers()["version"], "2.0.0");
        assert_eq!(response.headers()["accept-ranges"], "none");
        if !detail.is_empty() {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["detail"], detail);
        }
    }
    let (_, versions) = expect(app.request(Method::GET, "/vnflcm/v2/api_versions"), 200).await;
    assert_eq!(
        versions,
        json!({"uriPrefix": "/vnflcm/v2", "apiVersions": [{"version": "2.0.0", "isDeprecated": false}]})
    );
    let (_, versions) = expect(app.request(Method::GET, "/vnflcm/v1/api_versions"), 200).await;
    assert_eq!(
        versions,
        json!({"uriPrefix": "/vnflcm/v1", "apiVersions": [{"version": "1.3.0", "isDeprecated": false}]})
    );
    let (_, versions) = expect(app.request(Method::GET, "/vnflcm/api_versions"), 200).await;
    assert_eq!(versions["apiVersions"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_do_not_fit() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let vim_id = project_with_vim_and_package(&app).await;
    let (_, error) = expect(v2(&app, Method::POST, "/vnf_instances").json(&json!({})), 400).await;
    assert_eq!(error["detail"], "'vnfdId' is a required property");
    let (_, error) = expect(
        v2(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": "unknown"})),
        422,
    )
    .await;
    assert_eq!(error["detail"], "VnfdId unknown not enabled.");
    let (_, created) = expect(
        v2(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let path = |op: &str| format!("/vnf_instances/{id}/{op}");

    let (_, error) = expect(
        v2(&app, Method::POST, &path("terminate")).json(&json!({"terminationType": "FORCEFUL"})),
        409,
    )
    .await;
    assert_eq!(error["detail"], format!("VnfInstance {id} isn't instantiated."));
    let vim = json!({"vim1": {"vimId": vim_id, "vimType": "kubernetes"}});
    let files = json!({"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]});
    let cases = [
        (
            json!({"vimConnectionInfo": vim, "additionalParams": files}),
            "'flavourId' is a required property",
        ),
        (
            json!({"flavourId": "big", "vimConnectionInfo": vim, "additionalParams": files}),
            "flavourId 'big' is not defined",
        ),
        (
            json!({"flavourId": "simple", "vimConnectionInfo": vim}),
            "'lcm-kubernetes-def-files' must be specified",
        ),
        (
            json!({"flavourId": "simple", "vimConnectionInfo": vim, "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/nope.yaml"]}}),
            "'Files/kubernetes/nope.yaml' in lcm-kubernetes-def-files is not an artifact of the VNF package",
        ),
        (
            json!({"flavourId": "simple", "instantiationLevelId": "huge", "vimConnectionInfo": vim, "additionalParams": files}),
            "instantiationLevelId 'huge' is not defined",
        ),
        (
            json!({"flavourId": "simple", "vimConnectionInfo": {"vim1": {"vimType": "kubernetes"}}, "additionalParams": files}),
            "vimConnectionInfo entries need 'vimId'",
        ),
    ];
    for (body, expected) in cases {
        let (_, error) = expect(v2(&app, Method::POST, &path("instantiate")).json(&body), 400).await;
        assert!(
            error["detail"].as_str().unwrap().contains(expected),
            "{body}: {error}"
        );
    }
    let unknown_vim = json!({"flavourId": "simple", "vimConnectionInfo": {"vim1": {"vimId": "0b0e0f1a-2b3c-4d5e-8f70-8192a3b4c5d6", "vimType": "kubernetes"}}, "additionalParams": files});
    let (_, error) = expect(
        v2(&app, Method::POST, &path("instantiate")).json(&unknown_vim),
        404,
    )
    .await;
    assert_eq!(
        error["detail"],
        "VIM 0b0e0f1a-2b3c-4d5e-8f70-8192a3b4c5d6 not found."
    );
    let (_, error) = expect(v2(&app, Method::POST, &path("nonsense")).json(&json!({})), 404).await;
    assert!(error["detail"].is_string());
    let (_, ops) = expect(v2(&app, Method::GET, "/vnf_lcm_op_occs"), 200).await;
    assert_eq!(ops, json!([]), "no refused request left an occurrence behind");

    // Another project sees nothing; a v1 reader may not act.
    let other = app
        .request_as(
            "project-b",
            "member,reader",
            Method::GET,
            &format!("/vnflcm/v2/vnf_instances/{id}"),
        )
        .header("Version", "2.0.0");
    expect(other, 404).await;
    let (_, v1_created) = expect(
        v1(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let reader = app.request_as(
        PROJECT,
        "reader",
        Method::DELETE,
        &format!("/vnflcm/v1/vnf_instances/{}", v1_created["id"].as_str().unwrap()),
    );
    let (_, error) = expect(reader, 403).await;
    assert_eq!(
        error["detail"],
        "Policy doesn't allow os_nfv_orchestration_api:vnf_instances:delete to be performed."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_operations_are_retried_rolled_back_or_failed() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let vim_id = project_with_vim_and_package(&app).await;

    let (id, location) =
        instantiated(&app, &vim_id, json!({"tacker-rs-test": {"fail": "instantiate"}})).await;
    let op = wait_op(&app, &location, &["FAILED_TEMP", "COMPLETED"]).await;
    assert_eq!(op["operationState"], "FAILED_TEMP");
    assert_eq!(
        op["error"]["detail"],
        "test driver: instantiate failed as requested"
    );
    assert!(
        op["_links"]["retry"].is_object()
            && op["_links"]["rollback"].is_object()
            && op["_links"]["fail"].is_object()
    );
    let op_path = location.split_once("/vnflcm/v2").unwrap().1.to_string();

    // The instance stays held: nothing else may start.
    let (_, error) = expect(v2(&app, Method::DELETE, &format!("/vnf_instances/{id}")), 409).await;
    assert_eq!(
        error["detail"],
        format!("Other LCM operation of vnfInstance {id} is in progress.")
    );

    // Retry runs it again (and it fails again); rollback undoes it.
    let op = act_and_wait(&app, &location, "retry", &["FAILED_TEMP", "COMPLETED"]).await;
    assert_eq!(op["operationState"], "FAILED_TEMP");
    let op = act_and_wait(&app, &location, "rollback", &["ROLLED_BACK", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "ROLLED_BACK");
    let (_, error) = expect(v2(&app, Method::POST, &format!("{op_path}/retry")), 409).await;
    assert!(error["detail"].as_str().unwrap().ends_with("is not FAILED_TEMP."));

    // The instance is free again; a failed scale is given up with `fail`.
    let body = json!({"flavourId": "simple", "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]}});
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
        202,
    )
    .await;
    assert_eq!(
        wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED"
    );
    let scale = json!({"type": "SCALE_OUT", "aspectId": "web_aspect", "additionalParams": {"tacker-rs-test": {"fail": "scale"}}});
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/scale")).json(&scale),
        202,
    )
    .await;
    let location = location.unwrap();
    assert_eq!(
        wait_op(&app, &location, &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "FAILED_TEMP"
    );
    let op_path = location.split_once("/vnflcm/v2").unwrap().1.to_string();
    let (_, failed) = expect(v2(&app, Method::POST, &format!("{op_path}/fail")), 200).await;
    assert_eq!(failed["operationState"], "FAILED");
    let (_, instance) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    let web = instance["instantiatedVnfInfo"]["scaleStatus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["aspectId"] == "web_aspect")
        .unwrap()
        .clone();
    assert_eq!(web["scaleLevel"], 0, "a failed scale changed nothing");
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/terminate"))
            .json(&json!({"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 1})),
        202,
    )
    .await;
    assert_eq!(
        wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED",
        "the instance is free after fail"
    );
}

backend_tests!(running_operations_are_cancelled => running_operations_are_cancelled);

/// Creates a v1 instance and instantiates it with the test driver's delay (ms); returns
/// the instance id and the occurrence's path under /vnflcm/v1.
async fn v1_instantiating(app: &TestApp, delay_ms: u64) -> (String, String) {
    let (_, created) = expect(
        v1(app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (location, _) = v1_instantiate(app, &id, delay_ms).await;
    (id, location)
}

async fn v1_instantiate(app: &TestApp, id: &str, delay_ms: u64) -> (String, Value) {
    let body = json!({"flavourId": "simple", "additionalParams": {
        "lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"],
        "tacker-rs-test": {"delay_ms": {"instantiate": delay_ms}}}});
    let (location, _) = expect(
        v1(app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
        202,
    )
    .await;
    let location = location.unwrap();
    let path = location.split_once("/vnflcm/v1").unwrap().1.to_string();
    let op = wait_op(app, &location, &["PROCESSING"]).await;
    (path, op)
}

async fn cancel(app: &TestApp, op_path: &str, body: Value, status: u16) -> Value {
    expect(
        v1(app, Method::POST, &format!("{op_path}/cancel")).json(&body),
        status,
    )
    .await
    .1
}

async fn v1_op(app: &TestApp, op_path: &str, states: &[&str]) -> Value {
    wait_op(app, &format!("/vnflcm/v1{op_path}"), states).await
}

async fn running_operations_are_cancelled(app: TestApp) {
    let conductor = app.spawn_conductor(Duration::from_secs(30));
    project_with_vim_and_package(&app).await;

    // FORCEFUL stops a step in the middle; GRACEFUL (asked first) would have waited a minute.
    let (id, op_path) = v1_instantiating(&app, 60_000).await;
    let error = cancel(&app, &op_path, json!({"cancelMode": "SOFT"}), 400).await;
    assert_eq!(
        error["detail"],
        "Invalid input for field/attribute cancelMode. Value: \"SOFT\". Unknown variant `SOFT`, expected `GRACEFUL` or `FORCEFUL`."
    );
    cancel(&app, &op_path, json!({"cancelMode": "GRACEFUL"}), 202).await;
    let pending = v1_op(&app, &op_path, &["PROCESSING"]).await;
    assert_eq!(
        (&pending["isCancelPending"], &pending["cancelMode"]),
        (&json!(true), &json!("GRACEFUL"))
    );
    let error = cancel(&app, &op_path, json!({"cancelMode": "GRACEFUL"}), 409).await;
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .ends_with("a cancel is already pending."),
        "{error}"
    );
    cancel(&app, &op_path, json!({"cancelMode": "FORCEFUL"}), 202).await;
    let cancelled = v1_op(&app, &op_path, &["FAILED_TEMP"]).await;
    assert!(cancelled["error"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("The operation was cancelled (FORCEFUL)"));
    assert_eq!(cancelled["isCancelPending"], false);
    assert!(cancelled.get("cancelMode").is_none(), "{cancelled}");
    assert_eq!(conductor.driver.changes(&id, "instantiate"), 0);
    let error = cancel(&app, &op_path, json!({"cancelMode": "FORCEFUL"}), 409).await;
    assert_eq!(
        error["detail"],
        "Cancel operation in state FAILED_TEMP is not allowed."
    );

    // Rollback works from there, and frees the instance; `fail` gives up another one.
    expect(v1(&app, Method::POST, &format!("{op_path}/rollback")), 202).await;
    v1_op(&app, &op_path, &["ROLLED_BACK"]).await;
    let (op_path, _) = v1_instantiate(&app, &id, 60_000).await;
    cancel(&app, &op_path, json!({"cancelMode": "FORCEFUL"}), 202).await;
    v1_op(&app, &op_path, &["FAILED_TEMP"]).await;
    let (_, failed) = expect(v1(&app, Method::POST, &format!("{op_path}/fail")), 200).await;
    assert_eq!(failed["operationState"], "FAILED");

    // GRACEFUL lets the step in hand end, then stops; a retry runs the operation again.
    let (id, op_path) = v1_instantiating(&app, 1_500).await;
    cancel(&app, &op_path, json!({"cancelMode": "GRACEFUL"}), 202).await;
    let cancelled = v1_op(&app, &op_path, &["FAILED_TEMP", "COMPLETED"]).await;
    assert_eq!(cancelled["operationState"], "FAILED_TEMP");
    assert!(cancelled["error"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("The operation was cancelled (GRACEFUL)"));
    assert_eq!(
        conductor.driver.changes(&id, "instantiate"),
        0,
        "stopped before the VIM was called"
    );
    expect(v1(&app, Method::POST, &format!("{op_path}/retry")), 202).await;
    // The retry runs the step again, to its end.
    v1_op(&app, &op_path, &["COMPLETED"]).await;
    assert_eq!(conductor.driver.changes(&id, "instantiate"), 1);
    let error = cancel(&app, &op_path, json!({"cancelMode": "GRACEFUL"}), 409).await;
    assert_eq!(
        error["detail"],
        "Cancel operation in state COMPLETED is not allowed."
    );
}
