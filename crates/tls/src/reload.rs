//! Picks up renewed certificates: the files are checked every few seconds (and at once on
//! SIGHUP); a complete, consistent new set replaces the configuration for new
//! connections, while a half-written or mismatched one is logged and ignored.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;
use sha2::{Digest, Sha256};
use tacker_common::SslOptions;

use crate::load::load_server_config;

/// What the files looked like: modification times and a digest of their contents (a
/// rename into place can keep an old mtime).
fn fingerprint(files: &[PathBuf]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for file in files {
        let modified = std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hasher.update(modified.to_le_bytes());
        hasher.update(std::fs::read(file).unwrap_or_default());
    }
    hasher.finalize().to_vec()
}

/// Watches the certificate, key and client CA files for as long as the process runs.
pub fn watch(options: SslOptions, config: RustlsConfig) {
    tokio::spawn(async move {
        let files: Vec<PathBuf> = [
            Some(options.cert_file.clone()),
            Some(options.key_file.clone()),
            options.client_ca_file.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut last = fingerprint(&files);
        let mut hangup = hangup_signal();
        let mut tick = tokio::time::interval(Duration::from_secs(options.reload_interval));
        loop {
            let forced = tokio::select! {
                _ = tick.tick() => false,
                Some(()) = hangup.recv() => true,
            };
            let now = fingerprint(&files);
            if now == last && !forced {
                continue;
            }
            match load_server_config(&options) {
                Ok(new) => {
                    config.reload_from_config(new);
                    last = now;
                    tracing::info!(forced, "TLS certificates reloaded");
                }
                // A renewal in progress or a broken set: keep serving the old one, and try
                // again when the files change next.
                Err(e) => {
                    last = now;
                    tracing::warn!(error = %e, "new TLS certificates refused; the previous ones stay in use");
                }
            }
        }
    });
}

/// SIGHUP as a stream of unit events; never fires where there are no signals.
fn hangup_signal() -> tokio::sync::mpsc::Receiver<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            return;
        };
        while signal.recv().await.is_some() {
            let _ = tx.try_send(());
        }
    });
    #[cfg(not(unix))]
    drop(tx);
    rx
}
