//! `Connection: close` on an HTTP/1 response whose request body was not read to its end.
//!
//! A handler may answer before it has read the body: a 413 for a declared length over
//! `max_request_body_size`, a 401 before an upload, a 404. hyper then closes the
//! connection after the response ([`super::linger`] makes that close safe), but the
//! response does not say so, and the client keeps the connection for its next request.
//! That request goes out into the close and fails with "connection closed before message
//! completed". Saying `Connection: close` (RFC 9112 §9.6) makes the client open a fresh
//! connection instead.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use futures::future::{BoxFuture, Either};
use http::header::CONNECTION;
use http::{HeaderValue, Request, Response, Version};
use hyper::body::{Frame, SizeHint};
use tower::{Layer, Service};

/// Wraps a service in [`CloseAfterUnreadBody`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CloseAfterUnreadBodyLayer;

impl<S> Layer<S> for CloseAfterUnreadBodyLayer {
    type Service = CloseAfterUnreadBody<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CloseAfterUnreadBody { inner }
    }
}

/// Adds `Connection: close` to the response when the request's body was left unread.
#[derive(Debug, Clone)]
pub(super) struct CloseAfterUnreadBody<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for CloseAfterUnreadBody<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // HTTP/2 ends a request's stream, not the connection; and most requests have no body.
        if request.version() >= Version::HTTP_2 || request.body().is_end_stream() {
            return Either::Left(self.inner.call(request));
        }
        let read = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| {
            Body::new(Watched {
                inner: body,
                read: read.clone(),
            })
        });
        let response = self.inner.call(request);
        Either::Right(Box::pin(async move {
            let mut response = response.await?;
            if !read.load(Ordering::Acquire) {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        }))
    }
}

/// A request body that records when it has been read to its end.
struct Watched {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route("/ignores", post(|| async { "answered unread" }))
            .route("/reads", post(|body: Bytes| async move { body }))
            .layer(CloseAfterUnreadBodyLayer)
    }

    async fn connection_header(request: Request<Body>) -> Option<HeaderValue> {
        let response = app().oneshot(request).await.unwrap();
        response.headers().get(CONNECTION).cloned()
    }

    /// A POST of `payload` with its length declared, over `version`.
    fn payload_post(path: &str, version: Version) -> Request<Body> {
        let payload = "payload";
        Request::post(path)
            .version(version)
            .header("content-length", payload.len())
            .body(Body::from(payload))
            .unwrap()
    }

    #[tokio::test]
    async fn an_unread_body_closes_the_connection() {
        let request = payload_post("/ignores", Version::HTTP_11);
        assert_eq!(connection_header(request).await.unwrap(), "close");
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_keeps_the_connection() {
        let request = payload_post("/reads", Version::HTTP_11);
        assert_eq!(connection_header(request).await, None);
    }

    #[tokio::test]
    async fn requests_without_a_body_keep_the_connection() {
        let request = Request::post("/ignores").body(Body::empty()).unwrap();
        assert_eq!(connection_header(request).await, None);
    }

    #[tokio::test]
    async fn http2_streams_are_left_alone() {
        let request = payload_post("/ignores", Version::HTTP_2);
        assert_eq!(connection_header(request).await, None);
    }

    #[tokio::test]
    async fn a_body_read_in_part_closes_the_connection() {
        let app = Router::new()
            .route(
                "/first-frame",
                post(|request: Request<Body>| async move {
                    let mut body = request.into_body();
                    let _ = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
                    "read one frame"
                }),
            )
            .layer(CloseAfterUnreadBodyLayer);
        let chunks = futures::stream::iter(["one", "two"].map(|s| Ok::<_, std::io::Error>(Bytes::from(s))));
        let request = Request::post("/first-frame")
            .body(Body::from_stream(chunks))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.headers().get(CONNECTION).unwrap(), "close");
    }
}
