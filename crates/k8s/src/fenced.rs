//! Every request of an operation's Kubernetes client first waits on the execution's
//! fence: while the conductor cannot tell whether it still holds the operation (the
//! database stalls), nothing is sent to the cluster, and once another conductor has taken
//! the operation over, nothing ever is.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tacker_driver::Fence;
use tokio::sync::Mutex;
use tower::{BoxError, Layer, Service, ServiceExt};

/// Wraps the client's service stack.
pub(crate) struct FenceLayer(pub Fence);

impl<S> Layer<S> for FenceLayer {
    type Service = Fenced<S>;

    fn layer(&self, inner: S) -> Fenced<S> {
        Fenced {
            // kube's boxed service cannot be cloned: callers take turns to start a call.
            inner: Arc::new(Mutex::new(inner)),
            fence: self.0.clone(),
        }
    }
}

pub(crate) struct Fenced<S> {
    inner: Arc<Mutex<S>>,
    fence: Fence,
}

impl<S> Clone for Fenced<S> {
    fn clone(&self) -> Self {
        Fenced {
            inner: self.inner.clone(),
            fence: self.fence.clone(),
        }
    }
}

impl<S, Request> Service<Request> for Fenced<S>
where
    S: Service<Request> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    Request: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness of the inner service is awaited inside the call, after the fence.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (inner, fence) = (self.inner.clone(), self.fence.clone());
        Box::pin(async move {
            fence.wait_held().await.map_err(|e| Box::new(e) as BoxError)?;
            let response = {
                let mut service = inner.lock().await;
                service.ready().await.map_err(Into::into)?;
                service.call(request)
            };
            response.await.map_err(Into::into)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tacker_driver::ClaimState;

    use super::*;

    #[tokio::test]
    async fn requests_wait_for_the_fence_and_stop_when_it_is_lost() {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let inner = tower::service_fn(move |_: ()| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, BoxError>(()) }
        });
        let (control, fence) = Fence::new();
        let mut service = FenceLayer(fence).layer(inner);
        service.call(()).await.unwrap();
        assert_eq!(sent.load(Ordering::SeqCst), 1);

        control.set(ClaimState::Uncertain);
        let pending = tokio::spawn(service.clone().call(()));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(
            sent.load(Ordering::SeqCst),
            1,
            "nothing is sent while the claim is uncertain"
        );
        control.set(ClaimState::Held);
        pending.await.unwrap().unwrap();
        assert_eq!(sent.load(Ordering::SeqCst), 2);

        control.set(ClaimState::Lost);
        assert!(service.call(()).await.is_err());
        assert_eq!(
            sent.load(Ordering::SeqCst),
            2,
            "nothing is sent once the claim is lost"
        );
    }

    #[tokio::test]
    async fn a_graceful_cancel_lets_the_call_in_flight_finish_and_sends_no_other() {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let inner = tower::service_fn(move |_: ()| {
            let counter = counter.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<_, BoxError>(())
            }
        });
        let (control, fence) = Fence::new();
        let mut service = FenceLayer(fence).layer(inner);
        let in_flight = tokio::spawn(service.clone().call(()));
        tokio::time::sleep(Duration::from_millis(10)).await;
        control.set(ClaimState::Cancelled);
        in_flight.await.unwrap().unwrap();
        let refused = service.call(()).await.unwrap_err();
        assert!(refused.to_string().contains("cancelled"), "{refused}");
        assert_eq!(sent.load(Ordering::SeqCst), 1);
    }
}
