//! The notifications an LCM change produces, for each subscription whose filter matches.
//! They are written to the outbox in the same transaction as the change.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tacker_db::instances::{InstanceRow, OpOccRow};
use tacker_db::notifications::{NotificationRow, SubscriptionRow};
use tacker_db::StoredJson;
use uuid::Uuid;

use crate::model::ApiVersion;
use crate::views::datetime;

pub const OP_OCC_NOTIFICATION: &str = "VnfLcmOperationOccurrenceNotification";
pub const CREATION_NOTIFICATION: &str = "VnfIdentifierCreationNotification";
pub const DELETION_NOTIFICATION: &str = "VnfIdentifierDeletionNotification";
pub const NOTIFICATION_TYPES: &[&str] = &[OP_OCC_NOTIFICATION, CREATION_NOTIFICATION, DELETION_NOTIFICATION];

/// Builds notification payloads; `endpoint` is the API's public base URL for `_links`.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub endpoint: String,
}

impl Notifier {
    /// VnfLcmOperationOccurrenceNotification for `op` in its current state.
    pub fn op_occ(
        &self,
        subscriptions: &[SubscriptionRow],
        instance: &InstanceRow,
        op: &OpOccRow,
        now: DateTime<Utc>,
    ) -> Vec<NotificationRow> {
        let status = match op.operation_state.as_str() {
            "STARTING" | "PROCESSING" | "ROLLING_BACK" => "START",
            _ => "RESULT",
        };
        subscriptions
            .iter()
            .filter(|s| matches(s, OP_OCC_NOTIFICATION, instance, Some(op)))
            .map(|sub| {
                // matches() checked the subscription is of the instance's API.
                let api = instance.api_version;
                let mut payload = self.base(sub, OP_OCC_NOTIFICATION, instance, now);
                payload.insert("notificationStatus".into(), json!(status));
                payload.insert("operationState".into(), json!(op.operation_state));
                payload.insert("operation".into(), json!(op.operation));
                payload.insert("isAutomaticInvocation".into(), json!(op.is_automatic_invocation));
                payload.insert("vnfLcmOpOccId".into(), json!(op.id));
                if api == ApiVersion::V2 {
                    payload.insert("verbosity".into(), json!(sub.verbosity));
                }
                if sub.verbosity != "SHORT" && status == "RESULT" {
                    if let Some(changed) = &op.changed_info {
                        payload.insert(
                            "changedInfo".into(),
                            crate::views::without_secrets(changed.to_value()),
                        );
                    }
                    if let Some(changes) = op.resource_changes.as_ref().map(StoredJson::to_value) {
                        if let Some(vnfcs) = changes.get("affectedVnfcs") {
                            payload.insert("affectedVnfcs".into(), vnfcs.clone());
                        }
                    }
                }
                if let Some(error) = &op.error {
                    payload.insert("error".into(), error.to_value());
                }
                let links = payload.entry("_links").or_insert_with(|| json!({}));
                links["vnfLcmOpOcc"] =
                    json!({"href": format!("{}{}/vnf_lcm_op_occs/{}", self.endpoint, api.prefix(), op.id)});
                row(sub, OP_OCC_NOTIFICATION, payload, now)
            })
            .collect()
    }

    /// VnfIdentifierCreationNotification or VnfIdentifierDeletionNotification.
    pub fn identifier(
        &self,
        subscriptions: &[SubscriptionRow],
        instance: &InstanceRow,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Vec<NotificationRow> {
        subscriptions
            .iter()
            .filter(|s| matches(s, kind, instance, None))
            .map(|sub| row(sub, kind, self.base(sub, kind, instance, now), now))
            .collect()
    }

    fn base(
        &self,
        sub: &SubscriptionRow,
        kind: &str,
        instance: &InstanceRow,
        now: DateTime<Utc>,
    ) -> Map<String, Value> {
        let api = instance.api_version;
        let mut payload = Map::new();
        payload.insert("id".into(), json!(Uuid::new_v4().to_string()));
        payload.insert("notificationType".into(), json!(kind));
        payload.insert("subscriptionId".into(), json!(sub.id));
        payload.insert("timeStamp".into(), json!(datetime(&now)));
        payload.insert("vnfInstanceId".into(), json!(instance.id));
        payload.insert(
            "_links".into(),
            json!({
                "vnfInstance": {"href": format!("{}{}/vnf_instances/{}", self.endpoint, api.prefix(), instance.id)},
                "subscription": {"href": format!("{}{}/subscriptions/{}", self.endpoint, api.prefix(), sub.id)},
            }),
        );
        payload
    }
}

/// An outbox row carrying `payload` to `sub`, due now (also used by fault management).
pub fn row(
    sub: &SubscriptionRow,
    kind: &str,
    payload: Map<String, Value>,
    now: DateTime<Utc>,
) -> NotificationRow {
    NotificationRow {
        id: Uuid::new_v4().to_string(),
        subscription_id: sub.id.clone(),
        notification_type: kind.to_owned(),
        payload: Value::Object(payload).to_string(),
        attempts: 0,
        next_attempt_at: now,
        claimed_by: None,
        lease_until: None,
        last_error: None,
        created_at: now,
    }
}

/// Whether a subscription wants this notification (SOL003 LccnSubscriptionFilter). A
/// subscription only hears about its own project's instances, of its own API version.
pub fn matches(sub: &SubscriptionRow, kind: &str, instance: &InstanceRow, op: Option<&OpOccRow>) -> bool {
    if sub.api_version != instance.api_version.into() || sub.tenant_id != instance.tenant_id {
        return false;
    }
    let Some(filter) = sub.filter.as_ref().map(StoredJson::to_value) else {
        return true;
    };
    let listed = |key: &str, value: &str| -> bool {
        match filter.get(key).and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.iter().any(|v| v.as_str() == Some(value)),
            _ => true,
        }
    };
    if !listed("notificationTypes", kind) {
        return false;
    }
    if let Some(op) = op {
        if !listed("operationTypes", op.operation.as_str())
            || !listed("operationStates", op.operation_state.as_str())
        {
            return false;
        }
    }
    match filter.get("vnfInstanceSubscriptionFilter") {
        Some(instance_filter) => instance_matches(instance_filter, instance),
        None => true,
    }
}

/// Whether an instance passes a VnfInstanceSubscriptionFilter (also used by fault
/// management subscriptions).
pub fn instance_matches(filter: &Value, instance: &InstanceRow) -> bool {
    let in_list = |key: &str, value: Option<&str>| -> bool {
        match filter.get(key).and_then(Value::as_array) {
            Some(list) if !list.is_empty() => {
                value.is_some_and(|v| list.iter().any(|x| x.as_str() == Some(v)))
            }
            _ => true,
        }
    };
    if !in_list("vnfdIds", Some(&instance.vnfd_id))
        || !in_list("vnfInstanceIds", Some(&instance.id))
        || !in_list("vnfInstanceNames", instance.vnf_instance_name.as_deref())
    {
        return false;
    }
    let Some(providers) = filter
        .get("vnfProductsFromProviders")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    else {
        return true;
    };
    providers.iter().any(|provider| {
        if provider.get("vnfProvider").and_then(Value::as_str) != Some(instance.vnf_provider.as_str()) {
            return false;
        }
        let Some(products) = provider
            .get("vnfProducts")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
        else {
            return true;
        };
        products.iter().any(|product| {
            if product.get("vnfProductName").and_then(Value::as_str)
                != Some(instance.vnf_product_name.as_str())
            {
                return false;
            }
            let Some(versions) = product
                .get("versions")
                .and_then(Value::as_array)
                .filter(|v| !v.is_empty())
            else {
                return true;
            };
            versions.iter().any(|version| {
                version.get("vnfSoftwareVersion").and_then(Value::as_str)
                    == Some(instance.vnf_software_version.as_str())
                    && version
                        .get("vnfdVersions")
                        .and_then(Value::as_array)
                        .filter(|v| !v.is_empty())
                        .is_none_or(|v| {
                            v.iter()
                                .any(|x| x.as_str() == Some(instance.vnfd_version.as_str()))
                        })
            })
        })
    })
}
