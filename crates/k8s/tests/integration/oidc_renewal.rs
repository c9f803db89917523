//! Operations that outlive their id_tokens: the driver renews the token before it expires
//! (IdP client `five-seconds`, pods that take 20 s to start) and when the API server
//! refuses it; the IdP shows each renewal, the apiserver each token.

use std::time::{Duration, Instant};

use tacker_driver::InfraDriver;
use tacker_fake_kube::{FakeKubeConfig, InjectedError, Timings};
use tacker_k8s::{KubernetesDriver, KubernetesSettings};
use tacker_testkit::idp::{idp, CLIENT_SECRET};

use crate::oidc_vim::{oidc_kube, oidc_kube_with, oidc_vim, oidc_vim_of};
use crate::rig::*;

#[tokio::test]
async fn an_instantiate_of_20_s_outlives_its_5_s_id_tokens() {
    let slow = FakeKubeConfig::default().with_timings(Timings {
        pod_startup: Duration::from_secs(20),
        ..Timings::default()
    });
    let kube = oidc_kube_with("five-seconds", slow).await;
    let driver = KubernetesDriver::new(KubernetesSettings {
        wait_timeout: Duration::from_secs(60),
        ..KubernetesSettings::default()
    });
    let vim = oidc_vim_of("five-seconds", &kube, CLIENT_SECRET, &idp().token_endpoint);
    let before = idp().grants("five-seconds", "password").await;

    let started = Instant::now();
    let vnfcs = driver.instantiate(&plan("inst-long", vim, 1, 1)).await.unwrap();
    let took = started.elapsed();
    assert_eq!(vnfcs.len(), 2);
    assert!(took >= Duration::from_secs(20), "{took:?}");

    // A token lasts 5 s and is renewed a second early: one every 4 s of the operation.
    let issued = idp().grants("five-seconds", "password").await - before;
    assert!(issued >= 4, "{issued} id_tokens for {took:?}");
    // Renewed in time: the apiserver never refused one, and saw each of them.
    let audit = kube.audit();
    let refused: Vec<_> = audit
        .iter()
        .filter(|e| e.status == 401 || e.user.as_deref() != Some("alice"))
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(token_digests(&audit).len() as u64, issued);
}

#[tokio::test]
async fn a_refused_id_token_is_renewed_and_the_request_sent_again() {
    let kube = oidc_kube("carol").await;
    // As after the IdP rotated its keys: the apiserver refuses the token once.
    kube.faults().fail(
        "create",
        "deployments",
        InjectedError::new(401, "Unauthorized", "Unauthorized"),
        Some(1),
    );
    let before = idp().grants("carol", "password").await;
    let vim = oidc_vim(&kube, CLIENT_SECRET, &idp().token_endpoint);
    let vnfcs = driver().instantiate(&plan("inst-401", vim, 1, 1)).await.unwrap();
    assert_eq!(vnfcs.len(), 2);
    assert!(idp().grants("carol", "password").await - before >= 2);

    let audit = kube.audit();
    let creates: Vec<_> = audit
        .iter()
        .filter(|e| e.verb == "create" && e.resource.as_deref() == Some("deployments"))
        .collect();
    assert_eq!(
        creates.iter().map(|e| e.status).collect::<Vec<_>>(),
        [401, 201],
        "sent once more"
    );
    assert_ne!(
        creates[0].token_sha256, creates[1].token_sha256,
        "with a new token"
    );
    let last = audit.last().unwrap();
    assert_eq!(
        last.token_sha256, creates[1].token_sha256,
        "which the operation goes on with"
    );
}
