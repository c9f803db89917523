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
    for _ in 0..4 {
        let (app, record, vim_id) = (app.clone(), record.clone(), vim_id.clone());
        clients.push(tokio::spawn(async move {
            while Instant::now() < until {
                lcm_cycle(&app, &vim_id, &record).await;
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
    let mut states: BTreeMap<String, u64> = BTreeMap::new();
    let (_, ops) = app
        .send(
            app.request_as(
                PROJECT,
                "member,reader",
                Method::GET,
                "/vnflcm/v2/vnf_lcm_op_occs",
            )
            .header("Version", "2.0.0"),
        )
        .await;
    for op in ops.as_array().into_iter().flatten() {
        let reason = op["error"]["detail"].as_str().unwrap_or("").to_owned();
        let key = format!("{} {} {}", op["operation"], op["operationState"], reason)
            .trim()
            .to_owned();
        *states.entry(key).or_default() += 1;
    }
    println!("operation occurrences (operation, state, reason) → count:");
    for (state, count) in states {
        println!("  {state}: {count}");
    }
}

async fn lcm_cycle(app: &TestApp, vim_id: &str, record: &impl Fn(u16, Duration)) {
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
        let mut accepted = false;
        for _ in 0..240 {
            let (status, _) = send(
                Method::POST,
                &format!("/vnf_instances/{id}/{operation}"),
                Some(body.clone()),
            )
            .await;
            if status == 202 || status == 409 {
                accepted = status == 202;
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        if !accepted {
            return;
        }
        // Wait until the instance is free again (the operation ended one way or another).
        for _ in 0..600 {
            let (status, instance) = send(Method::GET, &format!("/vnf_instances/{id}"), None).await;
            let want = if operation == "instantiate" {
                "INSTANTIATED"
            } else {
                "NOT_INSTANTIATED"
            };
            if status == 200 && instance["instantiationState"] == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    send(Method::DELETE, &format!("/vnf_instances/{id}"), None).await;
}
