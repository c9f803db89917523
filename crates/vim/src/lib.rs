//! The VIM registry: Tacker's `/v1.0/vims` resource rules, credentials encrypted per VIM,
//! tenant scoping. HTTP-agnostic; the server crate maps [`VimError`] to responses.

mod attrs;
pub mod auth_cred;
mod connection;
mod error;
mod list;
mod service;

pub use attrs::{parse_create, parse_update, unwrap_body, CreateVim, UpdateVim};
pub use connection::RegisteredVim;
pub use error::VimError;
pub use list::ListedVim;
pub use service::{ListQuery, VimList, VimService, VimView};
