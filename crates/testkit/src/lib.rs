//! Test harness shared by the integration tests: a fresh database per test on SQLite,
//! PostgreSQL and MariaDB/MySQL (dropped afterwards), a tacker-server spawned on a free
//! port over it, and throw-away certificates.
#![allow(clippy::unwrap_used)]

mod app;
pub mod csar;
mod database;
pub mod db_fault;
pub mod idp;
pub mod pki;
pub mod raw;

pub use app::{repo_api_paste, write_conf, ConductorHandle, TestApp, TestAppBuilder};
pub use database::{TestBackend, TestDatabase};

/// Generates one `#[tokio::test]` per backend that runs `$body(app)` on a fresh app:
/// `backend_tests!(module_name => async_fn_taking_TestApp);`
#[macro_export]
macro_rules! backend_tests {
    ($module:ident => $body:ident) => {
        mod $module {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::run_on($crate::TestBackend::Sqlite, super::$body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::run_on($crate::TestBackend::Postgres, super::$body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                $crate::run_on($crate::TestBackend::MySql, super::$body).await
            }
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
