//! `GET /vnf_packages` with SOL013 filters, attribute selectors and paging.

use serde_json::Value;
use tacker_common::RequestContext;
use tacker_sol013::{AttrPath, ListQuery, Paging, QueryError};

use crate::error::{PkgError, Result};
use crate::service::PackageService;
use crate::view::DEFAULT_EXCLUDED;

/// Attributes of VnfPkgInfo a filter or selector may name, besides the open maps below.
const ATTRIBUTES: &[&str] = &[
    "id",
    "onboardingState",
    "operationalState",
    "usageState",
    "vnfProvider",
    "vnfProductName",
    "vnfSoftwareVersion",
    "vnfdVersion",
    "vnfdId",
    "checksum",
    "checksum/algorithm",
    "checksum/hash",
    "userDefinedData",
    "softwareImages",
    "softwareImages/id",
    "softwareImages/name",
    "softwareImages/provider",
    "softwareImages/version",
    "softwareImages/checksum",
    "softwareImages/checksum/algorithm",
    "softwareImages/checksum/hash",
    "softwareImages/containerFormat",
    "softwareImages/diskFormat",
    "softwareImages/createdAt",
    "softwareImages/minDisk",
    "softwareImages/minRam",
    "softwareImages/size",
    "softwareImages/imagePath",
    "softwareImages/userMetadata",
    "additionalArtifacts",
    "additionalArtifacts/artifactPath",
    "additionalArtifacts/checksum",
    "additionalArtifacts/checksum/algorithm",
    "additionalArtifacts/checksum/hash",
    "additionalArtifacts/metadata",
    "onboardingFailureDetails",
];

/// Key-value maps whose keys are the user's: any key below them may be named.
const OPEN_MAPS: &[&str] = &[
    "userDefinedData/",
    "softwareImages/userMetadata/",
    "additionalArtifacts/metadata/",
];

/// The enumerations SOL005 defines, checked so a typo is a 400, not an empty list.
const ENUMS: &[(&str, &[&str])] = &[
    (
        "onboardingState",
        &["CREATED", "UPLOADING", "PROCESSING", "ONBOARDED"],
    ),
    ("operationalState", &["ENABLED", "DISABLED"]),
    ("usageState", &["IN_USE", "NOT_IN_USE"]),
];

/// The top-level attributes that are not complex: always in a VnfPkgInfo (or, for the VNFD
/// ones, always once onboarded), so attribute selectors may not name them.
const SIMPLE_ATTRIBUTES: &[&str] = &[
    "id",
    "onboardingState",
    "operationalState",
    "usageState",
    "vnfProvider",
    "vnfProductName",
    "vnfSoftwareVersion",
    "vnfdVersion",
    "vnfdId",
];

fn known(path: &str) -> bool {
    ATTRIBUTES.contains(&path)
        || OPEN_MAPS
            .iter()
            .any(|prefix| path.len() > prefix.len() && path.starts_with(prefix))
}

/// What `fields` / `exclude_fields` may name: the complex attributes and the parts of them,
/// as Tacker's view (its COMPLEX_ATTRIBUTES and their flattened paths). SOL013 clause 5.3
/// lets selectors omit only attributes that may be absent: `exclude_fields=onboardingState`
/// would answer VnfPkgInfo without a mandatory attribute.
fn selectable(path: &str) -> bool {
    known(path) && !SIMPLE_ATTRIBUTES.contains(&path)
}

/// One page of the list.
pub struct PackageList {
    pub items: Vec<Value>,
    /// The marker of the next page, if there is one.
    pub next_marker: Option<String>,
}

impl PackageService {
    pub async fn list(&self, ctx: &RequestContext, query: &ListQuery) -> Result<PackageList> {
        check_query(query).map_err(|e| PkgError::BadRequest(e.to_string()))?;
        let infos = self.visible_infos(ctx).await?;
        let mut matching: Vec<(String, Value)> = infos
            .into_iter()
            .filter(|(_, info)| query.filter.as_ref().is_none_or(|f| f.matches(info)))
            .collect();
        for (_, info) in &mut matching {
            query.selection.apply(info, DEFAULT_EXCLUDED);
        }
        // Tacker's `all_records=yes` lists everything on one page.
        let all_records = query.other.iter().any(|(k, v)| k == "all_records" && v == "yes");
        let page_size = if all_records { 0 } else { self.settings().page_size };
        let page = Paging::new(page_size)
            .page(matching, query.nextpage_opaque_marker.as_deref(), |(id, _)| {
                id.as_str()
            })
            .map_err(|e| PkgError::BadRequest(e.to_string()))?;
        Ok(PackageList {
            items: page.items.into_iter().map(|(_, info)| info).collect(),
            next_marker: page.next_marker,
        })
    }
}

fn check_query(query: &ListQuery) -> Result<(), QueryError> {
    query.selection.check_paths(selectable)?;
    let Some(filter) = &query.filter else {
        return Ok(());
    };
    filter.check_attributes(|path: &AttrPath| known(&path.to_string()))?;
    for term in filter.terms() {
        let attribute = term.path().to_string();
        let Some((_, allowed)) = ENUMS.iter().find(|(name, _)| *name == attribute) else {
            continue;
        };
        if let Some(bad) = term.values().find(|v| !allowed.contains(v)) {
            return Err(QueryError::InvalidSelector {
                param: "filter",
                value: bad.to_owned(),
                reason: enum_reason(&attribute),
            });
        }
    }
    Ok(())
}

fn enum_reason(attribute: &str) -> &'static str {
    match attribute {
        "onboardingState" => "onboardingState is one of CREATED, UPLOADING, PROCESSING, ONBOARDED",
        "operationalState" => "operationalState is one of ENABLED, DISABLED",
        _ => "usageState is one of IN_USE, NOT_IN_USE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_name_only_complex_attributes_and_their_parts() {
        for path in [
            "checksum",
            "checksum/hash",
            "userDefinedData",
            "userDefinedData/owner",
            "softwareImages",
            "softwareImages/userMetadata",
            "additionalArtifacts/metadata",
            "onboardingFailureDetails",
        ] {
            assert!(selectable(path), "{path}");
        }
        for path in SIMPLE_ATTRIBUTES.iter().chain(&["_links", "nothing"]) {
            assert!(!selectable(path), "{path}");
            assert_eq!(known(path), *path != "_links" && *path != "nothing", "{path}");
        }
    }
}
