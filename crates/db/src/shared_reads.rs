//! One change-counter read shared by every request that asks for it while it waits its turn.
//!
//! On PostgreSQL and MariaDB a counter read is a round trip over TCP, and nearly every
//! read request makes one; under load most of a request's CPU is that round trip. A
//! request cannot take the answer of a read that was already sent when it arrived: that
//! answer may predate a write the caller has seen commit (through this or another
//! process). It can take the answer of a read sent after it arrived. So the reads of one
//! counter run one at a time, and the next read gathers everyone who asks while the
//! current one is under way: at most one read on the wire and one waiting, however many
//! requests there are. When the read on the wire finds the database unavailable, the
//! read waiting for it answers the same without being sent: its askers waited through
//! that outage, and a 503 asks them to retry instead of waiting out a second timeout.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::{BoxFuture, FutureExt, Shared};

use crate::counters::Counter;
use crate::error::DbError;

/// What a shared read answers: the value, or the one error every sharer reports.
type Answer = Result<i64, Arc<DbError>>;
type Read = Shared<BoxFuture<'static, Answer>>;

/// The shared reads of the three counters.
#[derive(Default)]
pub(crate) struct SharedReads {
    vims: Arc<Turns>,
    lcm: Arc<Turns>,
    packages: Arc<Turns>,
}

/// One counter's reads.
#[derive(Default)]
struct Turns {
    /// The read that has not been sent yet, which new askers join.
    next: Mutex<Next>,
    /// Held by the read on the wire.
    wire: Arc<tokio::sync::Mutex<()>>,
    /// Why the last read sent found the database unavailable, until a read waiting for it
    /// takes it as its own answer.
    unavailable: Mutex<Option<Arc<DbError>>>,
}

#[derive(Default)]
struct Next {
    /// The waiting read and its number.
    waiting: Option<(u64, Read)>,
    /// Numbers the reads, so that a read only clears itself from `waiting`.
    issued: u64,
}

impl std::fmt::Debug for SharedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedReads").finish_non_exhaustive()
    }
}

impl SharedReads {
    /// The counter's value from a read sent after this call began: the waiting read if
    /// there is one, else a new one made by `read`, sent once the one before it is done.
    pub(crate) async fn read<F, R>(&self, counter: Counter, read: F) -> Answer
    where
        F: FnOnce() -> R,
        R: Future<Output = Result<i64, DbError>> + Send + 'static,
    {
        let turns = match counter {
            Counter::Vims => &self.vims,
            Counter::Lcm => &self.lcm,
            Counter::Packages => &self.packages,
        };
        let shared = {
            let mut next = turns.next.lock().unwrap_or_else(PoisonError::into_inner);
            match &next.waiting {
                Some((_, shared)) => shared.clone(),
                None => {
                    next.issued += 1;
                    let number = next.issued;
                    // Taken now if free, so that a read that has to wait knows it did.
                    let wire = turns.wire.clone().try_lock_owned().ok();
                    let shared = Turns::send_in_turn(turns.clone(), number, wire, read())
                        .boxed()
                        .shared();
                    next.waiting = Some((number, shared.clone()));
                    shared
                }
            }
        };
        shared.await
    }
}

impl Turns {
    async fn send_in_turn(
        turns: Arc<Turns>,
        number: u64,
        wire: Option<tokio::sync::OwnedMutexGuard<()>>,
        read: impl Future<Output = Result<i64, DbError>>,
    ) -> Answer {
        let waited = wire.is_none();
        let _wire = match wire {
            Some(wire) => wire,
            None => turns.wire.clone().lock_owned().await,
        };
        // From here on new askers start the read after this one: it is about to be sent.
        {
            let mut next = turns.next.lock().unwrap_or_else(PoisonError::into_inner);
            if next.waiting.as_ref().is_some_and(|(n, _)| *n == number) {
                next.waiting = None;
            }
        }
        let outage = turns
            .unavailable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(failure) = outage.filter(|_| waited) {
            return Err(failure);
        }
        let answer = read.await.map_err(Arc::new);
        if let Err(failure) = &answer {
            if failure.is_unavailable() {
                *turns.unavailable.lock().unwrap_or_else(PoisonError::into_inner) = Some(failure.clone());
            }
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;

    /// A read that answers what the test sends it, counting the reads sent.
    struct Wire {
        sent: Arc<AtomicUsize>,
        answers: Mutex<Vec<oneshot::Receiver<Result<i64, DbError>>>>,
    }

    impl Wire {
        fn new() -> (Arc<Wire>, Vec<oneshot::Sender<Result<i64, DbError>>>) {
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..4).map(|_| oneshot::channel()).unzip();
            let wire = Wire {
                sent: Arc::default(),
                answers: Mutex::new(receivers.into_iter().rev().collect()),
            };
            (Arc::new(wire), senders)
        }

        fn read(&self) -> impl Future<Output = Result<i64, DbError>> + Send + 'static {
            let answer = self
                .answers
                .lock()
                .unwrap()
                .pop()
                .expect("no more reads expected");
            let sent = self.sent.clone();
            async move {
                sent.fetch_add(1, Ordering::SeqCst);
                answer.await.expect("the test answers every read")
            }
        }

        fn sent(&self) -> usize {
            self.sent.load(Ordering::SeqCst)
        }
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    fn ask(
        reads: &Arc<SharedReads>,
        wire: &Arc<Wire>,
        counter: Counter,
    ) -> tokio::task::JoinHandle<Result<i64, String>> {
        let (reads, wire) = (reads.clone(), wire.clone());
        tokio::spawn(async move {
            reads
                .read(counter, || wire.read())
                .await
                .map_err(|e| e.to_string())
        })
    }

    #[tokio::test]
    async fn askers_during_a_read_share_the_next_one() {
        let reads = Arc::new(SharedReads::default());
        let (wire, mut answers) = Wire::new();
        let first = ask(&reads, &wire, Counter::Lcm);
        settle().await;
        assert_eq!(wire.sent(), 1);
        // Three more ask while the first read is on the wire: they wait for a second.
        let later: Vec<_> = (0..3).map(|_| ask(&reads, &wire, Counter::Lcm)).collect();
        settle().await;
        assert_eq!(wire.sent(), 1, "one read on the wire at a time");
        answers.remove(0).send(Ok(7)).unwrap();
        assert_eq!(first.await.unwrap(), Ok(7));
        settle().await;
        assert_eq!(wire.sent(), 2, "the waiting askers' read is sent");
        answers.remove(0).send(Ok(8)).unwrap();
        for asker in later {
            assert_eq!(
                asker.await.unwrap(),
                Ok(8),
                "not the answer sent before they asked"
            );
        }
        // Another counter has reads of its own.
        let vims = ask(&reads, &wire, Counter::Vims);
        settle().await;
        assert_eq!(wire.sent(), 3);
        answers.remove(0).send(Ok(1)).unwrap();
        assert_eq!(vims.await.unwrap(), Ok(1));
    }

    #[tokio::test]
    async fn an_error_is_every_sharers_answer() {
        let reads = Arc::new(SharedReads::default());
        let (wire, mut answers) = Wire::new();
        let first = ask(&reads, &wire, Counter::Packages);
        settle().await;
        let (a, b) = (
            ask(&reads, &wire, Counter::Packages),
            ask(&reads, &wire, Counter::Packages),
        );
        settle().await;
        answers.remove(0).send(Ok(1)).unwrap();
        assert_eq!(first.await.unwrap(), Ok(1));
        settle().await;
        answers.remove(0).send(Err(DbError::NotFound)).unwrap();
        assert_eq!(a.await.unwrap(), Err("not found".into()));
        assert_eq!(b.await.unwrap(), Err("not found".into()));
        assert_eq!(wire.sent(), 2);
    }

    #[tokio::test]
    async fn askers_waiting_through_an_outage_get_its_answer_at_once() {
        let reads = Arc::new(SharedReads::default());
        let (wire, answers) = Wire::new();
        let mut answers = answers.into_iter();
        let first = ask(&reads, &wire, Counter::Vims);
        settle().await;
        let waiting: Vec<_> = (0..2).map(|_| ask(&reads, &wire, Counter::Vims)).collect();
        settle().await;
        let outage = || DbError::Sqlx(sqlx::Error::PoolTimedOut);
        answers.next().unwrap().send(Err(outage())).unwrap();
        let expected = Err(outage().to_string());
        assert_eq!(first.await.unwrap(), expected);
        for asker in waiting {
            assert_eq!(asker.await.unwrap(), expected);
        }
        assert_eq!(wire.sent(), 1, "the waiting read was not sent");
        // The outage answers one waiting read only: the next asker's read is sent.
        let _unsent = answers.next();
        let next = ask(&reads, &wire, Counter::Vims);
        settle().await;
        assert_eq!(wire.sent(), 2);
        answers.next().unwrap().send(Ok(5)).unwrap();
        assert_eq!(next.await.unwrap(), Ok(5));
    }

    #[tokio::test]
    async fn a_read_whose_askers_all_left_is_taken_over_by_the_next() {
        let reads = Arc::new(SharedReads::default());
        let (wire, mut answers) = Wire::new();
        let first = ask(&reads, &wire, Counter::Lcm);
        settle().await;
        // The waiting read's only asker goes away before it is sent.
        let gone = ask(&reads, &wire, Counter::Lcm);
        settle().await;
        gone.abort();
        answers.remove(0).send(Ok(1)).unwrap();
        assert_eq!(first.await.unwrap(), Ok(1));
        settle().await;
        // The next asker joins the read still waiting, which then is sent.
        let next = ask(&reads, &wire, Counter::Lcm);
        settle().await;
        assert_eq!(wire.sent(), 2);
        answers.remove(0).send(Ok(2)).unwrap();
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(5), next)
                .await
                .unwrap()
                .unwrap(),
            Ok(2)
        );
    }
}
