//! LCM subscriptions: filters checked, the callback tested, authentication secrets
//! encrypted with the subscription's own key and never shown.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Map, Value};
use tacker_common::detach::run_detached;
use tacker_common::RequestContext;
use tacker_crypto::KeyVault;
use tacker_db::notifications::SubscriptionRow;
use tacker_db::{Database, StoredJson};
use tacker_sol003::SubscriptionApi;
use tacker_sol013::ListQuery;
use uuid::Uuid;

use crate::error::{LcmError, Result};
use crate::model::{ApiVersion, OpState, Operation};
use crate::notifications::NOTIFICATION_TYPES;
use crate::requests::{self, LccnSubscriptionRequest};
use crate::service::{LcmService, Listed, Page};

/// Checks a callback before a subscription is accepted; the error text is shown (422).
/// `api` decides the `Version` header of the test request.
pub trait CallbackTester: Send + Sync {
    fn test<'a>(
        &'a self,
        callback_uri: &'a str,
        api: SubscriptionApi,
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
        codec: Arc<dyn AuthenticationCodec>,
    ) -> Result<Value> {
        let tenant_id = ctx.project_id.clone().unwrap_or_default();
        self.authorize(
            ctx,
            api,
            ("subscription_create", "subscription_create"),
            &tenant_id,
        )?;
        let request: LccnSubscriptionRequest = requests::parse(body.as_ref())?;
        let callback = &*request.callback_uri;
        let url = callback_url(callback)?;
        let filter = request.filter;
        if let Some(filter) = &filter {
            check_filter(filter, api)?;
        }
        let verbosity = request.verbosity.unwrap_or_default().as_str();
        let authentication = request.authentication.map(Value::Object);
        if let Some(auth) = &authentication {
            codec.validate(auth).map_err(LcmError::BadRequest)?;
        }
        self.inner
            .tester
            // Every LCM callback is tested the v2 way (Version 2.0.0), as before.
            .test(url.as_str(), SubscriptionApi::LcmV2, authentication.as_ref())
            .await
            .map_err(|why| {
                LcmError::Unprocessable(format!("Notification test to {callback} failed: {why}"))
            })?;
        let row = SubscriptionRow {
            id: Uuid::new_v4().to_string(),
            tenant_id,
            api_version: api.into(),
            callback_uri: callback.to_owned(),
            filter: filter.map(StoredJson::from),
            verbosity: verbosity.to_owned(),
            authentication: None,
            created_at: Utc::now(),
        };
        let row = store(&self.inner.db, &self.inner.vault, row, authentication, codec).await?;
        tracing::info!(subscription = %row.id, "LCM subscription created");
        Ok(view(&row, api))
    }

    pub async fn list_subscriptions(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        query: &ListQuery,
    ) -> Result<Page> {
        let scope = self.list_scope(ctx, api, Listed::Subscriptions)?;
        let rows = self.inner.db.list_subscriptions(api, scope.as_deref()).await?;
        self.page(
            rows.iter().map(|r| (r.id.clone(), view(r, api))).collect(),
            query,
            match api {
                ApiVersion::V1 => &crate::attributes::LCCN_SUBSCRIPTION_V1,
                ApiVersion::V2 => &crate::attributes::LCCN_SUBSCRIPTION_V2,
            },
            &crate::views::mandatory(crate::views::Resource::Subscription, api),
            &[],
        )
    }

    pub async fn show_subscription(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<Value> {
        Ok(view(
            &self
                .visible_subscription(ctx, api, id, ("subscription_show", "subscription_show"))
                .await?,
            api,
        ))
    }

    pub async fn delete_subscription(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<()> {
        self.visible_subscription(ctx, api, id, ("subscription_delete", "subscription_delete"))
            .await?;
        remove(&self.inner.db, &self.inner.vault, id).await
    }

    async fn visible_subscription(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        id: &str,
        action: (&str, &str),
    ) -> Result<SubscriptionRow> {
        let row = match self.inner.db.get_subscription(id).await? {
            Some(row) if row.api_version == api.into() && ctx.can_see_tenant(&row.tenant_id) => row,
            _ => return Err(LcmError::NotFound(format!("LccnSubscription {id} not found."))),
        };
        self.authorize(ctx, api, action, &row.tenant_id)?;
        Ok(row)
    }
}

/// A subscription's callbackUri: an absolute http(s) URI, or a 400.
pub fn callback_url(callback: &str) -> Result<url::Url> {
    url::Url::parse(callback)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| LcmError::BadRequest(format!("callbackUri '{callback}' is not an http(s) URI")))
}

/// Stores a new subscription of any notification API. Its authentication, if any, is
/// encrypted with a key of the subscription's own; the key file and the row are written
/// together or not at all, even if the client goes away in between.
pub async fn store(
    db: &Database,
    vault: &KeyVault,
    mut row: SubscriptionRow,
    authentication: Option<Value>,
    codec: Arc<dyn AuthenticationCodec>,
) -> Result<SubscriptionRow> {
    let (db, vault) = (db.clone(), vault.clone());
    run_detached(async move {
        if let Some(mut auth) = authentication {
            vault.create(&row.id).map_err(|cause| LcmError::Key {
                what: "subscription",
                cause,
            })?;
            if let Err(e) = codec.encrypt(&row.id, &mut auth) {
                let _ = vault.remove(&row.id);
                return Err(LcmError::Codec(e));
            }
            row.authentication = Some(auth.into());
        }
        if let Err(e) = db.insert_subscription(&row).await {
            let _ = vault.remove(&row.id);
            return Err(LcmError::from(e));
        }
        Ok(row)
    })
    .await?
}

/// Deletes a subscription: the row and then its key file, both even if the client goes
/// away.
pub async fn remove(db: &Database, vault: &KeyVault, id: &str) -> Result<()> {
    let (db, vault, id) = (db.clone(), vault.clone(), id.to_owned());
    run_detached(async move {
        db.delete_subscription(&id).await?;
        let _ = vault.remove(&id);
        Ok(())
    })
    .await?
}

/// The filter as SOL003's LifecycleChangeNotificationsFilter types it (Tacker's JSON
/// schema): it is stored and shown as given, so what does not fit is refused.
fn check_filter(filter: &Map<String, Value>, api: ApiVersion) -> Result<()> {
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
    // CHANGE_VNFPKG is an operation of v2 (SOL003 3.x) only.
    let operations: Vec<&str> = Operation::ALL
        .iter()
        .filter(|o| api == ApiVersion::V2 || **o != Operation::ChangeVnfpkg)
        .map(|o| o.as_str())
        .collect();
    strings("operationTypes", &operations)?;
    let states: Vec<&str> = OpState::ALL.iter().map(|s| s.as_str()).collect();
    strings("operationStates", &states)?;
    if let Some(instances) = filter.get("vnfInstanceSubscriptionFilter") {
        let instances = instances.as_object().ok_or_else(|| {
            LcmError::BadRequest("filter.vnfInstanceSubscriptionFilter must be an object".into())
        })?;
        let at = "filter.vnfInstanceSubscriptionFilter";
        for key in ["vnfdIds", "vnfInstanceIds", "vnfInstanceNames"] {
            string_array(instances, at, key)?;
        }
        for provider in object_array(instances, at, "vnfProductsFromProviders")? {
            let at = format!("{at}.vnfProductsFromProviders[]");
            required_string(provider, &at, "vnfProvider")?;
            for product in object_array(provider, &at, "vnfProducts")? {
                let at = format!("{at}.vnfProducts[]");
                required_string(product, &at, "vnfProductName")?;
                for version in object_array(product, &at, "versions")? {
                    let at = format!("{at}.versions[]");
                    required_string(version, &at, "vnfSoftwareVersion")?;
                    string_array(version, &at, "vnfdVersions")?;
                }
            }
        }
    }
    Ok(())
}

/// `object[key]`, if present, must be an array of strings.
fn string_array(object: &Map<String, Value>, at: &str, key: &str) -> Result<()> {
    match object.get(key) {
        None => Ok(()),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err(LcmError::BadRequest(format!(
            "{at}.{key} must be an array of strings"
        ))),
    }
}

/// `object[key]`, if present, must be an array of objects: returns them.
fn object_array<'a>(
    object: &'a Map<String, Value>,
    at: &str,
    key: &str,
) -> Result<Vec<&'a Map<String, Value>>> {
    match object.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_object()
                    .ok_or_else(|| LcmError::BadRequest(format!("{at}.{key} must be an array of objects")))
            })
            .collect(),
        Some(_) => Err(LcmError::BadRequest(format!(
            "{at}.{key} must be an array of objects"
        ))),
    }
}

fn required_string(object: &Map<String, Value>, at: &str, key: &str) -> Result<()> {
    match object.get(key) {
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(LcmError::BadRequest(format!("{at}.{key} must be a string"))),
        None => Err(LcmError::BadRequest(format!("{at}.{key} is required"))),
    }
}

/// LccnSubscription as shown (`row` is one of `api`'s): authentication never is.
pub fn view(row: &SubscriptionRow, api: ApiVersion) -> Value {
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    if let Some(filter) = &row.filter {
        view.insert("filter".into(), filter.to_value());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(filter: Value, api: ApiVersion) -> Result<()> {
        check_filter(filter.as_object().unwrap(), api)
    }

    #[test]
    fn instance_filters_are_typed_as_sol003_types_them() {
        let good = json!({"vnfInstanceSubscriptionFilter": {
            "vnfdIds": ["d"], "vnfInstanceIds": ["i"], "vnfInstanceNames": ["n"],
            "vnfProductsFromProviders": [{"vnfProvider": "p", "vnfProducts": [
                {"vnfProductName": "x", "versions": [{"vnfSoftwareVersion": "1", "vnfdVersions": ["1"]}]},
            ]}],
        }});
        check(good, ApiVersion::V2).unwrap();
        for (bad, message) in [
            // What schemathesis sent: a single id where an array belongs (stored and shown
            // as given, the response no longer fitted LccnSubscription).
            (json!({"vnfInstanceIds": "i"}), "filter.vnfInstanceSubscriptionFilter.vnfInstanceIds must be an array of strings"),
            (json!({"vnfdIds": [1]}), "filter.vnfInstanceSubscriptionFilter.vnfdIds must be an array of strings"),
            (json!({"vnfInstanceNames": null}), "filter.vnfInstanceSubscriptionFilter.vnfInstanceNames must be an array of strings"),
            (json!({"vnfProductsFromProviders": {}}), "filter.vnfInstanceSubscriptionFilter.vnfProductsFromProviders must be an array of objects"),
            (json!({"vnfProductsFromProviders": [{}]}), "filter.vnfInstanceSubscriptionFilter.vnfProductsFromProviders[].vnfProvider is required"),
            (
                json!({"vnfProductsFromProviders": [{"vnfProvider": "p", "vnfProducts": [{"vnfProductName": "x", "versions": [{}]}]}]}),
                "filter.vnfInstanceSubscriptionFilter.vnfProductsFromProviders[].vnfProducts[].versions[].vnfSoftwareVersion is required",
            ),
        ] {
            let error = check(json!({"vnfInstanceSubscriptionFilter": bad}), ApiVersion::V1).unwrap_err();
            assert!(matches!(&error, LcmError::BadRequest(m) if m == message), "{bad}: {error}");
        }
    }

    #[test]
    fn change_vnfpkg_is_an_operation_type_of_v2_only() {
        let filter = json!({"operationTypes": ["INSTANTIATE", "CHANGE_VNFPKG"]});
        check(filter.clone(), ApiVersion::V2).unwrap();
        let error = check(filter, ApiVersion::V1).unwrap_err();
        assert!(
            error.to_string().contains("'\"CHANGE_VNFPKG\"' is not one of"),
            "{error}"
        );
    }
}
