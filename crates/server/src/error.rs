//! The one place where domain errors become HTTP status codes and Tacker error bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tacker_auth::fault::{fault, internal_error, ApiFlavor};
use tacker_db::DbError;
use tacker_lcm::LcmError;
use tacker_vim::VimError;
use tacker_vnfpkgm::PkgError;

/// An error of the /v1.0 API, rendered as `{"TackerError": {...}}`.
#[derive(Debug)]
pub enum ApiError {
    /// A status, Tacker's exception type name, and a message safe to show.
    Shown(StatusCode, &'static str, String),
    /// Logged with its cause; the client sees a generic message.
    Unavailable(String),
    Internal(String),
}

impl ApiError {
    pub fn not_found() -> Self {
        ApiError::Shown(
            StatusCode::NOT_FOUND,
            "HTTPNotFound",
            "The resource could not be found.".into(),
        )
    }
}

impl From<VimError> for ApiError {
    fn from(err: VimError) -> Self {
        let message = err.to_string();
        match err {
            VimError::BadRequest(_) => ApiError::Shown(StatusCode::BAD_REQUEST, "HTTPBadRequest", message),
            VimError::Forbidden(_) => ApiError::Shown(StatusCode::FORBIDDEN, "PolicyNotAuthorized", message),
            VimError::NotFound(_) => ApiError::Shown(StatusCode::NOT_FOUND, "VimNotFoundException", message),
            VimError::DuplicateName => ApiError::Shown(StatusCode::CONFLICT, "DuplicateEntity", message),
            VimError::DefaultExists(_) => {
                ApiError::Shown(StatusCode::CONFLICT, "VimDefaultDuplicateException", message)
            }
            VimError::InUse(_) => ApiError::Shown(StatusCode::CONFLICT, "VimInUseException", message),
            VimError::Interrupted(_) => ApiError::Unavailable(message),
            VimError::Conflict(_) => ApiError::Shown(StatusCode::CONFLICT, "HTTPConflict", message),
            VimError::NotImplemented(_) => {
                ApiError::Shown(StatusCode::NOT_IMPLEMENTED, "NotImplemented", message)
            }
            VimError::Db(db) => db.into(),
            VimError::Vault(_) => ApiError::Internal(message),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            ApiError::Unavailable(err.to_string())
        } else {
            ApiError::Internal(err.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Shown(status, kind, message) => fault(ApiFlavor::Tacker, status, kind, &message),
            ApiError::Unavailable(cause) => database_unavailable(ApiFlavor::Tacker, &cause),
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                internal_error(ApiFlavor::Tacker)
            }
        }
    }
}

/// A 503 for a database that is busy or unreachable: a moment later the same request
/// may succeed, which `Retry-After` tells clients and load balancers.
fn database_unavailable(flavor: ApiFlavor, cause: &str) -> Response {
    tracing::warn!(error = %cause, "database busy or unreachable");
    let mut response = fault(
        flavor,
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "The database is busy or not reachable; try again later.",
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("2"),
    );
    response
}

/// An error of the ETSI APIs (vnfpkgm, vnflcm), rendered as ProblemDetails.
#[derive(Debug)]
pub enum EtsiError {
    /// A status and a detail safe to show.
    Shown(StatusCode, String),
    /// Logged with its cause; the client sees a generic message.
    Unavailable(String),
    Internal(String),
}

impl EtsiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        EtsiError::Shown(status, detail.into())
    }
}

impl From<DbError> for EtsiError {
    fn from(err: DbError) -> Self {
        match ApiError::from(err) {
            ApiError::Unavailable(cause) => EtsiError::Unavailable(cause),
            ApiError::Internal(cause) | ApiError::Shown(_, _, cause) => EtsiError::Internal(cause),
        }
    }
}

impl From<PkgError> for EtsiError {
    fn from(err: PkgError) -> Self {
        let status = match &err {
            PkgError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PkgError::Forbidden(_) => StatusCode::FORBIDDEN,
            PkgError::NotFound(_) => StatusCode::NOT_FOUND,
            PkgError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            PkgError::Conflict(_) => StatusCode::CONFLICT,
            PkgError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            PkgError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PkgError::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            PkgError::Db(_) | PkgError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match err {
            PkgError::Db(db) => db.into(),
            PkgError::Storage(e) => EtsiError::Internal(format!("package storage: {e}")),
            shown => EtsiError::Shown(status, shown.to_string()),
        }
    }
}

impl From<LcmError> for EtsiError {
    fn from(err: LcmError) -> Self {
        let status = match &err {
            LcmError::BadRequest(_) => StatusCode::BAD_REQUEST,
            LcmError::Forbidden(_) => StatusCode::FORBIDDEN,
            LcmError::NotFound(_) => StatusCode::NOT_FOUND,
            LcmError::Conflict(_) => StatusCode::CONFLICT,
            LcmError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            LcmError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            LcmError::Db(_) | LcmError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            LcmError::Interrupted(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        match err {
            LcmError::Db(db) => db.into(),
            LcmError::Internal(cause) => EtsiError::Internal(cause),
            LcmError::Interrupted(cause) => EtsiError::Unavailable(cause.to_string()),
            shown => EtsiError::Shown(status, shown.to_string()),
        }
    }
}

impl IntoResponse for EtsiError {
    fn into_response(self) -> Response {
        let flavor = ApiFlavor::ProblemDetails;
        match self {
            EtsiError::Shown(status, detail) => fault(flavor, status, "", &detail),
            EtsiError::Unavailable(cause) => database_unavailable(flavor, &cause),
            EtsiError::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                internal_error(flavor)
            }
        }
    }
}
