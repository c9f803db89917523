//! `GET artifacts/{artifactPath}`: one declared artifact of an onboarded package.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;

use super::files::serve_stored;
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
    let file = state.packages.artifact_file(&ctx, &id, &artifact_path).await?;
    let mime = mime_guess::from_path(&artifact_path).first_or_octet_stream();
    serve_stored(
        state.packages.store(),
        &file,
        mime.essence_str(),
        headers.get(header::RANGE),
    )
    .await
}
