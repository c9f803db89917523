//! Where a notification goes and how it authenticates: a subscription ready for sending.

use tacker_crypto::{KeyVault, VaultError};
use tacker_db::notifications::SubscriptionRow;
/// The API a subscription belongs to; it decides the `Version` header.
pub use tacker_sol003::SubscriptionApi;
use url::Url;

use crate::authentication::SubscriptionAuth;
use crate::error::DeliveryError;

/// A subscriber ready to be notified: its callback URI, API version and authentication
/// with secrets in clear (kept in memory only; `Debug` masks them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub callback_uri: Url,
    pub version: SubscriptionApi,
    pub auth: Option<SubscriptionAuth>,
}

impl Subscriber {
    /// Checks the callback URI: absolute, http or https, with a host.
    pub fn new(
        callback_uri: &str,
        version: impl Into<SubscriptionApi>,
        auth: Option<SubscriptionAuth>,
    ) -> Result<Self, DeliveryError> {
        let bad = || DeliveryError::Subscription("callbackUri must be an absolute http or https URI".into());
        let url = Url::parse(callback_uri).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad());
        }
        Ok(Subscriber {
            callback_uri: url,
            version: version.into(),
            auth,
        })
    }

    /// A stored subscription, its secrets decrypted with its own key from `vault`.
    pub fn from_row(row: &SubscriptionRow, vault: &KeyVault) -> Result<Self, DeliveryError> {
        let version = row.api_version;
        let stored = row.authentication.as_ref().filter(|a| a.as_str() != "null");
        let auth = match stored {
            None => None,
            Some(stored) => {
                let keys = vault.open(&row.id).map_err(|e| {
                    DeliveryError::Authentication(match e {
                        VaultError::KeyNotFound(_) => "no encryption key found for the subscription".into(),
                        other => other.to_string(),
                    })
                })?;
                Some(
                    SubscriptionAuth::from_stored(stored, &keys)
                        .map_err(|e| DeliveryError::Authentication(e.to_string()))?,
                )
            }
        };
        Subscriber::new(&row.callback_uri, version, auth)
    }

    /// The callback URI for logs and errors: no user info, query or fragment, which may
    /// carry credentials.
    pub fn target(&self) -> String {
        redact(&self.callback_uri)
    }
}

/// `scheme://host[:port]/path` of a URL.
pub(crate) fn redact(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_uris_are_checked_and_redacted() {
        let s = Subscriber::new(
            "https://u:pw@host.example:8443/cb?token=x#f",
            SubscriptionApi::LcmV2,
            None,
        )
        .unwrap();
        assert_eq!(s.target(), "https://host.example:8443/cb");
        for bad in [
            "/relative",
            "ftp://host/x",
            "not a uri",
            "mailto:someone@example.com",
        ] {
            assert!(
                Subscriber::new(bad, SubscriptionApi::LcmV1, None).is_err(),
                "{bad}"
            );
        }
        assert_eq!(SubscriptionApi::LcmV1.version_header(), "1.3.0");
        assert_eq!(SubscriptionApi::LcmV2.version_header(), "2.0.0");
        assert_eq!(SubscriptionApi::FmV1.version_header(), "1.3.0");
    }
}
