//! `/healthcheck`: unauthenticated, tells whether the database answers, nothing secret.

use reqwest::Method;
use tacker_testkit::idp::idp;
use tacker_testkit::{TestApp, TestBackend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_needs_no_token_and_follows_the_database() {
    // The keystone pipelines protect every API; the health check stays open.
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&format!(
            "[DEFAULT]\nauth_strategy = keystone\n{}",
            idp().tacker_conf("client_secret_basic")
        ))
        .spawn()
        .await
        .unwrap();
    let (status, _) = app
        .send(
            app.request(Method::GET, "/vnflcm/v2/vnf_instances")
                .header("Version", "2.0.0"),
        )
        .await;
    assert_eq!(status, 401);

    let response = app.request(Method::GET, "/healthcheck").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "OK");
    let (status, body) = app
        .send(
            app.request(Method::GET, "/healthcheck")
                .header("Accept", "application/json"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"status": "OK", "database": "reachable"}));

    app.db.close().await;
    let (status, body) = app
        .send(
            app.request(Method::GET, "/healthcheck")
                .header("Accept", "application/json"),
        )
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        serde_json::json!({"status": "DOWN", "database": "unreachable"})
    );
    assert!(!body.to_string().contains(&app.config.database_connection));
}
