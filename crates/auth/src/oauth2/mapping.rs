//! From introspection claims to an identity, with the `mapping_*` options: dotted paths
//! into the response; roles as a comma-separated string (as Tacker expects) or a list.

use serde_json::{Map, Value};
use tacker_common::ExtOAuth2Options;

use super::OAuth2ConfigError;

/// The claim paths of the `mapping_*` options.
#[derive(Debug, Clone)]
pub struct ClaimMapping {
    user_id: String,
    user_name: String,
    user_domain_id: String,
    user_domain_name: String,
    roles: String,
    project_id: Option<String>,
    project_name: Option<String>,
    project_domain_id: Option<String>,
    project_domain_name: Option<String>,
    system_scope: Option<String>,
    expires_at: Option<String>,
}

/// Who the token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub user_name: String,
    pub user_domain_id: String,
    pub user_domain_name: String,
    pub roles: Vec<String>,
    pub scope: Scope,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Project {
        id: String,
        name: String,
        domain_id: String,
        domain_name: String,
    },
    Domain {
        id: String,
        name: String,
    },
    System,
}

/// A claim the token must carry is missing or has the wrong type: 403.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct MappingError(pub String);

impl ClaimMapping {
    /// The paths keystonemiddleware requires are checked at start-up (it fails per request).
    pub fn from_options(o: &ExtOAuth2Options) -> Result<Self, OAuth2ConfigError> {
        let required = |value: &Option<String>, option: &'static str| {
            let path = value
                .clone()
                .ok_or_else(|| OAuth2ConfigError::new(option, "is required"))?;
            check_path(&path).map_err(|r| OAuth2ConfigError::new(option, r.to_string()))?;
            Ok::<_, OAuth2ConfigError>(path)
        };
        let optional = |value: &Option<String>, option: &'static str| {
            if let Some(path) = value {
                check_path(path).map_err(|r| OAuth2ConfigError::new(option, r.to_string()))?;
            }
            Ok::<_, OAuth2ConfigError>(value.clone())
        };
        Ok(ClaimMapping {
            user_id: required(&Some(o.mapping_user_id.clone()), "mapping_user_id")?,
            user_name: required(&Some(o.mapping_user_name.clone()), "mapping_user_name")?,
            user_domain_id: required(&o.mapping_user_domain_id, "mapping_user_domain_id")?,
            user_domain_name: required(&o.mapping_user_domain_name, "mapping_user_domain_name")?,
            roles: required(&o.mapping_roles, "mapping_roles")?,
            project_id: optional(&o.mapping_project_id, "mapping_project_id")?,
            project_name: optional(&o.mapping_project_name, "mapping_project_name")?,
            project_domain_id: optional(&o.mapping_project_domain_id, "mapping_project_domain_id")?,
            project_domain_name: optional(&o.mapping_project_domain_name, "mapping_project_domain_name")?,
            system_scope: optional(&o.mapping_system_scope, "mapping_system_scope")?,
            expires_at: optional(&o.mapping_expires_at, "mapping_expires_at")?,
        })
    }

    /// Maps the claims; a required claim that is absent or of the wrong type is an error.
    pub fn map(&self, claims: &Map<String, Value>) -> Result<Identity, MappingError> {
        let text = |path: &str| -> Result<String, MappingError> {
            match lookup(claims, path)? {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                None | Some(Value::Null) | Some(Value::String(_)) => {
                    Err(MappingError(format!("the token has no '{path}' claim")))
                }
                Some(_) => Err(MappingError(format!(
                    "the token's '{path}' claim is not a string"
                ))),
            }
        };
        let optional_text = |path: &Option<String>| -> Result<Option<String>, MappingError> {
            match path {
                None => Ok(None),
                Some(p) => match lookup(claims, p)? {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) if s.is_empty() => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(MappingError(format!("the token's '{p}' claim is not a string"))),
                },
            }
        };
        let need = |path: &Option<String>, what: &str| -> Result<String, MappingError> {
            match path {
                Some(p) => text(p),
                None => Err(MappingError(format!("no mapping configured for the {what}"))),
            }
        };
        let roles = match lookup(claims, &self.roles)? {
            Some(Value::String(s)) if !s.is_empty() => s
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    MappingError(format!(
                        "the token's '{}' claim holds a non-string role",
                        self.roles
                    ))
                })?,
            None | Some(Value::Null) | Some(Value::String(_)) | Some(Value::Array(_)) => {
                return Err(MappingError(format!("the token has no '{}' claim", self.roles)))
            }
            Some(_) => {
                return Err(MappingError(format!(
                    "the token's '{}' claim is neither a comma-separated string nor a list",
                    self.roles
                )))
            }
        };
        let system = match &self.system_scope {
            Some(p) => match lookup(claims, p)? {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(MappingError(format!("the token's '{p}' claim is not a boolean"))),
            },
            None => false,
        };
        let scope = if system {
            Scope::System
        } else if let Some(id) = optional_text(&self.project_id)? {
            Scope::Project {
                id,
                name: need(&self.project_name, "project name")?,
                domain_id: need(&self.project_domain_id, "project domain id")?,
                domain_name: need(&self.project_domain_name, "project domain name")?,
            }
        } else {
            Scope::Domain {
                id: need(&self.project_domain_id, "domain id")?,
                name: need(&self.project_domain_name, "domain name")?,
            }
        };
        Ok(Identity {
            user_id: text(&self.user_id)?,
            user_name: text(&self.user_name)?,
            user_domain_id: text(&self.user_domain_id)?,
            user_domain_name: text(&self.user_domain_name)?,
            roles,
            scope,
        })
    }

    /// `mapping_expires_at`, when configured and present: an integer Unix time.
    pub fn expires_at(&self, claims: &Map<String, Value>) -> Result<Option<i64>, MappingError> {
        let Some(path) = &self.expires_at else {
            return Ok(None);
        };
        match lookup(claims, path)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64().map(|f| f as i64)),
            Some(_) => Err(MappingError(format!(
                "the token's '{path}' claim is not a number"
            ))),
        }
    }
}

/// A claim path such as `user..id`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' has an empty segment")]
struct EmptySegment(String);

fn check_path(path: &str) -> Result<(), EmptySegment> {
    if path.split('.').any(str::is_empty) {
        Err(EmptySegment(path.to_owned()))
    } else {
        Ok(())
    }
}

/// Walks a dotted path. Unlike keystonemiddleware, a missing intermediate object means
/// the claim is absent (it would look the next segment up at the top level instead).
fn lookup<'a>(claims: &'a Map<String, Value>, path: &str) -> Result<Option<&'a Value>, MappingError> {
    let mut segments = path.split('.');
    let Some(first) = segments.next() else {
        return Ok(None);
    };
    let mut current = claims.get(first);
    for segment in segments {
        current = match current {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(map)) => map.get(segment),
            Some(_) => {
                return Err(MappingError(format!(
                    "the token's claims do not hold an object on the way to '{path}'"
                )))
            }
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options() -> ExtOAuth2Options {
        ExtOAuth2Options {
            mapping_user_id: "user.id".into(),
            mapping_user_name: "user.name".into(),
            mapping_user_domain_id: Some("user.domain.id".into()),
            mapping_user_domain_name: Some("user.domain.name".into()),
            mapping_roles: Some("user.roles".into()),
            mapping_project_id: Some("project.id".into()),
            mapping_project_name: Some("project.name".into()),
            mapping_project_domain_id: Some("project.domain.id".into()),
            mapping_project_domain_name: Some("project.domain.name".into()),
            ..Default::default()
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn full() -> Value {
        json!({"user": {"id": "u1", "name": "alice", "roles": "member, admin", "domain": {"id": "d", "name": "D"}},
               "project": {"id": "p1", "name": "demo", "domain": {"id": "d", "name": "D"}}})
    }

    #[test]
    fn maps_a_project_scoped_token() {
        let id = ClaimMapping::from_options(&options())
            .unwrap()
            .map(&claims(full()))
            .unwrap();
        assert_eq!(id.user_id, "u1");
        assert_eq!(id.roles, vec!["member", "admin"]);
        assert_eq!(
            id.scope,
            Scope::Project {
                id: "p1".into(),
                name: "demo".into(),
                domain_id: "d".into(),
                domain_name: "D".into()
            }
        );
    }

    #[test]
    fn roles_may_be_a_list_and_wrong_types_are_refused() {
        let mapping = ClaimMapping::from_options(&options()).unwrap();
        let mut c = full();
        c["user"]["roles"] = json!(["reader"]);
        assert_eq!(mapping.map(&claims(c.clone())).unwrap().roles, vec!["reader"]);
        c["user"]["roles"] = json!(7);
        assert!(mapping.map(&claims(c.clone())).is_err());
        c["user"]["roles"] = json!("member");
        c["user"]["id"] = json!(42);
        assert!(mapping.map(&claims(c.clone())).unwrap_err().0.contains("user.id"));
        c["user"] = json!("flat");
        assert!(mapping.map(&claims(c)).is_err());
    }

    #[test]
    fn without_a_project_the_token_is_domain_scoped() {
        let mapping = ClaimMapping::from_options(&options()).unwrap();
        let mut c = full();
        c["project"]["id"] = Value::Null;
        assert_eq!(
            mapping.map(&claims(c)).unwrap().scope,
            Scope::Domain {
                id: "d".into(),
                name: "D".into()
            }
        );
    }

    #[test]
    fn required_mappings_are_start_up_errors() {
        let mut o = options();
        o.mapping_roles = None;
        assert_eq!(
            ClaimMapping::from_options(&o).unwrap_err().option,
            "mapping_roles"
        );
        let mut o = options();
        o.mapping_project_id = Some("project..id".into());
        assert_eq!(
            ClaimMapping::from_options(&o).unwrap_err().option,
            "mapping_project_id"
        );
    }
}
