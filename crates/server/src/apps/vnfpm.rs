//! Tacker's VNF performance management API, `/vnfpm/v2`
//! (tacker.sol_refactored.api.router:VnfPmAPIRouterV2): PM jobs, their reports, and
//! thresholds, with the `Version: 2.1.0` header rules.

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

/// The API version /vnfpm/v2 serves.
const VERSION: &str = "2.1.0";

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_request_body_size;
    Router::new()
        .route("/vnfpm/v2/pm_jobs", get(list_jobs).post(create_job))
        .route(
            "/vnfpm/v2/pm_jobs/{id}",
            get(show_job).patch(modify_job).delete(delete_job),
        )
        .route("/vnfpm/v2/pm_jobs/{id}/reports/{report_id}", get(show_report))
        .route(
            "/vnfpm/v2/thresholds",
            get(list_thresholds).post(create_threshold),
        )
        .route(
            "/vnfpm/v2/thresholds/{id}",
            get(show_threshold)
                .patch(modify_threshold)
                .delete(delete_threshold),
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

/// 201 with the view and its `Location`.
fn created(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    view: serde_json::Value,
    path: String,
) -> Response {
    let location = format!("{}{path}", base_url(&state.config, headers, uri));
    with_location((StatusCode::CREATED, Resource(view)).into_response(), &location)
}

async fn create_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let view = state
        .pm
        .create_job(&ctx, body, state.subscription_auth.clone())
        .await?;
    let path = tacker_vnfpm::views::job_href(view["id"].as_str().unwrap_or_default());
    Ok(created(&state, &headers, &uri, view, path))
}

async fn list_jobs(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, EtsiError> {
    let query = parse_query(&uri)?;
    let page = state.pm.list_jobs(&ctx, &query).await?;
    Ok(paged(page.items, page.next_marker, &state.config, &headers, &uri))
}

async fn show_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Resource, EtsiError> {
    Ok(Resource(state.pm.show_job(&ctx, &id).await?))
}

async fn modify_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let answer = state
        .pm
        .modify_job(&ctx, &id, body, state.subscription_auth.clone())
        .await?;
    Ok(Json(answer).into_response())
}

async fn delete_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, EtsiError> {
    state.pm.delete_job(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn show_report(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path((id, report_id)): Path<(String, String)>,
) -> Result<Response, EtsiError> {
    Ok(Json(state.pm.show_report(&ctx, &id, &report_id).await?).into_response())
}

async fn create_threshold(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let view = state
        .pm
        .create_threshold(&ctx, body, state.subscription_auth.clone())
        .await?;
    let path = tacker_vnfpm::views::threshold_href(view["id"].as_str().unwrap_or_default());
    Ok(created(&state, &headers, &uri, view, path))
}

async fn list_thresholds(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, EtsiError> {
    let query = parse_query(&uri)?;
    let page = state.pm.list_thresholds(&ctx, &query).await?;
    Ok(paged(page.items, page.next_marker, &state.config, &headers, &uri))
}

async fn show_threshold(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Resource, EtsiError> {
    Ok(Resource(state.pm.show_threshold(&ctx, &id).await?))
}

async fn modify_threshold(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let answer = state
        .pm
        .modify_threshold(&ctx, &id, body, state.subscription_auth.clone())
        .await?;
    Ok(Json(answer).into_response())
}

async fn delete_threshold(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, EtsiError> {
    state.pm.delete_threshold(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
