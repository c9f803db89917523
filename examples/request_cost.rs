//! CPU time and throughput per request of tacker-rs against the physical limit: the same
//! bytes served from memory by a bare axum handler, in the same process and the same run,
//! cell by cell (wrk loads one server at a time, so this process's CPU time during a cell
//! is that server's). The tacker-rs server is the production pipeline (api-paste.ini,
//! request ids, the request log at INFO into a file, policy, the database) with 100 VIMs
//! and 100 instantiated instances per LCM API (in-memory infra driver).
//!
//!   scripts/bench-cost             # SQLite; BACKEND=postgres|mysql for the others

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::routing::get;
use axum::Router;
use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{
    create_and_upload_as, sample_package, sample_package_with_vnfd_id, wait_onboarding, SAMPLE_VNFD_ID,
};
use tacker_testkit::{TestApp, TestBackend};

const PROJECT: &str = "bench";
const COUNT: usize = 100;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One measured URL: what tacker-rs serves there, and the headers wrk sends.
struct Row {
    name: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
}

#[tokio::main]
async fn main() {
    let log = std::env::var("BENCH_LOG").unwrap_or_else(|_| "/dev/null".into());
    let log_file = std::fs::File::create(&log).expect("log file");
    tracing_subscriber::fmt()
        .with_env_filter("info,sqlx=warn")
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(log_file))
        .init();
    let backend = match std::env::var("BACKEND").as_deref() {
        Ok("postgres") => TestBackend::Postgres,
        Ok("mysql") => TestBackend::MySql,
        _ => TestBackend::Sqlite,
    };
    let seconds: u64 = env("BENCH_SECONDS", 5);
    let rounds: usize = env("BENCH_ROUNDS", 2);
    let app = TestApp::builder(backend)
        .spawn()
        .await
        .expect("the database backend is configured");
    let mut rows = seed(&app).await;
    // BENCH_ROWS=<part of a row's name>: only those rows (to profile one).
    if let Ok(wanted) = std::env::var("BENCH_ROWS") {
        rows.retain(|row| row.name.contains(&wanted));
    }

    // The limit: each row's bytes, served from memory.
    let mut bodies = BTreeMap::new();
    for row in &rows {
        let mut request = app.request(Method::GET, &row.path);
        for (name, value) in &row.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("GET");
        assert!(
            response.status().is_success(),
            "{}: {}",
            row.path,
            response.status()
        );
        let kind = response.headers().get(CONTENT_TYPE).cloned();
        let bytes = response.bytes().await.expect("body");
        bodies.insert(row.name, (bytes, kind));
    }
    let bare = bare_server(&rows, &bodies).await;

    println!("backend {backend:?}, {seconds} s per cell, {rounds} rounds, CPU = utime+stime of the serving process / requests");
    println!();
    println!("| round | row | body | conns | tacker-rs req/s | tacker-rs CPU/req | switches/req | bare axum req/s | bare CPU/req | bare switches/req | tacker-rs / bare req/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for round in 1..=rounds {
        for (index, row) in rows.iter().enumerate() {
            for connections in [1, 64] {
                let ours = load(&app.url(&row.path), &row.headers, connections, seconds);
                let limit = load(&format!("{bare}/{index}"), &row.headers, connections, seconds);
                println!(
                    "| {round} | {} | {} KB | {connections} | {:.0} | {:.0} µs | {:.1} | {:.0} | {:.0} µs | {:.1} | {:.2} |",
                    row.name,
                    bodies[row.name].0.len() / 1024,
                    ours.rate,
                    ours.cpu_per_request_us,
                    ours.switches_per_request,
                    limit.rate,
                    limit.cpu_per_request_us,
                    limit.switches_per_request,
                    ours.rate / limit.rate,
                );
            }
        }
    }
}

/// 100 VIMs, 100 onboarded packages, 100 instantiated instances on each LCM API; returns
/// the rows.
async fn seed(app: &TestApp) -> Vec<Row> {
    let conductor = app.spawn_conductor(Duration::from_secs(30));
    let mut one_vim = String::new();
    for i in 0..COUNT {
        let vim = json!({"vim": {"type": "kubernetes", "name": format!("vim-{i}"), "tenant_id": PROJECT,
            "is_default": i == 0, "auth_url": format!("https://10.0.{}.{}:6443", i / 250, i % 250 + 1),
            "auth_cred": {"bearer_token": format!("token-{i}")}, "vim_project": {"name": "default"}}});
        let (status, body) = app
            .send(app.request(Method::POST, "/v1.0/vims.json").json(&vim))
            .await;
        assert_eq!(status, 201, "{body}");
        if i == 0 {
            one_vim = body["vim"]["id"].as_str().expect("id").to_owned();
        }
    }
    let package = create_and_upload_as(app, Some(PROJECT), sample_package()).await;
    let mut packages = vec![package];
    for i in 1..COUNT {
        let zip = sample_package_with_vnfd_id(&format!("bench-vnfd-{i}"));
        packages.push(create_and_upload_as(app, Some(PROJECT), zip).await);
    }
    for package in &packages {
        wait_onboarding(app, package).await;
    }
    for api in ["v1", "v2"] {
        let mut pending = Vec::new();
        for _ in 0..COUNT {
            let (_, created) = call(
                app,
                api,
                Method::POST,
                "/vnf_instances",
                json!({"vnfdId": SAMPLE_VNFD_ID}),
            )
            .await;
            let id = created["id"].as_str().expect("id").to_owned();
            let body = json!({"flavourId": "simple", "additionalParams": {"lcm-kubernetes-def-files":
                ["Files/kubernetes/deployment.yaml", "Files/kubernetes/statefulset.yaml"]}});
            let (location, _) = call(
                app,
                api,
                Method::POST,
                &format!("/vnf_instances/{id}/instantiate"),
                body,
            )
            .await;
            pending.push(location.expect("Location"));
        }
        for location in pending {
            finish(app, api, &location).await;
        }
    }
    conductor.shut_down().await;
    let as_project = |project: &str| {
        vec![
            ("X-Project-Id", project.to_owned()),
            ("X-User-Id", "bench-user".to_owned()),
            ("X-Roles", "member,reader".to_owned()),
        ]
    };
    let v2 = |project: &str| {
        let mut headers = as_project(project);
        headers.push(("Version", "2.0.0".to_owned()));
        headers
    };
    vec![
        Row {
            name: "GET v2 api_versions (no database)",
            path: "/vnflcm/v2/api_versions".into(),
            headers: v2(PROJECT),
        },
        Row {
            name: "GET one VIM",
            path: format!("/v1.0/vims/{one_vim}.json"),
            headers: Vec::new(),
        },
        Row {
            name: "GET v2 instances (none)",
            path: "/vnflcm/v2/vnf_instances".into(),
            headers: v2("other"),
        },
        Row {
            name: "GET 100 VIMs",
            path: "/v1.0/vims.json".into(),
            headers: Vec::new(),
        },
        Row {
            name: "GET 100 v1 instances",
            path: "/vnflcm/v1/vnf_instances".into(),
            headers: as_project(PROJECT),
        },
        Row {
            name: "GET 100 v2 instances",
            path: "/vnflcm/v2/vnf_instances".into(),
            headers: v2(PROJECT),
        },
        Row {
            name: "GET 100 v2 op occs",
            path: "/vnflcm/v2/vnf_lcm_op_occs".into(),
            headers: v2(PROJECT),
        },
        Row {
            name: "GET 100 packages",
            path: "/vnfpkgm/v1/vnf_packages".into(),
            headers: as_project(PROJECT),
        },
    ]
}

async fn call(app: &TestApp, api: &str, method: Method, path: &str, body: Value) -> (Option<String>, Value) {
    let mut request = app
        .request_as(PROJECT, "member,reader", method, &format!("/vnflcm/{api}{path}"))
        .json(&body);
    if api == "v2" {
        request = request.header("Version", "2.0.0");
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

async fn finish(app: &TestApp, api: &str, location: &str) {
    let path = location
        .split_once(&format!("/vnflcm/{api}"))
        .expect("an LCM URL")
        .1
        .to_owned();
    loop {
        let mut request = app.request_as(
            PROJECT,
            "member,reader",
            Method::GET,
            &format!("/vnflcm/{api}{path}"),
        );
        if api == "v2" {
            request = request.header("Version", "2.0.0");
        }
        let op: Value = request.send().await.expect("GET").json().await.expect("JSON");
        match op["operationState"].as_str() {
            Some("COMPLETED") => return,
            Some("FAILED_TEMP" | "FAILED" | "ROLLED_BACK") => panic!("{op}"),
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// A bare axum server answering `/{index}` with the bytes of row `index`; returns its base URL.
async fn bare_server(
    rows: &[Row],
    bodies: &BTreeMap<&'static str, (bytes::Bytes, Option<HeaderValue>)>,
) -> String {
    let mut router = Router::new();
    for (index, row) in rows.iter().enumerate() {
        let (body, kind) = bodies[row.name].clone();
        let kind = kind.unwrap_or(HeaderValue::from_static("application/json"));
        router = router.route(
            &format!("/{index}"),
            get(move || {
                let (body, kind) = (body.clone(), kind.clone());
                async move { ([(CONTENT_TYPE, kind)], body) }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

struct Measured {
    rate: f64,
    cpu_per_request_us: f64,
    /// Context switches of this process's threads per request: each is a thread put to
    /// sleep or woken, the kernel's share of a request's cost.
    switches_per_request: f64,
}

/// Loads `url` with wrk for `seconds`; this process's CPU time over the requests served.
fn load(url: &str, headers: &[(&str, String)], connections: usize, seconds: u64) -> Measured {
    let threads = if connections < 2 { 1 } else { 2 };
    let mut wrk = std::process::Command::new("wrk");
    wrk.args([
        format!("-t{threads}"),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
    ]);
    for (name, value) in headers {
        wrk.arg("-H").arg(format!("{name}: {value}"));
    }
    let (before, switches_before) = (cpu_time(), context_switches());
    let output = wrk.arg(url).output().expect("wrk runs (apt-get install wrk)");
    let cpu = cpu_time() - before;
    let switches = context_switches().saturating_sub(switches_before);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("Non-2xx"), "{url}: wrk saw errors:\n{text}");
    let requests: f64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("wrk's request count");
    Measured {
        rate: requests / seconds as f64,
        cpu_per_request_us: cpu.as_secs_f64() * 1e6 / requests,
        switches_per_request: switches as f64 / requests,
    }
}

/// Voluntary and involuntary context switches of every thread of this process so far
/// (threads that ended since are not counted; the servers' threads live throughout).
fn context_switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// utime + stime of this process (all threads), from /proc (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat") + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}
