//! Clients that open connections and do not use them give them back: half-sent heads and
//! silent sockets after `client_header_timeout`, idle keep-alive connections after
//! `client_socket_timeout`, and past `max_client_connections` new connections wait
//! instead of costing the server its file descriptors.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::sqlite_app;
use crate::tacker_process::TackerProcess;

const HALF_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
const FULL_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Reads (and drops) whatever comes until the server closes the connection; how long
/// that took, or `None` if it is still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    closed.ok().map(|()| start.elapsed())
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status.
async fn read_response(stream: &mut TcpStream) -> u16 {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return head[9..12].parse().unwrap();
            }
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed mid-response: {}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn unfinished_request_heads_are_closed_after_client_header_timeout() {
    let app = sqlite_app("[DEFAULT]\nclient_header_timeout = 1\n").await;
    let addr = app.socket_addr();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(HALF_HEAD).await.unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // On a keep-alive connection the timeout applies to the next request's head too.
    let mut second = TcpStream::connect(addr).await.unwrap();
    second.write_all(FULL_HEAD).await.unwrap();
    assert_eq!(read_response(&mut second).await, 200);
    second.write_all(HALF_HEAD).await.unwrap();

    for (name, stream) in [
        ("half head", &mut half),
        ("silent", &mut silent),
        ("second head", &mut second),
    ] {
        let took = closed_within(stream, Duration::from_secs(4))
            .await
            .unwrap_or_else(|| panic!("{name}: still open after 4 s"));
        assert!(took < Duration::from_secs(3), "{name}: closed after {took:?}");
    }
    // Not before the timeout: the first socket waited for its whole second.
    let mut early = TcpStream::connect(addr).await.unwrap();
    early.write_all(HALF_HEAD).await.unwrap();
    let took = closed_within(&mut early, Duration::from_secs(4)).await.unwrap();
    assert!(took >= Duration::from_millis(800), "closed after {took:?}");
}

#[tokio::test]
async fn idle_keep_alive_connection_is_closed_after_client_socket_timeout() {
    let app = sqlite_app("[DEFAULT]\nclient_socket_timeout = 1\nclient_header_timeout = 10\n").await;
    let mut stream = TcpStream::connect(app.socket_addr()).await.unwrap();
    stream.write_all(FULL_HEAD).await.unwrap();
    assert_eq!(read_response(&mut stream).await, 200);
    let took = closed_within(&mut stream, Duration::from_secs(4))
        .await
        .expect("an idle keep-alive connection stays open");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn connections_past_max_client_connections_wait_until_one_closes() {
    let app = sqlite_app("[DEFAULT]\nmax_client_connections = 2\n").await;
    let addr = app.socket_addr();
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    for stream in [&mut first, &mut second] {
        stream.write_all(FULL_HEAD).await.unwrap();
        assert_eq!(read_response(stream).await, 200);
    }

    // The third connection is queued by the kernel, not served.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut byte)).await;
    assert!(early.is_err(), "served past the cap: {early:?}");

    drop(first);
    let status = tokio::time::timeout(Duration::from_secs(3), read_response(&mut third))
        .await
        .expect("not served after a slot was freed");
    assert_eq!(status, 200);
    assert!(closed_within(&mut third, Duration::from_secs(2)).await.is_some());

    // With the third gone, an ordinary client is served beside the second.
    let response = app.request(reqwest::Method::GET, "/").send().await.unwrap();
    assert_eq!(response.status(), 200);
    drop(second);
}

/// The reported failure: a process with the usual small open-file limit, and more
/// half-sent requests than it has descriptors; a normal request must still be answered.
#[tokio::test]
async fn hundreds_of_unfinished_heads_do_not_lock_out_other_clients() {
    let dir = tempfile::tempdir().unwrap();
    let tacker = TackerProcess::start(dir.path(), "client_header_timeout = 1", Some(256)).await;
    let addr: SocketAddr = format!("127.0.0.1:{}", tacker.port).parse().unwrap();
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // Queued connections take the bytes into the kernel's buffer all the same.
        stream.write_all(HALF_HEAD).await.unwrap();
        slow.push(stream);
    }

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(6))
        .build()
        .unwrap();
    let response = client.get(tacker.url("/")).send().await;
    let status = response.map(|r| r.status().as_u16());
    assert!(matches!(status, Ok(200)), "{status:?}");

    // Every slow connection was given back (the last ones were queued behind the cap).
    for (i, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(4)).await.is_some(),
            "slow connection {i} still open"
        );
    }
    let stderr = tacker.stop().await;
    assert!(
        stderr.contains("max_client_connections"),
        "the lowered cap is reported: {stderr}"
    );
}
