//! `tacker-manage vim-config` writes a vim_config.yaml that `tacker-manage vim register`
//! (and python-tackerclient) can register; the server then lists the VIM. `vim register`
//! checks the cluster as `POST /v1.0/vims` does; `vim-config` and `ca` run without a
//! tacker.conf, and `ca init` prints the tacker.conf lines to paste.

use clap::Parser;
use reqwest::Method;
use tacker_fake_kube::{FakeKube, FakeKubeConfig};
use tacker_manage::Cli;
use tacker_testkit::{pki, TestApp, TestBackend};

fn manage(app: &TestApp, args: &[&str]) -> Cli {
    let conf = app.conf_path.to_str().unwrap().to_string();
    let mut argv = vec!["tacker-manage".to_string(), "--config-file".into(), conf];
    argv.extend(args.iter().map(|s| s.to_string()));
    Cli::try_parse_from(argv).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_vim_config_registers() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let dir = app.state_dir.path();
    let (cluster_ca, idp_ca) = (dir.join("cluster-ca.pem"), dir.join("idp-ca.pem"));
    std::fs::write(&cluster_ca, pki::ca_pem("cluster CA")).unwrap();
    std::fs::write(&idp_ca, pki::ca_pem("IdP CA")).unwrap();
    let vim_config = dir.join("vim_config.yaml");
    tacker_manage::run(manage(
        &app,
        &[
            "vim-config",
            "--endpoint",
            "https://10.0.0.10:6443",
            "--oidc-token-url",
            "https://idp.example:8443/token",
            "--username",
            "alice",
            "--password",
            "alice-password",
            "--client-id",
            "tacker",
            "--client-secret",
            "idp-secret",
            "--ca-file",
            cluster_ca.to_str().unwrap(),
            "--ca-file",
            idp_ca.to_str().unwrap(),
            "--output",
            vim_config.to_str().unwrap(),
        ],
    ))
    .await
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&vim_config).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let text = std::fs::read_to_string(&vim_config).unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2, "{text}");

    tacker_manage::run(manage(
        &app,
        &[
            "vim",
            "register",
            "--vim-config-file",
            vim_config.to_str().unwrap(),
            "--tenant-id",
            "project-a",
            "--is-default",
            "oidc-cluster",
        ],
    ))
    .await
    .unwrap();
    let (status, body) = app.send(app.request(Method::GET, "/v1.0/vims.json")).await;
    assert_eq!(status, 200);
    let vim = &body["vims"][0];
    assert_eq!(vim["name"], "oidc-cluster");
    assert_eq!(vim["is_default"], true);
    assert_eq!(
        vim["auth_cred"]["oidc_token_url"],
        "https://idp.example:8443/token"
    );
    assert_eq!(vim["auth_cred"]["password"], "***");
    assert_eq!(vim["auth_cred"]["client_secret"], "***");
    assert!(!body.to_string().contains("alice-password") && !body.to_string().contains("idp-secret"));
}

/// Writes a vim_config.yaml for `kube` with `token`, as an operator would.
async fn fake_cluster_vim_config(app: &TestApp, kube: &FakeKube, token: &str) -> std::path::PathBuf {
    let dir = app.state_dir.path();
    let ca = dir.join("fake-kube-ca.pem");
    std::fs::write(&ca, kube.ca_pem()).unwrap();
    let file = dir.join(format!("vim-{token}.yaml"));
    tacker_manage::run(manage(
        app,
        &[
            "vim-config",
            "--endpoint",
            kube.url(),
            "--token",
            token,
            "--ca-file",
            ca.to_str().unwrap(),
            "--output",
            file.to_str().unwrap(),
        ],
    ))
    .await
    .unwrap();
    file
}

fn register_args<'a>(file: &'a std::path::Path, name: &'a str) -> [&'a str; 7] {
    [
        "vim",
        "register",
        "--vim-config-file",
        file.to_str().unwrap(),
        "--tenant-id",
        "project-a",
        name,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vim_register_checks_the_cluster_as_the_api_does() {
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf("[k8s_vim]\nvalidate_on_register = true\n")
        .spawn()
        .await
        .unwrap();
    let kube = FakeKube::start(FakeKubeConfig::default()).await.unwrap();

    // A wrong token: refused, saying why, and nothing is stored (no row, no key file).
    let wrong = fake_cluster_vim_config(&app, &kube, "wrong-token").await;
    let err = tacker_manage::run(manage(&app, &register_args(&wrong, "wrong")))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("VIM \"wrong\" was not registered: Kubernetes VIM validation failed:"),
        "{err}"
    );
    assert!(!err.contains("wrong-token"), "the message names no secret: {err}");
    let (status, body) = app.send(app.request(Method::GET, "/v1.0/vims.json")).await;
    assert_eq!((status, &body["vims"]), (200, &serde_json::json!([])));
    let keys = std::fs::read_dir(&app.config.vim_key_dir).unwrap().count();
    assert_eq!(keys, 0, "no key file is left behind");
    // The API refuses the same VIM with the same check.
    let api_body = serde_json::json!({"vim": {
        "type": "kubernetes", "name": "wrong", "tenant_id": "project-a",
        "auth_url": kube.url(),
        "auth_cred": {"bearer_token": "wrong-token", "ssl_ca_cert": kube.ca_pem()},
        "vim_project": {"name": "default"},
    }});
    let (status, body) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&api_body))
        .await;
    assert_eq!(status, 400, "{body}");
    let api_message = body.to_string();
    let reason = err.split_once("validation failed: ").unwrap().1;
    assert!(api_message.contains(reason), "{api_message} / {reason}");

    // The admin token: registered with the cluster's namespaces as regions.
    let right = fake_cluster_vim_config(&app, &kube, kube.admin_token()).await;
    tacker_manage::run(manage(&app, &register_args(&right, "right")))
        .await
        .unwrap();
    let (status, body) = app.send(app.request(Method::GET, "/v1.0/vims.json")).await;
    assert_eq!(status, 200);
    let vim = &body["vims"][0];
    assert_eq!(vim["name"], "right");
    assert_eq!(vim["status"], "ACTIVE");
    let regions = vim["placement_attr"]["regions"].as_array().unwrap();
    for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(regions.contains(&namespace.into()), "{namespace}: {vim}");
    }
}

/// Runs the tacker-manage binary in `cwd`.
fn manage_binary(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tacker-manage"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn vim_config_runs_without_a_tacker_conf() {
    let dir = tempfile::tempdir().unwrap();
    let output = manage_binary(
        dir.path(),
        &[
            "--config-file",
            "no-such-tacker.conf",
            "vim-config",
            "--endpoint",
            "https://10.0.0.10:6443",
            "--token",
            "secret-token",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("auth_url: https://10.0.0.10:6443"), "{stdout}");
    assert!(stdout.contains("bearer_token: secret-token"), "{stdout}");
}

#[tokio::test]
async fn ca_init_prints_default_lines_to_paste_with_absolute_paths() {
    let dir = tempfile::tempdir().unwrap();
    // A relative --dir and --days after the subcommand, without a tacker.conf.
    let output = manage_binary(
        dir.path(),
        &[
            "--config-file",
            "no-such-tacker.conf",
            "ca",
            "init",
            "--dir",
            "pki",
            "--days",
            "30",
            "--client",
            "operator",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let start = stdout.find("[DEFAULT]\n").expect(&stdout);
    let lines = &stdout[start..];
    let pki = dir.path().join("pki").canonicalize().unwrap();
    assert_eq!(
        lines,
        format!(
            "[DEFAULT]\nuse_ssl = true\nssl_cert_file = {0}/server.pem\nssl_key_file = {0}/server.key\n\
             ssl_ca_file = {0}/client-ca.pem\n",
            pki.display()
        ),
        "{stdout}"
    );
    assert!(!lines.contains(", "), "one option a line: {lines}");

    // Pasted into a tacker.conf elsewhere, they give a server that loads the files.
    let elsewhere = tempfile::tempdir().unwrap();
    let conf = elsewhere.path().join("tacker.conf");
    std::fs::write(&conf, lines).unwrap();
    let config = tacker_common::Config::load(&[conf]).unwrap();
    let ssl = config.ssl.expect("use_ssl");
    tacker_tls::install_crypto_provider();
    tacker_tls::load_server_config(&ssl).unwrap();
}
