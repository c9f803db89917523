//! oslo.middleware's RequestId: every request gets `req-<uuid>`, returned in
//! `X-Openstack-Request-Id` and carried by the request's tracing span.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-openstack-request-id";

/// This request's id, available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Middleware function; apply with `axum::middleware::from_fn(request_id::layer)`.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = format!("req-{}", uuid::Uuid::new_v4());
    // A caller's id (another service's request) is kept as the global request id, if well formed.
    let global = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_request_id(v))
        .map(str::to_string);
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        global_request_id = global.as_deref().unwrap_or("-"),
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let mut response = next.run(request).await;
        tracing::info!(status = response.status().as_u16(), "request done");
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(HEADER, value);
        }
        response
    }
    .instrument(span)
    .await
}

/// `req-` followed by a UUID, the only form oslo accepts from callers.
fn is_request_id(value: &str) -> bool {
    value
        .strip_prefix("req-")
        .is_some_and(|rest| uuid::Uuid::parse_str(rest).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_ids_are_accepted_from_callers() {
        assert!(is_request_id("req-6f1c1b4e-8a3e-4b5a-9a39-0a8a3f2c4d11"));
        assert!(!is_request_id("req-nope"));
        assert!(!is_request_id("6f1c1b4e-8a3e-4b5a-9a39-0a8a3f2c4d11"));
    }
}
