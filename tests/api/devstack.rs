//! The devstack plugin (devstack/) on this machine, under the stand-in of tests/devstack
//! (the devstack functions the plugin calls): `stack install`, `post-config` and `extra`
//! write tacker.conf, create the database, start tacker-server and tacker-conductor as
//! processes, the API answers and the default Kubernetes VIM is registered; `unstack`
//! stops both; `clean` removes the files. tests/devstack/run-phases.sh runs the phases
//! and checks each; these tests run it per scenario on SQLite. And shellcheck passes on
//! every script of the plugin and the stand-in (skipped without shellcheck, except under
//! CI, where .ci/run installs it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The folder of this build's tacker-server, tacker-conductor and tacker-manage, which
/// cargo builds for this package's tests (TACKER_RS_BIN_DIR names another one).
fn bin_dir() -> PathBuf {
    match std::env::var_os("TACKER_RS_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_BIN_EXE_tacker-server"))
            .parent()
            .unwrap()
            .to_path_buf(),
    }
}

/// Runs tests/devstack/run-phases.sh for a scenario on SQLite and asserts it passed.
fn run_phases(scenario: &str) {
    run_phases_with(scenario, &[]);
}

/// [`run_phases`] with more environment for the scenario.
fn run_phases_with(scenario: &str, env: &[(&str, String)]) {
    let bin_dir = bin_dir();
    let started = Instant::now();
    let mut command = Command::new(repo().join("tests/devstack/run-phases.sh"));
    // Only the scenario's settings: a developer's own devstack or tacker variables must
    // not change it.
    for (key, _) in std::env::vars() {
        if key.starts_with("TACKER_")
            || key.starts_with("DATABASE_")
            || key.starts_with("SERVICE_")
            || [
                "DEST",
                "DATA_DIR",
                "ENABLED_SERVICES",
                "OFFLINE",
                "USE_SSL",
                "KEEP_WORKDIR",
            ]
            .contains(&key.as_str())
        {
            command.env_remove(key);
        }
    }
    let output = command
        .arg(scenario)
        .env("TACKER_RS_BIN_DIR", &bin_dir)
        .env("DATABASE_TYPE", "sqlite")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "run-phases.sh {scenario} failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains(&format!("devstack phases passed ({scenario})")),
        "{stdout}"
    );
    eprintln!(
        "run-phases.sh {scenario}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn devstack_phases_plain_http_with_a_bearer_token_vim() {
    run_phases("http");
}

#[test]
fn devstack_phases_tacker_tls_with_client_certificates_and_an_oidc_vim() {
    run_phases("tls");
}

#[test]
fn devstack_phases_external_oauth2_protects_the_apis() {
    run_phases("oauth2");
}

/// The plugin's default with Keystone enabled, against a real Keystone: the service
/// user, [keystone_authtoken], the catalogue entry, Keystone tokens on the APIs, and
/// python-tackerclient finding Tacker in the catalogue.
#[test]
fn devstack_phases_keystone_tokens_by_default() {
    let Some(keystone) = tacker_testkit::keystone::Keystone::start(Default::default()) else {
        return;
    };
    let mut env = vec![
        ("STANDIN_KEYSTONE_URL", keystone.url.clone()),
        (
            "ADMIN_PASSWORD",
            tacker_testkit::keystone::ADMIN_PASSWORD.to_string(),
        ),
    ];
    if let Some(cli) = std::env::var_os("TACKER_TEST_OPENSTACK_CLI") {
        env.push(("STANDIN_OPENSTACK_CLI", cli.to_string_lossy().into_owned()));
    }
    run_phases_with("keystone", &env);
}

/// The shell scripts under `dir`: files that start with a shell shebang or a
/// `# shellcheck shell=` directive (devstack's sourced files have no shebang).
fn shell_scripts(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            shell_scripts(&path, found);
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let first = text.lines().next().unwrap_or_default();
        if (first.starts_with("#!") && first.contains("sh")) || first.starts_with("# shellcheck shell=") {
            found.push(path.strip_prefix(repo()).unwrap().to_path_buf());
        }
    }
}

#[test]
fn devstack_scripts_pass_shellcheck() {
    let available = Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "shellcheck must be installed under CI (.ci/run installs it)"
        );
        eprintln!("skipped: shellcheck is not installed");
        return;
    }
    let mut scripts = Vec::new();
    shell_scripts(&repo().join("devstack"), &mut scripts);
    shell_scripts(&repo().join("tests/devstack"), &mut scripts);
    scripts.sort();
    for expected in [
        "devstack/plugin.sh",
        "devstack/settings",
        "devstack/lib/tacker",
        "tests/devstack/functions",
        "tests/devstack/devstack.sh",
        "tests/devstack/run-phases.sh",
    ] {
        assert!(
            scripts.contains(&PathBuf::from(expected)),
            "{expected} is not among {scripts:?}"
        );
    }
    // From the repository root, following `source` into the other scripts (-x).
    let output = Command::new("shellcheck")
        .current_dir(repo())
        .arg("--external-sources")
        .args(&scripts)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "shellcheck found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
