//! The VNF instance resource: create, list, show, delete, and the rules every LCM request
//! shares (visibility, policy, Tacker's messages).

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value};
use tacker_common::detach::run_detached;
use tacker_common::RequestContext;
use tacker_crypto::KeyVault;
use tacker_db::instances::{Documents, InstanceRow};
use tacker_db::notifications::SubscriptionRow;
use tacker_db::packages::PackageRow;
use tacker_db::{Database, DbError, StoredJson};
use tacker_driver::Drivers;
use tacker_policy::Enforcer;
use tacker_sol013::{FieldSelection, ListQuery, Paging, ResourceSchema};
use tacker_vim::VimService;
use uuid::Uuid;

use crate::attributes;
use crate::error::{LcmError, Result};
use crate::model::{ApiVersion, InstantiationState};
use crate::notifications::{Notifier, CREATION_NOTIFICATION, DELETION_NOTIFICATION};
use crate::requests::{self, CreateVnfRequest};
use crate::subscriptions::CallbackTester;
use crate::views;

/// Tests a subscriber's callback (GET, expecting 204) before a subscription is stored.
pub type SharedTester = Arc<dyn CallbackTester>;

/// The LCM APIs' rules over the shared database; cheap to clone.
#[derive(Clone)]
pub struct LcmService {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub db: Database,
    pub vims: VimService,
    /// The VIM types this deployment drives: which operations each supports and how its
    /// additionalParams are checked.
    pub drivers: Drivers,
    pub vault: KeyVault,
    pub policy: Arc<Enforcer>,
    pub notifier: Notifier,
    pub tester: SharedTester,
    /// Called when work for a conductor was queued (wakes an in-process conductor).
    pub work_queued: Arc<dyn Fn() + Send + Sync>,
    pub page_size: usize,
}

/// What a list of VNF instances leaves out unless asked for (SOL003 5.4.2.3.2).
const INSTANCE_DEFAULT_EXCLUDED: &[&str] = &[
    "vnfConfigurableProperties",
    "vimConnectionInfo",
    "instantiatedVnfInfo",
    "metadata",
    "extensions",
];

/// The default-excluded attributes a list's views need not contain at all: all of them
/// when nothing filters on them and no selector brings any back. (Their mandatory parts
/// are put back only under a parent the selection kept, and it keeps none of these.)
pub(crate) fn never_shown<'a>(query: &ListQuery, default_excluded: &'a [&'a str]) -> &'a [&'a str] {
    match (&query.filter, &query.selection) {
        (None, FieldSelection::ExcludeDefault) => default_excluded,
        _ => &[],
    }
}

/// What an LCM list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Instances,
    OpOccs,
    Subscriptions,
}

impl Listed {
    /// The list's policy action: its v1 and v2 names.
    fn action(self) -> (&'static str, &'static str) {
        match self {
            Listed::Instances => ("index", "index"),
            Listed::OpOccs => ("list_lcm_op_occs", "lcm_op_occ_list"),
            Listed::Subscriptions => ("subscription_list", "subscription_list"),
        }
    }
}

/// One page of a list.
pub struct Page {
    pub items: Vec<Value>,
    pub next_marker: Option<String>,
}

impl LcmService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Database,
        vims: VimService,
        drivers: Drivers,
        vault: KeyVault,
        policy: Arc<Enforcer>,
        endpoint: String,
        tester: SharedTester,
        work_queued: Arc<dyn Fn() + Send + Sync>,
        page_size: usize,
    ) -> Self {
        let notifier = Notifier { endpoint };
        LcmService {
            inner: Arc::new(Inner {
                db,
                vims,
                drivers,
                vault,
                policy,
                notifier,
                tester,
                work_queued,
                page_size,
            }),
        }
    }

    /// `POST /vnf_instances`.
    pub async fn create(&self, ctx: &RequestContext, api: ApiVersion, body: Option<Value>) -> Result<Value> {
        let tenant_id = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, api, ("create", "create"), &tenant_id)?;
        let request: CreateVnfRequest = requests::parse(body.as_ref())?;
        let package = self.usable_package(ctx, api, &request.vnfd_id).await?;
        let now = Utc::now();
        let row = InstanceRow {
            id: Uuid::new_v4().to_string(),
            tenant_id,
            api_version: api,
            vim_id: None,
            vnf_instance_name: request.vnf_instance_name.map(|n| n.to_string()),
            vnf_instance_description: request.vnf_instance_description.map(|d| d.to_string()),
            vnfd_id: request.vnfd_id.to_string(),
            vnf_pkg_id: Some(package.id.clone()),
            vnf_provider: package.vnf_provider.clone().unwrap_or_default(),
            vnf_product_name: package.vnf_product_name.clone().unwrap_or_default(),
            vnf_software_version: package.vnf_software_version.clone().unwrap_or_default(),
            vnfd_version: package.vnfd_version.clone().unwrap_or_default(),
            instantiation_state: InstantiationState::NotInstantiated,
            vim_connection_info: None,
            instantiated_vnf_info: None,
            metadata: request.metadata.map(StoredJson::from),
            extensions: None,
            vnf_configurable_properties: None,
            active_op_occ_id: None,
            created_at: now,
            updated_at: None,
        };
        let subscriptions = self.subscriptions(&row.tenant_id, api).await?;
        let notifications = self
            .inner
            .notifier
            .identifier(&subscriptions, &row, CREATION_NOTIFICATION, now);
        // The key file and the row are written together or not at all, even if the
        // client goes away in between.
        let (inner, stored) = (self.inner.clone(), row.clone());
        let notified = !notifications.is_empty();
        run_detached(async move {
            inner.vault.create(&stored.id).map_err(|cause| LcmError::Key {
                what: "instance",
                cause,
            })?;
            if let Err(e) = inner.db.insert_instance(&stored, &notifications).await {
                let _ = inner.vault.remove(&stored.id);
                return Err(LcmError::from(e));
            }
            Ok(())
        })
        .await??;
        self.queued(notified);
        tracing::info!(instance = %row.id, api = api.db(), "VNF instance created");
        Ok(views::instance(&row))
    }

    /// `GET /vnf_instances` with SOL013 filters, selectors and paging.
    pub async fn list(&self, ctx: &RequestContext, api: ApiVersion, query: &ListQuery) -> Result<Page> {
        let scope = self.list_scope(ctx, api, Listed::Instances)?;
        let tenant = scope.as_deref();
        let left_out = never_shown(query, INSTANCE_DEFAULT_EXCLUDED);
        // Every document column is default-excluded: when none is shown, none is read.
        let documents = match left_out.is_empty() {
            true => Documents::Read,
            false => Documents::Skipped,
        };
        let rows = self.inner.db.list_instances(api, tenant, documents).await?;
        let views: Vec<(String, Value)> = rows
            .iter()
            .map(|r| (r.id.clone(), views::instance_without(r, left_out)))
            .collect();
        self.page(
            views,
            query,
            match api {
                ApiVersion::V1 => &attributes::VNF_INSTANCE_V1,
                ApiVersion::V2 => &attributes::VNF_INSTANCE_V2,
            },
            &views::mandatory(views::Resource::Instance, api),
            INSTANCE_DEFAULT_EXCLUDED,
        )
    }

    /// The tenant a caller's list of `what` is limited to (`None`: every tenant, for an
    /// admin), once policy allows the caller that list. Besides the rows, all a list page
    /// depends on is this and the request.
    pub fn list_scope(&self, ctx: &RequestContext, api: ApiVersion, what: Listed) -> Result<Option<String>> {
        let own = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, api, what.action(), &own)?;
        Ok((!ctx.is_admin).then_some(own))
    }

    /// The revision of every row LCM lists show, bumped by each transaction that changes
    /// one: a page rendered at the current revision is still exact.
    pub async fn lists_revision(&self) -> Result<i64> {
        Ok(self.inner.db.lcm_revision().await?)
    }

    /// Filters, trims and pages rendered views (see [`never_shown`] for which need not
    /// be rendered whole); the selection keeps the `mandatory`
    /// attributes ([`views::mandatory`]). A filter or selector naming an attribute `schema`
    /// lacks is a 400 (SOL013 clause 5.2.2).
    pub(crate) fn page(
        &self,
        views: Vec<(String, Value)>,
        query: &ListQuery,
        schema: &ResourceSchema,
        mandatory: &[&str],
        default_excluded: &[&str],
    ) -> Result<Page> {
        schema
            .check(query.filter.as_ref(), &query.selection)
            .map_err(|e| LcmError::BadRequest(e.to_string()))?;
        let mut matching: Vec<(String, Value)> = views
            .into_iter()
            .filter(|(_, v)| query.filter.as_ref().is_none_or(|f| f.matches(v)))
            .collect();
        let mandatory: Vec<Vec<&str>> = mandatory.iter().map(|p| p.split('/').collect()).collect();
        let top_level_only = default_excluded.iter().all(|p| !p.contains('/'));
        for (_, view) in &mut matching {
            match (&query.selection, view.as_object_mut()) {
                (FieldSelection::AllFields, _) => {}
                // The common case, no selector: the default-excluded attributes are moved
                // out (not the whole view copied) and their mandatory parts put back.
                (FieldSelection::ExcludeDefault, Some(attributes)) if top_level_only => {
                    let removed: Map<String, Value> = default_excluded
                        .iter()
                        .filter_map(|key| attributes.remove(*key).map(|v| ((*key).to_owned(), v)))
                        .collect();
                    let removed = Value::Object(removed);
                    for path in &mandatory {
                        views::restore(&removed, view, path);
                    }
                }
                _ => {
                    let original = view.clone();
                    query.selection.apply(view, default_excluded);
                    for path in &mandatory {
                        views::restore(&original, view, path);
                    }
                }
            }
        }
        let page = Paging::new(self.inner.page_size)
            .page(matching, query.nextpage_opaque_marker.as_deref(), |(id, _)| {
                id.as_str()
            })
            .map_err(|e| LcmError::BadRequest(e.to_string()))?;
        Ok(Page {
            items: page.items.into_iter().map(|(_, v)| v).collect(),
            next_marker: page.next_marker,
        })
    }

    /// `GET /vnf_instances/{id}`.
    pub async fn show(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<Value> {
        Ok(views::instance(
            &self.visible_instance(ctx, api, id, ("show", "show")).await?,
        ))
    }

    /// `DELETE /vnf_instances/{id}`: only a InstantiationState::NotInstantiated instance no operation holds.
    pub async fn delete(&self, ctx: &RequestContext, api: ApiVersion, id: &str) -> Result<()> {
        let row = self.visible_instance(ctx, api, id, ("delete", "delete")).await?;
        if row.instantiation_state != InstantiationState::NotInstantiated {
            return Err(LcmError::Conflict(instantiated_message(api, id)));
        }
        if row.active_op_occ_id.is_some() {
            return Err(LcmError::Conflict(in_progress_message(id)));
        }
        let subscriptions = self.subscriptions(&row.tenant_id, api).await?;
        let notifications =
            self.inner
                .notifier
                .identifier(&subscriptions, &row, DELETION_NOTIFICATION, Utc::now());
        let notified = !notifications.is_empty();
        let (inner, instance_id) = (self.inner.clone(), id.to_owned());
        // The row and then the key file, both even if the client goes away.
        let deleted = run_detached(async move {
            inner.db.delete_instance(&instance_id, &notifications).await?;
            if let Err(e) = inner.vault.remove(&instance_id) {
                tracing::warn!(instance = %instance_id, error = %e, "instance key could not be removed");
            }
            Ok::<(), DbError>(())
        })
        .await?;
        match deleted {
            Ok(()) => {}
            Err(DbError::NotFound) => return Err(not_found(api, id)),
            Err(DbError::StateChanged) => return Err(LcmError::Conflict(in_progress_message(id))),
            Err(e) => return Err(e.into()),
        }
        self.queued(notified);
        tracing::info!(instance = %id, "VNF instance deleted");
        Ok(())
    }

    /// The onboarded, enabled package of `vnfd_id` the caller may use.
    pub(crate) async fn usable_package(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        vnfd_id: &str,
    ) -> Result<PackageRow> {
        let package = self.inner.db.package_by_vnfd_id(vnfd_id).await?;
        match package {
            Some(p)
                if ctx.can_see_tenant(&p.tenant_id)
                    && p.onboarding_state == "ONBOARDED"
                    && p.operational_state == "ENABLED" =>
            {
                Ok(p)
            }
            Some(p) if ctx.can_see_tenant(&p.tenant_id) && p.onboarding_state == "ONBOARDED" => {
                Err(LcmError::Unprocessable(format!("VnfdId {vnfd_id} not enabled.")))
            }
            _ => Err(match api {
                ApiVersion::V1 => {
                    LcmError::NotFound(format!("Can not find requested vnf package: vnfd_id {vnfd_id}"))
                }
                ApiVersion::V2 => LcmError::Unprocessable(format!("VnfdId {vnfd_id} not enabled.")),
            }),
        }
    }

    /// The instance if it exists in this API, the caller may see it, and policy allows.
    pub(crate) async fn visible_instance(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        id: &str,
        action: (&str, &str),
    ) -> Result<InstanceRow> {
        let row = match self.inner.db.get_instance(id).await? {
            Some(row) if row.api_version == api && ctx.can_see_tenant(&row.tenant_id) => row,
            _ => return Err(not_found(api, id)),
        };
        self.authorize(ctx, api, action, &row.tenant_id)?;
        Ok(row)
    }

    /// Policy check; `action` is the (v1, v2) rule name.
    pub(crate) fn authorize(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        action: (&str, &str),
        tenant_id: &str,
    ) -> Result<()> {
        let rule = match api {
            ApiVersion::V1 => format!("os_nfv_orchestration_api:vnf_instances:{}", action.0),
            ApiVersion::V2 => format!("os_nfv_orchestration_api_v2:vnf_instances:{}", action.1),
        };
        enforce(&self.inner.policy, rule, ctx, tenant_id)
    }

    pub(crate) async fn subscriptions(
        &self,
        tenant_id: &str,
        api: ApiVersion,
    ) -> Result<Vec<SubscriptionRow>> {
        Ok(self.inner.db.list_subscriptions(api, Some(tenant_id)).await?)
    }

    /// Tells an in-process conductor there is work (a separate one polls).
    pub(crate) fn queued(&self, any: bool) {
        if any {
            (self.inner.work_queued)();
        }
    }

    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    pub fn vault(&self) -> &KeyVault {
        &self.inner.vault
    }

    pub fn notifier(&self) -> &Notifier {
        &self.inner.notifier
    }
}

pub(crate) fn not_found(api: ApiVersion, id: &str) -> LcmError {
    LcmError::NotFound(match api {
        ApiVersion::V1 => format!("Can not find requested vnf instance: {id}"),
        ApiVersion::V2 => format!("VnfInstance {id} not found."),
    })
}

pub(crate) fn instantiated_message(api: ApiVersion, id: &str) -> String {
    match api {
        ApiVersion::V1 => format!(
            "Vnf instance {id} in instantiation_state INSTANTIATED. Cannot delete while the vnf instance is in this state."
        ),
        ApiVersion::V2 => format!("VnfInstance {id} is instantiated."),
    }
}

pub(crate) fn in_progress_message(id: &str) -> String {
    format!("Other LCM operation of vnfInstance {id} is in progress.")
}

/// Checks a policy rule for a resource of `tenant_id`: 403 with Tacker's message if it
/// does not allow the caller (also used by fault and performance management).
pub fn enforce(policy: &Enforcer, rule: String, ctx: &RequestContext, tenant_id: &str) -> Result<()> {
    if policy.enforce(&rule, &Enforcer::project_target(tenant_id), ctx) {
        Ok(())
    } else {
        Err(LcmError::Forbidden(rule))
    }
}

/// Filters, selects (keeping `id` and `_links`) and pages rendered views of a resource
/// with no mandatory attributes beyond those (fault and performance management lists).
pub fn plain_page(
    views: Vec<(String, Value)>,
    query: &ListQuery,
    schema: &ResourceSchema,
    page_size: usize,
) -> Result<Page> {
    schema
        .check(query.filter.as_ref(), &query.selection)
        .map_err(|e| LcmError::BadRequest(e.to_string()))?;
    let mut matching: Vec<(String, Value)> = views
        .into_iter()
        .filter(|(_, view)| query.filter.as_ref().is_none_or(|f| f.matches(view)))
        .collect();
    if !matches!(
        query.selection,
        FieldSelection::ExcludeDefault | FieldSelection::AllFields
    ) {
        for (_, view) in &mut matching {
            let original = view.clone();
            query.selection.apply(view, &[]);
            for key in ["id", "_links"] {
                if let (Some(object), Some(value)) = (view.as_object_mut(), original.get(key)) {
                    object.insert(key.to_owned(), value.clone());
                }
            }
        }
    }
    let page = Paging::new(page_size)
        .page(matching, query.nextpage_opaque_marker.as_deref(), |(id, _)| {
            id.as_str()
        })
        .map_err(|e| LcmError::BadRequest(e.to_string()))?;
    Ok(Page {
        items: page.items.into_iter().map(|(_, view)| view).collect(),
        next_marker: page.next_marker,
    })
}
