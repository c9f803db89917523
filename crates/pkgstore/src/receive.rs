//! Uploads: streamed into the store under a staging name while hashed and counted, then
//! renamed into place, so that no reader ever sees half a package and a failed upload
//! leaves nothing behind.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path as Key;
use object_store::WriteMultipart;
use tacker_pkg::DigestAlgorithm;

use crate::error::ReceiveError;
use crate::keys;
use crate::store::PackageStore;

/// Parts sent to the store at once; S3 wants at least 5 MiB a part.
const PART_SIZE: usize = 8 << 20;
/// Parts in flight while the next arrives.
const PARTS_IN_FLIGHT: usize = 2;

/// An upload received into staging, not yet in place.
#[derive(Debug)]
pub struct Received {
    key: Key,
    pub size: u64,
    pub hash: String,
}

impl PackageStore {
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
        let key = keys::staging(id);
        let upload = self.objects.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = algorithm.hasher();
        let mut size: u64 = 0;
        let copied = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| ReceiveError::Transfer(e.to_string()))?;
                size += chunk.len() as u64;
                if size > cap {
                    return Err(ReceiveError::TooLarge(cap));
                }
                hasher.update(&chunk);
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                writer.write(&chunk);
            }
            Ok(())
        }
        .await;
        match copied {
            Ok(()) => {
                writer.finish().await?;
                Ok(Received {
                    key,
                    size,
                    hash: hasher.finish(),
                })
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(package = %id, error = %abort, "aborting a failed upload failed; the staging sweep removes it");
                }
                Err(e)
            }
        }
    }

    /// Moves a received upload into place as the package's content.
    pub async fn commit(&self, id: &str, received: Received) -> Result<(), crate::StoreError> {
        Ok(self.objects.rename(&received.key, &keys::content(id)).await?)
    }
}
