//! Bad input to the package API: clear ProblemDetails errors, hostile archives refused with
//! nothing left on disk, and the package usable again afterwards.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{
    create_and_upload, sample_entries, sample_package, upload, wait_onboarding, zip_entries,
};
use tacker_testkit::{backend_tests, raw, TestApp, TestBackend};

const PACKAGES: &str = "/vnfpkgm/v1/vnf_packages";

/// Zip entries: (path, bytes).
type Entries = Vec<(String, Vec<u8>)>;

fn problem(status: u16, body: &Value, want: u16) -> String {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["status"], want, "{body}");
    assert!(body["title"].is_string(), "{body}");
    body["detail"].as_str().unwrap().to_string()
}

/// Only the store's working folders, empty: no package left anything behind.
fn nothing_stored(app: &TestApp) {
    let root = &app.config.vnf_package.csar_path;
    for entry in std::fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        assert!(
            [".staging", ".scratch", ".cache"].contains(&name.to_str().unwrap()),
            "{name:?} left in {}",
            root.display()
        );
        assert_eq!(
            std::fs::read_dir(entry.path()).unwrap().count(),
            0,
            "{name:?} is not empty"
        );
    }
}

async fn failed_onboarding(app: &TestApp, zip: Vec<u8>) -> (String, Value) {
    let id = create_and_upload(app, zip).await;
    let info = wait_onboarding(app, &id).await;
    assert_eq!(info["onboardingState"], "CREATED", "{info}");
    (id, info["onboardingFailureDetails"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_archives_fail_onboarding_and_leave_nothing() {
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf("[vnf_package]\ncsar_max_entries = 20\n")
        .spawn()
        .await
        .unwrap();
    let mut sample = sample_entries();
    let cases: Vec<(Entries, &str)> = vec![
        (
            vec![("../evil.yaml".into(), b"x".to_vec())],
            "../evil.yaml: the path escapes the package ('..')",
        ),
        (
            vec![("/etc/evil".into(), b"x".to_vec())],
            "/etc/evil: absolute paths are not allowed in a package",
        ),
        (
            vec![("Files/zeros".into(), vec![0u8; 8 << 20])],
            "Files/zeros: the compression ratio exceeds 100:1 (a zip bomb?)",
        ),
        (
            (0..21).map(|i| (format!("f{i}"), vec![])).collect(),
            "the package has 21 entries; at most 20 are allowed",
        ),
        (vec![], "the package is not a valid zip archive"),
    ];
    for (entries, expected) in cases {
        let zip = if entries.is_empty() {
            b"PK\x03\x04 not really".to_vec()
        } else {
            zip_entries(&entries)
        };
        let (_, failure) = failed_onboarding(&app, zip).await;
        assert_eq!(failure["status"], 422, "{failure}");
        let detail = failure["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(expected),
            "expected {expected:?}, got {detail:?}"
        );
        nothing_stored(&app);
    }

    // A broken VNFD names the file; the same package then onboards with a fixed upload.
    sample.retain(|(name, _)| name != "Definitions/sample_cnf_types.yaml");
    sample.push((
        "Definitions/sample_cnf_types.yaml".into(),
        b"tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types: [".to_vec(),
    ));
    let (id, failure) = failed_onboarding(&app, zip_entries(&sample)).await;
    assert!(
        failure["detail"]
            .as_str()
            .unwrap()
            .starts_with("Definitions/sample_cnf_types.yaml: invalid YAML"),
        "{failure}"
    );
    nothing_stored(&app);
    upload(&app, &id, sample_package()).await;
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED");
    assert!(info.get("onboardingFailureDetails").is_none(), "{info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_above_the_size_cap_are_refused() {
    // 0.00002 GB is about 21 KB.
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf("[vnf_package]\ncsar_file_size_cap = 0.00002\n")
        .spawn()
        .await
        .unwrap();
    let (_, created) = app
        .send(app.request(Method::POST, PACKAGES).json(&json!({})))
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, body) = app
        .send(
            app.request(Method::PUT, &format!("{PACKAGES}/{id}/package_content"))
                .header("Content-Type", "application/zip")
                .body(vec![7u8; 64 * 1024]),
        )
        .await;
    let detail = problem(status, &body, 413);
    assert_eq!(
        detail,
        "the package is larger than 21474 bytes ([vnf_package] csar_file_size_cap)"
    );
    let (_, info) = app
        .send(app.request(Method::GET, &format!("{PACKAGES}/{id}")))
        .await;
    assert_eq!(info["onboardingState"], "CREATED");
    assert_eq!(info["onboardingFailureDetails"]["status"], 413);
    nothing_stored(&app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_do_not_fit_the_state_or_the_schema() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let id = create_and_upload(&app, sample_package()).await;
    wait_onboarding(&app, &id).await;
    let package = format!("{PACKAGES}/{id}");

    let (status, body) = app
        .send(
            app.request(Method::PUT, &format!("{package}/package_content"))
                .header("Content-Type", "application/zip")
                .body(sample_package()),
        )
        .await;
    assert_eq!(
        problem(status, &body, 409),
        format!("VNF Package {id} onboarding state is not CREATED")
    );
    let (status, body) = app.send(app.request(Method::DELETE, &package)).await;
    assert_eq!(
        problem(status, &body, 409),
        format!("VNF Package {id} cannot be deleted as it's operational state is ENABLED and usage state is NOT_IN_USE.")
    );

    let (_, created) = app
        .send(app.request(Method::POST, PACKAGES).json(&json!({})))
        .await;
    let fresh = format!("{PACKAGES}/{}", created["id"].as_str().unwrap());
    let (status, body) = app
        .send(
            app.request(Method::PUT, &format!("{fresh}/package_content"))
                .header("Content-Type", "text/plain")
                .body("hello"),
        )
        .await;
    assert!(problem(status, &body, 415).starts_with("Unsupported Content-Type 'text/plain'"));
    let (_, info) = app.send(app.request(Method::GET, &fresh)).await;
    assert_eq!(
        info["onboardingState"], "CREATED",
        "a refused upload changes nothing"
    );

    let cases: Vec<(Method, String, Option<&str>, u16, &str)> = vec![
        (
            Method::PATCH,
            fresh.clone(),
            Some(r#"{"operationalState": "BOGUS"}"#),
            400,
            "Invalid input for field/attribute operationalState",
        ),
        (
            Method::PATCH,
            fresh.clone(),
            Some("{}"),
            400,
            "The request must modify operationalState or userDefinedData.",
        ),
        (
            Method::PATCH,
            fresh.clone(),
            Some(r#"{"operationalState": "ENABLED"}"#),
            400,
            "Updating operational state is not allowed",
        ),
        (
            Method::PATCH,
            fresh.clone(),
            Some(r#"{"userDefinedData": {"bad*key": 1}}"#),
            400,
            "Invalid input for field/attribute userDefinedData. Key 'bad*key'",
        ),
        (
            Method::PATCH,
            package.clone(),
            Some(r#"{"operationalState": "ENABLED"}"#),
            409,
            "is already in ENABLED operational state",
        ),
        (
            Method::POST,
            PACKAGES.to_string(),
            Some("[1, 2]"),
            400,
            "The request body must be a JSON object.",
        ),
        (
            Method::POST,
            PACKAGES.to_string(),
            Some("{not json"),
            400,
            "Malformed request body",
        ),
        (
            Method::POST,
            PACKAGES.to_string(),
            Some(r#"{"userDefinedData": "text"}"#),
            400,
            "It must be an object.",
        ),
        (
            Method::GET,
            format!("{PACKAGES}/not-a-uuid"),
            None,
            404,
            "Can not find requested vnf package: not-a-uuid",
        ),
        (
            Method::GET,
            format!("{PACKAGES}/{}", uuid_like()),
            None,
            404,
            "Can not find requested vnf package",
        ),
        (
            Method::GET,
            "/vnfpkgm/v1/nothing".into(),
            None,
            404,
            "The resource could not be found.",
        ),
        (
            Method::PUT,
            PACKAGES.to_string(),
            None,
            405,
            "The method is not allowed",
        ),
        (
            Method::POST,
            format!("{fresh}/package_content/upload_from_uri"),
            Some(r#"{"addressInformation": "ftp://example.com/p.zip"}"#),
            400,
            "Vnf package url 'ftp://example.com/p.zip' is invalid",
        ),
        (
            Method::POST,
            format!("{fresh}/package_content/upload_from_uri"),
            Some(r#"{"addressInformation": "http://user:pw@example.com/"}"#),
            400,
            "Vnf package url 'http://example.com/' is invalid",
        ),
        (
            Method::POST,
            format!("{fresh}/package_content/upload_from_uri"),
            Some("{}"),
            400,
            "'addressInformation' is a required property",
        ),
    ];
    for (method, path, body, want, expected) in cases {
        let mut request = app.request(method.clone(), &path);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body);
        }
        let (status, answer) = app.send(request).await;
        let detail = problem(status, &answer, want);
        assert!(detail.contains(expected), "{method} {path} {body:?}: {detail}");
    }
}

fn uuid_like() -> &'static str {
    "0b0e0f1a-2b3c-4d5e-8f70-8192a3b4c5d6"
}

backend_tests!(packages_are_scoped_to_their_project => packages_are_scoped_to_their_project);

async fn packages_are_scoped_to_their_project(app: TestApp) {
    let (status, created) = app
        .send(
            app.request_as("project-a", "member,reader", Method::POST, PACKAGES)
                .json(&json!({})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let path = format!("{PACKAGES}/{id}");

    let (status, body) = app
        .send(app.request_as("project-b", "member,reader", Method::GET, &path))
        .await;
    assert_eq!(
        problem(status, &body, 404),
        format!("Can not find requested vnf package: {id}")
    );
    let (status, body) = app
        .send(app.request_as("project-b", "member,reader", Method::DELETE, &path))
        .await;
    assert_eq!(status, 404, "{body}");
    let (_, list) = app
        .send(app.request_as("project-b", "member,reader", Method::GET, PACKAGES))
        .await;
    assert_eq!(list, json!([]));
    let (_, list) = app
        .send(app.request_as("project-a", "reader", Method::GET, PACKAGES))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = app.send(app.request(Method::GET, PACKAGES)).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the admin sees every project's packages"
    );

    // A reader may look but not change.
    let (status, body) = app
        .send(app.request_as("project-a", "reader", Method::DELETE, &path))
        .await;
    assert_eq!(
        problem(status, &body, 403),
        "Policy doesn't allow os_nfv_orchestration_api:vnf_packages:delete to be performed."
    );
    let (status, _) = app
        .send(
            app.request_as("project-a", "reader", Method::POST, PACKAGES)
                .json(&json!({})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .send(app.request_as("project-a", "member", Method::DELETE, &path))
        .await;
    assert_eq!(status, 204);
}

backend_tests!(interrupted_onboarding_is_handed_back => interrupted_onboarding_is_handed_back);

/// A server that stopped mid-onboarding leaves UPLOADING behind; the sweep returns it to
/// CREATED once its deadline has passed, and a new upload works.
async fn interrupted_onboarding_is_handed_back(app: TestApp) {
    let (_, created) = app
        .send(app.request(Method::POST, PACKAGES).json(&json!({})))
        .await;
    let id = created["id"].as_str().unwrap();
    let stuck = format!(
        "UPDATE vnf_packages SET onboarding_state = 'UPLOADING', onboarding_started_at = '2000-01-01 00:00:00' WHERE id = '{id}'"
    );
    assert_eq!(
        raw::execute(&app.config.database_connection, &stuck)
            .await
            .unwrap(),
        1
    );
    let staging = app.config.vnf_package.csar_path.join(".staging");
    std::fs::create_dir_all(&staging).unwrap();
    let leftover = staging.join(format!("{id}.deadbeef.zip"));
    std::fs::write(&leftover, b"partial").unwrap();
    set_old_mtime(&leftover);

    assert_eq!(app.packages.sweep_once().await.unwrap(), 1);
    let (_, info) = app
        .send(app.request(Method::GET, &format!("{PACKAGES}/{id}")))
        .await;
    assert_eq!(info["onboardingState"], "CREATED");
    assert!(info["onboardingFailureDetails"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("onboarding was interrupted"));
    assert!(!leftover.exists());
    assert_eq!(
        app.packages.sweep_once().await.unwrap(),
        0,
        "a fresh package is left alone"
    );

    upload(&app, id, sample_package()).await;
    assert_eq!(wait_onboarding(&app, id).await["onboardingState"], "ONBOARDED");
}

fn set_old_mtime(path: &Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7 * 24 * 3600);
    file.set_modified(old).unwrap();
}
