//! The accept loop for HTTP and HTTPS alike: at most `max_connections` connections at
//! once, timeouts for clients that hold a connection without using it, and a bounded
//! drain on shutdown.
//!
//! Connections close in stages so that a client still sending a request the server has
//! already answered reads the answer (see [`linger`]), and a response whose request body
//! was left unread tells the client the connection closes (see [`unread_body`]).
//!
//! Written on hyper-util because `axum::serve` cannot set hyper's timeouts and
//! axum-server's loop accepts without bound; the TLS acceptor (and its peer-certificate
//! extension) is still axum-server's `Accept`.

mod idle;
mod linger;
pub(crate) mod nofile;
mod unread_body;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use axum_server::accept::Accept;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::Service;

use tacker_common::ConnectionOptions;

/// How client connections are bounded.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A complete request head within this long (see [`ConnectionOptions`]).
    pub header_timeout: Option<Duration>,
    /// Close connections silent this long with no request in hand.
    pub idle_timeout: Option<Duration>,
    /// HTTP/1.1 keep-alive.
    pub keep_alive: bool,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub drain: Duration,
}

impl ConnectionLimits {
    /// The configured limits, with the connection cap kept within `fd_budget` (the open
    /// files this process can spare for clients).
    pub fn new(options: &ConnectionOptions, fd_budget: Option<usize>, drain: Duration) -> Self {
        let mut max_connections = options.max_connections;
        if let Some(budget) = fd_budget.filter(|budget| *budget < max_connections) {
            tracing::warn!(
                max_client_connections = max_connections,
                serving = budget.max(1),
                "the open-file limit is too low for [DEFAULT] max_client_connections; serving fewer \
                 connections at once (raise LimitNOFILE or ulimit -n)"
            );
            max_connections = budget.max(1);
        }
        ConnectionLimits {
            header_timeout: options.client_header_timeout,
            idle_timeout: options.client_socket_timeout,
            keep_alive: options.keep_alive,
            max_connections,
            drain,
        }
    }
}

/// Serves `router` on `listener` through `acceptor` until `shutdown` completes, then
/// lets open connections finish for up to `limits.drain`.
pub async fn serve<A>(
    listener: TcpListener,
    acceptor: A,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    A: Accept<TcpStream, Router> + Clone + Send + Sync + 'static,
    A::Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A::Service:
        Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    <A::Service as Service<Request<Incoming>>>::Future: Send + 'static,
    A::Future: Send + 'static,
{
    let router = router.layer(unread_body::CloseAfterUnreadBodyLayer);
    let builder = Arc::new(http_builder(&limits));
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        // A slot first, then accept: past the cap, new connections wait in the kernel's
        // listen backlog instead of costing this process a file descriptor each.
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let tcp = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        connections.spawn(connection(
            tcp,
            acceptor.clone(),
            router.clone(),
            builder.clone(),
            limits.clone(),
            stop.clone(),
            slot,
        ));
    }
    // Refuse new connections at once rather than leave them in the backlog.
    drop(listener);
    stop.cancel();
    let drained = tokio::time::timeout(limits.drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "requests still running after the drain timeout are cut"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// hyper's HTTP/1 and HTTP/2 server with the configured keep-alive and head timeout.
fn http_builder(limits: &ConnectionLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper starts this timer whenever it waits for a request head: at the start of an
    // HTTP/1 connection and again after each response, so on a keep-alive connection the
    // wait for the next request counts too. `None` turns hyper's 30 s default off.
    builder
        .http1()
        // Header names as Tacker's eventlet server sends them over HTTP/1.1 (`Location`,
        // `Content-Type`); some client scripts look them up case-sensitively. HTTP/2
        // requires lowercase and keeps it.
        .title_case_headers(true)
        .timer(TokioTimer::new())
        .keep_alive(limits.keep_alive)
        .header_read_timeout(limits.header_timeout);
    builder
}

/// One client connection, holding its slot until it closes.
async fn connection<A>(
    tcp: TcpStream,
    acceptor: A,
    router: Router,
    builder: Arc<Builder<TokioExecutor>>,
    limits: Arc<ConnectionLimits>,
    stop: CancellationToken,
    _slot: OwnedSemaphorePermit,
) where
    A: Accept<TcpStream, Router>,
    A::Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A::Service:
        Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    <A::Service as Service<Request<Incoming>>>::Future: Send + 'static,
{
    // Small responses should not wait for the client's delayed ACK.
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    let (stream, service) = match acceptor.accept(tcp, router).await {
        Ok(accepted) => accepted,
        Err(e) => {
            tracing::debug!(error = %e, "connection not accepted (TLS handshake)");
            return;
        }
    };
    let clock = idle::Clock::start(limits.header_timeout, limits.idle_timeout);
    let io = TokioIo::new(clock.meter(linger::Lingering::new(stream)));
    let service = TowerToHyperService::new(clock.track(service));
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = clock.expired() => tracing::debug!("closing a connection left unused"),
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Per-connection errors (the client gave up) are skipped; others (out of file
/// descriptors, say) get a pause so that the loop does not spin.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
