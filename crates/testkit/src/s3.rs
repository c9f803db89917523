//! A real S3-compatible server for the tests: moto's server (`moto_server` from the test
//! virtualenv, tests/python/requirements.txt) on a free port. [`s3_server()`] is the one
//! the tests of a process share (started on first use; it stops when the process is gone,
//! as its supervisor's stdin closes); [`S3Server::start`] gives a test its own, to stop.
//! Each test works in a bucket of its own ([`S3Server::bucket`]).
//!
//! TACKER_TEST_S3_SERVER names the `moto_server` executable (scripts/test sets it);
//! without it the tests that need S3 are skipped, except under CI.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Credentials moto accepts (it checks none); the store must be given some.
pub const ACCESS_KEY: &str = "tacker-test-access";
pub const SECRET_KEY: &str = "tacker-test-secret";

/// Runs moto (`$1`) on port `$2`; kills it when stdin reaches end of file.
const SUPERVISOR: &str = r#""$1" -H 127.0.0.1 -p "$2" >/dev/null 2>&1 &
p=$!
cat >/dev/null
kill -9 "$p" 2>/dev/null
wait
"#;

/// A running moto server.
pub struct S3Server {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    supervisor: Mutex<Option<Child>>,
}

/// The `moto_server` executable, or `None` (skip) outside CI.
pub fn moto_server_bin() -> Option<PathBuf> {
    crate::tool_path("TACKER_TEST_S3_SERVER")
}

/// The S3 server shared by the tests of this process; `None` when moto is not
/// installed here (outside CI).
pub fn s3_server() -> Option<&'static S3Server> {
    static SHARED: OnceLock<Option<S3Server>> = OnceLock::new();
    SHARED.get_or_init(S3Server::start).as_ref()
}

impl S3Server {
    /// Starts a server of its own; returns once it answers.
    pub fn start() -> Option<S3Server> {
        let bin = moto_server_bin()?;
        let port = crate::free_port();
        let supervisor = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("sh")
            .arg(&bin)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs moto_server");
        let server = S3Server {
            url: format!("http://127.0.0.1:{port}"),
            supervisor: Mutex::new(Some(supervisor)),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server ({}) did not start",
                bin.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    /// Stops the server (its buckets go with it).
    pub fn stop(&self) {
        if let Some(mut child) = self.supervisor.lock().unwrap().take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }

    /// Creates a bucket with a fresh name and returns the name.
    pub async fn bucket(&self) -> String {
        let name = format!("tacker-{}", uuid::Uuid::new_v4().simple());
        let response = reqwest::Client::new()
            .put(format!("{}/{name}", self.url))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "creating bucket {name}: {response:?}"
        );
        name
    }

    /// The `[vnf_package]` options of a package store in `bucket`.
    pub fn conf(&self, bucket: &str) -> String {
        format!(
            "[vnf_package]\npackage_store = s3\ns3_endpoint = {}\ns3_bucket = {bucket}\n\
             s3_access_key = {ACCESS_KEY}\ns3_secret_key = {SECRET_KEY}\n",
            self.url
        )
    }

    /// Every key in `bucket`, sorted.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let text = reqwest::Client::new()
            .get(format!("{}/{bucket}?list-type=2&max-keys=1000", self.url))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut keys: Vec<String> = text
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect();
        keys.sort();
        keys
    }

    /// Puts one object into `bucket`.
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) {
        reqwest::Client::new()
            .put(format!("{}/{bucket}/{key}", self.url))
            .body(body)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
