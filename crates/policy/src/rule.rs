//! The rule language of oslo.policy and its evaluation.

use std::collections::HashMap;

use serde_json::Value;
use tacker_common::RequestContext;

/// A parsed rule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `@` or an empty rule.
    Always,
    /// `!`
    Never,
    /// `role:<name>`, compared case-insensitively.
    Role(String),
    /// `rule:<name>`: another rule; unknown names deny.
    Named(String),
    /// `field:<resource>:<field>=<value>`
    Field {
        field: String,
        value: String,
    },
    /// `<credential>:<value or %(target)s>`
    Generic {
        key: String,
        value: String,
    },
    Not(Box<Rule>),
    And(Vec<Rule>),
    Or(Vec<Rule>),
}

/// What is wrong with a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("unexpected '{token}' in rule {text:?}")]
    Unexpected { token: String, text: String },
    #[error("the rule ends too early")]
    EndsEarly,
    #[error("a '(' is not closed")]
    Unclosed,
    #[error("'{0}' is not a check (kind:value)")]
    NotACheck(String),
    #[error("'{0}' is not field:resource:field=value")]
    NotAFieldCheck(String),
    #[error("remote checks ('{0}') are not supported")]
    Remote(String),
    /// policy.json's list form, not a list of lists.
    #[error("a list rule must be a list of lists of checks")]
    NotAListOfLists,
    #[error("checks must be strings")]
    CheckNotAString,
    #[error("a rule must be a string")]
    NotAString,
}

/// Parses an expression; the error says what is wrong with it.
pub fn parse(text: &str) -> Result<Rule, RuleError> {
    let tokens = tokenize(text);
    if tokens.is_empty() {
        return Ok(Rule::Always);
    }
    let mut parser = Parser { tokens, pos: 0 };
    let rule = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(rule),
        Some(extra) => Err(RuleError::Unexpected {
            token: extra.clone(),
            text: text.to_owned(),
        }),
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for word in text.split_whitespace() {
        let mut rest = word;
        while let Some(stripped) = rest.strip_prefix('(') {
            tokens.push("(".to_string());
            rest = stripped;
        }
        let mut closing = 0;
        while let Some(stripped) = rest.strip_suffix(')') {
            closing += 1;
            rest = stripped;
        }
        if !rest.is_empty() {
            tokens.push(rest.to_string());
        }
        tokens.extend(std::iter::repeat_n(")".to_string(), closing));
    }
    tokens
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek_is(&self, word: &str) -> bool {
        self.tokens
            .get(self.pos)
            .is_some_and(|t| t.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut alternatives = vec![self.and()?];
        while self.peek_is("or") {
            self.pos += 1;
            alternatives.push(self.and()?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.remove(0)
        } else {
            Rule::Or(alternatives)
        })
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut all = vec![self.not()?];
        while self.peek_is("and") {
            self.pos += 1;
            all.push(self.not()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Rule::And(all)
        })
    }

    fn not(&mut self) -> Result<Rule, RuleError> {
        if self.peek_is("not") {
            self.pos += 1;
            return Ok(Rule::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Rule, RuleError> {
        let token = self.tokens.get(self.pos).cloned().ok_or(RuleError::EndsEarly)?;
        self.pos += 1;
        if token == "(" {
            let inner = self.or()?;
            if self.tokens.get(self.pos).map(String::as_str) != Some(")") {
                return Err(RuleError::Unclosed);
            }
            self.pos += 1;
            return Ok(inner);
        }
        check(&token)
    }
}

fn check(token: &str) -> Result<Rule, RuleError> {
    match token {
        "@" => return Ok(Rule::Always),
        "!" => return Ok(Rule::Never),
        _ => {}
    }
    let (kind, value) = token
        .split_once(':')
        .ok_or_else(|| RuleError::NotACheck(token.to_owned()))?;
    Ok(match kind {
        "role" => Rule::Role(value.to_string()),
        "rule" => Rule::Named(value.to_string()),
        "field" => {
            // field:<resource>:<field>=<value>
            let (_, assignment) = value
                .split_once(':')
                .ok_or_else(|| RuleError::NotAFieldCheck(token.to_owned()))?;
            let (field, value) = assignment
                .split_once('=')
                .ok_or_else(|| RuleError::NotAFieldCheck(token.to_owned()))?;
            Rule::Field {
                field: field.to_string(),
                value: value.to_string(),
            }
        }
        "http" | "https" => return Err(RuleError::Remote(token.to_owned())),
        _ => Rule::Generic {
            key: kind.to_string(),
            value: value.to_string(),
        },
    })
}

/// What a rule is evaluated against.
pub(crate) struct Scope<'a> {
    pub rules: &'a HashMap<String, Rule>,
    pub target: &'a HashMap<String, Value>,
    pub ctx: &'a RequestContext,
}

impl Rule {
    pub(crate) fn allows(&self, scope: &Scope<'_>, depth: u8) -> bool {
        if depth > 32 {
            // A rule that refers to itself: deny rather than recurse forever.
            return false;
        }
        match self {
            Rule::Always => true,
            Rule::Never => false,
            Rule::Role(role) => scope.ctx.roles.iter().any(|r| r.eq_ignore_ascii_case(role)),
            Rule::Named(name) => scope.rules.get(name).is_some_and(|r| r.allows(scope, depth + 1)),
            Rule::Field { field, value } => scope.target.get(field).is_some_and(|v| value_text(v) == *value),
            Rule::Generic { key, value } => generic(key, value, scope),
            Rule::Not(inner) => !inner.allows(scope, depth + 1),
            Rule::And(all) => all.iter().all(|r| r.allows(scope, depth + 1)),
            Rule::Or(any) => any.iter().any(|r| r.allows(scope, depth + 1)),
        }
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// `key:value`: the caller's `key` equals the literal, or the target's `%(name)s`.
fn generic(key: &str, value: &str, scope: &Scope<'_>) -> bool {
    let expected = match value.strip_prefix("%(").and_then(|v| v.strip_suffix(")s")) {
        Some(name) => match scope.target.get(name) {
            Some(v) => value_text(v),
            None => return false,
        },
        None => value.trim_matches(|c| c == '\'' || c == '"').to_string(),
    };
    let ctx = scope.ctx;
    let actual = match key {
        "is_admin" => Some(if ctx.is_admin {
            "True".to_string()
        } else {
            "False".to_string()
        }),
        "project_id" | "tenant_id" | "tenant" => ctx.project_id.clone(),
        "user_id" | "user" => ctx.user_id.clone(),
        "project_name" => ctx.project_name.clone(),
        "user_name" => ctx.user_name.clone(),
        "project_domain_id" => ctx.project_domain_id.clone(),
        "user_domain_id" => ctx.user_domain_id.clone(),
        "domain_id" => ctx.domain_id.clone(),
        "system_scope" => ctx.system_scope.clone(),
        "is_admin_project" => Some(if ctx.is_admin_project {
            "True".to_string()
        } else {
            "False".to_string()
        }),
        "service_user_id" => ctx.service_user_id.clone(),
        "service_project_id" => ctx.service_project_id.clone(),
        _ => None,
    };
    actual.is_some_and(|a| a == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operators_with_precedence_and_parentheses() {
        assert_eq!(
            parse("role:a or role:b and not role:c").unwrap(),
            Rule::Or(vec![
                Rule::Role("a".into()),
                Rule::And(vec![
                    Rule::Role("b".into()),
                    Rule::Not(Box::new(Rule::Role("c".into())))
                ])
            ])
        );
        assert_eq!(
            parse("(role:a or role:b) and rule:x").unwrap(),
            Rule::And(vec![
                Rule::Or(vec![Rule::Role("a".into()), Rule::Role("b".into())]),
                Rule::Named("x".into())
            ])
        );
        assert_eq!(parse("").unwrap(), Rule::Always);
        assert_eq!(parse("!").unwrap(), Rule::Never);
        assert!(parse("(role:a").is_err());
        assert!(parse("role:a or").is_err());
        assert!(parse("justaword").is_err());
    }
}
