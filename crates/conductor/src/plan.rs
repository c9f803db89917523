//! Turning an occurrence into what the driver must do: the VNFD flavour, the target scale
//! levels and VDU counts, the VIM connection in clear.

use std::path::PathBuf;

use serde_json::{json, Map, Value};
use tacker_crypto::VimKeys;
use tacker_db::instances::InstanceRow;
use tacker_db::{Database, StoredJson};
use tacker_lcm::scaling::{self, ScaleLevels};
use tacker_lcm::vim_conn;
use tacker_pkg::{Flavour, Vnfd};
use tacker_pkgstore::PackageStore;

use http::StatusCode;
use tacker_driver::{DriverError, VimConnection, Vnfc, Workload};

pub fn bad(detail: impl Into<String>) -> DriverError {
    DriverError::bad_request(detail)
}

pub fn internal(detail: impl Into<String>) -> DriverError {
    DriverError::internal(detail)
}

/// An onboarded package's VNFD and a local copy of its unpacked files.
pub async fn package(
    db: &Database,
    packages: &PackageStore,
    vnfd_id: &str,
) -> Result<(Vnfd, PathBuf), DriverError> {
    let package = db
        .package_by_vnfd_id(vnfd_id)
        .await
        .map_err(|e| internal(format!("reading the package of VNFD {vnfd_id}: {e}")))?
        .filter(|p| p.onboarding_state == "ONBOARDED")
        .ok_or_else(|| {
            DriverError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("no onboarded VNF package has vnfdId {vnfd_id}"),
            )
        })?;
    let unreadable =
        |why: String| internal(format!("the VNFD of package {} is unreadable: {why}", package.id));
    let vnfd: Vnfd = package
        .vnfd
        .as_ref()
        .ok_or_else(|| unreadable("none stored".into()))?
        .parse()
        .map_err(|e| unreadable(error_chain(&e)))?;
    let dir = packages.local_copy(&package.id).await.map_err(|e| {
        DriverError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the files of package {} could not be read: {e}", package.id),
        )
    })?;
    Ok((vnfd, dir))
}

/// An error and its sources, for a driver error's detail (a string).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(source) = next {
        text.push_str(": ");
        text.push_str(&source.to_string());
        next = source.source();
    }
    text
}

pub fn flavour<'a>(vnfd: &'a Vnfd, flavour_id: &str) -> Result<&'a Flavour, DriverError> {
    vnfd.flavour(flavour_id).ok_or_else(|| {
        bad(format!(
            "flavourId '{flavour_id}' is not defined in VNFD {}",
            vnfd.vnfd_id
        ))
    })
}

/// The first vimConnectionInfo entry, decrypted.
pub fn vim_connection(stored: &Map<String, Value>, keys: &VimKeys) -> Result<VimConnection, DriverError> {
    let mut info = stored.clone();
    vim_conn::decrypt(&mut info, keys).map_err(|e| internal(e.to_string()))?;
    let (id, entry) = info
        .into_iter()
        .next()
        .ok_or_else(|| bad("the instance has no vimConnectionInfo"))?;
    let entry = entry.as_object().cloned().unwrap_or_default();
    let vim_type = entry
        .get("vimType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(VimConnection {
        id,
        vim_type,
        info: entry,
    })
}

pub fn workloads(flavour: &Flavour, levels: &ScaleLevels) -> Vec<Workload> {
    let counts = scaling::vdu_counts(flavour, levels);
    flavour
        .vdus
        .iter()
        .map(|vdu| Workload {
            vdu_id: vdu.id.clone(),
            name: vdu.name.clone(),
            replicas: counts.get(&vdu.id).copied().unwrap_or(0),
        })
        .collect()
}

/// The current state of an instantiated instance, read back from its row.
pub struct Current {
    pub info: Value,
    pub flavour_id: String,
    pub levels: ScaleLevels,
    pub vnfcs: Vec<Vnfc>,
    pub connections: Map<String, Value>,
}

impl Current {
    pub fn of(instance: &InstanceRow) -> Current {
        let info = instance
            .instantiated_vnf_info
            .as_ref()
            .map_or_else(|| json!({}), StoredJson::to_value);
        let levels = scaling::levels_of(&info);
        let vnfcs = info
            .get("vnfcResourceInfo")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Vnfc::from_resource_info).collect())
            .unwrap_or_default();
        let connections = instance
            .vim_connection_info
            .as_ref()
            .and_then(StoredJson::to_object)
            .unwrap_or_default();
        Current {
            flavour_id: info
                .get("flavourId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            info,
            levels,
            vnfcs,
            connections,
        }
    }

    /// What the VIM type's driver recorded at instantiate (or the last package change).
    pub fn metadata(&self) -> Map<String, Value> {
        self.info
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

/// InstantiatedVnfInfo (SOL003) from the flavour, levels and running VNFCs.
pub fn instantiated_info(
    flavour: &Flavour,
    levels: &ScaleLevels,
    vnfcs: &[Vnfc],
    vim_connection_id: &str,
    metadata: Map<String, Value>,
) -> Value {
    let scale_status: Vec<Value> = flavour
        .scaling_aspects
        .iter()
        .map(|a| json!({"aspectId": a.id, "scaleLevel": levels.get(&a.id).copied().unwrap_or(0)}))
        .collect();
    let max_levels: Vec<Value> = flavour
        .scaling_aspects
        .iter()
        .map(|a| json!({"aspectId": a.id, "scaleLevel": a.max_scale_level}))
        .collect();
    let resources: Vec<Value> = vnfcs
        .iter()
        .map(|v| v.to_resource_info(vim_connection_id))
        .collect();
    let vnfc_info: Vec<Value> = vnfcs
        .iter()
        .map(|v| json!({"id": format!("{}-{}", v.vdu_id, v.resource_id), "vduId": v.vdu_id, "vnfcResourceInfoId": v.id, "vnfcState": "STARTED"}))
        .collect();
    json!({
        "flavourId": flavour.flavour_id,
        "vnfState": "STARTED",
        "scaleStatus": scale_status,
        "maxScaleLevels": max_levels,
        "vnfcResourceInfo": resources,
        "vnfcInfo": vnfc_info,
        "metadata": metadata,
    })
}

/// `affectedVnfcs` between two sets of VNFCs.
pub fn affected(before: &[Vnfc], after: &[Vnfc], vim_connection_id: &str) -> Value {
    let mut list = Vec::new();
    for v in after.iter().filter(|v| !before.contains(v)) {
        list.push(change(v, "ADDED", vim_connection_id));
    }
    for v in before.iter().filter(|v| !after.contains(v)) {
        list.push(change(v, "REMOVED", vim_connection_id));
    }
    json!({"affectedVnfcs": list})
}

fn change(v: &Vnfc, kind: &str, vim_connection_id: &str) -> Value {
    json!({
        "id": v.id,
        "vduId": v.vdu_id,
        "changeType": kind,
        "computeResource": {"vimConnectionId": vim_connection_id, "resourceId": v.resource_id, "vimLevelResourceType": v.resource_type},
    })
}
