//! The `/scale` subresource: an autoscaling/v1 `Scale` view of `spec.replicas`.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::write::parse_object;
use super::Target;
use crate::app::AppState;
use crate::patch::{self, PatchType};
use crate::selector::LabelSelector;
use crate::status::ApiError;
use crate::store::{State, UpdateMode};

fn scale_of(obj: &Value) -> Value {
    let m = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": {
            "replicas": obj["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": LabelSelector::from_object(&obj["spec"]["selector"]).to_query(),
        },
    })
}

fn existing(state: &State, target: &Target) -> Result<Value, ApiError> {
    state
        .get(target.rt, &target.namespace, &target.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(target.rt.group_resource(), &target.name))
}

/// Writes the replicas of a `Scale` to the object.
fn apply_scale(state: &mut State, target: &Target, obj: Value, scale: &Value) -> Result<Response, ApiError> {
    let replicas = scale["spec"]["replicas"].as_i64().unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::invalid(
            "Scale",
            "autoscaling",
            &target.name,
            "spec.replicas",
            "FieldValueInvalid",
            &format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        ));
    }
    let mut new = obj;
    new["spec"]["replicas"] = json!(replicas);
    if let Some(rv) = scale["metadata"]["resourceVersion"].as_str() {
        new["metadata"]["resourceVersion"] = json!(rv);
    }
    let updated = state.update(target.rt, &target.namespace, &target.name, new, UpdateMode::Main)?;
    Ok(Json(scale_of(&updated)).into_response())
}

pub fn get(app: &AppState, target: &Target) -> Result<Response, ApiError> {
    let obj = existing(&app.store.lock(), target)?;
    Ok(Json(scale_of(&obj)).into_response())
}

pub fn replace(app: &AppState, target: &Target, body: &Bytes) -> Result<Response, ApiError> {
    let scale = parse_object(body)?;
    let mut state = app.store.lock();
    let obj = existing(&state, target)?;
    apply_scale(&mut state, target, obj, &scale)
}

pub fn patch(
    app: &AppState,
    target: &Target,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let kind = PatchType::from_headers(headers)?;
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid patch body: {e}")))?;
    let mut state = app.store.lock();
    let obj = existing(&state, target)?;
    let mut scale = scale_of(&obj);
    patch::apply(kind, &mut scale, &patch)?;
    apply_scale(&mut state, target, obj, &scale)
}
