//! Collaborators of the services, built from tacker.conf: the notification sender
//! (callback test) and the subscription authentication codec.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use tacker_crypto::KeyVault;
use tacker_lcm::{AuthenticationCodec, CallbackTester};
use tacker_notify::{NotificationSettings, Notifier, Sender, Subscriber, SubscriptionApi, SubscriptionAuth};

/// Tests callbacks with the real sender (GET, expecting 204).
pub struct SenderTester {
    pub sender: Arc<Sender>,
}

impl CallbackTester for SenderTester {
    fn test<'a>(
        &'a self,
        callback_uri: &'a str,
        api: SubscriptionApi,
        authentication: Option<&'a Value>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let auth = authentication
                .map(SubscriptionAuth::parse)
                .transpose()
                .map_err(|e| e.to_string())?;
            let subscriber = Subscriber::new(callback_uri, api, auth).map_err(|e| e.to_string())?;
            self.sender
                .test_callback(&subscriber)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// `[v2_vnfm] test_callback_uri = false`: accept every callback untested.
pub struct NoTest;

impl CallbackTester for NoTest {
    fn test<'a>(
        &'a self,
        _: &'a str,
        _: SubscriptionApi,
        _: Option<&'a Value>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
}

/// Subscription secrets encrypted with the subscription's own key, as the delivery
/// worker reads them.
pub struct VaultCodec {
    pub vault: KeyVault,
}

impl AuthenticationCodec for VaultCodec {
    fn validate(&self, authentication: &Value) -> Result<(), String> {
        tacker_notify::validate_authentication(authentication).map_err(|e| e.to_string())
    }

    fn encrypt(&self, subscription_id: &str, authentication: &mut Value) -> Result<(), String> {
        let keys = self.vault.open(subscription_id).map_err(|e| e.to_string())?;
        tacker_notify::encrypt_authentication(authentication, &keys);
        Ok(())
    }
}

/// The callback tester the configuration asks for.
pub fn callback_tester(
    test_callback_uri: bool,
    settings: &NotificationSettings,
) -> anyhow::Result<Arc<dyn CallbackTester>> {
    if !test_callback_uri {
        return Ok(Arc::new(NoTest));
    }
    let sender = Sender::new(settings).map_err(|e| anyhow::anyhow!("notification sender: {e}"))?;
    Ok(Arc::new(SenderTester {
        sender: Arc::new(sender),
    }))
}

/// Notification delivery settings from `[v2_vnfm]`.
pub fn notification_settings(options: &tacker_common::LcmOptions) -> anyhow::Result<NotificationSettings> {
    use anyhow::Context;
    let read = |path: &std::path::Path, option: &str| {
        std::fs::read(path).with_context(|| format!("[v2_vnfm] {option}: cannot read {}", path.display()))
    };
    let ca_pem = match &options.notification_ca_cert_file {
        Some(path) => Some(read(path, "notification_ca_cert_file")?),
        None => None,
    };
    let client_identity_pem = match (
        &options.notification_client_cert_file,
        &options.notification_client_key_file,
    ) {
        (Some(cert), Some(key)) => {
            let mut pem = read(cert, "notification_mtls_client_cert_file")?;
            pem.push(b'\n');
            pem.extend(read(key, "notification_mtls_client_key_file")?);
            Some(pem)
        }
        (None, None) => None,
        _ => anyhow::bail!(
            "[v2_vnfm] notification_mtls_client_cert_file and notification_mtls_client_key_file go together"
        ),
    };
    Ok(NotificationSettings {
        verify_tls: options.notification_verify_cert,
        ca_pem,
        client_identity_pem,
        timeout: options.notification_timeout,
        max_attempts: options.notification_max_attempts,
        ..NotificationSettings::default()
    })
}
