//! AlarmNotification and AlarmClearedNotification for each FM subscription whose filter
//! matches, written to the outbox with the alarm change. A subscription hears only about
//! its own project's instances.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tacker_db::alarms::AlarmRow;
use tacker_db::instances::InstanceRow;
use tacker_db::notifications::{NotificationRow, SubscriptionRow};
use tacker_lcm::notifications::{instance_matches, row};
use uuid::Uuid;

use crate::views::{self, datetime};

pub const ALARM_NOTIFICATION: &str = "AlarmNotification";
pub const ALARM_CLEARED_NOTIFICATION: &str = "AlarmClearedNotification";

/// Builds notification payloads; `endpoint` is the API's public base URL for `_links`.
#[derive(Debug, Clone)]
pub struct FmNotifier {
    pub endpoint: String,
}

impl FmNotifier {
    /// AlarmNotification: the alarm as raised.
    pub fn raised(
        &self,
        subscriptions: &[SubscriptionRow],
        instance: &InstanceRow,
        alarm: &AlarmRow,
        now: DateTime<Utc>,
    ) -> Vec<NotificationRow> {
        let mut shown = views::alarm(alarm);
        self.absolute(&mut shown);
        self.each(
            subscriptions,
            ALARM_NOTIFICATION,
            instance,
            alarm,
            now,
            |payload| {
                payload.insert("alarm".into(), shown.clone());
            },
        )
    }

    /// AlarmClearedNotification.
    pub fn cleared(
        &self,
        subscriptions: &[SubscriptionRow],
        instance: &InstanceRow,
        alarm: &AlarmRow,
        cleared_time: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<NotificationRow> {
        let alarm_href = format!("{}{}", self.endpoint, views::alarm_href(&alarm.id));
        self.each(
            subscriptions,
            ALARM_CLEARED_NOTIFICATION,
            instance,
            alarm,
            now,
            |payload| {
                payload.insert("alarmId".into(), json!(alarm.id));
                payload.insert("alarmClearedTime".into(), json!(datetime(&cleared_time)));
                payload["_links"]["alarm"] = json!({"href": alarm_href});
            },
        )
    }

    fn each(
        &self,
        subscriptions: &[SubscriptionRow],
        kind: &str,
        instance: &InstanceRow,
        alarm: &AlarmRow,
        now: DateTime<Utc>,
        complete: impl Fn(&mut Map<String, Value>),
    ) -> Vec<NotificationRow> {
        subscriptions
            .iter()
            .filter(|sub| matches(sub, kind, instance, alarm))
            .map(|sub| {
                let mut payload = Map::new();
                payload.insert("id".into(), json!(Uuid::new_v4().to_string()));
                payload.insert("notificationType".into(), json!(kind));
                payload.insert("subscriptionId".into(), json!(sub.id));
                payload.insert("timeStamp".into(), json!(datetime(&now)));
                let subscription = format!("{}{}", self.endpoint, views::subscription_href(&sub.id));
                payload.insert("_links".into(), json!({"subscription": {"href": subscription}}));
                complete(&mut payload);
                row(sub, kind, payload, now)
            })
            .collect()
    }

    /// Notifications leave the API server's link layer behind: their links are made
    /// absolute here.
    fn absolute(&self, view: &mut Value) {
        if let Some(links) = view.get_mut("_links").and_then(Value::as_object_mut) {
            for link in links.values_mut() {
                if let Some(href) = link.get_mut("href") {
                    if let Some(relative) = href.as_str() {
                        *href = json!(format!("{}{relative}", self.endpoint));
                    }
                }
            }
        }
    }
}

/// Whether an FM subscription wants this notification (SOL003 FmNotificationsFilter).
pub fn matches(sub: &SubscriptionRow, kind: &str, instance: &InstanceRow, alarm: &AlarmRow) -> bool {
    if sub.tenant_id != instance.tenant_id {
        return false;
    }
    let Some(filter) = sub.filter.as_ref().map(|f| f.to_value()) else {
        return true;
    };
    let listed = |key: &str, value: &str| -> bool {
        match filter.get(key).and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.iter().any(|v| v.as_str() == Some(value)),
            _ => true,
        }
    };
    // Alarms raised from alerts name no faulty resource, so faultyResourceTypes cannot
    // exclude them (as in Tacker).
    listed("notificationTypes", kind)
        && listed("perceivedSeverities", alarm.perceived_severity.as_str())
        && listed("eventTypes", alarm.event_type.as_str())
        && listed("probableCauses", &alarm.probable_cause)
        && filter
            .get("vnfInstanceSubscriptionFilter")
            .is_none_or(|f| instance_matches(f, instance))
}
