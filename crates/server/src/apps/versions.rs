//! `GET /`: the API versions, as Tacker's Versions app lists them.

use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::base_url;
use crate::error::ApiError;

pub fn router(https: bool) -> Router {
    Router::new()
        .route(
            "/",
            get(move |headers: HeaderMap, uri: Uri| versions(headers, uri, https)),
        )
        .fallback(|| async { ApiError::not_found() })
}

async fn versions(headers: HeaderMap, uri: Uri, https: bool) -> Json<Value> {
    Json(json!({"versions": [{
        "id": "v1.0",
        "status": "CURRENT",
        "links": [{"rel": "self", "href": format!("{}/v1.0", base_url(&headers, &uri, https))}],
    }]}))
}
