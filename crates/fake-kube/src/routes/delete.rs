//! delete and deletecollection, with `DeleteOptions` from the body and the query.

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::params::Params;
use super::read::{list_body, select};
use super::Target;
use crate::app::AppState;
use crate::meta;
use crate::status::{self, ApiError};
use crate::store::{DeleteOptions, Deleted, Propagation};

fn propagation(text: &str) -> Result<Propagation, ApiError> {
    match text {
        "Foreground" => Ok(Propagation::Foreground),
        "Background" => Ok(Propagation::Background),
        "Orphan" => Ok(Propagation::Orphan),
        other => Err(ApiError::BadRequest(format!(
            "invalid propagationPolicy {other:?}"
        ))),
    }
}

/// `DeleteOptions`: the body wins over the query, as in the apiserver.
fn options(params: &Params, body: &Bytes) -> Result<DeleteOptions, ApiError> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("invalid DeleteOptions: {e}")))?
    };
    let policy = match (
        body["propagationPolicy"].as_str(),
        &params.propagation_policy,
        &body["orphanDependents"],
    ) {
        (Some(p), _, _) => Some(propagation(p)?),
        (None, Some(p), _) => Some(propagation(p)?),
        (None, None, Value::Bool(true)) => Some(Propagation::Orphan),
        (None, None, Value::Bool(false)) => Some(Propagation::Background),
        _ => None,
    };
    Ok(DeleteOptions {
        propagation: policy,
        grace_period_seconds: body["gracePeriodSeconds"]
            .as_i64()
            .or(params.grace_period_seconds),
        precondition_uid: body["preconditions"]["uid"].as_str().map(String::from),
        precondition_resource_version: body["preconditions"]["resourceVersion"]
            .as_str()
            .map(String::from),
    })
}

/// What a delete answers: the object while it still exists (and always for pods), or a
/// success `Status` once it is gone.
fn answer(target: &Target, deleted: Deleted) -> Value {
    match deleted {
        Deleted::Pending(obj) => obj,
        Deleted::Gone(obj) if target.rt.plural == "pods" => obj,
        Deleted::Gone(obj) => status::success(&target.rt.group_resource(), meta::name(&obj), meta::uid(&obj)),
    }
}

pub fn delete(app: &AppState, target: &Target, params: &Params, body: &Bytes) -> Result<Response, ApiError> {
    let options = options(params, body)?;
    let mut state = app.store.lock();
    if params.dry_run {
        let obj = state
            .get(target.rt, &target.namespace, &target.name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(target.rt.group_resource(), &target.name))?;
        return Ok(Json(obj).into_response());
    }
    let deleted = state.delete(target.rt, &target.namespace, &target.name, &options)?;
    Ok(Json(answer(target, deleted)).into_response())
}

pub fn collection(
    app: &AppState,
    target: &Target,
    params: &Params,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let options = options(params, body)?;
    let (items, _) = select(app, target, params)?;
    let mut state = app.store.lock();
    let mut deleted = Vec::new();
    for obj in items {
        if params.dry_run {
            deleted.push(obj);
            continue;
        }
        match state.delete(target.rt, meta::namespace(&obj), meta::name(&obj), &options) {
            Ok(Deleted::Pending(o) | Deleted::Gone(o)) => deleted.push(o),
            Err(ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let rv = state.resource_version();
    Ok(Json(list_body(target, deleted, rv)).into_response())
}
