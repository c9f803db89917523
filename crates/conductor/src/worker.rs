//! The conductor's loop: claim due occurrences from the shared database (never more than
//! it can run), run each under a renewed lease, and poll again; an in-process server can
//! wake it at once.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::executor::Executor;

/// How a conductor claims and runs work.
#[derive(Debug, Clone)]
pub struct ConductorSettings {
    /// How long a claim holds without renewal; a stopped conductor's work is taken over
    /// after it.
    pub lease: Duration,
    /// How often the database is asked for work when nobody wakes the conductor.
    pub poll_interval: Duration,
    /// Operations run at once.
    pub max_concurrent: usize,
    /// At shutdown, how long running operations may go on before they are stopped.
    pub drain: Duration,
}

impl Default for ConductorSettings {
    fn default() -> Self {
        ConductorSettings {
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            max_concurrent: 16,
            drain: Duration::from_secs(60),
        }
    }
}

/// A running conductor's handle: wake it when work was queued.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    /// Shares a notifier with an in-process API server.
    pub fn from_notify(notify: Arc<Notify>) -> Self {
        Wake(notify)
    }

    pub fn wake(&self) {
        self.0.notify_one();
    }
}

pub struct Conductor {
    executor: Arc<Executor>,
    settings: ConductorSettings,
    wake: Wake,
}

impl Conductor {
    pub fn new(executor: Executor, settings: ConductorSettings, wake: Wake) -> Self {
        Conductor {
            executor: Arc::new(executor),
            settings,
            wake,
        }
    }

    pub fn holder(&self) -> &str {
        &self.executor.holder
    }

    /// Runs until `shutdown` completes; then stops claiming and lets running operations
    /// go on for the drain period. Those still running then are stopped where they are and
    /// end FAILED_TEMP with the reason, so that nothing is left claimed by a dead process.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tracing::info!(holder = %self.executor.holder, "tacker-conductor running");
        let permits = Arc::new(Semaphore::new(self.settings.max_concurrent));
        let stop = CancellationToken::new();
        // The occurrences this conductor works on: never claimed again while it does.
        let running_ids: Arc<Mutex<HashSet<String>>> = Arc::default();
        let mut running = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let free = permits.available_permits();
            if free > 0 {
                let mine = running_ids.lock().map(|ids| ids.clone()).unwrap_or_default();
                match self.claim(free, &mine).await {
                    Ok(claimed) => {
                        for (id, e) in &claimed.unreadable {
                            tracing::error!(op_occ = %id, error = %e, "a claimed operation occurrence cannot be read; tried again when its lease runs out");
                        }
                        for op in claimed.ops {
                            let Ok(permit) = permits.clone().try_acquire_owned() else {
                                break;
                            };
                            let executor = self.executor.clone();
                            let (stop, ids) = (stop.clone(), running_ids.clone());
                            if let Ok(mut ids) = ids.lock() {
                                ids.insert(op.id.clone());
                            }
                            running.spawn(async move {
                                let id = op.id.clone();
                                executor.run(op, stop).await;
                                if let Ok(mut ids) = ids.lock() {
                                    ids.remove(&id);
                                }
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming operations failed"),
                }
            }
            while running.try_join_next().is_some() {}
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.0.notified() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        tracing::info!(
            running = running.len(),
            drain = ?self.settings.drain,
            "tacker-conductor stopping; letting running operations finish"
        );
        let drained = tokio::time::timeout(self.settings.drain, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                running = running.len(),
                "operations still running at the end of the drain period are stopped (FAILED_TEMP)"
            );
            stop.cancel();
            while running.join_next().await.is_some() {}
        }
    }

    async fn claim(
        &self,
        limit: usize,
        mine: &HashSet<String>,
    ) -> Result<tacker_db::instances::Claimed, tacker_db::DbError> {
        self.executor
            .db
            .claim_op_occs(&self.executor.holder, self.settings.lease, limit as i64, mine)
            .await
    }
}
