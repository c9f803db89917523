//! The Kubernetes VIM type as the driver registry sees it: the operations it performs,
//! its `additionalParams`, the check of a VIM at registration, what it records on the
//! instance, and the infra driver that runs its plans.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tacker_driver::{Drivers, InfraDriver, InvalidAdditionalParams, Operation, Plan, ProbeFailed, VimDriver};

use crate::driver::{KubernetesDriver, KubernetesSettings};
use crate::manifests::{self, DEF_FILES};

/// The v2 vimType of Kubernetes VIMs (v1 and the VIM registry say `kubernetes`).
pub const KUBERNETES_V2: &str = "ETSINFV.KUBERNETES.V_1";

/// Operations the Kubernetes infra driver performs.
const OPERATIONS: &[Operation] = &[
    Operation::Instantiate,
    Operation::Terminate,
    Operation::Scale,
    Operation::ScaleToLevel,
    Operation::Heal,
    Operation::ChangeVnfpkg,
    Operation::ModifyInfo,
];

/// Bound on connecting to a cluster (and its IdP) while a VIM is registered.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

pub struct KubernetesVim {
    infra: Arc<dyn InfraDriver>,
}

impl KubernetesVim {
    pub fn new(settings: KubernetesSettings) -> Self {
        KubernetesVim::with_infra(Arc::new(KubernetesDriver::new(settings)))
    }

    /// The Kubernetes VIM type with another infra driver: tests and benchmarks run its
    /// plans in memory (tacker_driver::TestDriver) under the same API rules.
    pub fn with_infra(infra: Arc<dyn InfraDriver>) -> Self {
        KubernetesVim { infra }
    }
}

/// The registry of a process that drives Kubernetes VIMs.
pub fn drivers(settings: KubernetesSettings) -> Drivers {
    Drivers::new().with(Arc::new(KubernetesVim::new(settings)))
}

/// The registry every tacker-rs process builds from its tacker.conf (the servers, the
/// conductor and `tacker-manage vim register`).
pub fn configured_drivers(config: &tacker_common::Config) -> Drivers {
    drivers(KubernetesSettings::from_options(&config.lcm))
}

#[async_trait]
impl VimDriver for KubernetesVim {
    fn registry_type(&self) -> &'static str {
        "kubernetes"
    }

    fn vim_types(&self) -> &'static [&'static str] {
        &[KUBERNETES_V2]
    }

    fn supports(&self, operation: Operation) -> bool {
        OPERATIONS.contains(&operation)
    }

    fn check_additional_params(
        &self,
        operation: Operation,
        additional_params: &Map<String, Value>,
        artifacts: &[String],
    ) -> Result<(), InvalidAdditionalParams> {
        let invalid = |message: String| InvalidAdditionalParams(message);
        if operation != Operation::Instantiate {
            return Ok(());
        }
        let files = match additional_params.get(DEF_FILES) {
            Some(Value::Array(files)) if !files.is_empty() => files,
            _ => return Err(invalid(format!("'{DEF_FILES}' must be specified"))),
        };
        for file in files {
            let file = file
                .as_str()
                .ok_or_else(|| invalid(format!("'{DEF_FILES}' must list file paths")))?;
            if !artifacts.iter().any(|a| a == file) {
                return Err(invalid(format!(
                    "'{file}' in {DEF_FILES} is not an artifact of the VNF package"
                )));
            }
        }
        Ok(())
    }

    async fn probe(&self, connection: &Map<String, Value>) -> Result<Vec<String>, ProbeFailed> {
        crate::probe::namespaces(connection, PROBE_TIMEOUT)
            .await
            .map_err(ProbeFailed::new)
    }

    fn recorded_metadata(&self, plan: &Plan) -> Map<String, Value> {
        let mut metadata = Map::new();
        metadata.insert(DEF_FILES.into(), json!(manifests::files(plan)));
        if let Some(namespace) = plan.additional_params.get("namespace") {
            metadata.insert("namespace".into(), namespace.clone());
        }
        metadata
    }

    fn infra(&self) -> Arc<dyn InfraDriver> {
        self.infra.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instantiate_needs_manifests_that_are_package_artifacts() {
        let vim = KubernetesVim::new(KubernetesSettings::default());
        let artifacts = vec!["Files/kubernetes/deployment.yaml".to_owned()];
        let params = |v: Value| v.as_object().cloned().unwrap_or_default();
        let ok = params(json!({DEF_FILES: ["Files/kubernetes/deployment.yaml"]}));
        assert!(vim
            .check_additional_params(Operation::Instantiate, &ok, &artifacts)
            .is_ok());
        let missing = vim
            .check_additional_params(Operation::Instantiate, &Map::new(), &artifacts)
            .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "'lcm-kubernetes-def-files' must be specified"
        );
        let foreign = params(json!({DEF_FILES: ["Files/other.yaml"]}));
        let foreign = vim
            .check_additional_params(Operation::Instantiate, &foreign, &artifacts)
            .unwrap_err();
        assert!(foreign.0.contains("is not an artifact"), "{foreign}");
        assert!(vim
            .check_additional_params(Operation::Scale, &Map::new(), &artifacts)
            .is_ok());
    }

    #[test]
    fn the_registry_finds_it_by_every_name() {
        let drivers = drivers(KubernetesSettings::default());
        for name in ["kubernetes", "Kubernetes", KUBERNETES_V2] {
            let vim = drivers.get(name).unwrap_or_else(|| panic!("{name}"));
            assert!(vim.supports(Operation::Heal));
            assert!(!vim.supports(Operation::Operate));
        }
        assert!(drivers.get("openstack").is_none());
    }
}
