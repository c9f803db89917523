//! The delivery loop over the outbox (`lcm_notifications`): claim what is due with a
//! lease, send, delete on success, reschedule with backoff on failure, drop after the last
//! attempt. A worker that dies leaves its claims to expire; another worker then sends
//! them again, so every notification is delivered at least once.
//!
//! Within a round a subscriber's notifications go one after the other, oldest first (so
//! STARTING comes before PROCESSING when both are due); different subscribers are served
//! concurrently. When a subscriber cannot be reached at all, the rest of its notifications
//! in that round wait for their next attempt instead of each waiting for a timeout.

use std::future::Future;
use std::sync::Arc;
use tracing::Instrument;

use chrono::{DateTime, TimeDelta, Utc};
use futures::{FutureExt, StreamExt};
use tacker_crypto::KeyVault;
use tacker_db::notifications::NotificationRow;
use tacker_db::Database;

use crate::error::{DeliveryError, NotifyError};
use crate::sender::Notifier;
use crate::settings::NotificationSettings;
use crate::subscriber::Subscriber;

/// `last_error` is kept short: it is for operators, the log has the rest.
const MAX_ERROR_LEN: usize = 1000;

/// Delivers the outbox; several may run side by side on one database.
pub struct DeliveryWorker {
    db: Database,
    vault: KeyVault,
    notifier: Arc<dyn Notifier>,
    settings: NotificationSettings,
    holder: String,
}

fn delta(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

impl DeliveryWorker {
    /// `holder` names this worker in the claims it takes (at most 64 characters, unique
    /// among the running workers, e.g. `<host>:<pid>:notify`).
    pub fn new(
        db: Database,
        vault: KeyVault,
        notifier: Arc<dyn Notifier>,
        settings: NotificationSettings,
        holder: impl Into<String>,
    ) -> Self {
        if settings.lease < settings.worst_case_send() {
            tracing::warn!(
                lease = ?settings.lease,
                timeout = ?settings.timeout,
                "notification lease is shorter than a slow delivery may take: another worker may send the same notification again"
            );
        }
        DeliveryWorker {
            db,
            vault,
            notifier,
            settings,
            holder: holder.into(),
        }
    }

    /// One round: claims the due notifications (at most `batch_size`), delivers them and
    /// records each outcome. Returns how many were claimed.
    pub async fn run_once(&self) -> Result<usize, NotifyError> {
        let claimed = self
            .db
            .claim_notifications(
                &self.holder,
                Utc::now(),
                self.settings.lease,
                i64::from(self.settings.batch_size.max(1)),
            )
            .await?;
        let count = claimed.len();
        if count == 0 {
            return Ok(0);
        }
        tracing::debug!(count, holder = %self.holder, "claimed notifications");
        let outcomes: Vec<Result<(), NotifyError>> = futures::stream::iter(by_subscription(claimed))
            .map(|(subscription_id, rows)| self.deliver_to(subscription_id, rows))
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        // A database failure leaves the affected claims to expire: they are sent again.
        outcomes.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(count)
    }

    /// Rounds until `shutdown` completes: back to back while the outbox is full, else one
    /// every `poll_interval`. A round in progress is finished first.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tracing::info!(holder = %self.holder, "notification delivery started");
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let more = match self.run_once().await {
                Ok(count) => count >= self.settings.batch_size.max(1) as usize,
                Err(e) => {
                    tracing::warn!(error = %e, "notification round failed");
                    false
                }
            };
            if more {
                if shutdown.as_mut().now_or_never().is_some() {
                    break;
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.as_mut() => break,
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
        tracing::info!(holder = %self.holder, "notification delivery stopped");
    }

    /// Delivers one subscriber's claimed notifications, oldest first.
    async fn deliver_to(
        &self,
        subscription_id: String,
        rows: Vec<NotificationRow>,
    ) -> Result<(), NotifyError> {
        let Some(subscription) = self.db.get_subscription(&subscription_id).await? else {
            for row in rows {
                tracing::info!(notification = %row.id, subscription = %subscription_id, "subscription is gone; notification dropped");
                self.db.drop_notification(&row.id).await?;
            }
            return Ok(());
        };
        let subscriber = match Subscriber::from_row(&subscription, &self.vault) {
            Ok(subscriber) => subscriber,
            Err(e) => {
                for row in &rows {
                    self.failed(row, &e.to_string()).await?;
                }
                return Ok(());
            }
        };
        let mut unreachable: Option<String> = None;
        for row in rows {
            if let Some(why) = &unreachable {
                self.failed(
                    &row,
                    &format!("not attempted, the subscriber was unreachable: {why}"),
                )
                .await?;
                continue;
            }
            let span = tracing::info_span!(
                "delivery",
                notification = %row.id,
                subscription = %subscription_id,
                kind = %row.notification_type,
            );
            let outcome = async {
                match self.notifier.notify(&subscriber, &row.payload).await {
                    Ok(()) => {
                        tracing::debug!("notification delivered");
                        self.db.notification_delivered(&row.id).await?;
                        Ok(None)
                    }
                    Err(e) => {
                        let message = e.to_string();
                        self.failed(&row, &message).await?;
                        Ok::<_, NotifyError>(DeliveryError::is_unreachable(&e).then_some(message))
                    }
                }
            }
            .instrument(span)
            .await?;
            if outcome.is_some() {
                unreachable = outcome;
            }
        }
        Ok(())
    }

    /// Records a failed attempt: reschedules with backoff, or drops after the last one.
    async fn failed(&self, row: &NotificationRow, error: &str) -> Result<(), NotifyError> {
        let attempts = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
        if attempts >= self.settings.max_attempts {
            tracing::warn!(
                notification = %row.id,
                subscription = %row.subscription_id,
                kind = %row.notification_type,
                attempts,
                error,
                "notification dropped after its last attempt"
            );
            self.db.drop_notification(&row.id).await?;
            return Ok(());
        }
        let delay = self.settings.backoff(attempts);
        let next: DateTime<Utc> = Utc::now() + delta(delay);
        tracing::warn!(
            notification = %row.id,
            subscription = %row.subscription_id,
            kind = %row.notification_type,
            attempts,
            retry_in = ?delay,
            error,
            "notification not delivered; will retry"
        );
        self.db
            .notification_failed(&row.id, &self.holder, next, &truncate(error.to_string()))
            .await?;
        Ok(())
    }
}

/// Claimed rows grouped by subscription, groups and rows in claim order (oldest first).
fn by_subscription(rows: Vec<NotificationRow>) -> Vec<(String, Vec<NotificationRow>)> {
    let mut groups: Vec<(String, Vec<NotificationRow>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(id, _)| *id == row.subscription_id) {
            Some((_, group)) => group.push(row),
            None => groups.push((row.subscription_id.clone(), vec![row])),
        }
    }
    groups
}
