//! After the TLS handshake, the client's verified certificate (if any) goes into every
//! request of that connection as a [`PeerCertificate`] extension.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use axum_server::tls::TlsService;
use axum_server::tls_rustls::RustlsAcceptor;
use tacker_common::PeerCertificate;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// rustls acceptance plus the peer certificate for the request pipeline.
#[derive(Clone)]
pub struct PeerCertAcceptor {
    inner: RustlsAcceptor,
}

impl PeerCertAcceptor {
    pub fn new(inner: RustlsAcceptor) -> Self {
        PeerCertAcceptor { inner }
    }
}

impl<S> Accept<TcpStream, S> for PeerCertAcceptor
where
    S: Send + 'static,
{
    type Stream = TlsStream<TcpStream>;
    type Service = WithPeer<TlsService<S>>;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        // The handshake is several small writes: without TCP_NODELAY, Nagle's algorithm
        // and the client's delayed ACK cost ~40 ms per new connection.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let accept = self.inner.accept(stream, service);
        Box::pin(async move {
            let (stream, service) = accept.await?;
            let peer = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|leaf| PeerCertificate(Arc::new(leaf.as_ref().to_vec())));
            Ok((stream, WithPeer { inner: service, peer }))
        })
    }
}

/// A connection's service that adds the peer certificate to each request.
#[derive(Clone)]
pub struct WithPeer<S> {
    inner: S,
    peer: Option<PeerCertificate>,
}

impl<S, B> tower::Service<http::Request<B>> for WithPeer<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(peer) = &self.peer {
            request.extensions_mut().insert(peer.clone());
        }
        self.inner.call(request)
    }
}
