//! `tacker-manage vim-config` writes a vim_config.yaml that `tacker-manage vim register`
//! (and python-tackerclient) can register; the server then lists the VIM.

use clap::Parser;
use reqwest::Method;
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
