//! A real Keystone for the tests: the `keystone` package of the test virtualenv
//! (tests/python/requirements.txt) on SQLite with fernet tokens, served by
//! tests/keystone/serve.py on a free port.
//!
//! Preparing Keystone (`keystone-manage db_sync`, `fernet_setup`, `credential_setup`,
//! `bootstrap`) takes seconds, so it is done once per machine and Keystone version into
//! a template folder; each instance copies it and starts in about as long as Keystone
//! takes to import. [`keystone()`] is the instance shared by the tests of a process
//! (started on first use, stopped with the process); [`Keystone::start`] gives a test
//! its own, to stop, restart or configure. Tests create their own projects, users and
//! roles through the API ([`Keystone::account`]), so they stay independent.
//!
//! TACKER_TEST_KEYSTONE names the virtualenv's `bin` folder (scripts/test sets it);
//! without it the tests that need Keystone are skipped, except under CI.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::free_port;
use crate::pki::{Issued, TestCa};

/// The password of Keystone's bootstrap `admin` user.
pub const ADMIN_PASSWORD: &str = "keystone-admin-test-password";

/// What differs between Keystone instances.
#[derive(Default)]
pub struct KeystoneOptions {
    /// `[token] expiration` in seconds (Keystone's default: 3600).
    pub token_expiration: Option<u32>,
    /// Serve HTTPS with a test CA, asking clients for a certificate from a client CA (as
    /// Keystone's OAuth 2.0 mutual-TLS client authentication needs).
    pub tls: bool,
}

/// HTTPS material of an instance started with `tls`.
pub struct KeystoneTls {
    /// The CA of Keystone's server certificate (`[keystone_authtoken] cafile`).
    pub ca_file: PathBuf,
    /// The CA that issues client certificates Keystone accepts.
    pub client_ca: TestCa,
}

/// A running (or stopped) Keystone.
pub struct Keystone {
    /// `http://127.0.0.1:<port>` (or https), Keystone's unversioned root.
    pub url: String,
    pub tls: Option<KeystoneTls>,
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    expiration: u32,
    http: reqwest::Client,
    process: Mutex<Option<Child>>,
    admin: tokio::sync::Mutex<Option<(String, Instant)>>,
}

/// A user with a role in a project of its own, created for one test.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_name: String,
    pub user_id: String,
    pub password: String,
    pub project_name: String,
    pub project_id: String,
}

/// The virtualenv's `bin` folder, or `None` (skip) outside CI.
pub fn keystone_bin() -> Option<PathBuf> {
    crate::tool_path("TACKER_TEST_KEYSTONE")
}

/// The Keystone shared by the tests of this process, started on first use; `None`
/// when Keystone is not installed here (outside CI).
pub fn keystone() -> Option<&'static Keystone> {
    static SHARED: OnceLock<Option<Keystone>> = OnceLock::new();
    SHARED
        .get_or_init(|| Keystone::start(KeystoneOptions::default()))
        .as_ref()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn keystone_conf(dir: &Path, expiration: u32) -> String {
    format!(
        "[database]\nconnection = sqlite:///{d}/keystone.db\n\
         [token]\nprovider = fernet\nexpiration = {expiration}\n\
         [fernet_tokens]\nkey_repository = {d}/fernet\n\
         [fernet_receipts]\nkey_repository = {d}/fernet\n\
         [credential]\nkey_repository = {d}/cred\n\
         [identity]\npassword_hash_rounds = 4\n\
         [oauth2]\noauth2_authn_methods = tls_client_auth,client_secret_basic\n\
         oauth2_cert_dn_mapping_id = oauth2_mapping\n",
        d = dir.display()
    )
}

fn run(bin: &Path, conf: &Path, args: &[&str]) {
    let output = Command::new(bin.join("keystone-manage"))
        .arg("--config-file")
        .arg(conf)
        .args(args)
        .output()
        .expect("keystone-manage is needed for the Keystone tests");
    assert!(
        output.status.success(),
        "keystone-manage {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn current_user() -> (String, String) {
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    (id("-un"), id("-gn"))
}

/// The prepared database and key folders for this Keystone, made once per machine
/// (across test processes: the first one prepares under a lock file, the others wait).
fn template(bin: &Path) -> PathBuf {
    let requirements = std::fs::read(repo().join("tests/python/requirements.txt")).unwrap_or_default();
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        requirements.hash(&mut h);
        keystone_conf(Path::new("/"), 0).hash(&mut h);
        bin.hash(&mut h);
        h.finish()
    };
    let base = std::env::temp_dir().join(format!("tacker-rs-keystone-{key:016x}"));
    let lock = base.with_extension("lock");
    let started = Instant::now();
    loop {
        if base.join("keystone.db").is_file() {
            return base;
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => break,
            Err(_) => {
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .map(|t| {
                        SystemTime::now().duration_since(t).unwrap_or_default() > Duration::from_secs(180)
                    })
                    .unwrap_or(false);
                if stale {
                    let _ = std::fs::remove_file(&lock);
                }
                assert!(
                    started.elapsed() < Duration::from_secs(300),
                    "waited too long for {}",
                    lock.display()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    let staging = base.with_extension(format!("staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).unwrap();
    let conf = staging.join("keystone.conf");
    std::fs::write(&conf, keystone_conf(&staging, 3600)).unwrap();
    let (user, group) = current_user();
    run(bin, &conf, &["db_sync"]);
    for setup in ["fernet_setup", "credential_setup"] {
        run(
            bin,
            &conf,
            &[setup, "--keystone-user", &user, "--keystone-group", &group],
        );
    }
    // The endpoint's port is set per instance.
    run(
        bin,
        &conf,
        &[
            "bootstrap",
            "--bootstrap-password",
            ADMIN_PASSWORD,
            "--bootstrap-region-id",
            "RegionOne",
            "--bootstrap-public-url",
            "http://127.0.0.1:1/v3",
        ],
    );
    let _ = std::fs::remove_dir_all(&base);
    std::fs::rename(&staging, &base).unwrap();
    let _ = std::fs::remove_file(&lock);
    base
}

fn copy_dir(from: &Path, to: &Path) {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

impl Keystone {
    /// A Keystone of its own for a test; stopped when dropped. `None` when Keystone is
    /// not installed here (outside CI).
    pub fn start(options: KeystoneOptions) -> Option<Keystone> {
        let bin = keystone_bin()?;
        let template = template(&bin);
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(template.join("keystone.db"), dir.path().join("keystone.db")).unwrap();
        copy_dir(&template.join("fernet"), &dir.path().join("fernet"));
        copy_dir(&template.join("cred"), &dir.path().join("cred"));
        let expiration = options.token_expiration.unwrap_or(3600);
        std::fs::write(
            dir.path().join("keystone.conf"),
            keystone_conf(dir.path(), expiration),
        )
        .unwrap();
        let port = free_port();
        let scheme = if options.tls { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        // The catalogue's Identity endpoint is this instance's.
        let status = Command::new(bin.join("python"))
            .args([
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); \
                 c.execute('UPDATE endpoint SET url = ?', (sys.argv[2],)); c.commit()",
            ])
            .arg(dir.path().join("keystone.db"))
            .arg(format!("{url}/v3"))
            .status()
            .unwrap();
        assert!(status.success());
        let mut http = reqwest::Client::builder().timeout(Duration::from_secs(30));
        let tls = options.tls.then(|| {
            let server_ca = TestCa::new("Keystone test CA");
            let server = server_ca.server();
            let client_ca = TestCa::new("Keystone client CA");
            let write = |name: &str, content: &str| {
                let path = dir.path().join(name);
                std::fs::write(&path, content).unwrap();
                path
            };
            write("server.pem", &server.cert_pem);
            write("server.key", &server.key_pem);
            write("client-ca.pem", &client_ca.cert_pem);
            KeystoneTls {
                ca_file: write("ca.pem", &server_ca.cert_pem),
                client_ca,
            }
        });
        if let Some(tls) = &tls {
            let ca = std::fs::read(&tls.ca_file).unwrap();
            http = http
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap());
        }
        let keystone = Keystone {
            url,
            tls,
            bin,
            dir,
            port,
            expiration,
            http: http.build().unwrap(),
            process: Mutex::new(None),
            admin: tokio::sync::Mutex::new(None),
        };
        keystone.spawn();
        Some(keystone)
    }

    fn spawn(&self) {
        let dir = self.dir.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("keystone.log"))
            .unwrap();
        let mut command = Command::new(self.bin.join("python"));
        command
            .arg(repo().join("tests/keystone/serve.py"))
            .arg("--config")
            .arg(dir.join("keystone.conf"))
            .args(["--port", &self.port.to_string()]);
        if self.tls.is_some() {
            command
                .arg("--cert")
                .arg(dir.join("server.pem"))
                .arg("--key")
                .arg(dir.join("server.key"))
                .arg("--client-ca")
                .arg(dir.join("client-ca.pem"));
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the test virtualenv's python runs Keystone");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if !line.contains("\"ready\"") {
            let _ = child.kill();
            let mut log = String::new();
            let _ =
                std::fs::File::open(dir.join("keystone.log")).and_then(|mut f| f.read_to_string(&mut log));
            let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
            panic!("Keystone did not start: {line:?}\n(last log lines, newest first)\n{tail}");
        }
        *self.process.lock().unwrap() = Some(child);
    }

    /// Stops the server (its data stays): Keystone is down until [`Keystone::restart`].
    pub fn stop(&self) {
        if let Some(mut child) = self.process.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same data and keys.
    pub fn restart(&self) {
        self.stop();
        self.spawn();
    }

    /// `<url>/v3`
    pub fn v3(&self) -> String {
        format!("{}/v3", self.url)
    }

    /// An HTTP client that trusts this Keystone (and presents `identity`, if given).
    pub fn client(&self, identity: Option<&Issued>) -> reqwest::Client {
        let Some(identity) = identity else {
            return self.http.clone();
        };
        let mut pem = identity.cert_pem.clone().into_bytes();
        pem.extend_from_slice(identity.key_pem.as_bytes());
        let mut builder = reqwest::Client::builder().identity(reqwest::Identity::from_pem(&pem).unwrap());
        if let Some(tls) = &self.tls {
            let ca = std::fs::read(&tls.ca_file).unwrap();
            builder = builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap());
        }
        builder.build().unwrap()
    }

    /// A token of `user` (name, Default domain) scoped to `project_id`, or the status
    /// Keystone refused it with.
    pub async fn try_password_token(
        &self,
        user: &str,
        password: &str,
        project_id: &str,
    ) -> Result<String, u16> {
        self.scoped_token(user, password, json!({"project": {"id": project_id}}))
            .await
    }

    async fn scoped_token(&self, user: &str, password: &str, scope: Value) -> Result<String, u16> {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": scope}});
        let response = self
            .http
            .post(format!("{}/auth/tokens?nocatalog", self.v3()))
            .json(&body)
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::CREATED {
            return Err(response.status().as_u16());
        }
        Ok(response.headers()["x-subject-token"]
            .to_str()
            .unwrap()
            .to_string())
    }

    /// A system-scoped token of Keystone's bootstrap admin (`admin` on the system).
    pub async fn system_admin_token(&self) -> String {
        self.scoped_token("admin", ADMIN_PASSWORD, json!({"system": {"all": true}}))
            .await
            .expect("system-scoped admin token")
    }

    /// A project-scoped token of an account.
    pub async fn token(&self, account: &Account) -> String {
        self.try_password_token(&account.user_name, &account.password, &account.project_id)
            .await
            .unwrap_or_else(|status| panic!("token for {}: HTTP {status}", account.user_name))
    }

    async fn admin_token(&self) -> String {
        let mut admin = self.admin.lock().await;
        let reuse = Duration::from_secs(u64::from(self.expiration / 2).min(600));
        if let Some((token, at)) = admin.as_ref() {
            if at.elapsed() < reuse {
                return token.clone();
            }
        }
        let scope = json!({"project": {"name": "admin", "domain": {"id": "default"}}});
        let token = self
            .scoped_token("admin", ADMIN_PASSWORD, scope)
            .await
            .expect("admin token");
        *admin = Some((token.clone(), Instant::now()));
        token
    }

    /// An admin API call; the JSON answer (Null when empty) after checking the status.
    pub async fn admin_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.admin_token().await;
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.v3()))
            .header("x-auth-token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn find(&self, collection: &str, name: &str) -> String {
        let (_, response) = self
            .admin_call(reqwest::Method::GET, &format!("/{collection}?name={name}"), None)
            .await;
        response[collection]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["name"] == name))
            .and_then(|i| i["id"].as_str())
            .unwrap_or_else(|| panic!("no {collection} named {name}: {response}"))
            .to_string()
    }

    /// The id of a role (admin, member, reader, manager, service exist after bootstrap).
    pub async fn role_id(&self, name: &str) -> String {
        self.find("roles", name).await
    }

    /// Creates a project (unique name from `prefix`); its id.
    pub async fn create_project(&self, prefix: &str) -> (String, String) {
        let name = format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let (status, body) = self
            .admin_call(
                reqwest::Method::POST,
                "/projects",
                Some(json!({"project": {"name": name, "domain_id": "default"}})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (name, body["project"]["id"].as_str().unwrap().to_string())
    }

    /// Gives `user_id` the role in the project.
    pub async fn grant(&self, project_id: &str, user_id: &str, role: &str) {
        let role_id = self.role_id(role).await;
        let (status, body) = self
            .admin_call(
                reqwest::Method::PUT,
                &format!("/projects/{project_id}/users/{user_id}/roles/{role_id}"),
                None,
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }

    /// Creates a user (unique name from `prefix`) whose default project is `project_id`.
    pub async fn create_user(&self, prefix: &str, project_id: &str) -> (String, String, String) {
        let name = format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let password = format!("{name}-password");
        let (status, body) = self
            .admin_call(
                reqwest::Method::POST,
                "/users",
                Some(
                    json!({"user": {"name": name, "password": password, "domain_id": "default",
                                     "default_project_id": project_id}}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["user"]["id"].as_str().unwrap().to_string();
        (name, id, password)
    }

    /// A new project and a new user with `roles` in it.
    pub async fn account(&self, prefix: &str, roles: &[&str]) -> Account {
        let (project_name, project_id) = self.create_project(&format!("{prefix}-project")).await;
        let (user_name, user_id, password) = self.create_user(prefix, &project_id).await;
        for role in roles {
            self.grant(&project_id, &user_id, role).await;
        }
        Account {
            user_name,
            user_id,
            password,
            project_name,
            project_id,
        }
    }

    /// Revokes a token (`DELETE /v3/auth/tokens`).
    pub async fn revoke(&self, token: &str) {
        let admin = self.admin_token().await;
        let response = self
            .http
            .delete(format!("{}/auth/tokens", self.v3()))
            .header("x-auth-token", admin)
            .header("x-subject-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }

    /// Registers `url` as the public endpoint of a `service_type` service in a region of
    /// its own (so that tests sharing this Keystone do not see each other's endpoints);
    /// returns the region.
    pub async fn register_endpoint(&self, service_type: &str, url: &str) -> String {
        let region = format!("Region-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let (status, body) = self
            .admin_call(
                reqwest::Method::POST,
                "/regions",
                Some(json!({"region": {"id": region}})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = self
            .admin_call(
                reqwest::Method::POST,
                "/services",
                Some(json!({"service": {"type": service_type, "name": format!("tacker-{region}")}})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let service_id = body["service"]["id"].as_str().unwrap().to_string();
        for interface in ["public", "internal"] {
            let (status, body) = self
                .admin_call(
                    reqwest::Method::POST,
                    "/endpoints",
                    Some(
                        json!({"endpoint": {"service_id": service_id, "interface": interface,
                                             "url": url, "region_id": region}}),
                    ),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        region
    }

    /// The `[keystone_authtoken]` (and `auth_strategy = keystone`) a tacker.conf needs to
    /// validate tokens here as `service`, written as devstack writes it.
    pub fn tacker_conf(&self, service: &Account) -> String {
        let mut conf = format!(
            "[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_type = password\n\
             www_authenticate_uri = {url}\nauth_url = {url}\ninterface = public\nregion_name = RegionOne\n\
             username = {user}\npassword = {password}\nuser_domain_name = Default\n\
             project_name = {project}\nproject_domain_name = Default\nmemcached_servers = localhost:11211\n",
            url = self.url,
            user = service.user_name,
            password = service.password,
            project = service.project_name,
        );
        if let Some(tls) = &self.tls {
            conf.push_str(&format!("cafile = {}\n", tls.ca_file.display()));
        }
        conf
    }

    /// Tacker's service user: the `service` role in a project of its own (devstack
    /// gives it `service` and `admin` in the `service` project).
    pub async fn service_account(&self) -> Account {
        self.account("tacker", &["service"]).await
    }

    /// An application credential of `account` (as that user): (id, secret).
    pub async fn application_credential(&self, account: &Account) -> (String, String) {
        let token = self.token(account).await;
        let response = self
            .http
            .post(format!(
                "{}/users/{}/application_credentials",
                self.v3(),
                account.user_id
            ))
            .header("x-auth-token", token)
            .json(&json!({"application_credential": {"name": format!("cred-{}", uuid::Uuid::new_v4())}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let credential = &body["application_credential"];
        (
            credential["id"].as_str().unwrap().to_string(),
            credential["secret"].as_str().unwrap().to_string(),
        )
    }

    /// Keystone's OAuth 2.0 client credentials grant (`POST /v3/OS-OAUTH2/token`):
    /// with a secret, HTTP Basic; with a client certificate, mutual TLS (`client_id` is
    /// then the user id). The access token, or the status and body of the refusal.
    pub async fn oauth2_token(
        &self,
        client_id: &str,
        secret: Option<&str>,
        certificate: Option<&Issued>,
    ) -> Result<String, (u16, Value)> {
        let mut request = self
            .client(certificate)
            .post(format!("{}/OS-OAUTH2/token", self.v3()));
        let mut form = vec![("grant_type", "client_credentials")];
        match secret {
            Some(secret) => request = request.basic_auth(client_id, Some(secret)),
            None => form.push(("client_id", client_id)),
        }
        let response = request.form(&form).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return Err((status, body));
        }
        Ok(body["access_token"].as_str().unwrap().to_string())
    }
}

impl Drop for Keystone {
    fn drop(&mut self) {
        self.stop();
    }
}
