//! The driver's operations against the fake kube-apiserver with a bearer-token user under
//! RBAC: instantiate, scale out and in, heal, change_vnfpkg, terminate (forceful and
//! graceful), rollback of a failed instantiate, readiness timeouts.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use tacker_driver::{InfraDriver, Vnfc};
use tacker_fake_kube::{sha256_hex, Authorization, FakeKubeConfig, InjectedError, PodFault, Rbac};

use crate::rig::*;

fn names(vnfcs: &[&Vnfc]) -> BTreeSet<String> {
    vnfcs.iter().map(|v| v.resource_id.clone()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn rbac_tacker() -> FakeKubeConfig {
    FakeKubeConfig::default()
        .with_authorization(Authorization::Rbac(Rbac::new().allow_all_for_user("tacker")))
}

#[tokio::test]
async fn instantiate_scale_heal_and_terminate() {
    let kube = kube(rbac_tacker()).await;
    let driver = driver();

    let vnfcs = driver
        .instantiate(&plan("inst-a", bearer(&kube), 2, 1))
        .await
        .unwrap();
    let web = of_vdu(&vnfcs, "VDU1");
    assert_eq!(web.len(), 2);
    assert!(web
        .iter()
        .all(|v| v.resource_type == "Deployment" && v.id == v.resource_id));
    assert!(web.iter().all(|v| v.resource_id.starts_with("web-")));
    let kv = of_vdu(&vnfcs, "VDU2");
    assert_eq!(names(&kv), set(&["kv-0"]));
    assert_eq!(kv[0].resource_type, "StatefulSet");
    assert_eq!(vnfcs.len(), 3);
    // Everything created carries the instance label, pod templates too.
    assert_eq!(labelled(&kube, "configmaps", "inst-a"), set(&["web-config"]));
    assert_eq!(labelled(&kube, "services", "inst-a"), set(&["kv", "web"]));
    assert_eq!(labelled(&kube, "deployments", "inst-a"), set(&["web"]));
    assert_eq!(labelled(&kube, "statefulsets", "inst-a"), set(&["kv"]));
    assert_eq!(labelled(&kube, "pods", "inst-a").len(), 3);
    let deployment = kube.object("deployments", "default", "web").unwrap();
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"]["tacker_vnf_instance_id"],
        "inst-a"
    );
    // Every call was made with the VIM's token, and created things in the right order.
    let audit = kube.audit();
    assert_eq!(token_digests(&audit), BTreeSet::from([Some(sha256_hex(TOKEN))]));
    let created: Vec<String> = audit
        .iter()
        .filter(|e| e.verb == "create")
        .map(|e| e.resource.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        created,
        [
            "configmaps",
            "services",
            "services",
            "deployments",
            "statefulsets"
        ]
    );

    // Scale out: the existing pods stay.
    kube.clear_audit();
    let out = driver
        .scale(&plan("inst-a", bearer(&kube), 3, 2), &vnfcs)
        .await
        .unwrap();
    assert_eq!(of_vdu(&out, "VDU1").len(), 3);
    assert!(names(&of_vdu(&out, "VDU1")).is_superset(&names(&web)));
    assert_eq!(names(&of_vdu(&out, "VDU2")), set(&["kv-0", "kv-1"]));
    let scaled: BTreeSet<String> = kube
        .audit()
        .iter()
        .filter(|e| e.verb == "patch" && e.subresource.as_deref() == Some("scale"))
        .map(|e| e.resource.clone().unwrap_or_default())
        .collect();
    assert_eq!(scaled, set(&["deployments", "statefulsets"]));

    // Scale in: the removed pods are gone from the cluster when scale returns.
    let inn = driver
        .scale(&plan("inst-a", bearer(&kube), 1, 1), &out)
        .await
        .unwrap();
    assert_eq!(of_vdu(&inn, "VDU1").len(), 1);
    assert_eq!(names(&of_vdu(&inn, "VDU2")), set(&["kv-0"]));
    let running: BTreeSet<String> = inn.iter().map(|v| v.resource_id.clone()).collect();
    assert_eq!(labelled(&kube, "pods", "inst-a"), running);

    // Heal one pod: it is replaced, the other stays.
    let target = of_vdu(&inn, "VDU1")[0].clone();
    let kv_uid = kube.object("pods", "default", "kv-0").unwrap()["metadata"]["uid"].clone();
    let healed = driver
        .heal(
            &plan("inst-a", bearer(&kube), 1, 1),
            &inn,
            std::slice::from_ref(&target),
        )
        .await
        .unwrap();
    assert_eq!(of_vdu(&healed, "VDU1").len(), 1);
    assert_ne!(of_vdu(&healed, "VDU1")[0].resource_id, target.resource_id);
    assert!(!pods(&kube).contains(&target.resource_id));
    assert_eq!(
        kube.object("pods", "default", "kv-0").unwrap()["metadata"]["uid"],
        kv_uid
    );

    // Heal everything: a StatefulSet pod comes back under its name, as a new pod.
    let all = driver
        .heal(&plan("inst-a", bearer(&kube), 1, 1), &healed, &[])
        .await
        .unwrap();
    assert_eq!(names(&of_vdu(&all, "VDU2")), set(&["kv-0"]));
    assert_ne!(
        kube.object("pods", "default", "kv-0").unwrap()["metadata"]["uid"],
        kv_uid
    );
    assert!(names(&of_vdu(&all, "VDU1")).is_disjoint(&names(&of_vdu(&healed, "VDU1"))));

    // Terminate (FORCEFUL): everything labelled is gone, pods too.
    kube.clear_audit();
    driver
        .terminate(&plan("inst-a", bearer(&kube), 0, 0), &all, None)
        .await
        .unwrap();
    for plural in [
        "configmaps",
        "services",
        "deployments",
        "replicasets",
        "statefulsets",
        "pods",
    ] {
        assert!(labelled(&kube, plural, "inst-a").is_empty(), "{plural} left");
    }
    assert_eq!(
        deletes(&kube.audit()),
        set(&[
            "configmaps/web-config",
            "services/web",
            "services/kv",
            "deployments/web",
            "statefulsets/kv"
        ])
    );
}

#[tokio::test]
async fn graceful_terminate_waits_for_the_pods() {
    let kube = kube(FakeKubeConfig::default()).await;
    let driver = driver();
    let vnfcs = driver
        .instantiate(&plan("inst-g", bearer(&kube), 2, 2))
        .await
        .unwrap();
    assert_eq!(vnfcs.len(), 4);
    driver
        .terminate(
            &plan("inst-g", bearer(&kube), 0, 0),
            &vnfcs,
            Some(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    for plural in ["configmaps", "services", "deployments", "statefulsets", "pods"] {
        assert!(labelled(&kube, plural, "inst-g").is_empty(), "{plural} left");
    }
    assert!(pods(&kube).is_disjoint(&vnfcs.iter().map(|v| v.resource_id.clone()).collect()));
}

#[tokio::test]
async fn rollback_removes_exactly_what_the_failed_instantiate_created() {
    let kube = kube(FakeKubeConfig::default()).await;
    let driver = driver();
    // Others' objects in the namespace: one without the label, one of another instance.
    config_map(&kube, json!({"metadata": {"name": "bystander"}})).await;
    config_map(
        &kube,
        json!({"metadata": {"name": "theirs", "labels": {"tacker_vnf_instance_id": "inst-other"}}}),
    )
    .await;

    kube.faults().fail(
        "create",
        "statefulsets",
        InjectedError::internal("etcd is on fire"),
        None,
    );
    let err = driver
        .instantiate(&plan("inst-r", bearer(&kube), 2, 1))
        .await
        .unwrap_err();
    assert_eq!(err.status, 422);
    assert!(
        err.detail.contains("create StatefulSet default/kv: 500") && err.detail.contains("etcd is on fire"),
        "{}",
        err.detail
    );
    assert_eq!(labelled(&kube, "deployments", "inst-r"), set(&["web"]));
    kube.faults().clear();

    kube.clear_audit();
    driver
        .rollback_instantiate(&plan("inst-r", bearer(&kube), 0, 0))
        .await
        .unwrap();
    assert_eq!(
        deletes(&kube.audit()),
        set(&[
            "configmaps/web-config",
            "services/web",
            "services/kv",
            "deployments/web"
        ])
    );
    for plural in ["configmaps", "services", "deployments", "replicasets", "pods"] {
        assert!(labelled(&kube, plural, "inst-r").is_empty(), "{plural} left");
    }
    assert!(kube.object("configmaps", "default", "bystander").is_some());
    assert!(kube.object("configmaps", "default", "theirs").is_some());
}

#[tokio::test]
async fn an_existing_object_fails_instantiate_and_survives_rollback() {
    let kube = kube(FakeKubeConfig::default()).await;
    let driver = driver();
    config_map(
        &kube,
        json!({"metadata": {"name": "web-config"}, "data": {"owner": "someone"}}),
    )
    .await;

    let err = driver
        .instantiate(&plan("inst-x", bearer(&kube), 1, 1))
        .await
        .unwrap_err();
    assert!(
        err.detail
            .contains("create ConfigMap default/web-config: 409 AlreadyExists"),
        "{}",
        err.detail
    );
    driver
        .rollback_instantiate(&plan("inst-x", bearer(&kube), 0, 0))
        .await
        .unwrap();
    let kept = kube.object("configmaps", "default", "web-config").unwrap();
    assert_eq!(kept["data"]["owner"], "someone");
}

#[tokio::test]
async fn change_vnfpkg_replaces_the_pods_with_the_new_template() {
    let kube = kube(FakeKubeConfig::default()).await;
    let driver = driver();
    let before = driver
        .instantiate(&plan("inst-c", bearer(&kube), 2, 1))
        .await
        .unwrap();
    let kv_uid = kube.object("pods", "default", "kv-0").unwrap()["metadata"]["uid"].clone();

    // Version 2 of the package: new images.
    let new = package_copy(
        |text| {
            text.replace("nginx:1.27", "nginx:1.28")
                .replace("redis:7", "redis:7.4")
        },
        &[],
    );
    let mut p = plan("inst-c", bearer(&kube), 2, 1);
    p.package_dir = new.path().to_owned();
    p.additional_params
        .insert("lcm-kubernetes-def-files".into(), json!(MANIFESTS));
    let after = driver.change_vnfpkg(&p, &before).await.unwrap();

    assert_eq!(of_vdu(&after, "VDU1").len(), 2);
    assert!(names(&of_vdu(&after, "VDU1")).is_disjoint(&names(&of_vdu(&before, "VDU1"))));
    assert_eq!(names(&of_vdu(&after, "VDU2")), set(&["kv-0"]));
    assert_ne!(
        kube.object("pods", "default", "kv-0").unwrap()["metadata"]["uid"],
        kv_uid
    );
    let deployment = kube.object("deployments", "default", "web").unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    for v in of_vdu(&after, "VDU1") {
        let pod = kube.object("pods", "default", &v.resource_id).unwrap();
        assert_eq!(pod["spec"]["containers"][0]["image"], "nginx:1.28");
    }

    // The same package again changes nothing and returns at once.
    let same = driver.change_vnfpkg(&p, &after).await.unwrap();
    assert_eq!(same, after);
}

#[tokio::test]
async fn pods_that_never_become_ready_time_out() {
    let kube = kube(FakeKubeConfig::default()).await;
    kube.faults().pods("app=web", PodFault::NeverReady).unwrap();
    let mut p = plan("inst-t", bearer(&kube), 1, 1);
    p.additional_params
        .insert("kubernetes_vim_rsc_wait_timeout".into(), json!(0.5));
    let err = driver().instantiate(&p).await.unwrap_err();
    assert_eq!(err.status, 422);
    assert!(
        err.detail.starts_with(
            "resources did not become ready within 0.5 s: Deployment default/web: 0/1 replicas ready"
        ),
        "{}",
        err.detail
    );
}

#[tokio::test]
async fn a_vdu_without_its_workload_is_named() {
    let kube = kube(FakeKubeConfig::default()).await;
    let mut p = plan("inst-v", bearer(&kube), 1, 1);
    p.workloads[1].name = "redis".into();
    let err = driver().instantiate(&p).await.unwrap_err();
    assert_eq!(err.status, 400);
    assert!(
        err.detail
            .starts_with("VDU VDU2 (name 'redis') has no Deployment"),
        "{}",
        err.detail
    );
    assert!(
        kube.audit().is_empty(),
        "nothing is sent before the manifests check out"
    );
}

#[tokio::test]
async fn kinds_the_cluster_does_not_serve_are_refused_before_anything_is_created() {
    let kube = kube(FakeKubeConfig::default()).await;
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
    let package = package_copy(str::to_owned, &[("Files/kubernetes/widget.yaml", widget)]);
    let mut p = plan("inst-k", bearer(&kube), 1, 1);
    p.package_dir = package.path().to_owned();
    p.additional_params["lcm-kubernetes-def-files"]
        .as_array_mut()
        .unwrap()
        .push(json!("Files/kubernetes/widget.yaml"));
    let err = driver().instantiate(&p).await.unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(
        err.detail,
        "the Kubernetes API server has no kind Widget in example.com/v1"
    );
    assert!(kube.audit().iter().all(|e| e.verb != "create"));
}

#[tokio::test]
async fn scaling_a_workload_someone_deleted_names_it() {
    let kube = kube(FakeKubeConfig::default()).await;
    let driver = driver();
    let vnfcs = driver
        .instantiate(&plan("inst-m", bearer(&kube), 1, 1))
        .await
        .unwrap();
    let api: kube::Api<k8s_openapi::api::apps::v1::StatefulSet> =
        kube::Api::namespaced(admin(&kube), "default");
    api.delete("kv", &Default::default()).await.unwrap();
    let err = driver
        .scale(&plan("inst-m", bearer(&kube), 1, 2), &vnfcs)
        .await
        .unwrap_err();
    assert_eq!(err.status, 422);
    assert_eq!(err.detail, "StatefulSet default/kv (VDU VDU2) does not exist");
}
