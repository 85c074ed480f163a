//! The wakers of [`CsScheduler`](super::CsScheduler) (feature
//! `async`), and what an operation must wake once its critical section is
//! over.
//!
//! Ground rules:
//!
//! - One waker per queue (at the queue's index in the scheduler) and one
//!   for the driver, each an [`AtomicWaker`] from the `atomic-waker`
//!   crate: `const` constructible, no allocation, registration and wake-up
//!   safe from any context. The crate is used rather than a waker cell of
//!   tardy's own because getting that hand-off right is subtle (a
//!   registration racing a wake-up must not lose it) and `atomic-waker` is
//!   the cell `futures` and `async-task` use. It needs compare-and-swap:
//!   on thumbv6m it takes its atomics from `portable-atomic` (tardy's
//!   `portable-atomic` feature forwards to it).
//! - A waiter registers first, then looks at the scheduler in a critical
//!   section. An operation changes the scheduler in a critical section and
//!   wakes after it. So either the waiter's look sees the change, or the
//!   wake-up comes after the registration: no wake-up is lost.
//! - Wake-ups run outside the critical section: a waker is the executor's
//!   code.
//! - Without the `async` feature every type here is empty and every method
//!   does nothing, so builds without it carry no code for it.

#[cfg(feature = "async")]
use atomic_waker::AtomicWaker;
#[cfg(feature = "async")]
use core::task::Waker;

use crate::clock::Clock;
#[cfg(feature = "async")]
use crate::clock::Ticks;
use crate::queue::TaskQueue;
use crate::scheduler::Scheduler;
use crate::subject::Subject;
use crate::task::{QueueId, Task};

/// Whether `after` is an earlier earliest deadline than `before` (`None`:
/// no deadline, later than any).
#[cfg(feature = "async")]
pub(super) fn is_earlier(after: Option<Ticks>, before: Option<Ticks>) -> bool {
    match (after, before) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The wakers: one per queue index and one for the driver.
pub(super) struct Wakers<const QN: usize> {
    #[cfg(feature = "async")]
    deadline: AtomicWaker,
    #[cfg(feature = "async")]
    queues: [AtomicWaker; QN],
}

impl<const QN: usize> Wakers<QN> {
    pub(super) const fn new() -> Self {
        Self {
            #[cfg(feature = "async")]
            deadline: AtomicWaker::new(),
            #[cfg(feature = "async")]
            queues: [const { AtomicWaker::new() }; QN],
        }
    }

    /// Wakes what `wake` names.
    #[inline]
    pub(super) fn wake(&self, wake: &Wake<QN>) {
        #[cfg(feature = "async")]
        {
            if wake.deadline {
                self.deadline.wake();
            }
            for (waker, &due) in self.queues.iter().zip(wake.queues.iter()) {
                if due {
                    waker.wake();
                }
            }
        }
        #[cfg(not(feature = "async"))]
        let _ = wake;
    }

    /// Registers the driver's waker.
    #[cfg(feature = "async")]
    pub(super) fn register_deadline(&self, waker: &Waker) {
        register(&self.deadline, waker);
    }

    /// Registers the waker of a future waiting for `queue`. A queue of
    /// another scheduler (its queue index out of range) registers nothing: taking
    /// from it answers `UnknownQueue` at once.
    #[cfg(feature = "async")]
    pub(super) fn register_queue(&self, queue: QueueId, waker: &Waker) {
        if let Some(cell) = self.queues.get(usize::from(queue.index)) {
            register(cell, waker);
        }
    }
}

/// Registers `waker` in `cell`. A different waker already there is woken,
/// so a waiter displaced by another never hangs (embassy-sync's
/// `WakerRegistration` does the same).
#[cfg(feature = "async")]
fn register(cell: &AtomicWaker, waker: &Waker) {
    if let Some(old) = cell.take() {
        if !old.will_wake(waker) {
            old.wake();
        }
    }
    cell.register(waker);
}

/// The earliest deadline before an operation, to tell after it whether it
/// became earlier.
#[derive(Clone, Copy)]
pub(super) struct Before {
    #[cfg(feature = "async")]
    deadline: Option<Ticks>,
}

impl Before {
    #[inline]
    pub(super) fn read<C, Q, S, P, const N: usize, const QN: usize>(
        s: &Scheduler<C, Q, S, P, N, QN>,
    ) -> Self
    where
        C: Clock,
        Q: TaskQueue<Task<S, P>>,
        S: Subject,
    {
        #[cfg(not(feature = "async"))]
        let _ = s;
        Self {
            #[cfg(feature = "async")]
            deadline: s.next_deadline(),
        }
    }
}

/// What to wake once the critical section is left.
pub(super) struct Wake<const QN: usize> {
    #[cfg(feature = "async")]
    deadline: bool,
    #[cfg(feature = "async")]
    queues: [bool; QN],
}

impl<const QN: usize> Wake<QN> {
    /// Nothing to wake.
    pub(super) const NONE: Self = Self {
        #[cfg(feature = "async")]
        deadline: false,
        #[cfg(feature = "async")]
        queues: [false; QN],
    };

    /// The driver, if the earliest deadline is earlier than `before`.
    #[inline]
    pub(super) fn earlier<C, Q, S, P, const N: usize>(
        &mut self,
        before: Before,
        s: &Scheduler<C, Q, S, P, N, QN>,
    ) where
        C: Clock,
        Q: TaskQueue<Task<S, P>>,
        S: Subject,
    {
        #[cfg(feature = "async")]
        {
            self.deadline |= is_earlier(s.next_deadline(), before.deadline);
        }
        #[cfg(not(feature = "async"))]
        let _ = (before, s);
    }

    /// The future waiting for `queue` (a task entered it).
    #[inline]
    pub(super) fn queue(&mut self, queue: QueueId) {
        #[cfg(feature = "async")]
        if let Some(due) = self.queues.get_mut(usize::from(queue.index)) {
            *due = true;
        }
        #[cfg(not(feature = "async"))]
        let _ = queue;
    }

    /// The futures of every queue that holds tasks, and of every queue
    /// index without a queue (removed: its future answers `UnknownQueue`).
    /// O(QN).
    #[inline]
    pub(super) fn held<C, Q, S, P, const N: usize>(&mut self, s: &Scheduler<C, Q, S, P, N, QN>)
    where
        C: Clock,
        Q: TaskQueue<Task<S, P>>,
        S: Subject,
    {
        #[cfg(feature = "async")]
        {
            let mut held = [true; QN];
            for q in s.queue_ids() {
                if let Some(h) = held.get_mut(usize::from(q.index)) {
                    *h = s.stats(q).is_ok_and(|st| st.queued > 0);
                }
            }
            for (due, h) in self.queues.iter_mut().zip(held) {
                *due |= h;
            }
        }
        #[cfg(not(feature = "async"))]
        let _ = s;
    }
}
