//! tacker-server: Tacker's REST APIs assembled from api-paste.ini over the shared database.

pub mod app;
mod apps;
mod error;
mod extract;
mod health;
pub mod lcm_wiring;
mod pipeline;
mod serve;
mod state;

pub use app::{Application, BuildOptions};
pub use state::{AppState, Shared};
