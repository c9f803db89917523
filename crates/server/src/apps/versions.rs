//! `GET /`: the API versions, as Tacker's Versions app lists them.

use axum::http::{header, HeaderMap};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;

pub fn router() -> Router {
    Router::new()
        .route("/", get(versions))
        .fallback(|| async { ApiError::not_found() })
}

async fn versions(headers: HeaderMap) -> Json<Value> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    Json(json!({"versions": [{
        "id": "v1.0",
        "status": "CURRENT",
        "links": [{"rel": "self", "href": format!("http://{host}/v1.0")}],
    }]}))
}
