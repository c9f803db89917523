//! The change history watches are served from, like the apiserver's watch cache: every
//! write of the store is one numbered change (its resourceVersion) with the object before
//! and after. Only the newest changes are kept; a watch from before them gets 410 Expired.

use std::collections::VecDeque;

use serde_json::Value;
use tokio::sync::watch;

/// Changes kept when the configuration does not say (kube-apiserver's
/// `--default-watch-cache-size` is 100 per resource type; this one is shared by all).
pub const DEFAULT_CAPACITY: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One write of the store.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub kind: ChangeType,
    /// (group, plural) of the object's resource type.
    pub resource: (&'static str, &'static str),
    /// The object after the write (its last state for a deletion).
    pub object: Value,
    /// The object before a modification.
    pub previous: Option<Value>,
}

/// The newest changes, and a signal that wakes the open watches after each one.
pub struct History {
    changes: VecDeque<Change>,
    capacity: usize,
    /// The newest resourceVersion whose change is no longer kept (0: none dropped yet).
    dropped: u64,
    signal: watch::Sender<u64>,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        History {
            changes: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            signal: watch::Sender::new(0),
        }
    }

    pub fn record(&mut self, change: Change) {
        let rv = change.rv;
        self.changes.push_back(change);
        while self.changes.len() > self.capacity {
            if let Some(old) = self.changes.pop_front() {
                self.dropped = old.rv;
            }
        }
        self.signal.send_replace(rv);
    }

    /// Wakes after every change recorded from now on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.signal.subscribe()
    }

    /// The changes after `rv`, oldest first; `Err` with the oldest resourceVersion still
    /// known when some of them are no longer kept.
    pub fn since(&self, rv: u64) -> Result<impl Iterator<Item = &Change>, u64> {
        if rv < self.dropped {
            return Err(self.dropped + 1);
        }
        Ok(self.changes.iter().skip_while(move |c| c.rv <= rv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(rv: u64) -> Change {
        Change {
            rv,
            kind: ChangeType::Added,
            resource: ("", "pods"),
            object: json!({}),
            previous: None,
        }
    }

    #[test]
    fn keeps_the_newest_changes_and_expires_older_versions() {
        let mut history = History::new(2);
        let mut woken = history.subscribe();
        for rv in 1..=3 {
            history.record(change(rv));
        }
        assert!(woken.has_changed().unwrap());
        assert_eq!(*woken.borrow_and_update(), 3);
        let after = |rv| history.since(rv).map(|c| c.map(|c| c.rv).collect::<Vec<_>>());
        assert_eq!(after(1), Ok(vec![2, 3]));
        assert_eq!(after(3), Ok(vec![]));
        assert_eq!(after(0), Err(2), "the change of version 1 is gone");
    }
}
