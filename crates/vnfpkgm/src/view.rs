//! VnfPkgInfo as Tacker renders it (SOL005), from a package row.

use serde_json::{json, Map, Value};
use tacker_db::packages::PackageRow;
use tacker_db::StoredJson;

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
    info.insert("userDefinedData".into(), row.user_data.to_value());
    let onboarded = row.onboarding_state == ONBOARDED;
    if onboarded {
        let text = |v: &Option<String>| json!(v.as_deref().unwrap_or_default());
        info.insert("vnfdId".into(), text(&row.vnfd_id));
        info.insert("vnfProvider".into(), text(&row.vnf_provider));
        info.insert("vnfProductName".into(), text(&row.vnf_product_name));
        info.insert("vnfSoftwareVersion".into(), text(&row.vnf_software_version));
        info.insert("vnfdVersion".into(), text(&row.vnfd_version));
        if let Some(checksum) = &row.checksum {
            info.insert("checksum".into(), checksum.to_value());
        }
        for (key, column) in [
            ("softwareImages", &row.software_images),
            ("additionalArtifacts", &row.additional_artifacts),
        ] {
            // Tacker leaves empty lists out.
            if let Some(list) = column
                .as_ref()
                .map(StoredJson::to_value)
                .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
            {
                info.insert(key.into(), list);
            }
        }
    }
    if let Some(failure) = &row.onboarding_failure {
        info.insert("onboardingFailureDetails".into(), failure.to_value());
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
