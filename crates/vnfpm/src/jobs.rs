//! PM jobs: created (checked, their rules delivered to Prometheus, stored), listed, shown,
//! re-pointed (PATCH), deleted (rules withdrawn), and their reports read.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tacker_common::detach::run_detached;
use tacker_common::RequestContext;
use tacker_db::notifications::SubscriptionRow;
use tacker_db::pm::PmJobRow;
use tacker_db::StoredJson;
use tacker_lcm::requests::parse;
use tacker_lcm::subscriptions::{callback_url, remove};
use tacker_lcm::{AuthenticationCodec, LcmError, Page, Result};
use tacker_monitoring::{targets_from_metadata, MonitoringTarget};
use tacker_sol003::SubscriptionApi;
use tacker_sol013::ListQuery;
use uuid::Uuid;

use crate::metrics::{self, RuleLabels};
use crate::requests::{CallbackModifications, CreatePmJobRequest, ObjectType};
use crate::{instantiated_info, namespace, secrets, views, PmService};

impl PmService {
    /// `POST /pm_jobs`.
    pub async fn create_job(
        &self,
        ctx: &RequestContext,
        body: Option<Value>,
        codec: Arc<dyn AuthenticationCodec>,
    ) -> Result<Value> {
        let tenant_id = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, "create", &tenant_id)?;
        let request: CreatePmJobRequest = parse(body.as_ref())?;
        check_job(&request)?;
        let mut instances = Vec::new();
        for id in &request.object_instance_ids {
            instances.push(self.measurable_instance(ctx, id).await?);
        }
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
            .then(|| job_rules(&id, &request, &instances));
        let now = Utc::now();
        let subscription = callback_row(&id, &tenant_id, &request.callback_uri, now);
        let criteria = serde_json::to_value(&request.criteria).unwrap_or(Value::Null);
        let job = PmJobRow {
            id: id.clone(),
            tenant_id,
            object_type: request.object_type.as_str().to_owned(),
            object_instance_ids: json!(request
                .object_instance_ids
                .iter()
                .map(|i| &**i)
                .collect::<Vec<_>>())
            .into(),
            sub_object_instance_ids: request
                .sub_object_instance_ids
                .as_ref()
                .map(|subs| json!(subs.iter().map(|s| &**s).collect::<Vec<_>>()).into()),
            criteria: criteria.into(),
            metadata: None,
            created_at: now,
        };
        self.deliver_and_store(
            rules,
            "this PM job: its objects run",
            subscription,
            job.clone(),
            authentication,
            metadata,
            codec,
            |db, sub, row| async move { db.insert_pm_job(&sub, &row).await },
        )
        .await?;
        tracing::info!(pm_job = %id, "PM job created");
        Ok(views::job(&job, &request.callback_uri, &[]))
    }

    pub async fn list_jobs(&self, ctx: &RequestContext, query: &ListQuery) -> Result<Page> {
        let (own, limit) = Self::scope(ctx);
        self.authorize(ctx, "index", &own)?;
        let jobs = self.inner.db.list_pm_jobs(limit.as_deref()).await?;
        let callbacks = self.callbacks(limit.as_deref()).await?;
        let mut views = Vec::with_capacity(jobs.len());
        for job in &jobs {
            let reports = self.inner.db.list_pm_reports(&job.id).await?;
            let callback = callbacks.get(&job.id).map(String::as_str).unwrap_or_default();
            views.push((job.id.clone(), views::job(job, callback, &reports)));
        }
        self.page(views, query, &views::PM_JOB)
    }

    pub async fn show_job(&self, ctx: &RequestContext, id: &str) -> Result<Value> {
        let (job, subscription) = self.visible_job(ctx, id, "show").await?;
        let reports = self.inner.db.list_pm_reports(id).await?;
        Ok(views::job(&job, &subscription.callback_uri, &reports))
    }

    /// `PATCH /pm_jobs/{id}`: a new callback (tested first) or authentication.
    pub async fn modify_job(
        &self,
        ctx: &RequestContext,
        id: &str,
        body: Option<Value>,
        codec: Arc<dyn AuthenticationCodec>,
    ) -> Result<Value> {
        let (_, subscription) = self.visible_job(ctx, id, "update").await?;
        self.modify_callback(subscription, body, codec).await
    }

    /// `DELETE /pm_jobs/{id}`: its rules are withdrawn (a failure is logged: the job goes),
    /// then the job, its reports and its queued notifications.
    pub async fn delete_job(&self, ctx: &RequestContext, id: &str) -> Result<()> {
        let (job, _) = self.visible_job(ctx, id, "delete").await?;
        self.withdraw_and_remove(id, job.metadata).await?;
        tracing::info!(pm_job = %id, "PM job deleted");
        Ok(())
    }

    /// `GET /pm_jobs/{id}/reports/{reportId}`.
    pub async fn show_report(&self, ctx: &RequestContext, job_id: &str, report_id: &str) -> Result<Value> {
        let not_found = || LcmError::NotFound("The specified Performance Report does not exist.".into());
        self.visible_job(ctx, job_id, "report_get")
            .await
            .map_err(|e| match e {
                LcmError::NotFound(_) => not_found(),
                other => other,
            })?;
        let reports = self.inner.db.list_pm_reports(job_id).await?;
        let report = reports.iter().find(|r| r.id == report_id).ok_or_else(not_found)?;
        Ok(views::report(report))
    }

    async fn visible_job(
        &self,
        ctx: &RequestContext,
        id: &str,
        action: &str,
    ) -> Result<(PmJobRow, SubscriptionRow)> {
        let not_found = || LcmError::NotFound("The specified PM job does not exist.".into());
        let job = match self.inner.db.get_pm_job(id).await? {
            Some(job) if ctx.can_see_tenant(&job.tenant_id) => job,
            _ => return Err(not_found()),
        };
        self.authorize(ctx, action, &job.tenant_id)?;
        let subscription = self.inner.db.get_subscription(id).await?.ok_or_else(not_found)?;
        Ok((job, subscription))
    }

    /// The callbacks of PM jobs and thresholds, by id.
    pub(crate) async fn callbacks(&self, tenant: Option<&str>) -> Result<HashMap<String, String>> {
        Ok(self
            .inner
            .db
            .list_subscriptions(SubscriptionApi::PmV2, tenant)
            .await?
            .into_iter()
            .map(|s| (s.id, s.callback_uri))
            .collect())
    }

    /// GET of the callback (Version 2.1.0, expecting 204), as Tacker does before it accepts one.
    pub(crate) async fn test_callback(&self, url: &str, authentication: Option<&Value>) -> Result<()> {
        self.inner
            .tester
            .test(url, SubscriptionApi::PmV2, authentication)
            .await
            .map_err(|why| {
                tracing::info!(callback = %url, reason = %why, "callback test failed");
                LcmError::Unprocessable("Can't get from notification callback Uri.".into())
            })
    }

    /// The monitoring targets of a request's metadata; unusable ones are a 400.
    pub(crate) fn targets(&self, metadata: &Map<String, Value>) -> Result<Vec<MonitoringTarget>> {
        targets_from_metadata(&Value::Object(metadata.clone()))
            .map_err(|e| LcmError::BadRequest(e.to_string()))
    }

    /// Delivers the rules of a new job or threshold (when `rules` is given) and stores it
    /// with its subscription row, as one piece of work that goes on if the client goes
    /// away: a rule file is never left without its job. A failed store withdraws the
    /// rules again.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn deliver_and_store<R, F, Fut>(
        &self,
        rules: Option<Vec<Value>>,
        what: &'static str,
        subscription: SubscriptionRow,
        row: R,
        authentication: Option<Value>,
        metadata: Map<String, Value>,
        codec: Arc<dyn AuthenticationCodec>,
        insert: F,
    ) -> Result<()>
    where
        R: WithMetadata + Send + 'static,
        F: FnOnce(tacker_db::Database, SubscriptionRow, R) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = std::result::Result<(), tacker_db::DbError>> + Send,
    {
        let service = self.clone();
        run_detached(async move {
            let id = subscription.id.clone();
            let targets = match rules {
                Some(rules) => service.deliver_new(&id, &metadata, rules, what).await?,
                None => Vec::new(),
            };
            let stored = service
                .store(subscription, row, authentication, metadata, codec, insert)
                .await;
            if stored.is_err() {
                service.withdraw(&targets, &id).await;
            }
            stored
        })
        .await?
    }

    /// Withdraws a job's or threshold's rules and deletes it (row, reports, queued
    /// notifications, key), as one piece of work that goes on if the client goes away.
    pub(crate) async fn withdraw_and_remove(&self, id: &str, metadata: Option<StoredJson>) -> Result<()> {
        let (service, id) = (self.clone(), id.to_owned());
        run_detached(async move {
            service.withdraw_stored(&id, metadata.as_ref()).await;
            remove(&service.inner.db, &service.inner.vault, &id).await
        })
        .await?
    }

    /// Delivers the rules of a new job or threshold (`what` says which, for the refusal):
    /// its targets must be usable (400) and some rule possible (400); a failed delivery is
    /// a 503 and leaves nothing behind. Returns the targets, to withdraw from on failure.
    pub(crate) async fn deliver_new(
        &self,
        id: &str,
        metadata: &Map<String, Value>,
        rules: Vec<Value>,
        what: &str,
    ) -> Result<Vec<MonitoringTarget>> {
        let targets = self.targets(metadata)?;
        if rules.is_empty() {
            return Err(LcmError::BadRequest(format!(
                "No rule can be made for {what} no Deployment."
            )));
        }
        self.publish(&targets, id, metrics::rule_file(id, rules)).await?;
        Ok(targets)
    }

    /// Delivers a rule file to every target and reloads Prometheus: a failure is a 503.
    pub(crate) async fn publish(
        &self,
        targets: &[MonitoringTarget],
        owner_id: &str,
        file: Vec<u8>,
    ) -> Result<()> {
        self.inner
            .publisher
            .publish(targets, &format!("{owner_id}.json"), &file)
            .await
            .map_err(|e| {
                tracing::warn!(owner = %owner_id, error = %e, "could not deliver the rules to Prometheus");
                LcmError::Unavailable("Setting PM job on External Monitoring Tool failed.".into())
            })
    }

    /// Withdraws a rule file; a failure is logged (the caller goes on).
    pub(crate) async fn withdraw(&self, targets: &[MonitoringTarget], owner_id: &str) {
        if targets.is_empty() {
            return;
        }
        if let Err(e) = self
            .inner
            .publisher
            .withdraw(targets, &format!("{owner_id}.json"))
            .await
        {
            tracing::warn!(owner = %owner_id, error = %e, "could not withdraw the rules from Prometheus");
        }
    }

    /// Withdraws the rules of a stored job or threshold, its passwords opened first.
    pub(crate) async fn withdraw_stored(&self, owner_id: &str, metadata: Option<&StoredJson>) {
        if !self.inner.plugin.performance_management {
            return;
        }
        let Some(mut metadata) = metadata.and_then(StoredJson::to_object) else {
            return;
        };
        let opened = self
            .inner
            .vault
            .open(owner_id)
            .map_err(|e| e.to_string())
            .and_then(|keys| secrets::open(&mut metadata, &keys).map_err(|e| e.to_string()));
        match opened.map(|()| targets_from_metadata(&Value::Object(metadata))) {
            Ok(Ok(targets)) => self.withdraw(&targets, owner_id).await,
            Ok(Err(e)) => {
                tracing::warn!(owner = %owner_id, error = %e, "stored monitoring targets are unusable")
            }
            Err(e) => {
                tracing::warn!(owner = %owner_id, error = %e, "stored monitoring passwords cannot be read")
            }
        }
    }

    /// Stores a job or threshold with its subscription row: its key, the authentication and
    /// the SSH passwords encrypted with it, and the rows, together or not at all.
    pub(crate) async fn store<R, F, Fut>(
        &self,
        mut subscription: SubscriptionRow,
        mut row: R,
        authentication: Option<Value>,
        mut metadata: Map<String, Value>,
        codec: Arc<dyn AuthenticationCodec>,
        insert: F,
    ) -> Result<()>
    where
        R: WithMetadata + Send + 'static,
        F: FnOnce(tacker_db::Database, SubscriptionRow, R) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = std::result::Result<(), tacker_db::DbError>> + Send,
    {
        let (db, vault) = (self.inner.db.clone(), self.inner.vault.clone());
        run_detached(async move {
            let id = subscription.id.clone();
            let keys = vault.create(&id).map_err(|cause| LcmError::Key {
                what: "PM job",
                cause,
            })?;
            if let Some(mut auth) = authentication {
                if let Err(e) = codec.encrypt(&id, &mut auth) {
                    let _ = vault.remove(&id);
                    return Err(LcmError::Codec(e));
                }
                subscription.authentication = Some(auth.into());
            }
            if !metadata.is_empty() {
                secrets::seal(&mut metadata, &keys);
                row.set_metadata(metadata.into());
            }
            if let Err(e) = insert(db, subscription, row).await {
                let _ = vault.remove(&id);
                return Err(LcmError::from(e));
            }
            Ok(())
        })
        .await?
    }

    /// PATCH of a job's or threshold's callback and authentication.
    pub(crate) async fn modify_callback(
        &self,
        subscription: SubscriptionRow,
        body: Option<Value>,
        codec: Arc<dyn AuthenticationCodec>,
    ) -> Result<Value> {
        let request: CallbackModifications = parse(body.as_ref())?;
        if request.callback_uri.is_none() && request.authentication.is_none() {
            return Err(LcmError::BadRequest(
                "callbackUri or authentication must be specified.".into(),
            ));
        }
        let callback = request
            .callback_uri
            .as_deref()
            .unwrap_or(&subscription.callback_uri)
            .to_owned();
        let url = callback_url(&callback)?;
        let authentication = request.authentication.map(Value::Object);
        if let Some(auth) = &authentication {
            codec.validate(auth).map_err(LcmError::BadRequest)?;
        }
        self.test_callback(url.as_str(), authentication.as_ref()).await?;
        let sealed = match authentication {
            Some(mut auth) => {
                codec
                    .encrypt(&subscription.id, &mut auth)
                    .map_err(LcmError::Codec)?;
                Some(auth.into())
            }
            None => subscription.authentication.clone(),
        };
        self.inner
            .db
            .update_subscription_target(&subscription.id, &callback, sealed.as_ref())
            .await?;
        Ok(match request.callback_uri {
            Some(uri) => json!({"callbackUri": &*uri}),
            None => json!({}),
        })
    }
}

/// The subscription row that carries a job's or threshold's callback (its authentication
/// is added sealed when stored).
pub(crate) fn callback_row(
    id: &str,
    tenant_id: &str,
    callback_uri: &str,
    now: DateTime<Utc>,
) -> SubscriptionRow {
    SubscriptionRow {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        api_version: SubscriptionApi::PmV2,
        callback_uri: callback_uri.to_owned(),
        filter: None,
        verbosity: "FULL".into(),
        authentication: None,
        created_at: now,
    }
}

/// A stored row that keeps the request's (sealed) metadata.
pub(crate) trait WithMetadata {
    fn set_metadata(&mut self, metadata: StoredJson);
}

impl WithMetadata for PmJobRow {
    fn set_metadata(&mut self, metadata: StoredJson) {
        self.metadata = Some(metadata);
    }
}

impl WithMetadata for tacker_db::pm::ThresholdRow {
    fn set_metadata(&mut self, metadata: StoredJson) {
        self.metadata = Some(metadata);
    }
}

/// Tacker's checks of a CreatePmJobRequest, with messages that say what is wrong.
fn check_job(request: &CreatePmJobRequest) -> Result<()> {
    let bad = |message: String| Err(LcmError::BadRequest(message));
    let subs = request.sub_object_instance_ids.as_deref().unwrap_or_default();
    if request.object_instance_ids.is_empty() {
        return bad("objectInstanceIds must name at least one object.".into());
    }
    if !subs.is_empty() && request.object_instance_ids.len() > 1 {
        return bad("subObjectInstanceIds may only be given with a single objectInstanceId.".into());
    }
    let criteria = &request.criteria;
    let named = criteria.performance_metric.as_deref().unwrap_or_default();
    let groups = criteria.performance_metric_group.as_deref().unwrap_or_default();
    if named.is_empty() && groups.is_empty() {
        return bad("criteria must name a performanceMetric or a performanceMetricGroup.".into());
    }
    let group = metrics::group(request.object_type);
    if let Some(other) = groups.iter().find(|g| *g != group) {
        return bad(format!(
            "performanceMetricGroup {other} is not supported for objectType {}; use {group}.",
            request.object_type.as_str()
        ));
    }
    let supported = metrics::supported(request.object_type);
    if let Some(unknown) = named
        .iter()
        .find(|m| !supported.iter().any(|s| s == metrics::base(m)))
    {
        return bad(format!(
            "performanceMetric {unknown} is not supported for objectType {}; supported: {}.",
            request.object_type.as_str(),
            supported.join(", ")
        ));
    }
    if let Some(boundary) = &criteria.reporting_boundary {
        if chrono::DateTime::parse_from_rfc3339(boundary).is_err() {
            return bad("invalid date format.".into());
        }
    }
    Ok(())
}

/// The rules of a job: one per metric and measured object (or sub-object).
fn job_rules(
    id: &str,
    request: &CreatePmJobRequest,
    instances: &[tacker_db::instances::InstanceRow],
) -> Vec<Value> {
    let criteria = &request.criteria;
    let named = criteria.performance_metric.clone().unwrap_or_default();
    let groups = criteria.performance_metric_group.clone().unwrap_or_default();
    let reporting_period = criteria.reporting_period.max(30);
    let subs: Vec<&str> = request
        .sub_object_instance_ids
        .iter()
        .flatten()
        .map(|s| &**s)
        .collect();
    let mut rules = Vec::new();
    for instance in instances {
        let info = instantiated_info(instance);
        let namespace = namespace(&info);
        let Some(pods) = metrics::pods_regexp(&info) else {
            continue;
        };
        for metric in metrics::for_object(request.object_type, &named, &groups, &instance.id) {
            let mut add = |pod: &str, interface: &str, sub: Option<&str>| {
                if let Some(expr) = metrics::promql(&metric, &namespace, pod, interface, reporting_period) {
                    rules.push(metrics::rule(
                        expr,
                        criteria.collection_period,
                        &RuleLabels {
                            function_type: "vnfpm",
                            owner: ("job_id", id),
                            object_instance_id: &instance.id,
                            sub_object_instance_id: sub,
                            metric: &metric,
                        },
                    ));
                }
            };
            if subs.is_empty() {
                add(&pods, "*", None);
                continue;
            }
            for sub in &subs {
                match request.object_type {
                    ObjectType::Vnf | ObjectType::Vnfc => {
                        if let Some(pod) = metrics::vnfc_pod(&info, sub) {
                            add(&pod, "*", Some(sub));
                        }
                    }
                    ObjectType::VnfIntCp | ObjectType::VnfExtCp => add(&pods, sub, Some(sub)),
                }
            }
        }
    }
    rules
}
