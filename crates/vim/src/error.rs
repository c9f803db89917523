use tacker_crypto::VaultError;
use tacker_db::DbError;

/// Why a VIM registry call failed; the server maps each kind to Tacker's status and type.
#[derive(Debug, thiserror::Error)]
pub enum VimError {
    /// A malformed request: 400 `HTTPBadRequest` with this message.
    #[error("{0}")]
    BadRequest(String),
    /// 404 `VimNotFoundException`.
    #[error("Specified VIM id {0} is invalid. Please verify and pass a valid VIM id")]
    NotFound(String),
    /// 403 `PolicyNotAuthorized` (Tacker answers 500 here).
    #[error("Policy doesn't allow {0} to be performed.")]
    Forbidden(String),
    /// 409 `DuplicateEntity`.
    #[error("vim already exist with given ['tenant_id', 'name']")]
    DuplicateName,
    /// 409 `VimDefaultDuplicateException`.
    #[error("Default VIM already exists {0}.")]
    DefaultExists(String),
    /// 409 `VimInUseException`.
    #[error("VIM {0} is still in use by VNF")]
    InUse(String),
    /// 409: the VIM kept changing under this request; nothing of it was written.
    #[error("VIM {0} was changed by other requests at the same time; nothing was changed, try again")]
    Conflict(String),
    /// 503: the server stopped before the change could finish.
    #[error(transparent)]
    Interrupted(#[from] tacker_common::detach::Interrupted),
    /// 501: a request form Tacker accepts that tacker-rs does not implement.
    #[error("{0}")]
    NotImplemented(String),
    /// 500; the cause is logged, never shown.
    #[error("VIM key storage failed: {0}")]
    Vault(#[from] VaultError),
    /// 500 (or 503 when the database is down); the cause is logged, never shown.
    #[error(transparent)]
    Db(DbError),
    /// 500: a view could not be written as JSON; the cause is logged, never shown.
    #[error("VIM view could not be written: {0}")]
    Render(#[from] serde_json::Error),
}

impl From<DbError> for VimError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::DuplicateVimName { .. } => VimError::DuplicateName,
            DbError::DefaultVimExists(id) => VimError::DefaultExists(id.unwrap_or_default()),
            DbError::VimInUse(id) => VimError::InUse(id),
            other => VimError::Db(other),
        }
    }
}

impl VimError {
    /// Tacker's message for an attribute that failed validation.
    pub fn invalid(attr: &str, reason: impl std::fmt::Display) -> Self {
        VimError::BadRequest(format!("Invalid input for {attr}. Reason: {reason}."))
    }
}
