//! Database faults for tests: a server's database stalls (answers nothing for a while)
//! or goes down (its connections are dropped and new ones refused), then comes back.
//!
//! PostgreSQL and MariaDB are reached through a TCP relay the test controls; the shared
//! database servers themselves are never stopped, so other tests go on. A SQLite file
//! "stalls" for writers while another connection holds its write lock.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the relay does with traffic now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Up,
    /// Bytes wait; connections stay open.
    Stalled,
    /// Connections are cut and new ones closed at once.
    Down,
}

/// A TCP relay in front of a database server.
pub struct DbRelay {
    /// Where clients connect instead of the server.
    pub addr: SocketAddr,
    link: watch::Sender<Link>,
    pipes: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: JoinHandle<()>,
}

impl DbRelay {
    /// Relays a loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> DbRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (link, watcher) = watch::channel(Link::Up);
        let pipes: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let tracked = pipes.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *watcher.borrow() == Link::Down {
                    drop(client);
                    continue;
                }
                let pipe = tokio::spawn(relay(client, upstream, watcher.clone()));
                let mut all = tracked.lock().unwrap();
                all.retain(|p| !p.is_finished());
                all.push(pipe);
            }
        });
        DbRelay {
            addr,
            link,
            pipes,
            acceptor,
        }
    }

    /// The database stops answering; connections stay open.
    pub fn stall(&self) {
        self.link.send_replace(Link::Stalled);
    }

    /// The database goes down: open connections are cut, new ones closed at once.
    pub fn cut(&self) {
        self.link.send_replace(Link::Down);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.link.send_replace(Link::Up);
    }
}

impl Drop for DbRelay {
    fn drop(&mut self) {
        self.acceptor.abort();
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, link: watch::Receiver<Link>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        _ = pump(client_read, server_write, link.clone()) => {}
        _ = pump(server_read, client_write, link) => {}
    }
}

/// Copies one direction, holding each chunk while the link is stalled.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut link: watch::Receiver<Link>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        match link.wait_for(|l| *l != Link::Stalled).await.map(|l| *l) {
            Ok(Link::Up) => {}
            _ => return,
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// Holds a SQLite file's write lock, as a long transaction of another process would.
pub struct SqliteWriteLock {
    _conn: sqlx::SqliteConnection,
}

impl SqliteWriteLock {
    /// Takes the write lock of the SQLite database at `connection` (an oslo.db URL).
    pub async fn take(connection: &str) -> SqliteWriteLock {
        let path = PathBuf::from(connection.trim_start_matches("sqlite:///"));
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.unwrap();
        SqliteWriteLock { _conn: conn }
    }
}

/// `connection` (an oslo.db URL of a database server) pointed at `relay` instead.
pub fn through_relay(connection: &str, relay: SocketAddr) -> String {
    let (scheme, rest) = connection.split_once("://").unwrap();
    let mut url = url::Url::parse(&format!("db://{rest}")).unwrap();
    url.set_host(Some(&relay.ip().to_string())).unwrap();
    url.set_port(Some(relay.port())).unwrap();
    format!("{scheme}://{}", url.as_str().trim_start_matches("db://"))
}

/// The server address in an oslo.db URL.
pub fn server_addr(connection: &str) -> SocketAddr {
    let (_, rest) = connection.split_once("://").unwrap();
    let url = url::Url::parse(&format!("db://{rest}")).unwrap();
    let host = url.host_str().unwrap();
    let port = url.port().unwrap();
    SocketAddr::from_str(&format!("{host}:{port}")).unwrap_or_else(|_| {
        std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
            .unwrap()
            .next()
            .unwrap()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_pointed_at_the_relay() {
        let relay: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(
            through_relay("postgresql://postgres@127.0.0.1:5432/tacker_test_1", relay),
            "postgresql://postgres@127.0.0.1:4000/tacker_test_1"
        );
        assert_eq!(
            through_relay("mysql+pymysql://root@127.0.0.1:3306/t?charset=utf8", relay),
            "mysql+pymysql://root@127.0.0.1:4000/t?charset=utf8"
        );
        assert_eq!(
            server_addr("mysql+pymysql://root@127.0.0.1:3306/t"),
            "127.0.0.1:3306".parse().unwrap()
        );
    }
}
