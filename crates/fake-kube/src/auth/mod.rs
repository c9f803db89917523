//! Authentication as kube-apiserver does it: a union of authenticators tried in turn
//! (static tokens, then OIDC for bearer tokens; basic auth), anonymous only if enabled.
//! Any failure is the same 401; the reason is only logged.

pub mod oidc;
pub mod token;

use std::collections::HashMap;

use axum::http::HeaderMap;
use base64::Engine;

use crate::config::FakeKubeConfig;

/// The authenticated user, as `UserInfo` in kube-apiserver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with no uid and no groups (`system:authenticated` is added on login).
    pub fn new(username: &str) -> Self {
        UserInfo {
            username: username.to_string(),
            uid: String::new(),
            groups: Vec::new(),
        }
    }

    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups.extend(groups.into_iter().map(Into::into));
        self
    }

    pub fn with_uid(mut self, uid: &str) -> Self {
        self.uid = uid.to_string();
        self
    }

    fn authenticated(mut self) -> Self {
        if !self.groups.iter().any(|g| g == "system:authenticated") {
            self.groups.push("system:authenticated".to_string());
        }
        self
    }
}

/// The credentials a request carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    None,
    Bearer(String),
    Basic {
        username: String,
        password: String,
    },
    /// An Authorization header this server does not understand.
    Malformed,
}

impl Credentials {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Credentials::None;
        };
        let Ok(value) = value.to_str() else {
            return Credentials::Malformed;
        };
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Credentials::Bearer(rest.to_string());
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some((username, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                return Credentials::Basic {
                    username: username.to_string(),
                    password: password.to_string(),
                };
            }
        }
        Credentials::Malformed
    }

    /// The bearer token, if that is what was sent.
    pub fn token(&self) -> Option<&str> {
        match self {
            Credentials::Bearer(token) => Some(token),
            _ => None,
        }
    }
}

/// The union of the configured authenticators.
pub struct Authenticator {
    tokens: HashMap<String, UserInfo>,
    basic: HashMap<String, (String, UserInfo)>,
    oidc: Option<std::sync::Arc<oidc::OidcAuthenticator>>,
    anonymous: bool,
}

impl Authenticator {
    pub fn new(config: &FakeKubeConfig, oidc: Option<std::sync::Arc<oidc::OidcAuthenticator>>) -> Self {
        let mut tokens: HashMap<String, UserInfo> = config.tokens.iter().cloned().collect();
        if let Some(admin) = &config.admin_token {
            tokens.insert(
                admin.clone(),
                UserInfo::new("kubernetes-admin").with_groups(["system:masters"]),
            );
        }
        Authenticator {
            tokens,
            basic: config
                .basic_users
                .iter()
                .map(|(u, p, info)| (u.clone(), (p.clone(), info.clone())))
                .collect(),
            oidc,
            anonymous: config.anonymous,
        }
    }

    /// The user behind the credentials, or `None` (401).
    pub async fn authenticate(&self, credentials: &Credentials) -> Option<UserInfo> {
        let user = match credentials {
            Credentials::None if self.anonymous => {
                return Some(UserInfo::new("system:anonymous").with_groups(["system:unauthenticated"]));
            }
            Credentials::None | Credentials::Malformed => None,
            Credentials::Bearer(token) => match self.tokens.get(token) {
                Some(user) => Some(user.clone()),
                None => match &self.oidc {
                    Some(oidc) => match oidc.authenticate(token).await {
                        Ok(user) => user,
                        Err(reason) => {
                            tracing::info!(%reason, "OIDC token rejected");
                            None
                        }
                    },
                    None => None,
                },
            },
            Credentials::Basic { username, password } => self
                .basic
                .get(username)
                .filter(|(p, _)| p == password)
                .map(|(_, user)| user.clone()),
        };
        user.map(UserInfo::authenticated)
    }
}
