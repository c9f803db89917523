//! `[database]`: where the shared database is and how many connections wait how long.
//! oslo.db's option names and meanings; the defaults of the unset ones are tacker-rs's.

use std::path::Path;
use std::time::Duration;

use crate::config::{parsed, ConfigError, ValueRule};
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
                    .map_err(|_| ValueRule("must be a whole number"))
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
                    .ok_or(ValueRule("must be a positive number of seconds"))
            })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> Result<DatabaseOptions, ConfigError> {
        DatabaseOptions::from_ini(&IniFiles::parse_str(text).unwrap(), Path::new("/srv/tacker"))
    }

    #[test]
    fn defaults_are_oslo_dbs_with_a_prompt_pool_timeout() {
        let o = options("").unwrap();
        assert_eq!(o.connection, "sqlite:////srv/tacker/tacker.sqlite");
        assert_eq!((o.max_pool_size, o.max_overflow), (5, 50));
        assert_eq!(o.pool_timeout, Duration::from_secs(2));
    }

    #[test]
    fn values_are_read_and_bad_ones_named() {
        let o = options(
            "[database]\nconnection = postgresql://u@db/tacker\nmax_pool_size = 20\n\
             max_overflow = 0\npool_timeout = 0.5\nmax_retries = 10\n",
        )
        .unwrap();
        assert_eq!(o.connection, "postgresql://u@db/tacker");
        assert_eq!((o.max_pool_size, o.max_overflow), (20, 0));
        assert_eq!(o.pool_timeout, Duration::from_millis(500));
        for bad in [
            "max_pool_size = 0",
            "max_overflow = -1",
            "pool_timeout = 0",
            "pool_timeout = soon",
        ] {
            let err = options(&format!("[database]\n{bad}\n")).unwrap_err().to_string();
            let option = bad.split(' ').next().unwrap();
            assert!(err.contains(&format!("[database] {option}")), "{err}");
        }
    }
}
