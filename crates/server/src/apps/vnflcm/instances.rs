//! VNF instances and the operations on them.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tacker_lcm::{ApiVersion, Listed, Operation};

use crate::apps::base_url;
use crate::apps::etag::check_if_match;
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
    let view = state.lcm.create(&ctx, api, body).await?;
    let id = view["id"].as_str().unwrap_or_default().to_owned();
    let location = format!(
        "{}{}/vnf_instances/{id}",
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
    super::list_of(&state, &ctx, api, Listed::Instances, &headers, &uri).await
}

pub async fn show(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Response, EtsiError> {
    Ok(Resource::tagged(state.lcm.show(&ctx, api, &id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, EtsiError> {
    state.lcm.delete(&ctx, api, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /vnf_instances/{id}`: MODIFY_INFO, 202 with the occurrence's Location; 412
/// when `If-Match` names another version of the instance than the current one.
pub async fn modify(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    if headers.contains_key(axum::http::header::IF_MATCH) {
        check_if_match(&headers, &state.lcm.show(&ctx, api, &id).await?)?;
    }
    let op_id = state
        .lcm
        .start(&ctx, api, &id, Operation::ModifyInfo, body)
        .await?;
    Ok(accepted(&state, api, &headers, &uri, &op_id))
}

/// `POST /vnf_instances/{id}/<operation>`: 202 with the occurrence's Location.
pub async fn operate(
    State(state): State<AppState>,
    Extension(api): Extension<ApiVersion>,
    Ctx(ctx): Ctx,
    Path((id, operation)): Path<(String, String)>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    EtsiJson(body): EtsiJson,
) -> Result<Response, EtsiError> {
    let operation = match (operation.as_str(), api) {
        ("instantiate", _) => Operation::Instantiate,
        ("terminate", _) => Operation::Terminate,
        ("scale", _) => Operation::Scale,
        ("scale_to_level", _) => Operation::ScaleToLevel,
        ("heal", _) => Operation::Heal,
        ("change_flavour", _) => Operation::ChangeFlavour,
        ("operate", _) => Operation::Operate,
        ("change_ext_conn", _) => Operation::ChangeExtConn,
        ("change_vnfpkg", ApiVersion::V2) => Operation::ChangeVnfpkg,
        _ => {
            return Err(EtsiError::new(
                StatusCode::NOT_FOUND,
                "The resource could not be found.",
            ))
        }
    };
    let op_id = state.lcm.start(&ctx, api, &id, operation, body).await?;
    Ok(accepted(&state, api, &headers, &uri, &op_id))
}

fn accepted(
    state: &AppState,
    api: ApiVersion,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    op_id: &str,
) -> Response {
    let location = format!(
        "{}{}/vnf_lcm_op_occs/{op_id}",
        base_url(&state.config, headers, uri),
        api.prefix()
    );
    with_location(StatusCode::ACCEPTED.into_response(), &location)
}
