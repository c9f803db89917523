//! Response pieces the ETSI APIs (vnfpkgm, vnflcm) share: SOL013 list queries and pages
//! with their `Link`, `Location` headers, and absolute links.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tacker_common::Config;
use tacker_sol013::ListQuery;

use super::base_url;
use super::etag::etag_of;
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
    RenderedPage::new(items, next_marker, &base_url(config, headers, uri), uri).response()
}

/// A list page written out: the body with absolute links, and the `Link` to the next
/// page. Cheap to clone, so that a copy can be kept and answered again.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    body: Bytes,
    link: Option<HeaderValue>,
}

impl RenderedPage {
    /// `items` with their links made absolute against `base`, for a request of `uri`.
    pub fn new(mut items: Vec<Value>, next_marker: Option<String>, base: &str, uri: &Uri) -> Self {
        items.iter_mut().for_each(|item| complete_links(item, base));
        let link = next_marker.and_then(|marker| {
            let url = url::Url::parse(&format!("{base}{uri}")).ok()?;
            HeaderValue::from_str(&tacker_sol013::next_page_link(&url, &marker)).ok()
        });
        RenderedPage {
            body: Bytes::from(to_json(&items)),
            link,
        }
    }

    /// The size of the body, what a copy of the page costs to keep.
    pub fn size(&self) -> usize {
        self.body.len()
    }

    pub fn response(&self) -> Response {
        let mut response = (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            Body::from(self.body.clone()),
        )
            .into_response();
        if let Some(link) = &self.link {
            response.headers_mut().insert(header::LINK, link.clone());
        }
        response
    }
}

/// Into bytes through serde_json's io path, not `Display`'s formatter (a tenth of a list's
/// cost); a `Value` always serialises.
fn to_json<T: serde::Serialize>(view: &T) -> Vec<u8> {
    serde_json::to_vec(view).unwrap_or_default()
}

/// A JSON representation of one resource, serialised by [`absolute_links`] once it has
/// made its `_links` absolute: the view travels to it as a value, so the body is written
/// once and never parsed back. (Lists are written by [`RenderedPage`].)
pub struct Resource(pub Value);

/// The view of a [`Resource`] on its way to [`absolute_links`], with its `ETag` when the
/// handler tagged it (computed over the view as the service rendered it).
#[derive(Clone)]
struct PendingView {
    view: Value,
    etag: Option<String>,
}

impl Resource {
    /// With an `ETag` of the view as rendered, the form `If-Match` is checked against.
    pub fn tagged(view: Value) -> Response {
        let etag = Some(etag_of(&view));
        pending(PendingView { view, etag })
    }
}

impl IntoResponse for Resource {
    fn into_response(self) -> Response {
        pending(PendingView {
            view: self.0,
            etag: None,
        })
    }
}

fn pending(view: PendingView) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "application/json")], Body::empty()).into_response();
    response.extensions_mut().insert(view);
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
    let Some(PendingView { mut view, etag }) = response.extensions_mut().remove::<PendingView>() else {
        return response;
    };
    complete_links(&mut view, &base);
    if let Some(value) = etag.and_then(|tag| HeaderValue::from_str(&tag).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
    *response.body_mut() = Body::from(to_json(&view));
    response
}

/// Prefixes the relative `href`s of a resource's `_links` with `base` (a link or a list
/// of links, as PmJob's `objects`).
fn complete_links(resource: &mut Value, base: &str) {
    let Some(links) = resource.get_mut("_links").and_then(Value::as_object_mut) else {
        return;
    };
    let complete = |link: &mut Value| {
        if let Some(Value::String(href)) = link.get_mut("href") {
            if href.starts_with('/') {
                href.insert_str(0, base);
            }
        }
    };
    for link in links.values_mut() {
        match link {
            Value::Array(list) => list.iter_mut().for_each(complete),
            single => complete(single),
        }
    }
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
                "objects": [{"href": "/vnflcm/v2/vnf_instances/a"}],
            },
        });
        complete_links(&mut view, "https://nfvo:9890");
        assert_eq!(
            view["_links"]["self"]["href"],
            "https://nfvo:9890/vnflcm/v1/vnf_instances/i"
        );
        assert_eq!(view["_links"]["other"]["href"], "https://elsewhere/x");
        assert_eq!(
            view["_links"]["objects"][0]["href"],
            "https://nfvo:9890/vnflcm/v2/vnf_instances/a"
        );
        assert_eq!(view["metadata"]["_links"]["self"]["href"], "/kept");
        // Completed links stay as they are.
        complete_links(&mut view, "https://other");
        assert_eq!(
            view["_links"]["self"]["href"],
            "https://nfvo:9890/vnflcm/v1/vnf_instances/i"
        );
    }
}
