//! [`AllocScheduler`]: the core over growing storage (feature `alloc`).

use super::storage::{AllocStorage, Storage};
use super::SchedulerInner;
use crate::clock::Clock;
use crate::error::ReserveError;
use crate::queue::TaskQueue;
use crate::subject::Subject;
use crate::task::Task;

/// A [`SchedulerInner`] in growing storage: the capacity is chosen at run
/// time and grows on demand, up to an optional maximum.
///
/// - Slot numbers are `u32`: up to 2^32 - 2 tasks at once.
/// - Arrays grow in segments of 4 096 entries that never move, so a
///   `schedule` that grows the storage allocates one segment and copies no
///   task: no call stalls for a copy of everything. Each array allocates
///   its next segment, and writes to each new page of memory, ahead of
///   need and on calls of its own, so that while the storage grows on
///   demand no call after the first (which allocates the first segment of
///   each) pays for more than one allocation or one first write to a page
///   (a page fault). Room reserved up front is not allocated ahead of: the
///   first call past it, or past what `shrink_to_fit` kept, allocates a
///   segment for each array at once.
/// - Allocation is fallible: when the maximum is reached or an allocation
///   fails, [`schedule`](SchedulerInner::schedule) answers
///   [`ScheduleError::Capacity`](crate::ScheduleError::Capacity) with the
///   task handed back. Nothing aborts.
/// - Memory is given back only when asked, by
///   [`shrink_to_fit`](Self::shrink_to_fit).
/// - Subjects hash with keyed foldhash into buckets that split one at a
///   time as tasks are added (linear hashing): with `std`,
///   [`new`](Self::new) draws a random key, so subjects chosen by an
///   outsider cannot be made to share a bucket; without `std`, give a
///   secret key with [`with_subject_seed`](Self::with_subject_seed).
///
/// # Examples
///
/// ```
/// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue, When};
///
/// type Ctx = Task<u32, ()>;
/// let clock = ManualClock::new(0);
/// let mut s: AllocScheduler<&ManualClock, VecDequeQueue<Ctx>, u32, ()> =
///     AllocScheduler::new(&clock);
/// s.set_max_capacity(Some(100_000));
/// let q = s.add_queue("work", 0)?;
/// for i in 0..10_000 {
///     s.schedule(Task::new(q, i, ()), When::At(u64::from(i)))?;
/// }
/// assert!(s.capacity() >= 10_000);
/// assert_eq!(s.cancel_by_subject(&42, |_| {}), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub type AllocScheduler<C, Q, S, P, const QN: usize = 16> =
    SchedulerInner<C, Q, S, P, AllocStorage, QN>;

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<C, Q, S, P, const QN: usize> SchedulerInner<C, Q, S, P, AllocStorage, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    /// An empty scheduler reading `clock`, with no queue and nothing
    /// allocated. With `std`, subjects hash under a random key; without,
    /// under a fixed one (use [`with_subject_seed`](Self::with_subject_seed)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue};
    ///
    /// let s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(ManualClock::new(0));
    /// assert_eq!((s.capacity(), s.allocated_bytes()), (0, 0)); // nothing allocated yet
    /// ```
    pub fn new(clock: C) -> Self {
        Self::with_subject_seed(clock, random_seed())
    }

    /// Like [`new`](Self::new), with subjects hashed under `seed` (keep it
    /// secret from those who choose subjects).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue};
    ///
    /// let seed = 0x5eed_1234_abcd_0042; // secret, e.g. from a hardware random source
    /// let s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::with_subject_seed(ManualClock::new(0), seed);
    /// assert!(s.is_empty());
    /// ```
    pub fn with_subject_seed(clock: C, seed: u64) -> Self {
        let mut s = Self::empty(clock, foldhash::fast::FixedState::with_seed(seed));
        // The arrays grow in step, one entry per task: each prepares its
        // memory on pushes of its own, so that no `schedule` pays for the
        // allocations or first page writes of several (see the storage's
        // `SegmentedArray`). The table of periodic tasks keeps phase 0.
        s.slots.array.set_phase(6);
        s.heap.keys.set_phase(12);
        s.heap.entries.set_phase(18);
        s.subjects.buckets.set_phase(24);
        s
    }

    /// Like [`new`](Self::new), with room for `capacity` tasks allocated
    /// now, as far as the allocator gives it (see [`reserve`](Self::reserve)
    /// to learn whether it did).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue};
    ///
    /// let s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::with_capacity(ManualClock::new(0), 10_000);
    /// assert!(s.capacity() >= 10_000);
    /// ```
    pub fn with_capacity(clock: C, capacity: usize) -> Self {
        let mut s = Self::new(clock);
        let _ = s.reserve(capacity);
        s
    }

    /// Tasks the scheduler holds without allocating.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue, When};
    ///
    /// let mut s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?; // grows by one segment
    /// assert!(s.capacity() >= 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn capacity(&self) -> usize {
        // Each task needs a slot, a heap entry with its key and (linear
        // hashing) up to one subject bucket; the arrays are sized apart
        // (after `shrink_to_fit` the slots keep segments up to the last
        // occupied one, the heap only what the tasks need).
        self.slots
            .array
            .capacity()
            .min(self.heap.entries.capacity())
            .min(self.heap.keys.capacity())
            .min(self.subjects.buckets.capacity())
            .min(self.slots.limit)
    }

    /// The most tasks it will hold; `None`: no bound but the slot numbers'
    /// (2^32 - 2).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue};
    ///
    /// let mut s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(ManualClock::new(0));
    /// assert_eq!(s.max_capacity(), None);
    /// s.set_max_capacity(Some(1_000));
    /// assert_eq!(s.max_capacity(), Some(1_000));
    /// ```
    pub fn max_capacity(&self) -> Option<usize> {
        (self.slots.limit < AllocStorage::MAX_SLOTS).then_some(self.slots.limit)
    }

    /// Bounds the tasks it holds at once: past `max`, `schedule` answers
    /// [`ScheduleError::Capacity`](crate::ScheduleError::Capacity). `None`
    /// lifts the bound. A bound below the tasks held keeps those (no task
    /// is dropped) and takes no new one until they are fewer than `max`,
    /// whatever vacant slots are allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, ScheduleError, Task, VecDequeQueue, When};
    ///
    /// let mut s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(ManualClock::new(0));
    /// s.set_max_capacity(Some(1));
    /// let q = s.add_queue("q", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// let full = s.schedule(Task::new(q, 2, ()), When::After(5));
    /// assert!(matches!(full, Err(ScheduleError::Capacity(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_max_capacity(&mut self, max: Option<usize>) {
        self.slots.limit = max.map_or(AllocStorage::MAX_SLOTS, |m| m.min(AllocStorage::MAX_SLOTS));
    }

    /// Allocates room for `additional` more tasks than are scheduled now:
    /// their slots, heap entries and subject buckets, so that scheduling
    /// them allocates nothing.
    ///
    /// # Errors
    ///
    /// [`ReserveError::MaxCapacity`] when that is beyond the maximum (see
    /// [`set_max_capacity`](Self::set_max_capacity)), nothing allocated;
    /// [`ReserveError::Alloc`] when the allocator refused (what it gave
    /// stays allocated).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue};
    ///
    /// let mut s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(ManualClock::new(0));
    /// s.reserve(5_000)?; // allocate before a burst, not during it
    /// assert!(s.capacity() >= 5_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
        let total = self
            .len()
            .checked_add(additional)
            .filter(|&t| t <= self.slots.limit)
            .ok_or(ReserveError::MaxCapacity)?;
        // The subject buckets too (one per task, linear hashing), so that
        // the tasks reserved for allocate nothing when scheduled; room for
        // them first, then the first buckets in it.
        let ok = self.slots.reserve_total(total)
            && self.heap.reserve(total)
            && self.subjects.buckets.reserve_total(total)
            && self.subjects.reserve();
        if ok {
            Ok(())
        } else {
            Err(ReserveError::Alloc)
        }
    }

    /// Gives memory back after a burst: the trailing segments of task
    /// slots that hold no task (only whole segments past the last occupied
    /// slot), the heap's segments beyond what the
    /// tasks still scheduled need, the trailing segments of the table of
    /// periodic tasks that hold none (feature `periodic`), and spare room
    /// in the segment tables. The subject buckets stay (one 4-byte head
    /// per task at the peak). O(slots + periodic table entries): it
    /// rebuilds the free lists. Task ids of the released slots
    /// stay stale: slots added later start at a higher generation.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue, When};
    ///
    /// let mut s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// for i in 0..10_000 {
    ///     s.schedule(Task::new(q, i, ()), When::After(5))?;
    /// }
    /// let peak = s.allocated_bytes();
    /// s.clear_queue(q, drop)?; // the burst is over
    /// s.shrink_to_fit();
    /// assert!(s.allocated_bytes() < peak);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
        let used = self.slots.used();
        self.heap.entries.shrink_to(used);
        self.heap.keys.shrink_to(used);
    }

    /// Bytes allocated for the per-task arrays (slots, heap, subject
    /// buckets, and the table of periodic tasks with the feature
    /// `periodic`); the queues are not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue};
    ///
    /// let mut s: AllocScheduler<ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(ManualClock::new(0));
    /// assert_eq!(s.allocated_bytes(), 0);
    /// s.reserve(1_000)?;
    /// assert!(s.allocated_bytes() > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocated_bytes(&self) -> usize {
        self.slots.allocated_bytes()
            + self.heap.entries.allocated_bytes()
            + self.heap.keys.allocated_bytes()
            + self.subjects.buckets.allocated_bytes()
    }
}

/// A random key under `std` (std's `RandomState`, seeded by the OS), a
/// fixed one without.
fn random_seed() -> u64 {
    #[cfg(feature = "std")]
    {
        use core::hash::BuildHasher;
        std::hash::RandomState::new().hash_one(0x7461_7264_795f_7365_u64)
    }
    #[cfg(not(feature = "std"))]
    {
        0x7461_7264_795f_7365
    }
}

#[cfg(test)]
mod tests {
    use super::AllocScheduler;
    use crate::clock::ManualClock;
    use crate::queue::VecDequeQueue;
    use crate::task::Task;
    use crate::When;

    /// Room reserved up front is used without allocating: the slots, the
    /// heap and the subject buckets alike.
    #[test]
    fn reserved_room_is_used_without_allocating() {
        type Q = VecDequeQueue<Task<u32, u32>>;
        let n: u32 = if cfg!(miri) { 300 } else { 10_000 };
        let mut s: AllocScheduler<ManualClock, Q, u32, u32, 2> =
            AllocScheduler::with_capacity(ManualClock::new(0), n as usize);
        let q = s.add_queue("q", 0).unwrap();
        let reserved = s.allocated_bytes();
        for i in 0..n {
            s.schedule(Task::new(q, i, i), When::At(u64::from(i * 7919 % 1000)))
                .unwrap();
        }
        assert_eq!(s.allocated_bytes(), reserved);
        s.check_invariants();
        // Beyond it, the storage grows as tasks come.
        s.schedule(Task::new(q, n, n), When::At(1)).unwrap();
        assert!(s.capacity() > n as usize);
    }
}
