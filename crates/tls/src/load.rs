//! Building a rustls server configuration from the PEM files of tacker.conf.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tacker_common::SslOptions;

/// Why the TLS material cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.into(),
        source,
    })?;
    let certs = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Invalid {
            path: path.into(),
            reason: format!("bad PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Invalid {
            path: path.into(),
            reason: "holds no certificate".into(),
        });
    }
    Ok(certs)
}

fn read_pem_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.into(),
        source,
    })?;
    rustls_pemfile::private_key(&mut bytes.as_slice())
        .map_err(|e| TlsError::Invalid {
            path: path.into(),
            reason: format!("bad PEM: {e}"),
        })?
        .ok_or_else(|| TlsError::Invalid {
            path: path.into(),
            reason: "holds no private key".into(),
        })
}

/// TLS 1.2 and 1.3, HTTP/2 and HTTP/1.1, the server certificate with its key (which must
/// match), and client certificates checked against the client CA when one is configured.
pub fn load_server_config(options: &SslOptions) -> Result<Arc<ServerConfig>, TlsError> {
    crate::install_crypto_provider();
    let certs = read_pem_certs(&options.cert_file)?;
    let key = read_pem_key(&options.key_file)?;
    let builder =
        ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12]);
    let builder = match &options.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca_file) => {
            let mut roots = RootCertStore::empty();
            for cert in read_pem_certs(ca_file)? {
                roots.add(cert).map_err(|e| TlsError::Invalid {
                    path: ca_file.clone(),
                    reason: e.to_string(),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots));
            let verifier = if options.client_cert_required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| TlsError::Invalid {
                path: ca_file.clone(),
                reason: e.to_string(),
            })?)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Invalid {
            path: options.key_file.clone(),
            reason: format!(
                "does not fit the certificate in {}: {e}",
                options.cert_file.display()
            ),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
