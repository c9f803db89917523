//! Property tests: the parser never panics, and the canonical rendering reads back.

use proptest::prelude::*;
use serde_json::json;

use super::{Filter, Op, Operand, Term};
use crate::path::{AttrPath, Segment};
use crate::{MAX_FILTER_TERMS, MAX_PATH_DEPTH, MAX_TERM_VALUES};

// The strategies below stay inside the parser's limits, or round trips would rightly fail.
const _: () = assert!(5 <= MAX_FILTER_TERMS && 4 <= MAX_TERM_VALUES && 4 <= MAX_PATH_DEPTH);

fn op() -> impl Strategy<Value = Op> {
    prop::sample::select(Op::ALL.to_vec())
}

/// Names with every escapable character, but none of the few a name can never hold.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_~/,@ .é-]{1,8}"
}

fn path() -> impl Strategy<Value = AttrPath> {
    (
        prop::collection::vec(name().prop_map(Segment::Name), 1..4),
        any::<bool>(),
    )
        .prop_map(|(mut segments, key)| {
            if key {
                segments.push(Segment::Key);
            }
            AttrPath::from_segments(segments)
        })
}

/// Values over the whole alphabet that matters to the grammar, empty ones included.
fn value() -> impl Strategy<Value = String> {
    "[a-z0-9 '(),;~/@.é-]{0,10}"
}

fn term() -> impl Strategy<Value = Term> {
    (op(), path(), prop::collection::vec(value(), 1..5)).prop_map(|(op, path, mut values)| {
        if !op.takes_many() {
            values.truncate(1);
        }
        let values = values.into_iter().map(Operand::new).collect();
        Term { op, path, values }
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop::collection::vec(term(), 1..6).prop_map(|terms| Filter { terms })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_any_string(s in any::<String>()) {
        let _ = Filter::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_grammar_like_strings(s in "[(),;'a-z/@~0-9é ]{0,60}") {
        if let Ok(filter) = Filter::parse(&s) {
            // Whatever parses renders to an expression that parses to the same filter.
            let rendered = filter.to_string();
            prop_assert_eq!(Filter::parse(&rendered).ok(), Some(filter));
        }
    }

    #[test]
    fn rendering_round_trips(filter in filter()) {
        let rendered = filter.to_string();
        prop_assert_eq!(Filter::parse(&rendered), Ok(filter.clone()));
        // Matching never panics on arbitrary shapes either.
        let doc = json!({"a": [1, "x", {"b": null}], "é": true});
        let _ = filter.matches(&doc);
    }
}
