//! The database misbehaves under traffic: busy (SQLite's write lock held elsewhere),
//! down (connections cut, new ones refused), stalled, connections killed mid-traffic.
//! Every answer is a prompt 503 with `Retry-After` or a success, never a 500 or a hang,
//! and the service recovers without a restart.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;
use tacker_testkit::db_fault::SqliteWriteLock;
use tacker_testkit::{backend_tests, with_backend, TestApp, TestBackend};

use crate::helpers::{k8s_vim, register};

/// Long enough to tell "answered promptly" (pool_timeout, 2 s) from "hung for the
/// pool's old 30 s", with room for a slow CI machine.
const PROMPT: Duration = Duration::from_secs(6);

async fn relayed(backend: TestBackend) -> Option<TestApp> {
    TestApp::builder(backend).through_relay().spawn().await
}

/// `[database] pool_timeout` bounds the wait for a connection when the database is away.
async fn pool_timeout_is_honoured(backend: TestBackend) {
    let Some(app) = TestApp::builder(backend)
        .through_relay()
        .conf("[database]\npool_timeout = 0.5\nmax_pool_size = 2\nmax_overflow = 0\n")
        .spawn()
        .await
    else {
        return;
    };
    let vim = register(&app, k8s_vim("kept", Some("demo"))).await;
    // Stalled, not cut: nothing answers, so only pool_timeout ends the wait.
    app.relay.as_ref().unwrap().stall();
    let started = Instant::now();
    let (status, _) = app
        .send(app.request(
            Method::GET,
            &format!("/v1.0/vims/{}", vim["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(status, 503);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_millis(1500),
        "{waited:?}"
    );
    app.relay.as_ref().unwrap().restore();
}

backend_tests!(
    pool_timeout_is_honoured => pool_timeout_is_honoured,
    setup = with_backend, backends = [Postgres, MySql]
);

/// Requests that arrive together during a stall share their change-counter reads: each
/// is answered within about one `pool_timeout`, not after the timeouts of the reads
/// queued before its own.
async fn readers_in_a_stall_wait_one_timeout(backend: TestBackend) {
    let Some(app) = TestApp::builder(backend)
        .through_relay()
        .conf("[database]\npool_timeout = 1.0\n")
        .spawn()
        .await
    else {
        return;
    };
    register(&app, k8s_vim("kept", Some("demo"))).await;
    app.relay.as_ref().unwrap().stall();
    let started = Instant::now();
    let answers = futures::future::join_all((0..16).map(|_| async {
        let status = app
            .request(Method::GET, "/v1.0/vims")
            .send()
            .await
            .unwrap()
            .status();
        (status.as_u16(), started.elapsed())
    }))
    .await;
    app.relay.as_ref().unwrap().restore();
    for (status, waited) in answers {
        assert_eq!(status, 503);
        assert!(
            waited >= Duration::from_millis(800) && waited < Duration::from_millis(1800),
            "{waited:?}"
        );
    }
    let (status, _) = app.send(app.request(Method::GET, "/v1.0/vims")).await;
    assert_eq!(status, 200);
}

backend_tests!(
    readers_in_a_stall_wait_one_timeout => readers_in_a_stall_wait_one_timeout,
    setup = with_backend, backends = [Postgres, MySql]
);

/// Sends and asserts a 503 in the API's own format, with `Retry-After`, answered promptly.
async fn expect_unavailable(app: &TestApp, request: reqwest::RequestBuilder) {
    let started = Instant::now();
    let response = request.send().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    let body: Value = response.json().await.unwrap();
    let message = body["TackerError"]["message"]
        .as_str()
        .or(body["detail"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("database"), "{body}");
    assert!(elapsed < PROMPT, "answered after {elapsed:?}");
    let _ = app;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_sqlite_database_is_a_503_not_a_500() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let vim = register(&app, k8s_vim("before", Some("demo"))).await;
    let lock = SqliteWriteLock::take(&app.database.connection).await;
    // Writers wait for the lock, then get a 503; readers go on (WAL).
    expect_unavailable(
        &app,
        app.request(Method::POST, "/v1.0/vims.json")
            .json(&k8s_vim("during", Some("demo"))),
    )
    .await;
    let (status, _) = app
        .send(app.request(
            Method::GET,
            &format!("/v1.0/vims/{}", vim["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(status, 200);
    drop(lock);
    register(&app, k8s_vim("after", Some("demo"))).await;
}

async fn outage_is_prompt_and_recovers(backend: TestBackend) {
    let Some(app) = relayed(backend).await else {
        return;
    };
    let vim = register(&app, k8s_vim("survivor", Some("demo"))).await;
    let path = format!("/v1.0/vims/{}", vim["id"].as_str().unwrap());
    let relay = app.relay.as_ref().unwrap();

    relay.cut();
    expect_unavailable(&app, app.request(Method::GET, &path)).await;
    expect_unavailable(
        &app,
        app.request(Method::POST, "/v1.0/vims.json")
            .json(&k8s_vim("lost?", Some("demo"))),
    )
    .await;
    expect_unavailable(
        &app,
        app.request(Method::GET, "/vnflcm/v2/vnf_instances")
            .header("Version", "2.0.0"),
    )
    .await;
    let health = app.request(Method::GET, "/healthcheck").send().await.unwrap();
    assert_eq!(health.status(), 503);

    relay.stall();
    expect_unavailable(&app, app.request(Method::GET, &path)).await;

    relay.restore();
    let (status, body) = app.send(app.request(Method::GET, &path)).await;
    assert_eq!(status, 200, "{body}");
    register(&app, k8s_vim("after the outage", Some("demo"))).await;
    let (_, list) = app.send(app.request(Method::GET, "/v1.0/vims")).await;
    let names: Vec<&str> = list["vims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["survivor", "after the outage"],
        "the refused create left nothing"
    );
}

backend_tests!(
    an_outage_is_answered_promptly_and_recovered_from => outage_is_prompt_and_recovers,
    setup = with_backend, backends = [Postgres, MySql]
);

/// Connections are cut again and again while clients read and write: each answer is a
/// success or a 503, never a 500 (a connection killed mid-query included).
async fn connections_killed_under_traffic(backend: TestBackend) {
    let Some(app) = relayed(backend).await else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..8 {
        let vim = register(&app, k8s_vim(&format!("busy-{i}"), Some("demo"))).await;
        ids.push(vim["id"].as_str().unwrap().to_owned());
    }
    let relay = app.relay.as_ref().unwrap();
    let traffic = futures::stream::iter(0..400)
        .map(|n| {
            let id = &ids[n % ids.len()];
            let request = match n % 3 {
                0 => app.request(Method::GET, &format!("/v1.0/vims/{id}")),
                1 => app.request(Method::GET, "/v1.0/vims"),
                _ => app
                    .request(Method::PUT, &format!("/v1.0/vims/{id}"))
                    .json(&serde_json::json!({"vim": {"description": format!("write {n}")}})),
            };
            async move { request.send().await.map(|r| r.status().as_u16()) }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>();
    let faults = async {
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            relay.cut();
            tokio::time::sleep(Duration::from_millis(100)).await;
            relay.restore();
        }
    };
    let (answers, ()) = tokio::join!(traffic, faults);
    relay.restore();
    let statuses: Vec<u16> = answers.into_iter().map(|a| a.unwrap()).collect();
    assert!(statuses.iter().all(|s| matches!(s, 200 | 503)), "{statuses:?}");
    assert!(statuses.contains(&200));
    let (status, _) = app.send(app.request(Method::GET, "/v1.0/vims")).await;
    assert_eq!(status, 200);
}

backend_tests!(
    connections_killed_under_traffic_are_never_a_500 => connections_killed_under_traffic,
    setup = with_backend, backends = [Postgres, MySql]
);
