//! Many clients writing at once, on every backend: no 500 for a busy database, no
//! silently lost update, and `ETag` / `If-Match` on the ETSI resources clients modify.

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tacker_crypto::KeyVault;
use tacker_testkit::{backend_tests, TestApp};

use crate::helpers::{k8s_vim, register};
use crate::lcm_helpers::{expect, instantiated, project_with_vim_and_package, v2, wait_op};

async fn vim_ids(app: &TestApp, count: usize, prefix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let vim = register(app, k8s_vim(&format!("{prefix}-{i}"), Some("demo"))).await;
        ids.push(vim["id"].as_str().unwrap().to_owned());
    }
    ids
}

backend_tests!(parallel_deletes_all_succeed => parallel_deletes_all_succeed);

/// Seen on SQLite: 40 deletes by 16 clients gave 18 × 500 "database is locked".
async fn parallel_deletes_all_succeed(app: TestApp) {
    let ids = vim_ids(&app, 40, "doomed").await;
    let statuses: Vec<(u16, Value)> = futures::stream::iter(ids)
        .map(|id| {
            let request = app.request(Method::DELETE, &format!("/v1.0/vims/{id}"));
            async { app.send(request).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for (status, body) in &statuses {
        assert_eq!(*status, 204, "{body}");
    }
    let (_, list) = app.send(app.request(Method::GET, "/v1.0/vims")).await;
    assert_eq!(list["vims"].as_array().unwrap().len(), 0, "{list}");
}

backend_tests!(racing_puts_keep_every_change => racing_puts_keep_every_change);

/// Seen on every backend: two PUTs of different attributes at once both answered 200
/// and one change was gone (39 of 40 rounds).
async fn racing_puts_keep_every_change(app: TestApp) {
    let ids = vim_ids(&app, 20, "raced").await;
    for (round, id) in ids.iter().enumerate() {
        let path = format!("/v1.0/vims/{id}");
        let rename = app
            .request(Method::PUT, &path)
            .json(&json!({"vim": {"name": format!("renamed-{round}")}}));
        let describe = app
            .request(Method::PUT, &path)
            .json(&json!({"vim": {"description": format!("described-{round}")}}));
        let ((a, body_a), (b, body_b)) = tokio::join!(app.send(rename), app.send(describe));
        assert_eq!((a, b), (200, 200), "{body_a} {body_b}");
        let (_, shown) = app.send(app.request(Method::GET, &path)).await;
        assert_eq!(shown["vim"]["name"], format!("renamed-{round}"), "round {round}");
        assert_eq!(
            shown["vim"]["description"],
            format!("described-{round}"),
            "round {round}"
        );
    }
}

backend_tests!(a_credential_change_is_never_undone_by_a_racing_put => credential_race);

/// Seen: a PUT of another attribute racing a credential change put the old credential back.
async fn credential_race(app: TestApp) {
    let ids = vim_ids(&app, 10, "rotated").await;
    let vault = KeyVault::new(&app.config.vim_key_dir, None);
    for (round, id) in ids.iter().enumerate() {
        let path = format!("/v1.0/vims/{id}");
        let token = format!("new-token-{round}");
        let rotate = app
            .request(Method::PUT, &path)
            .json(&json!({"vim": {"auth_cred": {"bearer_token": token}}}));
        let describe = app
            .request(Method::PUT, &path)
            .json(&json!({"vim": {"description": format!("round {round}")}}));
        let ((a, _), (b, _)) = tokio::join!(app.send(rotate), app.send(describe));
        assert_eq!((a, b), (200, 200));
        let row = app.db.get_vim(id).await.unwrap().unwrap();
        let cred = row.auth_cred.to_value();
        let keys = vault.open(id).unwrap();
        assert_eq!(
            keys.decrypt(cred["bearer_token"].as_str().unwrap()).unwrap(),
            token,
            "round {round}"
        );
        assert_eq!(row.description, format!("round {round}"));
    }
}

backend_tests!(a_write_storm_never_answers_5xx => write_storm);

/// 32 writers create, flip the default, rename and delete VIMs of one project at once:
/// every answer is a success or a clear 409, and the one-default rule holds.
async fn write_storm(app: TestApp) {
    let answers: Vec<Vec<(u16, Value)>> = futures::stream::iter(0..32)
        .map(|writer| {
            let app = &app;
            async move {
                let mut answers = Vec::new();
                let mut body = k8s_vim(&format!("storm-{writer}"), Some("storm"));
                body["vim"]["is_default"] = json!(writer % 4 == 0);
                let (status, created) = app
                    .send(app.request(Method::POST, "/v1.0/vims.json").json(&body))
                    .await;
                answers.push((status, created.clone()));
                let Some(id) = created["vim"]["id"].as_str() else {
                    return answers;
                };
                let path = format!("/v1.0/vims/{id}");
                for change in [
                    json!({"vim": {"is_default": true}}),
                    json!({"vim": {"name": format!("storm-{writer}-renamed")}}),
                    json!({"vim": {"is_default": false}}),
                ] {
                    answers.push(app.send(app.request(Method::PUT, &path).json(&change)).await);
                }
                if writer % 2 == 0 {
                    answers.push(app.send(app.request(Method::DELETE, &path)).await);
                }
                answers
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    for (status, body) in answers.iter().flatten() {
        assert!(
            matches!(status, 200 | 201 | 204 | 409),
            "unexpected {status}: {body}"
        );
    }
    let (_, list) = app.send(app.request(Method::GET, "/v1.0/vims")).await;
    let vims = list["vims"].as_array().unwrap();
    assert_eq!(vims.len(), 16, "the odd writers' VIMs remain");
    let defaults = vims.iter().filter(|v| v["is_default"] == true).count();
    assert!(defaults <= 1, "{defaults} default VIMs in one project");
}

backend_tests!(packages_and_instances_honour_if_match => if_match);

async fn if_match(app: TestApp) {
    // A package: GET gives an ETag; a PATCH with a stale one is refused with 412 and
    // changes nothing; with the current one it applies and returns the new tag.
    let vim_id = project_with_vim_and_package(&app).await;
    let (_, packages) = app
        .send(app.request(Method::GET, "/vnfpkgm/v1/vnf_packages"))
        .await;
    let package = packages[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/vnfpkgm/v1/vnf_packages/{package}");
    let tag = |response: &reqwest::Response| {
        response
            .headers()
            .get("etag")
            .expect("an ETag")
            .to_str()
            .unwrap()
            .to_owned()
    };
    let first = app.request(Method::GET, &path).send().await.unwrap();
    let read_tag = tag(&first);
    let patch = |tag: &str, data: Value| {
        app.request(Method::PATCH, &path)
            .header("If-Match", tag)
            .json(&json!({"userDefinedData": data}))
    };
    let changed = patch(&read_tag, json!({"k": "1"})).send().await.unwrap();
    assert_eq!(changed.status(), 200);
    let new_tag = tag(&changed);
    assert_ne!(new_tag, read_tag);
    let stale = patch(&read_tag, json!({"k": "2"})).send().await.unwrap();
    assert_eq!(stale.status(), 412);
    let problem: Value = stale.json().await.unwrap();
    assert_eq!(problem["status"], 412, "{problem}");
    let (_, shown) = app.send(app.request(Method::GET, &path)).await;
    assert_eq!(
        shown["userDefinedData"]["k"], "1",
        "a refused PATCH changed nothing"
    );
    assert_eq!(
        patch(&new_tag, json!({"k": "3"})).send().await.unwrap().status(),
        200
    );

    // An instance: the same on PATCH (MODIFY_INFO), in v2.
    let conductor = app.spawn_conductor(std::time::Duration::from_secs(30));
    let (id, location) = instantiated(&app, &vim_id, json!({})).await;
    wait_op(&app, &location, &["COMPLETED"]).await;
    let instance_path = format!("/vnf_instances/{id}");
    let response = v2(&app, Method::GET, &instance_path).send().await.unwrap();
    let instance_tag = tag(&response);
    let modify = |tag: &str, name: &str| {
        v2(&app, Method::PATCH, &instance_path)
            .header("If-Match", tag)
            .json(&json!({"vnfInstanceName": name}))
    };
    let (location, _) = expect(modify(&instance_tag, "first"), 202).await;
    wait_op(&app, &location.unwrap(), &["COMPLETED"]).await;
    let (_, problem) = expect(modify(&instance_tag, "second"), 412).await;
    assert_eq!(problem["status"], 412);
    let (_, shown) = expect(v2(&app, Method::GET, &instance_path), 200).await;
    assert_eq!(shown["vnfInstanceName"], "first");
    drop(conductor);
}

/// Seen: a client that went away during a VIM create left a key file with no VIM. The
/// database's write lock is held so that every create waits in its insert; the clients
/// give up meanwhile. Once the lock is gone, every key file has its VIM and every VIM
/// its key file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_leaves_no_half_created_vim() {
    let app = TestApp::builder(tacker_testkit::TestBackend::Sqlite)
        .spawn()
        .await
        .unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let lock = tacker_testkit::db_fault::SqliteWriteLock::take(&app.database.connection).await;
    let gave_up = futures::stream::iter(0..20)
        .map(|i| {
            let request = impatient
                .post(app.url("/v1.0/vims.json"))
                .json(&k8s_vim(&format!("abandoned-{i}"), Some("demo")));
            async move { request.send().await.is_err() }
        })
        .buffer_unordered(20)
        .collect::<Vec<bool>>()
        .await;
    assert!(
        gave_up.iter().all(|g| *g),
        "every client gave up while the insert waited"
    );
    drop(lock);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    let mut key_files: Vec<String> = std::fs::read_dir(&app.config.vim_key_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    key_files.sort();
    let mut rows: Vec<String> = app
        .db
        .all_vims()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    rows.sort();
    assert_eq!(key_files, rows, "key files and VIM rows match one to one");
    assert_eq!(
        rows.len(),
        20,
        "the creates the clients left finished on their own"
    );
}
