//! The Kubernetes infra driver ([`KubernetesDriver`]) the conductor runs LCM operations
//! of Kubernetes VIMs through. Each operation builds its own client from the instance's
//! vimConnectionInfo (`client`); for OIDC VIMs it first obtains a fresh id_token
//! ([`oidc`]) and uses it as the bearer for every Kubernetes call it makes, renewing it
//! before it expires and when the API server refuses it (`token_source`, `bearer`). The
//! package's manifests are put into one namespace, labelled with the instance id and
//! ordered (`manifests`); the driver creates, scales, heals, replaces and deletes them and
//! waits until the cluster is ready by Tacker's rules (`readiness`), checking again on
//! every change its watches report and at least every poll interval.

mod bearer;
mod changes;
mod client;
mod driver;
mod error;
mod fenced;
mod manifests;
pub mod oidc;
mod operation;
mod pods;
pub mod probe;
mod readiness;
mod remove;
mod resources;
mod token_source;
mod vim_type;

pub use driver::{KubernetesDriver, KubernetesSettings, WAIT_TIMEOUT_PARAM};
pub use error::{Error, Result};
pub use manifests::INSTANCE_LABEL;
pub use oidc::{IdToken, OidcCredentials, OidcError};
pub use vim_type::{configured_drivers, drivers, KubernetesVim, KUBERNETES_V2};
