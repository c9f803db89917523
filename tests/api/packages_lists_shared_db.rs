//! Several servers over one database: each keeps its package list pages as rendered and
//! answers them again while the database's package revision is unchanged, so a change
//! made through one server (an upload, an onboarding, a PATCH, a delete, or an instance
//! that puts a package in use) must show at once in the lists another server kept.

use reqwest::Method;
use serde_json::json;
use tacker_testkit::csar::sample_package;
use tacker_testkit::{backend_tests, TestApp};

use crate::lcm_helpers::{expect, member_at, PROJECT, SAMPLE_VNFD_ID};

/// `(id, onboardingState, operationalState, usageState)` of each package listed at `address`.
async fn listed(app: &TestApp, address: &str, project: &str) -> Vec<[String; 4]> {
    let request = member_at(app, address, project, Method::GET, "/vnfpkgm/v1/vnf_packages");
    let (_, body) = expect(request, 200).await;
    body.as_array()
        .expect("a list")
        .iter()
        .map(|item| {
            ["id", "onboardingState", "operationalState", "usageState"]
                .map(|name| item[name].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn states(id: &str, onboarding: &str, operational: &str, usage: &str) -> Vec<[String; 4]> {
    vec![[id, onboarding, operational, usage].map(str::to_owned)]
}

backend_tests!(package_changes_through_one_server_show_in_the_lists_another_kept => two_servers);

async fn two_servers(app: TestApp) {
    let peer = app.spawn_peer().await;
    let (a, b) = (app.address.clone(), peer.address.clone());
    assert!(listed(&app, &a, PROJECT).await.is_empty());
    assert!(listed(&app, &a, "other").await.is_empty());

    // Created through B: A's kept empty page is not answered again.
    let create = member_at(&app, &b, PROJECT, Method::POST, "/vnfpkgm/v1/vnf_packages");
    let (_, created) = expect(create.json(&json!({})), 201).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let package = format!("/vnfpkgm/v1/vnf_packages/{id}");
    assert_eq!(
        listed(&app, &a, PROJECT).await,
        states(&id, "CREATED", "DISABLED", "NOT_IN_USE")
    );
    // Another tenant's page stays theirs; an admin's shows every tenant.
    assert!(listed(&app, &a, "other").await.is_empty());
    let (_, all) = expect(app.request(Method::GET, "/vnfpkgm/v1/vnf_packages"), 200).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");

    // Uploaded and onboarded by B.
    let upload = member_at(
        &app,
        &b,
        PROJECT,
        Method::PUT,
        &format!("{package}/package_content"),
    )
    .header("Content-Type", "application/zip")
    .body(sample_package());
    expect(upload, 202).await;
    let onboarded = states(&id, "ONBOARDED", "ENABLED", "NOT_IN_USE");
    for _ in 0..400 {
        if listed(&app, &a, PROJECT).await == onboarded {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(listed(&app, &a, PROJECT).await, onboarded);

    // An instance created through B puts the package in use; deleting it frees it.
    let instance = member_at(&app, &b, PROJECT, Method::POST, "/vnflcm/v1/vnf_instances")
        .json(&json!({"vnfdId": SAMPLE_VNFD_ID}));
    let (_, instance) = expect(instance, 201).await;
    assert_eq!(
        listed(&app, &a, PROJECT).await,
        states(&id, "ONBOARDED", "ENABLED", "IN_USE")
    );
    let instance = format!(
        "/vnflcm/v1/vnf_instances/{}",
        instance["id"].as_str().expect("id")
    );
    expect(member_at(&app, &b, PROJECT, Method::DELETE, &instance), 204).await;
    assert_eq!(listed(&app, &a, PROJECT).await, onboarded);

    // Disabled, then deleted, through B.
    let disable = member_at(&app, &b, PROJECT, Method::PATCH, &package)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"operationalState": "DISABLED"}).to_string());
    expect(disable, 200).await;
    assert_eq!(
        listed(&app, &a, PROJECT).await,
        states(&id, "ONBOARDED", "DISABLED", "NOT_IN_USE")
    );
    expect(member_at(&app, &b, PROJECT, Method::DELETE, &package), 204).await;
    assert!(listed(&app, &a, PROJECT).await.is_empty());
}
