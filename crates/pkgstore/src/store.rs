//! [`PackageStore`]: opening the store and the operations on a package as a whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use tacker_common::{PackageStoreOptions, VnfPackageOptions};
use tacker_pkg::DigestAlgorithm;

use crate::error::StoreError;
use crate::{backend, keys};

/// Package files, in the configured store; cheap to clone.
#[derive(Debug, Clone)]
pub struct PackageStore {
    pub(crate) objects: Arc<dyn ObjectStore>,
    /// This process's own folder: `.scratch/` for unpacking, `.cache/` for local copies.
    pub(crate) local: PathBuf,
    /// With the file store, unpacked files already are local files, under this root.
    pub(crate) shared_folder: Option<PathBuf>,
    description: String,
}

impl PackageStore {
    /// Opens the store and checks that it answers (see [`PackageStore::check`]).
    pub async fn open(options: &VnfPackageOptions) -> Result<Self, StoreError> {
        let store = Self::new(options)?;
        store.check().await?;
        Ok(store)
    }

    /// The store as configured, not yet contacted.
    pub fn new(options: &VnfPackageOptions) -> Result<Self, StoreError> {
        let local = options.csar_path.clone();
        for folder in [".scratch", ".cache"] {
            std::fs::create_dir_all(local.join(folder))?;
        }
        Ok(PackageStore {
            objects: backend::open(options)?,
            shared_folder: matches!(options.store, PackageStoreOptions::File).then(|| local.clone()),
            local,
            description: backend::describe(options),
        })
    }

    /// Lists the staging area: a wrong bucket, endpoint or credential stops a process at
    /// start-up with the reason, not at the first upload.
    pub async fn check(&self) -> Result<(), StoreError> {
        self.objects
            .list_with_delimiter(Some(&keys::staging_prefix()))
            .await?;
        Ok(())
    }

    /// What the store is, for logs.
    pub fn description(&self) -> &str {
        &self.description
    }

    pub(crate) fn scratch_root(&self) -> PathBuf {
        self.local.join(".scratch")
    }

    pub(crate) fn cache_dir(&self, id: &str) -> PathBuf {
        self.local.join(".cache").join(id)
    }

    /// Whether the package's content (its zip) is stored.
    pub async fn has_content(&self, id: &str) -> Result<bool, StoreError> {
        match self.objects.head(&keys::content(id)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The hex digest of the package's content.
    pub async fn content_digest(&self, id: &str, algorithm: DigestAlgorithm) -> Result<String, StoreError> {
        let mut stream = self.objects.get(&keys::content(id)).await?.into_stream();
        let mut hasher = algorithm.hasher();
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk?);
        }
        Ok(hasher.finish())
    }

    /// Removes everything stored for a package, and this process's local copy.
    pub async fn remove(&self, id: &str) -> Result<(), StoreError> {
        match self.objects.delete(&keys::content(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.remove_unpacked(id).await?;
        remove_dir(&self.cache_dir(id)).await?;
        Ok(())
    }

    /// Removes the package's unpacked files from the store.
    pub(crate) async fn remove_unpacked(&self, id: &str) -> Result<(), StoreError> {
        let listed = self
            .objects
            .list(Some(&keys::unpacked(id)))
            .map_ok(|meta| meta.location)
            .boxed();
        let mut deleted = self.objects.delete_stream(listed);
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes uploads and scratch folders older than `age` (a process that stopped
    /// mid-upload or mid-unpacking); returns how many.
    pub async fn clean_staging(&self, age: Duration) -> Result<usize, StoreError> {
        let cutoff = SystemTime::now() - age;
        let mut removed = 0;
        let stale: Vec<_> = self
            .objects
            .list(Some(&keys::staging_prefix()))
            .try_filter(|meta| futures::future::ready(SystemTime::from(meta.last_modified) < cutoff))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await?;
        for key in stale {
            match self.objects.delete(&key).await {
                Ok(()) => removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        removed += remove_older(&self.scratch_root(), cutoff).await?;
        // Uploads cut off mid-way leave the file store's partial files (`name#n`), which
        // listing skips. (S3 keeps such parts as incomplete multipart uploads: a bucket
        // lifecycle rule, AbortIncompleteMultipartUpload, removes them.)
        if let Some(root) = &self.shared_folder {
            removed += remove_older(&root.join(".staging"), cutoff).await?;
        }
        Ok(removed)
    }
}

/// Removes the entries of `folder` last modified before `cutoff`; returns how many.
async fn remove_older(folder: &Path, cutoff: SystemTime) -> std::io::Result<usize> {
    let mut entries = match tokio::fs::read_dir(folder).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    while let Some(entry) = entries.next_entry().await? {
        let meta = entry.metadata().await?;
        if meta.modified().is_ok_and(|m| m < cutoff) {
            let path = entry.path();
            let result = if meta.is_dir() {
                remove_dir(&path).await
            } else {
                tokio::fs::remove_file(&path).await
            };
            match result {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => removed += 1,
            }
        }
    }
    Ok(removed)
}

/// Removes a folder; one that is not there is fine.
pub(crate) async fn remove_dir(path: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_dir_all(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
