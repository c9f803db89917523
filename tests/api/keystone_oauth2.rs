//! Keystone as the OAuth 2.0 authorization server, as Tacker's "Using Keystone as OAuth
//! 2.0 Authorization Server" guide sets it up: application credentials get access
//! tokens from `POST /v3/OS-OAUTH2/token` (client credentials grant), which are Keystone
//! tokens, accepted by `authtoken` as X-Auth-Token and by `oauth2_token` as Bearer; and
//! certificate-bound ones (mutual TLS at Keystone) through `oauth2_mtls_token`.

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::keystone::{keystone, Keystone, KeystoneOptions};
use tacker_testkit::pki::{Issued, TestCa};
use tacker_testkit::{repo_api_paste, TestApp, TestBackend};

use crate::helpers::{k8s_vim, tacker_error};
use crate::keystone_tokens::app_with_keystone;

/// Tacker's api-paste.ini with `filter` instead of `authtoken` in every `keystone`
/// pipeline, as the guide edits it; written to `dir`.
fn paste_with(dir: &std::path::Path, filter: &str, factory: &str) -> String {
    let stock = std::fs::read_to_string(repo_api_paste()).unwrap();
    let edited = stock.replace(
        " authtoken keystonecontext",
        &format!(" {filter} keystonecontext"),
    ) + &format!("\n[filter:{filter}]\npaste.filter_factory = {factory}\n");
    let path = dir.join(format!("api-paste-{filter}.ini"));
    std::fs::write(&path, edited).unwrap();
    format!("[DEFAULT]\napi_paste_config = {}\n", path.display())
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str, header: (&str, String)) -> (u16, Value) {
    let response = client
        .get(app.url(path))
        .header(header.0, header.1)
        .header("Version", "2.0.0")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_access_tokens_are_keystone_tokens() {
    let Some(keystone) = keystone() else { return };
    let alice = keystone.account("alice", &["member"]).await;
    let (client_id, secret) = keystone.application_credential(&alice).await;
    let access_token = keystone
        .oauth2_token(&client_id, Some(&secret), None)
        .await
        .unwrap();
    let (status, _) = keystone
        .oauth2_token(&client_id, Some("wrong-secret"), None)
        .await
        .unwrap_err();
    assert_eq!(status, 401);

    // Through Tacker's api-paste.ini (auth_token): the access token is a Keystone token.
    let app = app_with_keystone(TestBackend::Sqlite, keystone, "")
        .await
        .unwrap();
    let (status, body) = app
        .send(
            app.request(Method::POST, "/v1.0/vims.json")
                .header("X-Auth-Token", &access_token)
                .json(&k8s_vim("oauth2-vim", None)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["vim"]["tenant_id"], alice.project_id.as_str());

    // Through oauth2_token: `Authorization: Bearer`, on every API.
    let dir = tempfile::tempdir().unwrap();
    let conf = paste_with(
        dir.path(),
        "oauth2token",
        "keystonemiddleware.oauth2_token:filter_factory",
    );
    let app = app_with_keystone(TestBackend::Sqlite, keystone, &conf)
        .await
        .unwrap();
    let bearer = ("Authorization", format!("Bearer {access_token}"));
    for path in [
        "/v1.0/vims.json",
        "/vnfpkgm/v1/vnf_packages",
        "/vnflcm/v1/vnf_instances",
        "/vnflcm/v2/vnf_instances",
    ] {
        let (status, body) = get(&app, &app.client, path, bearer.clone()).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    // A password token as X-Auth-Token is refused there (the guide's last check).
    let password_token = keystone.token(&alice).await;
    let response = app
        .request(Method::GET, "/v1.0/vims.json")
        .header("X-Auth-Token", &password_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        format!("Keystone uri=\"{}\"", keystone.url).as_str()
    );
    let body: Value = response.json().await.unwrap();
    tacker_error(401, &body, 401, "HTTPUnauthorized");
    let (status, _) = get(
        &app,
        &app.client,
        "/v1.0/vims.json",
        ("Authorization", "Bearer bogus".into()),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_credential_access_rules_are_enforced() {
    let Some(keystone) = keystone() else { return };
    let alice = keystone.account("alice", &["member"]).await;
    let token = keystone.token(&alice).await;
    let response = keystone
        .client(None)
        .post(format!(
            "{}/users/{}/application_credentials",
            keystone.v3(),
            alice.user_id
        ))
        .header("x-auth-token", &token)
        .json(
            &json!({"application_credential": {"name": "list-vims-only", "access_rules": [
            {"service": "nfv-orchestration", "method": "GET", "path": "/v1.0/vims.json"}]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let credential: Value = response.json().await.unwrap();
    let restricted = keystone
        .oauth2_token(
            credential["application_credential"]["id"].as_str().unwrap(),
            credential["application_credential"]["secret"].as_str(),
            None,
        )
        .await
        .unwrap();

    let app = app_with_keystone(
        TestBackend::Sqlite,
        keystone,
        "[keystone_authtoken]\nservice_type = nfv-orchestration\n",
    )
    .await
    .unwrap();
    let status = |method: Method, path: &'static str| {
        app.request(method, path)
            .header("X-Auth-Token", &restricted)
            .header("Version", "2.0.0")
            .send()
    };
    assert_eq!(
        status(Method::GET, "/v1.0/vims.json").await.unwrap().status(),
        200
    );
    assert_eq!(
        status(Method::POST, "/v1.0/vims.json").await.unwrap().status(),
        401
    );
    assert_eq!(
        status(Method::GET, "/vnflcm/v2/vnf_instances")
            .await
            .unwrap()
            .status(),
        401
    );
    // Without service_type the rules cannot be checked: such tokens are refused.
    let app = app_with_keystone(TestBackend::Sqlite, keystone, "")
        .await
        .unwrap();
    let response = app
        .request(Method::GET, "/v1.0/vims.json")
        .header("X-Auth-Token", &restricted)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// Tacker over HTTPS asking for client certificates from `client_ca`.
fn tacker_tls(dir: &std::path::Path, client_ca: &TestCa) -> (String, TestCa) {
    let server_ca = TestCa::new("tacker server CA");
    let server = server_ca.server();
    let write = |name: &str, content: &str| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let conf = format!(
        "[DEFAULT]\nuse_ssl = true\nssl_cert_file = {}\nssl_key_file = {}\nssl_ca_file = {}\n\
         ssl_client_cert_required = false\n",
        write("tacker.pem", &server.cert_pem).display(),
        write("tacker.key", &server.key_pem).display(),
        write("client-ca.pem", &client_ca.cert_pem).display(),
    );
    (conf, server_ca)
}

fn client(server_ca: &TestCa, identity: Option<&Issued>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(server_ca.cert_pem.as_bytes()).unwrap());
    if let Some(identity) = identity {
        let pem = format!("{}{}", identity.cert_pem, identity.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_bound_access_tokens_through_oauth2_mtls_token() {
    // Keystone over HTTPS, taking client certificates (its OAuth 2.0 mutual-TLS client
    // authentication), with the guide's mapping from the certificate to the user.
    let Some(keystone) = Keystone::start(KeystoneOptions {
        tls: true,
        ..Default::default()
    }) else {
        return;
    };
    let (status, body) = keystone
        .admin_call(
            Method::PUT,
            "/OS-FEDERATION/mappings/oauth2_mapping",
            Some(json!({"mapping": {"rules": [{
                "local": [{"user": {"name": "{0}"}}],
                "remote": [{"type": "SSL_CLIENT_SUBJECT_DN_CN"}]}]}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let tls = keystone.tls.as_ref().unwrap();
    let alice = keystone.account("alice", &["member"]).await;
    let alice_cert = tls.client_ca.client(&alice.user_name);
    let other_cert = tls.client_ca.client("someone-else");
    let bound = keystone
        .oauth2_token(&alice.user_id, None, Some(&alice_cert))
        .await
        .unwrap();
    // A certificate of another user gets no token.
    assert_eq!(
        keystone
            .oauth2_token(&alice.user_id, None, Some(&other_cert))
            .await
            .unwrap_err()
            .0,
        401
    );

    let dir = tempfile::tempdir().unwrap();
    let (tls_conf, tacker_ca) = tacker_tls(dir.path(), &tls.client_ca);
    let conf = paste_with(
        dir.path(),
        "oauth2_mtls_token",
        "keystonemiddleware.oauth2_mtls_token:filter_factory",
    ) + &tls_conf;
    let app = app_with_keystone(TestBackend::Sqlite, &keystone, &conf)
        .await
        .unwrap();
    let bearer = ("Authorization", format!("Bearer {bound}"));

    let with_cert = client(&tacker_ca, Some(&alice_cert));
    for path in ["/v1.0/vims.json", "/vnflcm/v2/vnf_instances"] {
        let (status, body) = get(&app, &with_cert, path, bearer.clone()).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let response = with_cert
        .post(app.url("/v1.0/vims.json"))
        .header("Authorization", format!("Bearer {bound}"))
        .json(&k8s_vim("mtls-vim", None))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["vim"]["tenant_id"], alice.project_id.as_str());

    // The same token over a connection with another certificate, or none: refused.
    let (status, _) = get(
        &app,
        &client(&tacker_ca, Some(&other_cert)),
        "/v1.0/vims.json",
        bearer.clone(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = get(&app, &client(&tacker_ca, None), "/v1.0/vims.json", bearer).await;
    tacker_error(status, &body, 401, "HTTPUnauthorized");
    // A token that is not certificate-bound is refused by this filter.
    let (client_id, secret) = keystone.application_credential(&alice).await;
    let unbound = keystone
        .oauth2_token(&client_id, Some(&secret), None)
        .await
        .unwrap();
    let (status, _) = get(
        &app,
        &with_cert,
        "/v1.0/vims.json",
        ("Authorization", format!("Bearer {unbound}")),
    )
    .await;
    assert_eq!(status, 401);
}
