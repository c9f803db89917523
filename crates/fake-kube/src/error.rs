//! Errors of starting and configuring the fake (request errors are [`crate::ApiError`]).

use std::path::PathBuf;

/// Why the fake could not start or a configuration value was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value breaks the rules kube-apiserver applies to its flags.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Generating the CA or the serving certificate failed.
    #[error("certificate generation failed")]
    Certificate(#[source] rcgen::Error),
    /// Building the rustls configuration failed.
    #[error("TLS configuration failed")]
    Tls(#[source] rustls::Error),
    /// Binding or serving the listener failed.
    #[error("listener error")]
    Io(#[source] std::io::Error),
    /// Reading a file named by the configuration failed.
    #[error("cannot read {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The audit log file cannot be opened for appending.
    #[error("cannot open the audit log {path}")]
    AuditLog {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Building the HTTP client for the OIDC issuer failed.
    #[error("OIDC HTTP client")]
    Http(#[source] reqwest::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
