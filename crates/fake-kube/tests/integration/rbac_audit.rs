//! The tiny RBAC (403 wording of the real authorizer) and the audit log.

use reqwest::StatusCode;
use serde_json::json;
use tacker_fake_kube::{sha256_hex, Authorization, FakeKube, FakeKubeConfig, Rbac, Rule, Subject, UserInfo};

use crate::support::{deployment, Kube};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_rules_and_forbidden_messages() {
    let rbac = Rbac::new()
        .rule(Rule::new(Subject::User("x".into()), &["get", "list"], &["pods"]).in_namespaces(&["default"]))
        .rule(Rule::new(Subject::Group("deployers".into()), &["*"], &["deployments"]).in_groups(&["apps"]))
        .rule(Rule::new(
            Subject::User("scaler".into()),
            &["get", "patch"],
            &["deployments/scale"],
        ));
    let kube = FakeKube::start(
        FakeKubeConfig::default()
            .with_token("tx", UserInfo::new("x"))
            .with_token("td", UserInfo::new("d").with_groups(["deployers"]))
            .with_token("ts", UserInfo::new("scaler"))
            .with_authorization(Authorization::Rbac(rbac)),
    )
    .await
    .unwrap();
    let (x, d, s, admin) = (
        Kube::with_token(&kube, "tx"),
        Kube::with_token(&kube, "td"),
        Kube::with_token(&kube, "ts"),
        Kube::admin(&kube),
    );
    assert_eq!(x.get("/api/v1/namespaces/default/pods").await.0, StatusCode::OK);
    assert_eq!(
        x.get("/api").await.0,
        StatusCode::OK,
        "discovery for every authenticated user"
    );
    let (status, body) = x.get("/api/v1/namespaces/kube-system/pods").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "pods is forbidden: User \"x\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"",
               "reason": "Forbidden", "details": {"kind": "pods"}, "code": 403})
    );
    let (_, body) = x.get("/api/v1/namespaces/default/secrets/s1").await;
    assert_eq!(
        body["message"],
        "secrets \"s1\" is forbidden: User \"x\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\""
    );
    let (_, body) = x.get("/api/v1/nodes").await;
    assert_eq!(
        body["message"],
        "nodes is forbidden: User \"x\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
    );

    let deploys = "/apis/apps/v1/namespaces/default/deployments";
    assert_eq!(d.post(deploys, deployment("w", 1)).await.0, StatusCode::CREATED);
    let (status, body) = d.get(&format!("{deploys}/w/scale")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "deployments.apps \"w\" is forbidden: User \"d\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"default\""
    );
    assert_eq!(s.get(&format!("{deploys}/w/scale")).await.0, StatusCode::OK);
    assert_eq!(s.get(&format!("{deploys}/w")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        admin.get("/api/v1/nodes").await.0,
        StatusCode::OK,
        "system:masters"
    );

    kube.set_authorization(Authorization::Rbac(Rbac::new().allow_all_for_user("x")));
    assert_eq!(x.get("/api/v1/nodes").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_audited() {
    let kube = crate::support::start().await;
    let k = Kube::admin(&kube);
    kube.clear_audit();
    k.post(
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "a"}}),
    )
    .await;
    k.get("/api/v1/namespaces/default/configmaps/a?x=1").await;
    k.delete("/api/v1/namespaces/default/configmaps/a", None).await;
    Kube::with_token(&kube, "bad").get("/api").await;
    let audit = kube.audit();
    let summary: Vec<(String, String, Option<String>, u16)> = audit
        .iter()
        .map(|e| (e.method.clone(), e.verb.clone(), e.name.clone(), e.status))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("POST".into(), "create".into(), None, 201),
            ("GET".into(), "get".into(), Some("a".into()), 200),
            ("DELETE".into(), "delete".into(), Some("a".into()), 200),
            ("GET".into(), "get".into(), None, 401),
        ]
    );
    assert_eq!(audit[1].path, "/api/v1/namespaces/default/configmaps/a");
    assert_eq!(audit[1].query.as_deref(), Some("x=1"));
    assert_eq!(audit[1].namespace.as_deref(), Some("default"));
    assert_eq!(audit[1].user.as_deref(), Some("kubernetes-admin"));
    assert_eq!(audit[1].token_sha256, Some(sha256_hex(kube.admin_token())));
    assert_eq!(audit[3].token_sha256, Some(sha256_hex("bad")));
    assert!(audit.windows(2).all(|w| w[0].time <= w[1].time));
}
