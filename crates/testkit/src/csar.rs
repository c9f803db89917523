//! VNF packages for tests: the sample CNF package (tests/packages/sample_cnf) as a zip,
//! variants of it, and waiting for onboarding to end.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::TestApp;

/// The descriptor id the sample package's VNFD declares.
pub const SAMPLE_VNFD_ID: &str = "6b0b2cc3-0f5e-4a3c-9a4e-5f8d2f1c7a10";

pub fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/packages/sample_cnf")
}

/// The sample package's files as (path inside the package, bytes), sorted.
pub fn sample_entries() -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&sample_dir(), &sample_dir(), &mut out);
    out.sort();
    out
}

/// The sample package as a zip.
pub fn sample_package() -> Vec<u8> {
    zip_entries(&sample_entries())
}

/// The sample package declaring another VNFD id (a package per VNFD id can be onboarded).
pub fn sample_package_with_vnfd_id(vnfd_id: &str) -> Vec<u8> {
    let entries: Vec<_> = sample_entries()
        .into_iter()
        .map(|(name, data)| {
            let text = String::from_utf8_lossy(&data).replace(SAMPLE_VNFD_ID, vnfd_id);
            (name, text.into_bytes())
        })
        .collect();
    zip_entries(&entries)
}

/// A zip of the given entries, in order.
pub fn zip_entries(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        zip.start_file(name.as_str(), SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Polls the package until onboarding has ended (ONBOARDED, or back to CREATED after
/// UPLOADING/PROCESSING) and returns its VnfPkgInfo.
pub async fn wait_onboarding(app: &TestApp, id: &str) -> Value {
    let path = format!("/vnfpkgm/v1/vnf_packages/{id}");
    for _ in 0..400 {
        let (status, info) = app.send(app.request(Method::GET, &path)).await;
        assert_eq!(status, 200, "{info}");
        let state = info["onboardingState"].as_str().unwrap_or_default();
        let ended =
            state == "ONBOARDED" || (state == "CREATED" && info.get("onboardingFailureDetails").is_some());
        if ended {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("package {id} did not finish onboarding in 20 s");
}

/// Creates a package and uploads `zip` (202 expected); returns the package id.
pub async fn create_and_upload(app: &TestApp, zip: Vec<u8>) -> String {
    create_and_upload_as(app, None, zip).await
}

/// [`create_and_upload`] as a member of `project` (None: the noauth admin).
pub async fn create_and_upload_as(app: &TestApp, project: Option<&str>, zip: Vec<u8>) -> String {
    let request = |method: Method, path: &str| match project {
        Some(project) => app.request_as(project, "member,reader", method, path),
        None => app.request(method, path),
    };
    let (status, created) = app
        .send(request(Method::POST, "/vnfpkgm/v1/vnf_packages").json(&serde_json::json!({})))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    upload_with(request(Method::PUT, &content_path(&id)), zip).await;
    id
}

/// Uploads `zip` as the content of package `id`, as the noauth admin (202 expected).
pub async fn upload(app: &TestApp, id: &str, zip: Vec<u8>) {
    upload_with(app.request(Method::PUT, &content_path(id)), zip).await;
}

fn content_path(id: &str) -> String {
    format!("/vnfpkgm/v1/vnf_packages/{id}/package_content")
}

async fn upload_with(request: reqwest::RequestBuilder, zip: Vec<u8>) {
    let response = request
        .header("Content-Type", "application/zip")
        .body(zip)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
}
