//! The caller's identity as the API layers see it, built by the context filter from the
//! identity headers (or by the noauth pipeline), never from raw tokens.

/// The DER certificate the client presented and the TLS layer verified on this
/// connection, put into the request's extensions by the TLS acceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub std::sync::Arc<Vec<u8>>);

/// Who is calling, for policy checks and tenant scoping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub roles: Vec<String>,
    /// Tacker's `context_is_admin` rule: the `admin` role (or the noauth admin context).
    pub is_admin: bool,
    /// The domain of a domain-scoped token (`X-Domain-Id` / `X-Domain-Name`).
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
    /// `all` for a system-scoped token (`OpenStack-System-Scope`).
    pub system_scope: Option<String>,
    /// Keystone's `is_admin_project` (`X-Is-Admin-Project`; oslo.context's default: true).
    pub is_admin_project: bool,
    /// The service token's identity sent beside the user's (`X-Service-*`).
    pub service_user_id: Option<String>,
    pub service_project_id: Option<String>,
    pub service_roles: Vec<String>,
}

impl RequestContext {
    /// The context Tacker uses when no auth filter runs: an admin without a project.
    pub fn admin() -> Self {
        RequestContext {
            is_admin: true,
            is_admin_project: true,
            ..Default::default()
        }
    }

    /// A context for a user with the given roles; `admin` among them makes it an admin.
    pub fn with_roles(user_id: Option<String>, project_id: Option<String>, roles: Vec<String>) -> Self {
        let is_admin = roles.iter().any(|r| r.eq_ignore_ascii_case("admin"));
        RequestContext {
            user_id,
            project_id,
            roles,
            is_admin,
            is_admin_project: true,
            ..Default::default()
        }
    }

    /// True when this caller may see resources owned by `tenant_id`.
    pub fn can_see_tenant(&self, tenant_id: &str) -> bool {
        self.is_admin || self.project_id.as_deref() == Some(tenant_id)
    }
}
