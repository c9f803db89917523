//! The test IdP (tests/idp/server.mjs, oidc-provider) started once per test process with
//! password-grant clients for the Kubernetes OIDC flow. (testkit's shared IdP has no
//! password-grant client, so this binary starts its own instance with this config.)

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use serde_json::{json, Value};

pub const SECRET: &str = "kube-oidc-test-secret-0123456789";
/// The client id the fake apiserver is configured with (`--oidc-client-id`).
pub const CLIENT_ID: &str = "tacker";

pub struct Idp {
    pub issuer: String,
    pub token_endpoint: String,
    pub ca_pem: String,
    _process: Mutex<Child>,
}

pub fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(start)
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A CA and a server certificate for 127.0.0.1: (ca pem, cert pem, key pem).
fn certificates() -> (String, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kube test IdP CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

fn password_client(id: &str, ttl: Option<u64>) -> Value {
    let mut client = json!({"client_id": id, "client_secret": SECRET,
        "token_endpoint_auth_method": "client_secret_post", "grant_types": ["password"]});
    if let Some(ttl) = ttl {
        client["x_ttl"] = json!(ttl);
    }
    client
}

fn start() -> Idp {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/idp");
    if !source.join("node_modules").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&source)
            .status()
            .expect("npm is needed for the test IdP");
        assert!(status.success(), "npm ci in tests/idp failed");
    }
    let dir = tempfile::tempdir().unwrap().keep();
    let (ca_pem, cert_pem, key_pem) = certificates();
    let config = json!({
        "https": {"cert": write(&dir, "idp.pem", &cert_pem), "key": write(&dir, "idp.key", &key_pem)},
        "clients": [
            password_client(CLIENT_ID, None),
            password_client("other-client", None),
            password_client("shortlived", Some(1)),
        ],
        "users": {
            "alice": {"password": "alice-pw", "claims": {
                "sub": "alice-sub", "name": "alice", "email": "alice@example.com",
                "email_verified": true, "groups": ["vnf-admins", "dev"]}},
            "mallory": {"password": "mallory-pw", "claims": {
                "sub": "mallory-sub", "name": "mallory", "email": "mallory@example.com",
                "email_verified": false}},
            "bob": {"password": "bob-pw", "claims": {"sub": "bob-sub", "name": "bob"}},
        },
    });
    let config_file = write(&dir, "idp.json", &config.to_string());
    let mut child = Command::new("node")
        .arg(source.join("server.mjs"))
        .arg(&config_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is needed for the test IdP");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("test IdP did not start: {line:?}"));
    Idp {
        issuer: ready["issuer"].as_str().unwrap().to_string(),
        token_endpoint: ready["token_endpoint"].as_str().unwrap().to_string(),
        ca_pem,
        _process: Mutex::new(child),
    }
}

impl Idp {
    /// An id_token from the password grant (what Tacker does for a Kubernetes VIM).
    pub async fn id_token(&self, client_id: &str, username: &str, password: &str) -> String {
        let response = super::http(&self.ca_pem)
            .post(&self.token_endpoint)
            .form(&[
                ("grant_type", "password"),
                ("scope", "openid"),
                ("username", username),
                ("password", password),
                ("client_id", client_id),
                ("client_secret", SECRET),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "password grant for {username}: {body}");
        body["id_token"].as_str().unwrap().to_string()
    }
}
