//! `GET /`: the API versions, as Tacker's Versions app lists them.

use std::sync::Arc;

use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tacker_common::Config;

use super::base_url;
use crate::error::ApiError;

pub fn router(config: Arc<Config>) -> Router {
    Router::new()
        .route(
            "/",
            get(move |headers: HeaderMap, uri: Uri| {
                let config = config.clone();
                async move { versions(&config, &headers, &uri) }
            }),
        )
        .fallback(|| async { ApiError::not_found() })
}

fn versions(config: &Config, headers: &HeaderMap, uri: &Uri) -> Json<Value> {
    Json(json!({"versions": [{
        "id": "v1.0",
        "status": "CURRENT",
        "links": [{"rel": "self", "href": format!("{}/v1.0", base_url(config, headers, uri))}],
    }]}))
}
