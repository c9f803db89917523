//! Static tokens, the token file format, basic auth, anonymous requests and the exact 401.

use reqwest::StatusCode;
use tacker_fake_kube::{parse_token_file, Authorization, FakeKube, FakeKubeConfig, Rbac, UserInfo};

use crate::support::{http, Kube, UNAUTHORIZED};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_basic_auth_and_anonymous() {
    let mut config = FakeKubeConfig::default()
        .with_basic_user("admin", "pw", UserInfo::new("basic-admin").with_groups(["ops"]))
        .with_anonymous(false);
    for (token, user) in parse_token_file("t-alice,alice,u1,\"dev,ops\"\n").unwrap() {
        config = config.with_token(&token, user);
    }
    let kube = FakeKube::start(config).await.unwrap();
    let client = http(kube.ca_pem());
    let url = format!("{}/api/v1/namespaces/default/pods", kube.url());

    assert_eq!(
        Kube::with_token(&kube, "t-alice")
            .get("/api/v1/namespaces/default/pods")
            .await
            .0,
        StatusCode::OK
    );
    let entry = kube.audit().pop().unwrap();
    assert_eq!(entry.user.as_deref(), Some("alice"));
    assert_eq!(entry.groups, vec!["dev", "ops", "system:authenticated"]);

    let basic = client
        .get(&url)
        .basic_auth("admin", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    assert_eq!(kube.audit().pop().unwrap().user.as_deref(), Some("basic-admin"));
    assert!(kube.audit().pop().unwrap().token_sha256.is_none());

    for request in [
        client.get(&url),
        client.get(&url).bearer_auth("wrong"),
        client.get(&url).basic_auth("admin", Some("bad")),
        client.get(&url).header("authorization", "Negotiate abc"),
        client.get(format!("{}/version", kube.url())),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.text().await.unwrap(), UNAUTHORIZED);
    }
    let failed = kube.audit().pop().unwrap();
    assert_eq!((failed.user, failed.status), (None, 401));

    let anonymous = FakeKube::start(
        FakeKubeConfig::default()
            .with_anonymous(true)
            .with_authorization(Authorization::Rbac(Rbac::new())),
    )
    .await
    .unwrap();
    let response = http(anonymous.ca_pem())
        .get(format!("{}/api/v1/namespaces/default/pods", anonymous.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
}
