//! python-tackerclient, unchanged, against the server: `openstack vim register/list/show/
//! set/delete` from a vim_config.yaml, with no Keystone (auth type none, endpoint override).
//!
//! Needs the `openstack` command with the tackerclient plugin: TACKER_TEST_OPENSTACK_CLI
//! names it (.ci/run installs it into a virtualenv). Without it the test is skipped,
//! except under CI, where it must run.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;
use tacker_testkit::{pki, TestApp, TestBackend};

pub(crate) fn openstack_cli() -> Option<PathBuf> {
    tacker_testkit::tool_path("TACKER_TEST_OPENSTACK_CLI")
}

pub(crate) async fn openstack(cli: &PathBuf, app: &TestApp, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(cli);
    // Only our settings: a developer's OS_* variables must not pick another cloud.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("OS_")) {
        command.env_remove(key);
    }
    command
        .args(["--os-auth-type", "none", "--os-endpoint", &app.address])
        .args(args)
        .output()
        .await
        .unwrap()
}

pub(crate) fn json_stdout(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_vim_commands_work_unchanged() {
    let Some(cli) = openstack_cli() else { return };
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let config = app.state_dir.path().join("vim_config.yaml");
    let ca = pki::ca_pem("cluster CA");
    let indented: String = ca.lines().map(|l| format!("  {l}\n")).collect();
    std::fs::write(
        &config,
        format!(
            "auth_url: 'https://10.0.0.10:6443'\nbearer_token: 'client-bearer-secret'\nproject_name: 'default'\n\
             type: 'kubernetes'\nssl_ca_cert: |\n{indented}"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    let registered = json_stdout(
        &openstack(
            &cli,
            &app,
            &[
                "vim",
                "register",
                "--config-file",
                config,
                "--tenant-id",
                "project-a",
                "--description",
                "from the client",
                "--is-default",
                "k8s-vim",
                "-f",
                "json",
            ],
        )
        .await,
    );
    assert_eq!(registered["name"], "k8s-vim");
    assert_eq!(registered["is_default"], true);
    assert!(!registered.to_string().contains("client-bearer-secret"));
    let id = registered["id"].as_str().unwrap().to_string();

    let listed = json_stdout(&openstack(&cli, &app, &["vim", "list", "-f", "json"]).await);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["ID"], id);
    assert_eq!(listed[0]["Name"], "k8s-vim");
    assert_eq!(listed[0]["Type"], "kubernetes");
    assert_eq!(listed[0]["Status"], "ACTIVE");

    for name_or_id in ["k8s-vim", id.as_str()] {
        let shown = json_stdout(&openstack(&cli, &app, &["vim", "show", name_or_id, "-f", "json"]).await);
        assert_eq!(shown["id"], id);
        assert_eq!(shown["description"], "from the client");
    }

    let set = openstack(
        &cli,
        &app,
        &[
            "vim",
            "set",
            "k8s-vim",
            "--description",
            "changed",
            "--name",
            "renamed",
        ],
    )
    .await;
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let shown = json_stdout(&openstack(&cli, &app, &["vim", "show", "renamed", "-f", "json"]).await);
    assert_eq!(shown["description"], "changed");

    // A duplicate registration fails with Tacker's error text.
    let duplicate = openstack(
        &cli,
        &app,
        &[
            "vim",
            "register",
            "--config-file",
            config,
            "--tenant-id",
            "project-a",
            "renamed",
        ],
    )
    .await;
    assert!(!duplicate.status.success());
    let stderr = String::from_utf8_lossy(&duplicate.stderr);
    assert!(stderr.contains("already exist"), "{stderr}");

    let deleted = openstack(&cli, &app, &["vim", "delete", "renamed"]).await;
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let missing = openstack(&cli, &app, &["vim", "show", id.as_str()]).await;
    assert!(!missing.status.success());
    let listed = json_stdout(&openstack(&cli, &app, &["vim", "list", "-f", "json"]).await);
    assert_eq!(listed, serde_json::json!([]));
}
