//! Tacker's defaults overlaid with the operator's policy file, and the `enforce` call.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use tacker_common::RequestContext;

use crate::defaults;
use crate::rule::{parse, Rule, RuleError, Scope};

/// The attributes of the object acted on (`project_id`, `tenant_id`, ...).
pub type Target = HashMap<String, Value>;

/// Why the policy file cannot be used; start-up stops with this.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read policy file {path}: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("policy file {path}: rule {name:?}: {reason}")]
    Rule {
        path: String,
        name: String,
        #[source]
        reason: RuleError,
    },
}

/// The rules in force.
#[derive(Debug, Clone)]
pub struct Enforcer {
    rules: HashMap<String, Rule>,
}

impl Enforcer {
    /// Tacker's default rules only.
    pub fn defaults() -> Self {
        let mut rules = HashMap::new();
        for (name, text) in defaults::BASE {
            rules.insert((*name).to_string(), parse(text).unwrap_or(Rule::Never));
        }
        for (prefix, action, text) in defaults::API {
            rules.insert(format!("{prefix}{action}"), parse(text).unwrap_or(Rule::Never));
        }
        Enforcer { rules }
    }

    /// The defaults overridden by `path` (YAML or JSON: rule name → expression). A missing
    /// file means defaults only, as oslo.policy treats it.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let mut enforcer = Self::defaults();
        if !path.exists() {
            tracing::info!(file = %path.display(), "no policy file; Tacker's default rules apply");
            return Ok(enforcer);
        }
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: shown.clone(),
            source,
        })?;
        let overrides: HashMap<String, serde_yaml_ng::Value> =
            serde_yaml_ng::from_str(&text).map_err(|source| PolicyError::Parse {
                path: shown.clone(),
                source,
            })?;
        for (name, value) in overrides {
            let rule = rule_from_yaml(&value).map_err(|reason| PolicyError::Rule {
                path: shown.clone(),
                name: name.clone(),
                reason,
            })?;
            enforcer.rules.insert(name, rule);
        }
        tracing::info!(file = %path.display(), "policy file loaded");
        Ok(enforcer)
    }

    /// Whether `ctx` may perform `action` on `target`. Admins may do anything, as in
    /// Tacker; an action with no rule falls back to the `default` rule.
    pub fn enforce(&self, action: &str, target: &Target, ctx: &RequestContext) -> bool {
        if ctx.is_admin {
            return true;
        }
        let scope = Scope {
            rules: &self.rules,
            target,
            ctx,
        };
        match self.rules.get(action).or_else(|| self.rules.get("default")) {
            Some(rule) => rule.allows(&scope, 0),
            None => false,
        }
    }

    /// A target naming the owning project under both of its names.
    pub fn project_target(project_id: &str) -> Target {
        let mut target = Target::new();
        target.insert("project_id".into(), Value::String(project_id.into()));
        target.insert("tenant_id".into(), Value::String(project_id.into()));
        target
    }
}

/// A string expression, or policy.json's old list form (a list of and-lists, or-ed).
fn rule_from_yaml(value: &serde_yaml_ng::Value) -> Result<Rule, RuleError> {
    match value {
        serde_yaml_ng::Value::String(text) => parse(text),
        serde_yaml_ng::Value::Sequence(alternatives) => {
            let mut any = Vec::new();
            for alternative in alternatives {
                let serde_yaml_ng::Value::Sequence(checks) = alternative else {
                    return Err(RuleError::NotAListOfLists);
                };
                let all = checks
                    .iter()
                    .map(|c| c.as_str().ok_or(RuleError::CheckNotAString).and_then(parse))
                    .collect::<Result<Vec<_>, _>>()?;
                any.push(Rule::And(all));
            }
            Ok(if any.is_empty() {
                Rule::Always
            } else {
                Rule::Or(any)
            })
        }
        _ => Err(RuleError::NotAString),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(project: &str, roles: &[&str]) -> RequestContext {
        RequestContext::with_roles(
            Some("u".into()),
            Some(project.into()),
            roles.iter().map(|r| r.to_string()).collect(),
        )
    }

    #[test]
    fn default_rule_is_member_of_the_owning_project_or_admin() {
        let e = Enforcer::defaults();
        let target = Enforcer::project_target("p1");
        assert!(e.enforce("create_vim", &target, &ctx("p1", &["member"])));
        assert!(!e.enforce("create_vim", &target, &ctx("p1", &["reader"])));
        assert!(!e.enforce("create_vim", &target, &ctx("p2", &["member"])));
        assert!(e.enforce("create_vim", &target, &ctx("p2", &["Admin"])));
        assert!(e.enforce(
            "os_nfv_orchestration_api:vnf_instances:show",
            &target,
            &ctx("p1", &["reader"])
        ));
        assert!(e.enforce(
            "os_nfv_orchestration_api_v2:vnf_instances:show",
            &target,
            &ctx("p9", &[])
        ));
    }

    #[test]
    fn keystone_scopes_reach_the_rules() {
        let dir = std::env::temp_dir().join(format!("policy-scope-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policy.yaml");
        std::fs::write(
            &file,
            "\"get_vims\": \"role:reader and system_scope:all\"\n\
             \"create_vim\": \"role:member and is_admin_project:True\"\n\
             \"delete_vim\": \"domain_id:d1 or service_user_id:nova\"\n",
        )
        .unwrap();
        let e = Enforcer::load(&file).unwrap();
        let target = Enforcer::project_target("p1");
        let mut system_reader = ctx("p1", &["reader"]);
        assert!(!e.enforce("get_vims", &target, &system_reader));
        system_reader.system_scope = Some("all".into());
        assert!(e.enforce("get_vims", &target, &system_reader));
        let mut member = ctx("p1", &["member"]);
        assert!(e.enforce("create_vim", &target, &member));
        member.is_admin_project = false;
        assert!(!e.enforce("create_vim", &target, &member));
        assert!(!e.enforce("delete_vim", &target, &member));
        member.domain_id = Some("d1".into());
        assert!(e.enforce("delete_vim", &target, &member));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_policy_file_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policy.yaml");
        std::fs::write(
            &file,
            "\"create_vim\": \"role:vim_admin and project_id:%(project_id)s\"\n\"get_vims\": \"@\"\n\"delete_vim\": [[\"role:a\", \"role:b\"], [\"role:c\"]]\n",
        )
        .unwrap();
        let e = Enforcer::load(&file).unwrap();
        let target = Enforcer::project_target("p1");
        assert!(!e.enforce("create_vim", &target, &ctx("p1", &["member"])));
        assert!(e.enforce("create_vim", &target, &ctx("p1", &["vim_admin"])));
        assert!(e.enforce("get_vims", &target, &ctx("p2", &[])));
        assert!(e.enforce("delete_vim", &target, &ctx("p2", &["a", "b"])));
        assert!(!e.enforce("delete_vim", &target, &ctx("p2", &["a"])));
        std::fs::write(&file, "\"x\": \"role:a or\"\n").unwrap();
        let err = Enforcer::load(&file).unwrap_err().to_string();
        assert!(err.contains("\"x\""), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
