//! `POST /alert/auto_scaling`: Tacker's Prometheus plugin auto-scale. A firing
//! `auto_scale` alert names an instance, one of its scaling aspects (`aspect_id`) and a
//! direction (`auto_scale_type`: SCALE_OUT or SCALE_IN); when the instance's
//! `vnfConfigurableProperties.isAutoscaleEnabled` is true, a SCALE occurrence of one step
//! (`isAutomaticInvocation: true`) starts at once, as in Tacker. A scale beyond the
//! aspect's limits, or while another operation holds the instance, is refused by the LCM
//! rules and logged.

use serde_json::{json, Value};
use tacker_db::instances::InstanceRow;
use tacker_db::Database;
use tacker_lcm::requests::parse;
use tacker_lcm::{InstantiationState, LcmError, LcmService, Operation, Result};

use crate::requests::{AlertMessage, AlertStatus};

/// What one auto-scale webhook did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScaleReport {
    pub started: usize,
    /// Instances that do not allow auto-scale, scales the LCM rules refused, resolved
    /// alerts and other receivers' alerts.
    pub skipped: usize,
}

/// Starts the scales auto-scale alerts ask for; cheap to clone.
#[derive(Clone)]
pub struct AutoScaler {
    db: Database,
    lcm: LcmService,
}

impl AutoScaler {
    pub fn new(db: Database, lcm: LcmService) -> Self {
        AutoScaler { db, lcm }
    }

    /// Checks every alert first (unknown instance: 404; unknown aspect or direction:
    /// 4xx), then starts one scale per alert.
    pub async fn receive(&self, body: Option<Value>) -> Result<ScaleReport> {
        let message: AlertMessage = parse(body.as_ref())?;
        let mut wanted = Vec::new();
        let mut report = ScaleReport::default();
        for (index, alert) in message.alerts.iter().enumerate() {
            let at = format!("alerts[{index}]");
            if alert.label("function_type") != Some("auto_scale") || alert.status != AlertStatus::Firing {
                report.skipped += 1;
                continue;
            }
            let label = |name: &str| alert.required_label(&at, name);
            let (instance_id, aspect_id, direction) = (
                label("vnf_instance_id")?,
                label("aspect_id")?,
                label("auto_scale_type")?,
            );
            if !matches!(direction, "SCALE_OUT" | "SCALE_IN") {
                return Err(LcmError::BadRequest(format!(
                    "{at}.labels.auto_scale_type '{direction}' is not SCALE_OUT or SCALE_IN"
                )));
            }
            let instance =
                self.db.get_instance(instance_id).await?.ok_or_else(|| {
                    LcmError::NotFound(format!("{at}: VnfInstance {instance_id} not found."))
                })?;
            if !allows_auto_scale(&instance) {
                tracing::info!(instance = %instance_id, "auto-scale alert ignored: the instance is not instantiated or isAutoscaleEnabled is not true");
                report.skipped += 1;
                continue;
            }
            if !aspects(&instance).iter().any(|a| a == aspect_id) {
                return Err(LcmError::Unprocessable(format!(
                    "{at}: aspect_id {aspect_id} is not a scaling aspect of VnfInstance {instance_id}."
                )));
            }
            wanted.push((instance_id.to_owned(), aspect_id.to_owned(), direction.to_owned()));
        }
        for (instance_id, aspect_id, direction) in wanted {
            let body = json!({"type": direction, "aspectId": aspect_id, "numberOfSteps": 1});
            match self
                .lcm
                .start_automatic(&instance_id, Operation::Scale, body)
                .await
            {
                Ok(op_occ) => {
                    tracing::info!(instance = %instance_id, %op_occ, aspect = %aspect_id, %direction, "auto-scale started");
                    report.started += 1;
                }
                // Beyond the aspect's levels, or the instance is busy: Tacker logs it too.
                Err(e @ (LcmError::Conflict(_) | LcmError::BadRequest(_) | LcmError::Unprocessable(_))) => {
                    tracing::warn!(instance = %instance_id, error = %e, "auto-scale refused");
                    report.skipped += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}

fn allows_auto_scale(instance: &InstanceRow) -> bool {
    instance.instantiation_state == InstantiationState::Instantiated
        && instance
            .vnf_configurable_properties
            .as_ref()
            .map(|props| props.to_value())
            .is_some_and(|props| props["isAutoscaleEnabled"] == json!(true))
}

fn aspects(instance: &InstanceRow) -> Vec<String> {
    let info = instance
        .instantiated_vnf_info
        .as_ref()
        .map_or(Value::Null, |info| info.to_value());
    info["scaleStatus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|status| status["aspectId"].as_str().map(str::to_owned))
        .collect()
}
