/// Why a database call failed, in the terms the API layer needs.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported [database] connection URL: {0}")]
    BadUrl(String),
    #[error("cannot open [database] connection {url}: {source}")]
    Open {
        /// The URL without its password.
        url: String,
        #[source]
        source: Box<DbError>,
    },
    #[error(
        "the database schema is not up to date ({pending} migration(s) pending); run `tacker-manage --config-file <tacker.conf> db sync`"
    )]
    NotMigrated { pending: usize },
    #[error("the database schema is newer than this tacker-rs (unknown migration {0}); upgrade tacker-rs")]
    SchemaTooNew(i64),
    #[error("a VIM with name {name:?} already exists in project {tenant_id}")]
    DuplicateVimName { tenant_id: String, name: String },
    /// Holds the id of the existing default VIM, when known.
    #[error("project already has a default VIM")]
    DefaultVimExists(Option<String>),
    #[error("VIM {0} is still in use by VNF")]
    VimInUse(String),
    #[error("not found")]
    NotFound,
    /// A conditional update found the row in another state than the caller checked.
    #[error("the resource changed state concurrently")]
    StateChanged,
    #[error("a VNF package with vnfdId {0} is already onboarded")]
    DuplicateVnfdId(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The error of a read that several requests shared (a change counter's).
    #[error(transparent)]
    Shared(std::sync::Arc<DbError>),
}

impl DbError {
    /// True when the database could not serve the call right now but may a moment later:
    /// unreachable, a connection lost mid-query, a full pool, a lock held too long, a
    /// deadlock or serialization conflict, a server shutting down. The API answers these
    /// with 503 and a `Retry-After`, never a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Sqlx(err) => is_transient(err),
            DbError::Shared(err) => err.is_unavailable(),
            _ => false,
        }
    }

    /// True when a row was read but one of its columns does not decode (corrupt data,
    /// such as a stored JSON document that is not JSON).
    pub fn is_unreadable_row(&self) -> bool {
        matches!(
            self,
            DbError::Sqlx(sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_))
        )
    }

    /// True for a UNIQUE violation reported by any backend.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        err.as_database_error().is_some_and(|e| e.is_unique_violation())
    }

    /// True for a FOREIGN KEY violation reported by any backend.
    pub(crate) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
        err.as_database_error()
            .is_some_and(|e| e.is_foreign_key_violation())
    }
}

fn is_transient(err: &sqlx::Error) -> bool {
    use sqlx::Error;
    match err {
        Error::PoolTimedOut | Error::PoolClosed | Error::Io(_) | Error::Tls(_) | Error::WorkerCrashed => true,
        // A connection the server dropped mid-message shows up as a protocol error.
        Error::Protocol(_) => true,
        Error::Database(db) => {
            if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                use sqlx::error::DatabaseError;
                // Extended result codes keep the primary code in the low byte:
                // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their variants.
                let code = sqlite.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
                return matches!(code & 0xff, 5 | 6);
            }
            if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                // Too many connections, server shutdown, lock wait timeout, deadlock,
                // connection killed (MariaDB), gone away, lost connection.
                return matches!(
                    mysql.number(),
                    1040 | 1053 | 1205 | 1213 | 1927 | 2006 | 2013 | 4031
                );
            }
            let code = db.code().unwrap_or_default();
            // PostgreSQL: connection exceptions (08), insufficient resources (53),
            // operator intervention such as a shutdown (57P), serialization failure and
            // deadlock (40001, 40P01), lock not available (55P03).
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "40001"
                || code == "40P01"
                || code == "55P03"
        }
        _ => false,
    }
}
