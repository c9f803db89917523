//! The filter chain in front of every handler: authentication (401), authorization (403)
//! and the audit record of the outcome.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::RequestInfo;
use crate::app::AppState;
use crate::audit::{sha256_hex, AuditEntry};
use crate::auth::Credentials;
use crate::status::ApiError;

pub async fn filter(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    let info = RequestInfo::parse(request.method(), request.uri());
    let credentials = Credentials::from_headers(request.headers());
    let user = app.authn.authenticate(&credentials).await;
    let method = request.method().to_string();
    let query = request.uri().query().map(String::from);
    let response = match &user {
        None => ApiError::Unauthorized.into_response(),
        Some(user) => {
            let decision = app
                .authz
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .authorize(user, &info);
            match decision {
                Err(error) => error.into_response(),
                Ok(()) => {
                    request.extensions_mut().insert(info.clone());
                    request.extensions_mut().insert(user.clone());
                    next.run(request).await
                }
            }
        }
    };
    app.audit.record(AuditEntry {
        time: chrono::Utc::now(),
        method,
        path: info.path.clone(),
        query,
        verb: info.verb.clone(),
        resource: info.is_resource_request.then(|| info.resource.clone()),
        subresource: info.subresource.clone(),
        namespace: info.namespace.clone(),
        name: info.name.clone(),
        user: user.as_ref().map(|u| u.username.clone()),
        groups: user.map(|u| u.groups).unwrap_or_default(),
        token_sha256: credentials.token().map(sha256_hex),
        status: response.status().as_u16(),
    });
    response
}
