//! VnfPkgInfo as Tacker renders it (SOL005), from a package row.

use serde_json::{json, Map, Value};
use tacker_db::packages::PackageRow;

pub const ONBOARDED: &str = "ONBOARDED";

/// The complex attributes SOL013 `exclude_default` leaves out of package lists.
pub const DEFAULT_EXCLUDED: &[&str] = &[
    "checksum",
    "userDefinedData",
    "softwareImages",
    "additionalArtifacts",
];

pub fn package_info(row: &PackageRow) -> Value {
    let base = format!("/vnfpkgm/v1/vnf_packages/{}", row.id);
    let mut info = Map::new();
    info.insert("id".into(), json!(row.id));
    info.insert("onboardingState".into(), json!(row.onboarding_state));
    info.insert("operationalState".into(), json!(row.operational_state));
    info.insert("usageState".into(), json!(row.usage_state));
    info.insert(
        "userDefinedData".into(),
        json_column(Some(&row.user_data)).unwrap_or_else(|| json!({})),
    );
    let onboarded = row.onboarding_state == ONBOARDED;
    if onboarded {
        let text = |v: &Option<String>| json!(v.as_deref().unwrap_or_default());
        info.insert("vnfdId".into(), text(&row.vnfd_id));
        info.insert("vnfProvider".into(), text(&row.vnf_provider));
        info.insert("vnfProductName".into(), text(&row.vnf_product_name));
        info.insert("vnfSoftwareVersion".into(), text(&row.vnf_software_version));
        info.insert("vnfdVersion".into(), text(&row.vnfd_version));
        if let Some(checksum) = json_column(row.checksum.as_ref()) {
            info.insert("checksum".into(), checksum);
        }
        for (key, column) in [
            ("softwareImages", &row.software_images),
            ("additionalArtifacts", &row.additional_artifacts),
        ] {
            // Tacker leaves empty lists out.
            if let Some(list) =
                json_column(column.as_ref()).filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
            {
                info.insert(key.into(), list);
            }
        }
    }
    if let Some(failure) = json_column(row.onboarding_failure.as_ref()) {
        info.insert("onboardingFailureDetails".into(), failure);
    }
    let mut links = Map::new();
    links.insert("self".into(), json!({"href": base}));
    if onboarded {
        links.insert("vnfd".into(), json!({"href": format!("{base}/vnfd")}));
    }
    links.insert(
        "packageContent".into(),
        json!({"href": format!("{base}/package_content")}),
    );
    info.insert("_links".into(), Value::Object(links));
    Value::Object(info)
}

fn json_column(text: Option<&String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}
