//! The applications api-paste.ini can mount, by their Paste factory names.

mod etag;
mod etsi;
pub mod prometheus;
pub mod rendered_lists;
pub mod unimplemented;
pub mod v1_0;
mod version_header;
pub mod versions;
pub mod vnffm;
pub mod vnflcm;
pub mod vnfpkgm;
pub mod vnfpm;

use axum::http::{header, HeaderMap, Uri};
use axum::Router;
use tacker_auth::ApiFlavor;
use tacker_common::Config;

use crate::AppState;

/// An application tacker-rs knows, identified by Tacker's `paste.app_factory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Versions,
    TackerV1_0,
    Vnfpkgm,
    VnflcmV1,
    VnflcmV2,
    VnflcmVersions,
    VnffmV1,
    /// Alertmanager's webhook for faults (`POST /alert`).
    FmAlert,
    /// Alertmanager's webhooks for auto-heal (`POST /alert/auto_healing`) and auto-scale
    /// (`POST /alert/auto_scaling`).
    AutoHealing,
    AutoScaling,
    VnfpmV2,
    /// Alertmanager's webhooks for PM jobs (`POST /pm_event`) and thresholds
    /// (`POST /pm_threshold`).
    PmEvent,
    PmThreshold,
    /// A Tacker API that tacker-rs does not serve yet: every call gets a clear 501.
    Unimplemented(&'static str),
}

impl AppKind {
    pub fn from_factory(factory: &str) -> Option<Self> {
        let kind = match factory {
            "tacker.api.versions:Versions.factory" => AppKind::Versions,
            "tacker.api.v1.router:APIRouter.factory" => AppKind::TackerV1_0,
            "tacker.api.vnfpkgm.v1.router:VnfpkgmAPIRouter.factory" => AppKind::Vnfpkgm,
            "tacker.api.vnflcm.v1.router:VnflcmAPIRouter.factory" => AppKind::VnflcmV1,
            "tacker.sol_refactored.api.router:VnflcmAPIRouterV2.factory" => AppKind::VnflcmV2,
            "tacker.sol_refactored.api.router:VnflcmVersions.factory" => AppKind::VnflcmVersions,
            "tacker.sol_refactored.api.router:VnfPmAPIRouterV2.factory" => AppKind::VnfpmV2,
            "tacker.sol_refactored.api.router:PmEventRouter.factory" => AppKind::PmEvent,
            "tacker.sol_refactored.api.router:PmThresholdRouter.factory" => AppKind::PmThreshold,
            "tacker.sol_refactored.api.router:VnffmAPIRouterV1.factory" => AppKind::VnffmV1,
            "tacker.sol_refactored.api.router:FmAlertRouter.factory" => AppKind::FmAlert,
            "tacker.sol_refactored.api.router:AutoHealingRouter.factory" => AppKind::AutoHealing,
            "tacker.sol_refactored.api.router:AutoScalingRouter.factory" => AppKind::AutoScaling,
            "tacker.sol_refactored.api.router:ServerNotificationRouter.factory" => {
                AppKind::Unimplemented("server notification")
            }
            _ => return None,
        };
        Some(kind)
    }

    /// The error body format of the API.
    pub fn flavor(self) -> ApiFlavor {
        match self {
            AppKind::Versions | AppKind::TackerV1_0 => ApiFlavor::Tacker,
            AppKind::Vnfpkgm
            | AppKind::VnflcmV1
            | AppKind::VnflcmV2
            | AppKind::VnflcmVersions
            | AppKind::VnffmV1
            | AppKind::FmAlert
            | AppKind::AutoHealing
            | AppKind::AutoScaling
            | AppKind::VnfpmV2
            | AppKind::PmEvent
            | AppKind::PmThreshold
            | AppKind::Unimplemented(_) => ApiFlavor::ProblemDetails,
        }
    }

    /// The application's routes, before any filter wraps them.
    pub fn router(self, state: AppState) -> Router {
        match self {
            AppKind::Versions => versions::router(state.config.clone()),
            AppKind::TackerV1_0 => v1_0::router(state),
            AppKind::Vnfpkgm => vnfpkgm::router(state),
            AppKind::VnflcmV1 => vnflcm::router(state, tacker_lcm::ApiVersion::V1),
            AppKind::VnflcmV2 => vnflcm::router(state, tacker_lcm::ApiVersion::V2),
            AppKind::VnflcmVersions => vnflcm::versions_router(),
            AppKind::VnffmV1 => vnffm::router(state),
            AppKind::FmAlert => prometheus::fault_router(state),
            AppKind::AutoHealing => prometheus::auto_heal_router(state),
            AppKind::AutoScaling => prometheus::auto_scale_router(state),
            AppKind::VnfpmV2 => vnfpm::router(state),
            AppKind::PmEvent => prometheus::pm_event_router(state),
            AppKind::PmThreshold => prometheus::pm_threshold_router(state),
            AppKind::Unimplemented(name) => unimplemented::router(name),
        }
    }
}

/// The base URL of links (`_links`, `Location`, `Link`, version and index documents):
/// `[DEFAULT] public_endpoint` when set, else the scheme and host the client used.
pub fn base_url(config: &Config, headers: &HeaderMap, uri: &Uri) -> String {
    if let Some(endpoint) = &config.public_endpoint {
        return endpoint.clone();
    }
    // HTTP/1.1 sends Host; HTTP/2 sends :authority, which arrives in the URI.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    let scheme = if config.ssl.is_some() { "https" } else { "http" };
    format!("{scheme}://{host}")
}
