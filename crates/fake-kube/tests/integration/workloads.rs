//! The reconciler over raw HTTP: Deployments, StatefulSets, DaemonSets, Jobs, Services,
//! PVCs, /scale, heal by pod deletion, updates and the three propagation policies.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{deployment, eventually, start, Kube};

const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const PODS: &str = "/api/v1/namespaces/default/pods";

async fn pods_of(k: &Kube<'_>, selector: &str) -> Vec<Value> {
    let (status, list) = k.get(&format!("{PODS}?labelSelector={selector}")).await;
    assert_eq!(status, StatusCode::OK);
    list["items"].as_array().unwrap().clone()
}

fn names(pods: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = pods
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Waits until the deployment reports `n` ready replicas and `n` Running pods exist.
async fn ready(k: &Kube<'_>, name: &str, n: i64) -> Vec<Value> {
    eventually(10, &format!("{name} ready with {n}"), || async {
        let (_, d) = k.get(&format!("{DEPLOYS}/{name}")).await;
        let s = &d["status"];
        let counts_ok = if n == 0 {
            s.get("replicas").is_none() && s.get("readyReplicas").is_none()
        } else {
            s["replicas"] == n
                && s["readyReplicas"] == n
                && s["availableReplicas"] == n
                && s["updatedReplicas"] == n
        };
        let pods = pods_of(k, &format!("app%3D{name}")).await;
        let running = pods
            .iter()
            .filter(|p| p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null())
            .count() as i64;
        (counts_ok && running == n && pods.len() as i64 == n).then_some(pods)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_lifecycle_scale_heal_update_and_foreground_delete() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    assert_eq!(k.post(DEPLOYS, deployment("web", 2)).await.0, StatusCode::CREATED);
    let pods = ready(&k, "web", 2).await;

    let rs_list = k
        .get("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb")
        .await
        .1;
    let rs = &rs_list["items"][0];
    let rs_name = rs["metadata"]["name"].as_str().unwrap().to_string();
    let hash = rs_name.strip_prefix("web-").unwrap();
    assert_eq!(hash.len(), 10, "{rs_name}");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    assert_eq!(rs["metadata"]["labels"]["pod-template-hash"], hash);
    for pod in &pods {
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert_eq!(
            name.strip_prefix(&format!("{rs_name}-")).unwrap().len(),
            5,
            "{name}"
        );
        assert_eq!(pod["metadata"]["labels"]["tacker_vnf_instance_id"], "vnf-1");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["name"], rs_name.as_str());
        assert!(pod["status"]["podIP"].as_str().unwrap().starts_with("10.244."));
        let ready = pod["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        assert!(ready);
    }

    // /scale: GET, PUT and PATCH.
    let (status, scale) = k.get(&format!("{DEPLOYS}/web/scale")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (scale["kind"].as_str(), scale["apiVersion"].as_str()),
        (Some("Scale"), Some("autoscaling/v1"))
    );
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");
    let mut put = scale.clone();
    put["spec"]["replicas"] = json!(3);
    let (status, scaled) = k.put(&format!("{DEPLOYS}/web/scale"), put).await;
    assert_eq!((status, &scaled["spec"]["replicas"]), (StatusCode::OK, &json!(3)));
    let pods = ready(&k, "web", 3).await;
    let (status, _) = k.put(&format!("{DEPLOYS}/web/scale"), scale).await;
    assert_eq!(status, StatusCode::CONFLICT, "stale resourceVersion in the Scale");
    let (status, _) = k
        .send(
            Method::PATCH,
            &format!("{DEPLOYS}/web/scale"),
            Some(("application/merge-patch+json", json!({"spec": {"replicas": 1}}))),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let pods_after = ready(&k, "web", 1).await;
    assert!(names(&pods).contains(&names(&pods_after)[0]));

    // Heal: a deleted pod is replaced under a new name.
    let victim = names(&pods_after)[0].clone();
    let (status, body) = k.delete(&format!("{PODS}/{victim}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kind"], "Pod");
    assert!(body["metadata"]["deletionTimestamp"].is_string());
    let healed = eventually(10, "replacement pod", || async {
        let pods = ready(&k, "web", 1).await;
        (!names(&pods).contains(&victim)).then_some(pods)
    })
    .await;
    assert_ne!(names(&healed)[0], victim);

    // Update: a new template rolls out a new ReplicaSet.
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}}}});
    assert_eq!(
        k.merge_patch(&format!("{DEPLOYS}/web"), patch).await.0,
        StatusCode::OK
    );
    let updated = eventually(10, "rolled out", || async {
        let pods = ready(&k, "web", 1).await;
        (pods[0]["spec"]["containers"][0]["image"] == "nginx:1.28").then_some(pods)
    })
    .await;
    assert!(!names(&updated).contains(&names(&healed)[0]));
    // created (1), scaled by PUT (2) and PATCH (3) /scale, new template (4).
    assert_eq!(
        k.get(&format!("{DEPLOYS}/web")).await.1["metadata"]["generation"],
        4
    );

    // Foreground delete: the owner waits for its dependents.
    let (status, body) = k
        .delete(
            &format!("{DEPLOYS}/web"),
            Some(json!({"propagationPolicy": "Foreground"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(body["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    eventually(10, "deployment gone", || async {
        (k.get(&format!("{DEPLOYS}/web")).await.0 == StatusCode::NOT_FOUND).then_some(())
    })
    .await;
    assert!(
        pods_of(&k, "app%3Dweb").await.is_empty(),
        "pods went before the deployment"
    );
    assert!(kube.objects("replicasets", Some("default")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_and_orphan_deletion() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    k.post(DEPLOYS, deployment("bg", 1)).await;
    k.post(DEPLOYS, deployment("orphan", 1)).await;
    ready(&k, "bg", 1).await;
    ready(&k, "orphan", 1).await;
    let (status, body) = k
        .delete(&format!("{DEPLOYS}/bg?propagationPolicy=Background"), None)
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("Success"))
    );
    eventually(10, "bg pods collected", || async {
        pods_of(&k, "app%3Dbg").await.is_empty().then_some(())
    })
    .await;

    let (status, _) = k
        .delete(
            &format!("{DEPLOYS}/orphan"),
            Some(json!({"propagationPolicy": "Orphan"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    eventually(10, "orphan deployment gone", || async {
        (k.get(&format!("{DEPLOYS}/orphan")).await.0 == StatusCode::NOT_FOUND).then_some(())
    })
    .await;
    let rs = kube
        .objects("replicasets", Some("default"))
        .into_iter()
        .find(|rs| rs["metadata"]["labels"]["app"] == "orphan")
        .expect("the orphaned ReplicaSet stays");
    assert!(rs["metadata"]["ownerReferences"]
        .as_array()
        .is_none_or(|r| r.is_empty()));
    assert_eq!(pods_of(&k, "app%3Dorphan").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_daemonset_job_service_and_pvc() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    let template = |app: &str| {
        json!({"metadata": {"labels": {"app": app}},
               "spec": {"containers": [{"name": "c", "image": "busybox", "ports": [{"name": "http", "containerPort": 8080}]}]}})
    };
    let sts = json!({
        "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": template("db"),
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]},
    });
    assert_eq!(
        k.post("/apis/apps/v1/namespaces/default/statefulsets", sts)
            .await
            .0,
        StatusCode::CREATED
    );
    let ds = json!({"metadata": {"name": "agent"},
                    "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent")}});
    assert_eq!(
        k.post("/apis/apps/v1/namespaces/default/daemonsets", ds).await.0,
        StatusCode::CREATED
    );
    let job = json!({"metadata": {"name": "once"}, "spec": {"template": template("once")}});
    assert_eq!(
        k.post("/apis/batch/v1/namespaces/default/jobs", job).await.0,
        StatusCode::CREATED
    );
    let svc = json!({"metadata": {"name": "db"},
                     "spec": {"selector": {"app": "db"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}});
    let (status, svc) = k.post("/api/v1/namespaces/default/services", svc).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(svc["spec"]["clusterIP"].as_str().unwrap().starts_with("10.96."));
    let pvc = json!({"metadata": {"name": "claim"},
                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}});
    assert_eq!(
        k.post("/api/v1/namespaces/default/persistentvolumeclaims", pvc)
            .await
            .0,
        StatusCode::CREATED
    );

    eventually(10, "statefulset ready", || async {
        let s = k.get("/apis/apps/v1/namespaces/default/statefulsets/db").await.1["status"].clone();
        (s["replicas"] == 2 && s["readyReplicas"] == 2 && s["currentReplicas"] == 2).then_some(())
    })
    .await;
    assert_eq!(names(&pods_of(&k, "app%3Ddb").await), vec!["db-0", "db-1"]);
    for claim in ["data-db-0", "data-db-1", "claim"] {
        eventually(5, "pvc bound", || async {
            let c = k
                .get(&format!(
                    "/api/v1/namespaces/default/persistentvolumeclaims/{claim}"
                ))
                .await
                .1;
            (c["status"]["phase"] == "Bound").then_some(())
        })
        .await;
    }
    let ep = eventually(5, "endpoints", || async {
        let (status, ep) = k.get("/api/v1/namespaces/default/endpoints/db").await;
        (status == StatusCode::OK
            && ep["subsets"][0]["addresses"]
                .as_array()
                .is_some_and(|a| a.len() == 2))
        .then_some(ep)
    })
    .await;
    assert_eq!(
        ep["subsets"][0]["ports"][0]["port"], 8080,
        "named targetPort resolved"
    );

    // A statefulset pod comes back under the same name.
    let old_uid = k.get(&format!("{PODS}/db-0")).await.1["metadata"]["uid"].clone();
    k.delete(&format!("{PODS}/db-0"), None).await;
    eventually(10, "db-0 recreated", || async {
        let (status, p) = k.get(&format!("{PODS}/db-0")).await;
        (status == StatusCode::OK && p["metadata"]["uid"] != old_uid && p["status"]["phase"] == "Running")
            .then_some(())
    })
    .await;

    eventually(10, "daemonset ready", || async {
        let s = k.get("/apis/apps/v1/namespaces/default/daemonsets/agent").await.1["status"].clone();
        (s["desiredNumberScheduled"] == 1 && s["numberReady"] == 1).then_some(())
    })
    .await;
    eventually(10, "job complete", || async {
        let s = k.get("/apis/batch/v1/namespaces/default/jobs/once").await.1["status"].clone();
        let complete = s["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Complete"));
        (s["succeeded"] == 1 && complete).then_some(())
    })
    .await;
    assert_eq!(
        pods_of(&k, "job-name%3Donce").await[0]["status"]["phase"],
        "Succeeded"
    );

    let (_, nodes) = k.get("/api/v1/nodes").await;
    let ready = nodes["items"][0]["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    assert!(ready);
    k.delete("/api/v1/namespaces/default/services/db", None).await;
    eventually(5, "endpoints removed", || async {
        (k.get("/api/v1/namespaces/default/endpoints/db").await.0 == StatusCode::NOT_FOUND).then_some(())
    })
    .await;
}
