//! On PostgreSQL and MariaDB, a connection kept for each change counter's reads.
//!
//! A read through the pool is three round trips: sqlx pings a connection when it is taken
//! (that ping is what bounds a stalled server by `pool_timeout`) and again when it is
//! given back. The counters are read on nearly every request, one read at a time per
//! counter (`shared_reads`), so each keeps a connection of its own and reads with one
//! round trip. The read is bounded by `pool_timeout` instead; a kept connection that fails
//! is replaced at once (the server may have closed it meanwhile), and one that times out is
//! dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::counters::Counter;
use crate::error::DbError;

/// How to open a counter's connection.
#[derive(Debug, Clone)]
pub(crate) enum Server {
    Postgres(Arc<PgConnectOptions>),
    MySql(Arc<MySqlConnectOptions>),
}

enum Conn {
    Postgres(PgConnection),
    MySql(MySqlConnection),
}

impl Conn {
    async fn open(server: &Server) -> Result<Self, sqlx::Error> {
        Ok(match server {
            Server::Postgres(options) => Conn::Postgres(options.connect().await?),
            Server::MySql(options) => Conn::MySql(options.connect().await?),
        })
    }

    async fn read(&mut self, counter: Counter) -> Result<i64, sqlx::Error> {
        let sql = counter.select();
        match self {
            Conn::Postgres(conn) => sqlx::query_scalar(sql).fetch_one(conn).await,
            Conn::MySql(conn) => sqlx::query_scalar(sql).fetch_one(conn).await,
        }
    }

    async fn close(self) -> Result<(), sqlx::Error> {
        match self {
            Conn::Postgres(conn) => conn.close().await,
            Conn::MySql(conn) => conn.close().await,
        }
    }
}

/// The three counters' connections.
pub(crate) struct CounterConnections {
    server: Server,
    timeout: Duration,
    vims: tokio::sync::Mutex<Option<Conn>>,
    lcm: tokio::sync::Mutex<Option<Conn>>,
    packages: tokio::sync::Mutex<Option<Conn>>,
    /// Set by `close`: a read that was already waiting must not open a connection again.
    closed: AtomicBool,
}

impl std::fmt::Debug for CounterConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CounterConnections")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl CounterConnections {
    /// Connections are opened on first use; `timeout` bounds each read, opening included.
    pub(crate) fn new(server: Server, timeout: Duration) -> Self {
        CounterConnections {
            server,
            timeout,
            vims: Default::default(),
            lcm: Default::default(),
            packages: Default::default(),
            closed: AtomicBool::new(false),
        }
    }

    fn slot(&self, counter: Counter) -> &tokio::sync::Mutex<Option<Conn>> {
        match counter {
            Counter::Vims => &self.vims,
            Counter::Lcm => &self.lcm,
            Counter::Packages => &self.packages,
        }
    }

    /// The counter's value, read over its own connection.
    pub(crate) async fn read(&self, counter: Counter) -> Result<i64, DbError> {
        let mut slot = self.slot(counter).lock().await;
        if self.closed.load(Ordering::Acquire) {
            return Err(DbError::Sqlx(sqlx::Error::PoolClosed));
        }
        let kept = slot.take();
        let server = &self.server;
        let read = async move {
            if let Some(mut conn) = kept {
                match conn.read(counter).await {
                    Ok(value) => return Ok((conn, value)),
                    // The server may have closed it since (a restart, a cut connection):
                    // a new one answers for it, as the pool's ping would have found.
                    Err(error) => tracing::debug!(%error, "reopening a change counter's connection"),
                }
            }
            let mut conn = Conn::open(server).await?;
            let value = conn.read(counter).await?;
            Ok::<_, sqlx::Error>((conn, value))
        };
        // A failed or timed-out connection is dropped with the future.
        match tokio::time::timeout(self.timeout, read).await {
            Ok(Ok((conn, value))) => {
                *slot = Some(conn);
                Ok(value)
            }
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(DbError::Sqlx(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer to a change counter read within {:?}", self.timeout),
            )))),
        }
    }

    /// Closes the connections (before a database is dropped, or at shutdown).
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for counter in [Counter::Vims, Counter::Lcm, Counter::Packages] {
            if let Some(conn) = self.slot(counter).lock().await.take() {
                let _ = tokio::time::timeout(self.timeout, conn.close()).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::net::TcpListener;

    use super::*;

    /// A "server" that accepts connections and never answers, counting them.
    async fn silent_server() -> (Server, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        let options = PgConnectOptions::new().host("127.0.0.1").port(port);
        (Server::Postgres(Arc::new(options)), accepted)
    }

    fn is_pool_closed(result: &Result<i64, DbError>) -> bool {
        matches!(result, Err(DbError::Sqlx(sqlx::Error::PoolClosed)))
    }

    #[tokio::test]
    async fn a_read_after_close_opens_nothing() {
        let (server, accepted) = silent_server().await;
        let connections = CounterConnections::new(server, Duration::from_millis(200));
        connections.close().await;
        assert!(is_pool_closed(&connections.read(Counter::Vims).await));
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_read_queued_across_close_opens_nothing() {
        let (server, accepted) = silent_server().await;
        // The first read holds the counter's slot on the wire until its timeout (long
        // enough for a loaded machine); the second waits for the slot, and the close
        // comes while both are in hand.
        let connections = Arc::new(CounterConnections::new(server, Duration::from_secs(2)));
        let on_the_wire = tokio::spawn({
            let connections = connections.clone();
            async move { connections.read(Counter::Lcm).await }
        });
        while accepted.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let queued = tokio::spawn({
            let connections = connections.clone();
            async move { connections.read(Counter::Lcm).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        connections.close().await;

        let first = on_the_wire.await.unwrap();
        assert!(
            matches!(first, Err(DbError::Sqlx(sqlx::Error::Io(_)))),
            "{first:?}"
        );
        let second = queued.await.unwrap();
        assert!(is_pool_closed(&second), "{second:?}");
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "the queued read opened a connection"
        );
    }
}
