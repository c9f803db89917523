//! Loading the VNFD's YAML files: the entry definitions and everything it imports, all from
//! inside the package. Nothing is fetched from the network during onboarding.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{PackageError, Result};

/// Largest VNFD file read, in bytes: descriptors are small; a huge one is an attack.
const MAX_DEFINITIONS_FILE_BYTES: u64 = 8 << 20;
/// Most files one VNFD may consist of.
const MAX_DEFINITIONS_FILES: usize = 200;

/// The VNFD's files in load order (the entry first), parsed.
#[derive(Debug)]
pub struct Definitions {
    pub files: Vec<(String, Value)>,
}

impl Definitions {
    pub fn load(root: &Path, package_files: &BTreeSet<String>, entry: &str) -> Result<Self> {
        let mut loaded = Definitions { files: Vec::new() };
        let mut queued = BTreeSet::from([entry.to_owned()]);
        let mut pending = vec![entry.to_owned()];
        if !package_files.contains(entry) {
            return Err(PackageError::in_file(
                entry,
                "the entry definitions file is not in the package",
            ));
        }
        while let Some(path) = pending.pop() {
            if loaded.files.len() >= MAX_DEFINITIONS_FILES {
                return Err(PackageError::in_file(
                    entry,
                    format!("the VNFD imports more than {MAX_DEFINITIONS_FILES} files"),
                ));
            }
            let doc = read_yaml(root, &path)?;
            check_tosca_version(&doc, &path)?;
            for import in imports(&doc, &path)? {
                let Some(target) = resolve_import(&path, &import)? else {
                    continue;
                };
                if !package_files.contains(&target) {
                    return Err(PackageError::in_file(
                        &path,
                        format!("imports '{import}', which is not in the package"),
                    ));
                }
                if queued.insert(target.clone()) {
                    pending.push(target);
                }
            }
            loaded.files.push((path, doc));
        }
        Ok(loaded)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(path, _)| path.as_str())
    }

    /// Every node type any file defines, with the file that defines it.
    pub fn node_types(&self) -> BTreeMap<&str, (&str, &Map<String, Value>)> {
        let mut types = BTreeMap::new();
        for (path, doc) in &self.files {
            let Some(defined) = doc.get("node_types").and_then(Value::as_object) else {
                continue;
            };
            for (name, body) in defined {
                if let Some(body) = body.as_object() {
                    types.insert(name.as_str(), (path.as_str(), body));
                }
            }
        }
        types
    }
}

/// Reads one YAML file of the package, bounded in size.
pub fn read_yaml(root: &Path, path: &str) -> Result<Value> {
    let full = root.join(path);
    let size = fs::metadata(&full)?.len();
    if size > MAX_DEFINITIONS_FILE_BYTES {
        return Err(PackageError::in_file(
            path,
            format!("the file is larger than {MAX_DEFINITIONS_FILE_BYTES} bytes"),
        ));
    }
    let text =
        fs::read_to_string(&full).map_err(|_| PackageError::in_file(path, "the file is not UTF-8 text"))?;
    crate::yaml::check_nesting(&text, path)?;
    let doc: Value = serde_yaml_ng::from_str(&text)
        .map_err(|e| PackageError::in_file(path, format!("invalid YAML: {e}")))?;
    if !doc.is_object() {
        return Err(PackageError::in_file(path, "the file is not a YAML mapping"));
    }
    Ok(doc)
}

fn check_tosca_version(doc: &Value, path: &str) -> Result<()> {
    match doc.get("tosca_definitions_version").and_then(Value::as_str) {
        Some(v) if v.starts_with("tosca_simple_yaml_1_") => Ok(()),
        Some(v) => Err(PackageError::in_file(
            path,
            format!("tosca_definitions_version '{v}' is not supported (tosca_simple_yaml_1_x)"),
        )),
        None => Err(PackageError::in_file(
            path,
            "tosca_definitions_version is missing",
        )),
    }
}

/// The import targets a file names, as written.
fn imports(doc: &Value, path: &str) -> Result<Vec<String>> {
    let Some(list) = doc.get("imports") else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(PackageError::in_file(path, "imports must be a list"));
    };
    list.iter()
        .map(|item| match item {
            Value::String(file) => Ok(file.clone()),
            // TOSCA 1.2+: `- file: x.yaml` or the older `- name: {file: x.yaml}`.
            Value::Object(map) => map
                .get("file")
                .or_else(|| map.values().find_map(|v| v.get("file")))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| PackageError::in_file(path, "an import has no file")),
            _ => Err(PackageError::in_file(path, "an import must be a file name")),
        })
        .collect()
}

/// The package path an import refers to; `None` for ETSI's published SOL001 type files,
/// whose types are built into every TOSCA processor.
fn resolve_import(importer: &str, import: &str) -> Result<Option<String>> {
    if import.starts_with("http://") || import.starts_with("https://") {
        let file = import.rsplit('/').next().unwrap_or_default();
        if file.starts_with("etsi_nfv_sol001_") {
            return Ok(None);
        }
        return Err(PackageError::in_file(
            importer,
            format!("imports '{import}' from outside the package; bundle it in the package"),
        ));
    }
    let base = importer.rsplit_once('/').map_or("", |(dir, _)| dir);
    let joined = if import.starts_with('/') {
        import.trim_start_matches('/').to_owned()
    } else {
        format!("{base}/{import}")
    };
    normalize(&joined).map(Some).ok_or_else(|| {
        PackageError::in_file(
            importer,
            format!("imports '{import}', which is outside the package"),
        )
    })
}

/// Resolves `.` and `..` in a package path; `None` if it climbs out of the package.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_resolve_relative_to_the_importer() {
        assert_eq!(
            resolve_import("Definitions/top.yaml", "types.yaml").unwrap(),
            Some("Definitions/types.yaml".into())
        );
        assert_eq!(
            resolve_import("Definitions/top.yaml", "../Common/types.yaml").unwrap(),
            Some("Common/types.yaml".into())
        );
        assert!(resolve_import("Definitions/top.yaml", "../../etc/passwd").is_err());
        assert_eq!(
            resolve_import(
                "top.yaml",
                "https://forge.etsi.org/x/etsi_nfv_sol001_common_types.yaml"
            )
            .unwrap(),
            None
        );
        assert!(resolve_import("top.yaml", "https://example.com/types.yaml").is_err());
    }
}
