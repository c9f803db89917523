//! `GET vnfd`: the VNFD as one YAML file (text/plain) or as a zip of its files.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::PkgPath;
use crate::error::EtsiError;
use crate::extract::Ctx;
use crate::AppState;

const ZIP: &str = "application/zip";
const TEXT: &str = "text/plain";

pub async fn download(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PkgPath(id): PkgPath<String>,
    headers: HeaderMap,
) -> Result<Response, EtsiError> {
    let accept = Accepted::from_header(headers.get(header::ACCEPT))?;
    let (root, files) = state.packages.vnfd_files(&ctx, &id).await?;
    let yaml: Vec<&String> = files
        .iter()
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
        .collect();
    if accept.text && yaml.len() == 1 {
        let text = tokio::fs::read_to_string(root.join(yaml[0]))
            .await
            .map_err(|e| EtsiError::internal(format!("reading the VNFD of {id}"), e))?;
        // Exactly `text/plain`: python-tackerclient compares the header as a whole.
        return Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(TEXT))], text).into_response());
    }
    if !accept.zip {
        return Err(EtsiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "VNFD is implemented as multiple yaml files, Accept header should be 'application/zip'.",
        ));
    }
    let zip = tokio::task::spawn_blocking(move || tacker_pkg::zip_files(&root, &files))
        .await
        .map_err(|e| EtsiError::internal(format!("zipping the VNFD of {id}"), e))?
        .map_err(|e| EtsiError::internal(format!("zipping the VNFD of {id}"), e))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(ZIP))], zip).into_response())
}

/// Which of the two VNFD forms the client accepts.
struct Accepted {
    zip: bool,
    text: bool,
}

impl Accepted {
    /// Media ranges and `q` parameters are understood; no Accept header means anything.
    fn from_header(value: Option<&HeaderValue>) -> Result<Self, EtsiError> {
        let Some(value) = value else {
            return Ok(Accepted {
                zip: true,
                text: false,
            });
        };
        let raw = value.to_str().unwrap_or_default();
        let mut accepted = Accepted {
            zip: false,
            text: false,
        };
        for item in raw.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                matches!(
                    p.trim().replace(' ', "").as_str(),
                    "q=0" | "q=0.0" | "q=0.00" | "q=0.000"
                )
            });
            if refused {
                continue;
            }
            match media.as_str() {
                ZIP | "application/*" => accepted.zip = true,
                TEXT | "text/*" => accepted.text = true,
                "*/*" => accepted.zip = true,
                _ => {}
            }
        }
        if !accepted.zip && !accepted.text {
            return Err(EtsiError::new(
                StatusCode::NOT_ACCEPTABLE,
                format!("Accept header {raw} is invalid, it should be one of these values: application/zip,text/plain"),
            ));
        }
        Ok(accepted)
    }
}
