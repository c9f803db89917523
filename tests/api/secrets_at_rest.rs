//! Secrets are fernet-encrypted with a per-VIM key before they reach the database, never
//! shown in responses, and a key rotation keeps them readable.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_crypto::KeyVault;
use tacker_manage::{Cli, Command, KeyAction};
use tacker_testkit::{backend_tests, pki, raw, TestApp};

use crate::helpers::register;

const PASSWORD: &str = "oidc-user-password-123";
const CLIENT_SECRET: &str = "client-secret-456";
const BEARER: &str = "bearer-token-789";

fn oidc_vim(ca: &str) -> Value {
    json!({"vim": {
        "type": "kubernetes", "name": "oidc", "tenant_id": "p",
        "auth_url": "https://10.0.0.10:6443",
        "auth_cred": {"oidc_token_url": "https://idp.example/token", "username": "end-user",
                      "password": PASSWORD, "client_id": "tacker", "client_secret": CLIENT_SECRET,
                      "ssl_ca_cert": ca},
        "vim_project": {"name": "default"},
    }})
}

async fn stored_row(app: &TestApp, id: &str) -> Vec<String> {
    let mut rows = raw::fetch_text(
        &app.config.database_connection,
        &format!("SELECT * FROM vims WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

fn stored_cred(row: &[String]) -> serde_json::Map<String, Value> {
    row.iter()
        .filter_map(|c| serde_json::from_str::<Value>(c).ok())
        .filter_map(|v| v.as_object().cloned())
        .find(|m| m.contains_key("key_type"))
        .expect("the auth_cred column")
}

backend_tests!(no_secret_is_stored_in_clear => secrets_encrypted);

async fn secrets_encrypted(app: TestApp) {
    let ca = format!("{}{}", pki::ca_pem("cluster"), pki::ca_pem("idp"));
    let vim = register(&app, oidc_vim(&ca)).await;
    let id = vim["id"].as_str().unwrap();
    let response_text = vim.to_string();
    for secret in [PASSWORD, CLIENT_SECRET] {
        assert!(
            !response_text.contains(secret),
            "response leaks a secret: {response_text}"
        );
    }

    let row = stored_row(&app, id).await;
    let whole_row = row.join("|");
    for secret in [PASSWORD, CLIENT_SECRET, "BEGIN CERTIFICATE"] {
        assert!(!whole_row.contains(secret), "stored in clear: {secret}");
    }
    // What is stored decrypts, with this VIM's key file, to what was sent.
    let vault = KeyVault::new(&app.config.vim_key_dir, None);
    let keys = vault.open(id).unwrap();
    let cred = stored_cred(&row);
    assert_eq!(
        keys.decrypt(cred["password"].as_str().unwrap()).unwrap(),
        PASSWORD
    );
    assert_eq!(
        keys.decrypt(cred["client_secret"].as_str().unwrap()).unwrap(),
        CLIENT_SECRET
    );
    assert_eq!(keys.decrypt(cred["ssl_ca_cert"].as_str().unwrap()).unwrap(), ca);
    assert_eq!(cred["username"], "end-user");
    assert_eq!(cred["oidc_token_url"], "https://idp.example/token");
    // Another VIM's key cannot read them.
    let other = register(
        &app,
        json!({"vim": {"type": "kubernetes", "name": "other", "tenant_id": "p",
        "auth_url": "https://k:6443", "auth_cred": {"bearer_token": BEARER}, "vim_project": {"name": "d"}}}),
    )
    .await;
    let other_keys = vault.open(other["id"].as_str().unwrap()).unwrap();
    assert!(other_keys.decrypt(cred["password"].as_str().unwrap()).is_err());
    let other_row = stored_row(&app, other["id"].as_str().unwrap()).await.join("|");
    assert!(!other_row.contains(BEARER));

    // An update with a new secret is encrypted too.
    let (status, body) = app
        .send(
            app.request(Method::PUT, &format!("/v1.0/vims/{id}.json"))
                .json(&json!({"vim": {"auth_cred": {"bearer_token": BEARER}}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["vim"]["auth_cred"]["bearer_token"], "***");
    let row = stored_row(&app, id).await;
    assert!(!row.join("|").contains(BEARER));
    assert_eq!(
        keys.decrypt(stored_cred(&row)["bearer_token"].as_str().unwrap())
            .unwrap(),
        BEARER
    );

    // The key file is private and goes away with the VIM.
    let key_file = PathBuf::from(&app.config.vim_key_dir).join(id);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (status, _) = app
        .send(app.request(Method::DELETE, &format!("/v1.0/vims/{id}")))
        .await;
    assert_eq!(status, 204);
    assert!(!key_file.exists());
}

backend_tests!(key_rotation_keeps_secrets_readable => rotation);

async fn rotation(app: TestApp) {
    let vim = register(&app, oidc_vim(&pki::ca_pem("ca"))).await;
    let id = vim["id"].as_str().unwrap().to_string();
    let key_file = PathBuf::from(&app.config.vim_key_dir).join(&id);
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let old_cred = stored_cred(&stored_row(&app, &id).await);

    tacker_manage::run(Cli {
        config_files: vec![app.conf_path.clone()],
        command: Command::VimKeys {
            action: KeyAction::Rotate {
                vim_id: Some(id.clone()),
                all: false,
            },
        },
    })
    .await
    .unwrap();

    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old_key, new_key);
    assert_eq!(
        new_key.lines().count(),
        1,
        "old keys are dropped once the rows are re-encrypted"
    );
    let new_cred = stored_cred(&stored_row(&app, &id).await);
    assert_ne!(old_cred["password"], new_cred["password"]);
    let keys = KeyVault::new(&app.config.vim_key_dir, None).open(&id).unwrap();
    assert_eq!(
        keys.decrypt(new_cred["password"].as_str().unwrap()).unwrap(),
        PASSWORD
    );
    assert_eq!(
        keys.decrypt(new_cred["client_secret"].as_str().unwrap()).unwrap(),
        CLIENT_SECRET
    );
    assert!(keys.decrypt(old_cred["password"].as_str().unwrap()).is_err());
    // The API still serves the VIM as before.
    let (status, body) = app
        .send(app.request(Method::GET, &format!("/v1.0/vims/{id}")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["vim"]["auth_cred"]["password"], "***");
}
