//! What goes over the wire as Tacker sends it: header names in HTTP/1.1 title case,
//! oversized bodies answered with a 413 the client reads (not a reset connection), and
//! absolute links built from `[DEFAULT] public_endpoint` or the request's Host.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::csar::{create_and_upload_as, sample_package, wait_onboarding};
use tacker_testkit::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{k8s_vim, sqlite_app, tacker_error};
use crate::lcm_helpers::{expect, v1, v2, PROJECT};
use crate::tackerclient::openstack_cli;

const MIB: usize = 1024 * 1024;

/// One HTTP/1.1 response as sent: the head's bytes, unchanged, and the body.
struct RawResponse {
    head: String,
    body: Vec<u8>,
}

impl RawResponse {
    fn status(&self) -> u16 {
        self.head[9..12].parse().unwrap()
    }

    /// The header names, exactly as written.
    fn names(&self) -> Vec<&str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':').map(|(name, _)| name))
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads one response (`Content-Length` framed) from `stream`.
async fn read_raw(stream: &mut TcpStream) -> RawResponse {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (n, v) = line.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                let body = data[end + 4..end + 4 + length].to_vec();
                return RawResponse { head, body };
            }
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed mid-response: {}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    }
}

/// Sends `request` on a new connection and reads the response.
async fn raw(app: &TestApp, request: &str) -> RawResponse {
    let mut stream = TcpStream::connect(app.socket_addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_raw(&mut stream).await
}

#[tokio::test]
async fn header_names_are_sent_in_title_case_over_http1() {
    let app = sqlite_app("[vnf_package]\nvnf_package_num = 1\n").await;
    let created = raw(
        &app,
        "POST /vnfpkgm/v1/vnf_packages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\n\r\n{}",
    )
    .await;
    assert_eq!(created.status(), 201, "{}", created.head);
    for name in [
        "Location",
        "Content-Type",
        "Content-Length",
        "X-Openstack-Request-Id",
    ] {
        assert!(created.names().contains(&name), "{name} in {}", created.head);
    }
    let location = created.header("location").unwrap();
    assert!(
        location.starts_with("http://localhost/vnfpkgm/v1/vnf_packages/"),
        "{location}"
    );
    assert!(
        created
            .names()
            .iter()
            .all(|n| !n.starts_with(|c: char| c.is_ascii_lowercase())),
        "{}",
        created.head
    );
    // A second package makes a second page, announced by `Link`.
    assert_eq!(
        app.send(
            app.request(Method::POST, "/vnfpkgm/v1/vnf_packages")
                .json(&json!({}))
        )
        .await
        .0,
        201
    );
    let listed = raw(
        &app,
        "GET /vnfpkgm/v1/vnf_packages HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    assert_eq!(listed.status(), 200, "{}", listed.head);
    assert!(listed.names().contains(&"Link"), "{}", listed.head);

    let versions = raw(
        &app,
        "GET /vnflcm/v2/api_versions HTTP/1.1\r\nHost: localhost\r\nVersion: 2.0.0\r\n\r\n",
    )
    .await;
    assert_eq!(versions.status(), 200, "{}", versions.head);
    assert!(versions.names().contains(&"Version"), "{}", versions.head);
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_answered_before_the_body() {
    let app = sqlite_app("").await;
    let twenty = 20 * MIB;
    for (path, extra) in [
        ("/v1.0/vims.json", ""),
        ("/v1.0/vims.json", "Expect: 100-continue\r\n"),
        ("/vnflcm/v1/vnf_instances", ""),
    ] {
        let start = Instant::now();
        let response = tokio::time::timeout(
            Duration::from_secs(5),
            raw(
                &app,
                &format!(
                    "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                     {extra}Content-Length: {twenty}\r\n\r\n"
                ),
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("{path}: no answer to a Content-Length of 20 MiB"));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{path}: {:?}",
            start.elapsed()
        );
        assert_eq!(response.status(), 413, "{path}: {}", response.head);
        assert!(!response.head.contains("100 Continue"), "{}", response.head);
        assert_eq!(response.header("connection"), Some("close"), "{}", response.head);
        let body = response.json();
        if path.starts_with("/v1.0") {
            let problem = tacker_error(413, &body, 413, "HTTPRequestEntityTooLarge");
            assert_eq!(problem, "Request is too large.");
        } else {
            assert_eq!(body["status"], 413, "{body}");
            assert_eq!(body["detail"], "Request is too large.", "{body}");
        }
    }
    // The limit itself is allowed: a body of exactly max_request_body_size is read.
    let mut vim = k8s_vim("exact", None);
    let padding = app.config.max_request_body_size - vim.to_string().len() - r#","pad":"""#.len();
    vim["vim"]["pad"] = json!("x".repeat(padding));
    assert_eq!(vim.to_string().len(), app.config.max_request_body_size);
    let (status, body) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&vim))
        .await;
    assert_ne!(status, 413, "{body}");
}

#[tokio::test]
async fn a_client_still_sending_a_big_body_reads_the_413() {
    let app = sqlite_app("").await;
    for size in [5 * MIB, 20 * MIB] {
        let body = json!({"vim": {"name": "big", "description": "x".repeat(size)}});
        for path in ["/v1.0/vims.json", "/vnflcm/v1/vnf_instances"] {
            let response = app
                .request(Method::POST, path)
                .json(&body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}, {size} bytes: {e:?}"));
            assert_eq!(response.status(), 413, "{path}, {size} bytes");
            let error: Value = response.json().await.unwrap();
            assert!(error.to_string().contains("Request is too large."), "{error}");
        }
    }
    // The same without a Content-Length (chunked): cut at the limit, still answered.
    let stream = TcpStream::connect(app.socket_addr()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        writer
            .write_all(
                b"POST /v1.0/vims.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                  Transfer-Encoding: chunked\r\n\r\n",
            )
            .await?;
        let chunk = [
            format!("{MIB:x}\r\n").into_bytes(),
            vec![b'x'; MIB],
            b"\r\n".to_vec(),
        ]
        .concat();
        for _ in 0..20 {
            writer.write_all(&chunk).await?;
        }
        writer.write_all(b"0\r\n\r\n").await
    });
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = reader.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed before the response: {}",
            String::from_utf8_lossy(&head)
        );
        head.extend_from_slice(&buf[..n]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 413 "),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let head = String::from_utf8_lossy(&head);
    assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
    sender.await.unwrap().expect("the body was drained, not refused");
    // The server is still serving.
    assert_eq!(app.send(app.request(Method::GET, "/v1.0/vims.json")).await.0, 200);
}

/// A client that keeps its connections (reqwest's pool) sends its next request after a
/// 413 over a fresh one: the 413 says `Connection: close`. Without it the next request
/// could go out on the closing connection and fail with "connection closed before
/// message completed", which once failed this suite's `vims_errors` on CI.
#[tokio::test]
async fn the_request_after_a_refused_body_is_answered() {
    let app = sqlite_app("").await;
    let mut big = k8s_vim("big", None);
    big["vim"]["description"] = json!("x".repeat(app.config.max_request_body_size));
    for round in 0..50 {
        let refused = app
            .request(Method::POST, "/v1.0/vims.json")
            .json(&big)
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}, the big body: {e:?}"));
        assert_eq!(refused.status(), 413, "round {round}");
        assert_eq!(refused.headers()["connection"], "close", "round {round}");
        refused.bytes().await.unwrap();
        let next = app
            .request(Method::GET, "/v1.0/vims.json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}, the request after the 413: {e:?}"));
        assert_eq!(next.status(), 200, "round {round}");
    }
}

/// The reported failure itself: Python's `requests` (python-tackerclient's transport)
/// sends the whole body before it reads, and got a broken pipe instead of the 413.
#[tokio::test]
async fn python_requests_reads_the_413_of_a_big_body() {
    let Some(cli) = openstack_cli() else {
        return;
    };
    let python = cli.with_file_name("python3");
    let app = sqlite_app("").await;
    let script = r#"
import json, sys, requests
for size in (5, 20):
    body = json.dumps({"vim": {"name": "big", "description": "x" * (size << 20)}})
    r = requests.post(sys.argv[1] + "/v1.0/vims.json", data=body,
                      headers={"Content-Type": "application/json"}, timeout=30)
    print(size, r.status_code, r.json()["TackerError"]["type"])
"#;
    let output = tokio::process::Command::new(&python)
        .args(["-c", script, &app.address])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        "5 413 HTTPRequestEntityTooLarge\n20 413 HTTPRequestEntityTooLarge\n"
    );
}

/// Every `_links` href of `view` starts with `base`.
fn assert_links_under(view: &Value, base: &str) {
    let links = view["_links"]
        .as_object()
        .unwrap_or_else(|| panic!("no _links: {view}"));
    assert!(!links.is_empty());
    for (name, link) in links {
        let href = link["href"].as_str().unwrap();
        assert!(href.starts_with(base), "{name}: {href} not under {base}");
    }
}

async fn links_follow(app: &TestApp, host: Option<&str>, base: &str) {
    let with_host = |request: reqwest::RequestBuilder| match host {
        Some(host) => request.header("Host", host),
        None => request,
    };
    // Packages: 201's Location and the view's links.
    let (location, package) = expect(
        with_host(app.request(Method::POST, "/vnfpkgm/v1/vnf_packages")).json(&json!({})),
        201,
    )
    .await;
    let id = package["id"].as_str().unwrap();
    let self_href = format!("{base}/vnfpkgm/v1/vnf_packages/{id}");
    assert_eq!(location.as_deref(), Some(self_href.as_str()));
    assert_eq!(package["_links"]["self"]["href"], self_href);
    assert_eq!(
        package["_links"]["packageContent"]["href"],
        format!("{self_href}/package_content")
    );
    let (_, listed) = expect(
        with_host(app.request(Method::GET, "/vnfpkgm/v1/vnf_packages")),
        200,
    )
    .await;
    for item in listed.as_array().unwrap() {
        assert_links_under(item, &format!("{base}/vnfpkgm/v1/vnf_packages/"));
    }

    // LCM v1 and v2: instances and their operation occurrences.
    for (api, request) in [("v1", v1 as fn(&TestApp, Method, &str) -> _), ("v2", v2)] {
        let (location, instance) = expect(
            with_host(request(app, Method::POST, "/vnf_instances"))
                .json(&json!({"vnfdId": tacker_testkit::csar::SAMPLE_VNFD_ID})),
            201,
        )
        .await;
        let id = instance["id"].as_str().unwrap();
        let self_href = format!("{base}/vnflcm/{api}/vnf_instances/{id}");
        assert_eq!(location.as_deref(), Some(self_href.as_str()));
        assert_eq!(instance["_links"]["self"]["href"], self_href);
        assert_eq!(
            instance["_links"]["instantiate"]["href"],
            format!("{self_href}/instantiate")
        );
        let (_, shown) = expect(
            with_host(request(app, Method::GET, &format!("/vnf_instances/{id}"))),
            200,
        )
        .await;
        assert_eq!(shown["_links"], instance["_links"]);
        let (_, listed) = expect(with_host(request(app, Method::GET, "/vnf_instances")), 200).await;
        for item in listed.as_array().unwrap() {
            assert_links_under(item, &format!("{base}/vnflcm/{api}/vnf_instances/"));
        }
        // An operation refused later still gets its occurrence: its Location and links.
        let (location, _) = expect(
            with_host(request(app, Method::PATCH, &format!("/vnf_instances/{id}")))
                .header("Content-Type", "application/merge-patch+json")
                .json(&json!({"vnfInstanceName": "renamed"})),
            202,
        )
        .await;
        let location = location.unwrap();
        assert!(
            location.starts_with(&format!("{base}/vnflcm/{api}/vnf_lcm_op_occs/")),
            "{location}"
        );
        let op_path = location.rsplit_once("/vnflcm/").unwrap().1;
        let op_path = op_path.trim_start_matches(api);
        let (_, op) = expect(with_host(request(app, Method::GET, op_path)), 200).await;
        assert_eq!(op["_links"]["self"]["href"], location);
        assert_eq!(op["_links"]["vnfInstance"]["href"], self_href);
        let (_, listed) = expect(with_host(request(app, Method::GET, "/vnf_lcm_op_occs")), 200).await;
        for item in listed.as_array().unwrap() {
            assert_links_under(item, &format!("{base}/vnflcm/{api}/"));
        }
    }
}

async fn with_onboarded_package(conf: &str) -> TestApp {
    let app = sqlite_app(conf).await;
    let (status, _) = app
        .send(app.request(Method::POST, "/v1.0/vims.json").json(&json!({"vim": {
            "type": "kubernetes", "name": "cluster", "tenant_id": PROJECT, "is_default": true,
            "auth_url": "https://10.0.0.10:6443", "auth_cred": {"bearer_token": "secret"},
            "vim_project": {"name": "default"},
        }})))
        .await;
    assert_eq!(status, 201);
    let package = create_and_upload_as(&app, Some(PROJECT), sample_package()).await;
    assert_eq!(
        wait_onboarding(&app, &package).await["onboardingState"],
        "ONBOARDED"
    );
    app
}

#[tokio::test]
async fn links_are_absolute_from_the_host_the_client_used() {
    let app = with_onboarded_package("").await;
    links_follow(&app, None, &app.address).await;
    links_follow(&app, Some("nfvo.example:9890"), "http://nfvo.example:9890").await;
}

#[tokio::test]
async fn links_are_absolute_from_public_endpoint_when_set() {
    let base = "https://nfvo.example:8443/tacker";
    let app = with_onboarded_package(&format!("[DEFAULT]\npublic_endpoint = {base}/\n")).await;
    links_follow(&app, Some("internal:9890"), base).await;
    let (_, versions) = app.send(app.request(Method::GET, "/")).await;
    assert_eq!(
        versions["versions"][0]["links"][0]["href"],
        format!("{base}/v1.0")
    );
}
