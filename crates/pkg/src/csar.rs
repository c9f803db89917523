//! Reading an unpacked CSAR: find the VNFD (TOSCA.meta or a single root YAML), check every
//! declared artifact exists and has the declared digest, and build the VNFD model.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::Path;

use crate::definitions::{normalize, Definitions};
use crate::digest::DigestAlgorithm;
use crate::error::{PackageError, Result};
use crate::manifests::parse_manifests;
use crate::meta::{parse_manifest, parse_tosca_meta, ArtifactRef, TOSCA_META_PATH};
use crate::vnfd::Vnfd;

/// Kubernetes manifests live here by Tacker's convention.
const KUBERNETES_DIR: &str = "Files/kubernetes/";
/// The largest manifest file checked at onboarding.
const MAX_MANIFEST_BYTES: u64 = 8 << 20;

/// What onboarding learned from a package.
#[derive(Debug, Clone, PartialEq)]
pub struct Csar {
    pub entry_definitions: String,
    /// The files that make up the VNFD: TOSCA.meta (if any) and the definitions.
    pub vnfd_files: Vec<String>,
    pub vnfd: Vnfd,
    /// Declared artifacts other than software images, with their checksums.
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: String,
    pub algorithm: DigestAlgorithm,
    pub hash: String,
}

/// Inspects the package unpacked at `root`, whose files are `files`.
pub fn inspect(root: &Path, files: &BTreeSet<String>) -> Result<Csar> {
    let layout = Layout::find(root, files)?;
    let definitions = Definitions::load(root, files, &layout.entry)?;
    let vnfd = Vnfd::from_definitions(&definitions)?;

    let mut vnfd_files: Vec<String> = Vec::new();
    if layout.has_tosca_meta {
        vnfd_files.push(TOSCA_META_PATH.to_owned());
    }
    vnfd_files.extend(definitions.paths().map(str::to_owned));
    vnfd_files.sort();
    vnfd_files.dedup();

    let images: BTreeSet<String> = vnfd
        .software_images
        .iter()
        .filter_map(|image| image.image_path.as_deref())
        .filter_map(normalize)
        .collect();
    let mut artifacts = BTreeMap::new();
    for declared in &layout.artifacts {
        let artifact = verify_artifact(root, files, declared)?;
        if artifact.path.starts_with(KUBERNETES_DIR) && is_yaml(&artifact.path) {
            check_manifest(root, &artifact.path)?;
        }
        if !images.contains(&artifact.path) {
            artifacts.insert(artifact.path.clone(), artifact);
        }
    }
    Ok(Csar {
        entry_definitions: layout.entry,
        vnfd_files,
        vnfd,
        artifacts: artifacts.into_values().collect(),
    })
}

/// Where the package's VNFD and artifact declarations are.
struct Layout {
    entry: String,
    has_tosca_meta: bool,
    artifacts: Vec<ArtifactRef>,
}

impl Layout {
    fn find(root: &Path, files: &BTreeSet<String>) -> Result<Self> {
        if files.contains(TOSCA_META_PATH) {
            let meta = parse_tosca_meta(&read_text(root, TOSCA_META_PATH)?)?;
            let entry = normalize(&meta.entry_definitions).ok_or_else(|| {
                PackageError::in_file(TOSCA_META_PATH, "Entry-Definitions points outside the package")
            })?;
            let mut layout = Layout {
                entry,
                has_tosca_meta: true,
                artifacts: meta.artifacts,
            };
            if let Some(manifest) = meta.entry_manifest {
                layout.add_manifest(root, files, &manifest, TOSCA_META_PATH)?;
            }
            return Ok(layout);
        }
        // SOL004 without TOSCA-Metadata: exactly one YAML file at the root is the VNFD.
        let roots: Vec<&String> = files.iter().filter(|f| !f.contains('/') && is_yaml(f)).collect();
        let entry = match roots.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(PackageError::package(
                    "the package has neither TOSCA-Metadata/TOSCA.meta nor a YAML file at its root",
                ))
            }
            _ => {
                return Err(PackageError::package(
                    "without TOSCA-Metadata/TOSCA.meta the package root must hold exactly one YAML file",
                ))
            }
        };
        let mut layout = Layout {
            entry: entry.clone(),
            has_tosca_meta: false,
            artifacts: Vec::new(),
        };
        let stem = entry.rsplit_once('.').map_or(entry.as_str(), |(stem, _)| stem);
        let manifest = format!("{stem}.mf");
        if files.contains(&manifest) {
            layout.add_manifest(root, files, &manifest, &entry)?;
        }
        Ok(layout)
    }

    fn add_manifest(
        &mut self,
        root: &Path,
        files: &BTreeSet<String>,
        path: &str,
        named_by: &str,
    ) -> Result<()> {
        let path = normalize(path).filter(|p| files.contains(p)).ok_or_else(|| {
            PackageError::in_file(named_by, format!("the manifest '{path}' is not in the package"))
        })?;
        let manifest = parse_manifest(&read_text(root, &path)?, &path)?;
        self.artifacts.extend(manifest.artifacts);
        Ok(())
    }
}

fn verify_artifact(root: &Path, files: &BTreeSet<String>, declared: &ArtifactRef) -> Result<Artifact> {
    let path = normalize(&declared.path)
        .filter(|p| files.contains(p))
        .ok_or_else(|| {
            PackageError::in_file(
                &declared.declared_in,
                format!("names artifact '{}', which is not in the package", declared.path),
            )
        })?;
    let (algorithm, expected) = match &declared.digest {
        Some((algorithm, hash)) => (*algorithm, Some(hash.as_str())),
        None => (DigestAlgorithm::Sha256, None),
    };
    let actual = algorithm.hex_digest(&mut File::open(root.join(&path))?)?;
    if let Some(expected) = expected {
        if expected != actual {
            return Err(PackageError::in_file(
                &path,
                format!(
                    "the {algorithm} hash does not match the one declared in {}",
                    declared.declared_in
                ),
            ));
        }
    }
    Ok(Artifact {
        path,
        algorithm,
        hash: actual,
    })
}

fn check_manifest(root: &Path, path: &str) -> Result<()> {
    if fs::metadata(root.join(path))?.len() > MAX_MANIFEST_BYTES {
        return Err(PackageError::in_file(
            path,
            format!("the file is larger than {MAX_MANIFEST_BYTES} bytes"),
        ));
    }
    parse_manifests(&read_text(root, path)?, path).map(drop)
}

fn read_text(root: &Path, path: &str) -> Result<String> {
    let bytes = fs::read(root.join(path))?;
    String::from_utf8(bytes).map_err(|_| PackageError::in_file(path, "the file is not UTF-8 text"))
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}
