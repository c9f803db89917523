//! Tacker's VNF LCM APIs: `/vnflcm/v1` (tacker.api.vnflcm.v1.router:VnflcmAPIRouter),
//! `/vnflcm/v2` (tacker.sol_refactored.api.router:VnflcmAPIRouterV2) and the version list
//! `/vnflcm/api_versions`. The same handlers serve both versions; they differ in the
//! views, the messages, and v2's `Version` header rules.

mod instances;
mod occurrences;
mod subscriptions;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{middleware, Extension, Json, Router};
use serde_json::{json, Value};
use tacker_common::RequestContext;
use tacker_lcm::{ApiVersion, Listed};

use crate::apps::rendered_lists::PageKey;
use crate::apps::{base_url, etsi, version_header};
use crate::error::EtsiError;
use crate::AppState;

pub fn router(state: AppState, api: ApiVersion) -> Router {
    let limit = state.config.max_request_body_size;
    let prefix = api.prefix();
    let method_not_allowed = || async {
        EtsiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not allowed for the requested URL.",
        )
    };
    let mut router = Router::new()
        .route(&format!("{prefix}/api_versions"), get(move || api_versions(api)))
        .route(
            &format!("{prefix}/vnf_instances"),
            get(instances::list).post(instances::create),
        )
        .route(
            &format!("{prefix}/vnf_instances/{{id}}"),
            get(instances::show)
                .patch(instances::modify)
                .delete(instances::delete),
        )
        .route(
            &format!("{prefix}/vnf_instances/{{id}}/{{operation}}"),
            post(instances::operate),
        )
        .route(&format!("{prefix}/vnf_lcm_op_occs"), get(occurrences::list))
        .route(
            &format!("{prefix}/vnf_lcm_op_occs/{{id}}"),
            get(occurrences::show),
        )
        .route(
            &format!("{prefix}/vnf_lcm_op_occs/{{id}}/{{action}}"),
            post(occurrences::act),
        )
        .route(
            &format!("{prefix}/subscriptions"),
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            &format!("{prefix}/subscriptions/{{id}}"),
            get(subscriptions::show).delete(subscriptions::delete),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(|| async { EtsiError::new(StatusCode::NOT_FOUND, "The resource could not be found.") })
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.config.clone(),
            etsi::absolute_links,
        ))
        .layer(Extension(api))
        .with_state(state);
    if api == ApiVersion::V2 {
        router = router.layer(middleware::from_fn(|request, next| {
            version_header::check(ApiVersion::V2.number(), request, next)
        }));
    }
    router
}

/// `GET /vnflcm/api_versions`: both versions, answered as v2 answers.
pub fn versions_router() -> Router {
    Router::new()
        .route(
            "/vnflcm/api_versions",
            get(|| async {
                Json(json!({
                    "uriPrefix": "/vnflcm",
                    "apiVersions": [
                        {"version": ApiVersion::V1.number(), "isDeprecated": false},
                        {"version": ApiVersion::V2.number(), "isDeprecated": false},
                    ],
                }))
            }),
        )
        .fallback(|| async { EtsiError::new(StatusCode::NOT_FOUND, "The resource could not be found.") })
        .layer(middleware::from_fn(|request, next| {
            version_header::stamp(ApiVersion::V2.number(), request, next)
        }))
}

async fn api_versions(api: ApiVersion) -> Json<Value> {
    Json(json!({
        "uriPrefix": api.prefix(),
        "apiVersions": [{"version": api.number(), "isDeprecated": false}],
    }))
}

/// An LCM list of `what`: the page kept for this request when nothing a list shows has
/// changed since it was rendered, otherwise the page `render` reads (then kept). Policy is
/// checked first, every time; the query is checked before anything is read.
async fn list_of(
    state: &AppState,
    ctx: &RequestContext,
    api: ApiVersion,
    what: Listed,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Response, EtsiError> {
    let query = etsi::parse_query(uri)?;
    let scope = state.lcm.list_scope(ctx, api, what)?;
    let revision = state.lcm.lists_revision().await?;
    let key = PageKey::new(uri, scope, base_url(&state.config, headers, uri));
    let render = async {
        let page = match what {
            Listed::Instances => state.lcm.list(ctx, api, &query).await?,
            Listed::OpOccs => state.lcm.list_op_occs(ctx, api, &query).await?,
            Listed::Subscriptions => state.lcm.list_subscriptions(ctx, api, &query).await?,
        };
        Ok::<_, EtsiError>((page.items, page.next_marker))
    };
    state.rendered_lists.answer(key, revision, uri, render).await
}
