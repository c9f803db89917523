//! The Kubernetes client of one operation, built from its vimConnectionInfo entry:
//!
//! - server: `interfaceInfo.endpoint`;
//! - trust: the `interfaceInfo.ssl_ca_cert` PEM bundle (it may hold several CAs, e.g. the
//!   cluster's and the IdP's), else the system roots; only an explicit
//!   `skipCertificateVerification: true` turns verification off;
//! - credentials (`accessInfo`): OIDC (a fresh id_token from the password grant, fetched
//!   for this operation over the same trust, used as the bearer of every call of the
//!   operation, renewed while it runs and dropped with it), else `bearer_token`, else
//!   `username`/`password`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tacker_driver::{Fence, VimConnection};
use tacker_tls::client::OutboundTls;

use crate::bearer::BearerLayer;
use crate::error::{Error, Result};
use crate::fenced::FenceLayer;
use crate::oidc::OidcCredentials;
use crate::token_source::{PasswordGrant, TokenSource};

/// A connected API server for one operation.
#[derive(Clone)]
pub struct Session {
    pub(crate) client: kube::Client,
    /// The API server URL, for messages.
    pub(crate) endpoint: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Wraps a kube error of `action`.
    pub(crate) fn err(&self, action: impl Into<String>, err: kube::Error) -> Error {
        Error::kube(&self.endpoint, action, err)
    }
}

/// How the operation authenticates, secrets in memory only.
enum Credentials {
    Oidc(OidcCredentials),
    Bearer(String),
    Basic { username: String, password: String },
}

impl Credentials {
    fn kind(&self) -> &'static str {
        match self {
            Credentials::Oidc(_) => "an OIDC id_token",
            Credentials::Bearer(_) => "a bearer token",
            Credentials::Basic { .. } => "basic authentication",
        }
    }
}

/// Connects to the VIM of `vim` for one operation. `request_timeout` bounds connecting
/// and each request; every request first waits on the operation's `fence`.
pub async fn connect(vim: &VimConnection, request_timeout: Duration, fence: &Fence) -> Result<Session> {
    let interface = object(&vim.info, "interfaceInfo");
    let access = object(&vim.info, "accessInfo");
    let endpoint = text(&interface, "endpoint")
        .ok_or_else(|| Error::Connection("interfaceInfo.endpoint is missing".into()))?;
    let cluster_url: http::Uri = endpoint
        .parse()
        .map_err(|e| Error::Connection(format!("interfaceInfo.endpoint {endpoint:?} is not a URL: {e}")))?;
    let insecure = match interface.get("skipCertificateVerification") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let ca_pem = match text(&interface, "ssl_ca_cert") {
        Some(pem) => Some(ca_bundle(&pem)?),
        None => None,
    };

    let credentials = credentials(&access)?;
    tracing::debug!(endpoint, vim_connection = %vim.id, auth = credentials.kind(), "connecting to Kubernetes");
    let mut config = kube::Config::new(cluster_url);
    config.connect_timeout = Some(request_timeout);
    config.read_timeout = Some(request_timeout);
    config.write_timeout = Some(request_timeout);
    config.accept_invalid_certs = insecure;
    if let Some((_, ders)) = &ca_pem {
        config.root_cert = Some(ders.clone());
    }
    let mut bearer = None;
    match credentials {
        Credentials::Oidc(oidc) => {
            let tls = OutboundTls {
                ca_pem: ca_pem.as_ref().map(|(pem, _)| pem.clone().into_bytes()),
                insecure,
                ..OutboundTls::default()
            };
            let issuer = PasswordGrant {
                credentials: oidc,
                tls,
            };
            let tokens = TokenSource::start(Box::new(issuer)).await?;
            bearer = Some(BearerLayer(Arc::new(tokens)));
        }
        Credentials::Bearer(token) => config.auth_info.token = Some(token.into()),
        Credentials::Basic { username, password } => {
            config.auth_info.username = Some(username);
            config.auth_info.password = Some(password.into());
        }
    }
    let fenced = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| Error::Connection(format!("cannot build the client for {endpoint}: {e}")))?
        .with_layer(&FenceLayer(fence.clone()));
    // The bearer goes outside the fence: a request sent again after a 401 waits on it too.
    let client = match bearer {
        Some(bearer) => fenced.with_layer(&bearer).build(),
        None => fenced.build(),
    };
    Ok(Session { client, endpoint })
}

fn object(map: &Map<String, Value>, key: &str) -> Map<String, Value> {
    map.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A non-empty string field; Tacker's placeholders for "none" count as absent.
fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty() && !matches!(*v, "None" | "NONE" | "null" | "NULL"))
        .map(str::to_owned)
}

fn credentials(access: &Map<String, Value>) -> Result<Credentials> {
    if let Some(token_url) = text(access, "oidc_token_url") {
        return Ok(Credentials::Oidc(OidcCredentials {
            token_url,
            username: text(access, "username").unwrap_or_default(),
            password: text(access, "password").unwrap_or_default(),
            client_id: text(access, "client_id").unwrap_or_default(),
            client_secret: text(access, "client_secret"),
        }));
    }
    if let Some(token) = text(access, "bearer_token") {
        return Ok(Credentials::Bearer(token));
    }
    match (text(access, "username"), text(access, "password")) {
        (Some(username), Some(password)) => Ok(Credentials::Basic { username, password }),
        _ => Err(Error::Connection(
            "accessInfo has no credentials: bearer_token, username and password, or oidc_token_url".into(),
        )),
    }
}

/// The CA bundle as PEM text and DER certificates. A PEM pasted on one line is repaired
/// as Tacker does (whitespace becomes line breaks, the BEGIN/END labels are rejoined).
fn ca_bundle(pem: &str) -> Result<(String, Vec<Vec<u8>>)> {
    for candidate in [pem.to_owned(), one_line_repaired(pem)] {
        if let Ok(blocks) = ::pem::parse_many(candidate.as_bytes()) {
            let ders: Vec<Vec<u8>> = blocks
                .into_iter()
                .filter(|b| b.tag() == "CERTIFICATE")
                .map(|b| b.into_contents())
                .collect();
            if !ders.is_empty() {
                return Ok((candidate, ders));
            }
        }
    }
    Err(Error::Connection(
        "interfaceInfo.ssl_ca_cert holds no PEM certificate".into(),
    ))
}

fn one_line_repaired(pem: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut label: Option<String> = None;
    for token in pem.split_whitespace() {
        match label.take() {
            Some(mut open) => {
                open.push(' ');
                open.push_str(token);
                if token.ends_with("-----") {
                    lines.push(open);
                } else {
                    label = Some(open);
                }
            }
            None if token == "-----BEGIN" || token == "-----END" => label = Some(token.to_owned()),
            None => lines.push(token.to_owned()),
        }
    }
    lines.extend(label);
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn oidc_first_then_bearer_then_basic() {
        let both = map(json!({"bearer_token": "t", "username": "u", "password": "p"}));
        assert!(matches!(credentials(&both), Ok(Credentials::Bearer(t)) if t == "t"));
        let oidc = map(
            json!({"oidc_token_url": "https://idp/token", "username": "u", "password": "p",
                              "client_id": "c", "bearer_token": "t", "client_secret": null}),
        );
        assert!(matches!(credentials(&oidc), Ok(Credentials::Oidc(c)) if c.client_secret.is_none()));
        let basic = map(json!({"username": "u", "password": "p"}));
        assert!(matches!(credentials(&basic), Ok(Credentials::Basic { .. })));
        // A bearer-token VIM registered through /v1.0/vims carries username "None".
        let none = map(json!({"username": "None", "password": null}));
        assert!(credentials(&none).is_err());
    }

    #[test]
    fn a_one_line_pem_is_repaired() {
        let ca = tacker_pem();
        let flat = ca.split_whitespace().collect::<Vec<_>>().join(" ");
        let (_, ders) = ca_bundle(&flat).unwrap_or_default();
        assert_eq!(ders.len(), 1);
        assert!(ca_bundle("not a certificate").is_err());
    }

    fn tacker_pem() -> String {
        // Any well-formed PEM block will do; the content is not parsed as X.509 here.
        let body = "MIIBszCCAVmgAwIBAgIUQ0FfZm9yX3Rlc3RzX29ubHkwCgYIKoZIzj0EAwIwDzEN";
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    }
}
