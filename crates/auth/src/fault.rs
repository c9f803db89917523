//! Error bodies: Tacker's `TackerError` for /v1.0 and ETSI ProblemDetails for the SOL APIs.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Which error body an API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFlavor {
    /// `{"TackerError": {"type", "message", "detail"}}`, application/json.
    Tacker,
    /// `{"status", "title", "detail"}`, application/problem+json (SOL013).
    ProblemDetails,
}

/// An error response in the API's own format. `kind` is Tacker's exception class name
/// (shown as `type`) or, for ProblemDetails, ignored in favour of the status' title.
pub fn fault(flavor: ApiFlavor, status: StatusCode, kind: &str, message: &str) -> Response {
    match flavor {
        ApiFlavor::Tacker => {
            let body = json!({"TackerError": {"type": kind, "message": message, "detail": ""}});
            (status, axum::Json(body)).into_response()
        }
        ApiFlavor::ProblemDetails => {
            let title = status.canonical_reason().unwrap_or("Error");
            let body = json!({"status": status.as_u16(), "title": title, "detail": message});
            let mut response = (status, axum::Json(body)).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            response
        }
    }
}

/// The body for a failure whose cause must not be shown (it is logged instead).
pub fn internal_error(flavor: ApiFlavor) -> Response {
    fault(
        flavor,
        StatusCode::INTERNAL_SERVER_ERROR,
        "HTTPInternalServerError",
        "Request Failed: internal server error while processing your request.",
    )
}
