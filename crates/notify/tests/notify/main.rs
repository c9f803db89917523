//! Integration tests of tacker-notify: one binary (link time), real HTTP(S) subscribers,
//! the real test authorization server, every database backend.
#![allow(clippy::unwrap_used)]

mod helpers;

mod delivery;
mod oauth2;
mod tls;
