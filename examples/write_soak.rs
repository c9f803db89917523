//! Correctness under load, measured: many clients writing at once against a release
//! `tacker` process (scripts/bench-writes). Bounded in time; loopback only.
//!
//! - `WORKLOAD=writers` (default): 32 writers for 30 s create VIMs, delete them, flip the
//!   project's default VIM and send racing pairs of PUTs that change different
//!   attributes of one VIM; every pair is read back, and a change that is gone counts as
//!   a lost update.
//! - `WORKLOAD=mixed`: 64 connections for 300 s: 45 % list, 45 % show, 10 % create and
//!   delete, over 100 VIMs.
//!
//! Reports answers by status, 5xx, lost updates, requests/s and the server's RSS over time.
//! `BACKEND=postgres` runs on a fresh database of TACKER_TEST_POSTGRES_URL; SQLite otherwise.
//! `BENCH_SECONDS`, `CLIENTS` override the defaults.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{json, Value};
use tacker_testkit::{write_conf, TestBackend, TestDatabase};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Answers by status code, lost updates, and requests sent.
#[derive(Default)]
struct Tally {
    statuses: Mutex<BTreeMap<u16, u64>>,
    lost_updates: AtomicU64,
    transport_errors: AtomicU64,
}

impl Tally {
    fn count(&self, status: u16) {
        *self.statuses.lock().unwrap().entry(status).or_default() += 1;
    }

    fn total(&self) -> u64 {
        self.statuses.lock().unwrap().values().sum()
    }

    fn server_errors(&self) -> u64 {
        self.statuses
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum()
    }
}

struct Target {
    client: Client,
    base: String,
    tally: Arc<Tally>,
}

impl Target {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                self.tally.count(status);
                let body = response.json().await.unwrap_or(Value::Null);
                (status, body)
            }
            Err(_) => {
                self.tally.transport_errors.fetch_add(1, Ordering::Relaxed);
                (0, Value::Null)
            }
        }
    }

    async fn create(&self, name: &str, default: bool) -> Option<String> {
        let body = json!({"vim": {
            "type": "kubernetes", "name": name, "tenant_id": "bench", "is_default": default,
            "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "bench-token"},
            "vim_project": {"name": "default"},
        }});
        let (status, created) = self.send(Method::POST, "/v1.0/vims.json", Some(body)).await;
        (status == 201).then(|| created["vim"]["id"].as_str().unwrap_or_default().to_owned())
    }
}

/// The server process's resident memory, from /proc.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

async fn writer(target: Arc<Target>, n: usize, until: Instant) {
    let mut mine: Vec<String> = Vec::new();
    let mut round = 0u64;
    while Instant::now() < until {
        round += 1;
        match round % 10 {
            // Create (a quarter of them asking to be the project's default).
            0..=2 => {
                if let Some(id) = target
                    .create(&format!("w{n}-{round}"), round.is_multiple_of(4))
                    .await
                {
                    mine.push(id);
                }
            }
            // Delete the oldest.
            3 | 4 if !mine.is_empty() => {
                let id = mine.remove(0);
                target
                    .send(Method::DELETE, &format!("/v1.0/vims/{id}"), None)
                    .await;
            }
            // Flip the default.
            5 if !mine.is_empty() => {
                let id = &mine[mine.len() - 1];
                let body = json!({"vim": {"is_default": round.is_multiple_of(2)}});
                target
                    .send(Method::PUT, &format!("/v1.0/vims/{id}"), Some(body))
                    .await;
            }
            // Two PUTs of different attributes at once; both must stay.
            _ if !mine.is_empty() => {
                let id = mine[round as usize % mine.len()].clone();
                let path = format!("/v1.0/vims/{id}");
                let (name, description) = (format!("w{n}-{round}-name"), format!("round {round}"));
                let ((a, _), (b, _)) = tokio::join!(
                    target.send(Method::PUT, &path, Some(json!({"vim": {"name": name}}))),
                    target.send(
                        Method::PUT,
                        &path,
                        Some(json!({"vim": {"description": description}}))
                    ),
                );
                if a == 200 && b == 200 {
                    let (_, shown) = target.send(Method::GET, &path, None).await;
                    if shown["vim"]["name"] != name.as_str()
                        || shown["vim"]["description"] != description.as_str()
                    {
                        target.tally.lost_updates.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            _ => {
                if let Some(id) = target.create(&format!("w{n}-{round}"), false).await {
                    mine.push(id);
                }
            }
        }
    }
}

async fn mixed_client(target: Arc<Target>, ids: Arc<Vec<String>>, n: usize, until: Instant) {
    let mut round = n as u64;
    while Instant::now() < until {
        round += 1;
        match round % 20 {
            0..=8 => {
                target.send(Method::GET, "/v1.0/vims", None).await;
            }
            9..=17 => {
                let id = &ids[round as usize % ids.len()];
                target.send(Method::GET, &format!("/v1.0/vims/{id}"), None).await;
            }
            _ => {
                if let Some(id) = target.create(&format!("m{n}-{round}"), false).await {
                    target
                        .send(Method::DELETE, &format!("/v1.0/vims/{id}"), None)
                        .await;
                }
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let workload = std::env::var("WORKLOAD").unwrap_or_else(|_| "writers".into());
    let mixed = workload == "mixed";
    let seconds: u64 = env("BENCH_SECONDS", if mixed { 300 } else { 30 });
    let clients: usize = env("CLIENTS", if mixed { 64 } else { 32 });
    let backend = match std::env::var("BACKEND").as_deref() {
        Ok("postgres") => TestBackend::Postgres,
        Ok("mysql") => TestBackend::MySql,
        _ => TestBackend::Sqlite,
    };
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, dir.path())
        .await
        .expect("the database server is configured");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let conf = write_conf(
        dir.path(),
        &database.connection,
        &format!("[DEFAULT]\nbind_port = {port}\n"),
    );
    let binary = std::env::var("TACKER_BIN").unwrap_or_else(|_| "target/release/tacker".into());
    let mut server = tokio::process::Command::new(&binary)
        .arg("--config-file")
        .arg(&conf)
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let pid = server.id().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::builder().pool_max_idle_per_host(clients).build().unwrap();
    for _ in 0..100 {
        if client.get(format!("{base}/healthcheck")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let target = Arc::new(Target {
        client,
        base,
        tally: Arc::default(),
    });

    let mut seeded = Vec::new();
    if mixed {
        for i in 0..100 {
            seeded.push(target.create(&format!("seed-{i}"), false).await.unwrap());
        }
    }
    let seeded = Arc::new(seeded);
    let idle_rss = rss_mib(pid);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for n in 0..clients {
        let target = target.clone();
        tasks.push(if mixed {
            tokio::spawn(mixed_client(target, seeded.clone(), n, until))
        } else {
            tokio::spawn(writer(target, n, until))
        });
    }
    let mut samples = vec![format!("{:.1}", idle_rss)];
    let sample_every = Duration::from_secs((seconds / 10).max(1));
    while Instant::now() < until {
        tokio::time::sleep(sample_every.min(until.saturating_duration_since(Instant::now()))).await;
        samples.push(format!("{:.1}", rss_mib(pid)));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let tally = &target.tally;
    let total = tally.total();
    println!("workload: {workload}, backend: {backend:?}, clients: {clients}, seconds: {seconds}");
    println!("| requests | requests/s | 5xx | lost updates | transport errors | answers by status |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {total} | {:.0} | {} | {} | {} | {:?} |",
        total as f64 / elapsed,
        tally.server_errors(),
        tally.lost_updates.load(Ordering::Relaxed),
        tally.transport_errors.load(Ordering::Relaxed),
        tally.statuses.lock().unwrap(),
    );
    println!(
        "RSS (MiB), idle then every {sample_every:?}: {}",
        samples.join(" → ")
    );
    server.start_kill().ok();
    let _ = server.wait().await;
}
