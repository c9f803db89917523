//! Several servers over one database: each keeps its LCM list pages as rendered and answers
//! them again while the database's LCM revision is unchanged, so a change made through one
//! server (or by a conductor) must show at once in the lists another server kept.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use tacker_testkit::{backend_tests, TestApp};

use crate::lcm_helpers::{expect, member_at, project_with_vim_and_package, wait_op, PROJECT, SAMPLE_VNFD_ID};

/// A v2 request to the server at `address` as a member of `project`.
fn v2_at(app: &TestApp, address: &str, project: &str, method: Method, path: &str) -> RequestBuilder {
    member_at(app, address, project, method, &format!("/vnflcm/v2{path}")).header("Version", "2.0.0")
}

/// `(id, state)` of each item of a v2 list at `address`, where `state` is the attribute
/// named `state_of`.
async fn listed(
    app: &TestApp,
    address: &str,
    project: &str,
    path: &str,
    state_of: &str,
) -> Vec<(String, String)> {
    let (_, body) = expect(v2_at(app, address, project, Method::GET, path), 200).await;
    body.as_array()
        .expect("a list")
        .iter()
        .map(|item| {
            let id = item["id"].as_str().expect("id").to_owned();
            (id, item[state_of].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

backend_tests!(changes_through_one_server_show_in_the_lists_another_kept => two_servers);

async fn two_servers(app: TestApp) {
    let vim_id = project_with_vim_and_package(&app).await;
    let peer = app.spawn_peer().await;
    let (a, b) = (app.address.clone(), peer.address.clone());
    let instances = |address: &str, project: &str| {
        let (app, address, project) = (&app, address.to_owned(), project.to_owned());
        async move { listed(app, &address, &project, "/vnf_instances", "instantiationState").await }
    };
    assert!(instances(&a, PROJECT).await.is_empty());
    assert!(instances(&a, "other").await.is_empty());

    // Created through B: A's kept empty page is not answered again.
    let create = json!({"vnfdId": SAMPLE_VNFD_ID});
    let (_, created) = expect(
        v2_at(&app, &b, PROJECT, Method::POST, "/vnf_instances").json(&create),
        201,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let not_instantiated = vec![(id.clone(), "NOT_INSTANTIATED".to_owned())];
    assert_eq!(instances(&a, PROJECT).await, not_instantiated);
    // Another tenant's page stays theirs; an admin's shows every tenant.
    assert!(instances(&a, "other").await.is_empty());
    let (_, all) = expect(
        app.request(Method::GET, "/vnflcm/v2/vnf_instances")
            .header("Version", "2.0.0"),
        200,
    )
    .await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");

    // Instantiated through B, run by a conductor: A's occurrence and instance lists follow
    // each state.
    let body = json!({"flavourId": "simple",
        "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]}});
    let (location, _) = expect(
        v2_at(
            &app,
            &b,
            PROJECT,
            Method::POST,
            &format!("/vnf_instances/{id}/instantiate"),
        )
        .json(&body),
        202,
    )
    .await;
    let location = location.expect("Location");
    let occurrences = listed(&app, &a, PROJECT, "/vnf_lcm_op_occs", "operationState").await;
    assert_eq!(occurrences.len(), 1);
    assert_eq!(occurrences[0].1, "STARTING");
    let conductor = app.spawn_conductor(Duration::from_secs(30));
    wait_op(&app, &location, &["COMPLETED"]).await;
    let occurrences = listed(&app, &a, PROJECT, "/vnf_lcm_op_occs", "operationState").await;
    assert_eq!(occurrences[0].1, "COMPLETED");
    assert_eq!(
        instances(&a, PROJECT).await,
        [(id.clone(), "INSTANTIATED".to_owned())]
    );
    let (_, shown): (_, Value) = expect(
        v2_at(&app, &a, PROJECT, Method::GET, "/vnf_instances?all_fields"),
        200,
    )
    .await;
    assert!(shown[0]["instantiatedVnfInfo"].is_object(), "{shown}");

    // Created through A, deleted through B.
    let (_, second) = expect(
        v2_at(&app, &a, PROJECT, Method::POST, "/vnf_instances").json(&create),
        201,
    )
    .await;
    assert_eq!(instances(&a, PROJECT).await.len(), 2);
    let second = second["id"].as_str().expect("id");
    expect(
        v2_at(
            &app,
            &b,
            PROJECT,
            Method::DELETE,
            &format!("/vnf_instances/{second}"),
        ),
        204,
    )
    .await;
    assert_eq!(
        instances(&a, PROJECT).await,
        [(id.clone(), "INSTANTIATED".to_owned())]
    );
    conductor.shut_down().await;
}
