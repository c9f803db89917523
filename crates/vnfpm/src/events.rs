//! `POST /pm_event` and `POST /pm_threshold`: the alerts a job's or threshold's rules
//! raise, as Alertmanager delivers them. A PM job's values become one report per webhook
//! (a metric measured again within its reporting period is skipped) and a
//! PerformanceInformationAvailable notification per object; a threshold's value is
//! compared with the last one and a crossing is notified.
//!
//! The payload is checked before anything changes: an alert naming no known job or
//! threshold, or without a number for its value, is refused with a 4xx naming it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{json, Value};
use tacker_db::pm::{PmJobRow, PmReportRow, ThresholdRow};
use tacker_db::{DbError, StoredJson};
use tacker_lcm::requests::parse;
use tacker_lcm::{LcmError, Result};
use tacker_vnffm::requests::{Alert, AlertMessage, AlertStatus};
use uuid::Uuid;

use crate::metrics;
use crate::notifications::Crossing;
use crate::requests::SimpleThresholdDetails;
use crate::PmService;

/// An earlier report of a job: when, and its entries.
type Reported = (DateTime<Utc>, Vec<Value>);

/// What one webhook did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EventReport {
    /// Reports stored (PM jobs) or crossings notified (thresholds).
    pub recorded: usize,
    /// Alerts left alone: repeated within the period, not for this receiver, no crossing.
    pub skipped: usize,
}

/// One value of one alert, checked.
pub(crate) struct Measured<'a> {
    pub owner_id: &'a str,
    pub object: &'a str,
    pub sub: Option<&'a str>,
    pub metric: &'a str,
    pub value: f64,
}

fn measured<'a>(index: usize, alert: &'a Alert, owner: &str) -> Result<Measured<'a>> {
    let at = format!("alerts[{index}]");
    let label = |name: &str| alert.required_label(&at, name);
    let value = alert
        .annotation("value")
        .ok_or_else(|| LcmError::BadRequest(format!("{at}.annotations.value is required")))?;
    let number = value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| LcmError::BadRequest(format!("{at}.annotations.value '{value}' is not a number")))?;
    Ok(Measured {
        owner_id: label(owner)?,
        object: label("object_instance_id")?,
        sub: alert.label("sub_object_instance_id").filter(|v| !v.is_empty()),
        metric: label("metric")?,
        value: number,
    })
}

/// Values travel as strings, as Tacker writes them: counts as integers.
fn shown(metric: &str, value: f64) -> String {
    if metrics::is_count(metric) {
        format!("{}", value.round() as i64)
    } else {
        value.to_string()
    }
}

/// A stored list of ids (a list that does not read holds none).
fn ids(stored: Option<&StoredJson>) -> Vec<String> {
    stored.and_then(|s| s.parse().ok()).unwrap_or_default()
}

impl PmService {
    /// `POST /pm_event`.
    pub async fn receive_pm_events(&self, body: Option<Value>) -> Result<EventReport> {
        let message: AlertMessage = parse(body.as_ref())?;
        let mut report = EventReport::default();
        // Per job: the job, the values it was reported before (read once per webhook),
        // and this webhook's new entries.
        let mut jobs: BTreeMap<String, (PmJobRow, Vec<Reported>, Vec<Value>)> = BTreeMap::new();
        let now = Utc::now();
        for (index, alert) in message.alerts.iter().enumerate() {
            if alert.label("function_type") != Some("vnfpm") {
                report.skipped += 1;
                continue;
            }
            let m = measured(index, alert, "job_id")?;
            if !jobs.contains_key(m.owner_id) {
                let job = self.inner.db.get_pm_job(m.owner_id).await?.ok_or_else(|| {
                    LcmError::NotFound(format!("alerts[{index}]: PM job {} not found.", m.owner_id))
                })?;
                let reported = self
                    .inner
                    .db
                    .list_pm_reports(&job.id)
                    .await?
                    .into_iter()
                    .filter_map(|r| r.entries.parse::<Vec<Value>>().ok().map(|e| (r.ready_time, e)))
                    .collect();
                jobs.insert(m.owner_id.to_owned(), (job, reported, Vec::new()));
            }
            let Some((job, reported, entries)) = jobs.get_mut(m.owner_id) else {
                continue;
            };
            if !self.wanted(job, reported, &m, now) {
                report.skipped += 1;
                continue;
            }
            let mut entry = json!({
                "objectType": job.object_type,
                "objectInstanceId": m.object,
                "performanceMetric": m.metric,
                "performanceValues": [{"timeStamp": crate::views::datetime(&now), "value": shown(m.metric, m.value)}],
            });
            if let Some(sub) = m.sub {
                entry["subObjectInstanceId"] = json!(sub);
            }
            entries.push(entry);
        }
        for (job, _, entries) in jobs.into_values() {
            if entries.is_empty() {
                continue;
            }
            let row = PmReportRow {
                id: Uuid::new_v4().to_string(),
                job_id: job.id.clone(),
                entries: Value::Array(entries.clone()).into(),
                ready_time: now,
            };
            let notifications = self.report_notifications(&job, &row, &entries, now).await?;
            match self.inner.db.insert_pm_report(&row, &notifications).await {
                Ok(()) => report.recorded += 1,
                // The job was deleted meanwhile: nothing to report to.
                Err(DbError::StateChanged) => report.skipped += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }

    /// Whether a job wants this value: one of its objects (and sub-objects), within its
    /// reporting boundary, and not reported within its reporting period.
    fn wanted(&self, job: &PmJobRow, reported: &[Reported], m: &Measured<'_>, now: DateTime<Utc>) -> bool {
        if !ids(Some(&job.object_instance_ids)).iter().any(|o| o == m.object) {
            return false;
        }
        if let Some(sub) = m.sub {
            if !ids(job.sub_object_instance_ids.as_ref()).iter().any(|s| s == sub) {
                return false;
            }
        }
        let criteria = job.criteria.to_value();
        if let Some(boundary) = criteria["reportingBoundary"].as_str() {
            if DateTime::parse_from_rfc3339(boundary).is_ok_and(|b| now > b) {
                return false;
            }
        }
        let same = |e: &Value| {
            e["objectInstanceId"] == m.object
                && e["performanceMetric"] == m.metric
                && e["subObjectInstanceId"].as_str() == m.sub
        };
        let period = criteria["reportingPeriod"].as_i64().unwrap_or(0);
        let quiet = TimeDelta::seconds(period - i64::from(self.inner.plugin.reporting_period_margin));
        let last = reported
            .iter()
            .filter(|(_, entries)| entries.iter().any(same))
            .map(|(time, _)| *time)
            .max();
        last.is_none_or(|last| last + quiet < now)
    }

    /// `POST /pm_threshold`.
    pub async fn receive_threshold_events(&self, body: Option<Value>) -> Result<EventReport> {
        let message: AlertMessage = parse(body.as_ref())?;
        let mut checked = Vec::new();
        let mut report = EventReport::default();
        for (index, alert) in message.alerts.iter().enumerate() {
            if alert.label("function_type") != Some("vnfpm_threshold") || alert.status != AlertStatus::Firing
            {
                report.skipped += 1;
                continue;
            }
            let m = measured(index, alert, "threshold_id")?;
            if self.inner.db.get_threshold(m.owner_id).await?.is_none() {
                return Err(LcmError::NotFound(format!(
                    "alerts[{index}]: PM threshold {} not found.",
                    m.owner_id
                )));
            }
            checked.push(m);
        }
        let now = Utc::now();
        for m in checked {
            if self.cross(&m, now).await? {
                report.recorded += 1;
            } else {
                report.skipped += 1;
            }
        }
        Ok(report)
    }

    /// Records a threshold's new value; true when it crossed (and was notified). Another
    /// alert recording first makes this one read the state again.
    async fn cross(&self, m: &Measured<'_>, now: DateTime<Utc>) -> Result<bool> {
        for _ in 0..8 {
            let Some(threshold) = self.inner.db.get_threshold(m.owner_id).await? else {
                return Ok(false);
            };
            if !applies(&threshold, m) {
                return Ok(false);
            }
            let criteria = threshold.criteria.to_value();
            let Ok(details) =
                serde_json::from_value::<SimpleThresholdDetails>(criteria["simpleThresholdDetails"].clone())
            else {
                return Ok(false);
            };
            let mut state: BTreeMap<String, f64> = threshold.crossing_state.parse().unwrap_or_default();
            let key = m.sub.unwrap_or_default().to_owned();
            let crossing = crossing(details, state.get(&key).copied(), m.value);
            state.insert(key, m.value);
            let notifications = match crossing {
                Some(direction) => {
                    self.crossing_notifications(&threshold, m, direction, &shown(m.metric, m.value), now)
                        .await?
                }
                None => Vec::new(),
            };
            let state = StoredJson::from(json!(state));
            if self
                .inner
                .db
                .update_threshold_state(&threshold.id, threshold.revision, &state, &notifications)
                .await?
            {
                return Ok(crossing.is_some());
            }
        }
        Err(LcmError::Conflict(format!(
            "PM threshold {} changed too often meanwhile; send the alert again.",
            m.owner_id
        )))
    }
}

fn applies(threshold: &ThresholdRow, m: &Measured<'_>) -> bool {
    let criteria = threshold.criteria.to_value();
    threshold.object_instance_id == m.object
        && criteria["performanceMetric"] == m.metric
        && m.sub.is_none_or(|sub| {
            ids(threshold.sub_object_instance_ids.as_ref())
                .iter()
                .any(|s| s == sub)
        })
}

/// SOL003's SIMPLE threshold with hysteresis: UP when the value rises above
/// value + hysteresis from at or below it, DOWN when it falls below value - hysteresis
/// from at or above it. The first value is compared with the threshold itself.
fn crossing(details: SimpleThresholdDetails, last: Option<f64>, value: f64) -> Option<Crossing> {
    let (threshold, band) = (details.threshold_value, details.hysteresis);
    let last = last.unwrap_or(threshold);
    if value > threshold + band && last <= threshold + band {
        Some(Crossing::Up)
    } else if value < threshold - band && last >= threshold - band {
        Some(Crossing::Down)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossings_need_the_band_to_be_left() {
        let details = SimpleThresholdDetails {
            threshold_value: 0.5,
            hysteresis: 0.1,
        };
        assert_eq!(crossing(details, None, 0.7), Some(Crossing::Up));
        assert_eq!(crossing(details, Some(0.7), 0.8), None, "still above");
        assert_eq!(crossing(details, Some(0.8), 0.45), None, "within the band");
        assert_eq!(crossing(details, Some(0.45), 0.3), Some(Crossing::Down));
        assert_eq!(crossing(details, None, 0.55), None);
    }
}
