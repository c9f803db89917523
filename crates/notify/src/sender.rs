//! The HTTP side: POST a notification to a subscriber, GET its callback URI to test it,
//! with the subscription's authentication.
//!
//! Redirects are not followed: a notification is delivered when the callback URI itself
//! answers 2xx (a 302 turning the POST into a GET elsewhere would look like success).

use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use tacker_tls::client::{client_builder, ClientTlsError, OutboundTls};

use crate::authentication::SubscriptionAuth;
use crate::error::{transport_error, DeliveryError, NotifyError};
use crate::settings::NotificationSettings;
use crate::subscriber::Subscriber;
use crate::token::{Bearer, Grant, TokenCache};

const USER_AGENT: &str = concat!("tacker-rs/", env!("CARGO_PKG_VERSION"), " notifications");
const JSON: &str = "application/json";

/// Sends to subscribers; behind a trait so that the API and the worker can be tested
/// without a network.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// POSTs one notification (JSON text); `Ok` on a 2xx answer.
    async fn notify(&self, to: &Subscriber, payload: &str) -> Result<(), DeliveryError>;

    /// GETs the callback URI with the subscription's authentication, as Tacker does before
    /// it accepts a subscription; `Ok` only on 204.
    async fn test_callback(&self, to: &Subscriber) -> Result<(), DeliveryError>;
}

/// The real [`Notifier`]: reqwest over rustls, tokens cached across notifications.
pub struct Sender {
    /// Trust as configured, no client certificate.
    plain: reqwest::Client,
    /// The same trust with the configured client certificate (OAUTH2_CLIENT_CERT).
    mtls: Option<reqwest::Client>,
    tokens: TokenCache,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("client_certificate", &self.mtls.is_some())
            .finish_non_exhaustive()
    }
}

fn client(settings: &NotificationSettings, identity: Option<&[u8]>) -> Result<reqwest::Client, NotifyError> {
    let tls = OutboundTls {
        ca_pem: settings.ca_pem.clone(),
        identity_pem: identity.map(<[u8]>::to_vec),
        insecure: !settings.verify_tls,
        timeout: Some(settings.timeout),
    };
    client_builder(&tls, USER_AGENT)
        .map_err(|e| match e {
            // The message of a bad identity never quotes the PEM.
            ClientTlsError::Identity(_) => NotifyError::Client(
                "client certificate: not a PEM certificate chain followed by its key".into(),
            ),
            e => NotifyError::Client(e.to_string()),
        })?
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| NotifyError::Client(e.to_string()))
}

impl Sender {
    /// Builds the HTTP clients; fails on an unusable CA bundle or client identity.
    pub fn new(settings: &NotificationSettings) -> Result<Self, NotifyError> {
        if !settings.verify_tls {
            tracing::warn!(
                "notification TLS verification is off: subscribers' and token endpoints' certificates are not checked"
            );
        }
        let mtls = settings
            .client_identity_pem
            .as_deref()
            .map(|pem| client(settings, Some(pem)))
            .transpose()?;
        Ok(Sender {
            plain: client(settings, None)?,
            mtls,
            tokens: TokenCache::default(),
        })
    }

    fn client_for(&self, to: &Subscriber) -> Result<&reqwest::Client, DeliveryError> {
        match &to.auth {
            Some(SubscriptionAuth::ClientCert { .. }) => self.mtls.as_ref().ok_or_else(|| {
                DeliveryError::Authentication(
                    "OAUTH2_CLIENT_CERT needs a client certificate, and none is configured for notifications"
                        .into(),
                )
            }),
            _ => Ok(&self.plain),
        }
    }

    async fn bearer(&self, to: &Subscriber) -> Result<Option<Bearer>, DeliveryError> {
        let bearer = match &to.auth {
            None | Some(SubscriptionAuth::Basic { .. }) => return Ok(None),
            Some(SubscriptionAuth::ClientCredentials {
                client_id,
                client_password,
                token_endpoint,
            }) => {
                let grant = Grant::Secret {
                    client_id,
                    password: client_password,
                };
                self.tokens.bearer(&self.plain, token_endpoint, &grant).await?
            }
            Some(SubscriptionAuth::ClientCert {
                client_id,
                token_endpoint,
            }) => {
                let grant = Grant::Mtls { client_id };
                self.tokens
                    .bearer(self.client_for(to)?, token_endpoint, &grant)
                    .await?
            }
        };
        Ok(Some(bearer))
    }

    /// One request to the callback URI; a cached token the subscriber refuses (401) is
    /// replaced by a new one and the request sent once more.
    async fn call(
        &self,
        method: Method,
        to: &Subscriber,
        payload: Option<&str>,
    ) -> Result<StatusCode, DeliveryError> {
        let client = self.client_for(to)?;
        let mut bearer = self.bearer(to).await?;
        let mut renewed = false;
        loop {
            let mut request = client
                .request(method.clone(), to.callback_uri.clone())
                .header(ACCEPT, JSON)
                .header("Version", to.version.version_header());
            if let Some(payload) = payload {
                request = request.header(CONTENT_TYPE, JSON).body(payload.to_string());
            }
            if let Some(SubscriptionAuth::Basic { user_name, password }) = &to.auth {
                request = request.basic_auth(user_name, Some(password));
            }
            if let Some(bearer) = &bearer {
                request = request.bearer_auth(&bearer.token);
            }
            let response = request.send().await.map_err(|e| DeliveryError::Unreachable {
                target: to.target(),
                reason: transport_error(&e),
            })?;
            let status = response.status();
            match bearer.take() {
                Some(refused) if status == StatusCode::UNAUTHORIZED && refused.cached && !renewed => {
                    tracing::info!(target_uri = %to.target(), "subscriber refused a cached token; fetching a new one");
                    self.tokens.refused(&refused).await;
                    bearer = self.bearer(to).await?;
                    renewed = true;
                }
                _ => return Ok(status),
            }
        }
    }
}

#[async_trait]
impl Notifier for Sender {
    async fn notify(&self, to: &Subscriber, payload: &str) -> Result<(), DeliveryError> {
        let status = self.call(Method::POST, to, Some(payload)).await?;
        if !status.is_success() {
            return Err(DeliveryError::Status {
                target: to.target(),
                status: status.as_u16(),
            });
        }
        if status != StatusCode::NO_CONTENT {
            tracing::debug!(target_uri = %to.target(), status = status.as_u16(), "subscriber answered a notification with 2xx other than 204");
        }
        Ok(())
    }

    async fn test_callback(&self, to: &Subscriber) -> Result<(), DeliveryError> {
        let status = self.call(Method::GET, to, None).await?;
        if status != StatusCode::NO_CONTENT {
            return Err(DeliveryError::Status {
                target: to.target(),
                status: status.as_u16(),
            });
        }
        Ok(())
    }
}
