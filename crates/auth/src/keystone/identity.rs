//! Token validation at Keystone: `GET /v3/auth/tokens` with the token in
//! `X-Subject-Token` and the service's own token in `X-Auth-Token`.

use std::time::Duration;

use axum::http::HeaderValue;

use super::service_auth::ServiceAuth;
use super::token::{TokenDataError, TokenInfo};
use crate::oauth2::transport_error_message;

/// Longest token tacker-rs sends on to Keystone (fernet tokens are ~200 bytes, JWS ~800).
const MAX_TOKEN_LEN: usize = 8192;

/// Keystone could not say whether the token is valid (down, slow, refusing the service):
/// a 503. Never carries a token or a password.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// Why a token is not accepted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ValidationError {
    /// Unknown, expired, revoked or malformed: a 401.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Keystone's description of the token cannot be used: a 401 too.
    #[error("invalid token: {0}")]
    Unreadable(#[from] TokenDataError),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Sends the request built by `build`, again after connection failures (up to
/// `retries` more times, with a short growing pause): a Keystone that is restarting
/// answers a moment later. Timeouts are not retried.
pub(super) async fn send_with_retries(
    retries: u32,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, Unavailable> {
    let mut attempt = 0;
    loop {
        match build().send().await {
            Ok(response) => return Ok(response),
            Err(e) if e.is_connect() && attempt < retries => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(4))).await;
            }
            Err(e) => {
                return Err(Unavailable(format!(
                    "Keystone unreachable: {}",
                    transport_error_message(&e)
                )))
            }
        }
    }
}

/// Validates tokens with the service's token.
#[derive(Debug)]
pub struct Validator {
    client: reqwest::Client,
    service: ServiceAuth,
    retries: u32,
}

impl Validator {
    pub(super) fn new(client: reqwest::Client, service: ServiceAuth, retries: u32) -> Self {
        Validator {
            client,
            service,
            retries,
        }
    }

    /// Keystone's view of `token`; `allow_expired` asks for it even if it has expired
    /// (only for requests with a valid service token).
    pub async fn validate(&self, token: &str, allow_expired: bool) -> Result<TokenInfo, ValidationError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(ValidationError::Invalid("empty or oversized token".into()));
        }
        let mut subject = HeaderValue::from_str(token)
            .map_err(|_| ValidationError::Invalid("characters a token cannot have".into()))?;
        subject.set_sensitive(true);
        // One retry with a fresh service token when Keystone refuses the current one.
        for attempt in 0..2 {
            let service = self.service.token().await?;
            let url = format!(
                "{}/auth/tokens?nocatalog{}",
                service.identity_v3,
                if allow_expired { "&allow_expired=1" } else { "" }
            );
            let response = send_with_retries(self.retries, || {
                self.client
                    .get(&url)
                    .header("x-auth-token", service.header.clone())
                    .header("x-subject-token", subject.clone())
                    // This filter enforces application credential access rules.
                    .header("openstack-identity-access-rules", "1")
                    .header(reqwest::header::ACCEPT, "application/json")
            })
            .await?;
            match response.status().as_u16() {
                200 => {
                    let body = response
                        .bytes()
                        .await
                        .map_err(|e| Unavailable(format!("Keystone's answer broke off: {}", transport_error_message(&e))))?;
                    return Ok(TokenInfo::from_body(&body)?);
                }
                404 => return Err(ValidationError::Invalid("Keystone does not know the token".into())),
                401 if attempt == 0 => {
                    tracing::info!("Keystone refused the service token; authenticating again");
                    self.service.invalidate(&service);
                }
                401 => {
                    return Err(Unavailable("Keystone refused the service's fresh token (HTTP 401)".into()).into())
                }
                403 => {
                    return Err(Unavailable(
                        "Keystone does not let the service user validate tokens (HTTP 403): give it the service role"
                            .into(),
                    )
                    .into())
                }
                status => {
                    return Err(Unavailable(format!("Keystone answered HTTP {status} to token validation")).into())
                }
            }
        }
        Err(Unavailable("Keystone refused the service token".into()).into())
    }
}
