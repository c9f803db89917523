//! Rule files delivered to a real SFTP server (the monitoring rig's "Prometheus host")
//! and loaded by a real Prometheus through the reload the publisher triggers; withdrawn
//! the same way; and the failures: a wrong password, a path outside the served folder, a
//! reload endpoint answering 500, each leaving no rule file behind.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tacker_monitoring::{targets_from_metadata, MonitoringTarget, RulePublisher, RulesError};
use tacker_testkit::monitoring::{monitoring, Monitoring};

fn publisher() -> RulePublisher {
    RulePublisher::new(Duration::from_secs(10))
}

/// A rule file of one group named `t-<uuid>`: (file name, group name, contents).
fn rule_file() -> (String, String, Vec<u8>) {
    let group = format!("t-{}", uuid::Uuid::new_v4().simple());
    let contents = json!({"groups": [{"name": group, "rules": [{
        "alert": "X", "expr": "vector(1) > 0", "for": "0s",
        "labels": {"receiver_type": "tacker"}}]}]});
    (
        format!("{group}.json"),
        group,
        serde_json::to_vec_pretty(&contents).unwrap(),
    )
}

fn rig_targets(rig: &Monitoring) -> Vec<MonitoringTarget> {
    let targets = targets_from_metadata(&rig.pm_metadata()).unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].port, rig.sftp_port());
    targets
}

async fn group_loaded(rig: &Monitoring, group: &str) -> bool {
    rig.rule_groups()
        .await
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == group)
}

/// Waits (up to 10 s) until Prometheus has (`loaded`) or has not the group.
async fn wait_for_group(rig: &Monitoring, group: &str, loaded: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while group_loaded(rig, group).await != loaded {
        assert!(
            Instant::now() < deadline,
            "group {group} {} by Prometheus after 10 s",
            if loaded { "not loaded" } else { "still loaded" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_loads_the_group_and_withdraw_removes_it() {
    let Some(rig) = monitoring() else {
        return;
    };
    let targets = rig_targets(rig);
    let (file_name, group, contents) = rule_file();
    let path = rig.rules_dir().join(&file_name);

    let begun = Instant::now();
    publisher()
        .publish(&targets, &file_name, &contents)
        .await
        .unwrap();
    eprintln!("published in {:?}", begun.elapsed());
    assert_eq!(std::fs::read(&path).unwrap(), contents);
    // Loaded by the reload the publisher made: the rig itself does not reload.
    wait_for_group(rig, &group, true).await;
    eprintln!(
        "loaded by Prometheus {:?} after publishing began",
        begun.elapsed()
    );

    // Publishing again replaces the file (shorter contents: truncated, not overwritten).
    let smaller: Vec<u8> = serde_json::to_vec(&serde_json::from_slice::<Value>(&contents).unwrap()).unwrap();
    assert!(smaller.len() < contents.len());
    publisher().publish(&targets, &file_name, &smaller).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), smaller);

    let begun = Instant::now();
    publisher().withdraw(&targets, &file_name).await.unwrap();
    assert!(!path.exists());
    wait_for_group(rig, &group, false).await;
    eprintln!("withdrawn and unloaded in {:?}", begun.elapsed());

    // Withdrawing what is not there is no error (the reload still happens).
    publisher().withdraw(&targets, &file_name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_names_the_host_and_leaves_nothing() {
    let Some(rig) = monitoring() else {
        return;
    };
    let good = rig_targets(rig).remove(0);
    let mut bad = good.clone();
    bad.password = "not-the-password".into();
    let (file_name, _, contents) = rule_file();

    let err = publisher()
        .publish(&[bad.clone()], &file_name, &contents)
        .await
        .unwrap_err();
    match &err {
        RulesError::Auth { host, port, username } => {
            assert_eq!(
                (host.as_str(), *port, username.as_str()),
                ("127.0.0.1", rig.sftp_port(), rig.sftp_user())
            );
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "SSH authentication as {} failed on 127.0.0.1 port {}",
            rig.sftp_user(),
            rig.sftp_port()
        )
    );
    assert!(!rig.rules_dir().join(&file_name).exists());

    // The first target took the file, the second refused: the first's is removed again.
    let err = publisher()
        .publish(&[good, bad], &file_name, &contents)
        .await
        .unwrap_err();
    assert!(matches!(err, RulesError::Auth { .. }), "{err:?}");
    assert!(!rig.rules_dir().join(&file_name).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_outside_the_served_one_is_refused() {
    let Some(rig) = monitoring() else {
        return;
    };
    let mut target = rig_targets(rig).remove(0);
    let outside = rig.dir().to_path_buf();
    target.rule_dir = outside.display().to_string();
    let (file_name, _, contents) = rule_file();
    let err = publisher()
        .publish(&[target], &file_name, &contents)
        .await
        .unwrap_err();
    match &err {
        RulesError::Sftp {
            host,
            operation,
            path,
            source,
        } => {
            assert_eq!(host, "127.0.0.1");
            assert_eq!(*operation, "open");
            assert_eq!(path, &format!("{}/{file_name}", outside.display()));
            assert!(source.to_string().starts_with("Permission denied"), "{source}");
        }
        other => panic!("expected Sftp, got {other:?}"),
    }
    assert!(!outside.join(&file_name).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_reload_removes_the_uploaded_file() {
    let Some(rig) = monitoring() else {
        return;
    };
    // A "Prometheus" whose reload answers 500; records the methods it was called with.
    let methods: Arc<Mutex<Vec<Method>>> = Arc::default();
    let recorded = methods.clone();
    let app = Router::new().fallback(move |method: Method| {
        let recorded = recorded.clone();
        async move {
            recorded.lock().unwrap().push(method);
            (StatusCode::INTERNAL_SERVER_ERROR, "reload failed")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut target = rig_targets(rig).remove(0);
    target.reload_uri = format!("http://{addr}/-/reload").parse().unwrap();
    let (file_name, _, contents) = rule_file();
    let err = publisher()
        .publish(&[target], &file_name, &contents)
        .await
        .unwrap_err();
    match &err {
        RulesError::Reload { uri, status, .. } => {
            assert_eq!(uri.as_str(), format!("http://{addr}/-/reload"));
            assert_eq!(*status, Some(500));
        }
        other => panic!("expected Reload, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("reloading Prometheus at http://{addr}/-/reload failed: HTTP 500")
    );
    assert_eq!(*methods.lock().unwrap(), [Method::PUT]);
    assert!(!rig.rules_dir().join(&file_name).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_reload_endpoint_is_an_error() {
    let Some(rig) = monitoring() else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut target = rig_targets(rig).remove(0);
    target.reload_uri = format!("http://127.0.0.1:{port}/-/reload").parse().unwrap();
    let (file_name, _, contents) = rule_file();
    let err = publisher()
        .publish(&[target.clone()], &file_name, &contents)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            RulesError::Reload {
                status: None,
                source: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!rig.rules_dir().join(&file_name).exists());
    // Withdrawing tries every step and reports the reload's failure.
    let err = publisher().withdraw(&[target], &file_name).await.unwrap_err();
    assert!(matches!(&err, RulesError::Reload { .. }), "{err:?}");
}
