//! Onboardings as durable jobs. Each runs under a claim of its own with a lease in its
//! package row (`onboarding_claimed_by`, `onboarding_lease_until`), renewed while it works,
//! so that several servers sharing a database never both onboard one package, and one whose
//! server stopped is taken over by any server's sweep (see `sweep.rs`). The server also
//! keeps count of its background tasks, so that shutdown can wait for them.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tacker_db::DbError;
use tokio::sync::watch;
use uuid::Uuid;

use crate::service::PackageService;

/// How long an onboarding's lease lasts unless renewed; it is renewed every third of it.
const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// What a server knows of the background work it runs.
pub(crate) struct Jobs {
    /// Background tasks running (onboardings and upload_from_uri downloads).
    running: watch::Sender<usize>,
    /// The claim of every onboarding running here, by package id.
    claims: Mutex<HashMap<String, String>>,
    lease_millis: AtomicU64,
    gate: watch::Sender<Gate>,
}

/// Test support: where onboardings wait (see [`PackageService::hold_onboardings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Open,
    Held,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            running: watch::channel(0).0,
            claims: Mutex::new(HashMap::new()),
            lease_millis: AtomicU64::new(DEFAULT_LEASE.as_millis() as u64),
            gate: watch::channel(Gate::Open).0,
        }
    }
}

impl Jobs {
    /// Runs `task` in the background, counted until it ends (or is dropped).
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        struct Done(watch::Sender<usize>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.send_modify(|n| *n -= 1);
            }
        }
        self.running.send_modify(|n| *n += 1);
        let done = Done(self.running.clone());
        tokio::spawn(async move {
            let _done = done;
            task.await;
        });
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_millis.load(Ordering::Relaxed))
    }

    /// Whether an onboarding of the package runs here.
    pub fn runs(&self, id: &str) -> bool {
        self.claims().contains_key(id)
    }

    fn claims(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.claims.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A claim of one onboarding attempt: unique, so a later attempt fences every write of an
/// earlier one.
pub(crate) fn new_claim() -> String {
    format!("onboarding/{}", Uuid::new_v4().simple())
}

impl PackageService {
    /// Onboards the package in the background under `claim` (already written with its
    /// lease), renewing the lease until the onboarding ends; stops it if the claim is lost.
    pub(crate) fn spawn_onboarding(&self, id: String, claim: String, checksum: Value) {
        let jobs = &self.inner.jobs;
        jobs.claims().insert(id.clone(), claim.clone());
        let service = self.clone();
        jobs.spawn(async move {
            tokio::select! {
                () = service.process(&id, &claim, checksum) => {}
                () = service.keep_lease(&id, &claim) => {
                    tracing::warn!(package = %id, "onboarding stopped: another server took it over");
                }
            }
            let mut claims = service.inner.jobs.claims();
            if claims.get(&id) == Some(&claim) {
                claims.remove(&id);
            }
        });
    }

    /// Renews the lease every third of it; returns when another server has taken the
    /// onboarding over.
    async fn keep_lease(&self, id: &str, claim: &str) {
        loop {
            let lease = self.inner.jobs.lease();
            tokio::time::sleep(lease / 3).await;
            match self.inner.db.renew_package_onboarding(id, claim, lease).await {
                Ok(()) => {}
                Err(DbError::StateChanged) => return,
                // Deleted: nothing to renew; the onboarding ends by itself and removes what
                // it unpacked meanwhile.
                Err(DbError::NotFound) => std::future::pending().await,
                // The database is away: keep going; if the lease runs out meanwhile another
                // server takes over, and the next renewal says so.
                Err(e) => tracing::warn!(package = %id, error = %e, "renewing the onboarding lease failed"),
            }
        }
    }

    /// Renews the lease before a step that must not overlap with another server's
    /// onboarding of the package (removing its files): false if the claim is gone.
    pub(crate) async fn still_held(&self, id: &str, claim: &str) -> Result<bool, DbError> {
        let lease = self.inner.jobs.lease();
        match self.inner.db.renew_package_onboarding(id, claim, lease).await {
            Ok(()) => Ok(true),
            Err(DbError::StateChanged) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Runs `task` in the background, counted by [`PackageService::drain_onboardings`].
    pub(crate) fn spawn_tracked(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.inner.jobs.spawn(task);
    }

    /// Waits up to `timeout` for this server's onboardings and downloads to end (on
    /// shutdown). Onboardings still running then give their leases up, so that another
    /// server, or this one's next start, takes them over at once.
    pub async fn drain_onboardings(&self, timeout: Duration) {
        let mut running = self.inner.jobs.running.subscribe();
        if tokio::time::timeout(timeout, running.wait_for(|n| *n == 0))
            .await
            .is_ok()
        {
            return;
        }
        let claims: Vec<(String, String)> = self
            .inner
            .jobs
            .claims()
            .iter()
            .map(|(id, claim)| (id.clone(), claim.clone()))
            .collect();
        tracing::warn!(
            onboardings = claims.len(),
            "onboardings still running at shutdown are left to the next sweep"
        );
        for (id, claim) in claims {
            if let Err(e) = self.inner.db.release_package_onboarding(&id, &claim).await {
                tracing::warn!(package = %id, error = %e, "releasing the onboarding lease failed");
            }
        }
    }

    /// How long the leases of onboardings started from now on last (renewed every third of
    /// it; default one minute). For tests that need a lease to run out quickly.
    pub fn set_onboarding_lease(&self, lease: Duration) {
        let millis = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(30);
        self.inner.jobs.lease_millis.store(millis, Ordering::Relaxed);
    }

    /// Test support: this server's onboardings stop after checking their package and
    /// before recording the result, until the returned hold is dropped: a slow onboarding.
    pub fn hold_onboardings(&self) -> OnboardingHold {
        self.inner.jobs.gate.send_replace(Gate::Held);
        OnboardingHold {
            service: self.clone(),
        }
    }

    /// Where an onboarding waits while a test holds it.
    pub(crate) async fn onboarding_gate(&self) {
        let mut gate = self.inner.jobs.gate.subscribe();
        let _ = gate.wait_for(|g| *g == Gate::Open).await;
    }
}

/// Holds a server's onboardings while it lives (see [`PackageService::hold_onboardings`]).
pub struct OnboardingHold {
    service: PackageService,
}

impl Drop for OnboardingHold {
    fn drop(&mut self) {
        self.service.inner.jobs.gate.send_replace(Gate::Open);
    }
}
