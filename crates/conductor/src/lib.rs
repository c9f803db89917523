//! tacker-conductor: claims the LCM operation occurrences the API servers record in the
//! shared database, runs them through the VIM type's infra driver, and records each state
//! change with its notifications. Several conductors may share one database. The drivers
//! come from the registry of crates/driver, as the API server's do.

mod executor;
mod plan;
mod process;
mod worker;

pub use executor::Executor;
pub use process::ConductorProcess;
pub use worker::{Conductor, ConductorSettings, Wake};

/// A name for this conductor's claims: host, process and a random part, so that two
/// conductors never share one.
pub fn holder_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}
