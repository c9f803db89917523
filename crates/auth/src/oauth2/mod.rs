//! External OAuth2 (RFC 7662 token introspection), as keystonemiddleware's
//! `external_oauth2_token` filter does it, configured by `[ext_oauth2_auth]`; and the
//! outbound client-credentials token source that uses the same client authentication.

mod cache;
mod client_auth;
mod filter;
mod http;
mod introspect;
mod mapping;
mod token_source;

pub use cache::TokenCache;
pub use client_auth::ClientAuth;
pub use filter::{external_oauth2_token, ExternalOAuth2};
pub use http::http_client;
pub(crate) use http::transport_error as transport_error_message;
pub use introspect::{IntrospectError, Introspection, Introspector};
pub use mapping::{ClaimMapping, Identity, MappingError};
pub use token_source::{ClientCredentials, TokenError};

/// Why the `[ext_oauth2_auth]` options cannot be used; start-up stops with this.
#[derive(Debug, thiserror::Error)]
#[error("[ext_oauth2_auth] {option}: {reason}")]
pub struct OAuth2ConfigError {
    pub option: &'static str,
    pub reason: String,
}

impl OAuth2ConfigError {
    pub(crate) fn new(option: &'static str, reason: impl Into<String>) -> Self {
        OAuth2ConfigError {
            option,
            reason: reason.into(),
        }
    }
}
