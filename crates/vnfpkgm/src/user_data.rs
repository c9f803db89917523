//! userDefinedData: Tacker's key rules, and SOL005's JSON merge patch for PATCH.

use serde_json::{Map, Value};

use crate::error::{PkgError, Result};

const MAX_KEY_LEN: usize = 1024;
const MAX_STRING_LEN: usize = 1024;

/// Checks a userDefinedData object as Tacker's `keyvalue_pairs` schema does.
pub fn check_user_data(value: &Value) -> Result<Map<String, Value>> {
    let Value::Object(map) = value else {
        return Err(PkgError::BadRequest(format!(
            "Invalid input for field/attribute userDefinedData. Value: {value}. It must be an object."
        )));
    };
    for (key, value) in map {
        let key_ok = !key.is_empty()
            && key.len() <= MAX_KEY_LEN
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_:. /".contains(c));
        if !key_ok {
            return Err(PkgError::BadRequest(format!(
                "Invalid input for field/attribute userDefinedData. Key '{key}' must be 1 to {MAX_KEY_LEN} characters of letters, digits and '-_:. /'."
            )));
        }
        if value.as_str().is_some_and(|s| s.chars().count() > MAX_STRING_LEN) {
            return Err(PkgError::BadRequest(format!(
                "Invalid input for field/attribute {key}. Strings may be at most {MAX_STRING_LEN} characters long."
            )));
        }
    }
    Ok(map.clone())
}

/// Applies `patch` to `data` as an RFC 7396 merge patch (a `null` removes the key) and
/// returns the entries that actually changed.
pub fn merge_user_data(data: &mut Map<String, Value>, patch: Map<String, Value>) -> Map<String, Value> {
    let mut changed = Map::new();
    for (key, value) in patch {
        if value.is_null() {
            if data.remove(&key).is_some() {
                changed.insert(key, Value::Null);
            }
        } else if data.get(&key) != Some(&value) {
            data.insert(key.clone(), value.clone());
            changed.insert(key, value);
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_reports_only_changes_and_null_removes() {
        let mut data = json!({"a": "1", "b": "2"}).as_object().cloned().unwrap();
        let patch = json!({"a": "1", "b": "3", "c": null, "d": "4"})
            .as_object()
            .cloned()
            .unwrap();
        let changed = merge_user_data(&mut data, patch);
        assert_eq!(Value::Object(changed), json!({"b": "3", "d": "4"}));
        let removed = merge_user_data(&mut data, json!({"a": null}).as_object().cloned().unwrap());
        assert_eq!(Value::Object(removed), json!({"a": null}));
        assert_eq!(Value::Object(data), json!({"b": "3", "d": "4"}));
    }

    #[test]
    fn keys_follow_tacker_rules() {
        assert!(check_user_data(&json!({"key-1.a:b /c_d": "v"})).is_ok());
        assert!(check_user_data(&json!({"bad*key": "v"})).is_err());
        assert!(check_user_data(&json!(["not", "an", "object"])).is_err());
        assert!(check_user_data(&json!({"k": "x".repeat(1025)})).is_err());
    }
}
