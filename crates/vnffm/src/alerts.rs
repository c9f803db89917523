//! `POST /alert`: Alertmanager's webhook turned into alarms, as Tacker's Prometheus plugin
//! does. A firing alert raises an alarm on the instance its `vnf_instance_id` label names,
//! for the VNFCs whose pods its `pod` label (a regular expression anchored at the start)
//! matches; the same alert resolved clears it. Alertmanager's fingerprint ties the two
//! together, so an alert delivered twice raises one alarm.
//!
//! Unlike Tacker, which answers 204 and drops the rest of a batch at the first bad alert,
//! the whole payload is checked before anything changes: a bad one is refused with a 4xx
//! that names the alert (Alertmanager does not resend on 4xx).

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::Value;
use tacker_db::alarms::{AlarmRow, TextList};
use tacker_db::instances::InstanceRow;
use tacker_lcm::requests::parse;
use tacker_lcm::{LcmError, Result};
use tacker_sol003::{AckState, EventType, PerceivedSeverity, SubscriptionApi};
use uuid::Uuid;

use crate::requests::{Alert, AlertMessage, AlertStatus};
use crate::FmService;

/// What one webhook did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AlertReport {
    pub raised: usize,
    pub cleared: usize,
    /// Alerts already raised, resolved ones with nothing open, and other receivers' alerts.
    pub unchanged: usize,
}

/// The change one checked alert asks for.
enum Planned {
    Raise(Box<(AlarmRow, InstanceRow)>),
    Clear {
        instance_id: String,
        fingerprint: String,
        cleared_time: DateTime<Utc>,
    },
    /// Another function type's alert (auto-heal, PM): not this receiver's.
    Ignore,
}

const FUNCTION_TYPES: &[&str] = &["vnffm", "vnfpm", "vnfpm_threshold", "auto_scale", "auto_heal"];

impl FmService {
    /// Checks every alert of the payload, then raises and clears alarms with their
    /// notifications.
    pub async fn receive_alerts(&self, body: Option<Value>) -> Result<AlertReport> {
        let message: AlertMessage = parse(body.as_ref())?;
        let mut planned = Vec::with_capacity(message.alerts.len());
        for (index, alert) in message.alerts.iter().enumerate() {
            planned.push(self.plan(index, alert).await?);
        }
        let mut report = AlertReport::default();
        for change in planned {
            match change {
                Planned::Raise(raise) => {
                    let (alarm, instance) = *raise;
                    if self.raise(&alarm, &instance).await? {
                        report.raised += 1;
                    } else {
                        report.unchanged += 1;
                    }
                }
                Planned::Clear {
                    instance_id,
                    fingerprint,
                    cleared_time,
                } => {
                    if self.clear(&instance_id, &fingerprint, cleared_time).await? {
                        report.cleared += 1;
                    } else {
                        report.unchanged += 1;
                    }
                }
                Planned::Ignore => report.unchanged += 1,
            }
        }
        Ok(report)
    }

    async fn plan(&self, index: usize, alert: &Alert) -> Result<Planned> {
        let at = format!("alerts[{index}]");
        let label = |name: &str| alert.required_label(&at, name);
        if label("receiver_type")? != "tacker" {
            return Err(LcmError::BadRequest(format!(
                "{at}.labels.receiver_type must be 'tacker'"
            )));
        }
        let function_type = label("function_type")?;
        if !FUNCTION_TYPES.contains(&function_type) {
            return Err(LcmError::BadRequest(format!(
                "{at}.labels.function_type '{function_type}' is not one of {}",
                FUNCTION_TYPES.join(", ")
            )));
        }
        if function_type != "vnffm" {
            return Ok(Planned::Ignore);
        }
        let instance_id = label("vnf_instance_id")?;
        if alert.status == AlertStatus::Resolved {
            // An alarm outlives its instance: it is cleared without one.
            let cleared_time = alert
                .ends_at
                .filter(|t| *t > alert.starts_at)
                .unwrap_or_else(Utc::now);
            return Ok(Planned::Clear {
                instance_id: instance_id.to_owned(),
                fingerprint: alert.fingerprint.to_string(),
                cleared_time,
            });
        }
        let perceived_severity: PerceivedSeverity = label("perceived_severity")?
            .parse()
            .map_err(|e| LcmError::BadRequest(format!("{at}.labels.perceived_severity: {e}")))?;
        let event_type: EventType = label("event_type")?
            .parse()
            .map_err(|e| LcmError::BadRequest(format!("{at}.labels.event_type: {e}")))?;
        let pod = label("pod")?;
        let pattern = Regex::new(&format!("^(?:{pod})")).map_err(|_| {
            LcmError::BadRequest(format!("{at}.labels.pod '{pod}' is not a regular expression"))
        })?;
        let instance = self
            .inner
            .db
            .get_instance(instance_id)
            .await?
            .ok_or_else(|| LcmError::NotFound(format!("{at}: VnfInstance {instance_id} not found.")))?;
        let vnfc_instance_ids = vnfcs_of_pods(&instance, &pattern);
        if vnfc_instance_ids.is_empty() {
            return Err(LcmError::Unprocessable(format!(
                "{at}: pod '{pod}' matches no VNFC of VnfInstance {instance_id}."
            )));
        }
        let mut fault_details = vec![format!("fingerprint: {}", &*alert.fingerprint)];
        if let Some(detail) = alert.annotation("fault_details") {
            fault_details.push(format!("detail: {detail}"));
        }
        let alarm = AlarmRow {
            id: Uuid::new_v4().to_string(),
            tenant_id: instance.tenant_id.clone(),
            managed_object_id: instance.id.clone(),
            managed_object_api: instance.api_version,
            fingerprint: alert.fingerprint.to_string(),
            vnfc_instance_ids: TextList(vnfc_instance_ids),
            alarm_raised_time: Utc::now(),
            alarm_changed_time: None,
            alarm_cleared_time: None,
            alarm_acknowledged_time: None,
            ack_state: AckState::Unacknowledged,
            perceived_severity,
            event_time: alert.starts_at,
            event_type,
            fault_type: alert.annotation("fault_type"),
            probable_cause: alert.annotation("probable_cause").unwrap_or_default(),
            is_root_cause: false,
            fault_details: TextList(fault_details),
        };
        Ok(Planned::Raise(Box::new((alarm, instance))))
    }

    /// Raises an alarm unless its alert already has an open one: false then.
    async fn raise(&self, alarm: &AlarmRow, instance: &InstanceRow) -> Result<bool> {
        let subscriptions = self
            .inner
            .db
            .list_subscriptions(SubscriptionApi::FmV1, Some(&instance.tenant_id))
            .await?;
        let notifications =
            self.inner
                .notifier
                .raised(&subscriptions, instance, alarm, alarm.alarm_raised_time);
        let raised = self.inner.db.raise_alarm(alarm, &notifications).await?;
        if raised {
            tracing::info!(alarm = %alarm.id, instance = %instance.id, severity = %alarm.perceived_severity, "alarm raised");
        }
        Ok(raised)
    }

    /// Clears the open alarm of an alert, if there is one.
    async fn clear(&self, instance_id: &str, fingerprint: &str, cleared_time: DateTime<Utc>) -> Result<bool> {
        let Some(alarm) = self.inner.db.open_alarm(instance_id, fingerprint).await? else {
            return Ok(false);
        };
        let now = Utc::now();
        // Subscribers hear of it while the instance exists (Tacker: the same).
        let notifications = match self.inner.db.get_instance(instance_id).await? {
            Some(instance) => {
                let subscriptions = self
                    .inner
                    .db
                    .list_subscriptions(SubscriptionApi::FmV1, Some(&instance.tenant_id))
                    .await?;
                self.inner
                    .notifier
                    .cleared(&subscriptions, &instance, &alarm, cleared_time, now)
            }
            None => Vec::new(),
        };
        let cleared = self
            .inner
            .db
            .clear_alarm(&alarm.id, cleared_time, now, &notifications)
            .await?;
        if cleared {
            tracing::info!(alarm = %alarm.id, instance = %instance_id, "alarm cleared");
        }
        Ok(cleared)
    }
}

/// The vnfcInfo ids of the instance's VNFCs whose pod (or Deployment's pod) name matches.
fn vnfcs_of_pods(instance: &InstanceRow, pattern: &Regex) -> Vec<String> {
    let Some(info) = instance
        .instantiated_vnf_info
        .as_ref()
        .map(|info| info.to_value())
    else {
        return Vec::new();
    };
    let list = |key: &str| {
        info.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let matching: Vec<String> = list("vnfcResourceInfo")
        .iter()
        .filter(|resource| {
            let compute = &resource["computeResource"];
            matches!(
                compute["vimLevelResourceType"].as_str(),
                Some("Deployment" | "Pod")
            ) && compute["resourceId"]
                .as_str()
                .is_some_and(|id| pattern.is_match(id))
        })
        .filter_map(|resource| resource["id"].as_str().map(str::to_owned))
        .collect();
    list("vnfcInfo")
        .iter()
        .filter(|vnfc| {
            vnfc["vnfcResourceInfoId"]
                .as_str()
                .is_some_and(|id| matching.iter().any(|m| m == id))
        })
        .filter_map(|vnfc| vnfc["id"].as_str().map(str::to_owned))
        .collect()
}
