use serde_json::json;

use super::*;

fn target_info() -> Value {
    json!({
        "prometheusHost": "192.168.121.35",
        "prometheusHostPort": 2222,
        "authInfo": {"ssh_username": "vagrant", "ssh_password": "vagrant"},
        "alertRuleConfigPath": "/etc/prometheus/rules",
        "prometheusReloadApiEndpoint": "http://192.168.121.35:9090/-/reload",
    })
}

fn metadata(infos: Value) -> Value {
    json!({"monitoring": {"monitorName": "prometheus", "driverType": "external", "targetsInfo": infos}})
}

fn bad_metadata(metadata: &Value) -> String {
    match targets_from_metadata(metadata) {
        Err(RulesError::BadMetadata(message)) => message,
        other => panic!("expected BadMetadata for {metadata}, got {other:?}"),
    }
}

const NO_TARGET: &str = "no usable target in metadata.monitoring.targetsInfo: each needs \
     prometheusHost, authInfo.ssh_username, alertRuleConfigPath and prometheusReloadApiEndpoint.";

#[test]
fn a_full_target() {
    let targets = targets_from_metadata(&metadata(json!([target_info()]))).unwrap();
    assert_eq!(
        targets,
        vec![MonitoringTarget {
            host: "192.168.121.35".into(),
            port: 2222,
            username: "vagrant".into(),
            password: "vagrant".into(),
            rule_dir: "/etc/prometheus/rules".into(),
            reload_uri: Url::parse("http://192.168.121.35:9090/-/reload").unwrap(),
        }]
    );
    assert_eq!(
        targets[0].rule_path("job-1.json"),
        "/etc/prometheus/rules/job-1.json"
    );
    let debug = format!("{:?}", targets[0]);
    assert!(
        !debug.contains("vagrant\", rule_dir") && debug.contains("<redacted>"),
        "{debug}"
    );
}

#[test]
fn monitoring_missing() {
    for metadata in [
        json!({}),
        json!({"monitoring": null}),
        json!(null),
        json!({"other": 1}),
    ] {
        assert_eq!(
            bad_metadata(&metadata),
            "monitoring info is missing at metadata field."
        );
    }
}

#[test]
fn not_prometheus_external() {
    for monitoring in [
        json!({"monitorName": "zabbix", "driverType": "external"}),
        json!({"monitorName": "prometheus", "driverType": "internal"}),
        json!({"driverType": "external"}),
        json!({"monitorName": "prometheus"}),
        json!({"monitorName": "Prometheus", "driverType": "external"}),
        json!("prometheus"),
    ] {
        assert_eq!(
            bad_metadata(&json!({"monitoring": monitoring})),
            "prometheus info is missing at metadata field."
        );
    }
}

#[test]
fn port_defaults_to_22() {
    let mut info = target_info();
    info.as_object_mut().unwrap().remove("prometheusHostPort");
    let targets = targets_from_metadata(&metadata(json!([info]))).unwrap();
    assert_eq!(targets[0].port, 22);
    info["prometheusHostPort"] = Value::Null;
    assert_eq!(
        targets_from_metadata(&metadata(json!([info]))).unwrap()[0].port,
        22
    );
}

#[test]
fn bad_port() {
    for port in [json!(0), json!(65536), json!(-1), json!("22"), json!(22.5)] {
        let mut info = target_info();
        info["prometheusHostPort"] = port;
        assert_eq!(
            bad_metadata(&metadata(json!([info]))),
            "metadata.monitoring.targetsInfo[0].prometheusHostPort must be an integer from 1 to 65535."
        );
    }
}

#[test]
fn incomplete_targets_are_skipped() {
    let mut usable = target_info();
    usable["prometheusHost"] = json!("10.0.0.9");
    let mut infos = vec![];
    for (field, empty) in [
        ("prometheusHost", json!("")),
        ("alertRuleConfigPath", Value::Null),
        ("prometheusReloadApiEndpoint", json!("")),
    ] {
        let mut info = target_info();
        info[field] = empty;
        infos.push(info.clone());
        info.as_object_mut().unwrap().remove(field);
        infos.push(info);
    }
    let mut no_user = target_info();
    no_user["authInfo"]["ssh_username"] = json!("");
    infos.push(no_user);
    let mut no_auth = target_info();
    no_auth.as_object_mut().unwrap().remove("authInfo");
    infos.push(no_auth);

    assert_eq!(bad_metadata(&metadata(json!(infos.clone()))), NO_TARGET);
    infos.insert(3, usable);
    let targets = targets_from_metadata(&metadata(json!(infos))).unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].host, "10.0.0.9");
}

#[test]
fn password_may_be_empty() {
    for password in [json!(""), Value::Null] {
        let mut info = target_info();
        info["authInfo"]["ssh_password"] = password;
        let targets = targets_from_metadata(&metadata(json!([info]))).unwrap();
        assert_eq!(targets[0].password, "");
    }
    let mut info = target_info();
    info["authInfo"].as_object_mut().unwrap().remove("ssh_password");
    assert_eq!(
        targets_from_metadata(&metadata(json!([info]))).unwrap()[0].password,
        ""
    );
}

#[test]
fn no_targets_is_an_error() {
    assert_eq!(bad_metadata(&metadata(json!([]))), NO_TARGET);
    assert_eq!(
        bad_metadata(&json!({"monitoring": {"monitorName": "prometheus", "driverType": "external"}})),
        NO_TARGET
    );
}

#[test]
fn wrong_types() {
    assert_eq!(
        bad_metadata(&metadata(json!({"prometheusHost": "h"}))),
        "metadata.monitoring.targetsInfo must be an array."
    );
    assert_eq!(
        bad_metadata(&metadata(json!([target_info(), "h"]))),
        "metadata.monitoring.targetsInfo[1] must be an object."
    );
    let mut info = target_info();
    info["prometheusHost"] = json!(["h"]);
    assert_eq!(
        bad_metadata(&metadata(json!([info]))),
        "metadata.monitoring.targetsInfo[0].prometheusHost must be a string."
    );
    let mut info = target_info();
    info["authInfo"] = json!("vagrant");
    assert_eq!(
        bad_metadata(&metadata(json!([info]))),
        "metadata.monitoring.targetsInfo[0].authInfo must be an object."
    );
    let mut info = target_info();
    info["authInfo"]["ssh_password"] = json!(1234);
    assert_eq!(
        bad_metadata(&metadata(json!([info]))),
        "metadata.monitoring.targetsInfo[0].authInfo.ssh_password must be a string."
    );
}

#[test]
fn reload_endpoint_must_be_http() {
    for uri in ["not a url", "ftp://h/-/reload", "/-/reload", "http://"] {
        let mut info = target_info();
        info["prometheusReloadApiEndpoint"] = json!(uri);
        assert_eq!(
            bad_metadata(&metadata(json!([info]))),
            format!(
                "metadata.monitoring.targetsInfo[0].prometheusReloadApiEndpoint must be an \
                 http or https URL: {uri}"
            )
        );
    }
    let mut info = target_info();
    info["prometheusReloadApiEndpoint"] = json!("https://prom.example:9090/-/reload");
    assert!(targets_from_metadata(&metadata(json!([info]))).is_ok());
}

#[test]
fn reload_uris_are_deduplicated() {
    let mut second = target_info();
    second["prometheusHost"] = json!("192.168.121.36");
    let mut third = target_info();
    third["prometheusReloadApiEndpoint"] = json!("http://192.168.121.36:9090/-/reload");
    let targets = targets_from_metadata(&metadata(json!([target_info(), second, third]))).unwrap();
    assert_eq!(targets.len(), 3);
    let uris: Vec<&str> = unique_reload_uris(&targets).iter().map(|u| u.as_str()).collect();
    assert_eq!(
        uris,
        [
            "http://192.168.121.35:9090/-/reload",
            "http://192.168.121.36:9090/-/reload"
        ]
    );
}

#[test]
fn rule_path_with_a_trailing_slash() {
    let mut target = targets_from_metadata(&metadata(json!([target_info()])))
        .unwrap()
        .remove(0);
    target.rule_dir = "/etc/prometheus/rules/".into();
    assert_eq!(target.rule_path("a.json"), "/etc/prometheus/rules/a.json");
}

#[test]
fn file_names() {
    for good in ["job-1.json", "5f0e4f7c-tacker.json", ".hidden", "a.b.json"] {
        assert!(check_file_name(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        ".",
        "..",
        "../x.json",
        "a/b.json",
        "/etc/passwd",
        "a..json",
        "a\nb",
        "a\0b",
    ] {
        match check_file_name(bad) {
            Err(RulesError::FileName(name)) => assert_eq!(name, bad),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert_eq!(
        RulesError::FileName("../x".into()).to_string(),
        "invalid rule file name \"../x\": a plain file name is required \
         (not empty, no '/', no '..', no control characters)"
    );
}

#[tokio::test]
async fn bad_file_names_touch_no_target() {
    // A target nobody listens on: the name is refused before any connection.
    let mut target = targets_from_metadata(&metadata(json!([target_info()])))
        .unwrap()
        .remove(0);
    target.host = "127.0.0.1".into();
    target.port = 1;
    let publisher = RulePublisher::new(Duration::from_secs(5));
    let err = publisher
        .publish(&[target.clone()], "../x.json", b"{}")
        .await
        .unwrap_err();
    assert!(matches!(err, RulesError::FileName(_)), "{err}");
    let err = publisher.withdraw(&[target], "a/b").await.unwrap_err();
    assert!(matches!(err, RulesError::FileName(_)), "{err}");
}

#[tokio::test]
async fn unreachable_host_names_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut target = targets_from_metadata(&metadata(json!([target_info()])))
        .unwrap()
        .remove(0);
    target.host = "127.0.0.1".into();
    target.port = port;
    let publisher = RulePublisher::new(Duration::from_secs(5));
    let err = publisher.publish(&[target], "x.json", b"{}").await.unwrap_err();
    assert!(matches!(err, RulesError::Ssh { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("SSH to 127.0.0.1 port {port} failed: ")),
        "{err}"
    );
}

#[tokio::test]
async fn silent_host_times_out() {
    // Accepts TCP but never speaks SSH.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = tokio::spawn(async move {
        let mut held = vec![];
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut target = targets_from_metadata(&metadata(json!([target_info()])))
        .unwrap()
        .remove(0);
    target.host = "127.0.0.1".into();
    target.port = port;
    let publisher = RulePublisher::new(Duration::from_millis(300));
    let begun = std::time::Instant::now();
    let err = publisher.publish(&[target], "x.json", b"{}").await.unwrap_err();
    // The upload times out, then the undo (a removal) does too.
    assert!(begun.elapsed() < Duration::from_secs(3), "{:?}", begun.elapsed());
    match &err {
        RulesError::Timeout {
            host,
            port: p,
            operation,
            ..
        } => {
            assert_eq!(
                (host.as_str(), *p, *operation),
                ("127.0.0.1", port, "rule file upload")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("rule file upload on 127.0.0.1 port {port} timed out after 300ms")
    );
}

#[test]
fn errors_stay_small() {
    // Under clippy's `result_large_err` threshold (128 bytes), for every caller.
    assert!(
        std::mem::size_of::<RulesError>() < 128,
        "{}",
        std::mem::size_of::<RulesError>()
    );
}
