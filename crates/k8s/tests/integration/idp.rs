//! The real test IdP (tests/idp/server.mjs, oidc-provider) for the Kubernetes OIDC flow,
//! started once for this test binary over HTTPS with its own CA. Its clients may use the
//! password grant, which the shared testkit IdP's clients may not: `carol` (id_tokens for
//! ten minutes) and `shortlived` (two seconds). User `alice` is in group `dev`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};
use tacker_testkit::pki::TestCa;

pub use tacker_testkit::idp::CLIENT_SECRET;

pub struct Idp {
    pub issuer: String,
    pub token_endpoint: String,
    /// The CA of the IdP's server certificate.
    pub ca_pem: String,
    _process: Mutex<Child>,
}

pub fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(start)
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
    let dir = std::env::temp_dir().join(format!("tacker-k8s-idp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = TestCa::new("k8s test IdP CA");
    let server = ca.server();
    let write = |name: &str, content: &str| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let client = |id: &str, ttl: Option<u64>| {
        let mut c = json!({"client_id": id, "client_secret": CLIENT_SECRET,
                           "token_endpoint_auth_method": "client_secret_post",
                           "grant_types": ["password"]});
        if let Some(ttl) = ttl {
            c["x_ttl"] = json!(ttl);
        }
        c
    };
    let config = json!({
        "https": {"cert": write("idp.pem", &server.cert_pem), "key": write("idp.key", &server.key_pem)},
        "clients": [client("carol", None), client("shortlived", Some(2))],
        "users": {"alice": {"password": "alice-password", "claims": {"sub": "alice", "groups": ["dev"]}}},
    });
    let config_file = write("idp.json", &config.to_string());
    let mut child = Command::new("node")
        .arg(source.join("server.mjs"))
        .arg(&config_file)
        // The IdP exits when this process ends and closes the pipe.
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
        issuer: ready["issuer"].as_str().unwrap().to_owned(),
        token_endpoint: ready["token_endpoint"].as_str().unwrap().to_owned(),
        ca_pem: ca.cert_pem.clone(),
        _process: Mutex::new(child),
    }
}
