//! The query parameters the handlers read.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::Uri;

use crate::status::ApiError;

#[derive(Clone, Debug, Default)]
pub struct Params {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub propagation_policy: Option<String>,
    pub grace_period_seconds: Option<i64>,
    pub dry_run: bool,
    pub field_manager: Option<String>,
    /// Where a watch starts.
    pub resource_version: Option<String>,
    /// When the server ends a watch.
    pub timeout_seconds: Option<u64>,
    pub allow_watch_bookmarks: bool,
}

impl Params {
    pub fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let Query(q) = Query::<HashMap<String, String>>::try_from_uri(uri)
            .map_err(|e| ApiError::BadRequest(format!("invalid query: {e}")))?;
        let grace_period_seconds = number(&q, "gracePeriodSeconds")?;
        let timeout_seconds = number(&q, "timeoutSeconds")?;
        Ok(Params {
            label_selector: q.get("labelSelector").cloned(),
            field_selector: q.get("fieldSelector").cloned(),
            propagation_policy: q.get("propagationPolicy").cloned(),
            grace_period_seconds,
            dry_run: q.get("dryRun").is_some_and(|v| v == "All"),
            field_manager: q.get("fieldManager").cloned(),
            resource_version: q.get("resourceVersion").cloned(),
            timeout_seconds,
            allow_watch_bookmarks: q
                .get("allowWatchBookmarks")
                .is_some_and(|v| v == "true" || v == "1"),
        })
    }
}

fn number<T: std::str::FromStr>(q: &HashMap<String, String>, key: &str) -> Result<Option<T>, ApiError> {
    match q.get(key) {
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("invalid {key} {v:?}"))),
        None => Ok(None),
    }
}
