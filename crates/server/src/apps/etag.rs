//! Entity tags of ETSI resources that clients modify (SOL013 4.5: `ETag` on reads,
//! `If-Match` on PATCH): a careful client sends back the tag it read and gets a 412
//! instead of overwriting a change it has not seen.

use axum::http::{header, HeaderMap, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::EtsiError;

/// A strong tag of the representation: equal bytes, equal tag.
/// (`etsi::Resource::tagged` sends it; the view is the service's, before its links are
/// made absolute, so the tag does not depend on the host a client used.)
pub fn etag_of(view: &Value) -> String {
    let digest = Sha256::digest(view.to_string().as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Refuses the request with 412 when it carries an `If-Match` that the resource's
/// current representation does not match (RFC 9110 13.1.1: strong comparison, `*`
/// matches any existing resource, weak tags never match).
pub fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), EtsiError> {
    let mut conditions = headers.get_all(header::IF_MATCH).iter().peekable();
    if conditions.peek().is_none() {
        return Ok(());
    }
    let tag = etag_of(current);
    let matched = conditions
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate == tag);
    if matched {
        Ok(())
    } else {
        Err(EtsiError::new(
            StatusCode::PRECONDITION_FAILED,
            "The resource was changed since the entity tag in If-Match was read; read it again.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn if_match(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::IF_MATCH,
                axum::http::HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn tags_follow_the_representation() {
        let a = json!({"id": "1", "userDefinedData": {"k": "v"}});
        let b = json!({"id": "1", "userDefinedData": {"k": "w"}});
        assert_eq!(etag_of(&a), etag_of(&a.clone()));
        assert_ne!(etag_of(&a), etag_of(&b));
        assert!(etag_of(&a).starts_with('"') && etag_of(&a).ends_with('"'));
    }

    #[test]
    fn if_match_compares_strongly() {
        let view = json!({"id": "1"});
        let tag = etag_of(&view);
        assert!(check_if_match(&HeaderMap::new(), &view).is_ok());
        assert!(check_if_match(&if_match(&[&tag]), &view).is_ok());
        assert!(check_if_match(&if_match(&["*"]), &view).is_ok());
        assert!(check_if_match(&if_match(&[&format!("\"x\", {tag}")]), &view).is_ok());
        assert!(check_if_match(&if_match(&["\"other\""]), &view).is_err());
        assert!(check_if_match(&if_match(&[&format!("W/{tag}")]), &view).is_err());
    }
}
