//! Shared steps of the lifecycle tests: a project with a default Kubernetes VIM and an
//! onboarded sample package, and waiting for operations.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding};
use tacker_testkit::TestApp;

pub const PROJECT: &str = "project-a";
pub const SAMPLE_VNFD_ID: &str = tacker_testkit::csar::SAMPLE_VNFD_ID;

/// A request as a member of [`PROJECT`], with v2's `Version` header.
pub fn v2(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v2{path}"))
        .header("Version", "2.0.0")
}

pub fn v1(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v1{path}"))
}

/// Registers the project's default Kubernetes VIM and onboards the sample package.
pub async fn project_with_vim_and_package(app: &TestApp) -> String {
    let body = json!({"vim": {
        "type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
        "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "cluster-bearer-secret"},
        "vim_project": {"name": "default"},
    }});
    let (status, vim) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&body))
        .await;
    assert_eq!(status, 201, "{vim}");
    let package = create_and_upload_as(app, Some(PROJECT), sample_package()).await;
    assert_eq!(
        wait_onboarding(app, &package).await["onboardingState"],
        "ONBOARDED"
    );
    vim["vim"]["id"].as_str().unwrap().to_string()
}

/// Sends and expects `status`, returning the Location header and body.
pub async fn expect(request: RequestBuilder, status: u16) -> (Option<String>, Value) {
    let response = request.send().await.unwrap();
    let got = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    assert_eq!(got, status, "{}", String::from_utf8_lossy(&bytes));
    (location, body)
}

/// Polls an occurrence (by its Location) until it is in one of `states`.
pub async fn wait_op(app: &TestApp, location: &str, states: &[&str]) -> Value {
    let path = location
        .split_once("/vnflcm/")
        .map(|(_, p)| format!("/vnflcm/{p}"))
        .unwrap();
    for _ in 0..300 {
        let request = app
            .request_as(PROJECT, "member,reader", Method::GET, &path)
            .header("Version", "2.0.0");
        let (_, op) = expect(request, 200).await;
        if states.contains(&op["operationState"].as_str().unwrap_or_default()) {
            return op;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{location} did not reach {states:?} in 15 s");
}
