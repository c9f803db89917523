//! The all-in-one `tacker` binary as a child process, for tests of what only a real
//! process shows: its open-file limit, its log output.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tacker_testkit::repo_api_paste;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// A running `tacker` on a free loopback port, with its stderr captured.
pub struct TackerProcess {
    child: Child,
    pub port: u16,
}

impl TackerProcess {
    /// Starts `tacker` over a fresh SQLite database in `dir` with `extra` appended to
    /// its [DEFAULT] section; with `open_files`, under that `ulimit -n`. Returns once it
    /// answers.
    pub async fn start(dir: &Path, extra: &str, open_files: Option<u32>) -> TackerProcess {
        let port = tacker_testkit::free_port();
        let conf = dir.join("tacker.conf");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\nauth_strategy = noauth\n\
                 state_path = {}\napi_paste_config = {}\n{extra}\n[vim_keys]\nopenstack = $state_path/keys\n",
                dir.join("data").display(),
                repo_api_paste().display()
            ),
        )
        .unwrap();
        let binary = env!("CARGO_BIN_EXE_tacker");
        let mut command = match open_files {
            // `ulimit -n` in sh sets the soft and the hard limit.
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), binary]);
                sh
            }
            None => Command::new(binary),
        };
        let child = command
            .arg("--config-file")
            .arg(&conf)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let process = TackerProcess { child, port };
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if client.get(process.url("/")).send().await.is_ok() {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tacker did not start: {}", process.stop().await);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, then everything it wrote to stderr.
    pub async fn stop(mut self) -> String {
        if let Some(pid) = self.child.id() {
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .unwrap();
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).await.unwrap();
        }
        stderr
    }
}
