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
}

impl Params {
    pub fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let Query(q) = Query::<HashMap<String, String>>::try_from_uri(uri)
            .map_err(|e| ApiError::BadRequest(format!("invalid query: {e}")))?;
        let grace_period_seconds = match q.get("gracePeriodSeconds") {
            Some(v) => Some(
                v.parse()
                    .map_err(|_| ApiError::BadRequest(format!("invalid gracePeriodSeconds {v:?}")))?,
            ),
            None => None,
        };
        Ok(Params {
            label_selector: q.get("labelSelector").cloned(),
            field_selector: q.get("fieldSelector").cloned(),
            propagation_policy: q.get("propagationPolicy").cloned(),
            grace_period_seconds,
            dry_run: q.get("dryRun").is_some_and(|v| v == "All"),
            field_manager: q.get("fieldManager").cloned(),
        })
    }
}
