//! The HTTP surface: a filter (authentication, authorization, audit) in front of one
//! dispatcher that routes on the parsed [`RequestInfo`], like kube-apiserver's handler chain.

mod delete;
mod discovery;
mod filter;
mod info;
mod params;
mod read;
mod scale;
mod watch;
mod write;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Extension, Router};

pub use info::RequestInfo;

use crate::app::AppState;
use crate::resources::ResourceType;
use crate::status::ApiError;
use crate::store::UpdateMode;

pub fn router(state: AppState) -> Router {
    Router::new()
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(state.clone(), filter::filter))
        .with_state(state)
}

/// One object (or a collection when `name` is empty) of a resource type.
#[derive(Clone, Debug)]
pub struct Target {
    pub rt: &'static ResourceType,
    /// `""` for cluster-scoped types and for all-namespace lists.
    pub namespace: String,
    pub name: String,
}

async fn dispatch(
    State(app): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !info.is_resource_request {
        return discovery::handle(&method, &info, &headers);
    }
    match handle(&app, &info, &uri, &headers, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// The resource type and object the path names, checked against the type's scope.
fn resolve(info: &RequestInfo) -> Result<Target, ApiError> {
    let rt = ResourceType::find(&info.api_group, &info.api_version, &info.resource)
        .filter(|rt| (info.api_prefix == "api") == rt.group.is_empty())
        .ok_or(ApiError::NoSuchPath)?;
    let sub_ok = match info.subresource.as_deref() {
        None => info.parts.len() <= 2,
        Some("status") => rt.status && info.parts.len() == 3,
        Some("scale") => rt.scale && info.parts.len() == 3,
        Some(_) => false,
    };
    if !sub_ok {
        return Err(ApiError::NoSuchPath);
    }
    let namespace = if rt.namespaced {
        match (&info.namespace, &info.name) {
            (None, Some(_)) => return Err(ApiError::NoSuchPath),
            (ns, _) => ns.clone().unwrap_or_default(),
        }
    } else {
        if info.namespace.is_some() && rt.plural != "namespaces" {
            return Err(ApiError::NoSuchPath);
        }
        String::new()
    };
    Ok(Target {
        rt,
        namespace,
        name: info.name.clone().unwrap_or_default(),
    })
}

fn handle(
    app: &AppState,
    info: &RequestInfo,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let target = resolve(info)?;
    let params = params::Params::from_uri(uri)?;
    if let Some(error) = app.faults.check(&info.verb, &info.resource) {
        return Err(error);
    }
    let sub = info.subresource.as_deref();
    match (info.verb.as_str(), sub) {
        ("get", None | Some("status")) => read::get(app, &target),
        ("get", Some("scale")) => scale::get(app, &target),
        ("list", None) => read::list(app, &target, &params),
        ("watch", None) => watch::watch(app, &target, &params),
        ("create", None) => write::create(app, &target, &params, body),
        ("update", None) => write::replace(app, &target, &params, body, UpdateMode::Main),
        ("update", Some("status")) => write::replace(app, &target, &params, body, UpdateMode::Status),
        ("update", Some("scale")) => scale::replace(app, &target, body),
        ("patch", None) => write::patch(app, &target, &params, headers, body, UpdateMode::Main),
        ("patch", Some("status")) => write::patch(app, &target, &params, headers, body, UpdateMode::Status),
        ("patch", Some("scale")) => scale::patch(app, &target, headers, body),
        ("delete", None) => delete::delete(app, &target, &params, body),
        ("deletecollection", None) => delete::collection(app, &target, &params, body),
        (verb, _) => Err(ApiError::MethodNotAllowed(format!(
            "the server does not allow this method on the requested resource ({verb})"
        ))),
    }
}
