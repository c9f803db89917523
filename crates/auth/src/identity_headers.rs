//! The identity headers auth filters set for `keystonecontext`, and the rule that a
//! client never gets to set them itself.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Identity headers a client could send to impersonate someone; removed before the token
/// decides them (keystonemiddleware's list, plus OpenStack-System-Scope, which it forgets).
pub(crate) const SPOOFABLE: &[&str] = &[
    "x-service-catalog",
    "x-identity-status",
    "x-service-identity-status",
    "x-is-admin-project",
    "x-role",
    "x-roles",
    "x-service-roles",
    "x-user",
    "x-tenant-id",
    "x-tenant-name",
    "x-tenant",
    "x-domain-id",
    "x-domain-name",
    "x-project-id",
    "x-project-name",
    "x-project-domain-id",
    "x-project-domain-name",
    "x-user-id",
    "x-user-name",
    "x-user-domain-id",
    "x-user-domain-name",
    "x-service-domain-id",
    "x-service-domain-name",
    "x-service-project-id",
    "x-service-project-name",
    "x-service-project-domain-id",
    "x-service-project-domain-name",
    "x-service-user-id",
    "x-service-user-name",
    "x-service-user-domain-id",
    "x-service-user-domain-name",
    "openstack-system-scope",
];

/// Removes every identity header a client sent. Requests carry few headers and seldom
/// any of these, so the request's names are looked up, not every spoofable one.
pub(crate) fn strip_identity_headers(headers: &mut HeaderMap) {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| SPOOFABLE.contains(&name.as_str()))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
}

/// Sets a header; a value that cannot be a header value (from a token) is left out.
pub(crate) fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spoofed_identity_header_goes_and_the_rest_stays() {
        let mut headers = HeaderMap::new();
        headers.append("x-roles", HeaderValue::from_static("admin"));
        headers.append("x-roles", HeaderValue::from_static("member"));
        headers.insert("X-Project-Id", HeaderValue::from_static("theirs"));
        headers.insert("openstack-system-scope", HeaderValue::from_static("all"));
        headers.insert("authorization", HeaderValue::from_static("Bearer t"));
        headers.insert("x-openstack-request-id", HeaderValue::from_static("req-1"));
        strip_identity_headers(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["authorization", "x-openstack-request-id"]);
    }
}
