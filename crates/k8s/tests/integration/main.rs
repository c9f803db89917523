//! tacker-k8s integration tests: one binary (link time). The OIDC token source against
//! the real test IdP, and the driver against the fake kube-apiserver over HTTPS.
#![allow(clippy::unwrap_used)]

mod access;
mod lifecycle;
mod oidc;
mod oidc_renewal;
mod oidc_vim;
mod retry;
mod rig;
mod waiting;
