//! One registry of VIM-type drivers, taken by the API side (which operations a VIM type
//! supports, how its `additionalParams` are checked, how its VIMs are probed at
//! registration) and by the conductor (how a plan is run). A new VIM type is one crate
//! implementing [`VimDriver`] and one line of wiring.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::infra::{InfraDriver, Plan};
use tacker_sol003::Operation;

/// Why an operation's `additionalParams` do not suit the VIM type: shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAdditionalParams(pub String);

/// Why a VIM being registered failed its probe. Its message (the cause's) is shown to the
/// client and names no secret; the cause stays its source.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ProbeFailed(pub Box<dyn std::error::Error + Send + Sync>);

impl ProbeFailed {
    pub fn new(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        ProbeFailed(Box::new(cause))
    }
}

/// Everything tacker-rs asks of one VIM type.
#[async_trait]
pub trait VimDriver: Send + Sync {
    /// The type's name in the VIM registry (`/v1.0/vims` `type`, `[nfvo_vim] vim_drivers`).
    fn registry_type(&self) -> &'static str;
    /// The `vimType` values of vimConnectionInfo it serves, besides the registry type.
    fn vim_types(&self) -> &'static [&'static str];
    /// Whether its infra driver performs `operation`.
    fn supports(&self, operation: Operation) -> bool;
    /// Checks an operation's `additionalParams` before any occurrence exists; `artifacts`
    /// are the artifact paths of the package the operation uses. The error is shown to the
    /// client as a 400.
    fn check_additional_params(
        &self,
        operation: Operation,
        additional_params: &Map<String, Value>,
        artifacts: &[String],
    ) -> Result<(), InvalidAdditionalParams>;
    /// Checks a VIM being registered against its infrastructure, with the connection
    /// info the VIM registry derives from its credentials (secrets in clear); returns its
    /// regions (for Kubernetes, the namespaces), or why it failed (no secret in it).
    async fn probe(&self, connection: &Map<String, Value>) -> Result<Vec<String>, ProbeFailed>;
    /// What to keep in `instantiatedVnfInfo.metadata` after `plan` instantiated the
    /// instance or moved it to another package; later plans carry it back
    /// ([`crate::Plan::instance_metadata`]).
    fn recorded_metadata(&self, plan: &Plan) -> Map<String, Value>;
    /// Runs the plans of its operations.
    fn infra(&self) -> Arc<dyn InfraDriver>;
}

/// The drivers of this process, by every name their VIM type goes by.
#[derive(Clone, Default)]
pub struct Drivers {
    by_name: HashMap<String, Arc<dyn VimDriver>>,
}

impl Drivers {
    pub fn new() -> Self {
        Drivers::default()
    }

    /// Adds a driver under its registry type and its vimType names.
    pub fn with(mut self, driver: Arc<dyn VimDriver>) -> Self {
        let names = std::iter::once(driver.registry_type()).chain(driver.vim_types().iter().copied());
        for name in names {
            self.by_name.insert(name.to_ascii_lowercase(), driver.clone());
        }
        self
    }

    /// The driver serving `vim_type` (a registry type or a vimType, in any case).
    pub fn get(&self, vim_type: &str) -> Option<&Arc<dyn VimDriver>> {
        self.by_name.get(&vim_type.to_ascii_lowercase())
    }

    /// The infra driver serving `vim_type`.
    pub fn infra(&self, vim_type: &str) -> Option<Arc<dyn InfraDriver>> {
        self.get(vim_type).map(|d| d.infra())
    }
}

impl std::fmt::Debug for Drivers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.by_name.keys().collect();
        names.sort();
        f.debug_struct("Drivers").field("vim_types", &names).finish()
    }
}
