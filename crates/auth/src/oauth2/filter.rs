//! The `external_oauth2_token` filter: Bearer token → introspection (cached) → `active`,
//! `exp` and certificate-binding checks → the identity, handed to `keystonecontext` as a
//! [`Verified`] context.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tacker_common::{ExtOAuth2Options, PeerCertificate};

use super::cache::TokenCache;
use super::client_auth::ClientAuth;
use super::http::http_client;
use super::introspect::Introspection;
use super::introspect::Introspector;
use super::mapping::{ClaimMapping, Identity, MappingError, Scope};
use super::OAuth2ConfigError;
use crate::context::Verified;
use crate::fault::{fault, ApiFlavor};
use crate::identity_headers::{set, strip_identity_headers};

/// Everything the filter needs, built once at start-up and shared by every pipeline.
pub struct ExternalOAuth2 {
    cache: TokenCache<Admission>,
    thumbprint_verify: bool,
    www_authenticate: HeaderValue,
}

/// What a token's introspection decides, worked out once and kept with it: a request with
/// a cached token only compares the clock and its certificate, and shares the identity.
struct Admission {
    active: bool,
    /// The earliest of `exp` and the mapped expiry claim, or why that claim is refused.
    expires_at: Result<Option<i64>, MappingError>,
    /// `cnf.x5t#S256`: the thumbprint of the certificate the token is bound to.
    thumbprint: Option<String>,
    /// The identity for `keystonecontext`, or why the claims are refused.
    identity: Result<Verified, MappingError>,
}

impl Admission {
    fn new(mapping: &ClaimMapping, introspection: Introspection) -> Self {
        let claims = &introspection.claims;
        let expires_at = mapping
            .expires_at(claims)
            .map(|mapped| introspection.exp().into_iter().chain(mapped).min());
        let thumbprint = claims
            .get("cnf")
            .and_then(|c| c.get("x5t#S256"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let identity = mapping.map(claims).map(|identity| {
            let mut headers = HeaderMap::new();
            set_identity_headers(&mut headers, &identity);
            Verified::from_identity_headers(&headers)
        });
        Admission {
            active: introspection.active,
            expires_at,
            thumbprint,
            identity,
        }
    }
}

impl ExternalOAuth2 {
    /// Checks the options as keystonemiddleware does at start-up (and the mappings, which
    /// it only discovers per request).
    pub fn from_options(o: &ExtOAuth2Options) -> Result<Self, OAuth2ConfigError> {
        let missing = missing_options(o);
        if !missing.is_empty() {
            return Err(OAuth2ConfigError::missing(missing));
        }
        let endpoint = o
            .introspect_endpoint
            .clone()
            .ok_or_else(|| OAuth2ConfigError::new("introspect_endpoint", "is required"))?;
        let audience = o
            .audience
            .clone()
            .ok_or_else(|| OAuth2ConfigError::new("audience", "is required"))?;
        let auth = ClientAuth::from_options(o, &audience)?;
        let www_authenticate = HeaderValue::from_str(&format!("Authorization OAuth 2.0 uri=\"{audience}\""))
            .map_err(|_| OAuth2ConfigError::new("audience", "cannot be used in a header"))?;
        let introspector = Introspector::new(http_client(o)?, endpoint, auth);
        let mapping = ClaimMapping::from_options(o)?;
        let admit = move |introspection| Admission::new(&mapping, introspection);
        Ok(ExternalOAuth2 {
            cache: TokenCache::admitting(introspector, o.token_cache_time, o.token_cache_size, admit),
            thumbprint_verify: o.thumbprint_verify,
            www_authenticate,
        })
    }

    fn unauthorized(&self, flavor: ApiFlavor, message: &str) -> Response {
        let mut response = fault(flavor, StatusCode::UNAUTHORIZED, "HTTPUnauthorized", message);
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, self.www_authenticate.clone());
        response
    }

    /// Decides a request: its admission, or the response that refuses it.
    async fn authenticate(
        &self,
        flavor: ApiFlavor,
        token: Option<&str>,
        peer: Option<&PeerCertificate>,
    ) -> Result<Arc<Admission>, Response> {
        let Some(token) = token else {
            tracing::info!("request without a Bearer token");
            return Err(self.unauthorized(flavor, "The request you have made requires authentication."));
        };
        let admission = self.cache.introspect(token).await.map_err(|e| {
            tracing::error!(error = %e, "token introspection failed");
            fault(
                flavor,
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The authorization server could not check the token; try again later.",
            )
        })?;
        if !admission.active {
            tracing::info!("inactive token");
            return Err(self.unauthorized(flavor, "The token is not active."));
        }
        let forbidden = |e: &MappingError| {
            tracing::warn!(reason = %e, "token claims refused");
            fault(flavor, StatusCode::FORBIDDEN, "HTTPForbidden", &e.0)
        };
        let expires_at = *admission.expires_at.as_ref().map_err(forbidden)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        if expires_at.is_some_and(|exp| exp <= now) {
            tracing::info!("expired token");
            return Err(self.unauthorized(flavor, "The token has expired."));
        }
        if self.thumbprint_verify {
            check_thumbprint(peer, admission.thumbprint.as_deref()).map_err(|why| {
                tracing::warn!(reason = why, "certificate-bound token refused");
                self.unauthorized(
                    flavor,
                    "The token is not bound to the certificate of this connection.",
                )
            })?;
        }
        admission.identity.as_ref().map_err(forbidden)?;
        Ok(admission)
    }
}

/// Every option the filter needs that is unset, for the configured `auth_method`, in the
/// order of the sample tacker.conf. (`mapping_user_id` and `mapping_user_name` have
/// defaults.)
fn missing_options(o: &ExtOAuth2Options) -> Vec<&'static str> {
    let mut missing = Vec::new();
    let mut need = |set: bool, option: &'static str| {
        if !set {
            missing.push(option);
        }
    };
    need(o.introspect_endpoint.is_some(), "introspect_endpoint");
    need(o.audience.is_some(), "audience");
    need(o.client_id.is_some(), "client_id");
    match o.auth_method.as_str() {
        "client_secret_basic" | "client_secret_post" => {
            need(o.client_secret.is_some(), "client_secret");
        }
        "client_secret_jwt" => {
            need(o.client_secret.is_some(), "client_secret");
            need(o.jwt_algorithm.is_some(), "jwt_algorithm");
        }
        "private_key_jwt" => {
            need(o.jwt_algorithm.is_some(), "jwt_algorithm");
            need(o.jwt_key_file.is_some(), "jwt_key_file");
        }
        "tls_client_auth" => {
            need(o.certfile.is_some(), "certfile");
            need(o.keyfile.is_some(), "keyfile");
        }
        // An unknown method is reported by ClientAuth, naming it.
        _ => {}
    }
    need(o.mapping_user_domain_id.is_some(), "mapping_user_domain_id");
    need(o.mapping_user_domain_name.is_some(), "mapping_user_domain_name");
    need(o.mapping_roles.is_some(), "mapping_roles");
    missing
}

/// RFC 8705: `cnf.x5t#S256` equals the base64url SHA-256 of this connection's client
/// certificate; without a certificate the check fails (closed).
fn check_thumbprint(peer: Option<&PeerCertificate>, expected: Option<&str>) -> Result<(), &'static str> {
    let expected = expected.ok_or("the token has no cnf.x5t#S256")?;
    let certificate = peer.ok_or("no client certificate on this connection")?;
    let actual =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(certificate.0.as_slice()));
    if actual == expected {
        Ok(())
    } else {
        Err("thumbprint mismatch")
    }
}

/// `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The identity as the headers keystonemiddleware sets for the downstream context filter
/// (from which [`Verified`] is built, so the context is the one those headers give).
fn set_identity_headers(headers: &mut HeaderMap, identity: &Identity) {
    let roles = identity.roles.join(",");
    set(headers, "x-identity-status", "Confirmed");
    set(headers, "x-roles", &roles);
    set(headers, "x-role", &roles);
    set(headers, "x-user-id", &identity.user_id);
    set(headers, "x-user-name", &identity.user_name);
    set(headers, "x-user", &identity.user_name);
    set(headers, "x-user-domain-id", &identity.user_domain_id);
    set(headers, "x-user-domain-name", &identity.user_domain_name);
    if identity.roles.iter().any(|r| r.eq_ignore_ascii_case("admin")) {
        set(headers, "x-is-admin-project", "true");
    }
    match &identity.scope {
        Scope::System => set(headers, "openstack-system-scope", "all"),
        Scope::Project {
            id,
            name,
            domain_id,
            domain_name,
        } => {
            set(headers, "x-project-id", id);
            set(headers, "x-project-name", name);
            set(headers, "x-project-domain-id", domain_id);
            set(headers, "x-project-domain-name", domain_name);
            set(headers, "x-tenant-id", id);
            set(headers, "x-tenant-name", name);
            set(headers, "x-tenant", id);
        }
        Scope::Domain { id, name } => {
            set(headers, "x-domain-id", id);
            set(headers, "x-domain-name", name);
        }
    }
}

/// The middleware; apply with `from_fn(move |req, next| external_oauth2_token(state.clone(), flavor, req, next))`.
pub async fn external_oauth2_token(
    filter: Arc<ExternalOAuth2>,
    flavor: ApiFlavor,
    mut request: Request,
    next: Next,
) -> Response {
    strip_identity_headers(request.headers_mut());
    let token = bearer_token(request.headers()).map(str::to_string);
    let peer = request.extensions().get::<PeerCertificate>().cloned();
    let admission = match filter.authenticate(flavor, token.as_deref(), peer.as_ref()).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    if let Ok(identity) = &admission.identity {
        request.extensions_mut().insert(identity.clone());
    }
    let mut response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, filter.www_authenticate.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_must_match_the_connection_certificate() {
        let der = b"certificate bytes".to_vec();
        let thumb = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&der));
        let peer = PeerCertificate(Arc::new(der));
        assert_eq!(check_thumbprint(Some(&peer), Some(&thumb)), Ok(()));
        assert!(
            check_thumbprint(None, Some(&thumb)).is_err(),
            "fails closed without a certificate"
        );
        let other = PeerCertificate(Arc::new(b"other".to_vec()));
        assert!(check_thumbprint(Some(&other), Some(&thumb)).is_err());
        assert!(check_thumbprint(Some(&peer), None).is_err());
    }

    #[test]
    fn every_missing_option_is_named_at_once() {
        let unset = ExtOAuth2Options {
            auth_method: "client_secret_basic".into(),
            ..Default::default()
        };
        let Err(err) = ExternalOAuth2::from_options(&unset) else {
            panic!("started without options")
        };
        assert_eq!(
            err.to_string(),
            "[ext_oauth2_auth] missing introspect_endpoint, audience, client_id, client_secret, \
             mapping_user_domain_id, mapping_user_domain_name, mapping_roles"
        );
        assert_eq!(err.option, "introspect_endpoint");

        // What each method needs besides the common options.
        let common = ExtOAuth2Options {
            introspect_endpoint: Some("https://as/introspect".into()),
            audience: Some("https://as".into()),
            client_id: Some("tacker".into()),
            mapping_user_id: "client_id".into(),
            mapping_user_name: "username".into(),
            mapping_user_domain_id: Some("user.domain.id".into()),
            mapping_user_domain_name: Some("user.domain.name".into()),
            mapping_roles: Some("roles".into()),
            ..Default::default()
        };
        for (method, expected) in [
            ("client_secret_post", "client_secret"),
            ("client_secret_jwt", "client_secret, jwt_algorithm"),
            ("private_key_jwt", "jwt_algorithm, jwt_key_file"),
            ("tls_client_auth", "certfile, keyfile"),
        ] {
            let o = ExtOAuth2Options {
                auth_method: method.into(),
                ..common.clone()
            };
            let Err(err) = ExternalOAuth2::from_options(&o) else {
                panic!("{method} started without its options")
            };
            assert_eq!(
                err.to_string(),
                format!("[ext_oauth2_auth] missing {expected}"),
                "{method}"
            );
        }
        // Nothing missing: the other checks still name their option.
        let o = ExtOAuth2Options {
            auth_method: "client_secret_basic".into(),
            client_secret: Some("secret".into()),
            mapping_roles: Some("roles..x".into()),
            ..common
        };
        let Err(err) = ExternalOAuth2::from_options(&o) else {
            panic!("started with a bad mapping")
        };
        assert!(err.missing.is_empty());
        assert!(
            err.to_string().starts_with("[ext_oauth2_auth] mapping_roles: "),
            "{err}"
        );
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
    }
}
