//! An operation run again after its conductor died mid-way (a retry): what the first
//! attempt created is taken as created; an object of the same name that is not the
//! instance's is still a conflict.

use serde_json::json;
use tacker_driver::InfraDriver;
use tacker_fake_kube::FakeKubeConfig;

use crate::rig::*;

#[tokio::test]
async fn instantiate_again_adopts_its_own_objects_and_refuses_others() {
    let kube = kube(FakeKubeConfig::default()).await;
    let driver = driver();
    // The first attempt got as far as the ConfigMap (labelled with its instance).
    config_map(
        &kube,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "web-config", "namespace": "default",
                            "labels": {"tacker_vnf_instance_id": "inst-retry"}},
               "data": {}}),
    )
    .await;
    let vnfcs = driver
        .instantiate(&plan("inst-retry", bearer(&kube), 1, 1))
        .await
        .unwrap();
    assert_eq!(vnfcs.len(), 2);

    // Another instance's (or anybody's) object of the same name is not adopted.
    let other = kube.object("configmaps", "default", "web-config").unwrap();
    assert_eq!(
        other["metadata"]["labels"]["tacker_vnf_instance_id"],
        "inst-retry"
    );
    let err = driver
        .instantiate(&plan("inst-other", bearer(&kube), 1, 1))
        .await
        .unwrap_err();
    assert_eq!(err.status.as_u16(), 422, "{err:?}");
    assert!(err.detail.contains("AlreadyExists"), "{err:?}");
}
