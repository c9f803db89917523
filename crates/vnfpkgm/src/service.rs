//! The package resource's rules: who may see and change a package, which state allows
//! what, and Tacker's messages when a request does not fit.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Map, Value};
use tacker_common::RequestContext;
use tacker_db::packages::PackageRow;
use tacker_db::{Database, DbError, StoredJsonError};
use tacker_pkgstore::{PackageStore, StoredFile};
use tacker_policy::Enforcer;
use uuid::Uuid;

use crate::error::{PkgError, Result};
use crate::jobs::Jobs;
use crate::settings::PackageSettings;
use crate::user_data::{check_user_data, merge_user_data};
use crate::view::{package_info, ONBOARDED};

const POLICY_PREFIX: &str = "os_nfv_orchestration_api:vnf_packages:";

/// The package registry; cheap to clone.
#[derive(Clone)]
pub struct PackageService {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub db: Database,
    pub store: PackageStore,
    pub settings: PackageSettings,
    pub policy: Arc<Enforcer>,
    /// For upload_from_uri (system roots, bounded by `upload_from_uri_timeout`).
    pub http: reqwest::Client,
    /// The onboardings and downloads running in the background here.
    pub jobs: Jobs,
}

impl PackageService {
    pub fn new(
        db: Database,
        settings: PackageSettings,
        store: PackageStore,
        policy: Arc<Enforcer>,
        http: reqwest::Client,
    ) -> Self {
        PackageService {
            inner: Arc::new(Inner {
                db,
                store,
                settings,
                policy,
                http,
                jobs: Jobs::default(),
            }),
        }
    }

    /// Where the package files are.
    pub fn store(&self) -> &PackageStore {
        &self.inner.store
    }

    pub fn settings(&self) -> &PackageSettings {
        &self.inner.settings
    }

    /// `POST /vnf_packages`.
    pub async fn create(&self, ctx: &RequestContext, body: Option<Value>) -> Result<Value> {
        let tenant_id = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, "create", &tenant_id)?;
        let body = match body {
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(PkgError::BadRequest(
                    "The request body must be a JSON object.".into(),
                ))
            }
            None => return Err(PkgError::BadRequest("Malformed request body".into())),
        };
        let user_data = match body.get("userDefinedData") {
            None | Some(Value::Null) => Map::new(),
            Some(value) => check_user_data(value)?,
        };
        let row = PackageRow {
            id: Uuid::new_v4().to_string(),
            tenant_id,
            onboarding_state: "CREATED".into(),
            operational_state: "DISABLED".into(),
            usage_state: "NOT_IN_USE".into(),
            user_data: user_data.into(),
            vnfd_id: None,
            vnf_provider: None,
            vnf_product_name: None,
            vnf_software_version: None,
            vnfd_version: None,
            checksum: None,
            software_images: None,
            additional_artifacts: None,
            vnfd: None,
            vnfd_files: None,
            onboarding_failure: None,
            onboarding_started_at: None,
            created_at: Utc::now(),
            updated_at: None,
        };
        self.inner.db.insert_package(&row).await?;
        tracing::info!(package = %row.id, "VNF package created");
        Ok(package_info(&row))
    }

    /// `GET /vnf_packages/{id}`.
    pub async fn show(&self, ctx: &RequestContext, id: &str) -> Result<Value> {
        Ok(package_info(&self.visible(ctx, id, "show").await?))
    }

    /// The tenant a caller's package list is limited to (`None`: every tenant, for an
    /// admin), once policy allows the caller the list. Besides the rows, all a list page
    /// depends on is this and the request.
    pub fn list_scope(&self, ctx: &RequestContext) -> Result<Option<String>> {
        let own = ctx.project_id.clone().unwrap_or_default();
        self.authorize(ctx, "index", &own)?;
        Ok((!ctx.is_admin).then_some(own))
    }

    /// The revision of what package lists show, bumped by each transaction that changes
    /// it: a page rendered at the current revision is still exact.
    pub async fn lists_revision(&self) -> Result<i64> {
        Ok(self.inner.db.packages_revision().await?)
    }

    /// Every package the caller may see, oldest first, as VnfPkgInfo.
    pub(crate) async fn visible_infos(&self, ctx: &RequestContext) -> Result<Vec<(String, Value)>> {
        let tenant = self.list_scope(ctx)?;
        let rows = self.inner.db.list_packages(tenant.as_deref()).await?;
        Ok(rows
            .iter()
            .map(|row| (row.id.clone(), package_info(row)))
            .collect())
    }

    /// `PATCH /vnf_packages/{id}`: returns the VnfPkgInfoModifications that were applied.
    pub async fn patch(&self, ctx: &RequestContext, id: &str, body: Option<Value>) -> Result<Value> {
        let body = match body {
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(PkgError::BadRequest(
                    "The request body must be a JSON object.".into(),
                ))
            }
            None => return Err(PkgError::BadRequest("Malformed request body".into())),
        };
        let requested_state = match body.get("operationalState") {
            None => None,
            Some(Value::String(s)) if s == "ENABLED" || s == "DISABLED" => Some(s.clone()),
            Some(other) => {
                return Err(PkgError::BadRequest(format!(
                    "Invalid input for field/attribute operationalState. Value: {other}. It must be 'ENABLED' or 'DISABLED'."
                )))
            }
        };
        let user_data_patch = match body.get("userDefinedData") {
            None => None,
            Some(value) => Some(check_user_data(value)?),
        };
        if requested_state.is_none() && user_data_patch.is_none() {
            return Err(PkgError::BadRequest(
                "The request must modify operationalState or userDefinedData.".into(),
            ));
        }
        let row = self.visible(ctx, id, "patch").await?;
        let user_data_patch = user_data_patch.filter(|patch| !patch.is_empty());

        let mut modifications = Map::new();
        let mut new_state = row.operational_state.clone();
        if let Some(state) = requested_state {
            if row.onboarding_state == ONBOARDED {
                if state == row.operational_state {
                    return Err(PkgError::Conflict(format!(
                        "VNF Package {id} is already in {state} operational state"
                    )));
                }
                modifications.insert("operationalState".into(), json!(state));
                new_state = state;
            } else if user_data_patch.is_none() {
                return Err(PkgError::BadRequest(format!(
                    "Updating operational state is not allowed for VNF Package {id} when onboarding state is not ONBOARDED"
                )));
            }
        }
        let mut user_data = row.user_data.to_object().unwrap_or_default();
        if let Some(patch) = user_data_patch {
            let changed = merge_user_data(&mut user_data, patch);
            if changed.is_empty() {
                return Err(PkgError::Conflict(format!(
                    "The userDefinedData provided in update request is as the existing userDefinedData of vnf package {id}. Nothing to update."
                )));
            }
            modifications.insert("userDefinedData".into(), Value::Object(changed));
        }
        if !modifications.is_empty() {
            let user_data = user_data.into();
            self.inner
                .db
                .update_package_info(
                    id,
                    &row.operational_state,
                    &new_state,
                    &row.user_data,
                    &user_data,
                    Utc::now(),
                )
                .await
                .map_err(|e| changed_concurrently(e, id))?;
        }
        Ok(Value::Object(modifications))
    }

    /// `DELETE /vnf_packages/{id}`: only a DISABLED package that no instance uses.
    pub async fn delete(&self, ctx: &RequestContext, id: &str) -> Result<()> {
        let row = self.visible(ctx, id, "delete").await?;
        if row.operational_state != "DISABLED" || row.usage_state != "NOT_IN_USE" {
            return Err(cannot_delete(&row));
        }
        match self.inner.db.delete_package(id).await {
            Ok(()) => {}
            Err(DbError::StateChanged) => {
                let row = self
                    .inner
                    .db
                    .get_package(id)
                    .await?
                    .ok_or_else(|| PkgError::package_not_found(id))?;
                return Err(cannot_delete(&row));
            }
            Err(DbError::NotFound) => return Err(PkgError::package_not_found(id)),
            Err(e) => return Err(e.into()),
        }
        if let Err(e) = self.inner.store.remove(id).await {
            tracing::error!(package = %id, error = %e, "the deleted package's files could not be removed");
        }
        tracing::info!(package = %id, "VNF package deleted");
        Ok(())
    }

    /// The package's content (zip), for `GET package_content`.
    pub async fn content_file(&self, ctx: &RequestContext, id: &str) -> Result<StoredFile> {
        let row = self.visible(ctx, id, "fetch_package_content").await?;
        if row.onboarding_state != ONBOARDED {
            return Err(PkgError::Conflict(format!(
                "VNF Package {id} onboarding state is not ONBOARDED"
            )));
        }
        Ok(StoredFile::content(id))
    }

    /// The files that make up the VNFD, for `GET vnfd`: (a local copy of the unpacked
    /// package, paths).
    pub async fn vnfd_files(&self, ctx: &RequestContext, id: &str) -> Result<(PathBuf, Vec<String>)> {
        let row = self.visible(ctx, id, "get_vnf_package_vnfd").await?;
        if row.onboarding_state != ONBOARDED {
            return Err(PkgError::Conflict(format!(
                "VNF Package {id} state is not ONBOARDED"
            )));
        }
        let files: Vec<String> = match &row.vnfd_files {
            Some(stored) => stored.parse().map_err(|e| corrupt(id, "vnfd_files", e))?,
            None => Vec::new(),
        };
        Ok((self.inner.store.local_copy(id).await?, files))
    }

    /// One declared artifact, for `GET artifacts/{path}`.
    pub async fn artifact_file(&self, ctx: &RequestContext, id: &str, path: &str) -> Result<StoredFile> {
        let row = self.visible(ctx, id, "fetch_artifact").await?;
        if row.onboarding_state != ONBOARDED {
            return Err(PkgError::Conflict(format!(
                "VNF Package {id} state is not ONBOARDED"
            )));
        }
        let artifacts: Vec<Value> = match &row.additional_artifacts {
            Some(stored) => stored
                .parse()
                .map_err(|e| corrupt(id, "additional_artifacts", e))?,
            None => Vec::new(),
        };
        // Only declared artifacts, by exact path: the path never reaches the store unless
        // it is one the onboarding checked.
        let declared = artifacts
            .iter()
            .any(|a| a.get("artifactPath").and_then(Value::as_str) == Some(path));
        if !declared {
            return Err(PkgError::NotFound("Not Found Artifact File.".into()));
        }
        Ok(StoredFile::unpacked(id, path))
    }

    /// The row if it exists, the caller may see it and policy allows `action`.
    pub(crate) async fn visible(&self, ctx: &RequestContext, id: &str, action: &str) -> Result<PackageRow> {
        if Uuid::parse_str(id).is_err() {
            return Err(PkgError::package_not_found(id));
        }
        let row = self.inner.db.get_package(id).await?;
        let row = row
            .filter(|r| ctx.can_see_tenant(&r.tenant_id))
            .ok_or_else(|| PkgError::package_not_found(id))?;
        self.authorize(ctx, action, &row.tenant_id)?;
        Ok(row)
    }

    pub(crate) fn authorize(&self, ctx: &RequestContext, action: &str, tenant_id: &str) -> Result<()> {
        let action = format!("{POLICY_PREFIX}{action}");
        if self
            .inner
            .policy
            .enforce(&action, &Enforcer::project_target(tenant_id), ctx)
        {
            Ok(())
        } else {
            Err(PkgError::Forbidden(action))
        }
    }
}

fn cannot_delete(row: &PackageRow) -> PkgError {
    PkgError::Conflict(format!(
        "VNF Package {} cannot be deleted as it's operational state is {} and usage state is {}.",
        row.id, row.operational_state, row.usage_state
    ))
}

pub(crate) fn changed_concurrently(err: DbError, id: &str) -> PkgError {
    match err {
        DbError::StateChanged => {
            PkgError::Conflict(format!("VNF Package {id} was changed by another request; retry."))
        }
        DbError::NotFound => PkgError::package_not_found(id),
        other => other.into(),
    }
}

fn corrupt(id: &str, column: &'static str, cause: StoredJsonError) -> PkgError {
    PkgError::Corrupt {
        id: id.to_owned(),
        column,
        cause,
    }
}
