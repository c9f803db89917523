//! Fault management: latency from an Alertmanager alert (`POST /alert`) to the
//! AlarmNotification at an FM subscriber. One instantiated instance (in-memory infra
//! driver), one FM subscription whose callback is a receiver in this process. First
//! BENCH_PROBES (10) single alerts, one at a time, each after a random pause; then a burst
//! of BENCH_ALERTS (1000) webhooks, each one firing alert with its own fingerprint, at most
//! BENCH_CONCURRENCY (32) in flight. The alarm's `faultDetails` names the fingerprint,
//! which ties each notification back to its alert. Bounded: the burst fails after 120 s.
//! BENCH_TIMELINE=1 also prints answers and notifications per 100 ms of the burst.
//!
//! The server runs the production pipeline from tacker.conf; the conductor's delivery
//! worker runs with the settings `[v2_vnfm]` gives in production (the all-in-one binary's
//! `notification_settings`), unless BENCH_NOTIFY_POLL_MS / BENCH_NOTIFY_BATCH /
//! BENCH_NOTIFY_CONCURRENCY override them (those are not tacker.conf options).
//!
//! The server (API and conductor) runs on its own runtime, threads `tacker-server`; the
//! load generator and the receiver on another, threads `bench`. Server CPU during the
//! burst is this process's utime+stime minus the `bench` threads' and the main thread's.
//!
//!   scripts/bench-alerts             # SQLite; BACKEND=postgres|mysql for the others

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tacker_conductor::{ConductorProcess, Wake};
use tacker_driver::TestDriver;
use tacker_server::lcm_wiring::notification_settings;
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::{kubernetes_in_memory, TestApp, TestBackend};

const PROJECT: &str = "project-a";
const FM_ENABLED: &str = "[prometheus_plugin]\nfault_management = true\n";
const DEADLINE: Duration = Duration::from_secs(120);

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let log = std::env::var("BENCH_LOG").unwrap_or_else(|_| "/dev/null".into());
    let log_file = std::fs::File::create(&log).expect("log file");
    // The server's INFO log (one "alarm raised" line per alert), as in production.
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()))
        .with_target(false)
        .with_ansi(false)
        .with_writer(Mutex::new(log_file))
        .init();
    let server = tokio::runtime::Builder::new_multi_thread()
        .thread_name("tacker-server")
        .enable_all()
        .build()
        .expect("server runtime");
    let bench = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench")
        .enable_all()
        .build()
        .expect("bench runtime");
    let code = bench.block_on(run(server.handle().clone()));
    // The server's tasks are dropped with its runtime; do not wait for them.
    server.shutdown_background();
    std::process::exit(code);
}

async fn run(server: tokio::runtime::Handle) -> i32 {
    let alerts: usize = env("BENCH_ALERTS", 1000);
    let concurrency: usize = env("BENCH_CONCURRENCY", 32);
    let backend = match std::env::var("BACKEND").as_deref() {
        Ok("postgres") => TestBackend::Postgres,
        Ok("mysql") => TestBackend::MySql,
        _ => TestBackend::Sqlite,
    };

    // The server and the conductor, built and run on the server runtime.
    let (app, settings) = server
        .spawn(async move {
            let app = TestApp::builder(backend)
                .conf(FM_ENABLED)
                .spawn()
                .await
                .expect("the database backend is configured");
            let mut settings = notification_settings(&app.config.lcm).expect("notification settings");
            if let Ok(ms) = std::env::var("BENCH_NOTIFY_POLL_MS") {
                settings.poll_interval = Duration::from_millis(ms.parse().expect("milliseconds"));
            }
            if let Ok(batch) = std::env::var("BENCH_NOTIFY_BATCH") {
                settings.batch_size = batch.parse().expect("a count");
            }
            if let Ok(n) = std::env::var("BENCH_NOTIFY_CONCURRENCY") {
                settings.concurrency = n.parse().expect("a count");
            }
            // The conductor's LCM loop is not woken by this server (it finds the
            // instantiation within `[conductor] poll_interval`); delivery never is woken.
            let process = ConductorProcess::build(
                &app.config,
                app.db.clone(),
                kubernetes_in_memory(Arc::new(TestDriver::new())),
                settings.clone(),
                Wake::from_notify(Arc::new(tokio::sync::Notify::new())),
            )
            .expect("conductor");
            tokio::spawn(process.run(std::future::pending()));
            (app, settings)
        })
        .await
        .expect("server start");

    let (instance_id, pods) = instance_with_pods(&app).await;
    let receiver = Receiver::start().await;
    let subscription = json!({
        "callbackUri": receiver.callback,
        "filter": {"vnfInstanceSubscriptionFilter": {"vnfInstanceIds": [instance_id]},
                   "perceivedSeverities": ["CRITICAL"]},
    });
    let response = app
        .request_as(PROJECT, "member,reader", Method::POST, "/vnffm/v1/subscriptions")
        .header("Version", "1.3.0")
        .json(&subscription)
        .send()
        .await
        .expect("subscribe");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );

    println!(
        "backend {backend:?}, {alerts} alerts, {concurrency} in flight, {} pods; delivery: poll_interval {:?}, \
         batch_size {}, concurrency {}, timeout {:?}, max_attempts {}",
        pods.len(),
        settings.poll_interval,
        settings.batch_size,
        settings.concurrency,
        settings.timeout,
        settings.max_attempts,
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let url = app.url("/alert");

    // Single alerts, one at a time, each after a random pause shorter than the delivery
    // worker's idle poll (so each lands at a random point of its sleep).
    let probes: usize = env("BENCH_PROBES", 10);
    let mut single = Vec::with_capacity(probes);
    for i in 0..probes {
        tokio::time::sleep(random_below(settings.poll_interval)).await;
        let fingerprint = format!("{:016x}", 0xb0b0_0000_0000_0000_u64 + i as u64);
        let payload = webhook(&instance_id, &pods[i % pods.len()], &fingerprint);
        let start = Instant::now();
        let response = client
            .post(&url)
            .json(&payload)
            .send()
            .await
            .expect("POST /alert");
        assert_eq!(response.status(), 204);
        loop {
            if let Some(at) = receiver.arrival(&fingerprint) {
                single.push(ms(at.duration_since(start)));
                break;
            }
            if start.elapsed() > Duration::from_secs(10) {
                println!("FAILED: a single alert's AlarmNotification did not arrive within 10 s");
                return 1;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    single.sort_by(f64::total_cmp);
    if probes > 0 {
        println!(
            "single alerts ({probes}, one at a time): alert → AlarmNotification min {:.0} ms, p50 {:.0} ms, max {:.0} ms",
            single.first().copied().unwrap_or(0.0),
            pct(&single, 0.5),
            single.last().copied().unwrap_or(0.0),
        );
    }

    // The burst, after a random pause as well.
    let phase = random_below(settings.poll_interval);
    tokio::time::sleep(phase).await;
    let cpu_before = cpu_times();
    let started = Instant::now();
    let sent: Vec<Sent> = futures::stream::iter(0..alerts)
        .map(|i| {
            let fingerprint = format!("{:016x}", 0xa1e7_0000_0000_0000_u64 + i as u64);
            let payload = webhook(&instance_id, &pods[i % pods.len()], &fingerprint);
            let (client, url) = (&client, &url);
            async move {
                let start = Instant::now();
                let status = match client.post(url).json(&payload).send().await {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => 0,
                };
                Sent {
                    fingerprint,
                    start,
                    answered: Instant::now(),
                    status,
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let accepted_at = sent.iter().map(|s| s.answered).max().unwrap_or(started);
    let refused: Vec<u16> = sent
        .iter()
        .filter(|s| s.status != 204)
        .map(|s| s.status)
        .collect();
    let expected = alerts - refused.len();
    loop {
        let arrived = receiver.count().saturating_sub(probes);
        if arrived >= expected {
            break;
        }
        if started.elapsed() > DEADLINE {
            println!("FAILED: {arrived} of {expected} AlarmNotifications arrived within {DEADLINE:?}");
            return 1;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let cpu_after = cpu_times();
    let arrivals = receiver.arrivals();
    let last_arrival = arrivals.values().max().copied().unwrap_or(started);
    let wall = last_arrival.duration_since(started);

    let mut latencies: Vec<f64> = sent
        .iter()
        .filter(|s| s.status == 204)
        .filter_map(|s| {
            arrivals
                .get(&s.fingerprint)
                .map(|at| ms(at.duration_since(s.start)))
        })
        .collect();
    let mut answers: Vec<f64> = sent
        .iter()
        .map(|s| ms(s.answered.duration_since(s.start)))
        .collect();
    latencies.sort_by(f64::total_cmp);
    answers.sort_by(f64::total_cmp);
    let accept_seconds = accepted_at.duration_since(started).as_secs_f64();
    let server_cpu = cpu_after.server().saturating_sub(cpu_before.server());
    let bench_cpu = cpu_after.bench.saturating_sub(cpu_before.bench);
    println!(
        "burst (after a random pause of {phase:.0?}): alert → AlarmNotification p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} matched)",
        pct(&latencies, 0.5),
        pct(&latencies, 0.9),
        pct(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0),
        latencies.len(),
    );
    println!(
        "POST /alert answered: p50 {:.1} ms, p99 {:.1} ms; {} accepted in {:.2} s = {:.0} alerts/s; refused: {}",
        pct(&answers, 0.5),
        pct(&answers, 0.99),
        expected,
        accept_seconds,
        expected as f64 / accept_seconds,
        if refused.is_empty() {
            "none".to_owned()
        } else {
            format!("{} ({:?})", refused.len(), status_counts(&refused))
        },
    );
    println!(
        "wall time first alert → last notification {:.2} s ({:.0} notifications/s); duplicates at the receiver: {}",
        wall.as_secs_f64(),
        expected as f64 / wall.as_secs_f64(),
        receiver.duplicates(),
    );
    println!(
        "CPU during the burst: server (API + conductor + database driver threads) {:.2} s = {:.0} µs/alert; \
         load generator + receiver {:.2} s",
        server_cpu.as_secs_f64(),
        server_cpu.as_secs_f64() * 1e6 / alerts as f64,
        bench_cpu.as_secs_f64(),
    );
    if std::env::var_os("BENCH_TIMELINE").is_some() {
        let buckets = |instants: &mut dyn Iterator<Item = Instant>| {
            let mut counts = Vec::<usize>::new();
            for at in instants {
                let bucket = (at.duration_since(started).as_millis() / 100) as usize;
                if counts.len() <= bucket {
                    counts.resize(bucket + 1, 0);
                }
                counts[bucket] += 1;
            }
            counts
        };
        println!(
            "per 100 ms: answered {:?}",
            buckets(&mut sent.iter().map(|s| s.answered))
        );
        println!(
            "per 100 ms: notified {:?}",
            buckets(&mut sent.iter().filter_map(|s| arrivals.get(&s.fingerprint).copied()))
        );
    }
    drop(app);
    0
}

struct Sent {
    fingerprint: String,
    start: Instant,
    answered: Instant,
    status: u16,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// A pseudo-random duration in `[0, bound)`.
fn random_below(bound: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX).max(1);
    Duration::from_nanos(random % nanos)
}

fn status_counts(statuses: &[u16]) -> HashMap<u16, usize> {
    let mut counts = HashMap::new();
    for status in statuses {
        *counts.entry(*status).or_default() += 1;
    }
    counts
}

/// An Alertmanager webhook with one firing alert (as tests/api/vnffm.rs sends).
fn webhook(instance_id: &str, pod: &str, fingerprint: &str) -> Value {
    json!({"receiver": "tacker", "status": "firing", "version": "4", "groupKey": "{}:{}",
        "alerts": [{"status": "firing",
            "labels": {"receiver_type": "tacker", "function_type": "vnffm",
                "perceived_severity": "CRITICAL", "event_type": "PROCESSING_ERROR_ALARM",
                "vnf_instance_id": instance_id, "pod": pod},
            "annotations": {"probable_cause": "Process Terminated", "fault_type": "Server Down",
                "fault_details": "pod restarted"},
            "startsAt": "2026-12-05T04:00:00.5Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": fingerprint}]})
}

/// Registers a Kubernetes VIM, onboards the sample package and instantiates an instance
/// of [`PROJECT`]; returns its id and its pods (vnfcResourceInfo resource ids).
async fn instance_with_pods(app: &TestApp) -> (String, Vec<String>) {
    let vim = json!({"vim": {"type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
        "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "t"}, "vim_project": {"name": "default"}}});
    let (status, body) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&vim))
        .await;
    assert_eq!(status, 201, "{body}");
    let vim_id = body["vim"]["id"].as_str().expect("VIM id").to_owned();
    let package = create_and_upload_as(app, Some(PROJECT), sample_package()).await;
    wait_onboarding(app, &package).await;
    let v2 = |method: Method, path: &str| {
        app.request_as(PROJECT, "member,reader", method, &format!("/vnflcm/v2{path}"))
            .header("Version", "2.0.0")
    };
    let (status, created) = app
        .send(v2(Method::POST, "/vnf_instances").json(&json!({"vnfdId": SAMPLE_VNFD_ID})))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("instance id").to_owned();
    let body = json!({"flavourId": "simple",
        "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]}});
    let response = v2(Method::POST, &format!("/vnf_instances/{id}/instantiate"))
        .json(&body)
        .send()
        .await
        .expect("instantiate");
    assert_eq!(response.status(), 202);
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("Location")
        .to_owned();
    let path = location.split_once("/vnflcm/v2").expect("a v2 URL").1.to_owned();
    let waited = Instant::now();
    loop {
        let (_, op) = app.send(v2(Method::GET, &path)).await;
        match op["operationState"].as_str() {
            Some("COMPLETED") => break,
            Some("FAILED_TEMP" | "FAILED" | "ROLLED_BACK") => panic!("{op}"),
            _ if waited.elapsed() > Duration::from_secs(30) => panic!("instantiate: {op}"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let (_, instance) = app.send(v2(Method::GET, &format!("/vnf_instances/{id}"))).await;
    let pods = instance["instantiatedVnfInfo"]["vnfcResourceInfo"]
        .as_array()
        .expect("vnfcResourceInfo")
        .iter()
        .map(|r| {
            r["computeResource"]["resourceId"]
                .as_str()
                .expect("resourceId")
                .to_owned()
        })
        .collect::<Vec<_>>();
    assert!(!pods.is_empty(), "{instance}");
    (id, pods)
}

/// The FM subscriber: answers the callback test (GET) with 204 and records when each
/// AlarmNotification arrived, by the fingerprint in its alarm's faultDetails.
struct Receiver {
    callback: String,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    arrivals: HashMap<String, Instant>,
    duplicates: usize,
}

impl Receiver {
    async fn start() -> Receiver {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let recorded = seen.clone();
        let router = axum::Router::new().route(
            "/notify",
            axum::routing::get(|| async { StatusCode::NO_CONTENT }).post(move |body: axum::body::Bytes| {
                let recorded = recorded.clone();
                async move {
                    let at = Instant::now();
                    let Ok(notification) = serde_json::from_slice::<Value>(&body) else {
                        return StatusCode::BAD_REQUEST;
                    };
                    if notification["notificationType"] == "AlarmNotification" {
                        let fingerprint = notification["alarm"]["faultDetails"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find_map(|d| d.as_str()?.strip_prefix("fingerprint: "))
                            .map(str::to_owned);
                        if let Some(fingerprint) = fingerprint {
                            let mut seen = recorded.lock().expect("receiver lock");
                            match seen.arrivals.entry(fingerprint) {
                                Entry::Occupied(_) => seen.duplicates += 1,
                                Entry::Vacant(slot) => {
                                    slot.insert(at);
                                }
                            }
                        }
                    }
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver {
            callback: format!("http://{address}/notify"),
            seen,
        }
    }

    fn count(&self) -> usize {
        self.seen.lock().expect("receiver lock").arrivals.len()
    }

    fn arrival(&self, fingerprint: &str) -> Option<Instant> {
        self.seen
            .lock()
            .expect("receiver lock")
            .arrivals
            .get(fingerprint)
            .copied()
    }

    fn duplicates(&self) -> usize {
        self.seen.lock().expect("receiver lock").duplicates
    }

    fn arrivals(&self) -> HashMap<String, Instant> {
        self.seen.lock().expect("receiver lock").arrivals.clone()
    }
}

/// CPU time (utime + stime) of the whole process and of the load generator's threads
/// (the `bench` runtime and the main thread), from /proc in clock ticks of 10 ms.
struct CpuTimes {
    process: Duration,
    bench: Duration,
}

impl CpuTimes {
    /// Everything but the load generator (read a moment apart, so never below zero).
    fn server(&self) -> Duration {
        self.process.saturating_sub(self.bench)
    }
}

fn cpu_times() -> CpuTimes {
    let ticks = |stat: &str| -> Option<(String, u64)> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        Some((
            comm,
            fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?,
        ))
    };
    let to_duration = |t: u64| Duration::from_millis(t * 10);
    let process = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| ticks(&s))
        .map_or(0, |(_, t)| t);
    let pid = std::process::id().to_string();
    let mut bench = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let is_main = task.file_name().to_str() == Some(pid.as_str());
            let Some((comm, t)) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|s| ticks(&s))
            else {
                continue;
            };
            if is_main || comm.starts_with("bench") {
                bench += t;
            }
        }
    }
    CpuTimes {
        process: to_duration(process),
        bench: to_duration(bench),
    }
}
