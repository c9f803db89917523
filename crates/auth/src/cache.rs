//! The validation cache both token filters use: bounded (quick_cache), keyed by the
//! SHA-256 of the token (tokens themselves are not kept), each entry expiring after the
//! configured time or when the token itself expires, whichever comes first, and one
//! load for concurrent requests with the same token. Failures are not cached.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

type Key = [u8; 32];

#[derive(Clone)]
struct Entry<V> {
    value: V,
    expires: Instant,
}

/// Values by token, each valid until its own deadline.
#[derive(Clone)]
pub struct ExpiringCache<V: Clone> {
    ttl: Duration,
    cache: Option<Arc<Cache<Key, Entry<V>>>>,
}

impl<V: Clone + Send + Sync + 'static> ExpiringCache<V> {
    /// `ttl_seconds` <= 0 disables caching (keystonemiddleware's -1).
    pub fn new(ttl_seconds: i64, max_entries: u64) -> Self {
        ExpiringCache {
            ttl: Duration::from_secs(ttl_seconds.max(0) as u64),
            cache: (ttl_seconds > 0).then(|| Arc::new(Cache::new(max_entries.max(1) as usize))),
        }
    }

    /// The cached value for `token`, or the one `load` gives. `load` returns the value
    /// and how long the token itself stays valid (`None`: no limit of its own); a value
    /// whose token is already expired is returned but not kept.
    pub async fn get_or_load<E, F, Fut>(&self, token: &str, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(V, Option<Duration>), E>>,
    {
        let Some(cache) = &self.cache else {
            return load().await.map(|(value, _)| value);
        };
        let key: Key = Sha256::digest(token.as_bytes()).into();
        let mut load = Some(load);
        loop {
            let now = Instant::now();
            match cache.get_value_or_guard_async(&key).await {
                Ok(entry) if entry.expires > now => return Ok(entry.value),
                Ok(_) => {
                    cache.remove_if(&key, |e| e.expires <= now);
                }
                // This caller loads; concurrent callers for the token wait for it. On
                // failure the guard is dropped and nothing is cached.
                Err(guard) => {
                    let Some(load) = load.take() else {
                        // Unreachable: a guard is handed out once per call at most, as
                        // the loop only repeats after removing an expired entry.
                        continue;
                    };
                    let (value, valid_for) = load().await?;
                    let lifetime = valid_for.map_or(self.ttl, |d| d.min(self.ttl));
                    if !lifetime.is_zero() {
                        let _ = guard.insert(Entry {
                            value: value.clone(),
                            expires: now + lifetime,
                        });
                    }
                    return Ok(value);
                }
            }
        }
    }

    /// How many validations are kept (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn reuses_until_the_shorter_of_ttl_and_token_life() {
        let cache = ExpiringCache::<u32>::new(300, 10);
        let loads = AtomicUsize::new(0);
        let load = |valid: Option<Duration>| {
            loads.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, ()>((7, valid)) }
        };
        assert_eq!(cache.get_or_load("a", || load(None)).await, Ok(7));
        assert_eq!(cache.get_or_load("a", || load(None)).await, Ok(7));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // A token that expires in 50 ms is not reused after that.
        cache
            .get_or_load("b", || load(Some(Duration::from_millis(50))))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        cache
            .get_or_load("b", || load(Some(Duration::from_millis(50))))
            .await
            .unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 3);
        // An expired token is not kept at all; failures are not kept.
        cache
            .get_or_load("c", || load(Some(Duration::ZERO)))
            .await
            .unwrap();
        assert_eq!(cache.len(), 2);
        let failed: Result<u32, &str> = cache.get_or_load("d", || async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        assert_eq!(cache.len(), 2);
    }

    #[tokio::test]
    async fn disabled_and_bounded() {
        let off = ExpiringCache::<u32>::new(-1, 10);
        off.get_or_load("a", || async { Ok::<_, ()>((1, None)) })
            .await
            .unwrap();
        assert!(off.is_empty());
        let small = ExpiringCache::<u32>::new(300, 4);
        for i in 0..100u32 {
            small
                .get_or_load(&i.to_string(), || async move { Ok::<_, ()>((i, None)) })
                .await
                .unwrap();
        }
        assert!(small.len() <= 4, "{}", small.len());
    }
}
