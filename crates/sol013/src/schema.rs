//! Which attribute paths a resource has, so a filter or attribute selector naming one it does
//! not have is a 400 (SOL013 clause 5.2.2: "an attribute that is not defined in the
//! resource" is an error, not an empty result).

use crate::{AttrPath, FieldSelection, QueryError, Segment};

/// The attributes of one resource type, as `/`-joined paths (array elements are entered
/// implicitly, as in filters), written out from its OpenAPI definition.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSchema {
    /// The resource's type name (`VnfInstance`), for error messages.
    pub name: &'static str,
    /// Every attribute path the resource has, nested ones included.
    pub attributes: &'static [&'static str],
    /// Free-form maps (KeyValuePairs and the like): any sub-path below one of these exists.
    pub open: &'static [&'static str],
}

impl ResourceSchema {
    /// Whether `path` (unescaped components) names an attribute of the resource.
    pub fn has<S: AsRef<str>>(&self, components: &[S]) -> bool {
        let joined = components.iter().map(AsRef::as_ref).collect::<Vec<_>>().join("/");
        if self.attributes.contains(&joined.as_str()) {
            return true;
        }
        self.open.iter().any(|open| {
            joined.len() > open.len() && joined.starts_with(open) && joined.as_bytes()[open.len()] == b'/'
        })
    }

    /// Whether a filter's attribute path exists; `x/@key` exists when `x` is a free-form map.
    pub fn has_filter_path(&self, path: &AttrPath) -> bool {
        let mut names = Vec::new();
        for segment in path.segments() {
            match segment {
                Segment::Name(name) => names.push(name.as_str()),
                Segment::Key => {
                    let prefix = names.join("/");
                    return self.open.contains(&prefix.as_str()) || self.has(&[prefix, "*".into()]);
                }
            }
        }
        self.has(&names)
    }

    /// Rejects a `filter`, `fields` or `exclude_fields` that names an attribute the resource
    /// does not have.
    pub fn check(
        &self,
        filter: Option<&crate::Filter>,
        selection: &FieldSelection,
    ) -> Result<(), QueryError> {
        if let Some(filter) = filter {
            if let Some(path) = filter.attribute_paths().find(|p| !self.has_filter_path(p)) {
                return Err(self.not_an_attribute("filter", &path.to_string()));
            }
        }
        let (param, list) = match selection {
            FieldSelection::Fields(list) => ("fields", list),
            FieldSelection::ExcludeFields(list) => ("exclude_fields", list),
            FieldSelection::ExcludeDefault | FieldSelection::AllFields => return Ok(()),
        };
        match list.iter().find(|p| !self.has(&p.split('/').collect::<Vec<_>>())) {
            Some(path) => Err(self.not_an_attribute(param, path)),
            None => Ok(()),
        }
    }

    fn not_an_attribute(&self, param: &'static str, attribute: &str) -> QueryError {
        QueryError::NotAnAttribute {
            param,
            attribute: crate::echo(attribute),
            resource: self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Filter, ListQuery};

    const INSTANCE: ResourceSchema = ResourceSchema {
        name: "VnfInstance",
        attributes: &[
            "id",
            "_links",
            "_links/self",
            "_links/self/href",
            "instantiatedVnfInfo",
            "instantiatedVnfInfo/flavourId",
            "metadata",
        ],
        open: &["metadata"],
    };

    fn check(query: &str) -> Result<(), QueryError> {
        let query = ListQuery::from_query_string(Some(query))?;
        INSTANCE.check(query.filter.as_ref(), &query.selection)
    }

    #[test]
    fn known_and_nested_attributes_pass() {
        for query in [
            "filter=(eq,id,x)",
            "filter=(eq,instantiatedVnfInfo/flavourId,simple)",
            "filter=(eq,_links/self/href,x)",
            "filter=(eq,metadata/anything/below,1)",
            "filter=(cont,metadata/@key,a)",
            "fields=instantiatedVnfInfo/flavourId,metadata/k",
            "exclude_fields=_links/self",
            "all_fields",
            "exclude_default",
        ] {
            assert_eq!(check(query), Ok(()), "{query}");
        }
    }

    #[test]
    fn unknown_attributes_are_named_with_the_resource() {
        assert_eq!(
            check("filter=(eq,id,x);(eq,notAnAttribute,x)")
                .unwrap_err()
                .to_string(),
            "filter attribute 'notAnAttribute' is not an attribute of VnfInstance"
        );
        assert_eq!(
            check("fields=wrong_field").unwrap_err().to_string(),
            "fields attribute 'wrong_field' is not an attribute of VnfInstance"
        );
        for query in [
            "exclude_fields=instantiatedVnfInfo/nothing",
            "filter=(eq,instantiatedVnfInfo/flavourId/deeper,x)",
            "filter=(eq,id/@key,x)",
            "filter=(eq,metadataX,1)",
            "fields=metadataX/a",
        ] {
            assert!(
                matches!(check(query), Err(QueryError::NotAnAttribute { .. })),
                "{query}"
            );
        }
        // The open map itself is an attribute; a prefix of its name is not.
        assert!(INSTANCE.has_filter_path(Filter::parse("(eq,metadata,1)").unwrap().terms()[0].path()));
    }
}
