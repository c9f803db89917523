//! Contract test of `/vnfpkgm/v1` against ETSI's SOL005 VNF Package Management OpenAPI file
//! (tests/contract/etsi/2.4.1) with schemathesis: generated and mutated requests to every
//! operation, with the checks `not_a_server_error` (no 5xx but 501) and
//! `response_schema_conformance` (every response, ProblemDetails included, fits the file).
//! What is configured or left out, and why, is in tests/contract/vnfpkgm.toml and hooks.py.
//!
//! Needs schemathesis: TACKER_TEST_SCHEMATHESIS names it (scripts/test installs it into a
//! virtualenv). Without it the test is skipped, except under CI, where it must run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tacker_testkit::csar::{create_and_upload, sample_package, wait_onboarding};
use tacker_testkit::{TestApp, TestBackend};

fn schemathesis() -> Option<PathBuf> {
    tacker_testkit::tool_path("TACKER_TEST_SCHEMATHESIS")
}

fn contract_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vnfpkgm_conforms_to_sol005() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();

    // Packages to find by id (schemathesis cannot guess them): one ONBOARDED, so that the
    // content, VNFD and artifact downloads answer, and one CREATED, which can be uploaded to,
    // modified and deleted.
    let onboarded = create_and_upload(&app, sample_package()).await;
    let info = wait_onboarding(&app, &onboarded).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
    let (status, created) = app
        .send(
            app.request(Method::POST, "/vnfpkgm/v1/vnf_packages")
                .json(&json!({"userDefinedData": {"purpose": "contract test"}})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let created = created["id"].as_str().unwrap().to_string();

    // The committed configuration plus the ids (a dictionary cannot take them from the
    // environment). schemathesis keeps state in its working directory: a temporary one.
    let contract = contract_dir();
    let mut config = std::fs::read_to_string(contract.join("vnfpkgm.toml")).unwrap();
    config.push_str(&format!(
        "\n[dictionaries.package_ids]\nvalues = [\"{onboarded}\", \"{created}\"]\n"
    ));
    let work = app.state_dir.path().join("schemathesis");
    std::fs::create_dir(&work).unwrap();
    let config_path = work.join("schemathesis.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut command = tokio::process::Command::new(&schemathesis);
    command
        .current_dir(&work)
        .env("SCHEMATHESIS_HOOKS", contract.join("hooks.py"))
        .arg("--config-file")
        .arg(&config_path)
        .arg("run")
        .arg(contract.join("etsi/2.4.1/SOL005-VNFPackageManagement-API.json"))
        .args(["--url", &format!("{}/vnfpkgm/v1", app.address)])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .arg("--no-color")
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(150), command.output())
        .await
        .expect("schemathesis did not finish in 150 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    // A crash in a worker thread ends that phase early without failing the run.
    let crashed = stdout.contains("Traceback") || stderr.contains("Traceback");
    assert!(
        output.status.success() && !crashed,
        "schemathesis reported failures ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// What schemathesis cannot send (it percent-encodes valid UTF-8 only): a path that does
/// not decode is answered as every other error of the API, a ProblemDetails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_paths_are_problem_details() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    for (method, path) in [
        (Method::GET, "/vnfpkgm/v1/vnf_packages/%FF"),
        (Method::DELETE, "/vnfpkgm/v1/vnf_packages/%C0%AF"),
        (Method::GET, "/vnfpkgm/v1/vnf_packages/%FF/vnfd"),
        (Method::GET, "/vnfpkgm/v1/vnf_packages/%FF/package_content"),
        (Method::GET, "/vnfpkgm/v1/vnf_packages/x/artifacts/Files/%FF.yaml"),
    ] {
        let response = app.request(method.clone(), path).send().await.unwrap();
        assert_eq!(response.status(), 400, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], 400, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("Invalid UTF-8"),
            "{body}"
        );
    }
}
