//! Keystone tokens through Tacker's own api-paste.ini (keystonemiddleware's
//! `auth_token` filter, `[keystone_authtoken]`) against a real Keystone
//! (tacker_testkit::keystone): every API, the identity policies see, project isolation,
//! the cache against revocation and expiry, service tokens, and Keystone outages.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest;
use tacker_testkit::keystone::{keystone, Account, Keystone, KeystoneOptions};
use tacker_testkit::{repo_api_paste, TestApp, TestBackend};

use crate::helpers::{k8s_vim, tacker_error};

/// SHA-256 of etc/tacker/api-paste.ini in Tacker (openstack/tacker at fea54ab7, as in
/// 16.0.0): the repository's api-paste.ini is that file, byte for byte.
const TACKER_API_PASTE_SHA256: &str = "9ae2801bf65d3b4acbcf13bad933438242411e357f62587089e451f5bad88807";

/// A server whose pipelines validate tokens at `keystone` as a service user of its own.
pub(crate) async fn app_with_keystone(
    backend: TestBackend,
    keystone: &Keystone,
    extra: &str,
) -> Option<TestApp> {
    let service = keystone.service_account().await;
    TestApp::builder(backend)
        .conf(&keystone.tacker_conf(&service))
        .conf(extra)
        .spawn()
        .await
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app.request(method, path).header("Version", "2.0.0");
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tackers_api_paste_serves_every_api_with_keystone_tokens() {
    let paste = std::fs::read(repo_api_paste()).unwrap();
    assert_eq!(
        format!("{:x}", sha2::Sha256::digest(&paste)),
        TACKER_API_PASTE_SHA256,
        "api-paste/api-paste.ini must stay Tacker's file, unchanged"
    );
    let Some(keystone) = keystone() else { return };
    let app = app_with_keystone(TestBackend::Sqlite, keystone, "")
        .await
        .unwrap();
    let alice = keystone.account("alice", &["member"]).await;
    let token = keystone.token(&alice).await;

    // Version discovery needs no token, as in Tacker.
    assert_eq!(call(&app, Method::GET, "/", None).await.0, 200);
    for path in [
        "/v1.0/vims.json",
        "/vnfpkgm/v1/vnf_packages",
        "/vnflcm/v1/vnf_instances",
        "/vnflcm/v2/vnf_instances",
        "/vnflcm/v2/vnf_lcm_op_occs",
        "/vnflcm/api_versions",
    ] {
        let (status, body, _) = call(&app, Method::GET, path, Some(&token)).await;
        assert_eq!(status, 200, "{path}: {body}");
        // Without a token, or with one Keystone does not know: 401 in the API's format,
        // pointing at Keystone as keystonemiddleware does.
        let oversized = "a".repeat(9000);
        for bad in [
            None,
            Some("gAAAAABnot-a-keystone-token"),
            Some("not a token"),
            Some(oversized.as_str()),
        ] {
            let (status, body, headers) = call(&app, Method::GET, path, bad).await;
            assert_eq!(status, 401, "{path} {bad:?}: {body}");
            assert_eq!(
                headers["www-authenticate"],
                format!("Keystone uri=\"{}\"", keystone.url).as_str(),
                "{path}"
            );
            if path.starts_with("/v1.0") {
                tacker_error(status, &body, 401, "HTTPUnauthorized");
            } else {
                assert_eq!(headers["content-type"], "application/problem+json", "{path}");
                assert_eq!(body["status"], 401, "{path}: {body}");
            }
        }
    }
    // Fault and performance management are behind the filter too (their own Version).
    assert_eq!(call(&app, Method::GET, "/vnfpm/v2/pm_jobs", None).await.0, 401);
    for (path, version) in [("/vnfpm/v2/pm_jobs", "2.1.0"), ("/vnffm/v1/alarms", "1.3.0")] {
        let response = app
            .request(Method::GET, path)
            .header("Version", version)
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["version"], version, "{path}");
    }
    // The identity comes from the token: a VIM is registered for the token's project.
    let (status, body) = app
        .send(
            app.request(Method::POST, "/v1.0/vims.json")
                .header("X-Auth-Token", &token)
                .json(&k8s_vim("keystone-vim", None)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["vim"]["tenant_id"], alice.project_id.as_str());
    assert!(!body.to_string().contains(&token));
}

async fn isolation(backend: TestBackend) {
    let Some(keystone) = keystone() else { return };
    let Some(app) = app_with_keystone(backend, keystone, "").await else {
        return;
    };
    let alice = keystone.account("alice", &["member"]).await;
    let bob = keystone.account("bob", &["member"]).await;
    let reader = keystone.account("reader", &["reader"]).await;
    // A reader of alice's project.
    keystone.grant(&alice.project_id, &reader.user_id, "reader").await;
    let (alice_token, bob_token) = (keystone.token(&alice).await, keystone.token(&bob).await);
    let reader_token = keystone
        .try_password_token(&reader.user_name, &reader.password, &alice.project_id)
        .await
        .unwrap();

    let (status, body) = app
        .send(
            app.request(Method::POST, "/v1.0/vims.json")
                .header("X-Auth-Token", &alice_token)
                .json(&k8s_vim("alice-vim", None)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let vim_id = body["vim"]["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .send(
            app.request(Method::POST, "/vnflcm/v1/vnf_instances")
                .header("X-Auth-Token", &alice_token)
                .json(&json!({"vnfdId": "5a1e8ff9-7bfa-4b39-9f1f-0f5c7e0d3a11"})),
        )
        .await;
    // An unknown VNFD, but past authentication and policy.
    assert!(
        status == 400 || status == 404 || status == 422,
        "{status}: {body}"
    );

    // bob sees nothing of alice's project, whatever identity headers he sends.
    let (_, body, _) = call(&app, Method::GET, "/v1.0/vims.json", Some(&bob_token)).await;
    assert_eq!(body, json!({"vims": []}));
    let (status, body, _) = call(
        &app,
        Method::GET,
        &format!("/v1.0/vims/{vim_id}.json"),
        Some(&bob_token),
    )
    .await;
    tacker_error(status, &body, 404, "VimNotFoundException");
    let (_, body) = app
        .send(
            app.request(Method::GET, "/v1.0/vims.json")
                .header("X-Auth-Token", &bob_token)
                .header("X-Project-Id", &alice.project_id)
                .header("X-Roles", "admin")
                .header("X-Is-Admin-Project", "True")
                .header("OpenStack-System-Scope", "all"),
        )
        .await;
    assert_eq!(body, json!({"vims": []}));

    // A reader of alice's project is refused every write, and reads what Tacker's
    // policies let readers read (VNF instances; VIMs need a member, as in Tacker).
    let (status, body, _) = call(&app, Method::GET, "/v1.0/vims.json", Some(&reader_token)).await;
    assert_eq!((status, body), (200, json!({"vims": []})));
    let (status, body) = app
        .send(
            app.request(Method::POST, "/v1.0/vims.json")
                .header("X-Auth-Token", &reader_token)
                .json(&k8s_vim("reader-vim", None)),
        )
        .await;
    tacker_error(status, &body, 403, "PolicyNotAuthorized");
    let (status, body) = app
        .send(
            app.request(Method::POST, "/vnflcm/v1/vnf_instances")
                .header("X-Auth-Token", &reader_token)
                .json(&json!({"vnfdId": "5a1e8ff9-7bfa-4b39-9f1f-0f5c7e0d3a11"})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body, _) = call(&app, Method::GET, "/vnflcm/v1/vnf_instances", Some(&reader_token)).await;
    assert_eq!(status, 200, "{body}");

    // Keystone's admin with a system-scoped token is Tacker's admin: every project's VIMs.
    let system_admin = keystone.system_admin_token().await;
    let (status, body, _) = call(&app, Method::GET, "/v1.0/vims.json", Some(&system_admin)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["vims"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["id"] == vim_id.as_str()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projects_are_isolated_and_readers_cannot_write_sqlite() {
    isolation(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projects_are_isolated_and_readers_cannot_write_postgres() {
    isolation(TestBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projects_are_isolated_and_readers_cannot_write_mysql() {
    isolation(TestBackend::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_once_the_cache_time_is_over() {
    let Some(keystone) = keystone() else { return };
    let app = app_with_keystone(
        TestBackend::Sqlite,
        keystone,
        "[keystone_authtoken]\ntoken_cache_time = 2\n",
    )
    .await
    .unwrap();
    let alice = keystone.account("alice", &["member"]).await;
    let token = keystone.token(&alice).await;
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await.0,
        200
    );
    keystone.revoke(&token).await;
    // Within token_cache_time the validation is reused, as keystonemiddleware does...
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await.0,
        200
    );
    tokio::time::sleep(Duration::from_millis(2300)).await;
    // ...after it, Keystone's answer counts.
    let (status, body, _) = call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await;
    tacker_error(status, &body, 401, "HTTPUnauthorized");
    // Other tokens of the same user are not affected.
    let fresh = keystone.token(&alice).await;
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&fresh)).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused_even_from_the_cache_and_service_tokens_may_vouch_for_them() {
    // Keystone's tokens live 4 s here (the service's own too, which is renewed).
    let Some(keystone) = Keystone::start(KeystoneOptions {
        token_expiration: Some(4),
        ..Default::default()
    }) else {
        return;
    };
    let app = app_with_keystone(
        TestBackend::Sqlite,
        &keystone,
        "[keystone_authtoken]\ntoken_cache_time = 300\n",
    )
    .await
    .unwrap();
    let alice = keystone.account("alice", &["member"]).await;
    let service_user = keystone.account("nova", &["service"]).await;
    let token = keystone.token(&alice).await;
    let issued = Instant::now();
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await.0,
        200
    );
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(issued.elapsed())).await;
    // Cached for 300 s, but the token has expired.
    let (status, body, _) = call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await;
    tacker_error(status, &body, 401, "HTTPUnauthorized");

    // A service token with the service role vouches for an expired user token
    // (keystonemiddleware's allow_expired); one without that role does not.
    let service_token = keystone.token(&service_user).await;
    let (status, body) = app
        .send(
            app.request(Method::GET, "/v1.0/vims.json")
                .header("X-Auth-Token", &token)
                .header("X-Service-Token", &service_token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let member_token = keystone
        .token(&keystone.account("carol", &["member"]).await)
        .await;
    let (status, _) = app
        .send(
            app.request(Method::GET, "/v1.0/vims.json")
                .header("X-Auth-Token", &token)
                .header("X-Service-Token", &member_token),
        )
        .await;
    assert_eq!(status, 401);

    // New tokens keep working: the service's own expired token was renewed.
    let fresh = keystone.token(&alice).await;
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&fresh)).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_tokens_must_be_valid_service_tokens() {
    let Some(keystone) = keystone() else { return };
    let app = app_with_keystone(TestBackend::Sqlite, keystone, "")
        .await
        .unwrap();
    let alice = keystone.account("alice", &["member"]).await;
    let user_token = keystone.token(&alice).await;
    let service_token = keystone
        .token(&keystone.account("nova", &["service"]).await)
        .await;
    let member_token = keystone
        .token(&keystone.account("mallory", &["member"]).await)
        .await;
    let get = |service: Option<&str>| {
        let mut request = app
            .request(Method::GET, "/v1.0/vims.json")
            .header("X-Auth-Token", &user_token);
        if let Some(service) = service {
            request = request.header("X-Service-Token", service);
        }
        request.send()
    };
    assert_eq!(get(Some(&service_token)).await.unwrap().status(), 200);
    // A service token Keystone does not know, or one without the service role
    // (service_token_roles_required), fails the request.
    assert_eq!(get(Some("gAAAAABbogus")).await.unwrap().status(), 401);
    assert_eq!(get(Some(&member_token)).await.unwrap().status(), 401);
    // A service token alone is not a user.
    let response = app
        .request(Method::GET, "/v1.0/vims.json")
        .header("X-Service-Token", &service_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // service_token_roles_required = false: any valid token is accepted as one.
    let lenient = app_with_keystone(
        TestBackend::Sqlite,
        keystone,
        "[keystone_authtoken]\nservice_token_roles_required = false\n",
    )
    .await
    .unwrap();
    let response = lenient
        .request(Method::GET, "/v1.0/vims.json")
        .header("X-Auth-Token", &user_token)
        .header("X-Service-Token", &member_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystone_down_is_a_prompt_503_and_service_resumes_without_a_restart() {
    let Some(keystone) = Keystone::start(KeystoneOptions::default()) else {
        return;
    };
    let app = app_with_keystone(TestBackend::Sqlite, &keystone, "")
        .await
        .unwrap();
    let alice: Account = keystone.account("alice", &["member"]).await;
    let seen = keystone.token(&alice).await;
    let unseen = keystone.token(&alice).await;
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&seen)).await.0,
        200
    );

    keystone.stop();
    // A validation already made stays valid from the cache...
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&seen)).await.0,
        200
    );
    // ...a new token cannot be checked: a prompt 503 in each API's format.
    for path in ["/v1.0/vims.json", "/vnflcm/v2/vnf_instances"] {
        let started = Instant::now();
        let (status, body, _) = call(&app, Method::GET, path, Some(&unseen)).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path}: {:?}",
            started.elapsed()
        );
        if path.starts_with("/v1.0") {
            tacker_error(status, &body, 503, "ServiceUnavailable");
        } else {
            assert_eq!(status, 503, "{body}");
            assert_eq!(body["status"], 503);
        }
        assert!(!body.to_string().contains(&unseen));
    }

    keystone.restart();
    let (status, body, _) = call(&app, Method::GET, "/v1.0/vims.json", Some(&unseen)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_starts_while_keystone_is_down() {
    let Some(keystone) = Keystone::start(KeystoneOptions::default()) else {
        return;
    };
    let alice = keystone.account("alice", &["member"]).await;
    let token = keystone.token(&alice).await;
    let service = keystone.service_account().await;
    keystone.stop();
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&keystone.tacker_conf(&service))
        .spawn()
        .await
        .unwrap();
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await.0,
        503
    );
    keystone.restart();
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_service_credentials_are_a_503_without_the_password() {
    let Some(keystone) = keystone() else { return };
    let mut service = keystone.service_account().await;
    service.password = "not-the-service-password".into();
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&keystone.tacker_conf(&service))
        .spawn()
        .await
        .unwrap();
    let token = keystone
        .token(&keystone.account("alice", &["member"]).await)
        .await;
    let (status, body, _) = call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await;
    tacker_error(status, &body, 503, "ServiceUnavailable");
    assert!(!body.to_string().contains("not-the-service-password"));
    // A user without the service role cannot validate tokens either.
    let member = keystone.account("plain", &["member"]).await;
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&keystone.tacker_conf(&member))
        .spawn()
        .await
        .unwrap();
    // Keystone lets a user validate its own token, so validate someone else's.
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await.0,
        503
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_auth_decision_leaves_the_refusal_to_keystonecontext() {
    let Some(keystone) = keystone() else { return };
    let app = app_with_keystone(
        TestBackend::Sqlite,
        keystone,
        "[keystone_authtoken]\ndelay_auth_decision = true\n",
    )
    .await
    .unwrap();
    // Passed on without an identity; keystonecontext finds no user: 401, and the filter
    // adds where to authenticate.
    let (status, body, headers) = call(&app, Method::GET, "/v1.0/vims.json", Some("bogus")).await;
    tacker_error(status, &body, 401, "HTTPUnauthorized");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Keystone uri="));
    // keystonecontext then reads identity headers, and the client's own were removed.
    let response = app
        .request(Method::GET, "/v1.0/vims.json")
        .header("X-Auth-Token", "bogus")
        .header("X-User-Id", "mallory")
        .header("X-Project-Id", "victim")
        .header("X-Roles", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let token = keystone
        .token(&keystone.account("alice", &["member"]).await)
        .await;
    assert_eq!(
        call(&app, Method::GET, "/v1.0/vims.json", Some(&token)).await.0,
        200
    );
}
