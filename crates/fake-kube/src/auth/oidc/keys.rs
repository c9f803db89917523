//! The issuer's discovery document and key set, fetched over TLS trusted through the
//! configured CA, re-fetched when no cached key verifies a token.

use std::sync::RwLock;
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use serde_json::Value;

use super::OidcConfig;
use crate::error::Error;

/// The discovery result and the keys of the last JWKS fetch.
#[derive(Clone, Debug)]
pub struct KeySet {
    pub jwks_uri: String,
    pub keys: Vec<Jwk>,
}

/// Fetches and caches the key set.
pub struct KeyFetcher {
    issuer: String,
    http: reqwest::Client,
    current: RwLock<Option<KeySet>>,
    refetch: tokio::sync::Mutex<()>,
}

impl KeyFetcher {
    pub fn new(config: &OidcConfig) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .use_rustls_tls();
        if let Some(pem) = &config.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(Error::Http)?;
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(KeyFetcher {
            issuer: config.issuer_url.clone(),
            http: builder.build().map_err(Error::Http)?,
            current: RwLock::new(None),
            refetch: tokio::sync::Mutex::new(()),
        })
    }

    /// The key set, if discovery has succeeded.
    pub fn current(&self) -> Option<KeySet> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// One discovery attempt: the document's `issuer` must equal the configured URL.
    pub async fn initialize(&self) -> Result<(), String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let doc = self.get_json(&url).await?;
        if doc["issuer"].as_str() != Some(self.issuer.as_str()) {
            return Err(format!(
                "oidc: issuer did not match the issuer returned by provider, expected {:?} got {}",
                self.issuer, doc["issuer"]
            ));
        }
        let jwks_uri = doc["jwks_uri"]
            .as_str()
            .ok_or("oidc: discovery document has no jwks_uri")?
            .to_string();
        let keys = self.fetch_keys(&jwks_uri).await?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(KeySet { jwks_uri, keys });
        Ok(())
    }

    /// Re-fetches the key set (go-oidc does so whenever no cached key verifies a token);
    /// concurrent callers are serialised.
    pub async fn refresh(&self) -> Result<KeySet, String> {
        let _guard = self.refetch.lock().await;
        let set = self.current().ok_or("oidc: authenticator not initialized")?;
        let keys = self.fetch_keys(&set.jwks_uri).await?;
        let set = KeySet {
            jwks_uri: set.jwks_uri,
            keys,
        };
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(set.clone());
        Ok(set)
    }

    async fn fetch_keys(&self, uri: &str) -> Result<Vec<Jwk>, String> {
        let doc = self.get_json(uri).await?;
        let keys = doc["keys"].as_array().ok_or("oidc: JWKS has no keys")?;
        // Keys of types this fake cannot use are skipped, as go-jose does.
        Ok(keys
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect())
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("oidc: GET {url}: {e:#}"))?;
        if !response.status().is_success() {
            return Err(format!("oidc: GET {url}: {}", response.status()));
        }
        response.json().await.map_err(|e| format!("oidc: GET {url}: {e}"))
    }
}
