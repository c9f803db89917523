//! The `fake-kube-apiserver` binary as an operator runs it: each demo flag (basic-auth
//! users, the audit log file, pod timings, request and pod faults) reaches the server.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tacker_fake_kube::sha256_hex;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::{deployment, eventually, http};

const BIN: &str = env!("CARGO_BIN_EXE_fake-kube-apiserver");
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";

/// The binary, running until dropped.
struct Running {
    _child: Child,
    url: String,
    http: reqwest::Client,
}

impl Running {
    /// Starts the binary on a free port with `args`; its CA goes to `dir/ca.pem`.
    async fn start(dir: &Path, args: &[&str]) -> Running {
        let ca = dir.join("ca.pem");
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--admin-token", "admin-token"])
            .arg("--ca-out")
            .arg(&ca)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the binary printed no URL")
            .unwrap()
            .expect("the binary stopped before printing its URL");
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let http = http(&std::fs::read_to_string(&ca).unwrap());
        Running {
            _child: child,
            url,
            http,
        }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.url))
    }

    fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .bearer_auth("admin-token")
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The first pod of `app`, once it exists.
    async fn pod(&self, app: &str) -> Value {
        eventually(10, "a pod", || async {
            let (_, list) = self
                .json(
                    self.get(&format!(
                        "/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"
                    ))
                    .bearer_auth("admin-token"),
                )
                .await;
            list["items"].get(0).cloned()
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_users_the_audit_file_and_pod_timings_come_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    // The file is appended to, never truncated.
    std::fs::write(&audit, "{\"earlier\":true}\n").unwrap();
    let kube = Running::start(
        dir.path(),
        &[
            "--basic-auth",
            "alice:pass:with:colons",
            "--audit-log",
            audit.to_str().unwrap(),
            "--pod-startup",
            "1m",
            "--tick",
            "20ms",
        ],
    )
    .await;

    let namespaces = "/api/v1/namespaces";
    let ok = kube.get(namespaces).basic_auth("alice", Some("pass:with:colons"));
    assert_eq!(kube.json(ok).await.0, StatusCode::OK);
    let wrong = kube.get(namespaces).basic_auth("alice", Some("pass"));
    assert_eq!(kube.json(wrong).await.0, StatusCode::UNAUTHORIZED);

    // A minute to start: the pod is still Pending long after the default 200 ms.
    let (status, _) = kube.json(kube.post(DEPLOYS, deployment("slow", 1))).await;
    assert_eq!(status, StatusCode::CREATED);
    kube.pod("slow").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pod = kube.pod("slow").await;
    assert_eq!(pod["status"]["phase"], "Pending", "{pod}");

    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0], json!({"earlier": true}));
    let events = &lines[1..];
    assert!(events
        .iter()
        .all(|e| e["kind"] == "Event" && e["apiVersion"] == "audit.k8s.io/v1"));
    let alice = &events[0];
    assert_eq!(alice["user"]["username"], "alice", "{alice}");
    assert_eq!(alice["verb"], "list");
    assert_eq!(alice["objectRef"]["resource"], "namespaces");
    assert_eq!(alice["responseStatus"]["code"], 200);
    assert!(alice.get("annotations").is_none(), "no token: {alice}");
    let refused = &events[1];
    assert_eq!(refused["responseStatus"]["code"], 401);
    assert_eq!(refused["user"], json!({}));
    let create = &events[2];
    assert_eq!(
        (
            &create["verb"],
            &create["requestURI"],
            &create["user"]["username"]
        ),
        (&json!("create"), &json!(DEPLOYS), &json!("kubernetes-admin"))
    );
    assert_eq!(
        create["annotations"]["fake-kube.tacker-rs/token-sha256"],
        sha256_hex("admin-token")
    );
    assert!(events.iter().skip(3).any(|e| e["requestURI"]
        .as_str()
        .unwrap()
        .contains("labelSelector=app%3Dslow")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_and_pod_faults_come_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let kube = Running::start(
        dir.path(),
        &[
            "--fail",
            "get:configmaps:503:1",
            "--fail",
            "create:Service:409",
            "--pod-fault",
            "crash-loop:app=broken",
            "--pod-fault",
            "never-ready:app=stuck",
        ],
    )
    .await;

    let configmap = kube
        .get("/api/v1/namespaces/default/configmaps/absent")
        .bearer_auth("admin-token");
    let (status, body) = kube.json(configmap.try_clone().unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "ServiceUnavailable", "{body}");
    assert_eq!(kube.json(configmap).await.0, StatusCode::NOT_FOUND, "only once");
    let service = json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}});
    for _ in 0..2 {
        let (status, body) = kube
            .json(kube.post("/api/v1/namespaces/default/services", service.clone()))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "every time: {body}");
        assert_eq!(body["reason"], "Conflict");
    }

    for name in ["broken", "stuck", "fine"] {
        let (status, _) = kube.json(kube.post(DEPLOYS, deployment(name, 1))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    eventually(10, "fine ready", || async {
        let pod = kube.pod("fine").await;
        (pod["status"]["phase"] == "Running").then_some(())
    })
    .await;
    let broken = eventually(10, "a crash-looping pod", || async {
        let pod = kube.pod("broken").await;
        let waiting = &pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"];
        (waiting == "CrashLoopBackOff").then_some(pod)
    })
    .await;
    assert_eq!(broken["status"]["phase"], "Running");
    let stuck = kube.pod("stuck").await;
    assert_eq!(stuck["status"]["phase"], "Pending", "{stuck}");
}

#[test]
fn malformed_flags_are_refused_naming_the_flag() {
    for (flag, value) in [
        ("--basic-auth", "alice"),
        ("--pod-fault", "explode"),
        ("--pod-fault", "fail:app in (("),
        ("--fail", "get"),
        ("--fail", "get:pods:200"),
        ("--pod-startup", "soon"),
    ] {
        let output = std::process::Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", flag, value])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
    }
}
