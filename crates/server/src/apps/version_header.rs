//! The header rules of Tacker's sol_refactored APIs (/vnflcm/v2 with 2.0.0, /vnffm/v1
//! with 1.3.0): every request but api_versions names the supported `Version`, every
//! response says it with `Accept-Ranges: none`, and the client must accept JSON.

use crate::error::EtsiError;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses a request without `version`; stamps the response.
pub async fn check(version: &'static str, request: Request, next: Next) -> Response {
    let response = match refusal(&request, version) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    };
    with_headers(response, version)
}

/// Only the response headers (the version list needs no `Version`).
pub async fn stamp(version: &'static str, request: Request, next: Next) -> Response {
    with_headers(next.run(request).await, version)
}

fn with_headers(mut response: Response, version: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert("Version", HeaderValue::from_static(version));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
    response
}

fn refusal(request: &Request, supported: &str) -> Option<EtsiError> {
    if request.uri().path().ends_with("/api_versions") {
        return None;
    }
    let headers = request.headers();
    let Some(version) = headers.get("Version") else {
        return Some(EtsiError::new(
            StatusCode::BAD_REQUEST,
            "'Version' HTTP header missing.",
        ));
    };
    let version = version.to_str().unwrap_or_default().trim();
    let number = version.split("-impl:").next().unwrap_or_default();
    let well_formed = number.split('.').count() == 3
        && number
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !well_formed {
        return Some(EtsiError::new(
            StatusCode::BAD_REQUEST,
            format!("'Version' HTTP header value '{version}' is invalid."),
        ));
    }
    if number != supported {
        return Some(EtsiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!("Version {version} not supported."),
        ));
    }
    if let Some(accept) = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()) {
        let json_ok = accept.split(',').any(|item| {
            let media = item
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            matches!(
                media.as_str(),
                "application/json" | "application/*" | "*/*" | "application/problem+json"
            )
        });
        if !json_ok {
            return Some(EtsiError::new(
                StatusCode::NOT_ACCEPTABLE,
                format!("Accept header {accept} is not supported; use application/json."),
            ));
        }
    }
    None
}
