//! Create, get, list, replace, patch and delete over raw HTTP, with the apiserver's errors.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{deployment, start, Kube};

const CM: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_conflict_and_not_found() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1"}, "data": {"a": "1"}});
    let (status, created) = k.post(CM, cm.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert!(meta["uid"].as_str().unwrap().len() == 36);
    assert!(meta["resourceVersion"].as_str().unwrap().parse::<u64>().unwrap() > 0);
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));

    let (status, body) = k.post(CM, cm).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "configmaps \"c1\" already exists", "reason": "AlreadyExists",
               "details": {"name": "c1", "kind": "configmaps"}, "code": 409})
    );
    let (status, got) = k.get(&format!("{CM}/c1")).await;
    assert_eq!((status, &got["data"]), (StatusCode::OK, &json!({"a": "1"})));

    let (status, body) = k.get("/apis/apps/v1/namespaces/default/deployments/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "deployments.apps \"nope\" not found");
    assert_eq!(body["reason"], "NotFound");
    assert_eq!(
        body["details"],
        json!({"name": "nope", "group": "apps", "kind": "deployments"})
    );

    let (status, body) = k
        .post(
            "/api/v1/namespaces/nope/configmaps",
            json!({"metadata": {"name": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "namespaces \"nope\" not found");

    let (status, _) = k.get("/api/v1/namespaces/default/nodes").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = k.get("/api/v1/namespaces/default/widgets").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_with_label_and_field_selectors() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front"})),
        ("b", json!({"app": "web", "tier": "back"})),
        ("c", json!({"app": "db"})),
    ] {
        let (status, _) = k
            .post(CM, json!({"metadata": {"name": name, "labels": labels}}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let names = |selector: &'static str| {
        let k = &k;
        async move {
            let (status, list) = k.get(&format!("{CM}?{selector}")).await;
            assert_eq!(status, StatusCode::OK, "{list}");
            assert_eq!(list["kind"], "ConfigMapList");
            assert!(list["items"][0].get("kind").is_none(), "list items carry no kind");
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    assert_eq!(names("labelSelector=app%3Dweb").await, "a,b");
    assert_eq!(names("labelSelector=app%21%3Dweb").await, "c");
    assert_eq!(names("labelSelector=tier%20in%20(front,x)").await, "a");
    assert_eq!(names("labelSelector=app%3Dweb,tier%20notin%20(front)").await, "b");
    assert_eq!(names("labelSelector=tier").await, "a,b");
    assert_eq!(names("labelSelector=%21tier").await, "c");
    assert_eq!(names("fieldSelector=metadata.name%3Db").await, "b");
    assert_eq!(
        names("fieldSelector=metadata.name%21%3Db&labelSelector=app%3Dweb").await,
        "a"
    );
    let (status, all) = k.get("/api/v1/configmaps").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let (status, _) = k.get(&format!("{CM}?fieldSelector=spec.nope%3D1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_patch_and_resource_version_conflicts() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    let (_, created) = k
        .post(CM, json!({"metadata": {"name": "c"}, "data": {"a": "1"}}))
        .await;
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let mut stale = created.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    let (status, body) = k.put(&format!("{CM}/c"), stale).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["message"],
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let mut fresh = created.clone();
    fresh["data"] = json!({"a": "2"});
    let (status, replaced) = k.put(&format!("{CM}/c"), fresh).await;
    assert_eq!(status, StatusCode::OK);
    let rv2 = replaced["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(rv2.parse::<u64>().unwrap() > rv.parse::<u64>().unwrap());
    assert_eq!(replaced["metadata"]["uid"], created["metadata"]["uid"]);

    let (status, _) = k
        .put(&format!("{CM}/other"), json!({"metadata": {"name": "c"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = k
        .put(&format!("{CM}/missing"), json!({"metadata": {"name": "missing"}}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, patched) = k
        .merge_patch(&format!("{CM}/c"), json!({"data": {"b": "3", "a": null}}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["data"], json!({"b": "3"}));
    let (status, patched) = k
        .send(
            Method::PATCH,
            &format!("{CM}/c"),
            Some((
                "application/strategic-merge-patch+json",
                json!({"metadata": {"labels": {"x": "y"}}}),
            )),
        )
        .await;
    assert_eq!(
        (status, &patched["metadata"]["labels"]),
        (StatusCode::OK, &json!({"x": "y"}))
    );
    let (status, patched) = k
        .send(
            Method::PATCH,
            &format!("{CM}/c"),
            Some((
                "application/json-patch+json",
                json!([{"op": "add", "path": "/data/c", "value": "4"}]),
            )),
        )
        .await;
    assert_eq!((status, &patched["data"]["c"]), (StatusCode::OK, &json!("4")));
    let (status, _) = k
        .merge_patch(
            &format!("{CM}/c"),
            json!({"metadata": {"resourceVersion": "1"}, "data": {"z": "1"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = k
        .send(Method::PATCH, &format!("{CM}/c"), Some(("text/plain", json!({}))))
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let apply =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v"}});
    let (status, body) = k
        .send(
            Method::PATCH,
            &format!("{CM}/applied"),
            Some(("application/apply-patch+yaml", apply.clone())),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = k
        .send(
            Method::PATCH,
            &format!("{CM}/applied?fieldManager=t"),
            Some(("application/apply-patch+yaml", apply)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, body) = k.delete(&format!("{CM}/c"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "Success");
    assert_eq!(body["details"]["name"], "c");
    assert_eq!(k.get(&format!("{CM}/c")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(k.delete(&format!("{CM}/c"), None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_generation_and_status_rules() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    let deploys = "/apis/apps/v1/namespaces/default/deployments";
    let mut bad = deployment("bad", 1);
    bad["spec"].as_object_mut().unwrap().remove("selector");
    let (status, body) = k.post(deploys, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["message"],
        "Deployment.apps \"bad\" is invalid: spec.selector: Required value"
    );
    let mut no_containers = deployment("empty", 1);
    no_containers["spec"]["template"]["spec"]["containers"] = json!([]);
    let (status, body) = k.post(deploys, no_containers).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["message"],
        "Deployment.apps \"empty\" is invalid: spec.template.spec.containers: Required value"
    );
    assert_eq!(
        k.post("/api/v1/pods", json!({"metadata": {"name": "p"}})).await.0,
        StatusCode::NOT_FOUND
    );
    let mut other_ns = deployment("x", 1);
    other_ns["metadata"]["namespace"] = json!("kube-system");
    assert_eq!(k.post(deploys, other_ns).await.0, StatusCode::BAD_REQUEST);
    let mut wrong_kind = deployment("x", 1);
    wrong_kind["kind"] = json!("StatefulSet");
    assert_eq!(k.post(deploys, wrong_kind).await.0, StatusCode::BAD_REQUEST);
    let (status, _) = k.post(CM, json!({"metadata": {"name": "Upper"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, generated) = k.post(CM, json!({"metadata": {"generateName": "gen-"}})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(generated["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("gen-"));

    kube.faults()
        .pods("app=gen", tacker_fake_kube::PodFault::NeverReady)
        .unwrap();
    let (status, created) = k.post(deploys, deployment("gen", 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(created.get("status").is_none());
    let (_, patched) = k
        .merge_patch(
            &format!("{deploys}/gen"),
            json!({"metadata": {"annotations": {"a": "b"}}}),
        )
        .await;
    assert_eq!(patched["metadata"]["generation"], 1);
    let (_, patched) = k
        .merge_patch(
            &format!("{deploys}/gen"),
            json!({"spec": {"minReadySeconds": 1}, "status": {"replicas": 99}}),
        )
        .await;
    assert_eq!(patched["metadata"]["generation"], 2);
    assert_ne!(
        patched["status"]["replicas"], 99,
        "status is not written through the main resource"
    );
    let (status, patched) = k
        .merge_patch(
            &format!("{deploys}/gen/status"),
            json!({"status": {"replicas": 99}}),
        )
        .await;
    assert_eq!(
        (status, &patched["status"]["replicas"]),
        (StatusCode::OK, &json!(99))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_cluster_objects_and_deletecollection() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    let (status, ns) = k
        .post("/api/v1/namespaces", json!({"metadata": {"name": "vnf"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(ns["status"]["phase"], "Active");
    let (status, _) = k
        .post(
            "/api/v1/namespaces/vnf/configmaps",
            json!({"metadata": {"name": "c"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, role) = k
        .post(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            json!({"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(role["metadata"].get("namespace").is_none());
    crate::support::eventually(5, "default service account", || async {
        (k.get("/api/v1/namespaces/vnf/serviceaccounts/default").await.0 == StatusCode::OK).then_some(())
    })
    .await;

    let (status, deleted) = k.delete("/api/v1/namespaces/vnf", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["status"]["phase"], "Terminating");
    let (status, body) = k
        .post(
            "/api/v1/namespaces/vnf/configmaps",
            json!({"metadata": {"name": "d"}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    crate::support::eventually(5, "namespace gone", || async {
        (k.get("/api/v1/namespaces/vnf").await.0 == StatusCode::NOT_FOUND).then_some(())
    })
    .await;
    assert!(kube.objects("configmaps", Some("vnf")).is_empty());

    for name in ["x1", "x2", "y1"] {
        let label = &name[..1];
        k.post(CM, json!({"metadata": {"name": name, "labels": {"g": label}}}))
            .await;
    }
    let (status, list) = k.delete(&format!("{CM}?labelSelector=g%3Dx"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(kube.object("configmaps", "default", "y1").is_some());
    assert!(kube.object("configmaps", "default", "x1").is_none());
}
