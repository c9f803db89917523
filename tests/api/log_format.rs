//! Logs written to a pipe (a file, the journal) carry no terminal colour codes, and with
//! `[DEFAULT] use_json` each line is one JSON object.

use crate::tacker_process::TackerProcess;

/// Runs `tacker` with `extra` in [DEFAULT] (an unknown option, so that a warning with a
/// field is logged too), serves one request, stops it and returns its stderr.
async fn logs_of(extra: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{extra}\ntransport_url = rabbit://ignored");
    let tacker = TackerProcess::start(dir.path(), &extra, None).await;
    let response = reqwest::get(tacker.url("/v1.0/vims.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    tacker.stop().await
}

#[tokio::test]
async fn logs_to_a_pipe_have_no_colour_codes() {
    let stderr = logs_of("").await;
    assert!(stderr.contains("transport_url"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "ANSI escape codes in: {stderr:?}");
}

#[tokio::test]
async fn use_json_writes_one_json_object_per_line() {
    let stderr = logs_of("use_json = true").await;
    assert!(!stderr.contains('\x1b'), "ANSI escape codes in: {stderr:?}");
    let mut lines = 0;
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(entry["level"].is_string(), "no level: {line}");
        assert!(entry["message"].is_string(), "no message: {line}");
        lines += 1;
    }
    assert!(lines >= 2, "{stderr}");
    assert!(
        stderr.contains(r#""level":"WARN""#) && stderr.contains("transport_url"),
        "{stderr}"
    );
}
