//! Watches as kube-apiserver serves them: from a list's resourceVersion, label selectors
//! on the object before and after a change, `timeoutSeconds` with a closing BOOKMARK, 410
//! Expired beyond the kept history, and kube's own watch client.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tacker_fake_kube::{FakeKube, FakeKubeConfig, InjectedError};

use crate::kube_client::client;
use crate::support::{start, Kube};

const CM: &str = "/api/v1/namespaces/default/configmaps";

/// An open watch read line by line.
struct Watch {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Watch {
    async fn open(k: &Kube<'_>, query: &str) -> Watch {
        let response = k
            .http
            .get(format!("{}{CM}?watch=1&{query}", k.kube.url()))
            .bearer_auth(&k.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        Watch {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, `None` once the server ended the stream.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.response.chunk())
                .await
                .expect("an event or the end within 5 s")
                .unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// The next event's type and object name.
    async fn next_named(&mut self) -> (String, String) {
        let event = self.next().await.expect("an event");
        (
            event["type"].as_str().unwrap().to_owned(),
            event["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }
}

fn config_map(name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": app}}})
}

fn pair(kind: &str, name: &str) -> (String, String) {
    (kind.to_owned(), name.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_list_sees_the_changes_its_selector_selects() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    assert_eq!(
        k.post(CM, config_map("before", "web")).await.0,
        StatusCode::CREATED
    );
    let (_, list) = k.get(&format!("{CM}?labelSelector=app%3Dweb")).await;
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let mut watch = Watch::open(&k, &format!("resourceVersion={rv}&labelSelector=app%3Dweb")).await;

    k.post(CM, config_map("other", "db")).await;
    let (_, created) = k.post(CM, config_map("web-1", "web")).await;
    let event = watch.next().await.unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(
        event["object"], created,
        "the whole object, kind and apiVersion included"
    );

    k.merge_patch(&format!("{CM}/web-1"), json!({"data": {"a": "1"}}))
        .await;
    let event = watch.next().await.unwrap();
    assert_eq!(
        (event["type"].as_str(), &event["object"]["data"]),
        (Some("MODIFIED"), &json!({"a": "1"}))
    );
    let modified_rv: u64 = event["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(modified_rv > rv.parse().unwrap());

    // Relabelled out of the selection: DELETED; back in: ADDED.
    k.merge_patch(
        &format!("{CM}/web-1"),
        json!({"metadata": {"labels": {"app": "db"}}}),
    )
    .await;
    assert_eq!(watch.next_named().await, pair("DELETED", "web-1"));
    k.merge_patch(
        &format!("{CM}/other"),
        json!({"metadata": {"labels": {"app": "web"}}}),
    )
    .await;
    assert_eq!(watch.next_named().await, pair("ADDED", "other"));
    k.delete(&format!("{CM}/other"), None).await;
    let event = watch.next().await.unwrap();
    assert_eq!(
        (
            event["type"].as_str(),
            event["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("other"))
    );
    // The deletion has a version of its own.
    let deleted_rv: u64 = event["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (_, list) = k.get(CM).await;
    assert_eq!(list["metadata"]["resourceVersion"], deleted_rv.to_string());

    // Without a resourceVersion: the current state first, as ADDED.
    let mut fresh = Watch::open(&k, "labelSelector=app%3Dweb").await;
    assert_eq!(fresh.next_named().await, pair("ADDED", "before"));
    let mut by_name = Watch::open(&k, "fieldSelector=metadata.name%3Dweb-1").await;
    assert_eq!(by_name.next_named().await, pair("ADDED", "web-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_ends_a_watch_after_its_timeout_with_a_bookmark() {
    let kube = start().await;
    let k = Kube::admin(&kube);
    let started = Instant::now();
    let mut watch = Watch::open(&k, "resourceVersion=1&timeoutSeconds=1&allowWatchBookmarks=true").await;
    let mut last = None;
    while let Some(event) = watch.next().await {
        last = Some(event);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let bookmark = last.expect("a bookmark");
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["kind"], "ConfigMap");
    let (_, list) = k.get(CM).await;
    assert_eq!(
        bookmark["object"]["metadata"]["resourceVersion"],
        list["metadata"]["resourceVersion"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_version_no_longer_kept_gets_410_expired() {
    let kube = FakeKube::start(FakeKubeConfig::default().with_watch_history(3))
        .await
        .unwrap();
    let k = Kube::admin(&kube);
    let (_, list) = k.get(CM).await;
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    for i in 0..4 {
        k.post(CM, config_map(&format!("c{i}"), "web")).await;
    }
    let mut watch = Watch::open(&k, &format!("resourceVersion={rv}")).await;
    let event = watch.next().await.unwrap();
    assert_eq!(event["type"], "ERROR");
    assert_eq!(
        (
            event["object"]["kind"].as_str(),
            event["object"]["code"].as_i64(),
            event["object"]["reason"].as_str()
        ),
        (Some("Status"), Some(410), Some("Expired"))
    );
    assert!(
        event["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("too old resource version: {rv} (")),
        "{event}"
    );
    assert!(watch.next().await.is_none(), "the stream ends after the error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_watches_through_its_own_client_and_faults_can_refuse_watches() {
    let kube = start().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client(&kube, kube.admin_token()));
    let list = api.list(&Default::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let params = WatchParams::default().labels("app=web").timeout(1);
    let mut events = api.watch(&params, &rv).await.unwrap().boxed();
    let created: ConfigMap = serde_json::from_value(config_map("k1", "web")).unwrap();
    api.create(&PostParams::default(), &created).await.unwrap();
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        seen.push(match event.unwrap() {
            WatchEvent::Added(cm) => format!("added {}", cm.metadata.name.unwrap()),
            WatchEvent::Bookmark(b) => format!("bookmark {}", b.types.kind),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(seen, ["added k1", "bookmark ConfigMap"]);

    kube.faults().fail(
        "watch",
        "*",
        InjectedError::new(405, "MethodNotAllowed", "watch is not served here"),
        None,
    );
    let refused = match api.watch(&params, &rv).await {
        Err(e) => e,
        Ok(events) => events.boxed().next().await.unwrap().unwrap_err(),
    };
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 405),
        "{refused:?}"
    );
}
