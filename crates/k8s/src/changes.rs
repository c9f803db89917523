//! Wake-ups between readiness checks. The checks stay what they were (reads judged by
//! Tacker's rules, `readiness`); while objects are pending the driver also watches, by the
//! instance label, the kinds that decide their readiness, so that a change ends the pause
//! before the next check at once instead of after the poll interval.
//!
//! Each watch starts from the resourceVersion of a list, so no change after it is missed;
//! it is renewed from the last version seen when the server ends it (`timeoutSeconds`),
//! and from a new list after 410 Expired. A watch the server refuses or breaks off (no
//! watch verb, 403, 404, 405, a transport error) is dropped: the pause then lasts the poll
//! interval, as before watches.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The shortest time between two watches of one kind, so that a server ending every watch
/// at once is not asked in a loop.
const REWATCH_PAUSE: Duration = Duration::from_secs(1);

/// The watches of one wait; dropping it ends them.
pub(crate) struct Changes {
    changed: Arc<Notify>,
    _watches: JoinSet<()>,
}

impl Changes {
    /// Nothing watched: every pause lasts its full time.
    pub fn none() -> Changes {
        Changes {
            changed: Arc::new(Notify::new()),
            _watches: JoinSet::new(),
        }
    }

    /// Watches the objects of `apis` (one per kind) that match `selector`. The server ends
    /// each watch after `timeout` (it must stay under the client's read timeout), and it
    /// is renewed.
    pub async fn watch(apis: Vec<Api<DynamicObject>>, selector: &str, timeout: Duration) -> Changes {
        let changed = Arc::new(Notify::new());
        let seconds = u32::try_from(timeout.as_secs().clamp(1, 290)).unwrap_or(290);
        let list = ListParams::default().labels(selector);
        let watch = WatchParams::default().labels(selector).timeout(seconds);
        let starts = futures::future::join_all(apis.into_iter().map(|api| async {
            let version = list_version(&api, &list).await;
            (api, version)
        }))
        .await;
        let mut watches = JoinSet::new();
        for (api, version) in starts {
            if let Some(version) = version {
                let kind = Kind {
                    api,
                    list: list.clone(),
                    watch: watch.clone(),
                };
                watches.spawn(kind.follow(version, changed.clone()));
            }
        }
        Changes {
            changed,
            _watches: watches,
        }
    }

    /// Returns after a change of a watched object, or after `most`.
    pub async fn pause(&self, most: Duration) {
        let _ = tokio::time::timeout(most, self.changed.notified()).await;
    }
}

/// The resourceVersion to watch `api` from: that of a list made now.
async fn list_version(api: &Api<DynamicObject>, list: &ListParams) -> Option<String> {
    match api.list(list).await {
        Ok(objects) => objects.metadata.resource_version,
        Err(error) => {
            tracing::debug!(%error, "not watched: the list failed");
            None
        }
    }
}

/// One watched kind.
struct Kind {
    api: Api<DynamicObject>,
    list: ListParams,
    watch: WatchParams,
}

impl Kind {
    /// Signals every change from `version` on, until the watch fails.
    async fn follow(self, mut version: String, changed: Arc<Notify>) {
        loop {
            let started = Instant::now();
            let mut events = match self.api.watch(&self.watch, &version).await {
                Ok(events) => events.boxed(),
                Err(error) => {
                    tracing::debug!(%error, "watch refused; polling");
                    return;
                }
            };
            while let Some(event) = events.next().await {
                match event {
                    Ok(WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o)) => {
                        if let Some(seen) = o.metadata.resource_version {
                            version = seen;
                        }
                        changed.notify_one();
                    }
                    Ok(WatchEvent::Bookmark(bookmark)) => version = bookmark.metadata.resource_version,
                    Ok(WatchEvent::Error(status)) | Err(kube::Error::Api(status)) if status.code == 410 => {
                        // Changes were missed: go on from a new list, and check again.
                        let Some(listed) = list_version(&self.api, &self.list).await else {
                            return;
                        };
                        version = listed;
                        changed.notify_one();
                        break;
                    }
                    Ok(WatchEvent::Error(status)) => {
                        tracing::debug!(code = status.code, message = %status.message, "watch failed; polling");
                        return;
                    }
                    Err(error) => {
                        tracing::debug!(%error, "watch failed; polling");
                        return;
                    }
                }
            }
            tokio::time::sleep_until(started + REWATCH_PAUSE).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use http::{Request, Response};
    use kube::api::{ApiResource, GroupVersionKind};
    use kube::client::Body;
    use tower::{service_fn, BoxError};

    use super::*;

    /// A scripted API server: `answer` gets each request's path and query.
    fn api(
        answer: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
    ) -> (Api<DynamicObject>, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let answer = Arc::new(answer);
        let server = service_fn(move |request: Request<Body>| {
            let uri = request.uri().to_string();
            log.lock().unwrap().push(uri.clone());
            let (status, body) = answer(&uri);
            let response = Response::builder()
                .status(status)
                .body(Body::from(body.into_bytes()));
            async move { Ok::<_, BoxError>(response?) }
        });
        let client = kube::Client::new(server, "default");
        let kind = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
        (Api::namespaced_with(client, "default", &kind), seen)
    }

    fn kind(api: Api<DynamicObject>) -> Kind {
        Kind {
            api,
            list: ListParams::default().labels("app=web"),
            watch: WatchParams::default().labels("app=web").timeout(5),
        }
    }

    #[tokio::test]
    async fn after_410_expired_a_watch_goes_on_from_a_new_list() {
        let (api, seen) = api(|uri| {
            let body = if !uri.contains("watch=true") {
                r#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"20"},"items":[]}"#
            } else if uri.contains("resourceVersion=10") {
                r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 10 (15)","reason":"Expired","code":410}}"#
            } else if uri.contains("resourceVersion=20") {
                r#"{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c","resourceVersion":"21"}}}"#
            } else {
                ""
            };
            (200, format!("{body}\n"))
        });
        let changed = Arc::new(Notify::new());
        let watching = tokio::spawn(kind(api).follow("10".into(), changed.clone()));
        // Changes were missed: a check at once; then the change seen from the new list.
        tokio::time::timeout(Duration::from_secs(2), changed.notified())
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(3), changed.notified())
            .await
            .unwrap();
        watching.abort();
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen[0].contains("watch=true") && seen[0].contains("resourceVersion=10"),
            "{seen:?}"
        );
        assert!(seen[0].contains("labelSelector=app%3Dweb") && seen[0].contains("timeoutSeconds=5"));
        assert!(!seen[1].contains("watch=true"), "a list: {seen:?}");
        assert!(
            seen[2].contains("watch=true") && seen[2].contains("resourceVersion=20"),
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_watch_leaves_the_waiting_to_polling() {
        let (api, seen) = api(|_| {
            let refused = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server does not allow this method on the requested resource","reason":"MethodNotAllowed","code":405}"#;
            (405, refused.to_owned())
        });
        let changed = Arc::new(Notify::new());
        tokio::time::timeout(Duration::from_secs(2), kind(api).follow("10".into(), changed))
            .await
            .expect("the watch is given up");
        assert_eq!(seen.lock().unwrap().len(), 1, "and not asked for again");
    }
}
