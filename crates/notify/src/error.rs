//! What can go wrong: one delivery ([`DeliveryError`], stored as the notification's
//! `last_error` and answered as 422 by the subscription API), or the worker itself
//! ([`NotifyError`]). No message ever carries a password, a client secret or a token.

use tacker_db::DbError;

/// Why one request to a subscriber (or its token endpoint) did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The subscription cannot be used as stored (callback URI, API version).
    #[error("{0}")]
    Subscription(String),
    /// The subscription's authentication cannot be used (invalid, no key, cannot decrypt,
    /// no client certificate configured for OAUTH2_CLIENT_CERT).
    #[error("authentication: {0}")]
    Authentication(String),
    /// No HTTP answer from the subscriber: connection, TLS or timeout.
    #[error("{target}: {reason}")]
    Unreachable { target: String, reason: String },
    /// The subscriber answered, but not with success.
    #[error("{target} answered HTTP {status}, expected 204")]
    Status { target: String, status: u16 },
    /// No HTTP answer from the token endpoint.
    #[error("token endpoint {endpoint}: {reason}")]
    TokenUnreachable { endpoint: String, reason: String },
    /// The token endpoint answered without a usable access token.
    #[error("token endpoint {endpoint}: {reason}")]
    TokenRefused { endpoint: String, reason: String },
}

impl DeliveryError {
    /// The peer could not be reached at all: later notifications to the same subscriber
    /// would fail the same way, so they wait for the next round.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            DeliveryError::Unreachable { .. } | DeliveryError::TokenUnreachable { .. }
        )
    }
}

/// Why the notification machinery itself cannot work.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification outbox: {0}")]
    Db(#[from] DbError),
    /// The HTTP clients cannot be built from the settings (CA bundle, client identity).
    #[error("notification HTTP client: {0}")]
    Client(String),
}

/// A reqwest failure for logs and error messages: what failed and its innermost cause,
/// never the URL (which may carry credentials) nor the request. A TLS failure is told by
/// the `rustls::Error` in the chain (see [`tacker_tls::tls_cause`]), not by its words.
pub(crate) fn transport_error(e: &reqwest::Error) -> String {
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if tacker_tls::tls_cause(e).is_some() {
        "TLS handshake failed"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}
