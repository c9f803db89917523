//! The id_token source against the real test IdP (oidc-provider's password grant).

use tacker_k8s::OidcCredentials;
use tacker_testkit::idp::{idp, CLIENT_SECRET};

fn credentials(password: &str, secret: &str) -> OidcCredentials {
    OidcCredentials {
        token_url: idp().token_endpoint.clone(),
        username: "alice".into(),
        password: password.into(),
        client_id: "carol".into(),
        client_secret: Some(secret.into()),
    }
}

fn ca() -> Vec<u8> {
    idp().ca_pem.clone().into_bytes()
}

#[tokio::test]
async fn a_fresh_id_token_for_the_right_user() {
    let first = credentials("alice-password", CLIENT_SECRET)
        .fetch(Some(&ca()))
        .await
        .unwrap();
    let second = credentials("alice-password", CLIENT_SECRET)
        .fetch(Some(&ca()))
        .await
        .unwrap();
    assert_ne!(first, second, "every fetch is a new token");
    let payload = first.secret().split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "carol");
    assert_eq!(claims["iss"], idp().issuer.as_str());
    assert_eq!(format!("{first:?}"), "IdToken(***)");
}

#[tokio::test]
async fn failures_name_the_idp_answer_not_the_secrets() {
    let err = credentials("wrong-password", CLIENT_SECRET)
        .fetch(Some(&ca()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "OIDC authentication and authorization failed. Detail: response code: 400, invalid_grant"
        ),
        "{err}"
    );
    assert!(!err.contains("wrong-password"));
    let err = credentials("alice-password", "not-the-secret")
        .fetch(Some(&ca()))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("response code: 401, invalid_client"), "{err}");
    assert!(!err.contains("not-the-secret"));

    // The system roots do not trust the test CA: verification is never switched off.
    let err = credentials("alice-password", CLIENT_SECRET)
        .fetch(None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("certificate") || err.contains("UnknownIssuer"),
        "{err}"
    );

    let mut missing = credentials("alice-password", CLIENT_SECRET);
    missing.client_id.clear();
    assert!(missing
        .fetch(Some(&ca()))
        .await
        .unwrap_err()
        .to_string()
        .ends_with("can not be empty."));

    let mut down = credentials("alice-password", CLIENT_SECRET);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    down.token_url = format!("https://{closed}/token");
    let err = down.fetch(Some(&ca())).await.unwrap_err().to_string();
    assert!(err.contains("could not connect"), "{err}");
}
