//! create (POST), replace (PUT) and patch (PATCH), on the main resource and `/status`.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::params::Params;
use super::Target;
use crate::app::AppState;
use crate::defaults::prepare_create;
use crate::meta;
use crate::patch::{self, PatchType};
use crate::resources::ResourceType;
use crate::status::ApiError;
use crate::store::{State, UpdateMode};

/// The body as a JSON object.
pub fn parse_object(body: &Bytes) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body of the request could not be decoded as JSON: {e}"
        ))
    })?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "the body of the request must be a JSON object".into(),
        ));
    }
    Ok(value)
}

/// The object's kind/apiVersion (if given) and namespace must match the request.
fn check_identity(target: &Target, obj: &mut Value) -> Result<(), ApiError> {
    let rt = target.rt;
    if let Some(v) = obj["apiVersion"].as_str() {
        if v != rt.api_version() {
            return Err(ApiError::BadRequest(format!(
                "the API version in the data ({v}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
    }
    if let Some(k) = obj["kind"].as_str() {
        if k != rt.kind {
            return Err(ApiError::BadRequest(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )));
        }
    }
    let m = meta::metadata_mut(obj);
    if rt.namespaced {
        match m.get("namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != target.namespace => {
                return Err(ApiError::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                        .into(),
                ))
            }
            _ => m.insert("namespace".into(), json!(target.namespace)),
        };
    } else {
        m.remove("namespace");
    }
    Ok(())
}

/// Creates `obj` as a new object of `target.rt` (shared by POST and apply patches).
fn create_object(
    state: &mut State,
    rt: &ResourceType,
    mut obj: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let m = meta::metadata_mut(&mut obj);
    for field in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "generation",
    ] {
        m.remove(field);
    }
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let generate = m
        .get("generateName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ns = m
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = match (name.as_str(), generate.as_str()) {
        ("", "") => {
            return Err(ApiError::invalid(
                rt.kind,
                rt.group,
                "",
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required",
            ))
        }
        ("", prefix) => loop {
            let candidate = format!("{prefix}{}", meta::random_suffix(5));
            if state.get(rt, &ns, &candidate).is_none() {
                break candidate;
            }
        },
        (name, _) => name.to_string(),
    };
    if !meta::valid_name(&name) {
        return Err(ApiError::invalid(
            rt.kind,
            rt.group,
            &name,
            "metadata.name",
            "FieldValueInvalid",
            &format!(
                "Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case \
                 alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            ),
        ));
    }
    meta::metadata_mut(&mut obj).insert("name".into(), json!(name));
    prepare_create(state, rt, &mut obj)?;
    if dry_run {
        return Ok(obj);
    }
    state.create(rt, obj)
}

pub fn create(app: &AppState, target: &Target, params: &Params, body: &Bytes) -> Result<Response, ApiError> {
    if !target.name.is_empty() {
        return Err(ApiError::MethodNotAllowed(
            "POST is not allowed on a named object".into(),
        ));
    }
    if target.rt.namespaced && target.namespace.is_empty() {
        return Err(ApiError::NoSuchPath);
    }
    let mut obj = parse_object(body)?;
    check_identity(target, &mut obj)?;
    let mut state = app.store.lock();
    let created = create_object(&mut state, target.rt, obj, params.dry_run)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub fn replace(
    app: &AppState,
    target: &Target,
    params: &Params,
    body: &Bytes,
    mode: UpdateMode,
) -> Result<Response, ApiError> {
    let mut obj = parse_object(body)?;
    check_identity(target, &mut obj)?;
    let body_name = meta::name(&obj);
    if body_name != target.name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({})",
            target.name
        )));
    }
    let mut state = app.store.lock();
    if params.dry_run {
        return read_existing(&state, target).map(|o| Json(o).into_response());
    }
    let updated = state.update(target.rt, &target.namespace, &target.name, obj, mode)?;
    Ok(Json(updated).into_response())
}

fn read_existing(state: &State, target: &Target) -> Result<Value, ApiError> {
    state
        .get(target.rt, &target.namespace, &target.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(target.rt.group_resource(), &target.name))
}

pub fn patch(
    app: &AppState,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
    body: &Bytes,
    mode: UpdateMode,
) -> Result<Response, ApiError> {
    let kind = PatchType::from_headers(headers)?;
    if kind == PatchType::Apply && params.field_manager.as_deref().unwrap_or_default().is_empty() {
        return Err(ApiError::invalid(
            "PatchOptions",
            "meta.k8s.io",
            "",
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch",
        ));
    }
    let patch: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body of the request could not be decoded as JSON (YAML is not supported by this fake): {e}"
        ))
    })?;
    let mut state = app.store.lock();
    let Some(existing) = state.get(target.rt, &target.namespace, &target.name).cloned() else {
        if kind != PatchType::Apply || mode != UpdateMode::Main {
            return Err(ApiError::not_found(target.rt.group_resource(), &target.name));
        }
        let mut obj = patch;
        check_identity(target, &mut obj)?;
        meta::metadata_mut(&mut obj).insert("name".into(), json!(target.name));
        let created = create_object(&mut state, target.rt, obj, params.dry_run)?;
        return Ok((StatusCode::CREATED, Json(created)).into_response());
    };
    let mut new = existing.clone();
    patch::apply(kind, &mut new, &patch)?;
    if params.dry_run {
        return Ok(Json(new).into_response());
    }
    let updated = state.update(target.rt, &target.namespace, &target.name, new, mode)?;
    Ok(Json(updated).into_response())
}
