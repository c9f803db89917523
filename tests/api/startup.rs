//! Start-up refuses what it cannot serve safely, with a message that says what to do.

use std::time::Duration;

use tacker_common::Config;
use tacker_manage::{Cli, Command, DbAction};
use tacker_server::{Application, BuildOptions};
use tacker_testkit::{
    backend_tests, repo_api_paste, repo_api_paste_external_oauth2, with_backend, write_conf, TestBackend,
    TestDatabase,
};

async fn refuses_unmigrated_until_db_sync(backend: TestBackend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = TestDatabase::create(backend, dir.path()).await else {
        return;
    };
    let conf = write_conf(dir.path(), &database.connection, "");
    let config = Config::load(std::slice::from_ref(&conf)).unwrap();
    let err = Application::build(config.clone(), BuildOptions::default())
        .await
        .err()
        .unwrap();
    let message = format!("{err:#}");
    assert!(
        message.contains("tacker-manage") && message.contains("db sync"),
        "{message}"
    );

    tacker_manage::run(Cli {
        config_files: vec![conf.clone()],
        command: Command::Db {
            action: DbAction::Sync,
        },
    })
    .await
    .unwrap();
    // A second sync is a no-op; `upgrade head` is the tacker-db-manage spelling of it.
    tacker_manage::run(Cli {
        config_files: vec![conf],
        command: Command::Db {
            action: DbAction::Upgrade {
                revision: "head".into(),
            },
        },
    })
    .await
    .unwrap();
    let app = Application::build(config, BuildOptions::default()).await.unwrap();
    app.state().db.close().await;
}

backend_tests!(
    an_unmigrated_database_refuses_to_start => refuses_unmigrated_until_db_sync,
    setup = with_backend
);

async fn build_error(extra_conf: &str, paste: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut extra = extra_conf.to_string();
    if let Some(paste) = paste {
        let path = dir.path().join("api-paste.ini");
        std::fs::write(&path, paste).unwrap();
        extra.push_str(&format!("\n[DEFAULT]\napi_paste_config = {}\n", path.display()));
    }
    let connection = format!("sqlite:///{}/t.sqlite", dir.path().display());
    let conf = write_conf(dir.path(), &connection, &extra);
    match Config::load(&[conf]) {
        Err(e) => e.to_string(),
        Ok(config) => format!(
            "{:#}",
            Application::build(config, BuildOptions { migrate: true })
                .await
                .err()
                .unwrap()
        ),
    }
}

#[tokio::test]
async fn unknown_filter_factory_stops_start_up() {
    let paste = std::fs::read_to_string(repo_api_paste()).unwrap().replace(
        "oslo_middleware:CatchErrors.factory",
        "mycompany.filters:Audit.factory",
    );
    let message = build_error("", Some(&paste)).await;
    assert!(
        message.contains("mycompany.filters:Audit.factory") && message.contains("catch_errors"),
        "{message}"
    );
}

#[tokio::test]
async fn keystone_pipeline_with_an_auth_filter_tacker_rs_lacks_stops_start_up() {
    let paste = std::fs::read_to_string(repo_api_paste()).unwrap().replace(
        "keystonemiddleware.auth_token:filter_factory",
        "keystonemiddleware.s3_token:filter_factory",
    );
    let message = build_error("[DEFAULT]\nauth_strategy = keystone\n", Some(&paste)).await;
    assert!(
        message.contains("keystonemiddleware.s3_token:filter_factory") && message.contains("authtoken"),
        "{message}"
    );
}

#[tokio::test]
async fn keystone_pipeline_needs_its_auth_filter_options() {
    // Tacker's api-paste.ini: Keystone tokens, every missing option named at once.
    let message = build_error("[DEFAULT]\nauth_strategy = keystone\n", None).await;
    assert!(
        message
            .contains("[keystone_authtoken] missing auth_type, auth_url, username, password, project_name"),
        "{message}"
    );
    let message = build_error(
        "[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_type = password\n\
         auth_url = http://keystone.example/identity\nusername = tacker\npassword = service-secret\n\
         project_name = service\n",
        None,
    )
    .await;
    assert!(
        message.contains("missing user_domain_name, project_domain_name")
            && !message.contains("service-secret"),
        "{message}"
    );

    // External OAuth 2.0.
    let external = std::fs::read_to_string(repo_api_paste_external_oauth2()).unwrap();
    let message = build_error("[DEFAULT]\nauth_strategy = keystone\n", Some(&external)).await;
    assert!(
        message.contains(
            "[ext_oauth2_auth] missing introspect_endpoint, audience, client_id, client_secret, \
             mapping_user_domain_id, mapping_user_domain_name, mapping_roles"
        ),
        "{message}"
    );
    let message = build_error(
        "[DEFAULT]\nauth_strategy = keystone\n[ext_oauth2_auth]\nintrospect_endpoint = https://as/i\naudience = https://as\n\
         client_id = tacker\nauth_method = private_key_jwt\njwt_algorithm = RS256\njwt_key_file = /nonexistent.pem\n\
         mapping_user_domain_id = user.domain.id\nmapping_user_domain_name = user.domain.name\nmapping_roles = roles\n",
        Some(&external),
    )
    .await;
    assert!(
        message.contains("jwt_key_file") && message.contains("/nonexistent.pem"),
        "{message}"
    );
}

#[tokio::test]
async fn bad_option_values_stop_start_up_naming_the_option() {
    let message = build_error("[DEFAULT]\nbind_port = ninety\n", None).await;
    assert!(message.contains("[DEFAULT] bind_port"), "{message}");
    let message = build_error("[database]\nconnection = oracle://scott:tiger@db/orcl\n", None).await;
    assert!(
        message.contains("oracle") && !message.contains("tiger"),
        "{message}"
    );
}

/// The all-in-one binary on an empty data folder: creates the SQLite file and the key
/// folder, migrates, serves, and stops on SIGTERM.
#[tokio::test]
async fn all_in_one_binary_starts_on_an_empty_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let port = tacker_testkit::free_port();
    let state = dir.path().join("data");
    let conf = dir.path().join("tacker.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\nauth_strategy = noauth\nstate_path = {}\n\
             api_paste_config = {}\ntransport_url = rabbit://ignored\n[vim_keys]\nopenstack = $state_path/keys\n",
            state.display(),
            repo_api_paste().display()
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tacker"))
        .arg("--config-file")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/v1.0/vims.json");
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(response) = client.get(&url).send().await {
            answered = Some(response.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answered, Some(200));
    assert!(state.join("tacker.sqlite").is_file());
    assert!(state.join("keys").is_dir());

    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(
        stderr.contains("transport_url"),
        "the unknown option is reported: {stderr}"
    );
}
