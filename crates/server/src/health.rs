//! `GET /healthcheck` (oslo.middleware's path): for load balancers and service managers,
//! outside every pipeline, so it needs no token. It says whether the database answers,
//! and nothing else.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::AppState;

/// How long the database may take to answer before the service counts as down.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthcheck(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let reachable = matches!(
        tokio::time::timeout(PING_TIMEOUT, state.db.ping()).await,
        Ok(Ok(()))
    );
    let status = if reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    if wants_json {
        let body = json!({"status": if reachable { "OK" } else { "DOWN" },
                          "database": if reachable { "reachable" } else { "unreachable" }});
        return (status, Json(body)).into_response();
    }
    (
        status,
        if reachable {
            "OK"
        } else {
            "DOWN: database unreachable"
        },
    )
        .into_response()
}
