//! [`ChannelQueue`]: a [`TaskQueue`] on a crossbeam-channel.

use crossbeam_channel::{Receiver, Sender};

use crate::queue::TaskQueue;

/// A [`TaskQueue`] on a [`crossbeam_channel`]: bounded to `max_size` items,
/// or unbounded when `max_size` is 0 (as `max_size=0` in the Python
/// scheduler tardy re-implements).
///
/// It is the storage of every queue of a
/// [`SchedulerThread`](crate::SchedulerThread).
///
/// It allocates nothing up front, whatever `max_size`: the items live in
/// crossbeam's unbounded channel, a list of fixed blocks (31 items each)
/// that is extended as items come and freed as they go, and the bound is a
/// length check in [`try_push`](TaskQueue::try_push). Why that and not a
/// bounded channel or a `VecDeque`: crossbeam's bounded channel allocates
/// room for `max_size` items at creation (a large bound costs its memory at
/// once, or aborts the process), and a `VecDeque` grows by copying every
/// item, under the scheduler's lock, and keeps its largest size after a
/// burst; the blocks of the list never move and are given back once
/// emptied. The check and the push cannot race: `try_push` takes
/// `&mut self`, and the queue owns both ends of the channel.
///
/// Only the channel's non-blocking half is used. The scheduler thread
/// touches it under its own mutex, and workers that wait for a task wait on
/// a `Condvar` of that mutex, never in the channel's blocking `recv`: under
/// load crossbeam's waiting backs off by yielding the CPU, which makes a
/// blocked `recv` see a new item about a millisecond late, while a
/// `Condvar` handoff takes tens of microseconds.
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
///
/// // A bound that no memory could ever fill is refused.
/// assert!(ChannelQueue::<u64>::with_max_size(usize::MAX).is_none());
/// ```
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct ChannelQueue<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
    max_size: usize,
}

impl<T> ChannelQueue<T> {
    /// An empty queue that holds at most `max_size` items; 0 means
    /// unbounded. It allocates nothing until items come, whatever
    /// `max_size`; [`with_max_size`](TaskQueue::with_max_size) also refuses
    /// a bound that no memory could fill.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{ChannelQueue, TaskQueue};
    ///
    /// let mut q: ChannelQueue<u32> = ChannelQueue::new(2);
    /// assert_eq!(q.try_push(1), Ok(()));
    /// assert_eq!(q.try_push(2), Ok(()));
    /// assert_eq!(q.try_push(3), Err(3)); // full: the value comes back
    /// assert_eq!(ChannelQueue::<u32>::new(0).max_size(), usize::MAX); // unbounded
    /// ```
    #[must_use]
    pub fn new(max_size: usize) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let max_size = match max_size {
            0 => usize::MAX,
            n => n,
        };
        Self { tx, rx, max_size }
    }

    /// `true` when `max_size` items of `T` could be held in memory: their
    /// size fits in `isize::MAX` bytes, the most any allocation can be.
    fn can_hold(max_size: usize) -> bool {
        max_size
            .checked_mul(core::mem::size_of::<T>())
            .is_some_and(|bytes| isize::try_from(bytes).is_ok())
    }
}

impl<T> TaskQueue<T> for ChannelQueue<T> {
    /// The queue of [`new`](ChannelQueue::new); `None` when `max_size` items
    /// of `T` could never fit in memory (more than `isize::MAX` bytes), a
    /// bound that could never be reached. 0 (unbounded) is always accepted.
    fn with_max_size(max_size: usize) -> Option<Self> {
        (max_size == 0 || Self::can_hold(max_size)).then(|| Self::new(max_size))
    }

    fn try_push(&mut self, item: T) -> Result<(), T> {
        if self.rx.len() >= self.max_size {
            return Err(item);
        }
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

    #[test]
    fn bounds_are_checked_not_allocated() {
        // Accepted at once, nothing allocated: the bound is only a number.
        for max in [100_000_000, 1 << 40] {
            let mut q = ChannelQueue::<[u64; 4]>::with_max_size(max).unwrap();
            assert_eq!((q.max_size(), q.len()), (max, 0));
            assert_eq!(q.try_push([1; 4]), Ok(()));
        }
        // Tasks that could never fit in memory: refused.
        assert!(ChannelQueue::<u64>::with_max_size(usize::MAX).is_none());
        assert!(ChannelQueue::<[u8; 2]>::with_max_size(usize::MAX / 2 + 1).is_none());
        // Zero-sized items always fit.
        assert!(ChannelQueue::<()>::with_max_size(usize::MAX).is_some());
    }
}
