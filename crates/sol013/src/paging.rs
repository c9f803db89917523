//! SOL013 clause 5.4 paging of large query results.
//!
//! The opaque marker is the id of the last item of the previous page, as in Tacker: the API
//! keeps no per-client state, and a marker stays valid for as long as its item is listed.
//! The item list must come in the same order on every request (by id, say).

use url::Url;

use crate::{QueryError, NEXTPAGE_MARKER_PARAM};

/// The page size of one list API; 0 turns paging off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    page_size: usize,
}

/// One page of a list, and the marker of the page after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page, in list order.
    pub items: Vec<T>,
    /// Set when more items follow; goes into the `Link` header via [`next_page_link`].
    pub next_marker: Option<String>,
}

impl Paging {
    /// Paging with pages of `page_size` items (0: one page with everything).
    pub const fn new(page_size: usize) -> Paging {
        Paging { page_size }
    }

    /// Cuts the page after `marker` (or the first page) out of the full, filtered list.
    ///
    /// A marker naming no item of `items` is [`QueryError::UnknownMarker`]. With paging off
    /// a marker still skips to the items after it, as Tacker's v2 API does.
    pub fn page<T>(
        &self,
        items: Vec<T>,
        marker: Option<&str>,
        id: impl Fn(&T) -> &str,
    ) -> Result<Page<T>, QueryError> {
        let start = match marker {
            None => 0,
            Some(marker) => match items.iter().position(|item| id(item) == marker) {
                Some(index) => index + 1,
                None => return Err(QueryError::UnknownMarker(crate::echo(marker))),
            },
        };
        let mut items: Vec<T> = items.into_iter().skip(start).collect();
        // Only announce a next page when an item is actually left for it (Tacker v1 links a
        // next page whenever a page is full, which can lead to an empty last page).
        if self.page_size == 0 || items.len() <= self.page_size {
            return Ok(Page {
                items,
                next_marker: None,
            });
        }
        items.truncate(self.page_size);
        let next_marker = items.last().map(|item| id(item).to_owned());
        Ok(Page { items, next_marker })
    }
}

/// The `Link` header value pointing at the next page: the request URL with its query
/// parameters kept in order, the old marker dropped and the new one appended, all
/// percent-encoded; the fragment is dropped.
///
/// ```
/// let url = url::Url::parse("http://h:9890/vnflcm/v2/vnf_instances?filter=(eq,id,a)").unwrap();
/// assert_eq!(
///     tacker_sol013::next_page_link(&url, "m 1"),
///     "<http://h:9890/vnflcm/v2/vnf_instances?filter=%28eq%2Cid%2Ca%29\
///      &nextpage_opaque_marker=m+1>; rel=\"next\"",
/// );
/// ```
pub fn next_page_link(request_url: &Url, next_marker: &str) -> String {
    let kept: Vec<(String, String)> = request_url
        .query_pairs()
        .filter(|(key, _)| key != NEXTPAGE_MARKER_PARAM)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let mut url = request_url.clone();
    url.set_fragment(None);
    url.set_query(None);
    url.query_pairs_mut()
        .extend_pairs(kept)
        .append_pair(NEXTPAGE_MARKER_PARAM, next_marker);
    format!("<{url}>; rel=\"next\"")
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use url::Url;

    use super::{next_page_link, Page, Paging};
    use crate::QueryError;

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("id-{i}")).collect()
    }

    fn page(size: usize, n: usize, marker: Option<&str>) -> Result<Page<String>, QueryError> {
        Paging::new(size).page(ids(n), marker, |s| s.as_str())
    }

    #[test]
    fn paging_off_returns_everything() {
        let got = page(0, 5, None).unwrap();
        assert_eq!(got.items, ids(5));
        assert_eq!(got.next_marker, None);
    }

    #[test]
    fn walks_all_pages_with_markers() {
        let first = page(2, 5, None).unwrap();
        assert_eq!(first.items, ["id-1", "id-2"]);
        assert_eq!(first.next_marker.as_deref(), Some("id-2"));

        let second = page(2, 5, first.next_marker.as_deref()).unwrap();
        assert_eq!(second.items, ["id-3", "id-4"]);
        assert_eq!(second.next_marker.as_deref(), Some("id-4"));

        let last = page(2, 5, second.next_marker.as_deref()).unwrap();
        assert_eq!(last.items, ["id-5"]);
        assert_eq!(last.next_marker, None);
    }

    #[test]
    fn a_full_last_page_has_no_next_marker() {
        let first = page(2, 4, None).unwrap();
        let last = page(2, 4, first.next_marker.as_deref()).unwrap();
        assert_eq!(last.items, ["id-3", "id-4"]);
        assert_eq!(last.next_marker, None);
        let only = page(3, 3, None).unwrap();
        assert_eq!((only.items.len(), only.next_marker), (3, None));
    }

    #[test]
    fn marker_of_the_last_item_gives_an_empty_page() {
        let got = page(2, 3, Some("id-3")).unwrap();
        assert!(got.items.is_empty());
        assert_eq!(got.next_marker, None);
    }

    #[test]
    fn unknown_marker_is_an_error() {
        assert_eq!(
            page(2, 5, Some("id-9")),
            Err(QueryError::UnknownMarker("id-9".into()))
        );
        assert_eq!(
            page(0, 5, Some("")),
            Err(QueryError::UnknownMarker(String::new()))
        );
        assert_eq!(
            QueryError::UnknownMarker("x".into()).to_string(),
            "Invalid nextpage_opaque_marker 'x': no such page; repeat the query without it"
        );
    }

    #[test]
    fn marker_applies_with_paging_off() {
        let got = page(0, 4, Some("id-2")).unwrap();
        assert_eq!(got.items, ["id-3", "id-4"]);
        assert_eq!(got.next_marker, None);
    }

    #[test]
    fn pages_json_documents_by_their_id() {
        let docs: Vec<Value> = (1..=3).map(|i| json!({"id": format!("d{i}")})).collect();
        let got = Paging::new(1)
            .page(docs, Some("d1"), |d| d["id"].as_str().unwrap_or_default())
            .unwrap();
        assert_eq!(got.items, [json!({"id": "d2"})]);
        assert_eq!(got.next_marker.as_deref(), Some("d2"));
    }

    fn link(url: &str, marker: &str) -> String {
        next_page_link(&Url::parse(url).unwrap(), marker)
    }

    #[test]
    fn link_without_other_parameters() {
        assert_eq!(
            link("http://127.0.0.1:9890/vnfpkgm/v1/vnf_packages", "abc"),
            "<http://127.0.0.1:9890/vnfpkgm/v1/vnf_packages?nextpage_opaque_marker=abc>; rel=\"next\""
        );
    }

    #[test]
    fn link_keeps_other_parameters_and_replaces_the_marker() {
        assert_eq!(
            link(
                "https://h/vnflcm/v2/vnf_instances?nextpage_opaque_marker=old\
                 &filter=(eq,vnfdId,'a b')&all_fields#frag",
                "new"
            ),
            "<https://h/vnflcm/v2/vnf_instances?filter=%28eq%2CvnfdId%2C%27a+b%27%29&all_fields=\
             &nextpage_opaque_marker=new>; rel=\"next\""
        );
    }

    #[test]
    fn link_encodes_the_marker_and_decoded_values_survive() {
        let header = link("http://h/x?fields=a%2Fb%2Cc", "a&b=c;d>e");
        assert_eq!(
            header,
            "<http://h/x?fields=a%2Fb%2Cc&nextpage_opaque_marker=a%26b%3Dc%3Bd%3Ee>; rel=\"next\""
        );
        let inner = header.trim_start_matches('<').split('>').next().unwrap();
        let pairs: Vec<(String, String)> = Url::parse(inner)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("fields".to_owned(), "a/b,c".to_owned()),
                ("nextpage_opaque_marker".to_owned(), "a&b=c;d>e".to_owned())
            ]
        );
    }
}
