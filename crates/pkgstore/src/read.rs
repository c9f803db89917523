//! Downloads: a stored file's size, then the bytes asked for, streamed from the store.

use std::ops::Range;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::GetOptions;

use crate::error::StoreError;
use crate::keys;
use crate::store::PackageStore;

/// One stored file of a package: its content, or one of its unpacked files.
#[derive(Debug, Clone)]
pub struct StoredFile {
    key: Key,
}

impl StoredFile {
    pub fn content(id: &str) -> Self {
        StoredFile {
            key: keys::content(id),
        }
    }

    /// `path` must be one the onboarding checked (a declared artifact, a VNFD file).
    pub fn unpacked(id: &str, path: &str) -> Self {
        StoredFile {
            key: keys::unpacked_file(id, path),
        }
    }
}

impl PackageStore {
    /// The file's size, or `None` if it is not stored.
    pub async fn size(&self, file: &StoredFile) -> Result<Option<u64>, StoreError> {
        match self.objects.head(&file.key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The bytes of `range` of the file, as they arrive from the store.
    pub async fn read(
        &self,
        file: &StoredFile,
        range: Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, StoreError>>, StoreError> {
        if range.is_empty() {
            return Ok(futures::stream::empty().boxed());
        }
        let options = GetOptions {
            range: Some(range.into()),
            ..Default::default()
        };
        let result = self.objects.get_opts(&file.key, options).await?;
        Ok(result.into_stream().map_err(StoreError::from).boxed())
    }
}
