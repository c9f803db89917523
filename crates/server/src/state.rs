use std::sync::Arc;

use tacker_common::Config;
use tacker_db::Database;
use tacker_policy::Enforcer;
use tacker_vim::VimService;
use tacker_vnfpkgm::PackageService;

/// What handlers share, built once at start-up.
#[derive(Clone)]
pub struct AppState {
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
}
