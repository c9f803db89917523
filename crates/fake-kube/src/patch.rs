//! Patch bodies: JSON merge patch (RFC 7386, also used for strategic merge and apply
//! patches, so lists are replaced whole) and JSON patch (RFC 6902).

use axum::http::{header, HeaderMap};
use serde_json::Value;

use crate::status::ApiError;

/// The patch types of the `Content-Type` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    /// Treated as a merge patch: lists are replaced, not merged by key.
    StrategicMerge,
    /// Server-side apply, treated as a merge patch that creates a missing object.
    Apply,
    Json,
}

impl PatchType {
    /// The type of a PATCH request's body, from its `Content-Type` (415 when unknown).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence {
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(PatchType::Apply),
            "application/json-patch+json" => Ok(PatchType::Json),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, \
                 application/apply-patch+yaml (got {other:?})"
            ))),
        }
    }
}

/// Applies `patch` of `kind` to `target`.
pub fn apply(kind: PatchType, target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    match kind {
        PatchType::Json => json_patch(target, patch),
        _ => {
            merge(target, patch);
            Ok(())
        }
    }
}

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

fn pointer_parts(path: &str) -> Result<Vec<String>, ApiError> {
    if path.is_empty() {
        return Ok(vec![]);
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| ApiError::BadRequest(format!("invalid JSON pointer {path:?}")))?;
    Ok(rest
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn bad(op: &Value) -> ApiError {
    ApiError::Invalid {
        kind: String::new(),
        group: String::new(),
        name: String::new(),
        causes: vec![crate::status::Cause {
            field: "patch".into(),
            reason: "FieldValueInvalid".into(),
            message: format!("the JSON patch operation cannot be applied: {op}"),
        }],
    }
}

fn remove_at(target: &mut Value, parts: &[String], op: &Value) -> Result<Value, ApiError> {
    let (last, parent) = parts.split_last().ok_or_else(|| bad(op))?;
    let parent = parent
        .iter()
        .try_fold(target, |v, p| child(v, p))
        .ok_or_else(|| bad(op))?;
    match parent {
        Value::Object(map) => map.remove(last).ok_or_else(|| bad(op)),
        Value::Array(items) => {
            let index: usize = last.parse().map_err(|_| bad(op))?;
            (index < items.len())
                .then(|| items.remove(index))
                .ok_or_else(|| bad(op))
        }
        _ => Err(bad(op)),
    }
}

fn add_at(target: &mut Value, parts: &[String], value: Value, op: &Value) -> Result<(), ApiError> {
    let Some((last, parent)) = parts.split_last() else {
        *target = value;
        return Ok(());
    };
    let parent = parent
        .iter()
        .try_fold(target, |v, p| child(v, p))
        .ok_or_else(|| bad(op))?;
    match parent {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) if last == "-" => {
            items.push(value);
            Ok(())
        }
        Value::Array(items) => {
            let index: usize = last.parse().map_err(|_| bad(op))?;
            if index > items.len() {
                return Err(bad(op));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(bad(op)),
    }
}

fn child<'a>(value: &'a mut Value, part: &str) -> Option<&'a mut Value> {
    match value {
        Value::Object(map) => map.get_mut(part),
        Value::Array(items) => items.get_mut(part.parse::<usize>().ok()?),
        _ => None,
    }
}

fn json_patch(target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| ApiError::BadRequest("a JSON patch must be an array".into()))?;
    for op in ops {
        let path = pointer_parts(op["path"].as_str().unwrap_or_default())?;
        match op["op"].as_str().unwrap_or_default() {
            "add" => add_at(target, &path, op["value"].clone(), op)?,
            "remove" => {
                remove_at(target, &path, op)?;
            }
            "replace" => {
                remove_at(target, &path, op)?;
                add_at(target, &path, op["value"].clone(), op)?;
            }
            "test" => {
                let pointer = op["path"].as_str().unwrap_or_default();
                if target.pointer(pointer) != Some(&op["value"]) {
                    return Err(bad(op));
                }
            }
            "move" | "copy" => {
                let from = pointer_parts(op["from"].as_str().unwrap_or_default())?;
                let value = if op["op"] == "move" {
                    remove_at(target, &from, op)?
                } else {
                    target
                        .pointer(op["from"].as_str().unwrap_or_default())
                        .cloned()
                        .ok_or_else(|| bad(op))?
                };
                add_at(target, &path, value, op)?;
            }
            _ => return Err(bad(op)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge(&mut v, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(v, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn json_patch_ops() {
        let mut v = json!({"spec": {"replicas": 1, "items": [1]}});
        let patch = json!([
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/spec/items/-", "value": 2},
            {"op": "test", "path": "/spec/replicas", "value": 3},
            {"op": "copy", "from": "/spec/replicas", "path": "/spec/copy"},
            {"op": "remove", "path": "/spec/items/0"}
        ]);
        apply(PatchType::Json, &mut v, &patch).unwrap();
        assert_eq!(v, json!({"spec": {"replicas": 3, "items": [2], "copy": 3}}));
        assert!(apply(
            PatchType::Json,
            &mut v,
            &json!([{"op": "test", "path": "/spec/replicas", "value": 9}])
        )
        .is_err());
    }
}
