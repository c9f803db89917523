//! Kubernetes manifest files carried in a package (`Files/kubernetes/*.yaml`).

use serde::Deserialize;
use serde_json::Value;

use crate::error::{PackageError, Result};

/// The Kubernetes objects in a (multi-document) YAML file. Each must name its apiVersion,
/// kind and metadata.name; empty documents are skipped.
pub fn parse_manifests(text: &str, path: &str) -> Result<Vec<Value>> {
    crate::yaml::check_nesting(text, path)?;
    let mut objects = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let object = Value::deserialize(document).map_err(|e| {
            PackageError::in_file(path, format!("document {} is not valid YAML: {e}", index + 1))
        })?;
        if object.is_null() {
            continue;
        }
        let missing = ["apiVersion", "kind"]
            .into_iter()
            .find(|key| object.get(key).and_then(Value::as_str).is_none_or(str::is_empty))
            .or_else(|| {
                let name = object.pointer("/metadata/name").and_then(Value::as_str);
                name.is_none_or(str::is_empty).then_some("metadata.name")
            });
        if let Some(key) = missing {
            return Err(PackageError::in_file(
                path,
                format!(
                    "document {} is not a Kubernetes object: {key} is missing",
                    index + 1
                ),
            ));
        }
        objects.push(object);
    }
    if objects.is_empty() {
        return Err(PackageError::in_file(path, "the file holds no Kubernetes object"));
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_document_and_names_the_broken_one() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n";
        let objects = parse_manifests(text, "Files/kubernetes/x.yaml").unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[1]["kind"], "Service");

        let err = parse_manifests("apiVersion: v1\nkind: Pod\n", "Files/kubernetes/p.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Files/kubernetes/p.yaml: document 1 is not a Kubernetes object: metadata.name is missing"
        );
    }
}
