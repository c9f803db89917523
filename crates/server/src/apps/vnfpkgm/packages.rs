//! The package resource: create, list, show, modify, delete.

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tacker_sol013::{next_page_link, ListQuery};

use super::PkgPath;
use crate::apps::base_url;
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
    let mut response = (StatusCode::CREATED, Json(info)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn list(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, EtsiError> {
    let query = ListQuery::from_query_string(uri.query())
        .map_err(|e| EtsiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let page = state.packages.list(&ctx, &query).await?;
    let mut response = Json(page.items).into_response();
    if let Some(marker) = page.next_marker {
        let base = base_url(&headers, &uri, state.config.ssl.is_some());
        let link = url::Url::parse(&format!("{base}{uri}")).map(|url| next_page_link(&url, &marker));
        if let Some(value) = link.ok().and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
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
