//! The file store end to end on a temporary folder: an upload received, committed,
//! unpacked and published; local copies; odd names; removal and the staging sweep.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures::stream;
use tacker_common::ini::IniFiles;
use tacker_common::VnfPackageOptions;
use tacker_pkg::{zip_files, ArchiveLimits, DigestAlgorithm};
use tacker_pkgstore::{PackageStore, ReceiveError, StoredFile};

const ID: &str = "0f7c6bd2-6a9b-4f43-9d3b-2b0d5c6f1a01";

fn options(root: &Path) -> VnfPackageOptions {
    let text = format!("[vnf_package]\nvnf_package_csar_path = {}\n", root.display());
    VnfPackageOptions::from_ini(&IniFiles::parse_str(&text).unwrap(), root).unwrap()
}

fn limits() -> ArchiveLimits {
    ArchiveLimits {
        max_entries: 100,
        max_entry_bytes: 1 << 20,
        max_total_bytes: 1 << 20,
        max_compression_ratio: 100,
    }
}

/// A zip of `files` (path, text).
fn zip(files: &[(&str, &str)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let names: Vec<String> = files.iter().map(|(n, _)| (*n).to_owned()).collect();
    zip_files(dir.path(), &names).unwrap()
}

fn body(bytes: Vec<u8>) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + Unpin {
    stream::iter(
        bytes
            .chunks(1000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    )
}

/// Every file under `root`, relative, sorted (folders left out).
fn files_under(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    found
}

async fn onboard(store: &PackageStore, package: Vec<u8>) {
    let received = store
        .receive(ID, body(package), 1 << 20, DigestAlgorithm::Sha256)
        .await
        .unwrap();
    store.commit(ID, received).await.unwrap();
    let unpacked = store.unpack(ID, &limits()).await.unwrap();
    store.publish(ID, unpacked).await.unwrap();
}

#[tokio::test]
async fn a_package_is_stored_read_and_removed_without_leftovers() {
    let root = tempfile::tempdir().unwrap();
    let store = PackageStore::open(&options(root.path())).await.unwrap();
    let package = zip(&[
        ("TOSCA-Metadata/TOSCA.meta", "meta"),
        ("Files/a.yaml", "kind: A\n"),
    ]);
    onboard(&store, package.clone()).await;

    let digest = store.content_digest(ID, DigestAlgorithm::Sha256).await.unwrap();
    assert_eq!(
        digest,
        DigestAlgorithm::Sha256
            .hex_digest(&mut package.as_slice())
            .unwrap()
    );
    assert_eq!(
        store.size(&StoredFile::content(ID)).await.unwrap(),
        Some(package.len() as u64)
    );
    // The file store's own files are the local copy: nothing is copied.
    let copy = store.local_copy(ID).await.unwrap();
    assert_eq!(copy, root.path().join(ID));
    assert_eq!(files_under(&copy), ["Files/a.yaml", "TOSCA-Metadata/TOSCA.meta"]);

    store.remove(ID).await.unwrap();
    assert!(!store.has_content(ID).await.unwrap());
    assert_eq!(files_under(root.path()), Vec::<String>::new(), "nothing is left");
    assert!(!root.path().join(ID).exists(), "no empty folder is left");
}

#[tokio::test]
async fn names_the_store_escapes_are_copied_out_under_their_own_names() {
    let root = tempfile::tempdir().unwrap();
    let store = PackageStore::open(&options(root.path())).await.unwrap();
    onboard(
        &store,
        zip(&[("Files/a#b~c.yaml", "odd"), ("Files/plain.yaml", "plain")]),
    )
    .await;
    let copy = store.local_copy(ID).await.unwrap();
    assert_ne!(copy, root.path().join(ID));
    assert_eq!(
        std::fs::read_to_string(copy.join("Files/a#b~c.yaml")).unwrap(),
        "odd"
    );
    assert_eq!(
        std::fs::read_to_string(copy.join("Files/plain.yaml")).unwrap(),
        "plain"
    );
    store.remove(ID).await.unwrap();
    assert!(!copy.exists());
}

#[tokio::test]
async fn an_upload_over_the_cap_leaves_nothing_and_old_staging_is_swept() {
    let root = tempfile::tempdir().unwrap();
    let store = PackageStore::open(&options(root.path())).await.unwrap();
    let err = store
        .receive(ID, body(vec![0; 5000]), 4000, DigestAlgorithm::Sha256)
        .await
        .unwrap_err();
    assert!(matches!(err, ReceiveError::TooLarge(4000)), "{err:?}");
    assert!(!store.has_content(ID).await.unwrap());
    assert_eq!(files_under(root.path()), Vec::<String>::new());

    // A received upload never committed (its server stopped) goes with the sweep.
    let _abandoned = store
        .receive(ID, body(vec![1; 100]), 4000, DigestAlgorithm::Sha256)
        .await
        .unwrap();
    assert_eq!(files_under(root.path()).len(), 1);
    assert_eq!(store.clean_staging(Duration::from_secs(3600)).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(store.clean_staging(Duration::from_millis(10)).await.unwrap() >= 1);
    assert_eq!(files_under(root.path()), Vec::<String>::new());
}
