//! How notifications are sent and retried. A plain value: tacker.conf is read elsewhere.

use std::fmt;
use std::time::Duration;

/// Delivery settings, shared by the [`Sender`](crate::Sender) and the
/// [`DeliveryWorker`](crate::DeliveryWorker).
#[derive(Clone)]
pub struct NotificationSettings {
    /// Verify the certificates of subscribers and token endpoints. Switching it off is
    /// logged as a warning whenever a sender is built.
    pub verify_tls: bool,
    /// PEM CA certificates (one or more) that alone are trusted for subscribers and token
    /// endpoints; `None`: the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM certificate chain followed by its private key: the identity for
    /// OAUTH2_CLIENT_CERT subscriptions (RFC 8705), presented to the token endpoint and
    /// to the subscriber, which gets certificate-bound tokens.
    pub client_identity_pem: Option<Vec<u8>>,
    /// Bound on connecting and on each whole request (a token request or a notification).
    pub timeout: Duration,
    /// Attempts per notification, the first included; after the last it is dropped.
    pub max_attempts: u32,
    /// Delay after the first failure; doubles with each further failure, with jitter.
    pub backoff_base: Duration,
    /// Longest delay between two attempts.
    pub backoff_cap: Duration,
    /// How long a worker's claim on a notification holds. A crashed worker's claims are
    /// taken over once it runs out, so it must outlast a round of delivery (a token
    /// request and a POST, twice on a refused token, per notification of a subscriber).
    pub lease: Duration,
    /// Notifications claimed per round.
    pub batch_size: u32,
    /// Subscribers sent to at the same time within a round.
    pub concurrency: usize,
    /// Pause between rounds when the outbox had nothing more to send.
    pub poll_interval: Duration,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            verify_tls: true,
            ca_pem: None,
            client_identity_pem: None,
            // Tacker's callback test and notification timeout.
            timeout: Duration::from_secs(20),
            max_attempts: 10,
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(600),
            lease: Duration::from_secs(300),
            batch_size: 16,
            concurrency: 8,
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl fmt::Debug for NotificationSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The identity holds a private key: never print it.
        f.debug_struct("NotificationSettings")
            .field("verify_tls", &self.verify_tls)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|p| format!("<{} bytes>", p.len())),
            )
            .field(
                "client_identity_pem",
                &self.client_identity_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("lease", &self.lease)
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

impl NotificationSettings {
    /// The delay before the next attempt after `failures` failed ones (1 or more):
    /// `base * 2^(failures-1)`, at most `cap`, of which the upper half is random
    /// ("equal jitter"), so that subscribers coming back are not hit in lockstep.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(31);
        let delay = self
            .backoff_base
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.backoff_cap)
            .min(self.backoff_cap);
        let half = delay / 2;
        half + random_fraction(delay - half)
    }

    /// The longest a round can keep one subscriber's first notification busy: a token
    /// request and the POST, twice when a cached token is refused.
    pub(crate) fn worst_case_send(&self) -> Duration {
        self.timeout.saturating_mul(4)
    }
}

/// A uniformly random duration in `[0, max]`, from the process's random UUID source
/// (no extra dependency for a jitter).
fn random_fraction(max: Duration) -> Duration {
    let nanos = max.as_nanos();
    if nanos == 0 {
        return Duration::ZERO;
    }
    let random = uuid::Uuid::new_v4().as_u128();
    let picked = random % (nanos + 1);
    Duration::from_nanos(u64::try_from(picked).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let settings = NotificationSettings {
            backoff_base: Duration::from_secs(4),
            backoff_cap: Duration::from_secs(60),
            ..Default::default()
        };
        for _ in 0..50 {
            let first = settings.backoff(1);
            assert!(
                first >= Duration::from_secs(2) && first <= Duration::from_secs(4),
                "{first:?}"
            );
            let third = settings.backoff(3);
            assert!(
                third >= Duration::from_secs(8) && third <= Duration::from_secs(16),
                "{third:?}"
            );
            let late = settings.backoff(30);
            assert!(
                late >= Duration::from_secs(30) && late <= Duration::from_secs(60),
                "{late:?}"
            );
            let huge = settings.backoff(u32::MAX);
            assert!(huge <= Duration::from_secs(60));
        }
    }

    #[test]
    fn defaults_verify_and_debug_hides_the_key() {
        let settings = NotificationSettings {
            client_identity_pem: Some(b"-----BEGIN PRIVATE KEY-----secret".to_vec()),
            ..Default::default()
        };
        assert!(settings.verify_tls);
        assert_eq!(settings.timeout, Duration::from_secs(20));
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("PRIVATE") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
