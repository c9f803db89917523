//! Tacker's VNF fault management API, `/vnffm/v1`
//! (tacker.sol_refactored.api.router:VnffmAPIRouterV1): alarms and FM subscriptions, with
//! the `Version: 1.3.0` header rules of Tacker's sol_refactored APIs.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};

use crate::apps::etsi::{self, paged, parse_query, with_location, Resource};
use crate::apps::{base_url, version_header};
use crate::error::EtsiError;
use crate::extract::{Ctx, EtsiJson};
use crate::AppState;

/// The API version /vnffm/v1 serves.
const VERSION: &str = "1.3.0";

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_request_body_size;
    Router::new()
        .route("/vnffm/v1/alarms", get(list_alarms))
        .route("/vnffm/v1/alarms/{id}", get(show_alarm).patch(modify_alarm))
        .route(
            "/vnffm/v1/subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route(
            "/vnffm/v1/subscriptions/{id}",
            get(show_subscription).delete(delete_subscription),
        )
        .method_not_allowed_fallback(|| async {
            EtsiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "The method is not allowed for the requested URL.",
            )
        })
        .fallback(|| async { EtsiError::new(StatusCode::NOT_FOUND, "The resource could not be found.") })
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.config.clone(),
            etsi::absolute_links,
        ))
        .with_state(state)
        .layer(middleware::from_fn(|request, next| {
            version_header::check(VERSION, request, next)
        }))
}

async fn list_alarms(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, EtsiError> {
    let query = parse_query(&uri)?;
    let page = state.fm.list_alarms(&ctx, &query).await?;
    Ok(paged(page.items, page.next_marker, &state.config, &headers, &uri))
}

async fn show_alarm(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Resource, EtsiError> {
    Ok(Resource(state.fm.show_alarm(&ctx, &id).await?))
}

async fn modify_alarm(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    Ok(Json(state.fm.acknowledge(&ctx, &id, body).await?).into_response())
}

async fn create_subscription(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let view = state
        .fm
        .create_subscription(&ctx, body, state.subscription_auth.clone())
        .await?;
    let id = view["id"].as_str().unwrap_or_default().to_owned();
    let location = format!(
        "{}{}",
        base_url(&state.config, &headers, &uri),
        tacker_vnffm::views::subscription_href(&id)
    );
    Ok(with_location(
        (StatusCode::CREATED, Resource(view)).into_response(),
        &location,
    ))
}

async fn list_subscriptions(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, EtsiError> {
    let query = parse_query(&uri)?;
    let page = state.fm.list_subscriptions(&ctx, &query).await?;
    Ok(paged(page.items, page.next_marker, &state.config, &headers, &uri))
}

async fn show_subscription(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Resource, EtsiError> {
    Ok(Resource(state.fm.show_subscription(&ctx, &id).await?))
}

async fn delete_subscription(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, EtsiError> {
    state.fm.delete_subscription(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
