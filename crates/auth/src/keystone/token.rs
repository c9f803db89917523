//! A Keystone v3 token as `GET /v3/auth/tokens` describes it, reduced to what the
//! filter decides with and passes on: who, in which scope, with which roles, until when.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::context::Verified;
use crate::identity_headers::set;

/// Why a validation response cannot be used; the token then counts as invalid.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenDataError {
    #[error("unreadable token data: {0}")]
    Unreadable(#[source] Arc<serde_json::Error>),
    #[error("unreadable expires_at")]
    ExpiresAt(#[source] chrono::ParseError),
    #[error("expires_at before 1970")]
    Before1970,
    #[error("the token has no user")]
    NoUser,
    #[error("the token's user has no id")]
    NoUserId,
    #[error("the token's project has no id")]
    NoProjectId,
    #[error("the token's domain has no id")]
    NoDomainId,
}

/// Where the token's authority applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Project {
        id: String,
        name: Option<String>,
        domain_id: Option<String>,
        domain_name: Option<String>,
    },
    Domain {
        id: String,
        name: Option<String>,
    },
    /// `all` for the whole deployment.
    System(String),
    Unscoped,
}

/// One access rule of a restricted application credential.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessRule {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub service: String,
}

/// A validated token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub user_id: String,
    pub user_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub scope: Scope,
    pub roles: Vec<String>,
    pub is_admin_project: bool,
    pub expires_at: SystemTime,
    /// `application_credential.access_rules`, when the token comes from a restricted
    /// application credential.
    pub access_rules: Option<Vec<AccessRule>>,
    /// `oauth2_credential["x5t#S256"]` of a certificate-bound OAuth 2.0 token.
    pub oauth2_thumbprint: Option<String>,
    /// The token's `bind` types (kerberos, ...).
    pub bind: Vec<String>,
    /// The user's identity for `keystonecontext`, built on first use and kept with the
    /// cached token.
    user_identity: OnceLock<Verified>,
}

#[derive(Deserialize)]
struct Body {
    token: Raw,
}

#[derive(Deserialize)]
struct Named {
    id: Option<String>,
    name: Option<String>,
    domain: Option<Box<Named>>,
}

#[derive(Deserialize)]
struct Role {
    name: Option<String>,
}

#[derive(Deserialize)]
struct AppCred {
    access_rules: Option<Vec<AccessRule>>,
}

#[derive(Deserialize)]
struct Raw {
    expires_at: String,
    user: Option<Named>,
    project: Option<Named>,
    domain: Option<Named>,
    system: Option<Map<String, Value>>,
    #[serde(default)]
    roles: Vec<Role>,
    is_admin_project: Option<bool>,
    application_credential: Option<AppCred>,
    oauth2_credential: Option<Map<String, Value>>,
    bind: Option<Map<String, Value>>,
}

impl TokenInfo {
    /// Reads a validation response body; any part missing or of the wrong type makes
    /// it unusable (the token is then treated as invalid, as keystonemiddleware does).
    pub fn from_body(body: &[u8]) -> Result<Self, TokenDataError> {
        let Body { token } =
            serde_json::from_slice(body).map_err(|e| TokenDataError::Unreadable(Arc::new(e)))?;
        let expires_at =
            chrono::DateTime::parse_from_rfc3339(&token.expires_at).map_err(TokenDataError::ExpiresAt)?;
        let expires_at = SystemTime::UNIX_EPOCH
            + Duration::from_secs(
                u64::try_from(expires_at.timestamp()).map_err(|_| TokenDataError::Before1970)?,
            );
        let user = token.user.ok_or(TokenDataError::NoUser)?;
        let user_id = user
            .id
            .filter(|id| !id.is_empty())
            .ok_or(TokenDataError::NoUserId)?;
        let (user_domain_id, user_domain_name) = match user.domain {
            Some(d) => (d.id, d.name),
            None => (None, None),
        };
        let scope = if let Some(system) = token.system {
            let all = system.get("all").and_then(Value::as_bool).unwrap_or(false);
            if all {
                Scope::System("all".into())
            } else {
                Scope::Unscoped
            }
        } else if let Some(project) = token.project {
            let (domain_id, domain_name) = match project.domain {
                Some(d) => (d.id, d.name),
                None => (None, None),
            };
            Scope::Project {
                id: project.id.ok_or(TokenDataError::NoProjectId)?,
                name: project.name,
                domain_id,
                domain_name,
            }
        } else if let Some(domain) = token.domain {
            Scope::Domain {
                id: domain.id.ok_or(TokenDataError::NoDomainId)?,
                name: domain.name,
            }
        } else {
            Scope::Unscoped
        };
        Ok(TokenInfo {
            user_id,
            user_name: user.name,
            user_domain_id,
            user_domain_name,
            scope,
            roles: token.roles.into_iter().filter_map(|r| r.name).collect(),
            // keystoneauth: absent means true.
            is_admin_project: token.is_admin_project.unwrap_or(true),
            expires_at,
            access_rules: token.application_credential.and_then(|a| a.access_rules),
            oauth2_thumbprint: token
                .oauth2_credential
                .and_then(|c| c.get("x5t#S256").and_then(Value::as_str).map(str::to_string)),
            bind: token
                .bind
                .map(|b| b.keys().cloned().collect())
                .unwrap_or_default(),
            user_identity: OnceLock::new(),
        })
    }

    /// How long the token stays valid from now (zero once expired).
    pub fn valid_for(&self) -> Duration {
        self.expires_at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }

    pub fn is_expired(&self) -> bool {
        self.valid_for().is_zero()
    }

    /// Any of `roles` among the token's (case-insensitively, as oslo.policy compares).
    pub fn has_any_role(&self, roles: &[String]) -> bool {
        self.roles
            .iter()
            .any(|r| roles.iter().any(|w| w.eq_ignore_ascii_case(r)))
    }

    /// The user's identity as `keystonecontext` takes it (the context its headers give).
    pub fn user_identity(&self) -> Verified {
        self.user_identity
            .get_or_init(|| {
                let mut headers = HeaderMap::new();
                self.set_user_headers(&mut headers);
                Verified::from_identity_headers(&headers)
            })
            .clone()
    }

    /// The user's identity headers, as keystonemiddleware's `set_user_headers`.
    pub fn set_user_headers(&self, headers: &mut HeaderMap) {
        let roles = self.roles.join(",");
        set(headers, "x-identity-status", "Confirmed");
        set(headers, "x-roles", &roles);
        set(headers, "x-role", &roles);
        set(headers, "x-user-id", &self.user_id);
        if let Some(name) = &self.user_name {
            set(headers, "x-user-name", name);
            set(headers, "x-user", name);
        }
        if let Some(id) = &self.user_domain_id {
            set(headers, "x-user-domain-id", id);
        }
        if let Some(name) = &self.user_domain_name {
            set(headers, "x-user-domain-name", name);
        }
        set(
            headers,
            "x-is-admin-project",
            if self.is_admin_project { "True" } else { "False" },
        );
        match &self.scope {
            Scope::Project {
                id,
                name,
                domain_id,
                domain_name,
            } => {
                set(headers, "x-project-id", id);
                set(headers, "x-tenant-id", id);
                if let Some(name) = name {
                    set(headers, "x-project-name", name);
                    set(headers, "x-tenant-name", name);
                    set(headers, "x-tenant", name);
                }
                if let Some(d) = domain_id {
                    set(headers, "x-project-domain-id", d);
                }
                if let Some(d) = domain_name {
                    set(headers, "x-project-domain-name", d);
                }
            }
            Scope::Domain { id, name } => {
                set(headers, "x-domain-id", id);
                if let Some(name) = name {
                    set(headers, "x-domain-name", name);
                }
            }
            Scope::System(system) => set(headers, "openstack-system-scope", system),
            Scope::Unscoped => {}
        }
    }

    /// The service token's identity headers (`X-Service-*`).
    pub fn set_service_headers(&self, headers: &mut HeaderMap) {
        set(headers, "x-service-identity-status", "Confirmed");
        set(headers, "x-service-roles", &self.roles.join(","));
        set(headers, "x-service-user-id", &self.user_id);
        if let Some(name) = &self.user_name {
            set(headers, "x-service-user-name", name);
        }
        if let Some(id) = &self.user_domain_id {
            set(headers, "x-service-user-domain-id", id);
        }
        if let Some(name) = &self.user_domain_name {
            set(headers, "x-service-user-domain-name", name);
        }
        match &self.scope {
            Scope::Project {
                id,
                name,
                domain_id,
                domain_name,
            } => {
                set(headers, "x-service-project-id", id);
                if let Some(name) = name {
                    set(headers, "x-service-project-name", name);
                }
                if let Some(d) = domain_id {
                    set(headers, "x-service-project-domain-id", d);
                }
                if let Some(d) = domain_name {
                    set(headers, "x-service-project-domain-name", d);
                }
            }
            Scope::Domain { id, name } => {
                set(headers, "x-service-domain-id", id);
                if let Some(name) = name {
                    set(headers, "x-service-domain-name", name);
                }
            }
            Scope::System(_) | Scope::Unscoped => {}
        }
    }

    /// keystonemiddleware's `validate_allowed_request`: a token of an application
    /// credential with access rules may only make the requests they list for this
    /// service. `Err` says why not (for the log).
    pub fn check_access_rules(
        &self,
        service_type: Option<&str>,
        method: &str,
        path: &str,
        with_service_token: bool,
    ) -> Result<(), &'static str> {
        let Some(rules) = &self.access_rules else {
            return Ok(());
        };
        let Some(service_type) = service_type else {
            return Err("the token has access rules and [keystone_authtoken] service_type is not set");
        };
        // A request made on a user's behalf by another service is not user-facing.
        if with_service_token {
            return Ok(());
        }
        let allowed = rules
            .iter()
            .any(|r| r.method == method && r.service == service_type && path_matches(path, &r.path));
        if allowed {
            Ok(())
        } else {
            Err("the application credential's access rules do not allow this request")
        }
    }
}

/// Access rule paths: `*` and `{name}` match one path segment, `**` any rest.
fn path_matches(path: &str, pattern: &str) -> bool {
    #[derive(Debug)]
    enum Part<'a> {
        Literal(&'a str),
        Segment,
        Any,
    }
    let mut parts = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix("**") {
            parts.push(Part::Any);
            rest = tail;
        } else if let Some(tail) = rest.strip_prefix('*') {
            parts.push(Part::Segment);
            rest = tail;
        } else if rest.starts_with('{') && rest.contains('}') {
            let end = rest.find('}').unwrap_or(0);
            parts.push(Part::Segment);
            rest = &rest[end + 1..];
        } else {
            let end = rest.find(['*', '{']).unwrap_or(rest.len());
            let end = if end == 0 { 1 } else { end };
            parts.push(Part::Literal(&rest[..end]));
            rest = &rest[end..];
        }
    }
    fn matches(path: &str, parts: &[Part<'_>]) -> bool {
        let Some((first, others)) = parts.split_first() else {
            return path.is_empty();
        };
        match first {
            Part::Literal(lit) => path.strip_prefix(lit).is_some_and(|p| matches(p, others)),
            Part::Segment => {
                let segment_end = path.find('/').unwrap_or(path.len());
                (1..=segment_end)
                    .filter(|n| path.is_char_boundary(*n))
                    .any(|n| matches(&path[n..], others))
            }
            Part::Any => (0..=path.len())
                .filter(|n| path.is_char_boundary(*n))
                .any(|n| matches(&path[n..], others)),
        }
    }
    matches(path, &parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(token: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "token": token })).unwrap()
    }

    #[test]
    fn reads_a_project_scoped_token() {
        let t = TokenInfo::from_body(&body(json!({
            "expires_at": "2999-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": "alice", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r", "name": "member"}, {"id": "s", "name": "reader"}],
            "methods": ["password"]
        })))
        .unwrap();
        assert_eq!(t.user_id, "u1");
        assert_eq!(t.roles, vec!["member", "reader"]);
        assert!(t.is_admin_project);
        assert!(!t.is_expired());
        let mut headers = HeaderMap::new();
        t.set_user_headers(&mut headers);
        assert_eq!(headers["x-project-id"], "p1");
        assert_eq!(headers["x-tenant"], "demo", "X-Tenant is the project name");
        assert_eq!(headers["x-roles"], "member,reader");
        assert_eq!(headers["x-is-admin-project"], "True");
        assert_eq!(headers["x-identity-status"], "Confirmed");
        assert!(headers.get("openstack-system-scope").is_none());
    }

    #[test]
    fn reads_system_and_domain_scopes_and_refuses_garbage() {
        let t = TokenInfo::from_body(&body(json!({
            "expires_at": "2000-01-01T00:00:00Z", "user": {"id": "u"}, "system": {"all": true},
            "roles": [{"name": "admin"}], "is_admin_project": false,
            "oauth2_credential": {"x5t#S256": "thumb"}
        })))
        .unwrap();
        assert_eq!(t.scope, Scope::System("all".into()));
        assert!(t.is_expired());
        assert_eq!(t.oauth2_thumbprint.as_deref(), Some("thumb"));
        let mut headers = HeaderMap::new();
        t.set_user_headers(&mut headers);
        assert_eq!(headers["openstack-system-scope"], "all");
        assert_eq!(headers["x-is-admin-project"], "False");
        let t = TokenInfo::from_body(&body(json!({
            "expires_at": "2999-01-01T00:00:00Z", "user": {"id": "u"}, "domain": {"id": "d", "name": "D"}
        })))
        .unwrap();
        assert_eq!(
            t.scope,
            Scope::Domain {
                id: "d".into(),
                name: Some("D".into())
            }
        );
        for bad in [
            json!({"expires_at": "soon", "user": {"id": "u"}}),
            json!({"expires_at": "2999-01-01T00:00:00Z"}),
            json!({"expires_at": "2999-01-01T00:00:00Z", "user": {"id": 5}}),
        ] {
            assert!(TokenInfo::from_body(&body(bad)).is_err());
        }
        assert!(TokenInfo::from_body(b"not json").is_err());
    }

    #[test]
    fn access_rule_paths() {
        assert!(path_matches("/v1.0/vims", "/v1.0/vims"));
        assert!(path_matches("/v1.0/vims/abc", "/v1.0/vims/*"));
        assert!(path_matches("/v1.0/vims/abc", "/v1.0/vims/{vim_id}"));
        assert!(!path_matches("/v1.0/vims/abc/x", "/v1.0/vims/*"));
        assert!(path_matches("/v1.0/vims/abc/x", "/v1.0/**"));
        assert!(!path_matches("/v1.0/vims", "/v1.0/vims/*"));
        assert!(!path_matches("/vnflcm/v1/vnf_instances", "/v1.0/**"));
        assert!(path_matches("/v1.0/vims/é漢", "/v1.0/vims/*"));
    }

    #[test]
    fn access_rules_limit_application_credentials() {
        let mut t = TokenInfo::from_body(&body(json!({
            "expires_at": "2999-01-01T00:00:00Z", "user": {"id": "u"},
            "application_credential": {"id": "a", "access_rules": [
                {"method": "GET", "path": "/v1.0/vims", "service": "nfv-orchestration"}]}
        })))
        .unwrap();
        let svc = Some("nfv-orchestration");
        assert!(t.check_access_rules(svc, "GET", "/v1.0/vims", false).is_ok());
        assert!(t.check_access_rules(svc, "POST", "/v1.0/vims", false).is_err());
        assert!(t.check_access_rules(None, "GET", "/v1.0/vims", false).is_err());
        assert!(t.check_access_rules(svc, "POST", "/v1.0/vims", true).is_ok());
        t.access_rules = None;
        assert!(t.check_access_rules(None, "POST", "/v1.0/vims", false).is_ok());
    }
}
