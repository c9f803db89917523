//! The outbox worker against a real HTTP subscriber: headers and authentication, order,
//! retries with backoff, giving up, takeover of a crashed worker's claims, unreachable
//! subscribers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use serde_json::{json, Value};
use tacker_notify::{DeliveryWorker, NotificationSettings, Sender};
use tacker_testkit::backend_tests;

use crate::helpers::{closed_port, fast_settings, with_env, Env, Receiver};

fn worker(env: &Env, settings: NotificationSettings, holder: &str) -> DeliveryWorker {
    let sender = Sender::new(&settings).unwrap();
    DeliveryWorker::new(
        env.db.clone(),
        env.vault.clone(),
        Arc::new(sender),
        settings,
        holder,
    )
}

fn payload(n: u32) -> Value {
    json!({"id": format!("notification-{n}"), "notificationType": "VnfIdentifierCreationNotification",
           "subscriptionId": "s", "timeStamp": "2026-01-01T00:00:00Z", "vnfInstanceId": "i",
           "_links": {"vnfInstance": {"href": "http://tacker/vnflcm/v2/vnf_instances/i"}}})
}

/// Rounds until the outbox is empty (or `limit` rounds), a little apart for the backoff.
async fn drain(env: &Env, worker: &DeliveryWorker, limit: usize) {
    for _ in 0..limit {
        worker.run_once().await.unwrap();
        if env.pending().await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("outbox not empty after {limit} rounds: {:?}", env.pending().await);
}

backend_tests!(basic_auth_with_the_sol003_headers => basic_auth, setup = with_env);
async fn basic_auth(env: Env) {
    let receiver = Receiver::http().await;
    let password = "pa:ss-w0rd/secret";
    let v2 = env
        .subscribe(
            &receiver.callback("/v2/callback"),
            "2",
            Some(json!({"authType": ["BASIC"], "paramsBasic": {"userName": "nfvo", "password": password}})),
        )
        .await;
    let v1 = env.subscribe(&receiver.callback("/v1/callback"), "1", None).await;
    let stored = env.db.get_subscription(&v2).await.unwrap().unwrap();
    assert!(!stored.authentication.unwrap().as_str().contains(password));

    env.enqueue(&v2, &[payload(1), payload(2), payload(3)]).await;
    env.enqueue(&v1, &[payload(4)]).await;
    let worker = worker(&env, fast_settings(), "worker-1");
    assert_eq!(worker.run_once().await.unwrap(), 4);
    assert!(env.pending().await.is_empty());

    let received = receiver.received();
    assert_eq!(received.len(), 4);
    let expected_basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("nfvo:{password}"))
    );
    let to_v2: Vec<_> = received
        .iter()
        .filter(|r| r.json()["id"] != "notification-4")
        .collect();
    for r in &to_v2 {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("accept"), Some("application/json"));
        assert_eq!(r.header("version"), Some("2.0.0"));
        assert_eq!(r.header("authorization"), Some(expected_basic.as_str()));
    }
    // One subscriber's notifications arrive oldest first.
    let order: Vec<_> = to_v2
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, ["notification-1", "notification-2", "notification-3"]);
    assert_eq!(to_v2[0].json(), payload(1));

    let to_v1 = received
        .iter()
        .find(|r| r.json()["id"] == "notification-4")
        .unwrap();
    assert_eq!(to_v1.header("version"), Some("1.3.0"));
    assert_eq!(to_v1.header("authorization"), None);

    // A refusal is recorded without the password.
    receiver.fail_next(1, 401);
    env.enqueue(&v2, &[payload(5)]).await;
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let pending = env.pending().await;
    assert_eq!(pending.len(), 1);
    let error = pending[0].last_error.clone().unwrap();
    assert!(error.contains("answered HTTP 401, expected 204"), "{error}");
    assert!(!error.contains(password) && !error.contains("nfvo:"), "{error}");
}

backend_tests!(failures_are_retried_until_delivered => retried_until_delivered, setup = with_env);
async fn retried_until_delivered(env: Env) {
    let receiver = Receiver::http().await;
    let subscription = env.subscribe(&receiver.callback("/cb"), "2", None).await;
    env.enqueue(&subscription, &[payload(1), payload(2), payload(3)])
        .await;
    // Round 1: all three refused; round 2: the first refused once more.
    receiver.fail_next(4, 503);
    let worker = worker(&env, fast_settings(), "worker-1");

    assert_eq!(worker.run_once().await.unwrap(), 3);
    let pending = env.pending().await;
    assert_eq!(pending.len(), 3);
    for row in &pending {
        assert_eq!(row.attempts, 1);
        assert!(row.next_attempt_at > row.created_at);
        let error = row.last_error.as_deref().unwrap();
        assert!(error.contains("answered HTTP 503"), "{error}");
        assert!(error.starts_with(&format!("{}/cb", receiver.url)), "{error}");
    }

    drain(&env, &worker, 20).await;
    let received = receiver.received();
    assert_eq!(received.len(), 3 + 4, "3 refused + 1 refused + 3 delivered");
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for r in receiver.delivered() {
        *delivered
            .entry(r.json()["id"].as_str().unwrap().into())
            .or_default() += 1;
    }
    let expected: HashMap<String, usize> = (1..=3).map(|n| (format!("notification-{n}"), 1)).collect();
    assert_eq!(delivered, expected, "each delivered exactly once, none lost");
}

backend_tests!(a_notification_is_dropped_after_its_last_attempt => gives_up, setup = with_env);
async fn gives_up(env: Env) {
    let receiver = Receiver::http().await;
    receiver.fail_next(usize::MAX, 500);
    let subscription = env.subscribe(&receiver.callback("/cb"), "2", None).await;
    env.enqueue(&subscription, &[payload(1)]).await;
    let settings = NotificationSettings {
        max_attempts: 3,
        ..fast_settings()
    };
    let worker = worker(&env, settings, "worker-1");
    for attempt in 1..=3 {
        assert_eq!(worker.run_once().await.unwrap(), 1, "attempt {attempt}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(env.pending().await.is_empty());
    assert_eq!(worker.run_once().await.unwrap(), 0);
    assert_eq!(receiver.received().len(), 3);
}

backend_tests!(a_crashed_workers_claims_are_taken_over => takeover, setup = with_env);
async fn takeover(env: Env) {
    let receiver = Receiver::http().await;
    let subscription = env.subscribe(&receiver.callback("/cb"), "2", None).await;
    env.enqueue(&subscription, &[payload(1), payload(2)]).await;

    // Worker A claims and dies before sending.
    let taken = env
        .db
        .claim_notifications("worker-a", Utc::now(), Duration::from_secs(2), 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 2);

    let b = worker(&env, fast_settings(), "worker-b");
    assert_eq!(b.run_once().await.unwrap(), 0, "A's lease still holds");
    assert!(receiver.received().is_empty());

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(b.run_once().await.unwrap(), 2);
    assert_eq!(receiver.delivered().len(), 2);
    assert!(env.pending().await.is_empty());
}

backend_tests!(an_unreachable_subscriber_is_retried_later => unreachable, setup = with_env);
async fn unreachable(env: Env) {
    let port = closed_port().await;
    let subscription = env
        .subscribe(&format!("http://127.0.0.1:{port}/cb?token=hidden"), "2", None)
        .await;
    env.enqueue(&subscription, &[payload(1), payload(2), payload(3)])
        .await;
    let worker = worker(&env, fast_settings(), "worker-1");
    assert_eq!(worker.run_once().await.unwrap(), 3);

    let pending = env.pending().await;
    assert_eq!(pending.len(), 3);
    let errors: Vec<_> = pending.iter().map(|r| r.last_error.clone().unwrap()).collect();
    assert!(
        errors[0].starts_with(&format!("http://127.0.0.1:{port}/cb: connection failed")),
        "{}",
        errors[0]
    );
    for error in &errors[1..] {
        assert!(
            error.starts_with("not attempted, the subscriber was unreachable"),
            "{error}"
        );
    }
    assert!(
        errors.iter().all(|e| !e.contains("hidden")),
        "no query string in errors"
    );
    assert!(pending.iter().all(|r| r.attempts == 1));
}

backend_tests!(the_loop_delivers_until_shut_down => run_loop, setup = with_env);
async fn run_loop(env: Env) {
    let receiver = Receiver::http().await;
    let subscription = env.subscribe(&receiver.callback("/cb"), "2", None).await;
    let settings = NotificationSettings {
        batch_size: 2,
        ..fast_settings()
    };
    let worker = Arc::new(worker(&env, settings, "worker-1"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move {
            worker
                .run(async {
                    let _ = stopped.await;
                })
                .await
        }
    });
    env.enqueue(
        &subscription,
        &[payload(1), payload(2), payload(3), payload(4), payload(5)],
    )
    .await;
    for _ in 0..1000 {
        if receiver.delivered().len() == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(receiver.delivered().len(), 5);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap();
    assert!(env.pending().await.is_empty());
}

backend_tests!(a_subscription_whose_key_is_gone_keeps_its_notifications => key_gone, setup = with_env);
async fn key_gone(env: Env) {
    let receiver = Receiver::http().await;
    let subscription = env
        .subscribe(
            &receiver.callback("/cb"),
            "2",
            Some(json!({"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "p"}})),
        )
        .await;
    env.vault.remove(&subscription).unwrap();
    env.enqueue(&subscription, &[payload(1)]).await;
    let worker = worker(&env, fast_settings(), "worker-1");
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let pending = env.pending().await;
    assert_eq!(pending.len(), 1);
    let error = pending[0].last_error.clone().unwrap();
    assert!(
        error.starts_with("authentication: no encryption key found for the subscription"),
        "{error}"
    );
    assert!(receiver.received().is_empty());
}
