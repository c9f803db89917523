//! VNF packages (ETSI SOL004 CSARs): unpacking them safely, reading TOSCA.meta and the
//! manifest, checking artifact digests, and the VNFD model the lifecycle acts on.
//! Synchronous and filesystem-only; callers run it on a blocking thread.

mod archive;
mod csar;
mod definitions;
mod digest;
mod error;
mod limits;
mod manifests;
mod meta;
mod vnfd;
mod yaml;
mod zipping;

pub use archive::extract;
pub use csar::{inspect, Artifact, Csar};
pub use digest::{DigestAlgorithm, Hasher, UnsupportedAlgorithm};
pub use error::{PackageError, Problem, Result};
pub use limits::ArchiveLimits;
pub use manifests::parse_manifests;
pub use meta::TOSCA_META_PATH;
pub use vnfd::{Flavour, InstantiationLevel, ScalingAspect, SoftwareImage, Vdu, Vnfd};
pub use yaml::MAX_YAML_DEPTH;
pub use zipping::zip_files;
