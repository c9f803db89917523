//! The request pipeline's filters, as api-paste.ini names them: `request_id`,
//! `catch_errors`, and `keystonecontext` (identity headers to a [`RequestContext`]),
//! plus the error bodies every API answers with.
//!
//! [`RequestContext`]: tacker_common::RequestContext

pub mod context;
pub mod fault;
pub mod oauth2;
pub mod request_id;

pub use fault::{fault, ApiFlavor};
pub use request_id::RequestId;
