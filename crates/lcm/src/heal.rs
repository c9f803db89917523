//! Which VNFCs a heal request names. SOL003 3.3.1 (and Tacker's v2) name them by
//! `vnfcInfo[].id`; Tacker's v1 by the `vnfcResourceInfo[].id` (the pod name). Both the API's
//! check and the conductor's choice of pods to replace go through [`vnfc_resource_ids`].

use serde_json::Value;

use crate::model::ApiVersion;

/// The `vnfcResourceInfo` ids the `requested` `vnfcInstanceId`s name in an instance's
/// InstantiatedVnfInfo, in request order; the first id that names no VNFC is the error.
///
/// v2 takes a `vnfcInfo` id and, as tacker-rs always has, a `vnfcResourceInfo` id too; v1
/// only the latter, as Tacker's v1 does.
pub fn vnfc_resource_ids<'a>(
    info: &Value,
    api: ApiVersion,
    requested: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, &'a str> {
    let list = |key: &str| -> &[Value] {
        info.get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let mut ids = Vec::new();
    for wanted in requested {
        let by_vnfc_info = match api {
            ApiVersion::V2 => list("vnfcInfo")
                .iter()
                .find(|v| v.get("id").and_then(Value::as_str) == Some(wanted))
                .and_then(|v| v.get("vnfcResourceInfoId").and_then(Value::as_str)),
            ApiVersion::V1 => None,
        };
        let resource = by_vnfc_info.unwrap_or(wanted);
        match list("vnfcResourceInfo")
            .iter()
            .find(|v| v.get("id").and_then(Value::as_str) == Some(resource))
        {
            Some(_) => ids.push(resource.to_owned()),
            None => return Err(wanted),
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn info() -> Value {
        json!({
            "vnfcResourceInfo": [
                {"id": "web-7d9-abcde", "vduId": "VDU1"},
                {"id": "db-5f6-fghij", "vduId": "VDU2"},
            ],
            "vnfcInfo": [
                {"id": "VDU1-web-7d9-abcde", "vduId": "VDU1", "vnfcResourceInfoId": "web-7d9-abcde"},
                {"id": "VDU2-db-5f6-fghij", "vduId": "VDU2", "vnfcResourceInfoId": "db-5f6-fghij"},
            ],
        })
    }

    #[test]
    fn v2_takes_vnfc_info_ids_and_pod_names() {
        assert_eq!(
            vnfc_resource_ids(&info(), ApiVersion::V2, ["VDU2-db-5f6-fghij", "web-7d9-abcde"]),
            Ok(vec!["db-5f6-fghij".to_owned(), "web-7d9-abcde".to_owned()])
        );
        assert_eq!(
            vnfc_resource_ids(&info(), ApiVersion::V2, ["VDU2-db-5f6-fghij", "nothing"]),
            Err("nothing")
        );
    }

    #[test]
    fn v1_takes_pod_names_only() {
        assert_eq!(
            vnfc_resource_ids(&info(), ApiVersion::V1, ["db-5f6-fghij"]),
            Ok(vec!["db-5f6-fghij".to_owned()])
        );
        assert_eq!(
            vnfc_resource_ids(&info(), ApiVersion::V1, ["VDU2-db-5f6-fghij"]),
            Err("VDU2-db-5f6-fghij")
        );
        assert_eq!(vnfc_resource_ids(&json!({}), ApiVersion::V1, []), Ok(vec![]));
    }
}
