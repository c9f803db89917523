//! PerformanceInformationAvailableNotification and ThresholdCrossedNotification, sent to
//! the job's or threshold's own callback through the outbox (its subscription row).

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tacker_db::notifications::NotificationRow;
use tacker_db::pm::{PmJobRow, PmReportRow, ThresholdRow};
use tacker_lcm::notifications::row;
use tacker_lcm::Result;
use uuid::Uuid;

use crate::events::Measured;
use crate::views::{self, datetime};
use crate::PmService;

pub const INFORMATION_AVAILABLE: &str = "PerformanceInformationAvailableNotification";
pub const THRESHOLD_CROSSED: &str = "ThresholdCrossedNotification";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    Up,
    Down,
}

impl Crossing {
    fn as_str(self) -> &'static str {
        match self {
            Crossing::Up => "UP",
            Crossing::Down => "DOWN",
        }
    }
}

impl PmService {
    fn absolute(&self, path: &str) -> Value {
        json!({"href": format!("{}{path}", self.inner.endpoint)})
    }

    fn payload(&self, kind: &str, now: DateTime<Utc>) -> Map<String, Value> {
        let mut payload = Map::new();
        payload.insert("id".into(), json!(Uuid::new_v4().to_string()));
        payload.insert("notificationType".into(), json!(kind));
        payload.insert("timeStamp".into(), json!(datetime(&now)));
        payload
    }

    /// One notification per object the report has values of.
    pub(crate) async fn report_notifications(
        &self,
        job: &PmJobRow,
        report: &PmReportRow,
        entries: &[Value],
        now: DateTime<Utc>,
    ) -> Result<Vec<NotificationRow>> {
        let Some(subscription) = self.inner.db.get_subscription(&job.id).await? else {
            return Ok(Vec::new());
        };
        let mut objects: Vec<&str> = Vec::new();
        for entry in entries {
            if let Some(object) = entry["objectInstanceId"].as_str() {
                if !objects.contains(&object) {
                    objects.push(object);
                }
            }
        }
        Ok(objects
            .into_iter()
            .map(|object| {
                let mut payload = self.payload(INFORMATION_AVAILABLE, now);
                payload.insert("pmJobId".into(), json!(job.id));
                payload.insert("objectType".into(), json!(job.object_type));
                payload.insert("objectInstanceId".into(), json!(object));
                let subs: Vec<&Value> = entries
                    .iter()
                    .filter(|e| e["objectInstanceId"] == object)
                    .filter_map(|e| e.get("subObjectInstanceId"))
                    .collect();
                if !subs.is_empty() {
                    payload.insert("subObjectInstanceIds".into(), json!(subs));
                }
                payload.insert(
                    "_links".into(),
                    json!({
                        "objectInstance": self.absolute(&views::instance_href(object)),
                        "pmJob": self.absolute(&views::job_href(&job.id)),
                        "performanceReport": self.absolute(&views::report_href(&job.id, &report.id)),
                    }),
                );
                row(&subscription, INFORMATION_AVAILABLE, payload, now)
            })
            .collect())
    }

    pub(crate) async fn crossing_notifications(
        &self,
        threshold: &ThresholdRow,
        m: &Measured<'_>,
        direction: Crossing,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<NotificationRow>> {
        let Some(subscription) = self.inner.db.get_subscription(&threshold.id).await? else {
            return Ok(Vec::new());
        };
        let mut payload = self.payload(THRESHOLD_CROSSED, now);
        payload.insert("thresholdId".into(), json!(threshold.id));
        payload.insert("crossingDirection".into(), json!(direction.as_str()));
        payload.insert("objectType".into(), json!(threshold.object_type));
        payload.insert("objectInstanceId".into(), json!(m.object));
        if let Some(sub) = m.sub {
            payload.insert("subObjectInstanceId".into(), json!(sub));
        }
        payload.insert("performanceMetric".into(), json!(m.metric));
        payload.insert("performanceValue".into(), json!(value));
        payload.insert(
            "_links".into(),
            json!({
                "objectInstance": self.absolute(&views::instance_href(m.object)),
                "threshold": self.absolute(&views::threshold_href(&threshold.id)),
            }),
        );
        Ok(vec![row(&subscription, THRESHOLD_CROSSED, payload, now)])
    }
}
