//! The whole CNF path on a Kubernetes VIM with OIDC: the real OpenID provider, the fake
//! kube-apiserver trusting it, tacker-rs with a conductor running the Kubernetes driver.
//! The VIM is registered with python-tackerclient from a vim_config.yaml; the sample CNF
//! is instantiated (v1 and v2), scaled, healed, terminated; the apiserver's audit shows
//! that each operation carried its own fresh id_token on every call.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tacker_driver::TestDriver;
use tacker_fake_kube::{sha256_hex, Authorization, FakeKube, FakeKubeConfig, OidcConfig, Rbac};
use tacker_testkit::idp::{idp, CLIENT_SECRET};
use tacker_testkit::{TestApp, TestBackend};

use crate::lcm_helpers::{expect, v1, v2, wait_op, PROJECT};
use crate::tackerclient::{json_stdout, openstack, openstack_cli};

async fn cluster() -> FakeKube {
    let ca = std::fs::read_to_string(&idp().ca_file).unwrap();
    let oidc = OidcConfig::new(&idp().issuer, "carol")
        .username_prefix("-")
        .ca_pem(&ca)
        .retry_interval(Duration::from_millis(100));
    let config = FakeKubeConfig::default()
        .with_oidc(oidc)
        .with_authorization(Authorization::Rbac(Rbac::new().allow_all_for_user("alice")));
    let kube = FakeKube::start(config).await.unwrap();
    let start = Instant::now();
    while !kube.oidc_initialized() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the fake apiserver never reached the IdP"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kube
}

/// The vim_config.yaml of an OIDC VIM: the cluster's CA and the IdP's in one bundle.
fn vim_config(kube: &FakeKube, client_secret: &str) -> String {
    let bundle = format!(
        "{}{}",
        kube.ca_pem(),
        std::fs::read_to_string(&idp().ca_file).unwrap()
    );
    let indented: String = bundle.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "auth_url: '{}'\noidc_token_url: '{}'\nusername: 'alice'\npassword: 'alice-password'\nclient_id: 'carol'\n\
         client_secret: '{client_secret}'\nproject_name: 'default'\ntype: 'kubernetes'\nssl_ca_cert: |\n{indented}",
        kube.url(),
        idp().token_endpoint
    )
}

async fn app_with_driver() -> (TestApp, tacker_testkit::ConductorHandle) {
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf("[k8s_vim]\nvalidate_on_register = true\n")
        .spawn()
        .await
        .unwrap();
    let settings = tacker_k8s::KubernetesSettings {
        poll_interval: Duration::from_millis(100),
        ..Default::default()
    };
    let conductor = app.spawn_conductor_with(
        Duration::from_secs(30),
        tacker_k8s::drivers(settings),
        Arc::new(TestDriver::new()),
    );
    (app, conductor)
}

/// The distinct id_tokens (by hash) that reached the apiserver since `since`.
fn tokens_since(kube: &FakeKube, since: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for entry in kube.audit().into_iter().skip(since) {
        if let Some(token) = entry.token_sha256 {
            if seen.last() != Some(&token) {
                seen.push(token);
            }
        }
    }
    seen
}

async fn run(app: &TestApp, location: Option<String>) -> Value {
    wait_op(app, &location.unwrap(), &["COMPLETED", "FAILED_TEMP"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_vim_runs_the_sample_cnf() {
    let Some(cli) = openstack_cli() else { return };
    let kube = cluster().await;
    let (app, _conductor) = app_with_driver().await;
    let file = app.state_dir.path().join("vim_config.yaml");
    std::fs::write(&file, vim_config(&kube, CLIENT_SECRET)).unwrap();

    // Registration validates the VIM against the cluster: its namespaces become regions.
    let registered = json_stdout(
        &openstack(
            &cli,
            &app,
            &[
                "vim",
                "register",
                "--config-file",
                file.to_str().unwrap(),
                "--tenant-id",
                PROJECT,
                "--is-default",
                "oidc-vim",
                "-f",
                "json",
            ],
        )
        .await,
    );
    let vim_id = registered["id"].as_str().unwrap().to_string();
    let regions: BTreeSet<String> = registered["placement_attr"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert!(
        regions.contains("default") && regions.contains("kube-system"),
        "{registered}"
    );
    assert!(!registered.to_string().contains("alice-password"));
    crate::lcm_helpers::onboard_as_project(&app).await;

    // v2: instantiate with the VIM by id; every call of the operation carries one token.
    let mark = kube.audit().len();
    let (_, created) = expect(
        v2(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": crate::lcm_helpers::SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let files = json!([
        "Files/kubernetes/configmap.yaml",
        "Files/kubernetes/service.yaml",
        "Files/kubernetes/deployment.yaml",
        "Files/kubernetes/statefulset.yaml"
    ]);
    let body = json!({"flavourId": "simple", "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {"lcm-kubernetes-def-files": files, "namespace": "default"}});
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
        202,
    )
    .await;
    let op = run(&app, location).await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
    let instantiate_tokens = tokens_since(&kube, mark);
    assert_eq!(
        instantiate_tokens.len(),
        1,
        "one id_token for the whole operation"
    );
    assert!(kube.object("deployments", "default", "web").is_some());
    let (_, instance) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    let pods: Vec<Value> = instance["instantiatedVnfInfo"]["vnfcResourceInfo"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(pods.len(), 2, "{instance}");
    assert!(pods
        .iter()
        .any(|p| p["computeResource"]["vimLevelResourceType"] == "StatefulSet"));

    // Scale out and in, heal: each operation with a fresh token.
    let mut all_tokens = instantiate_tokens.clone();
    for body in [
        json!({"type": "SCALE_OUT", "aspectId": "web_aspect", "numberOfSteps": 2}),
        json!({"type": "SCALE_IN", "aspectId": "web_aspect"}),
    ] {
        let mark = kube.audit().len();
        let (location, _) = expect(
            v2(&app, Method::POST, &format!("/vnf_instances/{id}/scale")).json(&body),
            202,
        )
        .await;
        assert_eq!(run(&app, location).await["operationState"], "COMPLETED");
        let tokens = tokens_since(&kube, mark);
        assert_eq!(tokens.len(), 1);
        assert!(!all_tokens.contains(&tokens[0]), "a fresh id_token per operation");
        all_tokens.extend(tokens);
    }
    let web = kube.object("deployments", "default", "web").unwrap();
    assert_eq!(web["spec"]["replicas"], 2);
    let (_, instance) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    let victim = instance["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/heal"))
            .json(&json!({"vnfcInstanceId": [victim]})),
        202,
    )
    .await;
    assert_eq!(run(&app, location).await["operationState"], "COMPLETED");
    let (_, healed) = expect(v2(&app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    assert!(
        !healed.to_string().contains(&format!("\"{victim}\"")) || victim.starts_with("kv-"),
        "the pod was replaced"
    );

    let mark = kube.audit().len();
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/terminate"))
            .json(&json!({"terminationType": "FORCEFUL"})),
        202,
    )
    .await;
    assert_eq!(run(&app, location).await["operationState"], "COMPLETED");
    let tokens = tokens_since(&kube, mark);
    assert_eq!(tokens.len(), 1);
    assert!(!all_tokens.contains(&tokens[0]));
    assert!(kube.object("deployments", "default", "web").is_none());
    expect(v2(&app, Method::DELETE, &format!("/vnf_instances/{id}")), 204).await;

    // v1 with the project's default VIM.
    let (_, created) = expect(
        v1(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": crate::lcm_helpers::SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let body = json!({"flavourId": "simple", "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml", "Files/kubernetes/statefulset.yaml"]}});
    let (location, _) = expect(
        v1(&app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
        202,
    )
    .await;
    assert_eq!(run(&app, location).await["operationState"], "COMPLETED");
    let (location, _) = expect(
        v1(&app, Method::POST, &format!("/vnf_instances/{id}/terminate"))
            .json(&json!({"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 5})),
        202,
    )
    .await;
    assert_eq!(run(&app, location).await["operationState"], "COMPLETED");

    // Nothing secret reached the audit: only hashes of the tokens.
    let audit = format!("{:?}", kube.audit());
    assert!(!audit.contains("alice-password") && !audit.contains(CLIENT_SECRET));
    let _ = sha256_hex("");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_failures_end_failed_temp_with_a_clear_error() {
    let kube = cluster().await;
    let (app, _conductor) = app_with_driver().await;
    crate::lcm_helpers::onboard_as_project(&app).await;
    let kube_ca = kube.ca_pem().to_string();
    let idp_ca = std::fs::read_to_string(&idp().ca_file).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let access = |secret: &str, token_url: &str| json!({"oidc_token_url": token_url, "username": "alice", "password": "alice-password", "client_id": "carol", "client_secret": secret});
    let cases = [
        (
            "wrong client secret",
            access("not-the-secret", &idp().token_endpoint),
            format!("{kube_ca}{idp_ca}"),
            "response code: 401, invalid_client",
        ),
        (
            "IdP down",
            access(CLIENT_SECRET, &format!("https://{closed}/token")),
            format!("{kube_ca}{idp_ca}"),
            "could not connect",
        ),
        (
            "apiserver CA mismatch",
            access(CLIENT_SECRET, &idp().token_endpoint),
            idp_ca.clone(),
            "TLS",
        ),
    ];
    for (case, access, bundle, expected) in cases {
        let (_, created) = expect(
            v2(&app, Method::POST, "/vnf_instances")
                .json(&json!({"vnfdId": crate::lcm_helpers::SAMPLE_VNFD_ID})),
            201,
        )
        .await;
        let id = created["id"].as_str().unwrap().to_string();
        let body = json!({"flavourId": "simple",
            "vimConnectionInfo": {"vim1": {"vimType": "kubernetes", "accessInfo": access, "interfaceInfo": {"endpoint": kube.url(), "ssl_ca_cert": bundle}}},
            "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml", "Files/kubernetes/statefulset.yaml"]}});
        let (location, _) = expect(
            v2(&app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
            202,
        )
        .await;
        let op = run(&app, location).await;
        assert_eq!(op["operationState"], "FAILED_TEMP", "{case}: {op}");
        let detail = op["error"]["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{case}: {detail}");
        let shown = op.to_string();
        assert!(
            !shown.contains("alice-password")
                && !shown.contains("not-the-secret")
                && !shown.contains(CLIENT_SECRET),
            "{case}: {shown}"
        );
    }

    // RBAC: a user the cluster does not authorise gets the apiserver's 403 message.
    kube.set_authorization(Authorization::Rbac(Rbac::new().allow_user(
        "alice",
        &["get", "list"],
        &["namespaces"],
    )));
    let (_, created) = expect(
        v2(&app, Method::POST, "/vnf_instances").json(&json!({"vnfdId": crate::lcm_helpers::SAMPLE_VNFD_ID})),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let body = json!({"flavourId": "simple",
        "vimConnectionInfo": {"vim1": {"vimType": "kubernetes", "accessInfo": access(CLIENT_SECRET, &idp().token_endpoint), "interfaceInfo": {"endpoint": kube.url(), "ssl_ca_cert": format!("{kube_ca}{idp_ca}")}}},
        "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml", "Files/kubernetes/statefulset.yaml"]}});
    let (location, _) = expect(
        v2(&app, Method::POST, &format!("/vnf_instances/{id}/instantiate")).json(&body),
        202,
    )
    .await;
    let op = run(&app, location).await;
    assert_eq!(op["operationState"], "FAILED_TEMP");
    assert!(
        op["error"]["detail"].as_str().unwrap().contains("forbidden"),
        "{op}"
    );

    // A VIM whose credentials fail is refused at registration with the reason.
    let bad = json!({"vim": {"type": "kubernetes", "name": "bad", "tenant_id": PROJECT, "auth_url": kube.url(),
        "auth_cred": access("not-the-secret", &idp().token_endpoint).as_object().unwrap().clone().into_iter()
            .chain([("ssl_ca_cert".to_string(), json!(format!("{kube_ca}{idp_ca}")))]).collect::<serde_json::Map<_, _>>(),
        "vim_project": {"name": "default"}}});
    let (status, body) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&bad))
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["TackerError"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Kubernetes VIM validation failed") && message.contains("invalid_client"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"));
}
