//! LCM operations per second end to end: API server, one or two conductors with the test
//! infra driver, clients running create → instantiate → terminate → delete cycles through
//! /vnflcm/v2, on a fresh database (PostgreSQL by default). Bounded in time.
//!
//!   scripts/bench-lcm            # runs this for 1 and 2 conductors on PostgreSQL

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::{TestApp, TestBackend};

const PROJECT: &str = "bench";

#[tokio::main]
async fn main() {
    let conductors: usize = std::env::var("CONDUCTORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let clients: usize = std::env::var("CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let backend = match std::env::var("BACKEND").as_deref() {
        Ok("sqlite") => TestBackend::Sqlite,
        Ok("mysql") => TestBackend::MySql,
        _ => TestBackend::Postgres,
    };
    let app = TestApp::builder(backend)
        .spawn()
        .await
        .expect("the database backend is configured");
    let _conductors: Vec<_> = (0..conductors)
        .map(|_| app.spawn_conductor(Duration::from_secs(30)))
        .collect();
    let vim = json!({"vim": {"type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
        "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "t"}, "vim_project": {"name": "default"}}});
    let (status, _) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&vim))
        .await;
    assert_eq!(status, 201);
    let package = create_and_upload_as(&app, Some(PROJECT), sample_package()).await;
    wait_onboarding(&app, &package).await;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients).map(|_| cycles(&app, deadline)).collect();
    let results = futures::future::join_all(workers).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cycles: usize = results.iter().map(|(n, _)| n).sum();
    let mut latencies: Vec<f64> = results.into_iter().flat_map(|(_, l)| l).collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "conductors={conductors} clients={clients} backend={backend:?} cycles={cycles} in {elapsed:.1}s: \
         {:.1} cycles/s, {:.1} LCM API calls/s, {:.1} conductor operations/s; instantiate→COMPLETED p50 {:.0} ms p99 {:.0} ms",
        cycles as f64 / elapsed,
        4.0 * cycles as f64 / elapsed,
        2.0 * cycles as f64 / elapsed,
        pct(0.5),
        pct(0.99),
    );
}

/// Runs cycles until the deadline; returns how many and the instantiate latencies (ms).
async fn cycles(app: &TestApp, deadline: Instant) -> (usize, Vec<f64>) {
    let mut done = 0;
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let created = call(
            app,
            Method::POST,
            "/vnf_instances",
            Some(json!({"vnfdId": SAMPLE_VNFD_ID})),
        )
        .await;
        let id = created.1["id"].as_str().expect("created").to_owned();
        let begin = Instant::now();
        let body = json!({"flavourId": "simple", "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]}});
        let (location, _) = call(
            app,
            Method::POST,
            &format!("/vnf_instances/{id}/instantiate"),
            Some(body),
        )
        .await;
        finish(app, &location.expect("Location")).await;
        latencies.push(begin.elapsed().as_secs_f64() * 1000.0);
        let (location, _) = call(
            app,
            Method::POST,
            &format!("/vnf_instances/{id}/terminate"),
            Some(json!({"terminationType": "FORCEFUL"})),
        )
        .await;
        finish(app, &location.expect("Location")).await;
        call(app, Method::DELETE, &format!("/vnf_instances/{id}"), None).await;
        done += 1;
    }
    (done, latencies)
}

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (Option<String>, Value) {
    let mut request = app
        .request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v2{path}"))
        .header("Version", "2.0.0");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    assert!(response.status().is_success(), "{path}: {}", response.status());
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    (location, response.json().await.unwrap_or(Value::Null))
}

async fn finish(app: &TestApp, location: &str) {
    let path = location.split_once("/vnflcm/v2").expect("v2 URL").1.to_owned();
    loop {
        let (_, op) = call(app, Method::GET, &path, None).await;
        match op["operationState"].as_str() {
            Some("COMPLETED") => return,
            Some("FAILED_TEMP" | "FAILED" | "ROLLED_BACK") => panic!("{op}"),
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}
