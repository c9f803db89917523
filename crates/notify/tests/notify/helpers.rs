//! A fresh database and key folder per test, a recording subscriber (HTTP or HTTPS with
//! optional client certificates), and outbox helpers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::{Extension, Router};
use chrono::{TimeDelta, Utc};
use serde_json::Value;
use tacker_common::{PeerCertificate, SslOptions};
use tacker_crypto::KeyVault;
use tacker_db::instances::InstanceRow;
use tacker_db::notifications::{NotificationRow, SubscriptionRow};
use tacker_db::{Database, PoolSettings};
use tacker_notify::{encrypt_authentication, NotificationSettings};
use tacker_testkit::pki::Issued;
use tacker_testkit::{TestBackend, TestDatabase};
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// A migrated database of its own and a key folder.
pub struct Env {
    pub db: Database,
    pub vault: KeyVault,
    _database: TestDatabase,
    _dir: TempDir,
}

/// Runs `body` on a fresh database of `backend`; skipped when the backend is not
/// configured here (and failing under CI, as the testkit decides). The per-test setup of
/// `backend_tests!(module => body, setup = with_env)`.
pub async fn with_env<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = TestDatabase::create(backend, dir.path()).await else {
        return;
    };
    let db = Database::connect(&database.connection, &PoolSettings::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let vault = KeyVault::new(dir.path().join("keys"), None);
    vault.ensure_dir().unwrap();
    body(Env {
        db,
        vault,
        _database: database,
        _dir: dir,
    })
    .await
}

/// Settings for tests: retries after a few milliseconds.
pub fn fast_settings() -> NotificationSettings {
    NotificationSettings {
        timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(10),
        ..Default::default()
    }
}

impl Env {
    /// Stores a subscription, its authentication's secrets encrypted with a key of its own.
    pub async fn subscribe(&self, callback_uri: &str, api_version: &str, auth: Option<Value>) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let authentication = auth.map(|mut auth| {
            let keys = self.vault.create(&id).unwrap();
            encrypt_authentication(&mut auth, &keys);
            auth.into()
        });
        let row = SubscriptionRow {
            id: id.clone(),
            tenant_id: "project-a".into(),
            api_version: api_version.parse().expect("an API version"),
            callback_uri: callback_uri.into(),
            filter: None,
            verbosity: "FULL".into(),
            authentication,
            created_at: Utc::now(),
        };
        self.db.insert_subscription(&row).await.unwrap();
        id
    }

    /// Queues notifications for a subscription (as the creation of an instance does), in
    /// this order; returns their ids.
    pub async fn enqueue(&self, subscription_id: &str, payloads: &[Value]) -> Vec<String> {
        let now = Utc::now();
        let instance_id = uuid::Uuid::new_v4().to_string();
        let rows: Vec<NotificationRow> = payloads
            .iter()
            .enumerate()
            .map(|(i, payload)| NotificationRow {
                id: uuid::Uuid::new_v4().to_string(),
                subscription_id: subscription_id.into(),
                notification_type: "VnfIdentifierCreationNotification".into(),
                payload: payload.to_string(),
                attempts: 0,
                next_attempt_at: now,
                claimed_by: None,
                lease_until: None,
                last_error: None,
                created_at: now + TimeDelta::milliseconds(i as i64),
            })
            .collect();
        let instance = InstanceRow {
            id: instance_id,
            tenant_id: "project-a".into(),
            api_version: tacker_sol003::ApiVersion::V2,
            vim_id: None,
            vnf_instance_name: None,
            vnf_instance_description: None,
            vnfd_id: "vnfd-1".into(),
            vnf_pkg_id: None,
            vnf_provider: "provider".into(),
            vnf_product_name: "product".into(),
            vnf_software_version: "1.0".into(),
            vnfd_version: "1.0".into(),
            instantiation_state: tacker_sol003::InstantiationState::NotInstantiated,
            vim_connection_info: None,
            instantiated_vnf_info: None,
            metadata: None,
            extensions: None,
            vnf_configurable_properties: None,
            active_op_occ_id: None,
            created_at: now,
            updated_at: None,
        };
        self.db.insert_instance(&instance, &rows).await.unwrap();
        rows.into_iter().map(|r| r.id).collect()
    }

    /// Everything still in the outbox, due or not, oldest first. Leaves the rows
    /// claimable by anyone (the probe's lease is already over).
    pub async fn pending(&self) -> Vec<NotificationRow> {
        let now = Utc::now();
        self.db
            .claim_notifications("probe", now + TimeDelta::days(365), Duration::ZERO, 1000)
            .await
            .unwrap()
    }
}

/// One request as the subscriber saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub headers: HeaderMap,
    pub body: String,
    /// DER of the TLS client certificate, when one was presented.
    pub peer_cert: Option<Vec<u8>>,
    /// What the receiver answered.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

struct Script {
    /// The next `fail` requests are answered `fail_status`.
    fail: usize,
    fail_status: u16,
    /// The next `refuse` requests are answered 401.
    refuse: usize,
    /// The answer otherwise.
    success: u16,
}

struct ReceiverState {
    log: Mutex<Vec<Received>>,
    script: Mutex<Script>,
}

/// A subscriber on 127.0.0.1 that records every request and answers as scripted
/// (204 unless told otherwise).
pub struct Receiver {
    /// Base URL (`http://127.0.0.1:<port>` or `https://...`).
    pub url: String,
    state: Arc<ReceiverState>,
    server: JoinHandle<()>,
    _files: Option<TempDir>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    State(state): State<Arc<ReceiverState>>,
    method: Method,
    headers: HeaderMap,
    peer: Option<Extension<PeerCertificate>>,
    body: String,
) -> StatusCode {
    let status = {
        let mut script = state.script.lock().unwrap();
        if script.refuse > 0 {
            script.refuse -= 1;
            401
        } else if script.fail > 0 {
            script.fail -= 1;
            script.fail_status
        } else {
            script.success
        }
    };
    state.log.lock().unwrap().push(Received {
        method,
        headers,
        body,
        peer_cert: peer.map(|Extension(cert)| cert.0.as_ref().clone()),
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    fn state() -> Arc<ReceiverState> {
        Arc::new(ReceiverState {
            log: Mutex::new(Vec::new()),
            script: Mutex::new(Script {
                fail: 0,
                fail_status: 503,
                refuse: 0,
                success: 204,
            }),
        })
    }

    fn router(state: &Arc<ReceiverState>) -> Router {
        Router::new().fallback(handle).with_state(state.clone())
    }

    /// Plain HTTP.
    pub async fn http() -> Self {
        let state = Self::state();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = Self::router(&state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Receiver {
            url,
            state,
            server,
            _files: None,
        }
    }

    /// HTTPS with `server` as certificate; with `client_ca`, a client certificate issued
    /// by it is required.
    pub async fn https(server: &Issued, client_ca: Option<&str>) -> Self {
        tacker_tls::install_crypto_provider();
        let files = tempfile::tempdir().unwrap();
        let write = |name: &str, content: &str| {
            let path = files.path().join(name);
            std::fs::write(&path, content).unwrap();
            path
        };
        let options = SslOptions {
            cert_file: write("server.pem", &server.cert_pem),
            key_file: write("server.key", &server.key_pem),
            client_ca_file: client_ca.map(|ca| write("client-ca.pem", ca)),
            client_cert_required: client_ca.is_some(),
            reload_interval: 0,
        };
        let config = tacker_tls::load_server_config(&options).unwrap();
        let acceptor = tacker_tls::PeerCertAcceptor::new(axum_server::tls_rustls::RustlsAcceptor::new(
            axum_server::tls_rustls::RustlsConfig::from_config(config),
        ));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let state = Self::state();
        let router = Self::router(&state);
        let serving = axum_server::from_tcp(listener)
            .unwrap()
            .acceptor(acceptor)
            .serve(router.into_make_service());
        let server = tokio::spawn(async move {
            let _ = serving.await;
        });
        Receiver {
            url,
            state,
            server,
            _files: Some(files),
        }
    }

    /// A callback URI on this receiver.
    pub fn callback(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Answers the next `count` requests with `status`.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut script = self.state.script.lock().unwrap();
        script.fail = count;
        script.fail_status = status;
    }

    /// Answers the next `count` requests with 401.
    pub fn refuse_next(&self, count: usize) {
        self.state.script.lock().unwrap().refuse = count;
    }

    /// Answers with `status` from now on (instead of 204).
    pub fn answer(&self, status: u16) {
        self.state.script.lock().unwrap().success = status;
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.log.lock().unwrap().clone()
    }

    /// The requests answered with 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }
}

/// A loopback port nobody listens on.
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}
