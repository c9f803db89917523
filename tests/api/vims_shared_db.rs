//! Several servers over one database: a change made through one is seen at once through
//! the others (each keeps a VIM list copy validated against the database's revision).

use reqwest::Method;
use serde_json::{json, Value};
use tacker_testkit::{backend_tests, TestApp};

use crate::helpers::{k8s_vim, register};

async fn names_on(app: &TestApp, address: &str) -> Vec<String> {
    let (status, body) = app
        .send(
            app.client
                .request(Method::GET, format!("{address}/v1.0/vims.json?fields=name")),
        )
        .await;
    assert_eq!(status, 200);
    let mut names: Vec<String> = body["vims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

backend_tests!(changes_through_one_server_are_seen_by_another => two_servers);

async fn two_servers(app: TestApp) {
    let peer = app.spawn_peer().await;
    assert!(names_on(&app, &peer.address).await.is_empty());

    let vim = register(&app, k8s_vim("first", Some("p"))).await;
    let id = vim["id"].as_str().unwrap();
    assert_eq!(names_on(&app, &peer.address).await, ["first"]);

    // Changed through the peer: the first server's cached list follows.
    let (status, _) = app
        .send(
            app.client
                .request(Method::PUT, format!("{}/v1.0/vims/{id}.json", peer.address))
                .json(&json!({"vim": {"name": "renamed"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(names_on(&app, &app.address).await, ["renamed"]);
    let (_, body) = app
        .send(app.request(Method::GET, "/v1.0/vims.json?name=renamed"))
        .await;
    assert_eq!(body["vims"][0]["name"], "renamed");

    register(&app, k8s_vim("second", Some("p"))).await;
    let (status, _) = app
        .send(
            app.client
                .request(Method::DELETE, format!("{}/v1.0/vims/{id}", peer.address)),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(names_on(&app, &app.address).await, ["second"]);
    assert_eq!(names_on(&app, &peer.address).await, ["second"]);
    let (_, body): (u16, Value) = app
        .send(app.request(Method::GET, &format!("/v1.0/vims.json?id={id}")))
        .await;
    assert_eq!(body, json!({"vims": []}));
}
