//! An OIDC Kubernetes VIM end to end: the fake apiserver trusts the real test IdP as its
//! issuer (`--oidc-issuer-url`, `--oidc-client-id=carol`, `--oidc-username-prefix=-`,
//! `--oidc-groups-claim=groups`, `--oidc-ca-file`), RBAC lets group `dev` in, and the VIM's
//! ssl_ca_cert bundle holds both the cluster's CA and the IdP's.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;
use tacker_driver::{InfraDriver, VimConnection};
use tacker_fake_kube::{Authorization, FakeKube, FakeKubeConfig, OidcConfig, Rbac};
use tacker_k8s::OidcCredentials;
use tacker_testkit::idp::{idp, CLIENT_SECRET};

use crate::rig::*;

pub async fn oidc_kube(client_id: &str) -> FakeKube {
    oidc_kube_with(client_id, FakeKubeConfig::default()).await
}

/// As [`oidc_kube`], on `config` (timings, ...).
pub async fn oidc_kube_with(client_id: &str, config: FakeKubeConfig) -> FakeKube {
    let idp = idp();
    let oidc = OidcConfig::new(&idp.issuer, client_id)
        .username_prefix("-")
        .groups_claim("groups")
        .ca_pem(&idp.ca_pem)
        .retry_interval(Duration::from_millis(100));
    let config = config
        .with_oidc(oidc)
        .with_authorization(Authorization::Rbac(Rbac::new().allow_all_for_group("dev")));
    let kube = kube(config).await;
    let start = Instant::now();
    while !kube.oidc_initialized() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the fake never initialised OIDC"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kube
}

pub fn oidc_vim(kube: &FakeKube, secret: &str, token_url: &str) -> VimConnection {
    oidc_vim_of("carol", kube, secret, token_url)
}

/// An OIDC VIM whose id_tokens come from IdP client `client_id`.
pub fn oidc_vim_of(client_id: &str, kube: &FakeKube, secret: &str, token_url: &str) -> VimConnection {
    let bundle = format!("{}{}", kube.ca_pem(), idp().ca_pem);
    vim_with(
        json!({"endpoint": kube.url(), "ssl_ca_cert": bundle}),
        json!({"oidc_token_url": token_url, "username": "alice", "password": "alice-password",
               "client_id": client_id, "client_secret": secret}),
    )
}

/// The one id_token digest of the audit log since it was cleared.
fn one_token(kube: &FakeKube) -> String {
    let audit = kube.audit();
    assert!(!audit.is_empty());
    // Every call authenticated as the id_token's user (404s while waiting are normal).
    assert!(audit
        .iter()
        .all(|e| e.user.as_deref() == Some("alice") && e.status != 401 && e.status != 403));
    let digests = token_digests(&audit);
    assert_eq!(
        digests.len(),
        1,
        "one id_token for the whole operation: {digests:?}"
    );
    digests.into_iter().next().flatten().unwrap()
}

#[tokio::test]
async fn every_operation_runs_with_its_own_fresh_id_token() {
    let kube = oidc_kube("carol").await;
    let driver = driver();
    let vim = oidc_vim(&kube, CLIENT_SECRET, &idp().token_endpoint);

    let vnfcs = driver
        .instantiate(&plan("inst-o", vim.clone(), 1, 1))
        .await
        .unwrap();
    assert_eq!(vnfcs.len(), 2);
    let first = one_token(&kube);

    kube.clear_audit();
    let scaled = driver
        .scale(&plan("inst-o", vim.clone(), 2, 1), &vnfcs)
        .await
        .unwrap();
    assert_eq!(scaled.len(), 3);
    let second = one_token(&kube);

    kube.clear_audit();
    driver
        .terminate(&plan("inst-o", vim, 0, 0), &scaled, None)
        .await
        .unwrap();
    let third = one_token(&kube);
    assert_eq!(
        BTreeSet::from([&first, &second, &third]).len(),
        3,
        "each operation fetched a new id_token"
    );
    assert!(labelled(&kube, "deployments", "inst-o").is_empty());
}

#[tokio::test]
async fn idp_failures_name_the_idp_answer() {
    let kube = oidc_kube("carol").await;
    let driver = driver();
    let wrong = "not-the-client-secret";
    let err = driver
        .instantiate(&plan(
            "inst-w",
            oidc_vim(&kube, wrong, &idp().token_endpoint),
            1,
            1,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.status, 400);
    assert!(
        err.detail
            .starts_with("OIDC authentication and authorization failed"),
        "{}",
        err.detail
    );
    assert!(
        err.detail.contains("response code: 401, invalid_client"),
        "{}",
        err.detail
    );
    assert!(!err.detail.contains(wrong) && !err.detail.contains("alice-password"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = oidc_vim(&kube, CLIENT_SECRET, &format!("https://{closed}/token"));
    let err = driver.instantiate(&plan("inst-d", down, 1, 1)).await.unwrap_err();
    assert_eq!(err.status, 400);
    assert!(err.detail.contains("could not connect"), "{}", err.detail);
    assert!(
        kube.audit().is_empty(),
        "no call reaches Kubernetes without an id_token"
    );
}

#[tokio::test]
async fn an_expired_id_token_is_refused_with_401() {
    // `shortlived` id_tokens live two seconds; used as a plain bearer token after that,
    // the apiserver refuses them.
    let kube = oidc_kube("shortlived").await;
    let credentials = OidcCredentials {
        token_url: idp().token_endpoint.clone(),
        username: "alice".into(),
        password: "alice-password".into(),
        client_id: "shortlived".into(),
        client_secret: Some(CLIENT_SECRET.into()),
    };
    let token = credentials.fetch(Some(idp().ca_pem.as_bytes())).await.unwrap();
    let fetched = Instant::now();
    let vim = vim(&kube, json!({"bearer_token": token.secret()}));
    let driver = driver();
    driver
        .rollback_instantiate(&plan("inst-e", vim.clone(), 0, 0))
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(fetched.elapsed())).await;
    let err = driver
        .rollback_instantiate(&plan("inst-e", vim, 0, 0))
        .await
        .unwrap_err();
    assert_eq!(err.status, 422);
    assert!(
        err.detail.contains(": 401 Unauthorized: Unauthorized"),
        "{}",
        err.detail
    );
    assert!(!err.detail.contains(token.secret()));
}
