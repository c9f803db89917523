//! What can go wrong with package storage.

use std::io;

/// A store or local-disk failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("package store: {0}")]
    Object(#[from] object_store::Error),
    #[error("package store (local files): {0}")]
    Io(#[from] io::Error),
}

impl StoreError {
    pub fn is_not_found(&self) -> bool {
        match self {
            StoreError::Object(object_store::Error::NotFound { .. }) => true,
            StoreError::Io(e) => e.kind() == io::ErrorKind::NotFound,
            StoreError::Object(_) => false,
        }
    }
}

impl From<StoreError> for io::Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Io(e) => e,
            other => io::Error::other(other),
        }
    }
}

/// Why receiving an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the package is larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("the package could not be received: {0}")]
    Transfer(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<object_store::Error> for ReceiveError {
    fn from(err: object_store::Error) -> Self {
        ReceiveError::Store(err.into())
    }
}
