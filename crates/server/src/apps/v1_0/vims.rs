//! `/v1.0/vims` handlers: parse, call the VIM registry, wrap in `{"vim": ...}`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use tacker_vim::{parse_create, parse_update, unwrap_body, ListQuery, ListedVim, VimList, VimView};

use crate::error::ApiError;
use crate::extract::{Ctx, JsonBody};
use crate::AppState;

/// Query keys that are not attribute filters (Tacker's api_common.get_filters skips them).
const NOT_FILTERS: &[&str] = &[
    "fields",
    "sort_key",
    "sort_dir",
    "limit",
    "marker",
    "page_reverse",
];

/// `{"vim": {...}}`: a view, or one kept for lists with its JSON already written.
#[derive(Serialize)]
pub struct VimBody<V = VimView> {
    vim: V,
}

/// `{"vims": [...]}` of selected attributes (whole views come already written).
#[derive(Serialize)]
pub struct VimsBody {
    vims: Vec<Value>,
}

fn resource_id(raw: String) -> String {
    match raw.strip_suffix(".json") {
        Some(id) => id.to_string(),
        None => raw,
    }
}

pub async fn list(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mut list = ListQuery::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == "fields" {
            list.fields.push(value.into_owned());
        } else if !NOT_FILTERS.contains(&key.as_ref()) {
            list.filters.push((key.into_owned(), value.into_owned()));
        }
    }
    Ok(match state.vims.list(&ctx, &list).await? {
        VimList::Full(body) => (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body,
        )
            .into_response(),
        VimList::Selected(vims) => Json(VimsBody { vims }).into_response(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<VimBody>), ApiError> {
    let request = parse_create(unwrap_body(body)?)?;
    let vim = state.vims.create(&ctx, request).await?;
    Ok((StatusCode::CREATED, Json(VimBody { vim })))
}

pub async fn show(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<VimBody<Arc<ListedVim>>>, ApiError> {
    let vim = state.vims.show(&ctx, &resource_id(id)).await?;
    Ok(Json(VimBody { vim }))
}

pub async fn update(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<VimBody>, ApiError> {
    let request = parse_update(unwrap_body(body)?)?;
    let vim = state.vims.update(&ctx, &resource_id(id), request).await?;
    Ok(Json(VimBody { vim }))
}

pub async fn delete(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.vims.delete(&ctx, &resource_id(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
