//! Several processes on one database and one package store, as operators scale out: two
//! tacker-server and two tacker-conductor processes (the real binaries) on PostgreSQL,
//! with packages in S3 (moto) and a Kubernetes VIM (the fake apiserver). A package
//! uploaded through one server is served by the other and run by either conductor; one
//! server and the conductor running an operation are killed with SIGKILL mid-operation,
//! and nothing is lost: the survivor finishes the work.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tacker_fake_kube::{FakeKube, FakeKubeConfig, Timings};
use tacker_testkit::csar::{sample_package, SAMPLE_VNFD_ID};
use tacker_testkit::raw::fetch_text;
use tacker_testkit::s3::s3_server;
use tacker_testkit::{free_port, write_conf, TestBackend, TestDatabase};
use tokio::process::{Child, Command};

const PROJECT: &str = "scale-out";

/// One tacker process with its own state folder.
struct Node {
    child: Child,
    /// `http://127.0.0.1:<port>` for a server.
    url: String,
}

impl Node {
    fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// SIGKILL: no drain, no lease given back.
    async fn kill_9(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

/// The shared part of every process's tacker.conf.
struct Shared {
    connection: String,
    keys: PathBuf,
    store: String,
}

fn conf(dir: &Path, shared: &Shared, port: u16) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let extra = format!(
        "[DEFAULT]\nbind_port = {port}\n[vim_keys]\nopenstack = {}\n{}\n[conductor]\nlease_seconds = 3\npoll_interval = 0.2\n\
         [k8s_vim]\nvalidate_on_register = true\n",
        shared.keys.display(),
        shared.store,
    );
    write_conf(dir, &shared.connection, &extra)
}

/// Starts `binary` with its log in `process.log` beside its configuration.
fn start(binary: &str, conf: &Path) -> Child {
    let log = std::fs::File::create(conf.with_file_name("process.log")).unwrap();
    Command::new(binary)
        .arg("--config-file")
        .arg(conf)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn server(dir: &Path, shared: &Shared) -> Node {
    let port = free_port();
    let child = start(env!("CARGO_BIN_EXE_tacker-server"), &conf(dir, shared, port));
    let node = Node {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while reqwest::get(&node.url).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "tacker-server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node
}

fn conductor(dir: &Path, shared: &Shared) -> Node {
    let child = start(env!("CARGO_BIN_EXE_tacker-conductor"), &conf(dir, shared, 0));
    Node {
        child,
        url: String::new(),
    }
}

async fn send(method: Method, url: String, body: Option<Value>) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("Version", "2.0.0")
        .header("X-User-Id", "user-of-scale-out")
        .header("X-Project-Id", PROJECT)
        .header("X-Roles", "admin,member,reader");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, location, body)
}

/// Polls an operation occurrence through `server` until it is in one of `states`.
async fn wait_op(server: &Node, id: &str, states: &[&str]) -> Value {
    let started = Instant::now();
    loop {
        let (status, _, op) = send(
            Method::GET,
            format!("{}/vnflcm/v2/vnf_lcm_op_occs/{id}", server.url),
            None,
        )
        .await;
        assert_eq!(status, 200, "{op}");
        if states.contains(&op["operationState"].as_str().unwrap_or_default()) {
            return op;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "operation {id} is not {states:?}: {op}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn claimed_by(connection: &str, op_id: &str) -> Option<String> {
    let rows = fetch_text(
        connection,
        &format!("SELECT COALESCE(claimed_by, '') FROM vnf_lcm_op_occs WHERE id = '{op_id}'"),
    )
    .await;
    rows.first()
        .and_then(|row| row.first())
        .filter(|holder| !holder.is_empty())
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_two_conductors_share_the_work_and_survive_a_kill_9() {
    let Some(s3) = s3_server() else { return };
    // The processes' logs stay for reading after a failure with TACKER_TEST_KEEP_LOGS=1.
    let root = tempfile::Builder::new()
        .disable_cleanup(std::env::var_os("TACKER_TEST_KEEP_LOGS").is_some())
        .tempdir()
        .unwrap();
    let Some(database) = TestDatabase::create(TestBackend::Postgres, root.path()).await else {
        return;
    };
    let bucket = s3.bucket().await;
    let shared = Shared {
        connection: database.connection.clone(),
        keys: root.path().join("keys"),
        store: s3.conf(&bucket),
    };
    let migrated = std::process::Command::new(env!("CARGO_BIN_EXE_tacker-db-manage"))
        .arg("--config-file")
        .arg(conf(&root.path().join("manage"), &shared, 0))
        .args(["upgrade", "head"])
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");

    // Pods take 4 s to start: long enough to kill a conductor mid-operation.
    let kube = FakeKube::start(FakeKubeConfig::default().with_timings(Timings {
        pod_startup: Duration::from_secs(4),
        ..Timings::default()
    }))
    .await
    .unwrap();

    let mut server_a = server(&root.path().join("server-a"), &shared).await;
    let server_b = server(&root.path().join("server-b"), &shared).await;
    let mut conductors = [
        conductor(&root.path().join("conductor-1"), &shared),
        conductor(&root.path().join("conductor-2"), &shared),
    ];

    // A VIM registered through A (probed against the cluster), a package uploaded to A.
    let vim = json!({"vim": {
        "type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true, "auth_url": kube.url(),
        "auth_cred": {"bearer_token": kube.admin_token(), "ssl_ca_cert": kube.ca_pem()},
        "vim_project": {"name": "default"},
    }});
    let (status, _, registered) = send(
        Method::POST,
        format!("{}/v1.0/vims.json", server_a.url),
        Some(vim),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    let vim_id = registered["vim"]["id"].as_str().unwrap().to_owned();
    let (status, _, package) = send(
        Method::POST,
        format!("{}/vnfpkgm/v1/vnf_packages", server_a.url),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 201);
    let package_id = package["id"].as_str().unwrap().to_owned();
    let zip = sample_package();
    let uploaded = reqwest::Client::new()
        .put(format!(
            "{}/vnfpkgm/v1/vnf_packages/{package_id}/package_content",
            server_a.url
        ))
        .header("Content-Type", "application/zip")
        .body(zip.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 202);

    // Onboarded as B sees it; downloaded through B.
    let started = Instant::now();
    loop {
        let (_, _, info) = send(
            Method::GET,
            format!("{}/vnfpkgm/v1/vnf_packages/{package_id}", server_b.url),
            None,
        )
        .await;
        if info["onboardingState"] == "ONBOARDED" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{info}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let downloaded = reqwest::get(format!(
        "{}/vnfpkgm/v1/vnf_packages/{package_id}/package_content",
        server_b.url
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    assert_eq!(Sha256::digest(&downloaded), Sha256::digest(&zip));

    // Instantiate through B; whichever conductor claims it is killed mid-way, with A.
    let (status, _, instance) = send(
        Method::POST,
        format!("{}/vnflcm/v2/vnf_instances", server_b.url),
        Some(json!({"vnfdId": SAMPLE_VNFD_ID})),
    )
    .await;
    assert_eq!(status, 201, "{instance}");
    let instance_id = instance["id"].as_str().unwrap().to_owned();
    let files = json!([
        "Files/kubernetes/configmap.yaml",
        "Files/kubernetes/service.yaml",
        "Files/kubernetes/deployment.yaml",
        "Files/kubernetes/statefulset.yaml"
    ]);
    let body = json!({"flavourId": "simple", "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {"lcm-kubernetes-def-files": files, "namespace": "default"}});
    let (status, location, accepted) = send(
        Method::POST,
        format!(
            "{}/vnflcm/v2/vnf_instances/{instance_id}/instantiate",
            server_b.url
        ),
        Some(body),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    let op_id = location.unwrap().rsplit('/').next().unwrap().to_owned();
    wait_op(&server_b, &op_id, &["PROCESSING"]).await;
    let holder = claimed_by(&database.connection, &op_id)
        .await
        .expect("a conductor holds the operation");
    let running = conductors
        .iter()
        .position(|c| holder.contains(&format!("-{}-", c.pid())))
        .unwrap_or_else(|| panic!("{holder} is neither conductor"));
    // Killed once it has changed the cluster, while it waits for the pods.
    let started = Instant::now();
    while kube.object("deployments", "default", "web").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the operation never began"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    conductors[running].kill_9().await;
    server_a.kill_9().await;

    // The survivor finds the dead conductor's claim once its lease runs out: the
    // operation is FAILED_TEMP (never left PROCESSING), and a retry through B completes.
    let failed = wait_op(&server_b, &op_id, &["FAILED_TEMP", "COMPLETED"]).await;
    assert_eq!(failed["operationState"], "FAILED_TEMP", "{failed}");
    let (status, _, retried) = send(
        Method::POST,
        format!("{}/vnflcm/v2/vnf_lcm_op_occs/{op_id}/retry", server_b.url),
        None,
    )
    .await;
    assert_eq!(status, 202, "{retried}");
    // The retry is taken up by a conductor (the state moves on), then ends.
    let done = loop {
        let op = wait_op(&server_b, &op_id, &["COMPLETED", "FAILED_TEMP"]).await;
        if op["stateEnteredTime"] != failed["stateEnteredTime"] {
            break op;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["operationState"], "COMPLETED", "{done}");
    assert_eq!(
        claimed_by(&database.connection, &op_id).await,
        None,
        "nothing is left claimed"
    );
    let (_, _, instance) = send(
        Method::GET,
        format!("{}/vnflcm/v2/vnf_instances/{instance_id}", server_b.url),
        None,
    )
    .await;
    assert_eq!(instance["instantiationState"], "INSTANTIATED", "{instance}");
    assert!(!kube.objects("pods", Some("default")).is_empty());

    // The survivor runs a second operation started through B as well.
    let (status, location, _) = send(
        Method::POST,
        format!("{}/vnflcm/v2/vnf_instances/{instance_id}/terminate", server_b.url),
        Some(json!({"terminationType": "FORCEFUL"})),
    )
    .await;
    assert_eq!(status, 202);
    let op_id = location.unwrap().rsplit('/').next().unwrap().to_owned();
    let done = wait_op(&server_b, &op_id, &["COMPLETED", "FAILED_TEMP"]).await;
    assert_eq!(done["operationState"], "COMPLETED", "{done}");
    assert!(kube.object("deployments", "default", "web").is_none());
}
