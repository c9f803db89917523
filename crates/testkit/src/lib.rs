//! Test harness shared by the integration tests: a fresh database per test on SQLite,
//! PostgreSQL and MariaDB/MySQL (dropped afterwards), a tacker-server spawned on a free
//! port over it, throw-away certificates, and the servers some tests need (Keystone, an
//! OAuth 2.0 IdP, Prometheus with Alertmanager, an SFTP server, an S3 server).
#![allow(clippy::unwrap_used)]

mod app;
pub mod csar;
mod database;
pub mod db_fault;
pub mod idp;
pub mod keystone;
pub mod monitoring;
pub mod pki;
pub mod raw;
pub mod s3;
pub mod sftp;

pub use app::{
    kubernetes_in_memory, repo_api_paste, repo_api_paste_external_oauth2, write_conf, ConductorHandle,
    TestApp, TestAppBuilder,
};
pub use database::{TestBackend, TestDatabase};

/// The path an environment variable names (a tool scripts/test installs), or `None`, the
/// test being skipped, when it is unset; under CI it must be set.
pub fn tool_path(var: &str) -> Option<std::path::PathBuf> {
    match std::env::var_os(var) {
        Some(path) => Some(path.into()),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var} must be set under CI (scripts/test sets it)"
            );
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

/// A loopback port free right now, for a server started in another process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `#[tokio::test]` per backend, in a module of its own (`module::sqlite`,
/// `module::postgres`, `module::mysql`), each running the test body on a fresh setup:
///
/// - `backend_tests!(module => body);`: `body(TestApp)` on a default app ([`run_on`]);
/// - `backend_tests!(module => body, setup = run);`: `run(TestBackend, body)`, for tests
///   that build their own environment per test (a database only, a relayed app, ...);
///   [`with_backend`] hands `body` the backend itself;
/// - `..., backends = [Postgres, MySql]` (after `setup`, if any): only these backends,
///   for tests that mean nothing on the others.
///
/// Names are resolved where the macro is called.
#[macro_export]
macro_rules! backend_tests {
    (@test Sqlite, $setup:path, $body:path) => {
        $crate::backend_tests!(@fn sqlite, Sqlite, $setup, $body);
    };
    (@test Postgres, $setup:path, $body:path) => {
        $crate::backend_tests!(@fn postgres, Postgres, $setup, $body);
    };
    (@test MySql, $setup:path, $body:path) => {
        $crate::backend_tests!(@fn mysql, MySql, $setup, $body);
    };
    (@fn $name:ident, $backend:ident, $setup:path, $body:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $setup($crate::TestBackend::$backend, $body).await
        }
    };
    ($module:ident => $body:path) => {
        $crate::backend_tests!($module => $body, setup = $crate::run_on);
    };
    ($module:ident => $body:path, backends = [$($backend:ident),+ $(,)?]) => {
        $crate::backend_tests!($module => $body, setup = $crate::run_on, backends = [$($backend),+]);
    };
    ($module:ident => $body:path, setup = $setup:path) => {
        $crate::backend_tests!($module => $body, setup = $setup, backends = [Sqlite, Postgres, MySql]);
    };
    ($module:ident => $body:path, setup = $setup:path, backends = [$($backend:ident),+ $(,)?]) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $($crate::backend_tests!(@test $backend, $setup, $body);)+
        }
    };
}

/// Spawns a default app on `backend` and runs the test body; a backend that is not
/// configured here is skipped with a note (and fails under CI, where all must run).
pub async fn run_on<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(app) = TestApp::builder(backend).spawn().await else {
        return;
    };
    body(app).await
}

/// The setup of tests that build what they need themselves: runs `body(backend)`.
pub async fn with_backend<F, Fut>(backend: TestBackend, body: F)
where
    F: FnOnce(TestBackend) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    body(backend).await
}
