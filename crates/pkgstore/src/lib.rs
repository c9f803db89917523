//! Package files that every tacker-server and tacker-conductor reaches, behind one
//! interface ([`PackageStore`]) over an [`object_store::ObjectStore`]: a folder (shared by
//! NFS or a ReadWriteMany volume when several processes run) or an S3-compatible bucket.
//!
//! ```text
//! <id>.zip           the package as uploaded (GET package_content, onboarding's input)
//! <id>/<path>        its unpacked files (VNFD, artifacts, manifests)
//! .staging/...       uploads still arriving; renamed into place when complete
//! ```
//!
//! Each process also has a local folder (`vnf_package_csar_path`): scratch space for
//! unpacking and, with a remote store, a cache of the unpacked packages its drivers read.

mod backend;
mod error;
mod keys;
mod local;
mod read;
mod receive;
mod store;
mod unpack;

pub use backend::describe;
pub use error::{ReceiveError, StoreError};
pub use read::StoredFile;
pub use receive::Received;
pub use store::PackageStore;
pub use unpack::Unpacked;
