//! The package store in S3-compatible object storage (a real moto server): uploads land in
//! the bucket, every server serves them from it with its own scratch folder, deletion
//! removes the objects, an unreachable store is a 503 and a wrong one stops start-up.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tacker_common::Config;
use tacker_pkgstore::PackageStore;
use tacker_testkit::csar::{create_and_upload, sample_entries, wait_onboarding, zip_entries};
use tacker_testkit::s3::{s3_server, S3Server};
use tacker_testkit::{write_conf, TestApp, TestBackend};

const PACKAGES: &str = "/vnfpkgm/v1/vnf_packages";

/// The sample package with an incompressible 20 MB file, so that the upload goes to the
/// store in several parts.
fn large_package() -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..20 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut entries = sample_entries();
    entries.push(("Files/images/noise.bin".into(), noise));
    zip_entries(&entries)
}

async fn app_on(s3: &S3Server, bucket: &str) -> TestApp {
    TestApp::builder(TestBackend::Sqlite)
        .conf(&s3.conf(bucket))
        .spawn()
        .await
        .unwrap()
}

async fn get(address: &str, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{address}{path}"));
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_live_in_the_bucket_and_every_server_serves_them() {
    let Some(s3) = s3_server() else { return };
    let bucket = s3.bucket().await;
    let app = app_on(s3, &bucket).await;
    let zip = large_package();
    let id = create_and_upload(&app, zip.clone()).await;
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");

    // In the bucket: the zip and the unpacked files, nothing staged; not on local disk.
    let keys = s3.keys(&bucket).await;
    assert!(keys.contains(&format!("{id}.zip")), "{keys:?}");
    for file in [
        "Definitions/sample_cnf_top.vnfd.yaml",
        "Files/kubernetes/deployment.yaml",
        "Files/images/noise.bin",
    ] {
        assert!(keys.contains(&format!("{id}/{file}")), "{file} not in {keys:?}");
    }
    assert!(!keys.iter().any(|k| k.starts_with(".staging/")), "{keys:?}");
    let local = &app.config.vnf_package.csar_path;
    assert!(!local.join(format!("{id}.zip")).exists());

    // A second server with a scratch folder of its own serves the same bytes.
    let other_files = tempfile::tempdir().unwrap();
    let mut other: Config = app.config.clone();
    other.vnf_package.csar_path = other_files.path().to_owned();
    let peer = app.spawn_peer_with(other.clone()).await;
    let location = format!("{PACKAGES}/{id}");
    let whole = get(&peer.address, &format!("{location}/package_content"), None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-length"], zip.len().to_string().as_str());
    let body = whole.bytes().await.unwrap();
    assert_eq!(
        Sha256::digest(&body),
        Sha256::digest(&zip),
        "the package comes back whole"
    );
    let part = get(
        &peer.address,
        &format!("{location}/package_content"),
        Some("bytes=1000-1999"),
    )
    .await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-1999/{}", zip.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), &zip[1000..2000]);
    let artifact = get(
        &peer.address,
        &format!("{location}/artifacts/Files/kubernetes/deployment.yaml"),
        None,
    )
    .await;
    assert_eq!(artifact.status(), 200);
    let expected = sample_entries()
        .into_iter()
        .find(|(name, _)| name == "Files/kubernetes/deployment.yaml")
        .unwrap()
        .1;
    assert_eq!(artifact.bytes().await.unwrap(), expected);
    let vnfd = reqwest::Client::new()
        .get(format!("{}{location}/vnfd", peer.address))
        .header("Accept", "application/zip")
        .send()
        .await
        .unwrap();
    assert_eq!(vnfd.status(), 200);
    let archive = zip::ZipArchive::new(std::io::Cursor::new(vnfd.bytes().await.unwrap().to_vec())).unwrap();
    assert_eq!(archive.len(), 4);

    // What a conductor elsewhere reads: a local copy of the unpacked files.
    let store = PackageStore::open(&other.vnf_package).await.unwrap();
    let copy = store.local_copy(&id).await.unwrap();
    assert!(copy.starts_with(other_files.path()));
    assert_eq!(
        std::fs::read(copy.join("Files/kubernetes/deployment.yaml")).unwrap(),
        expected
    );

    // Deleted through the second server: no object of the package is left.
    let disable = reqwest::Client::new()
        .patch(format!("{}{location}", peer.address))
        .json(&json!({"operationalState": "DISABLED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(disable.status(), 200);
    let deleted = reqwest::Client::new()
        .delete(format!("{}{location}", peer.address))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let left: Vec<String> = s3
        .keys(&bucket)
        .await
        .into_iter()
        .filter(|k| k.contains(&id))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(!copy.exists(), "the deleting server drops its local copy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_away_is_a_503_and_loses_no_upload() {
    let Some(s3) = S3Server::start() else { return };
    let bucket = s3.bucket().await;
    let app = app_on(&s3, &bucket).await;
    let id = create_and_upload(&app, zip_entries(&sample_entries())).await;
    assert_eq!(wait_onboarding(&app, &id).await["onboardingState"], "ONBOARDED");
    s3.stop();

    let response = app
        .request(Method::GET, &format!("{PACKAGES}/{id}/package_content"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], 503, "{body}");

    // An upload meanwhile is refused with the same answer and the package stays usable.
    let (status, created) = app
        .send(app.request(Method::POST, PACKAGES).json(&json!({})))
        .await;
    assert_eq!(status, 201);
    let second = created["id"].as_str().unwrap();
    let response = tokio::time::timeout(
        Duration::from_secs(60),
        app.request(Method::PUT, &format!("{PACKAGES}/{second}/package_content"))
            .header("Content-Type", "application/zip")
            .body(zip_entries(&sample_entries()))
            .send(),
    )
    .await
    .expect("the upload is answered within a minute")
    .unwrap();
    assert_eq!(response.status(), 503);
    let (_, info) = app
        .send(app.request(Method::GET, &format!("{PACKAGES}/{second}")))
        .await;
    assert_eq!(info["onboardingState"], "CREATED", "{info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_wrong_bucket_does_not_start() {
    let Some(s3) = s3_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let connection = format!("sqlite:///{}", dir.path().join("tacker.sqlite").display());
    let conf = write_conf(dir.path(), &connection, &s3.conf("no-such-bucket"));
    let config = Config::load(&[conf]).unwrap();
    let err = tacker_server::Application::build(config, tacker_server::BuildOptions { migrate: true })
        .await
        .err()
        .expect("the server refuses to start");
    let text = format!("{err:#}");
    assert!(
        text.contains("opening the package store (S3 bucket no-such-bucket"),
        "{text}"
    );
    assert!(!text.contains(tacker_testkit::s3::SECRET_KEY), "{text}");
}

/// A server that died mid-onboarding leaves the zip in the bucket and the package
/// PROCESSING under a lease that ran out: another server, with nothing of the package on
/// its own disk, takes the onboarding over from the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_server_resumes_an_onboarding_from_the_bucket() {
    let Some(s3) = s3_server() else { return };
    let bucket = s3.bucket().await;
    let app = app_on(s3, &bucket).await;
    let (status, created) = app
        .send(app.request(Method::POST, PACKAGES).json(&json!({})))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let zip = zip_entries(&sample_entries());
    s3.put(&bucket, &format!("{id}.zip"), zip.clone()).await;
    let dead = format!(
        "UPDATE vnf_packages SET onboarding_state = 'PROCESSING', \
         onboarding_started_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'), \
         onboarding_claimed_by = 'onboarding/of-a-dead-server', \
         onboarding_lease_until = '2000-01-01 00:00:00' WHERE id = '{id}'"
    );
    assert_eq!(
        tacker_testkit::raw::execute(&app.config.database_connection, &dead)
            .await
            .unwrap(),
        1
    );

    let other_files = tempfile::tempdir().unwrap();
    let mut other: Config = app.config.clone();
    other.vnf_package.csar_path = other_files.path().to_owned();
    let _peer = app.spawn_peer_with(other).await;
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
    assert_eq!(
        info["checksum"]["hash"],
        format!("{:x}", sha2::Sha512::digest(&zip))
    );
    let keys = s3.keys(&bucket).await;
    assert!(
        keys.contains(&format!("{id}/Definitions/sample_cnf_top.vnfd.yaml")),
        "{keys:?}"
    );
}
