//! The database shared by tacker-server and tacker-conductor: one pool over SQLite,
//! PostgreSQL or MariaDB/MySQL, embedded migrations per backend, and repositories.
//!
//! Queries are written once with `?` placeholders and run on the concrete driver of the
//! configured backend (`with_pool!`), so each backend keeps its native types
//! (timestamps, booleans) and its own error details.

pub mod alarms;
mod counter_connections;
mod counters;
mod error;
pub mod instances;
mod json;
pub mod notifications;
pub mod packages;
pub mod pm;
mod pool;
mod shared_reads;
pub mod url;
pub mod vims;

pub use error::DbError;
pub use json::{StoredJson, StoredJsonError};
pub use pool::{Backend, Database, PoolSettings};
