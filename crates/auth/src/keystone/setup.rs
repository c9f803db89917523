//! From `[keystone_authtoken]` to a ready filter, checked at start-up: every missing or
//! unusable option is named in one message, so a service never starts half-configured.

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::HeaderValue;
use serde_json::{json, Map, Value};
use tacker_common::KeystoneAuthtokenOptions;
use tacker_tls::client::{http_client, ClientTlsError, OutboundTls};

use super::filter::{BindMode, KeystoneAuth};
use super::identity::Validator;
use super::service_auth::{AuthRequest, ServiceAuth};
use crate::cache::ExpiringCache;

/// keystonemiddleware waits as long as the OS lets it when `http_connect_timeout` is
/// unset; tacker-rs answers 503 after this.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What is wrong with `[keystone_authtoken]`; start-up stops with this.
#[derive(Debug, thiserror::Error)]
pub enum KeystoneConfigError {
    /// Every missing or unusable option, in one message.
    #[error("[keystone_authtoken] {0}")]
    Options(String),
    /// The HTTPS client towards Keystone cannot be built.
    #[error("[keystone_authtoken] {0}")]
    Client(#[source] ClientTlsError),
    #[error("[keystone_authtoken] www_authenticate_uri")]
    WwwAuthenticate(#[source] axum::http::header::InvalidHeaderValue),
}

/// A file an option names cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{option} {}: {source}", path.display())]
struct ReadError {
    option: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// The domain part of a password-grant request: by id or by name.
fn domain(
    id: &Option<String>,
    name: &Option<String>,
    default_id: &Option<String>,
    default_name: &Option<String>,
) -> Option<Value> {
    match (id, name, default_id, default_name) {
        (Some(id), _, _, _) => Some(json!({ "id": id })),
        (None, Some(name), _, _) => Some(json!({ "name": name })),
        (None, None, Some(id), _) => Some(json!({ "id": id })),
        (None, None, None, Some(name)) => Some(json!({ "name": name })),
        _ => None,
    }
}

fn is_http_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// keystoneauth's v3 password request body for the configured user and scope; the
/// missing options are added to `missing`.
fn auth_request(o: &KeystoneAuthtokenOptions, missing: &mut Vec<&'static str>) -> AuthRequest {
    let mut user = Map::new();
    match (&o.user_id, &o.username) {
        (Some(id), _) => {
            user.insert("id".into(), json!(id));
        }
        (None, Some(name)) => {
            user.insert("name".into(), json!(name));
            match domain(
                &o.user_domain_id,
                &o.user_domain_name,
                &o.default_domain_id,
                &o.default_domain_name,
            ) {
                Some(d) => {
                    user.insert("domain".into(), d);
                }
                None => missing.push("user_domain_name"),
            }
        }
        (None, None) => missing.push("username"),
    }
    match &o.password {
        Some(password) => {
            user.insert("password".into(), json!(password));
        }
        None => missing.push("password"),
    }
    let scope = if let Some(system) = &o.system_scope {
        Some(json!({ "system": { system: true } }))
    } else if let Some(id) = &o.project_id {
        Some(json!({ "project": { "id": id } }))
    } else if let Some(name) = &o.project_name {
        match domain(
            &o.project_domain_id,
            &o.project_domain_name,
            &o.default_domain_id,
            &o.default_domain_name,
        ) {
            Some(d) => Some(json!({ "project": { "name": name, "domain": d } })),
            None => {
                missing.push("project_domain_name");
                None
            }
        }
    } else if let Some(id) = &o.domain_id {
        Some(json!({ "domain": { "id": id } }))
    } else if let Some(name) = &o.domain_name {
        Some(json!({ "domain": { "name": name } }))
    } else {
        missing.push("project_name");
        None
    };
    let mut auth = json!({
        "identity": { "methods": ["password"], "password": { "user": Value::Object(user) } }
    });
    if let Some(scope) = scope {
        auth["scope"] = scope;
    }
    AuthRequest(json!({ "auth": auth }))
}

fn read(option: &'static str, path: &Path) -> Result<Vec<u8>, ReadError> {
    std::fs::read(path).map_err(|source| ReadError {
        option,
        path: path.to_path_buf(),
        source,
    })
}

impl KeystoneAuth {
    /// Checks the options and builds the filter. Nothing is sent to Keystone yet: the
    /// service authenticates on the first request that needs it, so the API starts
    /// even while Keystone is down.
    pub fn from_options(o: &KeystoneAuthtokenOptions) -> Result<Self, KeystoneConfigError> {
        let mut missing: Vec<&'static str> = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        if o.auth_section.is_some() {
            problems.push(
                "auth_section is not supported: put the service credentials in [keystone_authtoken]".into(),
            );
        }
        match o.auth_type.as_deref() {
            None => missing.push("auth_type"),
            Some("password" | "v3password") => {}
            Some(other) => problems.push(format!(
                "auth_type = {other} is not supported: use auth_type = password"
            )),
        }
        let auth_url = o.auth_url.clone().unwrap_or_default();
        if o.auth_url.is_none() {
            missing.push("auth_url");
        } else if !is_http_url(&auth_url) {
            problems.push(format!("auth_url = {auth_url} is not an http(s) URL"));
        }
        let request = auth_request(o, &mut missing);
        let www_authenticate_uri = match &o.www_authenticate_uri {
            Some(uri) => uri.clone(),
            None => {
                if o.auth_url.is_some() {
                    tracing::warn!(
                        "[keystone_authtoken] www_authenticate_uri is not set: clients are sent to auth_url, \
                         which should be Keystone's public endpoint"
                    );
                }
                auth_url.clone()
            }
        };
        let www_authenticate = HeaderValue::from_str(&format!("Keystone uri=\"{www_authenticate_uri}\""));
        if www_authenticate.is_err() || www_authenticate_uri.contains('"') {
            problems.push("www_authenticate_uri cannot be used in a WWW-Authenticate header".into());
        }
        let bind = match BindMode::parse(&o.enforce_token_bind) {
            Ok(bind) => bind,
            Err(why) => {
                problems.push(why.to_string());
                BindMode::Permissive
            }
        };
        let https = auth_url.starts_with("https:");
        let ca_pem = match &o.cafile {
            None => None,
            Some(path) => match read("cafile", path) {
                Ok(pem) => Some(pem),
                // devstack always writes cafile, also when its CA bundle does not exist
                // (no TLS anywhere): only an HTTPS Keystone needs it.
                Err(why) if !https => {
                    tracing::warn!(
                        "[keystone_authtoken] cannot read {why}; Keystone is reached over plain HTTP"
                    );
                    None
                }
                Err(why) => {
                    problems.push(why.to_string());
                    None
                }
            },
        };
        let identity_pem = match (&o.certfile, &o.keyfile) {
            (Some(cert), Some(key)) => match (read("certfile", cert), read("keyfile", key)) {
                (Ok(mut pem), Ok(key)) => {
                    pem.push(b'\n');
                    pem.extend(key);
                    Some(pem)
                }
                (Err(why), _) | (_, Err(why)) => {
                    problems.push(why.to_string());
                    None
                }
            },
            (None, None) => None,
            _ => {
                problems.push("certfile and keyfile go together".into());
                None
            }
        };
        if !missing.is_empty() {
            problems.insert(
                0,
                format!(
                    "missing {} (needed to validate Keystone tokens)",
                    missing.join(", ")
                ),
            );
        }
        if !problems.is_empty() {
            return Err(KeystoneConfigError::Options(problems.join("; ")));
        }
        if o.insecure {
            tracing::warn!("[keystone_authtoken] insecure = true: Keystone's certificate is not verified");
        }
        if let Some(servers) = &o.memcached_servers {
            tracing::info!(
                memcached_servers = %servers,
                "[keystone_authtoken] memcached_servers is ignored: tacker-rs caches token validations in process"
            );
        }
        if !o.service_token_roles_required {
            tracing::warn!(
                "[keystone_authtoken] service_token_roles_required = false: any valid token counts as a service token"
            );
        }
        let tls = OutboundTls {
            ca_pem,
            identity_pem,
            insecure: o.insecure,
            timeout: Some(
                o.http_connect_timeout
                    .map(Duration::from_secs)
                    .unwrap_or(DEFAULT_TIMEOUT),
            ),
        };
        let client = http_client(
            &tls,
            concat!(
                "tacker-rs/",
                env!("CARGO_PKG_VERSION"),
                " keystonemiddleware.auth_token"
            ),
        )
        .map_err(KeystoneConfigError::Client)?;
        let service = ServiceAuth::new(
            client.clone(),
            &auth_url,
            request,
            o.interface.clone(),
            o.region_name.clone(),
            o.http_request_max_retries,
        );
        Ok(KeystoneAuth {
            validator: Validator::new(client, service, o.http_request_max_retries),
            cache: ExpiringCache::new(o.token_cache_time, o.token_cache_size),
            www_authenticate: www_authenticate.map_err(KeystoneConfigError::WwwAuthenticate)?,
            delay_auth_decision: o.delay_auth_decision,
            service_token_roles: o.service_token_roles.clone(),
            service_token_roles_required: o.service_token_roles_required,
            bind,
            service_type: o.service_type.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacker_common::ini::IniFiles;

    fn options(text: &str) -> KeystoneAuthtokenOptions {
        KeystoneAuthtokenOptions::from_ini(&IniFiles::parse_str(text).unwrap()).unwrap()
    }

    #[test]
    fn every_missing_option_is_named_at_once() {
        let err = KeystoneAuth::from_options(&options("")).unwrap_err().to_string();
        for option in ["auth_type", "auth_url", "username", "password", "project_name"] {
            assert!(err.contains(option), "{option}: {err}");
        }
        let err = KeystoneAuth::from_options(&options(
            "[keystone_authtoken]\nauth_type = password\nauth_url = http://ks/identity\nusername = tacker\n\
             password = pw\nproject_name = service\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("user_domain_name") && err.contains("project_domain_name"),
            "{err}"
        );
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn unusable_values_are_start_up_errors() {
        let base = "[keystone_authtoken]\nauth_type = password\nusername = tacker\npassword = pw\n\
                    project_name = service\nuser_domain_name = Default\nproject_domain_name = Default\n";
        let err = KeystoneAuth::from_options(&options(&format!("{base}auth_url = ks.example\n")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth_url"), "{err}");
        let err = KeystoneAuth::from_options(&options(&format!(
            "{base}auth_url = https://ks\ncafile = /nonexistent/ca.pem\n"
        )))
        .unwrap_err()
        .to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        // Plain HTTP: devstack's missing CA bundle is no reason to stop.
        KeystoneAuth::from_options(&options(&format!(
            "{base}auth_url = http://ks\ncafile = /nonexistent/ca.pem\n"
        )))
        .unwrap();
        let err = KeystoneAuth::from_options(&options(&format!(
            "{base}auth_url = http://ks\nauth_type = v3token\n"
        )))
        .unwrap_err()
        .to_string();
        assert!(err.contains("auth_type"), "{err}");
    }

    #[test]
    fn password_request_follows_keystoneauth() {
        let mut missing = Vec::new();
        let request = auth_request(
            &options(
                "[keystone_authtoken]\nusername = tacker\npassword = pw\nproject_name = service\n\
                 default_domain_id = default\nproject_domain_name = Default\n",
            ),
            &mut missing,
        );
        assert!(missing.is_empty(), "{missing:?}");
        assert_eq!(
            request.0,
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "tacker", "domain": {"id": "default"}, "password": "pw"}}},
                "scope": {"project": {"name": "service", "domain": {"name": "Default"}}}}})
        );
        let request = auth_request(
            &options("[keystone_authtoken]\nuser_id = u1\npassword = pw\nsystem_scope = all\n"),
            &mut missing,
        );
        assert!(missing.is_empty());
        assert_eq!(request.0["auth"]["scope"], json!({"system": {"all": true}}));
    }
}
