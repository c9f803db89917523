//! A faithful-enough fake kube-apiserver for tests (see `shared/reference/kubernetes-test-rig.md`):
//!
//! - HTTPS on 127.0.0.1 with its own rcgen CA ([`FakeKube::ca_pem`]);
//! - authentication by static bearer tokens, OIDC id_tokens validated like kube-apiserver's
//!   `--oidc-*` flags ([`OidcConfig`]) and optional basic auth; failures are the exact 401 `Status`;
//! - a tiny RBAC ([`Rbac`]) answering 403 `Status` like the real authorizer;
//! - an audit log of every request ([`AuditEntry`]), with the bearer token's sha256;
//! - discovery, stateful resources (core, apps, batch, rbac and a few more) with create, get,
//!   list (label and field selectors), replace, patch, delete (Foreground, Background, Orphan),
//!   deletecollection, `/status` and `/scale`, and watches (`?watch=1`: newline-delimited
//!   WatchEvents from a resourceVersion, label and field selectors, `timeoutSeconds`,
//!   bookmarks, 410 Expired beyond the kept history);
//! - a reconciler that turns Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs into
//!   Pods that go Running, keeps status counts in step, fills Endpoints, binds PVCs and
//!   garbage-collects dependents;
//! - fault injection ([`Faults`]) for negative tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tacker_fake_kube::Error> {
//! use tacker_fake_kube::{FakeKube, FakeKubeConfig};
//! let kube = FakeKube::start(FakeKubeConfig::default()).await?;
//! println!("{} {}", kube.url(), kube.admin_token());
//! # Ok(()) }
//! ```

mod app;
mod audit;
mod auth;
mod config;
mod defaults;
mod error;
mod faults;
mod history;
mod meta;
mod patch;
mod rbac;
mod reconciler;
pub mod resources;
mod routes;
mod selector;
mod server;
mod status;
mod store;
mod tls;

pub use audit::{sha256_hex, AuditEntry};
pub use auth::oidc::OidcConfig;
pub use auth::token::parse_token_file;
pub use auth::UserInfo;
pub use config::{FakeKubeConfig, Timings};
pub use error::{Error, Result};
pub use faults::{Faults, InjectedError, PodFault};
pub use rbac::{Authorization, Rbac, Rule, Subject};
pub use selector::LabelSelector;
pub use server::FakeKube;
pub use status::{ApiError, Cause, GroupResource};
