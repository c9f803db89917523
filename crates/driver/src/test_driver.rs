//! An infra driver without a VIM, for lifecycle tests and benchmarks: it "runs" pods in
//! memory. `additionalParams["tacker-rs-test"]` steers it: `{"fail": "<operation>"}` makes
//! that operation fail, `{"delay_ms": {"<operation>": n}}` makes it take that long.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use crate::infra::{DriverError, InfraDriver, Plan, Vnfc};

#[derive(Debug, Default)]
pub struct TestDriver {
    /// Instance id → its pods.
    pods: Mutex<HashMap<String, Vec<Vnfc>>>,
    /// (instance id, operation) → how often the "VIM" was changed for it.
    changes: Mutex<HashMap<(String, String), usize>>,
}

impl TestDriver {
    pub fn new() -> Self {
        TestDriver::default()
    }

    /// The pods an instance runs now.
    pub fn pods(&self, instance_id: &str) -> Vec<Vnfc> {
        self.pods
            .lock()
            .map(|p| p.get(instance_id).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// How often `operation` changed the "VIM" for an instance: a test of the claim
    /// fencing expects once per run, never twice.
    pub fn changes(&self, instance_id: &str, operation: &str) -> usize {
        self.changes
            .lock()
            .map(|c| {
                c.get(&(instance_id.to_owned(), operation.to_owned()))
                    .copied()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    }

    /// Delays and fails as the plan asks; then, like a real driver before it calls its
    /// VIM, waits until the execution's claim is held and records the change.
    async fn steer(&self, plan: &Plan, operation: &str) -> Result<(), DriverError> {
        let test = plan.additional_params.get("tacker-rs-test");
        if let Some(ms) = test
            .and_then(|t| t.pointer(&format!("/delay_ms/{operation}")))
            .and_then(Value::as_u64)
        {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if test.and_then(|t| t.get("fail")).and_then(Value::as_str) == Some(operation) {
            return Err(DriverError::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("test driver: {operation} failed as requested"),
            ));
        }
        plan.fence.wait_held().await?;
        if let Ok(mut changes) = self.changes.lock() {
            *changes
                .entry((plan.instance_id.clone(), operation.to_owned()))
                .or_default() += 1;
        }
        Ok(())
    }

    /// Pods for each workload: keeps existing ones, adds or removes to match replicas.
    fn converge(&self, plan: &Plan, mut current: Vec<Vnfc>) -> Vec<Vnfc> {
        let mut result = Vec::new();
        for workload in &plan.workloads {
            let mut mine: Vec<Vnfc> = current
                .iter()
                .filter(|v| v.vdu_id == workload.vdu_id)
                .cloned()
                .collect();
            mine.truncate(workload.replicas as usize);
            while mine.len() < workload.replicas as usize {
                mine.push(pod(&workload.vdu_id, &workload.name));
            }
            result.extend(mine);
        }
        current.clear();
        self.set(&plan.instance_id, result.clone());
        result
    }

    fn set(&self, instance_id: &str, pods: Vec<Vnfc>) {
        if let Ok(mut all) = self.pods.lock() {
            if pods.is_empty() {
                all.remove(instance_id);
            } else {
                all.insert(instance_id.to_owned(), pods);
            }
        }
    }
}

fn pod(vdu_id: &str, name: &str) -> Vnfc {
    let suffix = Uuid::new_v4().simple().to_string();
    let resource_id = format!("{name}-{}", &suffix[..10]);
    Vnfc {
        id: resource_id.clone(),
        vdu_id: vdu_id.to_owned(),
        resource_id,
        resource_type: "Deployment".into(),
    }
}

#[async_trait]
impl InfraDriver for TestDriver {
    async fn instantiate(&self, plan: &Plan) -> Result<Vec<Vnfc>, DriverError> {
        self.steer(plan, "instantiate").await?;
        Ok(self.converge(plan, Vec::new()))
    }

    async fn scale(&self, plan: &Plan, current: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError> {
        self.steer(plan, "scale").await?;
        Ok(self.converge(plan, current.to_vec()))
    }

    async fn heal(&self, plan: &Plan, current: &[Vnfc], targets: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError> {
        self.steer(plan, "heal").await?;
        let healed: Vec<Vnfc> = current
            .iter()
            .map(|v| {
                if targets.is_empty() || targets.contains(v) {
                    pod(
                        &v.vdu_id,
                        v.resource_id.rsplit_once('-').map_or(&v.resource_id, |(n, _)| n),
                    )
                } else {
                    v.clone()
                }
            })
            .collect();
        self.set(&plan.instance_id, healed.clone());
        Ok(healed)
    }

    async fn terminate(
        &self,
        plan: &Plan,
        _current: &[Vnfc],
        _graceful: Option<Duration>,
    ) -> Result<(), DriverError> {
        self.steer(plan, "terminate").await?;
        self.set(&plan.instance_id, Vec::new());
        Ok(())
    }

    async fn change_vnfpkg(&self, plan: &Plan, current: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError> {
        self.steer(plan, "change_vnfpkg").await?;
        // A rolling update replaces every pod.
        let emptied: Vec<Vnfc> = Vec::new();
        let _ = current;
        Ok(self.converge(plan, emptied))
    }

    async fn rollback_instantiate(&self, plan: &Plan) -> Result<(), DriverError> {
        self.steer(plan, "rollback").await?;
        self.set(&plan.instance_id, Vec::new());
        Ok(())
    }
}
