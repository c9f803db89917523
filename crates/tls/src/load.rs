//! Building a rustls server configuration from the PEM files of tacker.conf.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
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
    let certs = CertificateDer::pem_slice_iter(&bytes)
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
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::Invalid {
        path: path.into(),
        reason: match e {
            pem::Error::NoItemsFound => "holds no private key".into(),
            e => format!("bad PEM: {e}"),
        },
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::{Path, PathBuf};

    use tacker_common::SslOptions;

    use super::{load_server_config, TlsError};

    struct Files {
        dir: tempfile::TempDir,
        cert: String,
        key: String,
    }

    impl Files {
        /// A self-signed certificate for localhost and its (PKCS#8) key.
        fn new() -> Self {
            let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
            Files {
                dir: tempfile::tempdir().unwrap(),
                cert: issued.cert.pem(),
                key: issued.key_pair.serialize_pem(),
            }
        }

        fn write(&self, name: &str, content: &str) -> PathBuf {
            let path = self.dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            path
        }

        fn options(&self, cert: &str, key: &str, client_ca: Option<&str>) -> SslOptions {
            SslOptions {
                cert_file: self.write("cert.pem", cert),
                key_file: self.write("key.pem", key),
                client_ca_file: client_ca.map(|ca| self.write("client-ca.pem", ca)),
                client_cert_required: client_ca.is_some(),
                reload_interval: 0,
            }
        }
    }

    fn invalid(error: TlsError) -> (PathBuf, String) {
        match error {
            TlsError::Invalid { path, reason } => (path, reason),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn file_name(path: &Path) -> &str {
        path.file_name().unwrap().to_str().unwrap()
    }

    #[test]
    fn a_certificate_with_its_key_loads_with_and_without_a_client_ca() {
        let files = Files::new();
        let config = load_server_config(&files.options(&files.cert, &files.key, None)).unwrap();
        assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        // Other sections around the PEM blocks are skipped; a bundle of several CAs is read whole.
        let other = Files::new();
        let bundle = format!("{}{}", other.cert, files.cert);
        let with_key_first = format!("{}{}", files.key, files.cert);
        load_server_config(&files.options(&with_key_first, &files.key, Some(&bundle))).unwrap();
    }

    #[test]
    fn files_without_the_expected_pem_section_are_refused_with_their_name() {
        let files = Files::new();
        let (path, reason) =
            invalid(load_server_config(&files.options(&files.cert, &files.cert, None)).unwrap_err());
        assert_eq!(
            (file_name(&path), reason.as_str()),
            ("key.pem", "holds no private key")
        );
        let (path, reason) =
            invalid(load_server_config(&files.options(&files.key, &files.key, None)).unwrap_err());
        assert_eq!(
            (file_name(&path), reason.as_str()),
            ("cert.pem", "holds no certificate")
        );
        let (path, reason) = invalid(
            load_server_config(&files.options(&files.cert, &files.key, Some("not pem"))).unwrap_err(),
        );
        assert_eq!(
            (file_name(&path), reason.as_str()),
            ("client-ca.pem", "holds no certificate")
        );
    }

    #[test]
    fn broken_pem_missing_files_and_a_foreign_key_are_refused() {
        let files = Files::new();
        let broken = "-----BEGIN PRIVATE KEY-----\n!!not base64!!\n-----END PRIVATE KEY-----\n";
        let (path, reason) =
            invalid(load_server_config(&files.options(&files.cert, broken, None)).unwrap_err());
        assert_eq!(file_name(&path), "key.pem");
        assert!(reason.starts_with("bad PEM: "), "{reason}");
        let unterminated = files.cert.replace("-----END CERTIFICATE-----", "");
        let (_, reason) =
            invalid(load_server_config(&files.options(&unterminated, &files.key, None)).unwrap_err());
        assert!(reason.starts_with("bad PEM: "), "{reason}");

        let mut options = files.options(&files.cert, &files.key, None);
        options.key_file = files.dir.path().join("absent.pem");
        assert!(matches!(
            load_server_config(&options).unwrap_err(),
            TlsError::Read { path, .. } if file_name(&path) == "absent.pem"
        ));

        let foreign = Files::new();
        let (path, reason) =
            invalid(load_server_config(&files.options(&files.cert, &foreign.key, None)).unwrap_err());
        assert_eq!(file_name(&path), "key.pem");
        assert!(reason.starts_with("does not fit the certificate in "), "{reason}");
    }
}
