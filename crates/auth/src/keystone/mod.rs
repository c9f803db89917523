//! Keystone tokens, as keystonemiddleware's `auth_token` filter validates them (and its
//! `oauth2_token` / `oauth2_mtls_token` variants for Keystone's OAuth 2.0 access
//! tokens), configured by `[keystone_authtoken]`.

mod filter;
mod identity;
mod service_auth;
mod setup;
mod token;

pub use filter::{keystone_thumbprint, keystone_token, BindMode, EmptyTokenBind, KeystoneAuth, TokenSource};
pub use identity::{Unavailable, ValidationError};
pub use setup::KeystoneConfigError;
pub use token::{AccessRule, Scope, TokenDataError, TokenInfo};
