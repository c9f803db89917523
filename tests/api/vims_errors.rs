//! Bad input gets a 4xx in Tacker's error format, naming what is wrong, and leaves nothing behind.

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::{backend_tests, pki, raw, TestApp};

use crate::helpers::{k8s_vim, register, tacker_error};

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    app.send(app.request(Method::POST, "/v1.0/vims.json").json(&body))
        .await
}

async fn vim_count(app: &TestApp) -> usize {
    raw::fetch_text(&app.config.database_connection, "SELECT id FROM vims")
        .await
        .len()
}

fn key_files(app: &TestApp) -> usize {
    std::fs::read_dir(&app.config.vim_key_dir).unwrap().count()
}

backend_tests!(malformed_requests_are_400 => malformed_requests);

async fn malformed_requests(app: TestApp) {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"vimx": {}}), "Unable to find 'vim' in request body"),
        (
            json!({"vim": {"type": "kubernetes", "name": "x", "auth_url": "https://k:6443", "vim_project": {"name": "d"}, "tenant_id": "p"}}),
            "Failed to parse request. Required attribute 'auth_cred' not specified",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["name"] = json!(7);
                b
            },
            "Invalid input for name. Reason: '7' is not a valid string.",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["status"] = json!("ACTIVE");
                b
            },
            "Attribute 'status' not allowed in POST",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["flavour"] = json!(1);
                b
            },
            "Unrecognized attribute(s) 'flavour'",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["type"] = json!(" ");
                b
            },
            "Invalid input for type. Reason: ' ' Blank strings are not permitted.",
        ),
        (
            {
                let mut b = k8s_vim("x", None);
                b["vim"]["tenant_id"] = Value::Null;
                b
            },
            "Invalid input for tenant_id. Reason: 'null' is not a valid string.",
        ),
    ];
    for (body, message) in cases {
        let (status, response) = post(&app, body).await;
        assert_eq!(tacker_error(status, &response, 400, "HTTPBadRequest"), message);
    }

    let contains = [
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["type"] = json!("vmware");
                b
            },
            "'vmware' is not a supported VIM type",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["auth_url"] = json!("not a url");
                b
            },
            "Invalid input for auth_url",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["auth_cred"] = json!({"bearer_token": "t", "ssl_ca_cert": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"});
                b
            },
            "ssl_ca_cert",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["auth_cred"] = json!({"bearer_token": "t", "ssl_ca_cert": "hello"});
                b
            },
            "ssl_ca_cert",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["auth_cred"] = json!({"client_id": "c"});
                b
            },
            "needs bearer_token",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["auth_cred"] =
                    json!({"oidc_token_url": "https://idp/t", "username": "u", "password": "p"});
                b
            },
            "client_id",
        ),
        (
            {
                let mut b = k8s_vim("x", Some("p"));
                b["vim"]["auth_cred"] = json!({"bearer_token": ["t"]});
                b
            },
            "'bearer_token' must be a string",
        ),
        (
            k8s_vim("x", None),
            "Running without keystone AuthN requires that tenant_id is specified",
        ),
    ];
    for (body, fragment) in contains {
        let (status, response) = post(&app, body).await;
        let message = tacker_error(status, &response, 400, "HTTPBadRequest");
        assert!(
            message.contains(fragment),
            "{message:?} should mention {fragment:?}"
        );
        assert!(!message.contains("bearer-secret-value"), "{message}");
    }

    // Body-level problems.
    let response = app.request(Method::POST, "/v1.0/vims.json").send().await.unwrap();
    let (status, body) = (
        response.status().as_u16(),
        response.json::<Value>().await.unwrap(),
    );
    assert_eq!(
        tacker_error(status, &body, 400, "HTTPBadRequest"),
        "Resource body required"
    );
    let request = app
        .request(Method::POST, "/v1.0/vims.json")
        .header("content-type", "application/json")
        .body("{\"vim\": ");
    let (status, body) = app.send(request).await;
    assert!(tacker_error(status, &body, 400, "MalformedRequestBody").starts_with("Malformed request body"));
    let request = app
        .request(Method::POST, "/v1.0/vims.json")
        .header("content-type", "application/xml")
        .body("<vim/>");
    let (status, body) = app.send(request).await;
    tacker_error(status, &body, 415, "InvalidContentType");
    let mut huge = k8s_vim("huge", Some("p"));
    huge["vim"]["description"] = json!("x".repeat(200_000));
    let response = app
        .request(Method::POST, "/v1.0/vims.json")
        .json(&huge)
        .send()
        .await
        .unwrap();
    // Refused unread, so the connection closes and the client must not reuse it.
    assert_eq!(response.headers()["connection"], "close");
    let (status, body) = (
        response.status().as_u16(),
        response.json::<Value>().await.unwrap(),
    );
    tacker_error(status, &body, 413, "HTTPRequestEntityTooLarge");
    let (status, body) = post(&app, json!({"vims": [k8s_vim("a", Some("p"))["vim"]]})).await;
    tacker_error(status, &body, 501, "NotImplemented");

    // Nothing was stored by any of them.
    assert_eq!(vim_count(&app).await, 0);
    assert_eq!(key_files(&app), 0);
}

backend_tests!(conflicts_are_409_and_leave_nothing_behind => conflicts);

async fn conflicts(app: TestApp) {
    let mut first = k8s_vim("dup", Some("p"));
    first["vim"]["is_default"] = json!(true);
    let first = register(&app, first).await;

    let (status, body) = post(&app, k8s_vim("dup", Some("p"))).await;
    tacker_error(status, &body, 409, "DuplicateEntity");
    // The same name in another project is fine.
    register(&app, k8s_vim("dup", Some("other"))).await;

    let mut second_default = k8s_vim("second", Some("p"));
    second_default["vim"]["is_default"] = json!("true");
    let (status, body) = post(&app, second_default).await;
    let message = tacker_error(status, &body, 409, "VimDefaultDuplicateException");
    assert_eq!(
        message,
        format!("Default VIM already exists {}.", first["id"].as_str().unwrap())
    );

    // Renaming onto a taken name, or making a second VIM default, is refused on update too.
    let third = register(&app, k8s_vim("third", Some("p"))).await;
    let third_path = format!("/v1.0/vims/{}.json", third["id"].as_str().unwrap());
    let (status, body) = app
        .send(
            app.request(Method::PUT, &third_path)
                .json(&json!({"vim": {"name": "dup"}})),
        )
        .await;
    tacker_error(status, &body, 409, "DuplicateEntity");
    let (status, body) = app
        .send(
            app.request(Method::PUT, &third_path)
                .json(&json!({"vim": {"is_default": 1}})),
        )
        .await;
    tacker_error(status, &body, 409, "VimDefaultDuplicateException");

    assert_eq!(vim_count(&app).await, 3);
    assert_eq!(
        key_files(&app),
        3,
        "a refused registration must not leave its key file"
    );
}

backend_tests!(the_database_enforces_one_default_per_tenant => database_default_rule);

async fn database_default_rule(app: TestApp) {
    let mut vim = k8s_vim("d1", Some("p"));
    vim["vim"]["is_default"] = json!(true);
    register(&app, vim).await;
    let insert = |id: &str, tenant: &str| {
        format!(
            "INSERT INTO vims (id, tenant_id, type, name, description, auth_url, vim_project, auth_cred, \
             placement_attr, extra, shared, is_default, created_at) VALUES ('{id}', '{tenant}', 'kubernetes', \
             'n-{id}', '', 'https://k', '{{}}', '{{}}', '{{}}', '{{}}', FALSE, TRUE, CURRENT_TIMESTAMP)"
        )
    };
    let conn = &app.config.database_connection;
    let err = raw::execute(conn, &insert("raw-1", "p")).await.unwrap_err();
    assert!(
        err.to_lowercase().contains("unique") || err.contains("Duplicate"),
        "{err}"
    );
    raw::execute(conn, &insert("raw-2", "q")).await.unwrap();
}

backend_tests!(a_vim_in_use_cannot_be_changed_or_deleted => in_use);

async fn in_use(app: TestApp) {
    let vim = register(&app, k8s_vim("used", Some("p"))).await;
    let id = vim["id"].as_str().unwrap();
    raw::execute(
        &app.config.database_connection,
        &format!("INSERT INTO vnf_instances (id, tenant_id, vim_id, created_at) VALUES ('i-1', 'p', '{id}', CURRENT_TIMESTAMP)"),
    )
    .await
    .unwrap();
    let path = format!("/v1.0/vims/{id}.json");
    let (status, body) = app.send(app.request(Method::DELETE, &path)).await;
    let message = tacker_error(status, &body, 409, "VimInUseException");
    assert_eq!(message, format!("VIM {id} is still in use by VNF"));
    let (status, body) = app
        .send(
            app.request(Method::PUT, &path)
                .json(&json!({"vim": {"description": "x"}})),
        )
        .await;
    tacker_error(status, &body, 409, "VimInUseException");
    // The database refuses too, even if the check were skipped.
    let err = raw::execute(
        &app.config.database_connection,
        &format!("DELETE FROM vims WHERE id = '{id}'"),
    )
    .await
    .unwrap_err();
    assert!(err.to_lowercase().contains("foreign key"), "{err}");
}

backend_tests!(unknown_ids_routes_and_methods => unknown_things);

async fn unknown_things(app: TestApp) {
    for method in [Method::GET, Method::DELETE] {
        let (status, body) = app
            .send(app.request(method, "/v1.0/vims/00000000-0000-0000-0000-000000000000.json"))
            .await;
        let message = tacker_error(status, &body, 404, "VimNotFoundException");
        assert!(
            message.contains("00000000-0000-0000-0000-000000000000"),
            "{message}"
        );
    }
    let (status, body) = app
        .send(
            app.request(Method::PUT, "/v1.0/vims/nope.json")
                .json(&json!({"vim": {"name": "x"}})),
        )
        .await;
    tacker_error(status, &body, 404, "VimNotFoundException");
    let (status, body) = app.send(app.request(Method::GET, "/v1.0/clusters")).await;
    tacker_error(status, &body, 404, "HTTPNotFound");
    let (status, body) = app.send(app.request(Method::GET, "/nothing-here")).await;
    tacker_error(status, &body, 404, "HTTPNotFound");
    let (status, body) = app.send(app.request(Method::POST, "/v1.0/vims/some-id")).await;
    tacker_error(status, &body, 405, "HTTPMethodNotAllowed");

    let vim = register(&app, k8s_vim("ro", Some("p"))).await;
    let path = format!("/v1.0/vims/{}.json", vim["id"].as_str().unwrap());
    for attr in ["type", "auth_url", "tenant_id", "status"] {
        let (status, body) = app
            .send(app.request(Method::PUT, &path).json(&json!({"vim": {attr: "x"}})))
            .await;
        let message = tacker_error(status, &body, 400, "HTTPBadRequest");
        assert_eq!(message, format!("Cannot update read-only attribute {attr}"));
    }
}

backend_tests!(ca_bundles_are_checked_and_one_line_pem_is_repaired => ca_bundles);

async fn ca_bundles(app: TestApp) {
    let bundle = format!("{}{}", pki::ca_pem("cluster CA"), pki::ca_pem("IdP CA"));
    let mut body = k8s_vim("two-cas", Some("p"));
    body["vim"]["auth_cred"]["ssl_ca_cert"] = json!(bundle);
    let vim = register(&app, body).await;
    assert!(vim["auth_cred"]["ssl_ca_cert"]
        .as_str()
        .unwrap()
        .starts_with("gAAAAA"));

    // A PEM pasted on one line (line breaks turned into spaces) is accepted, as Tacker does.
    let one_line = pki::ca_pem("flat").replace('\n', " ");
    let mut body = k8s_vim("one-line", Some("p"));
    body["vim"]["auth_cred"]["ssl_ca_cert"] = json!(one_line);
    register(&app, body).await;

    let private_key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n";
    let mut body = k8s_vim("key", Some("p"));
    body["vim"]["auth_cred"]["ssl_ca_cert"] = json!(private_key);
    let (status, response) = post(&app, body).await;
    let message = tacker_error(status, &response, 400, "HTTPBadRequest");
    assert!(
        message.contains("ssl_ca_cert") && message.contains("PRIVATE KEY"),
        "{message}"
    );
}
