//! `[database]`: where the shared database is and how many connections wait how long.
//! oslo.db's option names and meanings; the defaults of the unset ones are tacker-rs's.

use std::path::Path;
use std::time::Duration;

use crate::config::{parsed, ConfigError};
use crate::ini::IniFiles;

const SECTION: &str = "database";

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseOptions {
    /// `connection`: an oslo.db (SQLAlchemy) URL; empty means a SQLite file in `state_path`.
    pub connection: String,
    /// `max_pool_size`: connections kept open (oslo.db: 5).
    pub max_pool_size: u32,
    /// `max_overflow`: connections opened beyond the pool under load (oslo.db: 50).
    pub max_overflow: u32,
    /// `pool_timeout`: how long a caller waits for a connection, whether the pool is busy
    /// or the database cannot be reached. oslo.db leaves an unset value to SQLAlchemy
    /// (30 s); tacker-rs answers 503 after 2 s instead, so that clients with shorter
    /// timeouts than the pool's see an answer, not a hang.
    pub pool_timeout: Duration,
}

impl DatabaseOptions {
    pub fn from_ini(files: &IniFiles, state_path: &Path) -> Result<Self, ConfigError> {
        // Read (and so accept) oslo.db's options that tacker-rs has no use for.
        for option in [
            "connection_recycle_time",
            "max_retries",
            "retry_interval",
            "db_max_retries",
            "mysql_sql_mode",
            "sqlite_synchronous",
            "connection_debug",
        ] {
            files.get(SECTION, option)?;
        }
        let connection = match files.get(SECTION, "connection")? {
            Some(url) if !url.is_empty() => url,
            _ => format!("sqlite:///{}", state_path.join("tacker.sqlite").display()),
        };
        let count = |option: &str, default: u32| {
            parsed(files, SECTION, option, default, |s| {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| "must be a whole number".to_string())
            })
        };
        let max_pool_size = count("max_pool_size", 5)?;
        if max_pool_size == 0 {
            return Err(ConfigError::invalid(
                SECTION,
                "max_pool_size",
                "0",
                "must be at least 1",
            ));
        }
        Ok(DatabaseOptions {
            connection,
            max_pool_size,
            max_overflow: count("max_overflow", 50)?,
            pool_timeout: parsed(files, SECTION, "pool_timeout", Duration::from_secs(2), |s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|secs| secs.is_finite() && *secs > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| "must be a positive number of seconds".to_string())
            })?,
        })
    }
}
