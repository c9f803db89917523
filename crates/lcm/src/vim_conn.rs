//! VIM selection (vimConnectionInfo) as Tacker does it: from the request, from a
//! registered VIM named by vimId, or the project's default VIM; secrets encrypted at rest
//! with the instance's key and never shown.

use serde_json::{json, Map, Value};
use tacker_common::RequestContext;
use tacker_crypto::VimKeys;
use tacker_vim::auth_cred::is_secret_field;
use tacker_vim::{RegisteredVim, VimError, VimService};

use crate::error::{LcmError, Result};
use crate::model::ApiVersion;

pub const KUBERNETES_V2: &str = "ETSINFV.KUBERNETES.V_1";
pub const OPENSTACK_V2: &str = "ETSINFV.OPENSTACK_KEYSTONE.V_3";
pub const HELM_V2: &str = "ETSINFV.HELM.V_3";

/// The connection info chosen for an operation, secrets in clear (encrypt before storing).
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Key → VimConnectionInfo.
    pub info: Map<String, Value>,
    /// The registered VIM used, if any (it may not be deleted while the instance uses it).
    pub vim_id: Option<String>,
}

/// Resolves `vimConnectionInfo` of an instantiate request (an array in v1, a map in v2).
pub async fn resolve(
    vims: &VimService,
    ctx: &RequestContext,
    api: ApiVersion,
    requested: Option<&Value>,
) -> Result<Resolved> {
    let entries: Vec<(String, Map<String, Value>)> = match (api, requested) {
        (_, None | Some(Value::Null)) => Vec::new(),
        (ApiVersion::V1, Some(Value::Array(items))) => {
            if items.len() > 1 {
                return Err(bad("vimConnectionInfo may hold at most one entry"));
            }
            items
                .iter()
                .map(|item| {
                    let map = item
                        .as_object()
                        .ok_or_else(|| bad("vimConnectionInfo entries must be objects"))?;
                    let id = map
                        .get("id")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("vimConnectionInfo entries need 'id'"))?;
                    Ok((id.to_owned(), map.clone()))
                })
                .collect::<Result<_>>()?
        }
        (ApiVersion::V2, Some(Value::Object(map))) => map
            .iter()
            .map(|(key, item)| {
                let map = item
                    .as_object()
                    .ok_or_else(|| bad("vimConnectionInfo entries must be objects"))?;
                Ok((key.clone(), map.clone()))
            })
            .collect::<Result<_>>()?,
        (ApiVersion::V1, Some(_)) => return Err(bad("vimConnectionInfo must be an array")),
        (ApiVersion::V2, Some(_)) => return Err(bad("vimConnectionInfo must be an object")),
    };
    let mut resolved = Resolved::default();
    for (key, entry) in entries {
        if entry.get("vimType").and_then(Value::as_str).is_none() {
            return Err(bad("vimConnectionInfo entries need 'vimType'"));
        }
        let complete = entry.get("accessInfo").is_some_and(Value::is_object)
            && entry.get("interfaceInfo").is_some_and(Value::is_object);
        let info = if complete {
            check_given(&entry)?;
            normalise_type(entry, api)
        } else {
            let vim_id = entry.get("vimId").and_then(Value::as_str).ok_or_else(|| {
                bad("vimConnectionInfo entries need 'vimId', or both 'accessInfo' and 'interfaceInfo'")
            })?;
            let vim = registered(vims, ctx, Some(vim_id), api)
                .await?
                .ok_or_else(|| not_found(api, vim_id))?;
            resolved.vim_id = Some(vim.id.clone());
            from_registered(&vim, api)
        };
        resolved.info.insert(key, Value::Object(info));
    }
    if resolved.info.is_empty() {
        let vim = registered(vims, ctx, None, api).await?.ok_or_else(|| match api {
            ApiVersion::V1 => bad("Default VIM is not defined."),
            ApiVersion::V2 => LcmError::Unprocessable(
                "No VimConnectionInfo: the request names no VIM and the project has no default VIM.".into(),
            ),
        })?;
        resolved.vim_id = Some(vim.id.clone());
        resolved
            .info
            .insert("vim1".into(), Value::Object(from_registered(&vim, api)));
    }
    Ok(resolved)
}

/// The shape SOL003 gives `vimConnectionInfo` (v1: an array of entries with `id`, v2: a
/// map), each entry with a `vimType` and object-valued interfaceInfo, accessInfo, extra.
/// For requests whose vimConnectionInfo is shown again as sent (MODIFY_INFO).
pub fn check_shape(api: ApiVersion, value: &Value) -> Result<()> {
    let entries: Vec<&Value> = match (api, value) {
        (ApiVersion::V1, Value::Array(items)) => items.iter().collect(),
        (ApiVersion::V2, Value::Object(map)) => map.values().collect(),
        (ApiVersion::V1, _) => return Err(bad("vimConnectionInfo must be an array")),
        (ApiVersion::V2, _) => return Err(bad("vimConnectionInfo must be an object")),
    };
    for entry in entries {
        let entry = entry
            .as_object()
            .ok_or_else(|| bad("vimConnectionInfo entries must be objects"))?;
        let mut strings = vec![("vimType", true), ("vimId", false)];
        if api == ApiVersion::V1 {
            strings.push(("id", true));
        }
        for (key, required) in strings {
            match entry.get(key) {
                Some(Value::String(_)) => {}
                None if !required => {}
                _ => return Err(bad(format!("vimConnectionInfo entries need a string '{key}'"))),
            }
        }
        for key in ["interfaceInfo", "accessInfo", "extra"] {
            if entry.get(key).is_some_and(|v| !v.is_object()) {
                return Err(bad(format!(
                    "vimConnectionInfo entries' '{key}' must be an object"
                )));
            }
        }
    }
    Ok(())
}

async fn registered(
    vims: &VimService,
    ctx: &RequestContext,
    vim_id: Option<&str>,
    api: ApiVersion,
) -> Result<Option<RegisteredVim>> {
    vims.registered(ctx, vim_id).await.map_err(|e| match e {
        VimError::NotFound(id) => not_found(api, &id),
        VimError::Db(db) => LcmError::Db(db),
        other => LcmError::Vim(other),
    })
}

fn not_found(api: ApiVersion, vim_id: &str) -> LcmError {
    match api {
        ApiVersion::V1 => bad(format!("VimConnection id is not found: {vim_id}")),
        ApiVersion::V2 => LcmError::NotFound(format!("VIM {vim_id} not found.")),
    }
}

fn bad(message: impl Into<String>) -> LcmError {
    LcmError::BadRequest(message.into())
}

/// A connection given in full by the request must be usable.
fn check_given(entry: &Map<String, Value>) -> Result<()> {
    let access = entry
        .get("accessInfo")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let has = |k: &str| {
        access
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    let vim_type = entry.get("vimType").and_then(Value::as_str).unwrap_or_default();
    if is_kubernetes(vim_type) {
        let endpoint = entry
            .get("interfaceInfo")
            .and_then(|i| i.get("endpoint"))
            .and_then(Value::as_str);
        if endpoint.is_none_or(str::is_empty) {
            return Err(bad(
                "Required attribute missing in vimConnectionInfo: interfaceInfo.endpoint",
            ));
        }
        let oidc = has("oidc_token_url");
        let usable = if oidc {
            has("username") && has("password") && has("client_id")
        } else {
            has("bearer_token") || (has("username") && has("password"))
        };
        if !usable {
            return Err(bad(
                "Required attribute missing in vimConnectionInfo: accessInfo needs bearer_token, username and password, or oidc_token_url, username, password and client_id",
            ));
        }
    }
    Ok(())
}

/// A VIM type Tacker knows (SOL003's registered values and Tacker's legacy names), whether
/// or not tacker-rs has its infra driver.
pub fn is_known(vim_type: &str) -> bool {
    is_kubernetes(vim_type)
        || vim_type.eq_ignore_ascii_case("openstack")
        || vim_type.eq_ignore_ascii_case("ETSINFV.OPENSTACK_KEYSTONE.V_2")
        || vim_type.eq_ignore_ascii_case(OPENSTACK_V2)
        || vim_type == HELM_V2
}

pub fn is_kubernetes(vim_type: &str) -> bool {
    vim_type == KUBERNETES_V2 || vim_type.eq_ignore_ascii_case("kubernetes")
}

fn normalise_type(mut entry: Map<String, Value>, api: ApiVersion) -> Map<String, Value> {
    if api == ApiVersion::V2 && entry.get("vimType").and_then(Value::as_str) == Some("kubernetes") {
        entry.insert("vimType".into(), json!(KUBERNETES_V2));
    }
    entry
}

/// Tacker's vim_to_conn_info: a registered VIM as a VimConnectionInfo, connected the way
/// the VIM registry checked it ([`RegisteredVim::connection`]).
pub fn from_registered(vim: &RegisteredVim, api: ApiVersion) -> Map<String, Value> {
    let vim_type = match (vim.vim_type == "kubernetes", api) {
        (true, ApiVersion::V2) => KUBERNETES_V2,
        (true, ApiVersion::V1) => "kubernetes",
        (false, ApiVersion::V2) => OPENSTACK_V2,
        (false, ApiVersion::V1) => "openstack",
    };
    let mut info = Map::new();
    info.insert("vimId".into(), json!(vim.id));
    info.insert("vimType".into(), json!(vim_type));
    info.extend(vim.connection());
    info
}

/// Applies `f` to every accessInfo secret of every entry.
fn each_secret(info: &mut Map<String, Value>, mut f: impl FnMut(&mut String) -> Result<()>) -> Result<()> {
    for entry in info.values_mut() {
        let Some(access) = entry.get_mut("accessInfo").and_then(Value::as_object_mut) else {
            continue;
        };
        for (key, value) in access.iter_mut() {
            if let Value::String(text) = value {
                if is_secret_field(key) && !text.is_empty() {
                    f(text)?;
                }
            }
        }
    }
    Ok(())
}

/// Encrypts the secrets of v1's array form (entries with their `id`) before it is stored.
pub fn encrypt_entries(items: &mut [Value], keys: &VimKeys) {
    for item in items {
        let mut one = Map::new();
        one.insert(String::new(), std::mem::take(item));
        encrypt(&mut one, keys);
        *item = one.remove("").unwrap_or(Value::Null);
    }
}

/// Encrypts the secrets before the info is stored.
pub fn encrypt(info: &mut Map<String, Value>, keys: &VimKeys) {
    let _ = each_secret(info, |text| {
        *text = keys.encrypt(text);
        Ok(())
    });
}

/// Decrypts what [`encrypt`] encrypted (for the infra driver).
pub fn decrypt(info: &mut Map<String, Value>, keys: &VimKeys) -> Result<()> {
    each_secret(info, |text| {
        *text = keys.decrypt(text).map_err(|cause| LcmError::Key {
            what: "vimConnectionInfo",
            cause,
        })?;
        Ok(())
    })
}

/// The info as responses show it: password, bearer_token and client_secret left out.
pub fn shown(info: &Map<String, Value>) -> Map<String, Value> {
    let mut info = info.clone();
    for entry in info.values_mut() {
        if let Some(access) = entry.get_mut("accessInfo").and_then(Value::as_object_mut) {
            access.retain(|key, _| !is_secret_field(key));
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubernetes(auth_cred: Value) -> RegisteredVim {
        RegisteredVim {
            id: "vim-1".into(),
            vim_type: "kubernetes".into(),
            auth_url: "https://10.0.0.10:6443".into(),
            auth_cred: auth_cred.as_object().cloned().unwrap_or_default(),
            vim_project: Map::new(),
            extra: Map::new(),
            regions: Vec::new(),
        }
    }

    #[test]
    fn a_token_only_vim_connects_with_its_bearer_token() {
        // Tacker's stored form of a token-only Kubernetes VIM.
        let vim = kubernetes(json!({
            "bearer_token": "token", "username": "None", "password": null,
            "auth_url": "https://10.0.0.10:6443", "key_type": "fernet_key",
        }));
        let info = from_registered(&vim, ApiVersion::V2);
        assert_eq!(info["accessInfo"], json!({"bearer_token": "token"}));
        assert_eq!(info["vimType"], KUBERNETES_V2);
    }

    #[test]
    fn username_and_password_win_over_a_bearer_token() {
        let vim = kubernetes(json!({"bearer_token": "token", "username": "u", "password": "p"}));
        let info = from_registered(&vim, ApiVersion::V1);
        assert_eq!(info["accessInfo"], json!({"username": "u", "password": "p"}));
        assert_eq!(info["vimType"], "kubernetes");
    }

    #[test]
    fn modify_requests_give_vim_connections_their_sol003_shape() {
        check_shape(
            ApiVersion::V2,
            &json!({"vim1": {"vimType": "kubernetes", "accessInfo": {}}}),
        )
        .unwrap();
        check_shape(ApiVersion::V1, &json!([{"id": "vim1", "vimType": "kubernetes"}])).unwrap();
        // What schemathesis sent (shown again as the occurrence's changedInfo).
        for (api, bad) in [
            (ApiVersion::V2, json!({"vim1": 0})),
            (ApiVersion::V2, json!({"vim1": {"vimType": {}}})),
            (
                ApiVersion::V2,
                json!({"vim1": {"vimType": "k", "interfaceInfo": [null, null]}}),
            ),
            (ApiVersion::V2, json!([])),
            (ApiVersion::V1, json!([{"vimType": "k", "interfaceInfo": 0}])),
            (
                ApiVersion::V1,
                json!([{"id": "x", "vimType": "k", "interfaceInfo": 0}]),
            ),
            (ApiVersion::V1, json!({})),
        ] {
            assert!(
                matches!(check_shape(api, &bad), Err(LcmError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
