//! The package resource: create, list, show, modify, delete.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::PkgPath;
use crate::apps::etsi::{paged, parse_query, with_location};
use crate::error::EtsiError;
use crate::extract::{Ctx, EtsiJson};
use crate::AppState;

pub async fn create(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let info = state.packages.create(&ctx, body).await?;
    let location = info["_links"]["self"]["href"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(with_location(
        (StatusCode::CREATED, Json(info)).into_response(),
        &location,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, EtsiError> {
    let page = state.packages.list(&ctx, &parse_query(&uri)?).await?;
    Ok(paged(
        page.items,
        page.next_marker,
        &headers,
        &uri,
        state.config.ssl.is_some(),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
) -> Result<Json<serde_json::Value>, EtsiError> {
    Ok(Json(state.packages.show(&ctx, &id).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
    EtsiJson(body): EtsiJson,
) -> Result<Json<serde_json::Value>, EtsiError> {
    Ok(Json(state.packages.patch(&ctx, &id, body).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
) -> Result<StatusCode, EtsiError> {
    state.packages.delete(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
