//! Fernet encryption of VIM secrets with one key file per VIM, as Tacker's
//! `[vim_keys] openstack` folder holds them.
//!
//! A key file holds one url-safe base64 Fernet key per line, the newest first: new secrets
//! are encrypted with the first key, and any listed key decrypts. A Tacker key file (one
//! key) is a valid file here, and rotation adds a key before the old one is dropped, so a
//! crash in the middle of a rotation never loses the ability to decrypt.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use fernet::{Fernet, MultiFernet};

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("VIM key folder {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no encryption key found for VIM {0}")]
    KeyNotFound(String),
    #[error("key file {0} holds no valid Fernet key")]
    BadKeyFile(PathBuf),
    #[error("a stored secret of VIM {0} cannot be decrypted with its key")]
    Decrypt(String),
    #[error("invalid VIM id {0:?} for a key file name")]
    BadVimId(String),
}

/// The folder of per-VIM key files.
#[derive(Debug, Clone)]
pub struct KeyVault {
    dir: PathBuf,
    /// `[vim_keys] default_secret_key`: a shared key file used when a VIM has none of its own.
    default_key: Option<String>,
}

/// The keys of one VIM, ready to encrypt and decrypt.
pub struct VimKeys {
    vim_id: String,
    keys: MultiFernet,
}

impl VimKeys {
    /// Encrypts with the newest key; the token is url-safe base64 starting with `gAAAAA`.
    pub fn encrypt(&self, plaintext: &str) -> String {
        self.keys.encrypt(plaintext.as_bytes())
    }

    /// Decrypts with any of the VIM's keys.
    pub fn decrypt(&self, token: &str) -> Result<String, VaultError> {
        let bytes = self
            .keys
            .decrypt(token)
            .map_err(|_| VaultError::Decrypt(self.vim_id.clone()))?;
        String::from_utf8(bytes).map_err(|_| VaultError::Decrypt(self.vim_id.clone()))
    }
}

impl KeyVault {
    pub fn new(dir: impl Into<PathBuf>, default_key: Option<String>) -> Self {
        KeyVault {
            dir: dir.into(),
            default_key,
        }
    }

    /// The key folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the key folder (mode 0700) if it is missing.
    pub fn ensure_dir(&self) -> Result<(), VaultError> {
        let io = |source| VaultError::Io {
            path: self.dir.clone(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(io)?;
        set_mode(&self.dir, 0o700).map_err(io)
    }

    fn key_path(&self, name: &str) -> Result<PathBuf, VaultError> {
        // VIM ids are UUIDs; anything that could walk out of the folder is refused.
        let safe = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            && !name.starts_with('.');
        if !safe {
            return Err(VaultError::BadVimId(name.to_string()));
        }
        Ok(self.dir.join(name))
    }

    /// Creates a fresh key for a new VIM. With a shared default key configured, that key is used.
    pub fn create(&self, vim_id: &str) -> Result<VimKeys, VaultError> {
        if self.default_key.is_some() {
            return self.open(vim_id);
        }
        let path = self.key_path(vim_id)?;
        write_key_file(&path, &[Fernet::generate_key()])?;
        self.open(vim_id)
    }

    /// Opens a VIM's keys: its own file first, then the shared default key file.
    pub fn open(&self, vim_id: &str) -> Result<VimKeys, VaultError> {
        let own = self.key_path(vim_id)?;
        let path = if own.is_file() {
            own
        } else if let Some(default) = &self.default_key {
            self.key_path(default)?
        } else {
            return Err(VaultError::KeyNotFound(vim_id.to_string()));
        };
        let keys = read_key_file(&path)?;
        let fernets = keys
            .iter()
            .map(|k| Fernet::new(k))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| VaultError::BadKeyFile(path.clone()))?;
        if fernets.is_empty() {
            return Err(VaultError::BadKeyFile(path));
        }
        Ok(VimKeys {
            vim_id: vim_id.to_string(),
            keys: MultiFernet::new(fernets),
        })
    }

    /// Puts a new key in front of a VIM's existing keys; the old ones still decrypt.
    pub fn add_new_key(&self, vim_id: &str) -> Result<VimKeys, VaultError> {
        let path = self.key_path(vim_id)?;
        let mut keys = read_key_file(&path)?;
        keys.insert(0, Fernet::generate_key());
        write_key_file(&path, &keys)?;
        self.open(vim_id)
    }

    /// Drops every key but the newest, once all secrets are encrypted with it.
    pub fn drop_old_keys(&self, vim_id: &str) -> Result<(), VaultError> {
        let path = self.key_path(vim_id)?;
        let keys = read_key_file(&path)?;
        let newest = keys
            .into_iter()
            .next()
            .ok_or_else(|| VaultError::BadKeyFile(path.clone()))?;
        write_key_file(&path, &[newest])
    }

    /// Removes a VIM's own key file (never the shared default key). Missing is fine.
    pub fn remove(&self, vim_id: &str) -> Result<(), VaultError> {
        if self.default_key.as_deref() == Some(vim_id) {
            return Ok(());
        }
        let path = self.key_path(vim_id)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(VaultError::Io { path, source: e }),
            _ => Ok(()),
        }
    }
}

fn read_key_file(path: &Path) -> Result<Vec<String>, VaultError> {
    let text = fs::read_to_string(path).map_err(|source| VaultError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// Writes the key file atomically (temp file, fsync, rename) with mode 0600.
fn write_key_file(path: &Path, keys: &[String]) -> Result<(), VaultError> {
    let io = |source| VaultError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    {
        let mut file = fs::File::create(&tmp).map_err(io)?;
        set_mode(&tmp, 0o600).map_err(io)?;
        file.write_all(keys.join("\n").as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    fs::rename(&tmp, path).map_err(io)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> (tempfile::TempDir, KeyVault) {
        let dir = tempfile::tempdir().unwrap();
        let vault = KeyVault::new(dir.path().join("keys"), None);
        vault.ensure_dir().unwrap();
        (dir, vault)
    }

    #[test]
    fn round_trip_and_per_vim_isolation() {
        let (_d, vault) = vault();
        let a = vault.create("vim-a").unwrap();
        let b = vault.create("vim-b").unwrap();
        let token = a.encrypt("s3cret");
        assert!(token.starts_with("gAAAAA"));
        assert_eq!(vault.open("vim-a").unwrap().decrypt(&token).unwrap(), "s3cret");
        assert!(b.decrypt(&token).is_err());
    }

    #[test]
    fn rotation_keeps_old_tokens_readable_until_pruned() {
        let (_d, vault) = vault();
        let old_token = vault.create("v").unwrap().encrypt("x");
        let rotated = vault.add_new_key("v").unwrap();
        assert_eq!(rotated.decrypt(&old_token).unwrap(), "x");
        let new_token = rotated.encrypt("x");
        vault.drop_old_keys("v").unwrap();
        let pruned = vault.open("v").unwrap();
        assert_eq!(pruned.decrypt(&new_token).unwrap(), "x");
        assert!(pruned.decrypt(&old_token).is_err());
    }

    #[test]
    fn key_files_are_private_and_names_cannot_escape() {
        let (_d, vault) = vault();
        vault.create("v").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(vault.dir().join("v")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(vault.create("../etc"), Err(VaultError::BadVimId(_))));
        assert!(matches!(vault.open("missing"), Err(VaultError::KeyNotFound(_))));
    }

    #[test]
    fn shared_default_key_is_used_and_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        let plain = KeyVault::new(dir.path(), None);
        plain.create("shared").unwrap();
        let vault = KeyVault::new(dir.path(), Some("shared".into()));
        let token = vault.create("vim-1").unwrap().encrypt("p");
        assert!(!dir.path().join("vim-1").exists());
        vault.remove("shared").unwrap();
        assert_eq!(vault.open("vim-2").unwrap().decrypt(&token).unwrap(), "p");
    }
}
