//! The package resource: create, list, show, modify, delete.

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::PkgPath;
use crate::apps::base_url;
use crate::apps::etag::{check_if_match, etag_of};
use crate::apps::etsi::{parse_query, with_location, Resource};
use crate::apps::rendered_lists::PageKey;
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
        (StatusCode::CREATED, Resource(info)).into_response(),
        &location,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, EtsiError> {
    let query = parse_query(&uri)?;
    let scope = state.packages.list_scope(&ctx)?;
    let revision = state.packages.lists_revision().await?;
    let key = PageKey::new(&uri, scope, base_url(&state.config, &headers, &uri));
    let render = async {
        let page = state.packages.list(&ctx, &query).await?;
        Ok::<_, EtsiError>((page.items, page.next_marker))
    };
    state.rendered_lists.answer(key, revision, &uri, render).await
}

pub async fn show(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
) -> Result<Response, EtsiError> {
    Ok(Resource::tagged(state.packages.show(&ctx, &id).await?))
}

/// Answers with the modifications (SOL005) and the package's new `ETag`.
pub async fn patch(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
    headers: HeaderMap,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    if headers.contains_key(header::IF_MATCH) {
        check_if_match(&headers, &state.packages.show(&ctx, &id).await?)?;
    }
    let modifications = state.packages.patch(&ctx, &id, body).await?;
    let mut response = Json(modifications).into_response();
    if let Ok(now) = state.packages.show(&ctx, &id).await {
        if let Ok(tag) = HeaderValue::from_str(&etag_of(&now)) {
            response.headers_mut().insert(header::ETAG, tag);
        }
    }
    Ok(response)
}

pub async fn delete(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
) -> Result<StatusCode, EtsiError> {
    state.packages.delete(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
