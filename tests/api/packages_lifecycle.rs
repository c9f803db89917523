//! A VNF package from creation to deletion over HTTP, on every database backend.

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha512};
use tacker_testkit::csar::{
    create_and_upload, sample_entries, sample_package, wait_onboarding, SAMPLE_VNFD_ID,
};
use tacker_testkit::{backend_tests, TestApp};

const PACKAGES: &str = "/vnfpkgm/v1/vnf_packages";

backend_tests!(package_lifecycle => package_lifecycle);

async fn package_lifecycle(app: TestApp) {
    // Create: 201, Location, the SOL005 initial states.
    let response = app
        .request(Method::POST, PACKAGES)
        .json(&json!({"userDefinedData": {"owner": "team-a"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        location,
        app.url(&format!("{PACKAGES}/{id}")),
        "absolute, as Tacker's"
    );
    let location = format!("{PACKAGES}/{id}");
    assert_eq!(created["onboardingState"], "CREATED");
    assert_eq!(created["operationalState"], "DISABLED");
    assert_eq!(created["usageState"], "NOT_IN_USE");
    assert_eq!(created["userDefinedData"], json!({"owner": "team-a"}));
    assert!(created.get("vnfdId").is_none());

    // Content is not there before onboarding.
    let (status, body) = app
        .send(app.request(Method::GET, &format!("{location}/package_content")))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["detail"],
        format!("VNF Package {id} onboarding state is not ONBOARDED")
    );

    // Upload: 202 at once, ONBOARDED and ENABLED after processing.
    let zip = sample_package();
    let response = app
        .request(Method::PUT, &format!("{location}/package_content"))
        .header("Content-Type", "application/zip")
        .body(zip.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
    assert_eq!(info["operationalState"], "ENABLED");
    assert_eq!(info["vnfdId"], SAMPLE_VNFD_ID);
    assert_eq!(info["vnfProvider"], "tacker-rs");
    assert_eq!(info["vnfProductName"], "Sample CNF");
    assert_eq!(info["vnfSoftwareVersion"], "1.0");
    assert_eq!(info["vnfdVersion"], "1.0");
    assert_eq!(
        info["checksum"],
        json!({"algorithm": "sha512", "hash": format!("{:x}", Sha512::digest(&zip))})
    );
    assert!(
        info.get("softwareImages").is_none(),
        "a CNF has no software images"
    );
    let artifacts = info["additionalArtifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 4);
    assert_eq!(artifacts[1]["artifactPath"], "Files/kubernetes/deployment.yaml");
    assert_eq!(artifacts[1]["checksum"]["algorithm"], "SHA-256");
    assert_eq!(
        info["_links"]["vnfd"]["href"],
        app.url(&format!("{location}/vnfd"))
    );
    assert_eq!(
        info["_links"]["packageContent"]["href"],
        app.url(&format!("{location}/package_content"))
    );

    // The list leaves the complex attributes out by default.
    let (status, list) = app.send(app.request(Method::GET, PACKAGES)).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["vnfdId"], SAMPLE_VNFD_ID);
    for excluded in ["checksum", "userDefinedData", "additionalArtifacts"] {
        assert!(list[0].get(excluded).is_none(), "{excluded} in {list}");
    }

    check_downloads(&app, &location, &zip).await;

    // Modify: only what changed comes back.
    let (status, body) = app
        .send(
            app.request(Method::PATCH, &location)
                .header("Content-Type", "application/merge-patch+json")
                .body(r#"{"operationalState": "DISABLED", "userDefinedData": {"owner": "team-a", "stage": "test"}}"#),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"operationalState": "DISABLED", "userDefinedData": {"stage": "test"}})
    );
    let (status, body) = app
        .send(
            app.request(Method::PATCH, &location)
                .json(&json!({"operationalState": "DISABLED"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["detail"],
        format!("VNF Package {id} is already in DISABLED operational state")
    );
    let (_, shown) = app.send(app.request(Method::GET, &location)).await;
    assert_eq!(
        shown["userDefinedData"],
        json!({"owner": "team-a", "stage": "test"})
    );

    // Delete: gone from the API and from disk.
    let unpacked = app.config.vnf_package.csar_path.join(&id);
    assert!(unpacked.join("Files/kubernetes/deployment.yaml").is_file());
    let (status, _) = app.send(app.request(Method::DELETE, &location)).await;
    assert_eq!(status, 204);
    let (status, body) = app.send(app.request(Method::GET, &location)).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["detail"],
        format!("Can not find requested vnf package: {id}")
    );
    assert!(!unpacked.exists());
    assert!(!app
        .config
        .vnf_package
        .csar_path
        .join(format!("{id}.zip"))
        .exists());
}

async fn check_downloads(app: &TestApp, location: &str, zip: &[u8]) {
    // The package content, whole and by range.
    let response = app
        .request(Method::GET, &format!("{location}/package_content"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert_eq!(response.bytes().await.unwrap(), zip);
    let response = app
        .request(Method::GET, &format!("{location}/package_content"))
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 10-19/{}", zip.len())
    );
    assert_eq!(response.bytes().await.unwrap(), &zip[10..20]);

    // The VNFD: a zip of TOSCA.meta and the definitions; not one text file.
    let response = app
        .request(Method::GET, &format!("{location}/vnfd"))
        .header("Accept", "application/zip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Definitions/sample_cnf_df_simple.yaml",
            "Definitions/sample_cnf_top.vnfd.yaml",
            "Definitions/sample_cnf_types.yaml",
            "TOSCA-Metadata/TOSCA.meta"
        ]
    );
    let mut top = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("Definitions/sample_cnf_top.vnfd.yaml").unwrap(),
        &mut top,
    )
    .unwrap();
    let original = sample_entries()
        .into_iter()
        .find(|(n, _)| n == "Definitions/sample_cnf_top.vnfd.yaml")
        .unwrap()
        .1;
    assert_eq!(top.as_bytes(), original, "the VNFD files are served as uploaded");
    let (status, body) = app
        .send(
            app.request(Method::GET, &format!("{location}/vnfd"))
                .header("Accept", "text/plain"),
        )
        .await;
    assert_eq!(status, 406);
    assert_eq!(
        body["detail"],
        "VNFD is implemented as multiple yaml files, Accept header should be 'application/zip'."
    );
    let (status, _) = app
        .send(
            app.request(Method::GET, &format!("{location}/vnfd"))
                .header("Accept", "application/json"),
        )
        .await;
    assert_eq!(status, 406);

    // Artifacts: declared ones only.
    let deployment = sample_entries()
        .into_iter()
        .find(|(n, _)| n == "Files/kubernetes/deployment.yaml")
        .unwrap()
        .1;
    let response = app
        .request(
            Method::GET,
            &format!("{location}/artifacts/Files/kubernetes/deployment.yaml"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), deployment);
    for undeclared in [
        "Definitions/sample_cnf_top.vnfd.yaml",
        "Files/kubernetes/../../../../etc/passwd",
        "nothing",
    ] {
        let (status, body) = app
            .send(app.request(Method::GET, &format!("{location}/artifacts/{undeclared}")))
            .await;
        assert_eq!(status, 404, "{undeclared}: {body}");
    }
}

backend_tests!(second_package_of_one_vnfd => second_package_of_one_vnfd);

/// A VNFD can be onboarded once; the second package says why it failed and stays usable.
async fn second_package_of_one_vnfd(app: TestApp) {
    let first = create_and_upload(&app, sample_package()).await;
    assert_eq!(
        wait_onboarding(&app, &first).await["onboardingState"],
        "ONBOARDED"
    );
    let second = create_and_upload(&app, sample_package()).await;
    let info = wait_onboarding(&app, &second).await;
    assert_eq!(info["onboardingState"], "CREATED");
    assert_eq!(info["onboardingFailureDetails"]["status"], 409);
    assert_eq!(
        info["onboardingFailureDetails"]["detail"],
        format!("a VNF package with vnfdId {SAMPLE_VNFD_ID} is already onboarded")
    );
    assert!(!app.config.vnf_package.csar_path.join(&second).exists());
    assert!(!app
        .config
        .vnf_package
        .csar_path
        .join(format!("{second}.zip"))
        .exists());
}

/// A `multipart/form-data` body of `parts` (name, optional filename, bytes).
fn form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match filename {
            Some(filename) => format!("form-data; name=\"{name}\"; filename=\"{filename}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
        if filename.is_some() {
            body.extend_from_slice(b"Content-Type: application/zip\r\n");
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// SOL005's upload form: the zip as the `file` part of `multipart/form-data`, after
/// other parts; a form without it is a 400 naming the part.
#[tokio::test]
async fn a_package_uploaded_as_a_form_onboards() {
    let app = crate::helpers::sqlite_app("").await;
    let boundary = "tacker-rs-form-boundary";
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let create = || async {
        let (status, created) = app
            .send(app.request(Method::POST, PACKAGES).json(&json!({})))
            .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().unwrap().to_string()
    };

    let id = create().await;
    let zip = sample_package();
    let body = form(
        boundary,
        &[
            ("note", None, b"first a field"),
            ("file", Some("sample.zip"), &zip),
        ],
    );
    let response = app
        .request(Method::PUT, &format!("{PACKAGES}/{id}/package_content"))
        .header("Content-Type", &content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    // The form was read to its end, so the connection stays open.
    assert!(response.headers().get("connection").is_none());
    let info = wait_onboarding(&app, &id).await;
    assert_eq!(info["onboardingState"], "ONBOARDED", "{info}");
    assert_eq!(info["checksum"]["hash"], format!("{:x}", Sha512::digest(&zip)));

    let id = create().await;
    let (status, problem) = app
        .send(
            app.request(Method::PUT, &format!("{PACKAGES}/{id}/package_content"))
                .header("Content-Type", &content_type)
                .body(form(boundary, &[("note", None, b"no file here")])),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["detail"], "The form has no 'file' part.");
    let (_, info) = app
        .send(app.request(Method::GET, &format!("{PACKAGES}/{id}")))
        .await;
    assert_eq!(info["onboardingState"], "CREATED", "{info}");
}
