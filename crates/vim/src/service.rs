//! Register, list, show, update and delete VIMs.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Map, Value};
use tacker_common::detach::run_detached;
use tacker_common::time::{now, tacker_datetime};
use tacker_common::RequestContext;
use tacker_crypto::KeyVault;
use tacker_db::vims::VimRow;
use tacker_db::Database;
use tacker_db::StoredJson;
use tacker_driver::Drivers;
use tacker_policy::Enforcer;

use crate::attrs::{CreateVim, UpdateVim};
use crate::auth_cred;
use crate::connection::RegisteredVim;
use crate::list::{list_body, ListCache, ListFilter, ListedVim};
use crate::VimError;

/// How often a write whose row changed underneath is read and applied again before the
/// caller gets a 409. Each retry means another request won, so this bounds only a storm.
const MAX_WRITE_ATTEMPTS: usize = 8;

/// A list result: whole views, or only the attributes `fields=` asked for.
#[derive(Debug)]
pub enum VimList {
    /// Whole views: the `{"vims": [...]}` body, already written.
    Full(String),
    /// The selected attributes of each view, for the caller to wrap.
    Selected(Vec<Value>),
}

/// A list request: exact-match filters and the fields to return.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `(attribute, value)` pairs from the query string, repeated keys allowed.
    pub filters: Vec<(String, String)>,
    /// `fields=` values; empty means every visible attribute.
    pub fields: Vec<String>,
}

/// The VIM registry over the shared database and the key folder.
#[derive(Clone)]
pub struct VimService {
    db: Database,
    vault: KeyVault,
    drivers: Vec<String>,
    policy: Arc<Enforcer>,
    list_cache: Arc<ListCache>,
    /// Checks VIMs against their infrastructure with their type's driver
    /// (`[k8s_vim] validate_on_register`).
    probes: Option<Drivers>,
}

impl VimService {
    /// `drivers` is `[nfvo_vim] vim_drivers`: the types that may be registered.
    pub fn new(db: Database, vault: KeyVault, drivers: Vec<String>, policy: Arc<Enforcer>) -> Self {
        VimService {
            db,
            vault,
            drivers,
            policy,
            list_cache: Arc::default(),
            probes: None,
        }
    }

    /// The registry as tacker.conf sets it up: the VIM types of `[nfvo_vim] vim_drivers`,
    /// checked against their infrastructure by `drivers` when `[k8s_vim]
    /// validate_on_register` is on. The API server and `tacker-manage vim register` both
    /// build it here, so that a VIM is validated the same way whichever way it comes in.
    pub fn from_config(
        config: &tacker_common::Config,
        db: Database,
        vault: KeyVault,
        policy: Arc<Enforcer>,
        drivers: Drivers,
    ) -> Self {
        let service = VimService::new(db, vault, config.vim_drivers.clone(), policy);
        if config.k8s_validate_on_register {
            service.with_probes(drivers)
        } else {
            service
        }
    }

    /// Checks VIMs against their infrastructure on register and credential update, with
    /// the driver of their type (types without one are not checked).
    pub fn with_probes(mut self, drivers: Drivers) -> Self {
        self.probes = Some(drivers);
        self
    }

    /// The regions of the VIM as its driver finds them (for Kubernetes, the cluster's
    /// namespaces); none when it is not checked.
    async fn regions(&self, vim: &RegisteredVim) -> Result<Vec<String>, VimError> {
        let Some(driver) = self.probes.as_ref().and_then(|d| d.get(&vim.vim_type)) else {
            return Ok(Vec::new());
        };
        driver.probe(&vim.connection()).await.map_err(|why| {
            VimError::BadRequest(format!(
                "{} VIM validation failed: {why}",
                type_title(&vim.vim_type)
            ))
        })
    }

    /// Registers a VIM and returns its response view.
    pub async fn create(&self, ctx: &RequestContext, req: CreateVim) -> Result<VimView, VimError> {
        let tenant_id = owning_tenant(ctx, req.tenant_id.as_deref())?;
        if !self.allowed(ctx, "create_vim", &tenant_id) {
            return Err(VimError::Forbidden("create_vim".into()));
        }
        if !self.drivers.iter().any(|d| d == &req.vim_type) {
            return Err(VimError::invalid(
                "type",
                format!(
                    "'{}' is not a supported VIM type ({})",
                    req.vim_type,
                    self.drivers.join(", ")
                ),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let (auth_url, cred) = match req.vim_type.as_str() {
            "kubernetes" => {
                auth_cred::check_http_url(&req.auth_url)
                    .map_err(|why| VimError::invalid("auth_url", format!("'{}' {why}", req.auth_url)))?;
                let mut cred = auth_cred::normalize_kubernetes(req.auth_cred)?;
                auth_cred::finish_kubernetes(&mut cred, &req.auth_url)?;
                (req.auth_url, cred)
            }
            _ => {
                let mut cred = req.auth_cred;
                let url = auth_cred::finish_openstack(&mut cred, &req.auth_url, &req.vim_project)?;
                (url, cred)
            }
        };
        let regions = self
            .regions(&RegisteredVim {
                id: id.clone(),
                vim_type: req.vim_type.clone(),
                auth_url: auth_url.clone(),
                auth_cred: cred.clone(),
                vim_project: req.vim_project.clone(),
                extra: req.extra.clone(),
                regions: Vec::new(),
            })
            .await?;
        let row = VimRow {
            id,
            tenant_id,
            vim_type: req.vim_type,
            name: req.name,
            description: req.description,
            auth_url,
            vim_project: req.vim_project.into(),
            // Set once encrypted, by store_new.
            auth_cred: Map::new().into(),
            placement_attr: json!({"regions": regions}).into(),
            extra: req.extra.into(),
            shared: false,
            is_default: req.is_default,
            created_at: now(),
            updated_at: None,
            revision: 0,
        };
        // The key file and the row are written together or not at all, even if the
        // client goes away in between.
        let service = self.clone();
        let row = run_detached(async move { service.store_new(row, cred).await }).await??;
        tracing::info!(vim_id = %row.id, vim_type = %row.vim_type, "VIM registered");
        Ok(VimView::from_row(row))
    }

    /// Creates the VIM's key, encrypts its secrets and inserts its row; removes the key
    /// again when the row cannot be stored.
    async fn store_new(&self, mut row: VimRow, mut cred: Map<String, Value>) -> Result<VimRow, VimError> {
        let keys = self.vault.create(&row.id)?;
        auth_cred::encrypt(&mut cred, &keys);
        row.auth_cred = cred.into();
        if let Err(err) = self.db.insert_vim(&row).await {
            // The key file belongs to a VIM that does not exist: remove it.
            if let Err(cleanup) = self.vault.remove(&row.id) {
                tracing::warn!(vim_id = %row.id, error = %cleanup, "cannot remove the key of a VIM that was not stored");
            }
            return Err(err.into());
        }
        Ok(row)
    }

    /// One VIM the caller may see; others' VIMs are reported as not found. Answered from
    /// the views kept for lists, which are current as of the VIM revision just read.
    pub async fn show(&self, ctx: &RequestContext, id: &str) -> Result<Arc<ListedVim>, VimError> {
        let views = self.list_cache.views(&self.db).await?;
        match views.get(id) {
            Some(view) if self.may_see(ctx, "get_vim", &view.tenant_id, view.shared) => Ok(view.clone()),
            _ => Err(VimError::NotFound(id.into())),
        }
    }

    /// VIMs the caller may see, filtered, with only the requested fields.
    pub async fn list(&self, ctx: &RequestContext, query: &ListQuery) -> Result<VimList, VimError> {
        let filters = ListFilter::parse(&query.filters)?;
        let views = self.list_cache.views(&self.db).await?;
        let visible = views
            .iter()
            .filter(|v| filters.matches(v) && self.may_see(ctx, "get_vim", &v.tenant_id, v.shared));
        if query.fields.is_empty() {
            let visible: Vec<&ListedVim> = visible.map(|v| &**v).collect();
            return Ok(VimList::Full(list_body(&visible)));
        }
        let fields: BTreeSet<&str> = query.fields.iter().map(String::as_str).collect();
        Ok(VimList::Selected(visible.map(|v| v.select(&fields)).collect()))
    }

    /// Applies a PUT and returns the new view. The row is written only if nobody changed
    /// it since it was read; otherwise the request is applied again to the fresh row, so
    /// racing updates of different attributes are all kept.
    pub async fn update(&self, ctx: &RequestContext, id: &str, req: UpdateVim) -> Result<VimView, VimError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let row = self.visible(ctx, id, "update_vim").await?;
            if self.db.vim_in_use(id).await? {
                return Err(VimError::InUse(id.into()));
            }
            let row = self.updated_row(row, req.clone()).await?;
            match self.db.update_vim(&row).await {
                Ok(()) => {
                    tracing::info!(vim_id = %id, "VIM updated");
                    return Ok(VimView::from_row(row));
                }
                Err(tacker_db::DbError::StateChanged) => continue,
                Err(tacker_db::DbError::NotFound) => return Err(VimError::NotFound(id.into())),
                Err(other) => return Err(other.into()),
            }
        }
        Err(VimError::Conflict(id.into()))
    }

    /// `row` with a PUT applied: attributes replaced or merged, credentials encrypted and,
    /// for Kubernetes, checked against the cluster.
    async fn updated_row(&self, mut row: VimRow, req: UpdateVim) -> Result<VimRow, VimError> {
        let id = row.id.clone();
        if let Some(name) = req.name {
            row.name = name;
        }
        if let Some(description) = req.description {
            row.description = description;
        }
        if let Some(is_default) = req.is_default {
            row.is_default = is_default;
        }
        let mut vim_project = parse_object(&row.vim_project);
        if let Some(update) = req.vim_project {
            deep_merge(&mut vim_project, update);
        }
        if let Some(update) = req.extra {
            let mut extra = parse_object(&row.extra);
            deep_merge(&mut extra, update);
            row.extra = extra.into();
        }
        if let Some(update) = req.auth_cred {
            let keys = self.vault.open(&id)?;
            let mut cred = parse_object(&row.auth_cred);
            if row.vim_type == "kubernetes" {
                let mut update = auth_cred::normalize_kubernetes(update)?;
                auth_cred::encrypt(&mut update, &keys);
                auth_cred::merge_kubernetes(&mut cred, update);
                auth_cred::finish_kubernetes(&mut cred, &row.auth_url)?;
                if self.probes.is_some() {
                    let mut clear = cred.clone();
                    auth_cred::decrypt(&mut clear, &keys)?;
                    let regions = self
                        .regions(&RegisteredVim {
                            id: id.clone(),
                            vim_type: row.vim_type.clone(),
                            auth_url: row.auth_url.clone(),
                            auth_cred: clear,
                            vim_project: vim_project.clone(),
                            extra: parse_object(&row.extra),
                            regions: Vec::new(),
                        })
                        .await?;
                    row.placement_attr = json!({"regions": regions}).into();
                }
            } else {
                let mut update = update;
                auth_cred::encrypt(&mut update, &keys);
                deep_merge(&mut cred, update);
                auth_cred::finish_openstack(&mut cred, &row.auth_url, &vim_project)?;
            }
            row.auth_cred = cred.into();
        }
        row.vim_project = vim_project.into();
        row.updated_at = Some(now());
        Ok(row)
    }

    /// Deletes a VIM no VNF uses, then its key file (both, even if the client goes away).
    pub async fn delete(&self, ctx: &RequestContext, id: &str) -> Result<(), VimError> {
        self.visible(ctx, id, "delete_vim").await?;
        let (db, vault, vim_id) = (self.db.clone(), self.vault.clone(), id.to_owned());
        run_detached(async move {
            db.delete_vim(&vim_id).await.map_err(|e| match e {
                tacker_db::DbError::NotFound => VimError::NotFound(vim_id.clone()),
                other => other.into(),
            })?;
            if let Err(err) = vault.remove(&vim_id) {
                tracing::warn!(vim_id = %vim_id, error = %err, "VIM deleted but its key file could not be removed");
            }
            Ok::<(), VimError>(())
        })
        .await??;
        tracing::info!(vim_id = %id, "VIM deleted");
        Ok(())
    }

    /// Re-encrypts a VIM's secrets with a brand-new key. The old key stays in the key file
    /// until the new ciphertexts are stored, so an interruption loses nothing.
    pub async fn rotate_key(&self, id: &str) -> Result<(), VimError> {
        if self.db.get_vim(id).await?.is_none() {
            return Err(VimError::NotFound(id.into()));
        }
        let keys = self.vault.add_new_key(id)?;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let row = self
                .db
                .get_vim(id)
                .await?
                .ok_or_else(|| VimError::NotFound(id.into()))?;
            let mut cred = parse_object(&row.auth_cred);
            auth_cred::decrypt(&mut cred, &keys)?;
            auth_cred::encrypt(&mut cred, &keys);
            match self.db.update_vim_auth_cred(id, row.revision, &cred.into()).await {
                Ok(()) => {
                    self.vault.drop_old_keys(id)?;
                    tracing::info!(vim_id = %id, "VIM key rotated");
                    return Ok(());
                }
                // A concurrent update wrote credentials under the old key: read them again.
                Err(tacker_db::DbError::StateChanged) => continue,
                Err(tacker_db::DbError::NotFound) => return Err(VimError::NotFound(id.into())),
                Err(other) => return Err(other.into()),
            }
        }
        Err(VimError::Conflict(id.into()))
    }

    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    pub(crate) fn vault(&self) -> &KeyVault {
        &self.vault
    }

    /// Every VIM id, for maintenance commands.
    pub async fn all_ids(&self) -> Result<Vec<String>, VimError> {
        let rows = self.db.all_vims().await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// The row if it exists, the caller may see it and policy allows `action` on it;
    /// otherwise not found, so that other projects' VIMs stay hidden.
    async fn visible(&self, ctx: &RequestContext, id: &str, action: &str) -> Result<VimRow, VimError> {
        match self.db.get_vim(id).await? {
            Some(row) if self.may_see(ctx, action, &row.tenant_id, row.shared) => Ok(row),
            _ => Err(VimError::NotFound(id.into())),
        }
    }

    /// Whether the caller sees a VIM of `tenant_id` (its own project's, or a shared one)
    /// and policy allows `action` on it.
    fn may_see(&self, ctx: &RequestContext, action: &str, tenant_id: &str, shared: bool) -> bool {
        (ctx.can_see_tenant(tenant_id) || shared) && self.allowed(ctx, action, tenant_id)
    }

    fn allowed(&self, ctx: &RequestContext, action: &str, tenant_id: &str) -> bool {
        // Admins pass every rule; lists call this per VIM, so skip building their target.
        ctx.is_admin
            || self
                .policy
                .enforce(action, &Enforcer::project_target(tenant_id), ctx)
    }
}

/// `kubernetes` → `Kubernetes`, for messages.
fn type_title(vim_type: &str) -> String {
    let mut chars = vim_type.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The project that will own a new VIM, with Tacker's rules for `tenant_id` in the body.
fn owning_tenant(ctx: &RequestContext, requested: Option<&str>) -> Result<String, VimError> {
    match (requested, ctx.project_id.as_deref()) {
        (Some(requested), Some(own)) if requested != own && !ctx.is_admin => Err(VimError::BadRequest(
            "Specifying 'tenant_id' other than authenticated tenant in request requires admin privileges"
                .into(),
        )),
        (Some(requested), _) if !requested.is_empty() => Ok(requested.into()),
        (_, Some(own)) => Ok(own.into()),
        _ => Err(VimError::BadRequest(
            "Running without keystone AuthN requires that tenant_id is specified".into(),
        )),
    }
}

/// The members of a stored object column (none if it holds another JSON value).
pub(crate) fn parse_object(stored: &StoredJson) -> Map<String, Value> {
    stored.to_object().unwrap_or_default()
}

/// Merges `update` into `base`, recursing into objects present in both.
fn deep_merge(base: &mut Map<String, Value>, update: Map<String, Value>) {
    for (key, value) in update {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(new_inner)) => deep_merge(inner, new_inner),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The response form of a row: Tacker's visible attributes (`shared` is hidden), secrets
/// masked. JSON columns are passed through as stored, without re-parsing.
#[derive(Debug, Serialize)]
pub struct VimView {
    /// Not shown (as in Tacker) but needed for scoping.
    #[serde(skip)]
    pub(crate) shared: bool,
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    #[serde(rename = "type")]
    pub(crate) vim_type: String,
    pub(crate) auth_url: String,
    pub(crate) auth_cred: Map<String, Value>,
    pub(crate) vim_project: StoredJson,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) status: &'static str,
    pub(crate) placement_attr: StoredJson,
    pub(crate) is_default: bool,
    pub(crate) created_at: String,
    pub(crate) updated_at: Option<String>,
    pub(crate) extra: StoredJson,
}

impl VimView {
    pub(crate) fn from_row(row: VimRow) -> Self {
        let mut auth_cred = parse_object(&row.auth_cred);
        auth_cred::mask(&mut auth_cred);
        VimView {
            auth_cred,
            vim_project: row.vim_project,
            placement_attr: row.placement_attr,
            extra: row.extra,
            created_at: tacker_datetime(&row.created_at),
            updated_at: row.updated_at.as_ref().map(tacker_datetime),
            id: row.id,
            tenant_id: row.tenant_id,
            vim_type: row.vim_type,
            auth_url: row.auth_url,
            name: row.name,
            description: row.description,
            status: "ACTIVE",
            is_default: row.is_default,
            shared: row.shared,
        }
    }

    /// Only the named attributes (a list's `fields=`), as a JSON object.
    fn select(&self, fields: &BTreeSet<&str>) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut map)) => {
                map.retain(|k, _| fields.contains(k.as_str()));
                Value::Object(map)
            }
            _ => Value::Null,
        }
    }
}
