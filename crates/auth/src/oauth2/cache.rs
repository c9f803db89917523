//! Introspection results by token: bounded, expiring after `token_cache_time` or at the
//! token's `exp`, whichever comes first, and one introspection call for concurrent
//! requests with the same token. Keys are SHA-256 digests, so tokens are not kept.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::introspect::{IntrospectError, Introspection, Introspector};
use crate::cache::ExpiringCache;

/// Turns an introspection into what the cache keeps for its token.
type Admit<V> = Arc<dyn Fn(Introspection) -> V + Send + Sync>;

/// The cache in front of an [`Introspector`]. It keeps introspections as they are, or what
/// `admit` works out from each (the filter keeps its decision, so that a warm request does
/// not map the claims again).
#[derive(Clone)]
pub struct TokenCache<V = Introspection> {
    introspector: Introspector,
    admit: Admit<V>,
    cache: ExpiringCache<Arc<V>>,
}

impl TokenCache {
    /// `ttl_seconds` <= 0 disables caching (keystonemiddleware's -1).
    pub fn new(introspector: Introspector, ttl_seconds: i64, max_entries: u64) -> Self {
        TokenCache::admitting(introspector, ttl_seconds, max_entries, |introspection| {
            introspection
        })
    }
}

impl<V: Send + Sync + 'static> TokenCache<V> {
    /// A cache that keeps `admit(introspection)` for each token.
    pub fn admitting(
        introspector: Introspector,
        ttl_seconds: i64,
        max_entries: u64,
        admit: impl Fn(Introspection) -> V + Send + Sync + 'static,
    ) -> Self {
        TokenCache {
            introspector,
            admit: Arc::new(admit),
            cache: ExpiringCache::new(ttl_seconds, max_entries),
        }
    }

    /// What is kept for `token`, introspecting it when nothing (current) is.
    pub async fn introspect(&self, token: &str) -> Result<Arc<V>, Arc<IntrospectError>> {
        self.cache
            .get_or_load(token, || async {
                let introspection = self.introspector.introspect(token).await.map_err(Arc::new)?;
                let valid_for = until_exp(&introspection);
                Ok((Arc::new((self.admit)(introspection)), valid_for))
            })
            .await
    }
}

/// The time left until the token's own `exp`, when it has one.
fn until_exp(introspection: &Introspection) -> Option<Duration> {
    introspection.exp().map(|exp| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Duration::from_secs(exp.saturating_sub(now).max(0) as u64)
    })
}
