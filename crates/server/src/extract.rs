//! Extractors that answer bad input in Tacker's error format.

use std::sync::Arc;

use axum::body::Bytes;
use axum::body::HttpBody as _;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::RequestExt;
use serde_json::Value;
use tacker_auth::context::{from_headers_or_admin, Verified};
use tacker_common::RequestContext;

use crate::error::{ApiError, EtsiError};

/// The caller's context: set by the `keystonecontext` filter; in a pipeline without one,
/// what a token filter verified, or (noauth pipelines) built from the identity headers,
/// defaulting to Tacker's admin context. Shared, not copied: a token's context is built
/// once for every request that carries it.
pub struct Ctx(pub Arc<RequestContext>);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ctx) = parts.extensions.get::<Arc<RequestContext>>() {
            return Ok(Ctx(ctx.clone()));
        }
        Ok(Ctx(match parts.extensions.get::<Verified>() {
            Some(verified) => verified.clone().context(),
            None => Arc::new(from_headers_or_admin(&parts.headers)),
        }))
    }
}

/// A JSON request body; `None` when the body is empty. Enforces the body size limit (413),
/// a JSON content type (415) and well-formed JSON (400), in Tacker's error format.
pub struct JsonBody(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(request, state, &["application/json"])
            .await
            .map(JsonBody)
            .map_err(|r| ApiError::Shown(r.status, r.kind, r.message))
    }
}

/// [`JsonBody`] for the ETSI APIs: errors as ProblemDetails, and JSON merge patch
/// (`application/merge-patch+json`, what clients send with PATCH) accepted too.
pub struct EtsiJson(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for EtsiJson {
    type Rejection = EtsiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(
            request,
            state,
            &["application/json", "application/merge-patch+json"],
        )
        .await
        .map(EtsiJson)
        .map_err(|r| EtsiError::Shown(r.status, r.message))
    }
}

/// Why a JSON body was refused, before it is rendered in the API's error format.
struct BodyRejection {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

/// Whether the request's `Content-Length` is over the body limit in force for its route
/// (`DefaultBodyLimit`). `request` has its body limited already, and a limited body
/// hints at most the limit as its size.
fn declared_over_limit(request: &Request) -> bool {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match (declared, request.body().size_hint().upper()) {
        (Some(declared), Some(allowed)) => declared > allowed,
        _ => false,
    }
}

async fn read_json<S: Send + Sync>(
    request: Request,
    state: &S,
    content_types: &[&str],
) -> Result<Option<Value>, BodyRejection> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let too_large = || BodyRejection {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        kind: "HTTPRequestEntityTooLarge",
        message: "Request is too large.".into(),
    };
    // A declared length over the limit is refused before any of the body is read: the
    // client may be waiting for `100 Continue`, or may never send that much.
    let request = request.with_limited_body();
    if declared_over_limit(&request) {
        return Err(too_large());
    }
    let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            BodyRejection {
                status: StatusCode::BAD_REQUEST,
                kind: "HTTPBadRequest",
                message: format!("Cannot read the request body: {rejection}"),
            }
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if let Some(content_type) = content_type {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !content_types.iter().any(|t| essence.eq_ignore_ascii_case(t)) {
            return Err(BodyRejection {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                kind: "InvalidContentType",
                message: format!("Invalid content type {content_type}"),
            });
        }
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| BodyRejection {
            status: StatusCode::BAD_REQUEST,
            kind: "MalformedRequestBody",
            message: format!("Malformed request body: {e}"),
        })
}
