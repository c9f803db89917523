//! The database goes away during traffic and LCM operations, then comes back
//! (scripts/bench-writes). A server and a conductor (test infra driver, each operation
//! 2 s) reach PostgreSQL or MariaDB through a relay that cuts every connection and
//! refuses new ones for `OUTAGE_SECONDS` (default 20); SQLite instead has its write lock
//! held elsewhere for that long. Clients keep reading and writing VIMs and running
//! instantiate/terminate cycles throughout.
//!
//! Reports: the slowest answer and every 5xx other than 503 during the outage, the
//! state of every operation occurrence afterwards (COMPLETED or FAILED_TEMP with its
//! reason; "conductor processing error" would mean a conductor failed its own work),
//! and whether the service answered again without a restart.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::db_fault::SqliteWriteLock;
use tacker_testkit::{TestApp, TestBackend};

const PROJECT: &str = "bench";

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Seen {
    /// (status, during the outage) → count
    answers: BTreeMap<(u16, bool), u64>,
    slowest_in_outage: Duration,
}

/// How each operation ended: "OPERATION STATE reason" → count.
type Outcomes = Arc<Mutex<BTreeMap<String, u64>>>;

#[tokio::main]
async fn main() {
    let outage = Duration::from_secs(env("OUTAGE_SECONDS", 20));
    let backend = match std::env::var("BACKEND").as_deref() {
        Ok("sqlite") => TestBackend::Sqlite,
        Ok("mysql") => TestBackend::MySql,
        _ => TestBackend::Postgres,
    };
    let app = Arc::new(
        TestApp::builder(backend)
            .through_relay()
            .spawn()
            .await
            .expect("the database backend is configured"),
    );
    let body = json!({"vim": {
        "type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
        "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "bench-token"},
        "vim_project": {"name": "default"},
    }});
    let (status, vim) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&body))
        .await;
    assert_eq!(status, 201, "{vim}");
    let vim_id = vim["vim"]["id"].as_str().unwrap().to_owned();
    let package = create_and_upload_as(&app, Some(PROJECT), sample_package()).await;
    assert_eq!(
        wait_onboarding(&app, &package).await["onboardingState"],
        "ONBOARDED"
    );
    let _conductor = app.spawn_conductor(Duration::from_secs(30));

    let seen = Arc::new(Mutex::new(Seen::default()));
    let in_outage = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run_for = outage + Duration::from_secs(30);
    let until = Instant::now() + run_for;

    let record = {
        let (seen, in_outage) = (seen.clone(), in_outage.clone());
        move |status: u16, took: Duration| {
            let during = in_outage.load(std::sync::atomic::Ordering::Relaxed);
            let mut seen = seen.lock().unwrap();
            *seen.answers.entry((status, during)).or_default() += 1;
            if during && took > seen.slowest_in_outage {
                seen.slowest_in_outage = took;
            }
        }
    };
    let mut clients = Vec::new();
    // VIM readers and writers.
    for n in 0..8 {
        let (app, record, vim_id) = (app.clone(), record.clone(), vim_id.clone());
        clients.push(tokio::spawn(async move {
            let mut round = 0u64;
            while Instant::now() < until {
                round += 1;
                let request = match round % 3 {
                    0 => app.request(Method::GET, "/v1.0/vims"),
                    1 => app.request(Method::GET, &format!("/v1.0/vims/{vim_id}")),
                    _ => app
                        .request(Method::PUT, &format!("/v1.0/vims/{vim_id}"))
                        .json(&json!({"vim": {"description": format!("client {n} round {round}")}})),
                };
                let started = Instant::now();
                let status = request.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                record(status, started.elapsed());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    // LCM cycles: create, instantiate (2 s in the driver), terminate, delete.
    let outcomes = Outcomes::default();
    for _ in 0..4 {
        let (app, record, vim_id, outcomes) = (app.clone(), record.clone(), vim_id.clone(), outcomes.clone());
        clients.push(tokio::spawn(async move {
            while Instant::now() < until {
                lcm_cycle(&app, &vim_id, &record, &outcomes).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(10)).await;
    in_outage.store(true, std::sync::atomic::Ordering::Relaxed);
    eprintln!("database down for {outage:?}");
    match &app.relay {
        Some(relay) => {
            relay.cut();
            tokio::time::sleep(outage).await;
            relay.restore();
        }
        None => {
            let lock = SqliteWriteLock::take(&app.database.connection).await;
            tokio::time::sleep(outage).await;
            drop(lock);
        }
    }
    in_outage.store(false, std::sync::atomic::Ordering::Relaxed);
    eprintln!("database back");
    for client in clients {
        client.await.unwrap();
    }
    // Let the conductor finish what it runs.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let (status, _) = app.send(app.request(Method::GET, "/v1.0/vims")).await;
    let seen = seen.lock().unwrap();
    println!("backend: {backend:?}, outage: {outage:?}");
    println!("answers (status, during outage) → count: {:?}", seen.answers);
    let bad: u64 = seen
        .answers
        .iter()
        .filter(|((s, _), _)| *s >= 500 && *s != 503 || *s == 0)
        .map(|(_, n)| n)
        .sum();
    println!("5xx other than 503 (or no answer): {bad}");
    println!("slowest answer during the outage: {:?}", seen.slowest_in_outage);
    println!("after the outage, without a restart: GET /v1.0/vims → {status}");
    println!("operation occurrences (operation, state, reason) → count:");
    for (outcome, count) in outcomes.lock().unwrap().iter() {
        println!("  {outcome}: {count}");
    }
}

async fn lcm_cycle(app: &TestApp, vim_id: &str, record: &impl Fn(u16, Duration), outcomes: &Outcomes) {
    let send = |method: Method, path: &str, body: Option<Value>| {
        let mut request = app
            .request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v2{path}"))
            .header("Version", "2.0.0");
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let started = Instant::now();
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    record(status, started.elapsed());
                    (status, response.json::<Value>().await.unwrap_or(Value::Null))
                }
                Err(_) => {
                    record(0, started.elapsed());
                    (0, Value::Null)
                }
            }
        }
    };
    let (status, created) = send(
        Method::POST,
        "/vnf_instances",
        Some(json!({"vnfdId": SAMPLE_VNFD_ID})),
    )
    .await;
    if status != 201 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        return;
    }
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let instantiate = json!({
        "flavourId": "simple",
        "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {
            "lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"],
            "tacker-rs-test": {"delay_ms": {"instantiate": 2000, "terminate": 500}},
        },
    });
    for (operation, body) in [
        ("instantiate", instantiate),
        ("terminate", json!({"terminationType": "FORCEFUL"})),
    ] {
        // Ask until the API takes it (503 while the database is away); a 409 means the
        // previous operation did not complete: this cycle ends there.
        let mut accepted = None;
        for _ in 0..240 {
            let started = Instant::now();
            let response = app
                .request_as(
                    PROJECT,
                    "member,reader",
                    Method::POST,
                    &format!("/vnflcm/v2/vnf_instances/{id}/{operation}"),
                )
                .header("Version", "2.0.0")
                .json(&body)
                .send()
                .await;
            let (status, location) = match response {
                Ok(r) => (
                    r.status().as_u16(),
                    r.headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .map(str::to_owned),
                ),
                Err(_) => (0, None),
            };
            record(status, started.elapsed());
            if status == 202 || status == 409 {
                accepted = location.filter(|_| status == 202);
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let Some(location) = accepted else {
            return;
        };
        let op_path = location
            .split_once("/vnflcm/v2")
            .map(|(_, p)| p.to_owned())
            .unwrap_or_default();
        // Wait until the operation has ended one way or another, then record how.
        let mut ended = None;
        for _ in 0..600 {
            let (status, op) = send(Method::GET, &op_path, None).await;
            let state = op["operationState"].as_str().unwrap_or_default().to_owned();
            if status == 200 && matches!(state.as_str(), "COMPLETED" | "FAILED_TEMP" | "FAILED") {
                let reason = op["error"]["detail"].as_str().unwrap_or_default().to_owned();
                ended = Some((state, reason));
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (state, reason) = ended.unwrap_or_else(|| ("STILL RUNNING".into(), String::new()));
        let key = format!("{} {state} {reason}", operation.to_uppercase())
            .trim()
            .to_owned();
        *outcomes.lock().unwrap().entry(key).or_default() += 1;
        if state != "COMPLETED" {
            return;
        }
    }
    send(Method::DELETE, &format!("/vnf_instances/{id}"), None).await;
}
