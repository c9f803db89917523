//! Telling a TLS failure from other transport failures by the errors' types, not by
//! searching their messages.

use std::error::Error;

/// The `rustls::Error` behind a failed connection or request, if TLS is what failed.
///
/// Looked for along the whole `source()` chain (reqwest, hyper, hyper-util, kube and tower
/// errors all link to their cause) and inside every `std::io::Error` on the way: tokio-rustls
/// reports a failed handshake, and a TLS alert received later, as an `io::Error` holding the
/// `rustls::Error`, and `io::Error::source()` skips the error it holds (it answers that
/// error's own source), so only [`std::io::Error::get_ref`] reaches it.
pub fn tls_cause<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(err);
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(tls) = tls_cause(inner) {
                return Some(tls);
            }
        }
        next = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error in the middle of a chain, as hyper-util's connect error is.
    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Outer(#[source] Box<dyn Error + Send + Sync>);

    fn handshake_failure() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )
    }

    #[test]
    fn finds_rustls_errors_inside_io_errors() {
        let io = handshake_failure();
        // What a chain walk sees: io::Error::source() skips the rustls::Error it holds.
        assert!(io.source().is_none());
        assert!(matches!(
            tls_cause(&io),
            Some(rustls::Error::InvalidCertificate(_))
        ));
        let chained = Outer(Box::new(handshake_failure()));
        assert!(tls_cause(&chained).is_some());
        let direct = Outer(Box::new(rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired,
        )));
        assert!(matches!(
            tls_cause(&direct),
            Some(rustls::Error::AlertReceived(_))
        ));
    }

    #[test]
    fn other_failures_are_not_tls() {
        let refused = Outer(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(tls_cause(&refused).is_none());
        // Words in a message do not make a TLS failure.
        let worded = Outer(Box::new(std::io::Error::other("certificate tls handshake")));
        assert!(tls_cause(&worded).is_none());
    }
}
