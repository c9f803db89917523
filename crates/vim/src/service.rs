//! Register, list, show, update and delete VIMs.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use tacker_common::time::{now, tacker_datetime};
use tacker_common::RequestContext;
use tacker_crypto::KeyVault;
use tacker_db::vims::{VimColumn, VimFilter, VimRow};
use tacker_db::Database;

use crate::attrs::{CreateVim, UpdateVim};
use crate::auth_cred;
use crate::VimError;

/// The VIM attributes a response shows (`shared` is hidden, as in Tacker).
const VISIBLE: &[&str] = &[
    "id",
    "tenant_id",
    "type",
    "auth_url",
    "auth_cred",
    "vim_project",
    "name",
    "description",
    "status",
    "placement_attr",
    "is_default",
    "created_at",
    "updated_at",
    "extra",
];

/// A list request: exact-match filters and the fields to return.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `(attribute, value)` pairs from the query string, repeated keys allowed.
    pub filters: Vec<(String, String)>,
    /// `fields=` values; empty means every visible attribute.
    pub fields: Vec<String>,
}

/// The VIM registry over the shared database and the key folder.
#[derive(Debug, Clone)]
pub struct VimService {
    db: Database,
    vault: KeyVault,
    drivers: Vec<String>,
}

impl VimService {
    /// `drivers` is `[nfvo_vim] vim_drivers`: the types that may be registered.
    pub fn new(db: Database, vault: KeyVault, drivers: Vec<String>) -> Self {
        VimService { db, vault, drivers }
    }

    /// Registers a VIM and returns its response view.
    pub async fn create(&self, ctx: &RequestContext, req: CreateVim) -> Result<Value, VimError> {
        let tenant_id = owning_tenant(ctx, req.tenant_id.as_deref())?;
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
        let (auth_url, mut cred) = match req.vim_type.as_str() {
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
        let keys = self.vault.create(&id)?;
        auth_cred::encrypt(&mut cred, &keys);
        let row = VimRow {
            id: id.clone(),
            tenant_id,
            vim_type: req.vim_type,
            name: req.name,
            description: req.description,
            auth_url,
            vim_project: Value::Object(req.vim_project).to_string(),
            auth_cred: Value::Object(cred).to_string(),
            placement_attr: json!({"regions": []}).to_string(),
            extra: Value::Object(req.extra).to_string(),
            shared: false,
            is_default: req.is_default,
            created_at: now(),
            updated_at: None,
        };
        if let Err(err) = self.db.insert_vim(&row).await {
            // The key file belongs to a VIM that does not exist: remove it.
            if let Err(cleanup) = self.vault.remove(&id) {
                tracing::warn!(vim_id = %id, error = %cleanup, "cannot remove the key of a VIM that was not stored");
            }
            return Err(err.into());
        }
        tracing::info!(vim_id = %id, vim_type = %row.vim_type, "VIM registered");
        Ok(view(&row))
    }

    /// One VIM the caller may see; others' VIMs are reported as not found.
    pub async fn show(&self, ctx: &RequestContext, id: &str) -> Result<Value, VimError> {
        Ok(view(&self.visible(ctx, id).await?))
    }

    /// VIMs the caller may see, filtered, with only the requested fields.
    pub async fn list(&self, ctx: &RequestContext, query: &ListQuery) -> Result<Vec<Value>, VimError> {
        let mut filter = VimFilter {
            visible_to_tenant: (!ctx.is_admin).then(|| ctx.project_id.clone().unwrap_or_default()),
            ..VimFilter::default()
        };
        let mut match_nothing = false;
        for (key, value) in &query.filters {
            let column = match key.as_str() {
                "id" => VimColumn::Id,
                "tenant_id" => VimColumn::TenantId,
                "type" => VimColumn::Type,
                "name" => VimColumn::Name,
                "description" => VimColumn::Description,
                "auth_url" => VimColumn::AuthUrl,
                "is_default" => {
                    match value.to_ascii_lowercase().as_str() {
                        "true" | "1" => filter.is_default = Some(true),
                        "false" | "0" => filter.is_default = Some(false),
                        _ => {
                            return Err(VimError::invalid(
                                "is_default",
                                format!("'{value}' cannot be converted to boolean"),
                            ))
                        }
                    }
                    continue;
                }
                // Every VIM is ACTIVE; any other status matches nothing.
                "status" => {
                    match_nothing |= value != "ACTIVE";
                    continue;
                }
                // Like Tacker, filters on attributes that are not columns are ignored.
                _ => continue,
            };
            match filter.any_of.iter_mut().find(|(c, _)| *c == column) {
                Some((_, values)) => values.push(value.clone()),
                None => filter.any_of.push((column, vec![value.clone()])),
            }
        }
        if match_nothing {
            return Ok(Vec::new());
        }
        let rows = self.db.list_vims(&filter).await?;
        let fields: BTreeSet<&str> = query.fields.iter().map(String::as_str).collect();
        Ok(rows
            .iter()
            .map(|row| {
                let mut item = view(row);
                if !fields.is_empty() {
                    if let Value::Object(map) = &mut item {
                        map.retain(|k, _| fields.contains(k.as_str()));
                    }
                }
                item
            })
            .collect())
    }

    /// Applies a PUT and returns the new view.
    pub async fn update(&self, ctx: &RequestContext, id: &str, req: UpdateVim) -> Result<Value, VimError> {
        let mut row = self.visible(ctx, id).await?;
        if self.db.vim_in_use(id).await? {
            return Err(VimError::InUse(id.into()));
        }
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
            row.extra = Value::Object(extra).to_string();
        }
        if let Some(update) = req.auth_cred {
            let keys = self.vault.open(id)?;
            let mut cred = parse_object(&row.auth_cred);
            if row.vim_type == "kubernetes" {
                let mut update = auth_cred::normalize_kubernetes(update)?;
                auth_cred::encrypt(&mut update, &keys);
                auth_cred::merge_kubernetes(&mut cred, update);
                auth_cred::finish_kubernetes(&mut cred, &row.auth_url)?;
            } else {
                let mut update = update;
                auth_cred::encrypt(&mut update, &keys);
                deep_merge(&mut cred, update);
                auth_cred::finish_openstack(&mut cred, &row.auth_url, &vim_project)?;
            }
            row.auth_cred = Value::Object(cred).to_string();
        }
        row.vim_project = Value::Object(vim_project).to_string();
        row.updated_at = Some(now());
        self.db.update_vim(&row).await.map_err(|e| match e {
            tacker_db::DbError::NotFound => VimError::NotFound(id.into()),
            other => other.into(),
        })?;
        tracing::info!(vim_id = %id, "VIM updated");
        Ok(view(&row))
    }

    /// Deletes a VIM no VNF uses, then its key file.
    pub async fn delete(&self, ctx: &RequestContext, id: &str) -> Result<(), VimError> {
        self.visible(ctx, id).await?;
        self.db.delete_vim(id).await.map_err(|e| match e {
            tacker_db::DbError::NotFound => VimError::NotFound(id.into()),
            other => other.into(),
        })?;
        if let Err(err) = self.vault.remove(id) {
            tracing::warn!(vim_id = %id, error = %err, "VIM deleted but its key file could not be removed");
        }
        tracing::info!(vim_id = %id, "VIM deleted");
        Ok(())
    }

    /// Re-encrypts a VIM's secrets with a brand-new key. The old key stays in the key file
    /// until the new ciphertexts are stored, so an interruption loses nothing.
    pub async fn rotate_key(&self, id: &str) -> Result<(), VimError> {
        let row = self
            .db
            .get_vim(id)
            .await?
            .ok_or_else(|| VimError::NotFound(id.into()))?;
        let keys = self.vault.add_new_key(id)?;
        let mut cred = parse_object(&row.auth_cred);
        auth_cred::decrypt(&mut cred, &keys)?;
        auth_cred::encrypt(&mut cred, &keys);
        self.db
            .update_vim_auth_cred(id, &Value::Object(cred).to_string())
            .await?;
        self.vault.drop_old_keys(id)?;
        tracing::info!(vim_id = %id, "VIM key rotated");
        Ok(())
    }

    /// Every VIM id, for maintenance commands.
    pub async fn all_ids(&self) -> Result<Vec<String>, VimError> {
        let rows = self.db.list_vims(&VimFilter::default()).await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// The row if it exists and the caller may see it; otherwise not found.
    async fn visible(&self, ctx: &RequestContext, id: &str) -> Result<VimRow, VimError> {
        match self.db.get_vim(id).await? {
            Some(row) if ctx.can_see_tenant(&row.tenant_id) || row.shared => Ok(row),
            _ => Err(VimError::NotFound(id.into())),
        }
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

fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
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

/// The response form of a row: visible attributes only, secrets masked.
fn view(row: &VimRow) -> Value {
    let mut cred = parse_object(&row.auth_cred);
    auth_cred::mask(&mut cred);
    let mut map = Map::new();
    for attr in VISIBLE {
        let value = match *attr {
            "id" => json!(row.id),
            "tenant_id" => json!(row.tenant_id),
            "type" => json!(row.vim_type),
            "auth_url" => json!(row.auth_url),
            "auth_cred" => Value::Object(cred.clone()),
            "vim_project" => Value::Object(parse_object(&row.vim_project)),
            "name" => json!(row.name),
            "description" => json!(row.description),
            "status" => json!("ACTIVE"),
            "placement_attr" => Value::Object(parse_object(&row.placement_attr)),
            "is_default" => json!(row.is_default),
            "created_at" => json!(tacker_datetime(&row.created_at)),
            "updated_at" => row
                .updated_at
                .as_ref()
                .map(tacker_datetime)
                .map_or(Value::Null, Value::String),
            "extra" => Value::Object(parse_object(&row.extra)),
            _ => continue,
        };
        map.insert((*attr).into(), value);
    }
    Value::Object(map)
}
