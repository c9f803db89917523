//! The query string of a list request, read once into the SOL013 pieces.

use url::form_urlencoded;

use crate::{FieldSelection, Filter, QueryError, NEXTPAGE_MARKER_PARAM};

/// The SOL013 parameters this crate understands.
const KNOWN: [&str; 6] = [
    "filter",
    "all_fields",
    "fields",
    "exclude_fields",
    "exclude_default",
    NEXTPAGE_MARKER_PARAM,
];

/// A parsed list request query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// `filter`, parsed (attribute names not yet checked against the resource).
    pub filter: Option<Filter>,
    /// The attribute selector (`ExcludeDefault` when none was given).
    pub selection: FieldSelection,
    /// `nextpage_opaque_marker`, as given.
    pub nextpage_opaque_marker: Option<String>,
    /// Every other parameter, decoded, in request order (Tacker's `all_records`, say).
    pub other: Vec<(String, String)>,
}

impl ListQuery {
    /// Parses a raw (still percent-encoded) query string; `None` or `""` is an empty query.
    ///
    /// Decoding is `application/x-www-form-urlencoded`, so `+` is a space, as in Tacker.
    /// Repeating one of the SOL013 parameters is an error (which one would win is a guess);
    /// other parameters are kept in [`ListQuery::other`] for the caller to judge.
    pub fn from_query_string(raw: Option<&str>) -> Result<ListQuery, QueryError> {
        let mut given: [Option<String>; KNOWN.len()] = Default::default();
        let mut other = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match KNOWN.iter().position(|known| *known == key) {
                Some(index) => {
                    if given[index].is_some() {
                        return Err(QueryError::RepeatedParameter(KNOWN[index]));
                    }
                    given[index] = Some(value.into_owned());
                }
                None => other.push((key.into_owned(), value.into_owned())),
            }
        }
        let [filter, all_fields, fields, exclude_fields, exclude_default, marker] = given;
        let selection = FieldSelection::from_params(
            all_fields.is_some(),
            fields.as_deref(),
            exclude_fields.as_deref(),
            exclude_default.is_some(),
        )?;
        Ok(ListQuery {
            filter: filter.as_deref().map(Filter::parse).transpose()?,
            selection,
            nextpage_opaque_marker: marker,
            other,
        })
    }

    /// Fails with Tacker's "Not supported parameters" when a parameter is neither a SOL013
    /// one nor in `allowed`, for the endpoints that reject what they do not know.
    pub fn reject_unknown(&self, allowed: &[&str]) -> Result<(), QueryError> {
        let mut unknown: Vec<&str> = self
            .other
            .iter()
            .map(|(key, _)| key.as_str())
            .filter(|key| !allowed.contains(key))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort_unstable();
        unknown.dedup();
        Err(QueryError::UnsupportedParameters(crate::echo(&unknown.join(","))))
    }
}

#[cfg(test)]
mod tests {
    use super::ListQuery;
    use crate::{FieldSelection, Filter, QueryError};

    fn parse(raw: &str) -> Result<ListQuery, QueryError> {
        ListQuery::from_query_string(Some(raw))
    }

    #[test]
    fn no_query_is_the_default() {
        assert_eq!(ListQuery::from_query_string(None), Ok(ListQuery::default()));
        assert_eq!(parse(""), Ok(ListQuery::default()));
        assert_eq!(parse("&&"), Ok(ListQuery::default()));
        assert_eq!(ListQuery::default().selection, FieldSelection::ExcludeDefault);
    }

    #[test]
    fn reads_every_parameter() {
        let query = parse(
            "filter=%28eq%2CvnfProvider%2C%27A+B%27%29&fields=softwareImages/name&exclude_default\
             &nextpage_opaque_marker=abc&all_records=yes",
        )
        .unwrap();
        assert_eq!(
            query.filter,
            Some(Filter::parse("(eq,vnfProvider,'A B')").unwrap())
        );
        assert_eq!(
            query.selection,
            FieldSelection::Fields(vec!["softwareImages/name".into()])
        );
        assert_eq!(query.nextpage_opaque_marker.as_deref(), Some("abc"));
        assert_eq!(query.other, [("all_records".to_owned(), "yes".to_owned())]);
    }

    #[test]
    fn unencoded_filters_work_too() {
        let query = parse("filter=(eq,id,1);(in,size,1,2)").unwrap();
        assert_eq!(query.filter.map(|f| f.terms().len()), Some(2));
    }

    #[test]
    fn flags_count_by_presence_not_value() {
        assert_eq!(parse("all_fields").unwrap().selection, FieldSelection::AllFields);
        assert_eq!(
            parse("all_fields=false").unwrap().selection,
            FieldSelection::AllFields
        );
        assert_eq!(
            parse("all_fields=0&exclude_default=no"),
            Err(QueryError::SelectorCombination {
                first: "all_fields",
                second: "exclude_default"
            })
        );
    }

    #[test]
    fn repeated_parameters_are_errors() {
        for raw in [
            "filter=(eq,a,1)&filter=(eq,b,2)",
            "fields=a&fields=b",
            "exclude_default&exclude_default",
            "nextpage_opaque_marker=a&nextpage_opaque_marker=a",
        ] {
            assert!(
                matches!(parse(raw), Err(QueryError::RepeatedParameter(_))),
                "{raw}"
            );
        }
        assert_eq!(
            parse("all_fields&all_fields").unwrap_err().to_string(),
            "Query parameter 'all_fields' must not be given more than once"
        );
        // Others may repeat; they are the caller's business.
        assert_eq!(parse("x=1&x=2").unwrap().other.len(), 2);
    }

    #[test]
    fn component_errors_come_through() {
        assert!(matches!(parse("filter="), Err(QueryError::Filter(_))));
        assert!(matches!(parse("filter=(eq,a"), Err(QueryError::Filter(_))));
        assert!(matches!(
            parse("fields="),
            Err(QueryError::InvalidSelector { param: "fields", .. })
        ));
        assert!(matches!(
            parse("fields=a&exclude_fields=b"),
            Err(QueryError::SelectorCombination { .. })
        ));
    }

    #[test]
    fn unknown_parameters_can_be_rejected() {
        let query = parse("filter=(eq,a,1)&zeta=1&all_records=yes&alpha=2&zeta=3").unwrap();
        assert_eq!(query.reject_unknown(&["all_records", "zeta", "alpha"]), Ok(()));
        let err = query.reject_unknown(&["all_records"]).unwrap_err();
        assert_eq!(err, QueryError::UnsupportedParameters("alpha,zeta".into()));
        assert_eq!(err.to_string(), "Not supported parameters: alpha,zeta");
        assert_eq!(parse("fields=a").unwrap().reject_unknown(&[]), Ok(()));
    }
}
