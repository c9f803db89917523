//! A per-connection clock that says when a connection holds its slot without using it:
//! no first request head within the header timeout (hyper's own head timeout starts only
//! once the protocol is known, and HTTP/2 has none), or nothing sent either way for the
//! idle timeout while no request is being handled (eventlet's `socket_timeout`, which is
//! Tacker's `client_socket_timeout`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Shared by the connection's IO ([`Metered`]), its service ([`Tracked`]) and its task.
#[derive(Clone)]
pub(super) struct Clock {
    shared: Arc<Shared>,
}

struct Shared {
    started: Instant,
    header_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    /// Milliseconds from `started` to the last byte read or written.
    last_io: AtomicU64,
    /// Requests whose response head is not ready yet.
    in_flight: AtomicUsize,
    /// Whether a request head has arrived on this connection.
    used: AtomicBool,
    /// Wakes [`Clock::expired`] when the rules change (first request, last one done).
    changed: Notify,
}

impl Clock {
    pub(super) fn start(header_timeout: Option<Duration>, idle_timeout: Option<Duration>) -> Self {
        Clock {
            shared: Arc::new(Shared {
                started: Instant::now(),
                header_timeout,
                idle_timeout,
                last_io: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                used: AtomicBool::new(false),
                changed: Notify::new(),
            }),
        }
    }

    /// The connection's IO, recording when bytes move.
    pub(super) fn meter<T>(&self, io: T) -> Metered<T> {
        Metered {
            io,
            shared: self.shared.clone(),
        }
    }

    /// The connection's service, recording which requests are being handled.
    pub(super) fn track<S>(&self, service: S) -> Tracked<S> {
        Tracked {
            inner: service,
            shared: self.shared.clone(),
        }
    }

    /// Resolves when the connection should be closed as unused.
    pub(super) async fn expired(&self) {
        loop {
            let changed = self.shared.changed.notified();
            match self.shared.deadline() {
                Some(at) if at <= Instant::now() => return,
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

impl Shared {
    /// When the connection expires if nothing changes; `None` while a request is being
    /// handled or when no timeout applies.
    fn deadline(&self) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        if !self.used.load(Ordering::Acquire) {
            // A trickle of bytes does not extend the first head's deadline.
            if let Some(timeout) = self.header_timeout {
                return Some(self.started + timeout);
            }
        }
        let last_io = self.started + Duration::from_millis(self.last_io.load(Ordering::Acquire));
        self.idle_timeout.map(|timeout| last_io + timeout)
    }

    fn touch(&self) {
        let millis = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io.fetch_max(millis, Ordering::AcqRel);
    }
}

/// IO that records the time of the last byte read or written.
pub(super) struct Metered<T> {
    io: T,
    shared: Arc<Shared>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Metered<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.shared.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Metered<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.shared.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.shared.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A service that counts the requests being handled on its connection.
#[derive(Clone)]
pub(super) struct Tracked<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, R> tower::Service<R> for Tracked<S>
where
    S: tower::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let handling = InFlight::enter(self.shared.clone());
        let response = self.inner.call(request);
        Box::pin(async move {
            let _handling = handling;
            response.await
        })
    }
}

/// One request being handled, until its response head is ready (a response body that
/// the client stops reading then counts as idle, as a blocked send did in eventlet).
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: Arc<Shared>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::AcqRel);
        if !shared.used.swap(true, Ordering::AcqRel) {
            shared.changed.notify_one();
        }
        InFlight(shared)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The idle time counts from the response, not from the request's last byte.
        self.0.touch();
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.changed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::oneshot;
    use tokio::time::timeout;
    use tower::Service;

    use super::*;

    #[tokio::test]
    async fn a_request_being_handled_is_never_idle() {
        let clock = Clock::start(None, Some(Duration::from_millis(100)));
        let mut service = clock.track(tower::service_fn(|done: oneshot::Receiver<()>| async move {
            let _ = done.await;
            Ok::<_, Infallible>(())
        }));
        let (finish, done) = oneshot::channel();
        let handling = tokio::spawn(service.call(done));
        assert!(timeout(Duration::from_millis(300), clock.expired())
            .await
            .is_err());

        let idle_from = Instant::now();
        let _ = finish.send(());
        let _ = handling.await;
        timeout(Duration::from_secs(2), clock.expired())
            .await
            .expect("idle after the response");
        assert!(idle_from.elapsed() >= Duration::from_millis(90));
    }

    #[tokio::test]
    async fn a_trickle_of_bytes_does_not_extend_the_first_head_deadline() {
        let clock = Clock::start(Some(Duration::from_millis(300)), Some(Duration::from_secs(60)));
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = clock.meter(server);
        tokio::spawn(async move {
            let mut byte = [0u8; 1];
            while server.read(&mut byte).await.is_ok_and(|n| n > 0) {}
        });
        let trickle = async {
            loop {
                if client.write_all(b"G").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let started = Instant::now();
        tokio::select! {
            () = clock.expired() => {}
            () = trickle => panic!("the client went away"),
            () = tokio::time::sleep(Duration::from_secs(2)) => panic!("not expired"),
        }
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
