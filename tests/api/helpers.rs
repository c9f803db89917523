use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::{TestApp, TestBackend};

/// A kubernetes VIM register body with a bearer token.
pub fn k8s_vim(name: &str, tenant: Option<&str>) -> Value {
    let mut vim = json!({
        "type": "kubernetes",
        "name": name,
        "description": "test cluster",
        "auth_url": "https://10.0.0.10:6443",
        "auth_cred": {"bearer_token": "bearer-secret-value"},
        "vim_project": {"name": "default"},
        "is_default": false,
    });
    if let Some(tenant) = tenant {
        vim["tenant_id"] = json!(tenant);
    }
    json!({ "vim": vim })
}

/// Registers as noauth admin for `tenant` and returns the VIM view.
pub async fn register(app: &TestApp, body: Value) -> Value {
    let (status, body) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&body))
        .await;
    assert_eq!(status, 201, "{body}");
    body["vim"].clone()
}

/// Asserts a TackerError body of the given status and type, returning its message.
pub fn tacker_error(status: u16, body: &Value, want_status: u16, want_type: &str) -> String {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["TackerError"]["type"], want_type, "{body}");
    assert_eq!(body["TackerError"]["detail"], "", "{body}");
    body["TackerError"]["message"].as_str().unwrap().to_string()
}

/// A server on SQLite with `conf` added to its tacker.conf, for tests of the HTTP layer,
/// which no database changes.
pub async fn sqlite_app(conf: &str) -> TestApp {
    TestApp::builder(TestBackend::Sqlite)
        .conf(conf)
        .spawn()
        .await
        .unwrap()
}
