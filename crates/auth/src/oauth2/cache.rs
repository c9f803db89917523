//! Introspection results by token: bounded, expiring after `token_cache_time` or at the
//! token's `exp`, whichever comes first, and one introspection call for concurrent
//! requests with the same token. Keys are SHA-256 digests, so tokens are not kept.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moka::future::Cache;
use sha2::{Digest, Sha256};

use super::introspect::{IntrospectError, Introspection, Introspector};

type Key = [u8; 32];

struct ExpireAtTokenExp {
    ttl: Duration,
}

impl moka::Expiry<Key, Arc<Introspection>> for ExpireAtTokenExp {
    fn expire_after_create(&self, _key: &Key, value: &Arc<Introspection>, _now: Instant) -> Option<Duration> {
        let until_exp = value.exp().map(|exp| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Duration::from_secs(exp.saturating_sub(now).max(0) as u64)
        });
        Some(until_exp.map_or(self.ttl, |d| d.min(self.ttl)))
    }
}

/// The cache in front of an [`Introspector`].
#[derive(Clone)]
pub struct TokenCache {
    introspector: Introspector,
    cache: Option<Cache<Key, Arc<Introspection>>>,
}

impl TokenCache {
    /// `ttl_seconds` <= 0 disables caching (keystonemiddleware's -1).
    pub fn new(introspector: Introspector, ttl_seconds: i64, max_entries: u64) -> Self {
        let cache = (ttl_seconds > 0).then(|| {
            Cache::builder()
                .max_capacity(max_entries)
                .expire_after(ExpireAtTokenExp {
                    ttl: Duration::from_secs(ttl_seconds as u64),
                })
                .build()
        });
        TokenCache { introspector, cache }
    }

    /// The (possibly cached) introspection of `token`.
    pub async fn introspect(&self, token: &str) -> Result<Arc<Introspection>, Arc<IntrospectError>> {
        let Some(cache) = &self.cache else {
            return self
                .introspector
                .introspect(token)
                .await
                .map(Arc::new)
                .map_err(Arc::new);
        };
        let key: Key = Sha256::digest(token.as_bytes()).into();
        cache
            .try_get_with(key, async {
                self.introspector.introspect(token).await.map(Arc::new)
            })
            .await
    }
}
