//! `POST /alert/auto_healing`: Tacker's Prometheus plugin auto-heal. A firing `auto_heal`
//! alert names an instance and one of its VNFCs (`vnfc_info_id`); the VNFCs alerted for
//! one instance within `[prometheus_plugin] timer_interval` are healed together by one
//! HEAL occurrence (`isAutomaticInvocation: true`), run by the conductor like any other,
//! when the instance's `vnfConfigurableProperties.isAutohealEnabled` is true.
//!
//! The gathering is kept in this process: alerts that arrive at a server stopped within
//! the interval are lost with it, and come back with Alertmanager's next repeat of the
//! still-firing alert.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tacker_db::instances::InstanceRow;
use tacker_db::Database;
use tacker_lcm::requests::parse;
use tacker_lcm::{ApiVersion, InstantiationState, LcmError, LcmService, Operation, Result};

use crate::requests::{AlertMessage, AlertStatus};

/// What one auto-heal webhook did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HealReport {
    /// VNFCs added to a pending heal.
    pub queued: usize,
    /// Alerts for instances that are not instantiated or do not allow auto-heal, resolved
    /// alerts, and other receivers' alerts.
    pub skipped: usize,
}

/// Gathers auto-heal alerts per instance and starts the heals; cheap to clone.
#[derive(Clone)]
pub struct AutoHealer {
    db: Database,
    lcm: LcmService,
    interval: Duration,
    /// Instance id → the vnfcInfo ids to heal when its interval ends.
    pending: Arc<Mutex<HashMap<String, BTreeSet<String>>>>,
}

impl AutoHealer {
    pub fn new(db: Database, lcm: LcmService, interval: Duration) -> Self {
        AutoHealer {
            db,
            lcm,
            interval,
            pending: Arc::default(),
        }
    }

    /// Checks every alert first (unknown instance: 404; unknown VNFC: 422), then queues.
    pub async fn receive(&self, body: Option<Value>) -> Result<HealReport> {
        let message: AlertMessage = parse(body.as_ref())?;
        let mut wanted = Vec::new();
        let mut report = HealReport::default();
        for (index, alert) in message.alerts.iter().enumerate() {
            let at = format!("alerts[{index}]");
            if alert.label("function_type") != Some("auto_heal") || alert.status != AlertStatus::Firing {
                report.skipped += 1;
                continue;
            }
            let label = |name: &str| alert.required_label(&at, name);
            let (instance_id, vnfc_id) = (label("vnf_instance_id")?, label("vnfc_info_id")?);
            let instance =
                self.db.get_instance(instance_id).await?.ok_or_else(|| {
                    LcmError::NotFound(format!("{at}: VnfInstance {instance_id} not found."))
                })?;
            if !vnfc_ids(&instance).iter().any(|id| id == vnfc_id) {
                return Err(LcmError::Unprocessable(format!(
                    "{at}: vnfc_info_id {vnfc_id} is not a VNFC of VnfInstance {instance_id}."
                )));
            }
            if !allows_auto_heal(&instance) {
                tracing::info!(instance = %instance_id, "auto-heal alert ignored: the instance is not instantiated or isAutohealEnabled is not true");
                report.skipped += 1;
                continue;
            }
            wanted.push((instance_id.to_owned(), vnfc_id.to_owned()));
        }
        for (instance_id, vnfc_id) in wanted {
            self.queue(instance_id, vnfc_id);
            report.queued += 1;
        }
        Ok(report)
    }

    /// Adds a VNFC to its instance's pending heal; the first one starts the interval.
    fn queue(&self, instance_id: String, vnfc_id: String) {
        let first = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            let vnfcs = pending.entry(instance_id.clone()).or_default();
            let first = vnfcs.is_empty();
            vnfcs.insert(vnfc_id);
            first
        };
        if first {
            let healer = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(healer.interval).await;
                healer.heal(&instance_id).await;
            });
        }
    }

    async fn heal(&self, instance_id: &str) {
        let vnfcs = match self.pending.lock() {
            Ok(mut pending) => pending.remove(instance_id).unwrap_or_default(),
            Err(_) => return,
        };
        let instance = match self.db.get_instance(instance_id).await {
            Ok(Some(instance)) if allows_auto_heal(&instance) => instance,
            Ok(_) => {
                tracing::info!(instance = %instance_id, "auto-heal dropped: the instance is gone, not instantiated or no longer allows it");
                return;
            }
            Err(e) => {
                tracing::warn!(instance = %instance_id, error = %e, "auto-heal dropped: the instance could not be read");
                return;
            }
        };
        let body = json!({"vnfcInstanceId": heal_targets(&instance, &vnfcs)});
        match self.lcm.start_automatic(instance_id, Operation::Heal, body).await {
            Ok(op_occ) => {
                tracing::info!(instance = %instance_id, %op_occ, vnfcs = ?vnfcs, "auto-heal started")
            }
            Err(e) => tracing::warn!(instance = %instance_id, error = %e, "auto-heal could not start"),
        }
    }
}

fn info(instance: &InstanceRow) -> Value {
    instance
        .instantiated_vnf_info
        .as_ref()
        .map_or(Value::Null, |info| info.to_value())
}

fn vnfc_ids(instance: &InstanceRow) -> Vec<String> {
    info(instance)["vnfcInfo"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|vnfc| vnfc["id"].as_str().map(str::to_owned))
        .collect()
}

/// The VNFCs as the instance's API names them in a heal request: v2 by vnfcInfo id, v1
/// by its resource (pod) id.
fn heal_targets(instance: &InstanceRow, vnfcs: &BTreeSet<String>) -> Vec<String> {
    if instance.api_version == ApiVersion::V2 {
        return vnfcs.iter().cloned().collect();
    }
    info(instance)["vnfcInfo"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|vnfc| vnfc["id"].as_str().is_some_and(|id| vnfcs.contains(id)))
        .filter_map(|vnfc| vnfc["vnfcResourceInfoId"].as_str().map(str::to_owned))
        .collect()
}

fn allows_auto_heal(instance: &InstanceRow) -> bool {
    instance.instantiation_state == InstantiationState::Instantiated
        && instance
            .vnf_configurable_properties
            .as_ref()
            .map(|props| props.to_value())
            .is_some_and(|props| props["isAutohealEnabled"] == json!(true))
}
