//! The state shared by the request handlers and the reconciler.

use std::ops::Deref;
use std::sync::{Arc, RwLock};

use crate::audit::AuditLog;
use crate::auth::Authenticator;
use crate::config::Timings;
use crate::faults::Faults;
use crate::rbac::Authorization;
use crate::store::Store;

pub struct App {
    /// Every object.
    pub store: Store,
    /// Every request.
    pub audit: AuditLog,
    /// Injected failures.
    pub faults: Faults,
    /// Token, OIDC and basic authentication.
    pub authn: Authenticator,
    /// The authorization mode; tests may change it while running.
    pub authz: RwLock<Authorization>,
    pub timings: Timings,
}

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
