//! What can go wrong in a Kubernetes operation, and the ProblemDetails each becomes on the
//! operation occurrence. Messages name the failing step and what the peer answered; they
//! never carry a credential.

use std::time::Duration;

use http::StatusCode;
use tacker_driver::DriverError;

use crate::oidc::OidcError;

/// A Kubernetes driver failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The id_token could not be obtained (Tacker's OIDCAuthFailed).
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// The vimConnectionInfo cannot be used (no endpoint, unreadable CA bundle, ...).
    #[error("vimConnectionInfo: {0}")]
    Connection(String),
    /// The package's manifests or the plan do not fit together.
    #[error("{0}")]
    Manifest(String),
    /// The TLS handshake with the API server failed; `detail` is the innermost cause.
    #[error("TLS with the Kubernetes API server {endpoint} failed: {detail}")]
    Tls {
        endpoint: String,
        detail: String,
        #[source]
        source: Box<kube::Error>,
    },
    /// The API server could not be reached (or did not answer in time); `detail` is the
    /// innermost cause.
    #[error("the Kubernetes API server {endpoint} is unreachable: {detail}")]
    Unreachable {
        endpoint: String,
        detail: String,
        #[source]
        source: Box<kube::Error>,
    },
    /// The API server refused a request; `message` is its `Status` message.
    #[error("the Kubernetes API server refused to {action}: {code} {reason}: {message}")]
    Api {
        action: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// An object the operation works on is not in the cluster.
    #[error("{0} does not exist")]
    Missing(String),
    /// Objects did not become ready (or go away) in time.
    #[error("{what} within {} s: {pending}", .timeout.as_secs_f64())]
    Timeout {
        what: &'static str,
        timeout: Duration,
        pending: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status Kubernetes answered, if it answered.
    pub fn api_code(&self) -> Option<u16> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Wraps a kube client error of `action` (e.g. "create Deployment default/web").
    pub(crate) fn kube(endpoint: &str, action: impl Into<String>, err: kube::Error) -> Error {
        // The id_token could not be renewed in the middle of the operation.
        let err = match err {
            kube::Error::Service(cause) => match cause.downcast::<OidcError>() {
                Ok(oidc) => return Error::Oidc(*oidc),
                Err(cause) => kube::Error::Service(cause),
            },
            other => other,
        };
        match err {
            kube::Error::Api(status) => Error::Api {
                action: action.into(),
                code: status.code,
                reason: if status.reason.is_empty() {
                    reason_phrase(status.code)
                } else {
                    status.reason.clone()
                },
                message: status.message.clone(),
            },
            other => transport(endpoint, other),
        }
    }
}

fn reason_phrase(code: u16) -> String {
    http::StatusCode::from_u16(code)
        .ok()
        .and_then(|c| c.canonical_reason())
        .unwrap_or("Error")
        .to_owned()
}

/// A failure below HTTP: TLS, connection, timeout. Says which from the types in the error
/// chain (a `rustls::Error`, also inside an `io::Error`), never from its words.
fn transport(endpoint: &str, err: kube::Error) -> Error {
    let mut innermost: &dyn std::error::Error = &err;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    let detail = innermost.to_string();
    let endpoint = endpoint.to_owned();
    if tacker_tls::tls_cause(&err).is_some() {
        Error::Tls {
            endpoint,
            detail,
            source: Box::new(err),
        }
    } else {
        Error::Unreachable {
            endpoint,
            detail,
            source: Box::new(err),
        }
    }
}

impl From<Error> for DriverError {
    fn from(err: Error) -> DriverError {
        let status = match &err {
            Error::Oidc(_) | Error::Connection(_) | Error::Manifest(_) => StatusCode::BAD_REQUEST,
            Error::Tls { .. }
            | Error::Unreachable { .. }
            | Error::Api { .. }
            | Error::Missing(_)
            | Error::Timeout { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        DriverError::new(status, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_keep_the_status_message() {
        let status = kube::core::Status::failure("pods is forbidden: User \"bob\" cannot list", "Forbidden")
            .with_code(403);
        let err = Error::kube(
            "https://k:6443",
            "list Pod default",
            kube::Error::Api(status.boxed()),
        );
        assert_eq!(err.api_code(), Some(403));
        let problem = DriverError::from(err);
        assert_eq!(problem.status, 422);
        assert_eq!(
            problem.detail,
            "the Kubernetes API server refused to list Pod default: 403 Forbidden: pods is forbidden: User \"bob\" cannot list"
        );
    }

    #[test]
    fn a_token_that_cannot_be_renewed_is_an_oidc_failure() {
        let cause = OidcError::Failed("response code: 401, invalid_client".into());
        let err = Error::kube(
            "https://k:6443",
            "list Pod default",
            kube::Error::Service(Box::new(cause)),
        );
        assert!(matches!(err, Error::Oidc(_)), "{err:?}");
        let problem = DriverError::from(err);
        assert_eq!(problem.status, 400);
        assert_eq!(
            problem.detail,
            "OIDC authentication and authorization failed. Detail: response code: 401, invalid_client"
        );
    }
}
