//! The HTTPS client towards the authorization server, from `[ext_oauth2_auth]`: `cafile`
//! (only those CAs), or the system's; `certfile`/`keyfile` as TLS client certificate;
//! `insecure`; a bounded timeout.

use std::path::Path;
use std::time::Duration;

use tacker_common::ExtOAuth2Options;
use tacker_tls::client::{http_client as tls_client, ClientTlsError, OutboundTls};

use super::OAuth2ConfigError;

/// keystonemiddleware waits forever when `http_connect_timeout` is unset; we do not.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

fn read(option: &'static str, path: &Path) -> Result<Vec<u8>, OAuth2ConfigError> {
    std::fs::read(path).map_err(|e| OAuth2ConfigError::new(option, format!("{}: {e}", path.display())))
}

pub fn http_client(o: &ExtOAuth2Options) -> Result<reqwest::Client, OAuth2ConfigError> {
    if o.insecure {
        tracing::warn!(
            "[ext_oauth2_auth] insecure = true: the authorization server's certificate is not verified"
        );
    }
    let identity_pem = match (&o.certfile, &o.keyfile) {
        (Some(cert), Some(key)) => {
            let mut pem = read("certfile", cert)?;
            pem.push(b'\n');
            pem.extend(read("keyfile", key)?);
            Some(pem)
        }
        (None, None) => None,
        _ => {
            return Err(OAuth2ConfigError::new(
                "certfile",
                "certfile and keyfile go together",
            ))
        }
    };
    let tls = OutboundTls {
        ca_pem: o.cafile.as_deref().map(|p| read("cafile", p)).transpose()?,
        identity_pem,
        insecure: o.insecure,
        timeout: Some(
            o.http_connect_timeout
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_TIMEOUT),
        ),
    };
    tls_client(
        &tls,
        concat!("tacker-rs/", env!("CARGO_PKG_VERSION"), " external_oauth2_token"),
    )
    .map_err(|e| match e {
        ClientTlsError::Ca(why) => OAuth2ConfigError::new("cafile", why),
        ClientTlsError::Identity(why) => OAuth2ConfigError::new("certfile", why),
        ClientTlsError::Build(why) => OAuth2ConfigError::new("cafile", why),
    })
}

/// A reqwest failure for logs and error messages: its kind and innermost cause, never
/// the URL (which may carry credentials) nor the request.
pub(crate) fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_decode() {
        "cannot decode"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}
