//! Alarms and FM subscriptions as /vnffm/v1 shows them, with relative `_links` (the API
//! server makes them absolute), and the attribute paths SOL013 queries may name.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tacker_db::alarms::AlarmRow;
use tacker_db::notifications::SubscriptionRow;
use tacker_sol013::ResourceSchema;

pub const PREFIX: &str = "/vnffm/v1";

/// Tacker writes FM times to the second.
pub fn datetime(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn alarm_href(id: &str) -> String {
    format!("{PREFIX}/alarms/{id}")
}

pub fn subscription_href(id: &str) -> String {
    format!("{PREFIX}/subscriptions/{id}")
}

/// AlarmV1; attributes without a value are left out.
pub fn alarm(row: &AlarmRow) -> Value {
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    view.insert("managedObjectId".into(), json!(row.managed_object_id));
    view.insert("vnfcInstanceIds".into(), json!(row.vnfc_instance_ids.0));
    view.insert("alarmRaisedTime".into(), json!(datetime(&row.alarm_raised_time)));
    let times = [
        ("alarmChangedTime", row.alarm_changed_time),
        ("alarmClearedTime", row.alarm_cleared_time),
        ("alarmAcknowledgedTime", row.alarm_acknowledged_time),
    ];
    for (name, time) in times {
        if let Some(time) = time {
            view.insert(name.into(), json!(datetime(&time)));
        }
    }
    view.insert("ackState".into(), json!(row.ack_state));
    view.insert("perceivedSeverity".into(), json!(row.perceived_severity));
    view.insert("eventTime".into(), json!(datetime(&row.event_time)));
    view.insert("eventType".into(), json!(row.event_type));
    if let Some(fault_type) = &row.fault_type {
        view.insert("faultType".into(), json!(fault_type));
    }
    view.insert("probableCause".into(), json!(row.probable_cause));
    view.insert("isRootCause".into(), json!(row.is_root_cause));
    view.insert("faultDetails".into(), json!(row.fault_details.0));
    let instance = format!(
        "{}/vnf_instances/{}",
        row.managed_object_api.prefix(),
        row.managed_object_id
    );
    view.insert(
        "_links".into(),
        json!({"self": {"href": alarm_href(&row.id)}, "objectInstance": {"href": instance}}),
    );
    Value::Object(view)
}

/// FmSubscription: authentication is never shown.
pub fn subscription(row: &SubscriptionRow) -> Value {
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    if let Some(filter) = &row.filter {
        view.insert("filter".into(), filter.to_value());
    }
    view.insert("callbackUri".into(), json!(row.callback_uri));
    view.insert(
        "_links".into(),
        json!({"self": {"href": subscription_href(&row.id)}}),
    );
    Value::Object(view)
}

/// AlarmV1's attributes (SOL003 3.3.1).
pub static ALARM: ResourceSchema = ResourceSchema {
    name: "Alarm",
    attributes: &[
        "id",
        "managedObjectId",
        "vnfcInstanceIds",
        "rootCauseFaultyResource",
        "rootCauseFaultyResource/faultyResource",
        "rootCauseFaultyResource/faultyResource/vimConnectionId",
        "rootCauseFaultyResource/faultyResource/resourceProviderId",
        "rootCauseFaultyResource/faultyResource/resourceId",
        "rootCauseFaultyResource/faultyResource/vimLevelResourceType",
        "rootCauseFaultyResource/faultyResourceType",
        "alarmRaisedTime",
        "alarmChangedTime",
        "alarmClearedTime",
        "alarmAcknowledgedTime",
        "ackState",
        "perceivedSeverity",
        "eventTime",
        "eventType",
        "faultType",
        "probableCause",
        "isRootCause",
        "correlatedAlarmIds",
        "faultDetails",
        "_links",
        "_links/self",
        "_links/self/href",
        "_links/objectInstance",
        "_links/objectInstance/href",
    ],
    open: &[],
};

/// FmSubscription's attributes.
pub static SUBSCRIPTION: ResourceSchema = ResourceSchema {
    name: "FmSubscription",
    attributes: &[
        "id",
        "filter",
        "filter/vnfInstanceSubscriptionFilter",
        "filter/vnfInstanceSubscriptionFilter/vnfdIds",
        "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders",
        "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProvider",
        "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProducts",
        "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProducts/vnfProductName",
        "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProducts/versions",
        "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProducts/versions/vnfSoftwareVersion",
        "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProducts/versions/vnfdVersions",
        "filter/vnfInstanceSubscriptionFilter/vnfInstanceIds",
        "filter/vnfInstanceSubscriptionFilter/vnfInstanceNames",
        "filter/notificationTypes",
        "filter/faultyResourceTypes",
        "filter/perceivedSeverities",
        "filter/eventTypes",
        "filter/probableCauses",
        "callbackUri",
        "_links",
        "_links/self",
        "_links/self/href",
    ],
    open: &[],
};
