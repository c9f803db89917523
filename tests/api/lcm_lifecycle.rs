//! A CNF's life through /vnflcm/v2 and /vnflcm/v1 with the test infra driver: create,
//! instantiate, scale, heal, terminate, delete, on every database backend.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload_as, sample_package_with_vnfd_id, wait_onboarding};
use tacker_testkit::{backend_tests, TestApp};

use crate::lcm_helpers::{expect, project_with_vim_and_package, v1, v2, wait_op, PROJECT, SAMPLE_VNFD_ID};

fn vnfcs(instance: &Value, vdu: &str) -> Vec<String> {
    instance["instantiatedVnfInfo"]["vnfcResourceInfo"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["vduId"] == vdu)
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

backend_tests!(v2_lifecycle => v2_lifecycle);

async fn v2_lifecycle(app: TestApp) {
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let vim_id = project_with_vim_and_package(&app).await;

    let (location, created) = expect(
        v2(&app, Method::POST, "/vnf_instances")
            .json(&json!({"vnfdId": SAMPLE_VNFD_ID, "vnfInstanceName": "web-1"})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(location
        .unwrap()
        .ends_with(&format!("/vnflcm/v2/vnf_instances/{id}")));
    assert_eq!(created["instantiationState"], "NOT_INSTANTIATED");
    assert_eq!(created["vnfProductName"], "Sample CNF");
    let (_, package) = expect(
        app.request_as(PROJECT, "reader", Method::GET, "/vnfpkgm/v1/vnf_packages"),
        200,
    )
    .await;
    assert_eq!(package[0]["usageState"], "IN_USE");

    let instantiate = json!({
        "flavourId": "simple",
        "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/configmap.yaml", "Files/kubernetes/deployment.yaml"]},
    });
    let (location, body) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&instantiate),
        202,
    )
    .await;
    assert_eq!(body, Value::Null);
    let op = wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
    assert_eq!(op["operation"], "INSTANTIATE");

    let (_, instance) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    assert_eq!(instance["instantiationState"], "INSTANTIATED");
    assert_eq!(
        instance["vimConnectionInfo"]["vim1"]["vimType"],
        "ETSINFV.KUBERNETES.V_1"
    );
    assert!(
        !instance.to_string().contains("cluster-bearer-secret"),
        "secrets are never shown: {instance}"
    );
    assert_eq!(vnfcs(&instance, "VDU1").len(), 1);
    assert_eq!(vnfcs(&instance, "VDU2").len(), 1);

    // A VIM in use cannot be deleted.
    let (status, _) = app
        .send(app.request(Method::DELETE, &format!("/v1.0/vims/{vim_id}")))
        .await;
    assert_eq!(status, 409);

    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/scale"))
            .json(&json!({"type": "SCALE_OUT", "aspectId": "web_aspect", "numberOfSteps": 2})),
        202,
    )
    .await;
    assert_eq!(
        wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED"
    );
    let (_, instance) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    assert_eq!(vnfcs(&instance, "VDU1").len(), 3);
    let web = instance["instantiatedVnfInfo"]["scaleStatus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["aspectId"] == "web_aspect")
        .unwrap()
        .clone();
    assert_eq!(web["scaleLevel"], 2);
    let (_, error) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/scale"))
            .json(&json!({"type": "SCALE_OUT", "aspectId": "web_aspect", "numberOfSteps": 2})),
        400,
    )
    .await;
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .contains("leaves the range 0 to 3"),
        "{error}"
    );

    let victim = vnfcs(&instance, "VDU2")[0].clone();
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/heal"))
            .json(&json!({"vnfcInstanceId": [victim]})),
        202,
    )
    .await;
    assert_eq!(
        wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED"
    );
    let (_, healed) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    assert_eq!(vnfcs(&healed, "VDU2").len(), 1);
    assert_ne!(vnfcs(&healed, "VDU2")[0], victim, "the healed pod was replaced");
    assert_eq!(
        vnfcs(&healed, "VDU1"),
        vnfcs(&instance, "VDU1"),
        "other pods are untouched"
    );

    let (_, error) = expect(v2(&app, Method::DELETE, &format!("/vnf_instances/{id}")), 409).await;
    assert_eq!(error["detail"], format!("VnfInstance {id} is instantiated."));
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/terminate"))
            .json(&json!({"terminationType": "FORCEFUL"})),
        202,
    )
    .await;
    assert_eq!(
        wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED"
    );
    let (_, instance) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    assert_eq!(instance["instantiationState"], "NOT_INSTANTIATED");
    assert!(instance.get("instantiatedVnfInfo").is_none());

    expect(v2(&app, Method::DELETE, &format!("/vnf_instances/{id}")), 204).await;
    expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 404).await;
    let (_, package) = expect(
        app.request_as(PROJECT, "reader", Method::GET, "/vnfpkgm/v1/vnf_packages"),
        200,
    )
    .await;
    assert_eq!(package[0]["usageState"], "NOT_IN_USE");
    let (_, ops) = expect(v2(&app, Method::GET, "/vnf_lcm_op_occs"), 200).await;
    assert!(
        ops.as_array().unwrap().is_empty(),
        "occurrences go with their instance"
    );
    let (status, _) = app
        .send(app.request(Method::DELETE, &format!("/v1.0/vims/{vim_id}")))
        .await;
    assert_eq!(status, 204, "the VIM is free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_lifecycle_with_the_default_vim() {
    let app = TestApp::builder(tacker_testkit::TestBackend::Sqlite)
        .spawn()
        .await
        .unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    project_with_vim_and_package(&app).await;

    let (_, created) = expect(
        v1(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["vimConnectionInfo"], json!([]));
    let body = json!({"flavourId": "simple", "instantiationLevelId": "instantiation_level_2",
        "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]}});
    let (location, _) = expect(
        v1(&app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
        202,
    )
    .await;
    let location = location.unwrap();
    assert!(location.contains("/vnflcm/v1/vnf_lcm_op_occs/"), "{location}");
    assert_eq!(
        wait_op(&app, &location, &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED"
    );
    let (_, instance) = expect(v1(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    assert_eq!(vnfcs(&instance, "VDU1").len(), 4, "instantiation_level_2");
    assert_eq!(vnfcs(&instance, "VDU2").len(), 3);
    let connections = instance["vimConnectionInfo"].as_array().unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0]["vimType"], "kubernetes");
    assert!(connections[0]["accessInfo"].get("bearer_token").is_none());

    // MODIFY_INFO can move the instance to another onboarded VNFD; package usage follows.
    let second = create_and_upload_as(&app, Some(PROJECT), sample_package_with_vnfd_id("second-vnfd")).await;
    wait_onboarding(&app, &second).await;
    let patch = v1(&app, Method::PATCH, &format!("/vnf_instances/{id}"))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"vnfdId": "second-vnfd", "vnfInstanceName": "renamed", "metadata": {"tier": "gold"}}"#);
    let (location, _) = expect(patch, 202).await;
    assert_eq!(
        wait_op(&app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED"
    );
    let (_, instance) = expect(v1(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    assert_eq!(instance["vnfdId"], "second-vnfd");
    assert_eq!(instance["vnfInstanceName"], "renamed");
    assert_eq!(instance["metadata"], json!({"tier": "gold"}));
    assert_eq!(instance["vnfPkgId"], second.as_str());
    let (_, packages) = expect(
        app.request_as(PROJECT, "reader", Method::GET, "/vnfpkgm/v1/vnf_packages"),
        200,
    )
    .await;
    let usage = |pkg: &str| {
        packages
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == pkg)
            .unwrap()["usageState"]
            .clone()
    };
    assert_eq!(usage(&second), "IN_USE");
    assert_eq!(usage(created["vnfPkgId"].as_str().unwrap()), "NOT_IN_USE");

    // v2 does not see v1's instances.
    expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 404).await;
    let (_, list) = expect(v1(&app, Method::GET, "/vnf_instances"), 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}
