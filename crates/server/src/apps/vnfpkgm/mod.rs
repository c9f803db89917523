//! Tacker's `/vnfpkgm/v1` API (tacker.api.vnfpkgm.v1.router:VnfpkgmAPIRouter): VNF
//! packages as ETSI SOL005 defines them, with ProblemDetails errors.

mod artifacts;
mod content;
mod files;
mod packages;
mod vnfd;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::apps::etsi;
use crate::error::EtsiError;
use crate::AppState;

/// The SOL005 version of this API (ETSI GS NFV-SOL 005 v2.6.1).
const API_VERSION: &str = "2.1.0";

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_request_body_size;
    let method_not_allowed = || async {
        EtsiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not allowed for the requested URL.",
        )
    };
    // Package views only: contents, VNFDs and artifacts are passed through untouched.
    let absolute_links = from_fn_with_state(state.config.clone(), etsi::absolute_links);
    Router::new()
        .route("/vnfpkgm/v1/api_versions", get(api_versions))
        .route(
            "/vnfpkgm/v1/vnf_packages",
            get(packages::list)
                .post(packages::create)
                .layer(absolute_links.clone()),
        )
        .route(
            "/vnfpkgm/v1/vnf_packages/{id}",
            get(packages::show)
                .patch(packages::patch)
                .delete(packages::delete)
                .layer(absolute_links),
        )
        .route(
            "/vnfpkgm/v1/vnf_packages/{id}/package_content",
            // The upload streams to disk, bounded by csar_file_size_cap, not by the JSON limit.
            get(content::download)
                .put(content::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/vnfpkgm/v1/vnf_packages/{id}/package_content/upload_from_uri",
            post(content::upload_from_uri),
        )
        .route("/vnfpkgm/v1/vnf_packages/{id}/vnfd", get(vnfd::download))
        .route(
            "/vnfpkgm/v1/vnf_packages/{id}/artifacts/{*artifact_path}",
            get(artifacts::download),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(|| async { EtsiError::new(StatusCode::NOT_FOUND, "The resource could not be found.") })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The path parameters, like [`Path`], but a path axum cannot decode (percent-encoding that
/// is not UTF-8, as in `/vnf_packages/%FF`) is a ProblemDetails like every other error of
/// this API, not axum's plain-text rejection.
struct PkgPath<T>(T);

impl<T, S> FromRequestParts<S> for PkgPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = EtsiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PkgPath(value)),
            Err(rejection) => Err(EtsiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// `GET /vnfpkgm/v1/api_versions` (SOL013 version discovery).
async fn api_versions() -> Json<Value> {
    Json(json!({
        "uriPrefix": "/vnfpkgm/v1",
        "apiVersions": [{"version": API_VERSION, "isDeprecated": false}],
    }))
}
