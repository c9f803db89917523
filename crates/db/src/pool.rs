//! The connection pool of the configured backend and its schema migrations.

use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::counter_connections::{CounterConnections, Server};
use crate::counters::{Counter, InPlaceReader};
use crate::shared_reads::SharedReads;
use crate::url::DbTarget;
use crate::DbError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");
static MYSQL_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/mysql");

/// The database engine behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// Pool sizing and waiting, from `[database]` (oslo.db's options).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// `max_pool_size + max_overflow`: the most connections open at once.
    pub max_connections: u32,
    /// `pool_timeout`: the longest wait for a connection, busy pool or unreachable server.
    pub acquire_timeout: Duration,
}

/// SQLite writes one transaction at a time: connections beyond this only cost memory.
const SQLITE_MAX_CONNECTIONS: u32 = 16;

impl PoolSettings {
    pub fn from_options(options: &tacker_common::DatabaseOptions) -> Self {
        PoolSettings {
            max_connections: options.max_pool_size.saturating_add(options.max_overflow),
            acquire_timeout: options.pool_timeout,
        }
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// A handle to the shared database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    pub(crate) pool: Pool,
    /// Reads the change counters of an SQLite file without the pool's thread hop.
    in_place: Option<Arc<InPlaceReader>>,
    /// Shares each counter read among the requests that wait for it.
    shared_reads: Arc<SharedReads>,
    /// On a database server, the connections the counters are read over.
    counter_connections: Option<Arc<CounterConnections>>,
}

/// Runs `$body` with `$pool` bound to the backend's concrete pool and `$q` to the function
/// that turns `?` placeholders into the backend's own.
macro_rules! with_pool {
    ($db:expr, $pool:ident, $q:ident => $body:expr) => {
        match &$db.pool {
            $crate::pool::Pool::Sqlite($pool) => {
                let $q: for<'s> fn(&'s str) -> ::std::borrow::Cow<'s, str> = $crate::pool::question_marks;
                $body
            }
            $crate::pool::Pool::Postgres($pool) => {
                let $q: for<'s> fn(&'s str) -> ::std::borrow::Cow<'s, str> = $crate::pool::numbered;
                $body
            }
            $crate::pool::Pool::MySql($pool) => {
                let $q: for<'s> fn(&'s str) -> ::std::borrow::Cow<'s, str> = $crate::pool::question_marks;
                $body
            }
        }
    };
}

pub(crate) use with_pool;

/// Marks a change of what a counter covers, inside the changing transaction (see
/// `Counter` for which is taken first, and in which order).
macro_rules! bump_revision {
    ($tx:ident, $counter:expr) => {
        sqlx::query($counter.bump()).execute(&mut *$tx).await?;
    };
}
pub(crate) use bump_revision;

/// Starts a transaction that is going to write.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    /// Takes SQLite's write lock up front (`BEGIN IMMEDIATE`). A deferred transaction that
    /// reads first cannot upgrade its lock while another connection writes, and SQLite
    /// answers that with "database is locked" at once, without waiting for busy_timeout.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

impl BeginWrite for MySqlPool {
    type Db = sqlx::MySql;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::MySql>, sqlx::Error> {
        self.begin().await
    }
}

/// `?` placeholders as written (SQLite, MySQL).
pub(crate) fn question_marks(sql: &str) -> Cow<'_, str> {
    Cow::Borrowed(sql)
}

/// `?` placeholders rewritten to `$1, $2, ...` (PostgreSQL). Our SQL never has `?` in literals.
pub(crate) fn numbered(sql: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// SQL for the database's own clock, so that leases written and compared by processes on
/// different hosts, or computed after a long wait for a connection, all mean the same
/// moment: "now" and "now plus `?` microseconds" (bind an `i64`).
pub(crate) struct DbClock {
    pub now: &'static str,
    pub later: &'static str,
}

impl Database {
    /// Connects as `[database]` says: the connection URL, the pool's size and wait.
    pub async fn open(options: &tacker_common::DatabaseOptions) -> Result<Self, DbError> {
        Database::connect(&options.connection, &PoolSettings::from_options(options))
            .await
            .map_err(|source| DbError::Open {
                url: crate::url::redact(&options.connection),
                source: Box::new(source),
            })
    }

    pub(crate) fn clock(&self) -> DbClock {
        match self.pool {
            // The text form sqlx writes timestamps in, so that they compare as text.
            Pool::Sqlite(_) => DbClock {
                now: "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')",
                later: "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '+' || (? / 1000000.0) || ' seconds')",
            },
            Pool::Postgres(_) => DbClock {
                now: "clock_timestamp()",
                later: "(clock_timestamp() + ? * INTERVAL '1 microsecond')",
            },
            Pool::MySql(_) => DbClock {
                now: "UTC_TIMESTAMP(6)",
                later: "TIMESTAMPADD(MICROSECOND, ?, UTC_TIMESTAMP(6))",
            },
        }
    }

    /// Connects to `[database] connection` (an oslo.db URL). SQLite files and their folder
    /// are created when missing.
    pub async fn connect(connection: &str, settings: &PoolSettings) -> Result<Self, DbError> {
        let target = DbTarget::parse(connection)?;
        let sqlite_file = match &target {
            DbTarget::Sqlite(Some(path)) => Some(path.clone()),
            _ => None,
        };
        let pool = match target {
            DbTarget::Sqlite(path) => {
                let options = match &path {
                    Some(path) => {
                        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                            std::fs::create_dir_all(dir).map_err(|e| {
                                DbError::BadUrl(format!("cannot create {}: {e}", dir.display()))
                            })?;
                        }
                        SqliteConnectOptions::new()
                            .filename(path)
                            .create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal)
                    }
                    None => SqliteConnectOptions::from_str("sqlite::memory:")?,
                };
                // A writer waits for another's write lock as long as for a connection
                // (pool_timeout): then the database counts as busy (a 503, never a 500).
                let options = options.foreign_keys(true).busy_timeout(settings.acquire_timeout);
                // An in-memory database exists once per connection, so it gets exactly one.
                let max = if path.is_some() {
                    settings.max_connections.clamp(1, SQLITE_MAX_CONNECTIONS)
                } else {
                    1
                };
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(settings.acquire_timeout)
                        // A ping before each use guards against a server that hung up;
                        // a file cannot, and each ping is a round trip to the
                        // connection's worker thread, as costly as the query itself.
                        .test_before_acquire(false)
                        .connect_with(options)
                        .await?,
                )
            }
            DbTarget::Server(crate::Backend::Postgres, url) => Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(settings.max_connections.max(1))
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(PgConnectOptions::from_str(&url)?)
                    .await?,
            ),
            DbTarget::Server(_, url) => Pool::MySql(
                MySqlPoolOptions::new()
                    .max_connections(settings.max_connections.max(1))
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(MySqlConnectOptions::from_str(&url)?)
                    .await?,
            ),
        };
        // The pool has made the file: its absolute path stays right whatever the working
        // directory becomes.
        let in_place = sqlite_file.map(|path| {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            Arc::new(InPlaceReader::new(&path))
        });
        let server = match &pool {
            Pool::Sqlite(_) => None,
            Pool::Postgres(p) => Some(Server::Postgres(p.connect_options())),
            Pool::MySql(p) => Some(Server::MySql(p.connect_options())),
        };
        let counter_connections =
            server.map(|server| Arc::new(CounterConnections::new(server, settings.acquire_timeout)));
        Ok(Database {
            pool,
            in_place,
            shared_reads: Arc::default(),
            counter_connections,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
            Pool::MySql(_) => Backend::MySql,
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
            Pool::MySql(_) => &MYSQL_MIGRATIONS,
        }
    }

    /// Applies every pending migration (`tacker-manage db sync`).
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = self.migrator();
        match &self.pool {
            Pool::Sqlite(p) => migrator.run(p).await?,
            Pool::Postgres(p) => migrator.run(p).await?,
            Pool::MySql(p) => migrator.run(p).await?,
        }
        Ok(())
    }

    /// The versions of the migrations applied so far (empty on a fresh database).
    pub async fn applied_versions(&self) -> Result<Vec<i64>, DbError> {
        let sql = "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version";
        let result: Result<Vec<i64>, sqlx::Error> = with_pool!(self, pool, _q => {
            sqlx::query_scalar(sql).fetch_all(pool).await
        });
        match result {
            Ok(versions) => Ok(versions),
            // No bookkeeping table yet: nothing applied.
            Err(sqlx::Error::Database(_)) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Refuses to go on unless the schema is exactly the one this build expects.
    pub async fn ensure_migrated(&self) -> Result<(), DbError> {
        let applied: HashSet<i64> = self.applied_versions().await?.into_iter().collect();
        let known: HashSet<i64> = self.migrator().iter().map(|m| m.version).collect();
        if let Some(unknown) = applied.difference(&known).min() {
            return Err(DbError::SchemaTooNew(*unknown));
        }
        let pending = known.difference(&applied).count();
        if pending > 0 {
            return Err(DbError::NotMigrated { pending });
        }
        Ok(())
    }

    /// Runs one trivial query: is the database reachable?
    pub async fn ping(&self) -> Result<(), DbError> {
        with_pool!(self, pool, _q => {
            sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
        })?;
        Ok(())
    }

    /// A change counter's current value, as of a read begun after this call: in place on
    /// an SQLite file, else over the counter's own connection on a server (through the
    /// pool once closed, which refuses), one read shared by the callers waiting for it.
    pub(crate) async fn counter(&self, counter: Counter) -> Result<i64, DbError> {
        let open = !self.is_closed();
        if let Some(value) = self
            .in_place
            .as_ref()
            .filter(|_| open)
            .and_then(|r| r.read(counter))
        {
            return Ok(value);
        }
        self.shared_reads
            .read(counter, || {
                // Only a caller that starts a read gets here; the others join it.
                let pool = self.pool.clone();
                let own = self.counter_connections.clone().filter(|_| open);
                async move {
                    if let Some(connections) = own {
                        return connections.read(counter).await;
                    }
                    let sql = counter.select();
                    Ok(match &pool {
                        Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
                        Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
                        Pool::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
                    })
                }
            })
            .await
            .map_err(DbError::Shared)
    }

    fn is_closed(&self) -> bool {
        match &self.pool {
            Pool::Sqlite(p) => p.is_closed(),
            Pool::Postgres(p) => p.is_closed(),
            Pool::MySql(p) => p.is_closed(),
        }
    }

    /// Closes every connection (at shutdown, and before a test drops its database).
    pub async fn close(&self) {
        if let Some(reader) = &self.in_place {
            reader.close();
        }
        if let Some(connections) = &self.counter_connections {
            connections.close().await;
        }
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(numbered("a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
        assert_eq!(question_marks("a = ?"), "a = ?");
    }

    #[tokio::test]
    async fn counters_are_read_in_place_only_from_an_open_migrated_file() {
        let dir = std::env::temp_dir().join(format!("tacker-db-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite:///{}/tacker.sqlite", dir.display());
        let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
        // Not migrated: the in-place read gives way and the pool reports the missing table.
        assert!(db.counter(Counter::Lcm).await.is_err());
        db.migrate().await.unwrap();
        assert_eq!(db.counter(Counter::Lcm).await.unwrap(), 0);
        with_pool!(db, pool, _q => {
            let mut tx = pool.begin().await.unwrap();
            let bumped: Result<(), sqlx::Error> = async {
                bump_revision!(tx, Counter::Lcm);
                Ok(())
            }
            .await;
            bumped.unwrap();
            tx.commit().await.unwrap();
        });
        assert_eq!(db.counter(Counter::Lcm).await.unwrap(), 1);
        // A closed database answers nothing, not even from its in-place connections.
        db.close().await;
        assert!(db.counter(Counter::Lcm).await.is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn fresh_database_is_not_migrated_until_sync() {
        let db = Database::connect("sqlite://", &PoolSettings::default())
            .await
            .unwrap();
        assert!(matches!(
            db.ensure_migrated().await,
            Err(DbError::NotMigrated { .. })
        ));
        db.migrate().await.unwrap();
        db.ensure_migrated().await.unwrap();
        db.ping().await.unwrap();
    }
}
