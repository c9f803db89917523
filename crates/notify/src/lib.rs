//! ETSI SOL003 LCM notifications: delivery from the database outbox to subscribers, at
//! least once, with retries and exponential backoff; and the callback test that a
//! subscription must pass before it is accepted.
//!
//! - [`authentication`]: SOL013 SubscriptionAuthentication, validated for the API (400
//!   messages), its secrets encrypted at rest with the subscription's own fernet key.
//! - [`Sender`] ([`Notifier`]): `POST callbackUri` with `Content-Type`/`Accept:
//!   application/json` and `Version` (2.0.0 or 1.3.0), authenticated with HTTP Basic or an
//!   OAuth2 client-credentials bearer token (secret or RFC 8705 mutual TLS); `GET
//!   callbackUri` for the callback test.
//! - [`DeliveryWorker`]: claims due notifications with a lease, sends them, reschedules
//!   failures, drops after the last attempt.
//!
//! Secrets (passwords, client passwords, tokens, the client key) never appear in logs,
//! error messages or `Debug` output.

pub mod authentication;
mod error;
mod sender;
mod settings;
mod subscriber;
mod token;
mod worker;

pub use authentication::{
    decrypt_authentication, encrypt_authentication, validate_authentication, AuthenticationError,
    SubscriptionAuth,
};
pub use error::{DeliveryError, NotifyError};
pub use sender::{Notifier, Sender};
pub use settings::NotificationSettings;
pub use subscriber::{Subscriber, SubscriptionApi};
pub use worker::DeliveryWorker;
