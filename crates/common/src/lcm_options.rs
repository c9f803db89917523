//! `[v2_vnfm]` (Tacker's LCM and notification options) and `[conductor]` (tacker-rs's
//! claim and lease settings).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{parse_bool, parsed, string, ConfigError, ValueRule};
use crate::ini::IniFiles;

const V2: &str = "v2_vnfm";
const CONDUCTOR: &str = "conductor";

#[derive(Debug, Clone, PartialEq)]
pub struct LcmOptions {
    /// `[v2_vnfm] endpoint`: the public base URL used in notification `_links`.
    pub endpoint: String,
    /// `[v2_vnfm] vnf_instance_page_size`: page size of LCM lists (0: no paging).
    pub page_size: usize,
    /// `[v2_vnfm] test_callback_uri`: GET a subscriber's callback before accepting it.
    pub test_callback_uri: bool,
    /// `[v2_vnfm] notification_verify_cert`: verify subscribers' certificates (tacker-rs
    /// default: true; Tacker's is false).
    pub notification_verify_cert: bool,
    /// `[v2_vnfm] notification_ca_cert_file`: CA bundle for subscribers and token endpoints.
    pub notification_ca_cert_file: Option<PathBuf>,
    /// `[v2_vnfm] notification_mtls_client_cert_file` / `..._key_file`: identity for
    /// OAUTH2_CLIENT_CERT subscriptions.
    pub notification_client_cert_file: Option<PathBuf>,
    pub notification_client_key_file: Option<PathBuf>,
    /// `[v2_vnfm] notification_max_attempts` (tacker-rs): attempts per notification.
    pub notification_max_attempts: u32,
    /// `[v2_vnfm] notification_timeout` (seconds).
    pub notification_timeout: Duration,
    /// `[conductor] lease_seconds`: how long a conductor's claim holds unrenewed.
    pub lease: Duration,
    /// `[conductor] poll_interval`: seconds between looks for work.
    pub poll_interval: Duration,
    /// `[conductor] max_concurrent_operations`.
    pub max_concurrent_operations: usize,
    /// `[v2_vnfm] kubernetes_vim_rsc_wait_timeout` (seconds): how long Kubernetes objects
    /// may take to become ready or to go away.
    pub kubernetes_wait_timeout: Duration,
    /// `[DEFAULT] graceful_shutdown_timeout` (oslo.service): on SIGTERM, how long running
    /// operations may go on; those still running then end FAILED_TEMP, to be retried.
    pub graceful_shutdown_timeout: Duration,
}

impl LcmOptions {
    pub fn from_ini(files: &IniFiles) -> Result<Self, ConfigError> {
        // Accepted for compatibility; one page size serves every LCM list.
        for option in [
            "lcmocc_page_size",
            "subscription_page_size",
            "notify_connect_retries",
        ] {
            files.get(V2, option)?;
        }
        let path = |section: &str, option: &str| -> Result<Option<PathBuf>, ConfigError> {
            Ok(files
                .get(section, option)?
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from))
        };
        let count = |section: &str, option: &str, default: usize| {
            parsed(files, section, option, default, |s| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| ValueRule("must be a non-negative integer"))
            })
        };
        let seconds = |section: &str, option: &str, default: f64| -> Result<Duration, ConfigError> {
            let value = parsed(files, section, option, default, |s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .ok_or(ValueRule("must be a positive number of seconds"))
            })?;
            Ok(Duration::from_secs_f64(value))
        };
        Ok(LcmOptions {
            endpoint: string(files, V2, "endpoint", "http://127.0.0.1:9890")?
                .trim_end_matches('/')
                .to_owned(),
            page_size: count(V2, "vnf_instance_page_size", 0)?,
            test_callback_uri: parsed(files, V2, "test_callback_uri", true, parse_bool)?,
            notification_verify_cert: parsed(files, V2, "notification_verify_cert", true, parse_bool)?,
            notification_ca_cert_file: path(V2, "notification_ca_cert_file")?,
            notification_client_cert_file: path(V2, "notification_mtls_client_cert_file")?,
            notification_client_key_file: path(V2, "notification_mtls_client_key_file")?,
            notification_max_attempts: count(V2, "notification_max_attempts", 10)?.max(1) as u32,
            notification_timeout: seconds(V2, "notification_timeout", 20.0)?,
            lease: seconds(CONDUCTOR, "lease_seconds", 30.0)?,
            poll_interval: seconds(CONDUCTOR, "poll_interval", 1.0)?,
            max_concurrent_operations: count(CONDUCTOR, "max_concurrent_operations", 16)?.max(1),
            graceful_shutdown_timeout: seconds("DEFAULT", "graceful_shutdown_timeout", 60.0)?,
            kubernetes_wait_timeout: seconds(V2, "kubernetes_vim_rsc_wait_timeout", 500.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> LcmOptions {
        LcmOptions::from_ini(&IniFiles::parse_str(text).unwrap()).unwrap()
    }

    #[test]
    fn waits_and_drains_are_read_with_tackers_defaults() {
        let o = options("");
        assert_eq!(o.kubernetes_wait_timeout, Duration::from_secs(500));
        assert_eq!(o.graceful_shutdown_timeout, Duration::from_secs(60));
        let o = options(
            "[DEFAULT]\ngraceful_shutdown_timeout = 5\n[v2_vnfm]\nkubernetes_vim_rsc_wait_timeout = 90\n",
        );
        assert_eq!(o.kubernetes_wait_timeout, Duration::from_secs(90));
        assert_eq!(o.graceful_shutdown_timeout, Duration::from_secs(5));
    }
}
