use std::sync::Arc;

use tacker_common::Config;
use tacker_db::Database;
use tacker_lcm::{AuthenticationCodec, LcmService};
use tacker_policy::Enforcer;
use tacker_vim::VimService;
use tacker_vnffm::{AutoHealer, AutoScaler, FmService};
use tacker_vnfpkgm::PackageService;
use tacker_vnfpm::PmService;
use tokio::sync::Notify;

use crate::apps::rendered_lists::RenderedLists;

/// What handlers share, built once at start-up. Every middleware and handler takes its own
/// copy, several per request, so a copy is one reference count, not one per service.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The services and settings behind [`AppState`].
pub struct Shared {
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// The shared database.
    pub db: Database,
    /// The policy rules in force.
    pub policy: Arc<Enforcer>,
    /// The VIM registry.
    pub vims: VimService,
    /// VNF packages.
    pub packages: PackageService,
    /// VNF lifecycle management (v1 and v2).
    pub lcm: LcmService,
    /// VNF fault management (/vnffm/v1 and the Prometheus alert receiver).
    pub fm: FmService,
    /// The Prometheus plugin's auto-heal (`POST /alert/auto_healing`).
    pub auto_heal: AutoHealer,
    /// The Prometheus plugin's auto-scale (`POST /alert/auto_scaling`).
    pub auto_scale: AutoScaler,
    /// VNF performance management (/vnfpm/v2, `/pm_event`, `/pm_threshold`).
    pub pm: PmService,
    /// Validates and encrypts subscription authentication.
    pub subscription_auth: Arc<dyn AuthenticationCodec>,
    /// LCM list pages as last rendered, answered again while nothing they show changed.
    pub rendered_lists: Arc<RenderedLists>,
    /// Signalled when work for a conductor was queued (an in-process conductor waits on it).
    pub work_queued: Arc<Notify>,
}
