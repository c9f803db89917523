#![allow(clippy::unwrap_used)]
//! The token cache in front of a counting introspection endpoint: concurrent requests for
//! one token share one call, results are reused until the TTL, and failures are not cached.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::json;
use tacker_auth::oauth2::{ClientAuth, Introspector, TokenCache};
use tacker_common::ExtOAuth2Options;

/// A minimal RFC 7662 endpoint: `good` is active (after a short delay, so that concurrent
/// callers overlap), `down` answers 500; it counts the calls.
async fn endpoint(calls: Arc<AtomicUsize>) -> String {
    let app = Router::new().route(
        "/introspect",
        post(move |Form(form): Form<Vec<(String, String)>>| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                let token = form
                    .iter()
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                match token.as_str() {
                    "good" => Ok(Json(json!({"active": true, "exp": 4_102_444_800_i64}))),
                    "down" => Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
                    _ => Ok(Json(json!({"active": false}))),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/introspect")
}

fn cache(url: String, ttl: i64) -> TokenCache {
    let options = ExtOAuth2Options {
        client_id: Some("tacker".into()),
        client_secret: Some("secret".into()),
        auth_method: "client_secret_basic".into(),
        ..Default::default()
    };
    let auth = ClientAuth::from_options(&options, "aud").unwrap();
    TokenCache::new(Introspector::new(reqwest::Client::new(), url, auth), ttl, 100)
}

#[tokio::test]
async fn concurrent_requests_share_one_introspection() {
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = Arc::new(cache(endpoint(calls.clone()).await, 300));
    let lookups: Vec<_> = (0..20)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.introspect("good").await.unwrap().active })
        })
        .collect();
    for lookup in lookups {
        assert!(lookup.await.unwrap());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Inactive answers are cached as well (a negative cache).
    assert!(!cache.introspect("revoked").await.unwrap().active);
    assert!(!cache.introspect("revoked").await.unwrap().active);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn entries_expire_after_the_ttl_and_failures_are_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = cache(endpoint(calls.clone()).await, 1);
    cache.introspect("good").await.unwrap();
    cache.introspect("good").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    cache.introspect("good").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    assert!(cache.introspect("down").await.is_err());
    assert!(cache.introspect("down").await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 4, "an outage is not remembered");
}

#[tokio::test]
async fn no_cache_means_one_call_per_request() {
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = cache(endpoint(calls.clone()).await, -1);
    cache.introspect("good").await.unwrap();
    cache.introspect("good").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
