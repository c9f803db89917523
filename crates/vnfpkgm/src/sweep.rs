//! The sweep every server runs, at start-up and then every minute: onboardings whose lease
//! ran out (their server stopped) are taken over and run again from the stored zip, uploads
//! that never finished are handed back, and staging leftovers go.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use tacker_db::StoredJson;

use crate::error::Result;
use crate::jobs::new_claim;
use crate::onboarding::Failure;
use crate::service::PackageService;

/// How often interrupted onboardings are looked for (the first sweep runs at once).
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

impl PackageService {
    /// Sweeps at once and then every [`SWEEP_INTERVAL`] until the task is dropped.
    pub async fn sweep_interrupted_onboardings(self) {
        let mut interval = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(e) = self.sweep_once().await {
                tracing::warn!(error = %e, "sweeping interrupted onboardings failed");
            }
        }
    }

    /// One sweep; returns how many packages it took over (resumed or handed back).
    pub async fn sweep_once(&self) -> Result<usize> {
        let timeout = self.inner.settings.onboarding_timeout;
        let mut handled = 0;
        let deadline = Utc::now() - chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX);
        for id in self.inner.db.interrupted_uploads(deadline).await? {
            let detail = "onboarding was interrupted (the server stopped, or it took longer than [vnf_package] onboarding_timeout); upload the package again";
            self.fail(&id, Failure::new(500, detail)).await;
            handled += 1;
        }
        for id in self.inner.db.expired_onboardings().await? {
            // One of ours whose renewals failed (the database was away): it goes on, and
            // learns at its next renewal whether another server took it over.
            if self.inner.jobs.runs(&id) {
                continue;
            }
            let claim = new_claim();
            let lease = self.inner.jobs.lease();
            // A conditional UPDATE: of several servers sweeping, one takes it.
            if self.inner.db.claim_expired_onboarding(&id, &claim, lease).await? {
                handled += 1;
                self.resume(id, claim).await?;
            }
        }
        self.inner.store.clean_staging(timeout).await?;
        Ok(handled)
    }

    /// Runs a taken-over onboarding again, unless its zip is gone or it has been going on
    /// for longer than `onboarding_timeout` (a package that stops every server that tries
    /// it is handed back, not tried for ever).
    async fn resume(&self, id: String, claim: String) -> Result<()> {
        let Some(row) = self.inner.db.get_package(&id).await? else {
            return Ok(());
        };
        let timeout = self.inner.settings.onboarding_timeout;
        let expired = row.onboarding_started_at.is_some_and(|started| {
            Utc::now() - started > chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX)
        });
        let failure = if !self.inner.store.has_content(&id).await? {
            Some("onboarding was interrupted (the server stopped) and the uploaded package is gone; upload the package again")
        } else if expired {
            Some("onboarding was interrupted (the server stopped) and did not finish within [vnf_package] onboarding_timeout; upload the package again")
        } else {
            None
        };
        if let Some(detail) = failure {
            self.fail_onboarding(&id, &claim, Failure::new(500, detail)).await;
            return Ok(());
        }
        let checksum = match row.checksum.as_ref().map(StoredJson::to_value) {
            Some(checksum) => checksum,
            // Taken over from a server of a version that recorded it only at the end.
            None => match self.content_checksum(&id).await {
                Ok(checksum) => checksum,
                Err(e) => {
                    tracing::error!(package = %id, error = %e, "the stored package could not be read");
                    let failure = Failure::new(500, "the package could not be read (storage error)");
                    self.fail_onboarding(&id, &claim, failure).await;
                    return Ok(());
                }
            },
        };
        tracing::info!(package = %id, "resuming an interrupted onboarding");
        self.spawn_onboarding(id, claim, checksum);
        Ok(())
    }

    async fn content_checksum(&self, id: &str) -> Result<Value, tacker_pkgstore::StoreError> {
        let algorithm = self.inner.settings.checksum_algorithm;
        let hash = self.inner.store.content_digest(id, algorithm).await?;
        Ok(json!({"algorithm": self.inner.settings.checksum_algorithm_name, "hash": hash}))
    }
}
