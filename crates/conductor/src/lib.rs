//! tacker-conductor: claims the LCM operation occurrences the API servers record in the
//! shared database, runs them through the VIM type's infra driver, and records each state
//! change with its notifications. Several conductors may share one database.

pub mod driver;
mod executor;
pub mod fence;
mod plan;
mod process;
pub mod test_driver;
mod worker;

pub use driver::{DriverError, InfraDriver, Plan, VimConnection, Vnfc, Workload};
pub use executor::{Drivers, Executor};
pub use fence::{ClaimState, Fence};
pub use process::ConductorProcess;
pub use test_driver::TestDriver;
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
