//! [`FakeKube`]: start, inspect and (on drop) stop a fake apiserver.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::app::{App, AppState};
use crate::audit::{AuditEntry, AuditLog};
use crate::auth::oidc::OidcAuthenticator;
use crate::auth::Authenticator;
use crate::config::FakeKubeConfig;
use crate::defaults::prepare_create;
use crate::error::{Error, Result};
use crate::faults::Faults;
use crate::rbac::Authorization;
use crate::resources::rt;
use crate::store::Store;
use crate::{reconciler, routes, tls};

/// A running fake apiserver; it stops when dropped.
pub struct FakeKube {
    url: String,
    addr: SocketAddr,
    ca_pem: String,
    admin_token: Option<String>,
    app: AppState,
    oidc: Option<Arc<OidcAuthenticator>>,
    handle: Handle<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl FakeKube {
    /// Binds, seeds the cluster (namespaces default, kube-system, kube-public,
    /// kube-node-lease; node `fake-node-1`; the `kubernetes` service), starts the reconciler
    /// and, with OIDC, makes a first discovery attempt (retried in the background if it fails).
    pub async fn start(config: FakeKubeConfig) -> Result<FakeKube> {
        let oidc = match config.oidc.clone() {
            Some(c) => Some(Arc::new(OidcAuthenticator::new(c)?)),
            None => None,
        };
        let certs = tls::generate()?;
        let tls_config = tls::server_config(&certs)?;
        let listener = std::net::TcpListener::bind(config.listen).map_err(Error::Io)?;
        listener.set_nonblocking(true).map_err(Error::Io)?;
        let addr = listener.local_addr().map_err(Error::Io)?;
        let audit = match &config.audit_log {
            Some(path) => AuditLog::with_file(path).map_err(|source| Error::AuditLog {
                path: path.clone(),
                source,
            })?,
            None => AuditLog::default(),
        };
        let app = AppState(Arc::new(App {
            store: Store::new(config.watch_history),
            audit,
            faults: Faults::default(),
            authn: Authenticator::new(&config, oidc.clone()),
            authz: RwLock::new(config.authorization.clone()),
            timings: config.timings.clone(),
        }));
        seed(&app, addr);
        let handle = Handle::new();
        let server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(tls_config))
            .map_err(Error::Io)?
            .handle(handle.clone())
            .serve(routes::router(app.clone()).into_make_service());
        let mut tasks = vec![tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::error!(%error, "fake kube-apiserver stopped");
            }
        })];
        tasks.push(reconciler::spawn(app.clone()));
        if let Some(oidc) = &oidc {
            if let Err(reason) = oidc.initialize().await {
                tracing::warn!(%reason, "OIDC discovery failed at start; retrying in the background");
                let oidc = oidc.clone();
                tasks.push(tokio::spawn(async move {
                    tokio::time::sleep(oidc.config().retry_interval).await;
                    oidc.run_initializer().await;
                }));
            }
        }
        Ok(FakeKube {
            url: format!("https://{addr}"),
            addr,
            ca_pem: certs.ca_pem,
            admin_token: config.admin_token,
            app,
            oidc,
            handle,
            tasks,
        })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA that signed the serving certificate (a VIM's `ssl_ca_cert`).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The token of `kubernetes-admin` (group `system:masters`).
    pub fn admin_token(&self) -> &str {
        self.admin_token.as_deref().unwrap_or_default()
    }

    /// Every request so far, oldest first.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.app.audit.entries()
    }

    pub fn clear_audit(&self) {
        self.app.audit.clear()
    }

    /// Injected failures (change them at any time).
    pub fn faults(&self) -> &Faults {
        &self.app.faults
    }

    /// Replaces the authorization mode.
    pub fn set_authorization(&self, authorization: Authorization) {
        *self.app.authz.write().unwrap_or_else(|p| p.into_inner()) = authorization;
    }

    /// Has OIDC discovery succeeded (`false` without OIDC)?
    pub fn oidc_initialized(&self) -> bool {
        self.oidc.as_ref().is_some_and(|o| o.is_initialized())
    }

    /// An object straight from the store (`namespace` `""` for cluster objects).
    pub fn object(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let rt = crate::resources::ResourceType::by_plural(plural)?;
        self.app.store.lock().get(rt, namespace, name).cloned()
    }

    /// The objects of a type, in one namespace or all.
    pub fn objects(&self, plural: &str, namespace: Option<&str>) -> Vec<Value> {
        match crate::resources::ResourceType::by_plural(plural) {
            Some(rt) => self.app.store.lock().list(rt, namespace),
            None => Vec::new(),
        }
    }

    /// A kubeconfig (YAML) for this server with a bearer token.
    pub fn kubeconfig(&self, token: &str) -> String {
        let ca = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &self.ca_pem);
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n    \
             certificate-authority-data: {ca}\nusers:\n- name: user\n  user:\n    token: {token}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: user\n    namespace: default\n\
             current-context: fake\n",
            self.url
        )
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.handle.shutdown();
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// What a fresh cluster has.
fn seed(app: &AppState, addr: SocketAddr) {
    let mut state = app.store.lock();
    let mut create = |plural: &str, mut obj: Value| {
        let rt = rt(plural);
        let created = prepare_create(&mut state, rt, &mut obj).and_then(|()| state.create(rt, obj));
        if let Err(error) = created {
            tracing::error!(%error, "seeding the fake cluster");
        }
    };
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        create(
            "namespaces",
            json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}),
        );
    }
    create(
        "nodes",
        json!({
            "metadata": {"name": reconciler::NODE_NAME, "labels": {
                "kubernetes.io/hostname": reconciler::NODE_NAME, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/control-plane": ""}},
            "spec": {"podCIDR": "10.244.0.0/24"},
        }),
    );
    create(
        "services",
        json!({
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": addr.port()}]},
        }),
    );
    create(
        "endpoints",
        json!({
            "metadata": {"name": "kubernetes", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": addr.ip().to_string()}],
                         "ports": [{"name": "https", "port": addr.port(), "protocol": "TCP"}]}],
        }),
    );
}
