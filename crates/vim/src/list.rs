//! The VIM list: a per-process copy of every VIM's view, re-read only when the database's
//! VIM revision changed (any server or tool that changes a VIM bumps it in the same
//! transaction), and Tacker's exact-match query filters applied to it.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use tacker_db::Database;

use crate::service::VimView;
use crate::VimError;

type Views = Arc<Snapshot>;

/// Every VIM's view, oldest first, and where each id is.
#[derive(Debug)]
pub(crate) struct Snapshot {
    views: Vec<Arc<ListedVim>>,
    by_id: HashMap<String, usize>,
}

impl Snapshot {
    fn new(views: Vec<Arc<ListedVim>>) -> Self {
        let by_id = views.iter().enumerate().map(|(i, v)| (v.id.clone(), i)).collect();
        Snapshot { views, by_id }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<ListedVim>> {
        self.views.iter()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Arc<ListedVim>> {
        self.by_id.get(id).map(|&i| &self.views[i])
    }
}

/// A VIM's view with its JSON, written once when the list is read: a whole list is then
/// its items' bytes put together (writing every view again was most of a list's cost).
#[derive(Debug)]
pub struct ListedVim {
    view: VimView,
    json: Box<RawValue>,
}

impl ListedVim {
    fn new(view: VimView) -> Result<Self, serde_json::Error> {
        let json = serde_json::value::to_raw_value(&view)?;
        Ok(ListedVim { view, json })
    }
}

/// Tacker's list body, `{"vims": [...]}`, written straight from the views' kept JSON into
/// a buffer of the exact size: one allocation and one copy of each view.
pub(crate) fn list_body(views: &[&ListedVim]) -> String {
    const HEAD: &str = "{\"vims\":[";
    const TAIL: &str = "]}";
    let size = HEAD.len() + views.iter().map(|v| v.json.get().len() + 1).sum::<usize>() + TAIL.len();
    let mut body = String::with_capacity(size);
    body.push_str(HEAD);
    for (i, view) in views.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(view.json.get());
    }
    body.push_str(TAIL);
    body
}

impl Deref for ListedVim {
    type Target = VimView;

    fn deref(&self) -> &VimView {
        &self.view
    }
}

impl Serialize for ListedVim {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

/// Every VIM's view as of a database revision.
#[derive(Debug, Default)]
pub(crate) struct ListCache {
    snapshot: RwLock<Option<(i64, Views)>>,
}

impl ListCache {
    /// The current views: one small read of the revision, and a full read only after a change.
    pub(crate) async fn views(&self, db: &Database) -> Result<Views, VimError> {
        let revision = db.vims_revision().await?;
        if let Ok(guard) = self.snapshot.read() {
            if let Some((cached, views)) = guard.as_ref() {
                if *cached == revision {
                    return Ok(views.clone());
                }
            }
        }
        // Read after the revision: the rows are at least as new as `revision`, so a change
        // racing with this read only causes one more reload later, never a stale answer.
        let views: Views = Arc::new(Snapshot::new(
            db.all_vims()
                .await?
                .into_iter()
                .map(|row| ListedVim::new(VimView::from_row(row)).map(Arc::new))
                .collect::<Result<_, _>>()?,
        ));
        if let Ok(mut guard) = self.snapshot.write() {
            if guard.as_ref().is_none_or(|(cached, _)| *cached < revision) {
                *guard = Some((revision, views.clone()));
            }
        }
        Ok(views)
    }
}

/// An attribute a list may filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    Id,
    TenantId,
    Type,
    Name,
    Description,
    AuthUrl,
    IsDefault,
    Status,
}

/// `?attr=value` filters: each attribute matches any of its values, all attributes must match.
#[derive(Debug, Default)]
pub(crate) struct ListFilter {
    any_of: Vec<(Attr, Vec<String>)>,
}

impl ListFilter {
    /// Like Tacker, keys that are not attributes are ignored; `is_default` values must be booleans.
    pub(crate) fn parse(pairs: &[(String, String)]) -> Result<Self, VimError> {
        let mut filter = ListFilter::default();
        for (key, value) in pairs {
            let attr = match key.as_str() {
                "id" => Attr::Id,
                "tenant_id" => Attr::TenantId,
                "type" => Attr::Type,
                "name" => Attr::Name,
                "description" => Attr::Description,
                "auth_url" => Attr::AuthUrl,
                "status" => Attr::Status,
                "is_default" => {
                    let normalized = match value.to_ascii_lowercase().as_str() {
                        "true" | "1" => "true",
                        "false" | "0" => "false",
                        _ => {
                            return Err(VimError::invalid(
                                "is_default",
                                format!("'{value}' cannot be converted to boolean"),
                            ))
                        }
                    };
                    filter.push(Attr::IsDefault, normalized.to_string());
                    continue;
                }
                _ => continue,
            };
            filter.push(attr, value.clone());
        }
        Ok(filter)
    }

    fn push(&mut self, attr: Attr, value: String) {
        match self.any_of.iter_mut().find(|(a, _)| *a == attr) {
            Some((_, values)) => values.push(value),
            None => self.any_of.push((attr, vec![value])),
        }
    }

    pub(crate) fn matches(&self, view: &VimView) -> bool {
        self.any_of.iter().all(|(attr, values)| {
            let actual = match attr {
                Attr::Id => &view.id,
                Attr::TenantId => &view.tenant_id,
                Attr::Type => &view.vim_type,
                Attr::Name => &view.name,
                Attr::Description => &view.description,
                Attr::AuthUrl => &view.auth_url,
                Attr::IsDefault if view.is_default => "true",
                Attr::IsDefault => "false",
                Attr::Status => "ACTIVE",
            };
            values.iter().any(|v| v == actual)
        })
    }
}
