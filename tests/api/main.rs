//! Whole-system tests of the API server over HTTP, on every database backend.
#![allow(clippy::unwrap_used)]

mod contract_vnflcm;
mod contract_vnfpkgm;
mod devstack;
mod health;
mod helpers;
mod k8s_e2e;
mod lcm_conductors;
mod lcm_errors;
mod lcm_helpers;
mod lcm_lifecycle;
mod lcm_notifications;
mod lcm_tackerclient;
mod manage_vim;
mod oauth2;
mod packages_errors;
mod packages_from_uri;
mod packages_lifecycle;
mod packages_list;
mod packages_tackerclient;
mod pipeline;
mod secrets_at_rest;
mod startup;
mod systemd;
mod tackerclient;
mod tls;
mod vims_crud;
mod vims_errors;
mod vims_scoping;
mod vims_shared_db;
