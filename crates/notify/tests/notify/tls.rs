//! Certificate verification (on unless switched off), the callback test, statuses.

use base64::Engine;
use serde_json::json;
use tacker_notify::{
    DeliveryError, NotificationSettings, Notifier, NotifyError, Sender, Subscriber, SubscriptionApi,
    SubscriptionAuth,
};
use tacker_testkit::pki::TestCa;

use crate::helpers::{closed_port, fast_settings, Receiver};

fn sender(settings: NotificationSettings) -> Sender {
    Sender::new(&settings).unwrap()
}

#[tokio::test]
async fn an_untrusted_subscriber_certificate_fails_clearly() {
    let rogue = TestCa::new("rogue CA");
    let receiver = Receiver::https(&rogue.server(), None).await;
    let to = Subscriber::new(&receiver.callback("/cb"), SubscriptionApi::LcmV2, None).unwrap();

    for settings in [
        fast_settings(),
        NotificationSettings {
            ca_pem: Some(TestCa::new("some other CA").cert_pem.into_bytes()),
            ..fast_settings()
        },
    ] {
        let error = sender(settings).notify(&to, "{}").await.unwrap_err();
        assert!(error.is_unreachable(), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{}/cb: TLS handshake failed", receiver.url)),
            "{message}"
        );
        assert!(message.contains("certificate"), "{message}");
    }
    assert!(receiver.received().is_empty());

    // Trusted through the CA bundle, or explicitly not verified.
    let trusted = NotificationSettings {
        ca_pem: Some(rogue.cert_pem.clone().into_bytes()),
        ..fast_settings()
    };
    sender(trusted).notify(&to, "{}").await.unwrap();
    let unverified = NotificationSettings {
        verify_tls: false,
        ..fast_settings()
    };
    sender(unverified).notify(&to, "{}").await.unwrap();
    assert_eq!(receiver.delivered().len(), 2);
}

#[tokio::test]
async fn a_subscriber_wanting_a_client_certificate_fails_clearly_without_one() {
    let subscriber_ca = TestCa::new("subscriber CA");
    let client_ca = TestCa::new("client CA");
    let receiver = Receiver::https(&subscriber_ca.server(), Some(&client_ca.cert_pem)).await;
    let to = Subscriber::new(&receiver.callback("/cb"), SubscriptionApi::LcmV2, None).unwrap();
    let settings = NotificationSettings {
        ca_pem: Some(subscriber_ca.cert_pem.clone().into_bytes()),
        ..fast_settings()
    };
    // With TLS 1.3 the refusal (the alert certificate_required) comes after the client's
    // side of the handshake, on the first read: a TLS failure all the same. When the alert
    // overtakes the request being written, hyper reports it as the request's failure with
    // the alert as its cause (seen under load), so either wording names the alert.
    let error = sender(settings).notify(&to, "{}").await.unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}/cb: TLS handshake failed", receiver.url))
            || message.starts_with(&format!("{}/cb: request failed", receiver.url)),
        "{message}"
    );
    assert!(message.contains("CertificateRequired"), "{message}");
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn the_callback_test_wants_204_to_a_get() {
    let receiver = Receiver::http().await;
    let auth = SubscriptionAuth::parse(
        &json!({"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "secret-pw"}}),
    )
    .unwrap();
    let to = Subscriber::new(&receiver.callback("/cb"), SubscriptionApi::LcmV2, Some(auth)).unwrap();
    let sender = sender(fast_settings());

    sender.test_callback(&to).await.unwrap();
    let request = &receiver.received()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.header("version"), Some("2.0.0"));
    assert_eq!(request.header("accept"), Some("application/json"));
    let basic = base64::engine::general_purpose::STANDARD.encode("u:secret-pw");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );

    receiver.answer(200);
    let error = sender.test_callback(&to).await.unwrap_err();
    assert_eq!(
        error,
        DeliveryError::Status {
            target: format!("{}/cb", receiver.url),
            status: 200
        }
    );
    assert_eq!(
        error.to_string(),
        format!("{}/cb answered HTTP 200, expected 204", receiver.url)
    );
    // A notification takes any 2xx.
    sender.notify(&to, "{}").await.unwrap();

    // Redirects are not followed.
    receiver.answer(302);
    let error = sender.notify(&to, "{}").await.unwrap_err();
    assert!(
        matches!(error, DeliveryError::Status { status: 302, .. }),
        "{error}"
    );

    receiver.answer(404);
    assert!(matches!(
        sender.test_callback(&to).await.unwrap_err(),
        DeliveryError::Status { status: 404, .. }
    ));

    let port = closed_port().await;
    let nowhere = Subscriber::new(
        &format!("http://127.0.0.1:{port}/cb"),
        SubscriptionApi::LcmV1,
        None,
    )
    .unwrap();
    let error = sender.test_callback(&nowhere).await.unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    assert!(!error.to_string().contains("secret-pw"));
}

#[tokio::test]
async fn unusable_tls_settings_are_refused_at_start() {
    let bad_ca = NotificationSettings {
        ca_pem: Some(b"not a certificate".to_vec()),
        ..fast_settings()
    };
    assert!(matches!(Sender::new(&bad_ca), Err(NotifyError::Client(m)) if m.starts_with("CA bundle")));
    let secret_key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsecret\n-----END PRIVATE KEY-----\n";
    let bad_identity = NotificationSettings {
        client_identity_pem: Some(secret_key.as_bytes().to_vec()),
        ..fast_settings()
    };
    let error = Sender::new(&bad_identity).unwrap_err().to_string();
    assert!(error.contains("client certificate"), "{error}");
    assert!(!error.contains("secret"), "{error}");
}
