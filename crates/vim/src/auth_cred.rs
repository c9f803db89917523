//! `auth_cred` handling: normalisation per VIM type, the credential rules, encryption of
//! secrets before they reach the database, and masking in responses.

use serde_json::{Map, Value};
use tacker_crypto::VimKeys;

use crate::attrs::shown;
use crate::VimError;

/// The CA bundle field: encrypted at rest, shown as its ciphertext (as Tacker does).
pub const SSL_CA_CERT: &str = "ssl_ca_cert";
/// Protected from masking although its name contains "token".
const OIDC_TOKEN_URL: &str = "oidc_token_url";
/// The fields Tacker keeps from earlier credentials and must never accept from a request.
const SERVER_OWNED: &[&str] = &["key_type", "secret_uuid"];

/// A field whose value is a secret: masked in every response and encrypted at rest.
/// Matches oslo's mask_dict_password patterns for the names VIM credentials use.
pub fn is_secret_field(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key != OIDC_TOKEN_URL && ["password", "token", "secret"].iter().any(|p| key.contains(p))
}

fn is_encrypted_field(key: &str) -> bool {
    is_secret_field(key) || key == SSL_CA_CERT
}

/// Replaces secret values with `***` (`password`, `bearer_token`, `client_secret`, ...).
pub fn mask(cred: &mut Map<String, Value>) {
    for (key, value) in cred.iter_mut() {
        if is_secret_field(key) {
            *value = Value::String("***".into());
        }
    }
}

/// Encrypts every secret (and the CA bundle) that has a non-empty string value.
pub fn encrypt(cred: &mut Map<String, Value>, keys: &VimKeys) {
    for (key, value) in cred.iter_mut() {
        if !is_encrypted_field(key) {
            continue;
        }
        if let Value::String(plain) = value {
            if !plain.is_empty() {
                *value = Value::String(keys.encrypt(plain));
            }
        }
    }
}

/// Decrypts what [`encrypt`] encrypted (for the drivers that use the credentials).
pub fn decrypt(cred: &mut Map<String, Value>, keys: &VimKeys) -> Result<(), VimError> {
    for (key, value) in cred.iter_mut() {
        if !is_encrypted_field(key) {
            continue;
        }
        if let Value::String(token) = value {
            if !token.is_empty() {
                *value = Value::String(keys.decrypt(token)?);
            }
        }
    }
    Ok(())
}

fn is_absent(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => matches!(s.trim(), "" | "None" | "NONE" | "null" | "NULL"),
        _ => false,
    }
}

fn text<'a>(cred: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    cred.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Cleans a Kubernetes `auth_cred` from a request: drops server-owned fields, checks
/// field types, and normalises and checks the CA bundle. Values stay in clear text.
pub fn normalize_kubernetes(mut cred: Map<String, Value>) -> Result<Map<String, Value>, VimError> {
    for key in SERVER_OWNED {
        cred.remove(*key);
    }
    for (key, value) in &cred {
        if !matches!(value, Value::String(_) | Value::Null) {
            return Err(VimError::invalid(
                "auth_cred",
                format!("'{key}' must be a string, not {}", shown(value)),
            ));
        }
    }
    match cred.get(SSL_CA_CERT) {
        Some(value) if is_absent(value) => {
            cred.remove(SSL_CA_CERT);
        }
        Some(Value::String(pem)) => {
            let normalized = normalize_pem(pem);
            check_pem_bundle(&normalized)
                .map_err(|why| VimError::invalid("auth_cred", format!("ssl_ca_cert {why}")))?;
            cred.insert(SSL_CA_CERT.into(), Value::String(normalized));
        }
        _ => {}
    }
    if let Some(url) = text(&cred, OIDC_TOKEN_URL) {
        check_http_url(url).map_err(|why| VimError::invalid("auth_cred", format!("oidc_token_url {why}")))?;
    }
    Ok(cred)
}

/// The Kubernetes credential rules, checked on the final (merged) credentials: one of
/// OIDC (`oidc_token_url` + `username` + `password` + `client_id`), `username` +
/// `password`, or `bearer_token`. Also applies Tacker's stored form: the API server URL
/// in `auth_cred.auth_url`, and `username: "None"` for token-only credentials.
pub fn finish_kubernetes(cred: &mut Map<String, Value>, auth_url: &str) -> Result<(), VimError> {
    let has = |k: &str| cred.get(k).is_some_and(|v| !is_absent(v));
    if has(OIDC_TOKEN_URL) {
        let missing: Vec<&str> = ["username", "password", "client_id"]
            .into_iter()
            .filter(|k| !has(k))
            .collect();
        if !missing.is_empty() {
            return Err(VimError::invalid(
                "auth_cred",
                format!(
                    "OIDC credentials need {} besides oidc_token_url",
                    missing.join(", ")
                ),
            ));
        }
    } else if !(has("bearer_token") || (has("username") && has("password"))) {
        return Err(VimError::invalid(
            "auth_cred",
            "a kubernetes VIM needs bearer_token, username and password, or oidc_token_url with \
             username, password and client_id",
        ));
    }
    let token_only = !has("username") && !has("password");
    cred.insert("auth_url".into(), Value::String(auth_url.into()));
    if token_only {
        cred.insert("username".into(), Value::String("None".into()));
        cred.insert("password".into(), Value::Null);
    }
    cred.insert("key_type".into(), Value::String("fernet_key".into()));
    Ok(())
}

/// Applies an update's credentials to the stored ones with Tacker's precedence: OIDC
/// fields replace everything else, then username/password, then bearer_token.
/// `update` holds already-encrypted values; `stored` may hold ciphertexts.
pub fn merge_kubernetes(stored: &mut Map<String, Value>, update: Map<String, Value>) {
    const OIDC: &[&str] = &[
        OIDC_TOKEN_URL,
        "username",
        "password",
        "client_id",
        "client_secret",
    ];
    let has = |k: &str| update.get(k).is_some_and(|v| !is_absent(v));
    let (set, drop): (&[&str], &[&str]) = if has(OIDC_TOKEN_URL) {
        (OIDC, &["bearer_token"])
    } else if has("username") && has("password") {
        (
            &["username", "password"],
            &["bearer_token", OIDC_TOKEN_URL, "client_id", "client_secret"],
        )
    } else if has("bearer_token") {
        (
            &["bearer_token"],
            &[
                "username",
                "password",
                OIDC_TOKEN_URL,
                "client_id",
                "client_secret",
            ],
        )
    } else {
        (&[], &[])
    };
    for key in drop {
        stored.remove(*key);
    }
    for key in set {
        stored.insert((*key).into(), update.get(*key).cloned().unwrap_or(Value::Null));
    }
    for (key, value) in update {
        if set.contains(&key.as_str()) || OIDC.contains(&key.as_str()) || key == "bearer_token" {
            continue;
        }
        stored.insert(key, value);
    }
}

/// Prepares an OpenStack `auth_cred`: Keystone v3 URL and project fields copied from
/// `vim_project`, as Tacker stores them. Returns the normalised auth_url.
pub fn finish_openstack(
    cred: &mut Map<String, Value>,
    auth_url: &str,
    vim_project: &Map<String, Value>,
) -> Result<String, VimError> {
    for key in SERVER_OWNED {
        cred.remove(*key);
    }
    check_http_url(auth_url).map_err(|why| VimError::invalid("auth_url", format!("'{auth_url}' {why}")))?;
    let trimmed = auth_url.trim_end_matches('/');
    let auth_url = if trimmed.ends_with("/v3") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/v3")
    };
    if !cred.contains_key("username") || !cred.contains_key("password") {
        return Err(VimError::invalid(
            "auth_cred",
            "an openstack VIM needs username and password",
        ));
    }
    for (from, to) in [
        ("id", "project_id"),
        ("name", "project_name"),
        ("project_domain_name", "project_domain_name"),
    ] {
        if let Some(value) = vim_project.get(from) {
            cred.insert(to.into(), value.clone());
        }
    }
    cred.entry("cert_verify").or_insert(Value::String("True".into()));
    cred.insert("auth_url".into(), Value::String(auth_url.clone()));
    cred.insert("key_type".into(), Value::String("fernet_key".into()));
    Ok(auth_url)
}

/// Why a URL cannot be a VIM's endpoint; shown after the URL (or the attribute's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error("is not a URL")]
    NotAUrl,
    #[error("must be an http or https URL")]
    NotHttp,
    #[error("has no host")]
    NoHost,
}

/// An http(s) URL with a host.
pub fn check_http_url(url: &str) -> Result<(), UrlProblem> {
    let (scheme, rest) = url.split_once("://").ok_or(UrlProblem::NotAUrl)?;
    if !matches!(scheme, "http" | "https") {
        return Err(UrlProblem::NotHttp);
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(UrlProblem::NoHost);
    }
    Ok(())
}

/// Tacker's repair of a PEM pasted on one line: whitespace becomes line breaks, except
/// inside the `-----BEGIN ...-----` / `-----END ...-----` labels, which are put back together.
pub fn normalize_pem(pem: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut open_label: Option<String> = None;
    for token in pem.split_whitespace() {
        match open_label.take() {
            Some(mut label) => {
                label.push(' ');
                label.push_str(token);
                if token.ends_with("-----") {
                    lines.push(label);
                } else {
                    open_label = Some(label);
                }
            }
            None if (token == "-----BEGIN" || token == "-----END") => open_label = Some(token.to_string()),
            None => lines.push(token.to_string()),
        }
    }
    lines.extend(open_label);
    let mut joined = lines.join("\n");
    joined.push('\n');
    joined
}

/// Why a CA bundle cannot be used; shown after the attribute's name.
#[derive(Debug, thiserror::Error)]
pub enum PemBundleError {
    #[error("is not valid PEM: {0}")]
    Pem(#[source] pem::PemError),
    #[error("holds no PEM certificate")]
    Empty,
    /// `block` counts from 1.
    #[error("block {block} is a {tag:?}, not a CERTIFICATE")]
    NotACertificate { block: usize, tag: String },
    /// `certificate` counts from 1.
    #[error("certificate {certificate} does not parse as X.509: {source}")]
    X509 {
        certificate: usize,
        #[source]
        source: x509_parser::nom::Err<x509_parser::error::X509Error>,
    },
}

/// One or more PEM certificates, each a parseable X.509 certificate. Returns the count.
pub fn check_pem_bundle(pem: &str) -> Result<usize, PemBundleError> {
    let blocks = pem::parse_many(pem).map_err(PemBundleError::Pem)?;
    if blocks.is_empty() {
        return Err(PemBundleError::Empty);
    }
    for (i, block) in blocks.iter().enumerate() {
        if block.tag() != "CERTIFICATE" {
            return Err(PemBundleError::NotACertificate {
                block: i + 1,
                tag: block.tag().to_owned(),
            });
        }
        x509_parser::parse_x509_certificate(block.contents()).map_err(|source| PemBundleError::X509 {
            certificate: i + 1,
            source,
        })?;
    }
    Ok(blocks.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn masks_secrets_but_not_the_token_url() {
        let mut cred = map(json!({"password": "p", "bearer_token": "b", "client_secret": "c",
            "secret_uuid": "s", "oidc_token_url": "https://idp/token", "username": "u", "client_id": "i"}));
        mask(&mut cred);
        assert_eq!(
            Value::Object(cred),
            json!({"password": "***", "bearer_token": "***", "client_secret": "***", "secret_uuid": "***",
                   "oidc_token_url": "https://idp/token", "username": "u", "client_id": "i"})
        );
    }

    #[test]
    fn credential_rules() {
        let mut oidc = map(json!({"oidc_token_url": "https://idp/t", "username": "u", "client_id": "c"}));
        let err = finish_kubernetes(&mut oidc, "https://k").unwrap_err().to_string();
        assert!(err.contains("password"), "{err}");
        let mut none = map(json!({"client_id": "c"}));
        assert!(finish_kubernetes(&mut none, "https://k").is_err());
        let mut bearer = map(json!({"bearer_token": "t"}));
        finish_kubernetes(&mut bearer, "https://k").unwrap();
        assert_eq!(bearer["username"], "None");
        assert_eq!(bearer["password"], Value::Null);
        assert_eq!(bearer["auth_url"], "https://k");
    }

    #[test]
    fn update_precedence_follows_tacker() {
        let mut stored = map(json!({"bearer_token": "old", "ssl_ca_cert": "ca", "auth_url": "https://k"}));
        merge_kubernetes(
            &mut stored,
            map(
                json!({"oidc_token_url": "https://idp/t", "username": "u", "password": "p", "client_id": "c"}),
            ),
        );
        assert!(!stored.contains_key("bearer_token"));
        assert_eq!(stored["client_secret"], Value::Null);
        assert_eq!(stored["ssl_ca_cert"], "ca");
        merge_kubernetes(&mut stored, map(json!({"bearer_token": "new"})));
        assert!(!stored.contains_key("oidc_token_url"));
        assert!(!stored.contains_key("username"));
        assert_eq!(stored["bearer_token"], "new");
    }

    #[test]
    fn rejects_non_pem_and_non_string_fields() {
        let err = normalize_kubernetes(map(json!({"bearer_token": "t", "ssl_ca_cert": "hello"})))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ssl_ca_cert"), "{err}");
        let err = normalize_kubernetes(map(json!({"bearer_token": 5})))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bearer_token"), "{err}");
        let cred = normalize_kubernetes(map(json!({"bearer_token": "t", "ssl_ca_cert": "None"}))).unwrap();
        assert!(!cred.contains_key("ssl_ca_cert"));
    }

    #[test]
    fn one_line_pem_labels_are_rejoined() {
        let flat = "-----BEGIN CERTIFICATE----- MIIB abc== -----END CERTIFICATE----- \
                    -----BEGIN PRIVATE KEY----- MC4C -----END PRIVATE KEY-----";
        assert_eq!(
            normalize_pem(flat),
            "-----BEGIN CERTIFICATE-----\nMIIB\nabc==\n-----END CERTIFICATE-----\n\
             -----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n"
        );
    }

    #[test]
    fn url_checks() {
        assert!(check_http_url("https://10.0.0.1:6443").is_ok());
        assert!(check_http_url("ftp://x").is_err());
        assert!(check_http_url("https://").is_err());
        assert!(check_http_url("k8s").is_err());
    }
}
