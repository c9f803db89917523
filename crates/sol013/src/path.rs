//! Attribute paths of filter terms: `attrName` components joined by `/`.
//!
//! SOL013 v3 escapes the characters with a meaning in filters inside a name with a tilde
//! (`~0` = `~`, `~1` = `/`, `~a` = `,`, `~b` = `@`) and gives the component `@key` the meaning
//! "the keys of this map"; Tacker's v2 API implements both, and a plain v2.6.1 name never
//! contains a tilde, so accepting them costs the older clients nothing.

use std::fmt;

use crate::error::FilterProblem;
use crate::MAX_PATH_DEPTH;

/// One component of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An attribute name (unescaped).
    Name(String),
    /// `@key`: the keys of the map reached so far (only allowed last).
    Key,
}

/// A parsed attribute path such as `softwareImages/minDisk` or `metadata/@key`.
///
/// Its Display is the canonical escaped form, which for ordinary SOL attribute names is the
/// name itself, so `path.to_string()` can be compared with a resource's attribute list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    segments: Vec<Segment>,
}

impl AttrPath {
    /// The components, outermost first; never empty.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Parses the escaped form; the caller has already cut out the text between the commas.
    pub(crate) fn parse_escaped(raw: &str) -> Result<AttrPath, FilterProblem> {
        let mut segments = Vec::new();
        for part in raw.split('/') {
            if segments.len() == MAX_PATH_DEPTH {
                return Err(FilterProblem::PathTooDeep);
            }
            if segments.last() == Some(&Segment::Key) {
                return Err(FilterProblem::KeyNotLast);
            }
            segments.push(match part {
                "" => return Err(FilterProblem::EmptyAttributeComponent),
                "@key" => Segment::Key,
                name => Segment::Name(unescape(name)?),
            });
        }
        Ok(AttrPath { segments })
    }

    #[cfg(test)]
    pub(crate) fn from_segments(segments: Vec<Segment>) -> AttrPath {
        AttrPath { segments }
    }
}

fn unescape(name: &str) -> Result<String, FilterProblem> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('0') => '~',
            Some('1') => '/',
            Some('a') => ',',
            Some('b') => '@',
            Some(other) => return Err(FilterProblem::InvalidEscape(format!("~{other}"))),
            None => return Err(FilterProblem::InvalidEscape("~".to_owned())),
        });
    }
    Ok(out)
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            match segment {
                Segment::Key => f.write_str("@key")?,
                Segment::Name(name) => {
                    for c in name.chars() {
                        match c {
                            '~' => f.write_str("~0")?,
                            '/' => f.write_str("~1")?,
                            ',' => f.write_str("~a")?,
                            '@' => f.write_str("~b")?,
                            c => write!(f, "{c}")?,
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Segment {
        Segment::Name(s.to_owned())
    }

    #[test]
    fn plain_path_splits_on_slash() {
        let path = AttrPath::parse_escaped("softwareImages/minDisk").unwrap();
        assert_eq!(path.segments(), &[name("softwareImages"), name("minDisk")]);
        assert_eq!(path.to_string(), "softwareImages/minDisk");
    }

    #[test]
    fn tilde_escapes_decode_and_render_back() {
        let path = AttrPath::parse_escaped("~01/c~1~a/~be").unwrap();
        assert_eq!(path.segments(), &[name("~1"), name("c/,"), name("@e")]);
        assert_eq!(path.to_string(), "~01/c~1~a/~be");
    }

    #[test]
    fn at_key_is_special_only_as_a_whole_component() {
        let path = AttrPath::parse_escaped("metadata/@key").unwrap();
        assert_eq!(path.segments(), &[name("metadata"), Segment::Key]);
        let literal = AttrPath::parse_escaped("metadata/~bkey").unwrap();
        assert_eq!(literal.segments(), &[name("metadata"), name("@key")]);
        assert_eq!(literal.to_string(), "metadata/~bkey");
    }

    #[test]
    fn bad_paths_are_rejected() {
        assert_eq!(
            AttrPath::parse_escaped("a//b"),
            Err(FilterProblem::EmptyAttributeComponent)
        );
        assert_eq!(
            AttrPath::parse_escaped("a/"),
            Err(FilterProblem::EmptyAttributeComponent)
        );
        assert_eq!(
            AttrPath::parse_escaped("a/@key/b"),
            Err(FilterProblem::KeyNotLast)
        );
        assert_eq!(
            AttrPath::parse_escaped("a~2"),
            Err(FilterProblem::InvalidEscape("~2".into()))
        );
        assert_eq!(
            AttrPath::parse_escaped("a~"),
            Err(FilterProblem::InvalidEscape("~".into()))
        );
        let deepest = vec!["x"; MAX_PATH_DEPTH].join("/");
        assert!(AttrPath::parse_escaped(&deepest).is_ok());
        assert_eq!(
            AttrPath::parse_escaped(&format!("{deepest}/x")),
            Err(FilterProblem::PathTooDeep)
        );
    }
}
