//! Helpers: a fake per test, an HTTPS client trusting its CA, and polling.

pub mod issuer;

use std::future::Future;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tacker_fake_kube::{FakeKube, FakeKubeConfig};

pub async fn start() -> FakeKube {
    FakeKube::start(FakeKubeConfig::default()).await.unwrap()
}

/// A client that trusts only `ca_pem`.
pub fn http(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

/// A client of one fake with one bearer token.
pub struct Kube<'a> {
    pub kube: &'a FakeKube,
    pub http: reqwest::Client,
    pub token: String,
}

impl<'a> Kube<'a> {
    pub fn admin(kube: &'a FakeKube) -> Self {
        Kube::with_token(kube, kube.admin_token())
    }

    pub fn with_token(kube: &'a FakeKube, token: &str) -> Self {
        Kube {
            kube,
            http: http(kube.ca_pem()),
            token: token.to_string(),
        }
    }

    /// Sends a request; `content_type` applies when `body` is given.
    pub async fn send(&self, method: Method, path: &str, body: Option<(&str, Value)>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.kube.url()))
            .bearer_auth(&self.token);
        if let Some((content_type, body)) = body {
            request = request
                .header("content-type", content_type)
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(("application/json", body)))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(("application/json", body)))
            .await
    }

    pub async fn merge_patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, Some(("application/merge-patch+json", body)))
            .await
    }

    pub async fn delete(&self, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, body.map(|b| ("application/json", b)))
            .await
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Deployment manifest.
pub fn deployment(name: &str, replicas: i64) -> Value {
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"tacker_vnf_instance_id": "vnf-1"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "tacker_vnf_instance_id": "vnf-1"}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]}]},
            },
        },
    })
}

/// The exact 401 body of kube-apiserver.
pub const UNAUTHORIZED: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
