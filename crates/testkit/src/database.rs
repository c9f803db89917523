//! A database of its own for every test, created on the configured servers and dropped
//! when the test ends.

use std::path::Path;
use std::str::FromStr;

use sqlx::Connection;

/// The backends every database test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
    MySql,
}

impl TestBackend {
    /// The environment variable with the server URL (an oslo.db URL naming any database).
    fn env_var(self) -> Option<&'static str> {
        match self {
            TestBackend::Sqlite => None,
            TestBackend::Postgres => Some("TACKER_TEST_POSTGRES_URL"),
            TestBackend::MySql => Some("TACKER_TEST_MYSQL_URL"),
        }
    }
}

/// A freshly created, empty database.
pub struct TestDatabase {
    pub backend: TestBackend,
    /// The `[database] connection` URL of this database.
    pub connection: String,
    /// The server URL and database name to drop afterwards.
    drop_target: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates the database; `None` when the backend's server is not configured here.
    pub async fn create(backend: TestBackend, scratch: &Path) -> Option<Self> {
        let Some(var) = backend.env_var() else {
            let file = scratch.join("tacker.sqlite");
            return Some(TestDatabase {
                backend,
                connection: format!("sqlite:///{}", file.display()),
                drop_target: None,
            });
        };
        let Ok(server) = std::env::var(var) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var} must be set under CI: every database test runs on every backend"
            );
            eprintln!("skipped: {var} is not set");
            return None;
        };
        let name = format!("tacker_test_{}", uuid::Uuid::new_v4().simple());
        let (admin_url, connection) = urls(&server, &name);
        let create = match backend {
            TestBackend::Postgres => format!("CREATE DATABASE {name}"),
            _ => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
        };
        execute(backend, &admin_url, &create).await;
        Some(TestDatabase {
            backend,
            connection,
            drop_target: Some((admin_url, name)),
        })
    }
}

/// The sqlx URL of the server's maintenance database and the oslo URL of `name`.
fn urls(server: &str, name: &str) -> (String, String) {
    let (scheme, rest) = server.split_once("://").expect("a URL with a scheme");
    let dialect = scheme.split('+').next().unwrap_or(scheme);
    let mut url = url::Url::parse(&format!("{dialect}://{rest}")).expect("a valid database URL");
    let admin_db = if dialect.starts_with("postgres") {
        "/postgres"
    } else {
        "/"
    };
    url.set_path(admin_db);
    let admin = url.to_string().replacen("postgresql://", "postgres://", 1);
    url.set_path(&format!("/{name}"));
    (admin, url.to_string())
}

async fn execute(backend: TestBackend, admin_url: &str, sql: &str) {
    match backend {
        TestBackend::Postgres => {
            let options = sqlx::postgres::PgConnectOptions::from_str(admin_url).unwrap();
            let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            let _ = conn.close().await;
        }
        TestBackend::MySql => {
            let options = sqlx::mysql::MySqlConnectOptions::from_str(admin_url).unwrap();
            let mut conn = sqlx::MySqlConnection::connect_with(&options).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            let _ = conn.close().await;
        }
        TestBackend::Sqlite => {}
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.drop_target.take() else {
            return;
        };
        let backend = self.backend;
        let sql = match backend {
            TestBackend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            _ => format!("DROP DATABASE IF EXISTS {name}"),
        };
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(execute(backend, &admin_url, &sql));
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_credentials_and_swap_the_database() {
        let (admin, conn) = urls("postgresql://postgres@127.0.0.1:5432/whatever", "t1");
        assert_eq!(admin, "postgres://postgres@127.0.0.1:5432/postgres");
        assert_eq!(conn, "postgresql://postgres@127.0.0.1:5432/t1");
        let (admin, conn) = urls("mysql+pymysql://root@127.0.0.1:3306", "t2");
        assert_eq!(admin, "mysql://root@127.0.0.1:3306/");
        assert_eq!(conn, "mysql://root@127.0.0.1:3306/t2");
    }
}
