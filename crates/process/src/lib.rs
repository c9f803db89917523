//! What every tacker-rs process shares, and nothing else: its command line, its logging,
//! its stop signal. Binaries and tools link this instead of the API server.

mod cli;
mod signal;
pub mod telemetry;

pub use cli::DaemonArgs;
pub use signal::shutdown_signal;
