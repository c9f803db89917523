//! VNF lifecycle management as ETSI SOL003 defines it and Tacker serves it, v1 and v2:
//! instances, operation occurrences and their state machine, VIM selection, subscriptions
//! and the notifications each change produces. HTTP-agnostic; the server maps [`LcmError`]
//! to ProblemDetails, the conductor runs the operations.

pub mod attributes;
mod error;
pub mod heal;
pub mod model;
pub mod notifications;
mod occurrences;
mod operations;
pub mod requests;
pub mod scaling;
mod service;
pub mod subscriptions;
pub mod views;
pub mod vim_conn;

pub use error::{LcmError, Result};
pub use model::{ApiVersion, CancelMode, InstantiationState, OpState, Operation, PendingAction};
pub use service::{enforce, plain_page, LcmService, Listed, Page, SharedTester};
pub use subscriptions::{AuthenticationCodec, CallbackTester};
