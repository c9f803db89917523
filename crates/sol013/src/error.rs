//! The crate's one error type. Every kind is the client's fault, so the server answers each
//! with 400 Bad Request and the Display text as the ProblemDetails `detail`.

use std::fmt;

use crate::filter::Op;
use crate::{MAX_FILTER_LENGTH, MAX_FILTER_TERMS, MAX_PATH_DEPTH, MAX_TERM_VALUES};

/// Why a list query was rejected (always 400 Bad Request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The `filter` parameter does not follow the SOL013 clause 5.2 grammar or our limits.
    #[error("Invalid filter expression: {0}")]
    Filter(FilterError),
    /// A filter term names an attribute the resource does not have.
    #[error("Invalid attribute name '{attribute}' in filter term '{term}'")]
    UnknownFilterAttribute {
        /// The attribute path as written in canonical form.
        attribute: String,
        /// The whole term, in canonical form.
        term: String,
    },
    /// A filter term or attribute selector names an attribute the resource type does not
    /// have (checked against its [`crate::ResourceSchema`]).
    #[error("{param} attribute '{attribute}' is not an attribute of {resource}")]
    NotAnAttribute {
        /// `filter`, `fields` or `exclude_fields`.
        param: &'static str,
        /// The attribute path as written (cut short if long).
        attribute: String,
        /// The resource type (`VnfInstance`).
        resource: &'static str,
    },
    /// Two attribute selector parameters SOL013 clause 5.3 does not allow together.
    #[error("Invalid query parameter combination: '{first}' cannot be combined with '{second}'")]
    SelectorCombination {
        /// The parameter that excludes the other.
        first: &'static str,
        /// The parameter given alongside it.
        second: &'static str,
    },
    /// A `fields` or `exclude_fields` entry that is malformed or names no selectable attribute.
    #[error("Invalid query parameter '{param}'. Value: '{value}': {reason}")]
    InvalidSelector {
        /// `fields` or `exclude_fields`.
        param: &'static str,
        /// The offending entry (or the whole list when the list itself is wrong).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// One of the SOL013 query parameters appears more than once.
    #[error("Query parameter '{0}' must not be given more than once")]
    RepeatedParameter(&'static str),
    /// Parameters the endpoint does not support, when the caller chose to reject them
    /// (Tacker's `/vnflcm/v1/vnf_instances` does; its other list APIs ignore them).
    #[error("Not supported parameters: {0}")]
    UnsupportedParameters(String),
    /// A `nextpage_opaque_marker` that names no page of this list (expired, forged, or the
    /// item it pointed at is gone): the client has to restart without a marker.
    #[error("Invalid nextpage_opaque_marker '{0}': no such page; repeat the query without it")]
    UnknownMarker(String),
}

// A plain From rather than `#[from]`: the detail already contains the FilterError, and
// making it the `source` too would print it twice in logged error chains.
impl From<FilterError> for QueryError {
    fn from(err: FilterError) -> Self {
        QueryError::Filter(err)
    }
}

/// Where and why a filter expression failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// What is wrong.
    pub problem: FilterProblem,
    /// 1-based number of the term being parsed, when the problem is inside one.
    pub term: Option<usize>,
    /// 1-based character position in the expression where the problem was found.
    pub position: Option<usize>,
}

impl FilterError {
    /// A problem of the expression as a whole (empty, too long, too many terms).
    pub(crate) fn whole(problem: FilterProblem) -> Self {
        FilterError {
            problem,
            term: None,
            position: None,
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.problem)?;
        match (self.term, self.position) {
            (Some(term), Some(position)) => write!(f, " (term {term}, position {position})"),
            (None, Some(position)) => write!(f, " (position {position})"),
            (Some(term), None) => write!(f, " (term {term})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for FilterError {}

/// The kinds of filter syntax errors, each with the message the client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterProblem {
    /// `filter=` with nothing after it.
    Empty,
    /// Longer than [`MAX_FILTER_LENGTH`] bytes.
    TooLong(usize),
    /// More than [`MAX_FILTER_TERMS`] terms.
    TooManyTerms,
    /// A term does not start with `(`.
    ExpectedOpenParen(char),
    /// Something other than `;` follows a term.
    ExpectedSemicolon(char),
    /// `;` with no term after it (or two in a row).
    EmptyTerm,
    /// The input ends inside a term.
    UnbalancedParen,
    /// `(` directly followed by `,` or `)`.
    MissingOperator,
    /// An operator SOL013 does not define (they are lower case).
    UnknownOperator(String),
    /// No attribute name after the operator.
    MissingAttribute,
    /// An empty component in an attribute path (`a//b`, `/a`, `a/`).
    EmptyAttributeComponent,
    /// A character that cannot appear in an attribute path.
    InvalidAttributeChar(char),
    /// A `~` escape other than `~0`, `~1`, `~a`, `~b`.
    InvalidEscape(String),
    /// `@key` somewhere other than at the end of a path.
    KeyNotLast,
    /// More than [`MAX_PATH_DEPTH`] path components.
    PathTooDeep,
    /// A term without a value, or an empty unquoted value.
    MissingValue,
    /// More than one value for an operator that takes one.
    SingleValueOperator(Op, usize),
    /// More than [`MAX_TERM_VALUES`] values in one term.
    TooManyValues,
    /// A quoted value without its closing quote.
    UnterminatedQuote,
    /// A quoted value followed by something other than `,` or `)`.
    AfterQuotedValue(char),
    /// A single quote inside an unquoted value.
    QuoteInUnquotedValue,
}

impl fmt::Display for FilterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterProblem::Empty => write!(f, "the expression is empty"),
            FilterProblem::TooLong(len) => write!(
                f,
                "the expression is {len} bytes long; at most {MAX_FILTER_LENGTH} are allowed"
            ),
            FilterProblem::TooManyTerms => {
                write!(f, "more than {MAX_FILTER_TERMS} terms")
            }
            FilterProblem::ExpectedOpenParen(found) => {
                write!(f, "expected '(' to start a term, found '{found}'")
            }
            FilterProblem::ExpectedSemicolon(found) => {
                write!(f, "expected ';' between terms, found '{found}'")
            }
            FilterProblem::EmptyTerm => write!(f, "empty term after ';'"),
            FilterProblem::UnbalancedParen => {
                write!(f, "unbalanced parenthesis: the term has no closing ')'")
            }
            FilterProblem::MissingOperator => write!(f, "missing operator"),
            FilterProblem::UnknownOperator(op) => write!(
                f,
                "unknown operator '{}'; expected one of {}",
                crate::echo(op),
                Op::ALL.map(Op::as_str).join(", ")
            ),
            FilterProblem::MissingAttribute => write!(f, "missing attribute name"),
            FilterProblem::EmptyAttributeComponent => {
                write!(f, "empty attribute name between '/' separators")
            }
            FilterProblem::InvalidAttributeChar(c) => {
                write!(f, "character '{c}' is not allowed in an attribute name")
            }
            FilterProblem::InvalidEscape(escape) => write!(
                f,
                "invalid escape '{}' in attribute name; use ~0, ~1, ~a or ~b",
                crate::echo(escape)
            ),
            FilterProblem::KeyNotLast => {
                write!(f, "'@key' must be the last component of an attribute name")
            }
            FilterProblem::PathTooDeep => {
                write!(f, "attribute name has more than {MAX_PATH_DEPTH} components")
            }
            FilterProblem::MissingValue => write!(f, "missing value"),
            FilterProblem::SingleValueOperator(op, count) => {
                write!(f, "operator '{op}' takes exactly one value, {count} were given")
            }
            FilterProblem::TooManyValues => {
                write!(f, "more than {MAX_TERM_VALUES} values in one term")
            }
            FilterProblem::UnterminatedQuote => {
                write!(f, "quoted value has no closing single quote")
            }
            FilterProblem::AfterQuotedValue(found) => {
                write!(f, "expected ',' or ')' after a quoted value, found '{found}'")
            }
            FilterProblem::QuoteInUnquotedValue => write!(
                f,
                "a value containing a single quote must be enclosed in single quotes, \
                 with the quote written twice"
            ),
        }
    }
}
