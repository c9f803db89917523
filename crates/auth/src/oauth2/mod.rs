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
#[derive(Debug)]
pub struct OAuth2ConfigError {
    /// The option at fault (the first of them when several required ones are unset).
    pub option: &'static str,
    pub reason: String,
    /// Every required option that is unset, when that is the problem: all are named at
    /// once, so that one start-up attempt is enough to learn them.
    pub missing: Vec<&'static str>,
}

impl OAuth2ConfigError {
    pub(crate) fn new(option: &'static str, reason: impl Into<String>) -> Self {
        OAuth2ConfigError {
            option,
            reason: reason.into(),
            missing: Vec::new(),
        }
    }

    /// Required options that are unset (`missing` is not empty).
    pub(crate) fn missing(missing: Vec<&'static str>) -> Self {
        OAuth2ConfigError {
            option: missing.first().copied().unwrap_or_default(),
            reason: "is required".into(),
            missing,
        }
    }
}

impl std::fmt::Display for OAuth2ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.missing.is_empty() {
            write!(f, "[ext_oauth2_auth] {}: {}", self.option, self.reason)
        } else {
            write!(f, "[ext_oauth2_auth] missing {}", self.missing.join(", "))
        }
    }
}

impl std::error::Error for OAuth2ConfigError {}
