//! SOL013 queries naming attributes a resource does not have (400 ProblemDetails, on every
//! list of /vnflcm/v1 and /vnflcm/v2 and on /vnfpkgm/v1), nested and free-form attributes
//! that do exist, and v2 heal by `vnfcInfo` id (SOL003 3.3.1), v1 heal by pod name.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::{backend_tests, TestApp};

use crate::lcm_helpers::{expect, instantiated, project_with_vim_and_package, v1, v2, wait_op, PROJECT};

backend_tests!(unknown_attributes_are_bad_requests => unknown_attributes_are_bad_requests);
backend_tests!(v2_heals_by_vnfc_info_id => v2_heals_by_vnfc_info_id);

async fn problem(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["detail"].is_string(), "ProblemDetails: {body}");
    body
}

async fn unknown_attributes_are_bad_requests(app: TestApp) {
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let vim_id = project_with_vim_and_package(&app).await;
    let (id, location) = instantiated(&app, &vim_id, json!({})).await;
    let op = wait_op(&app, &location, &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");

    let cases: [(&str, &str, &str, &str); 8] = [
        (
            "/subscriptions?filter=(eq,notAnAttribute,x)",
            "filter",
            "notAnAttribute",
            "LccnSubscription",
        ),
        (
            "/vnf_instances?filter=(eq,notAnAttribute,x)",
            "filter",
            "notAnAttribute",
            "VnfInstance",
        ),
        (
            "/vnf_instances?fields=notAnAttribute",
            "fields",
            "notAnAttribute",
            "VnfInstance",
        ),
        (
            "/vnf_lcm_op_occs?filter=(eq,notAnAttribute,x)",
            "filter",
            "notAnAttribute",
            "VnfLcmOpOcc",
        ),
        (
            "/vnf_lcm_op_occs?fields=wrong_field",
            "fields",
            "wrong_field",
            "VnfLcmOpOcc",
        ),
        (
            "/vnf_lcm_op_occs?exclude_fields=wrong_field",
            "exclude_fields",
            "wrong_field",
            "VnfLcmOpOcc",
        ),
        // A nested path the schema lacks, below one it has.
        (
            "/vnf_instances?filter=(eq,instantiatedVnfInfo/notAnAttribute,x)",
            "filter",
            "instantiatedVnfInfo/notAnAttribute",
            "VnfInstance",
        ),
        (
            "/subscriptions?fields=filter/notAnAttribute",
            "fields",
            "filter/notAnAttribute",
            "LccnSubscription",
        ),
    ];
    for (path, param, attribute, resource) in cases {
        let detail = format!("{param} attribute '{attribute}' is not an attribute of {resource}");
        for request in [v1(&app, Method::GET, path), v2(&app, Method::GET, path)] {
            let body = problem(request).await;
            assert_eq!(body["detail"], detail, "{path}");
        }
    }
    // Known attributes, nested ones and keys of free-form maps are fine.
    let ok = |path: &str| {
        let path = path.to_string();
        let app = &app;
        async move { expect(v2(app, Method::GET, &path), 200).await.1 }
    };
    let found = ok("/vnf_instances?filter=(eq,instantiatedVnfInfo/flavourId,simple)").await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let (_, instance) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    let vnfc_info_id = instance["instantiatedVnfInfo"]["vnfcInfo"][0]["id"]
        .as_str()
        .unwrap();
    let found = ok(&format!(
        "/vnf_instances?filter=(eq,instantiatedVnfInfo/vnfcInfo/id,{vnfc_info_id})"
    ))
    .await;
    assert_eq!(found[0]["id"], id.as_str(), "{found}");
    let found = ok(&format!(
        "/vnf_instances?filter=(eq,_links/self/href,/vnflcm/v2/vnf_instances/{id})"
    ))
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    for path in [
        "/vnf_instances?filter=(eq,metadata/anyKey/below,x)",
        "/vnf_instances?filter=(eq,extensions/anyKey,x)",
        "/vnf_instances?filter=(eq,vnfConfigurableProperties/anyKey,x)",
        "/vnf_lcm_op_occs?filter=(eq,operationParams/additionalParams/anyKey,x)",
    ] {
        assert_eq!(ok(path).await, json!([]), "{path}");
    }
    let trimmed = ok("/vnf_instances?fields=instantiatedVnfInfo/flavourId").await;
    assert_eq!(
        trimmed[0]["instantiatedVnfInfo"]["flavourId"], "simple",
        "{trimmed}"
    );
    ok("/vnf_lcm_op_occs?fields=operationParams,error").await;
    ok("/vnf_lcm_op_occs?exclude_fields=resourceChanges/affectedVnfcs").await;
    ok("/subscriptions?filter=(eq,callbackUri,http://example.com/)").await;
    // v1 has vnfPkgId; v2 does not.
    expect(
        v1(&app, Method::GET, "/vnf_instances?filter=(eq,vnfPkgId,x)"),
        200,
    )
    .await;
    let body = problem(v2(&app, Method::GET, "/vnf_instances?filter=(eq,vnfPkgId,x)")).await;
    assert_eq!(
        body["detail"],
        "filter attribute 'vnfPkgId' is not an attribute of VnfInstance"
    );

    // VNF packages too.
    let packages = "/vnfpkgm/v1/vnf_packages";
    for query in [
        "filter=(eq,notAnAttribute,x)",
        "fields=notAnAttribute",
        "exclude_fields=notAnAttribute",
    ] {
        problem(app.request_as(PROJECT, "reader", Method::GET, &format!("{packages}?{query}"))).await;
    }
}

fn vnfc_ids(instance: &Value, list: &str) -> Vec<String> {
    instance["instantiatedVnfInfo"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

async fn v2_heals_by_vnfc_info_id(app: TestApp) {
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let vim_id = project_with_vim_and_package(&app).await;
    let (id, location) = instantiated(&app, &vim_id, json!({})).await;
    let op = wait_op(&app, &location, &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
    let path = format!("/vnf_instances/{id}");
    let (_, before) = expect(v2(&app, Method::GET, &path), 200).await;
    let info = &before["instantiatedVnfInfo"]["vnfcInfo"][0];
    let (victim_info_id, victim_pod) = (
        info["id"].as_str().unwrap().to_string(),
        info["vnfcResourceInfoId"].as_str().unwrap().to_string(),
    );
    assert_ne!(victim_info_id, victim_pod);
    let others: Vec<String> = vnfc_ids(&before, "vnfcResourceInfo")
        .into_iter()
        .filter(|pod| *pod != victim_pod)
        .collect();

    let (_, error) = expect(
        v2(&app, Method::POST, &format!("{path}/heal")).json(&json!({"vnfcInstanceId": ["VDU9-nothing"]})),
        400,
    )
    .await;
    assert_eq!(error["detail"], "vnfcInstanceId(VDU9-nothing) does not exist.");

    let (location, _) = expect(
        v2(&app, Method::POST, &format!("{path}/heal")).json(&json!({"vnfcInstanceId": [victim_info_id]})),
        202,
    )
    .await;
    let op = wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
    let (_, after) = expect(v2(&app, Method::GET, &path), 200).await;
    let pods = vnfc_ids(&after, "vnfcResourceInfo");
    assert!(!pods.contains(&victim_pod), "the named pod was replaced: {after}");
    for other in &others {
        assert!(pods.contains(other), "{other} was left alone: {after}");
    }
    assert_eq!(pods.len(), others.len() + 1, "{after}");
    assert!(!vnfc_ids(&after, "vnfcInfo").contains(&victim_info_id), "{after}");
}

backend_tests!(a_plain_list_is_the_full_one_without_the_default_excluded => a_plain_list_is_the_full_one_without_the_default_excluded);

/// A list without filter or selector skips reading the documents it does not show; what it
/// answers is still exactly the full list less the default-excluded attributes, for
/// instances (v1 and v2) and occurrences.
async fn a_plain_list_is_the_full_one_without_the_default_excluded(app: TestApp) {
    let vim_id = project_with_vim_and_package(&app).await;
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (id, location) = instantiated(&app, &vim_id, json!({})).await;
    wait_op(&app, &location, &["COMPLETED"]).await;
    let patch = v2(&app, Method::PATCH, &format!("/vnf_instances/{id}"))
        .header("Content-Type", "application/merge-patch+json")
        .json(&json!({"metadata": {"owner": "team-a"}, "extensions": {"e": 1}}));
    let (location, _) = expect(patch, 202).await;
    wait_op(&app, &location.unwrap(), &["COMPLETED"]).await;
    // v1 lists v1 instances only.
    let v1_instance = json!({"vnfdId": crate::lcm_helpers::SAMPLE_VNFD_ID, "metadata": {"owner": "team-b"}});
    expect(v1(&app, Method::POST, "/vnf_instances").json(&v1_instance), 201).await;

    let instance: &[&str] = &[
        "vnfConfigurableProperties",
        "vimConnectionInfo",
        "instantiatedVnfInfo",
        "metadata",
        "extensions",
    ];
    let occurrence: &[&str] = &[
        "operationParams",
        "error",
        "resourceChanges",
        "changedInfo",
        "changedExtConnectivity",
    ];
    type Api = fn(&TestApp, Method, &str) -> reqwest::RequestBuilder;
    let lists: [(Api, &str, &[&str]); 3] = [
        (v2, "/vnf_instances", instance),
        (v1, "/vnf_instances", instance),
        (v2, "/vnf_lcm_op_occs", occurrence),
    ];
    for (api, path, excluded) in lists {
        let (_, mut full) = expect(api(&app, Method::GET, &format!("{path}?all_fields")), 200).await;
        let (_, plain) = expect(api(&app, Method::GET, path), 200).await;
        let items = full.as_array_mut().unwrap();
        assert!(!items.is_empty(), "{path}: {plain}");
        assert!(
            items
                .iter()
                .any(|item| excluded.iter().any(|k| item.get(*k).is_some())),
            "{path}: the full list shows some default-excluded attribute"
        );
        for item in items.iter_mut() {
            let object = item.as_object_mut().unwrap();
            for key in excluded {
                object.remove(*key);
            }
        }
        assert_eq!(plain, full, "{path}");
    }
}
