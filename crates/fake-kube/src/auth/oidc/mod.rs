//! OIDC id_token authentication, step by step as kube-apiserver's authenticator and
//! go-oidc's `IDTokenVerifier` do it: pre-filter on `iss` (abstain otherwise), allowed
//! `alg`, signature by a JWKS key matched on `kid` (re-fetched when no cached key verifies), exact
//! `iss`, `aud` containing the client id, `exp` without leeway, `nbf` with leeway, then
//! the username/groups claim mapping and the required claims.

mod claims;
mod config;
mod keys;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

pub use config::OidcConfig;
use keys::KeyFetcher;

use crate::auth::UserInfo;
use crate::error::Error;

/// The OIDC authenticator of one issuer.
pub struct OidcAuthenticator {
    config: OidcConfig,
    keys: KeyFetcher,
}

fn b64_json(part: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl OidcAuthenticator {
    /// Checks the flags; discovery happens in [`Self::initialize`] / [`Self::run_initializer`].
    pub fn new(config: OidcConfig) -> Result<Self, Error> {
        config.validate()?;
        let keys = KeyFetcher::new(&config)?;
        Ok(OidcAuthenticator { config, keys })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Has discovery succeeded (tokens of this issuer fail until it has)?
    pub fn is_initialized(&self) -> bool {
        self.keys.current().is_some()
    }

    /// One discovery attempt.
    pub async fn initialize(&self) -> Result<(), String> {
        self.keys.initialize().await
    }

    /// Retries discovery every `retry_interval` until it succeeds.
    pub async fn run_initializer(&self) {
        while !self.is_initialized() {
            match self.initialize().await {
                Ok(()) => tracing::info!(issuer = %self.config.issuer_url, "OIDC authenticator initialized"),
                Err(reason) => {
                    tracing::warn!(%reason, "OIDC discovery failed; retrying");
                    tokio::time::sleep(self.config.retry_interval).await;
                }
            }
        }
    }

    /// `Ok(None)`: not a token of this issuer (abstain). `Err`: a token of this issuer that
    /// fails a check (the reason is only logged).
    pub async fn authenticate(&self, token: &str) -> Result<Option<UserInfo>, String> {
        let parts: Vec<&str> = token.split('.').collect();
        let [_, payload, _] = parts.as_slice() else {
            return Ok(None);
        };
        let Some(payload) = b64_json(payload) else {
            return Ok(None);
        };
        if payload["iss"].as_str() != Some(self.config.issuer_url.as_str()) {
            return Ok(None);
        }
        let set = self.keys.current().ok_or("oidc: authenticator not initialized")?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("oidc: malformed jwt: {e}"))?;
        let alg = format!("{:?}", header.alg);
        if !self.config.signing_algs.contains(&alg) {
            return Err(format!(
                "oidc: id token signed with unsupported algorithm, expected {:?} got {alg:?}",
                self.config.signing_algs
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let verified = |keys: &[jsonwebtoken::jwk::Jwk]| {
            keys.iter()
                .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
                .filter_map(|k| DecodingKey::from_jwk(k).ok())
                .any(|key| jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok())
        };
        if !verified(&set.keys) && !verified(&self.keys.refresh().await?.keys) {
            return Err("oidc: failed to verify id token signature".into());
        }
        self.check_claims(&payload)?;
        claims::map_user(&self.config, &payload).map(Some)
    }

    fn check_claims(&self, claims: &Value) -> Result<(), String> {
        let client_id = self.config.client_id.as_str();
        let aud_ok = match &claims["aud"] {
            Value::String(aud) => aud == client_id,
            Value::Array(auds) => auds.iter().any(|a| a.as_str() == Some(client_id)),
            _ => false,
        };
        if !aud_ok {
            return Err(format!(
                "oidc: expected audience {client_id:?} got {}",
                claims["aud"]
            ));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        let exp = claims["exp"].as_f64().ok_or("oidc: token has no exp")?;
        if exp < now {
            return Err(format!("oidc: token is expired (Token Expiry: {exp})"));
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = nbf.as_f64().ok_or("oidc: malformed nbf")?;
            if now + self.config.nbf_leeway.as_secs_f64() < nbf {
                return Err(format!(
                    "oidc: current time {now} before the nbf (not before) time: {nbf}"
                ));
            }
        }
        Ok(())
    }
}
