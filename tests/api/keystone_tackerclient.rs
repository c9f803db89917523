//! python-tackerclient as in an OpenStack cloud: password authentication at a real
//! Keystone, Tacker's endpoint from the catalogue (service type `nfv-orchestration`),
//! tokens validated by the `authtoken` filter of Tacker's api-paste.ini.

use std::path::Path;
use std::process::Output;

use tacker_testkit::keystone::{keystone, Account, Keystone};
use tacker_testkit::{pki, TestBackend};

use crate::keystone_tokens::app_with_keystone;
use crate::tackerclient::{json_stdout, openstack_cli};

/// `openstack <args>` as `account`, finding Tacker in `region` of the catalogue.
async fn openstack_as(
    cli: &Path,
    keystone: &Keystone,
    account: &Account,
    region: &str,
    args: &[&str],
) -> Output {
    let mut command = tokio::process::Command::new(cli);
    // Only these settings: a developer's OS_* variables must not pick another cloud.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("OS_")) {
        command.env_remove(key);
    }
    command
        .args(["--os-auth-type", "password", "--os-identity-api-version", "3"])
        .args(["--os-auth-url", &keystone.v3()])
        .args(["--os-username", &account.user_name])
        .args(["--os-password", &account.password])
        .args(["--os-project-name", &account.project_name])
        .args([
            "--os-user-domain-name",
            "Default",
            "--os-project-domain-name",
            "Default",
        ])
        .args(["--os-region-name", region, "--os-interface", "public"])
        .args(args)
        .output()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_cli_with_keystone_password_authentication_and_the_catalogue() {
    let Some(cli) = openstack_cli() else { return };
    let Some(keystone) = keystone() else { return };
    let app = app_with_keystone(TestBackend::Sqlite, keystone, "")
        .await
        .unwrap();
    // Tacker in the catalogue, as devstack registers it (a region of this test's own).
    let region = keystone
        .register_endpoint("nfv-orchestration", &format!("{}/", app.address))
        .await;
    let alice = keystone.account("alice", &["member"]).await;
    let bob = keystone.account("bob", &["member"]).await;

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
    let registered = json_stdout(
        &openstack_as(
            &cli,
            keystone,
            &alice,
            &region,
            &[
                "vim",
                "register",
                "--config-file",
                config.to_str().unwrap(),
                "--is-default",
                "alice-k8s",
                "-f",
                "json",
            ],
        )
        .await,
    );
    // The VIM belongs to the project of alice's token.
    assert_eq!(
        registered["project_id"],
        alice.project_id.as_str(),
        "{registered}"
    );

    let listed =
        json_stdout(&openstack_as(&cli, keystone, &alice, &region, &["vim", "list", "-f", "json"]).await);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["Name"], "alice-k8s");
    assert_eq!(listed[0]["Tenant_id"], alice.project_id.as_str());
    let listed =
        json_stdout(&openstack_as(&cli, keystone, &bob, &region, &["vim", "list", "-f", "json"]).await);
    assert_eq!(listed, serde_json::json!([]), "bob's project has no VIM");

    for args in [
        &["vnf", "package", "list", "-f", "json"][..],
        &["vnflcm", "list", "-f", "json"][..],
        &["vnflcm", "list", "--os-tacker-api-version", "2", "-f", "json"][..],
        &["vnflcm", "op", "list", "-f", "json"][..],
    ] {
        let listed = json_stdout(&openstack_as(&cli, keystone, &alice, &region, args).await);
        assert_eq!(listed, serde_json::json!([]), "{args:?}");
    }
    let created = json_stdout(
        &openstack_as(
            &cli,
            keystone,
            &alice,
            &region,
            &["vnf", "package", "create", "-f", "json"],
        )
        .await,
    );
    let listed = json_stdout(
        &openstack_as(
            &cli,
            keystone,
            &alice,
            &region,
            &["vnf", "package", "list", "-f", "json"],
        )
        .await,
    );
    assert_eq!(listed[0]["Id"], created["ID"], "{listed} {created}");
}
