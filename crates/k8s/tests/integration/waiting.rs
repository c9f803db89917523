//! How the driver waits for the cluster: its watches end the wait as soon as the pods are
//! ready (or gone), long before the next poll would; against a server that refuses
//! watches it polls, and the readiness timeout holds either way.

use std::time::{Duration, Instant};

use serde_json::json;
use tacker_driver::InfraDriver;
use tacker_fake_kube::{FakeKubeConfig, InjectedError, PodFault, Timings};

use crate::rig::*;

/// Pods take `startup` to become ready.
fn starting_in(startup: Duration) -> FakeKubeConfig {
    FakeKubeConfig::default().with_timings(Timings {
        pod_startup: startup,
        ..Timings::default()
    })
}

fn watches(kube: &tacker_fake_kube::FakeKube) -> Vec<u16> {
    kube.audit()
        .iter()
        .filter(|e| e.verb == "watch")
        .map(|e| e.status)
        .collect()
}

#[tokio::test]
async fn instantiate_and_terminate_end_when_the_cluster_is_ready_not_at_the_next_poll() {
    let kube = kube(starting_in(Duration::from_millis(1500))).await;
    let driver = driver_polling_every(Duration::from_secs(30));

    let started = Instant::now();
    let vnfcs = driver
        .instantiate(&plan("inst-w", bearer(&kube), 2, 1))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(vnfcs.len(), 3);
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "ready after the pods' start-up, not after a 30 s poll: {took:?}"
    );
    let opened = watches(&kube);
    assert!(
        !opened.is_empty() && opened.iter().all(|s| *s == 200),
        "{opened:?}"
    );
    // Watches select the instance's objects by its label.
    let watch = kube.audit().into_iter().find(|e| e.verb == "watch").unwrap();
    assert!(
        watch
            .query
            .unwrap()
            .contains("labelSelector=tacker_vnf_instance_id%3Dinst-w"),
        "the instance label selects"
    );

    let started = Instant::now();
    driver
        .terminate(&plan("inst-w", bearer(&kube), 0, 0), &vnfcs, None)
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(labelled(&kube, "pods", "inst-w").is_empty());
}

#[tokio::test]
async fn without_watches_the_driver_polls() {
    let kube = kube(starting_in(Duration::from_millis(300))).await;
    kube.faults().fail(
        "watch",
        "*",
        InjectedError::new(405, "MethodNotAllowed", "watch is not served here"),
        None,
    );
    let driver = driver_polling_every(Duration::from_secs(2));
    let started = Instant::now();
    let vnfcs = driver
        .instantiate(&plan("inst-p", bearer(&kube), 1, 1))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(vnfcs.len(), 2);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "found ready by the poll after 2 s: {took:?}"
    );
    let refused = watches(&kube);
    assert!(
        !refused.is_empty() && refused.iter().all(|s| *s == 405),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_readiness_timeout_holds_however_long_the_poll_interval() {
    let kube = kube(FakeKubeConfig::default()).await;
    kube.faults().pods("app=web", PodFault::NeverReady).unwrap();
    let mut p = plan("inst-t", bearer(&kube), 1, 1);
    p.additional_params
        .insert("kubernetes_vim_rsc_wait_timeout".into(), json!(1));
    let started = Instant::now();
    let err = driver_polling_every(Duration::from_secs(30))
        .instantiate(&p)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        err.detail
            .starts_with("resources did not become ready within 1 s: Deployment default/web"),
        "{}",
        err.detail
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}
