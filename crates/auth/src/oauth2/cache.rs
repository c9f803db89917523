//! Introspection results by token: bounded, expiring after `token_cache_time` or at the
//! token's `exp`, whichever comes first, and one introspection call for concurrent
//! requests with the same token. Keys are SHA-256 digests, so tokens are not kept.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::introspect::{IntrospectError, Introspection, Introspector};
use crate::cache::ExpiringCache;

/// The cache in front of an [`Introspector`].
#[derive(Clone)]
pub struct TokenCache {
    introspector: Introspector,
    cache: ExpiringCache<Arc<Introspection>>,
}

impl TokenCache {
    /// `ttl_seconds` <= 0 disables caching (keystonemiddleware's -1).
    pub fn new(introspector: Introspector, ttl_seconds: i64, max_entries: u64) -> Self {
        TokenCache {
            introspector,
            cache: ExpiringCache::new(ttl_seconds, max_entries),
        }
    }

    /// The (possibly cached) introspection of `token`.
    pub async fn introspect(&self, token: &str) -> Result<Arc<Introspection>, Arc<IntrospectError>> {
        self.cache
            .get_or_load(token, || async {
                let introspection = Arc::new(self.introspector.introspect(token).await.map_err(Arc::new)?);
                let valid_for = until_exp(&introspection);
                Ok((introspection, valid_for))
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
