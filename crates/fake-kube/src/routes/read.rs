//! get and list.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::params::Params;
use super::Target;
use crate::app::AppState;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;

pub fn get(app: &AppState, target: &Target) -> Result<Response, ApiError> {
    let state = app.store.lock();
    let obj = state
        .get(target.rt, &target.namespace, &target.name)
        .ok_or_else(|| ApiError::not_found(target.rt.group_resource(), &target.name))?;
    Ok(Json(obj.clone()).into_response())
}

/// The objects of a collection that match the request's selectors.
pub fn select(app: &AppState, target: &Target, params: &Params) -> Result<(Vec<Value>, String), ApiError> {
    let labels = LabelSelector::parse(params.label_selector.as_deref().unwrap_or_default())?;
    let fields = FieldSelector::parse(params.field_selector.as_deref().unwrap_or_default())?;
    let state = app.store.lock();
    let ns = (!target.namespace.is_empty()).then_some(target.namespace.as_str());
    let items = state
        .list(target.rt, ns)
        .into_iter()
        .filter(|o| labels.matches(&crate::meta::labels(o)) && fields.matches(o))
        .collect();
    Ok((items, state.resource_version()))
}

/// A `<Kind>List`; items carry no kind/apiVersion, as the real apiserver sends them.
pub fn list_body(target: &Target, items: Vec<Value>, resource_version: String) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut o| {
            if let Some(map) = o.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            o
        })
        .collect();
    json!({
        "kind": format!("{}List", target.rt.kind),
        "apiVersion": target.rt.api_version(),
        "metadata": {"resourceVersion": resource_version},
        "items": items,
    })
}

pub fn list(app: &AppState, target: &Target, params: &Params) -> Result<Response, ApiError> {
    let (items, rv) = select(app, target, params)?;
    Ok(Json(list_body(target, items, rv)).into_response())
}
