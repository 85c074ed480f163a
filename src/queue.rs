//! The FIFO a due task is delivered into: the [`TaskQueue`] trait, the
//! heapless-backed [`HeaplessQueue`], and (feature `alloc`) the
//! `VecDeque`-backed `VecDequeQueue`.

use heapless::Deque;

/// A bounded first-in first-out queue that due tasks are delivered into and
/// that workers take tasks from.
///
/// # Contract
///
/// An implementation MUST:
///
/// - be first-in first-out: [`pop`](TaskQueue::pop) returns items in the
///   order [`try_push`](TaskQueue::try_push) accepted them;
/// - never block, never evict, never drop: a full queue returns the item from
///   `try_push` as `Err(item)`;
/// - report in [`len`](TaskQueue::len) the number of items it holds, and in
///   [`max_size`](TaskQueue::max_size) the most it will ever hold at once;
/// - not panic.
pub trait TaskQueue<T>: Sized {
    /// Creates an empty queue that holds at most `max_size` items, or as many
    /// as the implementation can hold when `max_size` is 0. `None` when the
    /// implementation cannot hold `max_size` items.
    fn with_max_size(max_size: usize) -> Option<Self>;

    /// Appends `item`, or returns it when the queue is full.
    ///
    /// # Errors
    ///
    /// `Err(item)` when the queue holds [`max_size`](TaskQueue::max_size)
    /// items.
    fn try_push(&mut self, item: T) -> Result<(), T>;

    /// Removes and returns the oldest item, `None` when empty.
    fn pop(&mut self) -> Option<T>;

    /// The number of items in the queue.
    fn len(&self) -> usize;

    /// The most items the queue holds at once.
    fn max_size(&self) -> usize;

    /// `true` when the queue holds no item.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` when [`try_push`](TaskQueue::try_push) would return the item.
    fn is_full(&self) -> bool {
        self.len() >= self.max_size()
    }
}

/// A [`TaskQueue`] on a fixed-capacity [`heapless::Deque`] of `M` items: no
/// allocation, usable in a `static`.
///
/// `max_size` may lower the bound below `M`; 0 means `M`.
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, TaskQueue};
///
/// let mut q: HeaplessQueue<u8, 4> = HeaplessQueue::with_max_size(2).unwrap();
/// assert_eq!(q.try_push(1), Ok(()));
/// assert_eq!(q.try_push(2), Ok(()));
/// assert_eq!(q.try_push(3), Err(3)); // full: the value comes back
/// assert_eq!(q.pop(), Some(1));
/// assert!(HeaplessQueue::<u8, 4>::with_max_size(5).is_none());
/// ```
#[derive(Debug)]
pub struct HeaplessQueue<T, const M: usize> {
    items: Deque<T, M>,
    max_size: usize,
}

impl<T, const M: usize> HeaplessQueue<T, M> {
    /// An empty queue bounded by `M`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, TaskQueue};
    ///
    /// let mut q: HeaplessQueue<u32, 8> = HeaplessQueue::new();
    /// assert_eq!(q.max_size(), 8);
    /// assert_eq!(q.try_push(1), Ok(()));
    /// ```
    pub const fn new() -> Self {
        Self {
            items: Deque::new(),
            max_size: M,
        }
    }
}

impl<T, const M: usize> Default for HeaplessQueue<T, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const M: usize> TaskQueue<T> for HeaplessQueue<T, M> {
    fn with_max_size(max_size: usize) -> Option<Self> {
        match max_size {
            0 => Some(Self::new()),
            n if n <= M => Some(Self {
                items: Deque::new(),
                max_size: n,
            }),
            _ => None,
        }
    }

    fn try_push(&mut self, item: T) -> Result<(), T> {
        if self.items.len() >= self.max_size {
            return Err(item);
        }
        self.items.push_back(item)
    }

    fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn max_size(&self) -> usize {
        self.max_size
    }
}

/// A [`TaskQueue`] on an [`alloc::collections::VecDeque`] (feature
/// `alloc`): bounded by `max_size`, 0 meaning unbounded; it allocates as
/// items arrive, never `max_size` up front, and fallibly: a push the
/// allocator refuses hands the item back as a full queue would.
///
/// # Examples
///
/// ```
/// use tardy::{TaskQueue, VecDequeQueue};
///
/// let mut q: VecDequeQueue<u8> = VecDequeQueue::with_max_size(2).unwrap();
/// assert_eq!(q.try_push(1), Ok(()));
/// assert_eq!(q.try_push(2), Ok(()));
/// assert_eq!(q.try_push(3), Err(3)); // full: the value comes back
/// assert_eq!(q.pop(), Some(1));
/// let unbounded: VecDequeQueue<u8> = VecDequeQueue::with_max_size(0).unwrap();
/// assert_eq!(unbounded.max_size(), usize::MAX);
/// ```
#[cfg(feature = "alloc")]
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub struct VecDequeQueue<T> {
    items: alloc::collections::VecDeque<T>,
    max_size: usize,
}

#[cfg(feature = "alloc")]
impl<T> VecDequeQueue<T> {
    /// An empty, unbounded queue; allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{TaskQueue, VecDequeQueue};
    ///
    /// let mut q: VecDequeQueue<u32> = VecDequeQueue::new();
    /// assert_eq!(q.max_size(), usize::MAX); // unbounded
    /// assert_eq!(q.try_push(1), Ok(()));
    /// assert_eq!(q.pop(), Some(1));
    /// ```
    pub const fn new() -> Self {
        Self {
            items: alloc::collections::VecDeque::new(),
            max_size: usize::MAX,
        }
    }
}

#[cfg(feature = "alloc")]
impl<T> Default for VecDequeQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "alloc")]
impl<T> TaskQueue<T> for VecDequeQueue<T> {
    fn with_max_size(max_size: usize) -> Option<Self> {
        Some(Self {
            items: alloc::collections::VecDeque::new(),
            max_size: if max_size == 0 { usize::MAX } else { max_size },
        })
    }

    fn try_push(&mut self, item: T) -> Result<(), T> {
        if self.items.len() >= self.max_size || self.items.try_reserve(1).is_err() {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }

    fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn max_size(&self) -> usize {
        self.max_size
    }
}
