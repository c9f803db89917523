//! The filter grammar, read left to right in one pass:
//!
//! ```text
//! filter   = term *( ";" term )
//! term     = "(" op "," attrPath "," value *( "," value ) ")"
//! attrPath = attrName *( "/" attrName )
//! value    = 1*( any char but "," ")" "'" )  /  "'" *( any char but "'"  /  "''" ) "'"
//! ```
//!
//! All delimiters are ASCII, so byte offsets at delimiters are always char boundaries.

use super::{Filter, Op, Operand, Term};
use crate::error::{FilterError, FilterProblem};
use crate::path::AttrPath;
use crate::{MAX_FILTER_LENGTH, MAX_FILTER_TERMS, MAX_TERM_VALUES};

pub(super) fn parse(src: &str) -> Result<Filter, FilterError> {
    if src.is_empty() {
        return Err(FilterError::whole(FilterProblem::Empty));
    }
    if src.len() > MAX_FILTER_LENGTH {
        return Err(FilterError::whole(FilterProblem::TooLong(src.len())));
    }
    let mut parser = Parser { src, pos: 0, term: 0 };
    let mut terms = Vec::new();
    loop {
        if terms.len() == MAX_FILTER_TERMS {
            return Err(FilterError::whole(FilterProblem::TooManyTerms));
        }
        parser.term += 1;
        terms.push(parser.term()?);
        match parser.peek() {
            None => return Ok(Filter { terms }),
            Some(b';') => parser.pos += 1,
            Some(_) => return Err(parser.error(FilterProblem::ExpectedSemicolon(parser.found()))),
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
    /// 1-based number of the term being read.
    term: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// The character at the current position, for messages (only called when there is one).
    fn found(&self) -> char {
        self.src[self.pos..].chars().next().unwrap_or_default()
    }

    fn error(&self, problem: FilterProblem) -> FilterError {
        self.error_at(self.pos, problem)
    }

    fn error_at(&self, byte: usize, problem: FilterProblem) -> FilterError {
        FilterError {
            problem,
            term: Some(self.term),
            position: Some(self.src[..byte].chars().count() + 1),
        }
    }

    /// Moves past bytes until one of `stops` or the end; returns the text passed over.
    /// A byte in `forbidden` is an error made by `on_forbidden`.
    fn scan(
        &mut self,
        stops: &[u8],
        forbidden: &[u8],
        on_forbidden: impl Fn(char) -> FilterProblem,
    ) -> Result<&'a str, FilterError> {
        let start = self.pos;
        while let Some(byte) = self.peek() {
            if stops.contains(&byte) {
                break;
            }
            if forbidden.contains(&byte) {
                return Err(self.error(on_forbidden(char::from(byte))));
            }
            self.pos += 1;
        }
        let src = self.src;
        Ok(&src[start..self.pos])
    }

    fn term(&mut self) -> Result<Term, FilterError> {
        let start = self.pos;
        match self.peek() {
            Some(b'(') => self.pos += 1,
            None if start > 0 => return Err(self.error(FilterProblem::EmptyTerm)),
            Some(b';') => return Err(self.error(FilterProblem::EmptyTerm)),
            _ => return Err(self.error(FilterProblem::ExpectedOpenParen(self.found()))),
        }

        let op_start = self.pos;
        let name = self.scan(b",)", b"", |_| FilterProblem::MissingOperator)?;
        let op = match Op::from_name(name) {
            Some(op) => op,
            None if name.is_empty() && self.peek().is_some() => {
                return Err(self.error_at(op_start, FilterProblem::MissingOperator))
            }
            None if self.peek().is_none() => return Err(self.error(FilterProblem::UnbalancedParen)),
            None => {
                let problem = FilterProblem::UnknownOperator(name.to_owned());
                return Err(self.error_at(op_start, problem));
            }
        };
        self.expect_comma(FilterProblem::MissingAttribute)?;

        let path_start = self.pos;
        // `(`, `'` and `;` never occur in SOL attribute names; refusing them points at a
        // missing `)` or `,` right where it happened instead of at an unknown attribute.
        let raw = self.scan(b",)", b"(';", FilterProblem::InvalidAttributeChar)?;
        if raw.is_empty() {
            return Err(self.error(FilterProblem::MissingAttribute));
        }
        let path = AttrPath::parse_escaped(raw).map_err(|problem| self.error_at(path_start, problem))?;
        self.expect_comma(FilterProblem::MissingValue)?;

        let mut values = Vec::new();
        loop {
            if values.len() == MAX_TERM_VALUES {
                return Err(self.error(FilterProblem::TooManyValues));
            }
            values.push(Operand::new(self.value()?));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error(FilterProblem::UnbalancedParen)),
            }
        }
        if values.len() > 1 && !op.takes_many() {
            let problem = FilterProblem::SingleValueOperator(op, values.len());
            return Err(self.error_at(start, problem));
        }
        Ok(Term { op, path, values })
    }

    /// Consumes the `,` after the operator or the path; `)` there means `missing` is absent.
    fn expect_comma(&mut self, missing: FilterProblem) -> Result<(), FilterError> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error(missing)),
            None => Err(self.error(FilterProblem::UnbalancedParen)),
        }
    }

    /// Reads one value and stops before the `,` or `)` that ends it.
    fn value(&mut self) -> Result<String, FilterError> {
        if self.peek() != Some(b'\'') {
            let text = self.scan(b",)", b"'", |_| FilterProblem::QuoteInUnquotedValue)?;
            if text.is_empty() {
                return Err(self.error(FilterProblem::MissingValue));
            }
            return Ok(text.to_owned());
        }
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let chunk = self.scan(b"'", b"", |_| FilterProblem::UnterminatedQuote)?;
            text.push_str(chunk);
            if self.peek().is_none() {
                return Err(self.error_at(open, FilterProblem::UnterminatedQuote));
            }
            self.pos += 1;
            // `''` inside quotes is one literal quote; a lone `'` closes the value.
            if self.peek() == Some(b'\'') {
                text.push('\'');
                self.pos += 1;
            } else {
                break;
            }
        }
        match self.peek() {
            Some(b',' | b')') | None => Ok(text),
            Some(_) => Err(self.error(FilterProblem::AfterQuotedValue(self.found()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{FilterError, FilterProblem};
    use crate::path::Segment;
    use crate::{
        Filter, Op, QueryError, MAX_FILTER_LENGTH, MAX_FILTER_TERMS, MAX_PATH_DEPTH, MAX_TERM_VALUES,
    };

    fn problem(expr: &str) -> FilterError {
        match Filter::parse(expr) {
            Err(QueryError::Filter(err)) => err,
            other => panic!("{expr:?} should not parse, got {other:?}"),
        }
    }

    fn values(filter: &Filter, term: usize) -> Vec<&str> {
        filter.terms()[term].values().collect()
    }

    #[test]
    fn every_operator_parses_and_renders() {
        for op in Op::ALL {
            let expr = format!("({op},a/b,1)");
            let filter = Filter::parse(&expr).unwrap();
            assert_eq!(filter.terms().len(), 1);
            assert_eq!(filter.terms()[0].op(), op);
            assert_eq!(filter.to_string(), expr);
        }
    }

    #[test]
    fn terms_are_joined_by_semicolons() {
        let filter =
            Filter::parse("(eq,onboardingState,ONBOARDED);(in,softwareImages/minDisk,1,2,3)").unwrap();
        assert_eq!(filter.terms().len(), 2);
        assert_eq!(filter.terms()[1].op(), Op::In);
        assert_eq!(
            filter.terms()[1].path().segments(),
            &[
                Segment::Name("softwareImages".into()),
                Segment::Name("minDisk".into())
            ]
        );
        assert_eq!(values(&filter, 1), ["1", "2", "3"]);
    }

    #[test]
    fn quoted_values_keep_delimiters_literally() {
        let filter = Filter::parse("(eq,a,'x,y');(in,b,'(p);q','it''s',''')''')").unwrap();
        assert_eq!(values(&filter, 0), ["x,y"]);
        assert_eq!(values(&filter, 1), ["(p);q", "it's", "')'"]);
        assert_eq!(filter.to_string(), "(eq,a,'x,y');(in,b,'(p);q','it''s',''')''')");
    }

    #[test]
    fn empty_value_needs_quotes() {
        let filter = Filter::parse("(eq,a,'')").unwrap();
        assert_eq!(values(&filter, 0), [""]);
        assert_eq!(filter.to_string(), "(eq,a,'')");
        assert_eq!(problem("(eq,a,)").problem, FilterProblem::MissingValue);
        assert_eq!(problem("(in,a,1,,2)").problem, FilterProblem::MissingValue);
    }

    #[test]
    fn unquoted_values_may_hold_open_paren_and_semicolon() {
        let filter = Filter::parse("(eq,a,f(x;y)").unwrap();
        assert_eq!(values(&filter, 0), ["f(x;y"]);
        // The canonical form quotes them, and reads back the same.
        assert_eq!(filter.to_string(), "(eq,a,'f(x;y')");
        assert_eq!(Filter::parse(&filter.to_string()).unwrap(), filter);
    }

    #[test]
    fn values_keep_spaces_and_unicode() {
        let filter = Filter::parse("(cont,vnfProductName, Ünïcode ✓)").unwrap();
        assert_eq!(values(&filter, 0), [" Ünïcode ✓"]);
    }

    #[test]
    fn escaped_attribute_names() {
        let filter = Filter::parse("(eq,~01/c~1~a/~be,10);(eq,metadata/@key,k)").unwrap();
        assert_eq!(filter.terms()[0].path().to_string(), "~01/c~1~a/~be");
        assert_eq!(
            filter.terms()[1].path().segments(),
            &[Segment::Name("metadata".into()), Segment::Key]
        );
    }

    #[test]
    fn structural_errors() {
        let cases: &[(&str, FilterProblem, Option<usize>, Option<usize>)] = &[
            ("", FilterProblem::Empty, None, None),
            ("eq,a,1", FilterProblem::ExpectedOpenParen('e'), Some(1), Some(1)),
            (
                " (eq,a,1)",
                FilterProblem::ExpectedOpenParen(' '),
                Some(1),
                Some(1),
            ),
            ("(eq,a,1", FilterProblem::UnbalancedParen, Some(1), Some(8)),
            ("(eq,a", FilterProblem::UnbalancedParen, Some(1), Some(6)),
            ("(eq", FilterProblem::UnbalancedParen, Some(1), Some(4)),
            ("(", FilterProblem::UnbalancedParen, Some(1), Some(2)),
            (
                "(eq,a,1)x",
                FilterProblem::ExpectedSemicolon('x'),
                Some(1),
                Some(9),
            ),
            (
                "(eq,a,1)(eq,b,2)",
                FilterProblem::ExpectedSemicolon('('),
                Some(1),
                Some(9),
            ),
            ("(eq,a,1);", FilterProblem::EmptyTerm, Some(2), Some(10)),
            ("(eq,a,1);;(eq,b,2)", FilterProblem::EmptyTerm, Some(2), Some(10)),
            (
                "(eq,a,1); (eq,b,2)",
                FilterProblem::ExpectedOpenParen(' '),
                Some(2),
                Some(10),
            ),
            ("(,a,1)", FilterProblem::MissingOperator, Some(1), Some(2)),
            ("()", FilterProblem::MissingOperator, Some(1), Some(2)),
            ("(eq)", FilterProblem::MissingAttribute, Some(1), Some(4)),
            ("(eq,,1)", FilterProblem::MissingAttribute, Some(1), Some(5)),
            ("(eq,a)", FilterProblem::MissingValue, Some(1), Some(6)),
            (
                "(eq,a;b,1)",
                FilterProblem::InvalidAttributeChar(';'),
                Some(1),
                Some(6),
            ),
            (
                "(eq,a(b,1)",
                FilterProblem::InvalidAttributeChar('('),
                Some(1),
                Some(6),
            ),
            (
                "(eq,'a',1)",
                FilterProblem::InvalidAttributeChar('\''),
                Some(1),
                Some(5),
            ),
            (
                "(eq,a//b,1)",
                FilterProblem::EmptyAttributeComponent,
                Some(1),
                Some(5),
            ),
            (
                "(eq,/a,1)",
                FilterProblem::EmptyAttributeComponent,
                Some(1),
                Some(5),
            ),
            ("(eq,a/@key/b,1)", FilterProblem::KeyNotLast, Some(1), Some(5)),
            (
                "(eq,a~x,1)",
                FilterProblem::InvalidEscape("~x".into()),
                Some(1),
                Some(5),
            ),
        ];
        for (expr, want, term, position) in cases {
            let err = problem(expr);
            assert_eq!(
                (&err.problem, err.term, err.position),
                (want, *term, *position),
                "{expr:?}"
            );
        }
    }

    #[test]
    fn operator_errors() {
        assert_eq!(
            problem("(like,a,1)").problem,
            FilterProblem::UnknownOperator("like".into())
        );
        assert_eq!(
            problem("(EQ,a,1)").problem,
            FilterProblem::UnknownOperator("EQ".into())
        );
        assert_eq!(
            problem("((eq,a,1))").problem,
            FilterProblem::UnknownOperator("(eq".into())
        );
        for op in [Op::Eq, Op::Neq, Op::Gt, Op::Gte, Op::Lt, Op::Lte] {
            let err = problem(&format!("(eq,a,1);({op},a,1,2)"));
            assert_eq!(err.problem, FilterProblem::SingleValueOperator(op, 2));
            assert_eq!((err.term, err.position), (Some(2), Some(10)));
        }
    }

    #[test]
    fn quoting_errors() {
        let err = problem("(eq,a,'abc)");
        assert_eq!(err.problem, FilterProblem::UnterminatedQuote);
        assert_eq!(err.position, Some(7));
        assert_eq!(problem("(eq,a,'ab''c)").problem, FilterProblem::UnterminatedQuote);
        assert_eq!(
            problem("(eq,a,'ab'c)").problem,
            FilterProblem::AfterQuotedValue('c')
        );
        assert_eq!(problem("(eq,a,'ab'").problem, FilterProblem::UnbalancedParen);
        assert_eq!(
            problem("(eq,a,ab'c)").problem,
            FilterProblem::QuoteInUnquotedValue
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let err = problem("(eq,é,1)x");
        assert_eq!(err.problem, FilterProblem::ExpectedSemicolon('x'));
        assert_eq!(err.position, Some(9));
    }

    #[test]
    fn limits_are_enforced() {
        let long = format!("(eq,a,'{}')", "x".repeat(MAX_FILTER_LENGTH));
        assert_eq!(problem(&long).problem, FilterProblem::TooLong(long.len()));
        let fits = format!("(eq,a,{})", "x".repeat(MAX_FILTER_LENGTH - 7));
        assert_eq!(fits.len(), MAX_FILTER_LENGTH);
        assert!(Filter::parse(&fits).is_ok());

        let terms = |n: usize| vec!["(eq,a,1)"; n].join(";");
        assert_eq!(
            Filter::parse(&terms(MAX_FILTER_TERMS)).unwrap().terms().len(),
            MAX_FILTER_TERMS
        );
        let err = problem(&terms(MAX_FILTER_TERMS + 1));
        assert_eq!((err.problem, err.term), (FilterProblem::TooManyTerms, None));

        let values = |n: usize| format!("(in,a,{})", vec!["v"; n].join(","));
        assert!(Filter::parse(&values(MAX_TERM_VALUES)).is_ok());
        assert_eq!(
            problem(&values(MAX_TERM_VALUES + 1)).problem,
            FilterProblem::TooManyValues
        );

        let deep = format!("(eq,{},1)", vec!["p"; MAX_PATH_DEPTH + 1].join("/"));
        assert_eq!(problem(&deep).problem, FilterProblem::PathTooDeep);
    }

    #[test]
    fn error_messages_name_the_problem() {
        let message = |expr: &str| Filter::parse(expr).unwrap_err().to_string();
        assert_eq!(
            message("(foo,a,1)"),
            "Invalid filter expression: unknown operator 'foo'; expected one of \
             eq, neq, in, nin, gt, gte, lt, lte, cont, ncont (term 1, position 2)"
        );
        assert_eq!(
            message("(eq,a)"),
            "Invalid filter expression: missing value (term 1, position 6)"
        );
        assert_eq!(
            message("(eq,a,1"),
            "Invalid filter expression: unbalanced parenthesis: the term has no closing ')' \
             (term 1, position 8)"
        );
        assert_eq!(
            message("(eq,,1)"),
            "Invalid filter expression: missing attribute name (term 1, position 5)"
        );
        assert_eq!(
            message("(eq,a,1,2)"),
            "Invalid filter expression: operator 'eq' takes exactly one value, 2 were given \
             (term 1, position 1)"
        );
        assert_eq!(message(""), "Invalid filter expression: the expression is empty");
        let long_op = format!("({},a,1)", "o".repeat(500));
        assert!(message(&long_op).len() < 300, "client input is echoed shortened");
    }

    #[test]
    fn attribute_paths_can_be_checked_against_the_resource() {
        let filter = Filter::parse("(eq,id,1);(gt,softwareImages/minDisk,2);(eq,bogus/x,3)").unwrap();
        let paths: Vec<String> = filter.attribute_paths().map(ToString::to_string).collect();
        assert_eq!(paths, ["id", "softwareImages/minDisk", "bogus/x"]);

        let known = ["id", "softwareImages/minDisk"];
        let err = filter
            .check_attributes(|path| known.contains(&path.to_string().as_str()))
            .unwrap_err();
        assert_eq!(
            err,
            QueryError::UnknownFilterAttribute {
                attribute: "bogus/x".into(),
                term: "(eq,bogus/x,3)".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "Invalid attribute name 'bogus/x' in filter term '(eq,bogus/x,3)'"
        );
        assert!(filter.check_attributes(|_| true).is_ok());
    }

    #[test]
    fn from_str_is_parse() {
        let filter: Filter = "(eq,a,1)".parse().unwrap();
        assert_eq!(filter, Filter::parse("(eq,a,1)").unwrap());
        assert!("(eq,a".parse::<Filter>().is_err());
    }
}
