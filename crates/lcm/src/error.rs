use tacker_db::DbError;

/// Why an LCM request failed. Each kind is one status code; the message is the
/// ProblemDetails `detail` (except `Db` and `Internal`, which are logged instead).
#[derive(Debug, thiserror::Error)]
pub enum LcmError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Policy doesn't allow {0} to be performed.")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotImplemented(String),
    /// A service tacker-rs depends on (Prometheus's host) failed; the cause is logged where
    /// it happened, the message is shown: 503.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] DbError),
    /// The keys of an instance or a subscription.
    #[error("{what} key")]
    Key {
        what: &'static str,
        #[source]
        cause: tacker_crypto::VaultError,
    },
    /// The VIM registry failed (not a VIM the client named wrongly).
    #[error("VIM registry")]
    Vim(#[source] tacker_vim::VimError),
    /// What tacker-rs stored cannot be read back.
    #[error("{what} is unreadable")]
    Corrupt {
        what: String,
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A subscription's authentication could not be encrypted.
    #[error("subscription authentication: {0}")]
    Codec(String),
    /// The server stopped before a change could finish: 503.
    #[error(transparent)]
    Interrupted(#[from] tacker_common::detach::Interrupted),
}

pub type Result<T, E = LcmError> = std::result::Result<T, E>;
