use std::fmt;

/// Why a package could not be onboarded. The `Invalid` kind is the package's fault and its
/// message is shown to the user as is; `Storage` is ours and is logged, not shown.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{0}")]
    Invalid(Problem),
    #[error("package storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

/// A problem with the package, naming the file inside it when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: Option<String>,
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}: {}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

impl PackageError {
    /// A problem with the package as a whole.
    pub fn package(detail: impl Into<String>) -> Self {
        PackageError::Invalid(Problem {
            file: None,
            detail: detail.into(),
        })
    }

    /// A problem with one file of the package.
    pub fn in_file(file: impl Into<String>, detail: impl Into<String>) -> Self {
        PackageError::Invalid(Problem {
            file: Some(file.into()),
            detail: detail.into(),
        })
    }

    /// The user-facing problem, if the package (not the service) is at fault.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            PackageError::Invalid(problem) => Some(problem),
            PackageError::Storage(_) => None,
        }
    }
}

pub type Result<T, E = PackageError> = std::result::Result<T, E>;
