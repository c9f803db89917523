//! SOL013 clause 5.2 attribute-based filtering: `(op,attrPath,value[,value...])` terms joined
//! by `;`, all of which must match.

mod matching;
mod parse;
#[cfg(test)]
mod proptests;

use std::fmt;
use std::str::FromStr;

use serde_json::Number;

use crate::path::AttrPath;
use crate::QueryError;

/// A comparison operator of SOL013 Table 5.2.2-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Equal to the value.
    Eq,
    /// Not equal to the value.
    Neq,
    /// Equal to one of the values.
    In,
    /// Equal to none of the values.
    Nin,
    /// Greater than the value.
    Gt,
    /// Greater than or equal to the value.
    Gte,
    /// Less than the value.
    Lt,
    /// Less than or equal to the value.
    Lte,
    /// A string containing one of the values.
    Cont,
    /// A string containing none of the values.
    Ncont,
}

impl Op {
    /// Every operator, in SOL013's order.
    pub const ALL: [Op; 10] = [
        Op::Eq,
        Op::Neq,
        Op::In,
        Op::Nin,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Cont,
        Op::Ncont,
    ];

    /// The operator as written in a filter.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::In => "in",
            Op::Nin => "nin",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Cont => "cont",
            Op::Ncont => "ncont",
        }
    }

    /// Whether the grammar allows several values (`opMulti`); the others are `opOne`.
    pub fn takes_many(self) -> bool {
        matches!(self, Op::In | Op::Nin | Op::Cont | Op::Ncont)
    }

    /// Case-sensitive, like the grammar and Tacker: `EQ` is not an operator.
    fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value of a term, with its numeric reading worked out once instead of per document.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Operand {
    text: String,
    /// Set when the text is a JSON number (strict: no spaces, no `+`, no `inf`).
    number: Option<Number>,
}

impl Operand {
    fn new(text: String) -> Operand {
        let number = text.parse::<Number>().ok();
        Operand { text, number }
    }
}

/// One `(op,attrPath,values)` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    op: Op,
    path: AttrPath,
    /// Never empty; exactly one unless `op.takes_many()`.
    values: Vec<Operand>,
}

impl Term {
    /// The operator.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The attribute the term tests.
    pub fn path(&self) -> &AttrPath {
        &self.path
    }

    /// The values, unquoted.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|v| v.text.as_str())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{}", self.op, self.path)?;
        for value in &self.values {
            f.write_str(",")?;
            write_value(f, &value.text)?;
        }
        f.write_str(")")
    }
}

/// Quotes a value when it would not survive unquoted; parentheses and `;` are quoted too,
/// although the grammar allows them bare, so the rendering is easy to read back.
fn write_value(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let needs_quotes = value.is_empty() || value.contains(['\'', ',', '(', ')', ';']);
    if needs_quotes {
        write!(f, "'{}'", value.replace('\'', "''"))
    } else {
        f.write_str(value)
    }
}

/// A parsed `filter` expression: the conjunction of its terms.
///
/// Display renders the canonical expression, which parses back to an equal filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Never empty.
    terms: Vec<Term>,
}

impl Filter {
    /// Parses a `filter` query parameter value (already percent-decoded).
    ///
    /// Enforces [`MAX_FILTER_LENGTH`](crate::MAX_FILTER_LENGTH),
    /// [`MAX_FILTER_TERMS`](crate::MAX_FILTER_TERMS),
    /// [`MAX_TERM_VALUES`](crate::MAX_TERM_VALUES) and
    /// [`MAX_PATH_DEPTH`](crate::MAX_PATH_DEPTH).
    pub fn parse(expr: &str) -> Result<Filter, QueryError> {
        Ok(parse::parse(expr)?)
    }

    /// The terms, in the order written.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Every attribute path the filter tests, in term order (repeats included).
    pub fn attribute_paths(&self) -> impl Iterator<Item = &AttrPath> {
        self.terms.iter().map(Term::path)
    }

    /// Rejects the first term whose attribute `known` does not accept, the way Tacker answers
    /// 400 for a filter on an attribute the resource does not have.
    pub fn check_attributes(&self, known: impl Fn(&AttrPath) -> bool) -> Result<(), QueryError> {
        match self.terms.iter().find(|term| !known(&term.path)) {
            Some(term) => Err(QueryError::UnknownFilterAttribute {
                attribute: crate::echo(&term.path.to_string()),
                term: crate::echo(&term.to_string()),
            }),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

impl FromStr for Filter {
    type Err = QueryError;

    fn from_str(expr: &str) -> Result<Filter, QueryError> {
        Filter::parse(expr)
    }
}
