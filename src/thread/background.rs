//! The background thread's loop: move due tasks in batches of at most
//! [`BATCH_MAX`](super::wakeup::BATCH_MAX), wake their workers, sleep until the next deadline (see the
//! wake-up plan in `wakeup.rs`). A panic in user code on this thread marks
//! the scheduler failed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::PoisonError;

use super::wakeup::{Phase, Shared, Wake};
use crate::clock::{Clock, Ticks};
use crate::subject::Subject;

impl<S, P, C, const QN: usize> Shared<S, P, C, QN>
where
    C: Clock,
    S: Subject,
{
    /// The body of the scheduler thread: [`deliver`](Self::deliver) until
    /// stopped. If user code panics in it (the clock, a queue, a subject's
    /// `Hash` or `Eq`, all forbidden to panic), the scheduler is marked
    /// failed and everyone waiting is woken to see it, instead of a thread
    /// that is gone while the scheduler looks alive.
    pub(super) fn background(&self) {
        if catch_unwind(AssertUnwindSafe(|| self.deliver())).is_err() {
            let mut st = self.lock();
            if st.phase == Phase::Running {
                st.phase = Phase::Failed;
            }
            st.sleep_until = None;
            drop(st);
            self.notify_everyone();
            log_debug!("tardy: the scheduler thread failed: user code panicked on it");
        }
    }

    /// Moves due tasks and sleeps until the next deadline, until the phase
    /// is no longer running.
    fn deliver(&self) {
        let mut st = self.lock();
        loop {
            if st.phase != Phase::Running {
                return;
            }
            #[cfg(feature = "log")]
            let (due, now) = (st.core.next_deadline(), st.core.now());
            let mut wake = Wake::NONE;
            let moved = st.move_due(&mut wake);
            if moved > 0 {
                #[cfg(feature = "log")]
                if let Some(due) = due {
                    log_trace!(
                        "tardy: moved {moved} task(s), {} ticks after the earliest deadline",
                        now.saturating_sub(due)
                    );
                }
                drop(st);
                self.send(&wake);
                st = self.lock();
                continue;
            }
            let now = st.core.now();
            if st.due_by(now) {
                continue; // due since the batch read the clock
            }
            // A deadline of `Ticks::MAX` is never slept until (see
            // `State::due_by`): a task due there was moved by the batch.
            let next = st.core.next_deadline().filter(|&d| d < Ticks::MAX);
            let until = next.map(|d| self.ticks_to_duration(d.saturating_sub(now)));
            let wait = match (until, st.max_sleep) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            st.sleep_until = Some(next.unwrap_or(Ticks::MAX));
            st = match wait {
                None => self.wake.wait(st).unwrap_or_else(PoisonError::into_inner),
                Some(wait) => {
                    self.wake
                        .wait_timeout(st, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            st.sleep_until = None;
        }
    }
}
