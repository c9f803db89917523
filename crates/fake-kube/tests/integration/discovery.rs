//! Discovery documents and /version.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{start, Kube};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_documents() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    let (_, api) = k.get("/api").await;
    assert_eq!(
        (api["kind"].as_str(), &api["versions"]),
        (Some("APIVersions"), &json!(["v1"]))
    );
    let (_, groups) = k.get("/apis").await;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for group in ["apps", "batch", "rbac.authorization.k8s.io"] {
        assert!(names.contains(&group), "{names:?}");
    }
    let (_, core) = k.get("/api/v1").await;
    let pods = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap();
    assert_eq!(
        (pods["namespaced"].as_bool(), pods["kind"].as_str()),
        (Some(true), Some("Pod"))
    );
    let ns = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "namespaces")
        .unwrap();
    assert_eq!(ns["namespaced"], false);
    let (_, apps) = k.get("/apis/apps/v1").await;
    assert_eq!(apps["groupVersion"], "apps/v1");
    let scale = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .unwrap();
    assert_eq!(
        (scale["group"].as_str(), scale["kind"].as_str()),
        (Some("autoscaling"), Some("Scale"))
    );
    let (_, group) = k.get("/apis/batch").await;
    assert_eq!(group["preferredVersion"]["groupVersion"], "batch/v1");
    let (status, version) = k.get("/version").await;
    assert_eq!((status, version["major"].as_str()), (StatusCode::OK, Some("1")));
    assert_eq!(k.get("/apis/nope/v1").await.0, StatusCode::NOT_FOUND);
    assert_eq!(k.get("/healthz").await.1, "ok");
}
