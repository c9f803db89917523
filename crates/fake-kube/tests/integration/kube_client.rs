//! The `kube` crate (rustls on ring) against the fake: the driver's flows end to end.

use base64::Engine;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;
use tacker_fake_kube::FakeKube;

use crate::support::{deployment, eventually, start};

/// The DER of the first certificate in a PEM text.
fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

pub fn client(kube: &FakeKube, token: &str) -> Client {
    let mut config = kube::Config::new(kube.url().parse().unwrap());
    config.root_cert = Some(vec![pem_to_der(kube.ca_pem())]);
    config.auth_info.token = Some(token.to_string().into());
    config.default_namespace = "default".into();
    Client::try_from(config).unwrap()
}

async fn ready_replicas(api: &Api<Deployment>, name: &str, n: i32) {
    eventually(10, "deployment ready", || async {
        let d = api.get(name).await.unwrap();
        let s = d.status.unwrap_or_default();
        (s.replicas == Some(n) && s.ready_replicas == Some(n)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_client_drives_a_deployment() {
    let kube = start().await;
    let client = client(&kube, kube.admin_token());
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.major, "1");

    let deploys: Api<Deployment> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let manifest: Deployment = serde_json::from_value(deployment("kweb", 2)).unwrap();
    let created = deploys.create(&PostParams::default(), &manifest).await.unwrap();
    assert!(created.metadata.uid.is_some());
    let err = deploys
        .create(&PostParams::default(), &manifest)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.is_already_exists()),
        "{err:?}"
    );
    ready_replicas(&deploys, "kweb", 2).await;

    let scale = deploys
        .patch_scale(
            "kweb",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(3));
    assert_eq!(
        deploys.get_scale("kweb").await.unwrap().spec.unwrap().replicas,
        Some(3)
    );
    ready_replicas(&deploys, "kweb", 3).await;

    let listed = pods
        .list(&ListParams::default().labels("app=kweb"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 3);
    assert!(listed
        .items
        .iter()
        .all(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Running")));

    let victim = listed.items[0].metadata.name.clone().unwrap();
    pods.delete(&victim, &DeleteParams::default()).await.unwrap();
    eventually(10, "replacement", || async {
        let items = pods
            .list(&ListParams::default().labels("app=kweb"))
            .await
            .unwrap()
            .items;
        let names: Vec<String> = items.iter().filter_map(|p| p.metadata.name.clone()).collect();
        let running = items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count();
        (!names.contains(&victim) && names.len() == 3 && running == 3).then_some(())
    })
    .await;

    deploys.delete("kweb", &DeleteParams::foreground()).await.unwrap();
    eventually(10, "deployment gone", || async {
        match deploys.get("kweb").await {
            Err(kube::Error::Api(s)) if s.is_not_found() => Some(()),
            _ => None,
        }
    })
    .await;
    assert!(pods
        .list(&ListParams::default().labels("app=kweb"))
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(deploys.get_opt("kweb").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_client_crud_apply_and_discovery() {
    let kube = start().await;
    let client = client(&kube, kube.admin_token());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "k"}, "data": {"a": "1"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let mut got = cms.get("k").await.unwrap();
    got.data.as_mut().unwrap().insert("b".into(), "2".into());
    let replaced = cms.replace("k", &PostParams::default(), &got).await.unwrap();
    assert_ne!(replaced.metadata.resource_version, got.metadata.resource_version);
    let err = cms.replace("k", &PostParams::default(), &got).await.unwrap_err();
    assert!(matches!(&err, kube::Error::Api(s) if s.is_conflict()), "{err:?}");
    let applied = cms
        .patch(
            "applied",
            &PatchParams::apply("tacker").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"x": "y"}})),
        )
        .await
        .unwrap();
    assert_eq!(applied.data.unwrap()["x"], "y");
    let strategic = cms
        .patch(
            "k",
            &PatchParams::default(),
            &Patch::Strategic(json!({"data": {"c": "3"}})),
        )
        .await
        .unwrap();
    assert_eq!(strategic.data.unwrap().len(), 3);
    let deleted = cms.delete("k", &DeleteParams::default()).await.unwrap();
    assert!(deleted.is_right(), "a configmap delete answers with a Status");

    let discovery = kube::Discovery::new(client.clone()).run().await.unwrap();
    let (resource, caps) = discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(r, _)| r.plural == "deployments")
        .unwrap();
    assert_eq!(resource.group, "apps");
    assert!(caps.scope == kube::discovery::Scope::Namespaced);
    assert!(caps.subresources.iter().any(|(r, _)| r.plural == "scale"));

    let forbidden = client_with_bad_token(&kube)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&forbidden, kube::Error::Api(s) if s.code == 401),
        "{forbidden:?}"
    );
}

fn client_with_bad_token(kube: &FakeKube) -> Api<ConfigMap> {
    Api::default_namespaced(client(kube, "not-a-token"))
}
