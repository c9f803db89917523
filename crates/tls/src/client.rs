//! Outbound TLS in one place: the HTTPS clients tacker-rs uses towards the authorization
//! server (`[ext_oauth2_auth] cafile/certfile/keyfile/insecure`) and towards a VIM's
//! endpoints (its `ssl_ca_cert` bundle, which may hold several CAs).

use std::time::Duration;

/// Who the client trusts and how it authenticates.
#[derive(Debug, Default, Clone)]
pub struct OutboundTls {
    /// PEM CA certificates (one or more) that alone are trusted; `None`: the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM certificate chain followed by its private key, for mutual TLS.
    pub identity_pem: Option<Vec<u8>>,
    /// Skip server certificate verification; only when explicitly configured.
    pub insecure: bool,
    /// Bound on connecting and on the whole request.
    pub timeout: Option<Duration>,
}

/// Why an outbound client cannot be built; says which part is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ClientTlsError {
    #[error("CA bundle: {0}")]
    Ca(String),
    #[error("client certificate and key: {0}")]
    Identity(String),
    #[error("{0}")]
    Build(String),
}

/// An HTTPS client with exactly this trust and identity (up to five redirects followed).
pub fn http_client(tls: &OutboundTls, user_agent: &str) -> Result<reqwest::Client, ClientTlsError> {
    client_builder(tls, user_agent)?
        .build()
        .map_err(|e| ClientTlsError::Build(e.to_string()))
}

/// The builder behind [`http_client`], for a caller that changes something TLS does not
/// decide (the redirect policy, say) before building.
pub fn client_builder(tls: &OutboundTls, user_agent: &str) -> Result<reqwest::ClientBuilder, ClientTlsError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::limited(5));
    if let Some(timeout) = tls.timeout {
        builder = builder.timeout(timeout).connect_timeout(timeout);
    }
    if tls.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    } else if let Some(pem) = &tls.ca_pem {
        let certs =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ClientTlsError::Ca(e.to_string()))?;
        if certs.is_empty() {
            return Err(ClientTlsError::Ca("holds no certificate".into()));
        }
        builder = builder.tls_built_in_root_certs(false);
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(pem) = &tls.identity_pem {
        let identity =
            reqwest::Identity::from_pem(pem).map_err(|e| ClientTlsError::Identity(e.to_string()))?;
        builder = builder.identity(identity);
    }
    Ok(builder)
}
