//! Checking a registered Kubernetes VIM against its cluster, as Tacker does at
//! registration: the credentials (a fresh id_token for OIDC VIMs) must open `GET /api`,
//! and the namespaces the cluster lists become the VIM's regions.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use serde_json::{Map, Value};
use tacker_driver::{Fence, VimConnection};

use crate::client::connect;
use crate::error::Result;

/// The namespaces of the cluster `connection` (a vimConnectionInfo entry, secrets in
/// clear) names, or why it could not be reached (the message names no secret).
pub async fn namespaces(connection: &Map<String, Value>, timeout: Duration) -> Result<Vec<String>> {
    let vim = VimConnection {
        id: "registration".into(),
        vim_type: "kubernetes".into(),
        info: connection.clone(),
    };
    let session = connect(&vim, timeout, &Fence::unfenced()).await?;
    session
        .client
        .list_core_api_versions()
        .await
        .map_err(|e| session.err("get /api", e))?;
    let list = Api::<Namespace>::all(session.client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| session.err("list namespaces", e))?;
    Ok(list.items.into_iter().filter_map(|ns| ns.metadata.name).collect())
}
