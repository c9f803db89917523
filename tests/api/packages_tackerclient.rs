//! python-tackerclient's `openstack vnf package ...` commands, unchanged, against the server.

use reqwest::Method;
use tacker_testkit::csar::{sample_entries, sample_package, wait_onboarding, SAMPLE_VNFD_ID};
use tacker_testkit::{TestApp, TestBackend};

use crate::tackerclient::{json_stdout, openstack, openstack_cli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_vnf_package_commands_work_unchanged() {
    let Some(cli) = openstack_cli() else { return };
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let dir = app.state_dir.path();
    let zip_path = dir.join("sample_cnf.zip");
    std::fs::write(&zip_path, sample_package()).unwrap();

    let created = json_stdout(
        &openstack(
            &cli,
            &app,
            &[
                "vnf",
                "package",
                "create",
                "--user-data",
                "owner=team-a",
                "-f",
                "json",
            ],
        )
        .await,
    );
    assert_eq!(created["Onboarding State"], "CREATED", "{created}");
    assert_eq!(
        created["User Defined Data"],
        serde_json::json!({"owner": "team-a"})
    );
    let id = created["ID"].as_str().unwrap().to_string();

    let upload = openstack(
        &cli,
        &app,
        &[
            "vnf",
            "package",
            "upload",
            "--path",
            zip_path.to_str().unwrap(),
            &id,
        ],
    )
    .await;
    assert!(
        upload.status.success(),
        "{}",
        String::from_utf8_lossy(&upload.stderr)
    );
    assert!(String::from_utf8_lossy(&upload.stdout)
        .contains(&format!("Upload request for VNF package {id} has been accepted.")));
    wait_onboarding(&app, &id).await;

    let shown = json_stdout(&openstack(&cli, &app, &["vnf", "package", "show", &id, "-f", "json"]).await);
    assert_eq!(shown["Onboarding State"], "ONBOARDED", "{shown}");
    assert_eq!(shown["Operational State"], "ENABLED");
    assert_eq!(shown["VNFD ID"], SAMPLE_VNFD_ID);
    assert_eq!(shown["VNF Product Name"], "Sample CNF");
    assert_eq!(shown["Additional Artifacts"].as_array().unwrap().len(), 4);

    let listed = json_stdout(
        &openstack(
            &cli,
            &app,
            &[
                "vnf",
                "package",
                "list",
                "--filter",
                "(eq,onboardingState,ONBOARDED)",
                "-f",
                "json",
            ],
        )
        .await,
    );
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["Id"], id.as_str());
    assert_eq!(listed[0]["Vnf Product Name"], "Sample CNF");

    // Downloads: the package, the VNFD zip, one artifact.
    let out = dir.join("downloaded.zip");
    let download = openstack(
        &cli,
        &app,
        &["vnf", "package", "download", &id, "--file", out.to_str().unwrap()],
    )
    .await;
    assert!(
        download.status.success(),
        "{}",
        String::from_utf8_lossy(&download.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), sample_package());
    let vnfd = dir.join("vnfd.zip");
    let download = openstack(
        &cli,
        &app,
        &[
            "vnf",
            "package",
            "download",
            &id,
            "--vnfd",
            "--type",
            "application/zip",
            "--file",
            vnfd.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        download.status.success(),
        "{}",
        String::from_utf8_lossy(&download.stderr)
    );
    let names: Vec<String> = zip::ZipArchive::new(std::fs::File::open(&vnfd).unwrap())
        .unwrap()
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "TOSCA-Metadata/TOSCA.meta"),
        "{names:?}"
    );
    let artifact = dir.join("deployment.yaml");
    let download = openstack(
        &cli,
        &app,
        &[
            "vnf",
            "package",
            "artifact",
            "download",
            &id,
            "Files/kubernetes/deployment.yaml",
            "--file",
            artifact.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        download.status.success(),
        "{}",
        String::from_utf8_lossy(&download.stderr)
    );
    let original = sample_entries()
        .into_iter()
        .find(|(n, _)| n == "Files/kubernetes/deployment.yaml")
        .unwrap()
        .1;
    assert_eq!(std::fs::read(&artifact).unwrap(), original);

    // Update, then delete (which needs DISABLED).
    let refused = openstack(&cli, &app, &["vnf", "package", "delete", &id]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("cannot be deleted as it's operational state is ENABLED"));
    let updated = json_stdout(
        &openstack(
            &cli,
            &app,
            &[
                "vnf",
                "package",
                "update",
                "--operational-state",
                "DISABLED",
                &id,
                "-f",
                "json",
            ],
        )
        .await,
    );
    assert_eq!(updated["Operational State"], "DISABLED", "{updated}");
    let deleted = openstack(&cli, &app, &["vnf", "package", "delete", &id]).await;
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let (status, _) = app
        .send(app.request(Method::GET, &format!("/vnfpkgm/v1/vnf_packages/{id}")))
        .await;
    assert_eq!(status, 404);
    let listed = json_stdout(&openstack(&cli, &app, &["vnf", "package", "list", "-f", "json"]).await);
    assert_eq!(listed, serde_json::json!([]));
}
