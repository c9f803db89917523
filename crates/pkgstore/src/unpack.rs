//! Onboarding's side of the store: the stored zip is unpacked into local scratch (where
//! the package is checked), then its files are published to the store for every process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use object_store::buffered::BufWriter;
use tacker_pkg::{extract, ArchiveLimits, PackageError};
use tokio::io::AsyncWriteExt;

use crate::error::StoreError;
use crate::keys;
use crate::store::{remove_dir, PackageStore};

/// A package unpacked into this process's scratch folder; removed when dropped.
#[derive(Debug)]
pub struct Unpacked {
    scratch: tempfile::TempDir,
    /// The files it holds (relative paths with `/`, sorted; folders included).
    pub files: BTreeSet<String>,
}

impl Unpacked {
    /// The folder holding the files.
    pub fn root(&self) -> PathBuf {
        self.scratch.path().join("files")
    }
}

impl PackageStore {
    /// Fetches the package's stored zip and unpacks it (with the archive checks of
    /// `tacker_pkg::extract`) into scratch.
    pub async fn unpack(&self, id: &str, limits: &ArchiveLimits) -> Result<Unpacked, PackageError> {
        let scratch = tempfile::Builder::new()
            .prefix(&format!("{id}."))
            .tempdir_in(self.scratch_root())?;
        let zip = scratch.path().join("package.zip");
        self.fetch(&keys::content(id), &zip).await.map_err(io)?;
        let limits = *limits;
        let root = scratch.path().join("files");
        let files = tokio::task::spawn_blocking(move || extract(&zip, &root, &limits))
            .await
            .map_err(std::io::Error::other)??;
        Ok(Unpacked { scratch, files })
    }

    /// Makes the unpacked files the package's files in the store, replacing any earlier
    /// attempt's; with a remote store they also become this process's local copy.
    pub async fn publish(&self, id: &str, unpacked: Unpacked) -> Result<(), StoreError> {
        self.remove_unpacked(id).await?;
        let root = unpacked.root();
        for name in &unpacked.files {
            let path = root.join(name);
            if tokio::fs::metadata(&path).await?.is_file() {
                self.upload(&path, &keys::unpacked_file(id, name)).await?;
            }
        }
        if self.shared_folder.is_none() {
            let cache = self.cache_dir(id);
            remove_dir(&cache).await?;
            tokio::fs::rename(&root, &cache).await?;
        }
        Ok(())
    }

    async fn upload(&self, path: &Path, key: &object_store::path::Path) -> Result<(), StoreError> {
        let mut file = tokio::fs::File::open(path).await?;
        let mut writer = BufWriter::new(self.objects.clone(), key.clone());
        if let Err(e) = tokio::io::copy(&mut file, &mut writer).await {
            let _ = writer.abort().await;
            return Err(e.into());
        }
        writer.shutdown().await?;
        Ok(())
    }

    /// Copies one stored object to a local file.
    pub(crate) async fn fetch(&self, key: &object_store::path::Path, to: &Path) -> Result<(), StoreError> {
        let mut stream = self.objects.get(key).await?.into_stream();
        let mut file = tokio::fs::File::create(to).await?;
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(())
    }
}

fn io(err: StoreError) -> PackageError {
    PackageError::Storage(err.into())
}
