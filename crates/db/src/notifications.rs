//! LCM subscriptions and the notification outbox. Notifications are inserted in the
//! transaction that makes the change they report, and deleted once delivered; delivery
//! workers claim them with a lease, as conductors claim operations.

use chrono::{DateTime, Utc};
use tacker_sol003::SubscriptionApi;

use crate::counters::Counter;
use crate::pool::{bump_revision, with_pool, BeginWrite};
use crate::{Database, DbError, StoredJson};

/// One row of `lcm_subscriptions`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: String,
    pub tenant_id: String,
    #[sqlx(try_from = "String")]
    pub api_version: SubscriptionApi,
    pub callback_uri: String,
    /// LccnSubscriptionFilter.
    pub filter: Option<StoredJson>,
    pub verbosity: String,
    /// SubscriptionAuthentication, secrets encrypted.
    pub authentication: Option<StoredJson>,
    pub created_at: DateTime<Utc>,
}

/// One notification waiting for delivery.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub subscription_id: String,
    pub notification_type: String,
    /// The JSON body, sent as written: an outbox row is delivered, never read as a document.
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub(crate) const SUBSCRIPTION_COLUMNS: &str =
    "id, tenant_id, api_version, callback_uri, filter, verbosity, authentication, created_at";
const NOTIFICATION_COLUMNS: &str =
    "id, subscription_id, notification_type, payload, attempts, next_attempt_at, \
    claimed_by, lease_until, last_error, created_at";

/// Inserts outbox rows inside a `with_pool!` transaction. A row whose subscription was
/// deleted meanwhile is skipped (selected from the subscription itself), so a concurrent
/// unsubscribe never fails the change the notification reports.
macro_rules! insert_notifications {
    ($tx:ident, $q:ident, $rows:expr) => {
        for row in $rows {
            sqlx::query(&$q(
                "INSERT INTO lcm_notifications (id, subscription_id, notification_type, payload, attempts, \
                 next_attempt_at, claimed_by, lease_until, last_error, created_at) \
                 SELECT ?, id, ?, ?, ?, ?, ?, ?, ?, ? FROM lcm_subscriptions WHERE id = ?",
            ))
            .bind(&row.id)
            .bind(&row.notification_type)
            .bind(&row.payload)
            .bind(row.attempts)
            .bind(row.next_attempt_at)
            .bind(&row.claimed_by)
            .bind(row.lease_until)
            .bind(&row.last_error)
            .bind(row.created_at)
            .bind(&row.subscription_id)
            .execute(&mut *$tx)
            .await?;
        }
    };
}

pub(crate) use insert_notifications;

/// Inserts a subscription row inside a `with_pool!` transaction.
macro_rules! insert_subscription {
    ($tx:ident, $q:ident, $row:expr) => {{
        let row: &$crate::notifications::SubscriptionRow = $row;
        sqlx::query(&$q(&format!(
            "INSERT INTO lcm_subscriptions ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            $crate::notifications::SUBSCRIPTION_COLUMNS
        )))
        .bind(&row.id)
        .bind(&row.tenant_id)
        .bind(row.api_version.as_str())
        .bind(&row.callback_uri)
        .bind(&row.filter)
        .bind(&row.verbosity)
        .bind(&row.authentication)
        .bind(row.created_at)
        .execute(&mut *$tx)
        .await?;
    }};
}

pub(crate) use insert_subscription;

impl Database {
    pub async fn insert_subscription(&self, row: &SubscriptionRow) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            insert_subscription!(tx, q, row);
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    pub async fn get_subscription(&self, id: &str) -> Result<Option<SubscriptionRow>, DbError> {
        let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM lcm_subscriptions WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, SubscriptionRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Subscriptions of one API (every tenant's when `tenant_id` is `None`).
    pub async fn list_subscriptions(
        &self,
        api_version: impl Into<SubscriptionApi>,
        tenant_id: Option<&str>,
    ) -> Result<Vec<SubscriptionRow>, DbError> {
        let api_version = api_version.into();
        let tenant = if tenant_id.is_some() {
            " AND tenant_id = ?"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM lcm_subscriptions WHERE api_version = ?{tenant} ORDER BY created_at, id"
        );
        Ok(with_pool!(self, pool, q => {
            let sql = q(&sql);
            let mut query = sqlx::query_as::<_, SubscriptionRow>(&sql).bind(api_version.as_str());
            if let Some(tenant_id) = tenant_id {
                query = query.bind(tenant_id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Deletes a subscription and whatever is still queued for it.
    pub async fn delete_subscription(&self, id: &str) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            sqlx::query(&q("DELETE FROM lcm_notifications WHERE subscription_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query(&q("DELETE FROM lcm_subscriptions WHERE id = ?")).bind(id).execute(&mut *tx).await?;
            if deleted.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Claims up to `limit` notifications due at `now` with no live claim, for `holder`.
    /// The lease ends `lease` after the moment the database writes it, by its own clock
    /// (a worker that waited long for a connection still gets a whole lease).
    pub async fn claim_notifications(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, DbError> {
        let clock = self.clock();
        let free = format!("(lease_until IS NULL OR lease_until < {})", clock.now);
        let candidates: Vec<String> = with_pool!(self, pool, q => {
            sqlx::query_scalar(&q(&format!(
                "SELECT id FROM lcm_notifications WHERE next_attempt_at <= ? AND {free} \
                 ORDER BY created_at LIMIT ?"
            )))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let lease_micros = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        let mut claimed = Vec::new();
        for id in candidates {
            let won = with_pool!(self, pool, q => {
                sqlx::query(&q(&format!(
                    "UPDATE lcm_notifications SET claimed_by = ?, lease_until = {} WHERE id = ? AND {free}",
                    clock.later
                )))
                .bind(holder)
                .bind(lease_micros)
                .bind(&id)
                .execute(pool)
                .await?
                .rows_affected()
                    == 1
            });
            if won {
                let sql = format!("SELECT {NOTIFICATION_COLUMNS} FROM lcm_notifications WHERE id = ?");
                let row = with_pool!(self, pool, q => {
                    sqlx::query_as::<_, NotificationRow>(&q(&sql)).bind(&id).fetch_optional(pool).await?
                });
                claimed.extend(row);
            }
        }
        Ok(claimed)
    }

    /// The subscriber took the notification.
    pub async fn notification_delivered(&self, id: &str) -> Result<(), DbError> {
        with_pool!(self, pool, q => {
            sqlx::query(&q("DELETE FROM lcm_notifications WHERE id = ?")).bind(id).execute(pool).await?;
        });
        Ok(())
    }

    /// Delivery failed: try again at `next_attempt_at`. Only while `holder` still holds
    /// the claim: a worker that overran its lease must not clear its successor's claim.
    pub async fn notification_failed(
        &self,
        id: &str,
        holder: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => {
            sqlx::query(&q(
                "UPDATE lcm_notifications SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, \
                 claimed_by = NULL, lease_until = NULL WHERE id = ? AND claimed_by = ?",
            ))
            .bind(next_attempt_at)
            .bind(error)
            .bind(id)
            .bind(holder)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Gives up on a notification after its last attempt.
    pub async fn drop_notification(&self, id: &str) -> Result<(), DbError> {
        self.notification_delivered(id).await
    }
}
