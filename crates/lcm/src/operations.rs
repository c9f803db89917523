//! Starting LCM operations: the request is checked against the instance's state and its
//! VNFD, then an occurrence in STARTING is stored for a conductor, in one transaction that
//! also takes the instance.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Value};
use tacker_common::RequestContext;
use tacker_db::instances::{InstanceRow, OpOccRow};
use tacker_db::{DbError, StoredJson};
use tacker_driver::{Drivers, VimDriver};
use tacker_pkg::Vnfd;
use uuid::Uuid;

use crate::error::{LcmError, Result};
use crate::model::{ApiVersion, InstantiationState, OpState, Operation, PendingAction};
use crate::requests::{InstantiateVnfRequest, OperationRequest, VnfInfoModificationRequest};
use crate::scaling;
use crate::service::{in_progress_message, LcmService};
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
        let request = OperationRequest::parse(operation, body.as_ref())?;
        self.accept(ctx, row, operation, request, false).await
    }

    /// Starts an operation a monitoring rule asked for (the Prometheus plugin's auto-heal):
    /// no user's policy applies, and the occurrence says `isAutomaticInvocation`.
    pub async fn start_automatic(&self, id: &str, operation: Operation, body: Value) -> Result<String> {
        let row = self
            .inner
            .db
            .get_instance(id)
            .await?
            .ok_or_else(|| LcmError::NotFound(format!("VnfInstance {id} not found.")))?;
        let request = OperationRequest::parse(operation, Some(&body))?;
        let ctx = RequestContext::admin();
        self.accept(&ctx, row, operation, request, true).await
    }

    /// Checks a parsed request against the instance and stores its occurrence.
    async fn accept(
        &self,
        ctx: &RequestContext,
        row: InstanceRow,
        operation: Operation,
        mut request: OperationRequest,
        automatic: bool,
    ) -> Result<String> {
        let (api, id) = (row.api_version, row.id.as_str());
        let expected = expected_state(operation);
        if let Some(expected) = expected {
            if row.instantiation_state != expected {
                return Err(LcmError::Conflict(state_message(api, id, expected)));
            }
        }
        if row.active_op_occ_id.is_some() {
            return Err(LcmError::Conflict(in_progress_message(id)));
        }
        match &mut request {
            OperationRequest::Instantiate(instantiate) => {
                self.check_instantiate(ctx, api, &row, instantiate).await?
            }
            OperationRequest::ModifyInfo(modify) => self.check_modify(ctx, api, modify).await?,
            other => self.check_on_instantiated(api, &row, operation, other).await?,
        }
        let keys = self.inner.vault.open(id).map_err(|cause| LcmError::Key {
            what: "instance",
            cause,
        })?;
        match request.vim_connection_info_mut() {
            Some(Value::Object(info)) => vim_conn::encrypt(info, &keys),
            Some(Value::Array(items)) => vim_conn::encrypt_entries(items, &keys),
            _ => {}
        }
        let now = Utc::now();
        let op = OpOccRow {
            id: Uuid::new_v4().to_string(),
            tenant_id: row.tenant_id.clone(),
            api_version: api,
            vnf_instance_id: id.to_owned(),
            operation,
            operation_state: OpState::Starting,
            state_entered_time: now,
            start_time: now,
            is_automatic_invocation: automatic,
            is_cancel_pending: false,
            cancel_mode: None,
            operation_params: request.to_stored(),
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

    /// Checks an instantiation against the VNFD and resolves its VIM: the request then
    /// holds the connection info to use (secrets still in clear) and the registered VIM.
    async fn check_instantiate(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        row: &InstanceRow,
        request: &mut InstantiateVnfRequest,
    ) -> Result<()> {
        let flavour_id = &*request.flavour_id;
        let vnfd = self.vnfd_of(ctx, api, &row.vnfd_id).await?;
        let flavour = vnfd.flavour(flavour_id).ok_or_else(|| {
            LcmError::BadRequest(format!(
                "flavourId '{flavour_id}' is not defined in VNFD {}",
                row.vnfd_id
            ))
        })?;
        let level = request.instantiation_level_id.as_deref();
        let levels = scaling::instantiation_levels(flavour, level).map_err(LcmError::BadRequest)?;
        scaling::check_counts(flavour, &scaling::vdu_counts(flavour, &levels))
            .map_err(LcmError::BadRequest)?;
        let resolved =
            vim_conn::resolve(&self.inner.vims, ctx, api, request.vim_connection_info.as_ref()).await?;
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
        let additional = request.additional_params.clone().unwrap_or_default();
        driver
            .check_additional_params(Operation::Instantiate, &additional, &artifacts)
            .map_err(|invalid| LcmError::BadRequest(invalid.to_string()))?;
        request.vim_connection_info = Some(Value::Object(resolved.info));
        request.resolved_vim_id = resolved.vim_id;
        Ok(())
    }

    async fn check_on_instantiated(
        &self,
        api: ApiVersion,
        row: &InstanceRow,
        operation: Operation,
        request: &OperationRequest,
    ) -> Result<()> {
        let vim_type = instance_vim_type(row);
        check_supported(&self.inner.drivers, operation, &vim_type)?;
        let info = row
            .instantiated_vnf_info
            .as_ref()
            .map_or_else(|| json!({}), StoredJson::to_value);
        match request {
            OperationRequest::Scale(scale) => {
                let (flavour_vnfd, levels) = self.current_levels(row, &info).await?;
                let flavour = flavour_of(&flavour_vnfd, &info)?;
                let target = scaling::scaled(flavour, &levels, &scale.aspect_id, scale.signed_steps())
                    .map_err(LcmError::BadRequest)?;
                scaling::check_counts(flavour, &scaling::vdu_counts(flavour, &target))
                    .map_err(LcmError::BadRequest)?;
            }
            OperationRequest::ScaleToLevel(to_level) => {
                let level = to_level.instantiation_level_id.as_deref();
                if level.is_some() == to_level.scale_info.is_some() {
                    return Err(LcmError::BadRequest(
                        "Exactly one of instantiationLevelId and scaleInfo is required.".into(),
                    ));
                }
                let (vnfd, levels) = self.current_levels(row, &info).await?;
                let flavour = flavour_of(&vnfd, &info)?;
                let target = scaling::to_level(flavour, &levels, level, to_level.scale_info.as_deref())
                    .map_err(LcmError::BadRequest)?;
                scaling::check_counts(flavour, &scaling::vdu_counts(flavour, &target))
                    .map_err(LcmError::BadRequest)?;
            }
            OperationRequest::Heal(heal) => {
                let requested = heal.vnfc_instance_id.iter().flatten().map(|id| &**id);
                crate::heal::vnfc_resource_ids(&info, api, requested).map_err(|unknown| {
                    LcmError::BadRequest(format!("vnfcInstanceId({unknown}) does not exist."))
                })?;
            }
            OperationRequest::ChangeVnfpkg(change) => {
                let ctx_admin = RequestContext::admin();
                self.vnfd_of(&ctx_admin, api, &change.vnfd_id).await?;
            }
            // Typed and checked by deserialisation; their drivers refuse them for now.
            OperationRequest::Terminate(_)
            | OperationRequest::ChangeFlavour(_)
            | OperationRequest::Operate(_)
            | OperationRequest::ChangeExtConn(_) => {}
            OperationRequest::Instantiate(_) | OperationRequest::ModifyInfo(_) => {}
        }
        Ok(())
    }

    /// The checks of a VnfInfoModificationRequest its types do not make.
    async fn check_modify(
        &self,
        ctx: &RequestContext,
        api: ApiVersion,
        request: &VnfInfoModificationRequest,
    ) -> Result<()> {
        if let Some(connections) = &request.vim_connection_info {
            vim_conn::check_shape(api, connections)?;
        }
        if let Some(vnfd_id) = &request.vnfd_id {
            self.usable_package(ctx, api, vnfd_id).await?;
        }
        Ok(())
    }

    /// The parsed VNFD of an onboarded package the caller may use.
    pub(crate) async fn vnfd_of(&self, ctx: &RequestContext, api: ApiVersion, vnfd_id: &str) -> Result<Vnfd> {
        let package = self.usable_package(ctx, api, vnfd_id).await?;
        let corrupt = |cause: Box<dyn std::error::Error + Send + Sync>| LcmError::Corrupt {
            what: format!("the VNFD of package {}", package.id),
            cause,
        };
        let vnfd = package
            .vnfd
            .as_ref()
            .ok_or_else(|| corrupt("no VNFD stored".into()))?;
        vnfd.parse().map_err(|e| corrupt(Box::new(e)))
    }

    async fn package_artifacts(&self, vnfd_id: &str) -> Result<Vec<String>> {
        let package = self.inner.db.package_by_vnfd_id(vnfd_id).await?;
        let artifacts: Vec<Value> = match package.and_then(|p| p.additional_artifacts) {
            Some(stored) => stored.parse().map_err(|cause| LcmError::Corrupt {
                what: format!("the additional artifacts of VNFD {vnfd_id}"),
                cause: Box::new(cause),
            })?,
            None => Vec::new(),
        };
        Ok(artifacts
            .iter()
            .filter_map(|a| a.get("artifactPath").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }

    /// The instance's VNFD and the current scale level of each aspect.
    async fn current_levels(&self, row: &InstanceRow, info: &Value) -> Result<(Vnfd, scaling::ScaleLevels)> {
        let package = self.inner.db.package_by_vnfd_id(&row.vnfd_id).await?;
        let (package_id, stored) = package.and_then(|p| Some((p.id, p.vnfd?))).ok_or_else(|| {
            LcmError::Conflict(format!(
                "the VNF package of VNFD {} is no longer onboarded",
                row.vnfd_id
            ))
        })?;
        let vnfd: Vnfd = stored.parse().map_err(|cause| LcmError::Corrupt {
            what: format!("the VNFD of package {package_id}"),
            cause: Box::new(cause),
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

/// The instantiation state an operation needs (`None`: any).
fn expected_state(operation: Operation) -> Option<InstantiationState> {
    match operation {
        Operation::Instantiate => Some(InstantiationState::NotInstantiated),
        Operation::ModifyInfo => None,
        _ => Some(InstantiationState::Instantiated),
    }
}

fn state_message(api: ApiVersion, id: &str, expected: InstantiationState) -> String {
    match (api, expected) {
        (ApiVersion::V2, InstantiationState::NotInstantiated) => format!("VnfInstance {id} is instantiated."),
        (ApiVersion::V2, _) => format!("VnfInstance {id} isn't instantiated."),
        (ApiVersion::V1, InstantiationState::NotInstantiated) => format!(
            "Vnf instance {id} in instantiation_state INSTANTIATED. Cannot instantiate while the vnf instance is in this state."
        ),
        (ApiVersion::V1, _) => format!(
            "Vnf instance {id} in instantiation_state NOT_INSTANTIATED. Cannot perform this operation while the vnf instance is in this state."
        ),
    }
}

/// The VIM type of an instantiated instance (its first connection).
pub(crate) fn instance_vim_type(row: &InstanceRow) -> String {
    row.vim_connection_info
        .as_ref()
        .and_then(StoredJson::to_object)
        .and_then(|m| m.values().next().cloned())
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
    use serde_json::Map;

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
        ) -> std::result::Result<(), tacker_driver::InvalidAdditionalParams> {
            Ok(())
        }
        async fn probe(
            &self,
            _: &Map<String, Value>,
        ) -> std::result::Result<Vec<String>, tacker_driver::ProbeFailed> {
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
