//! A tacker-server on a free loopback port over a fresh database.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tacker_common::Config;
use tacker_conductor::{ConductorProcess, Wake};
use tacker_db::Database;
use tacker_driver::{Drivers, InfraDriver, TestDriver};
use tacker_notify::NotificationSettings;
use tacker_server::{Application, BuildOptions};
use tacker_vnfpkgm::PackageService;
use tempfile::TempDir;
use tokio::task::JoinHandle;

use crate::db_fault::{server_addr, through_relay, DbRelay};
use crate::{TestBackend, TestDatabase};

/// The repository's api-paste.ini (Tacker's own: Keystone tokens).
pub fn repo_api_paste() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../api-paste/api-paste.ini")
}

/// The repository's api-paste.ini for an external OAuth 2.0 authorization server
/// (`external_oauth2_token` in the `keystone` pipelines).
pub fn repo_api_paste_external_oauth2() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../api-paste/api-paste-external-oauth2.ini")
}

/// Writes `<dir>/tacker.conf` for a noauth server on a free port with its data in `dir`;
/// `extra` is appended (later options win).
pub fn write_conf(dir: &Path, connection: &str, extra: &str) -> PathBuf {
    let path = dir.join("tacker.conf");
    let conf = format!(
        "[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = 0\nauth_strategy = noauth\nstate_path = {}\n\
         api_paste_config = {}\n[database]\nconnection = {connection}\n[vim_keys]\nopenstack = $state_path/keys\n\
         [k8s_vim]\nvalidate_on_register = false\n{extra}\n",
        dir.display(),
        repo_api_paste().display(),
    );
    std::fs::write(&path, conf).unwrap();
    path
}

/// The Kubernetes VIM type, its API rules and checks as in production, with `driver`
/// running its plans in memory.
pub fn kubernetes_in_memory(driver: Arc<TestDriver>) -> Drivers {
    Drivers::new().with(Arc::new(tacker_k8s::KubernetesVim::with_infra(
        driver as Arc<dyn InfraDriver>,
    )))
}

/// Runs a built server in the background; returns its base URL and task.
fn serve(app: Application) -> (String, JoinHandle<()>) {
    let scheme = if app.state().config.ssl.is_some() {
        "https"
    } else {
        "http"
    };
    let address = format!("{scheme}://{}", app.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    (address, server)
}

/// Options for [`TestApp`].
pub struct TestAppBuilder {
    backend: TestBackend,
    extra_conf: String,
    relay: bool,
}

impl TestAppBuilder {
    /// Appends tacker.conf text (later sections override earlier options).
    pub fn conf(mut self, text: &str) -> Self {
        self.extra_conf.push('\n');
        self.extra_conf.push_str(text);
        self
    }

    /// Reaches a database server through a [`DbRelay`] the test can stall or cut
    /// (`TestApp::relay`); no effect on SQLite.
    pub fn through_relay(mut self) -> Self {
        self.relay = true;
        self
    }

    /// Creates the database, writes tacker.conf, migrates and starts the server.
    /// `None` when the backend is not available on this machine.
    pub async fn spawn(self) -> Option<TestApp> {
        // Server logs in test output on request: TEST_LOG=1.
        if std::env::var_os("TEST_LOG").is_some() {
            tacker_process::telemetry::init(tacker_process::telemetry::LogOptions {
                debug: true,
                json: false,
            });
        }
        let state_dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(self.backend, state_dir.path()).await?;
        let relay = match self.backend {
            TestBackend::Sqlite => None,
            _ if self.relay => Some(DbRelay::start(server_addr(&database.connection)).await),
            _ => None,
        };
        let connection = match &relay {
            Some(relay) => through_relay(&database.connection, relay.addr),
            None => database.connection.clone(),
        };
        let conf_path = write_conf(state_dir.path(), &connection, &self.extra_conf);
        let config = Config::load(std::slice::from_ref(&conf_path)).unwrap();
        let drivers = kubernetes_in_memory(Arc::new(TestDriver::new()));
        let app = Application::build_with_drivers(config.clone(), BuildOptions { migrate: true }, drivers)
            .await
            .unwrap();
        let db = app.state().db.clone();
        let packages = app.state().packages.clone();
        let wake = app.state().work_queued.clone();
        let (address, server) = serve(app);
        Some(TestApp {
            address,
            client: reqwest::Client::new(),
            db,
            packages,
            wake,
            config,
            conf_path,
            server,
            relay,
            database,
            state_dir,
        })
    }
}

/// A running server and what a test needs to talk to it or look behind it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub client: reqwest::Client,
    /// The server's database, for tests that check what is stored.
    pub db: Database,
    /// The server's package service, for tests that drive its background work.
    pub packages: PackageService,
    /// Signalled by the server when it queued work for a conductor.
    wake: Arc<tokio::sync::Notify>,
    pub config: Config,
    /// The tacker.conf the server was started with.
    pub conf_path: PathBuf,
    server: JoinHandle<()>,
    /// The relay to the database server, with `through_relay`.
    pub relay: Option<DbRelay>,
    // Dropped after the server task is aborted (fields drop in declaration order).
    pub database: TestDatabase,
    pub state_dir: TempDir,
}

impl TestApp {
    pub fn builder(backend: TestBackend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            extra_conf: String::new(),
            relay: false,
        }
    }

    /// A second server process-alike on the same database and key folder (as several
    /// tacker-server processes share one database); returns its address.
    pub async fn spawn_peer(&self) -> Peer {
        self.spawn_peer_with(self.config.clone()).await
    }

    /// A peer with its own configuration (another `vnf_package_csar_path`, say).
    pub async fn spawn_peer_with(&self, config: Config) -> Peer {
        let drivers = kubernetes_in_memory(Arc::new(TestDriver::new()));
        let app = Application::build_with_drivers(config, BuildOptions::default(), drivers)
            .await
            .unwrap();
        let (address, server) = serve(app);
        Peer { address, server }
    }

    /// The server's socket address, for clients that speak raw TCP to it.
    pub fn socket_addr(&self) -> std::net::SocketAddr {
        self.address
            .trim_start_matches("http://")
            .parse()
            .expect("the test server listens on an IP address")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request as Tacker's noauth admin.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request as a user of `project` with the given roles (noauth identity headers).
    pub fn request_as(
        &self,
        project: &str,
        roles: &str,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.request(method, path)
            .header("X-User-Id", format!("user-of-{project}"))
            .header("X-Project-Id", project)
            .header("X-Roles", roles)
    }

    /// Sends and returns status and JSON body (Null for an empty body).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        (status, body)
    }
}

impl TestApp {
    /// Starts a conductor on the server's database with the test infra driver serving
    /// Kubernetes VIMs; it is killed (not shut down) when the handle is dropped.
    pub fn spawn_conductor(&self, lease: Duration) -> ConductorHandle {
        let driver = Arc::new(TestDriver::new());
        self.spawn_conductor_with(lease, kubernetes_in_memory(driver.clone()), driver)
    }

    /// A conductor with the test driver that [`ConductorHandle::shut_down`] stops as
    /// SIGTERM would, letting running operations go on for `drain`.
    pub fn spawn_stoppable_conductor(&self, lease: Duration, drain: Duration) -> ConductorHandle {
        let driver = Arc::new(TestDriver::new());
        let mut config = self.config.clone();
        config.lcm.graceful_shutdown_timeout = drain;
        self.conductor_from(&config, lease, kubernetes_in_memory(driver.clone()), driver)
    }

    /// A conductor with the given infra drivers (the real Kubernetes driver, say);
    /// `driver` is the test driver the handle exposes.
    pub fn spawn_conductor_with(
        &self,
        lease: Duration,
        drivers: Drivers,
        driver: Arc<TestDriver>,
    ) -> ConductorHandle {
        self.conductor_from(&self.config, lease, drivers, driver)
    }

    fn conductor_from(
        &self,
        config: &Config,
        lease: Duration,
        drivers: Drivers,
        driver: Arc<TestDriver>,
    ) -> ConductorHandle {
        let mut config = config.clone();
        config.lcm.lease = lease;
        config.lcm.poll_interval = Duration::from_millis(200);
        let notifications = NotificationSettings {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(500),
            poll_interval: Duration::from_millis(100),
            lease: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            ..NotificationSettings::default()
        };
        let process = ConductorProcess::build(
            &config,
            self.db.clone(),
            drivers,
            notifications,
            Wake::from_notify(self.wake.clone()),
        )
        .unwrap();
        let holder = process.holder().to_owned();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(process.run(async move {
            let _ = stopped.await;
        }));
        ConductorHandle {
            task,
            driver,
            holder,
            stop: Some(stop),
        }
    }
}

/// A conductor running for a test; aborted (as if killed) on drop.
pub struct ConductorHandle {
    task: JoinHandle<()>,
    /// Its infra driver, to look at what it "runs".
    pub driver: Arc<TestDriver>,
    /// The name it claims work under.
    pub holder: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ConductorHandle {
    /// Stops it as SIGTERM does and waits until it has stopped.
    pub async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap();
    }
}

impl Drop for ConductorHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Another server over a [`TestApp`]'s database; stopped when dropped.
pub struct Peer {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    server: JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}
