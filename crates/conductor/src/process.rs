//! A whole conductor: the operation loop and the notification delivery worker, built
//! from tacker.conf, stopped together.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tacker_common::Config;
use tacker_crypto::KeyVault;
use tacker_db::Database;
use tacker_lcm::notifications::Notifier;
use tacker_notify::{DeliveryWorker, NotificationSettings, Sender};
use tacker_pkgstore::PackageStore;
use tokio::sync::watch;

use tacker_driver::Drivers;

use crate::executor::Executor;
use crate::worker::{Conductor, ConductorSettings, Wake};

pub struct ConductorProcess {
    conductor: Conductor,
    delivery: DeliveryWorker,
}

impl ConductorProcess {
    /// `wake` lets an in-process API server start work at once (the all-in-one binary).
    pub fn build(
        config: &Config,
        db: Database,
        drivers: Drivers,
        notifications: NotificationSettings,
        wake: Wake,
    ) -> anyhow::Result<Self> {
        let holder = crate::holder_id();
        let vault = KeyVault::new(&config.vim_key_dir, config.vim_default_secret_key.clone());
        let settings = ConductorSettings {
            lease: config.lcm.lease,
            poll_interval: config.lcm.poll_interval,
            max_concurrent: config.lcm.max_concurrent_operations,
            drain: config.lcm.graceful_shutdown_timeout,
        };
        let executor = Executor {
            db: db.clone(),
            vault: vault.clone(),
            drivers,
            packages: PackageStore::new(&config.vnf_package).with_context(|| {
                format!(
                    "opening the package store ({})",
                    tacker_pkgstore::describe(&config.vnf_package)
                )
            })?,
            notifier: Notifier {
                endpoint: config.lcm.endpoint.clone(),
            },
            holder: holder.clone(),
            lease: settings.lease,
            cancel_check: settings.poll_interval,
        };
        let sender = Sender::new(&notifications).map_err(|e| anyhow::anyhow!("notification sender: {e}"))?;
        let delivery = DeliveryWorker::new(
            db,
            vault,
            Arc::new(sender),
            notifications,
            format!("{holder}:notify"),
        );
        Ok(ConductorProcess {
            conductor: Conductor::new(executor, settings, wake),
            delivery,
        })
    }

    pub fn holder(&self) -> &str {
        self.conductor.holder()
    }

    /// Runs until `shutdown`; running operations finish their step first.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop, stopped) = watch::channel(false);
        let wait = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let conductor = self.conductor.run(wait(stopped.clone()));
        let delivery = self.delivery.run(wait(stopped));
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        tokio::join!(conductor, delivery, signal);
    }
}
