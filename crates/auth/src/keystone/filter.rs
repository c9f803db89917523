//! keystonemiddleware's token filters as one axum middleware: `auth_token` (the
//! `X-Auth-Token` of a Keystone token, with `X-Service-Token`), and `oauth2_token` /
//! `oauth2_mtls_token` (Keystone's OAuth 2.0 access tokens as `Authorization: Bearer`,
//! the latter bound to the client certificate). Validations are cached; the identity
//! goes on to `keystonecontext` as a [`Verified`] context.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use tacker_common::PeerCertificate;

use super::identity::{ValidationError, Validator};
use super::token::TokenInfo;
use crate::cache::ExpiringCache;
use crate::context::Verified;
use crate::fault::{fault, ApiFlavor};
use crate::identity_headers::strip_identity_headers;

/// Which keystonemiddleware filter a pipeline names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `keystonemiddleware.auth_token`: `X-Auth-Token` (or `X-Storage-Token`).
    AuthToken,
    /// `keystonemiddleware.oauth2_token`: `Authorization: Bearer`.
    OAuth2,
    /// `keystonemiddleware.oauth2_mtls_token`: Bearer, bound to the client certificate.
    OAuth2Mtls,
}

/// `enforce_token_bind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindMode {
    Disabled,
    Permissive,
    Strict,
    Required,
    Named(String),
}

/// `enforce_token_bind` set to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("enforce_token_bind is empty")]
pub struct EmptyTokenBind;

impl BindMode {
    pub fn parse(value: &str) -> Result<Self, EmptyTokenBind> {
        Ok(match value {
            "disabled" => BindMode::Disabled,
            "permissive" => BindMode::Permissive,
            "strict" => BindMode::Strict,
            "required" => BindMode::Required,
            "" => return Err(EmptyTokenBind),
            other => BindMode::Named(other.to_string()),
        })
    }

    /// keystonemiddleware's `_confirm_token_bind`, for a server that can verify no bind
    /// type (kerberos needs the web server's negotiation, which tacker-rs has not).
    fn check(&self, bind: &[String]) -> Result<(), &'static str> {
        match self {
            BindMode::Disabled => Ok(()),
            _ if bind.is_empty() => match self {
                BindMode::Required | BindMode::Named(_) => Err("the token is not bound"),
                _ => Ok(()),
            },
            BindMode::Named(name) if !bind.contains(name) => Err("the token lacks the required bind"),
            _ if bind.iter().any(|b| b == "kerberos") => Err("kerberos-bound tokens cannot be verified"),
            BindMode::Permissive => Ok(()),
            _ => Err("the token's bind cannot be verified"),
        }
    }
}

/// Everything the filter needs, built once at start-up and shared by every pipeline.
pub struct KeystoneAuth {
    pub(super) validator: Validator,
    pub(super) cache: ExpiringCache<Arc<TokenInfo>>,
    pub(super) www_authenticate: HeaderValue,
    pub(super) delay_auth_decision: bool,
    pub(super) service_token_roles: Vec<String>,
    pub(super) service_token_roles_required: bool,
    pub(super) bind: BindMode,
    pub(super) service_type: Option<String>,
}

impl std::fmt::Debug for KeystoneAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneAuth")
            .field("validator", &self.validator)
            .field("cached", &self.cache.len())
            .field("delay_auth_decision", &self.delay_auth_decision)
            .finish_non_exhaustive()
    }
}

/// Why a request is not let through.
enum Refusal {
    /// No usable token: 401 with `WWW-Authenticate: Keystone uri=...`.
    Unauthorized,
    /// Keystone cannot be asked: 503.
    Unavailable,
}

/// The parts of a request the decision needs (the request's body cannot be shared
/// across the awaits of a validation).
struct Facts<'a> {
    headers: &'a HeaderMap,
    method: &'a str,
    path: &'a str,
    peer: Option<&'a PeerCertificate>,
}

/// What the filter found out about a request.
struct Decision {
    user: Option<Arc<TokenInfo>>,
    service: Option<Arc<TokenInfo>>,
    service_token_sent: bool,
}

impl Decision {
    /// The identity `keystonecontext` receives; none without a valid user token (the
    /// decision was delayed: the context filter then refuses the request).
    fn identity(&self) -> Option<Verified> {
        let user = self.user.as_ref()?;
        if !self.service_token_sent {
            return Some(user.user_identity());
        }
        // With a service token the context also names the service (`X-Service-*`).
        let mut headers = HeaderMap::new();
        user.set_user_headers(&mut headers);
        if let Some(service) = &self.service {
            service.set_service_headers(&mut headers);
        }
        Some(Verified::from_identity_headers(&headers))
    }
}

fn header_token<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| headers.get(*n))
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Keystone's thumbprint of a client certificate (what Apache hands it and
/// keystonemiddleware computes): URL-safe base64, padded, of the SHA-256 of the
/// certificate's PEM text with 64-character lines.
pub fn keystone_thumbprint(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    base64::engine::general_purpose::URL_SAFE.encode(Sha256::digest(pem.as_bytes()))
}

impl KeystoneAuth {
    fn unauthorized(&self, flavor: ApiFlavor) -> Response {
        let mut response = fault(
            flavor,
            StatusCode::UNAUTHORIZED,
            "HTTPUnauthorized",
            "The request you have made requires authentication.",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, self.www_authenticate.clone());
        response
    }

    fn unavailable(flavor: ApiFlavor) -> Response {
        fault(
            flavor,
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The Keystone service is temporarily unavailable.",
        )
    }

    /// The (cached) validation of a token. Expired tokens never come from the cache;
    /// with `allow_expired` Keystone is asked for them.
    async fn validate(&self, token: &str, allow_expired: bool) -> Result<Arc<TokenInfo>, Refusal> {
        let result = self
            .cache
            .get_or_load(token, || async {
                let info = Arc::new(self.validator.validate(token, allow_expired).await?);
                let valid_for = info.valid_for();
                Ok::<_, ValidationError>((info, Some(valid_for)))
            })
            .await;
        match result {
            Ok(info) if allow_expired || !info.is_expired() => Ok(info),
            Ok(_) => {
                tracing::info!("refused an expired token");
                Err(Refusal::Unauthorized)
            }
            Err(ValidationError::Invalid(why)) => {
                tracing::info!(reason = %why, "refused a token");
                Err(Refusal::Unauthorized)
            }
            Err(ValidationError::Unreadable(why)) => {
                tracing::info!(reason = %why, "refused a token");
                Err(Refusal::Unauthorized)
            }
            Err(ValidationError::Unavailable(why)) => {
                tracing::error!(reason = %why, "cannot validate tokens: Keystone is unavailable");
                // keystonemiddleware: with delay_auth_decision the token is invalid instead.
                Err(if self.delay_auth_decision {
                    Refusal::Unauthorized
                } else {
                    Refusal::Unavailable
                })
            }
        }
    }

    /// Checks done on every use of a user token, cached or not.
    fn check_user_token(
        &self,
        info: &TokenInfo,
        facts: &Facts<'_>,
        service_token_sent: bool,
    ) -> Result<(), Refusal> {
        info.check_access_rules(
            self.service_type.as_deref(),
            facts.method,
            facts.path,
            service_token_sent,
        )
        .map_err(|why| {
            tracing::warn!(reason = why, "refused an application credential token");
            Refusal::Unauthorized
        })?;
        if !service_token_sent {
            self.bind.check(&info.bind).map_err(|why| {
                tracing::info!(reason = why, "refused a bound token");
                Refusal::Unauthorized
            })?;
        }
        Ok(())
    }

    /// `auth_token`: the service token first (its roles decide whether an expired user
    /// token may be used), then the user token.
    async fn decide_auth_token(&self, facts: &Facts<'_>) -> Result<Decision, Refusal> {
        let headers = facts.headers;
        let service_token = header_token(headers, &["x-service-token"]).filter(|t| !t.is_empty());
        let mut service = None;
        let mut allow_expired = false;
        let mut service_valid = true;
        if let Some(token) = service_token {
            match self.validate(token, false).await {
                Ok(info) if self.bind.check(&info.bind).is_ok() => {
                    let roles_ok = info.has_any_role(&self.service_token_roles);
                    allow_expired = roles_ok;
                    service_valid = roles_ok || !self.service_token_roles_required;
                    if !roles_ok {
                        tracing::info!("a service token without a service role");
                    }
                    service = Some(info);
                }
                Ok(_) | Err(Refusal::Unauthorized) => service_valid = false,
                Err(Refusal::Unavailable) => return Err(Refusal::Unavailable),
            }
        }
        let user_token =
            header_token(headers, &["x-auth-token", "x-storage-token"]).filter(|t| !t.is_empty());
        let user = match user_token {
            None => {
                tracing::info!("request without a token");
                None
            }
            Some(token) => match self.validate(token, allow_expired).await {
                Ok(info) => match self.check_user_token(&info, facts, service_token.is_some()) {
                    Ok(()) => Some(info),
                    Err(_) => None,
                },
                Err(Refusal::Unauthorized) => None,
                Err(Refusal::Unavailable) => return Err(Refusal::Unavailable),
            },
        };
        if user.is_none() || !service_valid {
            if !self.delay_auth_decision {
                return Err(Refusal::Unauthorized);
            }
            tracing::debug!("no valid token; the decision is left to the application");
        }
        Ok(Decision {
            user,
            service: service.filter(|_| service_valid),
            service_token_sent: service_token.is_some(),
        })
    }

    /// `oauth2_token` / `oauth2_mtls_token`: a Bearer access token that Keystone issued.
    async fn decide_oauth2(&self, facts: &Facts<'_>, mtls: bool) -> Result<Decision, Refusal> {
        let peer = facts.peer;
        if mtls && peer.is_none() {
            tracing::warn!("no client certificate on this connection");
            return Err(Refusal::Unauthorized);
        }
        let Some(token) = bearer_token(facts.headers) else {
            tracing::info!("request without a Bearer token");
            return Err(Refusal::Unauthorized);
        };
        let info = self.validate(token, false).await?;
        self.check_user_token(&info, facts, false)?;
        if let Some(peer) = peer.filter(|_| mtls) {
            let Some(bound) = &info.oauth2_thumbprint else {
                tracing::info!("the token is not a certificate-bound OAuth 2.0 access token");
                return Err(Refusal::Unauthorized);
            };
            if *bound != keystone_thumbprint(peer.0.as_slice()) {
                tracing::info!("the access token is bound to another certificate");
                return Err(Refusal::Unauthorized);
            }
        }
        Ok(Decision {
            user: Some(info),
            service: None,
            service_token_sent: false,
        })
    }
}

/// The middleware; apply with
/// `from_fn(move |req, next| keystone_token(auth.clone(), source, flavor, req, next))`.
pub async fn keystone_token(
    auth: Arc<KeystoneAuth>,
    source: TokenSource,
    flavor: ApiFlavor,
    mut request: Request,
    next: Next,
) -> Response {
    strip_identity_headers(request.headers_mut());
    let peer = request.extensions().get::<PeerCertificate>().cloned();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let facts = Facts {
        headers: request.headers(),
        method: method.as_str(),
        path: &path,
        peer: peer.as_ref(),
    };
    let decision = match source {
        TokenSource::AuthToken => auth.decide_auth_token(&facts).await,
        TokenSource::OAuth2 => auth.decide_oauth2(&facts, false).await,
        TokenSource::OAuth2Mtls => auth.decide_oauth2(&facts, true).await,
    };
    let decision = match decision {
        Ok(decision) => decision,
        Err(Refusal::Unauthorized) => return auth.unauthorized(flavor),
        Err(Refusal::Unavailable) => return KeystoneAuth::unavailable(flavor),
    };
    if let Some(identity) = decision.identity() {
        request.extensions_mut().insert(identity);
    }
    let mut response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, auth.www_authenticate.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_modes() {
        let none: Vec<String> = vec![];
        let kerberos = vec!["kerberos".to_string()];
        let other = vec!["x509".to_string()];
        assert!(BindMode::Permissive.check(&none).is_ok());
        assert!(BindMode::Permissive.check(&other).is_ok());
        assert!(BindMode::Permissive.check(&kerberos).is_err());
        assert!(BindMode::Strict.check(&other).is_err());
        assert!(BindMode::Required.check(&none).is_err());
        assert!(BindMode::Disabled.check(&kerberos).is_ok());
        assert!(BindMode::Named("x509".into()).check(&kerberos).is_err());
        assert!(BindMode::parse("").is_err());
    }

    #[test]
    fn thumbprint_is_keystones() {
        // Python: base64.urlsafe_b64encode(sha256(ssl.DER_cert_to_PEM_cert(der).encode())).
        assert_eq!(
            keystone_thumbprint(&[0x30u8; 100]),
            "J0QeZJTYa2MTcQFz5Nuy2XXdhHl3w8p-1yk1dDWCo6c="
        );
    }

    #[test]
    fn tokens_come_from_their_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-storage-token", HeaderValue::from_static(" tok "));
        assert_eq!(
            header_token(&headers, &["x-auth-token", "x-storage-token"]),
            Some("tok")
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
    }
}
