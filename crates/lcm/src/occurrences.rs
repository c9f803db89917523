//! Operation occurrences: list, show, and the error-handling operations (retry, rollback,
//! fail) on an occurrence in FAILED_TEMP, and cancel of a running one.

use chrono::Utc;
use serde_json::{json, Value};
use tacker_common::RequestContext;
use tacker_db::instances::OpOccRow;
use tacker_db::DbError;
use tacker_sol013::ListQuery;

use crate::attributes;
use crate::error::{LcmError, Result};
use crate::model::{ApiVersion, OpState, PendingAction};
use crate::requests::{self, CancelRequest};
use crate::service::{never_shown, LcmService, Listed, Page};
use crate::views;

/// What a list of occurrences leaves out unless asked for (SOL003 5.4.12.3.2).
const OP_OCC_DEFAULT_EXCLUDED: &[&str] = &[
    "operationParams",
    "error",
    "resourceChanges",
    "changedInfo",
    "changedExtConnectivity",
];

impl LcmService {
    pub async fn list_op_occs(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        query: &ListQuery,
    ) -> Result<Page> {
        let scope = self.list_scope(ctx, api, Listed::OpOccs)?;
        let rows = self.inner.db.list_op_occs(api, scope.as_deref()).await?;
        let left_out = never_shown(query, OP_OCC_DEFAULT_EXCLUDED);
        let views = rows
            .iter()
            .map(|r| (r.id.clone(), views::op_occ_without(r, left_out)))
            .collect();
        self.page(
            views,
            query,
            match api {
                ApiVersion::V1 => &attributes::VNF_LCM_OP_OCC_V1,
                ApiVersion::V2 => &attributes::VNF_LCM_OP_OCC_V2,
            },
            &views::mandatory(views::Resource::OpOcc, api),
            OP_OCC_DEFAULT_EXCLUDED,
        )
    }

    pub async fn show_op_occ(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<Value> {
        Ok(views::op_occ(
            &self
                .visible_op_occ(ctx, api, id, ("show_lcm_op_occs", "lcm_op_occ_show"))
                .await?,
        ))
    }

    /// `POST .../retry`: a conductor runs the operation again.
    pub async fn retry(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<()> {
        self.requeue(ctx, api, id, ("retry", "lcm_op_occ_retry"), PendingAction::Retry)
            .await
    }

    /// `POST .../rollback`: a conductor undoes what the operation did.
    pub async fn rollback(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<()> {
        self.requeue(
            ctx,
            api,
            id,
            ("rollback", "lcm_op_occ_rollback"),
            PendingAction::Rollback,
        )
        .await
    }

    async fn requeue(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        id: &str,
        action: (&str, &str),
        pending: PendingAction,
    ) -> Result<()> {
        let op = self.visible_op_occ(ctx, api, id, action).await?;
        require_failed_temp(&op)?;
        self.inner
            .db
            .request_op_action(
                id,
                OpState::FailedTemp,
                OpState::FailedTemp,
                Some(pending.as_str()),
                None,
                false,
                Utc::now(),
                &[],
            )
            .await
            .map_err(|e| changed(e, &op))?;
        self.queued(true);
        Ok(())
    }

    /// `POST .../fail`: FAILED_TEMP → FAILED at once; the instance is released.
    pub async fn fail(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<Value> {
        let op = self
            .visible_op_occ(ctx, api, id, ("fail", "lcm_op_occ_fail"))
            .await?;
        require_failed_temp(&op)?;
        let now = Utc::now();
        let mut failed = op.clone();
        failed.operation_state = OpState::Failed;
        failed.state_entered_time = now;
        let instance = self.inner.db.get_instance(&op.vnf_instance_id).await?;
        let notifications = match &instance {
            Some(instance) => {
                let subscriptions = self.subscriptions(&op.tenant_id, api).await?;
                self.inner.notifier.op_occ(&subscriptions, instance, &failed, now)
            }
            None => Vec::new(),
        };
        self.inner
            .db
            .request_op_action(
                id,
                OpState::FailedTemp,
                OpState::Failed,
                None,
                None,
                true,
                now,
                &notifications,
            )
            .await
            .map_err(|e| changed(e, &op))?;
        self.queued(!notifications.is_empty());
        let row = self
            .inner
            .db
            .get_op_occ(id)
            .await?
            .ok_or_else(|| op_not_found(id))?;
        Ok(views::op_occ(&row))
    }

    /// `POST .../cancel` (v1): an operation no conductor has taken yet is rolled back at
    /// once; a running one (STARTING, PROCESSING, ROLLING_BACK) is marked for its
    /// conductor, which stops it (GRACEFUL: before its next call to the VIM; FORCEFUL: at
    /// once) and leaves it FAILED_TEMP for retry, rollback or fail.
    pub async fn cancel(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        id: &str,
        body: Option<Value>,
    ) -> Result<()> {
        let request: CancelRequest = match &body {
            None => CancelRequest::default(),
            body => requests::parse(body.as_ref())?,
        };
        let op = self.visible_op_occ(ctx, api, id, ("cancel", "cancel")).await?;
        if !op.operation_state.is_running() {
            return Err(LcmError::Conflict(format!(
                "Cancel operation in state {} is not allowed.",
                op.operation_state
            )));
        }
        if op.operation_state == OpState::Starting && op.claimed_by.is_none() {
            match self.cancel_unstarted(api, &op).await {
                // A conductor took it meanwhile: it is cancelled as a running one.
                Err(LcmError::Conflict(_)) => {}
                done => return done,
            }
        }
        self.inner
            .db
            .request_op_cancel(id, request.cancel_mode, Utc::now())
            .await
            .map_err(|e| match e {
                DbError::StateChanged => LcmError::Conflict(format!(
                    "LCM operation {id} cannot be cancelled ({}): it has ended or a cancel is already pending.",
                    request.cancel_mode
                )),
                other => other.into(),
            })
    }

    /// Rolls back an occurrence still waiting for a conductor, with its notification.
    async fn cancel_unstarted(&self, api: ApiVersion, op: &OpOccRow) -> Result<()> {
        let now = Utc::now();
        let error = json!({"status": 409, "title": "Conflict", "detail": "The operation was cancelled before it started."});
        let mut rolled = op.clone();
        rolled.operation_state = OpState::RolledBack;
        let instance = self.inner.db.get_instance(&op.vnf_instance_id).await?;
        let notifications = match &instance {
            Some(instance) => {
                let subscriptions = self.subscriptions(&op.tenant_id, api).await?;
                self.inner.notifier.op_occ(&subscriptions, instance, &rolled, now)
            }
            None => Vec::new(),
        };
        // Only if no conductor has claimed it meanwhile.
        self.inner
            .db
            .cancel_unstarted_op(&op.id, &error.into(), now, &notifications)
            .await
            .map_err(|e| changed(e, op))?;
        self.queued(!notifications.is_empty());
        Ok(())
    }

    async fn visible_op_occ(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        id: &str,
        action: (&str, &str),
    ) -> Result<OpOccRow> {
        let row = match self.inner.db.get_op_occ(id).await? {
            Some(row) if row.api_version == api && ctx.can_see_tenant(&row.tenant_id) => row,
            _ => return Err(op_not_found(id)),
        };
        self.authorize(ctx, api, action, &row.tenant_id)?;
        Ok(row)
    }
}

fn op_not_found(id: &str) -> LcmError {
    LcmError::NotFound(format!("VnfLcmOpOcc {id} not found."))
}

fn require_failed_temp(op: &OpOccRow) -> Result<()> {
    if op.operation_state != OpState::FailedTemp || op.pending_action.is_some() {
        return Err(LcmError::Conflict(format!(
            "LCM operation {} is not FAILED_TEMP.",
            op.id
        )));
    }
    Ok(())
}

fn changed(err: DbError, op: &OpOccRow) -> LcmError {
    match err {
        DbError::StateChanged => {
            LcmError::Conflict(format!("LCM operation {} changed state meanwhile; retry.", op.id))
        }
        other => other.into(),
    }
}
