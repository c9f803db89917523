//! Where each file lives in the store. Keys are built part by part, so a name object_store
//! must escape (`#`, `%`, `~`, ...) is escaped, never read as a separator.

use object_store::path::{Path as Key, PathPart};
use percent_encoding::percent_decode_str;
use uuid::Uuid;

/// The package as uploaded.
pub fn content(id: &str) -> Key {
    Key::from(format!("{id}.zip").as_str())
}

/// The folder of the package's unpacked files.
pub fn unpacked(id: &str) -> Key {
    Key::from(id)
}

/// One unpacked file; `path` is relative, with `/`.
pub fn unpacked_file(id: &str, path: &str) -> Key {
    Key::from_iter(std::iter::once(id).chain(path.split('/')))
}

pub fn staging_prefix() -> Key {
    Key::from(".staging")
}

/// A fresh name for an upload of `id` still arriving.
pub fn staging(id: &str) -> Key {
    staging_prefix().child(format!("{id}.{}.zip", Uuid::new_v4().simple()).as_str())
}

/// The path of `key` below `prefix` as file names, or `None` if a part could not be one
/// (`.`, `..` or a separator once unescaped: a store that holds such a key was written by
/// something else, and its files must not land outside the folder).
pub fn relative_names(prefix: &Key, key: &Key) -> Option<Vec<String>> {
    let parts: Vec<PathPart<'_>> = key.prefix_match(prefix)?.collect();
    if parts.is_empty() {
        return None;
    }
    parts
        .iter()
        .map(|part| {
            let name = percent_decode_str(part.as_ref()).decode_utf8().ok()?.into_owned();
            let usable = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
            usable.then_some(name)
        })
        .collect()
}

/// Whether `key` below `prefix` is stored under exactly its own names (nothing escaped).
pub fn is_plain(prefix: &Key, key: &Key) -> bool {
    key.prefix_match(prefix)
        .is_some_and(|mut parts| parts.all(|p| !p.as_ref().contains('%')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_keep_their_folders_and_odd_names_are_escaped_and_read_back() {
        let id = "8f5e6a3c-0000-4000-8000-000000000001";
        let key = unpacked_file(id, "Files/kubernetes/deploy.yaml");
        assert_eq!(key.as_ref(), format!("{id}/Files/kubernetes/deploy.yaml"));
        assert!(is_plain(&unpacked(id), &key));
        assert_eq!(
            relative_names(&unpacked(id), &key).unwrap(),
            ["Files", "kubernetes", "deploy.yaml"]
        );
        let odd = unpacked_file(id, "Files/a#b~c.yaml");
        assert!(!is_plain(&unpacked(id), &odd));
        assert_eq!(
            relative_names(&unpacked(id), &odd).unwrap(),
            ["Files", "a#b~c.yaml"]
        );
    }

    #[test]
    fn names_that_would_leave_the_folder_are_refused() {
        let id = "p";
        for raw in ["p/%2E%2E/x", "p/a%2Fb"] {
            let key = Key::parse(raw).unwrap();
            assert_eq!(relative_names(&unpacked(id), &key), None, "{raw}");
        }
    }
}
