//! The all-in-one process: the API server and a conductor (with its notification
//! delivery) in one process, over one database pool. Stopping it stops the server first,
//! lets the conductor finish or stop its operations, and closes the pool last.

use std::future::Future;
use std::net::SocketAddr;

use tacker_common::Config;
use tacker_conductor::{ConductorProcess, Wake};
use tacker_driver::Drivers;
use tacker_server::lcm_wiring::notification_settings;
use tacker_server::{Application, BuildOptions};
use tokio::sync::watch;

/// A built, bound all-in-one process.
pub struct AllInOne {
    app: Application,
    conductor: ConductorProcess,
}

impl AllInOne {
    /// Migrates the database and builds the server and a conductor with `drivers`.
    pub async fn build(config: Config, drivers: Drivers) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.state_path)?;
        let app =
            Application::build_with_drivers(config.clone(), BuildOptions { migrate: true }, drivers.clone())
                .await?;
        let conductor = ConductorProcess::build(
            &config,
            app.state().db.clone(),
            drivers,
            notification_settings(&config.lcm)?,
            Wake::from_notify(app.state().work_queued.clone()),
        )?;
        Ok(AllInOne { app, conductor })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.app.local_addr()
    }

    /// Runs until `shutdown`; returns once the server has drained, the conductor has
    /// stopped and the database is closed.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let db = self.app.state().db.clone();
        let (stop, stopped) = watch::channel(false);
        let wait = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let conductor = self.conductor.run(wait(stopped.clone()));
        let server = self.app.run_until(wait(stopped));
        let (served, (), ()) = tokio::join!(server, conductor, signal);
        db.close().await;
        served
    }
}
