//! VnfInstance and VnfLcmOpOcc as each API version renders them.

use serde_json::{json, Map, Value};
use tacker_db::instances::{InstanceRow, OpOccRow};

use crate::model::{ApiVersion, INSTANTIATED};
use crate::vim_conn;

pub fn parse(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

fn object(text: Option<&str>) -> Map<String, Value> {
    match parse(text) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// SOL003 date-times: RFC 3339 in UTC, to the millisecond (a retried operation can
/// re-enter a state within the same second).
pub fn datetime(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn instance(row: &InstanceRow) -> Value {
    let api = ApiVersion::from_db(&row.api_version);
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
    if let Some(props) = parse(row.vnf_configurable_properties.as_deref()) {
        view.insert("vnfConfigurableProperties".into(), props);
    }
    let connections = vim_conn::shown(&object(row.vim_connection_info.as_deref()));
    match api {
        // v1 shows vimConnectionInfo as an array of entries with their `id`.
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
            view.insert("vimConnectionInfo".into(), Value::Array(list));
        }
        ApiVersion::V2 if !connections.is_empty() => {
            view.insert("vimConnectionInfo".into(), Value::Object(connections));
        }
        ApiVersion::V2 => {}
    }
    view.insert("instantiationState".into(), json!(row.instantiation_state));
    let instantiated = row.instantiation_state == INSTANTIATED;
    if instantiated {
        if let Some(info) = parse(row.instantiated_vnf_info.as_deref()) {
            view.insert("instantiatedVnfInfo".into(), info);
        }
    }
    for (key, column) in [("metadata", &row.metadata), ("extensions", &row.extensions)] {
        if let Some(value) = parse(column.as_deref()) {
            view.insert(key.into(), value);
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

pub fn op_occ(row: &OpOccRow) -> Value {
    let api = ApiVersion::from_db(&row.api_version);
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
    if let Some(params) = parse(Some(&row.operation_params)) {
        view.insert("operationParams".into(), shown_params(params));
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
        if let Some(value) = parse(column.as_deref()) {
            view.insert(key.into(), value);
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
        "STARTING" | "PROCESSING" if api == ApiVersion::V1 => {
            links.insert("cancel".into(), link("/cancel"));
        }
        _ => {}
    }
    view.insert("_links".into(), Value::Object(links));
    Value::Object(view)
}

/// Operation parameters as shown: credentials the request carried are left out.
fn shown_params(mut params: Value) -> Value {
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
