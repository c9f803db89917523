//! The README's package sequence against the real `tacker` binary: the zip onboarded with
//! curl, then the same zip again through python-tackerclient's steps. A second package with
//! the same vnfdId fails its onboarding (SOL005 behaviour, kept) and the server says so at
//! WARN with the package id; the README's sequence first disables and deletes the package
//! onboarded before, so it ends ONBOARDED.

use std::time::Duration;

use serde_json::{json, Value};
use tacker_testkit::csar::{sample_package, SAMPLE_VNFD_ID};

use crate::tacker_process::TackerProcess;

const PACKAGES: &str = "/vnfpkgm/v1/vnf_packages";

async fn create(client: &reqwest::Client, tacker: &TackerProcess) -> String {
    let created: Value = client
        .post(tacker.url(PACKAGES))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

async fn upload(client: &reqwest::Client, tacker: &TackerProcess, id: &str) {
    let response = client
        .put(tacker.url(&format!("{PACKAGES}/{id}/package_content")))
        .header("Content-Type", "application/zip")
        .body(sample_package())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

/// The package once its onboarding has ended (ONBOARDED, or back to CREATED).
async fn settled(client: &reqwest::Client, tacker: &TackerProcess, id: &str) -> Value {
    for _ in 0..300 {
        let info: Value = client
            .get(tacker.url(&format!("{PACKAGES}/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if matches!(info["onboardingState"].as_str(), Some("ONBOARDED" | "CREATED")) {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("package {id} did not finish onboarding");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_package_sequence_works_and_a_failed_onboarding_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let tacker = TackerProcess::start(dir.path(), "use_json = true", None).await;
    let client = reqwest::Client::new();

    // curl: create, upload, ONBOARDED.
    let first = create(&client, &tacker).await;
    upload(&client, &tacker, &first).await;
    assert_eq!(
        settled(&client, &tacker, &first).await["onboardingState"],
        "ONBOARDED"
    );

    // What the README's tackerclient steps did before: the same zip again fails (202, then
    // CREATED with the reason), and the reason is in the log with the package id.
    let duplicate = create(&client, &tacker).await;
    upload(&client, &tacker, &duplicate).await;
    let failed = settled(&client, &tacker, &duplicate).await;
    assert_eq!(failed["onboardingState"], "CREATED", "{failed}");
    let reason = format!("a VNF package with vnfdId {SAMPLE_VNFD_ID} is already onboarded");
    assert_eq!(failed["onboardingFailureDetails"]["detail"], reason, "{failed}");
    assert_eq!(failed["onboardingFailureDetails"]["status"], 409, "{failed}");

    // The README's steps now: disable and delete the first package, then create and upload.
    let response = client
        .patch(tacker.url(&format!("{PACKAGES}/{first}")))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"operationalState": "DISABLED"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .delete(tacker.url(&format!("{PACKAGES}/{first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let again = create(&client, &tacker).await;
    upload(&client, &tacker, &again).await;
    let onboarded = settled(&client, &tacker, &again).await;
    assert_eq!(onboarded["onboardingState"], "ONBOARDED", "{onboarded}");

    let stderr = tacker.stop().await;
    let warnings: Vec<Value> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| entry["level"] == "WARN")
        .filter(|entry| entry["message"] == "VNF package onboarding failed")
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    let fields = &warnings[0];
    let text = fields.to_string();
    assert!(text.contains(&duplicate), "no package id in {text}");
    assert!(text.contains(&reason), "no reason in {text}");
}
