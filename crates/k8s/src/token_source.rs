//! The id_token of one operation on an OIDC VIM, renewed while the operation runs: a new
//! one is obtained (the password grant again) a little before the current one expires, as
//! its `exp` says, and when the API server refuses it. It lives in the operation's client
//! only: never stored, never shared with another operation, never logged.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tacker_tls::client::OutboundTls;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::oidc::{IdToken, OidcCredentials, OidcError};

/// Renew this share of a token's lifetime before it expires, within these bounds (and at
/// most half the lifetime): early enough for clock skew and a slow IdP, late enough not to
/// ask the IdP much more often than needed.
const MARGIN_SHARE: u32 = 10;
const MIN_MARGIN: Duration = Duration::from_secs(1);
const MAX_MARGIN: Duration = Duration::from_secs(60);
/// When renewing failed and the current token still works: when to try again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where id_tokens come from.
#[async_trait]
pub(crate) trait Issuer: Send + Sync {
    async fn issue(&self) -> Result<IdToken, OidcError>;
}

/// The VIM's IdP: the password grant with its credentials, over the VIM's trust.
pub(crate) struct PasswordGrant {
    pub credentials: OidcCredentials,
    pub tls: OutboundTls,
}

#[async_trait]
impl Issuer for PasswordGrant {
    async fn issue(&self) -> Result<IdToken, OidcError> {
        self.credentials.fetch_with_tls(self.tls.clone()).await
    }
}

/// The token in use, numbered so that a refusal renews it only once.
struct Current {
    token: IdToken,
    generation: u64,
    renew_at: Option<Instant>,
    expires_at: Option<Instant>,
}

impl Current {
    fn new(token: IdToken, generation: u64) -> Current {
        let (exp, iat) = token.times();
        let (renew_in, expires_in) = schedule(exp, iat, SystemTime::now());
        let now = Instant::now();
        Current {
            token,
            generation,
            renew_at: renew_in.map(|d| now + d),
            expires_at: expires_in.map(|d| now + d),
        }
    }

    fn still_valid(&self) -> bool {
        self.expires_at.is_none_or(|at| Instant::now() < at)
    }
}

/// How long from `now` until a token with `exp` and `iat` is to be renewed, and until it
/// expires (`None`: it does not say; then only a refusal renews it).
fn schedule(
    exp: Option<SystemTime>,
    iat: Option<SystemTime>,
    now: SystemTime,
) -> (Option<Duration>, Option<Duration>) {
    let Some(exp) = exp else {
        return (None, None);
    };
    let left = exp.duration_since(now).unwrap_or_default();
    let lifetime = exp
        .duration_since(iat.filter(|iat| *iat <= now).unwrap_or(now))
        .unwrap_or_default();
    let margin = (lifetime / MARGIN_SHARE)
        .clamp(MIN_MARGIN, MAX_MARGIN)
        .min(lifetime / 2);
    (Some(left.saturating_sub(margin)), Some(left))
}

/// The operation's id_token; requests take turns to renew it.
pub(crate) struct TokenSource {
    issuer: Box<dyn Issuer>,
    current: Mutex<Current>,
}

impl TokenSource {
    /// Obtains the operation's first token.
    pub async fn start(issuer: Box<dyn Issuer>) -> Result<TokenSource, OidcError> {
        let token = issuer.issue().await?;
        Ok(TokenSource {
            issuer,
            current: Mutex::new(Current::new(token, 0)),
        })
    }

    /// The token to send now (renewed first when it is about to expire) and its generation.
    pub async fn token(&self) -> Result<(IdToken, u64), OidcError> {
        let mut current = self.current.lock().await;
        if current.renew_at.is_some_and(|at| Instant::now() >= at) {
            match self.issuer.issue().await {
                Ok(token) => {
                    *current = Current::new(token, current.generation + 1);
                    tracing::debug!(
                        generation = current.generation,
                        "renewed the id_token before it expires"
                    );
                }
                Err(error) if current.still_valid() => {
                    tracing::warn!(%error, "renewing the id_token failed; the current one is still valid");
                    current.renew_at = Some(Instant::now() + RETRY_AFTER);
                }
                Err(error) => return Err(error),
            }
        }
        Ok((current.token.clone(), current.generation))
    }

    /// A new token after the API server refused the one of `refused`, unless another
    /// request has renewed it meanwhile.
    pub async fn renew(&self, refused: u64) -> Result<(IdToken, u64), OidcError> {
        let mut current = self.current.lock().await;
        if current.generation == refused {
            *current = Current::new(self.issuer.issue().await?, refused + 1);
            tracing::debug!(
                generation = current.generation,
                "renewed the id_token the API server refused"
            );
        }
        Ok((current.token.clone(), current.generation))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::UNIX_EPOCH;

    use base64::Engine;
    use serde_json::json;

    use super::*;

    /// Issues unsigned JWTs numbered from 1, valid for `lifetime` seconds since `age`
    /// seconds ago; counts them.
    pub(crate) struct Counting {
        pub issued: Arc<AtomicU64>,
        pub lifetime: u64,
        pub age: u64,
    }

    pub(crate) fn jwt(claims: serde_json::Value) -> IdToken {
        let b64 =
            |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        IdToken::from_secret(format!("{}.{}.sig", b64(&json!({"alg": "RS256"})), b64(&claims)))
    }

    #[async_trait]
    impl Issuer for Counting {
        async fn issue(&self) -> Result<IdToken, OidcError> {
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
            let iat = now - self.age;
            Ok(jwt(json!({"n": n, "iat": iat, "exp": iat + self.lifetime})))
        }
    }

    fn at(seconds: u64) -> Option<SystemTime> {
        Some(UNIX_EPOCH + Duration::from_secs(seconds))
    }

    #[test]
    fn renewal_comes_a_tenth_of_the_lifetime_before_expiry_within_bounds() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        let secs = |(renew, expire): (Option<Duration>, Option<Duration>)| {
            (renew.map(|d| d.as_secs_f64()), expire.map(|d| d.as_secs_f64()))
        };
        // 5 s tokens: one second early (the lower bound).
        assert_eq!(secs(schedule(at(1005), at(1000), now)), (Some(4.0), Some(5.0)));
        // 300 s tokens: 30 s early; an hour: 60 s early (the upper bound).
        assert_eq!(
            secs(schedule(at(1300), at(1000), now)),
            (Some(270.0), Some(300.0))
        );
        assert_eq!(
            secs(schedule(at(4600), at(1000), now)),
            (Some(3540.0), Some(3600.0))
        );
        // Very short tokens: at half their lifetime.
        assert_eq!(secs(schedule(at(1001), at(1000), now)), (Some(0.5), Some(1.0)));
        // Half of a 20 s token is gone: renewed 2 s before its end, 8 s from now.
        assert_eq!(secs(schedule(at(1010), at(990), now)), (Some(8.0), Some(10.0)));
        // No iat: the lifetime counts from now; no exp: never renewed on time.
        assert_eq!(secs(schedule(at(1100), None, now)), (Some(90.0), Some(100.0)));
        assert_eq!(schedule(None, at(1000), now), (None, None));
        // Expired already: renewed at once.
        assert_eq!(secs(schedule(at(900), at(800), now)), (Some(0.0), Some(0.0)));
    }

    #[test]
    fn times_come_from_the_unverified_payload() {
        let token = jwt(json!({"exp": 1005, "iat": 1000.5}));
        assert_eq!(
            token.times(),
            (at(1005), Some(UNIX_EPOCH + Duration::from_secs_f64(1000.5)))
        );
        let odd = jwt(json!({"exp": "soon", "iat": -1}));
        assert_eq!(odd.times(), (None, None));
        assert_eq!(IdToken::from_secret("opaque".into()).times(), (None, None));
    }

    #[tokio::test]
    async fn a_token_is_renewed_when_due_and_once_per_refusal() {
        let issued = Arc::new(AtomicU64::new(0));
        let fresh = Counting {
            issued: issued.clone(),
            lifetime: 600,
            age: 0,
        };
        let source = TokenSource::start(Box::new(fresh)).await.unwrap();
        let (first, generation) = source.token().await.unwrap();
        assert_eq!(source.token().await.unwrap(), (first.clone(), generation));
        assert_eq!(issued.load(Ordering::SeqCst), 1, "a fresh token is kept");

        let (second, renewed) = source.renew(generation).await.unwrap();
        assert_ne!(second, first);
        // Another request refused with the old token meanwhile: no second renewal.
        assert_eq!(source.renew(generation).await.unwrap(), (second, renewed));
        assert_eq!(issued.load(Ordering::SeqCst), 2);

        // Tokens 595 s into their 600 s: every use renews.
        let old = Counting {
            issued: issued.clone(),
            lifetime: 600,
            age: 595,
        };
        let source = TokenSource::start(Box::new(old)).await.unwrap();
        let (a, _) = source.token().await.unwrap();
        let (b, _) = source.token().await.unwrap();
        assert_ne!(a, b);
        assert_eq!(issued.load(Ordering::SeqCst), 5);
    }
}
