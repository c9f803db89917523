//! OIDC rules checked with the mini issuer: allowed algorithms, key rotation (re-fetch
//! on an unknown kid), exp without leeway, nbf with leeway, audiences, discovery issuer
//! mismatch and an issuer that is unreachable at first.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tacker_fake_kube::{FakeKube, FakeKubeConfig, OidcConfig};

use crate::support::issuer::{tls, Issuer, SigningKey};
use crate::support::{eventually, Kube};

async fn fake_for(issuer: &Issuer, oidc: impl FnOnce(OidcConfig) -> OidcConfig) -> FakeKube {
    let config = oidc(
        OidcConfig::new(&issuer.url, "kube")
            .ca_pem(&issuer.ca_pem)
            .signing_algs(["ES256"]),
    );
    FakeKube::start(FakeKubeConfig::default().with_oidc(config))
        .await
        .unwrap()
}

async fn status(kube: &FakeKube, token: &str) -> StatusCode {
    Kube::with_token(kube, token)
        .get("/api/v1/namespaces/default/pods")
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn algorithms_rotation_and_times() {
    let key1 = SigningKey::generate("k1");
    let key2 = SigningKey::generate("k2");
    let issuer = Issuer::start(&[&key1]);
    let kube = fake_for(&issuer, |c| c).await;
    let ok = key1.sign(&issuer.claims("kube", json!({})));
    assert_eq!(status(&kube, &ok).await, StatusCode::OK);

    let rs256_only = fake_for(&issuer, |c| c.signing_algs(["RS256"])).await;
    assert_eq!(
        status(&rs256_only, &ok).await,
        StatusCode::UNAUTHORIZED,
        "ES256 not in --oidc-signing-algs"
    );

    let rotated = key2.sign(&issuer.claims("kube", json!({})));
    assert_eq!(
        status(&kube, &rotated).await,
        StatusCode::UNAUTHORIZED,
        "k2 not published yet"
    );
    issuer.publish(&[&key1, &key2]);
    assert_eq!(
        status(&kube, &rotated).await,
        StatusCode::OK,
        "unknown kid re-fetches the JWKS"
    );

    let now = chrono::Utc::now().timestamp();
    let expired = key1.sign(&issuer.claims("kube", json!({"exp": now - 1})));
    assert_eq!(
        status(&kube, &expired).await,
        StatusCode::UNAUTHORIZED,
        "exp has no leeway"
    );
    let no_exp = key1.sign(&json!({"iss": issuer.url, "aud": "kube", "sub": "x"}));
    assert_eq!(status(&kube, &no_exp).await, StatusCode::UNAUTHORIZED);
    let nbf_soon = key1.sign(&issuer.claims("kube", json!({"nbf": now + 60})));
    assert_eq!(
        status(&kube, &nbf_soon).await,
        StatusCode::OK,
        "nbf within the leeway"
    );
    let nbf_later = key1.sign(&issuer.claims("kube", json!({"nbf": now + 600})));
    assert_eq!(status(&kube, &nbf_later).await, StatusCode::UNAUTHORIZED);

    let aud_list = key1.sign(&issuer.claims("kube", json!({"aud": ["other", "kube"]})));
    assert_eq!(status(&kube, &aud_list).await, StatusCode::OK);
    let aud_other = key1.sign(&issuer.claims("other", json!({})));
    assert_eq!(status(&kube, &aud_other).await, StatusCode::UNAUTHORIZED);
    let no_sub = key1.sign(&json!({"iss": issuer.url, "aud": "kube", "exp": now + 60}));
    assert_eq!(
        status(&kube, &no_sub).await,
        StatusCode::UNAUTHORIZED,
        "username claim missing"
    );
    let users: Vec<_> = kube.audit().into_iter().filter_map(|e| e.user).collect();
    assert!(
        users.iter().all(|u| u == &format!("{}#user-1", issuer.url)),
        "{users:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_must_name_the_issuer() {
    let key = SigningKey::generate("k");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let liar = Issuer::start_on(listener, tls(), &[&key], Some("https://elsewhere.example"));
    let kube = fake_for(&liar, |c| c).await;
    assert!(!kube.oidc_initialized());
    let token = key.sign(&liar.claims("kube", json!({})));
    assert_eq!(status(&kube, &token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_issuer_gives_401_until_a_retry_finds_it() {
    let key = SigningKey::generate("k");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}");
    let (ca_pem, server_tls) = tls();
    let config = OidcConfig::new(&url, "kube")
        .ca_pem(&ca_pem)
        .signing_algs(["ES256"])
        .retry_interval(Duration::from_millis(100));
    let kube = FakeKube::start(FakeKubeConfig::default().with_oidc(config))
        .await
        .unwrap();
    assert!(!kube.oidc_initialized());
    let claims =
        json!({"iss": url, "aud": "kube", "sub": "late", "exp": chrono::Utc::now().timestamp() + 60});
    let token = key.sign(&claims);
    assert_eq!(
        status(&kube, &token).await,
        StatusCode::UNAUTHORIZED,
        "not initialised"
    );

    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let _issuer = Issuer::start_on(listener, (ca_pem, server_tls), &[&key], None);
    eventually(10, "OIDC initialised by a retry", || async {
        kube.oidc_initialized().then_some(())
    })
    .await;
    assert_eq!(status(&kube, &token).await, StatusCode::OK);
}
