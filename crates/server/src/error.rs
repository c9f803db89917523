//! The one place where domain errors become HTTP status codes and Tacker error bodies.
//!
//! A failure whose cause the client is not shown (a 500, or a 503 for a busy database)
//! keeps that cause as an error value: `into_response` puts it on the response as a
//! [`Failure`] extension, and one layer of every pipeline, [`log_failures`], logs it once,
//! inside the request's span, with its whole source chain.

use std::error::Error;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tacker_auth::fault::{fault, internal_error, ApiFlavor};
use tacker_db::DbError;
use tacker_lcm::LcmError;
use tacker_vim::VimError;
use tacker_vnfpkgm::PkgError;

/// The cause of a failure the client is not shown.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// What was being done when `source` failed ("reading the VNFD of ..."); the source
/// follows in the logged chain.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct Failed {
    context: String,
    #[source]
    source: BoxError,
}

impl Failed {
    pub fn new(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Failed {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// An error of the /v1.0 API, rendered as `{"TackerError": {...}}`.
#[derive(Debug)]
pub enum ApiError {
    /// A status, Tacker's exception type name, and a message safe to show.
    Shown(StatusCode, &'static str, String),
    /// The database is busy or unreachable: 503 with `Retry-After`; the cause is logged.
    Unavailable(BoxError),
    /// 500; the cause is logged, the client sees a generic message.
    Internal(BoxError),
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
            VimError::Interrupted(_) => ApiError::Unavailable(Box::new(err)),
            VimError::Conflict(_) => ApiError::Shown(StatusCode::CONFLICT, "HTTPConflict", message),
            VimError::NotImplemented(_) => {
                ApiError::Shown(StatusCode::NOT_IMPLEMENTED, "NotImplemented", message)
            }
            VimError::Db(db) => db.into(),
            VimError::Vault(_) | VimError::Render(_) => ApiError::Internal(Box::new(err)),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            ApiError::Unavailable(Box::new(err))
        } else {
            ApiError::Internal(Box::new(err))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let flavor = ApiFlavor::Tacker;
        match self {
            ApiError::Shown(status, kind, message) => fault(flavor, status, kind, &message),
            ApiError::Unavailable(cause) => Failure::unavailable(cause).attach(database_unavailable(flavor)),
            ApiError::Internal(cause) => Failure::internal(cause).attach(internal_error(flavor)),
        }
    }
}

/// A 503 for a database that is busy or unreachable: a moment later the same request
/// may succeed, which `Retry-After` tells clients and load balancers.
fn database_unavailable(flavor: ApiFlavor) -> Response {
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
    /// The database is busy or unreachable (or the server is stopping): 503 with
    /// `Retry-After`; the cause is logged.
    Unavailable(BoxError),
    /// 500; the cause is logged, the client sees a generic message.
    Internal(BoxError),
}

impl EtsiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        EtsiError::Shown(status, detail.into())
    }

    /// A 500 for `source`, which failed while doing `context`.
    pub fn internal(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        EtsiError::Internal(Box::new(Failed::new(context, source)))
    }
}

impl From<DbError> for EtsiError {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            EtsiError::Unavailable(Box::new(err))
        } else {
            EtsiError::Internal(Box::new(err))
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
            PkgError::Db(_) | PkgError::Storage(_) | PkgError::Corrupt { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            PkgError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        match err {
            PkgError::Db(db) => db.into(),
            // The object store failed or is away: worth retrying, as a database outage.
            unavailable @ PkgError::StoreUnavailable(_) => EtsiError::Unavailable(Box::new(unavailable)),
            internal @ (PkgError::Storage(_) | PkgError::Corrupt { .. }) => {
                EtsiError::Internal(Box::new(internal))
            }
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
            LcmError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            LcmError::Db(_)
            | LcmError::Key { .. }
            | LcmError::Vim(_)
            | LcmError::Corrupt { .. }
            | LcmError::Codec(_) => StatusCode::INTERNAL_SERVER_ERROR,
            LcmError::Interrupted(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        match err {
            LcmError::Db(db) => db.into(),
            internal @ (LcmError::Key { .. }
            | LcmError::Vim(_)
            | LcmError::Corrupt { .. }
            | LcmError::Codec(_)) => EtsiError::Internal(Box::new(internal)),
            LcmError::Interrupted(cause) => EtsiError::Unavailable(Box::new(cause)),
            shown => EtsiError::Shown(status, shown.to_string()),
        }
    }
}

impl IntoResponse for EtsiError {
    fn into_response(self) -> Response {
        let flavor = ApiFlavor::ProblemDetails;
        match self {
            EtsiError::Shown(status, detail) => fault(flavor, status, "", &detail),
            EtsiError::Unavailable(cause) => Failure::unavailable(cause).attach(database_unavailable(flavor)),
            EtsiError::Internal(cause) => Failure::internal(cause).attach(internal_error(flavor)),
        }
    }
}

/// Which kind of failure a [`Failure`] is, and so how loudly it is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureKind {
    /// A 500: a bug or a broken dependency; logged at ERROR.
    Internal,
    /// A 503 the client may retry; logged at WARN.
    Unavailable,
}

/// The cause of a failed request that the client is not shown, carried by the response
/// (as an extension) from `into_response` to [`log_failures`].
#[derive(Debug, Clone)]
pub struct Failure {
    kind: FailureKind,
    cause: Arc<dyn Error + Send + Sync>,
}

impl Failure {
    fn internal(cause: BoxError) -> Self {
        Failure {
            kind: FailureKind::Internal,
            cause: Arc::from(cause),
        }
    }

    fn unavailable(cause: BoxError) -> Self {
        Failure {
            kind: FailureKind::Unavailable,
            cause: Arc::from(cause),
        }
    }

    fn attach(self, mut response: Response) -> Response {
        response.extensions_mut().insert(self);
        response
    }

    fn log(&self) {
        let error = source_chain(&*self.cause);
        match self.kind {
            FailureKind::Internal => tracing::error!(%error, "request failed"),
            FailureKind::Unavailable => tracing::warn!(%error, "database busy or unreachable"),
        }
    }
}

/// Middleware that logs the [`Failure`] of a response, once: it takes the extension off
/// the response, so a second layer (api-paste.ini naming `request_id` twice) finds
/// nothing. The pipeline puts it just inside `request_id`, whose span the line carries.
pub async fn log_failures(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(failure) = response.extensions_mut().remove::<Failure>() {
        failure.log();
    }
    response
}

/// `err` and its sources as one line, "outer: inner: innermost". A source whose text its
/// parent already shows (a thiserror message of the form `"...: {0}"` on a `#[source]`)
/// is not repeated.
fn source_chain(err: &(dyn Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut shown = line.clone();
    let mut next = err.source();
    while let Some(source) = next {
        let text = source.to_string();
        if !shown.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        shown = text;
        next = source.source();
    }
    line
}
