//! The audit log: one entry per request, with who made it and with which token; kept in
//! memory and, with [`crate::FakeKubeConfig::audit_log`], appended to a file as JSON lines
//! shaped like kube-apiserver's `audit.k8s.io/v1` events.

use std::io::Write;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub time: DateTime<Utc>,
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: Option<String>,
    /// The kube verb (`get`, `list`, `create`, `update`, `patch`, `delete`, ...).
    pub verb: String,
    /// The resource (plural) for resource requests.
    pub resource: Option<String>,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The authenticated username (`None` when authentication failed).
    pub user: Option<String>,
    pub groups: Vec<String>,
    /// Hex sha256 of the bearer token, if one was sent (see [`sha256_hex`]).
    pub token_sha256: Option<String>,
    pub status: u16,
}

/// Hex sha256, to compare a token with [`AuditEntry::token_sha256`].
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl AuditEntry {
    /// The entry as kube-apiserver writes an audit event at level `Metadata` (stage
    /// `ResponseComplete`), with the bearer token's sha256 as an annotation.
    pub fn to_event(&self) -> serde_json::Value {
        let request_uri = match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        };
        let mut event = serde_json::json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": uuid::Uuid::new_v4().to_string(),
            "stage": "ResponseComplete",
            "requestURI": request_uri,
            "verb": self.verb,
            "user": match &self.user {
                Some(username) => serde_json::json!({"username": username, "groups": self.groups}),
                None => serde_json::json!({}),
            },
            "responseStatus": {"metadata": {}, "code": self.status},
            "requestReceivedTimestamp": self.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "stageTimestamp": self.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        });
        if let Some(resource) = &self.resource {
            let mut object = serde_json::Map::new();
            object.insert("resource".into(), resource.clone().into());
            for (key, value) in [
                ("namespace", &self.namespace),
                ("name", &self.name),
                ("subresource", &self.subresource),
            ] {
                if let Some(value) = value {
                    object.insert(key.into(), value.clone().into());
                }
            }
            event["objectRef"] = object.into();
        }
        if let Some(token) = &self.token_sha256 {
            event["annotations"] = serde_json::json!({ "fake-kube.tacker-rs/token-sha256": token });
        }
        event
    }
}

#[derive(Default)]
pub struct AuditLog {
    entries: Mutex<Vec<AuditEntry>>,
    /// Where every entry is also appended, one JSON event a line.
    file: Option<Mutex<std::fs::File>>,
}

impl AuditLog {
    /// An audit log that also appends to `path` (created if missing).
    pub fn with_file(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            entries: Mutex::default(),
            file: Some(Mutex::new(file)),
        })
    }

    pub fn record(&self, entry: AuditEntry) {
        if let Some(file) = &self.file {
            let mut line = entry.to_event().to_string();
            line.push('\n');
            // One write per line, so that a reader never sees half an event.
            let written = file
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .write_all(line.as_bytes());
            if let Err(error) = written {
                tracing::warn!(%error, "cannot append to the audit log file");
            }
        }
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).push(entry);
    }

    pub fn entries(&self) -> Vec<AuditEntry> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
