//! Package files on disk, under `[vnf_package] vnf_package_csar_path`:
//!
//! ```text
//! <root>/<id>.zip        the package as uploaded (GET package_content)
//! <root>/<id>/           its unpacked files (VNFD, artifacts, manifests)
//! <root>/.staging/       uploads and unpacking in progress
//! ```
//!
//! Everything is written under `.staging` first and renamed into place, so readers never
//! see a half-written package, and a failure leaves nothing behind.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tacker_pkg::{extract, ArchiveLimits, DigestAlgorithm, PackageError};
use tokio::fs;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct PackageStore {
    root: PathBuf,
}

/// An upload received into staging, not yet in place.
#[derive(Debug)]
pub struct Received {
    path: PathBuf,
    pub size: u64,
    pub hash: String,
}

/// Why receiving an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the package is larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("the package could not be received: {0}")]
    Transfer(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl PackageStore {
    pub async fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join(".staging")).await?;
        Ok(PackageStore {
            root: root.to_path_buf(),
        })
    }

    pub fn content_path(&self, id: &str) -> PathBuf {
        self.root.join(format!("{id}.zip"))
    }

    pub fn unpacked_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    fn staging(&self, id: &str, suffix: &str) -> PathBuf {
        self.root
            .join(".staging")
            .join(format!("{id}.{}.{suffix}", Uuid::new_v4().simple()))
    }

    /// Streams an upload into staging, hashing it and stopping at `cap` bytes.
    pub async fn receive<S, E>(
        &self,
        id: &str,
        mut body: S,
        cap: u64,
        algorithm: DigestAlgorithm,
    ) -> Result<Received, ReceiveError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = self.staging(id, "zip");
        let result = async {
            let mut file = fs::File::create(&path).await?;
            let mut hasher = algorithm.hasher();
            let mut size: u64 = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| ReceiveError::Transfer(e.to_string()))?;
                size += chunk.len() as u64;
                if size > cap {
                    return Err(ReceiveError::TooLarge(cap));
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await?;
            }
            file.sync_all().await?;
            Ok((size, hasher.finish()))
        }
        .await;
        match result {
            Ok((size, hash)) => Ok(Received { path, size, hash }),
            Err(e) => {
                let _ = fs::remove_file(&path).await;
                Err(e)
            }
        }
    }

    /// Moves a received upload into place as the package's content.
    pub async fn commit(&self, id: &str, received: Received) -> io::Result<()> {
        fs::rename(&received.path, self.content_path(id)).await
    }

    /// Unpacks the package's content into place (replacing an earlier attempt) and returns
    /// its files. Blocking: run on a blocking thread.
    pub fn unpack_blocking(
        &self,
        id: &str,
        limits: &ArchiveLimits,
    ) -> Result<BTreeSet<String>, PackageError> {
        let staged = self.staging(id, "dir");
        let files = extract(&self.content_path(id), &staged, limits)?;
        let target = self.unpacked_dir(id);
        if target.exists() {
            std::fs::remove_dir_all(&target)?;
        }
        if let Err(e) = std::fs::rename(&staged, &target) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e.into());
        }
        Ok(files)
    }

    /// Removes everything stored for a package.
    pub async fn remove(&self, id: &str) -> io::Result<()> {
        for result in [
            fs::remove_file(self.content_path(id)).await,
            fs::remove_dir_all(self.unpacked_dir(id)).await,
        ] {
            match result {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes staging leftovers older than `age` (a process that stopped mid-upload).
    pub async fn clean_staging(&self, age: Duration) -> io::Result<usize> {
        let mut removed = 0;
        let mut entries = fs::read_dir(self.root.join(".staging")).await?;
        let cutoff = SystemTime::now() - age;
        while let Some(entry) = entries.next_entry().await? {
            let meta = entry.metadata().await?;
            if meta.modified().is_ok_and(|m| m < cutoff) {
                let path = entry.path();
                let _ = if meta.is_dir() {
                    fs::remove_dir_all(&path).await
                } else {
                    fs::remove_file(&path).await
                };
                removed += 1;
            }
        }
        Ok(removed)
    }
}
