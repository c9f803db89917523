//! Tacker's attribute rules for the `vim` resource (RESOURCE_ATTRIBUTE_MAP['vims']):
//! which keys are allowed in POST and PUT, which are required, and each one's validator.

use serde_json::{Map, Value};

use crate::VimError;

/// A register request after attribute validation.
#[derive(Debug, Clone)]
pub struct CreateVim {
    pub tenant_id: Option<String>,
    pub vim_type: String,
    pub name: String,
    pub description: String,
    pub auth_url: String,
    pub auth_cred: Map<String, Value>,
    pub vim_project: Map<String, Value>,
    pub is_default: bool,
    pub extra: Map<String, Value>,
}

/// An update request after attribute validation; absent keys are `None`.
#[derive(Debug, Clone, Default)]
pub struct UpdateVim {
    pub name: Option<String>,
    pub description: Option<String>,
    pub auth_cred: Option<Map<String, Value>>,
    pub vim_project: Option<Map<String, Value>>,
    pub is_default: Option<bool>,
    pub extra: Option<Map<String, Value>>,
}

const POST_ATTRS: &[&str] = &[
    "tenant_id",
    "type",
    "auth_url",
    "auth_cred",
    "vim_project",
    "name",
    "description",
    "is_default",
    "extra",
];
const PUT_ATTRS: &[&str] = &[
    "auth_cred",
    "vim_project",
    "name",
    "description",
    "is_default",
    "extra",
];
const READ_ONLY: &[&str] = &[
    "id",
    "tenant_id",
    "type",
    "auth_url",
    "status",
    "placement_attr",
    "shared",
    "created_at",
    "updated_at",
];
const REQUIRED_ON_POST: &[&str] = &["type", "auth_url", "auth_cred", "vim_project", "name"];

/// Unwraps `{"vim": {...}}` as Tacker's controller does.
pub fn unwrap_body(body: Option<Value>) -> Result<Map<String, Value>, VimError> {
    let Some(body) = body else {
        return Err(VimError::BadRequest("Resource body required".into()));
    };
    let Value::Object(mut outer) = body else {
        return Err(VimError::BadRequest("Body contains invalid data".into()));
    };
    if outer.contains_key("vims") {
        return Err(VimError::NotImplemented(
            "Bulk VIM registration is not supported; register VIMs one at a time.".into(),
        ));
    }
    match outer.remove("vim") {
        Some(Value::Object(vim)) => Ok(vim),
        Some(_) => Err(VimError::BadRequest("Body contains invalid data".into())),
        None => Err(VimError::BadRequest(
            "Unable to find 'vim' in request body".into(),
        )),
    }
}

/// Validates a POST body's resource dict.
pub fn parse_create(mut vim: Map<String, Value>) -> Result<CreateVim, VimError> {
    // Tacker tolerates project_id as the newer name of tenant_id.
    if let Some(project) = vim.remove("project_id") {
        vim.entry("tenant_id").or_insert(project);
    }
    check_keys(&vim, POST_ATTRS, "POST")?;
    for attr in REQUIRED_ON_POST {
        if !vim.contains_key(*attr) {
            return Err(VimError::BadRequest(format!(
                "Failed to parse request. Required attribute '{attr}' not specified"
            )));
        }
    }
    Ok(CreateVim {
        tenant_id: vim
            .get("tenant_id")
            .map(|v| string(v, "tenant_id", Some(255)))
            .transpose()?,
        vim_type: not_empty_string(&vim["type"], "type")?,
        name: string(&vim["name"], "name", Some(255))?,
        description: vim
            .get("description")
            .map(|v| string(v, "description", None))
            .transpose()?
            .unwrap_or_default(),
        auth_url: string(&vim["auth_url"], "auth_url", None)?,
        auth_cred: dict_not_empty(&vim["auth_cred"], "auth_cred")?,
        vim_project: dict_not_empty(&vim["vim_project"], "vim_project")?,
        is_default: vim
            .get("is_default")
            .map(|v| boolean(v, "is_default"))
            .transpose()?
            .unwrap_or(false),
        extra: vim
            .get("extra")
            .map(|v| dict_or_nodata(v, "extra"))
            .transpose()?
            .unwrap_or_default(),
    })
}

/// Validates a PUT body's resource dict.
pub fn parse_update(vim: Map<String, Value>) -> Result<UpdateVim, VimError> {
    for key in vim.keys() {
        if READ_ONLY.contains(&key.as_str()) {
            return Err(VimError::BadRequest(format!(
                "Cannot update read-only attribute {key}"
            )));
        }
    }
    check_keys(&vim, PUT_ATTRS, "PUT")?;
    Ok(UpdateVim {
        name: vim
            .get("name")
            .map(|v| string(v, "name", Some(255)))
            .transpose()?,
        description: vim
            .get("description")
            .map(|v| string(v, "description", None))
            .transpose()?,
        auth_cred: vim
            .get("auth_cred")
            .map(|v| dict_not_empty(v, "auth_cred"))
            .transpose()?,
        vim_project: vim
            .get("vim_project")
            .map(|v| dict_not_empty(v, "vim_project"))
            .transpose()?,
        is_default: vim
            .get("is_default")
            .map(|v| boolean(v, "is_default"))
            .transpose()?,
        extra: vim.get("extra").map(|v| dict_or_nodata(v, "extra")).transpose()?,
    })
}

fn check_keys(vim: &Map<String, Value>, allowed: &[&str], method: &str) -> Result<(), VimError> {
    let mut unknown: Vec<&str> = Vec::new();
    for key in vim.keys() {
        if allowed.contains(&key.as_str()) {
            continue;
        }
        if READ_ONLY.contains(&key.as_str()) && method == "POST" {
            return Err(VimError::BadRequest(format!(
                "Attribute '{key}' not allowed in POST"
            )));
        }
        unknown.push(key);
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(VimError::BadRequest(format!(
            "Unrecognized attribute(s) '{}'",
            unknown.join(", ")
        )))
    }
}

/// How a value appears in Tacker's messages (`'x'`).
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        other => format!("'{other}'"),
    }
}

fn string(value: &Value, attr: &str, max_len: Option<usize>) -> Result<String, VimError> {
    let Value::String(s) = value else {
        return Err(VimError::invalid(
            attr,
            format!("{} is not a valid string", shown(value)),
        ));
    };
    if let Some(max) = max_len {
        if s.chars().count() > max {
            return Err(VimError::invalid(
                attr,
                format!("'{s}' exceeds maximum length of {max}"),
            ));
        }
    }
    Ok(s.clone())
}

fn not_empty_string(value: &Value, attr: &str) -> Result<String, VimError> {
    let s = string(value, attr, None)?;
    if s.trim().is_empty() {
        return Err(VimError::invalid(
            attr,
            format!("'{s}' Blank strings are not permitted"),
        ));
    }
    Ok(s)
}

fn dict_not_empty(value: &Value, attr: &str) -> Result<Map<String, Value>, VimError> {
    match value {
        Value::Object(map) if !map.is_empty() => Ok(map.clone()),
        Value::Object(_) => Err(VimError::invalid(
            attr,
            "'{}' is not a valid dictionary (it is empty)",
        )),
        other => Err(VimError::invalid(
            attr,
            format!("{} is not a dictionary", shown(other)),
        )),
    }
}

fn dict_or_nodata(value: &Value, attr: &str) -> Result<Map<String, Value>, VimError> {
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map.clone()),
        other => Err(VimError::invalid(
            attr,
            format!("{} is not a dictionary", shown(other)),
        )),
    }
}

/// Tacker's convert_to_boolean: booleans, 0/1 and their string spellings.
fn boolean(value: &Value, attr: &str) -> Result<bool, VimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => Ok(false),
        other => Err(VimError::invalid(
            attr,
            format!("{} cannot be converted to boolean", shown(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn valid() -> Value {
        json!({"type": "kubernetes", "name": "k", "auth_url": "https://k:6443",
               "auth_cred": {"bearer_token": "t"}, "vim_project": {"name": "default"}})
    }

    #[test]
    fn required_attributes_are_named() {
        let mut body = obj(valid());
        body.remove("auth_cred");
        let err = parse_create(body).unwrap_err().to_string();
        assert_eq!(
            err,
            "Failed to parse request. Required attribute 'auth_cred' not specified"
        );
    }

    #[test]
    fn read_only_and_unknown_attributes_are_rejected() {
        let mut body = obj(valid());
        body.insert("status".into(), json!("ACTIVE"));
        assert_eq!(
            parse_create(body).unwrap_err().to_string(),
            "Attribute 'status' not allowed in POST"
        );
        let mut body = obj(valid());
        body.insert("colour".into(), json!("red"));
        assert_eq!(
            parse_create(body).unwrap_err().to_string(),
            "Unrecognized attribute(s) 'colour'"
        );
        let err = parse_update(obj(json!({"type": "openstack"})))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "Cannot update read-only attribute type");
    }

    #[test]
    fn validators_say_which_attribute_is_wrong() {
        let mut body = obj(valid());
        body.insert("name".into(), json!(42));
        assert_eq!(
            parse_create(body).unwrap_err().to_string(),
            "Invalid input for name. Reason: '42' is not a valid string."
        );
        let mut body = obj(valid());
        body.insert("is_default".into(), json!("maybe"));
        assert!(parse_create(body)
            .unwrap_err()
            .to_string()
            .starts_with("Invalid input for is_default."));
        let mut body = obj(valid());
        body.insert("auth_cred".into(), json!({}));
        assert!(parse_create(body)
            .unwrap_err()
            .to_string()
            .starts_with("Invalid input for auth_cred."));
        let mut body = obj(valid());
        body.insert("name".into(), json!("x".repeat(256)));
        assert!(parse_create(body)
            .unwrap_err()
            .to_string()
            .contains("exceeds maximum length of 255"));
    }

    #[test]
    fn booleans_accept_tacker_spellings_and_project_id_aliases_tenant() {
        let mut body = obj(valid());
        body.insert("is_default".into(), json!("True"));
        body.insert("project_id".into(), json!("p1"));
        let parsed = parse_create(body).unwrap();
        assert!(parsed.is_default);
        assert_eq!(parsed.tenant_id.as_deref(), Some("p1"));
    }

    #[test]
    fn wrapper_is_required() {
        assert_eq!(
            unwrap_body(None).unwrap_err().to_string(),
            "Resource body required"
        );
        assert_eq!(
            unwrap_body(Some(json!({"vimx": {}}))).unwrap_err().to_string(),
            "Unable to find 'vim' in request body"
        );
    }
}
