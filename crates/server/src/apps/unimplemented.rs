//! Tacker APIs that tacker-rs does not serve yet answer every call with 501, so a client
//! learns that at once instead of meeting a 404 that suggests a wrong URL.

use axum::http::StatusCode;
use axum::Router;
use tacker_auth::{fault, ApiFlavor};

pub fn router(name: &'static str) -> Router {
    Router::new().fallback(move || async move {
        fault(
            ApiFlavor::ProblemDetails,
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            &format!("The {name} API is not implemented by this tacker-rs release."),
        )
    })
}
