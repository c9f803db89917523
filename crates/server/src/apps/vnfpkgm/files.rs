//! Files of a package as responses: whole (200) or one byte range (206), streamed from
//! the package store.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tacker_pkgstore::{PackageStore, StoredFile};
use tacker_vnfpkgm::PkgError;

use crate::error::EtsiError;

/// Streams `file` as `content_type`, honouring a single-range `Range` header.
pub async fn serve_stored(
    store: &PackageStore,
    file: &StoredFile,
    content_type: &str,
    range: Option<&HeaderValue>,
) -> Result<Response, EtsiError> {
    let size = store
        .size(file)
        .await
        .map_err(PkgError::from)?
        .ok_or_else(|| EtsiError::new(StatusCode::NOT_FOUND, "Vnf package not present at location"))?;
    let (status, start, length) = match range {
        None => (StatusCode::OK, 0, size),
        Some(value) => {
            let (start, end) = parse_range(value.to_str().unwrap_or_default(), size)?;
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
    };
    let bytes = store
        .read(file, start..start + length)
        .await
        .map_err(|e| match e.is_not_found() {
            // Deleted between the two calls.
            true => EtsiError::new(StatusCode::NOT_FOUND, "Vnf package not present at location"),
            false => PkgError::from(e).into(),
        })?;
    let mut response = (status, Body::from_stream(bytes)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT {
        let content_range = format!("bytes {start}-{}/{size}", start + length - 1);
        if let Ok(value) = HeaderValue::from_str(&content_range) {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    Ok(response)
}

/// The inclusive byte range a `Range` header asks for, with Tacker's messages for what it
/// cannot serve. An end beyond the file is cut to the file (RFC 9110).
fn parse_range(header: &str, size: u64) -> Result<(u64, u64), EtsiError> {
    let unsatisfiable = || {
        EtsiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "The byte range passed in the 'Range' header did not match any available byte range in the VNF package file",
        )
    };
    let spec = header.trim().strip_prefix("bytes=").ok_or_else(unsatisfiable)?;
    if spec.contains(',') {
        return Err(EtsiError::new(
            StatusCode::BAD_REQUEST,
            "Requests with multiple ranges are not supported in Tacker. You may make multiple single-range requests instead.",
        ));
    }
    let (first, last) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| unsatisfiable());
    let last_byte = size.checked_sub(1).ok_or_else(unsatisfiable)?;
    let (start, end) = match (first.trim().is_empty(), last.trim().is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => {
            let n = number(last)?;
            if n == 0 {
                return Err(unsatisfiable());
            }
            (size.saturating_sub(n), last_byte)
        }
        (false, true) => (number(first)?, last_byte),
        (false, false) => (number(first)?, number(last)?.min(last_byte)),
        (true, true) => return Err(unsatisfiable()),
    };
    if start > last_byte {
        return Err(EtsiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            format!("Invalid start position in Range header. Start position MUST be in the inclusive range [0, {last_byte}]."),
        ));
    }
    if end < start {
        return Err(unsatisfiable());
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(result: Result<(u64, u64), EtsiError>) -> StatusCode {
        match result {
            Err(EtsiError::Shown(status, _)) => status,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn ranges_follow_rfc_9110_with_tackers_messages() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), (0, 9));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), (90, 99));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), (90, 99));
        assert_eq!(parse_range("bytes=50-500", 100).unwrap(), (50, 99));
        assert_eq!(status(parse_range("bytes=0-1,5-6", 100)), StatusCode::BAD_REQUEST);
        assert_eq!(
            status(parse_range("bytes=100-", 100)),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
        assert_eq!(
            status(parse_range("bytes=9-3", 100)),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
        assert_eq!(
            status(parse_range("items=0-1", 100)),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
        assert_eq!(
            status(parse_range("bytes=0-0", 0)),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
    }
}
