//! `upload_from_uri`: the package is downloaded in the background, with basic auth, bounded
//! in size, and failures are shown on the package without leaking credentials.

use std::net::SocketAddr;

use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{sample_package, wait_onboarding};
use tacker_testkit::{TestApp, TestBackend};

const PACKAGES: &str = "/vnfpkgm/v1/vnf_packages";

/// A web server offering the sample package at /pkg.zip (basic auth pkguser/pkg-secret)
/// and 64 KiB of noise at /big.zip.
async fn package_source() -> SocketAddr {
    let zip = sample_package();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("pkguser:pkg-secret")
    );
    let app = Router::new()
        .route(
            "/pkg.zip",
            get(move |headers: HeaderMap| async move {
                if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(expected.as_str())
                {
                    return Err(StatusCode::UNAUTHORIZED);
                }
                Ok(([(header::CONTENT_TYPE, "application/zip")], zip))
            }),
        )
        .route("/big.zip", get(|| async { vec![1u8; 64 * 1024] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

async fn upload_from(app: &TestApp, body: Value) -> Value {
    let (_, created) = app
        .send(app.request(Method::POST, PACKAGES).json(&json!({})))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (status, answer) = app
        .send(
            app.request(
                Method::POST,
                &format!("{PACKAGES}/{id}/package_content/upload_from_uri"),
            )
            .json(&body),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    wait_onboarding(app, &id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_are_downloaded_with_basic_auth_and_bounded() {
    let source = package_source().await;
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf("[vnf_package]\ncsar_file_size_cap = 0.00002\n")
        .spawn()
        .await
        .unwrap();

    let info = upload_from(
        &app,
        json!({"addressInformation": format!("http://{source}/pkg.zip"), "userName": "pkguser", "password": "pkg-secret"}),
    )
    .await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
    assert_eq!(info["vnfProductName"], "Sample CNF");

    let info = upload_from(&app, json!({"addressInformation": format!("http://{source}/pkg.zip"), "userName": "pkguser", "password": "wrong"})).await;
    assert_eq!(info["onboardingFailureDetails"]["status"], 502);
    assert_eq!(
        info["onboardingFailureDetails"]["detail"],
        format!("downloading http://{source}/pkg.zip failed: HTTP 401 Unauthorized")
    );

    let info = upload_from(
        &app,
        json!({"addressInformation": format!("http://{source}/big.zip")}),
    )
    .await;
    assert_eq!(info["onboardingFailureDetails"]["status"], 413, "{info}");

    // Credentials in the URL never show up in what the API says.
    let info = upload_from(
        &app,
        json!({"addressInformation": format!("http://pkguser:url-secret@{source}/missing.zip")}),
    )
    .await;
    let failure = info["onboardingFailureDetails"].to_string();
    assert!(failure.contains("HTTP 404"), "{failure}");
    assert!(!failure.contains("url-secret"), "{failure}");

    // Nothing listening: a clear failure, not a hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let info = upload_from(
        &app,
        json!({"addressInformation": format!("http://{closed}/pkg.zip")}),
    )
    .await;
    assert_eq!(
        info["onboardingFailureDetails"]["detail"],
        format!("downloading http://{closed}/pkg.zip failed: could not connect")
    );
}
