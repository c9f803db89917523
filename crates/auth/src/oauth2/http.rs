//! The HTTPS client towards the authorization server: `cafile` (only those CAs), or the
//! system's; `certfile`/`keyfile` as TLS client certificate; `insecure`; a bounded timeout.

use std::time::Duration;

use tacker_common::ExtOAuth2Options;

use super::OAuth2ConfigError;

/// keystonemiddleware waits forever when `http_connect_timeout` is unset; we do not.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn http_client(o: &ExtOAuth2Options) -> Result<reqwest::Client, OAuth2ConfigError> {
    let timeout = o
        .http_connect_timeout
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!(
            "tacker-rs/",
            env!("CARGO_PKG_VERSION"),
            " external_oauth2_token"
        ))
        .redirect(reqwest::redirect::Policy::limited(5));
    if o.insecure {
        tracing::warn!(
            "[ext_oauth2_auth] insecure = true: the authorization server's certificate is not verified"
        );
        builder = builder.danger_accept_invalid_certs(true);
    } else if let Some(cafile) = &o.cafile {
        let pem = std::fs::read(cafile)
            .map_err(|e| OAuth2ConfigError::new("cafile", format!("{}: {e}", cafile.display())))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| OAuth2ConfigError::new("cafile", format!("{}: {e}", cafile.display())))?;
        if certs.is_empty() {
            return Err(OAuth2ConfigError::new(
                "cafile",
                format!("{} holds no certificate", cafile.display()),
            ));
        }
        builder = builder.tls_built_in_root_certs(false);
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    match (&o.certfile, &o.keyfile) {
        (Some(cert), Some(key)) => {
            let mut pem = std::fs::read(cert)
                .map_err(|e| OAuth2ConfigError::new("certfile", format!("{}: {e}", cert.display())))?;
            pem.push(b'\n');
            pem.extend(
                std::fs::read(key)
                    .map_err(|e| OAuth2ConfigError::new("keyfile", format!("{}: {e}", key.display())))?,
            );
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                OAuth2ConfigError::new(
                    "certfile",
                    format!("certificate and key do not form a TLS identity: {e}"),
                )
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => {
            return Err(OAuth2ConfigError::new(
                "certfile",
                "certfile and keyfile go together",
            ))
        }
    }
    builder
        .build()
        .map_err(|e| OAuth2ConfigError::new("cafile", e.to_string()))
}
