//! Integration tests of the fake kube-apiserver, in one binary: raw HTTP with reqwest and
//! the `kube` crate against it, OIDC with the test IdP (tests/idp) and a mini issuer.
#![allow(clippy::unwrap_used)]

mod support;

mod authn;
mod cli;
mod crud;
mod discovery;
mod faults;
mod kube_client;
mod oidc_idp;
mod oidc_rules;
mod rbac_audit;
mod watch;
mod workloads;
