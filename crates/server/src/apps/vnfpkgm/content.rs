//! The package's content: upload (as a zip body, a multipart form, or from a URI) and
//! download.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use futures::TryStreamExt;
use tacker_vnfpkgm::UriSource;

use super::files::serve_stored;
use super::PkgPath;
use crate::error::EtsiError;
use crate::extract::{Ctx, EtsiJson};
use crate::AppState;

const ZIP: &str = "application/zip";

/// `PUT package_content`: 202 once the zip is stored; onboarding continues in the background.
pub async fn upload(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
    request: Request,
) -> Result<StatusCode, EtsiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        // python-tackerclient sends the zip as the body.
        ZIP | "application/octet-stream" => {
            let body = request.into_body().into_data_stream();
            state.packages.upload_content(&ctx, &id, body).await?;
        }
        // SOL005's form: a multipart/form-data part named `file`.
        "multipart/form-data" => {
            let mut form = Multipart::from_request(request, &state)
                .await
                .map_err(|e| EtsiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
            let field = loop {
                match form.next_field().await {
                    Ok(Some(field)) if field.name() == Some("file") => break field,
                    Ok(Some(_)) => continue,
                    Ok(None) => {
                        return Err(EtsiError::new(StatusCode::BAD_REQUEST, "The form has no 'file' part."))
                    }
                    Err(e) => return Err(EtsiError::new(StatusCode::BAD_REQUEST, e.body_text())),
                }
            };
            state.packages.upload_content(&ctx, &id, field.map_err(|e| e.body_text())).await?;
        }
        _ => {
            return Err(EtsiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Unsupported Content-Type '{content_type}': send the package as application/zip, or as multipart/form-data with a 'file' part."
                ),
            ))
        }
    }
    Ok(StatusCode::ACCEPTED)
}

/// `POST package_content/upload_from_uri`: 202; the download runs in the background.
pub async fn upload_from_uri(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
    EtsiJson(body): EtsiJson,
) -> Result<StatusCode, EtsiError> {
    let source = UriSource::from_body(body)?;
    state.packages.upload_from_uri(&ctx, &id, source).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET package_content`: the zip as uploaded (Range supported).
pub async fn download(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
    headers: HeaderMap,
) -> Result<Response, EtsiError> {
    let file = state.packages.content_file(&ctx, &id).await?;
    serve_stored(state.packages.store(), &file, ZIP, headers.get(header::RANGE)).await
}
