//! Local copies of unpacked packages, for what reads package files by path: the drivers
//! (manifests) and the VNFD download. With the file store they are the store's own
//! files; with a remote store, a per-process cache filled on first use. An onboarded
//! package never changes (a new upload means a new package), so a copy stays valid until
//! the package is deleted.

use std::path::PathBuf;

use futures::TryStreamExt;

use crate::error::StoreError;
use crate::keys;
use crate::store::PackageStore;

impl PackageStore {
    /// A local folder holding the package's unpacked files under their own names.
    pub async fn local_copy(&self, id: &str) -> Result<PathBuf, StoreError> {
        let cache = self.cache_dir(id);
        if tokio::fs::try_exists(&cache).await? {
            return Ok(cache);
        }
        let prefix = keys::unpacked(id);
        let listed: Vec<_> = self.objects.list(Some(&prefix)).try_collect().await?;
        if let Some(root) = &self.shared_folder {
            // Names object_store had to escape are copied out under their own names.
            if listed.iter().all(|meta| keys::is_plain(&prefix, &meta.location)) {
                return Ok(root.join(id));
            }
        }
        // Filled aside and renamed into place, so a copy is whole or absent.
        let scratch = tempfile::Builder::new()
            .prefix(&format!("{id}.copy."))
            .tempdir_in(self.scratch_root())?;
        let root = scratch.path().join("files");
        tokio::fs::create_dir(&root).await?;
        for meta in &listed {
            let Some(names) = keys::relative_names(&prefix, &meta.location) else {
                tracing::warn!(package = %id, key = %meta.location, "a stored file with an unusable name is left out");
                continue;
            };
            let path = names.iter().fold(root.clone(), |path, name| path.join(name));
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            self.fetch(&meta.location, &path).await?;
        }
        match tokio::fs::rename(&root, &cache).await {
            Ok(()) => Ok(cache),
            // Another task of this process made the copy meanwhile.
            Err(_) if tokio::fs::try_exists(&cache).await? => Ok(cache),
            Err(e) => Err(e.into()),
        }
    }
}
