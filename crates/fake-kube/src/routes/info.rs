//! What a request is about, parsed from method, path and query as kube-apiserver's
//! `RequestInfoFactory` does (before knowing whether the resource exists).

use axum::http::{Method, Uri};

/// The request attributes authorization and the handlers use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    pub path: String,
    pub is_resource_request: bool,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: String,
    pub api_prefix: String,
    pub api_group: String,
    pub api_version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub subresource: Option<String>,
    pub name: Option<String>,
    /// The path parts from the resource on (`resource/name/subresource/...`).
    pub parts: Vec<String>,
}

fn query_flag(query: &str, key: &str) -> bool {
    query.split('&').any(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        k == key && (v == "1" || v.eq_ignore_ascii_case("true"))
    })
}

impl RequestInfo {
    pub fn parse(method: &Method, uri: &Uri) -> Self {
        let path = uri.path().to_string();
        let query = uri.query().unwrap_or_default();
        let method_verb = match *method {
            Method::POST => "create",
            Method::GET | Method::HEAD => "get",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE => "delete",
            _ => "",
        };
        let mut info = RequestInfo {
            path: path.clone(),
            is_resource_request: false,
            verb: method.as_str().to_ascii_lowercase(),
            api_prefix: String::new(),
            api_group: String::new(),
            api_version: String::new(),
            namespace: None,
            resource: String::new(),
            subresource: None,
            name: None,
            parts: Vec::new(),
        };
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        let rest: &[&str] = match parts.as_slice() {
            ["api", version, rest @ ..] if !rest.is_empty() => {
                info.api_prefix = "api".into();
                info.api_version = version.to_string();
                rest
            }
            ["apis", group, version, rest @ ..] if !rest.is_empty() => {
                info.api_prefix = "apis".into();
                info.api_group = group.to_string();
                info.api_version = version.to_string();
                rest
            }
            _ => return info,
        };
        info.is_resource_request = true;
        info.verb = method_verb.to_string();
        let mut rest: Vec<&str> = rest.to_vec();
        if rest[0] == "namespaces" && rest.len() > 1 {
            info.namespace = Some(rest[1].to_string());
            if rest.len() > 2 && !["status", "finalize"].contains(&rest[2]) {
                rest = rest[2..].to_vec();
            }
        }
        info.resource = rest[0].to_string();
        info.name = rest.get(1).map(|s| s.to_string());
        info.subresource = rest.get(2).map(|s| s.to_string());
        info.parts = rest.iter().map(|s| s.to_string()).collect();
        if info.verb == "get" && query_flag(query, "watch") {
            info.verb = "watch".into();
        } else if info.name.is_none() && info.verb == "get" {
            info.verb = "list".into();
        } else if info.name.is_none() && info.verb == "delete" {
            info.verb = "deletecollection".into();
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: Method, uri: &str) -> RequestInfo {
        RequestInfo::parse(&method, &uri.parse().unwrap())
    }

    #[test]
    fn paths() {
        let i = parse(
            Method::GET,
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
        );
        assert_eq!(
            (
                i.verb.as_str(),
                i.api_group.as_str(),
                i.namespace.as_deref(),
                i.resource.as_str()
            ),
            ("get", "apps", Some("default"), "deployments")
        );
        assert_eq!(
            (i.name.as_deref(), i.subresource.as_deref()),
            (Some("web"), Some("scale"))
        );
        let i = parse(Method::GET, "/api/v1/namespaces/default/pods?labelSelector=a%3Db");
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str(), i.name),
            ("list", "pods", None)
        );
        let i = parse(Method::GET, "/api/v1/namespaces/kube-system");
        assert_eq!(
            (i.resource.as_str(), i.name.as_deref(), i.namespace.as_deref()),
            ("namespaces", Some("kube-system"), Some("kube-system"))
        );
        let i = parse(Method::PUT, "/api/v1/namespaces/ns1/status");
        assert_eq!(
            (i.resource.as_str(), i.subresource.as_deref()),
            ("namespaces", Some("status"))
        );
        let i = parse(Method::DELETE, "/api/v1/namespaces/ns1/pods");
        assert_eq!(i.verb, "deletecollection");
        let i = parse(Method::GET, "/api/v1/pods?watch=true");
        assert_eq!((i.verb.as_str(), i.namespace), ("watch", None));
        let i = parse(Method::GET, "/apis/apps/v1");
        assert!(!i.is_resource_request);
        assert_eq!(i.verb, "get");
    }
}
