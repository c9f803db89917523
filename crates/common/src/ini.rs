//! oslo.config-style INI files: several files merged in order (later wins), `$option`
//! interpolation, and bookkeeping of which options were read so the rest can be reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ini::{Ini, ParseOption};

use crate::config::{ConfigError, ParseError};

/// The merged content of one or more INI files.
#[derive(Debug, Default)]
pub struct IniFiles {
    /// section -> option -> raw value; the section `DEFAULT` is oslo's default section.
    values: BTreeMap<String, BTreeMap<String, String>>,
    /// The files read, in order.
    files: Vec<PathBuf>,
    /// Options looked up so far, so unknown ones can be reported afterwards.
    consumed: Mutex<BTreeSet<(String, String)>>,
}

/// How oslo.config and Paste read INI text: `=` or `:` delimiters, indented continuation
/// lines, no quoting, no escapes and no inline comments (a `#` inside a value is data).
fn parse_options() -> ParseOption {
    ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        enabled_indented_mutiline_value: true,
        enabled_preserve_key_leading_whitespace: false,
    }
}

impl IniFiles {
    /// Reads the files in order; a value in a later file replaces the same option of an earlier one.
    pub fn load(paths: &[PathBuf]) -> Result<Self, ConfigError> {
        let mut merged = IniFiles::default();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            merged.merge_str(&text, path)?;
            merged.files.push(path.clone());
        }
        Ok(merged)
    }

    /// Parses INI text, for tests and for files that are not on disk.
    pub fn parse_str(text: &str) -> Result<Self, ConfigError> {
        let mut merged = IniFiles::default();
        merged.merge_str(text, Path::new("<string>"))?;
        Ok(merged)
    }

    fn merge_str(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let parsed = Ini::load_from_str_opt(text, parse_options()).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            reason: e.into(),
        })?;
        for (section, props) in parsed.iter() {
            let Some(section) = section else {
                if !props.is_empty() {
                    return Err(ConfigError::Parse {
                        path: path.to_path_buf(),
                        reason: ParseError::OptionBeforeSection,
                    });
                }
                continue;
            };
            let entry = self.values.entry(section.to_string()).or_default();
            for (key, value) in props.iter() {
                entry.insert(key.trim().to_string(), value.trim().to_string());
            }
        }
        Ok(())
    }

    /// The files that were read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The section names, as written.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Every option of a section in file order of keys (sorted), without interpolation.
    pub fn section(&self, section: &str) -> Option<&BTreeMap<String, String>> {
        self.values.get(section)
    }

    /// An option's value with `$name` / `${name}` references resolved against the same
    /// section and then `[DEFAULT]`, as oslo.config does. Marks the option as read.
    pub fn get(&self, section: &str, option: &str) -> Result<Option<String>, ConfigError> {
        self.mark(section, option);
        let raw = self
            .values
            .get(section)
            .and_then(|s| s.get(option))
            .or_else(|| self.values.get("DEFAULT").and_then(|s| s.get(option)));
        match raw {
            Some(raw) => self.interpolate(section, option, raw, 0).map(Some),
            None => Ok(None),
        }
    }

    fn mark(&self, section: &str, option: &str) {
        if let Ok(mut consumed) = self.consumed.lock() {
            consumed.insert((section.to_string(), option.to_string()));
        }
    }

    fn interpolate(&self, section: &str, option: &str, raw: &str, depth: u8) -> Result<String, ConfigError> {
        if !raw.contains('$') {
            return Ok(raw.to_string());
        }
        if depth > 8 {
            return Err(ConfigError::invalid(
                section,
                option,
                raw,
                "interpolation is too deeply nested",
            ));
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            rest = &rest[pos + 1..];
            if let Some(tail) = rest.strip_prefix('$') {
                out.push('$');
                rest = tail;
                continue;
            }
            let (name, tail) = if let Some(braced) = rest.strip_prefix('{') {
                let end = braced.find('}').ok_or_else(|| {
                    ConfigError::invalid(section, option, raw, "unterminated ${...} reference")
                })?;
                (&braced[..end], &braced[end + 1..])
            } else {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            };
            if name.is_empty() {
                out.push('$');
                continue;
            }
            let referenced = self
                .values
                .get(section)
                .and_then(|s| s.get(name))
                .or_else(|| self.values.get("DEFAULT").and_then(|s| s.get(name)))
                .ok_or_else(|| {
                    ConfigError::invalid(
                        section,
                        option,
                        raw,
                        &format!("references unknown option '{name}'"),
                    )
                })?;
            out.push_str(&self.interpolate(section, name, referenced, depth + 1)?);
            rest = tail;
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Options present in the files that nothing has read, as `[section] option`.
    pub fn unread(&self) -> Vec<String> {
        let consumed = self.consumed.lock().map(|c| c.clone()).unwrap_or_default();
        let mut unread = Vec::new();
        for (section, props) in &self.values {
            for key in props.keys() {
                let read_here = consumed.contains(&(section.clone(), key.clone()));
                // A [DEFAULT] value read through another section's lookup counts as read.
                let read_anywhere = section == "DEFAULT" && consumed.iter().any(|(_, k)| k == key);
                if !read_here && !read_anywhere {
                    unread.push(format!("[{section}] {key}"));
                }
            }
        }
        unread
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_values_win_and_interpolation_follows_default() {
        let mut files =
            IniFiles::parse_str("[DEFAULT]\nstate_path = /var/lib/tacker\nbind_port = 1\n").unwrap();
        files
            .merge_str(
                "[DEFAULT]\nbind_port = 2\n[vim_keys]\nopenstack = $state_path/keys\n",
                Path::new("b"),
            )
            .unwrap();
        assert_eq!(files.get("DEFAULT", "bind_port").unwrap().as_deref(), Some("2"));
        assert_eq!(
            files.get("vim_keys", "openstack").unwrap().as_deref(),
            Some("/var/lib/tacker/keys")
        );
        assert_eq!(files.get("vim_keys", "missing").unwrap(), None);
    }

    #[test]
    fn hash_inside_value_is_data_and_colon_delimits() {
        let files =
            IniFiles::parse_str("[database]\nconnection = mysql://u:p#w@h/db\n[x]\n/v1.0: app\n").unwrap();
        assert_eq!(
            files.get("database", "connection").unwrap().as_deref(),
            Some("mysql://u:p#w@h/db")
        );
        assert_eq!(files.get("x", "/v1.0").unwrap().as_deref(), Some("app"));
    }

    #[test]
    fn unread_lists_only_options_nobody_asked_for() {
        let files = IniFiles::parse_str("[DEFAULT]\na = 1\nb = 2\n[s]\nc = 3\n").unwrap();
        files.get("DEFAULT", "a").unwrap();
        assert_eq!(
            files.unread(),
            vec!["[DEFAULT] b".to_string(), "[s] c".to_string()]
        );
    }

    #[test]
    fn unknown_reference_names_the_option() {
        let files = IniFiles::parse_str("[DEFAULT]\na = $nope/x\n").unwrap();
        let err = files.get("DEFAULT", "a").unwrap_err().to_string();
        assert!(err.contains("[DEFAULT] a"), "{err}");
        assert!(err.contains("nope"), "{err}");
    }
}
