//! The test authorization server: tests/idp/server.mjs (oidc-provider) over HTTPS with a
//! test CA, started once per test binary with one client per authentication method and
//! user clients whose tokens carry project, user and role claims. It is also the OIDC
//! issuer of the Kubernetes tests (fake apiserver, driver, whole system): clients `carol`,
//! `shortlived` (two seconds), `five-seconds` and `other-client` may use the password grant, for users
//! `alice` (sub `alice`, name `Alice`, verified email, groups `vnf-admins` and `dev`), `bob`
//! (no email, no groups) and `mallory` (unverified email); see [`Idp::id_token`].

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

use crate::pki::{es256_key, TestCa};

/// The secret of every client that authenticates with a secret.
pub const CLIENT_SECRET: &str = "idp-test-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";

/// tacker-rs's client id at the IdP for each introspection `auth_method`.
pub fn tacker_client_id(auth_method: &str) -> String {
    format!("tacker-{auth_method}")
}

/// A running IdP and the files a tacker.conf needs to talk to it.
pub struct Idp {
    pub issuer: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    /// CA of the IdP's server certificate (`[ext_oauth2_auth] cafile`).
    pub ca_file: PathBuf,
    /// The same CA as PEM text (an apiserver's `--oidc-ca-file`, a VIM's `ssl_ca_cert`).
    pub ca_pem: String,
    /// tacker-rs's client certificate and key for tls_client_auth.
    pub tacker_cert: PathBuf,
    pub tacker_key: PathBuf,
    /// The ES256 key of the private_key_jwt client.
    pub jwt_key_file: PathBuf,
    /// The client CA that issued `user_identity` (and tacker's client certificate).
    pub client_ca: TestCa,
    /// PEM certificate + key of the `mtls-user` client, whose tokens are bound to it.
    pub user_identity_pem: Vec<u8>,
    /// DER of that certificate.
    pub user_cert_der: Vec<u8>,
    _process: Mutex<Child>,
}

/// User clients: (client id, project, roles claim). Their tokens come from client
/// credentials with these claims.
const USERS: &[(&str, &str, &str)] = &[
    ("alice", "project-a", "member"),
    ("bob", "project-b", "member"),
    ("root", "project-admin", "admin"),
    ("shortlived", "project-a", "member"),
];

fn claims(user: &str, project: &str, roles: Value) -> Value {
    let domain = json!({"id": "default", "name": "Default"});
    json!({
        "project": {"id": project, "name": format!("{project}-name"), "domain": domain},
        "user": {"id": format!("{user}-id"), "name": user, "roles": roles, "domain": domain},
    })
}

/// The IdP shared by the tests of this binary, started on first use.
pub fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(start)
}

fn idp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/idp")
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn start() -> Idp {
    let source = idp_dir();
    if !source.join("node_modules").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&source)
            .status()
            .expect("npm is needed for the test IdP");
        assert!(status.success(), "npm ci in tests/idp failed");
    }
    // Kept for the life of the test process: the IdP reads its files at start only.
    let dir = tempfile::tempdir().unwrap().keep();
    let server_ca = TestCa::new("test IdP CA");
    let server = server_ca.server();
    let client_ca = TestCa::new("test client CA");
    let tacker = client_ca.client("tacker-introspector");
    let user = client_ca.client("mtls-user");
    let (jwt_key, jwk) = es256_key("tacker-es256");

    let mut clients = vec![
        json!({"client_id": tacker_client_id("client_secret_basic"), "client_secret": CLIENT_SECRET,
               "token_endpoint_auth_method": "client_secret_basic"}),
        json!({"client_id": tacker_client_id("client_secret_post"), "client_secret": CLIENT_SECRET,
               "token_endpoint_auth_method": "client_secret_post"}),
        json!({"client_id": tacker_client_id("client_secret_jwt"), "client_secret": CLIENT_SECRET,
               "token_endpoint_auth_method": "client_secret_jwt"}),
        json!({"client_id": tacker_client_id("private_key_jwt"), "token_endpoint_auth_method": "private_key_jwt",
               "jwks": {"keys": [jwk]}}),
        json!({"client_id": tacker_client_id("tls_client_auth"), "token_endpoint_auth_method": "tls_client_auth",
               "tls_client_auth_subject_dn": "CN=tacker-introspector"}),
        json!({"client_id": "mtls-user", "token_endpoint_auth_method": "tls_client_auth",
               "tls_client_auth_subject_dn": "CN=mtls-user", "tls_client_certificate_bound_access_tokens": true,
               "x_claims": claims("mtls-user", "project-a", json!("member"))}),
        // carol may also use the password grant: the Kubernetes VIM's OIDC client.
        json!({"client_id": "carol", "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_post",
               "grant_types": ["client_credentials", "password"],
               "x_claims": claims("carol", "project-a", json!(["member", "reader"]))}),
        // id_tokens that expire within a long operation (renewal tests).
        json!({"client_id": "five-seconds", "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_post",
               "grant_types": ["password"], "x_ttl": 5}),
        // Another OIDC client: its id_tokens are for another audience.
        json!({"client_id": "other-client", "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_post",
               "grant_types": ["password"]}),
        json!({"client_id": "noroles", "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_post",
               "x_claims": {"project": {"id": "project-a"}, "user": {"id": "x", "name": "x"}}}),
    ];
    for (user, project, roles) in USERS {
        let mut client = json!({"client_id": user, "client_secret": CLIENT_SECRET,
            "token_endpoint_auth_method": "client_secret_post", "x_claims": claims(user, project, json!(roles))});
        if *user == "shortlived" {
            // Short-lived access tokens and id_tokens alike.
            client["x_ttl"] = json!(2);
            client["grant_types"] = json!(["client_credentials", "password"]);
        }
        clients.push(client);
    }
    let config = json!({
        "https": {
            "cert": write(&dir, "idp.pem", server.cert_pem.as_bytes()),
            "key": write(&dir, "idp.key", server.key_pem.as_bytes()),
            "clientCa": write(&dir, "client-ca.pem", client_ca.cert_pem.as_bytes()),
        },
        "clients": clients,
        // Accounts of the password grant; the id_token carries all of a user's claims.
        "users": {
            "alice": {"password": "alice-password", "claims": {
                "sub": "alice", "name": "Alice", "email": "alice@example.com", "email_verified": true,
                "groups": ["vnf-admins", "dev"]}},
            "bob": {"password": "bob-password", "claims": {"sub": "bob-sub", "name": "bob"}},
            "mallory": {"password": "mallory-password", "claims": {
                "sub": "mallory-sub", "name": "mallory", "email": "mallory@example.com",
                "email_verified": false}},
        },
    });
    let config_file = write(&dir, "idp.json", config.to_string().as_bytes());

    let mut child = Command::new("node")
        .arg(source.join("server.mjs"))
        .arg(&config_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is needed for the test IdP");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("test IdP did not start: {line:?}"));
    let endpoint = |k: &str| ready[k].as_str().unwrap().to_string();
    let mut identity = user.cert_pem.clone().into_bytes();
    identity.extend_from_slice(user.key_pem.as_bytes());
    Idp {
        issuer: endpoint("issuer"),
        token_endpoint: endpoint("token_endpoint"),
        introspection_endpoint: endpoint("introspection_endpoint"),
        revocation_endpoint: endpoint("revocation_endpoint"),
        ca_file: write(&dir, "idp-ca.pem", server_ca.cert_pem.as_bytes()),
        ca_pem: server_ca.cert_pem.clone(),
        tacker_cert: write(&dir, "tacker.pem", tacker.cert_pem.as_bytes()),
        tacker_key: write(&dir, "tacker.key", tacker.key_pem.as_bytes()),
        jwt_key_file: write(&dir, "tacker-es256.pem", jwt_key.as_bytes()),
        client_ca,
        user_identity_pem: identity,
        user_cert_der: user.der,
        _process: Mutex::new(child),
    }
}

impl Idp {
    /// tacker.conf text for a keystone pipeline that introspects at this IdP with
    /// `auth_method`, mapping the test claims (with the external OAuth2 api-paste.ini).
    pub fn tacker_conf(&self, auth_method: &str) -> String {
        let mut conf = format!(
            "[DEFAULT]\nauth_strategy = keystone\napi_paste_config = {}\n\
             [ext_oauth2_auth]\nintrospect_endpoint = {}\naudience = {}\n\
             auth_method = {auth_method}\nclient_id = {}\ncafile = {}\n\
             mapping_project_id = project.id\nmapping_project_name = project.name\n\
             mapping_project_domain_id = project.domain.id\nmapping_project_domain_name = project.domain.name\n\
             mapping_user_id = user.id\nmapping_user_name = user.name\nmapping_user_domain_id = user.domain.id\n\
             mapping_user_domain_name = user.domain.name\nmapping_roles = user.roles\n",
            crate::repo_api_paste_external_oauth2().display(),
            self.introspection_endpoint,
            self.issuer,
            tacker_client_id(auth_method),
            self.ca_file.display(),
        );
        match auth_method {
            "client_secret_basic" | "client_secret_post" => {
                conf.push_str(&format!("client_secret = {CLIENT_SECRET}\n"))
            }
            "client_secret_jwt" => conf.push_str(&format!(
                "client_secret = {CLIENT_SECRET}\njwt_algorithm = HS256\n"
            )),
            "private_key_jwt" => conf.push_str(&format!(
                "jwt_key_file = {}\njwt_algorithm = ES256\n",
                self.jwt_key_file.display()
            )),
            "tls_client_auth" => conf.push_str(&format!(
                "certfile = {}\nkeyfile = {}\n",
                self.tacker_cert.display(),
                self.tacker_key.display()
            )),
            other => panic!("unknown auth method {other}"),
        }
        conf
    }

    fn http(&self, identity: Option<&[u8]>) -> reqwest::Client {
        let ca = std::fs::read(&self.ca_file).unwrap();
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap());
        if let Some(pem) = identity {
            builder = builder.identity(reqwest::Identity::from_pem(pem).unwrap());
        }
        builder.build().unwrap()
    }

    /// A successful token endpoint answer to `form`; `what` names the request in a failure.
    async fn grant(&self, client: reqwest::Client, form: &[(&str, &str)], what: &str) -> Value {
        let response = client.post(&self.token_endpoint).form(form).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{what}: {body}");
        body
    }

    /// A client-credentials access token of a user client (alice, bob, root, carol,
    /// noroles, shortlived), or of `mtls-user` (bound to its certificate).
    pub async fn token(&self, client_id: &str) -> String {
        let mtls = client_id == "mtls-user";
        let client = self.http(mtls.then_some(self.user_identity_pem.as_slice()));
        let mut form = vec![("grant_type", "client_credentials"), ("client_id", client_id)];
        if !mtls {
            form.push(("client_secret", CLIENT_SECRET));
        }
        let body = self.grant(client, &form, &format!("token for {client_id}")).await;
        body["access_token"].as_str().unwrap().to_string()
    }

    /// An id_token from the password grant (what Tacker does for an OIDC Kubernetes VIM),
    /// for `client_id` (carol, shortlived, other-client) as `username`.
    pub async fn id_token(&self, client_id: &str, username: &str, password: &str) -> String {
        let form = [
            ("grant_type", "password"),
            ("scope", "openid"),
            ("username", username),
            ("password", password),
            ("client_id", client_id),
            ("client_secret", CLIENT_SECRET),
        ];
        let body = self
            .grant(self.http(None), &form, &format!("password grant for {username}"))
            .await;
        body["id_token"].as_str().unwrap().to_string()
    }

    /// How many `grant_type` tokens (`password`, `client_credentials`) `client_id` has
    /// obtained from this IdP so far.
    pub async fn grants(&self, client_id: &str, grant_type: &str) -> u64 {
        let counts: Value = self
            .http(None)
            .get(format!("{}/test/grants", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        counts[client_id][grant_type].as_u64().unwrap_or(0)
    }

    /// Revokes a token (as alice's client).
    pub async fn revoke(&self, token: &str) {
        let response = self
            .http(None)
            .post(&self.revocation_endpoint)
            .form(&[
                ("token", token),
                ("client_id", "alice"),
                ("client_secret", CLIENT_SECRET),
            ])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    /// The raw introspection answer for a token (as tacker's basic client).
    pub async fn introspect(&self, token: &str) -> Value {
        self.http(None)
            .post(&self.introspection_endpoint)
            .basic_auth(tacker_client_id("client_secret_basic"), Some(CLIENT_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}
