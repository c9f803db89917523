//! Closing a connection whose client may still be sending (RFC 9112 §9.6).
//!
//! When the server answers before it has read the whole request (a 413 for a body over
//! `max_request_body_size`, a 401 before an upload), hyper stops reading and closes.
//! Closing a socket with unread bytes makes the kernel send a TCP reset, which can
//! overtake the response: a client still writing its body (Python's `http.client`,
//! hence python-tackerclient) gets a broken pipe and never reads the answer. So the
//! close is done in stages: the write side first (the client sees the response and then
//! an end of stream), then what the client still sends is read and dropped, within
//! bounds, and only then is the socket closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// At most this much of a request is read and dropped after the response.
pub(super) const LINGER_BYTES: usize = 32 * 1024 * 1024;
/// At most this long is spent draining after the response.
pub(super) const LINGER_TIME: Duration = Duration::from_secs(2);
/// Draining stops when the client sends nothing for this long.
pub(super) const LINGER_QUIET: Duration = Duration::from_millis(500);

/// IO whose shutdown lingers: see the module documentation.
pub(super) struct Lingering<T> {
    io: T,
    stage: Stage,
}

enum Stage {
    Open,
    Draining {
        until: Instant,
        timer: Pin<Box<Sleep>>,
        drained: usize,
    },
    Closed,
}

impl<T> Lingering<T> {
    pub(super) fn new(io: T) -> Self {
        Lingering {
            io,
            stage: Stage::Open,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Lingering<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.stage {
                Stage::Open => {
                    // The response is out; end the write side (TLS close_notify, then FIN).
                    let shut = ready!(Pin::new(&mut this.io).poll_shutdown(cx));
                    if shut.is_err() {
                        this.stage = Stage::Closed;
                        return Poll::Ready(shut);
                    }
                    let now = Instant::now();
                    this.stage = Stage::Draining {
                        until: now + LINGER_TIME,
                        timer: Box::pin(tokio::time::sleep_until(now + LINGER_QUIET)),
                        drained: 0,
                    };
                }
                Stage::Draining {
                    until,
                    timer,
                    drained,
                } => {
                    let mut chunk = [0u8; 16 * 1024];
                    let mut buf = ReadBuf::new(&mut chunk);
                    match Pin::new(&mut this.io).poll_read(cx, &mut buf) {
                        // The client has finished (end of stream) or gone (reset).
                        Poll::Ready(Ok(())) if buf.filled().is_empty() => this.stage = Stage::Closed,
                        Poll::Ready(Err(_)) => this.stage = Stage::Closed,
                        Poll::Ready(Ok(())) => {
                            *drained += buf.filled().len();
                            let now = Instant::now();
                            if *drained >= LINGER_BYTES || now >= *until {
                                this.stage = Stage::Closed;
                            } else {
                                timer.as_mut().reset((now + LINGER_QUIET).min(*until));
                            }
                        }
                        Poll::Pending => {
                            ready!(timer.as_mut().poll(cx));
                            // Quiet for LINGER_QUIET, or LINGER_TIME is up.
                            this.stage = Stage::Closed;
                        }
                    }
                }
                Stage::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn shutdown_ends_the_write_side_then_drains_until_the_client_finishes() {
        let (server, mut client) = tokio::io::duplex(64 * 1024);
        let mut server = Lingering::new(server);
        let sender = tokio::spawn(async move {
            // The client writes a body larger than the pipe holds, then reads the answer.
            let body = vec![b'x'; 1024 * 1024];
            client.write_all(&body).await.unwrap();
            client.shutdown().await.unwrap();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).await.unwrap();
            answer
        });
        server
            .write_all(b"HTTP/1.1 413 Payload Too Large\r\n\r\n")
            .await
            .unwrap();
        server.shutdown().await.unwrap();
        let Stage::Closed = server.stage else {
            panic!("still draining");
        };
        assert_eq!(sender.await.unwrap(), b"HTTP/1.1 413 Payload Too Large\r\n\r\n");
    }

    #[tokio::test]
    async fn a_silent_client_is_waited_for_only_briefly() {
        let (server, _client) = tokio::io::duplex(1024);
        let mut server = Lingering::new(server);
        let start = Instant::now();
        server.shutdown().await.unwrap();
        let took = start.elapsed();
        assert!(took >= LINGER_QUIET && took < LINGER_TIME, "{took:?}");
    }

    #[tokio::test]
    async fn a_client_that_keeps_sending_is_cut_after_the_linger_time() {
        let (server, mut client) = tokio::io::duplex(1024);
        let mut server = Lingering::new(server);
        tokio::spawn(async move {
            loop {
                if client.write_all(b"x").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let start = Instant::now();
        server.shutdown().await.unwrap();
        let took = start.elapsed();
        assert!(
            took >= LINGER_TIME && took < LINGER_TIME + LINGER_QUIET,
            "{took:?}"
        );
    }
}
