//! The bearer of an OIDC VIM's requests: each request carries the operation's current
//! id_token (renewed before it expires, see `token_source`). A request the API server
//! answers 401 gets a renewed token and is sent once more, when its body can be sent again
//! (the bodies kube builds are buffered; a streamed one could not be replayed, its 401 stands).
//!
//! This layer sits outside the fence, so that a request sent again waits on the fence as
//! the first attempt did.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response, StatusCode};
use kube::client::Body;
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::oidc::{IdToken, OidcError};
use crate::token_source::TokenSource;

pub(crate) struct BearerLayer(pub Arc<TokenSource>);

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Bearer<S> {
        Bearer {
            inner,
            tokens: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Bearer<S> {
    inner: S,
    tokens: Arc<TokenSource>,
}

impl<S, B> Service<Request<Body>> for Bearer<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The inner service's readiness is awaited in each call (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let (inner, tokens) = (self.inner.clone(), self.tokens.clone());
        Box::pin(async move {
            let (token, generation) = tokens.token().await?;
            let again = replayable(&request);
            let response = inner
                .clone()
                .oneshot(authorized(request, &token)?)
                .await
                .map_err(Into::into)?;
            let Some(again) = again.filter(|_| response.status() == StatusCode::UNAUTHORIZED) else {
                return Ok(response);
            };
            tracing::debug!("the API server refused the id_token: renewing it and sending the request again");
            let (token, _) = tokens.renew(generation).await?;
            inner
                .oneshot(authorized(again, &token)?)
                .await
                .map_err(Into::into)
        })
    }
}

/// A copy of `request` to send again, if its body allows.
fn replayable(request: &Request<Body>) -> Option<Request<Body>> {
    let mut copy = Request::new(request.body().try_clone()?);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

fn authorized(mut request: Request<Body>, token: &IdToken) -> Result<Request<Body>, OidcError> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.secret()))
        .map_err(|_| OidcError::Failed("the id_token cannot be sent in an HTTP header".into()))?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    use tower::service_fn;

    use super::*;
    use crate::token_source::tests::Counting;

    /// The bearer and body of each request the server got.
    type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

    /// An API server that accepts only the bearers in `accepted`, recording what it got.
    fn server(
        accepted: Arc<Mutex<Vec<String>>>,
        seen: Seen,
    ) -> impl Service<Request<Body>, Response = Response<()>, Error = BoxError, Future: Send> + Clone + Send
    {
        service_fn(move |request: Request<Body>| {
            let (accepted, seen) = (accepted.clone(), seen.clone());
            async move {
                let bearer = request.headers()[AUTHORIZATION].to_str()?.to_owned();
                assert!(request.headers()[AUTHORIZATION].is_sensitive());
                let body: Vec<u8> = request
                    .into_body()
                    .collect_bytes()
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                let ok = accepted.lock().unwrap().contains(&bearer);
                seen.lock().unwrap().push((bearer, body));
                let status = if ok {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                };
                Ok::<_, BoxError>(Response::builder().status(status).body(()).unwrap())
            }
        })
    }

    async fn tokens(issued: &Arc<AtomicU64>) -> Arc<TokenSource> {
        let issuer = Counting {
            issued: issued.clone(),
            lifetime: 600,
            age: 0,
        };
        Arc::new(TokenSource::start(Box::new(issuer)).await.unwrap())
    }

    fn post(body: Body) -> Request<Body> {
        Request::post("/api/v1/namespaces/default/configmaps")
            .body(body)
            .unwrap()
    }

    #[tokio::test]
    async fn a_401_renews_the_token_and_sends_the_request_once_more() {
        let issued = Arc::new(AtomicU64::new(0));
        let tokens = tokens(&issued).await;
        let (accepted, seen) = (Arc::default(), Arc::default());
        let mut client = BearerLayer(tokens.clone()).layer(server(Arc::clone(&accepted), Arc::clone(&seen)));

        // The server no longer takes the first token (as after a key rotation).
        let response = client.call(post(Body::from(b"{}".to_vec()))).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "the renewed one is not accepted either"
        );
        assert_eq!(issued.load(Ordering::SeqCst), 2, "renewed once, not in a loop");
        let (first, second) = {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), 2);
            assert_eq!(seen[1].1, b"{}", "the same body again");
            (seen[0].0.clone(), seen[1].0.clone())
        };
        assert_ne!(first, second);

        accepted.lock().unwrap().push(second.clone());
        seen.lock().unwrap().clear();
        let response = client.call(post(Body::from(b"{}".to_vec()))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert_eq!(issued.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_request_sent_again_waits_on_the_fence_too() {
        use tacker_driver::{ClaimState, Fence};

        use crate::fenced::FenceLayer;

        let issued = Arc::new(AtomicU64::new(0));
        let (control, fence) = Fence::new();
        let control = Arc::new(control);
        let sent = Arc::new(AtomicU64::new(0));
        let (lose, count) = (control.clone(), sent.clone());
        // The first answer is a 401, and meanwhile another conductor took the operation.
        let server = service_fn(move |_: Request<Body>| {
            count.fetch_add(1, Ordering::SeqCst);
            lose.set(ClaimState::Lost);
            async { Ok::<_, BoxError>(Response::builder().status(401).body(()).unwrap()) }
        });
        let mut client = BearerLayer(tokens(&issued).await).layer(FenceLayer(fence).layer(server));
        let refused = client.call(post(Body::from(b"{}".to_vec()))).await.unwrap_err();
        assert!(
            refused.to_string().contains("no longer holds the operation"),
            "{refused}"
        );
        assert_eq!(
            sent.load(Ordering::SeqCst),
            1,
            "nothing is sent again once the claim is lost"
        );
    }
}
