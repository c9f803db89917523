//! List pages kept as written, per process. A page depends on the rows it shows, and
//! otherwise only on what [`PageKey`] holds; the rows are covered by a database revision
//! that every transaction changing them bumps, so a page kept at the current revision is
//! the page a fresh read would render, whichever server or conductor changed the data.
//! Answering from a kept page costs one small read instead of reading, building and
//! writing every row (most of a list's cost).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use axum::http::Uri;
use axum::response::Response;
use serde_json::Value;

use super::etsi::RenderedPage;

/// What kept pages may hold in all; when a new page would go past it, they are all
/// dropped (lists are re-rendered on their next request, at the cost of one read).
const KEPT_BYTES: usize = 8 * 1024 * 1024;

/// Everything besides the rows that a list page depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The resource and API version, and every selector, filter and marker.
    path_and_query: String,
    /// The tenant the caller's list is limited to; `None` for every tenant (an admin).
    scope: Option<String>,
    /// What the links are made absolute against.
    base: String,
}

impl PageKey {
    pub fn new(uri: &Uri, scope: Option<String>, base: String) -> Self {
        let path_and_query = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
        PageKey {
            path_and_query,
            scope,
            base,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }
}

#[derive(Default)]
struct Kept {
    pages: HashMap<PageKey, (i64, RenderedPage)>,
    bytes: usize,
}

/// Pages kept with the revision they were rendered at.
#[derive(Default)]
pub struct RenderedLists {
    kept: Mutex<Kept>,
}

impl RenderedLists {
    /// The page kept for `key`, if it was rendered at `revision`.
    pub fn get(&self, key: &PageKey, revision: i64) -> Option<RenderedPage> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        match kept.pages.get(key) {
            Some((at, page)) if *at == revision => Some(page.clone()),
            _ => None,
        }
    }

    /// The list answer for `key`: the page kept at `revision` (read before anything else),
    /// or else the page `render` reads, which is then kept. `render` yields the page's
    /// items and the marker of the next page; it is not started when a kept page answers.
    pub async fn answer<E>(
        &self,
        key: PageKey,
        revision: i64,
        uri: &Uri,
        render: impl Future<Output = Result<(Vec<Value>, Option<String>), E>>,
    ) -> Result<Response, E> {
        if let Some(page) = self.get(&key, revision) {
            return Ok(page.response());
        }
        let (items, next_marker) = render.await?;
        let page = RenderedPage::new(items, next_marker, key.base(), uri);
        self.keep(key, revision, &page);
        Ok(page.response())
    }

    /// Keeps `page`, rendered from rows read after `revision` was, as the page of `key`
    /// at `revision`: the rows were at least that new, so a change racing with the read
    /// only makes a later request render again.
    pub fn keep(&self, key: PageKey, revision: i64, page: &RenderedPage) {
        if page.size() > KEPT_BYTES / 4 {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.pages.get(&key).is_some_and(|(at, _)| *at > revision) {
            return;
        }
        if kept.bytes + page.size() > KEPT_BYTES {
            kept.pages.clear();
            kept.bytes = 0;
        }
        kept.bytes += page.size();
        if let Some((_, replaced)) = kept.pages.insert(key, (revision, page.clone())) {
            kept.bytes -= replaced.size();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn page(items: usize) -> RenderedPage {
        let uri: Uri = "/vnflcm/v2/vnf_instances".parse().expect("uri");
        let items = (0..items).map(|i| json!({"id": i.to_string()})).collect();
        RenderedPage::new(items, None, "http://nfvo", &uri)
    }

    fn key(query: &str, scope: Option<&str>) -> PageKey {
        let uri: Uri = format!("/vnflcm/v2/vnf_instances{query}").parse().expect("uri");
        PageKey::new(&uri, scope.map(str::to_owned), "http://nfvo".into())
    }

    #[test]
    fn a_page_is_answered_only_at_its_revision_and_for_its_own_key() {
        let lists = RenderedLists::default();
        lists.keep(key("", Some("a")), 7, &page(2));
        assert_eq!(
            lists.get(&key("", Some("a")), 7).map(|p| p.size()),
            Some(page(2).size())
        );
        assert!(lists.get(&key("", Some("a")), 8).is_none());
        assert!(lists.get(&key("", Some("b")), 7).is_none());
        assert!(lists.get(&key("", None), 7).is_none());
        assert!(lists.get(&key("?all_fields", Some("a")), 7).is_none());
    }

    #[test]
    fn an_older_page_never_replaces_a_newer_one() {
        let lists = RenderedLists::default();
        lists.keep(key("", None), 9, &page(3));
        lists.keep(key("", None), 8, &page(1));
        assert!(lists.get(&key("", None), 8).is_none());
        assert!(lists.get(&key("", None), 9).is_some());
    }

    #[test]
    fn kept_pages_stay_within_their_budget() {
        let lists = RenderedLists::default();
        let big = page(20_000);
        assert!(big.size() < KEPT_BYTES / 4, "{}", big.size());
        let fits = KEPT_BYTES / big.size();
        for i in 0..fits + 3 {
            lists.keep(key(&format!("?marker={i}"), None), 1, &big);
            let kept = lists.kept.lock().expect("lock");
            assert!(kept.bytes <= KEPT_BYTES);
            assert_eq!(
                kept.bytes,
                kept.pages.values().map(|(_, p)| p.size()).sum::<usize>()
            );
        }
        // Too big to keep at all.
        let huge = page(200_000);
        lists.keep(key("?huge", None), 1, &huge);
        assert!(lists.get(&key("?huge", None), 1).is_none());
    }
}
