//! oslo.db (SQLAlchemy) connection URLs, as found in existing tacker.conf files.

use std::path::PathBuf;

use crate::{Backend, DbError};

/// Where to connect, decoded from `[database] connection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A SQLite file; `None` is an in-memory database.
    Sqlite(Option<PathBuf>),
    /// A server URL in the form sqlx understands (`postgres://` or `mysql://`).
    Server(Backend, String),
}

impl DbTarget {
    /// Accepts `sqlite://` (memory), `sqlite:///relative`, `sqlite:////absolute`,
    /// `postgresql[+driver]://`, `postgres://`, `mysql[+driver]://` (pymysql, mysqldb, ...).
    pub fn parse(connection: &str) -> Result<Self, DbError> {
        let (scheme, rest) = connection
            .split_once("://")
            .ok_or_else(|| DbError::BadUrl(redact(connection)))?;
        let dialect = scheme.split('+').next().unwrap_or_default();
        match dialect {
            "sqlite" => {
                let path = rest.strip_prefix('/').unwrap_or(rest);
                let path = path.split('?').next().unwrap_or_default();
                Ok(DbTarget::Sqlite((!path.is_empty()).then(|| PathBuf::from(path))))
            }
            "postgresql" | "postgres" => {
                Ok(DbTarget::Server(Backend::Postgres, format!("postgres://{rest}")))
            }
            "mysql" | "mariadb" => Ok(DbTarget::Server(Backend::MySql, format!("mysql://{rest}"))),
            _ => Err(DbError::BadUrl(redact(connection))),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbTarget::Sqlite(_) => Backend::Sqlite,
            DbTarget::Server(backend, _) => *backend,
        }
    }
}

/// The URL with any password replaced, for error messages and logs.
pub fn redact(connection: &str) -> String {
    match ::url::Url::parse(connection) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => connection.to_string(),
        Err(_) => "<unparsable URL>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_sqlalchemy_forms() {
        assert_eq!(
            DbTarget::parse("sqlite:////var/lib/tacker/t.db").unwrap(),
            DbTarget::Sqlite(Some("/var/lib/tacker/t.db".into()))
        );
        assert_eq!(
            DbTarget::parse("sqlite:///data/t.db").unwrap(),
            DbTarget::Sqlite(Some("data/t.db".into()))
        );
        assert_eq!(DbTarget::parse("sqlite://").unwrap(), DbTarget::Sqlite(None));
        assert_eq!(
            DbTarget::parse("mysql+pymysql://root:pw@127.0.0.1/tacker?charset=utf8").unwrap(),
            DbTarget::Server(
                Backend::MySql,
                "mysql://root:pw@127.0.0.1/tacker?charset=utf8".into()
            )
        );
        assert_eq!(
            DbTarget::parse("postgresql+psycopg2://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
    }

    #[test]
    fn rejects_unknown_dialects_without_echoing_passwords() {
        let err = DbTarget::parse("oracle://u:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(DbTarget::parse("no-scheme").is_err());
    }
}
