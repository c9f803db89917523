//! Whether an execution may still act on the VIM. A conductor's claim on an occurrence
//! is a lease it renews; while a renewal is overdue (the database stalls) the claim may
//! have run out and another conductor may take the occurrence over. So before each call
//! to the VIM a driver waits until the claim is known to be held, and gives up when it
//! is known to be lost: a superseded execution changes nothing more. A client's graceful
//! cancel uses the same gate: the driver stops before its next call.

use tokio::sync::watch;

/// Why an execution may not act on the VIM any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Halted {
    /// Another conductor holds the operation now, or this one is stopping it.
    #[error("this conductor no longer holds the operation; it stopped before changing the VIM")]
    ClaimLost,
    /// A client cancelled the operation (GRACEFUL).
    #[error("the operation was cancelled; it stopped before its next call to the VIM")]
    Cancelled,
}

/// What the executor knows of its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimState {
    /// Renewed recently enough that the lease cannot have run out.
    Held,
    /// Renewal is overdue: wait before acting.
    Uncertain,
    /// A client cancelled the operation: no further call, but the claim is still ours
    /// to record the outcome with.
    Cancelled,
    /// Another conductor holds the occurrence now, or the conductor is stopping it.
    Lost,
}

impl ClaimState {
    /// Held and Uncertain follow the renewals; a cancel, and then a loss, are for good.
    fn rank(self) -> u8 {
        match self {
            ClaimState::Held | ClaimState::Uncertain => 0,
            ClaimState::Cancelled => 1,
            ClaimState::Lost => 2,
        }
    }
}

/// The driver's side: cheap to clone, one per execution.
#[derive(Debug, Clone)]
pub struct Fence(watch::Receiver<ClaimState>);

/// The executor's side, which renews the claim and sets the state.
#[derive(Debug)]
pub struct FenceControl(watch::Sender<ClaimState>);

impl Fence {
    /// A pair for one execution whose claim was just written.
    pub fn new() -> (FenceControl, Fence) {
        let (tx, rx) = watch::channel(ClaimState::Held);
        (FenceControl(tx), Fence(rx))
    }

    /// A fence that is always held: probes, tools and tests outside a conductor.
    pub fn unfenced() -> Fence {
        Fence(watch::channel(ClaimState::Held).1)
    }

    /// Returns once the claim is held; an error if it is lost or the operation cancelled.
    pub async fn wait_held(&self) -> Result<(), Halted> {
        let mut rx = self.0.clone();
        let state = rx
            .wait_for(|state| *state != ClaimState::Uncertain)
            .await
            .map(|state| *state)
            // The executor is gone: nobody can tell, so act as if lost.
            .unwrap_or(ClaimState::Lost);
        match state {
            ClaimState::Lost => Err(Halted::ClaimLost),
            ClaimState::Cancelled => Err(Halted::Cancelled),
            ClaimState::Held | ClaimState::Uncertain => Ok(()),
        }
    }

    pub fn state(&self) -> ClaimState {
        *self.0.borrow()
    }
}

impl Default for Fence {
    fn default() -> Self {
        Fence::unfenced()
    }
}

impl FenceControl {
    pub fn set(&self, state: ClaimState) {
        self.0.send_if_modified(|current| {
            let changed = *current != state && state.rank() >= current.rank();
            if changed {
                *current = state;
            }
            changed
        });
    }

    pub fn state(&self) -> ClaimState {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn an_uncertain_claim_holds_the_driver_until_renewed() {
        let (control, fence) = Fence::new();
        fence.wait_held().await.unwrap();
        control.set(ClaimState::Uncertain);
        let waiting = tokio::spawn({
            let fence = fence.clone();
            async move { fence.wait_held().await }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(
            !waiting.is_finished(),
            "the driver must wait while the claim is uncertain"
        );
        control.set(ClaimState::Held);
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_lost_claim_stops_the_driver_for_good() {
        let (control, fence) = Fence::new();
        control.set(ClaimState::Uncertain);
        let waiting = tokio::spawn({
            let fence = fence.clone();
            async move { fence.wait_held().await }
        });
        control.set(ClaimState::Lost);
        assert!(waiting.await.unwrap().is_err());
        // A late renewal cannot bring a lost claim back.
        control.set(ClaimState::Held);
        assert_eq!(control.state(), ClaimState::Lost);
        assert!(fence.wait_held().await.is_err());
    }

    #[tokio::test]
    async fn a_vanished_executor_counts_as_lost() {
        let (control, fence) = Fence::new();
        control.set(ClaimState::Uncertain);
        drop(control);
        assert!(fence.wait_held().await.is_err());
        assert!(Fence::unfenced().wait_held().await.is_ok());
    }

    #[tokio::test]
    async fn a_cancel_stops_the_driver_and_only_a_loss_overrides_it() {
        let (control, fence) = Fence::new();
        control.set(ClaimState::Uncertain);
        let waiting = tokio::spawn({
            let fence = fence.clone();
            async move { fence.wait_held().await }
        });
        control.set(ClaimState::Cancelled);
        assert_eq!(waiting.await.unwrap(), Err(Halted::Cancelled));
        // Renewals go on while the cancel is recorded; they do not undo it.
        control.set(ClaimState::Held);
        assert_eq!(fence.state(), ClaimState::Cancelled);
        control.set(ClaimState::Lost);
        assert_eq!(fence.wait_held().await, Err(Halted::ClaimLost));
    }
}
