//! LCM subscriptions.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tacker_lcm::{ApiVersion, Listed};

use super::super::base_url;
use crate::apps::etsi::{with_location, Resource};
use crate::error::EtsiError;
use crate::extract::{Ctx, EtsiJson};
use crate::AppState;

pub async fn create(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let view = state
        .lcm
        .create_subscription(&ctx, api, body, state.subscription_auth.clone())
        .await?;
    let id = view["id"].as_str().unwrap_or_default().to_owned();
    let location = format!(
        "{}{}/subscriptions/{id}",
        base_url(&state.config, &headers, &uri),
        api.prefix()
    );
    Ok(with_location(
        (StatusCode::CREATED, Resource(view)).into_response(),
        &location,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, EtsiError> {
    super::list_of(&state, &ctx, api, Listed::Subscriptions, &headers, &uri).await
}

pub async fn show(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Resource, EtsiError> {
    Ok(Resource(state.lcm.show_subscription(&ctx, api, &id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, EtsiError> {
    state.lcm.delete_subscription(&ctx, api, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
