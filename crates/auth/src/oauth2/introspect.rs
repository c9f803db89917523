//! RFC 7662 token introspection.

use serde_json::{Map, Value};

use super::client_auth::ClientAuth;
use super::http::transport_error;

/// The authorization server's answer about one token.
#[derive(Debug, Clone)]
pub struct Introspection {
    pub active: bool,
    /// The whole response object (claims such as `exp`, `cnf`, `scope`, mapped claims).
    pub claims: Map<String, Value>,
}

impl Introspection {
    /// `exp` as a Unix time, when the response has a numeric one.
    pub fn exp(&self) -> Option<i64> {
        self.claims.get("exp").and_then(Value::as_f64).map(|f| f as i64)
    }
}

/// Why the server could not answer; never carries the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IntrospectError {
    #[error("authorization server unreachable: {0}")]
    Unreachable(String),
    #[error("authorization server answered HTTP {0}")]
    BadStatus(u16),
    #[error("authorization server answered with an unreadable body: {0}")]
    BadBody(String),
    #[error("{0}")]
    ClientAuth(String),
}

/// Posts tokens to the introspection endpoint with the configured client authentication.
#[derive(Debug, Clone)]
pub struct Introspector {
    client: reqwest::Client,
    endpoint: String,
    auth: ClientAuth,
}

impl Introspector {
    pub fn new(client: reqwest::Client, endpoint: String, auth: ClientAuth) -> Self {
        Introspector {
            client,
            endpoint,
            auth,
        }
    }

    pub async fn introspect(&self, token: &str) -> Result<Introspection, IntrospectError> {
        let request = self
            .auth
            .form_post(
                self.client
                    .post(&self.endpoint)
                    .header(reqwest::header::ACCEPT, "application/json"),
                &[("token", token), ("token_type_hint", "access_token")],
            )
            .map_err(|e| IntrospectError::ClientAuth(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| IntrospectError::Unreachable(transport_error(&e)))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(IntrospectError::BadStatus(status));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| IntrospectError::BadBody(transport_error(&e)))?;
        let Value::Object(claims) = body else {
            return Err(IntrospectError::BadBody("not a JSON object".into()));
        };
        // RFC 7662: `active` is a boolean; anything else counts as inactive.
        let active = claims.get("active") == Some(&Value::Bool(true));
        Ok(Introspection { active, claims })
    }
}
