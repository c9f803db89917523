//! VnfInstance and VnfLcmOpOcc as each API version renders them.

use serde_json::{json, Map, Value};
use tacker_db::instances::{InstanceRow, OpOccRow};
use tacker_db::StoredJson;

use crate::model::{ApiVersion, InstantiationState};
use crate::vim_conn;

/// What attribute selectors (`fields`, `exclude_fields`) may not remove from a listed
/// resource: its attributes whose lower cardinality bound is 1, top-level and within the
/// parts tacker-rs renders (SOL013 clause 5.3.2.1; Tacker's AttributeSelector leaves them
/// too). Paths enter arrays element-wise; `*` stands for every key of a map.
pub fn mandatory(resource: Resource, api: ApiVersion) -> Vec<&'static str> {
    let (common, v1, v2): (&[&str], &[&str], &[&str]) = match resource {
        Resource::Instance => (
            &[
                "id",
                "vnfdId",
                "vnfProvider",
                "vnfProductName",
                "vnfSoftwareVersion",
                "vnfdVersion",
                "instantiationState",
                "_links/self",
                "instantiatedVnfInfo/flavourId",
                "instantiatedVnfInfo/vnfState",
                "instantiatedVnfInfo/scaleStatus/aspectId",
                "instantiatedVnfInfo/scaleStatus/scaleLevel",
                "instantiatedVnfInfo/maxScaleLevels/aspectId",
                "instantiatedVnfInfo/maxScaleLevels/scaleLevel",
                "instantiatedVnfInfo/vnfcResourceInfo/id",
                "instantiatedVnfInfo/vnfcResourceInfo/vduId",
                "instantiatedVnfInfo/vnfcResourceInfo/computeResource/resourceId",
                "instantiatedVnfInfo/vnfcInfo/id",
                "instantiatedVnfInfo/vnfcInfo/vduId",
                "instantiatedVnfInfo/vnfcInfo/vnfcState",
            ],
            &["vnfPkgId", "vimConnectionInfo/id", "vimConnectionInfo/vimType"],
            &["vimConnectionInfo/*/vimType"],
        ),
        Resource::OpOcc => (
            &[
                "id",
                "operationState",
                "stateEnteredTime",
                "startTime",
                "vnfInstanceId",
                "operation",
                "isAutomaticInvocation",
                "isCancelPending",
                "_links/self",
                "_links/vnfInstance",
                "error/status",
                "error/detail",
                "resourceChanges/affectedVnfcs/id",
                "resourceChanges/affectedVnfcs/vduId",
                "resourceChanges/affectedVnfcs/changeType",
                "resourceChanges/affectedVnfcs/computeResource/resourceId",
            ],
            &[],
            &["changedInfo/vimConnectionInfo/*/vimType"],
        ),
        Resource::Subscription => (
            &[
                "id",
                "callbackUri",
                "_links/self",
                "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProvider",
                "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProducts/vnfProductName",
                "filter/vnfInstanceSubscriptionFilter/vnfProductsFromProviders/vnfProducts/versions/vnfSoftwareVersion",
            ],
            &[],
            &["verbosity"],
        ),
    };
    let own = match api {
        ApiVersion::V1 => v1,
        ApiVersion::V2 => v2,
    };
    common.iter().chain(own).copied().collect()
}

/// The listed resources.
#[derive(Debug, Clone, Copy)]
pub enum Resource {
    Instance,
    OpOcc,
    Subscription,
}

/// Puts back into `trimmed` (a view after attribute selection) what `original` has at
/// `path`, where the selection removed it but kept its parent.
pub fn restore(original: &Value, trimmed: &mut Value, path: &[&str]) {
    match (original, trimmed) {
        (Value::Array(before), Value::Array(after)) => {
            for (original, trimmed) in before.iter().zip(after.iter_mut()) {
                restore(original, trimmed, path);
            }
        }
        (Value::Object(before), Value::Object(after)) => match path {
            [] => {}
            ["*", rest @ ..] => {
                for (key, trimmed) in after.iter_mut() {
                    if let Some(original) = before.get(key) {
                        restore(original, trimmed, rest);
                    }
                }
            }
            [last] => {
                if let (Some(value), false) = (before.get(*last), after.contains_key(*last)) {
                    after.insert((*last).to_owned(), value.clone());
                }
            }
            [first, rest @ ..] => {
                if let (Some(original), Some(trimmed)) = (before.get(*first), after.get_mut(*first)) {
                    restore(original, trimmed, rest);
                }
            }
        },
        _ => {}
    }
}

/// SOL003 date-times: RFC 3339 in UTC, to the millisecond (a retried operation can
/// re-enter a state within the same second).
pub fn datetime(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn instance(row: &InstanceRow) -> Value {
    instance_without(row, &[])
}

/// [`instance`] without the top-level attributes of `left_out`, which are then never
/// built: a list without filter or selector removes its default-excluded attributes
/// anyway, and reading their stored JSON was most of a list's cost.
pub fn instance_without(row: &InstanceRow, left_out: &[&str]) -> Value {
    let shown = |attribute: &str| !left_out.contains(&attribute);
    let api = row.api_version;
    let base = format!("{}/vnf_instances/{}", api.prefix(), row.id);
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    if let Some(name) = &row.vnf_instance_name {
        view.insert("vnfInstanceName".into(), json!(name));
    }
    if let Some(description) = &row.vnf_instance_description {
        view.insert("vnfInstanceDescription".into(), json!(description));
    }
    view.insert("vnfdId".into(), json!(row.vnfd_id));
    view.insert("vnfProvider".into(), json!(row.vnf_provider));
    view.insert("vnfProductName".into(), json!(row.vnf_product_name));
    view.insert("vnfSoftwareVersion".into(), json!(row.vnf_software_version));
    view.insert("vnfdVersion".into(), json!(row.vnfd_version));
    if api == ApiVersion::V1 {
        if let Some(pkg) = &row.vnf_pkg_id {
            view.insert("vnfPkgId".into(), json!(pkg));
        }
    }
    if let Some(props) = row
        .vnf_configurable_properties
        .as_ref()
        .filter(|_| shown("vnfConfigurableProperties"))
    {
        view.insert("vnfConfigurableProperties".into(), props.to_value());
    }
    if shown("vimConnectionInfo") {
        if let Some(connections) = vim_connection_info(row) {
            view.insert("vimConnectionInfo".into(), connections);
        }
    }
    view.insert("instantiationState".into(), json!(row.instantiation_state));
    let instantiated = row.instantiation_state == InstantiationState::Instantiated;
    if instantiated && shown("instantiatedVnfInfo") {
        if let Some(info) = &row.instantiated_vnf_info {
            view.insert("instantiatedVnfInfo".into(), info.to_value());
        }
    }
    for (key, column) in [("metadata", &row.metadata), ("extensions", &row.extensions)] {
        if let Some(value) = column.as_ref().filter(|_| shown(key)) {
            view.insert(key.into(), value.to_value());
        }
    }
    let link = |path: &str| json!({"href": format!("{base}{path}")});
    let mut links = Map::new();
    links.insert("self".into(), link(""));
    if instantiated {
        for (name, path) in [
            ("terminate", "/terminate"),
            ("scale", "/scale"),
            ("heal", "/heal"),
            ("changeExtConn", "/change_ext_conn"),
        ] {
            links.insert(name.into(), link(path));
        }
    } else {
        links.insert("instantiate".into(), link("/instantiate"));
    }
    view.insert("_links".into(), Value::Object(links));
    Value::Object(view)
}

/// An instance's vimConnectionInfo as its API version shows it, without secrets: v1 an
/// array of entries with their `id`, v2 a map, left out when empty.
fn vim_connection_info(row: &InstanceRow) -> Option<Value> {
    let stored = row.vim_connection_info.as_ref().and_then(StoredJson::to_object);
    let connections = vim_conn::shown(&stored.unwrap_or_default());
    match row.api_version {
        ApiVersion::V1 => {
            let list: Vec<Value> = connections
                .into_iter()
                .map(|(key, mut entry)| {
                    if let Some(map) = entry.as_object_mut() {
                        map.insert("id".into(), json!(key));
                    }
                    entry
                })
                .collect();
            Some(Value::Array(list))
        }
        ApiVersion::V2 if !connections.is_empty() => Some(Value::Object(connections)),
        ApiVersion::V2 => None,
    }
}

pub fn op_occ(row: &OpOccRow) -> Value {
    op_occ_without(row, &[])
}

/// [`op_occ`] without the top-level attributes of `left_out` (see [`instance_without`]).
pub fn op_occ_without(row: &OpOccRow, left_out: &[&str]) -> Value {
    let shown = |attribute: &str| !left_out.contains(&attribute);
    let api = row.api_version;
    let base = format!("{}/vnf_lcm_op_occs/{}", api.prefix(), row.id);
    let mut view = Map::new();
    view.insert("id".into(), json!(row.id));
    view.insert("operationState".into(), json!(row.operation_state));
    view.insert(
        "stateEnteredTime".into(),
        json!(datetime(&row.state_entered_time)),
    );
    view.insert("startTime".into(), json!(datetime(&row.start_time)));
    view.insert("vnfInstanceId".into(), json!(row.vnf_instance_id));
    view.insert("operation".into(), json!(row.operation));
    view.insert("isAutomaticInvocation".into(), json!(row.is_automatic_invocation));
    if shown("operationParams") {
        view.insert(
            "operationParams".into(),
            without_secrets(row.operation_params.to_value()),
        );
    }
    view.insert("isCancelPending".into(), json!(row.is_cancel_pending));
    if let Some(mode) = &row.cancel_mode {
        view.insert("cancelMode".into(), json!(mode));
    }
    for (key, column) in [
        ("error", &row.error),
        ("resourceChanges", &row.resource_changes),
        ("changedInfo", &row.changed_info),
        ("changedExtConnectivity", &row.changed_ext_connectivity),
    ] {
        if let Some(value) = column.as_ref().filter(|_| shown(key)) {
            // changedInfo of MODIFY_INFO holds the request's vimConnectionInfo.
            view.insert(key.into(), without_secrets(value.to_value()));
        }
    }
    let link = |path: &str| json!({"href": format!("{base}{path}")});
    let mut links = Map::new();
    links.insert("self".into(), link(""));
    links.insert(
        "vnfInstance".into(),
        json!({"href": format!("{}/vnf_instances/{}", api.prefix(), row.vnf_instance_id)}),
    );
    match row.operation_state.as_str() {
        "FAILED_TEMP" => {
            links.insert("retry".into(), link("/retry"));
            links.insert("rollback".into(), link("/rollback"));
            links.insert("fail".into(), link("/fail"));
        }
        "STARTING" | "PROCESSING" | "ROLLING_BACK" if api == ApiVersion::V1 => {
            links.insert("cancel".into(), link("/cancel"));
        }
        _ => {}
    }
    view.insert("_links".into(), Value::Object(links));
    Value::Object(view)
}

/// Operation parameters and changed info as shown: credentials the request carried are
/// left out (encrypted or not).
pub fn without_secrets(mut params: Value) -> Value {
    if let Some(connections) = params.get_mut("vimConnectionInfo") {
        match connections {
            Value::Object(map) => *map = vim_conn::shown(map),
            Value::Array(items) => {
                for item in items {
                    if let Some(access) = item.get_mut("accessInfo").and_then(Value::as_object_mut) {
                        access.retain(|k, _| !tacker_vim::auth_cred::is_secret_field(k));
                    }
                }
            }
            _ => {}
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restored(original: Value, mut trimmed: Value, resource: Resource, api: ApiVersion) -> Value {
        for path in mandatory(resource, api) {
            restore(&original, &mut trimmed, &path.split('/').collect::<Vec<_>>());
        }
        trimmed
    }

    #[test]
    fn selections_keep_mandatory_attributes() {
        // What schemathesis sent: `exclude_fields=operationState` answered occurrences
        // without their operationState.
        let op = json!({"id": "o", "operationState": "COMPLETED", "operation": "HEAL",
            "error": {"status": 500, "detail": "d", "title": "t"}, "_links": {"self": {"href": "x"}}});
        let trimmed = json!({"id": "o", "operation": "HEAL", "error": {"title": "t"}, "_links": {"self": {"href": "x"}}});
        assert_eq!(
            restored(op.clone(), trimmed, Resource::OpOcc, ApiVersion::V2),
            json!({"id": "o", "operation": "HEAL", "error": {"title": "t", "status": 500, "detail": "d"},
                "_links": {"self": {"href": "x"}}, "operationState": "COMPLETED"})
        );
        // An optional attribute removed whole stays removed.
        let trimmed = json!({"id": "o", "operationState": "COMPLETED", "operation": "HEAL", "_links": {"self": {"href": "x"}}});
        assert_eq!(
            restored(op, trimmed.clone(), Resource::OpOcc, ApiVersion::V2),
            trimmed
        );
    }

    #[test]
    fn mandatory_parts_are_found_in_arrays_and_maps() {
        let instance = json!({"vimConnectionInfo": {"vim1": {"vimType": "k", "vimId": "v"}},
            "instantiatedVnfInfo": {"flavourId": "f", "vnfState": "STARTED",
                "scaleStatus": [{"aspectId": "a", "scaleLevel": 1}, {"aspectId": "b", "scaleLevel": 0}]}});
        let trimmed = json!({"vimConnectionInfo": {"vim1": {"vimId": "v"}},
            "instantiatedVnfInfo": {"scaleStatus": [{"scaleLevel": 1}, {"scaleLevel": 0}]}});
        let back = restored(instance.clone(), trimmed, Resource::Instance, ApiVersion::V2);
        assert_eq!(back["vimConnectionInfo"]["vim1"]["vimType"], "k");
        assert_eq!(back["instantiatedVnfInfo"]["flavourId"], "f");
        assert_eq!(back["instantiatedVnfInfo"]["scaleStatus"][1]["aspectId"], "b");
        // v1 shows vimConnectionInfo as an array.
        let v1 = json!({"vimConnectionInfo": [{"id": "vim1", "vimType": "kubernetes"}]});
        let back = restored(
            v1,
            json!({"vimConnectionInfo": [{}]}),
            Resource::Instance,
            ApiVersion::V1,
        );
        assert_eq!(
            back["vimConnectionInfo"],
            json!([{"id": "vim1", "vimType": "kubernetes"}])
        );
    }

    #[test]
    fn changed_info_shows_no_credentials() {
        let changed = json!({"vnfInstanceName": "x", "vimConnectionInfo": {"vim1": {"vimType": "kubernetes",
            "accessInfo": {"username": "u", "password": "p", "bearer_token": "t", "client_secret": "c"}}}});
        let shown = without_secrets(changed);
        assert_eq!(
            shown["vimConnectionInfo"]["vim1"]["accessInfo"],
            json!({"username": "u"})
        );
        let v1 = json!({"vimConnectionInfo": [{"id": "vim1", "vimType": "kubernetes", "accessInfo": {"password": "p"}}]});
        assert_eq!(
            without_secrets(v1)["vimConnectionInfo"][0]["accessInfo"],
            json!({})
        );
    }
}
