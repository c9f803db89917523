//! Tacker's legacy `/v1.0` API (tacker.api.v1.router:APIRouter): the VIM registry.

mod vims;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tacker_common::Config;

use super::base_url;
use crate::error::ApiError;
use crate::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_request_body_size;
    let config = state.config.clone();
    let index = move |headers: HeaderMap, uri: Uri| {
        let config = config.clone();
        async move { index(&config, &headers, &uri) }
    };
    let method_not_allowed = || async {
        ApiError::Shown(
            StatusCode::METHOD_NOT_ALLOWED,
            "HTTPMethodNotAllowed",
            "The method is not allowed for the requested URL.".into(),
        )
    };
    Router::new()
        .route("/v1.0", get(index.clone()))
        .route("/v1.0/", get(index))
        // python-tackerclient always adds `.json`; the id route strips it from the id.
        .route("/v1.0/vims", get(vims::list).post(vims::create))
        .route("/v1.0/vims.json", get(vims::list).post(vims::create))
        .route(
            "/v1.0/vims/{id}",
            get(vims::show).put(vims::update).delete(vims::delete),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// `GET /v1.0`: the resources of this API version.
fn index(config: &Config, headers: &HeaderMap, uri: &Uri) -> Json<Value> {
    Json(json!({"resources": [{
        "name": "vim",
        "collection": "vims",
        "links": [{"rel": "self", "href": format!("{}/v1.0/vims", base_url(config, headers, uri))}],
    }]}))
}
