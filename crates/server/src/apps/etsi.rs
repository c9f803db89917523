//! Response pieces the ETSI APIs (vnfpkgm, vnflcm) share: SOL013 list queries and pages
//! with their `Link`, and `Location` headers.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
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
    headers: &HeaderMap,
    uri: &Uri,
    https: bool,
) -> Response {
    let mut response = Json(items).into_response();
    if let Some(marker) = next_marker {
        let base = base_url(headers, uri, https);
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
