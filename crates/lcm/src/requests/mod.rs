//! Request bodies of the LCM API, checked as Tacker's JSON schemas check them, with
//! messages that name the attribute.

use serde_json::{Map, Value};

use crate::error::{LcmError, Result};

/// A JSON object body under validation.
pub struct Body<'a>(pub &'a Map<String, Value>);

pub fn object(body: Option<&Value>) -> Result<Body<'_>> {
    match body {
        Some(Value::Object(map)) => Ok(Body(map)),
        Some(_) => Err(bad("The request body must be a JSON object.")),
        None => Err(bad("Malformed request body.")),
    }
}

fn bad(message: impl Into<String>) -> LcmError {
    LcmError::BadRequest(message.into())
}

fn invalid(field: &str, value: &Value, why: &str) -> LcmError {
    bad(format!(
        "Invalid input for field/attribute {field}. Value: {value}. {why}"
    ))
}

impl<'a> Body<'a> {
    pub fn required_str(&self, field: &str) -> Result<&'a str> {
        match self.0.get(field) {
            None => Err(bad(format!("'{field}' is a required property"))),
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(other) => Err(invalid(field, other, "A non-empty string is required.")),
        }
    }

    pub fn optional_str(&self, field: &str, max_len: usize) -> Result<Option<&'a str>> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max_len => Ok(Some(s)),
            Some(other) => Err(invalid(
                field,
                other,
                &format!("A string of at most {max_len} characters is required."),
            )),
        }
    }

    /// Like [`Body::optional_str`], but `null` is refused: for attributes that are shown
    /// again as sent (MODIFY_INFO's changedInfo), where SOL003 types them as strings.
    pub fn non_null_str(&self, field: &str, max_len: usize) -> Result<Option<&'a str>> {
        match self.0.get(field) {
            Some(Value::Null) => Err(invalid(
                field,
                &Value::Null,
                &format!("A string of at most {max_len} characters is required."),
            )),
            _ => self.optional_str(field, max_len),
        }
    }

    /// Like [`Body::optional_object`], but `null` is refused (see [`Body::non_null_str`]).
    pub fn non_null_object(&self, field: &str) -> Result<Option<&'a Map<String, Value>>> {
        match self.0.get(field) {
            Some(Value::Null) => Err(invalid(field, &Value::Null, "An object is required.")),
            _ => self.optional_object(field),
        }
    }

    pub fn optional_object(&self, field: &str) -> Result<Option<&'a Map<String, Value>>> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(invalid(field, other, "An object is required.")),
        }
    }

    pub fn optional_array(&self, field: &str) -> Result<Option<&'a Vec<Value>>> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(invalid(field, other, "An array is required.")),
        }
    }

    pub fn one_of(&self, field: &str, allowed: &[&str], required: bool) -> Result<Option<&'a str>> {
        match self.0.get(field) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(bad(format!("'{field}' is a required property"))),
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s)),
            Some(other) => Err(invalid(
                field,
                other,
                &format!("It must be one of {}.", allowed.join(", ")),
            )),
        }
    }

    pub fn optional_uint(&self, field: &str, min: u64) -> Result<Option<u64>> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v >= min) => Ok(n.as_u64()),
            Some(other) => Err(invalid(
                field,
                other,
                &format!("An integer of at least {min} is required."),
            )),
        }
    }

    /// `additionalParams`, or an empty object.
    pub fn additional_params(&self) -> Result<Map<String, Value>> {
        Ok(self
            .optional_object("additionalParams")?
            .cloned()
            .unwrap_or_default())
    }
}
