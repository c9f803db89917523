//! Evaluating a filter against a rendered JSON document.
//!
//! The rules, chosen to agree with Tacker (both its v1 SQL filters and its v2 in-memory ones):
//!
//! - The path is followed through objects. Wherever it meets an array (at any step, including
//!   the last) the term is tried on every element and matches if any element does; this is
//!   what makes `softwareImages/minDisk` or `notificationTypes` filterable.
//! - A term whose attribute is absent or `null` does not match, whatever the operator: `neq`,
//!   `nin` and `ncont` only match documents that have the attribute. Likewise a path running
//!   into a scalar, or ending at an object, matches nothing.
//! - The negated operators are negated per element, like their positive forms are tested per
//!   element: `(neq,tags,a)` matches `["a","b"]` because `"b"` is not `"a"`. An empty array
//!   matches nothing.
//! - Comparison follows the document's JSON type: a number is compared numerically with a value
//!   that is a JSON number and as text otherwise; a string is compared with the value as text
//!   (byte order, which is code point order); `true`/`false` are compared as those words.
//!   `cont`/`ncont` only apply to strings.
//! - Date-times are strings, so they compare as text: correct for the uniform UTC
//!   `YYYY-MM-DDThh:mm:ssZ` form the API renders, not across time zones or precisions.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::{Filter, Op, Operand, Term};
use crate::path::Segment;

impl Filter {
    /// Whether `doc` satisfies every term.
    pub fn matches(&self, doc: &Value) -> bool {
        self.terms.iter().all(|term| term.matches(doc))
    }
}

impl Term {
    /// Whether `doc` satisfies this term alone.
    pub fn matches(&self, doc: &Value) -> bool {
        any_leaf(doc, self.path.segments(), &|leaf| self.test(leaf))
    }

    fn test(&self, leaf: Leaf<'_>) -> bool {
        let equals_any = || {
            self.values
                .iter()
                .any(|value| compare(leaf, value) == Ordering::Equal)
        };
        let first = |accept: fn(Ordering) -> bool| {
            self.values
                .first()
                .is_some_and(|value| accept(compare(leaf, value)))
        };
        let contains_any = |s: &str| self.values.iter().any(|value| s.contains(&value.text));
        match self.op {
            Op::Eq | Op::In => equals_any(),
            Op::Neq | Op::Nin => !equals_any(),
            Op::Gt => first(Ordering::is_gt),
            Op::Gte => first(Ordering::is_ge),
            Op::Lt => first(Ordering::is_lt),
            Op::Lte => first(Ordering::is_le),
            Op::Cont => matches!(leaf, Leaf::Str(s) if contains_any(s)),
            Op::Ncont => matches!(leaf, Leaf::Str(s) if !contains_any(s)),
        }
    }
}

/// A value a term can compare with.
#[derive(Clone, Copy)]
enum Leaf<'a> {
    Str(&'a str),
    Num(&'a Number),
    Bool(bool),
}

impl Leaf<'_> {
    fn of(value: &Value) -> Option<Leaf<'_>> {
        match value {
            Value::String(s) => Some(Leaf::Str(s)),
            Value::Number(n) => Some(Leaf::Num(n)),
            Value::Bool(b) => Some(Leaf::Bool(*b)),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }
}

/// Whether `test` accepts any leaf reached by following `path` from `value`.
fn any_leaf(value: &Value, path: &[Segment], test: &dyn Fn(Leaf<'_>) -> bool) -> bool {
    if let Value::Array(items) = value {
        return items.iter().any(|item| any_leaf(item, path, test));
    }
    match path.split_first() {
        None => Leaf::of(value).is_some_and(test),
        Some((Segment::Name(name), rest)) => value
            .get(name.as_str())
            .is_some_and(|child| any_leaf(child, rest, test)),
        // The parser only allows `@key` last, so `rest` is empty here.
        Some((Segment::Key, _)) => value
            .as_object()
            .is_some_and(|map| map.keys().any(|key| test(Leaf::Str(key)))),
    }
}

fn compare(leaf: Leaf<'_>, value: &Operand) -> Ordering {
    match leaf {
        Leaf::Num(n) => match &value.number {
            Some(m) => compare_numbers(n, m),
            None => n.to_string().as_str().cmp(value.text.as_str()),
        },
        Leaf::Str(s) => s.cmp(value.text.as_str()),
        Leaf::Bool(b) => (if b { "true" } else { "false" }).cmp(value.text.as_str()),
    }
}

/// Exact for integers (whatever their sign and size), IEEE for anything with a fraction.
fn compare_numbers(a: &Number, b: &Number) -> Ordering {
    let integer = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (integer(a), integer(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        // JSON numbers are never NaN, so partial_cmp always answers; -0.0 equals 0.
        _ => a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::Filter;

    fn matches(expr: &str, doc: &Value) -> bool {
        Filter::parse(expr).unwrap().matches(doc)
    }

    fn package() -> Value {
        json!({
            "id": "pkg-1",
            "onboardingState": "ONBOARDED",
            "vnfProvider": "Company",
            "size": 10,
            "ratio": 2.5,
            "enabled": true,
            "description": null,
            "userDefinedData": {"key1": "value1", "key2": "it's"},
            "softwareImages": [
                {"name": "cirros", "minDisk": 1, "checksum": {"algorithm": "sha-256"}},
                {"name": "ubuntu", "minDisk": 20, "checksum": {"algorithm": "sha-512"}}
            ],
            "notificationTypes": [
                "VnfLcmOperationOccurrenceNotification",
                "VnfIdentifierCreationNotification"
            ],
            "matrix": [[1, 2], [3, [4]]],
            "emptyList": []
        })
    }

    #[test]
    fn eq_and_neq_on_strings() {
        let doc = package();
        assert!(matches("(eq,onboardingState,ONBOARDED)", &doc));
        assert!(!matches("(eq,onboardingState,onboarded)", &doc));
        assert!(matches("(neq,onboardingState,CREATED)", &doc));
        assert!(!matches("(neq,onboardingState,ONBOARDED)", &doc));
        assert!(matches("(eq,userDefinedData/key2,'it''s')", &doc));
    }

    #[test]
    fn in_and_nin() {
        let doc = package();
        assert!(matches("(in,vnfProvider,Other,Company)", &doc));
        assert!(!matches("(in,vnfProvider,Other,Else)", &doc));
        assert!(matches("(nin,vnfProvider,Other,Else)", &doc));
        assert!(!matches("(nin,vnfProvider,Other,Company)", &doc));
        assert!(matches("(in,size,9,10.0)", &doc));
    }

    #[test]
    fn ordering_operators_compare_numbers_numerically() {
        let doc = package();
        // Text order would put "10" before "9".
        assert!(matches("(gt,size,9)", &doc));
        assert!(!matches("(gt,size,10)", &doc));
        assert!(matches("(gte,size,10)", &doc));
        assert!(matches("(lt,size,11)", &doc));
        assert!(!matches("(lt,size,10)", &doc));
        assert!(matches("(lte,size,10)", &doc));
        assert!(matches("(gt,size,9.5)", &doc));
        assert!(matches("(eq,size,1e1)", &doc));
        assert!(matches("(lt,ratio,3)", &doc));
        assert!(matches("(gt,ratio,2.49)", &doc));
        assert!(matches("(eq,ratio,2.50)", &doc));
        assert!(matches("(gt,size,-1)", &doc));
    }

    #[test]
    fn large_integers_compare_exactly() {
        let doc = json!({"n": u64::MAX, "m": i64::MIN});
        assert!(matches("(eq,n,18446744073709551615)", &doc));
        assert!(!matches("(eq,n,18446744073709551614)", &doc));
        assert!(matches("(gt,n,18446744073709551614)", &doc));
        assert!(matches("(lt,m,-9223372036854775807)", &doc));
    }

    #[test]
    fn ordering_operators_compare_strings_as_text() {
        let doc = json!({"version": "9", "createdAt": "2021-08-11T08:09:10Z"});
        // A string attribute is never read as a number, even when it looks like one.
        assert!(matches("(gt,version,10)", &doc));
        assert!(!matches("(eq,version,9.0)", &doc));
        assert!(matches("(lt,createdAt,2021-08-24T02:26:46Z)", &doc));
        assert!(!matches("(lt,createdAt,2021-08-01T00:00:00Z)", &doc));
        assert!(matches("(gte,createdAt,2021-08-11T08:09:10Z)", &doc));
        assert!(matches("(lte,createdAt,2021-08-11T08:09:10Z)", &doc));
    }

    #[test]
    fn numbers_against_non_numeric_values_compare_as_text() {
        let doc = package();
        assert!(!matches("(eq,size,ten)", &doc));
        assert!(matches("(neq,size,ten)", &doc));
        assert!(matches("(eq,size,10)", &doc));
        // " 10" is not a JSON number, so it is compared as text and differs.
        assert!(!matches("(eq,size,' 10')", &doc));
    }

    #[test]
    fn booleans_compare_as_true_and_false() {
        let doc = package();
        assert!(matches("(eq,enabled,true)", &doc));
        assert!(!matches("(eq,enabled,false)", &doc));
        assert!(!matches("(eq,enabled,True)", &doc));
        assert!(matches("(neq,enabled,false)", &doc));
        assert!(matches("(in,enabled,false,true)", &doc));
    }

    #[test]
    fn cont_and_ncont_are_substring_tests_on_strings() {
        let doc = package();
        assert!(matches("(cont,vnfProvider,pan)", &doc));
        assert!(matches("(cont,vnfProvider,xyz,Comp)", &doc));
        assert!(!matches("(cont,vnfProvider,company)", &doc));
        assert!(matches("(ncont,vnfProvider,xyz,abc)", &doc));
        assert!(!matches("(ncont,vnfProvider,xyz,any)", &doc));
        assert!(matches("(cont,vnfProvider,'')", &doc));
        // Not strings: neither operator applies.
        assert!(!matches("(cont,size,1)", &doc));
        assert!(!matches("(ncont,size,x)", &doc));
        assert!(!matches("(cont,enabled,tru)", &doc));
    }

    #[test]
    fn missing_and_null_attributes_never_match() {
        let doc = package();
        for expr in [
            "(eq,absent,x)",
            "(neq,absent,x)",
            "(in,absent,x)",
            "(nin,absent,x)",
            "(gt,absent,1)",
            "(lte,absent,1)",
            "(cont,absent,x)",
            "(ncont,absent,x)",
            "(neq,description,x)",
            "(nin,description,x)",
            "(ncont,description,x)",
            "(eq,description,null)",
            "(neq,userDefinedData/key3,x)",
        ] {
            assert!(!matches(expr, &doc), "{expr}");
        }
    }

    #[test]
    fn paths_ending_at_objects_or_passing_scalars_never_match() {
        let doc = package();
        assert!(!matches("(eq,userDefinedData,x)", &doc));
        assert!(!matches("(neq,userDefinedData,x)", &doc));
        assert!(!matches("(eq,size/x,10)", &doc));
        assert!(!matches("(neq,vnfProvider/x,y)", &doc));
    }

    #[test]
    fn arrays_match_when_any_element_matches() {
        let doc = package();
        assert!(matches("(eq,softwareImages/name,ubuntu)", &doc));
        assert!(!matches("(eq,softwareImages/name,debian)", &doc));
        assert!(matches("(gt,softwareImages/minDisk,10)", &doc));
        assert!(!matches("(gt,softwareImages/minDisk,20)", &doc));
        assert!(matches("(eq,softwareImages/checksum/algorithm,sha-512)", &doc));
        assert!(matches(
            "(eq,notificationTypes,VnfIdentifierCreationNotification)",
            &doc
        ));
        assert!(matches("(cont,notificationTypes,Creation)", &doc));
        assert!(matches("(eq,matrix,4)", &doc));
        assert!(!matches("(eq,matrix,5)", &doc));
    }

    #[test]
    fn negations_apply_per_element() {
        let doc = package();
        // One image is not "cirros", so the package matches (as in Tacker).
        assert!(matches("(neq,softwareImages/name,cirros)", &doc));
        assert!(matches("(nin,softwareImages/name,cirros)", &doc));
        assert!(!matches("(nin,softwareImages/name,cirros,ubuntu)", &doc));
        assert!(!matches("(ncont,softwareImages/name,c,u)", &doc));
        assert!(matches("(ncont,softwareImages/name,cirros)", &doc));
        // No element at all: nothing matches.
        assert!(!matches("(neq,emptyList,x)", &doc));
        assert!(!matches("(nin,emptyList,x)", &doc));
    }

    #[test]
    fn at_key_tests_the_keys_of_a_map() {
        let doc = package();
        assert!(matches("(eq,userDefinedData/@key,key1)", &doc));
        assert!(!matches("(eq,userDefinedData/@key,value1)", &doc));
        assert!(matches("(cont,userDefinedData/@key,ey2)", &doc));
        assert!(matches("(eq,softwareImages/checksum/@key,algorithm)", &doc));
        assert!(!matches("(eq,vnfProvider/@key,x)", &doc));
    }

    #[test]
    fn escaped_names_reach_odd_keys() {
        let doc = json!({"a/b": {"c,d": {"@e": "x"}}});
        assert!(matches("(eq,a~1b/c~ad/~be,x)", &doc));
        assert!(!matches("(eq,a/b/c,x)", &doc));
    }

    #[test]
    fn all_terms_must_match() {
        let doc = package();
        assert!(matches("(eq,id,pkg-1);(gt,size,5)", &doc));
        assert!(!matches("(eq,id,pkg-1);(gt,size,50)", &doc));
        assert!(!matches("(eq,id,pkg-2);(gt,size,5)", &doc));
    }

    #[test]
    fn array_elements_are_tested_term_by_term() {
        // Each term may be satisfied by a different element (Tacker behaves the same).
        let doc = package();
        assert!(matches(
            "(eq,softwareImages/name,cirros);(eq,softwareImages/minDisk,20)",
            &doc
        ));
    }

    #[test]
    fn non_object_documents_only_match_through_arrays() {
        assert!(!matches("(eq,a,1)", &json!("a")));
        assert!(matches("(eq,a,1)", &json!([{"a": 2}, {"a": 1}])));
    }
}
