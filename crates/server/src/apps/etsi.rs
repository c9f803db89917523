//! Response pieces the ETSI APIs (vnfpkgm, vnflcm) share: SOL013 list queries and pages
//! with their `Link`, `Location` headers, and absolute links.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use tacker_common::Config;
use tacker_sol013::ListQuery;

use super::base_url;
use crate::error::EtsiError;

/// The SOL013 parameters of a list request; a bad one is a 400.
pub fn parse_query(uri: &Uri) -> Result<ListQuery, EtsiError> {
    ListQuery::from_query_string(uri.query())
        .map_err(|e| EtsiError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

/// A list page, with a `Link` to the next page when there is one.
pub fn paged(
    items: Vec<Value>,
    next_marker: Option<String>,
    config: &Config,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let mut response = Json(items).into_response();
    if let Some(marker) = next_marker {
        let base = base_url(config, headers, uri);
        let link =
            url::Url::parse(&format!("{base}{uri}")).map(|url| tacker_sol013::next_page_link(&url, &marker));
        if let Some(value) = link.ok().and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

pub fn with_location(mut response: Response, location: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Middleware of the ETSI APIs: the `_links` of the resources a response carries, and a
/// relative `Location`, made absolute (views render them as paths) against
/// [`base_url`], as Tacker writes them.
pub async fn absolute_links(State(config): State<Arc<Config>>, request: Request, next: Next) -> Response {
    let base = base_url(&config, request.headers(), request.uri());
    let mut response = next.run(request).await;
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with('/'))
        .and_then(|v| HeaderValue::from_str(&format!("{base}{v}")).ok());
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim() == "application/json");
    if !json || !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a response body to complete its links");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let mut view: Value = match serde_json::from_slice(&bytes) {
        Ok(view) => view,
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    let changed = match &mut view {
        Value::Array(items) => {
            items
                .iter_mut()
                .map(|item| complete_links(item, &base))
                .filter(|changed| *changed)
                .count()
                > 0
        }
        item => complete_links(item, &base),
    };
    if !changed {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(view.to_string()))
}

/// Prefixes the relative `href`s of a resource's `_links` with `base`; whether any was.
fn complete_links(resource: &mut Value, base: &str) -> bool {
    let Some(links) = resource.get_mut("_links").and_then(Value::as_object_mut) else {
        return false;
    };
    let mut changed = false;
    for link in links.values_mut() {
        if let Some(Value::String(href)) = link.get_mut("href") {
            if href.starts_with('/') {
                *href = format!("{base}{href}");
                changed = true;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_relative_hrefs_of_the_resource_links_are_completed() {
        let mut view = json!({
            "id": "i",
            "metadata": {"_links": {"self": {"href": "/kept"}}},
            "_links": {
                "self": {"href": "/vnflcm/v1/vnf_instances/i"},
                "other": {"href": "https://elsewhere/x"},
            },
        });
        assert!(complete_links(&mut view, "https://nfvo:9890"));
        assert_eq!(
            view["_links"]["self"]["href"],
            "https://nfvo:9890/vnflcm/v1/vnf_instances/i"
        );
        assert_eq!(view["_links"]["other"]["href"], "https://elsewhere/x");
        assert_eq!(view["metadata"]["_links"]["self"]["href"], "/kept");
        assert!(!complete_links(&mut view, "https://nfvo:9890"));
    }
}
