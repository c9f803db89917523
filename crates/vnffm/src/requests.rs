//! Request bodies of /vnffm/v1 (SOL003 3.3.1, API version 1.3.0) and the Alertmanager
//! webhook payload, as types. Each is read once at the edge; a refusal names the
//! attribute, the value and the rule (`tacker_lcm::requests::parse`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use tacker_lcm::requests::{Identifier, Text};
use tacker_sol003::{AckState, EventType, FaultyResourceType, PerceivedSeverity};

/// `PATCH /alarms/{id}`: AlarmModifications.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmModifications {
    pub ack_state: AckState,
}

/// `POST /subscriptions`: FmSubscriptionRequest. `verbosity` is accepted and ignored, as
/// Tacker does.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FmSubscriptionRequest {
    pub callback_uri: Text<255>,
    pub filter: Option<FmNotificationsFilter>,
    pub authentication: Option<Map<String, Value>>,
    #[allow(dead_code)]
    pub verbosity: Option<Verbosity>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verbosity {
    Full,
    Short,
}

/// FmNotificationsFilter; the subscription keeps the filter as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FmNotificationsFilter {
    pub vnf_instance_subscription_filter: Option<InstanceFilter>,
    pub notification_types: Option<Vec<FmNotificationType>>,
    pub faulty_resource_types: Option<Vec<FaultyResourceType>>,
    pub perceived_severities: Option<Vec<PerceivedSeverity>>,
    pub event_types: Option<Vec<EventType>>,
    pub probable_causes: Option<Vec<String>>,
}

/// VnfInstanceSubscriptionFilter: checked here, matched by the LCM rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceFilter {
    pub vnfd_ids: Option<Vec<Identifier>>,
    pub vnf_instance_ids: Option<Vec<Identifier>>,
    pub vnf_instance_names: Option<Vec<String>>,
    pub vnf_products_from_providers: Option<Vec<ProductsFromProvider>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductsFromProvider {
    pub vnf_provider: String,
    pub vnf_products: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum FmNotificationType {
    AlarmNotification,
    AlarmClearedNotification,
    AlarmListRebuiltNotification,
}

impl FmNotificationType {
    pub fn as_str(self) -> &'static str {
        match self {
            FmNotificationType::AlarmNotification => "AlarmNotification",
            FmNotificationType::AlarmClearedNotification => "AlarmClearedNotification",
            FmNotificationType::AlarmListRebuiltNotification => "AlarmListRebuiltNotification",
        }
    }
}

/// Alertmanager's webhook payload; only `alerts` is read.
#[derive(Debug, Clone, Deserialize)]
pub struct AlertMessage {
    pub alerts: Vec<Alert>,
}

/// One alert of an Alertmanager webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub status: AlertStatus,
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, Value>,
    pub starts_at: DateTime<Utc>,
    /// Alertmanager sends `0001-01-01T00:00:00Z` while the alert fires.
    pub ends_at: Option<DateTime<Utc>>,
    pub fingerprint: Text<255>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl Alert {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }

    /// A label the receiver needs: a 400 naming it (`at` is the alert's place in the
    /// payload) when it is missing or empty.
    pub fn required_label(&self, at: &str, name: &str) -> tacker_lcm::Result<&str> {
        self.label(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| tacker_lcm::LcmError::BadRequest(format!("{at}.labels.{name} is required")))
    }

    /// An annotation as text (Prometheus templates may render numbers).
    pub fn annotation(&self, name: &str) -> Option<String> {
        match self.annotations.get(name)? {
            Value::String(text) => Some(text.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tacker_lcm::requests::parse;

    use super::*;

    #[test]
    fn refusals_name_the_attribute() {
        let refused = parse::<AlarmModifications>(Some(&json!({"ackState": "SEEN"}))).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Invalid input for field/attribute ackState. Value: \"SEEN\". Unknown variant `SEEN`, expected `UNACKNOWLEDGED` or `ACKNOWLEDGED`."
        );
        let refused = parse::<AlarmModifications>(Some(&json!({}))).unwrap_err();
        assert_eq!(refused.to_string(), "'ackState' is a required property");
        let refused = parse::<FmSubscriptionRequest>(Some(&json!({
            "callbackUri": "http://h/cb",
            "filter": {"perceivedSeverities": ["LOUD"]},
        })))
        .unwrap_err();
        assert!(
            refused.to_string().starts_with(
                "Invalid input for field/attribute filter.perceivedSeverities[0]. Value: \"LOUD\"."
            ),
            "{refused}"
        );
    }

    #[test]
    fn alertmanager_payloads_read_back() {
        let message: AlertMessage = serde_json::from_value(json!({
            "receiver": "tacker", "status": "firing", "version": "4",
            "alerts": [{
                "status": "firing",
                "labels": {"receiver_type": "tacker", "function_type": "vnffm", "pod": "web-1"},
                "annotations": {"value": 0.9, "probable_cause": "overload"},
                "startsAt": "2026-12-05T03:00:00.123Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "5f1e9c3a0b2d4e6f",
            }],
        }))
        .unwrap();
        let alert = &message.alerts[0];
        assert_eq!(alert.status, AlertStatus::Firing);
        assert_eq!(alert.label("pod"), Some("web-1"));
        assert_eq!(alert.annotation("value").as_deref(), Some("0.9"));
        assert_eq!(alert.annotation("probable_cause").as_deref(), Some("overload"));
    }
}
