//! The VIM lifecycle as a client sees it: register, list, show, update, delete.

use reqwest::Method;
use serde_json::json;
use tacker_testkit::{backend_tests, TestApp};

use crate::helpers::{k8s_vim, register};

backend_tests!(register_list_show_update_delete => lifecycle);

async fn lifecycle(app: TestApp) {
    let response = app
        .request(Method::POST, "/v1.0/vims.json")
        .json(&k8s_vim("cluster-a", Some("project-a")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let request_id = response.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        request_id.starts_with("req-") && request_id.len() == 40,
        "{request_id}"
    );
    let created = response.json::<serde_json::Value>().await.unwrap()["vim"].clone();
    let id = created["id"].as_str().unwrap().to_string();

    let mut keys: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "auth_cred",
            "auth_url",
            "created_at",
            "description",
            "extra",
            "id",
            "is_default",
            "name",
            "placement_attr",
            "status",
            "tenant_id",
            "type",
            "updated_at",
            "vim_project"
        ]
    );
    assert_eq!(created["tenant_id"], "project-a");
    assert_eq!(created["type"], "kubernetes");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["is_default"], false);
    assert_eq!(created["updated_at"], serde_json::Value::Null);
    assert_eq!(created["extra"], json!({}));
    assert_eq!(created["placement_attr"], json!({"regions": []}));
    assert_eq!(created["auth_cred"]["bearer_token"], "***");
    assert_eq!(created["auth_cred"]["auth_url"], "https://10.0.0.10:6443");
    assert_eq!(created["auth_cred"]["key_type"], "fernet_key");
    assert_tacker_seconds(&created["created_at"]);

    // show, with and without the .json suffix
    for path in [format!("/v1.0/vims/{id}.json"), format!("/v1.0/vims/{id}")] {
        let (status, body) = app.send(app.request(Method::GET, &path)).await;
        assert_eq!(status, 200);
        assert_eq!(body["vim"], created);
    }

    // python-tackerclient's name and id resolution
    let second = register(&app, k8s_vim("cluster-b", Some("project-a"))).await;
    let (status, body) = app
        .send(app.request(Method::GET, "/v1.0/vims.json?name=cluster-a&fields=id"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"vims": [{"id": id}]}));
    let (_, body) = app
        .send(app.request(
            Method::GET,
            &format!(
                "/v1.0/vims.json?id={}&fields=id&fields=name",
                second["id"].as_str().unwrap()
            ),
        ))
        .await;
    assert_eq!(body, json!({"vims": [{"id": second["id"], "name": "cluster-b"}]}));
    let (_, body) = app.send(app.request(Method::GET, "/v1.0/vims")).await;
    assert_eq!(body["vims"].as_array().unwrap().len(), 2);
    let (_, body) = app
        .send(app.request(Method::GET, "/v1.0/vims.json?name=nope"))
        .await;
    assert_eq!(body, json!({"vims": []}));

    // update: rename, default, switch the credentials to OIDC
    let update = json!({"vim": {
        "name": "cluster-a2",
        "description": "renamed",
        "is_default": true,
        "auth_cred": {"oidc_token_url": "https://idp.example/token", "username": "end-user",
                      "password": "user-password", "client_id": "tacker", "client_secret": "client-s3cret"}
    }});
    let (status, body) = app
        .send(
            app.request(Method::PUT, &format!("/v1.0/vims/{id}.json"))
                .json(&update),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let updated = &body["vim"];
    assert_eq!(updated["name"], "cluster-a2");
    assert_eq!(updated["description"], "renamed");
    assert_eq!(updated["is_default"], true);
    assert_eq!(updated["created_at"], created["created_at"]);
    assert_tacker_seconds(&updated["updated_at"]);
    let cred = &updated["auth_cred"];
    assert_eq!(cred["password"], "***");
    assert_eq!(cred["client_secret"], "***");
    assert_eq!(cred["oidc_token_url"], "https://idp.example/token");
    assert_eq!(cred["username"], "end-user");
    assert_eq!(cred["client_id"], "tacker");
    assert!(cred.get("bearer_token").is_none(), "{cred}");
    let (_, shown) = app
        .send(app.request(Method::GET, &format!("/v1.0/vims/{id}")))
        .await;
    assert_eq!(&shown["vim"], updated);
    let (_, defaults) = app
        .send(app.request(Method::GET, "/v1.0/vims?is_default=true&fields=id"))
        .await;
    assert_eq!(defaults, json!({"vims": [{"id": id}]}));

    // delete: 204 with an empty body, then gone; the name can be used again
    let response = app
        .request(Method::DELETE, &format!("/v1.0/vims/{id}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers().get("content-type").is_none());
    assert!(response.bytes().await.unwrap().is_empty());
    let (status, _) = app
        .send(app.request(Method::GET, &format!("/v1.0/vims/{id}")))
        .await;
    assert_eq!(status, 404);
    register(&app, k8s_vim("cluster-a2", Some("project-a"))).await;
}

backend_tests!(openstack_vims_are_stored_like_tacker => openstack_vim);

async fn openstack_vim(app: TestApp) {
    let vim = register(
        &app,
        json!({"vim": {
            "type": "openstack", "name": "os", "tenant_id": "p",
            "auth_url": "http://keystone.example/identity",
            "auth_cred": {"username": "nfv_user", "password": "os-password", "user_domain_name": "Default"},
            "vim_project": {"name": "nfv", "project_domain_name": "Default"},
        }}),
    )
    .await;
    assert_eq!(vim["auth_url"], "http://keystone.example/identity/v3");
    let cred = &vim["auth_cred"];
    assert_eq!(cred["password"], "***");
    assert_eq!(cred["project_name"], "nfv");
    assert_eq!(cred["project_domain_name"], "Default");
    assert_eq!(cred["cert_verify"], "True");
    assert_eq!(cred["auth_url"], "http://keystone.example/identity/v3");
}

/// `2026-12-04 18:01:22`: Python's `str(datetime)` of a Tacker row, whole seconds only.
fn assert_tacker_seconds(value: &serde_json::Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    let shape: String = text
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999-99-99 99:99:99", "Tacker's form: {text}");
}
