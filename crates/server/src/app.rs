//! Start-up: configuration to a listening server, in an order that fails early and clearly.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tacker_common::paste::PasteDeploy;
use tacker_common::Config;
use tacker_crypto::KeyVault;
use tacker_db::Database;
use tacker_driver::Drivers;
use tacker_lcm::LcmService;
use tacker_monitoring::RulePublisher;
use tacker_policy::Enforcer;
use tacker_tls::{load_server_config, PeerCertAcceptor};
use tacker_vim::VimService;
use tacker_vnffm::{AutoHealer, AutoScaler, FmService};
use tacker_vnfpkgm::{PackageService, PackageSettings};
use tacker_vnfpm::PmService;
use tokio::net::TcpListener;

use crate::serve::{self, ConnectionLimits};
use crate::state::Shared;
use crate::{pipeline, AppState};

/// Choices the binaries make differently.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions {
    /// Apply pending migrations instead of refusing to start (the all-in-one binary).
    pub migrate: bool,
}

/// A bound, ready-to-run API server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    /// The HTTPS configuration, when `use_ssl` is set (loaded at build, so bad files stop start-up).
    tls: Option<RustlsConfig>,
    limits: ConnectionLimits,
}

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Application {
    /// A server that drives no VIM type: its LCM operations answer 501 and VIMs are not
    /// checked at registration. Binaries use [`Application::build_with_drivers`].
    pub async fn build(config: Config, options: BuildOptions) -> anyhow::Result<Self> {
        Application::build_with_drivers(config, options, Drivers::new()).await
    }

    /// A server whose API applies the rules of the VIM types in `drivers` (supported
    /// operations, additionalParams, checks of VIMs at registration).
    pub async fn build_with_drivers(
        config: Config,
        options: BuildOptions,
        drivers: Drivers,
    ) -> anyhow::Result<Self> {
        for ignored in &config.ignored_options {
            tracing::warn!(option = %ignored, "unknown configuration option ignored");
        }
        let limits = ConnectionLimits::new(
            &config.connections,
            serve::nofile::connection_budget(),
            DRAIN_TIMEOUT,
        );
        let db = Database::open(&config.database).await?;
        if options.migrate {
            db.migrate().await.context("cannot migrate the database")?;
        }
        db.ensure_migrated().await?;

        let vault = KeyVault::new(&config.vim_key_dir, config.vim_default_secret_key.clone());
        vault.ensure_dir().context("[vim_keys] openstack")?;

        let deploy = PasteDeploy::load(&config.api_paste_config, "tacker", config.auth_strategy)?;
        let policy = Arc::new(Enforcer::load(&config.policy_file)?);
        let packages = package_service(&config, &db, &policy).await?;
        let vims = VimService::from_config(
            &config,
            db.clone(),
            vault.clone(),
            policy.clone(),
            drivers.clone(),
        );
        let work_queued = Arc::new(tokio::sync::Notify::new());
        let notifications = crate::lcm_wiring::notification_settings(&config.lcm)?;
        let tester = crate::lcm_wiring::callback_tester(config.lcm.test_callback_uri, &notifications)?;
        let wake = work_queued.clone();
        let lcm = LcmService::new(
            db.clone(),
            vims.clone(),
            drivers,
            vault.clone(),
            policy.clone(),
            config.lcm.endpoint.clone(),
            tester.clone(),
            Arc::new(move || wake.notify_one()),
            config.lcm.page_size,
        );
        let fm = FmService::new(
            db.clone(),
            vault.clone(),
            policy.clone(),
            config.lcm.endpoint.clone(),
            tester.clone(),
            config.prometheus_plugin.alarm_page_size,
        );
        let pm = PmService::new(
            db.clone(),
            vault.clone(),
            policy.clone(),
            config.lcm.endpoint.clone(),
            tester,
            RulePublisher::new(config.lcm.notification_timeout),
            config.prometheus_plugin.clone(),
            config.prometheus_plugin.pm_page_size,
        );
        let auto_heal = AutoHealer::new(db.clone(), lcm.clone(), config.prometheus_plugin.timer_interval);
        let auto_scale = AutoScaler::new(db.clone(), lcm.clone());
        let state = AppState::new(Shared {
            vims,
            packages,
            lcm,
            fm,
            auto_heal,
            auto_scale,
            pm,
            subscription_auth: Arc::new(crate::lcm_wiring::VaultCodec { vault }),
            rendered_lists: Default::default(),
            work_queued,
            policy,
            db,
            config: Arc::new(config),
        });
        let router = pipeline::build(&deploy, &state)?;

        let tls = match &state.config.ssl {
            Some(ssl) => Some(RustlsConfig::from_config(load_server_config(ssl)?)),
            None => None,
        };
        let host = &state.config.bind_host;
        // An IPv6 literal such as `::` needs brackets before the port.
        let address = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{}", state.config.bind_port)
        } else {
            format!("{host}:{}", state.config.bind_port)
        };
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address} ([DEFAULT] bind_host / bind_port)"))?;
        Ok(Application {
            listener,
            router,
            state,
            tls,
            limits,
        })
    }

    /// The address actually bound (port 0 in tests picks a free port).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state, for tests that look behind the API.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let sweeper = tokio::spawn(self.state.packages.clone().sweep_interrupted_onboardings());
        match (self.tls, &self.state.config.ssl) {
            (Some(tls), Some(ssl)) => {
                tracing::info!(%address, client_ca = ssl.client_ca_file.is_some(), "tacker-server listening (HTTPS)");
                tacker_tls::watch(ssl.clone(), tls.clone());
                let acceptor = PeerCertAcceptor::new(RustlsAcceptor::new(tls));
                serve::serve(self.listener, acceptor, self.router, self.limits, shutdown).await?;
            }
            _ => {
                tracing::info!(%address, "tacker-server listening");
                let acceptor = axum_server::accept::DefaultAcceptor::new();
                serve::serve(self.listener, acceptor, self.router, self.limits, shutdown).await?;
            }
        }
        sweeper.abort();
        // Accepted uploads still onboarding may finish; the rest are left to the next sweep.
        self.state.packages.drain_onboardings(DRAIN_TIMEOUT).await;
        // The pool is not closed here: in the all-in-one process a conductor may still be
        // finishing its operations on it. Whoever owns the process closes it last.
        Ok(())
    }

    /// Serves until SIGINT or SIGTERM, then closes the database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let db = self.state.db.clone();
        let served = self.run_until(tacker_process::shutdown_signal()).await;
        db.close().await;
        served
    }
}

/// The package registry, with its storage folder ready and its download client built.
async fn package_service(
    config: &Config,
    db: &Database,
    policy: &Arc<Enforcer>,
) -> anyhow::Result<PackageService> {
    let settings = PackageSettings::new(&config.vnf_package);
    let outbound = tacker_tls::client::OutboundTls {
        timeout: Some(settings.upload_from_uri_timeout),
        ..Default::default()
    };
    let http = tacker_tls::client::http_client(&outbound, concat!("tacker-rs/", env!("CARGO_PKG_VERSION")))
        .context("building the upload_from_uri HTTP client")?;
    let store = tacker_pkgstore::PackageStore::open(&config.vnf_package)
        .await
        .with_context(|| {
            format!(
                "opening the package store ({})",
                tacker_pkgstore::describe(&config.vnf_package)
            )
        })?;
    tracing::info!(store = %store.description(), "package store opened");
    Ok(PackageService::new(
        db.clone(),
        settings,
        store,
        policy.clone(),
        http,
    ))
}
