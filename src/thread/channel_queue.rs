//! [`ChannelQueue`]: a [`TaskQueue`] on a crossbeam-channel.

use crossbeam_channel::{Receiver, Sender};

use crate::queue::TaskQueue;

/// A [`TaskQueue`] on a [`crossbeam_channel`]: bounded to `max_size` items,
/// or unbounded when `max_size` is 0 (as the reference's `max_size=0`).
///
/// It is the storage of every queue of a
/// [`SchedulerThread`](crate::SchedulerThread).
///
/// Why a channel: crossbeam's bounded channel is an exact-capacity FIFO whose
/// `try_send` hands the item back when full (`TrySendError::Full(T)`), which
/// is the [`TaskQueue`] contract as it stands, it is `Send` for any `T: Send`
/// and needs no `T: Default` or fixed capacity in the type, unlike
/// [`HeaplessQueue`](crate::HeaplessQueue). Only its non-blocking half is
/// used. The scheduler thread touches it under its own mutex, and workers
/// that wait for a task wait on a `Condvar` of that mutex, never in the
/// channel's blocking `recv`: under load crossbeam's waiting backs off by
/// yielding the CPU, which makes a blocked `recv` see a new item about a
/// millisecond late, while a `Condvar` handoff takes tens of microseconds.
///
/// # Examples
///
/// ```
/// use tardy::{ChannelQueue, TaskQueue};
///
/// let mut q = ChannelQueue::with_max_size(2).unwrap();
/// assert_eq!(q.try_push('a'), Ok(()));
/// assert_eq!(q.try_push('b'), Ok(()));
/// assert_eq!(q.try_push('c'), Err('c')); // full: the value comes back
/// assert_eq!(q.pop(), Some('a'));
/// assert_eq!((q.len(), q.max_size()), (1, 2));
///
/// let unbounded: ChannelQueue<u8> = ChannelQueue::with_max_size(0).unwrap();
/// assert_eq!(unbounded.max_size(), usize::MAX);
/// ```
#[derive(Debug)]
pub struct ChannelQueue<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
    max_size: usize,
}

impl<T> ChannelQueue<T> {
    /// An empty queue that holds at most `max_size` items; 0 means
    /// unbounded.
    ///
    /// A bounded channel allocates room for `max_size` items at once, so
    /// choose `max_size` as the most a worker pool should see waiting, not
    /// as "large".
    #[must_use]
    pub fn new(max_size: usize) -> Self {
        let ((tx, rx), max_size) = match max_size {
            0 => (crossbeam_channel::unbounded(), usize::MAX),
            n => (crossbeam_channel::bounded(n), n),
        };
        Self { tx, rx, max_size }
    }
}

impl<T> TaskQueue<T> for ChannelQueue<T> {
    fn with_max_size(max_size: usize) -> Option<Self> {
        Some(Self::new(max_size))
    }

    fn try_push(&mut self, item: T) -> Result<(), T> {
        // The queue owns both ends, so the channel is never disconnected;
        // either way the item comes back.
        self.tx.try_send(item).map_err(|e| e.into_inner())
    }

    fn pop(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }

    fn len(&self) -> usize {
        self.rx.len()
    }

    fn max_size(&self) -> usize {
        self.max_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_full_and_unbounded() {
        let mut q = ChannelQueue::new(3);
        for i in 0..3 {
            assert_eq!(q.try_push(i), Ok(()));
        }
        assert!(q.is_full());
        assert_eq!(q.try_push(9), Err(9));
        assert_eq!(q.pop(), Some(0));
        assert_eq!(q.try_push(3), Ok(()));
        assert_eq!(
            (q.pop(), q.pop(), q.pop(), q.pop()),
            (Some(1), Some(2), Some(3), None)
        );
        assert!(q.is_empty());

        let mut u = ChannelQueue::new(0);
        // Fewer under Miri, where each push is slow (crossbeam's blocks).
        let many = if cfg!(miri) { 100 } else { 10_000 };
        for i in 0..many {
            assert_eq!(u.try_push(i), Ok(()));
        }
        assert!(!u.is_full());
        assert_eq!(u.len(), many);
        assert_eq!(u.pop(), Some(0));
    }
}
