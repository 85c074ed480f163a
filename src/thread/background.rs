//! The background thread's loop: move due tasks in bounded batches, wake
//! their workers, sleep until the next deadline (see the wake-up plan in
//! `wakeup.rs`).

use std::sync::PoisonError;

use super::wakeup::{Phase, Shared, Wake, WORKER_RUN_MAX};
use crate::clock::{Clock, Ticks};
use crate::subject::Subject;

impl<S, P, C, const N: usize, const QN: usize> Shared<S, P, C, N, QN>
where
    C: Clock,
    S: Subject,
{
    /// The scheduler thread.
    pub(super) fn run(&self) {
        let mut st = self.lock();
        loop {
            if st.phase != Phase::Running {
                return;
            }
            #[cfg(feature = "log")]
            let (due, now) = (st.core.next_deadline(), st.core.now());
            let moved = st.core.run_pending_max(WORKER_RUN_MAX);
            if moved > 0 {
                #[cfg(feature = "log")]
                if let Some(due) = due {
                    log_trace!(
                        "tardy: moved {moved} task(s), {} ticks after the earliest deadline",
                        now.saturating_sub(due)
                    );
                }
                let mut wake = Wake::NONE;
                st.all_ready(&mut wake);
                drop(st);
                self.send(&wake);
                st = self.lock();
                continue;
            }
            let now = st.core.now();
            let next = st.core.next_deadline();
            if next.is_some_and(|d| d <= now) {
                continue; // due since run_pending read the clock
            }
            let until = next.map(|d| self.ticks_to_duration(d.saturating_sub(now)));
            let wait = match (until, self.max_sleep) {
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
