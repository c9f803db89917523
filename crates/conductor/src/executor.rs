//! Runs one claimed occurrence through its states: STARTING/FAILED_TEMP → PROCESSING →
//! COMPLETED | FAILED_TEMP, or FAILED_TEMP → ROLLING_BACK → ROLLED_BACK | FAILED_TEMP.
//! Every state change is one transaction with its notifications, guarded by our claim.
//! A client's cancel is polled for while the operation runs: GRACEFUL closes the fence
//! (the driver stops before its next call to the VIM), FORCEFUL drops the work at once;
//! either way the occurrence ends FAILED_TEMP for retry, rollback or fail.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use http::StatusCode;
use serde_json::{json, Map, Value};
use tacker_crypto::KeyVault;
use tacker_db::instances::{InstanceChange, InstanceRow, OpOccRow, OpTransition};
use tacker_db::{Database, DbError, StoredJson};
use tacker_driver::{ClaimState, DriverError, Drivers, Fence, FenceControl, Plan, VimDriver, Vnfc};
use tacker_lcm::notifications::Notifier;
use tacker_lcm::requests::{
    ChangeCurrentVnfPkgRequest, HealVnfRequest, InstantiateVnfRequest, OperationRequest, TerminateVnfRequest,
    TerminationType, VnfInfoModificationRequest,
};
use tacker_lcm::{heal, scaling, CancelMode, InstantiationState, OpState, Operation, PendingAction};
use tacker_pkgstore::PackageStore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::plan::{self, bad, internal, Current};

/// An INSTANTIATE's plan, its VIM type's driver, and the stored (encrypted)
/// vimConnectionInfo.
type InstantiatePlan = (Plan, Arc<dyn VimDriver>, Map<String, Value>);

/// What a successful operation changes.
struct Outcome {
    instance: Option<InstanceChange>,
    resource_changes: Option<Value>,
    changed_info: Option<Value>,
}

pub struct Executor {
    pub db: Database,
    pub vault: KeyVault,
    pub drivers: Drivers,
    /// Where the packages' files are (the drivers read local copies).
    pub packages: PackageStore,
    pub notifier: Notifier,
    pub holder: String,
    pub lease: Duration,
    /// How often a running operation looks for a client's cancel.
    pub cancel_check: Duration,
}

/// Why the work of an operation was dropped where it was.
#[derive(Debug, Clone, Copy)]
enum Halt {
    /// The conductor is stopping.
    Shutdown,
    /// A client asked for a FORCEFUL cancel.
    Forceful,
}

const INTERRUPTED: &str = "Failure due to conductor processing error.";
/// How long a stopping conductor tries to record why it stopped an operation.
const STOP_RECORD_TIMEOUT: Duration = Duration::from_secs(10);
const STOPPED: &str =
    "The conductor was stopped before the operation finished; retry or roll back the operation.";
const CANCELLED_BEFORE_START: &str = "The operation was cancelled before it started.";

/// The error a cancelled occurrence shows.
fn cancelled(mode: CancelMode) -> DriverError {
    let detail = match mode {
        CancelMode::Graceful => {
            "The operation was cancelled (GRACEFUL): it stopped before its next call to the VIM; retry, roll back or fail it."
        }
        CancelMode::Forceful => {
            "The operation was cancelled (FORCEFUL): it was stopped at once, possibly in the middle of a call to the VIM; retry, roll back or fail it."
        }
    };
    DriverError::new(StatusCode::CONFLICT, detail)
}

/// The cancel a claimed row asks for (a corrupt mode is read as the gentler one).
fn requested_cancel(op: &OpOccRow) -> Option<CancelMode> {
    op.is_cancel_pending.then(|| {
        op.cancel_mode
            .as_deref()
            .and_then(|mode| mode.parse().ok())
            .unwrap_or(CancelMode::Graceful)
    })
}

impl Executor {
    /// Runs `op` under its claim (`op.claimed_by`), renewing the lease, until the work
    /// ends or the claim is lost. When `stop` fires first, the work is dropped where it
    /// is: an operation that had started ends FAILED_TEMP (retry or roll back), one that
    /// had not is handed back for another conductor to start. A FORCEFUL cancel drops
    /// the work the same way; an unstarted operation then ends ROLLED_BACK.
    #[tracing::instrument(
        name = "operation",
        skip_all,
        fields(op_occ = %op.id, operation = %op.operation, instance = %op.vnf_instance_id, vim_connection)
    )]
    pub async fn run(&self, op: OpOccRow, stop: CancellationToken) {
        let Some(claim) = op.claimed_by.clone() else {
            return;
        };
        let (control, fence) = Fence::new();
        tokio::select! {
            _ = self.execute(&op, &claim, &fence) => {}
            _ = self.keep_claim(&op.id, &claim, &control) => {
                tracing::warn!(op_occ = %op.id, "claim lost to another conductor; stopped")
            }
            _ = self.watch_cancel(&op.id, &control) => {
                control.set(ClaimState::Lost);
                tracing::info!(op_occ = %op.id, "cancelled (FORCEFUL); the work was dropped where it was");
                self.halt(&op, &claim, Halt::Forceful).await;
            }
            _ = stop.cancelled() => {
                control.set(ClaimState::Lost);
                self.halt(&op, &claim, Halt::Shutdown).await;
            }
        }
    }

    /// Polls for a client's cancel: a GRACEFUL one closes the fence, so that the driver
    /// stops before its next call; returns when a FORCEFUL one is asked for.
    async fn watch_cancel(&self, id: &str, control: &FenceControl) {
        loop {
            tokio::time::sleep(self.cancel_check).await;
            match self.db.pending_cancel(id).await {
                Ok(Some(CancelMode::Forceful)) => return,
                Ok(Some(CancelMode::Graceful)) if control.state() != ClaimState::Cancelled => {
                    tracing::info!(op_occ = %id, "cancelled (GRACEFUL); stopping before the next call to the VIM");
                    control.set(ClaimState::Cancelled);
                }
                Ok(_) => {}
                // The renewal reports a database that is down; a cancel waits for it.
                Err(e) => tracing::debug!(op_occ = %id, error = %e, "could not look for a cancel"),
            }
        }
    }

    /// Renews the claim every lease/3; returns when it is lost. While renewals fail for
    /// so long that the lease may have run out (the database stalls), the fence holds the
    /// driver back before its next call to the VIM; a renewal that succeeds releases it.
    async fn keep_claim(&self, id: &str, claim: &str, control: &FenceControl) {
        // The lease was written at or after this moment, by the database's clock.
        let mut renewed_at = Instant::now();
        loop {
            tokio::time::sleep(self.lease / 3).await;
            let attempt = Instant::now();
            match tokio::time::timeout(self.lease / 3, self.db.renew_op_claim(id, claim, self.lease)).await {
                Ok(Ok(true)) => {
                    renewed_at = attempt;
                    control.set(ClaimState::Held);
                }
                Ok(Ok(false)) => {
                    control.set(ClaimState::Lost);
                    return;
                }
                Ok(Err(e)) => tracing::warn!(op_occ = %id, error = %e, "renewing the claim failed"),
                Err(_) => tracing::warn!(op_occ = %id, "renewing the claim timed out"),
            }
            if renewed_at.elapsed() >= self.lease * 2 / 3 {
                control.set(ClaimState::Uncertain);
            }
        }
    }

    /// After the work of `op` was dropped: records why, fenced by the claim. Bounded:
    /// with the database down the claim simply runs out, and the next conductor reports
    /// the operation as interrupted (or cancelled).
    async fn halt(&self, op: &OpOccRow, claim: &str, why: Halt) {
        if tokio::time::timeout(STOP_RECORD_TIMEOUT, self.record_halt(op, claim, why))
            .await
            .is_err()
        {
            tracing::warn!(op_occ = %op.id, ?why, "could not record why the operation stopped");
        }
    }

    async fn record_halt(&self, op: &OpOccRow, claim: &str, why: Halt) {
        let current = match self.db.get_op_occ(&op.id).await {
            Ok(Some(current)) if current.claimed_by.as_deref() == Some(claim) => current,
            _ => return,
        };
        match (current.operation_state, why) {
            (OpState::Processing | OpState::RollingBack, _) => {
                let error = match why {
                    Halt::Shutdown => DriverError::new(StatusCode::SERVICE_UNAVAILABLE, STOPPED),
                    Halt::Forceful => cancelled(CancelMode::Forceful),
                };
                self.finish(&current, claim, Err(error), OpState::Completed).await;
            }
            (OpState::Starting, Halt::Forceful) => self.end_unstarted(&current, claim).await,
            _ => {
                if let Err(e) = self.db.release_op_claim(&op.id, claim).await {
                    tracing::warn!(op_occ = %op.id, error = %e, "could not hand back an operation");
                }
            }
        }
    }

    /// A cancel reached an operation before it changed anything: it is rolled back.
    async fn end_unstarted(&self, op: &OpOccRow, claim: &str) {
        let error = DriverError::new(StatusCode::CONFLICT, CANCELLED_BEFORE_START);
        let change = transition(
            OpState::RolledBack,
            Some(error.problem_details().into()),
            None,
            false,
            true,
            None,
        );
        match self.apply(op, claim, &change).await {
            Ok(()) => tracing::info!(op_occ = %op.id, "cancelled before it started; rolled back"),
            Err(e) => tracing::error!(op_occ = %op.id, error = %e, "recording the cancel failed"),
        }
    }

    async fn execute(&self, op: &OpOccRow, claim: &str, fence: &Fence) {
        let state = op.operation_state;
        let pending = match op
            .pending_action
            .as_deref()
            .map(str::parse::<PendingAction>)
            .transpose()
        {
            Ok(pending) => pending,
            Err(e) => {
                tracing::error!(op_occ = %op.id, error = %e, "unknown pending action; left alone");
                return;
            }
        };
        match (pending, state) {
            (Some(PendingAction::Start), OpState::Starting) if op.is_cancel_pending => {
                self.end_unstarted(op, claim).await;
            }
            (Some(PendingAction::Start), OpState::Starting)
            | (Some(PendingAction::Retry), OpState::FailedTemp) => {
                if self.enter(op, claim, OpState::Processing).await {
                    let result = self.perform(op, fence).await;
                    self.finish(op, claim, unless_cancelled(result, fence), OpState::Completed)
                        .await;
                }
            }
            (Some(PendingAction::Rollback), OpState::FailedTemp) => {
                if self.enter(op, claim, OpState::RollingBack).await {
                    let result = self.roll_back(op, fence).await;
                    self.finish(op, claim, unless_cancelled(result, fence), OpState::RolledBack)
                        .await;
                }
            }
            // Claimed mid-work: the conductor that ran it stopped. Its step may be half
            // done, so the operation goes to FAILED_TEMP for the user to retry or roll back.
            (_, OpState::Processing | OpState::RollingBack) => {
                tracing::warn!(op_occ = %op.id, "taking over an interrupted operation");
                let error = match requested_cancel(op) {
                    Some(mode) => cancelled(mode),
                    None => DriverError::internal(INTERRUPTED),
                };
                self.finish(op, claim, Err(error), OpState::Completed).await;
            }
            _ => {
                tracing::warn!(op_occ = %op.id, state = %op.operation_state, pending = ?op.pending_action, "nothing to do");
                let change = transition(state, None, None, false, false, None);
                let _ = self
                    .db
                    .transition_op_occ(&op.id, claim, &change, Utc::now(), &[])
                    .await;
            }
        }
    }

    /// Moves to a working state (keeping the claim and the pending action).
    async fn enter(&self, op: &OpOccRow, claim: &str, state: OpState) -> bool {
        let mut change = transition(state, None, None, true, false, None);
        change.pending_action = op.pending_action.clone();
        match self.apply(op, claim, &change).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(op_occ = %op.id, error = %e, "could not start the operation");
                false
            }
        }
    }

    async fn finish(
        &self,
        op: &OpOccRow,
        claim: &str,
        result: Result<Outcome, DriverError>,
        success: OpState,
    ) {
        let change = match result {
            Ok(outcome) => {
                let mut change = transition(success, None, outcome.instance, false, true, None);
                change.resource_changes = outcome.resource_changes.map(StoredJson::from);
                change.changed_info = outcome.changed_info.map(StoredJson::from);
                change
            }
            Err(error) => {
                tracing::warn!(op_occ = %op.id, operation = %op.operation, detail = %error.detail, "operation failed");
                transition(
                    OpState::FailedTemp,
                    Some(error.problem_details().into()),
                    None,
                    false,
                    false,
                    None,
                )
            }
        };
        match self.apply(op, claim, &change).await {
            Ok(()) => {
                tracing::info!(op_occ = %op.id, operation = %op.operation, state = %change.operation_state, "operation step ended")
            }
            Err(e) => tracing::error!(op_occ = %op.id, error = %e, "recording the operation's end failed"),
        }
    }

    /// Applies a change with the notifications it causes, only while `claim` holds. A
    /// database that is down or busy only delays the record: the step is done and must
    /// not be reported as lost, so the write is tried again (the claim keeps being
    /// renewed meanwhile, and a lost claim ends the execution).
    async fn apply(&self, op: &OpOccRow, claim: &str, change: &OpTransition) -> Result<(), DbError> {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.try_apply(op, claim, change).await {
                Err(e) if e.is_unavailable() => {
                    tracing::warn!(op_occ = %op.id, error = %e, retry_in = ?backoff, "database unavailable; the step will be recorded when it is back");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    async fn try_apply(&self, op: &OpOccRow, claim: &str, change: &OpTransition) -> Result<(), DbError> {
        let now = Utc::now();
        let mut after = op.clone();
        after.operation_state = change.operation_state;
        after.error = change.error.clone();
        after.resource_changes = change.resource_changes.clone().or(after.resource_changes);
        after.changed_info = change.changed_info.clone().or(after.changed_info);
        let notifications = match self.db.get_instance(&op.vnf_instance_id).await? {
            Some(instance) => {
                let api = op.api_version;
                let subscriptions = self.db.list_subscriptions(api, Some(&op.tenant_id)).await?;
                self.notifier.op_occ(&subscriptions, &instance, &after, now)
            }
            None => Vec::new(),
        };
        self.db
            .transition_op_occ(&op.id, claim, change, now, &notifications)
            .await
    }

    /// The occurrence's instance, its operation and the request it was started with.
    async fn load(&self, op: &OpOccRow) -> Result<(InstanceRow, Operation, OperationRequest), DriverError> {
        let instance = self
            .db
            .get_instance(&op.vnf_instance_id)
            .await
            .map_err(|e| internal(e.to_string()))?
            .ok_or_else(|| internal("the instance is gone"))?;
        let operation = op.operation;
        // The server stored a request it had checked: one that no longer reads is a
        // fault to report, not a request to run with defaults.
        let request = OperationRequest::from_stored(operation, &op.operation_params).map_err(|e| {
            internal(format!(
                "the stored request of this {operation} is unreadable: {e}"
            ))
        })?;
        Ok((instance, operation, request))
    }

    async fn perform(&self, op: &OpOccRow, fence: &Fence) -> Result<Outcome, DriverError> {
        let (instance, operation, request) = self.load(op).await?;
        match &request {
            OperationRequest::Instantiate(r) => self.instantiate(&instance, r, fence).await,
            OperationRequest::Terminate(r) => self.terminate(&instance, r, fence).await,
            OperationRequest::Scale(_) | OperationRequest::ScaleToLevel(_) => {
                self.scale(&instance, &request, fence).await
            }
            OperationRequest::Heal(r) => self.heal(&instance, r, fence).await,
            OperationRequest::ModifyInfo(r) => self.modify(&instance, r).await,
            OperationRequest::ChangeVnfpkg(r) => self.change_vnfpkg(&instance, r, fence).await,
            _ => Err(DriverError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{operation} is not supported by the infra driver"),
            )),
        }
    }

    fn driver(&self, vim_type: &str) -> Result<Arc<dyn VimDriver>, DriverError> {
        self.drivers.get(vim_type).cloned().ok_or_else(|| {
            DriverError::new(
                StatusCode::NOT_IMPLEMENTED,
                format!("tacker-rs has no infra driver for {vim_type} VIMs"),
            )
        })
    }

    fn keys(&self, instance: &InstanceRow) -> Result<tacker_crypto::VimKeys, DriverError> {
        self.vault
            .open(&instance.id)
            .map_err(|e| internal(format!("instance key: {e}")))
    }

    async fn instantiate(
        &self,
        instance: &InstanceRow,
        request: &InstantiateVnfRequest,
        fence: &Fence,
    ) -> Result<Outcome, DriverError> {
        let (vnfd, package_dir) = plan::package(&self.db, &self.packages, &instance.vnfd_id).await?;
        let flavour = plan::flavour(&vnfd, &request.flavour_id)?;
        let level = request.instantiation_level_id.as_deref();
        let levels = scaling::instantiation_levels(flavour, level).map_err(bad)?;
        let (plan, driver, stored) = self.instantiate_plan(
            instance,
            request,
            package_dir,
            plan::workloads(flavour, &levels),
            fence,
        )?;
        let connection_id = plan.vim.id.clone();
        let vnfcs = driver.infra().instantiate(&plan).await?;
        let metadata = driver.recorded_metadata(&plan);
        let info = plan::instantiated_info(flavour, &levels, &vnfcs, &connection_id, metadata);
        let mut change = InstanceChange::from(instance);
        change.instantiation_state = InstantiationState::Instantiated;
        change.vim_id = request.resolved_vim_id.clone();
        change.vim_connection_info = Some(stored.into());
        change.instantiated_vnf_info = Some(info.into());
        if let Some(props) = &request.vnf_configurable_properties {
            change.vnf_configurable_properties = Some(props.clone().into());
        }
        if let Some(extensions) = &request.extensions {
            change.extensions = Some(extensions.clone().into());
        }
        Ok(Outcome {
            instance: Some(change),
            resource_changes: Some(plan::affected(&[], &vnfcs, &connection_id)),
            changed_info: None,
        })
    }

    /// The plan of an INSTANTIATE occurrence (also for its rollback), its driver, and the
    /// stored (still encrypted) vimConnectionInfo it uses.
    fn instantiate_plan(
        &self,
        instance: &InstanceRow,
        request: &InstantiateVnfRequest,
        package_dir: PathBuf,
        workloads: Vec<tacker_driver::Workload>,
        fence: &Fence,
    ) -> Result<InstantiatePlan, DriverError> {
        // The server stored the connection it resolved, keyed as in v2.
        let stored = match &request.vim_connection_info {
            Some(Value::Object(stored)) => stored.clone(),
            _ => return Err(internal("the stored request names no vimConnectionInfo")),
        };
        let vim = plan::vim_connection(&stored, &self.keys(instance)?)?;
        tracing::Span::current().record("vim_connection", vim.id.as_str());
        let driver = self.driver(&vim.vim_type)?;
        let plan = Plan {
            instance_id: instance.id.clone(),
            operation: Operation::Instantiate,
            vim,
            package_dir,
            additional_params: request.additional_params.clone().unwrap_or_default(),
            instance_metadata: Map::new(),
            workloads,
            fence: fence.clone(),
        };
        Ok((plan, driver, stored))
    }

    /// MODIFY_INFO, including a move to another VNFD (its package's identity is copied).
    async fn modify(
        &self,
        instance: &InstanceRow,
        request: &VnfInfoModificationRequest,
    ) -> Result<Outcome, DriverError> {
        let mut outcome = modify(instance, request);
        if let Some(vnfd_id) = request.vnfd_id.as_deref() {
            let (vnfd, _) = plan::package(&self.db, &self.packages, vnfd_id).await?;
            let package = self
                .db
                .package_by_vnfd_id(vnfd_id)
                .await
                .map_err(|e| internal(e.to_string()))?;
            if let Some(change) = outcome.instance.as_mut() {
                adopt_vnfd(change, &vnfd, package.map(|p| p.id));
            }
        }
        Ok(outcome)
    }

    /// Everything a later operation needs: current state, VIM, driver, VNFD.
    async fn context(&self, instance: &InstanceRow) -> Result<Later, DriverError> {
        let current = Current::of(instance);
        let vim = plan::vim_connection(&current.connections, &self.keys(instance)?)?;
        tracing::Span::current().record("vim_connection", vim.id.as_str());
        let driver = self.driver(&vim.vim_type)?;
        let (vnfd, package_dir) = plan::package(&self.db, &self.packages, &instance.vnfd_id).await?;
        Ok(Later {
            current,
            vim,
            driver,
            vnfd,
            package_dir,
        })
    }

    async fn terminate(
        &self,
        instance: &InstanceRow,
        request: &TerminateVnfRequest,
        fence: &Fence,
    ) -> Result<Outcome, DriverError> {
        let later = self.context(instance).await?;
        let connection_id = later.vim.id.clone();
        // SOL003 leaves the default timeout to the VNFM; Tacker's is 60 s.
        let graceful = (request.termination_type == TerminationType::Graceful)
            .then(|| Duration::from_secs(request.graceful_termination_timeout.unwrap_or(60)));
        let additional = request.additional_params.clone().unwrap_or_default();
        let plan = later.plan(Operation::Terminate, instance, additional, Vec::new(), fence);
        later
            .driver
            .infra()
            .terminate(&plan, &later.current.vnfcs, graceful)
            .await?;
        let mut change = InstanceChange::from(instance);
        change.instantiation_state = InstantiationState::NotInstantiated;
        change.instantiated_vnf_info = None;
        change.vim_id = None;
        Ok(Outcome {
            instance: Some(change),
            resource_changes: Some(plan::affected(&later.current.vnfcs, &[], &connection_id)),
            changed_info: None,
        })
    }

    async fn scale(
        &self,
        instance: &InstanceRow,
        request: &OperationRequest,
        fence: &Fence,
    ) -> Result<Outcome, DriverError> {
        let later = self.context(instance).await?;
        let flavour = plan::flavour(&later.vnfd, &later.current.flavour_id)?;
        let (operation, target) = match request {
            OperationRequest::Scale(scale) => {
                let target = scaling::scaled(
                    flavour,
                    &later.current.levels,
                    &scale.aspect_id,
                    scale.signed_steps(),
                );
                (Operation::Scale, target)
            }
            OperationRequest::ScaleToLevel(to_level) => {
                let level = to_level.instantiation_level_id.as_deref();
                let target = scaling::to_level(
                    flavour,
                    &later.current.levels,
                    level,
                    to_level.scale_info.as_deref(),
                );
                (Operation::ScaleToLevel, target)
            }
            _ => return Err(internal("not a scale request")),
        };
        let target = target.map_err(bad)?;
        let plan = later.plan(
            operation,
            instance,
            request.additional_params(),
            plan::workloads(flavour, &target),
            fence,
        );
        let vnfcs = later.driver.infra().scale(&plan, &later.current.vnfcs).await?;
        Ok(self.updated(
            instance,
            flavour,
            &target,
            &later,
            vnfcs,
            &later.current.metadata(),
        ))
    }

    async fn heal(
        &self,
        instance: &InstanceRow,
        request: &HealVnfRequest,
        fence: &Fence,
    ) -> Result<Outcome, DriverError> {
        let later = self.context(instance).await?;
        let flavour = plan::flavour(&later.vnfd, &later.current.flavour_id)?;
        // v2 names VNFCs by vnfcInfo id, v1 by pod name: the API checked them the same way.
        let requested = request.vnfc_instance_id.iter().flatten().map(|id| &**id);
        let wanted = heal::vnfc_resource_ids(&later.current.info, instance.api_version, requested)
            .map_err(|unknown| bad(format!("vnfcInstanceId({unknown}) does not exist.")))?;
        let targets: Vec<Vnfc> = later
            .current
            .vnfcs
            .iter()
            .filter(|v| wanted.contains(&v.id))
            .cloned()
            .collect();
        let levels = later.current.levels.clone();
        let plan = later.plan(
            Operation::Heal,
            instance,
            request.additional_params.clone().unwrap_or_default(),
            plan::workloads(flavour, &levels),
            fence,
        );
        let vnfcs = later
            .driver
            .infra()
            .heal(&plan, &later.current.vnfcs, &targets)
            .await?;
        Ok(self.updated(
            instance,
            flavour,
            &levels,
            &later,
            vnfcs,
            &later.current.metadata(),
        ))
    }

    async fn change_vnfpkg(
        &self,
        instance: &InstanceRow,
        request: &ChangeCurrentVnfPkgRequest,
        fence: &Fence,
    ) -> Result<Outcome, DriverError> {
        let mut later = self.context(instance).await?;
        let new_vnfd_id = &*request.vnfd_id;
        let (vnfd, package_dir) = plan::package(&self.db, &self.packages, new_vnfd_id).await?;
        (later.vnfd, later.package_dir) = (vnfd, package_dir);
        let flavour = plan::flavour(&later.vnfd, &later.current.flavour_id)?;
        let levels = later.current.levels.clone();
        let plan = later.plan(
            Operation::ChangeVnfpkg,
            instance,
            request.additional_params.clone().unwrap_or_default(),
            plan::workloads(flavour, &levels),
            fence,
        );
        let vnfcs = later
            .driver
            .infra()
            .change_vnfpkg(&plan, &later.current.vnfcs)
            .await?;
        // The new package may name other files: later operations use what it recorded.
        let mut metadata = later.current.metadata();
        metadata.extend(later.driver.recorded_metadata(&plan));
        let mut outcome = self.updated(instance, flavour, &levels, &later, vnfcs, &metadata);
        if let Some(change) = outcome.instance.as_mut() {
            let package = self.db.package_by_vnfd_id(new_vnfd_id).await.ok().flatten();
            adopt_vnfd(change, &later.vnfd, package.map(|p| p.id));
        }
        outcome.changed_info = Some(json!({"vnfdId": later.vnfd.vnfd_id}));
        Ok(outcome)
    }

    /// The instance after a driver changed its VNFCs.
    fn updated(
        &self,
        instance: &InstanceRow,
        flavour: &tacker_pkg::Flavour,
        levels: &scaling::ScaleLevels,
        later: &Later,
        vnfcs: Vec<Vnfc>,
        metadata: &Map<String, Value>,
    ) -> Outcome {
        let connection_id = later.vim.id.as_str();
        let info = plan::instantiated_info(flavour, levels, &vnfcs, connection_id, metadata.clone());
        let mut change = InstanceChange::from(instance);
        change.instantiated_vnf_info = Some(info.into());
        Outcome {
            instance: Some(change),
            resource_changes: Some(plan::affected(&later.current.vnfcs, &vnfcs, connection_id)),
            changed_info: None,
        }
    }

    /// Undoes a failed operation as far as the driver can.
    async fn roll_back(&self, op: &OpOccRow, fence: &Fence) -> Result<Outcome, DriverError> {
        let (instance, operation, request) = self.load(op).await?;
        let nothing_changed = Outcome {
            instance: None,
            resource_changes: None,
            changed_info: None,
        };
        match (operation, &request) {
            (_, OperationRequest::Instantiate(instantiate)) => {
                let (_, package_dir) = plan::package(&self.db, &self.packages, &instance.vnfd_id).await?;
                let (plan, driver, _) =
                    self.instantiate_plan(&instance, instantiate, package_dir, Vec::new(), fence)?;
                driver.infra().rollback_instantiate(&plan).await?;
                Ok(nothing_changed)
            }
            // The instance row still describes the state before the failed step: put the
            // workloads back to it. A failed CHANGE_VNFPKG may have replaced pods with the
            // new package's: its rollback goes back to the old package, which the row
            // (and the metadata it recorded) still names.
            (Operation::ChangeVnfpkg | Operation::Scale | Operation::ScaleToLevel, _) => {
                let later = self.context(&instance).await?;
                let flavour = plan::flavour(&later.vnfd, &later.current.flavour_id)?;
                let levels = later.current.levels.clone();
                let plan = later.plan(
                    operation,
                    &instance,
                    Map::new(),
                    plan::workloads(flavour, &levels),
                    fence,
                );
                let infra = later.driver.infra();
                if operation == Operation::ChangeVnfpkg {
                    infra.change_vnfpkg(&plan, &later.current.vnfcs).await?;
                } else {
                    infra.scale(&plan, &later.current.vnfcs).await?;
                }
                Ok(nothing_changed)
            }
            (other, _) => Err(DriverError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("rollback of {other} is not supported"),
            )),
        }
    }
}

/// What an operation on an instantiated instance starts from.
struct Later {
    current: Current,
    vim: tacker_driver::VimConnection,
    driver: Arc<dyn VimDriver>,
    vnfd: tacker_pkg::Vnfd,
    package_dir: PathBuf,
}

impl Later {
    /// The plan of `operation`: the instance's VIM and what its driver recorded, the
    /// request's additionalParams, the target workloads.
    fn plan(
        &self,
        operation: Operation,
        instance: &InstanceRow,
        additional_params: Map<String, Value>,
        workloads: Vec<tacker_driver::Workload>,
        fence: &Fence,
    ) -> Plan {
        Plan {
            instance_id: instance.id.clone(),
            operation,
            vim: self.vim.clone(),
            package_dir: self.package_dir.clone(),
            additional_params,
            instance_metadata: self.current.metadata(),
            workloads,
            fence: fence.clone(),
        }
    }
}

/// A driver that failed because a GRACEFUL cancel closed its fence failed as asked.
fn unless_cancelled(result: Result<Outcome, DriverError>, fence: &Fence) -> Result<Outcome, DriverError> {
    match result {
        Err(_) if fence.state() == ClaimState::Cancelled => Err(cancelled(CancelMode::Graceful)),
        other => other,
    }
}

fn transition(
    state: OpState,
    error: Option<StoredJson>,
    instance: Option<InstanceChange>,
    keep_claim: bool,
    release_instance: bool,
    pending: Option<String>,
) -> OpTransition {
    OpTransition {
        operation_state: state,
        error,
        resource_changes: None,
        changed_info: None,
        pending_action: pending,
        keep_claim,
        release_instance: release_instance || state.is_final(),
        instance,
    }
}

/// The instance now runs `vnfd`: copy its identity.
fn adopt_vnfd(change: &mut InstanceChange, vnfd: &tacker_pkg::Vnfd, vnf_pkg_id: Option<String>) {
    change.vnfd_id = vnfd.vnfd_id.clone();
    change.vnf_provider = vnfd.provider.clone();
    change.vnf_product_name = vnfd.product_name.clone();
    change.vnf_software_version = vnfd.software_version.clone();
    change.vnfd_version = vnfd.descriptor_version.clone();
    change.vnf_pkg_id = vnf_pkg_id;
}

/// MODIFY_INFO: the instance's own attributes, merged as JSON merge patches.
fn modify(instance: &InstanceRow, request: &VnfInfoModificationRequest) -> Outcome {
    let mut change = InstanceChange::from(instance);
    if let Some(name) = &request.vnf_instance_name {
        change.vnf_instance_name = Some(name.to_string());
    }
    if let Some(description) = &request.vnf_instance_description {
        change.vnf_instance_description = Some(description.to_string());
    }
    for (patch, column) in [
        (&request.metadata, &mut change.metadata),
        (&request.extensions, &mut change.extensions),
        (
            &request.vnf_configurable_properties,
            &mut change.vnf_configurable_properties,
        ),
    ] {
        if let Some(patch) = patch {
            let mut value = column.as_ref().map_or_else(|| json!({}), StoredJson::to_value);
            merge_patch(&mut value, patch);
            *column = Some(value.into());
        }
    }
    Outcome {
        instance: Some(change),
        resource_changes: None,
        changed_info: serde_json::to_value(request).ok(),
    }
}

fn merge_patch(target: &mut Value, patch: &Map<String, Value>) {
    if !target.is_object() {
        *target = json!({});
    }
    let Some(map) = target.as_object_mut() else { return };
    for (key, value) in patch {
        match value {
            Value::Null => {
                map.remove(key);
            }
            Value::Object(inner) => merge_patch(map.entry(key.clone()).or_insert_with(|| json!({})), inner),
            other => {
                map.insert(key.clone(), other.clone());
            }
        }
    }
}
