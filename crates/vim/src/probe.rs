//! Validating a Kubernetes VIM against its cluster at registration, as Tacker does: the
//! credentials must work (`GET /api`, with a fresh id_token for OIDC VIMs), and the
//! namespaces listed become the VIM's `placement_attr.regions`.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

/// Talks to a cluster on behalf of the VIM registry (implemented by the Kubernetes driver).
pub trait ClusterProbe: Send + Sync {
    /// The cluster's namespaces, reached with `auth_cred` (secrets in clear), or why the
    /// cluster could not be reached or refused them.
    fn namespaces<'a>(
        &'a self,
        auth_url: &'a str,
        auth_cred: &'a Map<String, Value>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<String>, String>> + Send + 'a>>;
}
