//! Checking a registered Kubernetes VIM against its cluster, as Tacker does at
//! registration: the credentials (a fresh id_token for OIDC VIMs) must open `GET /api`,
//! and the namespaces the cluster lists become the VIM's regions.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use serde_json::{json, Map, Value};
use tacker_conductor::VimConnection;

use crate::client::connect;

/// The namespaces of the cluster at `auth_url`, reached with a VIM's `auth_cred` (secrets
/// in clear), or why it could not be (the message names no secret).
pub async fn namespaces(
    auth_url: &str,
    auth_cred: &Map<String, Value>,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let vim = VimConnection {
        id: "registration".into(),
        vim_type: "kubernetes".into(),
        info: connection_info(auth_url, auth_cred),
    };
    let session = connect(&vim, timeout, &tacker_conductor::Fence::unfenced())
        .await
        .map_err(|e| e.to_string())?;
    session
        .client
        .list_core_api_versions()
        .await
        .map_err(|e| session.err("get /api", e).to_string())?;
    let list = Api::<Namespace>::all(session.client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| session.err("list namespaces", e).to_string())?;
    Ok(list.items.into_iter().filter_map(|ns| ns.metadata.name).collect())
}

/// A registered VIM's credentials as the vimConnectionInfo the driver connects with:
/// OIDC first, then username and password (both set), then the bearer token.
fn connection_info(auth_url: &str, cred: &Map<String, Value>) -> Map<String, Value> {
    let set = |key: &str| {
        cred.get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty() && v != "None")
    };
    let pick = |keys: &[&str]| -> Map<String, Value> {
        keys.iter()
            .filter(|k| set(k))
            .map(|k| ((*k).to_owned(), cred[*k].clone()))
            .collect()
    };
    let access = if set("oidc_token_url") {
        pick(&[
            "oidc_token_url",
            "username",
            "password",
            "client_id",
            "client_secret",
        ])
    } else if set("username") && set("password") {
        pick(&["username", "password"])
    } else {
        pick(&["bearer_token"])
    };
    let mut interface = Map::new();
    interface.insert("endpoint".into(), json!(auth_url));
    if set("ssl_ca_cert") {
        interface.insert("ssl_ca_cert".into(), cred["ssl_ca_cert"].clone());
    }
    let mut info = Map::new();
    info.insert("interfaceInfo".into(), Value::Object(interface));
    info.insert("accessInfo".into(), Value::Object(access));
    info
}
