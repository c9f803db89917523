//! `?watch=1` on a collection (or on one object), as kube-apiserver serves it: a chunked
//! stream of newline-delimited WatchEvents (`{"type":"ADDED|MODIFIED|DELETED","object":..}`).
//!
//! - without `resourceVersion` (or with `0`) the stream starts with the current objects
//!   as ADDED; with a resourceVersion (from a list or an earlier event) it replays the
//!   changes after it, or sends one ERROR event (410 Expired) and ends when they are no
//!   longer kept, as the watch cache does;
//! - label and field selectors apply to the object before and after a change: an object
//!   that starts to match arrives as ADDED, one that stops matching as DELETED;
//! - the server ends the stream after `timeoutSeconds` (with `allowWatchBookmarks`, after a
//!   BOOKMARK carrying the resourceVersion the client may go on from).

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::params::Params;
use super::Target;
use crate::app::AppState;
use crate::history::{Change, ChangeType};
use crate::meta;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// kube-apiserver ends a watch without `timeoutSeconds` after `--min-request-timeout`
/// (1800 s) or up to twice that.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// What one watch sends.
struct Filter {
    resource: (&'static str, &'static str),
    kind: &'static str,
    api_version: String,
    namespace: Option<String>,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| meta::namespace(object) == ns)
            && self.name.as_deref().is_none_or(|n| meta::name(object) == n)
            && self.labels.matches(&meta::labels(object))
            && self.fields.matches(object)
    }

    /// The event a change is for this watch, if any.
    fn event(&self, change: &Change) -> Option<(&'static str, Value)> {
        if change.resource != self.resource {
            return None;
        }
        let now = self.matches(&change.object);
        let before = change.previous.as_ref().is_some_and(|p| self.matches(p));
        match (change.kind, before, now) {
            (ChangeType::Added, _, true) => Some(("ADDED", change.object.clone())),
            (ChangeType::Deleted, _, true) => Some(("DELETED", change.object.clone())),
            (ChangeType::Modified, true, true) => Some(("MODIFIED", change.object.clone())),
            (ChangeType::Modified, false, true) => Some(("ADDED", change.object.clone())),
            // No longer selected: the object as it was, at the version of the change.
            (ChangeType::Modified, true, false) => {
                let mut gone = change.previous.clone()?;
                meta::metadata_mut(&mut gone).insert("resourceVersion".into(), json!(change.rv.to_string()));
                Some(("DELETED", gone))
            }
            _ => None,
        }
    }
}

pub fn watch(app: &AppState, target: &Target, params: &Params) -> Result<Response, ApiError> {
    let filter = Filter {
        resource: (target.rt.group, target.rt.plural),
        kind: target.rt.kind,
        api_version: target.rt.api_version(),
        namespace: (!target.namespace.is_empty()).then(|| target.namespace.clone()),
        name: (!target.name.is_empty()).then(|| target.name.clone()),
        labels: LabelSelector::parse(params.label_selector.as_deref().unwrap_or_default())?,
        fields: FieldSelector::parse(params.field_selector.as_deref().unwrap_or_default())?,
    };
    let from = match params.resource_version.as_deref() {
        None | Some("" | "0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid resource version: {rv:?}")))?,
        ),
    };
    // As in kube-apiserver, `timeoutSeconds=0` means the default.
    let timeout = params
        .timeout_seconds
        .filter(|s| *s > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    // Where the stream starts, and the signal of later changes, under one lock.
    let (start, initial, signal) = {
        let state = app.store.lock();
        let initial: Vec<Value> = match from {
            Some(_) => Vec::new(),
            None => state
                .list(target.rt, filter.namespace.as_deref())
                .into_iter()
                .filter(|o| filter.matches(o))
                .collect(),
        };
        (
            from.unwrap_or(state.revision()),
            initial,
            state.history().subscribe(),
        )
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stream = Stream {
        app: app.clone(),
        filter,
        last: start,
        bookmarks: params.allow_watch_bookmarks,
        deadline: Instant::now() + timeout,
        tx,
    };
    tokio::spawn(stream.run(initial, signal));
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, Infallible>(chunk), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

struct Stream {
    app: AppState,
    filter: Filter,
    /// The newest resourceVersion looked at.
    last: u64,
    bookmarks: bool,
    deadline: Instant,
    tx: mpsc::Sender<Bytes>,
}

impl Stream {
    /// Sends events until the deadline, the client going away or the history running
    /// past what this watch has seen.
    async fn run(mut self, initial: Vec<Value>, mut signal: tokio::sync::watch::Receiver<u64>) {
        for object in initial {
            if !self.send("ADDED", object).await {
                return;
            }
        }
        loop {
            match self.pending() {
                Ok(events) => {
                    for (kind, object) in events {
                        if !self.send(kind, object).await {
                            return;
                        }
                    }
                }
                Err(expired) => {
                    self.send("ERROR", expired.status_body()).await;
                    return;
                }
            }
            tokio::select! {
                changed = signal.changed() => if changed.is_err() { return },
                () = tokio::time::sleep_until(self.deadline) => {
                    if self.bookmarks {
                        let bookmark = json!({"kind": self.filter.kind, "apiVersion": self.filter.api_version,
                                              "metadata": {"resourceVersion": self.last.to_string()}});
                        self.send("BOOKMARK", bookmark).await;
                    }
                    return;
                }
                () = self.tx.closed() => return,
            }
        }
    }

    /// The events of the changes since the last look.
    fn pending(&mut self) -> Result<Vec<(&'static str, Value)>, ApiError> {
        let state = self.app.store.lock();
        let changes = state.history().since(self.last).map_err(|oldest| {
            ApiError::Expired(format!("too old resource version: {} ({oldest})", self.last))
        })?;
        let mut events = Vec::new();
        for change in changes {
            self.last = change.rv;
            events.extend(self.filter.event(change));
        }
        Ok(events)
    }

    /// Whether the client still listens.
    async fn send(&self, kind: &str, object: Value) -> bool {
        let mut line = json!({"type": kind, "object": object}).to_string().into_bytes();
        line.push(b'\n');
        self.tx.send(Bytes::from(line)).await.is_ok()
    }
}
