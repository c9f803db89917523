//! The audit log: one entry per request, with who made it and with which token.

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

#[derive(Default)]
pub struct AuditLog {
    entries: Mutex<Vec<AuditEntry>>,
}

impl AuditLog {
    pub fn record(&self, entry: AuditEntry) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).push(entry);
    }

    pub fn entries(&self) -> Vec<AuditEntry> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
