//! Work that must not stop half way when the request awaiting it goes away.

use std::future::Future;

/// The runtime stopped before detached work could finish (the process is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the server is shutting down")]
pub struct Interrupted;

/// Runs `work` on its own task and waits for it. A client that disconnects drops the
/// request's future; `work` goes on to its end regardless, so work that writes to two
/// places (a key file and a row, a file and a row) finishes or undoes together.
pub async fn run_detached<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, Interrupted> {
    match tokio::spawn(work).await {
        Ok(value) => Ok(value),
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(_) => Err(Interrupted),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn work_finishes_after_its_caller_is_dropped() {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let caller = tokio::spawn(run_detached(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            flag.store(true, Ordering::SeqCst);
        }));
        tokio::time::sleep(Duration::from_millis(10)).await;
        caller.abort();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(finished.load(Ordering::SeqCst));
    }
}
