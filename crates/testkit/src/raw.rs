//! Direct SQL against a test database, for tests that check what is stored or that the
//! database itself enforces a rule.

use std::str::FromStr;

use sqlx::{Connection, Row};
use tacker_db::url::DbTarget;

/// Runs a statement; `Err` carries the database's message.
pub async fn execute(connection: &str, sql: &str) -> Result<u64, String> {
    let text = |e: sqlx::Error| e.to_string();
    match DbTarget::parse(connection).map_err(|e| e.to_string())? {
        DbTarget::Sqlite(path) => {
            let path = path.ok_or("in-memory database")?;
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .foreign_keys(true);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .map_err(text)?;
            Ok(sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map_err(text)?
                .rows_affected())
        }
        DbTarget::Server(tacker_db::Backend::Postgres, url) => {
            let options = sqlx::postgres::PgConnectOptions::from_str(&url).map_err(text)?;
            let mut conn = sqlx::PgConnection::connect_with(&options).await.map_err(text)?;
            Ok(sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map_err(text)?
                .rows_affected())
        }
        DbTarget::Server(_, url) => {
            let options = sqlx::mysql::MySqlConnectOptions::from_str(&url).map_err(text)?;
            let mut conn = sqlx::MySqlConnection::connect_with(&options)
                .await
                .map_err(text)?;
            Ok(sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map_err(text)?
                .rows_affected())
        }
    }
}

/// Every text column of every row the query returns, as strings.
pub async fn fetch_text(connection: &str, sql: &str) -> Vec<Vec<String>> {
    macro_rules! rows {
        ($conn:expr) => {{
            let rows = sqlx::query(sql).fetch_all(&mut $conn).await.unwrap();
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            row.try_get::<Option<String>, _>(i)
                                .ok()
                                .flatten()
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .collect()
        }};
    }
    match DbTarget::parse(connection).unwrap() {
        DbTarget::Sqlite(path) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path.unwrap());
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
            rows!(conn)
        }
        DbTarget::Server(tacker_db::Backend::Postgres, url) => {
            let options = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap();
            let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
            rows!(conn)
        }
        DbTarget::Server(_, url) => {
            let options = sqlx::mysql::MySqlConnectOptions::from_str(&url).unwrap();
            let mut conn = sqlx::MySqlConnection::connect_with(&options).await.unwrap();
            rows!(conn)
        }
    }
}
