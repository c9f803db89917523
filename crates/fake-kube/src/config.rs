//! How a fake apiserver is set up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::oidc::OidcConfig;
use crate::auth::UserInfo;
use crate::rbac::Authorization;

/// How fast the simulated cluster moves.
#[derive(Clone, Debug)]
pub struct Timings {
    /// The reconciler's tick.
    pub tick: Duration,
    /// From a pod's scheduling to Running and Ready.
    pub pod_startup: Duration,
    /// How long a deleted pod stays Terminating.
    pub pod_termination: Duration,
    /// How long a Job's pod runs before it Succeeds.
    pub job_duration: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            tick: Duration::from_millis(50),
            pod_startup: Duration::from_millis(200),
            pod_termination: Duration::from_millis(100),
            job_duration: Duration::from_millis(300),
        }
    }
}

/// The configuration of [`crate::FakeKube::start`].
#[derive(Clone, Debug)]
pub struct FakeKubeConfig {
    /// Where to listen (default 127.0.0.1:0).
    pub listen: SocketAddr,
    /// A token of `kubernetes-admin` in `system:masters` (default: a random one).
    pub admin_token: Option<String>,
    /// Static bearer tokens (`--token-auth-file`).
    pub tokens: Vec<(String, UserInfo)>,
    /// Basic-auth users: (username, password, user).
    pub basic_users: Vec<(String, String, UserInfo)>,
    /// OIDC (`--oidc-*`).
    pub oidc: Option<OidcConfig>,
    /// `--anonymous-auth`: requests without credentials run as `system:anonymous`.
    pub anonymous: bool,
    /// `--authorization-mode` (default AlwaysAllow).
    pub authorization: Authorization,
    pub timings: Timings,
    /// A file every request is appended to, one JSON audit event a line (the in-memory
    /// log of [`crate::FakeKube::audit`] is kept either way).
    pub audit_log: Option<PathBuf>,
    /// How many of the newest changes watches can start from (older resourceVersions get
    /// 410 Expired).
    pub watch_history: usize,
}

impl Default for FakeKubeConfig {
    fn default() -> Self {
        FakeKubeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_token: Some(format!("admin-{}", uuid::Uuid::new_v4().simple())),
            tokens: Vec::new(),
            basic_users: Vec::new(),
            oidc: None,
            anonymous: false,
            authorization: Authorization::AlwaysAllow,
            timings: Timings::default(),
            audit_log: None,
            watch_history: crate::history::DEFAULT_CAPACITY,
        }
    }
}

impl FakeKubeConfig {
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Sets (or with `None` removes) the admin token.
    pub fn admin_token(mut self, token: Option<&str>) -> Self {
        self.admin_token = token.map(String::from);
        self
    }

    pub fn with_token(mut self, token: &str, user: UserInfo) -> Self {
        self.tokens.push((token.to_string(), user));
        self
    }

    pub fn with_basic_user(mut self, username: &str, password: &str, user: UserInfo) -> Self {
        self.basic_users
            .push((username.to_string(), password.to_string(), user));
        self
    }

    pub fn with_oidc(mut self, oidc: OidcConfig) -> Self {
        self.oidc = Some(oidc);
        self
    }

    pub fn with_anonymous(mut self, anonymous: bool) -> Self {
        self.anonymous = anonymous;
        self
    }

    pub fn with_authorization(mut self, authorization: Authorization) -> Self {
        self.authorization = authorization;
        self
    }

    pub fn with_timings(mut self, timings: Timings) -> Self {
        self.timings = timings;
        self
    }

    /// Keeps the newest `changes` for watches (see [`FakeKubeConfig::watch_history`]).
    pub fn with_watch_history(mut self, changes: usize) -> Self {
        self.watch_history = changes;
        self
    }

    /// Appends every request to `path` as a JSON line (see [`FakeKubeConfig::audit_log`]).
    pub fn with_audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit_log = Some(path.into());
        self
    }
}
