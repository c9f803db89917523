//! Thresholds: created (checked, their rules delivered to Prometheus, stored), listed,
//! shown, re-pointed (PATCH) and deleted (rules withdrawn).

use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Value};
use tacker_common::RequestContext;
use tacker_db::notifications::SubscriptionRow;
use tacker_db::pm::ThresholdRow;
use tacker_lcm::requests::parse;
use tacker_lcm::subscriptions::callback_url;
use tacker_lcm::{AuthenticationCodec, LcmError, Page, Result};
use tacker_sol013::ListQuery;
use uuid::Uuid;

use crate::jobs::callback_row;
use crate::metrics::{self, RuleLabels};
use crate::requests::{CreateThresholdRequest, ObjectType};
use crate::{instantiated_info, namespace, views, PmService};

impl PmService {
    /// `POST /thresholds`.
    pub async fn create_threshold(
        &self,
        ctx: &RequestContext,
        body: Option<Value>,
        codec: Arc<dyn AuthenticationCodec>,
    ) -> Result<Value> {
        let tenant_id = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, "create_threshold", &tenant_id)?;
        let request: CreateThresholdRequest = parse(body.as_ref())?;
        check_threshold(&request)?;
        let instance = self.measurable_instance(ctx, &request.object_instance_id).await?;
        let url = callback_url(&request.callback_uri)?;
        let authentication = request.authentication.clone().map(Value::Object);
        if let Some(auth) = &authentication {
            codec.validate(auth).map_err(LcmError::BadRequest)?;
        }
        self.test_callback(url.as_str(), authentication.as_ref()).await?;

        let id = Uuid::new_v4().to_string();
        let metadata = request.metadata.clone().unwrap_or_default();
        let rules = self
            .inner
            .plugin
            .performance_management
            .then(|| self.threshold_rules(&id, &request, &instance));
        let now = Utc::now();
        let subscription = callback_row(&id, &tenant_id, &request.callback_uri, now);
        let threshold = ThresholdRow {
            id: id.clone(),
            tenant_id,
            object_type: request.object_type.as_str().to_owned(),
            object_instance_id: request.object_instance_id.to_string(),
            sub_object_instance_ids: request
                .sub_object_instance_ids
                .as_ref()
                .map(|subs| json!(subs.iter().map(|s| &**s).collect::<Vec<_>>()).into()),
            criteria: serde_json::to_value(&request.criteria)
                .unwrap_or(Value::Null)
                .into(),
            metadata: None,
            crossing_state: json!({}).into(),
            revision: 0,
            created_at: now,
        };
        self.deliver_and_store(
            rules,
            "this threshold: its object runs",
            subscription,
            threshold.clone(),
            authentication,
            metadata,
            codec,
            |db, sub, row| async move { db.insert_threshold(&sub, &row).await },
        )
        .await?;
        tracing::info!(threshold = %id, "PM threshold created");
        Ok(views::threshold(&threshold, &request.callback_uri))
    }

    pub async fn list_thresholds(&self, ctx: &RequestContext, query: &ListQuery) -> Result<Page> {
        let (own, limit) = Self::scope(ctx);
        self.authorize(ctx, "index_threshold", &own)?;
        let rows = self.inner.db.list_thresholds(limit.as_deref()).await?;
        let callbacks = self.callbacks(limit.as_deref()).await?;
        let views = rows
            .iter()
            .map(|row| {
                let callback = callbacks.get(&row.id).map(String::as_str).unwrap_or_default();
                (row.id.clone(), views::threshold(row, callback))
            })
            .collect();
        self.page(views, query, &views::THRESHOLD)
    }

    pub async fn show_threshold(&self, ctx: &RequestContext, id: &str) -> Result<Value> {
        let (row, subscription) = self.visible_threshold(ctx, id, "show_threshold").await?;
        Ok(views::threshold(&row, &subscription.callback_uri))
    }

    pub async fn modify_threshold(
        &self,
        ctx: &RequestContext,
        id: &str,
        body: Option<Value>,
        codec: Arc<dyn AuthenticationCodec>,
    ) -> Result<Value> {
        let (_, subscription) = self.visible_threshold(ctx, id, "update_threshold").await?;
        self.modify_callback(subscription, body, codec).await
    }

    pub async fn delete_threshold(&self, ctx: &RequestContext, id: &str) -> Result<()> {
        let (row, _) = self.visible_threshold(ctx, id, "delete_threshold").await?;
        self.withdraw_and_remove(id, row.metadata).await?;
        tracing::info!(threshold = %id, "PM threshold deleted");
        Ok(())
    }

    async fn visible_threshold(
        &self,
        ctx: &RequestContext,
        id: &str,
        action: &str,
    ) -> Result<(ThresholdRow, SubscriptionRow)> {
        let not_found = || LcmError::NotFound(format!("The specified PM Threshold {id} does not exist."));
        let row = match self.inner.db.get_threshold(id).await? {
            Some(row) if ctx.can_see_tenant(&row.tenant_id) => row,
            _ => return Err(not_found()),
        };
        self.authorize(ctx, action, &row.tenant_id)?;
        let subscription = self.inner.db.get_subscription(id).await?.ok_or_else(not_found)?;
        Ok((row, subscription))
    }

    /// One rule per measured sub-object (or the object), with the threshold windows of
    /// `[prometheus_plugin]`.
    fn threshold_rules(
        &self,
        id: &str,
        request: &CreateThresholdRequest,
        instance: &tacker_db::instances::InstanceRow,
    ) -> Vec<Value> {
        let plugin = &self.inner.plugin;
        let info = instantiated_info(instance);
        let namespace = namespace(&info);
        let metric = &request.criteria.performance_metric;
        let reporting_period = plugin.reporting_period_threshold.max(30);
        let Some(pods) = metrics::pods_regexp(&info) else {
            return Vec::new();
        };
        let rule = |pod: &str, interface: &str, sub: Option<&str>| {
            metrics::promql(metric, &namespace, pod, interface, reporting_period).map(|expr| {
                metrics::rule(
                    expr,
                    plugin.collection_period_threshold,
                    &RuleLabels {
                        function_type: "vnfpm_threshold",
                        owner: ("threshold_id", id),
                        object_instance_id: &instance.id,
                        sub_object_instance_id: sub,
                        metric,
                    },
                )
            })
        };
        let subs: Vec<&str> = request
            .sub_object_instance_ids
            .iter()
            .flatten()
            .map(|s| &**s)
            .collect();
        if subs.is_empty() {
            return rule(&pods, "*", None).into_iter().collect();
        }
        subs.iter()
            .filter_map(|sub| match request.object_type {
                ObjectType::Vnf | ObjectType::Vnfc => {
                    metrics::vnfc_pod(&info, sub).and_then(|pod| rule(&pod, "*", Some(sub)))
                }
                ObjectType::VnfIntCp | ObjectType::VnfExtCp => rule(&pods, sub, Some(sub)),
            })
            .collect()
    }
}

/// Tacker's checks of a CreateThresholdRequest, with messages that say what is wrong.
fn check_threshold(request: &CreateThresholdRequest) -> Result<()> {
    let bad = |message: String| Err(LcmError::BadRequest(message));
    let metric = &request.criteria.performance_metric;
    let supported = metrics::supported(request.object_type);
    if !supported.iter().any(|s| s == metrics::base(metric)) {
        return bad(format!(
            "performanceMetric {metric} is not supported for objectType {}; supported: {}.",
            request.object_type.as_str(),
            supported.join(", ")
        ));
    }
    if matches!(request.object_type, ObjectType::Vnf | ObjectType::Vnfc)
        && metric.split_once('.').map(|(_, o)| o) != Some(&*request.object_instance_id)
    {
        return bad(format!(
            "performanceMetric must be {}.{} for this object.",
            metrics::base(metric),
            &*request.object_instance_id
        ));
    }
    match request.criteria.simple_threshold_details {
        None => bad("criteria.simpleThresholdDetails is required for a SIMPLE threshold.".into()),
        Some(details) if details.hysteresis < 0.0 || !details.hysteresis.is_finite() => {
            bad("criteria.simpleThresholdDetails.hysteresis must be a non-negative number.".into())
        }
        Some(_) => Ok(()),
    }
}
