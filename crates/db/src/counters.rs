//! The change counters (`vims_revision`, `lcm_revision`, `packages_revision`) that tell a process whether its
//! kept copy of a list is still current. Nearly every read request checks one, so on an
//! SQLite file they are read in place, on the request's own thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own: a query is a message to
//! that thread and an answer back, two sleeping threads woken, and that costs more CPU
//! than the read itself (see BENCHMARKS.md, "the database's thread hops"). Reading one row
//! of a one-page table in WAL mode never waits for a writer and takes a few microseconds,
//! less than a thread hop, so doing it synchronously does not hold up the runtime.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// A one-row change counter. LCM and package writes bump theirs as the first statement of
/// the transaction, `Lcm` before `Packages` where both change (an instance's usage of a
/// package), so their row locks are always taken in one order; VIM writes bump theirs
/// last, only when a row changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    Vims,
    Lcm,
    Packages,
}

impl Counter {
    pub(crate) fn select(self) -> &'static str {
        match self {
            Counter::Vims => "SELECT revision FROM vims_revision WHERE id = 1",
            Counter::Lcm => "SELECT revision FROM lcm_revision WHERE id = 1",
            Counter::Packages => "SELECT revision FROM packages_revision WHERE id = 1",
        }
    }

    pub(crate) fn bump(self) -> &'static str {
        match self {
            Counter::Vims => "UPDATE vims_revision SET revision = revision + 1 WHERE id = 1",
            Counter::Lcm => "UPDATE lcm_revision SET revision = revision + 1 WHERE id = 1",
            Counter::Packages => "UPDATE packages_revision SET revision = revision + 1 WHERE id = 1",
        }
    }
}

/// Connections kept for reuse; reads are synchronous, so no more than one per thread that
/// reads at the same moment is ever open.
const MAX_IDLE: usize = 16;

/// Reads counters of one SQLite file in place, over connections of its own.
pub(crate) struct InPlaceReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for InPlaceReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InPlaceReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl InPlaceReader {
    pub(crate) fn new(path: &Path) -> Self {
        InPlaceReader {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The counter's value, or `None` when it cannot be read at once (the file is locked
    /// for a WAL recovery, the schema is not there yet, ...): the caller then reads it
    /// through the pool, which waits as configured and reports the error.
    pub(crate) fn read(&self, counter: Counter) -> Option<i64> {
        let conn = match self.idle.lock().ok()?.pop() {
            Some(conn) => conn,
            None => self.open().ok()?,
        };
        let value = conn
            .prepare_cached(counter.select())
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .ok()?;
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        Some(value)
    }

    /// Closes the kept connections (the pool is closing too).
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // No CREATE: the pool made the file and set WAL mode, which the file keeps.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never wait on the request's thread: a busy file is the pool's to wait for.
        conn.busy_timeout(Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter_file(dir: &Path) -> PathBuf {
        let path = dir.join("counters.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
        conn.execute_batch(
            "CREATE TABLE lcm_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL);
             INSERT INTO lcm_revision VALUES (1, 7);",
        )
        .unwrap();
        path
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tacker-counters-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_the_current_value_and_sees_later_commits() {
        let dir = temp_dir();
        let path = counter_file(&dir);
        let reader = InPlaceReader::new(&path);
        assert_eq!(reader.read(Counter::Lcm), Some(7));
        let writer = Connection::open(&path).unwrap();
        writer
            .execute("UPDATE lcm_revision SET revision = revision + 1", [])
            .unwrap();
        // The kept connection must not answer from a stale snapshot.
        assert_eq!(reader.read(Counter::Lcm), Some(8));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn gives_way_to_the_pool_when_it_cannot_read_at_once() {
        let dir = temp_dir();
        let path = counter_file(&dir);
        let reader = InPlaceReader::new(&path);
        // No such table yet (an unmigrated file): the pool's read reports it.
        assert_eq!(reader.read(Counter::Vims), None);
        // A connection holding the file exclusively: no waiting on the caller's thread.
        let holder = Connection::open(&path).unwrap();
        holder.pragma_update(None, "locking_mode", "exclusive").unwrap();
        holder
            .execute_batch("BEGIN EXCLUSIVE; UPDATE lcm_revision SET revision = 9;")
            .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(InPlaceReader::new(&path).read(Counter::Lcm), None);
        assert!(started.elapsed() < Duration::from_secs(1));
        holder.execute_batch("COMMIT").unwrap();
        drop(holder);
        assert_eq!(reader.read(Counter::Lcm), Some(9));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
