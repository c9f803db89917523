//! Delivery of the Prometheus plugin's alert-rule files, as Tacker does it: a PM job's or
//! threshold's request `metadata.monitoring` names the Prometheus hosts
//! ([`targets_from_metadata`]); [`RulePublisher::publish`] puts the rule file on each over
//! SFTP (`<alertRuleConfigPath>/<file_name>`) and then asks each Prometheus to reload
//! (HTTP `PUT <prometheusReloadApiEndpoint>`, Prometheus started with
//! `--web.enable-lifecycle`); [`RulePublisher::withdraw`] removes the file and reloads.
//!
//! SSH is [russh](https://docs.rs/russh) (pure Rust, ring crypto) with password
//! authentication, SFTP [russh-sftp](https://docs.rs/russh-sftp); every SSH exchange with
//! a host (connect, authentication, transfer) and every reload request is bounded by the
//! publisher's timeout.
//!
//! Host keys are **not** verified, as Tacker does not (paramiko's `Transport` without a
//! host-key check): whoever answers at `prometheusHost:prometheusHostPort` is taken for the
//! Prometheus host. Pinning a host key (a `known_hosts` file, or a fingerprint in the
//! metadata) would be future work.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use russh::client;
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use url::Url;

/// `prometheusHostPort` when the metadata has none.
pub const DEFAULT_SSH_PORT: u16 = 22;

/// One Prometheus host of `metadata.monitoring.targetsInfo`.
#[derive(Clone, PartialEq, Eq)]
pub struct MonitoringTarget {
    /// `prometheusHost`: where SSH connects (name or address).
    pub host: String,
    /// `prometheusHostPort` (22 by default).
    pub port: u16,
    /// `authInfo.ssh_username`.
    pub username: String,
    /// `authInfo.ssh_password` (may be empty).
    pub password: String,
    /// `alertRuleConfigPath`: the folder of Prometheus's rule files on that host.
    pub rule_dir: String,
    /// `prometheusReloadApiEndpoint` (`http://<prometheus>:9090/-/reload`).
    pub reload_uri: Url,
}

impl fmt::Debug for MonitoringTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoringTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("rule_dir", &self.rule_dir)
            .field("reload_uri", &self.reload_uri.as_str())
            .finish()
    }
}

impl MonitoringTarget {
    /// `<rule_dir>/<file_name>`, the path the rule file has on this host.
    pub fn rule_path(&self, file_name: &str) -> String {
        if self.rule_dir.ends_with('/') {
            format!("{}{file_name}", self.rule_dir)
        } else {
            format!("{}/{file_name}", self.rule_dir)
        }
    }
}

/// What went wrong delivering or withdrawing rule files.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// `metadata.monitoring` is missing or unusable: the message says what, for the API
    /// client.
    #[error("{0}")]
    BadMetadata(String),
    /// The rule file name is not a plain file name.
    #[error(
        "invalid rule file name {0:?}: a plain file name is required \
         (not empty, no '/', no '..', no control characters)"
    )]
    FileName(String),
    /// The SSH connection (TCP, key exchange, channel, SFTP subsystem) failed.
    #[error("SSH to {host} port {port} failed: {source}")]
    Ssh {
        host: String,
        port: u16,
        #[source]
        source: Box<russh::Error>,
    },
    /// The host refused the user name and password.
    #[error("SSH authentication as {username} failed on {host} port {port}")]
    Auth {
        host: String,
        port: u16,
        username: String,
    },
    /// An SFTP request failed (`operation` is `init`, `open`, `write`, `close` or `remove`).
    #[error("SFTP {operation} {path} on {host} failed: {source}")]
    Sftp {
        host: String,
        operation: &'static str,
        path: String,
        #[source]
        source: Box<russh_sftp::client::error::Error>,
    },
    /// The exchange with a host did not finish within the publisher's timeout.
    #[error("{operation} on {host} port {port} timed out after {timeout:?}")]
    Timeout {
        host: String,
        port: u16,
        operation: &'static str,
        timeout: Duration,
    },
    /// Prometheus's reload API answered an error status (400-599), or could not be
    /// reached (`source`).
    #[error("reloading Prometheus at {uri} failed: {}", reload_detail(*.status, .source.as_ref()))]
    Reload {
        uri: Url,
        status: Option<u16>,
        #[source]
        source: Option<reqwest::Error>,
    },
}

fn reload_detail(status: Option<u16>, source: Option<&reqwest::Error>) -> String {
    match (status, source) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(source)) => {
            // reqwest's own message leaves the cause (refused, timed out, ...) to the chain.
            let mut text = source.to_string();
            let mut cause = std::error::Error::source(source);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            text
        }
        (None, None) => "no answer".to_string(),
    }
}

fn bad(message: impl Into<String>) -> RulesError {
    RulesError::BadMetadata(message.into())
}

/// A string field of an object: absent or null → `""`; another type is an error.
fn string_field<'a>(object: &'a Value, name: &str, place: &str) -> Result<&'a str, RulesError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(bad(format!("{place}.{name} must be a string."))),
    }
}

/// Tacker's `metadata.monitoring` → the Prometheus hosts to deliver rule files to.
///
/// As Tacker: `monitoring` missing → "monitoring info is missing at metadata field.";
/// `monitorName` other than `prometheus` or `driverType` other than `external` →
/// "prometheus info is missing at metadata field."; `prometheusHostPort` defaults to 22;
/// an entry of `targetsInfo` without `prometheusHost`, `authInfo.ssh_username`,
/// `alertRuleConfigPath` or `prometheusReloadApiEndpoint` (absent or empty) is skipped
/// (`ssh_password` may be empty). Unlike Tacker, no usable entry at all is an error too,
/// and so are fields of the wrong type, a port outside 1-65535 and a reload endpoint that
/// is not an `http`/`https` URL. Never `Ok` with no target.
pub fn targets_from_metadata(metadata: &Value) -> Result<Vec<MonitoringTarget>, RulesError> {
    let monitoring = match metadata.get("monitoring") {
        None | Some(Value::Null) => return Err(bad("monitoring info is missing at metadata field.")),
        Some(monitoring) => monitoring,
    };
    let monitor_name = monitoring.get("monitorName").and_then(Value::as_str);
    let driver_type = monitoring.get("driverType").and_then(Value::as_str);
    if monitor_name != Some("prometheus") || driver_type != Some("external") {
        return Err(bad("prometheus info is missing at metadata field."));
    }
    let infos: &[Value] = match monitoring.get("targetsInfo") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(infos)) => infos,
        Some(_) => return Err(bad("metadata.monitoring.targetsInfo must be an array.")),
    };
    let mut targets = Vec::new();
    for (i, info) in infos.iter().enumerate() {
        let place = format!("metadata.monitoring.targetsInfo[{i}]");
        if !info.is_object() {
            return Err(bad(format!("{place} must be an object.")));
        }
        let host = string_field(info, "prometheusHost", &place)?;
        let port = match info.get("prometheusHostPort") {
            None | Some(Value::Null) => DEFAULT_SSH_PORT,
            Some(value) => value
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
                .ok_or_else(|| {
                    bad(format!(
                        "{place}.prometheusHostPort must be an integer from 1 to 65535."
                    ))
                })?,
        };
        let auth_place = format!("{place}.authInfo");
        let no_auth = Value::Null;
        let auth = match info.get("authInfo") {
            None | Some(Value::Null) => &no_auth,
            Some(auth) if auth.is_object() => auth,
            Some(_) => return Err(bad(format!("{auth_place} must be an object."))),
        };
        let username = string_field(auth, "ssh_username", &auth_place)?;
        let password = string_field(auth, "ssh_password", &auth_place)?;
        let rule_dir = string_field(info, "alertRuleConfigPath", &place)?;
        let uri = string_field(info, "prometheusReloadApiEndpoint", &place)?;
        if host.is_empty() || username.is_empty() || rule_dir.is_empty() || uri.is_empty() {
            tracing::debug!("{place} skipped: it lacks host, user, path or reload endpoint");
            continue;
        }
        let reload_uri = Url::parse(uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                bad(format!(
                    "{place}.prometheusReloadApiEndpoint must be an http or https URL: {uri}"
                ))
            })?;
        targets.push(MonitoringTarget {
            host: host.to_string(),
            port,
            username: username.to_string(),
            password: password.to_string(),
            rule_dir: rule_dir.to_string(),
            reload_uri,
        });
    }
    if targets.is_empty() {
        return Err(bad(
            "no usable target in metadata.monitoring.targetsInfo: each needs prometheusHost, \
             authInfo.ssh_username, alertRuleConfigPath and prometheusReloadApiEndpoint.",
        ));
    }
    Ok(targets)
}

/// Checks that a rule file name is a plain file name (what is put in `<rule_dir>/`).
pub fn check_file_name(file_name: &str) -> Result<(), RulesError> {
    let plain = !file_name.is_empty()
        && file_name != "."
        && !file_name.contains('/')
        && !file_name.contains("..")
        && !file_name.chars().any(char::is_control);
    if plain {
        Ok(())
    } else {
        Err(RulesError::FileName(file_name.to_string()))
    }
}

/// The reload endpoints of `targets`, each once, in their first order.
fn unique_reload_uris(targets: &[MonitoringTarget]) -> Vec<&Url> {
    let mut seen = BTreeSet::new();
    targets
        .iter()
        .map(|t| &t.reload_uri)
        .filter(|u| seen.insert(u.as_str()))
        .collect()
}

/// The SSH client's handler: accepts any host key (see the crate's documentation).
struct AnyHostKey;

impl client::Handler for AnyHostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _server_public_key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // Not verified, as Tacker (paramiko.Transport) does not: pinning is future work.
        Ok(true)
    }
}

/// An SFTP session on one target.
struct Sftp {
    ssh: client::Handle<AnyHostKey>,
    sftp: SftpSession,
}

impl Sftp {
    async fn close(self) {
        let _ = self.sftp.close().await;
        let _ = self
            .ssh
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Puts and removes rule files on Prometheus hosts and reloads them.
#[derive(Clone)]
pub struct RulePublisher {
    http: reqwest::Client,
    ssh: Arc<client::Config>,
    timeout: Duration,
}

impl RulePublisher {
    /// A publisher whose every SSH exchange with a host (connect, authentication,
    /// transfer) and every reload request is bounded by `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let ssh = Arc::new(client::Config {
            inactivity_timeout: Some(timeout),
            ..Default::default()
        });
        RulePublisher { http, ssh, timeout }
    }

    /// Uploads `contents` as `<rule_dir>/<file_name>` on every target, then reloads each
    /// unique reload endpoint. On failure the file is removed again from every target
    /// (errors ignored), the endpoints already reloaded are reloaded again (so that they
    /// drop the rules), and the error is returned.
    pub async fn publish(
        &self,
        targets: &[MonitoringTarget],
        file_name: &str,
        contents: &[u8],
    ) -> Result<(), RulesError> {
        check_file_name(file_name)?;
        for target in targets {
            if let Err(e) = self.put(target, file_name, contents).await {
                self.undo(targets, file_name, &[]).await;
                return Err(e);
            }
        }
        let uris = unique_reload_uris(targets);
        for (i, uri) in uris.iter().enumerate() {
            if let Err(e) = self.reload(uri).await {
                self.undo(targets, file_name, &uris[..i]).await;
                return Err(e);
            }
        }
        tracing::info!(
            file_name,
            hosts = ?targets.iter().map(|t| t.host.as_str()).collect::<Vec<_>>(),
            "rule file delivered to Prometheus"
        );
        Ok(())
    }

    /// Removes `<rule_dir>/<file_name>` from every target (a file already gone is no
    /// error), then reloads each unique reload endpoint; every step is tried, and the
    /// first error is returned.
    pub async fn withdraw(&self, targets: &[MonitoringTarget], file_name: &str) -> Result<(), RulesError> {
        check_file_name(file_name)?;
        let mut first_error = None;
        for target in targets {
            if let Err(e) = self.remove(target, file_name).await {
                tracing::warn!("withdrawing rule file: {e}");
                first_error.get_or_insert(e);
            }
        }
        for uri in unique_reload_uris(targets) {
            if let Err(e) = self.reload(uri).await {
                tracing::warn!("withdrawing rule file: {e}");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn undo(&self, targets: &[MonitoringTarget], file_name: &str, reloaded: &[&Url]) {
        for target in targets {
            if let Err(e) = self.remove(target, file_name).await {
                tracing::debug!("undoing a failed rule upload: {e}");
            }
        }
        for uri in reloaded {
            if let Err(e) = self.reload(uri).await {
                tracing::debug!("undoing a failed rule upload: {e}");
            }
        }
    }

    /// `exchange` (a whole SSH exchange with `target`) within the timeout.
    async fn bounded<T>(
        &self,
        target: &MonitoringTarget,
        operation: &'static str,
        exchange: impl Future<Output = Result<T, RulesError>>,
    ) -> Result<T, RulesError> {
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(RulesError::Timeout {
                host: target.host.clone(),
                port: target.port,
                operation,
                timeout: self.timeout,
            }),
        }
    }

    async fn connect(&self, target: &MonitoringTarget) -> Result<Sftp, RulesError> {
        let ssh_error = |source: russh::Error| RulesError::Ssh {
            host: target.host.clone(),
            port: target.port,
            source: Box::new(source),
        };
        // `[v6 address]` as in a URL: ToSocketAddrs wants it bare.
        let host = target.host.trim_start_matches('[').trim_end_matches(']');
        let mut ssh = client::connect(self.ssh.clone(), (host, target.port), AnyHostKey)
            .await
            .map_err(ssh_error)?;
        let auth = ssh
            .authenticate_password(target.username.as_str(), target.password.as_str())
            .await
            .map_err(ssh_error)?;
        if !auth.success() {
            let _ = ssh.disconnect(russh::Disconnect::ByApplication, "", "en").await;
            return Err(RulesError::Auth {
                host: target.host.clone(),
                port: target.port,
                username: target.username.clone(),
            });
        }
        let channel = ssh.channel_open_session().await.map_err(ssh_error)?;
        channel.request_subsystem(true, "sftp").await.map_err(ssh_error)?;
        let sftp = SftpSession::new(channel.into_stream())
            .await
            .map_err(|source| RulesError::Sftp {
                host: target.host.clone(),
                operation: "init",
                path: target.rule_dir.clone(),
                source: Box::new(source),
            })?;
        sftp.set_timeout(self.timeout.as_secs().max(1));
        Ok(Sftp { ssh, sftp })
    }

    async fn put(
        &self,
        target: &MonitoringTarget,
        file_name: &str,
        contents: &[u8],
    ) -> Result<(), RulesError> {
        let path = target.rule_path(file_name);
        let sftp_error = |operation, source: russh_sftp::client::error::Error| RulesError::Sftp {
            host: target.host.clone(),
            operation,
            path: path.clone(),
            source: Box::new(source),
        };
        self.bounded(target, "rule file upload", async {
            let session = self.connect(target).await?;
            let written = async {
                let mut file = session
                    .sftp
                    .create(path.as_str())
                    .await
                    .map_err(|e| sftp_error("open", e))?;
                file.write_all(contents)
                    .await
                    .map_err(|e| sftp_error("write", e.into()))?;
                file.close().await.map_err(|e| sftp_error("close", e.into()))
            }
            .await;
            session.close().await;
            written
        })
        .await
    }

    async fn remove(&self, target: &MonitoringTarget, file_name: &str) -> Result<(), RulesError> {
        let path = target.rule_path(file_name);
        self.bounded(target, "rule file removal", async {
            let session = self.connect(target).await?;
            let removed = match session.sftp.remove_file(path.as_str()).await {
                Ok(()) => Ok(()),
                Err(russh_sftp::client::error::Error::Status(status))
                    if status.status_code == StatusCode::NoSuchFile =>
                {
                    Ok(())
                }
                Err(source) => Err(RulesError::Sftp {
                    host: target.host.clone(),
                    operation: "remove",
                    path: path.clone(),
                    source: Box::new(source),
                }),
            };
            session.close().await;
            removed
        })
        .await
    }

    /// `PUT <uri>` (no authentication, as Tacker); 400-599 is an error.
    async fn reload(&self, uri: &Url) -> Result<(), RulesError> {
        let response = self
            .http
            .put(uri.clone())
            .send()
            .await
            .map_err(|source| RulesError::Reload {
                uri: uri.clone(),
                status: None,
                source: Some(source),
            })?;
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            return Err(RulesError::Reload {
                uri: uri.clone(),
                status: Some(status.as_u16()),
                source: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
