//! HTTPS with rustls: client certificates from a separate client CA, certificate-bound
//! tokens end to end, and certificates renewed on disk while requests keep flowing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tacker_testkit::idp::idp;
use tacker_testkit::pki::{Issued, TestCa};
use tacker_testkit::{TestApp, TestBackend};

struct Pki {
    dir: tempfile::TempDir,
    server_ca: TestCa,
    client_ca: TestCa,
}

impl Pki {
    fn new() -> Self {
        Pki {
            dir: tempfile::tempdir().unwrap(),
            server_ca: TestCa::new("server CA"),
            client_ca: TestCa::new("client CA"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file the way a renewal agent does: a temporary file renamed into place.
    fn put(&self, name: &str, content: &str) {
        let tmp = self.path(&format!(".{name}.tmp"));
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(tmp, self.path(name)).unwrap();
    }

    fn install_server_cert(&self, issued: &Issued) {
        self.put("server.pem", &issued.cert_pem);
        self.put("server.key", &issued.key_pem);
    }

    fn conf(&self, client_ca: Option<&Path>, required: bool) -> String {
        let mut conf = format!(
            "[DEFAULT]\nuse_ssl = true\nssl_cert_file = {}\nssl_key_file = {}\nssl_reload_interval = 1\nssl_client_cert_required = {required}\n",
            self.path("server.pem").display(),
            self.path("server.key").display()
        );
        if let Some(ca) = client_ca {
            conf.push_str(&format!("ssl_ca_file = {}\n", ca.display()));
        }
        conf
    }

    fn client(&self, identity: Option<&Issued>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(self.server_ca.cert_pem.as_bytes()).unwrap())
            .pool_max_idle_per_host(0);
        if let Some(issued) = identity {
            let pem = format!("{}{}", issued.cert_pem, issued.key_pem);
            builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        builder.build().unwrap()
    }
}

async fn status(client: &reqwest::Client, url: &str) -> Result<u16, String> {
    client
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_from_the_client_ca_are_required() {
    let pki = Pki::new();
    pki.install_server_cert(&pki.server_ca.server());
    pki.put("client-ca.pem", &pki.client_ca.cert_pem);
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&pki.conf(Some(&pki.path("client-ca.pem")), true))
        .spawn()
        .await
        .unwrap();
    assert!(app.address.starts_with("https://"));
    let url = app.url("/v1.0/vims.json");

    let good = pki.client_ca.client("operator");
    assert_eq!(status(&pki.client(Some(&good)), &url).await, Ok(200));
    assert!(
        status(&pki.client(None), &url).await.is_err(),
        "no client certificate"
    );
    let stranger = TestCa::new("another CA").client("operator");
    assert!(
        status(&pki.client(Some(&stranger)), &url).await.is_err(),
        "certificate from the wrong CA"
    );
    // Plain HTTP on the HTTPS port gets nowhere.
    assert!(
        status(&reqwest::Client::new(), &url.replace("https://", "http://"))
            .await
            .is_err()
    );
    // Version links follow the scheme.
    let body: serde_json::Value = pki
        .client(Some(&good))
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["versions"][0]["links"][0]["href"],
        format!("{}/v1.0", app.address)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_may_be_optional() {
    let pki = Pki::new();
    pki.install_server_cert(&pki.server_ca.server());
    pki.put("client-ca.pem", &pki.client_ca.cert_pem);
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&pki.conf(Some(&pki.path("client-ca.pem")), false))
        .spawn()
        .await
        .unwrap();
    let url = app.url("/v1.0/vims.json");
    assert_eq!(status(&pki.client(None), &url).await, Ok(200));
    let stranger = TestCa::new("another CA").client("x");
    assert!(
        status(&pki.client(Some(&stranger)), &url).await.is_err(),
        "a presented certificate is still verified"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_bound_tokens_need_the_certificate_they_are_bound_to() {
    let idp = idp();
    let pki = Pki::new();
    pki.install_server_cert(&pki.server_ca.server());
    // Clients present certificates from the IdP's client CA, the one the token is bound to.
    pki.put("client-ca.pem", &idp.client_ca.cert_pem);
    let conf = format!(
        "{}{}thumbprint_verify = true\n",
        pki.conf(Some(&pki.path("client-ca.pem")), true),
        idp.tacker_conf("client_secret_basic")
    );
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&conf)
        .spawn()
        .await
        .unwrap();
    let token = idp.token("mtls-user").await;
    let url = app.url("/v1.0/vims.json");

    let owner = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pki.server_ca.cert_pem.as_bytes()).unwrap())
        .identity(reqwest::Identity::from_pem(&idp.user_identity_pem).unwrap())
        .build()
        .unwrap();
    let response = owner.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);

    // Same token, another valid certificate of the same CA: refused.
    let other = pki.client(Some(&idp.client_ca.client("mtls-user")));
    let response = other.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
}

/// The DER of the certificate the server presents now.
async fn served_certificate(pki: &Pki, address: &str) -> Vec<u8> {
    served_certificate_with_ca(pki.server_ca.cert_pem.as_bytes(), address).await
}

async fn served_certificate_with_ca(ca_pem: &[u8], address: &str) -> Vec<u8> {
    tacker_tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pem::parse(ca_pem).unwrap().contents().to_vec(),
        ))
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address.trim_start_matches("https://"))
        .await
        .unwrap();
    let tls = connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await;
    match tls {
        Ok(tls) => tls.get_ref().1.peer_certificates().unwrap()[0].as_ref().to_vec(),
        // A server that requires client certificates ends the handshake after sending its own.
        Err(e) => panic!("handshake: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewed_certificates_are_picked_up_under_load_without_failures() {
    let pki = Arc::new(Pki::new());
    let first = pki.server_ca.server();
    pki.install_server_cert(&first);
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&pki.conf(None, true))
        .spawn()
        .await
        .unwrap();
    assert_eq!(served_certificate(&pki, &app.address).await, first.der);

    // A bounded loop of requests, each on a new connection, for the whole renewal.
    let url = app.url("/v1.0/vims.json");
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (pki, ok, failed) = (pki.clone(), ok.clone(), failed.clone());
        tokio::spawn(async move {
            let client = pki.client(None);
            let until = Instant::now() + Duration::from_secs(6);
            while Instant::now() < until {
                match status(&client, &url).await {
                    Ok(200) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };

    // A half-written renewal (new certificate, key not yet replaced) is refused...
    tokio::time::sleep(Duration::from_millis(800)).await;
    let second = pki.server_ca.server();
    pki.put("server.pem", &second.cert_pem);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(
        served_certificate(&pki, &app.address).await,
        first.der,
        "mismatched pair must not be used"
    );
    // ...and the complete one is served within a few seconds.
    pki.put("server.key", &second.key_pem);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(served_certificate(&pki, &app.address).await, second.der);

    load.await.unwrap();
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(ok > 20, "the load loop ran ({ok} requests)");
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed during the renewal",
        ok + failed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_tls_files_stop_start_up_with_the_file_named() {
    let pki = Pki::new();
    pki.put(
        "server.pem",
        "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n",
    );
    pki.put("server.key", &pki.server_ca.server().key_pem);
    let dir = tempfile::tempdir().unwrap();
    let conf = tacker_testkit::write_conf(
        dir.path(),
        &format!("sqlite:///{}/t.sqlite", dir.path().display()),
        &pki.conf(None, true),
    );
    let config = tacker_common::Config::load(&[conf]).unwrap();
    let err = tacker_server::Application::build(config, tacker_server::BuildOptions { migrate: true })
        .await
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("server.pem"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_clients_trust_exactly_the_given_ca_bundle() {
    use tacker_tls::client::{http_client, OutboundTls};
    let pki = Pki::new();
    pki.install_server_cert(&pki.server_ca.server());
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&pki.conf(None, true))
        .spawn()
        .await
        .unwrap();
    let url = app.url("/v1.0/vims.json");
    let unrelated = TestCa::new("cluster CA");
    // A VIM's ssl_ca_cert may hold two CAs (say the cluster's and the IdP's): either verifies.
    let bundle = format!("{}{}", unrelated.cert_pem, pki.server_ca.cert_pem);
    let tls = OutboundTls {
        ca_pem: Some(bundle.into_bytes()),
        ..Default::default()
    };
    assert_eq!(status(&http_client(&tls, "test").unwrap(), &url).await, Ok(200));
    // Only the unrelated CA: the server is not trusted, and the system roots are not used.
    let tls = OutboundTls {
        ca_pem: Some(unrelated.cert_pem.into_bytes()),
        ..Default::default()
    };
    assert!(status(&http_client(&tls, "test").unwrap(), &url).await.is_err());
    // insecure is an explicit choice.
    let tls = OutboundTls {
        insecure: true,
        ..Default::default()
    };
    assert_eq!(status(&http_client(&tls, "test").unwrap(), &url).await, Ok(200));
    let bad = OutboundTls {
        ca_pem: Some(b"not pem".to_vec()),
        ..Default::default()
    };
    assert!(http_client(&bad, "test").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tacker_manage_ca_sets_up_and_renews_https() {
    use tacker_manage::{CaAction, Cli, Command};
    let dir = tempfile::tempdir().unwrap();
    let ssl = dir.path().join("ssl");
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = tacker_testkit::write_conf(
        conf_dir.path(),
        &format!("sqlite:///{}/t.sqlite", conf_dir.path().display()),
        "",
    );
    let run = |action| {
        tacker_manage::run(Cli {
            config_files: vec![conf.clone()],
            command: Command::Ca {
                dir: Some(ssl.clone()),
                days: 30,
                action,
            },
        })
    };
    run(CaAction::Init {
        sans: vec!["127.0.0.1".into()],
        clients: vec!["operator".into()],
    })
    .await
    .unwrap();
    #[cfg(unix)]
    for key in [
        "server-ca.key",
        "client-ca.key",
        "server.key",
        "client-operator.key",
    ] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(ssl.join(key)).unwrap().permissions().mode() & 0o777,
            0o600,
            "{key}"
        );
    }
    assert!(
        run(CaAction::Init {
            sans: vec![],
            clients: vec![]
        })
        .await
        .is_err(),
        "init does not overwrite a CA"
    );

    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&format!(
            "[DEFAULT]\nuse_ssl = true\nssl_cert_file = {0}/server.pem\nssl_key_file = {0}/server.key\nssl_ca_file = {0}/client-ca.pem\nssl_reload_interval = 1\n",
            ssl.display()
        ))
        .spawn()
        .await
        .unwrap();
    let read = |name: &str| std::fs::read(ssl.join(name)).unwrap();
    let mut identity = read("client-operator.pem");
    identity.extend(read("client-operator.key"));
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&read("server-ca.pem")).unwrap())
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let url = app.url("/v1.0/vims.json");
    assert_eq!(status(&client, &url).await, Ok(200));

    // A renewal by the same command is served without a restart.
    let before = served_certificate_with_ca(&read("server-ca.pem"), &app.address).await;
    run(CaAction::IssueServer {
        sans: vec!["127.0.0.1".into()],
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = served_certificate_with_ca(&read("server-ca.pem"), &app.address).await;
    assert_ne!(before, after);
    assert_eq!(status(&client, &url).await, Ok(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_at_once() {
    let pki = Pki::new();
    let first = pki.server_ca.server();
    pki.install_server_cert(&first);
    // No polling to speak of: only the signal can explain a prompt reload.
    let conf = pki
        .conf(None, true)
        .replace("ssl_reload_interval = 1", "ssl_reload_interval = 3600");
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(&conf)
        .spawn()
        .await
        .unwrap();
    assert_eq!(served_certificate(&pki, &app.address).await, first.der);
    let second = pki.server_ca.server();
    pki.install_server_cert(&second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(served_certificate(&pki, &app.address).await, first.der);
    let pid = std::process::id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(served_certificate(&pki, &app.address).await, second.der);
}
