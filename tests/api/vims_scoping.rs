//! A project sees and changes only its own VIMs; admins see all.

use reqwest::Method;
use serde_json::json;
use tacker_testkit::{backend_tests, TestApp};

use crate::helpers::{k8s_vim, tacker_error};

backend_tests!(projects_are_isolated => isolation);

async fn isolation(app: TestApp) {
    let member = "member";
    // A member registers without tenant_id: the VIM belongs to their project.
    let (status, body) = app
        .send(
            app.request_as("project-a", member, Method::POST, "/v1.0/vims.json")
                .json(&k8s_vim("a", None)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["vim"]["tenant_id"], "project-a");
    let a_id = body["vim"]["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .send(
            app.request_as("project-b", member, Method::POST, "/v1.0/vims.json")
                .json(&k8s_vim("b", None)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let b_id = body["vim"]["id"].as_str().unwrap().to_string();

    // Both projects may have their own default VIM.
    for (project, id) in [("project-a", &a_id), ("project-b", &b_id)] {
        let (status, body) = app
            .send(
                app.request_as(project, member, Method::PUT, &format!("/v1.0/vims/{id}.json"))
                    .json(&json!({"vim": {"is_default": true}})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    let (_, body) = app
        .send(app.request_as("project-b", member, Method::GET, "/v1.0/vims.json"))
        .await;
    let ids: Vec<&str> = body["vims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b_id.as_str()]);
    let (_, body) = app
        .send(app.request_as(
            "project-b",
            member,
            Method::GET,
            &format!("/v1.0/vims.json?id={a_id}"),
        ))
        .await;
    assert_eq!(body, json!({"vims": []}));

    // Another project's VIM does not exist for project-b, whatever the method.
    let path = format!("/v1.0/vims/{a_id}.json");
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"vim": {"description": "mine now"}}))),
        (Method::DELETE, None),
    ] {
        let mut request = app.request_as("project-b", member, method, &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, body) = app.send(request).await;
        tacker_error(status, &body, 404, "VimNotFoundException");
    }

    // A member cannot register into another project.
    let (status, body) = app
        .send(
            app.request_as("project-b", member, Method::POST, "/v1.0/vims.json")
                .json(&k8s_vim("x", Some("project-a"))),
        )
        .await;
    let message = tacker_error(status, &body, 400, "HTTPBadRequest");
    assert!(message.contains("requires admin privileges"), "{message}");

    // Admins (the admin role, or the noauth admin context) see everything.
    let (_, body) = app
        .send(app.request_as("project-c", "admin", Method::GET, "/v1.0/vims.json"))
        .await;
    assert_eq!(body["vims"].as_array().unwrap().len(), 2);
    let (_, body) = app
        .send(app.request(Method::GET, "/v1.0/vims.json?fields=tenant_id"))
        .await;
    assert_eq!(body["vims"].as_array().unwrap().len(), 2);
    let (status, _) = app
        .send(app.request_as("project-c", "admin", Method::GET, &path))
        .await;
    assert_eq!(status, 200);
}

backend_tests!(policy_decides_each_call => policy);

async fn policy(app: TestApp) {
    // Default rules: a reader may not register; a denied create is 403, not Tacker's 500.
    let (status, body) = app
        .send(
            app.request_as("project-a", "reader", Method::POST, "/v1.0/vims.json")
                .json(&k8s_vim("r", None)),
        )
        .await;
    let message = tacker_error(status, &body, 403, "PolicyNotAuthorized");
    assert_eq!(message, "Policy doesn't allow create_vim to be performed.");
    let (status, _) = app
        .send(
            app.request_as("project-a", "member", Method::POST, "/v1.0/vims.json")
                .json(&k8s_vim("m", None)),
        )
        .await;
    assert_eq!(status, 201);
    // A reader does not see the project's VIMs under the default rule either.
    let (_, body) = app
        .send(app.request_as("project-a", "reader", Method::GET, "/v1.0/vims.json"))
        .await;
    assert_eq!(body, json!({"vims": []}));
}

/// An operator's policy.yaml overrides the defaults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_file_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(
        &file,
        "# only vim_admins register; readers may look\n\
         \"create_vim\": \"role:vim_admin and project_id:%(project_id)s\"\n\
         \"get_vim\": \"(role:reader or role:member) and project_id:%(project_id)s\"\n",
    )
    .unwrap();
    let app = tacker_testkit::TestApp::builder(tacker_testkit::TestBackend::Sqlite)
        .conf(&format!("[oslo_policy]\npolicy_file = {}\n", file.display()))
        .spawn()
        .await
        .unwrap();
    let (status, _) = app
        .send(
            app.request_as("p", "member", Method::POST, "/v1.0/vims.json")
                .json(&k8s_vim("x", None)),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .send(
            app.request_as("p", "vim_admin", Method::POST, "/v1.0/vims.json")
                .json(&k8s_vim("x", None)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["vim"]["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .send(app.request_as("p", "reader", Method::GET, &format!("/v1.0/vims/{id}")))
        .await;
    assert_eq!(status, 200);
    // delete_vim still follows the default rule: a reader may not, and the VIM stays hidden.
    let (status, _) = app
        .send(app.request_as("p", "reader", Method::DELETE, &format!("/v1.0/vims/{id}")))
        .await;
    assert_eq!(status, 404);
}
