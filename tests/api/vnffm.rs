//! VNF fault management: Alertmanager's webhook (`POST /alert`) raises and clears alarms on
//! an instance's VNFCs, subscribers hear of them, and /vnffm/v1 lists, shows and
//! acknowledges them, project by project.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::{backend_tests, TestApp, TestBackend};

use crate::lcm_helpers::{
    expect, instantiated, project_with_vim_and_package, v2, wait_op, Receiver, PROJECT,
};

const FM_ENABLED: &str = "[prometheus_plugin]\nfault_management = true\n";

/// Spawns an app with `[prometheus_plugin] fault_management` on.
async fn with_fault_management<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(app) = TestApp::builder(backend).conf(FM_ENABLED).spawn().await else {
        return;
    };
    body(app).await
}

pub fn fm(app: &TestApp, project: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.request_as(project, "member,reader", method, &format!("/vnffm/v1{path}"))
        .header("Version", "1.3.0")
}

/// An Alertmanager webhook with one alert.
pub fn webhook(status: &str, labels: Value, fingerprint: &str) -> Value {
    let mut all = json!({"receiver_type": "tacker", "function_type": "vnffm",
        "perceived_severity": "CRITICAL", "event_type": "PROCESSING_ERROR_ALARM"});
    all.as_object_mut()
        .unwrap()
        .extend(labels.as_object().unwrap().clone());
    let ends = if status == "resolved" {
        "2026-12-05T04:10:00Z"
    } else {
        "0001-01-01T00:00:00Z"
    };
    json!({"receiver": "tacker", "status": status, "version": "4", "groupKey": "{}:{}",
        "alerts": [{"status": status, "labels": all,
            "annotations": {"probable_cause": "Process Terminated", "fault_type": "Server Down", "fault_details": "pod restarted"},
            "startsAt": "2026-12-05T04:00:00.5Z", "endsAt": ends, "fingerprint": fingerprint}]})
}

async fn post_alert(app: &TestApp, payload: &Value) -> (u16, Value) {
    app.send(app.request(Method::POST, "/alert").json(payload)).await
}

/// An instantiated instance of [`PROJECT`]: its id and its VNFCs as (vnfcInfo id, pod).
pub async fn instance_with_pods(app: &TestApp) -> (String, Vec<(String, String)>) {
    let vim_id = project_with_vim_and_package(app).await;
    let (id, location) = instantiated(app, &vim_id, json!({})).await;
    assert_eq!(
        wait_op(app, &location, &["COMPLETED", "FAILED_TEMP"]).await["operationState"],
        "COMPLETED"
    );
    let (_, instance) = expect(v2(app, Method::GET, &format!("/vnf_instances/{id}")), 200).await;
    let info = &instance["instantiatedVnfInfo"];
    let pods = info["vnfcInfo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|vnfc| {
            let resource = info["vnfcResourceInfo"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == vnfc["vnfcResourceInfoId"])
                .unwrap();
            (
                vnfc["id"].as_str().unwrap().to_owned(),
                resource["computeResource"]["resourceId"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    (id, pods)
}

backend_tests!(alerts_raise_and_clear_alarms => alerts_raise_and_clear_alarms, setup = with_fault_management);

async fn alerts_raise_and_clear_alarms(app: TestApp) {
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, pods) = instance_with_pods(&app).await;
    let (vnfc_id, pod) = pods[0].clone();
    let receiver = Receiver::start(None).await;
    let (location, subscription) = expect(
        fm(&app, PROJECT, Method::POST, "/subscriptions").json(&json!({
            "callbackUri": receiver.callback,
            "filter": {"vnfInstanceSubscriptionFilter": {"vnfInstanceIds": [instance_id]},
                       "perceivedSeverities": ["CRITICAL"]},
        })),
        201,
    )
    .await;
    let subscription_id = subscription["id"].as_str().unwrap();
    assert!(location
        .unwrap()
        .ends_with(&format!("/vnffm/v1/subscriptions/{subscription_id}")));
    assert!(subscription.get("authentication").is_none());

    // A firing alert raises one alarm on the VNFC whose pod its label matches, however
    // often Alertmanager delivers it.
    let firing = webhook(
        "firing",
        json!({"vnf_instance_id": instance_id, "pod": pod}),
        "f1e2d3c4b5a69788",
    );
    for _ in 0..2 {
        let (status, body) = post_alert(&app, &firing).await;
        assert_eq!(status, 204, "{body}");
    }
    let (_, alarms) = expect(fm(&app, PROJECT, Method::GET, "/alarms"), 200).await;
    let alarms = alarms.as_array().unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    let alarm = &alarms[0];
    let alarm_id = alarm["id"].as_str().unwrap();
    assert_eq!(alarm["managedObjectId"], instance_id.as_str());
    assert_eq!(alarm["vnfcInstanceIds"], json!([vnfc_id]));
    assert_eq!(alarm["ackState"], "UNACKNOWLEDGED");
    assert_eq!(alarm["perceivedSeverity"], "CRITICAL");
    assert_eq!(alarm["eventType"], "PROCESSING_ERROR_ALARM");
    assert_eq!(alarm["eventTime"], "2026-12-05T04:00:00Z");
    assert_eq!(alarm["probableCause"], "Process Terminated");
    assert_eq!(alarm["faultType"], "Server Down");
    assert_eq!(
        alarm["faultDetails"],
        json!(["fingerprint: f1e2d3c4b5a69788", "detail: pod restarted"])
    );
    assert!(alarm.get("alarmClearedTime").is_none());
    assert!(alarm["_links"]["objectInstance"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/vnflcm/v2/vnf_instances/{instance_id}")));
    let heard = receiver
        .wait_for("AlarmNotification", |n| {
            n.iter().any(|n| n["notificationType"] == "AlarmNotification")
        })
        .await;
    let raised = heard
        .iter()
        .find(|n| n["notificationType"] == "AlarmNotification")
        .unwrap();
    assert_eq!(raised["subscriptionId"], subscription_id);
    assert_eq!(raised["alarm"]["id"], alarm_id);
    assert!(raised["alarm"]["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .starts_with("http"));

    // Acknowledged once; the same state twice is a conflict.
    let path = format!("/alarms/{alarm_id}");
    let ack = json!({"ackState": "ACKNOWLEDGED"});
    let (_, answer) = expect(fm(&app, PROJECT, Method::PATCH, &path).json(&ack), 200).await;
    assert_eq!(answer, ack);
    let (_, error) = expect(fm(&app, PROJECT, Method::PATCH, &path).json(&ack), 409).await;
    assert_eq!(
        error["detail"],
        "The ackState of alarm cannot specify the same value."
    );
    let (_, shown) = expect(fm(&app, PROJECT, Method::GET, &path), 200).await;
    assert_eq!(shown["ackState"], "ACKNOWLEDGED");
    assert!(shown["alarmAcknowledgedTime"].is_string());

    // The alert resolves: the alarm is cleared and its subscriber told.
    let resolved = webhook(
        "resolved",
        json!({"vnf_instance_id": instance_id, "pod": pod}),
        "f1e2d3c4b5a69788",
    );
    assert_eq!(post_alert(&app, &resolved).await.0, 204);
    let (_, shown) = expect(fm(&app, PROJECT, Method::GET, &path), 200).await;
    assert_eq!(shown["alarmClearedTime"], "2026-12-05T04:10:00Z");
    assert!(shown["alarmChangedTime"].is_string());
    let heard = receiver
        .wait_for("AlarmClearedNotification", |n| {
            n.iter()
                .any(|n| n["notificationType"] == "AlarmClearedNotification")
        })
        .await;
    let cleared = heard
        .iter()
        .find(|n| n["notificationType"] == "AlarmClearedNotification")
        .unwrap();
    assert_eq!(cleared["alarmId"], alarm_id);
    assert!(cleared["_links"]["alarm"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&path));
    // Fired again later, the same alert raises a new alarm.
    assert_eq!(post_alert(&app, &firing).await.0, 204);
    let (_, alarms) = expect(fm(&app, PROJECT, Method::GET, "/alarms"), 200).await;
    assert_eq!(alarms.as_array().unwrap().len(), 2);

    // SOL013 filters; another project sees nothing of it.
    let (_, open) = expect(
        fm(
            &app,
            PROJECT,
            Method::GET,
            "/alarms?filter=(eq,ackState,UNACKNOWLEDGED)",
        ),
        200,
    )
    .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    expect(
        fm(&app, PROJECT, Method::GET, "/alarms?filter=(eq,noSuchThing,1)"),
        400,
    )
    .await;
    let (_, theirs) = expect(fm(&app, "project-b", Method::GET, "/alarms"), 200).await;
    assert_eq!(theirs, json!([]));
    expect(fm(&app, "project-b", Method::GET, &path), 404).await;
    expect(
        fm(
            &app,
            "project-b",
            Method::GET,
            &format!("/subscriptions/{subscription_id}"),
        ),
        404,
    )
    .await;
    let (_, subscriptions) = expect(fm(&app, PROJECT, Method::GET, "/subscriptions"), 200).await;
    assert_eq!(subscriptions.as_array().unwrap().len(), 1);
    expect(
        fm(
            &app,
            PROJECT,
            Method::DELETE,
            &format!("/subscriptions/{subscription_id}"),
        ),
        204,
    )
    .await;
    expect(
        fm(
            &app,
            PROJECT,
            Method::GET,
            &format!("/subscriptions/{subscription_id}"),
        ),
        404,
    )
    .await;
}

backend_tests!(bad_alerts_change_nothing => bad_alerts_change_nothing, setup = with_fault_management);

async fn bad_alerts_change_nothing(app: TestApp) {
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, pods) = instance_with_pods(&app).await;
    let pod = &pods[0].1;
    let good = webhook(
        "firing",
        json!({"vnf_instance_id": instance_id, "pod": pod}),
        "aaaa",
    );
    let refused = |mut payload: Value, second: Value| {
        // A bad alert after a good one: the good one must not be applied either.
        let alerts = payload["alerts"].as_array_mut().unwrap();
        alerts.insert(0, good["alerts"][0].clone());
        alerts[1] = second["alerts"][0].clone();
        payload
    };
    let cases = [
        (
            json!({"alerts": "none"}),
            400,
            "Invalid input for field/attribute alerts.",
        ),
        (
            refused(
                good.clone(),
                webhook(
                    "firing",
                    json!({"vnf_instance_id": "no-such-instance", "pod": pod}),
                    "bbbb",
                ),
            ),
            404,
            "alerts[1]: VnfInstance no-such-instance not found.",
        ),
        (
            refused(
                good.clone(),
                webhook(
                    "firing",
                    json!({"vnf_instance_id": instance_id, "pod": "not-a-pod-.*"}),
                    "cccc",
                ),
            ),
            422,
            "alerts[1]: pod 'not-a-pod-.*' matches no VNFC",
        ),
        (
            refused(
                good.clone(),
                webhook(
                    "firing",
                    json!({"vnf_instance_id": instance_id, "pod": pod, "perceived_severity": "LOUD"}),
                    "dddd",
                ),
            ),
            400,
            "alerts[1].labels.perceived_severity: 'LOUD' is not a valid PerceivedSeverity",
        ),
        (
            refused(
                good.clone(),
                webhook(
                    "firing",
                    json!({"vnf_instance_id": instance_id, "pod": "(unclosed"}),
                    "eeee",
                ),
            ),
            400,
            "alerts[1].labels.pod '(unclosed' is not a regular expression",
        ),
    ];
    for (payload, status, detail) in cases {
        let (got, body) = post_alert(&app, &payload).await;
        assert_eq!(got, status, "{body}");
        assert!(body["detail"].as_str().unwrap().starts_with(detail), "{body}");
    }
    let (_, alarms) = expect(fm(&app, PROJECT, Method::GET, "/alarms"), 200).await;
    assert_eq!(alarms, json!([]), "nothing was raised");

    // The API's own rules: the Version header, and FmSubscriptionRequest's types.
    let (_, error) = expect(
        app.request_as(PROJECT, "member,reader", Method::GET, "/vnffm/v1/alarms"),
        400,
    )
    .await;
    assert_eq!(error["detail"], "'Version' HTTP header missing.");
    let (_, error) = expect(
        fm(&app, PROJECT, Method::POST, "/subscriptions")
            .json(&json!({"callbackUri": "http://127.0.0.1:9/cb", "filter": {"eventTypes": ["LOUD"]}})),
        400,
    )
    .await;
    assert!(error["detail"]
        .as_str()
        .unwrap()
        .starts_with("Invalid input for field/attribute filter.eventTypes[0]."));
    let (_, error) = expect(
        fm(&app, PROJECT, Method::POST, "/subscriptions")
            .json(&json!({"callbackUri": "http://127.0.0.1:9/cb"})),
        422,
    )
    .await;
    assert_eq!(error["detail"], "Can't get from notification callback Uri.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_receiver_is_off_unless_enabled() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let (status, body) = post_alert(&app, &webhook("firing", json!({}), "x")).await;
    assert_eq!(status, 404);
    assert_eq!(body["detail"], "Fault management API is not enabled.");
}

/// python-tackerclient's `openstack vnffm ...` (`--os-tacker-api-version 2`), unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_vnffm_commands_work_unchanged() {
    let Some(cli) = crate::tackerclient::openstack_cli() else {
        return;
    };
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf(FM_ENABLED)
        .spawn()
        .await
        .unwrap();
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, pods) = instance_with_pods(&app).await;
    let vnffm = |args: Vec<String>| {
        let (cli, app) = (cli.clone(), &app);
        async move {
            let mut all = vec!["--os-tacker-api-version".to_owned(), "2".into(), "vnffm".into()];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            crate::tackerclient::openstack(&cli, app, &all).await
        }
    };
    let json = |args: &[&str]| {
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.extend(["-f".into(), "json".into()]);
        let run = vnffm(args);
        async move { crate::tackerclient::json_stdout(&run.await) }
    };

    // Subscriptions: create from a file, list, show, delete.
    let receiver = Receiver::start(None).await;
    let request = app.state_dir.path().join("fm_subscription.json");
    let filter = json!({"perceivedSeverities": ["CRITICAL", "MAJOR"]});
    std::fs::write(
        &request,
        json!({"callbackUri": receiver.callback, "filter": filter}).to_string(),
    )
    .unwrap();
    let created = json(&["sub", "create", request.to_str().unwrap()]).await;
    assert_eq!(created["Callback Uri"], receiver.callback.as_str(), "{created}");
    assert_eq!(created["Filter"], filter);
    let subscription_id = created["ID"].as_str().unwrap().to_owned();
    let listed = json(&["sub", "list"]).await;
    assert_eq!(listed[0]["ID"], subscription_id.as_str(), "{listed}");
    let shown = json(&["sub", "show", &subscription_id]).await;
    assert!(shown["Links"]["self"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&subscription_id));

    // Alarms: list, show, acknowledge.
    let firing = webhook(
        "firing",
        json!({"vnf_instance_id": instance_id, "pod": pods[0].1}),
        "c1c2c3c4",
    );
    assert_eq!(post_alert(&app, &firing).await.0, 204);
    let alarms = json(&["alarm", "list"]).await;
    assert_eq!(alarms.as_array().unwrap().len(), 1, "{alarms}");
    let listed = &alarms[0];
    assert_eq!(listed["Managed Object Id"], instance_id.as_str());
    assert_eq!(listed["Ack State"], "UNACKNOWLEDGED");
    assert_eq!(listed["Event Type"], "PROCESSING_ERROR_ALARM");
    assert_eq!(listed["Perceived Severity"], "CRITICAL");
    assert_eq!(listed["Probable Cause"], "Process Terminated");
    let alarm_id = listed["ID"].as_str().unwrap().to_owned();
    let filtered = json(&[
        "alarm",
        "list",
        "--filter",
        &format!("(eq,managedObjectId,{instance_id})"),
    ])
    .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    let shown = json(&["alarm", "show", &alarm_id]).await;
    assert_eq!(shown["Vnfc Instance Ids"], json!([pods[0].0]), "{shown}");
    assert_eq!(shown["Is Root Cause"], false);
    let updated = json(&["alarm", "update", &alarm_id, "--ack-state", "ACKNOWLEDGED"]).await;
    assert_eq!(updated["Ack State"], "ACKNOWLEDGED", "{updated}");
    let again = vnffm(
        ["alarm", "update", &alarm_id, "--ack-state", "ACKNOWLEDGED"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("The ackState of alarm cannot specify the same value."),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let deleted = vnffm(["sub", "delete", &subscription_id].map(String::from).to_vec()).await;
    let stdout = String::from_utf8_lossy(&deleted.stdout);
    assert!(
        stdout.contains(&format!(
            "VNF FM subscription '{subscription_id}' deleted successfully"
        )),
        "{stdout}{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    assert_eq!(json(&["sub", "list"]).await, json!([]));
}

backend_tests!(auto_heal_alerts_are_checked => auto_heal_alerts_are_checked, setup = with_auto_heal);

async fn with_auto_heal<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let conf = "[prometheus_plugin]\nauto_healing = true\ntimer_interval = 0.2\n";
    let Some(app) = TestApp::builder(backend).conf(conf).spawn().await else {
        return;
    };
    body(app).await
}

async fn auto_heal_alerts_are_checked(app: TestApp) {
    let conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, pods) = instance_with_pods(&app).await;
    let heal_alert = |instance: &str, vnfc: &str| {
        let mut payload = webhook(
            "firing",
            json!({"vnf_instance_id": instance, "vnfc_info_id": vnfc}),
            "h1",
        );
        payload["alerts"][0]["labels"]["function_type"] = json!("auto_heal");
        payload
    };
    let post = |payload: Value| {
        let app = &app;
        async move {
            app.send(app.request(Method::POST, "/alert/auto_healing").json(&payload))
                .await
        }
    };
    let (status, body) = post(heal_alert("no-such-instance", &pods[0].0)).await;
    assert_eq!(
        (status, body["detail"].as_str().unwrap()),
        (404, "alerts[0]: VnfInstance no-such-instance not found.")
    );
    let (status, body) = post(heal_alert(&instance_id, "VDU9-nothing")).await;
    assert_eq!(status, 422, "{body}");
    // isAutohealEnabled is not set: accepted, and nothing is healed.
    assert_eq!(post(heal_alert(&instance_id, &pods[0].0)).await.0, 204);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, ops) = expect(
        v2(&app, Method::GET, "/vnf_lcm_op_occs?filter=(eq,operation,HEAL)"),
        200,
    )
    .await;
    assert_eq!(ops, json!([]));
    assert_eq!(conductor.driver.changes(&instance_id, "heal"), 0);
    // The fault receiver is another option, still off here.
    assert_eq!(post_alert(&app, &webhook("firing", json!({}), "x")).await.0, 404);
}

backend_tests!(auto_scale_alerts_start_one_step_scales => auto_scale_alerts_start_one_step_scales, setup = with_auto_scale);

async fn with_auto_scale<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(app) = TestApp::builder(backend)
        .conf("[prometheus_plugin]\nauto_scaling = true\n")
        .spawn()
        .await
    else {
        return;
    };
    body(app).await
}

async fn auto_scale_alerts_start_one_step_scales(app: TestApp) {
    let _conductor = app.spawn_conductor(Duration::from_secs(30));
    let (instance_id, _) = instance_with_pods(&app).await;
    let scale_alert = |labels: Value| {
        let mut payload = webhook("firing", labels, "s1");
        payload["alerts"][0]["labels"]["function_type"] = json!("auto_scale");
        payload
    };
    let post = |payload: Value| {
        let app = &app;
        async move {
            app.send(app.request(Method::POST, "/alert/auto_scaling").json(&payload))
                .await
        }
    };
    let out =
        json!({"vnf_instance_id": instance_id, "aspect_id": "web_aspect", "auto_scale_type": "SCALE_OUT"});
    // Not allowed yet: accepted, nothing scales.
    assert_eq!(post(scale_alert(out.clone())).await.0, 204);
    let (_, ops) = expect(
        v2(&app, Method::GET, "/vnf_lcm_op_occs?filter=(eq,operation,SCALE)"),
        200,
    )
    .await;
    assert_eq!(ops, json!([]));

    let (location, _) = expect(
        v2(&app, Method::PATCH, &format!("/vnf_instances/{instance_id}"))
            .header("Content-Type", "application/merge-patch+json")
            .json(&json!({"vnfConfigurableProperties": {"isAutoscaleEnabled": true}})),
        202,
    )
    .await;
    wait_op(&app, &location.unwrap(), &["COMPLETED"]).await;
    let mut bad = out.clone();
    bad["aspect_id"] = json!("no_aspect");
    let (status, body) = post(scale_alert(bad)).await;
    assert_eq!(status, 422, "{body}");
    let mut bad = out.clone();
    bad["auto_scale_type"] = json!("SCALE_UP");
    assert_eq!(post(scale_alert(bad)).await.0, 400);

    assert_eq!(post(scale_alert(out)).await.0, 204);
    let (_, ops) = expect(
        v2(&app, Method::GET, "/vnf_lcm_op_occs?filter=(eq,operation,SCALE)"),
        200,
    )
    .await;
    let op_id = ops[0]["id"].as_str().unwrap();
    let op = wait_op(
        &app,
        &format!("/vnflcm/v2/vnf_lcm_op_occs/{op_id}"),
        &["COMPLETED", "FAILED_TEMP"],
    )
    .await;
    assert_eq!(op["operationState"], "COMPLETED", "{op}");
    assert_eq!(op["isAutomaticInvocation"], true);
    let (_, instance) = expect(
        v2(&app, Method::GET, &format!("/vnf_instances/{instance_id}")),
        200,
    )
    .await;
    let web = instance["instantiatedVnfInfo"]["scaleStatus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["aspectId"] == "web_aspect")
        .unwrap()
        .clone();
    assert_eq!(web["scaleLevel"], 1, "{instance}");
}
