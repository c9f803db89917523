//! The open-file limit: raised to what the process may have, and a budget for client
//! connections that leaves room for the database, package files and outbound clients.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Raises the soft RLIMIT_NOFILE to the hard limit (unprivileged, as Go's runtime and
/// systemd advise) and returns how many connections the process can afford; `None` when
/// the limit is unknown or unlimited.
pub(crate) fn connection_budget() -> Option<usize> {
    let mut limit = getrlimit(Resource::Nofile);
    if let (Some(soft), Some(hard)) = (limit.current, limit.maximum) {
        if soft < hard {
            let raised = Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => limit = raised,
                Err(e) => tracing::debug!(error = %e, "cannot raise the open-file limit"),
            }
        }
    }
    let soft = usize::try_from(limit.current?).ok()?;
    // A quarter, at most 256, stays for everything that is not a client connection.
    Some(soft - (soft / 4).min(256))
}
