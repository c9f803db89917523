//! A tiny RBAC: rules that grant users or groups verbs on resources (optionally only in
//! some namespaces), `system:masters` allowed everything, discovery allowed to every
//! authenticated user, and the apiserver's 403 wording.

use crate::auth::UserInfo;
use crate::routes::RequestInfo;
use crate::status::{ApiError, GroupResource};

/// Who a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    User(String),
    Group(String),
}

/// One grant, like a (Cluster)Role rule bound to one subject. `"*"` matches anything;
/// resources name subresources as `deployments/scale`; empty `namespaces` means all
/// namespaces and cluster-scoped resources; empty `api_groups` means any group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub subject: Subject,
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub namespaces: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Rule {
    pub fn new(subject: Subject, verbs: &[&str], resources: &[&str]) -> Self {
        Rule {
            subject,
            verbs: strings(verbs),
            api_groups: Vec::new(),
            resources: strings(resources),
            namespaces: Vec::new(),
        }
    }

    pub fn in_groups(mut self, api_groups: &[&str]) -> Self {
        self.api_groups = strings(api_groups);
        self
    }

    pub fn in_namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = strings(namespaces);
        self
    }

    fn applies_to(&self, user: &UserInfo) -> bool {
        match &self.subject {
            Subject::User(name) => *name == user.username,
            Subject::Group(group) => user.groups.iter().any(|g| g == group),
        }
    }

    fn allows(&self, info: &RequestInfo) -> bool {
        let any = |list: &[String], value: &str| list.iter().any(|x| x == "*" || x == value);
        let resource = match &info.subresource {
            Some(sub) => format!("{}/{sub}", info.resource),
            None => info.resource.clone(),
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == resource
                || info
                    .subresource
                    .as_ref()
                    .is_some_and(|sub| *r == format!("*/{sub}"))
        });
        any(&self.verbs, &info.verb)
            && (self.api_groups.is_empty() || any(&self.api_groups, &info.api_group))
            && resource_ok
            && (self.namespaces.is_empty()
                || info
                    .namespace
                    .as_ref()
                    .is_some_and(|ns| any(&self.namespaces, ns)))
    }
}

/// The rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rbac {
    pub rules: Vec<Rule>,
}

impl Rbac {
    pub fn new() -> Self {
        Rbac::default()
    }

    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Lets a user do anything (like a binding to `cluster-admin`).
    pub fn allow_all_for_user(self, user: &str) -> Self {
        self.rule(Rule::new(Subject::User(user.into()), &["*"], &["*"]))
    }

    /// Lets a group do anything.
    pub fn allow_all_for_group(self, group: &str) -> Self {
        self.rule(Rule::new(Subject::Group(group.into()), &["*"], &["*"]))
    }

    /// Lets a user do `verbs` on `resources` in any group and namespace.
    pub fn allow_user(self, user: &str, verbs: &[&str], resources: &[&str]) -> Self {
        self.rule(Rule::new(Subject::User(user.into()), verbs, resources))
    }

    fn allows(&self, user: &UserInfo, info: &RequestInfo) -> bool {
        self.rules.iter().any(|r| r.applies_to(user) && r.allows(info))
    }
}

/// The authorization mode (`--authorization-mode`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorization {
    AlwaysAllow,
    Rbac(Rbac),
}

impl Authorization {
    /// `Ok` or the 403 the apiserver would answer.
    pub(crate) fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Result<(), ApiError> {
        let allowed = match self {
            Authorization::AlwaysAllow => true,
            Authorization::Rbac(rbac) => {
                user.groups.iter().any(|g| g == "system:masters")
                    || (!info.is_resource_request && user.groups.iter().any(|g| g == "system:authenticated"))
                    || rbac.allows(user, info)
            }
        };
        if allowed {
            return Ok(());
        }
        Err(forbidden(user, info))
    }
}

/// The 403 of the apiserver's `forbiddenMessage`.
fn forbidden(user: &UserInfo, info: &RequestInfo) -> ApiError {
    let username = &user.username;
    if !info.is_resource_request {
        return ApiError::Forbidden {
            resource: GroupResource::new("", ""),
            name: String::new(),
            message: format!("User {username:?} cannot {} path {:?}", info.verb, info.path),
        };
    }
    let mut resource = info.resource.clone();
    if let Some(sub) = &info.subresource {
        resource = format!("{resource}/{sub}");
    }
    let scope = match &info.namespace {
        Some(ns) => format!("in the namespace {ns:?}"),
        None => "at the cluster scope".to_string(),
    };
    ApiError::Forbidden {
        resource: GroupResource::new(&info.api_group, &info.resource),
        name: info.name.clone().unwrap_or_default(),
        message: format!(
            "User {username:?} cannot {} resource {resource:?} in API group {:?} {scope}",
            info.verb, info.api_group
        ),
    }
}
