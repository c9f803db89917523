//! VNF performance management: PM jobs and thresholds become Prometheus rule files,
//! delivered over SFTP and loaded by a real Prometheus (the test kit's monitoring rig);
//! their alerts come back through Alertmanager as reports and threshold crossings, and
//! the subscriber hears of them. Requests that do not fit are refused and change nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::monitoring::monitoring;
use tacker_testkit::{backend_tests, TestApp, TestBackend};

use crate::lcm_helpers::{expect, Receiver, PROJECT};
use crate::vnffm::instance_with_pods;

const PLUGIN: &str = "[prometheus_plugin]\nperformance_management = true\nreporting_period_threshold = 30\ncollection_period_threshold = 1\n";

pub fn pm(app: &TestApp, project: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.request_as(project, "member,reader", method, &format!("/vnfpm/v2{path}"))
        .header("Version", "2.1.0")
}

async fn with_performance_management<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if monitoring().is_none() {
        return;
    }
    let Some(app) = TestApp::builder(backend).conf(PLUGIN).spawn().await else {
        return;
    };
    body(app).await
}

/// Memory series for the instance's pods: each uses `used` of a 1000-byte node.
pub fn set_memory(pods: &[(String, String)], used: f64) {
    let rig = monitoring().unwrap();
    rig.set_series(
        "kube_node_status_capacity",
        &[("node", "node-1"), ("resource", "memory")],
        1000.0,
    );
    for (_, pod) in pods {
        let labels = [("namespace", "default"), ("pod", pod.as_str())];
        rig.set_series("pod_memory_working_set_bytes", &labels, used);
        rig.set_series(
            "kube_pod_info",
            &[
                ("namespace", "default"),
                ("pod", pod.as_str()),
                ("node", "node-1"),
            ],
            1.0,
        );
    }
}

pub fn job_request(instance_id: &str, callback: &str) -> Value {
    json!({
        "objectType": "Vnf",
        "objectInstanceIds": [instance_id],
        "criteria": {"performanceMetric": [format!("VMemoryUsageMeanVnf.{instance_id}")],
                     "collectionPeriod": 1, "reportingPeriod": 30},
        "callbackUri": callback,
        "metadata": monitoring().unwrap().pm_metadata(),
    })
}

/// Waits until Prometheus has (or, `present` false, no longer has) the rule group.
async fn wait_rule_group(name: &str, present: bool) {
    let rig = monitoring().unwrap();
    for _ in 0..100 {
        if rig.rule_groups().await.to_string().contains(name) == present {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("rule group {name} present: {} after 10 s", !present);
}

backend_tests!(pm_jobs_and_thresholds_through_prometheus => pm_jobs_and_thresholds_through_prometheus, setup = with_performance_management);

async fn pm_jobs_and_thresholds_through_prometheus(app: TestApp) {
    let rig = monitoring().unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, pods) = instance_with_pods(&app).await;
    rig.route_instance(&instance_id, &app.socket_addr().to_string());
    set_memory(&pods, 500.0);
    let receiver = Receiver::start(None).await;

    // A PM job: its rules reach Prometheus, the values come back as a report.
    let (location, job) = expect(
        pm(&app, PROJECT, Method::POST, "/pm_jobs").json(&job_request(&instance_id, &receiver.callback)),
        201,
    )
    .await;
    let job_id = job["id"].as_str().unwrap().to_owned();
    assert!(location
        .unwrap()
        .ends_with(&format!("/vnfpm/v2/pm_jobs/{job_id}")));
    assert_eq!(job["reports"], json!([]));
    assert!(
        job.get("metadata").is_none() && job.get("authentication").is_none(),
        "{job}"
    );
    assert!(job["_links"]["objects"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/vnflcm/v2/vnf_instances/{instance_id}")));
    wait_rule_group(&format!("tacker_{job_id}"), true).await;
    // A reload makes Prometheus look for Alertmanager again.
    rig.wait_for_alertmanager().await;
    let delivered = std::fs::read_to_string(rig.rules_dir().join(format!("{job_id}.json"))).unwrap();
    assert!(delivered.contains("\"function_type\": \"vnfpm\""), "{delivered}");
    let heard = receiver
        .wait_for("PerformanceInformationAvailableNotification", |n| {
            n.iter()
                .any(|n| n["notificationType"] == "PerformanceInformationAvailableNotification")
        })
        .await;
    let available = heard
        .iter()
        .find(|n| n["notificationType"] == "PerformanceInformationAvailableNotification")
        .unwrap();
    assert_eq!(available["pmJobId"], job_id.as_str());
    assert_eq!(available["objectInstanceId"], instance_id.as_str());
    let report_href = available["_links"]["performanceReport"]["href"].as_str().unwrap();
    let report_path = report_href.split_once("/vnfpm/v2").unwrap().1;
    let (_, report) = expect(pm(&app, PROJECT, Method::GET, report_path), 200).await;
    let entry = &report["entries"][0];
    assert_eq!(entry["objectType"], "Vnf");
    assert_eq!(
        entry["performanceMetric"],
        format!("VMemoryUsageMeanVnf.{instance_id}")
    );
    assert_eq!(entry["performanceValues"][0]["value"], "0.5", "{report}");
    let (_, shown) = expect(pm(&app, PROJECT, Method::GET, &format!("/pm_jobs/{job_id}")), 200).await;
    assert!(shown["reports"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with(report_path));

    // A threshold: crossing up, then down.
    let (_, threshold) = expect(
        pm(&app, PROJECT, Method::POST, "/thresholds").json(&json!({
            "objectType": "Vnf",
            "objectInstanceId": instance_id,
            "criteria": {"performanceMetric": format!("VMemoryUsageMeanVnf.{instance_id}"), "thresholdType": "SIMPLE",
                         "simpleThresholdDetails": {"thresholdValue": 0.4, "hysteresis": 0.05}},
            "callbackUri": receiver.callback,
            "metadata": rig.pm_metadata(),
        })),
        201,
    )
    .await;
    let threshold_id = threshold["id"].as_str().unwrap().to_owned();
    rig.wait_for_alertmanager().await;
    let crossed = |direction: &'static str| {
        let threshold_id = threshold_id.clone();
        move |n: &[Value]| {
            n.iter().any(|n| {
                n["notificationType"] == "ThresholdCrossedNotification"
                    && n["thresholdId"] == threshold_id.as_str()
                    && n["crossingDirection"] == direction
            })
        }
    };
    let heard = receiver.wait_for("an UP crossing", crossed("UP")).await;
    let up = heard.iter().find(|n| n["crossingDirection"] == "UP").unwrap();
    assert_eq!(up["performanceValue"], "0.5");
    set_memory(&pods, 100.0);
    receiver.wait_for("a DOWN crossing", crossed("DOWN")).await;

    // Re-pointed, then deleted: the rules go from Prometheus too.
    let (_, answer) = expect(
        pm(&app, PROJECT, Method::PATCH, &format!("/pm_jobs/{job_id}"))
            .header("Content-Type", "application/merge-patch+json")
            .json(&json!({"callbackUri": receiver.callback})),
        200,
    )
    .await;
    assert_eq!(answer, json!({"callbackUri": receiver.callback}));
    let (_, jobs) = expect(pm(&app, "project-b", Method::GET, "/pm_jobs"), 200).await;
    assert_eq!(jobs, json!([]), "another project sees none");
    expect(
        pm(&app, PROJECT, Method::DELETE, &format!("/pm_jobs/{job_id}")),
        204,
    )
    .await;
    expect(
        pm(
            &app,
            PROJECT,
            Method::DELETE,
            &format!("/thresholds/{threshold_id}"),
        ),
        204,
    )
    .await;
    wait_rule_group(&format!("tacker_{job_id}"), false).await;
    wait_rule_group(&format!("tacker_{threshold_id}"), false).await;
    expect(pm(&app, PROJECT, Method::GET, &format!("/pm_jobs/{job_id}")), 404).await;
    expect(pm(&app, PROJECT, Method::GET, report_path), 404).await;
}

backend_tests!(pm_requests_that_do_not_fit => pm_requests_that_do_not_fit, setup = with_performance_management);

async fn pm_requests_that_do_not_fit(app: TestApp) {
    let rig = monitoring().unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, _) = instance_with_pods(&app).await;
    let receiver = Receiver::start(None).await;
    let good = job_request(&instance_id, &receiver.callback);
    let with = |pointer: &str, value: Value| {
        let mut request = good.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        request.pointer_mut(parent).unwrap()[key] = value;
        request
    };
    let cases = [
        (
            with("/criteria/performanceMetric", json!(["VCpuUsageAverage.x"])),
            400,
            "performanceMetric VCpuUsageAverage.x is not supported for objectType Vnf",
        ),
        (
            with("/criteria/performanceMetricGroup", json!(["VnfInternalCp"])),
            400,
            "performanceMetricGroup VnfInternalCp is not supported for objectType Vnf",
        ),
        (
            with("/objectType", json!("Server")),
            400,
            "Invalid input for field/attribute objectType.",
        ),
        (
            with("/objectInstanceIds", json!(["no-such-instance"])),
            404,
            "VnfInstance no-such-instance not found.",
        ),
        (with("/metadata", json!({})), 400, ""),
        (
            with("/callbackUri", json!("http://127.0.0.1:9/nothing")),
            422,
            "Can't get from notification callback Uri.",
        ),
    ];
    for (request, status, detail) in cases {
        let (_, error) = expect(pm(&app, PROJECT, Method::POST, "/pm_jobs").json(&request), status).await;
        assert!(error["detail"].as_str().unwrap().starts_with(detail), "{error}");
    }
    // Another project's instance is not there for it, for a job or a threshold.
    expect(pm(&app, "project-b", Method::POST, "/pm_jobs").json(&good), 404).await;
    let threshold = json!({"objectType": "Vnf", "objectInstanceId": instance_id,
        "criteria": {"performanceMetric": format!("VMemoryUsageMeanVnf.{instance_id}"), "thresholdType": "SIMPLE",
                     "simpleThresholdDetails": {"thresholdValue": 0.5, "hysteresis": 0.1}},
        "callbackUri": receiver.callback, "metadata": rig.pm_metadata()});
    let (_, error) = expect(
        pm(&app, "project-b", Method::POST, "/thresholds").json(&threshold),
        404,
    )
    .await;
    assert_eq!(error["detail"], format!("VnfInstance {instance_id} not found."));
    let mut wrong_metric = threshold.clone();
    wrong_metric["criteria"]["performanceMetric"] = json!("VMemoryUsageMeanVnf.other-instance");
    expect(
        pm(&app, PROJECT, Method::POST, "/thresholds").json(&wrong_metric),
        400,
    )
    .await;
    let (_, thresholds) = expect(pm(&app, PROJECT, Method::GET, "/thresholds"), 200).await;
    assert_eq!(thresholds, json!([]));
    let (_, jobs) = expect(pm(&app, PROJECT, Method::GET, "/pm_jobs"), 200).await;
    assert_eq!(jobs, json!([]), "nothing was created");
    assert!(
        !std::fs::read_dir(rig.rules_dir()).unwrap().any(|f| f
            .unwrap()
            .path()
            .to_string_lossy()
            .contains(&instance_id)),
        "no rule file was left behind"
    );

    // Alertmanager payloads that do not fit.
    let event = |labels: Value, value: &str| {
        json!({"alerts": [{"status": "firing", "labels": labels, "annotations": {"value": value},
            "startsAt": "2026-12-05T04:00:00Z", "fingerprint": "p1"}]})
    };
    let labels = json!({"receiver_type": "tacker", "function_type": "vnfpm", "job_id": "no-such-job",
        "object_instance_id": instance_id, "metric": "VMemoryUsageMeanVnf.x"});
    let (status, body) = app
        .send(
            app.request(Method::POST, "/pm_event")
                .json(&event(labels.clone(), "0.5")),
        )
        .await;
    assert_eq!(
        (status, body["detail"].as_str().unwrap()),
        (404, "alerts[0]: PM job no-such-job not found.")
    );
    let (status, body) = app
        .send(
            app.request(Method::POST, "/pm_event")
                .json(&event(labels, "high")),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = app
        .send(
            app.request(Method::POST, "/pm_threshold")
                .json(&json!({"alerts": 3})),
        )
        .await;
    assert_eq!(status, 400);
    expect(
        app.request_as(PROJECT, "member,reader", Method::GET, "/vnfpm/v2/pm_jobs")
            .header("Version", "2.0.0"),
        406,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pm_receivers_are_off_unless_enabled() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    for path in ["/pm_event", "/pm_threshold"] {
        let (status, body) = app
            .send(app.request(Method::POST, path).json(&json!({"alerts": []})))
            .await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["detail"], "Performance management API is not enabled.");
    }
}

/// python-tackerclient's `openstack vnfpm ...` (`--os-tacker-api-version 2`), unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_vnfpm_commands_work_unchanged() {
    let Some(cli) = crate::tackerclient::openstack_cli() else {
        return;
    };
    let Some(rig) = monitoring() else { return };
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(PLUGIN)
        .spawn()
        .await
        .unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, pods) = instance_with_pods(&app).await;
    rig.route_instance(&instance_id, &app.socket_addr().to_string());
    set_memory(&pods, 500.0);
    let receiver = Receiver::start(None).await;
    let dir = app.state_dir.path();
    let write = |name: &str, body: Value| {
        let path = dir.join(name);
        std::fs::write(&path, body.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let run = |args: &[&str]| {
        let mut all = vec!["--os-tacker-api-version", "2", "vnfpm"];
        all.extend(args);
        let all: Vec<String> = all.iter().map(|a| (*a).to_owned()).collect();
        let (cli, app) = (cli.clone(), &app);
        async move {
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            crate::tackerclient::openstack(&cli, app, &all).await
        }
    };
    let json = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["-f", "json"]);
        let run = run(&args);
        async move { crate::tackerclient::json_stdout(&run.await) }
    };
    let ok = |output: std::process::Output| {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    // Jobs: create from a file, list, show, update, and a report.
    let job = json(&[
        "job",
        "create",
        &write("job.json", job_request(&instance_id, &receiver.callback)),
    ])
    .await;
    let job_id = job["ID"].as_str().unwrap().to_owned();
    assert_eq!(job["Object Type"], "Vnf", "{job}");
    assert_eq!(job["Object Instance Ids"], json!([instance_id]));
    assert_eq!(job["Callback Uri"], receiver.callback.as_str());
    let jobs = json(&["job", "list"]).await;
    assert_eq!(jobs[0]["Id"], job_id.as_str(), "{jobs}");
    assert!(
        jobs[0]["Links"]["objects"][0]["href"]
            .as_str()
            .unwrap()
            .starts_with("http"),
        "{jobs}"
    );
    rig.wait_for_alertmanager().await;
    let heard = receiver
        .wait_for("a report", |n| n.iter().any(|n| n["pmJobId"] == job_id.as_str()))
        .await;
    let report_href = heard[0]["_links"]["performanceReport"]["href"].as_str().unwrap();
    let report_id = report_href.rsplit('/').next().unwrap();
    let report = json(&["report", "show", &job_id, report_id]).await;
    assert_eq!(
        report["Entries"][0]["performanceValues"][0]["value"], "0.5",
        "{report}"
    );
    let shown = json(&["job", "show", &job_id]).await;
    assert_eq!(shown["Reports"].as_array().unwrap().len(), 1, "{shown}");
    let updated = json(&[
        "job",
        "update",
        &job_id,
        &write("update.json", json!({"callbackUri": receiver.callback})),
    ])
    .await;
    assert_eq!(updated["Callback Uri"], receiver.callback.as_str(), "{updated}");

    // Thresholds: create, list, show, update, delete.
    let threshold = json(&[
        "threshold",
        "create",
        &write(
            "threshold.json",
            json!({"objectType": "Vnf", "objectInstanceId": instance_id,
                "criteria": {"performanceMetric": format!("VMemoryUsageMeanVnf.{instance_id}"), "thresholdType": "SIMPLE",
                             "simpleThresholdDetails": {"thresholdValue": 0.9, "hysteresis": 0.1}},
                "callbackUri": receiver.callback, "metadata": rig.pm_metadata()}),
        ),
    ])
    .await;
    let threshold_id = threshold["ID"].as_str().unwrap().to_owned();
    assert_eq!(
        threshold["Object Instance Id"],
        instance_id.as_str(),
        "{threshold}"
    );
    let thresholds = json(&["threshold", "list"]).await;
    assert_eq!(thresholds[0]["ID"], threshold_id.as_str());
    let shown = json(&["threshold", "show", &threshold_id]).await;
    assert_eq!(shown["Criteria"]["thresholdType"], "SIMPLE", "{shown}");
    let updated = json(&[
        "threshold",
        "update",
        &threshold_id,
        &write("t_update.json", json!({"callbackUri": receiver.callback})),
    ])
    .await;
    assert_eq!(updated["Callback Uri"], receiver.callback.as_str());
    let stdout = ok(run(&["threshold", "delete", &threshold_id]).await);
    assert!(
        stdout.contains(&format!("VNF PM threshold '{threshold_id}' deleted successfully")),
        "{stdout}"
    );
    let stdout = ok(run(&["job", "delete", &job_id]).await);
    assert!(
        stdout.contains(&format!("VNF PM job '{job_id}' deleted successfully")),
        "{stdout}"
    );
    assert_eq!(json(&["job", "list"]).await, json!([]));
}

/// A client that goes away while the rules are being delivered (Prometheus's reload is
/// slow here) leaves no rule file without its job: the creation finishes on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_during_delivery_leaves_job_and_rules_together() {
    let Some(rig) = monitoring() else { return };
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(PLUGIN)
        .spawn()
        .await
        .unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, _) = instance_with_pods(&app).await;
    let receiver = Receiver::start(None).await;
    // A reload endpoint that answers after 1.5 s.
    let slow = axum::Router::new().route(
        "/-/reload",
        axum::routing::put(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            axum::http::StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let reload = format!("http://{}/-/reload", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, slow).await.unwrap() });
    let mut request = job_request(&instance_id, &receiver.callback);
    request["metadata"]["monitoring"]["targetsInfo"][0]["prometheusReloadApiEndpoint"] = json!(reload);

    let gone = pm(&app, PROJECT, Method::POST, "/pm_jobs")
        .json(&request)
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up before the answer: {gone:?}");
    let job_id = 'stored: {
        for _ in 0..100 {
            let (_, jobs) = expect(pm(&app, PROJECT, Method::GET, "/pm_jobs"), 200).await;
            if let Some(id) = jobs[0]["id"].as_str() {
                break 'stored id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the job was not stored after its client went away");
    };
    assert!(rig.rules_dir().join(format!("{job_id}.json")).exists());
    expect(
        pm(&app, PROJECT, Method::DELETE, &format!("/pm_jobs/{job_id}")),
        204,
    )
    .await;
    assert!(!rig.rules_dir().join(format!("{job_id}.json")).exists());
}
