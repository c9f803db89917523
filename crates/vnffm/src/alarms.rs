//! `GET /alarms`, `GET /alarms/{id}` and `PATCH /alarms/{id}` (acknowledge).

use chrono::Utc;
use serde_json::Value;
use tacker_common::RequestContext;
use tacker_db::alarms::AlarmRow;
use tacker_db::DbError;
use tacker_lcm::requests::parse;
use tacker_lcm::{LcmError, Page, Result};
use tacker_sol003::AckState;
use tacker_sol013::ListQuery;

use crate::requests::AlarmModifications;
use crate::views;
use crate::FmService;

impl FmService {
    pub async fn list_alarms(&self, ctx: &RequestContext, query: &ListQuery) -> Result<Page> {
        let (own, limit) = Self::scope(ctx);
        self.authorize(ctx, "index", &own)?;
        let rows = self.inner.db.list_alarms(limit.as_deref()).await?;
        let views = rows.iter().map(|r| (r.id.clone(), views::alarm(r))).collect();
        self.page(views, query, &views::ALARM)
    }

    pub async fn show_alarm(&self, ctx: &RequestContext, id: &str) -> Result<Value> {
        Ok(views::alarm(&self.visible_alarm(ctx, id, "show").await?))
    }

    /// `PATCH /alarms/{id}`: sets ackState and answers with the modifications, as Tacker
    /// does. Asking for the state the alarm is already in is a 409.
    pub async fn acknowledge(&self, ctx: &RequestContext, id: &str, body: Option<Value>) -> Result<Value> {
        let request: AlarmModifications = parse(body.as_ref())?;
        let alarm = self.visible_alarm(ctx, id, "update").await?;
        let to = request.ack_state;
        if alarm.ack_state == to {
            return Err(LcmError::Conflict(
                "The ackState of alarm cannot specify the same value.".into(),
            ));
        }
        let acknowledged_at = (to == AckState::Acknowledged).then(Utc::now);
        self.inner
            .db
            .set_alarm_ack(id, alarm.ack_state, to, acknowledged_at)
            .await
            .map_err(|e| match e {
                DbError::StateChanged => {
                    LcmError::Conflict("The ackState of alarm cannot specify the same value.".into())
                }
                DbError::NotFound => alarm_not_found(id),
                other => other.into(),
            })?;
        tracing::info!(alarm = %id, ack_state = %to, "alarm acknowledgement changed");
        Ok(serde_json::json!({"ackState": to}))
    }

    async fn visible_alarm(&self, ctx: &RequestContext, id: &str, action: &str) -> Result<AlarmRow> {
        let alarm = match self.inner.db.get_alarm(id).await? {
            Some(alarm) if ctx.can_see_tenant(&alarm.tenant_id) => alarm,
            _ => return Err(alarm_not_found(id)),
        };
        self.authorize(ctx, action, &alarm.tenant_id)?;
        Ok(alarm)
    }
}

fn alarm_not_found(id: &str) -> LcmError {
    LcmError::NotFound(format!("Alarm {id} not found."))
}
