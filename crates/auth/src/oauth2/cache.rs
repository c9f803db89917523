//! Introspection results by token: bounded, expiring after `token_cache_time` or at the
//! token's `exp`, whichever comes first, and one introspection call for concurrent
//! requests with the same token. Keys are SHA-256 digests, so tokens are not kept.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use super::introspect::{IntrospectError, Introspection, Introspector};

type Key = [u8; 32];

#[derive(Clone)]
struct Entry {
    introspection: Arc<Introspection>,
    expires: Instant,
}

/// The cache in front of an [`Introspector`].
#[derive(Clone)]
pub struct TokenCache {
    introspector: Introspector,
    ttl: Duration,
    cache: Option<Arc<Cache<Key, Entry>>>,
}

impl TokenCache {
    /// `ttl_seconds` <= 0 disables caching (keystonemiddleware's -1).
    pub fn new(introspector: Introspector, ttl_seconds: i64, max_entries: u64) -> Self {
        TokenCache {
            introspector,
            ttl: Duration::from_secs(ttl_seconds.max(0) as u64),
            cache: (ttl_seconds > 0).then(|| Arc::new(Cache::new(max_entries as usize))),
        }
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
        loop {
            let now = Instant::now();
            match cache.get_value_or_guard_async(&key).await {
                Ok(entry) if entry.expires > now => return Ok(entry.introspection),
                Ok(_) => {
                    cache.remove_if(&key, |e| e.expires <= now);
                }
                // This caller introspects; concurrent callers for the token wait for it.
                // On failure the guard is dropped and nothing is cached.
                Err(guard) => {
                    let introspection =
                        Arc::new(self.introspector.introspect(token).await.map_err(Arc::new)?);
                    let _ = guard.insert(Entry {
                        expires: now + self.lifetime(&introspection),
                        introspection: introspection.clone(),
                    });
                    return Ok(introspection);
                }
            }
        }
    }

    /// `token_cache_time`, cut short by the token's own `exp`.
    fn lifetime(&self, introspection: &Introspection) -> Duration {
        let until_exp = introspection.exp().map(|exp| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Duration::from_secs(exp.saturating_sub(now).max(0) as u64)
        });
        until_exp.map_or(self.ttl, |d| d.min(self.ttl))
    }
}
