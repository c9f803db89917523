//! The infra-driver boundary. The API side and the conductor take one [`Drivers`]
//! registry; each VIM type's crate (crates/k8s for Kubernetes) implements [`VimDriver`]
//! and [`InfraDriver`]. Nothing here knows a particular VIM type, except the
//! [`test_driver`], which runs workloads in memory for tests and benchmarks.

pub mod fence;
mod infra;
mod registry;
pub mod test_driver;

pub use fence::{ClaimState, Fence, FenceControl, Halted};
pub use infra::{DriverError, InfraDriver, Plan, VimConnection, Vnfc, Workload};
pub use registry::{Drivers, InvalidAdditionalParams, ProbeFailed, VimDriver};
pub use tacker_sol003::Operation;
pub use test_driver::TestDriver;
