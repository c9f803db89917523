//! Outbound OAuth2 client-credentials tokens (for notifications to subscribers and calls
//! to other services), with the same five client authentication methods, reused until
//! shortly before they expire.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::client_auth::ClientAuth;
use super::http::transport_error;

/// Refresh this long before the server's `expires_in` runs out.
const EARLY_REFRESH: Duration = Duration::from_secs(30);

/// Why no token could be obtained; never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token endpoint unreachable: {0}")]
    Unreachable(String),
    #[error("token endpoint answered HTTP {status}: {error}")]
    Refused { status: u16, error: String },
    #[error("token endpoint answered without an access_token")]
    NoToken,
    #[error("{0}")]
    ClientAuth(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: Option<String>,
}

/// A client-credentials token source for one token endpoint.
pub struct ClientCredentials {
    client: reqwest::Client,
    token_endpoint: String,
    auth: ClientAuth,
    scope: Option<String>,
    current: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientCredentials({}, {:?})", self.token_endpoint, self.auth)
    }
}

impl ClientCredentials {
    pub fn new(
        client: reqwest::Client,
        token_endpoint: String,
        auth: ClientAuth,
        scope: Option<String>,
    ) -> Self {
        ClientCredentials {
            client,
            token_endpoint,
            auth,
            scope,
            current: Mutex::new(None),
        }
    }

    /// A valid access token; concurrent callers share one request.
    pub async fn token(&self) -> Result<String, TokenError> {
        let mut current = self.current.lock().await;
        if let Some((token, refresh_at)) = current.as_ref() {
            if Instant::now() < *refresh_at {
                return Ok(token.clone());
            }
        }
        let (token, lifetime) = self.fetch().await?;
        let refresh_at = Instant::now() + lifetime.saturating_sub(EARLY_REFRESH);
        *current = Some((token.clone(), refresh_at));
        Ok(token)
    }

    /// Forgets the current token (after a 401 from the service it was sent to).
    pub async fn invalidate(&self) {
        *self.current.lock().await = None;
    }

    async fn fetch(&self) -> Result<(String, Duration), TokenError> {
        let mut params = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            params.push(("scope", scope));
        }
        let request = self
            .auth
            .form_post(
                self.client
                    .post(&self.token_endpoint)
                    .header(reqwest::header::ACCEPT, "application/json"),
                &params,
            )
            .map_err(|e| TokenError::ClientAuth(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| TokenError::Unreachable(transport_error(&e)))?;
        let status = response.status().as_u16();
        if status != 200 {
            let error = response
                .json::<ErrorResponse>()
                .await
                .ok()
                .and_then(|e| e.error)
                .unwrap_or_else(|| "no error code".into());
            return Err(TokenError::Refused { status, error });
        }
        let body: TokenResponse = response.json().await.map_err(|_| TokenError::NoToken)?;
        let token = body
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or(TokenError::NoToken)?;
        Ok((token, Duration::from_secs(body.expires_in.unwrap_or(300))))
    }
}
