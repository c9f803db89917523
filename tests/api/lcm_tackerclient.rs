//! python-tackerclient's `openstack vnflcm ...` commands, unchanged, against the server, for
//! /vnflcm/v1 (the client's default) and /vnflcm/v2 (`--os-tacker-api-version 2`):
//! subscriptions, instances, operations and their occurrences, and the notifications a
//! subscriber receives meanwhile.
//!
//! The CLI runs with auth type none, so every request is Tacker's admin context without a
//! project: there is no default VIM to fall back on, and the instantiate file names the
//! registered VIM by its vimId.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload, sample_package, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::{TestApp, TestBackend};

use crate::tackerclient::{json_stdout, openstack, openstack_cli};

const FINAL_STATES: &[&str] = &["COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK"];
const DEF_FILES: [&str; 2] = [
    "Files/kubernetes/configmap.yaml",
    "Files/kubernetes/deployment.yaml",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Api {
    V1,
    V2,
}

impl Api {
    fn prefix(self) -> &'static str {
        match self {
            Api::V1 => "/vnflcm/v1",
            Api::V2 => "/vnflcm/v2",
        }
    }

    /// A request as the noauth admin (what the CLI is), with v2's `Version` header.
    fn admin(self, app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = app.request(method, &format!("{}{path}", self.prefix()));
        match self {
            Api::V1 => request,
            Api::V2 => request.header("Version", "2.0.0"),
        }
    }

    /// The InstantiateVnfRequest the CLI reads from its file: vimConnectionInfo is an array
    /// in v1 and a map in v2.
    fn instantiate_request(self, vim_id: &str) -> Value {
        let connection = match self {
            Api::V1 => json!([{"id": "vim1", "vimId": vim_id, "vimType": "kubernetes"}]),
            Api::V2 => json!({"vim1": {"vimId": vim_id, "vimType": "ETSINFV.KUBERNETES.V_1"}}),
        };
        json!({
            "flavourId": "simple",
            "vimConnectionInfo": connection,
            "additionalParams": {"lcm-kubernetes-def-files": DEF_FILES},
        })
    }
}

/// The CLI against one app, for one API version.
struct Cli<'a> {
    path: PathBuf,
    app: &'a TestApp,
    api: Api,
}

impl Cli<'_> {
    async fn run(&self, args: &[&str]) -> Output {
        let mut all = Vec::new();
        if self.api == Api::V2 {
            all.extend(["--os-tacker-api-version", "2"]);
        }
        all.push("vnflcm");
        all.extend(args);
        openstack(&self.path, self.app, &all).await
    }

    /// `-f json` output of a successful command.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-f", "json"]);
        json_stdout(&self.run(&all).await)
    }

    /// stdout of a successful command.
    async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "vnflcm {args:?}\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// stderr of a failing command.
    async fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert!(
            !output.status.success(),
            "vnflcm {args:?} should fail: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

/// A subscriber: GET (the callback test) and POST (notifications) answer 204; POSTed
/// bodies are kept.
struct Receiver {
    address: SocketAddr,
    tests: Arc<AtomicUsize>,
    notifications: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let tests = Arc::new(AtomicUsize::new(0));
        let notifications = Arc::new(Mutex::new(Vec::new()));
        let (counted, kept) = (tests.clone(), notifications.clone());
        let app = Router::new().route(
            "/notifications",
            get(move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                StatusCode::NO_CONTENT
            })
            .post(move |body: Bytes| async move {
                let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                kept.lock().unwrap().push(value);
                StatusCode::NO_CONTENT
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            address,
            tests,
            notifications,
        }
    }

    fn callback(&self) -> String {
        format!("http://{}/notifications", self.address)
    }

    /// Waits until an occurrence notification of `operation` on `instance` reached
    /// `state`; returns every occurrence notification about `instance` so far.
    async fn wait_for(&self, instance: &str, operation: &str, state: &str) -> Vec<Value> {
        for _ in 0..400 {
            let about: Vec<Value> = self
                .notifications
                .lock()
                .unwrap()
                .iter()
                .filter(|n| n["vnfInstanceId"] == instance)
                .cloned()
                .collect();
            if about
                .iter()
                .any(|n| n["operation"] == operation && n["operationState"] == state)
            {
                return about;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no {operation} {state} notification about {instance} in 20 s: {:?}",
            self.notifications.lock().unwrap()
        );
    }
}

/// As the admin: a Kubernetes VIM registered for a project (not the admin's default: it
/// has none) and the sample package onboarded. Returns the VIM id.
async fn vim_and_package(app: &TestApp) -> String {
    let body = json!({"vim": {
        "type": "kubernetes", "name": "cluster", "tenant_id": "project-a",
        "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "cluster-bearer-secret"},
        "vim_project": {"name": "default"},
    }});
    let (status, vim) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&body))
        .await;
    assert_eq!(status, 201, "{vim}");
    let package = create_and_upload(app, sample_package()).await;
    assert_eq!(
        wait_onboarding(app, &package).await["onboardingState"],
        "ONBOARDED"
    );
    vim["vim"]["id"].as_str().unwrap().to_string()
}

/// Waits until every occurrence on `instance` has ended; returns them.
async fn settled(app: &TestApp, api: Api, instance: &str) -> Vec<Value> {
    for _ in 0..400 {
        let (status, ops) = app.send(api.admin(app, Method::GET, "/vnf_lcm_op_occs")).await;
        assert_eq!(status, 200, "{ops}");
        let mine: Vec<Value> = ops
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["vnfInstanceId"] == instance)
            .cloned()
            .collect();
        if mine
            .iter()
            .all(|o| FINAL_STATES.contains(&o["operationState"].as_str().unwrap_or_default()))
        {
            return mine;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the operations on {instance} did not end in 20 s");
}

fn write_json(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_vnflcm_v1_commands_work_unchanged() {
    vnflcm_commands(Api::V1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_vnflcm_v2_commands_work_unchanged() {
    vnflcm_commands(Api::V2).await;
}

async fn vnflcm_commands(api: Api) {
    let Some(path) = openstack_cli() else { return };
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let receiver = Receiver::start().await;
    let vim_id = vim_and_package(&app).await;
    let dir = app.state_dir.path();
    let cli = Cli { path, app: &app, api };

    // Subscriptions: the callback is tested (GET) before the subscription is stored.
    let filter = json!({
        "notificationTypes": ["VnfLcmOperationOccurrenceNotification"],
        "operationTypes": ["INSTANTIATE", "TERMINATE"],
    });
    let request = write_json(
        dir,
        "subscription.json",
        &json!({"callbackUri": receiver.callback(), "filter": filter}),
    );
    let subscription = cli.json(&["subsc", "create", &request]).await;
    assert_eq!(
        subscription["Callback URI"],
        receiver.callback(),
        "{subscription}"
    );
    assert_eq!(subscription["Filter"], filter);
    let subscription_id = subscription["ID"].as_str().unwrap().to_string();
    assert!(subscription["Links"]["self"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{}/subscriptions/{subscription_id}", api.prefix())));
    if api == Api::V2 {
        assert_eq!(subscription["verbosity"], "FULL");
    }
    assert!(
        receiver.tests.load(Ordering::SeqCst) >= 1,
        "the callback was tested"
    );
    assert!(!subscription.to_string().contains("authentication"));
    let listed = cli.json(&["subsc", "list"]).await;
    assert_eq!(
        listed,
        json!([{"ID": subscription_id, "Callback URI": receiver.callback()}])
    );
    let shown = cli.json(&["subsc", "show", &subscription_id]).await;
    assert_eq!(shown["ID"], subscription_id.as_str());
    assert_eq!(shown["Filter"], filter);

    // Create, list, update (MODIFY_INFO).
    let created = cli
        .json(&[
            "create",
            SAMPLE_VNFD_ID,
            "--name",
            "web-1",
            "--description",
            "from the client",
        ])
        .await;
    let id = created["ID"].as_str().unwrap().to_string();
    assert_eq!(created["VNF Instance Name"], "web-1", "{created}");
    assert_eq!(created["VNF Instance Description"], "from the client");
    assert_eq!(created["VNFD ID"], SAMPLE_VNFD_ID);
    assert_eq!(created["VNF Product Name"], "Sample CNF");
    assert_eq!(created["Instantiation State"], "NOT_INSTANTIATED");
    assert!(created["Links"]["instantiate"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{}/vnf_instances/{id}/instantiate", api.prefix())));
    // v1 shows the package; v2 has no vnfPkgId.
    assert_eq!(
        created.get("VNF Package ID").is_some(),
        api == Api::V1,
        "{created}"
    );
    let listed = cli.json(&["list"]).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["ID"], id.as_str());
    assert_eq!(listed[0]["VNF Instance Name"], "web-1");
    assert_eq!(listed[0]["Instantiation State"], "NOT_INSTANTIATED");
    assert_eq!(listed[0]["VNF Product Name"], "Sample CNF");
    assert_eq!(listed[0]["VNFD ID"], SAMPLE_VNFD_ID);

    let update = write_json(
        dir,
        "update.json",
        &json!({"vnfInstanceName": "web-renamed", "vnfInstanceDescription": "renamed by the client"}),
    );
    let stdout = cli.ok(&["update", &id, "--I", &update]).await;
    assert!(stdout.contains(&format!("Update vnf:{id}")), "{stdout}");
    let ops = settled(&app, api, &id).await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["operation"], "MODIFY_INFO");
    assert_eq!(ops[0]["operationState"], "COMPLETED", "{ops:?}");

    // The CLI's admin has no project, hence no default VIM: the request must name one.
    let mut without_vim = api.instantiate_request(&vim_id);
    without_vim.as_object_mut().unwrap().remove("vimConnectionInfo");
    let without_vim = write_json(dir, "without_vim.json", &without_vim);
    let stderr = cli.fails(&["instantiate", &id, &without_vim]).await;
    let no_vim = match api {
        Api::V1 => "Default VIM is not defined.",
        Api::V2 => "No VimConnectionInfo",
    };
    assert!(stderr.contains(no_vim), "{stderr}");

    // Instantiate with the VIM named by vimId.
    let instantiate = write_json(dir, "instantiate.json", &api.instantiate_request(&vim_id));
    let stdout = cli.ok(&["instantiate", &id, &instantiate]).await;
    assert!(
        stdout.contains(&format!(
            "Instantiate request for VNF Instance {id} has been accepted."
        )),
        "{stdout}"
    );
    let ops = settled(&app, api, &id).await;
    assert!(ops.iter().all(|o| o["operationState"] == "COMPLETED"), "{ops:?}");
    let shown = cli.json(&["show", &id]).await;
    assert_eq!(shown["Instantiation State"], "INSTANTIATED", "{shown}");
    assert_eq!(shown["VNF Instance Name"], "web-renamed");
    assert_eq!(shown["VNF Instance Description"], "renamed by the client");
    let vnfcs = shown["Instantiated Vnf Info"]["vnfcResourceInfo"]
        .as_array()
        .unwrap();
    assert!(vnfcs.iter().any(|v| v["vduId"] == "VDU1"), "{shown}");
    assert!(vnfcs.iter().any(|v| v["vduId"] == "VDU2"), "{shown}");
    let connection = match api {
        Api::V1 => shown["VIM Connection Info"][0].clone(),
        Api::V2 => shown["VIM Connection Info"]["vim1"].clone(),
    };
    assert_eq!(connection["vimId"], vim_id.as_str(), "{shown}");
    // The token-only VIM connects with its bearer token (not Tacker's stored placeholder
    // `username: "None"`), and the token is never shown.
    assert_eq!(connection["accessInfo"], json!({}), "{shown}");
    assert!(shown["Links"]["terminate"].is_object());
    assert!(
        !shown.to_string().contains("cluster-bearer-secret"),
        "secrets are never shown: {shown}"
    );

    // Occurrences: list (with a filter) and show.
    let ops = cli.json(&["op", "list"]).await;
    assert_eq!(ops.as_array().unwrap().len(), 2, "{ops}");
    for op in ops.as_array().unwrap() {
        assert_eq!(op["VNF Instance ID"], id.as_str(), "{op}");
        assert_eq!(op["Operation State"], "COMPLETED");
    }
    let filtered = cli
        .json(&["op", "list", "--filter", "(eq,operation,INSTANTIATE)"])
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1, "{filtered}");
    assert_eq!(filtered[0]["Operation"], "INSTANTIATE");
    let op_id = filtered[0]["ID"].as_str().unwrap().to_string();
    let op = cli.json(&["op", "show", &op_id]).await;
    assert_eq!(op["ID"], op_id.as_str(), "{op}");
    assert_eq!(op["Operation"], "INSTANTIATE");
    assert_eq!(op["Operation State"], "COMPLETED");
    assert_eq!(op["VNF Instance ID"], id.as_str());
    assert_eq!(op["Is Automatic Invocation"], false);
    assert_eq!(op["Operation Parameters"]["flavourId"], "simple");
    assert!(!op.to_string().contains("cluster-bearer-secret"), "{op}");
    assert!(op["Links"]["self"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{}/vnf_lcm_op_occs/{op_id}", api.prefix())));

    // The subscriber heard about the instantiation, and only what its filter asks for.
    let heard = receiver.wait_for(&id, "INSTANTIATE", "COMPLETED").await;
    for notification in &heard {
        assert_eq!(
            notification["notificationType"], "VnfLcmOperationOccurrenceNotification",
            "{notification}"
        );
        assert_eq!(notification["subscriptionId"], subscription_id.as_str());
        assert_ne!(notification["operation"], "MODIFY_INFO", "filtered out");
    }
    let instantiation: Vec<&Value> = heard
        .iter()
        .filter(|n| n["vnfLcmOpOccId"] == op_id.as_str())
        .collect();
    assert!(
        instantiation
            .iter()
            .any(|n| n["operationState"] == "STARTING" && n["notificationStatus"] == "START"),
        "{instantiation:?}"
    );
    let completed = instantiation
        .iter()
        .find(|n| n["operationState"] == "COMPLETED")
        .unwrap();
    assert_eq!(completed["notificationStatus"], "RESULT");
    assert!(completed["_links"]["vnfLcmOpOcc"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{}/vnf_lcm_op_occs/{op_id}", api.prefix())));
    if api == Api::V2 {
        assert_eq!(completed["verbosity"], "FULL");
    }

    // An instantiated instance cannot be deleted; terminate, then delete.
    let stderr = cli.fails(&["delete", &id]).await;
    assert!(
        stderr.contains("Failed to delete 1 of 1 vnf instances."),
        "{stderr}"
    );
    let refusal = match api {
        Api::V1 => "in instantiation_state INSTANTIATED. Cannot delete",
        Api::V2 => "is instantiated.",
    };
    assert!(stderr.contains(refusal), "{stderr}");
    let stdout = cli
        .ok(&["terminate", &id, "--termination-type", "FORCEFUL"])
        .await;
    assert!(
        stdout.contains(&format!(
            "Terminate request for VNF Instance '{id}' has been accepted."
        )),
        "{stdout}"
    );
    let ops = settled(&app, api, &id).await;
    assert!(ops.iter().all(|o| o["operationState"] == "COMPLETED"), "{ops:?}");
    receiver.wait_for(&id, "TERMINATE", "COMPLETED").await;
    let stdout = cli.ok(&["delete", &id]).await;
    assert!(
        stdout.contains(&format!("Vnf instance '{id}' is deleted successfully")),
        "{stdout}"
    );
    let stderr = cli.fails(&["show", &id]).await;
    let missing = match api {
        Api::V1 => format!("Can not find requested vnf instance: {id}"),
        Api::V2 => format!("VnfInstance {id} not found."),
    };
    assert!(stderr.contains(&missing), "{stderr}");

    // `create --I` instantiates at once; `terminate --D` waits and deletes.
    let stdout = cli
        .ok(&["create", SAMPLE_VNFD_ID, "--I", &instantiate, "-f", "json"])
        .await;
    let (message, table) = stdout.split_once('\n').unwrap();
    let second: Value = serde_json::from_str(table).unwrap();
    let second_id = second["ID"].as_str().unwrap().to_string();
    assert_eq!(
        message,
        format!("VNF Instance {second_id} is created and instantiation request has been accepted.")
    );
    let ops = settled(&app, api, &second_id).await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["operationState"], "COMPLETED", "{ops:?}");
    let stdout = cli.ok(&["terminate", &second_id, "--D"]).await;
    for line in [
        format!("Terminate request for VNF Instance '{second_id}' has been accepted."),
        "Waiting for vnf instance to be terminated before deleting".to_string(),
        format!("VNF Instance '{second_id}' is deleted successfully"),
    ] {
        assert!(stdout.contains(&line), "{stdout}");
    }
    let (status, _) = app
        .send(api.admin(&app, Method::GET, &format!("/vnf_instances/{second_id}")))
        .await;
    assert_eq!(status, 404);
    // Nothing is left: occurrences go with their instance.
    for path in ["/vnf_instances", "/vnf_lcm_op_occs"] {
        assert_eq!(
            app.send(api.admin(&app, Method::GET, path)).await,
            (200, json!([]))
        );
    }

    // The VIM is free again; the subscription goes.
    let (status, _) = app
        .send(app.request(Method::DELETE, &format!("/v1.0/vims/{vim_id}")))
        .await;
    assert_eq!(status, 204);
    let stdout = cli.ok(&["subsc", "delete", &subscription_id]).await;
    assert!(
        stdout.contains(&format!(
            "Lccn Subscription '{subscription_id}' is deleted successfully"
        )),
        "{stdout}"
    );
    assert_eq!(
        app.send(api.admin(&app, Method::GET, "/subscriptions")).await,
        (200, json!([]))
    );
}

/// `openstack vnflcm op cancel` (v1 only, as in the client), then `op rollback`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_vnflcm_op_cancel_stops_a_running_operation() {
    let Some(path) = openstack_cli() else { return };
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let vim_id = vim_and_package(&app).await;
    let api = Api::V1;
    let cli = Cli { path, app: &app, api };

    let (status, created) = app
        .send(
            api.admin(&app, Method::POST, "/vnf_instances")
                .json(&json!({"vnfdId": SAMPLE_VNFD_ID})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    // The test driver takes a minute over this step: only a cancel ends it early.
    let mut body = api.instantiate_request(&vim_id);
    body["additionalParams"]["tacker-rs-test"] = json!({"delay_ms": {"instantiate": 60_000}});
    let path = format!("/vnf_instances/{id}/instantiate");
    let (status, _) = app.send(api.admin(&app, Method::POST, &path).json(&body)).await;
    assert_eq!(status, 202);
    let op_id = loop {
        let ops = cli.json(&["op", "list"]).await;
        if let Some(op) = ops
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["Operation State"] == "PROCESSING")
        {
            break op["ID"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The client's cancel command prints the acceptance, then fails to show a result it
    // never returns (a ShowOne without columns): it exits 1 against Tacker too.
    let output = cli
        .run(&["op", "cancel", &op_id, "--cancel-mode", "FORCEFUL"])
        .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "Cancel request for LCM operation {op_id} has been accepted"
        )),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot unpack non-iterable NoneType object"),
        "{stderr}"
    );
    let ops = settled(&app, api, id).await;
    assert_eq!(ops[0]["operationState"], "FAILED_TEMP", "{ops:?}");
    let op = cli.json(&["op", "show", &op_id]).await;
    assert_eq!(op["Is Cancel Pending"], false, "{op}");
    assert!(op["Error"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("The operation was cancelled (FORCEFUL)"));
    // Cancelling what has stopped is refused with Tacker's words.
    let stderr = cli.fails(&["op", "cancel", &op_id]).await;
    assert!(
        stderr.contains("Cancel operation in state FAILED_TEMP is not allowed."),
        "{stderr}"
    );

    cli.ok(&["op", "rollback", &op_id]).await;
    for _ in 0..200 {
        let op = cli.json(&["op", "show", &op_id]).await;
        if op["Operation State"] == "ROLLED_BACK" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the rollback of {op_id} did not end");
}
