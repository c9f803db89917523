//! A real Prometheus and Alertmanager for the fault-management and performance-management
//! tests (Debian's `prometheus` and `prometheus-alertmanager`), with two small servers of
//! the rig's own around them:
//!
//! - the **pod-metrics exporter** serves `/metrics` in Prometheus text format with the
//!   series tests set ([`Monitoring::set_series`]), under the names kubelet/cAdvisor and
//!   kube-state-metrics give them (`pod_cpu_usage_seconds_total{namespace,pod}`,
//!   `kube_pod_info{namespace,pod,node}`, ...); Prometheus scrapes it every second
//!   (`honor_labels`, so a series' own `job`/`instance` labels win);
//! - **Prometheus** evaluates every second the rule files in [`Monitoring::rules_dir`]
//!   (`*.json`, as Tacker writes them: `<id>.json`) and sends its alerts to Alertmanager;
//! - **Alertmanager** routes them as Tacker's documentation does, by the alert's
//!   `function_type` label, one webhook receiver per function type: `vnffm` → `/alert`,
//!   `auto_heal` → `/alert/auto_healing`, `auto_scale` → `/alert/auto_scaling`, `vnfpm` →
//!   `/pm_event`, `vnfpm_threshold` → `/pm_threshold`. Every receiver's URL is that path at
//!   the **relay**; alerts with another or no `function_type` go to the relay's
//!   `/unrouted`. Alerts are grouped by all their labels (`group_by: ['...']`), so each
//!   alert is its own notification, sent at once (`group_wait: 0s`), its resolution
//!   within a second (`group_interval: 1s`, `send_resolved: true`);
//! - the **relay** forwards each notification, body and path unchanged, to
//!   `http://<tacker_test_target><path>`, the `tacker_test_target` label being the
//!   `127.0.0.1:<port>` of the test's own tacker-rs (the test puts it in its rules'
//!   labels, so tests sharing the rig do not see each other's alerts), and answers
//!   Alertmanager with the status tacker-rs answered, so that Alertmanager's retries stay
//!   real. Each notification is recorded ([`Monitoring::deliveries`]); one that was not
//!   forwarded (`/unrouted`, no `tacker_test_target`, target unreachable) has no status;
//! - an **SFTP server** ([`crate::sftp`]) stands for "the Prometheus host" Tacker delivers
//!   rule files to: it serves [`Monitoring::rules_dir`] (by its real absolute path, other
//!   paths refused) to one user ([`Monitoring::sftp_user`], [`Monitoring::sftp_password`]);
//!   [`Monitoring::pm_metadata`] is the `metadata` a PM job or threshold carries to have
//!   its rules delivered there and Prometheus reloaded (`PUT /-/reload`).
//!
//! Timing: Prometheus applies discovered targets (the exporter, Alertmanager) every 5
//! seconds only, from its start and again after each reload, which forgets Alertmanager
//! until then; [`Monitoring::write_rule_group`] therefore waits (up to 5 s) until alerts
//! can reach Alertmanager, and a firing alert missed meanwhile is sent again a second
//! later (`--rules.alert.resend-delay=1s`). After that, an alert's notification reaches
//! the test's server about 1 s after its expression holds, its resolution about 1 s after
//! it no longer does.
//!
//! [`monitoring()`] is the rig shared by the tests of a process, started on first use
//! (in a fraction of a second) on free loopback ports in a temporary folder. Its servers
//! run on a runtime of their own, so that they outlive the test that started them;
//! Prometheus and Alertmanager run under a shell that kills them and removes the folder
//! when its stdin reaches end of file, that is when the test process is gone (as
//! Keystone's serve.py does). Tests use pod names and rule file names of their own.
//!
//! TACKER_TEST_PROMETHEUS_BIN names a folder holding `prometheus` and
//! `prometheus-alertmanager` (or `alertmanager`); without it they are looked up on PATH.
//! When they are not found the tests that need them are skipped, except under CI.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::free_port;
use crate::sftp::SftpServer;

/// Alertmanager's receivers: (function_type, Tacker's path for it).
pub const TACKER_PATHS: &[(&str, &str)] = &[
    ("vnffm", "/alert"),
    ("auto_heal", "/alert/auto_healing"),
    ("auto_scale", "/alert/auto_scaling"),
    ("vnfpm", "/pm_event"),
    ("vnfpm_threshold", "/pm_threshold"),
];

/// The label naming where the relay forwards an alert's notifications.
pub const TARGET_LABEL: &str = "tacker_test_target";

/// One notification Alertmanager sent to the relay.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The `tacker_test_target` label (`127.0.0.1:<port>`), empty if the alert had none.
    pub target: String,
    /// The path at the relay, which is the path at the target (`/alert`, `/pm_event`, ...;
    /// `/unrouted` for an alert of no known `function_type`).
    pub path: String,
    /// What the target answered; `None` when the notification was not forwarded.
    pub status: Option<u16>,
    /// Alertmanager's webhook body (`receiver`, `status`, `alerts[]`, `groupLabels`,
    /// `commonLabels`, ...), as forwarded.
    pub body: Value,
}

/// Series of the exporter: metric name → sorted labels → value.
type Series = BTreeMap<String, BTreeMap<Vec<(String, String)>, f64>>;

/// The running rig.
pub struct Monitoring {
    dir: PathBuf,
    rules_dir: PathBuf,
    prometheus_url: String,
    alertmanager_url: String,
    exporter_url: String,
    relay_url: String,
    sftp: SftpServer,
    series: Arc<Mutex<Series>>,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    routes: InstanceRoutes,
    http: reqwest::Client,
    _runtime: tokio::runtime::Runtime,
    _supervisor: Mutex<Child>,
}

/// The rig shared by the tests of this process, started on first use; `None` when
/// Prometheus or Alertmanager is not installed here (outside CI).
pub fn monitoring() -> Option<&'static Monitoring> {
    static SHARED: OnceLock<Option<Monitoring>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let (prometheus, alertmanager) = binaries()?;
            Some(Monitoring::start(prometheus, alertmanager))
        })
        .as_ref()
}

/// The `prometheus` and Alertmanager executables, or `None` (skip) outside CI.
fn binaries() -> Option<(PathBuf, PathBuf)> {
    let dirs: Vec<PathBuf> = match std::env::var_os("TACKER_TEST_PROMETHEUS_BIN") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect(),
    };
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()))
    };
    let prometheus = find(&["prometheus"]);
    let alertmanager = find(&["prometheus-alertmanager", "alertmanager"]);
    match (prometheus, alertmanager) {
        (Some(p), Some(a)) => Some((p, a)),
        _ => {
            let place = match std::env::var("TACKER_TEST_PROMETHEUS_BIN") {
                Ok(dir) => format!("in TACKER_TEST_PROMETHEUS_BIN ({dir})"),
                Err(_) => "on PATH".to_string(),
            };
            assert!(
                std::env::var_os("CI").is_none(),
                "prometheus and prometheus-alertmanager must be installed under CI: not found {place} \
                 (Debian packages prometheus and prometheus-alertmanager; .ci/run installs them)"
            );
            eprintln!("skipped: prometheus or prometheus-alertmanager not found {place}");
            None
        }
    }
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// Runs Prometheus (`$2`) and Alertmanager (`$3`) with their files in `$1` on ports `$4`
/// and `$5`; kills them and removes `$1` when stdin reaches end of file.
const SUPERVISOR: &str = r#"d=$1
"$2" --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/prometheus-data" \
    --web.listen-address="127.0.0.1:$4" --web.enable-lifecycle --rules.alert.resend-delay=1s >"$d/prometheus.log" 2>&1 &
p=$!
"$3" --config.file="$d/alertmanager.yml" --storage.path="$d/alertmanager-data" \
    --web.listen-address="127.0.0.1:$5" --cluster.listen-address= >"$d/alertmanager.log" 2>&1 &
a=$!
cat >/dev/null
kill -9 "$p" "$a" 2>/dev/null
wait
rm -rf "$d"
"#;

impl Monitoring {
    fn start(prometheus: PathBuf, alertmanager: PathBuf) -> Monitoring {
        // On a thread of its own: the caller may be inside a test's runtime, where
        // another runtime can neither block nor be dropped.
        let started = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("tacker-monitoring")
                .enable_all()
                .build()
                .unwrap();
            let rig = runtime.block_on(Self::start_on(&prometheus, &alertmanager));
            (runtime, rig)
        })
        .join();
        match started {
            Ok((runtime, rig)) => rig(runtime),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    async fn start_on(
        prometheus: &Path,
        alertmanager: &Path,
    ) -> impl FnOnce(tokio::runtime::Runtime) -> Monitoring {
        let begun = Instant::now();
        let series: Arc<Mutex<Series>> = Arc::default();
        let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let instance_routes: InstanceRoutes = Arc::default();

        let exporter = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let exporter_addr = exporter.local_addr().unwrap();
        let app = Router::new()
            .route("/metrics", get(metrics))
            .with_state(series.clone());
        tokio::spawn(async move { axum::serve(exporter, app).await });

        let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_addr = relay.local_addr().unwrap();
        let relay_state = RelayState {
            deliveries: deliveries.clone(),
            routes: instance_routes.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        let app = Router::new().fallback(relay_post).with_state(relay_state);
        tokio::spawn(async move { axum::serve(relay, app).await });

        let dir = tempfile::Builder::new()
            .prefix("tacker-monitoring-")
            .tempdir()
            .unwrap()
            .keep();
        let rules_dir = dir.join("rules");
        std::fs::create_dir(&rules_dir).unwrap();
        let sftp = SftpServer::start(rules_dir.clone()).await;
        let prometheus_port = free_port();
        let alertmanager_port = free_port();

        write_json(
            &dir.join("prometheus.yml"),
            &json!({
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
                "rule_files": [format!("{}/*.json", rules_dir.display())],
                "alerting": {"alertmanagers": [
                    {"static_configs": [{"targets": [format!("127.0.0.1:{alertmanager_port}")]}]}]},
                "scrape_configs": [{
                    "job_name": "tacker-test-pods",
                    "honor_labels": true,
                    "static_configs": [{"targets": [exporter_addr.to_string()]}],
                }],
            }),
        );
        let relay_url = format!("http://{relay_addr}");
        let webhook = |name: &str, path: &str| {
            json!({"name": name, "webhook_configs": [
                {"url": format!("{relay_url}{path}"), "send_resolved": true}]})
        };
        let mut receivers = vec![webhook("unrouted", "/unrouted")];
        let mut routes = vec![];
        for (function_type, path) in TACKER_PATHS {
            receivers.push(webhook(function_type, path));
            let mut route = json!({"matchers": [format!("function_type=\"{function_type}\"")],
                                   "receiver": function_type});
            // PM rules fire all the time and carry their value in an annotation, which
            // Alertmanager only sends again on a repeat (Tacker's docs: 30 s).
            if function_type.starts_with("vnfpm") {
                route["repeat_interval"] = json!("2s");
            }
            routes.push(route);
        }
        write_json(
            &dir.join("alertmanager.yml"),
            &json!({
                "route": {
                    "receiver": "unrouted",
                    "group_by": ["..."],
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                    "routes": routes,
                },
                "receivers": receivers,
            }),
        );

        let mut supervisor = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("sh")
            .arg(&dir)
            .arg(prometheus)
            .arg(alertmanager)
            .arg(prometheus_port.to_string())
            .arg(alertmanager_port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs Prometheus and Alertmanager");

        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // No connection outlives a call: the callers are tests, each on its runtime.
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let prometheus_url = format!("http://127.0.0.1:{prometheus_port}");
        let alertmanager_url = format!("http://127.0.0.1:{alertmanager_port}");
        // Ready when both answer `/-/ready`. Prometheus applies discovered targets
        // (the exporter, Alertmanager) every 5 seconds only, from its start and after
        // each reload: `write_rule_group` waits for Alertmanager, `wait_for_query` for
        // a series.
        for (name, url) in [
            ("prometheus", &prometheus_url),
            ("alertmanager", &alertmanager_url),
        ] {
            loop {
                let ready = http
                    .get(format!("{url}/-/ready"))
                    .timeout(Duration::from_secs(1))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == StatusCode::OK);
                if ready {
                    break;
                }
                let exited = supervisor.try_wait().unwrap().is_some();
                if exited || begun.elapsed() > Duration::from_secs(30) {
                    let mut log = String::new();
                    let _ = std::fs::File::open(dir.join(format!("{name}.log")))
                        .and_then(|mut f| f.read_to_string(&mut log));
                    let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
                    panic!("{name} did not start at {url}\n(last log lines, newest first)\n{tail}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        eprintln!(
            "monitoring rig: Prometheus {prometheus_url}, Alertmanager {alertmanager_url}, \
             ready in {:?} ({})",
            begun.elapsed(),
            dir.display()
        );
        move |runtime| Monitoring {
            dir,
            rules_dir,
            prometheus_url,
            alertmanager_url,
            exporter_url: format!("http://{exporter_addr}"),
            relay_url,
            sftp,
            series,
            deliveries,
            routes: instance_routes,
            http,
            _runtime: runtime,
            _supervisor: Mutex::new(supervisor),
        }
    }

    /// The folder of Prometheus's rule files (`*.json` in it are loaded on reload).
    pub fn rules_dir(&self) -> &Path {
        &self.rules_dir
    }

    /// The rig's temporary folder (configurations and `prometheus.log`,
    /// `alertmanager.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `http://127.0.0.1:<port>` of Prometheus.
    pub fn prometheus_url(&self) -> String {
        self.prometheus_url.clone()
    }

    /// `http://127.0.0.1:<port>` of Alertmanager.
    pub fn alertmanager_url(&self) -> String {
        self.alertmanager_url.clone()
    }

    /// `http://127.0.0.1:<port>` of the pod-metrics exporter (`/metrics`).
    pub fn exporter_url(&self) -> String {
        self.exporter_url.clone()
    }

    /// `http://127.0.0.1:<port>` of the relay.
    /// Sends the alerts about `instance_id` (its `object_instance_id` or `vnf_instance_id`
    /// label) to `target` (`127.0.0.1:<port>`), for rules that carry no target label.
    pub fn route_instance(&self, instance_id: &str, target: &str) {
        self.routes
            .lock()
            .unwrap()
            .insert(instance_id.to_owned(), target.to_owned());
    }

    pub fn relay_url(&self) -> String {
        self.relay_url.clone()
    }

    /// The port (on 127.0.0.1) of the SFTP server standing for the Prometheus host.
    pub fn sftp_port(&self) -> u16 {
        self.sftp.port()
    }

    /// The SFTP server's user name.
    pub fn sftp_user(&self) -> &str {
        self.sftp.user()
    }

    /// The SFTP server's password.
    pub fn sftp_password(&self) -> &str {
        self.sftp.password()
    }

    /// The `metadata` a PM job or threshold request carries to have its rules delivered
    /// to this rig: `monitoring.targetsInfo` names the SFTP server, `alertRuleConfigPath`
    /// is [`Monitoring::rules_dir`] and `prometheusReloadApiEndpoint` is
    /// `<prometheus>/-/reload`.
    pub fn pm_metadata(&self) -> Value {
        json!({"monitoring": {
            "monitorName": "prometheus",
            "driverType": "external",
            "targetsInfo": [{
                "prometheusHost": "127.0.0.1",
                "prometheusHostPort": self.sftp.port(),
                "authInfo": {
                    "ssh_username": self.sftp.user(),
                    "ssh_password": self.sftp.password(),
                },
                "alertRuleConfigPath": self.rules_dir.display().to_string(),
                "prometheusReloadApiEndpoint": format!("{}/-/reload", self.prometheus_url),
            }],
        }})
    }

    /// Sets a series of the exporter (added or replaced); Prometheus sees it at its next
    /// scrape (within a second). Metric names ending in `_total` are counters, the others
    /// gauges.
    pub fn set_series(&self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.series
            .lock()
            .unwrap()
            .entry(name.to_string())
            .or_default()
            .insert(sorted_labels(labels), value);
    }

    /// Removes a series of the exporter (Prometheus marks it stale at its next scrape).
    pub fn remove_series(&self, name: &str, labels: &[(&str, &str)]) {
        let mut series = self.series.lock().unwrap();
        if let Some(of_name) = series.get_mut(name) {
            of_name.remove(&sorted_labels(labels));
            if of_name.is_empty() {
                series.remove(name);
            }
        }
    }

    /// Makes Prometheus read its configuration and rule files again (`POST /-/reload`);
    /// panics with Prometheus's error when it refuses them. Alerts reach Alertmanager
    /// again only once [`Monitoring::wait_for_alertmanager`] returns.
    pub async fn reload(&self) {
        let response = self
            .http
            .post(format!("{}/-/reload", self.prometheus_url))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "Prometheus reload: HTTP {status}: {text}");
    }

    /// Waits until Prometheus knows Alertmanager, after its start or a reload (by
    /// [`Monitoring::reload`] or by anyone else, such as a tacker-rs under test): a
    /// reload forgets the discovered Alertmanager, and Prometheus applies discovered
    /// targets only every 5 seconds (up to 5 s then). Alerts firing meanwhile are
    /// dropped, and sent again a second later (`--rules.alert.resend-delay=1s`).
    pub async fn wait_for_alertmanager(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let data = self.api("/api/v1/alertmanagers").await;
            if data["activeAlertmanagers"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus did not rediscover Alertmanager: {data}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Writes `<rules_dir>/<file_name>` (a `.json` name) with one rule group, as Tacker
    /// does, reloads, and waits until alerts can reach Alertmanager again.
    pub async fn write_rule_group(&self, file_name: &str, group_name: &str, rules: Value) {
        assert!(
            file_name.ends_with(".json") && !file_name.contains('/'),
            "rule files are <name>.json in the rules folder: {file_name}"
        );
        let content = json!({"groups": [{"name": group_name, "rules": rules}]});
        // Renamed into place, so that a reload never reads half a file.
        let staging = self.rules_dir.join(format!("{file_name}.tmp"));
        write_json(&staging, &content);
        std::fs::rename(&staging, self.rules_dir.join(file_name)).unwrap();
        self.reload().await;
        self.wait_for_alertmanager().await;
    }

    /// Removes a rule file and reloads.
    pub async fn remove_rule_file(&self, file_name: &str) {
        match std::fs::remove_file(self.rules_dir.join(file_name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("removing rule file {file_name}: {e}"),
        }
        self.reload().await;
    }

    async fn api(&self, path_and_query: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.prometheus_url))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "success", "Prometheus {path_and_query}: {body}");
        body["data"].clone()
    }

    /// Prometheus's loaded rule groups (`GET /api/v1/rules` → `data.groups`): each with
    /// `name`, `file`, `rules[]` (`name`, `query`, `labels`, `health`, `state`, `alerts`).
    pub async fn rule_groups(&self) -> Value {
        self.api("/api/v1/rules").await["groups"].clone()
    }

    /// An instant query's result (`GET /api/v1/query` → `data.result`).
    pub async fn query(&self, promql: &str) -> Value {
        let query: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        self.api(&format!("/api/v1/query?query={query}")).await["result"].clone()
    }

    /// Waits (polling) until an instant query has a non-empty result, which it returns;
    /// panics after `timeout`. Series of the exporter appear at Prometheus's next scrape
    /// (5 s after its start at first).
    pub async fn wait_for_query(&self, promql: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let result = self.query(promql).await;
            if result.as_array().is_some_and(|r| !r.is_empty()) {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "no result for {promql} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every notification the relay has received so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// The notifications for one target (`127.0.0.1:<port>`), oldest first.
    pub fn deliveries_to(&self, target: &str) -> Vec<Delivery> {
        self.deliveries
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.target == target)
            .cloned()
            .collect()
    }

    /// Waits (polling) for a notification that `matches`; `None` after `timeout`.
    pub async fn wait_for_delivery(
        &self,
        timeout: Duration,
        matches: impl Fn(&Delivery) -> bool,
    ) -> Option<Delivery> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self.deliveries.lock().unwrap().iter().find(|d| matches(d)) {
                return Some(found.clone());
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn sorted_labels(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut sorted: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    sorted.sort();
    sorted.dedup_by(|a, b| a.0 == b.0);
    sorted
}

fn escape_label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn sample_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        value.to_string()
    }
}

/// The exporter's `/metrics` in the text exposition format.
fn exposition(series: &Series) -> String {
    let mut text = String::new();
    for (name, samples) in series {
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        text.push_str(&format!("# TYPE {name} {kind}\n"));
        for (labels, value) in samples {
            text.push_str(name);
            if !labels.is_empty() {
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label_value(v)))
                    .collect();
                text.push_str(&format!("{{{}}}", labels.join(",")));
            }
            text.push_str(&format!(" {}\n", sample_value(*value)));
        }
    }
    text
}

async fn metrics(State(series): State<Arc<Mutex<Series>>>) -> impl IntoResponse {
    let text = exposition(&series.lock().unwrap());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}

/// Instance id → the test server its alerts go to (rules tacker-rs writes carry no
/// `tacker_test_target` label, but name their instance).
type InstanceRoutes = Arc<Mutex<HashMap<String, String>>>;

#[derive(Clone)]
struct RelayState {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    routes: InstanceRoutes,
    http: reqwest::Client,
}

async fn relay_post(
    State(state): State<RelayState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Bytes) {
    let path = uri.path().to_string();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let labels = &json["alerts"][0]["labels"];
    let routed = ["object_instance_id", "vnf_instance_id"]
        .iter()
        .find_map(|name| labels[name].as_str())
        .and_then(|instance| state.routes.lock().unwrap().get(instance).cloned());
    let target = json["commonLabels"][TARGET_LABEL]
        .as_str()
        .or_else(|| labels[TARGET_LABEL].as_str())
        .map(str::to_owned)
        .or(routed)
        .unwrap_or_default();
    let (status, answer) = if path == "/unrouted" || target.is_empty() {
        // Nothing to forward to: acknowledged, so that Alertmanager does not retry.
        (None, (StatusCode::NO_CONTENT, Bytes::new()))
    } else {
        let mut request = state.http.post(format!("http://{target}{path}")).body(body);
        for name in [header::CONTENT_TYPE, header::USER_AGENT] {
            if let Some(value) = headers.get(&name) {
                request = request.header(name, value);
            }
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                let bytes = response.bytes().await.unwrap_or_default();
                (
                    Some(status.as_u16()),
                    (StatusCode::from_u16(status.as_u16()).unwrap(), bytes),
                )
            }
            Err(e) => (
                None,
                (
                    StatusCode::BAD_GATEWAY,
                    Bytes::from(format!("relay: {target}: {e}")),
                ),
            ),
        }
    };
    state.deliveries.lock().unwrap().push(Delivery {
        target,
        path,
        status,
        body: json,
    });
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_format() {
        let mut series = Series::new();
        series
            .entry("pod_cpu_usage_seconds_total".into())
            .or_default()
            .insert(sorted_labels(&[("pod", "p\"1"), ("namespace", "default")]), 1.5);
        series
            .entry("kube_node_status_capacity".into())
            .or_default()
            .insert(sorted_labels(&[("node", "n1"), ("resource", "memory")]), 8e9);
        assert_eq!(
            exposition(&series),
            "# TYPE kube_node_status_capacity gauge\n\
             kube_node_status_capacity{node=\"n1\",resource=\"memory\"} 8000000000\n\
             # TYPE pod_cpu_usage_seconds_total counter\n\
             pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"p\\\"1\"} 1.5\n"
        );
    }
}
