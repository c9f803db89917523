//! LCM operations per second end to end: API server, one or two conductors, clients
//! running create → instantiate → terminate → delete cycles through /vnflcm/v2, on a
//! fresh database (PostgreSQL by default). Bounded in time. `DRIVER=kubernetes` runs the
//! real Kubernetes driver against the fake kube-apiserver (each client in its own
//! namespace; `POD_STARTUP_MS` is the fake's pod start-up, default 200; `POLL_MS` the
//! driver's poll interval, default 50; `WATCH=0` makes it poll only); otherwise the
//! in-memory test driver.
//!
//!   scripts/bench-lcm
//!   scripts/bench-k8s-wait

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tacker_driver::TestDriver;
use tacker_fake_kube::{FakeKube, FakeKubeConfig, Timings};
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::{TestApp, TestBackend};

const PROJECT: &str = "bench";

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let conductors: usize = env("CONDUCTORS", 1);
    let clients: usize = env("CLIENTS", 8);
    let seconds: u64 = env("BENCH_SECONDS", 10);
    let kubernetes = std::env::var("DRIVER").as_deref() == Ok("kubernetes");
    let backend = match std::env::var("BACKEND").as_deref() {
        Ok("sqlite") => TestBackend::Sqlite,
        Ok("mysql") => TestBackend::MySql,
        _ => TestBackend::Postgres,
    };
    let app = TestApp::builder(backend)
        .spawn()
        .await
        .expect("the database backend is configured");
    let pod_startup = Duration::from_millis(env("POD_STARTUP_MS", 200));
    let poll = Duration::from_millis(env("POLL_MS", 50));
    let watch = env("WATCH", 1) != 0;
    let kube = match kubernetes {
        true => {
            let timings = Timings {
                pod_startup,
                ..Timings::default()
            };
            Some(
                FakeKube::start(FakeKubeConfig::default().with_timings(timings))
                    .await
                    .expect("fake apiserver"),
            )
        }
        false => None,
    };
    let _conductors: Vec<_> = (0..conductors)
        .map(|_| match &kube {
            Some(_) => {
                let settings = tacker_k8s::KubernetesSettings {
                    poll_interval: poll,
                    watch,
                    ..Default::default()
                };
                app.spawn_conductor_with(
                    Duration::from_secs(30),
                    tacker_k8s::drivers(settings),
                    Arc::new(TestDriver::new()),
                )
            }
            None => app.spawn_conductor(Duration::from_secs(30)),
        })
        .collect();
    let (auth_url, cred) = match &kube {
        Some(kube) => {
            for client in 0..clients {
                namespace(kube, &format!("bench-{client}")).await;
            }
            (
                kube.url().to_owned(),
                json!({"bearer_token": kube.admin_token(), "ssl_ca_cert": kube.ca_pem()}),
            )
        }
        None => ("https://10.0.0.10:6443".to_owned(), json!({"bearer_token": "t"})),
    };
    let vim = json!({"vim": {"type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
        "auth_url": auth_url, "auth_cred": cred, "vim_project": {"name": "default"}}});
    let (status, body) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&vim))
        .await;
    assert_eq!(status, 201, "{body}");
    let package = create_and_upload_as(&app, Some(PROJECT), sample_package()).await;
    wait_onboarding(&app, &package).await;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| cycles(&app, deadline, format!("bench-{client}")))
        .collect();
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
    let driver = match kubernetes {
        true => format!(
            "kubernetes (pod start-up {} ms, poll {} ms, {})",
            pod_startup.as_millis(),
            poll.as_millis(),
            if watch { "watches" } else { "no watches" }
        ),
        false => "test".to_owned(),
    };
    println!(
        "driver={driver} conductors={conductors} clients={clients} backend={backend:?} cycles={cycles} in {elapsed:.1}s: \
         {:.1} cycles/s, {:.1} LCM API calls/s, {:.1} conductor operations/s ({:.0}/min); \
         instantiate→COMPLETED p50 {:.0} ms p99 {:.0} ms",
        cycles as f64 / elapsed,
        4.0 * cycles as f64 / elapsed,
        2.0 * cycles as f64 / elapsed,
        120.0 * cycles as f64 / elapsed,
        pct(0.5),
        pct(0.99),
    );
}

/// Runs cycles until the deadline; returns how many and the instantiate latencies (ms).
async fn cycles(app: &TestApp, deadline: Instant, namespace: String) -> (usize, Vec<f64>) {
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
        let body = json!({"flavourId": "simple", "additionalParams": {"namespace": namespace,
            "lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml", "Files/kubernetes/statefulset.yaml"]}});
        let (location, _) = call(
            app,
            Method::POST,
            &format!("/vnf_instances/{id}/instantiate"),
            Some(body),
        )
        .await;
        finish(app, &location.expect("Location")).await;
        latencies.push(begin.elapsed().as_secs_f64() * 1000.0);
        let terminate = json!({"terminationType": "FORCEFUL"});
        let (location, _) = call(
            app,
            Method::POST,
            &format!("/vnf_instances/{id}/terminate"),
            Some(terminate),
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

/// Creates a namespace on the fake apiserver as its admin.
async fn namespace(kube: &FakeKube, name: &str) {
    let ca = reqwest::Certificate::from_pem(kube.ca_pem().as_bytes()).expect("CA");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let response = client
        .post(format!("{}/api/v1/namespaces", kube.url()))
        .bearer_auth(kube.admin_token())
        .json(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
        .send()
        .await
        .expect("namespace");
    assert!(response.status().is_success(), "{}", response.status());
}
