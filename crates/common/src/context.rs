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
    /// This request's `req-<uuid>` id.
    pub request_id: String,
}

impl RequestContext {
    /// The context Tacker uses when no auth filter runs: an admin without a project.
    pub fn admin(request_id: String) -> Self {
        RequestContext {
            is_admin: true,
            request_id,
            ..Default::default()
        }
    }

    /// A context for a user with the given roles; `admin` among them makes it an admin.
    pub fn with_roles(
        user_id: Option<String>,
        project_id: Option<String>,
        roles: Vec<String>,
        request_id: String,
    ) -> Self {
        let is_admin = roles.iter().any(|r| r.eq_ignore_ascii_case("admin"));
        RequestContext {
            user_id,
            project_id,
            roles,
            is_admin,
            request_id,
            ..Default::default()
        }
    }

    /// True when this caller may see resources owned by `tenant_id`.
    pub fn can_see_tenant(&self, tenant_id: &str) -> bool {
        self.is_admin || self.project_id.as_deref() == Some(tenant_id)
    }
}
