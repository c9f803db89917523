//! OIDC with real id_tokens from the test IdP's password grant, configured as in Tacker's
//! guide (`--oidc-username-claim=name --oidc-username-prefix=-`), and the negative cases.

use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tacker_fake_kube::{sha256_hex, Authorization, FakeKube, FakeKubeConfig, OidcConfig, Rbac};
use tacker_testkit::idp::idp;

use crate::support::{Kube, UNAUTHORIZED};

const PODS: &str = "/api/v1/namespaces/default/pods";
/// The client id the fake apiserver is configured with (`--oidc-client-id`): the test
/// IdP's password-grant client.
const CLIENT_ID: &str = "carol";

async fn fake(oidc: impl FnOnce(OidcConfig) -> OidcConfig) -> FakeKube {
    let idp = idp();
    let config = oidc(OidcConfig::new(&idp.issuer, CLIENT_ID).ca_pem(&idp.ca_pem));
    let kube = FakeKube::start(FakeKubeConfig::default().with_oidc(config))
        .await
        .unwrap();
    assert!(kube.oidc_initialized(), "discovery at start");
    kube
}

/// Tacker's guide settings.
async fn guide_fake() -> FakeKube {
    fake(|c| c.username_claim("name").username_prefix("-")).await
}

async fn status_with(kube: &FakeKube, token: &str) -> (StatusCode, Value) {
    Kube::with_token(kube, token).get(PODS).await
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn parts(token: &str) -> (Value, Value) {
    let p: Vec<&str> = token.split('.').collect();
    let decode = |s: &str| {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    (decode(p[0]), decode(p[1]))
}

async fn assert_unauthorized(kube: &FakeKube, token: &str, what: &str) {
    let response = crate::support::http(kube.ca_pem())
        .get(format!("{}{PODS}", kube.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(response.text().await.unwrap(), UNAUTHORIZED, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_from_password_grant_is_accepted_and_audited_per_operation() {
    let kube = guide_fake().await;
    let idp = idp();
    // Two "operations", each with its own fresh id_token for all of its calls.
    let mut tokens = Vec::new();
    for operation in ["instantiate", "scale"] {
        let token = idp.id_token(CLIENT_ID, "alice", "alice-password").await;
        let k = Kube::with_token(&kube, &token);
        let (status, body) = k.get(PODS).await;
        assert_eq!(status, StatusCode::OK, "{operation}: {body}");
        let (status, _) = k
            .post(
                "/api/v1/namespaces/default/configmaps",
                json!({"metadata": {"name": operation}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1]);
    let audit = kube.audit();
    assert_eq!(audit.len(), 4);
    for (i, entry) in audit.iter().enumerate() {
        assert_eq!(
            entry.user.as_deref(),
            Some("Alice"),
            "username claim `name`, no prefix"
        );
        assert!(entry.groups.contains(&"system:authenticated".to_string()));
        assert_eq!(
            entry.token_sha256.as_deref(),
            Some(sha256_hex(&tokens[i / 2]).as_str())
        );
    }
    assert_eq!(audit[1].verb, "create");
    assert_eq!(audit[1].resource.as_deref(), Some("configmaps"));
    assert_eq!(audit[1].status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_that_break_a_rule_get_the_exact_401() {
    let kube = guide_fake().await;
    let idp = idp();
    let good = idp.id_token(CLIENT_ID, "alice", "alice-password").await;
    let (header, payload) = parts(&good);
    let signature = good.rsplit('.').next().unwrap();

    let wrong_aud = idp.id_token("other-client", "alice", "alice-password").await;
    assert_unauthorized(&kube, &wrong_aud, "aud of another client").await;

    let mut tampered = payload.clone();
    tampered["name"] = json!("root");
    let forged = format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(tampered.to_string().as_bytes())
    );
    assert_unauthorized(&kube, &forged, "payload changed after signing").await;

    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = json!("no-such-key");
    let forged = format!(
        "{}.{}.{signature}",
        b64(unknown_kid.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    assert_unauthorized(&kube, &forged, "unknown kid").await;

    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &payload,
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    assert_unauthorized(&kube, &hs256, "HS256").await;
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(payload.to_string().as_bytes())
    );
    assert_unauthorized(&kube, &none, "alg none").await;

    let mut other_iss = payload.clone();
    other_iss["iss"] = json!(format!("{}/other", idp.issuer));
    let forged = format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(other_iss.to_string().as_bytes())
    );
    assert_unauthorized(&kube, &forged, "another issuer").await;

    let short = idp.id_token("shortlived", "alice", "alice-password").await;
    let short_kube = fake(|c| {
        let mut c = c.username_claim("name").username_prefix("-");
        c.client_id = "shortlived".into();
        c
    })
    .await;
    assert_eq!(status_with(&short_kube, &short).await.0, StatusCode::OK);
    let exp = parts(&short).1["exp"].as_i64().unwrap();
    let wait = (exp + 1 - chrono::Utc::now().timestamp()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    assert_unauthorized(&short_kube, &short, "expired (no leeway)").await;

    let no_name = idp.id_token(CLIENT_ID, "bob", "bob-password").await;
    assert_eq!(
        status_with(&kube, &no_name).await.0,
        StatusCode::OK,
        "bob has a name claim"
    );
    assert_eq!(
        status_with(&kube, &good).await.0,
        StatusCode::OK,
        "the good token still works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_claim_default_prefix_and_groups() {
    let idp = idp();
    let by_email = fake(|c| c.username_claim("email")).await;
    let alice = idp.id_token(CLIENT_ID, "alice", "alice-password").await;
    assert_eq!(status_with(&by_email, &alice).await.0, StatusCode::OK);
    assert_eq!(
        by_email.audit()[0].user.as_deref(),
        Some("alice@example.com"),
        "no default prefix for email"
    );
    let mallory = idp.id_token(CLIENT_ID, "mallory", "mallory-password").await;
    assert_unauthorized(&by_email, &mallory, "email_verified=false").await;

    let by_sub = fake(|c| c.groups_claim("groups").groups_prefix("oidc:")).await;
    assert_eq!(status_with(&by_sub, &alice).await.0, StatusCode::OK);
    let entry = &by_sub.audit()[0];
    assert_eq!(
        entry.user.as_deref(),
        Some(format!("{}#alice", idp.issuer).as_str())
    );
    assert!(entry.groups.contains(&"oidc:vnf-admins".to_string()));

    // RBAC on the mapped groups: alice's group may list pods, bob (no groups) may not.
    let rbac = Rbac::new().allow_all_for_group("oidc:vnf-admins");
    by_sub.set_authorization(Authorization::Rbac(rbac));
    assert_eq!(status_with(&by_sub, &alice).await.0, StatusCode::OK);
    let bob = idp.id_token(CLIENT_ID, "bob", "bob-password").await;
    let (status, body) = status_with(&by_sub, &bob).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        format!(
            "pods is forbidden: User \"{}#bob-sub\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
            idp.issuer
        )
    );

    let required = fake(|c| {
        c.username_claim("name")
            .username_prefix("-")
            .required_claim("email", "alice@example.com")
    })
    .await;
    assert_eq!(status_with(&required, &alice).await.0, StatusCode::OK);
    assert_unauthorized(&required, &bob, "required claim missing").await;
}
