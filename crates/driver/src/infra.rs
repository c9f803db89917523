//! The infra driver interface: what the conductor asks of a VIM type's driver. The
//! conductor owns the lifecycle rules (levels, counts, states); a driver only makes the
//! VIM match the plan and reports the resources it runs.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::fence::{Fence, Halted};
use tacker_sol003::Operation;

/// The VIM connection an operation uses, credentials in clear (memory only).
#[derive(Clone)]
pub struct VimConnection {
    /// The vimConnectionInfo key (`vimConnectionId` of resources).
    pub id: String,
    pub vim_type: String,
    pub info: Map<String, Value>,
}

impl std::fmt::Debug for VimConnection {
    // Never print credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VimConnection")
            .field("id", &self.id)
            .field("vim_type", &self.vim_type)
            .finish_non_exhaustive()
    }
}

/// One VDU's workload and how many instances it should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub vdu_id: String,
    /// The VDU's `name`: the Kubernetes resource that realises it.
    pub name: String,
    pub replicas: u32,
}

/// What an operation asks the driver to make true.
#[derive(Debug, Clone)]
pub struct Plan {
    pub instance_id: String,
    /// The operation the plan serves (a rollback runs the plan of the operation it undoes).
    pub operation: Operation,
    pub vim: VimConnection,
    /// The unpacked VNF package.
    pub package_dir: PathBuf,
    /// The request's `additionalParams`; the driver reads its own parameters from them.
    pub additional_params: Map<String, Value>,
    /// What the VIM type recorded in `instantiatedVnfInfo.metadata` when the instance was
    /// instantiated or last moved to a package ([`crate::VimDriver::recorded_metadata`]).
    pub instance_metadata: Map<String, Value>,
    pub workloads: Vec<Workload>,
    /// Wait on it before every change of the VIM: the execution may have lost its claim.
    pub fence: Fence,
}

/// A running VNFC (for Kubernetes, a pod).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vnfc {
    pub id: String,
    pub vdu_id: String,
    pub resource_id: String,
    /// `vimLevelResourceType` (Deployment, StatefulSet, ...).
    pub resource_type: String,
}

impl Vnfc {
    pub fn to_resource_info(&self, vim_connection_id: &str) -> Value {
        json!({
            "id": self.id,
            "vduId": self.vdu_id,
            "computeResource": {
                "vimConnectionId": vim_connection_id,
                "resourceId": self.resource_id,
                "vimLevelResourceType": self.resource_type,
            },
            "metadata": {},
        })
    }

    pub fn from_resource_info(value: &Value) -> Option<Vnfc> {
        Some(Vnfc {
            id: value.get("id")?.as_str()?.to_owned(),
            vdu_id: value.get("vduId")?.as_str()?.to_owned(),
            resource_id: value.pointer("/computeResource/resourceId")?.as_str()?.to_owned(),
            resource_type: value
                .pointer("/computeResource/vimLevelResourceType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

/// An operation's failure, as the ProblemDetails its occurrence will show.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct DriverError {
    pub status: StatusCode,
    pub detail: String,
}

impl DriverError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        DriverError {
            status,
            detail: detail.into(),
        }
    }

    /// The request or the package asks for something the VIM cannot be made to do.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        DriverError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// tacker-rs itself failed (its database, its files).
    pub fn internal(detail: impl Into<String>) -> Self {
        DriverError::new(StatusCode::INTERNAL_SERVER_ERROR, detail)
    }

    pub fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }

    pub fn problem_details(&self) -> Value {
        json!({"status": self.status.as_u16(), "title": self.title(), "detail": self.detail})
    }
}

impl From<Halted> for DriverError {
    fn from(halted: Halted) -> Self {
        DriverError::new(StatusCode::CONFLICT, halted.to_string())
    }
}

/// A VIM type's driver.
#[async_trait]
pub trait InfraDriver: Send + Sync {
    /// Creates the workloads and returns the VNFCs once they are ready.
    async fn instantiate(&self, plan: &Plan) -> Result<Vec<Vnfc>, DriverError>;
    /// Sets each workload's replicas; returns all VNFCs after.
    async fn scale(&self, plan: &Plan, current: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError>;
    /// Replaces `targets` (all VNFCs when empty); returns all VNFCs after.
    async fn heal(&self, plan: &Plan, current: &[Vnfc], targets: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError>;
    /// Removes everything the instance runs; `graceful` bounds a graceful termination.
    async fn terminate(
        &self,
        plan: &Plan,
        current: &[Vnfc],
        graceful: Option<Duration>,
    ) -> Result<(), DriverError>;
    /// Moves the workloads to a new package's manifests; returns all VNFCs after.
    async fn change_vnfpkg(&self, plan: &Plan, current: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError>;
    /// Removes what a failed instantiate created.
    async fn rollback_instantiate(&self, plan: &Plan) -> Result<(), DriverError>;
}
