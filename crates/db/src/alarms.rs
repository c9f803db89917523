//! VNF fault management alarms. An alarm is raised and cleared in the transaction that
//! queues its notifications; one alert (Alertmanager's fingerprint) has at most one open
//! alarm per instance, which a UNIQUE key keeps true when the same alert arrives twice
//! at once.

use chrono::{DateTime, Utc};
use tacker_sol003::{AckState, ApiVersion, EventType, PerceivedSeverity};

use crate::notifications::{insert_notifications, NotificationRow};
use crate::pool::{with_pool, BeginWrite};
use crate::{Database, DbError};

/// A JSON array of strings in a TEXT column (vnfcInstanceIds, faultDetails).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextList(pub Vec<String>);

impl TryFrom<String> for TextList {
    type Error = serde_json::Error;
    fn try_from(text: String) -> Result<Self, serde_json::Error> {
        serde_json::from_str(&text).map(TextList)
    }
}

impl TextList {
    fn to_column(&self) -> String {
        serde_json::Value::from(self.0.clone()).to_string()
    }
}

/// One row of `vnffm_alarms`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlarmRow {
    pub id: String,
    /// The project of the instance the alarm is about.
    pub tenant_id: String,
    pub managed_object_id: String,
    /// The LCM API of the instance.
    #[sqlx(try_from = "String")]
    pub managed_object_api: ApiVersion,
    pub fingerprint: String,
    #[sqlx(try_from = "String")]
    pub vnfc_instance_ids: TextList,
    pub alarm_raised_time: DateTime<Utc>,
    pub alarm_changed_time: Option<DateTime<Utc>>,
    pub alarm_cleared_time: Option<DateTime<Utc>>,
    pub alarm_acknowledged_time: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    pub ack_state: AckState,
    #[sqlx(try_from = "String")]
    pub perceived_severity: PerceivedSeverity,
    pub event_time: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub event_type: EventType,
    pub fault_type: Option<String>,
    pub probable_cause: String,
    pub is_root_cause: bool,
    #[sqlx(try_from = "String")]
    pub fault_details: TextList,
}

const ALARM_COLUMNS: &str =
    "id, tenant_id, managed_object_id, managed_object_api, fingerprint, vnfc_instance_ids, \
    alarm_raised_time, alarm_changed_time, alarm_cleared_time, alarm_acknowledged_time, ack_state, \
    perceived_severity, event_time, event_type, fault_type, probable_cause, is_root_cause, fault_details";

impl Database {
    /// Raises `alarm` with its notifications, unless its alert already has an open alarm
    /// on the instance: then nothing is written and the answer is false.
    pub async fn raise_alarm(
        &self,
        alarm: &AlarmRow,
        notifications: &[NotificationRow],
    ) -> Result<bool, DbError> {
        let sql = format!(
            "INSERT INTO vnffm_alarms ({ALARM_COLUMNS}, open_fingerprint) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let inserted: Result<(), DbError> = with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&q(&sql))
                .bind(&alarm.id)
                .bind(&alarm.tenant_id)
                .bind(&alarm.managed_object_id)
                .bind(alarm.managed_object_api.as_str())
                .bind(&alarm.fingerprint)
                .bind(alarm.vnfc_instance_ids.to_column())
                .bind(alarm.alarm_raised_time)
                .bind(alarm.alarm_changed_time)
                .bind(alarm.alarm_cleared_time)
                .bind(alarm.alarm_acknowledged_time)
                .bind(alarm.ack_state.as_str())
                .bind(alarm.perceived_severity.as_str())
                .bind(alarm.event_time)
                .bind(alarm.event_type.as_str())
                .bind(&alarm.fault_type)
                .bind(&alarm.probable_cause)
                .bind(alarm.is_root_cause)
                .bind(alarm.fault_details.to_column())
                .bind(alarm.alarm_cleared_time.is_none().then_some(&alarm.fingerprint))
                .execute(&mut *tx)
                .await?;
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(())
        }
        .await);
        match inserted {
            Ok(()) => Ok(true),
            Err(DbError::Sqlx(e)) if DbError::is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The open alarm `fingerprint` raised on an instance, if any.
    pub async fn open_alarm(
        &self,
        managed_object_id: &str,
        fingerprint: &str,
    ) -> Result<Option<AlarmRow>, DbError> {
        let sql = format!(
            "SELECT {ALARM_COLUMNS} FROM vnffm_alarms WHERE managed_object_id = ? AND open_fingerprint = ?"
        );
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, AlarmRow>(&q(&sql))
                .bind(managed_object_id)
                .bind(fingerprint)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Clears an open alarm with its notifications: false when it was cleared meanwhile
    /// (nothing written then).
    pub async fn clear_alarm(
        &self,
        id: &str,
        cleared_time: DateTime<Utc>,
        now: DateTime<Utc>,
        notifications: &[NotificationRow],
    ) -> Result<bool, DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            let cleared = sqlx::query(&q(
                "UPDATE vnffm_alarms SET alarm_cleared_time = ?, alarm_changed_time = ?, open_fingerprint = NULL \
                 WHERE id = ? AND open_fingerprint IS NOT NULL",
            ))
            .bind(cleared_time)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if cleared.rows_affected() == 0 {
                return Ok(false);
            }
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(true)
        }
        .await)
    }

    pub async fn get_alarm(&self, id: &str) -> Result<Option<AlarmRow>, DbError> {
        let sql = format!("SELECT {ALARM_COLUMNS} FROM vnffm_alarms WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, AlarmRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Alarms, oldest first, of one project or (`None`) of all.
    pub async fn list_alarms(&self, tenant_id: Option<&str>) -> Result<Vec<AlarmRow>, DbError> {
        let tenant = if tenant_id.is_some() {
            " WHERE tenant_id = ?"
        } else {
            ""
        };
        let sql = format!("SELECT {ALARM_COLUMNS} FROM vnffm_alarms{tenant} ORDER BY alarm_raised_time, id");
        Ok(with_pool!(self, pool, q => {
            let sql = q(&sql);
            let mut query = sqlx::query_as::<_, AlarmRow>(&sql);
            if let Some(tenant_id) = tenant_id {
                query = query.bind(tenant_id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Moves an alarm's ackState from `from` to `to` (stamping `acknowledged_at`):
    /// `StateChanged` when it is no longer `from`, `NotFound` when it is gone.
    pub async fn set_alarm_ack(
        &self,
        id: &str,
        from: AckState,
        to: AckState,
        acknowledged_at: Option<DateTime<Utc>>,
    ) -> Result<(), DbError> {
        let changed = with_pool!(self, pool, q => {
            sqlx::query(&q(
                "UPDATE vnffm_alarms SET ack_state = ?, alarm_acknowledged_time = ? WHERE id = ? AND ack_state = ?",
            ))
            .bind(to.as_str())
            .bind(acknowledged_at)
            .bind(id)
            .bind(from.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if changed == 1 {
            return Ok(());
        }
        match self.get_alarm(id).await? {
            Some(_) => Err(DbError::StateChanged),
            None => Err(DbError::NotFound),
        }
    }
}
