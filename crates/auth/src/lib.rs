//! The request pipeline's filters, as api-paste.ini names them: `request_id`,
//! `catch_errors`, the token filters (Keystone's `authtoken` and its OAuth 2.0 variants,
//! external OAuth2 introspection) and `keystonecontext` (identity headers to a
//! [`RequestContext`]), plus the error bodies every API answers with.
//!
//! [`RequestContext`]: tacker_common::RequestContext

pub mod cache;
pub mod context;
pub mod fault;
mod identity_headers;
pub mod keystone;
pub mod oauth2;
pub mod request_id;

pub use fault::{fault, ApiFlavor};
pub use request_id::RequestId;
