//! A fake kube-apiserver per test, the sample CNF package, plans and VIM connections.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tacker_driver::{Plan, VimConnection, Vnfc, Workload};
use tacker_fake_kube::{AuditEntry, FakeKube, FakeKubeConfig, UserInfo};
use tacker_k8s::{KubernetesDriver, KubernetesSettings, INSTANCE_LABEL};

pub const TOKEN: &str = "tacker-test-token-0123456789";
pub const MANIFESTS: [&str; 4] = [
    "Files/kubernetes/configmap.yaml",
    "Files/kubernetes/deployment.yaml",
    "Files/kubernetes/statefulset.yaml",
    "Files/kubernetes/service.yaml",
];

pub fn sample_package() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/packages/sample_cnf")
}

/// Fast polling, short waits: the fake cluster settles in well under a second.
pub fn driver() -> KubernetesDriver {
    driver_polling_every(Duration::from_millis(40))
}

/// Checks readiness at least every `poll` (and on each change its watches report).
pub fn driver_polling_every(poll: Duration) -> KubernetesDriver {
    KubernetesDriver::new(KubernetesSettings {
        wait_timeout: Duration::from_secs(20),
        poll_interval: poll,
        request_timeout: Duration::from_secs(10),
        watch: true,
    })
}

/// A fake apiserver where `TOKEN` is user `tacker` (allowed everything unless `config`
/// says otherwise).
pub async fn kube(config: FakeKubeConfig) -> FakeKube {
    FakeKube::start(config.with_token(TOKEN, UserInfo::new("tacker")))
        .await
        .unwrap()
}

pub fn vim(kube: &FakeKube, access: Value) -> VimConnection {
    vim_with(
        json!({"endpoint": kube.url(), "ssl_ca_cert": kube.ca_pem()}),
        access,
    )
}

pub fn vim_with(interface: Value, access: Value) -> VimConnection {
    let info = json!({"vimId": "vim-1", "vimType": "ETSINFV.KUBERNETES.V_1",
                      "interfaceInfo": interface, "accessInfo": access});
    VimConnection {
        id: "vim1".into(),
        vim_type: "ETSINFV.KUBERNETES.V_1".into(),
        info: object(info),
    }
}

pub fn bearer(kube: &FakeKube) -> VimConnection {
    vim(kube, json!({"bearer_token": TOKEN}))
}

pub fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

/// The sample CNF: VDU1 is Deployment `web`, VDU2 StatefulSet `kv`.
pub fn plan(instance_id: &str, vim: VimConnection, web: u32, kv: u32) -> Plan {
    Plan {
        instance_id: instance_id.into(),
        vim,
        operation: tacker_driver::Operation::Instantiate,
        package_dir: sample_package(),
        additional_params: object(json!({"namespace": "default", "lcm-kubernetes-def-files": MANIFESTS})),
        instance_metadata: Map::new(),
        workloads: vec![
            Workload {
                vdu_id: "VDU1".into(),
                name: "web".into(),
                replicas: web,
            },
            Workload {
                vdu_id: "VDU2".into(),
                name: "kv".into(),
                replicas: kv,
            },
        ],
        fence: Default::default(),
    }
}

/// The pods of a VDU among `vnfcs`.
pub fn of_vdu<'a>(vnfcs: &'a [Vnfc], vdu: &str) -> Vec<&'a Vnfc> {
    vnfcs.iter().filter(|v| v.vdu_id == vdu).collect()
}

/// The objects of type `plural` labelled with `instance_id`, by name.
pub fn labelled(kube: &FakeKube, plural: &str, instance_id: &str) -> BTreeSet<String> {
    kube.objects(plural, None)
        .iter()
        .filter(|o| o["metadata"]["labels"][INSTANCE_LABEL] == json!(instance_id))
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Pod names in the fake cluster (all namespaces).
pub fn pods(kube: &FakeKube) -> BTreeSet<String> {
    kube.objects("pods", None)
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// "resource/name" of every successful delete in the audit log.
pub fn deletes(audit: &[AuditEntry]) -> BTreeSet<String> {
    audit
        .iter()
        .filter(|e| e.verb == "delete" && e.status < 300)
        .map(|e| {
            format!(
                "{}/{}",
                e.resource.as_deref().unwrap_or("?"),
                e.name.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

/// The distinct bearer-token digests in the audit log.
pub fn token_digests(audit: &[AuditEntry]) -> BTreeSet<Option<String>> {
    audit.iter().map(|e| e.token_sha256.clone()).collect()
}

/// A client of the fake cluster's admin, to set the scene.
pub fn admin(kube: &FakeKube) -> kube::Client {
    let mut config = kube::Config::new(kube.url().parse().unwrap());
    config.root_cert = Some(vec![pem::parse(kube.ca_pem()).unwrap().into_contents()]);
    config.auth_info.token = Some(kube.admin_token().to_owned().into());
    kube::Client::try_from(config).unwrap()
}

/// Creates a ConfigMap in `default` as the admin.
pub async fn config_map(kube: &FakeKube, object: Value) {
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::namespaced(admin(kube), "default");
    api.create(&Default::default(), &serde_json::from_value(object).unwrap())
        .await
        .unwrap();
}

/// A copy of the sample package with each manifest passed through `edit`, plus `extra`
/// files (path, text).
pub fn package_copy(edit: impl Fn(&str) -> String, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Files/kubernetes")).unwrap();
    for file in MANIFESTS {
        let text = std::fs::read_to_string(sample_package().join(file)).unwrap();
        std::fs::write(dir.path().join(file), edit(&text)).unwrap();
    }
    for (file, text) in extra {
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    dir
}
