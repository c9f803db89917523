//! `GET artifacts/{artifactPath}`: one declared artifact of an onboarded package.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;

use super::files::serve_file;
use super::PkgPath;
use crate::error::EtsiError;
use crate::extract::Ctx;
use crate::AppState;

pub async fn download(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath((id, artifact_path)): PkgPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, EtsiError> {
    let path = state.packages.artifact_file(&ctx, &id, &artifact_path).await?;
    let mime = mime_guess::from_path(&artifact_path).first_or_octet_stream();
    serve_file(&path, mime.essence_str(), headers.get(header::RANGE)).await
}
