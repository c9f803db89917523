//! The systemd units under etc/systemd pass `systemd-analyze verify` (with ExecStart
//! pointed at the binaries this build made, since verify checks that they exist).

use std::path::Path;
use std::process::Command;

fn analyze_available() -> bool {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "systemd-analyze must be installed under CI"
    );
    found
}

#[test]
fn the_units_verify() {
    if !analyze_available() {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/systemd");
    let dir = tempfile::tempdir().unwrap();
    for (unit, binary) in [
        ("tacker-server.service", env!("CARGO_BIN_EXE_tacker-server")),
        ("tacker-conductor.service", env!("CARGO_BIN_EXE_tacker-conductor")),
    ] {
        let text = std::fs::read_to_string(units.join(unit)).unwrap();
        let installed = format!("/usr/local/bin/{}", unit.trim_end_matches(".service"));
        assert!(
            text.contains(&format!(
                "ExecStart={installed} --config-file /etc/tacker/tacker.conf"
            )),
            "{unit}"
        );
        for setting in [
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/tacker /etc/tacker/vim",
            "KillSignal=SIGTERM",
        ] {
            assert!(text.contains(setting), "{unit} lacks {setting}");
        }
        let path = dir.path().join(unit);
        std::fs::write(&path, text.replace(&installed, binary)).unwrap();
        let output = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{unit}: {stderr}");
        let complaints: Vec<&str> = stderr.lines().filter(|l| l.contains(unit)).collect();
        assert!(complaints.is_empty(), "{unit}: {complaints:?}");
    }
}
