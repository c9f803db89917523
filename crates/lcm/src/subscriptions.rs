//! LCM subscriptions: filters checked, the callback tested, authentication secrets
//! encrypted with the subscription's own key and never shown.

use std::future::Future;
use std::pin::Pin;

use chrono::Utc;
use serde_json::{json, Map, Value};
use tacker_common::RequestContext;
use tacker_db::notifications::SubscriptionRow;
use tacker_sol013::ListQuery;
use uuid::Uuid;

use crate::error::{LcmError, Result};
use crate::model::{ApiVersion, OpState, Operation};
use crate::notifications::NOTIFICATION_TYPES;
use crate::requests::object;
use crate::service::{LcmService, Page};

/// Checks a callback before a subscription is accepted; the error text is shown (422).
pub trait CallbackTester: Send + Sync {
    fn test<'a>(
        &'a self,
        callback_uri: &'a str,
        authentication: Option<&'a Value>,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>>;
}

/// Checks and seals a subscription's `authentication`; provided by the notification
/// sender, which has to read it back.
pub trait AuthenticationCodec: Send + Sync {
    /// Why the authentication cannot be used (shown as a 400), if it cannot.
    fn validate(&self, authentication: &Value) -> std::result::Result<(), String>;
    /// Encrypts its secrets with the subscription's key.
    fn encrypt(&self, subscription_id: &str, authentication: &mut Value) -> std::result::Result<(), String>;
}

impl LcmService {
    /// `POST /subscriptions`: returns the LccnSubscription view.
    pub async fn create_subscription(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        body: Option<Value>,
        codec: &dyn AuthenticationCodec,
    ) -> Result<Value> {
        let tenant_id = ctx.project_id.clone().unwrap_or_default();
        self.authorize(
            ctx,
            api,
            ("subscription_create", "subscription_create"),
            &tenant_id,
        )?;
        let body = object(body.as_ref())?;
        let callback = body.required_str("callbackUri")?;
        let url = url::Url::parse(callback)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| LcmError::BadRequest(format!("callbackUri '{callback}' is not an http(s) URI")))?;
        let filter = body.optional_object("filter")?.cloned();
        if let Some(filter) = &filter {
            check_filter(filter)?;
        }
        let verbosity = body
            .one_of("verbosity", &["FULL", "SHORT"], false)?
            .unwrap_or("FULL");
        let mut authentication = body
            .optional_object("authentication")?
            .map(|a| Value::Object(a.clone()));
        if let Some(auth) = &authentication {
            codec.validate(auth).map_err(LcmError::BadRequest)?;
        }
        self.inner
            .tester
            .test(url.as_str(), authentication.as_ref())
            .await
            .map_err(|why| {
                LcmError::Unprocessable(format!("Notification test to {callback} failed: {why}"))
            })?;
        let id = Uuid::new_v4().to_string();
        if let Some(auth) = authentication.as_mut() {
            self.inner
                .vault
                .create(&id)
                .map_err(|e| LcmError::Internal(format!("subscription key: {e}")))?;
            codec.encrypt(&id, auth).map_err(LcmError::Internal)?;
        }
        let row = SubscriptionRow {
            id,
            tenant_id,
            api_version: api.db().into(),
            callback_uri: callback.to_owned(),
            filter: filter.map(|f| Value::Object(f).to_string()),
            verbosity: verbosity.to_owned(),
            authentication: authentication.map(|a| a.to_string()),
            created_at: Utc::now(),
        };
        self.inner.db.insert_subscription(&row).await?;
        tracing::info!(subscription = %row.id, "LCM subscription created");
        Ok(view(&row))
    }

    pub async fn list_subscriptions(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        query: &ListQuery,
    ) -> Result<Page> {
        let own = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, api, ("subscription_list", "subscription_list"), &own)?;
        let tenant = (!ctx.is_admin).then_some(own.as_str());
        let rows = self.inner.db.list_subscriptions(api.db(), tenant).await?;
        self.page(rows.iter().map(|r| (r.id.clone(), view(r))).collect(), query, &[])
    }

    pub async fn show_subscription(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<Value> {
        Ok(view(
            &self
                .visible_subscription(ctx, api, id, ("subscription_show", "subscription_show"))
                .await?,
        ))
    }

    pub async fn delete_subscription(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<()> {
        self.visible_subscription(ctx, api, id, ("subscription_delete", "subscription_delete"))
            .await?;
        self.inner.db.delete_subscription(id).await?;
        let _ = self.inner.vault.remove(id);
        Ok(())
    }

    async fn visible_subscription(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        id: &str,
        action: (&str, &str),
    ) -> Result<SubscriptionRow> {
        let row = match self.inner.db.get_subscription(id).await? {
            Some(row) if row.api_version == api.db() && ctx.can_see_tenant(&row.tenant_id) => row,
            _ => return Err(LcmError::NotFound(format!("LccnSubscription {id} not found."))),
        };
        self.authorize(ctx, api, action, &row.tenant_id)?;
        Ok(row)
    }
}

fn check_filter(filter: &Map<String, Value>) -> Result<()> {
    let strings = |key: &str, allowed: &[&str]| -> Result<()> {
        let Some(value) = filter.get(key) else {
            return Ok(());
        };
        let items = value
            .as_array()
            .ok_or_else(|| LcmError::BadRequest(format!("filter.{key} must be an array")))?;
        for item in items {
            let text = item.as_str().unwrap_or_default();
            if !allowed.contains(&text) {
                return Err(LcmError::BadRequest(format!(
                    "filter.{key}: '{item}' is not one of {}",
                    allowed.join(", ")
                )));
            }
        }
        Ok(())
    };
    strings("notificationTypes", NOTIFICATION_TYPES)?;
    let operations: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
    strings("operationTypes", &operations)?;
    let states: Vec<&str> = OpState::ALL.iter().map(|s| s.as_str()).collect();
    strings("operationStates", &states)?;
    if let Some(instances) = filter.get("vnfInstanceSubscriptionFilter") {
        if !instances.is_object() {
            return Err(LcmError::BadRequest(
                "filter.vnfInstanceSubscriptionFilter must be an object".into(),
            ));
        }
    }
    Ok(())
}

/// LccnSubscription as shown: authentication never is.
pub fn view(row: &SubscriptionRow) -> Value {
    let api = ApiVersion::from_db(&row.api_version);
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    if let Some(filter) = row
        .filter
        .as_deref()
        .and_then(|f| serde_json::from_str::<Value>(f).ok())
    {
        view.insert("filter".into(), filter);
    }
    view.insert("callbackUri".into(), json!(row.callback_uri));
    if api == ApiVersion::V2 {
        view.insert("verbosity".into(), json!(row.verbosity));
    }
    view.insert(
        "_links".into(),
        json!({"self": {"href": format!("{}/subscriptions/{}", api.prefix(), row.id)}}),
    );
    Value::Object(view)
}
