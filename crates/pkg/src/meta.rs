//! TOSCA.meta and the SOL004 manifest (`.mf`): `Key: Value` lines in blocks separated by
//! blank lines. The first block describes the package; later blocks describe artifacts.

use std::collections::BTreeMap;

use crate::digest::DigestAlgorithm;
use crate::error::{PackageError, Result};

pub const TOSCA_META_PATH: &str = "TOSCA-Metadata/TOSCA.meta";

/// What TOSCA.meta says about the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToscaMeta {
    pub entry_definitions: String,
    pub entry_manifest: Option<String>,
    pub artifacts: Vec<ArtifactRef>,
}

/// An artifact named by TOSCA.meta or the manifest, with the digest it must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRef {
    pub path: String,
    pub digest: Option<(DigestAlgorithm, String)>,
    /// The file that named it, for error messages.
    pub declared_in: String,
}

/// The manifest's `metadata:` entries and its artifact list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub metadata: BTreeMap<String, String>,
    pub artifacts: Vec<ArtifactRef>,
}

pub fn parse_tosca_meta(text: &str) -> Result<ToscaMeta> {
    let file = TOSCA_META_PATH;
    let mut blocks = blocks(text, file)?.into_iter();
    let head = blocks.next().unwrap_or_default();
    let get = |key: &str| {
        head.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    if get("TOSCA-Meta-File-Version").is_none() {
        return Err(PackageError::in_file(file, "TOSCA-Meta-File-Version is missing"));
    }
    let entry_definitions = get("Entry-Definitions")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PackageError::in_file(file, "Entry-Definitions is missing"))?;
    let artifacts = blocks
        .filter(|block| !block.is_empty())
        .map(|block| artifact(&block, file, "Name"))
        .collect::<Result<_>>()?;
    Ok(ToscaMeta {
        entry_definitions,
        entry_manifest: get("ETSI-Entry-Manifest"),
        artifacts,
    })
}

pub fn parse_manifest(text: &str, file: &str) -> Result<Manifest> {
    // A signed manifest ends with a CMS block; the signature is not verified here.
    let body = text.split("-----BEGIN CMS-----").next().unwrap_or_default();
    let mut manifest = Manifest::default();
    for block in blocks(body, file)? {
        let Some((first, _)) = block.first() else { continue };
        if first == "metadata" {
            manifest.metadata = block.into_iter().skip(1).collect();
        } else if block.iter().any(|(k, _)| k == "Source") {
            manifest.artifacts.push(artifact(&block, file, "Source")?);
        }
        // Other blocks (non_mano_artifact_sets, ...) are informational.
    }
    Ok(manifest)
}

type Block = Vec<(String, String)>;

fn blocks(text: &str, file: &str) -> Result<Vec<Block>> {
    let mut blocks = vec![Block::new()];
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if blocks.last().is_some_and(|b| !b.is_empty()) {
                blocks.push(Block::new());
            }
            continue;
        }
        if line.trim_start().starts_with('#') {
            continue;
        }
        let block = blocks.last_mut().expect("blocks is never empty");
        let indented = line.starts_with([' ', '\t']);
        let in_metadata = block
            .first()
            .is_some_and(|(k, v)| k == "metadata" && v.is_empty());
        if indented && !in_metadata {
            // A continuation line extends the previous value.
            if let Some(last) = block.last_mut() {
                last.1.push_str(line.trim());
                continue;
            }
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(PackageError::in_file(
                file,
                format!("line {} is not a 'Key: Value' line", number + 1),
            ));
        };
        block.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(blocks)
}

fn artifact(block: &Block, file: &str, path_key: &str) -> Result<ArtifactRef> {
    let get = |key: &str| {
        block
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let path = get(path_key)
        .or_else(|| get("Source"))
        .or_else(|| get("Name"))
        .filter(|p| !p.is_empty())
        .ok_or_else(|| PackageError::in_file(file, format!("an artifact block has no {path_key} line")))?;
    let digest = match (get("Algorithm"), get("Hash")) {
        (None, None) => None,
        (Some(algorithm), Some(hash)) => {
            let algorithm = algorithm
                .parse::<DigestAlgorithm>()
                .map_err(|why| PackageError::in_file(file, format!("{path}: {why}")))?;
            Some((algorithm, hash.to_ascii_lowercase()))
        }
        _ => {
            return Err(PackageError::in_file(
                file,
                format!("the block for {path} needs both Algorithm and Hash"),
            ))
        }
    };
    Ok(ArtifactRef {
        path: path.to_owned(),
        digest,
        declared_in: file.to_owned(),
    })
}
