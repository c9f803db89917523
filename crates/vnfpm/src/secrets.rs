//! The SSH passwords in a job's or threshold's `metadata.monitoring` are stored encrypted
//! with the key of the job or threshold (its subscription's key), and never shown.

use serde_json::{Map, Value};
use tacker_crypto::{VaultError, VimKeys};

fn passwords(metadata: &mut Map<String, Value>) -> impl Iterator<Item = &mut Value> {
    metadata
        .get_mut("monitoring")
        .and_then(|m| m.get_mut("targetsInfo"))
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|target| target.get_mut("authInfo"))
        .filter_map(|auth| auth.get_mut("ssh_password"))
}

/// Encrypts the SSH passwords in place.
pub fn seal(metadata: &mut Map<String, Value>, keys: &VimKeys) {
    for password in passwords(metadata) {
        if let Some(clear) = password.as_str() {
            *password = Value::String(keys.encrypt(clear));
        }
    }
}

/// Decrypts the SSH passwords in place.
pub fn open(metadata: &mut Map<String, Value>, keys: &VimKeys) -> Result<(), VaultError> {
    for password in passwords(metadata) {
        if let Some(sealed) = password.as_str() {
            *password = Value::String(keys.decrypt(sealed)?);
        }
    }
    Ok(())
}
