//! OAuth2 client-credentials tokens for subscribers, cached per (token endpoint, client,
//! credential) until shortly before they expire; one request per key at a time.
//!
//! The cache key includes a digest of the client password: a subscription naming another
//! subscription's client with a wrong password must not be handed that client's token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use url::Url;

use crate::error::{transport_error, DeliveryError};
use crate::subscriber::redact;

/// Refresh at most this long before the token expires (less for short-lived tokens).
const EARLY_REFRESH: Duration = Duration::from_secs(30);
/// How long a token without `expires_in` is reused.
const UNKNOWN_LIFETIME: Duration = Duration::from_secs(60);
/// Above this many keys, idle and expired entries are pruned.
const PRUNE_ABOVE: usize = 256;

/// How the client authenticates at the token endpoint.
pub(crate) enum Grant<'a> {
    /// HTTP Basic(client_id, password).
    Secret { client_id: &'a str, password: &'a str },
    /// tls_client_auth: the TLS client certificate, `client_id` in the form.
    Mtls { client_id: &'a str },
}

type Key = [u8; 32];

struct Cached {
    token: String,
    refresh_at: Instant,
}

/// A token handed out, and whether it came from the cache (worth refetching on a 401).
pub(crate) struct Bearer {
    pub token: String,
    pub cached: bool,
    key: Key,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    entries: SyncMutex<HashMap<Key, Arc<Mutex<Option<Cached>>>>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<Value>,
}

fn key(endpoint: &Url, grant: &Grant<'_>) -> Key {
    let mut digest = Sha256::new();
    digest.update(endpoint.as_str().as_bytes());
    match grant {
        Grant::Secret { client_id, password } => {
            digest.update(b"\0secret\0");
            digest.update(client_id.as_bytes());
            digest.update(b"\0");
            digest.update(password.as_bytes());
        }
        Grant::Mtls { client_id } => {
            digest.update(b"\0mtls\0");
            digest.update(client_id.as_bytes());
        }
    }
    digest.finalize().into()
}

impl TokenCache {
    fn slot(&self, key: Key) -> Arc<Mutex<Option<Cached>>> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() > PRUNE_ABOVE {
            let now = Instant::now();
            entries.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .try_lock()
                        .map(|c| c.as_ref().is_some_and(|c| c.refresh_at > now))
                        .unwrap_or(true)
            });
        }
        entries.entry(key).or_default().clone()
    }

    /// A token for `grant` at `endpoint`: the cached one, or a new one.
    pub async fn bearer(
        &self,
        client: &reqwest::Client,
        endpoint: &Url,
        grant: &Grant<'_>,
    ) -> Result<Bearer, DeliveryError> {
        let key = key(endpoint, grant);
        let slot = self.slot(key);
        let mut current = slot.lock().await;
        if let Some(cached) = current.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(Bearer {
                token: cached.token.clone(),
                cached: true,
                key,
            });
        }
        let (token, lifetime) = fetch(client, endpoint, grant).await?;
        let early = EARLY_REFRESH.min(lifetime / 2);
        *current = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(early),
        });
        Ok(Bearer {
            token,
            cached: false,
            key,
        })
    }

    /// Forgets a token the subscriber refused, unless another caller replaced it already.
    pub async fn refused(&self, bearer: &Bearer) {
        let slot = self.slot(bearer.key);
        let mut current = slot.lock().await;
        if current.as_ref().is_some_and(|c| c.token == bearer.token) {
            *current = None;
        }
    }
}

async fn fetch(
    client: &reqwest::Client,
    endpoint: &Url,
    grant: &Grant<'_>,
) -> Result<(String, Duration), DeliveryError> {
    let shown = redact(endpoint);
    let refused = |reason: String| DeliveryError::TokenRefused {
        endpoint: shown.clone(),
        reason,
    };
    let request = client
        .post(endpoint.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    let request = match grant {
        Grant::Secret { client_id, password } => request
            .basic_auth(client_id, Some(password))
            .form(&[("grant_type", "client_credentials")]),
        Grant::Mtls { client_id } => {
            request.form(&[("grant_type", "client_credentials"), ("client_id", client_id)])
        }
    };
    let response = request
        .send()
        .await
        .map_err(|e| DeliveryError::TokenUnreachable {
            endpoint: shown.clone(),
            reason: transport_error(&e),
        })?;
    let status = response.status();
    if !status.is_success() {
        // Only the OAuth2 error code: descriptions are free text of the server.
        let code = response
            .json::<Value>()
            .await
            .ok()
            .and_then(|body| body.get("error").and_then(Value::as_str).map(str::to_string))
            .filter(|code| code.len() <= 64 && code.chars().all(|c| c.is_ascii_graphic()))
            .unwrap_or_else(|| "no error code".into());
        return Err(refused(format!("HTTP {}: {code}", status.as_u16())));
    }
    let body: TokenResponse = response
        .json()
        .await
        .map_err(|_| refused("the answer is not a JSON token response".into()))?;
    if let Some(kind) = body.token_type.as_deref() {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(refused(format!(
                "token_type {kind:?} is not supported, only Bearer"
            )));
        }
    }
    let token = body
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| refused("the answer has no access_token".into()))?;
    let lifetime = match body.expires_in {
        Some(Value::Number(n)) => n.as_u64().map(Duration::from_secs),
        Some(Value::String(s)) => s.trim().parse().ok().map(Duration::from_secs),
        _ => None,
    }
    .unwrap_or(UNKNOWN_LIFETIME);
    Ok((token, lifetime))
}
