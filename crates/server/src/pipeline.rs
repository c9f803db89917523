//! Builds the HTTP service from api-paste.ini: each mount's app wrapped by its filters,
//! and a urlmap that dispatches by the longest matching prefix, as Paste does.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tacker_auth::context::keystone_context;
use tacker_auth::fault::internal_error;
use tacker_auth::keystone::{keystone_token, KeystoneAuth, TokenSource};
use tacker_auth::oauth2::{external_oauth2_token, ExternalOAuth2};
use tacker_auth::{request_id, ApiFlavor};
use tacker_common::paste::{prefix_matches, PasteDeploy};
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;

use crate::apps::AppKind;
use crate::error::ApiError;
use crate::AppState;

/// A filter tacker-rs implements, identified by its `paste.filter_factory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterKind {
    RequestId,
    CatchErrors,
    KeystoneContext,
    /// Tacker's extension middleware: our resources are built in, so it adds nothing.
    Extensions,
    /// keystonemiddleware's external_oauth2_token: RFC 7662 introspection.
    ExternalOAuth2,
    /// keystonemiddleware's auth_token (Keystone tokens), oauth2_token and
    /// oauth2_mtls_token (Keystone's OAuth 2.0 access tokens), with `[keystone_authtoken]`.
    Keystone(TokenSource),
}

/// The token filters a pipeline may name, each built once and shared by every mount.
#[derive(Default)]
struct SharedFilters {
    oauth2: Option<Arc<ExternalOAuth2>>,
    keystone: Option<Arc<KeystoneAuth>>,
}

impl FilterKind {
    fn from_factory(factory: &str) -> Result<Self, String> {
        match factory {
            "oslo_middleware:RequestId.factory" | "oslo_middleware.request_id:RequestId.factory" => {
                Ok(FilterKind::RequestId)
            }
            "oslo_middleware:CatchErrors.factory" | "oslo_middleware.catch_errors:CatchErrors.factory" => {
                Ok(FilterKind::CatchErrors)
            }
            "tacker.auth:TackerKeystoneContext.factory" => Ok(FilterKind::KeystoneContext),
            "tacker.api.extensions:extension_middleware_factory" => Ok(FilterKind::Extensions),
            "keystonemiddleware.auth_token:filter_factory" => {
                Ok(FilterKind::Keystone(TokenSource::AuthToken))
            }
            "keystonemiddleware.oauth2_token:filter_factory" => Ok(FilterKind::Keystone(TokenSource::OAuth2)),
            "keystonemiddleware.oauth2_mtls_token:filter_factory" => {
                Ok(FilterKind::Keystone(TokenSource::OAuth2Mtls))
            }
            "keystonemiddleware.external_oauth2_token:filter_factory" => Ok(FilterKind::ExternalOAuth2),
            other => Err(format!("unknown filter factory '{other}'")),
        }
    }

    fn wrap(self, router: Router, flavor: ApiFlavor, shared: &SharedFilters) -> Router {
        match self {
            FilterKind::RequestId => router.layer(from_fn(request_id::layer)),
            FilterKind::CatchErrors => router.layer(CatchPanicLayer::custom(move |_panic| {
                tracing::error!("a request handler panicked");
                internal_error(flavor)
            })),
            FilterKind::KeystoneContext => {
                router.layer(from_fn(move |req, next| keystone_context(flavor, req, next)))
            }
            FilterKind::Extensions => router,
            FilterKind::ExternalOAuth2 => match &shared.oauth2 {
                Some(filter) => {
                    let filter = filter.clone();
                    router.layer(from_fn(move |req, next| {
                        external_oauth2_token(filter.clone(), flavor, req, next)
                    }))
                }
                // `build` creates the filter before wrapping with it.
                None => router,
            },
            FilterKind::Keystone(source) => match &shared.keystone {
                Some(auth) => {
                    let auth = auth.clone();
                    router.layer(from_fn(move |req, next| {
                        keystone_token(auth.clone(), source, flavor, req, next)
                    }))
                }
                None => router,
            },
        }
    }
}

/// Why api-paste.ini cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("api-paste.ini: {mount}: {reason}")]
pub struct PipelineError {
    mount: String,
    reason: String,
}

/// The whole HTTP service for a resolved api-paste.ini.
pub fn build(deploy: &PasteDeploy, state: &AppState) -> Result<Router, PipelineError> {
    let mut mounts = Vec::with_capacity(deploy.mounts.len());
    // One filter of each kind (and one token cache) for every pipeline that names it.
    let mut shared = SharedFilters::default();
    for mount in &deploy.mounts {
        let error = |reason: String| PipelineError {
            mount: format!("{} ({})", mount.prefix, mount.app.name),
            reason,
        };
        let kind = AppKind::from_factory(&mount.app.factory)
            .ok_or_else(|| error(format!("unknown app factory '{}'", mount.app.factory)))?;
        let flavor = kind.flavor();
        let mut router = kind.router(state.clone());
        let mut has_request_id = false;
        for filter in mount.filters.iter().rev() {
            let filter_kind = FilterKind::from_factory(&filter.factory)
                .map_err(|reason| error(format!("filter '{}': {reason}", filter.name)))?;
            has_request_id |= filter_kind == FilterKind::RequestId;
            if filter_kind == FilterKind::ExternalOAuth2 && shared.oauth2.is_none() {
                let filter = ExternalOAuth2::from_options(&state.config.ext_oauth2)
                    .map_err(|e| error(format!("filter '{}': {e}", filter.name)))?;
                shared.oauth2 = Some(Arc::new(filter));
            }
            if matches!(filter_kind, FilterKind::Keystone(_)) && shared.keystone.is_none() {
                let filter = KeystoneAuth::from_options(&state.config.keystone_authtoken)
                    .map_err(|e| error(format!("filter '{}': {e}", filter.name)))?;
                shared.keystone = Some(Arc::new(filter));
            }
            router = filter_kind.wrap(router, flavor, &shared);
        }
        // Every response carries X-Openstack-Request-Id, also from apps Tacker mounts bare
        // (the version list).
        if !has_request_id {
            router = FilterKind::RequestId.wrap(router, flavor, &shared);
        }
        mounts.push((mount.prefix.clone(), router));
    }
    let mounts = Arc::new(mounts);
    Ok(Router::new()
        .route(
            "/healthcheck",
            axum::routing::get(crate::health::healthcheck).with_state(state.clone()),
        )
        .fallback(move |request: Request| dispatch(mounts.clone(), request)))
}

async fn dispatch(mounts: Arc<Vec<(String, Router)>>, request: Request) -> Response {
    let path = request.uri().path();
    match mounts.iter().find(|(prefix, _)| prefix_matches(prefix, path)) {
        Some((_, router)) => match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        // Only when api-paste.ini mounts nothing at `/`.
        None => ApiError::not_found().into_response(),
    }
}
