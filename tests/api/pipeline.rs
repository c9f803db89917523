//! What api-paste.ini assembles: versions, request ids on every response, and the APIs
//! that are not served yet answering 501 in their own error format.

use reqwest::Method;
use serde_json::Value;
use tacker_testkit::{TestApp, TestBackend};

async fn app() -> TestApp {
    TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap()
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = app().await;
    let mut seen = std::collections::HashSet::new();
    for path in [
        "/",
        "/v1.0/vims.json",
        "/v1.0/vims/missing",
        "/vnflcm/v2/vnf_instances",
        "/nowhere",
    ] {
        let response = app
            .request(Method::GET, path)
            .header(
                "X-Openstack-Request-Id",
                "req-00000000-0000-0000-0000-000000000000",
            )
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-openstack-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(id.starts_with("req-"), "{path}: {id}");
        assert_ne!(
            id, "req-00000000-0000-0000-0000-000000000000",
            "a caller's id is not reused"
        );
        assert!(seen.insert(id), "{path}: ids are unique");
    }
}

#[tokio::test]
async fn version_discovery() {
    let app = app().await;
    let (status, body) = app.send(app.request(Method::GET, "/")).await;
    assert_eq!(status, 200);
    let version = &body["versions"][0];
    assert_eq!(version["id"], "v1.0");
    assert_eq!(version["status"], "CURRENT");
    assert_eq!(version["links"][0]["href"], format!("{}/v1.0", app.address));
    let (status, body) = app.send(app.request(Method::GET, "/v1.0")).await;
    assert_eq!(status, 200);
    assert_eq!(body["resources"][0]["collection"], "vims");
}

#[tokio::test]
async fn apis_not_served_yet_say_so_with_501() {
    let app = app().await;
    for path in ["/server_notification/vnf_instances/x/servers/y/notify"] {
        let response = app.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 501, "{path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 501);
        assert!(
            body["detail"].as_str().unwrap().contains("not implemented"),
            "{body}"
        );
    }
}
