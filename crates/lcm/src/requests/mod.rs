//! Request bodies of the LCM API as types (SOL003 2.6.1 for v1, 3.3.1 for v2; where the
//! two differ the type holds both). A body is deserialised once, at the service's edge;
//! a refusal names the attribute by its path, the value sent and the rule it broke, in
//! the words of Tacker's JSON schema validation.

mod bodies;
mod fields;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use bodies::*;
pub use fields::{Identifier, Steps, Text};

use crate::error::{LcmError, Result};

/// Deserialises a request body into `T`.
pub fn parse<T: DeserializeOwned>(body: Option<&Value>) -> Result<T> {
    match body {
        Some(value @ Value::Object(_)) => {
            serde_path_to_error::deserialize(value).map_err(|e| LcmError::BadRequest(refusal(value, &e)))
        }
        Some(_) => Err(LcmError::BadRequest(
            "The request body must be a JSON object.".into(),
        )),
        None => Err(LcmError::BadRequest("Malformed request body.".into())),
    }
}

/// Tacker's message for a body that does not deserialise.
fn refusal(body: &Value, error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path();
    let reason = error.inner().to_string();
    // serde names a missing field from the object that lacks it.
    if let Some(field) = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return match path.to_string().as_str() {
            "." => format!("'{field}' is a required property"),
            parent => format!("'{field}' is a required property of {parent}"),
        };
    }
    let value = value_at(body, path).map_or_else(|| "null".to_owned(), Value::to_string);
    format!(
        "Invalid input for field/attribute {path}. Value: {value}. {}.",
        in_json_terms(&reason)
    )
}

/// The value at `path` in `body`, if the path leads somewhere.
fn value_at<'a>(body: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(body, |value, segment| match segment {
        Segment::Map { key } => value.get(key),
        Segment::Seq { index } => value.get(index),
        Segment::Enum { .. } | Segment::Unknown => Some(value),
    })
}

/// serde's reason with JSON's names for Rust's types, as a sentence.
fn in_json_terms(reason: &str) -> String {
    let reason = reason
        .replace("expected a map", "expected an object")
        .replace("expected a sequence", "expected an array")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected u32", "expected a non-negative integer");
    let mut chars = reason.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => reason,
    }
}

#[cfg(test)]
mod tests;
