/// Why a database call failed, in the terms the API layer needs.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported [database] connection URL: {0}")]
    BadUrl(String),
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
}

impl DbError {
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
