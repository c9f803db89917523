//! Starting LCM operations: the request is checked against the instance's state and its
//! VNFD, then an occurrence in STARTING is stored for a conductor, in one transaction that
//! also takes the instance.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Map, Value};
use tacker_common::RequestContext;
use tacker_db::instances::{InstanceRow, OpOccRow};
use tacker_db::DbError;
use tacker_driver::{Drivers, VimDriver};
use tacker_pkg::Vnfd;
use uuid::Uuid;

use crate::error::{LcmError, Result};
use crate::model::{ApiVersion, Operation, PendingAction, INSTANTIATED, NOT_INSTANTIATED};
use crate::requests::{object, Body};
use crate::scaling;
use crate::service::{in_progress_message, LcmService};
use crate::views::parse;
use crate::vim_conn;

impl LcmService {
    /// `POST /vnf_instances/{id}/<operation>` (and PATCH for MODIFY_INFO): returns the id
    /// of the new occurrence (202 + Location).
    pub async fn start(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        id: &str,
        operation: Operation,
        body: Option<Value>,
    ) -> Result<String> {
        let row = self
            .visible_instance(ctx, api, id, policy_names(operation))
            .await?;
        let body_value = body.unwrap_or(Value::Null);
        let body = object(Some(&body_value))?;
        let expected = expected_state(operation);
        if let Some(expected) = expected {
            if row.instantiation_state != expected {
                return Err(LcmError::Conflict(state_message(api, id, expected)));
            }
        }
        if row.active_op_occ_id.is_some() {
            return Err(LcmError::Conflict(in_progress_message(id)));
        }
        let mut params = body.0.clone();
        match operation {
            Operation::Instantiate => self.check_instantiate(ctx, api, &row, &body, &mut params).await?,
            Operation::ModifyInfo => self.check_modify(ctx, api, &body).await?,
            other => self.check_on_instantiated(api, &row, other, &body).await?,
        }
        let keys = self
            .inner
            .vault
            .open(id)
            .map_err(|e| LcmError::Internal(format!("instance key: {e}")))?;
        match params.get_mut("vimConnectionInfo") {
            Some(Value::Object(info)) => vim_conn::encrypt(info, &keys),
            Some(Value::Array(items)) => vim_conn::encrypt_entries(items, &keys),
            _ => {}
        }
        let now = Utc::now();
        let op = OpOccRow {
            id: Uuid::new_v4().to_string(),
            tenant_id: row.tenant_id.clone(),
            api_version: api.db().into(),
            vnf_instance_id: id.to_owned(),
            operation: operation.as_str().into(),
            operation_state: "STARTING".into(),
            state_entered_time: now,
            start_time: now,
            is_automatic_invocation: false,
            is_cancel_pending: false,
            cancel_mode: None,
            operation_params: Value::Object(params).to_string(),
            error: None,
            resource_changes: None,
            changed_info: None,
            changed_ext_connectivity: None,
            pending_action: Some(PendingAction::Start.as_str().into()),
            claimed_by: None,
            lease_until: None,
            created_at: now,
            updated_at: None,
        };
        let subscriptions = self.subscriptions(&row.tenant_id, api).await?;
        let notifications = self.inner.notifier.op_occ(&subscriptions, &row, &op, now);
        match self.inner.db.start_operation(&op, expected, &notifications).await {
            Ok(()) => {}
            Err(DbError::StateChanged) => {
                // Lost a race: say which rule it broke.
                let now_row = self.inner.db.get_instance(id).await?;
                return Err(match (now_row, expected) {
                    (Some(r), Some(state)) if r.instantiation_state != state => {
                        LcmError::Conflict(state_message(api, id, state))
                    }
                    _ => LcmError::Conflict(in_progress_message(id)),
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.queued(true);
        tracing::info!(instance = %id, op_occ = %op.id, operation = %operation, "LCM operation accepted");
        Ok(op.id)
    }

    async fn check_instantiate(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        row: &InstanceRow,
        body: &Body<'_>,
        params: &mut Map<String, Value>,
    ) -> Result<()> {
        let flavour_id = body.required_str("flavourId")?;
        let level = body.optional_str("instantiationLevelId", 255)?;
        let additional = body.additional_params()?;
        let vnfd = self.vnfd_of(ctx, api, &row.vnfd_id).await?;
        let flavour = vnfd.flavour(flavour_id).ok_or_else(|| {
            LcmError::BadRequest(format!(
                "flavourId '{flavour_id}' is not defined in VNFD {}",
                row.vnfd_id
            ))
        })?;
        let levels = scaling::instantiation_levels(flavour, level).map_err(LcmError::BadRequest)?;
        scaling::check_counts(flavour, &scaling::vdu_counts(flavour, &levels))
            .map_err(LcmError::BadRequest)?;
        let resolved = vim_conn::resolve(&self.inner.vims, ctx, api, body.0.get("vimConnectionInfo")).await?;
        let vim_type = resolved
            .info
            .values()
            .next()
            .and_then(|v| v.get("vimType"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !vim_conn::is_known(&vim_type) {
            return Err(LcmError::BadRequest(unknown_vim_type(&vim_type)));
        }
        let driver = check_supported(&self.inner.drivers, Operation::Instantiate, &vim_type)?;
        let artifacts = self.package_artifacts(&row.vnfd_id).await?;
        driver
            .check_additional_params(Operation::Instantiate, &additional, &artifacts)
            .map_err(LcmError::BadRequest)?;
        params.insert("vimConnectionInfo".into(), Value::Object(resolved.info));
        if let Some(vim_id) = resolved.vim_id {
            params.insert("vimId".into(), json!(vim_id));
        }
        Ok(())
    }

    async fn check_on_instantiated(
        &self,
        api: ApiVersion,
        row: &InstanceRow,
        operation: Operation,
        body: &Body<'_>,
    ) -> Result<()> {
        let vim_type = instance_vim_type(row);
        check_supported(&self.inner.drivers, operation, &vim_type)?;
        let info = parse(row.instantiated_vnf_info.as_deref()).unwrap_or_else(|| json!({}));
        match operation {
            Operation::Terminate => {
                body.one_of("terminationType", &["FORCEFUL", "GRACEFUL"], true)?;
                body.optional_uint("gracefulTerminationTimeout", 0)?;
            }
            Operation::Scale => {
                body.one_of("type", &["SCALE_OUT", "SCALE_IN"], true)?;
                let aspect = body.required_str("aspectId")?;
                let steps = body.optional_uint("numberOfSteps", 1)?.unwrap_or(1);
                let kind = body.0.get("type").and_then(Value::as_str).unwrap_or_default();
                let signed = if kind == "SCALE_IN" {
                    -(steps as i64)
                } else {
                    steps as i64
                };
                let (flavour_vnfd, levels) = self.current_levels(row, &info).await?;
                let flavour = flavour_of(&flavour_vnfd, &info)?;
                let target =
                    scaling::scaled(flavour, &levels, aspect, signed).map_err(|e| scale_error(api, e))?;
                scaling::check_counts(flavour, &scaling::vdu_counts(flavour, &target))
                    .map_err(|e| scale_error(api, e))?;
            }
            Operation::ScaleToLevel => {
                let level = body.optional_str("instantiationLevelId", 255)?;
                let scale_info = body.optional_array("scaleInfo")?;
                if level.is_some() == scale_info.is_some() {
                    return Err(LcmError::BadRequest(
                        "Exactly one of instantiationLevelId and scaleInfo is required.".into(),
                    ));
                }
                let (vnfd, levels) = self.current_levels(row, &info).await?;
                let flavour = flavour_of(&vnfd, &info)?;
                let target = match level {
                    Some(level) => {
                        scaling::instantiation_levels(flavour, Some(level)).map_err(LcmError::BadRequest)?
                    }
                    None => {
                        let mut target = levels;
                        for item in scale_info.into_iter().flatten() {
                            let aspect = item.get("aspectId").and_then(Value::as_str).ok_or_else(|| {
                                LcmError::BadRequest("scaleInfo entries need aspectId and scaleLevel".into())
                            })?;
                            let wanted = item.get("scaleLevel").and_then(Value::as_u64).ok_or_else(|| {
                                LcmError::BadRequest("scaleInfo entries need aspectId and scaleLevel".into())
                            })?;
                            let now = i64::from(target.get(aspect).copied().unwrap_or(0));
                            target = scaling::scaled(flavour, &target, aspect, wanted as i64 - now)
                                .map_err(LcmError::BadRequest)?;
                        }
                        target
                    }
                };
                scaling::check_counts(flavour, &scaling::vdu_counts(flavour, &target))
                    .map_err(LcmError::BadRequest)?;
            }
            Operation::Heal => {
                body.optional_str("cause", 1024)?;
                let known: Vec<&str> = info
                    .get("vnfcResourceInfo")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter_map(|v| v.get("id").and_then(Value::as_str))
                            .collect()
                    })
                    .unwrap_or_default();
                for vnfc in body.optional_array("vnfcInstanceId")?.into_iter().flatten() {
                    let id = vnfc.as_str().unwrap_or_default();
                    if !known.contains(&id) {
                        return Err(LcmError::BadRequest(format!(
                            "vnfcInstanceId({id}) does not exist."
                        )));
                    }
                }
            }
            Operation::ChangeVnfpkg => {
                let vnfd_id = body.required_str("vnfdId")?;
                let ctx_admin = RequestContext::admin(String::new());
                self.vnfd_of(&ctx_admin, api, vnfd_id).await?;
            }
            Operation::ChangeFlavour => {
                body.required_str("newFlavourId")?;
            }
            Operation::Operate => {
                body.one_of("changeStateTo", &["STARTED", "STOPPED"], true)?;
                body.one_of("stopType", &["FORCEFUL", "GRACEFUL"], false)?;
            }
            Operation::ChangeExtConn => {
                body.optional_array("extVirtualLinks")?
                    .ok_or_else(|| LcmError::BadRequest("'extVirtualLinks' is a required property".into()))?;
            }
            Operation::Instantiate | Operation::ModifyInfo => {}
        }
        Ok(())
    }

    /// VnfInfoModificationRequest, typed as Tacker's schema types it (no `null`s): the
    /// request becomes the occurrence's changedInfo (VnfInfoModifications), shown as sent.
    async fn check_modify(&self, ctx: &RequestContext, api: ApiVersion, body: &Body<'_>) -> Result<()> {
        body.non_null_str("vnfInstanceName", 255)?;
        body.non_null_str("vnfInstanceDescription", 1024)?;
        for field in [
            "vnfPkgId",
            "vnfProvider",
            "vnfProductName",
            "vnfSoftwareVersion",
            "vnfdVersion",
        ] {
            body.non_null_str(field, 255)?;
        }
        body.non_null_object("metadata")?;
        body.non_null_object("extensions")?;
        body.non_null_object("vnfConfigurableProperties")?;
        if let Some(connections) = body.0.get("vimConnectionInfo") {
            vim_conn::check_shape(api, connections)?;
        }
        if let Some(vnfd_id) = body.non_null_str("vnfdId", 255)? {
            self.usable_package(ctx, api, vnfd_id).await?;
        }
        Ok(())
    }

    /// The parsed VNFD of an onboarded package the caller may use.
    pub(crate) async fn vnfd_of(&self, ctx: &RequestContext, api: ApiVersion, vnfd_id: &str) -> Result<Vnfd> {
        let package = self.usable_package(ctx, api, vnfd_id).await?;
        package
            .vnfd
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
            .ok_or_else(|| LcmError::Internal(format!("the VNFD of package {} is unreadable", package.id)))
    }

    async fn package_artifacts(&self, vnfd_id: &str) -> Result<Vec<String>> {
        let package = self.inner.db.package_by_vnfd_id(vnfd_id).await?;
        let artifacts: Vec<Value> = package
            .and_then(|p| p.additional_artifacts)
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default();
        Ok(artifacts
            .iter()
            .filter_map(|a| a.get("artifactPath").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }

    /// The instance's VNFD and the current scale level of each aspect.
    async fn current_levels(&self, row: &InstanceRow, info: &Value) -> Result<(Vnfd, scaling::ScaleLevels)> {
        let package = self.inner.db.package_by_vnfd_id(&row.vnfd_id).await?;
        let vnfd: Vnfd = package
            .and_then(|p| p.vnfd)
            .and_then(|v| serde_json::from_str(&v).ok())
            .ok_or_else(|| {
                LcmError::Conflict(format!(
                    "the VNF package of VNFD {} is no longer onboarded",
                    row.vnfd_id
                ))
            })?;
        let levels = scaling::levels_of(info);
        Ok((vnfd, levels))
    }
}

fn flavour_of<'a>(vnfd: &'a Vnfd, info: &Value) -> Result<&'a tacker_pkg::Flavour> {
    let flavour_id = info.get("flavourId").and_then(Value::as_str).unwrap_or_default();
    vnfd.flavour(flavour_id)
        .ok_or_else(|| LcmError::Conflict(format!("flavour '{flavour_id}' is not in the instance's VNFD")))
}

fn scale_error(api: ApiVersion, message: String) -> LcmError {
    match api {
        ApiVersion::V1 => LcmError::BadRequest(message),
        ApiVersion::V2 => LcmError::BadRequest(message),
    }
}

/// The instantiation state an operation needs (`None`: any).
fn expected_state(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Instantiate => Some(NOT_INSTANTIATED),
        Operation::ModifyInfo => None,
        _ => Some(INSTANTIATED),
    }
}

fn state_message(api: ApiVersion, id: &str, expected: &str) -> String {
    match (api, expected) {
        (ApiVersion::V2, NOT_INSTANTIATED) => format!("VnfInstance {id} is instantiated."),
        (ApiVersion::V2, _) => format!("VnfInstance {id} isn't instantiated."),
        (ApiVersion::V1, NOT_INSTANTIATED) => format!(
            "Vnf instance {id} in instantiation_state INSTANTIATED. Cannot instantiate while the vnf instance is in this state."
        ),
        (ApiVersion::V1, _) => format!(
            "Vnf instance {id} in instantiation_state NOT_INSTANTIATED. Cannot perform this operation while the vnf instance is in this state."
        ),
    }
}

/// The VIM type of an instantiated instance (its first connection).
pub(crate) fn instance_vim_type(row: &InstanceRow) -> String {
    parse(row.vim_connection_info.as_deref())
        .and_then(|v| v.as_object().and_then(|m| m.values().next().cloned()))
        .and_then(|v| v.get("vimType").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default()
}

/// The driver of `vim_type` when it performs `operation`. Otherwise 422 for an operation
/// the VIM type's driver cannot do, 501 for a VIM type Tacker drives and this deployment
/// has no driver for (OpenStack, Helm). A type no Tacker knows is the client's error, not
/// a missing feature: 422 here (an instance's stored type), 400 when an instantiation
/// names it.
fn check_supported(drivers: &Drivers, operation: Operation, vim_type: &str) -> Result<Arc<dyn VimDriver>> {
    match drivers.get(vim_type) {
        Some(driver) if driver.supports(operation) => Ok(driver.clone()),
        Some(_) => Err(LcmError::Unprocessable(format!(
            "{operation} is not supported for {vim_type} VIMs."
        ))),
        None if !vim_conn::is_known(vim_type) => Err(LcmError::Unprocessable(unknown_vim_type(vim_type))),
        None => Err(LcmError::NotImplemented(format!(
            "tacker-rs has no infra driver for {vim_type} VIMs; only Kubernetes VIMs are supported."
        ))),
    }
}

fn unknown_vim_type(vim_type: &str) -> String {
    format!(
        "vimType '{vim_type}' is not a VIM type: use {} (or kubernetes).",
        vim_conn::KUBERNETES_V2
    )
}

/// The (v1, v2) policy rule names of an operation.
fn policy_names(operation: Operation) -> (&'static str, &'static str) {
    match operation {
        Operation::Instantiate => ("instantiate", "instantiate"),
        Operation::Terminate => ("terminate", "terminate"),
        Operation::Scale | Operation::ScaleToLevel => ("scale", "scale"),
        Operation::Heal => ("heal", "heal"),
        Operation::ChangeExtConn => ("change_ext_conn", "change_ext_conn"),
        Operation::ChangeVnfpkg => ("change_vnfpkg", "change_vnfpkg"),
        Operation::ModifyInfo => ("update_vnf", "update"),
        Operation::ChangeFlavour => ("change_flavour", "change_flavour"),
        Operation::Operate => ("operate", "operate"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Kubernetes type that scales but does not operate.
    struct Kubernetes;

    #[async_trait::async_trait]
    impl VimDriver for Kubernetes {
        fn registry_type(&self) -> &'static str {
            "kubernetes"
        }
        fn vim_types(&self) -> &'static [&'static str] {
            &["ETSINFV.KUBERNETES.V_1"]
        }
        fn supports(&self, operation: Operation) -> bool {
            operation != Operation::Operate
        }
        fn check_additional_params(
            &self,
            _: Operation,
            _: &Map<String, Value>,
            _: &[String],
        ) -> std::result::Result<(), String> {
            Ok(())
        }
        async fn probe(&self, _: &Map<String, Value>) -> std::result::Result<Vec<String>, String> {
            Ok(Vec::new())
        }
        fn recorded_metadata(&self, _: &tacker_driver::Plan) -> Map<String, Value> {
            Map::new()
        }
        fn infra(&self) -> Arc<dyn tacker_driver::InfraDriver> {
            Arc::new(tacker_driver::TestDriver::new())
        }
    }

    #[test]
    fn only_vim_types_tacker_knows_are_not_implemented() {
        let drivers = Drivers::new().with(Arc::new(Kubernetes));
        let check = |operation, vim_type| check_supported(&drivers, operation, vim_type).map(|_| ());
        check(Operation::Scale, "ETSINFV.KUBERNETES.V_1").unwrap();
        check(Operation::Instantiate, "kubernetes").unwrap();
        assert!(matches!(
            check(Operation::Operate, "kubernetes"),
            Err(LcmError::Unprocessable(_))
        ));
        for known in ["ETSINFV.OPENSTACK_KEYSTONE.V_3", "openstack", "ETSINFV.HELM.V_3"] {
            assert!(
                matches!(
                    check(Operation::Instantiate, known),
                    Err(LcmError::NotImplemented(_))
                ),
                "{known}"
            );
        }
        // What schemathesis sent: a 5xx said the server was at fault.
        for unknown in ["I\u{1d}Àç", ""] {
            let error = check(Operation::Heal, unknown).unwrap_err();
            assert!(
                matches!(&error, LcmError::Unprocessable(m) if m.contains("is not a VIM type")),
                "{error}"
            );
        }
    }
}
