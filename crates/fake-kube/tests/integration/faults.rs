//! Injected failures for negative tests.

use std::time::Duration;

use reqwest::StatusCode;
use tacker_fake_kube::{InjectedError, PodFault};

use crate::support::{deployment, eventually, start, Kube};

const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_requests_and_pods() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    kube.faults().fail_create("Deployment");
    let (status, body) = k.post(DEPLOYS, deployment("a", 1)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        (body["kind"].as_str(), body["reason"].as_str()),
        (Some("Status"), Some("InternalError"))
    );
    kube.faults().clear();
    kube.faults().fail(
        "get",
        "configmaps",
        InjectedError::new(503, "ServiceUnavailable", "etcd down"),
        Some(1),
    );
    let cm = "/api/v1/namespaces/default/configmaps/kube-root";
    assert_eq!(k.get(cm).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(k.get(cm).await.0, StatusCode::NOT_FOUND, "only once");

    kube.faults().pods("app=stuck", PodFault::NeverReady).unwrap();
    kube.faults().pods("app=crash", PodFault::CrashLoop).unwrap();
    kube.faults().pods("app=fail", PodFault::Fail).unwrap();
    for name in ["stuck", "crash", "fail", "fine"] {
        assert_eq!(k.post(DEPLOYS, deployment(name, 1)).await.0, StatusCode::CREATED);
    }
    eventually(10, "fine ready", || async {
        (k.get(&format!("{DEPLOYS}/fine")).await.1["status"]["readyReplicas"] == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let phase = |app: &'static str| {
        let k = &k;
        async move {
            let (_, list) = k
                .get(&format!(
                    "/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"
                ))
                .await;
            list["items"][0]["status"]["phase"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(phase("stuck").await, "Pending");
    assert_eq!(phase("crash").await, "Running");
    for name in ["stuck", "crash"] {
        let d = k.get(&format!("{DEPLOYS}/{name}")).await.1;
        assert_eq!(d["status"]["replicas"], 1);
        assert!(
            d["status"].get("readyReplicas").is_none(),
            "{name}: {}",
            d["status"]
        );
    }
    let failed = eventually(5, "failed pod", || async {
        let (_, list) = k.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dfail&fieldSelector=status.phase%3DFailed").await;
        (!list["items"].as_array().unwrap().is_empty()).then_some(())
    });
    failed.await;
}
