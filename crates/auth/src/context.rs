//! Tacker's `keystonecontext` filter: the identity a token filter decided becomes the
//! request's [`RequestContext`]. Token filters hand it over as a [`Verified`] context, built
//! once per validated token from the identity headers keystonemiddleware would set; without
//! one the filter reads those headers, as Tacker's does. Without a context filter (the
//! noauth pipelines) the server falls back to [`Verified`] or [`from_headers_or_admin`].

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tacker_common::RequestContext;

use crate::fault::{fault, ApiFlavor};

fn header(headers: &HeaderMap, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The caller as a token filter decided it: the context that keystonemiddleware's identity
/// headers for that identity describe. A filter builds it once per validated token, so a
/// request with a known token neither copies headers nor parses them, and shares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified(Arc<RequestContext>);

impl Verified {
    /// The context `keystonecontext` builds from these identity headers.
    pub(crate) fn from_identity_headers(headers: &HeaderMap) -> Self {
        Verified(Arc::new(from_headers(headers)))
    }

    /// The request's context.
    pub fn context(self) -> Arc<RequestContext> {
        self.0
    }
}

/// Builds the context from the identity headers (`X-User-Id`, `X-Project-Id`, `X-Roles`, ...).
pub fn from_headers(headers: &HeaderMap) -> RequestContext {
    let roles = header(headers, &["x-roles", "x-role"])
        .map(|r| split_roles(&r))
        .unwrap_or_default();
    let mut ctx = RequestContext::with_roles(
        header(headers, &["x-user-id", "x-user"]),
        header(headers, &["x-project-id", "x-tenant-id", "x-tenant"]),
        roles,
    );
    ctx.user_name = header(headers, &["x-user-name"]);
    ctx.project_name = header(headers, &["x-project-name", "x-tenant-name"]);
    ctx.user_domain_id = header(headers, &["x-user-domain-id"]);
    ctx.user_domain_name = header(headers, &["x-user-domain-name"]);
    ctx.project_domain_id = header(headers, &["x-project-domain-id"]);
    ctx.project_domain_name = header(headers, &["x-project-domain-name"]);
    ctx.domain_id = header(headers, &["x-domain-id"]);
    ctx.domain_name = header(headers, &["x-domain-name"]);
    ctx.system_scope = header(headers, &["openstack-system-scope"]);
    // oslo.context: absent means true.
    ctx.is_admin_project =
        header(headers, &["x-is-admin-project"]).is_none_or(|v| v.eq_ignore_ascii_case("true"));
    ctx.service_user_id = header(headers, &["x-service-user-id"]);
    ctx.service_project_id = header(headers, &["x-service-project-id"]);
    ctx.service_roles = header(headers, &["x-service-roles"])
        .map(|r| split_roles(&r))
        .unwrap_or_default();
    ctx
}

fn split_roles(roles: &str) -> Vec<String> {
    roles
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The noauth context: identity headers when a project is given (handy for development
/// and tests of tenant scoping), otherwise Tacker's admin context without a project.
pub fn from_headers_or_admin(headers: &HeaderMap) -> RequestContext {
    if header(headers, &["x-project-id", "x-tenant-id", "x-tenant"]).is_some() {
        from_headers(headers)
    } else {
        RequestContext::admin()
    }
}

/// The `keystonecontext` middleware for an API with the given error flavour: 401 without
/// a user id, as TackerKeystoneContext answers. The context goes on as an
/// `Arc<RequestContext>` extension.
pub async fn keystone_context(flavor: ApiFlavor, mut request: Request, next: Next) -> Response {
    let ctx = match request.extensions_mut().remove::<Verified>() {
        Some(verified) => verified.context(),
        // No token filter before this one, or its token was refused and the decision
        // delayed (the client's identity headers were stripped).
        None => Arc::new(from_headers(request.headers())),
    };
    if ctx.user_id.is_none() {
        return fault(
            flavor,
            StatusCode::UNAUTHORIZED,
            "HTTPUnauthorized",
            "The request you have made requires authentication.",
        );
    }
    request.extensions_mut().insert(ctx);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn headers_become_a_context() {
        let mut headers = HeaderMap::new();
        headers.insert("x-user-id", HeaderValue::from_static("u1"));
        headers.insert("x-project-id", HeaderValue::from_static("p1"));
        headers.insert("x-roles", HeaderValue::from_static("member, admin"));
        let ctx = from_headers(&headers);
        assert_eq!(ctx.project_id.as_deref(), Some("p1"));
        assert_eq!(ctx.roles, vec!["member", "admin"]);
        assert!(ctx.is_admin);
        assert!(ctx.is_admin_project, "absent means true, as in oslo.context");
        assert_eq!(ctx.system_scope, None);
        headers.insert("x-is-admin-project", HeaderValue::from_static("False"));
        headers.insert("openstack-system-scope", HeaderValue::from_static("all"));
        headers.insert("x-service-roles", HeaderValue::from_static("service"));
        let ctx = from_headers(&headers);
        assert!(!ctx.is_admin_project);
        assert_eq!(ctx.system_scope.as_deref(), Some("all"));
        assert_eq!(ctx.service_roles, vec!["service"]);
    }

    fn identity_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-user-id", HeaderValue::from_static("u1"));
        headers.insert("x-project-id", HeaderValue::from_static("p1"));
        headers.insert("x-roles", HeaderValue::from_static("member,admin"));
        headers.insert("x-is-admin-project", HeaderValue::from_static("False"));
        headers
    }

    #[test]
    fn a_verified_identity_is_the_context_its_headers_give() {
        let headers = identity_headers();
        let ctx = Verified::from_identity_headers(&headers).context();
        assert_eq!(*ctx, from_headers(&headers));
        assert_eq!(ctx.project_id.as_deref(), Some("p1"));
        assert!(ctx.is_admin && !ctx.is_admin_project);
    }

    /// The user id keystone_context hands to the application, or its status.
    async fn context_user(request: axum::http::Request<axum::body::Body>) -> Result<String, StatusCode> {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(
                    |axum::Extension(ctx): axum::Extension<Arc<RequestContext>>| async move {
                        ctx.user_id.clone().unwrap_or_default()
                    },
                ),
            )
            .layer(axum::middleware::from_fn(|req, next| {
                keystone_context(ApiFlavor::Tacker, req, next)
            }));
        let response = app.oneshot(request).await.unwrap_or_else(|never| match never {});
        if response.status() != StatusCode::OK {
            return Err(response.status());
        }
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn keystone_context_takes_the_verified_identity_before_headers() {
        let request = |verified: Option<Verified>| {
            let mut request = axum::http::Request::get("/")
                .header("x-user-id", "from-headers")
                .body(axum::body::Body::empty())
                .unwrap();
            if let Some(verified) = verified {
                request.extensions_mut().insert(verified);
            }
            request
        };
        let verified = Verified::from_identity_headers(&identity_headers());
        assert_eq!(context_user(request(Some(verified))).await, Ok("u1".into()));
        assert_eq!(context_user(request(None)).await, Ok("from-headers".into()));
        let anonymous = axum::http::Request::get("/")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(context_user(anonymous).await, Err(StatusCode::UNAUTHORIZED));
    }

    #[test]
    fn noauth_without_project_is_admin() {
        let ctx = from_headers_or_admin(&HeaderMap::new());
        assert!(ctx.is_admin);
        assert_eq!(ctx.project_id, None);
        let mut headers = HeaderMap::new();
        headers.insert("x-project-id", HeaderValue::from_static("p1"));
        headers.insert("x-roles", HeaderValue::from_static("member"));
        let ctx = from_headers_or_admin(&headers);
        assert!(!ctx.is_admin);
    }
}
