//! OAuth2 subscribers against the real test authorization server (oidc-provider): client
//! credentials with a secret, and RFC 8705 certificate-bound tokens over mutual TLS.

use std::sync::Arc;

use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use tacker_notify::{
    DeliveryError, DeliveryWorker, NotificationSettings, Notifier, Sender, Subscriber, SubscriptionApi,
    SubscriptionAuth,
};
use tacker_testkit::backend_tests;
use tacker_testkit::idp::{idp, tacker_client_id, CLIENT_SECRET};
use tacker_testkit::pki::TestCa;

use crate::helpers::{fast_settings, with_env, Env, Receiver};

fn idp_settings() -> NotificationSettings {
    NotificationSettings {
        ca_pem: Some(std::fs::read(&idp().ca_file).unwrap()),
        ..fast_settings()
    }
}

fn client_credentials(client_id: &str, password: &str) -> serde_json::Value {
    json!({"authType": ["OAUTH2_CLIENT_CREDENTIALS"], "paramsOauth2ClientCredentials": {
        "clientId": client_id, "clientPassword": password, "tokenEndpoint": idp().token_endpoint}})
}

backend_tests!(
    client_credentials_tokens_are_fetched_cached_and_renewed => client_credentials_flow,
    setup = with_env
);
async fn client_credentials_flow(env: Env) {
    let idp = idp();
    let client_id = tacker_client_id("client_secret_basic");
    let receiver = Receiver::http().await;
    let subscription = env
        .subscribe(
            &receiver.callback("/cb"),
            "2",
            Some(client_credentials(&client_id, CLIENT_SECRET)),
        )
        .await;
    let settings = idp_settings();
    let sender = Arc::new(Sender::new(&settings).unwrap());
    let worker = DeliveryWorker::new(env.db.clone(), env.vault.clone(), sender, settings, "worker-1");

    env.enqueue(&subscription, &[json!({"id": "n1"}), json!({"id": "n2"})])
        .await;
    assert_eq!(worker.run_once().await.unwrap(), 2);
    assert!(env.pending().await.is_empty());
    let received = receiver.delivered();
    assert_eq!(received.len(), 2);
    let token = received[0].bearer().unwrap().to_string();
    assert_eq!(received[1].bearer(), Some(token.as_str()), "the token is reused");
    let introspection = idp.introspect(&token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["client_id"], client_id.as_str());

    // The subscriber stops accepting the cached token: a new one is fetched at once.
    receiver.refuse_next(1);
    env.enqueue(&subscription, &[json!({"id": "n3"})]).await;
    assert_eq!(worker.run_once().await.unwrap(), 1);
    assert!(env.pending().await.is_empty(), "delivered in the same round");
    let received = receiver.received();
    let (refused, accepted) = (&received[2], &received[3]);
    assert_eq!((refused.status, accepted.status), (401, 204));
    assert_eq!(refused.bearer(), Some(token.as_str()));
    let renewed = accepted.bearer().unwrap();
    assert_ne!(renewed, token);
    assert_eq!(idp.introspect(renewed).await["active"], true);
    assert_eq!(accepted.json()["id"], "n3");

    // Another subscription naming the same client with a wrong password gets no token,
    // and the cached one is not handed to it.
    let wrong_password = "not-the-secret-0123";
    let intruder = env
        .subscribe(
            &receiver.callback("/intruder"),
            "2",
            Some(client_credentials(&client_id, wrong_password)),
        )
        .await;
    env.enqueue(&intruder, &[json!({"id": "n4"})]).await;
    assert_eq!(worker.run_once().await.unwrap(), 1);
    assert_eq!(receiver.received().len(), 4, "nothing sent to the intruder");
    let pending = env.pending().await;
    let error = pending[0].last_error.clone().unwrap();
    assert!(
        error.starts_with(&format!("token endpoint {}", idp.token_endpoint)),
        "{error}"
    );
    assert!(error.contains("HTTP 401: invalid_client"), "{error}");
    assert!(
        !error.contains(wrong_password) && !error.contains(&token),
        "{error}"
    );
}

fn thumbprint(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_cert_tokens_are_bound_to_the_mtls_identity() {
    let idp = idp();
    // The subscriber: HTTPS from its own CA, requiring client certificates of the IdP's
    // client CA (which issued the mtls-user identity).
    let subscriber_ca = TestCa::new("subscriber CA");
    let receiver = Receiver::https(&subscriber_ca.server(), Some(&idp.client_ca.cert_pem)).await;
    let mut trust = std::fs::read(&idp.ca_file).unwrap();
    trust.extend_from_slice(subscriber_ca.cert_pem.as_bytes());
    let settings = NotificationSettings {
        ca_pem: Some(trust),
        client_identity_pem: Some(idp.user_identity_pem.clone()),
        ..fast_settings()
    };
    let auth = SubscriptionAuth::parse(
        &json!({"authType": ["OAUTH2_CLIENT_CERT"], "paramsOauth2ClientCert": {
        "clientId": "mtls-user",
        "certificateRef": {"type": "x5t#S256", "value": thumbprint(&idp.user_cert_der)},
        "tokenEndpoint": idp.token_endpoint}}),
    )
    .unwrap();
    let to = Subscriber::new(&receiver.callback("/cb"), SubscriptionApi::LcmV2, Some(auth)).unwrap();

    let sender = Sender::new(&settings).unwrap();
    sender.test_callback(&to).await.unwrap();
    sender.notify(&to, r#"{"id":"n1"}"#).await.unwrap();

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].method, "GET");
    assert_eq!(received[1].method, "POST");
    for r in &received {
        assert_eq!(r.peer_cert.as_deref(), Some(idp.user_cert_der.as_slice()));
    }
    let token = received[1].bearer().unwrap();
    assert_eq!(received[0].bearer(), Some(token));
    let introspection = idp.introspect(token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["client_id"], "mtls-user");
    assert_eq!(
        introspection["cnf"]["x5t#S256"],
        thumbprint(&idp.user_cert_der).as_str(),
        "the token is bound to the certificate the notification came with: {introspection}"
    );

    // Without a configured client certificate the subscription cannot be served.
    let plain = Sender::new(&NotificationSettings {
        client_identity_pem: None,
        ..settings.clone()
    })
    .unwrap();
    let error = plain.notify(&to, "{}").await.unwrap_err();
    assert!(matches!(error, DeliveryError::Authentication(_)), "{error}");
    assert!(error.to_string().contains("client certificate"), "{error}");
}

/// A local token endpoint that records its requests and issues `tok-<n>` tokens living
/// one second (`expires_in` as a string, as some servers send it).
async fn local_token_endpoint() -> (
    String,
    Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
) {
    use axum::http::HeaderMap;
    let log: Arc<std::sync::Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let seen = log.clone();
    let router = axum::Router::new().route(
        "/token",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push((headers, body));
                axum::Json(
                    json!({"access_token": format!("tok-{}", seen.len()), "token_type": "bearer",
                                  "expires_in": "1"}),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, log)
}

#[tokio::test]
async fn token_requests_follow_rfc6749_and_tokens_are_renewed_on_expiry() {
    let (token_endpoint, token_log) = local_token_endpoint().await;
    let receiver = Receiver::http().await;
    let auth = SubscriptionAuth::parse(&json!({"authType": ["OAUTH2_CLIENT_CREDENTIALS"],
        "paramsOauth2ClientCredentials": {"clientId": "nfvo", "clientPassword": "s3cret",
            "tokenEndpoint": token_endpoint}}))
    .unwrap();
    let to = Subscriber::new(&receiver.callback("/cb"), SubscriptionApi::LcmV1, Some(auth)).unwrap();
    let sender = Sender::new(&fast_settings()).unwrap();

    sender.notify(&to, "{}").await.unwrap();
    sender.notify(&to, "{}").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    sender.notify(&to, "{}").await.unwrap();

    let bearers: Vec<_> = receiver
        .received()
        .iter()
        .map(|r| r.bearer().unwrap().to_string())
        .collect();
    assert_eq!(bearers, ["tok-1", "tok-1", "tok-2"]);
    assert!(receiver
        .received()
        .iter()
        .all(|r| r.header("version") == Some("1.3.0")));

    let requests = token_log.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let (headers, body) = &requests[0];
    let basic = base64::engine::general_purpose::STANDARD.encode("nfvo:s3cret");
    assert_eq!(headers["authorization"], format!("Basic {basic}").as_str());
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(body, "grant_type=client_credentials");
}
