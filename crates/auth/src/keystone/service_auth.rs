//! The service's own Keystone token (keystoneauth's `password` plugin with the
//! `[keystone_authtoken]` credentials): obtained on first need, reused, renewed before
//! it expires or when Keystone refuses it; and the Identity endpoint of the catalogue
//! that validates user tokens.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use serde::Deserialize;
use serde_json::Value;

use super::identity::{send_with_retries, Unavailable};

/// Renew this long before `expires_at` at most (keystoneauth: 120 s), and never later
/// than half-way through a short token's life.
const EARLY_RENEWAL: Duration = Duration::from_secs(120);

/// A service token and where to validate with it.
#[derive(Debug)]
pub struct ServiceToken {
    /// `X-Auth-Token` for validation calls (marked sensitive).
    pub header: HeaderValue,
    /// `.../v3` of the Identity endpoint that validates tokens.
    pub identity_v3: String,
    renew_at: Instant,
}

/// The password-grant request body; holds the service password, never printed.
pub(super) struct AuthRequest(pub(super) Value);

impl std::fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthRequest(***)")
    }
}

/// Where and how the service authenticates.
#[derive(Debug)]
pub struct ServiceAuth {
    client: reqwest::Client,
    /// `<auth_url>/v3`.
    auth_v3: String,
    request: AuthRequest,
    interface: String,
    region: Option<String>,
    retries: u32,
    current: RwLock<Option<Arc<ServiceToken>>>,
    renewing: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenPart,
}

#[derive(Deserialize)]
struct TokenPart {
    expires_at: String,
    #[serde(default)]
    catalog: Vec<CatalogService>,
}

#[derive(Deserialize)]
struct CatalogService {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    endpoints: Vec<CatalogEndpoint>,
}

#[derive(Deserialize)]
struct CatalogEndpoint {
    interface: String,
    url: String,
    region_id: Option<String>,
    region: Option<String>,
}

/// `<url>/v3`: Keystone's endpoints are listed versioned or not.
pub(super) fn v3_base(url: &str) -> String {
    let url = url.trim_end_matches('/');
    if url.ends_with("/v3") {
        url.to_string()
    } else {
        format!("{url}/v3")
    }
}

impl ServiceAuth {
    pub(super) fn new(
        client: reqwest::Client,
        auth_url: &str,
        request: AuthRequest,
        interface: String,
        region: Option<String>,
        retries: u32,
    ) -> Self {
        ServiceAuth {
            client,
            auth_v3: v3_base(auth_url),
            request,
            interface,
            region,
            retries,
            current: RwLock::new(None),
            renewing: tokio::sync::Mutex::new(()),
        }
    }

    fn fresh(&self) -> Option<Arc<ServiceToken>> {
        let current = self.current.read().ok()?;
        current.as_ref().filter(|t| Instant::now() < t.renew_at).cloned()
    }

    /// A valid service token; concurrent callers share one authentication.
    pub async fn token(&self) -> Result<Arc<ServiceToken>, Unavailable> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _renewing = self.renewing.lock().await;
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let token = Arc::new(self.authenticate().await?);
        if let Ok(mut current) = self.current.write() {
            *current = Some(token.clone());
        }
        Ok(token)
    }

    /// Drops `stale` (Keystone refused it), unless it was renewed meanwhile.
    pub fn invalidate(&self, stale: &Arc<ServiceToken>) {
        if let Ok(mut current) = self.current.write() {
            if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, stale)) {
                *current = None;
            }
        }
    }

    async fn authenticate(&self) -> Result<ServiceToken, Unavailable> {
        let url = format!("{}/auth/tokens", self.auth_v3);
        let response = send_with_retries(self.retries, || {
            self.client
                .post(&url)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&self.request.0)
        })
        .await?;
        let status = response.status().as_u16();
        match status {
            201 | 200 => {}
            401 => {
                return Err(Unavailable(
                    "Keystone refused the service credentials of [keystone_authtoken] (HTTP 401)".into(),
                ))
            }
            _ => {
                return Err(Unavailable(format!(
                    "Keystone answered HTTP {status} to the service's authentication"
                )))
            }
        }
        let mut header = response
            .headers()
            .get("x-subject-token")
            .cloned()
            .ok_or_else(|| Unavailable("Keystone's authentication answer has no X-Subject-Token".into()))?;
        header.set_sensitive(true);
        let body: TokenBody = response
            .json()
            .await
            .map_err(|_| Unavailable("Keystone's authentication answer is unreadable".into()))?;
        let expires_at = chrono::DateTime::parse_from_rfc3339(&body.token.expires_at)
            .map_err(|_| Unavailable("Keystone's service token has an unreadable expires_at".into()))?;
        let lifetime = (expires_at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let renew_at = Instant::now() + lifetime.saturating_sub(EARLY_RENEWAL.min(lifetime / 2));
        let identity_v3 = self.identity_endpoint(&body.token.catalog);
        tracing::info!(
            identity = %identity_v3,
            valid_for_s = lifetime.as_secs(),
            "obtained the service token for Keystone token validation"
        );
        Ok(ServiceToken {
            header,
            identity_v3,
            renew_at,
        })
    }

    /// The catalogue's Identity endpoint for `interface` (and `region_name`), as
    /// keystonemiddleware's adapter picks it; `auth_url` when there is none.
    fn identity_endpoint(&self, catalog: &[CatalogService]) -> String {
        let found = catalog
            .iter()
            .filter(|s| s.kind == "identity")
            .flat_map(|s| s.endpoints.iter())
            .find(|e| {
                e.interface == self.interface
                    && self.region.as_ref().is_none_or(|r| {
                        e.region_id.as_deref() == Some(r.as_str()) || e.region.as_deref() == Some(r.as_str())
                    })
            });
        match found {
            Some(endpoint) => v3_base(&endpoint.url),
            None => {
                tracing::info!(
                    interface = %self.interface,
                    region = self.region.as_deref().unwrap_or("any"),
                    "no such Identity endpoint in the catalogue; validating tokens at auth_url"
                );
                self.auth_v3.clone()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn auth(interface: &str, region: Option<&str>) -> ServiceAuth {
        ServiceAuth::new(
            reqwest::Client::new(),
            "http://ks:5000/",
            AuthRequest(json!({})),
            interface.into(),
            region.map(str::to_string),
            0,
        )
    }

    #[test]
    fn picks_the_identity_endpoint_by_interface_and_region() {
        let catalog: Vec<CatalogService> = serde_json::from_value(json!([
            {"type": "nfv-orchestration", "endpoints": [{"interface": "internal", "url": "http://t:9890/"}]},
            {"type": "identity", "endpoints": [
                {"interface": "public", "url": "https://pub/identity", "region_id": "RegionOne"},
                {"interface": "internal", "url": "http://int/identity/v3/", "region_id": "RegionOne"},
                {"interface": "internal", "url": "http://two/identity", "region_id": "RegionTwo"}]}
        ]))
        .unwrap();
        assert_eq!(
            auth("internal", None).identity_endpoint(&catalog),
            "http://int/identity/v3"
        );
        assert_eq!(
            auth("internal", Some("RegionTwo")).identity_endpoint(&catalog),
            "http://two/identity/v3"
        );
        assert_eq!(
            auth("public", None).identity_endpoint(&catalog),
            "https://pub/identity/v3"
        );
        assert_eq!(
            auth("admin", None).identity_endpoint(&catalog),
            "http://ks:5000/v3"
        );
        assert!(!format!("{:?}", AuthRequest(json!({"password": "pw"}))).contains("pw"));
    }
}
