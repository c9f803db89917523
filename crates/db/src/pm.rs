//! VNF performance management: PM jobs with their reports, and thresholds. Each job and
//! threshold is stored together with the subscription row (same id) that carries its
//! callback and authentication; deleting that row deletes the job or threshold, its
//! reports and its queued notifications.

use chrono::{DateTime, Utc};

use crate::notifications::{insert_notifications, insert_subscription, NotificationRow, SubscriptionRow};
use crate::pool::{with_pool, BeginWrite};
use crate::StoredJson;
use crate::{Database, DbError};

/// One row of `vnfpm_jobs`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PmJobRow {
    pub id: String,
    pub tenant_id: String,
    pub object_type: String,
    pub object_instance_ids: StoredJson,
    pub sub_object_instance_ids: Option<StoredJson>,
    pub criteria: StoredJson,
    /// The request's metadata, SSH passwords encrypted.
    pub metadata: Option<StoredJson>,
    pub created_at: DateTime<Utc>,
}

/// One row of `vnfpm_reports`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PmReportRow {
    pub id: String,
    pub job_id: String,
    pub entries: StoredJson,
    pub ready_time: DateTime<Utc>,
}

/// One row of `vnfpm_thresholds`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ThresholdRow {
    pub id: String,
    pub tenant_id: String,
    pub object_type: String,
    pub object_instance_id: String,
    pub sub_object_instance_ids: Option<StoredJson>,
    pub criteria: StoredJson,
    pub metadata: Option<StoredJson>,
    /// The last value seen per sub-object ("" for the object itself).
    pub crossing_state: StoredJson,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
}

const JOB_COLUMNS: &str = "id, tenant_id, object_type, object_instance_ids, sub_object_instance_ids, criteria, metadata, created_at";
const THRESHOLD_COLUMNS: &str =
    "id, tenant_id, object_type, object_instance_id, sub_object_instance_ids, criteria, \
    metadata, crossing_state, revision, created_at";

impl Database {
    /// Stores a PM job with its subscription row, in one transaction.
    pub async fn insert_pm_job(&self, subscription: &SubscriptionRow, job: &PmJobRow) -> Result<(), DbError> {
        let sql = format!("INSERT INTO vnfpm_jobs ({JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            insert_subscription!(tx, q, subscription);
            sqlx::query(&q(&sql))
                .bind(&job.id)
                .bind(&job.tenant_id)
                .bind(&job.object_type)
                .bind(&job.object_instance_ids)
                .bind(&job.sub_object_instance_ids)
                .bind(&job.criteria)
                .bind(&job.metadata)
                .bind(job.created_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    pub async fn get_pm_job(&self, id: &str) -> Result<Option<PmJobRow>, DbError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM vnfpm_jobs WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, PmJobRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    /// PM jobs, oldest first, of one project or (`None`) of all.
    pub async fn list_pm_jobs(&self, tenant_id: Option<&str>) -> Result<Vec<PmJobRow>, DbError> {
        let tenant = if tenant_id.is_some() {
            " WHERE tenant_id = ?"
        } else {
            ""
        };
        let sql = format!("SELECT {JOB_COLUMNS} FROM vnfpm_jobs{tenant} ORDER BY created_at, id");
        Ok(with_pool!(self, pool, q => {
            let sql = q(&sql);
            let mut query = sqlx::query_as::<_, PmJobRow>(&sql);
            if let Some(tenant_id) = tenant_id {
                query = query.bind(tenant_id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Stores a report with its notifications; `StateChanged` when its job was deleted.
    pub async fn insert_pm_report(
        &self,
        report: &PmReportRow,
        notifications: &[NotificationRow],
    ) -> Result<(), DbError> {
        let inserted = with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            // Selected from the job, so a job deleted meanwhile gets no report.
            let inserted = sqlx::query(&q(
                "INSERT INTO vnfpm_reports (id, job_id, entries, ready_time) \
                 SELECT ?, id, ?, ? FROM vnfpm_jobs WHERE id = ?",
            ))
            .bind(&report.id)
            .bind(&report.entries)
            .bind(report.ready_time)
            .bind(&report.job_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(false);
            }
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok::<_, DbError>(true)
        }
        .await)?;
        if inserted {
            Ok(())
        } else {
            Err(DbError::StateChanged)
        }
    }

    /// A job's reports, oldest first.
    pub async fn list_pm_reports(&self, job_id: &str) -> Result<Vec<PmReportRow>, DbError> {
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, PmReportRow>(&q(
                "SELECT id, job_id, entries, ready_time FROM vnfpm_reports WHERE job_id = ? ORDER BY ready_time, id",
            ))
            .bind(job_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Changes where a PM job's or threshold's notifications go.
    pub async fn update_subscription_target(
        &self,
        id: &str,
        callback_uri: &str,
        authentication: Option<&StoredJson>,
    ) -> Result<(), DbError> {
        let changed = with_pool!(self, pool, q => {
            sqlx::query(&q("UPDATE lcm_subscriptions SET callback_uri = ?, authentication = ? WHERE id = ?"))
                .bind(callback_uri)
                .bind(authentication)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Stores a threshold with its subscription row, in one transaction.
    pub async fn insert_threshold(
        &self,
        subscription: &SubscriptionRow,
        threshold: &ThresholdRow,
    ) -> Result<(), DbError> {
        let sql = format!(
            "INSERT INTO vnfpm_thresholds ({THRESHOLD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            insert_subscription!(tx, q, subscription);
            sqlx::query(&q(&sql))
                .bind(&threshold.id)
                .bind(&threshold.tenant_id)
                .bind(&threshold.object_type)
                .bind(&threshold.object_instance_id)
                .bind(&threshold.sub_object_instance_ids)
                .bind(&threshold.criteria)
                .bind(&threshold.metadata)
                .bind(&threshold.crossing_state)
                .bind(threshold.revision)
                .bind(threshold.created_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    pub async fn get_threshold(&self, id: &str) -> Result<Option<ThresholdRow>, DbError> {
        let sql = format!("SELECT {THRESHOLD_COLUMNS} FROM vnfpm_thresholds WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, ThresholdRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    pub async fn list_thresholds(&self, tenant_id: Option<&str>) -> Result<Vec<ThresholdRow>, DbError> {
        let tenant = if tenant_id.is_some() {
            " WHERE tenant_id = ?"
        } else {
            ""
        };
        let sql = format!("SELECT {THRESHOLD_COLUMNS} FROM vnfpm_thresholds{tenant} ORDER BY created_at, id");
        Ok(with_pool!(self, pool, q => {
            let sql = q(&sql);
            let mut query = sqlx::query_as::<_, ThresholdRow>(&sql);
            if let Some(tenant_id) = tenant_id {
                query = query.bind(tenant_id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Records a threshold's new crossing state with its notifications, if its revision
    /// is still `revision`: false when another alert changed it first (read and retry).
    pub async fn update_threshold_state(
        &self,
        id: &str,
        revision: i32,
        crossing_state: &StoredJson,
        notifications: &[NotificationRow],
    ) -> Result<bool, DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(&q(
                "UPDATE vnfpm_thresholds SET crossing_state = ?, revision = revision + 1 WHERE id = ? AND revision = ?",
            ))
            .bind(crossing_state)
            .bind(id)
            .bind(revision)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(true)
        }
        .await)
    }
}
