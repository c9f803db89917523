//! FM subscriptions: the filter checked and kept as sent, the callback tested (GET with
//! `Version: 1.3.0`, expecting 204), authentication secrets encrypted and never shown.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use tacker_common::RequestContext;
use tacker_db::notifications::SubscriptionRow;
use tacker_db::StoredJson;
use tacker_lcm::requests::parse;
use tacker_lcm::subscriptions::{callback_url, remove, store};
use tacker_lcm::{AuthenticationCodec, LcmError, Page, Result};
use tacker_sol003::SubscriptionApi;
use tacker_sol013::ListQuery;
use uuid::Uuid;

use crate::requests::FmSubscriptionRequest;
use crate::views;
use crate::FmService;

impl FmService {
    /// `POST /subscriptions`: returns the FmSubscription view.
    pub async fn create_subscription(
        &self,
        ctx: &RequestContext,
        body: Option<Value>,
        codec: Arc<dyn AuthenticationCodec>,
    ) -> Result<Value> {
        let tenant_id = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, "subscription_create", &tenant_id)?;
        let request: FmSubscriptionRequest = parse(body.as_ref())?;
        let url = callback_url(&request.callback_uri)?;
        let authentication = request.authentication.map(Value::Object);
        if let Some(auth) = &authentication {
            codec.validate(auth).map_err(LcmError::BadRequest)?;
        }
        self.inner
            .tester
            .test(url.as_str(), SubscriptionApi::FmV1, authentication.as_ref())
            .await
            .map_err(|why| {
                tracing::info!(callback = %url, reason = %why, "FM subscription refused: callback test failed");
                LcmError::Unprocessable("Can't get from notification callback Uri.".into())
            })?;
        // Checked as typed, kept as sent (as Tacker stores it).
        let filter = body
            .as_ref()
            .and_then(|b| b.get("filter"))
            .filter(|f| !f.is_null())
            .map(StoredJson::from_value);
        let row = SubscriptionRow {
            id: Uuid::new_v4().to_string(),
            tenant_id,
            api_version: SubscriptionApi::FmV1,
            callback_uri: request.callback_uri.to_string(),
            filter,
            verbosity: "FULL".into(),
            authentication: None,
            created_at: Utc::now(),
        };
        let row = store(&self.inner.db, &self.inner.vault, row, authentication, codec).await?;
        tracing::info!(subscription = %row.id, "FM subscription created");
        Ok(views::subscription(&row))
    }

    pub async fn list_subscriptions(&self, ctx: &RequestContext, query: &ListQuery) -> Result<Page> {
        let (own, limit) = Self::scope(ctx);
        self.authorize(ctx, "subscription_list", &own)?;
        let rows = self
            .inner
            .db
            .list_subscriptions(SubscriptionApi::FmV1, limit.as_deref())
            .await?;
        let views = rows
            .iter()
            .map(|r| (r.id.clone(), views::subscription(r)))
            .collect();
        self.page(views, query, &views::SUBSCRIPTION)
    }

    pub async fn show_subscription(&self, ctx: &RequestContext, id: &str) -> Result<Value> {
        Ok(views::subscription(
            &self.visible_subscription(ctx, id, "subscription_show").await?,
        ))
    }

    pub async fn delete_subscription(&self, ctx: &RequestContext, id: &str) -> Result<()> {
        self.visible_subscription(ctx, id, "subscription_delete").await?;
        remove(&self.inner.db, &self.inner.vault, id).await?;
        tracing::info!(subscription = %id, "FM subscription deleted");
        Ok(())
    }

    async fn visible_subscription(
        &self,
        ctx: &RequestContext,
        id: &str,
        action: &str,
    ) -> Result<SubscriptionRow> {
        let row = match self.inner.db.get_subscription(id).await? {
            Some(row) if row.api_version == SubscriptionApi::FmV1 && ctx.can_see_tenant(&row.tenant_id) => {
                row
            }
            _ => return Err(LcmError::NotFound(format!("FmSubscription {id} not found."))),
        };
        self.authorize(ctx, action, &row.tenant_id)?;
        Ok(row)
    }
}
