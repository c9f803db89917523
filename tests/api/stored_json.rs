//! A stored JSON document that no longer parses (a column corrupted behind tacker-rs's
//! back) is a 500 whose body tells nothing of it, and one ERROR line naming the column;
//! never an attribute shown as absent.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use tacker_testkit::{raw, TestApp, TestBackend};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::lcm_helpers::{expect, project_with_vim_and_package, v2, SAMPLE_VNFD_ID};

const CORRUPT: &str = r#"{"cut short": "#;

/// What the server logs while a test runs, one JSON object a line.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    /// The logged failures of requests (`log_failures`), taken out of the capture.
    fn take_failures(&self) -> Vec<Value> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .filter(|line| line["fields"]["message"] == "request failed")
            .collect()
    }
}

/// Expects the opaque 500 for `request` and one ERROR line, in its request's span,
/// whose cause names `column`.
async fn expect_logged_500(logs: &Logs, request: RequestBuilder, column: &str) -> Value {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    for internal in [column, "JSON", "decod", "cut short"] {
        assert!(!text.contains(internal), "{internal} shown in {text}");
    }
    let failures = logs.take_failures();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let line = &failures[0];
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["span"]["request_id"], request_id.as_str());
    let cause = line["fields"]["error"].as_str().unwrap();
    assert!(
        cause.contains(&format!("column \"{column}\"")) && cause.contains("not valid JSON"),
        "{cause}"
    );
    serde_json::from_str(&text).unwrap()
}

async fn corrupt(app: &TestApp, table: &str, column: &str, id: &str) {
    let sql = format!("UPDATE {table} SET {column} = '{CORRUPT}' WHERE id = '{id}'");
    let changed = raw::execute(&app.database.connection, &sql).await.unwrap();
    assert_eq!(changed, 1, "{sql}");
}

/// On a current-thread runtime, so that the server's tasks log to this thread's
/// subscriber.
async fn corrupt_columns_are_reported(backend: TestBackend) {
    let logs = Logs::default();
    let _capture = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_writer(logs.clone())
        .finish()
        .set_default();
    let Some(app) = TestApp::builder(backend).spawn().await else {
        return;
    };
    let vim_id = project_with_vim_and_package(&app).await;
    let body = json!({"vnfdId": SAMPLE_VNFD_ID, "metadata": {"kept": true}});
    let (_, created) = expect(v2(&app, Method::POST, "/vnf_instances").json(&body), 201).await;
    let id = created["id"].as_str().unwrap();
    let instantiate = json!({
        "flavourId": "simple",
        "vimConnectionInfo": {"vim1": {"vimId": vim_id, "vimType": "kubernetes"}},
        "additionalParams": {"lcm-kubernetes-def-files": ["Files/kubernetes/deployment.yaml"]},
    });
    let path = format!("/vnf_instances/{id}/instantiate");
    let (location, _) = expect(v2(&app, Method::POST, &path).json(&instantiate), 202).await;
    let op_id = location.unwrap().rsplit('/').next().unwrap().to_owned();
    assert!(logs.take_failures().is_empty());

    // The instance: alone and in a list showing the document, each request logged once.
    corrupt(&app, "vnf_instances", "metadata", id).await;
    let problem = expect_logged_500(
        &logs,
        v2(&app, Method::GET, &format!("/vnf_instances/{id}")),
        "metadata",
    )
    .await;
    assert_eq!(
        problem,
        json!({"status": 500, "title": "Internal Server Error",
            "detail": "Request Failed: internal server error while processing your request."})
    );
    expect_logged_500(
        &logs,
        v2(&app, Method::GET, "/vnf_instances?all_fields"),
        "metadata",
    )
    .await;
    // A list that does not show the document does not read it.
    let (_, listed) = expect(v2(&app, Method::GET, "/vnf_instances"), 200).await;
    assert_eq!(listed[0]["id"], id);
    assert!(logs.take_failures().is_empty());

    // The occurrence, whose stored request the conductor would run.
    corrupt(&app, "vnf_lcm_op_occs", "operation_params", &op_id).await;
    let op_path = format!("/vnf_lcm_op_occs/{op_id}");
    expect_logged_500(&logs, v2(&app, Method::GET, &op_path), "operation_params").await;

    // The VIM, in /v1.0's own error body.
    corrupt(&app, "vims", "extra", &vim_id).await;
    let vim = app.request(Method::GET, &format!("/v1.0/vims/{vim_id}"));
    let problem = expect_logged_500(&logs, vim, "extra").await;
    assert_eq!(problem["TackerError"]["type"], "HTTPInternalServerError");
}

/// One test per backend, as `backend_tests!` writes them but on the current thread.
mod corrupt_columns_are_a_logged_500 {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        corrupt_columns_are_reported(TestBackend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres() {
        corrupt_columns_are_reported(TestBackend::Postgres).await
    }

    #[tokio::test]
    async fn mysql() {
        corrupt_columns_are_reported(TestBackend::MySql).await
    }
}
