use tacker_db::{DbError, StoredJsonError};
use tacker_pkgstore::StoreError;

/// Why a package request failed. Each kind maps to one status code; the message is shown
/// to the client as the ProblemDetails `detail`, except for `Db`, `Storage` and `Corrupt`, which are
/// logged and answered with a generic message.
#[derive(Debug, thiserror::Error)]
pub enum PkgError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Policy doesn't allow {0} to be performed.")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    RangeNotSatisfiable(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("package storage failed: {0}")]
    Storage(#[from] std::io::Error),
    /// The package store (an object store) failed or could not be reached.
    #[error(transparent)]
    StoreUnavailable(StoreError),
    /// A stored document is JSON, but not the one tacker-rs wrote there.
    #[error("the {column} of VNF package {id} is unreadable")]
    Corrupt {
        id: String,
        column: &'static str,
        #[source]
        cause: StoredJsonError,
    },
}

impl PkgError {
    pub fn package_not_found(id: &str) -> Self {
        PkgError::NotFound(format!("Can not find requested vnf package: {id}"))
    }
}

impl From<StoreError> for PkgError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Io(e) => PkgError::Storage(e),
            remote => PkgError::StoreUnavailable(remote),
        }
    }
}

pub type Result<T, E = PkgError> = std::result::Result<T, E>;
