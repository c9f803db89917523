//! Package lists with SOL013 filters, attribute selectors and paging.

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload, sample_package, wait_onboarding};
use tacker_testkit::{TestApp, TestBackend};

const PACKAGES: &str = "/vnfpkgm/v1/vnf_packages";

async fn list(app: &TestApp, query: &str) -> (u16, Value, Option<String>) {
    let response = app
        .request(Method::GET, &format!("{PACKAGES}{query}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let link = response
        .headers()
        .get("link")
        .map(|l| l.to_str().unwrap().to_string());
    (status, response.json().await.unwrap(), link)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_attribute_selectors() {
    let app = TestApp::builder(TestBackend::Sqlite).spawn().await.unwrap();
    let onboarded = create_and_upload(&app, sample_package()).await;
    wait_onboarding(&app, &onboarded).await;
    let (_, created) = app
        .send(
            app.request(Method::POST, PACKAGES)
                .json(&json!({"userDefinedData": {"site": "east, 1"}})),
        )
        .await;
    let created = created["id"].as_str().unwrap().to_string();

    let cases: &[(&str, Vec<&String>)] = &[
        ("?filter=(eq,onboardingState,ONBOARDED)", vec![&onboarded]),
        ("?filter=(neq,onboardingState,ONBOARDED)", vec![&created]),
        (
            "?filter=(in,operationalState,ENABLED,DISABLED)",
            vec![&onboarded, &created],
        ),
        (
            "?filter=(eq,vnfProductName,'Sample CNF');(eq,usageState,NOT_IN_USE)",
            vec![&onboarded],
        ),
        ("?filter=(eq,userDefinedData/site,'east, 1')", vec![&created]),
        (
            "?filter=(cont,additionalArtifacts/artifactPath,deployment)",
            vec![&onboarded],
        ),
        ("?filter=(eq,vnfProvider,nobody)", vec![]),
    ];
    for (query, expected) in cases {
        let (status, body, _) = list(&app, query).await;
        assert_eq!(status, 200, "{query}: {body}");
        let mut got = ids(&body);
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{query}");
    }

    let errors = [
        ("?filter=(eq,noSuchAttribute,x)", "noSuchAttribute"),
        ("?filter=(eq,onboardingState,DONE)", "onboardingState is one of"),
        ("?filter=(eq,onboardingState", "Invalid filter expression"),
        ("?filter=(like,id,x)", "Invalid filter expression"),
        (
            "?all_fields&fields=checksum",
            "'all_fields' cannot be combined with 'fields'",
        ),
        (
            "?exclude_fields=nothing",
            "Invalid query parameter 'exclude_fields'",
        ),
        (
            "?nextpage_opaque_marker=unknown",
            "Invalid nextpage_opaque_marker",
        ),
    ];
    for (query, expected) in errors {
        let (status, body, _) = list(&app, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(expected),
            "{query}: {body}"
        );
    }

    let one = |body: &Value| {
        body.as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == onboarded.as_str())
            .unwrap()
            .clone()
    };
    let (_, body, _) = list(&app, "?all_fields").await;
    let full = one(&body);
    assert!(
        full["checksum"].is_object()
            && full["additionalArtifacts"].is_array()
            && full["userDefinedData"].is_object()
    );
    let (_, body, _) = list(&app, "?fields=checksum").await;
    let with_checksum = one(&body);
    assert!(with_checksum["checksum"].is_object());
    assert!(with_checksum.get("additionalArtifacts").is_none());
    assert_eq!(with_checksum["vnfdId"], full["vnfdId"], "simple attributes stay");
    let (_, body, _) = list(&app, "?exclude_fields=additionalArtifacts").await;
    let without = one(&body);
    assert!(without.get("additionalArtifacts").is_none() && without["checksum"].is_object());
    let (_, body, _) = list(&app, "?fields=additionalArtifacts/artifactPath").await;
    assert_eq!(
        one(&body)["additionalArtifacts"][0],
        json!({"artifactPath": "Files/kubernetes/configmap.yaml"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_link_headers_and_keep_the_query() {
    let app = TestApp::builder(TestBackend::Sqlite)
        .conf("[vnf_package]\nvnf_package_num = 2\n")
        .spawn()
        .await
        .unwrap();
    let mut created = Vec::new();
    for i in 0..5 {
        let (_, body) = app
            .send(
                app.request(Method::POST, PACKAGES)
                    .json(&json!({"userDefinedData": {"n": i}})),
            )
            .await;
        created.push(body["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "{}{PACKAGES}?filter=(eq,usageState,NOT_IN_USE)",
        app.address
    ));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with(">; rel=\"next\""), "{link}");
            assert!(
                link.contains("filter=%28eq%2CusageState%2CNOT_IN_USE%29"),
                "the filter is kept: {link}"
            );
            link.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_string()
        });
        let page: Value = response.json().await.unwrap();
        assert!(page.as_array().unwrap().len() <= 2);
        seen.extend(ids(&page));
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every package once, oldest first");

    let (_, everything, link) = list(&app, "?all_records=yes").await;
    assert_eq!(ids(&everything).len(), 5);
    assert!(link.is_none());
}
