//! Request errors and the one place that turns them into kube `Status` bodies, worded like
//! the real apiserver's `k8s.io/apimachinery/pkg/api/errors`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// Group + resource, printed as `deployments.apps` (or `pods` for the core group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupResource {
    pub group: String,
    pub resource: String,
}

impl GroupResource {
    pub fn new(group: &str, resource: &str) -> Self {
        GroupResource {
            group: group.to_string(),
            resource: resource.to_string(),
        }
    }

    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self, name: &str) -> Map<String, Value> {
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), json!(name));
        }
        if !self.group.is_empty() {
            details.insert("group".into(), json!(self.group));
        }
        details.insert("kind".into(), json!(self.resource));
        details
    }
}

/// One field error of a 422 Invalid answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    pub field: String,
    /// `FieldValueRequired`, `FieldValueInvalid`, ...
    pub reason: String,
    pub message: String,
}

/// Every error a request can end in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("Unauthorized")]
    Unauthorized,
    #[error("forbidden: {message}")]
    Forbidden {
        resource: GroupResource,
        name: String,
        message: String,
    },
    #[error("not found: {name}")]
    NotFound { resource: GroupResource, name: String },
    /// The path names no resource this server serves.
    #[error("the server could not find the requested resource")]
    NoSuchPath,
    #[error("already exists: {name}")]
    AlreadyExists { resource: GroupResource, name: String },
    #[error("conflict: {message}")]
    Conflict {
        resource: GroupResource,
        name: String,
        message: String,
    },
    #[error("invalid")]
    Invalid {
        kind: String,
        group: String,
        name: String,
        causes: Vec<Cause>,
    },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A watch from a resourceVersion the server no longer keeps (410 Gone).
    #[error("expired: {0}")]
    Expired(String),
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// An error injected by a test through [`crate::Faults`].
    #[error("injected: {message}")]
    Injected {
        code: u16,
        reason: String,
        message: String,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(resource: GroupResource, name: &str) -> Self {
        ApiError::NotFound {
            resource,
            name: name.to_string(),
        }
    }

    /// The resourceVersion precondition failed.
    pub fn modified(resource: GroupResource, name: &str) -> Self {
        ApiError::Conflict {
            resource,
            name: name.to_string(),
            message:
                "the object has been modified; please apply your changes to the latest version and try again"
                    .to_string(),
        }
    }

    pub fn invalid(kind: &str, group: &str, name: &str, field: &str, reason: &str, message: &str) -> Self {
        ApiError::Invalid {
            kind: kind.to_string(),
            group: group.to_string(),
            name: name.to_string(),
            causes: vec![Cause {
                field: field.to_string(),
                reason: reason.to_string(),
                message: message.to_string(),
            }],
        }
    }

    pub fn code(&self) -> u16 {
        match self {
            ApiError::Unauthorized => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::NotFound { .. } | ApiError::NoSuchPath => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::Expired(_) => 410,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Injected { code, .. } => *code,
            ApiError::Internal(_) => 500,
        }
    }

    /// The `Status` body, with the fields in the order kube-apiserver writes them.
    pub fn status_body(&self) -> Value {
        let (message, reason, details): (String, &str, Option<Map<String, Value>>) = match self {
            ApiError::Unauthorized => ("Unauthorized".into(), "Unauthorized", None),
            ApiError::Forbidden {
                resource,
                name,
                message,
            } => {
                let text = match name.as_str() {
                    _ if resource.resource.is_empty() => format!("forbidden: {message}"),
                    "" => format!("{} is forbidden: {message}", resource.qualified()),
                    name => format!("{} {name:?} is forbidden: {message}", resource.qualified()),
                };
                let details = if resource.resource.is_empty() {
                    Map::new()
                } else {
                    resource.details(name)
                };
                (text, "Forbidden", Some(details))
            }
            ApiError::NotFound { resource, name } => (
                format!("{} {name:?} not found", resource.qualified()),
                "NotFound",
                Some(resource.details(name)),
            ),
            ApiError::NoSuchPath => (
                "the server could not find the requested resource".into(),
                "NotFound",
                Some(Map::new()),
            ),
            ApiError::AlreadyExists { resource, name } => (
                format!("{} {name:?} already exists", resource.qualified()),
                "AlreadyExists",
                Some(resource.details(name)),
            ),
            ApiError::Conflict {
                resource,
                name,
                message,
            } => (
                format!(
                    "Operation cannot be fulfilled on {} {name:?}: {message}",
                    resource.qualified()
                ),
                "Conflict",
                Some(resource.details(name)),
            ),
            ApiError::Invalid {
                kind,
                group,
                name,
                causes,
            } => {
                let qualified = if group.is_empty() {
                    kind.clone()
                } else {
                    format!("{kind}.{group}")
                };
                let errors: Vec<String> = causes
                    .iter()
                    .map(|c| format!("{}: {}", c.field, c.message))
                    .collect();
                let joined = match errors.as_slice() {
                    [one] => one.clone(),
                    many => format!("[{}]", many.join(", ")),
                };
                let mut details = Map::new();
                details.insert("name".into(), json!(name));
                if !group.is_empty() {
                    details.insert("group".into(), json!(group));
                }
                details.insert("kind".into(), json!(kind));
                let causes: Vec<Value> = causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect();
                details.insert("causes".into(), Value::Array(causes));
                (
                    format!("{qualified} {name:?} is invalid: {joined}"),
                    "Invalid",
                    Some(details),
                )
            }
            ApiError::BadRequest(message) => (message.clone(), "BadRequest", None),
            ApiError::Expired(message) => (message.clone(), "Expired", None),
            ApiError::MethodNotAllowed(message) => (message.clone(), "MethodNotAllowed", None),
            ApiError::UnsupportedMediaType(message) => (message.clone(), "UnsupportedMediaType", None),
            ApiError::Injected { reason, message, .. } => (message.clone(), reason.as_str(), None),
            ApiError::Internal(message) => (
                format!("Internal error occurred: {message}"),
                "InternalError",
                None,
            ),
        };
        let mut body = Map::new();
        body.insert("kind".into(), json!("Status"));
        body.insert("apiVersion".into(), json!("v1"));
        body.insert("metadata".into(), json!({}));
        body.insert("status".into(), json!("Failure"));
        body.insert("message".into(), json!(message));
        body.insert("reason".into(), json!(reason));
        if let Some(details) = details {
            body.insert("details".into(), Value::Object(details));
        }
        body.insert("code".into(), json!(self.code()));
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(self.status_body())).into_response()
    }
}

/// The `Status` a delete answers with when the object is gone at once.
pub fn success(resource: &GroupResource, name: &str, uid: &str) -> Value {
    let mut details = resource.details(name);
    details.insert("uid".into(), json!(uid));
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_body_is_byte_exact() {
        assert_eq!(
            ApiError::Unauthorized.status_body().to_string(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#
        );
    }

    #[test]
    fn messages_match_the_apiserver() {
        let deploy = GroupResource::new("apps", "deployments");
        let body = ApiError::not_found(deploy.clone(), "web").status_body();
        assert_eq!(body["message"], r#"deployments.apps "web" not found"#);
        assert_eq!(
            body["details"],
            json!({"name": "web", "group": "apps", "kind": "deployments"})
        );
        let body = ApiError::modified(deploy, "web").status_body();
        assert_eq!(body["code"], 409);
        assert!(body["message"].as_str().unwrap().starts_with(
            r#"Operation cannot be fulfilled on deployments.apps "web": the object has been modified"#
        ));
        let body = ApiError::AlreadyExists {
            resource: GroupResource::new("", "pods"),
            name: "p".into(),
        }
        .status_body();
        assert_eq!(body["message"], r#"pods "p" already exists"#);
        assert_eq!(body["details"], json!({"name": "p", "kind": "pods"}));
        let body = ApiError::invalid(
            "Deployment",
            "apps",
            "web",
            "spec.selector",
            "FieldValueRequired",
            "Required value",
        )
        .status_body();
        assert_eq!(
            body["message"],
            r#"Deployment.apps "web" is invalid: spec.selector: Required value"#
        );
    }
}
