//! The guard every YAML file of a package passes before it is parsed: a linear pre-scan
//! that refuses excessive nesting.
//!
//! libyaml (under serde_yaml_ng) spends time proportional to the flow nesting depth on
//! every token, so a 300-byte file of 100,000 `[` costs half a minute of CPU before the
//! deserializer's own recursion limit refuses it. The scan below follows libyaml's scanner
//! (unsafe-libyaml 0.2.11, `scanner.rs`) closely enough to know, at every token, how many
//! block collections (its indentation stack) and flow collections (`[`, `{`) are open,
//! without building tokens: comments, quoted, plain and block scalars are skipped exactly as
//! libyaml skips them, so brackets inside them do not count and text libyaml reads as
//! structure is never mistaken for a scalar. Where libyaml would stop with an error the scan
//! stops too (the parser reports the error); it never reads less structure than libyaml does
//! before that point. Cost: one pass, constant work per character.

use crate::error::{PackageError, Result};

/// Most collections (block and flow) open at once. serde_yaml_ng refuses more than 128
/// levels anyway; real descriptors and manifests stay far below.
pub const MAX_YAML_DEPTH: usize = 128;

/// Refuses `text`, the package's file `path`, if its YAML nests deeper than
/// [`MAX_YAML_DEPTH`]. Call before every parse of YAML that comes from a package.
pub fn check_nesting(text: &str, path: &str) -> Result<()> {
    match Scanner::new(text, MAX_YAML_DEPTH).run() {
        Err(Halt::TooDeep { line }) => Err(PackageError::in_file(
            path,
            format!(
                "the YAML nesting is too deep: more than {MAX_YAML_DEPTH} levels at line {}",
                line + 1
            ),
        )),
        Ok(()) | Err(Halt::Invalid) => Ok(()),
    }
}

/// Why a scan ended before the end of the text.
#[derive(Debug, PartialEq, Eq)]
enum Halt {
    /// More collections are open than allowed (`line` counts from 0).
    TooDeep { line: usize },
    /// libyaml stops with an error here; the parser will report it.
    Invalid,
}

type Step = std::result::Result<(), Halt>;

/// Where a possible simple key (a block mapping key not yet confirmed by its `:`) starts.
#[derive(Debug, Clone, Copy)]
struct Mark {
    index: usize,
    line: usize,
    column: usize,
}

/// libyaml's scanner state, as far as it decides nesting. Simple keys matter only at flow
/// level 0, where a confirmed key opens a block mapping at its column.
struct Scanner<'a> {
    text: &'a [u8],
    /// Byte offset, as libyaml's `mark.index`.
    index: usize,
    line: usize,
    /// In characters, as libyaml's `mark.column`.
    column: usize,
    flow_level: usize,
    simple_key_allowed: bool,
    /// Column of the innermost block collection, -1 outside any.
    indent: isize,
    /// The enclosing collections' indents; its length is the block nesting depth.
    indents: Vec<isize>,
    /// The possible simple key at flow level 0.
    key: Option<Mark>,
    limit: usize,
    /// The deepest nesting seen.
    max_depth: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, limit: usize) -> Self {
        Scanner {
            text: text.as_bytes(),
            index: 0,
            line: 0,
            column: 0,
            flow_level: 0,
            simple_key_allowed: true,
            indent: -1,
            indents: Vec::new(),
            key: None,
            limit,
            max_depth: 0,
        }
    }

    // --- reading, as libyaml's macros (offsets in bytes; NUL or the end is `Z`) ---

    fn at(&self, offset: usize) -> u8 {
        self.text.get(self.index + offset).copied().unwrap_or(0)
    }

    fn is(&self, offset: usize, byte: u8) -> bool {
        self.at(offset) == byte
    }

    fn is_z(&self, offset: usize) -> bool {
        self.at(offset) == 0
    }

    fn is_blank(&self, offset: usize) -> bool {
        matches!(self.at(offset), b' ' | b'\t')
    }

    fn is_break(&self, offset: usize) -> bool {
        match self.at(offset) {
            b'\r' | b'\n' => true,
            0xC2 => self.at(offset + 1) == 0x85,
            0xE2 => self.at(offset + 1) == 0x80 && matches!(self.at(offset + 2), 0xA8 | 0xA9),
            _ => false,
        }
    }

    fn is_breakz(&self, offset: usize) -> bool {
        self.is_break(offset) || self.is_z(offset)
    }

    fn is_blankz(&self, offset: usize) -> bool {
        self.is_blank(offset) || self.is_breakz(offset)
    }

    fn is_alpha(&self, offset: usize) -> bool {
        matches!(self.at(offset), b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'_' | b'-')
    }

    /// `---` or `...` followed by a blank at the start of a line.
    fn is_document_indicator(&self) -> bool {
        self.column == 0
            && ((self.is(0, b'-') && self.is(1, b'-') && self.is(2, b'-'))
                || (self.is(0, b'.') && self.is(1, b'.') && self.is(2, b'.')))
            && self.is_blankz(3)
    }

    /// libyaml's SKIP: one character.
    fn skip(&mut self) {
        let width = match self.at(0) {
            b if b & 0x80 == 0 => 1,
            b if b & 0xE0 == 0xC0 => 2,
            b if b & 0xF0 == 0xE0 => 3,
            _ => 4,
        };
        self.index += width;
        self.column += 1;
    }

    /// libyaml's SKIP_LINE (and READ_LINE): one line break, if there is one.
    fn skip_line(&mut self) {
        if self.is(0, b'\r') && self.is(1, b'\n') {
            self.index += 2;
        } else if self.is_break(0) {
            self.index += match self.at(0) {
                b'\r' | b'\n' => 1,
                0xC2 => 2,
                _ => 3,
            };
        } else {
            return;
        }
        self.column = 0;
        self.line += 1;
    }

    // --- nesting ---

    fn check_depth(&mut self) -> Step {
        let depth = self.indents.len() + self.flow_level;
        self.max_depth = self.max_depth.max(depth);
        if depth > self.limit {
            return Err(Halt::TooDeep { line: self.line });
        }
        Ok(())
    }

    fn roll_indent(&mut self, column: usize) -> Step {
        let column = column as isize;
        if self.flow_level == 0 && self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
            return self.check_depth();
        }
        Ok(())
    }

    fn unroll_indent(&mut self, column: isize) {
        if self.flow_level != 0 {
            return;
        }
        while self.indent > column {
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn save_simple_key(&mut self) {
        if self.simple_key_allowed && self.flow_level == 0 {
            self.key = Some(Mark {
                index: self.index,
                line: self.line,
                column: self.column,
            });
        }
    }

    fn remove_simple_key(&mut self) {
        if self.flow_level == 0 {
            self.key = None;
        }
    }

    fn stale_simple_keys(&mut self) {
        if let Some(key) = self.key {
            if key.line < self.line || key.index + 1024 < self.index {
                self.key = None;
            }
        }
    }

    // --- tokens (yaml_parser_fetch_next_token) ---

    fn run(&mut self) -> Step {
        loop {
            self.scan_to_next_token();
            self.stale_simple_keys();
            self.unroll_indent(self.column as isize);
            if self.is_z(0) {
                return Ok(());
            }
            if self.column == 0 && self.is(0, b'%') {
                // A directive: libyaml reads the whole line or fails.
                self.unroll_indent(-1);
                self.remove_simple_key();
                self.simple_key_allowed = false;
                while !self.is_breakz(0) {
                    self.skip();
                }
                self.skip_line();
                continue;
            }
            if self.is_document_indicator() {
                self.unroll_indent(-1);
                self.remove_simple_key();
                self.simple_key_allowed = false;
                self.index += 3;
                self.column += 3;
                continue;
            }
            self.fetch_token()?;
        }
    }

    fn fetch_token(&mut self) -> Step {
        let c = self.at(0);
        let flow = self.flow_level != 0;
        match c {
            b'[' | b'{' => {
                self.save_simple_key();
                self.flow_level += 1;
                self.simple_key_allowed = true;
                self.skip();
                self.check_depth()
            }
            b']' | b'}' => {
                self.remove_simple_key();
                self.flow_level = self.flow_level.saturating_sub(1);
                self.simple_key_allowed = false;
                self.skip();
                Ok(())
            }
            b',' => {
                self.remove_simple_key();
                self.simple_key_allowed = true;
                self.skip();
                Ok(())
            }
            b'-' if self.is_blankz(1) => {
                self.roll_indent(self.column)?;
                self.remove_simple_key();
                self.simple_key_allowed = true;
                self.skip();
                Ok(())
            }
            b'?' if flow || self.is_blankz(1) => {
                self.roll_indent(self.column)?;
                self.remove_simple_key();
                self.simple_key_allowed = !flow;
                self.skip();
                Ok(())
            }
            b':' if flow || self.is_blankz(1) => {
                if flow {
                    self.simple_key_allowed = false;
                } else if let Some(key) = self.key.take() {
                    self.roll_indent(key.column)?;
                    self.simple_key_allowed = false;
                } else {
                    self.roll_indent(self.column)?;
                    self.simple_key_allowed = true;
                }
                self.skip();
                Ok(())
            }
            b'*' | b'&' => {
                self.save_simple_key();
                self.simple_key_allowed = false;
                self.skip();
                while self.is_alpha(0) {
                    self.skip();
                }
                Ok(())
            }
            b'!' => {
                self.save_simple_key();
                self.simple_key_allowed = false;
                self.scan_tag();
                Ok(())
            }
            b'|' | b'>' if !flow => {
                self.remove_simple_key();
                self.simple_key_allowed = true;
                self.scan_block_scalar()
            }
            b'\'' | b'"' => {
                self.save_simple_key();
                self.simple_key_allowed = false;
                self.scan_flow_scalar(c == b'\'')
            }
            _ if self.starts_plain_scalar() => {
                self.save_simple_key();
                self.simple_key_allowed = false;
                self.scan_plain_scalar()
            }
            // "found character that cannot start any token"
            _ => Err(Halt::Invalid),
        }
    }

    fn starts_plain_scalar(&self) -> bool {
        let c = self.at(0);
        let indicator = matches!(
            c,
            b'-' | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        );
        !(self.is_blankz(0) || indicator)
            || (c == b'-' && !self.is_blank(1))
            || (self.flow_level == 0 && matches!(c, b'?' | b':') && !self.is_blankz(1))
    }

    fn scan_to_next_token(&mut self) {
        loop {
            if self.column == 0 && self.is(0, 0xEF) && self.is(1, 0xBB) && self.is(2, 0xBF) {
                self.skip();
            }
            while self.is(0, b' ')
                || ((self.flow_level != 0 || !self.simple_key_allowed) && self.is(0, b'\t'))
            {
                self.skip();
            }
            if self.is(0, b'#') {
                while !self.is_breakz(0) {
                    self.skip();
                }
            }
            if !self.is_break(0) {
                return;
            }
            self.skip_line();
            if self.flow_level == 0 {
                self.simple_key_allowed = true;
            }
        }
    }

    /// `!<verbatim>` or `!handle!suffix`; libyaml checks what follows when it builds the
    /// token, and an error there ends its scan anyway.
    fn scan_tag(&mut self) {
        let uri_char = |c: u8, verbatim: bool| {
            c.is_ascii_alphanumeric()
                || b"_-;/?:@&=+$.%!~*'()".contains(&c)
                || (verbatim && b",[]".contains(&c))
        };
        if self.is(1, b'<') {
            self.skip();
            self.skip();
            while uri_char(self.at(0), true) {
                self.skip();
            }
            if self.is(0, b'>') {
                self.skip();
            }
        } else {
            self.skip();
            while uri_char(self.at(0), false) {
                self.skip();
            }
        }
    }

    /// `|` or `>`: the header, then every line indented at least as the content.
    fn scan_block_scalar(&mut self) -> Step {
        self.skip();
        let mut increment: isize = 0;
        if self.is(0, b'+') || self.is(0, b'-') {
            self.skip();
            if self.at(0).is_ascii_digit() {
                if self.is(0, b'0') {
                    return Err(Halt::Invalid);
                }
                increment = isize::from(self.at(0) - b'0');
                self.skip();
            }
        } else if self.at(0).is_ascii_digit() {
            if self.is(0, b'0') {
                return Err(Halt::Invalid);
            }
            increment = isize::from(self.at(0) - b'0');
            self.skip();
            if self.is(0, b'+') || self.is(0, b'-') {
                self.skip();
            }
        }
        while self.is_blank(0) {
            self.skip();
        }
        if self.is(0, b'#') {
            while !self.is_breakz(0) {
                self.skip();
            }
        }
        if !self.is_breakz(0) {
            return Err(Halt::Invalid);
        }
        self.skip_line();
        let mut indent: isize = 0;
        if increment != 0 {
            indent = if self.indent >= 0 {
                self.indent + increment
            } else {
                increment
            };
        }
        self.scan_block_scalar_breaks(&mut indent)?;
        while self.column as isize == indent && !self.is_z(0) {
            while !self.is_breakz(0) {
                self.skip();
            }
            self.skip_line();
            self.scan_block_scalar_breaks(&mut indent)?;
        }
        Ok(())
    }

    fn scan_block_scalar_breaks(&mut self, indent: &mut isize) -> Step {
        let mut max_indent: isize = 0;
        loop {
            while (*indent == 0 || (self.column as isize) < *indent) && self.is(0, b' ') {
                self.skip();
            }
            max_indent = max_indent.max(self.column as isize);
            if (*indent == 0 || (self.column as isize) < *indent) && self.is(0, b'\t') {
                return Err(Halt::Invalid);
            }
            if !self.is_break(0) {
                break;
            }
            self.skip_line();
        }
        if *indent == 0 {
            *indent = max_indent.max(self.indent + 1).max(1);
        }
        Ok(())
    }

    /// A single- or double-quoted scalar, possibly over several lines.
    fn scan_flow_scalar(&mut self, single: bool) -> Step {
        let quote = if single { b'\'' } else { b'"' };
        self.skip();
        loop {
            if self.is_document_indicator() || self.is_z(0) {
                return Err(Halt::Invalid);
            }
            while !self.is_blankz(0) {
                if single && self.is(0, b'\'') && self.is(1, b'\'') {
                    self.skip();
                    self.skip();
                    continue;
                }
                if self.is(0, quote) {
                    break;
                }
                if !single && self.is(0, b'\\') && self.is_break(1) {
                    self.skip();
                    self.skip_line();
                    break;
                }
                if !single && self.is(0, b'\\') {
                    let code_length = match self.at(1) {
                        b'0' | b'a' | b'b' | b't' | b'\t' | b'n' | b'v' | b'f' | b'r' | b'e' | b' '
                        | b'"' | b'/' | b'\\' | b'N' | b'_' | b'L' | b'P' => 0,
                        b'x' => 2,
                        b'u' => 4,
                        b'U' => 8,
                        _ => return Err(Halt::Invalid),
                    };
                    self.skip();
                    self.skip();
                    if (0..code_length).any(|k| !self.at(k).is_ascii_hexdigit()) {
                        return Err(Halt::Invalid);
                    }
                    self.index += code_length;
                    self.column += code_length;
                    continue;
                }
                self.skip();
            }
            if self.is(0, quote) {
                self.skip();
                return Ok(());
            }
            while self.is_blank(0) || self.is_break(0) {
                if self.is_blank(0) {
                    self.skip();
                } else {
                    self.skip_line();
                }
            }
        }
    }

    /// A plain scalar: in block context it goes on over lines indented deeper than the
    /// enclosing collection; in flow context it ends at a flow indicator.
    fn scan_plain_scalar(&mut self) -> Step {
        let indent = self.indent + 1;
        let flow = self.flow_level != 0;
        let mut leading_blanks = false;
        loop {
            if self.is_document_indicator() || self.is(0, b'#') {
                break;
            }
            while !self.is_blankz(0) {
                if flow && self.is(0, b':') && matches!(self.at(1), b',' | b'?' | b'[' | b']' | b'{' | b'}') {
                    return Err(Halt::Invalid);
                }
                if (self.is(0, b':') && self.is_blankz(1))
                    || (flow && matches!(self.at(0), b',' | b'[' | b']' | b'{' | b'}'))
                {
                    break;
                }
                leading_blanks = false;
                self.skip();
            }
            if !(self.is_blank(0) || self.is_break(0)) {
                break;
            }
            while self.is_blank(0) || self.is_break(0) {
                if self.is_blank(0) {
                    if leading_blanks && (self.column as isize) < indent && self.is(0, b'\t') {
                        return Err(Halt::Invalid);
                    }
                    self.skip();
                } else {
                    self.skip_line();
                    leading_blanks = true;
                }
            }
            if !flow && (self.column as isize) < indent {
                break;
            }
        }
        if leading_blanks {
            self.simple_key_allowed = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The deepest nesting the scan sees, unbounded.
    fn depth(text: &str) -> usize {
        let mut scanner = Scanner::new(text, usize::MAX);
        let _ = scanner.run();
        scanner.max_depth
    }

    #[test]
    fn counts_flow_and_block_collections() {
        assert_eq!(depth("a: 1\n"), 1);
        assert_eq!(depth("a: [1, {b: [2]}]\n"), 4);
        assert_eq!(depth("a:\n  b:\n    - - c\n"), 4);
        assert_eq!(depth("- - - - x\n"), 4);
        assert_eq!(depth("? ? ? x\n"), 3);
        // A flow key is read before its mapping opens.
        assert_eq!(depth("[a, b]: c\n"), 1);
        assert_eq!(depth("a: 1\n---\nb: [[x]]\n"), 3);
    }

    #[test]
    fn brackets_in_scalars_and_comments_do_not_count() {
        let deep = "[".repeat(500);
        for text in [
            format!("a: \"{deep}\"\n"),
            format!("a: '{deep}'\n"),
            format!("a: x{deep}\n"),
            format!("a: |\n  {deep}\n  {deep}\nb: 1\n"),
            format!("- k: >-\n    {deep}\n\n    {deep}\n"),
            format!("a: 1 # {deep}\n"),
            format!("# {deep}\na: 1\n"),
            format!("a: plain\n  continued {deep}\n"),
            format!("a: \"multi\n  line {deep}\"\n"),
            format!("a: 'it''s {deep}'\n"),
            format!("a: \"esc \\\" {deep}\"\n"),
            "%YAML 1.1\n--- [x]\n".to_string(),
        ] {
            assert!(depth(&text) <= 2, "{text:.60}");
            check_nesting(&text, "x.yaml").unwrap();
        }
    }

    /// What libyaml reads as structure after a scalar is structure here too: a quote in the
    /// middle or on the continuation line of a plain scalar opens nothing, and a line break
    /// libyaml knows ends a comment.
    #[test]
    fn structure_hidden_behind_scalars_is_found() {
        let deep = "[".repeat(200);
        for text in [
            format!("k: a\n  'b, c\nz: {deep}\n"),
            format!("k: [a\n 'b, {deep}"),
            format!("k: it's\nz: {deep}"),
            format!("# comment\u{2028}{deep}"),
            format!("# comment\u{85}{deep}"),
            format!("# comment\r{deep}"),
            format!("k: |\n  text\n{deep}"),
            format!("- k: |\n  {deep}"),
            format!("k: |4\n  {deep}"),
            format!("k: \"a\\\n{deep}\"\nz: {deep}"),
            format!("{{k: !t,{deep}"),
            format!("\u{feff}{deep}"),
        ] {
            let err = check_nesting(&text, "x.yaml").unwrap_err().to_string();
            assert!(
                err.starts_with("x.yaml: the YAML nesting is too deep"),
                "{text:.40}: {err}"
            );
        }
    }

    #[test]
    fn the_limit_is_inclusive() {
        let ok = format!("{}{}", "[".repeat(MAX_YAML_DEPTH), "]".repeat(MAX_YAML_DEPTH));
        check_nesting(&ok, "x.yaml").unwrap();
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_YAML_DEPTH + 1),
            "]".repeat(MAX_YAML_DEPTH + 1)
        );
        assert_eq!(
            check_nesting(&deep, "x.yaml").unwrap_err().to_string(),
            "x.yaml: the YAML nesting is too deep: more than 128 levels at line 1"
        );
    }

    /// Text made of what YAML's scanner treats specially, where the states libyaml can be
    /// in after each piece differ (plain, quoted and block scalars, comments, keys, breaks).
    const YAMLISH: &str =
        r#"([\[\]{},:?\-#'"|>&!%. \t\n\r]|a|b|  |: |- |\\|\n  |\x{2028}|\x{85}|---\n|\|2\n){0,60}"#;
    /// The same as indented lines, for block collections and block scalars.
    const YAMLISH_LINES: &str =
        r#"(( {0,5})(- |\? |: |a: |a|b|'|"|\||>|>-|\|2|#|\[|\]|\{|\}|,| |\t|&a |!t |\\|---)*\n){0,10}"#;

    fn yamlish() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::string::string_regex(YAMLISH).unwrap(),
            proptest::string::string_regex(YAMLISH_LINES).unwrap(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Against libyaml itself: whatever parses nests no deeper than the scan says
        /// (twice over, for a sequence written at its mapping's indentation, which libyaml
        /// nests without indenting).
        #[test]
        fn never_sees_less_nesting_than_libyaml(text in yamlish()) {
            if let Ok(value) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) {
                prop_assert!(yaml_depth(&value) <= 2 * depth(&text), "{:?}", text);
            }
        }

        /// Against libyaml itself, at the limit: after any text, brackets libyaml nests past
        /// the limit are refused here, and brackets it reads as text are not.
        #[test]
        fn refuses_exactly_what_libyaml_nests_too_deeply(text in yamlish()) {
            let n = MAX_YAML_DEPTH + 2;
            let text = format!("{text}{}{}", "[".repeat(n), "]".repeat(n));
            let parsed = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text);
            let checked = check_nesting(&text, "x.yaml");
            match parsed {
                Err(e) if e.to_string().contains("recursion limit exceeded") => {
                    prop_assert!(checked.is_err(), "{:?}", text);
                }
                Ok(_) => prop_assert!(checked.is_ok(), "{:?}", text),
                Err(_) => {}
            }
        }
    }

    fn yaml_depth(value: &serde_yaml_ng::Value) -> usize {
        use serde_yaml_ng::Value as Y;
        match value {
            Y::Sequence(items) => 1 + items.iter().map(yaml_depth).max().unwrap_or(0),
            Y::Mapping(map) => {
                1 + map
                    .iter()
                    .map(|(k, v)| yaml_depth(k).max(yaml_depth(v)))
                    .max()
                    .unwrap_or(0)
            }
            Y::Tagged(tagged) => yaml_depth(&tagged.value),
            _ => 0,
        }
    }
}
