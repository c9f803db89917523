//! Shared steps of the lifecycle tests: a project with a default Kubernetes VIM and an
//! onboarded sample package, and waiting for operations.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding};
use tacker_testkit::TestApp;

pub const PROJECT: &str = "project-a";
pub const SAMPLE_VNFD_ID: &str = tacker_testkit::csar::SAMPLE_VNFD_ID;

/// A request to the server at `address` (a peer's, say) as a member of `project`.
pub fn member_at(app: &TestApp, address: &str, project: &str, method: Method, path: &str) -> RequestBuilder {
    app.client
        .request(method, format!("{address}{path}"))
        .header("X-User-Id", format!("user-of-{project}"))
        .header("X-Project-Id", project)
        .header("X-Roles", "member,reader")
}

/// A request as a member of [`PROJECT`], with v2's `Version` header.
pub fn v2(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v2{path}"))
        .header("Version", "2.0.0")
}

pub fn v1(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v1{path}"))
}

/// Onboards the sample package as a member of [`PROJECT`].
pub async fn onboard_as_project(app: &TestApp) -> String {
    let package = create_and_upload_as(app, Some(PROJECT), sample_package()).await;
    assert_eq!(
        wait_onboarding(app, &package).await["onboardingState"],
        "ONBOARDED"
    );
    package
}

/// Registers the project's default Kubernetes VIM and onboards the sample package.
pub async fn project_with_vim_and_package(app: &TestApp) -> String {
    let body = json!({"vim": {
        "type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
        "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "cluster-bearer-secret"},
        "vim_project": {"name": "default"},
    }});
    let (status, vim) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&body))
        .await;
    assert_eq!(status, 201, "{vim}");
    let package = create_and_upload_as(app, Some(PROJECT), sample_package()).await;
    assert_eq!(
        wait_onboarding(app, &package).await["onboardingState"],
        "ONBOARDED"
    );
    vim["vim"]["id"].as_str().unwrap().to_string()
}

/// Sends and expects `status`, returning the Location header and body.
pub async fn expect(request: RequestBuilder, status: u16) -> (Option<String>, Value) {
    let response = request.send().await.unwrap();
    let got = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    assert_eq!(got, status, "{}", String::from_utf8_lossy(&bytes));
    (location, body)
}

/// Asks for `action` (retry, rollback) on a FAILED_TEMP occurrence and waits until the
/// conductor has run it to one of `states` (a state entered after the request).
pub async fn act_and_wait(app: &TestApp, location: &str, action: &str, states: &[&str]) -> Value {
    let before = wait_op(app, location, &["FAILED_TEMP"]).await["stateEnteredTime"].clone();
    let op_path = location.split_once("/vnflcm/v2").unwrap().1.to_string();
    expect(v2(app, Method::POST, &format!("{op_path}/{action}")), 202).await;
    for _ in 0..300 {
        let op = wait_op(app, location, states).await;
        if op["stateEnteredTime"] != before {
            return op;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{action} of {location} did not end in {states:?}");
}

/// Polls an occurrence (by its Location) until it is in one of `states`.
pub async fn wait_op(app: &TestApp, location: &str, states: &[&str]) -> Value {
    let path = location
        .split_once("/vnflcm/")
        .map(|(_, p)| format!("/vnflcm/{p}"))
        .unwrap();
    for _ in 0..300 {
        let request = app
            .request_as(PROJECT, "member,reader", Method::GET, &path)
            .header("Version", "2.0.0");
        let (_, op) = expect(request, 200).await;
        if states.contains(&op["operationState"].as_str().unwrap_or_default()) {
            return op;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{location} did not reach {states:?} in 15 s");
}

/// A subscriber for notifications: answers the callback test (GET) with 204 and records
/// every POSTed notification; POSTs can be made to fail with 503.
pub struct Receiver {
    pub callback: String,
    posts: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    /// `basic`: the user and password every request must carry.
    pub async fn start(basic: Option<(&str, &str)>) -> Receiver {
        use axum::http::{HeaderMap, StatusCode};
        use base64::Engine;
        use std::sync::atomic::Ordering;
        let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let expected = basic.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let authorized = move |headers: &HeaderMap| {
            expected
                .as_deref()
                .is_none_or(|e| headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(e))
        };
        let (get_auth, post_auth) = (authorized.clone(), authorized);
        let (recorded, fail) = (posts.clone(), failing.clone());
        let app = axum::Router::new().route(
            "/notify",
            axum::routing::get(move |headers: HeaderMap| async move {
                if get_auth(&headers) {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::UNAUTHORIZED
                }
            })
            .post(move |headers: HeaderMap, body: axum::body::Bytes| async move {
                if !post_auth(&headers) {
                    return StatusCode::UNAUTHORIZED;
                }
                if fail.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                recorded
                    .lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                StatusCode::NO_CONTENT
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            callback: format!("http://{address}/notify"),
            posts,
            failing,
        }
    }

    pub fn fail_posts(&self, fail: bool) {
        self.failing.store(fail, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Value> {
        self.posts.lock().unwrap().clone()
    }

    /// Waits until `predicate` holds for the received notifications.
    pub async fn wait_for(&self, what: &str, predicate: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..200 {
            let received = self.received();
            if predicate(&received) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {what} within 10 s; received {:#?}", self.received());
    }
}

/// Creates an instance and instantiates it; returns the instance id and the op's Location.
pub async fn instantiated(app: &TestApp, vim_id: &str, additional: Value) -> (String, String) {
    let (_, created) = expect(
        v2(app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let mut params = json!({"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]});
    if let (Some(params), Some(extra)) = (params.as_object_mut(), additional.as_object()) {
        params.extend(extra.clone());
    }
    let body = json!({"flavourId": "simple", "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}}, "additionalParams": params});
    let (location, _) = expect(
        v2(app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
        202,
    )
    .await;
    (id, location.unwrap())
}
