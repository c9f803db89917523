//! HTTPS for the API with rustls: the server certificate from one CA, client certificates
//! verified against a separate client CA (required or optional), the verified client
//! certificate handed to the request pipeline, and certificates reloaded from disk when an
//! external agent renews them (or on SIGHUP) without dropping connections. Also the
//! outbound HTTPS clients (`client`).

mod accept;
pub mod client;
mod failure;
mod load;
mod reload;

pub use accept::PeerCertAcceptor;
pub use failure::tls_cause;
pub use load::{load_server_config, TlsError};
pub use reload::watch;

/// Makes ring the process-wide rustls provider (the only one compiled in); idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
