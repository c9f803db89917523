//! The README's quick start: the sample etc/tacker/tacker.conf checks Kubernetes VIMs
//! against their cluster, and the VIM the README registers with `curl` against
//! `fake-kube-apiserver --admin-token demo-token` gets the cluster's namespaces as regions.

use std::path::Path;

use serde_json::json;
use tacker::AllInOne;
use tacker_fake_kube::{FakeKube, FakeKubeConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_configuration_validates_the_quick_start_vim() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    assert!(
        readme.contains("fake-kube-apiserver --admin-token demo-token --ca-out /tmp/fake-kube-ca.pem")
            && readme.contains(r#"auth_cred: {bearer_token: "demo-token", ssl_ca_cert: $ca}"#),
        "the README's quick start changed: update this test"
    );

    // The sample as it is, with the data folder and the port moved for the test.
    let dir = tempfile::tempdir().unwrap();
    let moved = dir.path().join("test.conf");
    std::fs::write(
        &moved,
        format!(
            "[DEFAULT]\nstate_path = {}\nbind_port = 0\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let config = tacker_common::Config::load(&[repo.join("etc/tacker/tacker.conf"), moved]).unwrap();
    assert!(config.k8s_validate_on_register);
    let drivers = tacker_k8s::configured_drivers(&config);
    let all_in_one = AllInOne::build(config, drivers).await.unwrap();
    let base = format!("http://{}", all_in_one.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let process = tokio::spawn(all_in_one.run(async move {
        let _ = stopped.await;
    }));

    let kube = FakeKube::start(FakeKubeConfig::default().admin_token(Some("demo-token")))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let register = |token: &str, name: &str| {
        client
            .post(format!("{base}/v1.0/vims.json"))
            .json(&json!({"vim": {
                "type": "kubernetes", "name": name, "tenant_id": "demo", "auth_url": kube.url(),
                "auth_cred": {"bearer_token": token, "ssl_ca_cert": kube.ca_pem()},
                "vim_project": {"name": "default"},
            }}))
            .send()
    };
    let refused = register("wrong-token", "wrong").await.unwrap();
    assert_eq!(refused.status(), 400);
    let created = register("demo-token", "k8s").await.unwrap();
    assert_eq!(created.status(), 201);
    let vims: serde_json::Value = client
        .get(format!("{base}/v1.0/vims.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vims["vims"].as_array().unwrap().len(), 1, "{vims}");
    let mut regions: Vec<&str> = vims["vims"][0]["placement_attr"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    regions.sort_unstable();
    assert_eq!(
        regions,
        ["default", "kube-node-lease", "kube-public", "kube-system"],
        "{vims}"
    );

    stop.send(()).unwrap();
    process.await.unwrap().unwrap();
}
