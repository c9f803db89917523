//! Operation occurrences and their error handling (retry, rollback, fail, cancel).

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tacker_lcm::{ApiVersion, Listed};

use crate::apps::etsi::Resource;
use crate::error::EtsiError;
use crate::extract::{Ctx, EtsiJson};
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, EtsiError> {
    super::list_of(&state, &ctx, api, Listed::OpOccs, &headers, &uri).await
}

pub async fn show(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Resource, EtsiError> {
    Ok(Resource(state.lcm.show_op_occ(&ctx, api, &id).await?))
}

pub async fn act(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path((id, action)): Path<(String, String)>,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    match (action.as_str(), api) {
        ("retry", _) => state.lcm.retry(&ctx, api, &id).await?,
        ("rollback", _) => state.lcm.rollback(&ctx, api, &id).await?,
        ("fail", _) => return Ok(Resource(state.lcm.fail(&ctx, api, &id).await?).into_response()),
        ("cancel", ApiVersion::V1) => state.lcm.cancel(&ctx, api, &id, body).await?,
        _ => {
            return Err(EtsiError::new(
                StatusCode::NOT_FOUND,
                "The resource could not be found.",
            ))
        }
    }
    Ok(StatusCode::ACCEPTED.into_response())
}
