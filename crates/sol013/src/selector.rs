//! SOL013 clause 5.3 attribute selectors: which complex attributes a list response carries.
//!
//! Allowed combinations (anything else is a 400, as in Tacker):
//!
//! | parameters                    | response                                                  |
//! |-------------------------------|-----------------------------------------------------------|
//! | none, or `exclude_default`    | everything but the resource's default-excluded attributes |
//! | `all_fields`                  | everything                                                |
//! | `fields` (± `exclude_default`)| as `exclude_default`, plus the listed attributes          |
//! | `exclude_fields`              | everything but the listed attributes                      |
//!
//! `all_fields` and `exclude_default` are flags: their presence counts, not their value.
//! A listed path may go below a top-level attribute (`softwareImages/name`); arrays on the
//! way are entered element by element, as Tacker's VNF package view does.

use serde_json::Value;

use crate::{QueryError, MANDATORY_ATTRIBUTES, MAX_PATH_DEPTH, MAX_SELECTOR_PATHS};

/// A validated attribute selector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FieldSelection {
    /// No selector, or `exclude_default`: the default-excluded attributes are removed.
    #[default]
    ExcludeDefault,
    /// `all_fields`: nothing is removed.
    AllFields,
    /// `fields=<list>`, with or without `exclude_default` (the same thing here, as in Tacker:
    /// only the default-excluded set is known to be optional). Default-excluded attributes
    /// are removed unless a listed path leads into or through them, and a listed nested path
    /// narrows its top-level attribute to the listed parts.
    Fields(Vec<String>),
    /// `exclude_fields=<list>`: exactly the listed attributes are removed.
    ExcludeFields(Vec<String>),
}

impl FieldSelection {
    /// Validates the selector parameters of a list request (flags as presence, lists as given).
    pub fn from_params(
        all_fields: bool,
        fields: Option<&str>,
        exclude_fields: Option<&str>,
        exclude_default: bool,
    ) -> Result<FieldSelection, QueryError> {
        let clash = |first, second| QueryError::SelectorCombination { first, second };
        if all_fields {
            return match (fields, exclude_fields, exclude_default) {
                (Some(_), _, _) => Err(clash("all_fields", "fields")),
                (_, Some(_), _) => Err(clash("all_fields", "exclude_fields")),
                (_, _, true) => Err(clash("all_fields", "exclude_default")),
                (None, None, false) => Ok(FieldSelection::AllFields),
            };
        }
        match (fields, exclude_fields) {
            (Some(_), Some(_)) => Err(clash("fields", "exclude_fields")),
            (Some(list), None) => Ok(FieldSelection::Fields(parse_list("fields", list)?)),
            (None, Some(_)) if exclude_default => Err(clash("exclude_fields", "exclude_default")),
            (None, Some(list)) => Ok(FieldSelection::ExcludeFields(parse_list("exclude_fields", list)?)),
            (None, None) => Ok(FieldSelection::ExcludeDefault),
        }
    }

    /// Rejects a listed path `selectable` does not accept, so the API can answer 400 for
    /// attributes the resource lacks or SOL013 does not let selectors touch.
    pub fn check_paths(&self, selectable: impl Fn(&str) -> bool) -> Result<(), QueryError> {
        let (param, list) = match self {
            FieldSelection::Fields(list) => ("fields", list),
            FieldSelection::ExcludeFields(list) => ("exclude_fields", list),
            FieldSelection::ExcludeDefault | FieldSelection::AllFields => return Ok(()),
        };
        match list.iter().find(|path| !selectable(path)) {
            Some(path) => Err(QueryError::InvalidSelector {
                param,
                value: crate::echo(path),
                reason: "not a selectable attribute of this resource",
            }),
            None => Ok(()),
        }
    }

    /// Trims one rendered resource in place. `default_excluded` is the resource's default
    /// exclude set (paths may contain `/`). [`MANDATORY_ATTRIBUTES`] are never touched.
    pub fn apply(&self, doc: &mut Value, default_excluded: &[&str]) {
        match self {
            FieldSelection::AllFields => {}
            FieldSelection::ExcludeDefault => {
                for path in default_excluded {
                    remove(doc, &split(path));
                }
            }
            FieldSelection::ExcludeFields(list) => {
                for path in list {
                    remove(doc, &split(path));
                }
            }
            FieldSelection::Fields(list) => {
                let listed: Vec<Vec<&str>> = list.iter().map(|path| split(path)).collect();
                for path in default_excluded {
                    let excluded = split(path);
                    let wanted = listed
                        .iter()
                        .any(|l| l.starts_with(&excluded) || excluded.starts_with(l));
                    if !wanted {
                        remove(doc, &excluded);
                    }
                }
                narrow_top_level(doc, &listed);
            }
        }
    }
}

fn split(path: &str) -> Vec<&str> {
    path.split('/').collect()
}

fn parse_list(param: &'static str, list: &str) -> Result<Vec<String>, QueryError> {
    let invalid = |value: &str, reason| QueryError::InvalidSelector {
        param,
        value: crate::echo(value),
        reason,
    };
    let mut paths = Vec::new();
    for path in list.split(',') {
        if paths.len() == MAX_SELECTOR_PATHS {
            return Err(invalid(list, "too many attribute names"));
        }
        if path.is_empty() {
            return Err(invalid(path, "empty attribute name"));
        }
        if path.split('/').any(str::is_empty) {
            return Err(invalid(path, "empty component between '/' separators"));
        }
        if path.split('/').count() > MAX_PATH_DEPTH {
            return Err(invalid(path, "attribute name nested too deeply"));
        }
        paths.push(path.to_owned());
    }
    Ok(paths)
}

/// Removes the attribute at `path` (entering arrays element-wise); absent parts are fine.
fn remove(doc: &mut Value, path: &[&str]) {
    if path.first().is_some_and(|top| MANDATORY_ATTRIBUTES.contains(top)) {
        return;
    }
    remove_below(doc, path);
}

fn remove_below(value: &mut Value, path: &[&str]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| remove_below(item, path)),
        Value::Object(map) => match path {
            [] => {}
            // `retain` keeps the order of the remaining keys whatever serde_json's features.
            [last] => map.retain(|key, _| key != last),
            [first, rest @ ..] => {
                if let Some(child) = map.get_mut(*first) {
                    remove_below(child, rest);
                }
            }
        },
        _ => {}
    }
}

/// For `fields`: a top-level attribute named only through nested paths (`a/b`, `a/c/d`)
/// keeps just those parts; one also listed whole (`a`) is kept whole.
fn narrow_top_level(doc: &mut Value, listed: &[Vec<&str>]) {
    let Value::Object(map) = doc else { return };
    for (key, child) in map.iter_mut() {
        if MANDATORY_ATTRIBUTES.contains(&key.as_str()) {
            continue;
        }
        let below: Vec<&[&str]> = listed
            .iter()
            .filter_map(|path| match path.split_first() {
                Some((top, rest)) if top == key => Some(rest),
                _ => None,
            })
            .collect();
        if !below.is_empty() {
            keep_only(child, &below);
        }
    }
}

/// Keeps only the listed sub-paths of `value`; an empty sub-path means "all of it".
/// Scalars stay as they are: there is nothing below them to choose from.
fn keep_only(value: &mut Value, paths: &[&[&str]]) {
    if paths.iter().any(|path| path.is_empty()) {
        return;
    }
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| keep_only(item, paths)),
        Value::Object(map) => {
            map.retain(|key, _| paths.iter().any(|path| path.first() == Some(&key.as_str())));
            for (key, child) in map.iter_mut() {
                let below: Vec<&[&str]> = paths
                    .iter()
                    .filter_map(|path| match path.split_first() {
                        Some((first, rest)) if first == key => Some(rest),
                        _ => None,
                    })
                    .collect();
                keep_only(child, &below);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::FieldSelection;
    use crate::{QueryError, MAX_PATH_DEPTH, MAX_SELECTOR_PATHS};

    /// The VNF package default exclude set (SOL005), one nested entry to exercise paths.
    const DEFAULT_EXCLUDED: &[&str] = &[
        "softwareImages",
        "additionalArtifacts",
        "userDefinedData",
        "checksum/hash",
    ];

    fn package() -> Value {
        json!({
            "id": "pkg-1",
            "onboardingState": "ONBOARDED",
            "checksum": {"algorithm": "sha-256", "hash": "abc"},
            "softwareImages": [
                {"id": "i1", "name": "cirros", "checksum": {"algorithm": "sha-256", "hash": "h1"}},
                {"id": "i2", "name": "ubuntu", "checksum": {"algorithm": "sha-512", "hash": "h2"}}
            ],
            "additionalArtifacts": [{"artifactPath": "a.sh"}],
            "userDefinedData": {"k1": "v1", "k2": "v2"},
            "_links": {"self": {"href": "/p"}, "packageContent": {"href": "/p/c"}}
        })
    }

    fn selected(selection: &FieldSelection) -> Value {
        let mut doc = package();
        selection.apply(&mut doc, DEFAULT_EXCLUDED);
        doc
    }

    fn keys(doc: &Value) -> Vec<&str> {
        doc.as_object()
            .map(|map| map.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn from(
        all: bool,
        fields: Option<&str>,
        exclude: Option<&str>,
        default: bool,
    ) -> Result<FieldSelection, QueryError> {
        FieldSelection::from_params(all, fields, exclude, default)
    }

    #[test]
    fn every_combination_of_parameters() {
        let clash = |first, second| Err(QueryError::SelectorCombination { first, second });
        let fields = || Ok(FieldSelection::Fields(vec!["f".into()]));
        let cases = [
            ((false, None, None, false), Ok(FieldSelection::ExcludeDefault)),
            ((false, None, None, true), Ok(FieldSelection::ExcludeDefault)),
            ((true, None, None, false), Ok(FieldSelection::AllFields)),
            ((true, None, None, true), clash("all_fields", "exclude_default")),
            ((true, Some("f"), None, false), clash("all_fields", "fields")),
            (
                (true, None, Some("e"), false),
                clash("all_fields", "exclude_fields"),
            ),
            ((true, Some("f"), Some("e"), true), clash("all_fields", "fields")),
            ((false, Some("f"), None, false), fields()),
            ((false, Some("f"), None, true), fields()),
            (
                (false, Some("f"), Some("e"), false),
                clash("fields", "exclude_fields"),
            ),
            (
                (false, Some("f"), Some("e"), true),
                clash("fields", "exclude_fields"),
            ),
            (
                (false, None, Some("e"), false),
                Ok(FieldSelection::ExcludeFields(vec!["e".into()])),
            ),
            (
                (false, None, Some("e"), true),
                clash("exclude_fields", "exclude_default"),
            ),
        ];
        for ((all, f, e, d), want) in cases {
            assert_eq!(from(all, f, e, d), want, "{all} {f:?} {e:?} {d}");
        }
    }

    #[test]
    fn combination_error_message() {
        let err = from(true, Some("a"), None, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid query parameter combination: 'all_fields' cannot be combined with 'fields'"
        );
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(
            from(false, Some("softwareImages/name,userDefinedData"), None, false),
            Ok(FieldSelection::Fields(vec![
                "softwareImages/name".into(),
                "userDefinedData".into()
            ]))
        );
    }

    #[test]
    fn malformed_lists_are_rejected() {
        let reason = |fields: &str| match from(false, None, Some(fields), false) {
            Err(QueryError::InvalidSelector { param, reason, .. }) => {
                assert_eq!(param, "exclude_fields");
                reason
            }
            other => panic!("{fields:?} accepted: {other:?}"),
        };
        assert_eq!(reason(""), "empty attribute name");
        assert_eq!(reason("a,,b"), "empty attribute name");
        assert_eq!(reason("a,"), "empty attribute name");
        assert_eq!(reason("a//b"), "empty component between '/' separators");
        assert_eq!(reason("/a"), "empty component between '/' separators");
        assert_eq!(reason("a/"), "empty component between '/' separators");
        let deep = vec!["a"; MAX_PATH_DEPTH + 1].join("/");
        assert_eq!(reason(&deep), "attribute name nested too deeply");
        let many = vec!["a"; MAX_SELECTOR_PATHS + 1].join(",");
        assert_eq!(reason(&many), "too many attribute names");
        assert!(from(false, None, Some(&vec!["a"; MAX_SELECTOR_PATHS].join(",")), false).is_ok());

        let err = from(false, Some("a//b"), None, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid query parameter 'fields'. Value: 'a//b': empty component between '/' separators"
        );
    }

    #[test]
    fn default_excludes_the_default_set() {
        let doc = selected(&FieldSelection::ExcludeDefault);
        assert_eq!(keys(&doc), ["id", "onboardingState", "checksum", "_links"]);
        assert_eq!(doc["checksum"], json!({"algorithm": "sha-256"}));
    }

    #[test]
    fn all_fields_keeps_everything() {
        assert_eq!(selected(&FieldSelection::AllFields), package());
    }

    #[test]
    fn exclude_fields_removes_only_the_listed_attributes() {
        let selection = from(
            false,
            None,
            Some("userDefinedData,softwareImages/checksum"),
            false,
        )
        .unwrap();
        let doc = selected(&selection);
        assert_eq!(
            keys(&doc),
            [
                "id",
                "onboardingState",
                "checksum",
                "softwareImages",
                "additionalArtifacts",
                "_links"
            ]
        );
        assert_eq!(
            doc["softwareImages"],
            json!([{"id": "i1", "name": "cirros"}, {"id": "i2", "name": "ubuntu"}])
        );
        assert_eq!(doc["checksum"]["hash"], "abc");
    }

    #[test]
    fn fields_adds_listed_default_excluded_attributes() {
        let doc = selected(&from(false, Some("userDefinedData"), None, false).unwrap());
        assert_eq!(
            keys(&doc),
            ["id", "onboardingState", "checksum", "userDefinedData", "_links"]
        );
        assert_eq!(doc["userDefinedData"], package()["userDefinedData"]);
        // The same with exclude_default.
        assert_eq!(
            selected(&from(false, Some("userDefinedData"), None, true).unwrap()),
            doc
        );
    }

    #[test]
    fn fields_with_nested_paths_narrow_through_arrays() {
        let selection = from(
            false,
            Some("softwareImages/name,softwareImages/checksum/hash"),
            None,
            false,
        )
        .unwrap();
        let doc = selected(&selection);
        assert_eq!(
            doc["softwareImages"],
            json!([
                {"name": "cirros", "checksum": {"hash": "h1"}},
                {"name": "ubuntu", "checksum": {"hash": "h2"}}
            ])
        );
        assert!(doc.get("additionalArtifacts").is_none());
    }

    #[test]
    fn fields_whole_and_nested_keeps_the_whole() {
        let selection = from(false, Some("softwareImages/name,softwareImages"), None, false).unwrap();
        assert_eq!(
            selected(&selection)["softwareImages"],
            package()["softwareImages"]
        );
    }

    #[test]
    fn fields_naming_a_parent_keeps_a_default_excluded_child() {
        let doc = selected(&from(false, Some("checksum"), None, false).unwrap());
        assert_eq!(doc["checksum"], json!({"algorithm": "sha-256", "hash": "abc"}));
        let doc = selected(&from(false, Some("checksum/hash"), None, false).unwrap());
        assert_eq!(doc["checksum"], json!({"hash": "abc"}));
    }

    #[test]
    fn fields_on_keys_of_a_map_and_missing_parts() {
        let selection = from(false, Some("userDefinedData/k2,userDefinedData/k9"), None, false).unwrap();
        assert_eq!(selected(&selection)["userDefinedData"], json!({"k2": "v2"}));
    }

    #[test]
    fn mandatory_attributes_are_never_touched() {
        let exclude = from(false, None, Some("id,_links,_links/self"), false).unwrap();
        let doc = selected(&exclude);
        assert_eq!(doc["id"], "pkg-1");
        assert_eq!(doc["_links"], package()["_links"]);

        let fields = from(false, Some("_links/self,id/x"), None, false).unwrap();
        let doc = selected(&fields);
        assert_eq!(doc["_links"], package()["_links"]);
        assert_eq!(doc["id"], "pkg-1");
    }

    #[test]
    fn nested_path_below_a_scalar_keeps_the_scalar() {
        let doc = selected(&from(false, Some("onboardingState/x"), None, false).unwrap());
        assert_eq!(doc["onboardingState"], "ONBOARDED");
    }

    #[test]
    fn key_order_is_preserved() {
        let mut doc = json!({"z": 1, "a": 2, "m": 3, "b": 4});
        FieldSelection::ExcludeDefault.apply(&mut doc, &["a"]);
        assert_eq!(keys(&doc), ["z", "m", "b"]);
    }

    #[test]
    fn check_paths_rejects_unselectable_attributes() {
        let selectable = |path: &str| DEFAULT_EXCLUDED.contains(&path) || path.starts_with("softwareImages/");
        let ok = from(false, Some("softwareImages/name,userDefinedData"), None, false).unwrap();
        assert_eq!(ok.check_paths(selectable), Ok(()));
        let bad = from(false, None, Some("userDefinedData,id"), false).unwrap();
        let err = bad.check_paths(selectable).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid query parameter 'exclude_fields'. Value: 'id': \
             not a selectable attribute of this resource"
        );
        assert_eq!(FieldSelection::AllFields.check_paths(|_| false), Ok(()));
    }
}
