//! Builds the HTTP service from api-paste.ini: each mount's app wrapped by its filters,
//! and a urlmap that dispatches by the longest matching prefix, as Paste does.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tacker_auth::context::keystone_context;
use tacker_auth::fault::internal_error;
use tacker_auth::keystone::{keystone_token, KeystoneAuth, KeystoneConfigError, TokenSource};
use tacker_auth::oauth2::{external_oauth2_token, ExternalOAuth2, OAuth2ConfigError};
use tacker_auth::{request_id, ApiFlavor};
use tacker_common::paste::{prefix_matches, PasteDeploy};
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;

use crate::apps::AppKind;
use crate::error::{log_failures, ApiError};
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
    fn from_factory(factory: &str) -> Option<Self> {
        match factory {
            "oslo_middleware:RequestId.factory" | "oslo_middleware.request_id:RequestId.factory" => {
                Some(FilterKind::RequestId)
            }
            "oslo_middleware:CatchErrors.factory" | "oslo_middleware.catch_errors:CatchErrors.factory" => {
                Some(FilterKind::CatchErrors)
            }
            "tacker.auth:TackerKeystoneContext.factory" => Some(FilterKind::KeystoneContext),
            "tacker.api.extensions:extension_middleware_factory" => Some(FilterKind::Extensions),
            "keystonemiddleware.auth_token:filter_factory" => {
                Some(FilterKind::Keystone(TokenSource::AuthToken))
            }
            "keystonemiddleware.oauth2_token:filter_factory" => {
                Some(FilterKind::Keystone(TokenSource::OAuth2))
            }
            "keystonemiddleware.oauth2_mtls_token:filter_factory" => {
                Some(FilterKind::Keystone(TokenSource::OAuth2Mtls))
            }
            "keystonemiddleware.external_oauth2_token:filter_factory" => Some(FilterKind::ExternalOAuth2),
            _ => None,
        }
    }

    fn wrap(self, router: Router, flavor: ApiFlavor, shared: &SharedFilters) -> Router {
        match self {
            // Failures are logged just inside the request's span, once for every mount.
            FilterKind::RequestId => router
                .layer(from_fn(log_failures))
                .layer(from_fn(request_id::layer)),
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
    #[source]
    reason: PipelineProblem,
}

/// What is wrong with one mount of api-paste.ini.
#[derive(Debug, thiserror::Error)]
enum PipelineProblem {
    #[error("unknown app factory '{0}'")]
    UnknownApp(String),
    #[error("filter '{filter}': unknown filter factory '{factory}'")]
    UnknownFilter { filter: String, factory: String },
    #[error("filter '{filter}': {source}")]
    OAuth2 {
        filter: String,
        #[source]
        source: OAuth2ConfigError,
    },
    #[error("filter '{filter}': {source}")]
    Keystone {
        filter: String,
        #[source]
        source: KeystoneConfigError,
    },
}

/// The whole HTTP service for a resolved api-paste.ini.
pub fn build(deploy: &PasteDeploy, state: &AppState) -> Result<Router, PipelineError> {
    let mut mounts = Vec::with_capacity(deploy.mounts.len());
    // One filter of each kind (and one token cache) for every pipeline that names it.
    let mut shared = SharedFilters::default();
    for mount in &deploy.mounts {
        let error = |reason: PipelineProblem| PipelineError {
            mount: format!("{} ({})", mount.prefix, mount.app.name),
            reason,
        };
        let kind = AppKind::from_factory(&mount.app.factory)
            .ok_or_else(|| error(PipelineProblem::UnknownApp(mount.app.factory.clone())))?;
        let flavor = kind.flavor();
        let mut router = kind.router(state.clone());
        let mut has_request_id = false;
        for filter in mount.filters.iter().rev() {
            let filter_kind = FilterKind::from_factory(&filter.factory).ok_or_else(|| {
                error(PipelineProblem::UnknownFilter {
                    filter: filter.name.clone(),
                    factory: filter.factory.clone(),
                })
            })?;
            has_request_id |= filter_kind == FilterKind::RequestId;
            if filter_kind == FilterKind::ExternalOAuth2 && shared.oauth2.is_none() {
                let filter = ExternalOAuth2::from_options(&state.config.ext_oauth2).map_err(|source| {
                    error(PipelineProblem::OAuth2 {
                        filter: filter.name.clone(),
                        source,
                    })
                })?;
                shared.oauth2 = Some(Arc::new(filter));
            }
            if matches!(filter_kind, FilterKind::Keystone(_)) && shared.keystone.is_none() {
                let filter =
                    KeystoneAuth::from_options(&state.config.keystone_authtoken).map_err(|source| {
                        error(PipelineProblem::Keystone {
                            filter: filter.name.clone(),
                            source,
                        })
                    })?;
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use serde_json::Value;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;
    use crate::error::EtsiError;

    /// Everything logged while a test runs, one JSON object a line.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    impl Captured {
        /// Installs itself as this thread's subscriber until the guard is dropped.
        fn install(&self) -> tracing::subscriber::DefaultGuard {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_current_span(true)
                .with_writer(self.clone())
                .finish();
            tracing::subscriber::set_default(subscriber)
        }

        /// The lines that log a failure (those with an `error` field).
        fn failures(&self) -> Vec<Value> {
            let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(|line| serde_json::from_str::<Value>(line).expect("a JSON log line"))
                .filter(|line| line["fields"].get("error").is_some())
                .collect()
        }
    }

    /// A cause with a cause, as a database error wraps a driver's.
    #[derive(Debug, thiserror::Error)]
    #[error("the disk is full")]
    struct Cause(#[source] std::io::Error);

    fn cause() -> Cause {
        Cause(std::io::Error::other("no space left on device"))
    }

    /// Routes that fail as the apps do, wrapped as api-paste.ini's
    /// `request_id catch_errors <app>` pipeline is.
    fn mount(request_id_filters: usize) -> Router {
        let router = Router::new()
            .route(
                "/internal",
                get(|| async { Err::<(), _>(EtsiError::internal("reading a package file", cause())) }),
            )
            .route(
                "/busy",
                get(|| async { Err::<(), _>(ApiError::Unavailable(Box::new(cause()))) }),
            );
        let shared = SharedFilters::default();
        let flavor = ApiFlavor::ProblemDetails;
        let mut router = FilterKind::CatchErrors.wrap(router, flavor, &shared);
        for _ in 0..request_id_filters {
            router = FilterKind::RequestId.wrap(router, flavor, &shared);
        }
        router
    }

    async fn get_path(router: Router, path: &str) -> (StatusCode, String, String) {
        let request = axum::http::Request::get(path)
            .body(Body::empty())
            .expect("a request");
        let response = router
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let id = response
            .headers()
            .get(request_id::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("a body");
        (status, id, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn an_internal_error_is_logged_once_with_its_causes_and_request_id() {
        let logs = Captured::default();
        let _guard = logs.install();
        let (status, request_id, body) = get_path(mount(1), "/internal").await;

        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.contains("disk"), "the cause is not shown: {body}");
        let failures = logs.failures();
        assert_eq!(failures.len(), 1, "{failures:#?}");
        let line = &failures[0];
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["fields"]["message"], "request failed");
        assert_eq!(
            line["fields"]["error"],
            "reading a package file: the disk is full: no space left on device"
        );
        assert!(request_id.starts_with("req-"), "{request_id}");
        assert_eq!(line["span"]["request_id"], request_id.as_str());
    }

    #[tokio::test]
    async fn an_unavailable_database_is_a_warning() {
        let logs = Captured::default();
        let _guard = logs.install();
        let (status, request_id, _) = get_path(mount(1), "/busy").await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let failures = logs.failures();
        assert_eq!(failures.len(), 1, "{failures:#?}");
        assert_eq!(failures[0]["level"], "WARN");
        assert_eq!(failures[0]["fields"]["message"], "database busy or unreachable");
        assert_eq!(
            failures[0]["fields"]["error"],
            "the disk is full: no space left on device"
        );
        assert_eq!(failures[0]["span"]["request_id"], request_id.as_str());
    }

    #[tokio::test]
    async fn request_id_named_twice_still_logs_once() {
        let logs = Captured::default();
        let _guard = logs.install();
        let (status, _, _) = get_path(mount(2), "/internal").await;

        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(logs.failures().len(), 1);
    }
}
