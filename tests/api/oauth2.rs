//! Every API behind external OAuth2 token introspection, against a real authorization
//! server (oidc-provider, tests/idp): each client authentication method, claim mapping,
//! project isolation, expiry, revocation, certificate-bound tokens, and outages.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tacker_auth::oauth2::{http_client, ClientAuth, ClientCredentials};
use tacker_common::ini::IniFiles;
use tacker_common::Config;
use tacker_testkit::idp::idp;
use tacker_testkit::{backend_tests, with_backend, TestApp, TestBackend};

use crate::helpers::{k8s_vim, tacker_error};

const METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
];

async fn app_with(backend: TestBackend, conf: &str) -> Option<TestApp> {
    TestApp::builder(backend).conf(conf).spawn().await
}

async fn get_vims(app: &TestApp, token: Option<&str>) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app.request(Method::GET, "/v1.0/vims.json");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.unwrap(), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_authentication_method_introspects() {
    let idp = idp();
    let token = idp.token("alice").await;
    for method in METHODS {
        let app = app_with(TestBackend::Sqlite, &idp.tacker_conf(method))
            .await
            .unwrap();
        let (status, body, _) = get_vims(&app, Some(&token)).await;
        assert_eq!(status, 200, "{method}: {body}");

        let (status, body, headers) = get_vims(&app, None).await;
        tacker_error(status, &body, 401, "HTTPUnauthorized");
        assert_eq!(
            headers["www-authenticate"],
            format!("Authorization OAuth 2.0 uri=\"{}\"", idp.issuer).as_str(),
            "{method}"
        );
        let (status, body, _) = get_vims(&app, Some("not-a-token")).await;
        tacker_error(status, &body, 401, "HTTPUnauthorized");
    }
}

/// Registers a VIM with alice's token: it belongs to her token's project (the identity
/// comes from the claims). Its id.
async fn vim_of_project_a(app: &TestApp, alice: &str) -> String {
    let (status, body) = app
        .send(
            app.request(Method::POST, "/v1.0/vims.json")
                .bearer_auth(alice)
                .json(&k8s_vim("a-vim", None)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["vim"]["tenant_id"], "project-a");
    body["vim"]["id"].as_str().unwrap().to_string()
}

async fn isolation(backend: TestBackend) {
    let idp = idp();
    let Some(app) = app_with(backend, &idp.tacker_conf("client_secret_basic")).await else {
        return;
    };
    let (alice, bob, root, carol) = (
        idp.token("alice").await,
        idp.token("bob").await,
        idp.token("root").await,
        idp.token("carol").await,
    );

    let id = vim_of_project_a(&app, &alice).await;

    let (_, body, _) = get_vims(&app, Some(&bob)).await;
    assert_eq!(body, json!({"vims": []}));
    let (status, body) = app
        .send(
            app.request(Method::GET, &format!("/v1.0/vims/{id}.json"))
                .bearer_auth(&bob),
        )
        .await;
    tacker_error(status, &body, 404, "VimNotFoundException");
    let (status, _) = app
        .send(
            app.request(Method::DELETE, &format!("/v1.0/vims/{id}.json"))
                .bearer_auth(&bob),
        )
        .await;
    assert_eq!(status, 404);
    // Identity headers sent by the client are not believed.
    let (_, body) = app
        .send(
            app.request(Method::GET, "/v1.0/vims.json")
                .bearer_auth(&bob)
                .header("X-Project-Id", "project-a")
                .header("X-Roles", "admin"),
        )
        .await;
    assert_eq!(body, json!({"vims": []}));

    // Roles as a JSON list work too; admins see every project's VIMs.
    let (_, body, _) = get_vims(&app, Some(&carol)).await;
    assert_eq!(body["vims"][0]["id"], id.as_str());
    let (_, body, _) = get_vims(&app, Some(&root)).await;
    assert_eq!(body["vims"].as_array().unwrap().len(), 1);

    // A token without the role claim is refused with 403.
    let (status, body, _) = get_vims(&app, Some(&idp.token("noroles").await)).await;
    tacker_error(status, &body, 403, "HTTPForbidden");
}

backend_tests!(two_projects_tokens_are_isolated => isolation, setup = with_backend);

/// A pipeline without `keystonecontext` still serves the token's caller, not the noauth
/// fallback's admin: the application takes the identity the token filter verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keystonecontext_the_token_still_decides_the_caller() {
    let idp = idp();
    let dir = tempfile::tempdir().unwrap();
    let stock = tacker_testkit::repo_api_paste_external_oauth2();
    let paste = std::fs::read_to_string(&stock)
        .unwrap()
        .replace(" keystonecontext ", " ");
    assert!(
        !paste.contains("keystonecontext "),
        "every pipeline lost its context filter"
    );
    let custom = dir.path().join("api-paste.ini");
    std::fs::write(&custom, paste).unwrap();
    let conf = idp
        .tacker_conf("client_secret_basic")
        .replace(&stock.display().to_string(), &custom.display().to_string());
    let Some(app) = app_with(TestBackend::Sqlite, &conf).await else {
        return;
    };
    let (alice, bob) = (idp.token("alice").await, idp.token("bob").await);
    vim_of_project_a(&app, &alice).await;
    let (status, body, _) = get_vims(&app, Some(&bob)).await;
    assert_eq!((status, body), (200, json!({"vims": []})), "bob is no admin");
    let (status, _, _) = get_vims(&app, None).await;
    assert_eq!(status, 401, "the token filter still guards the API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_even_from_the_cache() {
    let idp = idp();
    // Cached for 300 s, but the token lives 2 s: the cache must not outlive it.
    let app = app_with(TestBackend::Sqlite, &idp.tacker_conf("client_secret_basic"))
        .await
        .unwrap();
    let token = idp.token("shortlived").await;
    let (status, _, _) = get_vims(&app, Some(&token)).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let (status, body, _) = get_vims(&app, Some(&token)).await;
    tacker_error(status, &body, 401, "HTTPUnauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_once_the_cache_expires() {
    let idp = idp();
    let conf = format!("{}token_cache_time = 1\n", idp.tacker_conf("client_secret_post"));
    let app = app_with(TestBackend::Sqlite, &conf).await.unwrap();
    let token = idp.token("alice").await;
    assert_eq!(get_vims(&app, Some(&token)).await.0, 200);
    idp.revoke(&token).await;
    assert_eq!(idp.introspect(&token).await["active"], false);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body, _) = get_vims(&app, Some(&token)).await;
    tacker_error(status, &body, 401, "HTTPUnauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_silent_authorization_server_is_a_prompt_503() {
    let idp = idp();
    let token = idp.token("alice").await;
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // This one accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    for endpoint in [
        format!("http://{closed}/introspect"),
        format!("http://{silent_addr}/introspect"),
    ] {
        let conf = idp
            .tacker_conf("client_secret_basic")
            .replace(&idp.introspection_endpoint, &endpoint)
            + "http_connect_timeout = 1\n";
        let app = app_with(TestBackend::Sqlite, &conf).await.unwrap();
        let started = Instant::now();
        let (status, body, _) = get_vims(&app, Some(&token)).await;
        tacker_error(status, &body, 503, "ServiceUnavailable");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{endpoint}: took {:?}",
            started.elapsed()
        );
        assert!(!body.to_string().contains(&token));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_bound_tokens_fail_closed_without_a_client_certificate() {
    use base64::Engine;
    use sha2::Digest;
    let idp = idp();
    let bound = idp.token("mtls-user").await;
    // The IdP bound the token to the user's certificate (RFC 8705)...
    let introspection = idp.introspect(&bound).await;
    let thumbprint =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&idp.user_cert_der));
    assert_eq!(introspection["cnf"]["x5t#S256"], thumbprint.as_str());
    // ...and over a connection without that certificate the token is refused.
    let conf = format!(
        "{}thumbprint_verify = true\n",
        idp.tacker_conf("client_secret_basic")
    );
    let app = app_with(TestBackend::Sqlite, &conf).await.unwrap();
    let (status, body, headers) = get_vims(&app, Some(&bound)).await;
    tacker_error(status, &body, 401, "HTTPUnauthorized");
    assert!(headers.contains_key("www-authenticate"));
    // A token that is not certificate-bound fails the check too.
    let (status, _, _) = get_vims(&app, Some(&idp.token("alice").await)).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_client_credentials_with_every_method() {
    let idp = idp();
    for method in METHODS {
        let config = Config::from_ini(&IniFiles::parse_str(&idp.tacker_conf(method)).unwrap()).unwrap();
        let options = config.ext_oauth2;
        let auth = ClientAuth::from_options(&options, &idp.token_endpoint).unwrap();
        let source = ClientCredentials::new(
            http_client(&options).unwrap(),
            idp.token_endpoint.clone(),
            auth,
            None,
        );
        let token = source.token().await.unwrap_or_else(|e| panic!("{method}: {e}"));
        let introspection = idp.introspect(&token).await;
        assert_eq!(introspection["active"], true, "{method}");
        assert_eq!(
            introspection["client_id"],
            tacker_testkit::idp::tacker_client_id(method)
        );
        // Reused while valid.
        assert_eq!(source.token().await.unwrap(), token);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_assertions_carry_the_configured_audience() {
    let idp = idp();
    let token = idp.token("alice").await;
    // The IdP accepts assertions addressed to it (the issuer)...
    let app = app_with(TestBackend::Sqlite, &idp.tacker_conf("client_secret_jwt"))
        .await
        .unwrap();
    assert_eq!(get_vims(&app, Some(&token)).await.0, 200);
    // ...and refuses ones addressed elsewhere, so no request gets through.
    let conf = idp.tacker_conf("client_secret_jwt").replace(
        &format!("audience = {}", idp.issuer),
        "audience = https://someone-else.example",
    );
    let app = app_with(TestBackend::Sqlite, &conf).await.unwrap();
    let (status, body, _) = get_vims(&app, Some(&token)).await;
    tacker_error(status, &body, 503, "ServiceUnavailable");
}
