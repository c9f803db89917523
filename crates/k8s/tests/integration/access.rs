//! How the driver reaches the API server: which CAs it trusts, how it authenticates, and
//! what its errors say when the server or the TLS handshake refuses it.

use serde_json::json;
use tacker_driver::InfraDriver;
use tacker_fake_kube::{Authorization, FakeKubeConfig, Rbac, UserInfo};
use tacker_testkit::pki::TestCa;

use crate::rig::*;

#[tokio::test]
async fn only_the_given_cas_are_trusted() {
    let kube = kube(FakeKubeConfig::default()).await;
    let driver = driver();
    let access = json!({"bearer_token": TOKEN});

    let other_ca = TestCa::new("not the cluster's CA").cert_pem;
    let wrong = vim_with(
        json!({"endpoint": kube.url(), "ssl_ca_cert": other_ca}),
        access.clone(),
    );
    let err = driver
        .instantiate(&plan("inst-1", wrong, 1, 1))
        .await
        .unwrap_err();
    assert_eq!(err.status, 422);
    assert!(
        err.detail.starts_with(&format!(
            "TLS with the Kubernetes API server {} failed",
            kube.url()
        )),
        "{}",
        err.detail
    );
    assert!(err.detail.contains("UnknownIssuer"), "{}", err.detail);

    // No ssl_ca_cert: the system roots, which do not know the test CA. Never unverified.
    let roots = vim_with(json!({"endpoint": kube.url()}), access.clone());
    let err = driver
        .instantiate(&plan("inst-2", roots, 1, 1))
        .await
        .unwrap_err();
    assert!(
        err.detail.starts_with("TLS with the Kubernetes API server"),
        "{}",
        err.detail
    );
    assert!(kube.audit().is_empty());

    // Only an explicit skipCertificateVerification switches verification off.
    let skip = vim_with(
        json!({"endpoint": kube.url(), "skipCertificateVerification": true}),
        access.clone(),
    );
    driver
        .rollback_instantiate(&plan("inst-3", skip, 0, 0))
        .await
        .unwrap();
    assert!(!kube.audit().is_empty());

    // A bundle with several CAs (the cluster's among them) and a PEM pasted on one line.
    let bundle = format!("{other_ca}{}", kube.ca_pem())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let flat = vim_with(json!({"endpoint": kube.url(), "ssl_ca_cert": bundle}), access);
    driver
        .rollback_instantiate(&plan("inst-4", flat, 0, 0))
        .await
        .unwrap();
}

#[tokio::test]
async fn rbac_denial_reports_the_apiserver_message() {
    let rbac = Rbac::new().allow_user("viewer", &["get", "list", "watch"], &["*"]);
    let config = FakeKubeConfig::default()
        .with_token("viewer-token", UserInfo::new("viewer"))
        .with_authorization(Authorization::Rbac(rbac));
    let kube = kube(config).await;
    let viewer = vim(&kube, json!({"bearer_token": "viewer-token"}));
    let err = driver()
        .instantiate(&plan("inst-f", viewer, 1, 1))
        .await
        .unwrap_err();
    assert_eq!(err.status, 422);
    assert!(
        err.detail.starts_with(
            "the Kubernetes API server refused to create ConfigMap default/web-config: 403 Forbidden: "
        ),
        "{}",
        err.detail
    );
    assert!(
        err.detail
            .contains(r#"User "viewer" cannot create resource "configmaps""#),
        "{}",
        err.detail
    );
    assert!(!err.detail.contains("viewer-token"));
}

#[tokio::test]
async fn unknown_tokens_get_401_and_basic_auth_works() {
    let config = FakeKubeConfig::default().with_basic_user("ops", "ops-password", UserInfo::new("ops"));
    let kube = kube(config).await;
    let driver = driver();

    let bad = vim(&kube, json!({"bearer_token": "no-such-token"}));
    let err = driver.instantiate(&plan("inst-u", bad, 1, 1)).await.unwrap_err();
    assert_eq!(err.status, 422);
    assert!(
        err.detail.ends_with(": 401 Unauthorized: Unauthorized"),
        "{}",
        err.detail
    );
    assert!(!err.detail.contains("no-such-token"));

    let basic = vim(&kube, json!({"username": "ops", "password": "ops-password"}));
    let vnfcs = driver
        .instantiate(&plan("inst-b", basic.clone(), 1, 1))
        .await
        .unwrap();
    assert_eq!(vnfcs.len(), 2);
    assert!(kube
        .audit()
        .iter()
        .filter(|e| e.status < 400)
        .all(|e| e.user.as_deref() == Some("ops")));
    driver
        .terminate(&plan("inst-b", basic, 0, 0), &vnfcs, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_api_server_that_is_down_is_unreachable_not_a_tls_failure() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = vim_with(
        json!({"endpoint": format!("https://{closed}")}),
        json!({"bearer_token": TOKEN}),
    );
    let err = driver()
        .instantiate(&plan("inst-d", down, 1, 1))
        .await
        .unwrap_err();
    assert_eq!(err.status, 422);
    assert!(
        err.detail.starts_with("the Kubernetes API server https://"),
        "{}",
        err.detail
    );
    assert!(err.detail.contains(" is unreachable: "), "{}", err.detail);
}
