//! ETSI GS NFV-SOL 013 query features for the list APIs (VNF packages, VNF instances, LCM
//! operation occurrences, subscriptions), applied to JSON documents the API already rendered:
//!
//! - clause 5.2 attribute-based filtering: [`Filter`];
//! - clause 5.3 attribute selectors: [`FieldSelection`];
//! - clause 5.4 paging of large results: [`Paging`] and [`next_page_link`];
//! - the query string that carries them: [`ListQuery`].
//!
//! HTTP-agnostic: every failure is a [`QueryError`], which the server answers with 400 and the
//! error's Display text as the detail.
//!
//! ```
//! use serde_json::json;
//! use tacker_sol013::{ListQuery, Paging};
//!
//! let query = ListQuery::from_query_string(Some("filter=(eq,vnfProvider,'ACME')&fields=metadata"))?;
//! let known = ["vnfProvider", "metadata", "instantiationState"];
//! if let Some(filter) = &query.filter {
//!     filter.check_attributes(|path| known.contains(&path.to_string().as_str()))?;
//! }
//! let docs = vec![
//!     json!({"id": "a", "vnfProvider": "ACME", "metadata": {"k": 1}, "instantiatedVnfInfo": {}}),
//!     json!({"id": "b", "vnfProvider": "Other"}),
//! ];
//! let mut matching: Vec<_> = docs
//!     .into_iter()
//!     .filter(|d| query.filter.as_ref().is_none_or(|f| f.matches(d)))
//!     .collect();
//! for doc in &mut matching {
//!     query.selection.apply(doc, &["metadata", "instantiatedVnfInfo"]);
//! }
//! let page = Paging::new(100).page(matching, query.nextpage_opaque_marker.as_deref(), |d| {
//!     d["id"].as_str().unwrap_or_default()
//! })?;
//! assert_eq!(page.items, vec![json!({"id": "a", "vnfProvider": "ACME", "metadata": {"k": 1}})]);
//! assert_eq!(page.next_marker, None);
//! # Ok::<(), tacker_sol013::QueryError>(())
//! ```

mod error;
mod filter;
mod paging;
mod path;
mod query;
mod schema;
mod selector;

pub use error::{FilterError, FilterProblem, QueryError};
pub use filter::{Filter, Op, Term};
pub use paging::{next_page_link, Page, Paging};
pub use path::{AttrPath, Segment};
pub use query::ListQuery;
pub use schema::ResourceSchema;
pub use selector::FieldSelection;

/// Longest `filter` expression accepted, in bytes; the query string is bounded anyway, this
/// keeps the work per request small and predictable.
pub const MAX_FILTER_LENGTH: usize = 4096;
/// Most `;`-joined terms in one filter expression.
pub const MAX_FILTER_TERMS: usize = 32;
/// Most values of one `in`/`nin`/`cont`/`ncont` term.
pub const MAX_TERM_VALUES: usize = 64;
/// Most `/`-separated components of one attribute path (filters and selectors).
pub const MAX_PATH_DEPTH: usize = 16;
/// Most attribute names in one `fields` or `exclude_fields` list.
pub const MAX_SELECTOR_PATHS: usize = 64;
/// Top-level attributes no attribute selector removes or narrows: SOL013 only lets selectors
/// act on complex attributes with a lower cardinality of 0, and every resource has these two.
pub const MANDATORY_ATTRIBUTES: &[&str] = &["id", "_links"];
/// The query parameter that carries the paging marker.
pub const NEXTPAGE_MARKER_PARAM: &str = "nextpage_opaque_marker";

/// At most this many characters of client input are echoed back in an error detail.
const ECHO_LIMIT: usize = 100;

/// Client input as echoed in an error message, cut short so a long query cannot inflate it.
fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
