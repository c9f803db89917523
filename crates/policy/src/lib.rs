//! oslo.policy-compatible authorisation: rule expressions (`role:`, `rule:`,
//! `project_id:%(project_id)s`, `field:`, `@`, `!`, `and`/`or`/`not`, parentheses),
//! Tacker's default rules, and overrides from a policy.yaml (or policy.json) file.

mod defaults;
mod enforcer;
mod rule;

pub use enforcer::{Enforcer, PolicyError, Target};
pub use rule::{parse, Rule, RuleError};
