//! The OpenID Connect id_token a Kubernetes VIM's operation runs with: fetched fresh for
//! every operation with the password grant (as Tacker's oidc_utils does: client
//! credentials in the form body, scope openid), kept in memory only, never logged.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::Deserialize;
use tacker_tls::client::{http_client, OutboundTls};

/// Tacker's timeout for the token request.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(20);

/// The OIDC fields of a VIM's credentials.
#[derive(Clone)]
pub struct OidcCredentials {
    pub token_url: String,
    pub username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl fmt::Debug for OidcCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcCredentials")
            .field("token_url", &self.token_url)
            .field("username", &self.username)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// An id_token; its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct IdToken(String);

impl IdToken {
    pub fn secret(&self) -> &str {
        &self.0
    }

    #[cfg(test)]
    pub(crate) fn from_secret(secret: String) -> IdToken {
        IdToken(secret)
    }

    /// When the token expires and when it was issued (`exp`, `iat`), read from its payload
    /// without verifying it: the API server verifies the token, the driver only needs to
    /// know when to renew it.
    pub fn times(&self) -> (Option<SystemTime>, Option<SystemTime>) {
        let claims: Option<serde_json::Value> = self.0.split('.').nth(1).and_then(|payload| {
            let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()?;
            serde_json::from_slice(&json).ok()
        });
        let time = |claim: &str| {
            let seconds = claims.as_ref()?.get(claim)?.as_f64()?;
            UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(seconds).ok()?)
        };
        (time("exp"), time("iat"))
    }
}

impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdToken(***)")
    }
}

/// Why no id_token could be obtained; says what the IdP answered, never the secrets.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("OIDC authentication and authorization failed. Detail: {0}")]
    Failed(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: Option<String>,
    error_description: Option<String>,
}

impl OidcCredentials {
    /// Tacker's precondition: all four fields set.
    pub fn check(&self) -> Result<(), OidcError> {
        if [&self.token_url, &self.username, &self.password, &self.client_id]
            .iter()
            .any(|v| v.is_empty())
        {
            return Err(OidcError::Failed(
                "token_endpoint, username, password, client_id can not be empty.".into(),
            ));
        }
        Ok(())
    }

    /// POSTs the password grant and returns the id_token. `ca_pem` is the VIM's
    /// ssl_ca_cert bundle (it may hold the IdP's CA and the cluster's); `None` means the
    /// system roots, never an unverified connection.
    pub async fn fetch(&self, ca_pem: Option<&[u8]>) -> Result<IdToken, OidcError> {
        let tls = OutboundTls {
            ca_pem: ca_pem.map(<[u8]>::to_vec),
            ..OutboundTls::default()
        };
        self.fetch_with_tls(tls).await
    }

    /// As [`fetch`](Self::fetch), with the VIM's whole TLS setting (`insecure` only when
    /// the vimConnectionInfo explicitly skips certificate verification). Without a
    /// timeout in `tls`, Tacker's 20 s apply.
    pub async fn fetch_with_tls(&self, mut tls: OutboundTls) -> Result<IdToken, OidcError> {
        self.check()?;
        tls.timeout.get_or_insert(TOKEN_TIMEOUT);
        let client = http_client(&tls, concat!("tacker-rs/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| OidcError::Failed(format!("TLS setup for {}: {e}", self.token_url)))?;
        let mut form = vec![
            ("grant_type", "password"),
            ("scope", "openid"),
            ("client_id", self.client_id.as_str()),
            ("username", self.username.as_str()),
            ("password", self.password.as_str()),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let response = client
            .post(&self.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Failed(format!("{}: {}", self.token_url, transport(&e))))?;
        let status = response.status();
        // Unlike Tacker, `application/json; charset=utf-8` is JSON too.
        let json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        let body = response
            .bytes()
            .await
            .map_err(|e| OidcError::Failed(transport(&e)))?;
        if !status.is_success() {
            let error: Option<ErrorResponse> = serde_json::from_slice(&body).ok();
            let reason = error
                .map(|e| {
                    [e.error, e.error_description]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ")
                })
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "no OAuth error in the body".into());
            return Err(OidcError::Failed(format!(
                "response code: {}, {reason}",
                status.as_u16()
            )));
        }
        if !json {
            return Err(OidcError::Failed(format!(
                "response code: {}, the answer is not JSON",
                status.as_u16()
            )));
        }
        let token: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| OidcError::Failed("the token response is not valid JSON".into()))?;
        token
            .id_token
            .filter(|t| !t.is_empty())
            .map(IdToken)
            .ok_or_else(|| {
                OidcError::Failed(
                    "the token response has no id_token (is scope openid allowed for the client?)".into(),
                )
            })
    }
}

/// A transport failure, without the URL's query (reqwest includes it).
fn transport(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".into();
    }
    let mut source: &dyn std::error::Error = err;
    let mut last = err.to_string();
    while let Some(next) = source.source() {
        last = next.to_string();
        source = next;
    }
    if err.is_connect() {
        format!("could not connect ({last})")
    } else {
        last
    }
}
