//! The no_std deadline scheduler core: [`SchedulerInner`] over a storage,
//! [`Scheduler`] (fixed storage) and `AllocScheduler` (growing storage).
//!
//! # How it is built
//!
//! Every scheduled task lives in a task slot ([`slots`]): the slot keeps
//! the task's parts (queue, attempt count, subject, payload) and the links
//! of every index, not a whole [`Task`]. A task's id is the slot number and
//! the slot's generation; its deadline is kept only in its heap key. The
//! [`Task`] is rebuilt when it leaves the slot (delivered into its queue,
//! cancelled, handed back); [`ScheduledTask`] reads one in place. Three
//! indexes point into the slots by slot number, each O(1) or O(log n) per
//! task, and each is handed the slots it links:
//!
//! - [`heap`]: a 4-ary min-heap of slot numbers ordered by
//!   `(deadline, order)`, with each slot's heap position in the slot; the
//!   keys of due tasks waiting for room are parked after the heap in the
//!   same arrays;
//! - [`queue_lists`]: per queue, two lines through the slots, the tasks
//!   still in the heap ([`Line::Pending`](queue_lists::Line)) and the due
//!   tasks waiting, in order, for room in a full queue (`Line::Waiting`);
//! - [`subject_index`]: hash buckets, each the head of a circular chain of
//!   the tasks whose subject falls in it, for `cancel_by_subject`.
//!
//! Queues live at queue indexes ([`registry`]). Where the arrays live is the
//! [`storage`] seam: fixed arrays of `N` entries, or segments that grow.
//! A periodic task (feature `periodic`) is one slot with a period
//! (`periodic`: in the slot in fixed storage, in a table of periodic
//! tasks only in growing storage): it stays in its slot and delivers a
//! clone each period.
//!
//! # Invariants
//!
//! Between public calls (and whenever user code runs: a `hand_back`
//! closure, a [`TaskQueue`] method, a [`Subject`]'s `hash`/`eq`):
//!
//! - a slot is occupied exactly when it holds a scheduled task, whose id
//!   names the slot and its current generation;
//! - an occupied slot is in exactly one line of its task's queue, which
//!   exists: `Pending` exactly when it is in the heap, `Waiting` exactly
//!   when its key is parked; the heap and the parked keys together hold one
//!   entry per scheduled task;
//! - an occupied slot is in the chain of its subject's bucket; vacant slots
//!   are in no index; the free list holds every vacant slot not retired;
//! - a queue's `Waiting` line is non-empty only while its queue is full,
//!   and `waiting` counts the tasks in every `Waiting` line;
//! - heap keys are unique (`order` grows with every scheduling).

mod heap;
#[cfg(feature = "periodic")]
mod periodic;
mod queue_lists;
mod registry;
mod slots;
mod storage;
mod subject_index;
#[cfg(test)]
mod tests;

use core::num::NonZeroU64;

use self::heap::Heap;
use self::queue_lists::{Line, Lines};
use self::registry::{Name, QueueEntry, Registry};
use self::slots::{Parts, Slots};
#[cfg(feature = "alloc")]
pub use self::storage::AllocStorage;
use self::storage::{Array, Index, SeededFnv};
pub use self::storage::{FixedStorage, Storage};
use self::subject_index::SubjectIndex;
use crate::clock::{Clock, Ticks};
use crate::error::{
    AddQueueError, GetTaskError, NotScheduled, ScheduleError, TaskDoneError, UnknownQueue,
};
use crate::queue::TaskQueue;
use crate::subject::Subject;
use crate::task::{QueueId, ScheduledTask, Task, TaskId, When};

/// The longest queue name, in bytes.
pub const MAX_NAME_LEN: usize = 31;

/// The largest task capacity `N` a [`Scheduler`] can have.
pub const MAX_CAPACITY: usize = 1 << 15;

/// The counters of one queue, from [`Scheduler::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Tasks in the queue, waiting for a worker.
    pub queued: usize,
    /// Tasks scheduled for the queue and not yet delivered, including
    /// `waiting`.
    pub scheduled: usize,
    /// Due tasks held back, in order, until the full queue has room.
    pub waiting: usize,
    /// Tasks taken from the queue since it was added.
    pub taken: u64,
    /// Tasks marked done with [`Scheduler::task_done`].
    pub done: u64,
    /// How many more tasks the queue accepts now (`usize::MAX` less
    /// `queued` for an unbounded queue).
    pub room: usize,
    /// The most tasks the queue holds at once; `usize::MAX` for an
    /// unbounded queue (a `max_size` of 0 where the queue type allows it).
    pub max_size: usize,
}

/// A deadline scheduler that delivers tasks into named, bounded queues,
/// over the storage `St`; use it through [`Scheduler`] (fixed capacity, no
/// allocation) or `AllocScheduler` (feature `alloc`: capacity chosen at run
/// time, growing on demand).
///
/// - `C`: the [`Clock`];
/// - `Q`: the [`TaskQueue`] type of every queue;
/// - `S`: the [`Subject`] of tasks, the key of [`cancel_by_subject`](Self::cancel_by_subject);
/// - `P`: the user payload of a [`Task`];
/// - `St`: the [`Storage`] of the per-task arrays;
/// - `QN`: queue indexes (the most queues), a power of two from 2 to 256.
///
/// Scheduling, cancelling, rescheduling and delivering a task are
/// O(log n); [`cancel_by_subject`](Self::cancel_by_subject) and
/// [`remove_queue`](Self::remove_queue) are O(k log n) for their k tasks.
/// No operation scans the pending tasks, and none panics.
///
/// Time moves only when the host says so: [`run_pending`](Self::run_pending)
/// delivers every task whose deadline the clock has reached, in deadline
/// order with ties in scheduling order, and
/// [`next_deadline`](Self::next_deadline) tells the host how long it may
/// sleep.
///
/// # Full queues
///
/// A due task whose queue is full is not dropped and does not hold up other
/// queues: it waits, first in line for its queue, and enters the queue as
/// soon as [`get_task`](Self::get_task) makes room (or at the next
/// [`run_pending`](Self::run_pending) if the queue was drained elsewhere).
pub struct SchedulerInner<C, Q, S, P, St: Storage, const QN: usize> {
    clock: C,
    slots: Slots<S, P, St>,
    heap: Heap<St>,
    subjects: SubjectIndex<St>,
    queues: Registry<Q, St::Index, QN>,
    /// The tie order of the latest scheduling: grows by one per scheduling
    /// and rescheduling; 2^64 of them take 584 years at one a nanosecond.
    order: u64,
    /// Counts the ids of [`When::Now`] tasks, which name no slot.
    now_ids: u64,
    /// Tasks in every queue's `Waiting` line together: while 0,
    /// [`run_pending`](Self::run_pending) looks at no queue before the heap.
    waiting: usize,
    /// How an occurrence of a periodic task enters its queue; set by
    /// [`schedule_periodic`](Self::schedule_periodic), so that code (which
    /// clones subjects and payloads) is in a build only when it schedules
    /// a periodic task.
    #[cfg(feature = "periodic")]
    periodic: Option<periodic::EnterFn<S, P, St>>,
}

/// A [`SchedulerInner`] in fixed storage: `N` task slots inside the value.
///
/// - `N`: task slots, a power of two from 2 to [`MAX_CAPACITY`].
///
/// It allocates nothing: its size is fixed by `N` and `QN`, and
/// [`new`](SchedulerInner::new) is a `const fn`, so a scheduler can live in
/// a `static`. Subjects hash with FNV into `N` buckets; see [`Subject`] for
/// the worst case and [`with_subject_seed`](SchedulerInner::with_subject_seed).
///
/// # Examples
///
/// ```
/// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
///
/// type Ctx = Task<u32, ()>;
/// let clock = ManualClock::new(0);
/// let mut s: Scheduler<&ManualClock, HeaplessQueue<Ctx, 8>, u32, (), 16, 2> =
///     Scheduler::new(&clock);
/// let q = s.add_queue("work", 0)?;
/// s.schedule(Task::new(q, 2, ()), When::At(20))?;
/// s.schedule(Task::new(q, 1, ()), When::At(10))?;
/// assert_eq!(s.next_deadline(), Some(10));
///
/// clock.set(25);
/// assert_eq!(s.run_pending(), 2);
/// assert_eq!(s.get_task(q)?.subject(), &1);
/// assert_eq!(s.get_task(q)?.subject(), &2);
/// s.task_done(q)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Scheduler<C, Q, S, P, const N: usize, const QN: usize> =
    SchedulerInner<C, Q, S, P, FixedStorage<N>, QN>;

impl<C, Q, S, P, const N: usize, const QN: usize> SchedulerInner<C, Q, S, P, FixedStorage<N>, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    /// An empty scheduler reading `clock`, with no queue.
    ///
    /// Wrong capacities (`N` or `QN` not a power of two, or out of range)
    /// fail at compile time.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// // 16 task slots, 4 queues of at most 8 tasks each; no allocation.
    /// let s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 8>, u32, (), 16, 4> =
    ///     Scheduler::new(ManualClock::new(0));
    /// assert!(s.is_empty());
    /// assert_eq!(s.capacity(), 16);
    /// ```
    pub const fn new(clock: C) -> Self {
        Self::with_subject_seed(clock, 0)
    }

    /// Like [`new`](Self::new), with subjects hashed under `seed`: a secret
    /// seed (from a hardware random source, say) keeps subjects chosen by
    /// an outsider from falling into one bucket. 0 is [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let seed = 0x5eed_1234_abcd_0042; // from a hardware random source
    /// let s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 8>, u32, (), 16, 4> =
    ///     Scheduler::with_subject_seed(ManualClock::new(0), seed);
    /// assert!(s.is_empty());
    /// ```
    pub const fn with_subject_seed(clock: C, seed: u64) -> Self {
        const {
            assert!(N >= 2 && N <= MAX_CAPACITY && N.is_power_of_two());
        }
        Self::empty(clock, SeededFnv::new(seed))
    }

    /// The number of task slots, `N`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 8>, u32, (), 16, 4> =
    ///     Scheduler::new(ManualClock::new(0));
    /// assert_eq!(s.capacity(), 16);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }
}

#[cfg(feature = "alloc")]
mod growing;
#[cfg(feature = "alloc")]
pub use growing::AllocScheduler;

impl<C, Q, S, P, St: Storage, const QN: usize> SchedulerInner<C, Q, S, P, St, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    const fn empty(clock: C, hashing: St::Hashing) -> Self {
        const {
            assert!(QN >= 2 && QN <= 256 && QN.is_power_of_two());
        }
        Self {
            clock,
            slots: Slots::EMPTY,
            heap: Heap::EMPTY,
            subjects: SubjectIndex::new(hashing),
            queues: Registry::EMPTY,
            order: 0,
            now_ids: 0,
            waiting: 0,
            #[cfg(feature = "periodic")]
            periodic: None,
        }
    }

    /// The clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// s.clock().advance(10); // ManualClock moves through a shared reference
    /// assert_eq!(s.now(), 10);
    /// ```
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The clock, mutably (to move a simulated clock).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{Clock, HeaplessQueue, Scheduler, Task};
    ///
    /// struct Stepped(u64); // a clock that moves only when told
    /// impl Clock for Stepped {
    ///     fn now(&self) -> u64 { self.0 }
    /// }
    /// let mut s: Scheduler<Stepped, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(Stepped(0));
    /// s.clock_mut().0 = 50;
    /// assert_eq!(s.now(), 50);
    /// ```
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// The clock's reading.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(1_000));
    /// assert_eq!(s.now(), 1_000);
    /// ```
    pub fn now(&self) -> Ticks {
        self.clock.now()
    }

    /// The number of scheduled tasks, due ones waiting for room included.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// s.schedule(Task::new(q, 2, ()), When::Now)?; // straight into the queue
    /// assert_eq!(s.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.slots.used()
    }

    /// `true` when no task is scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("q", 0)?;
    /// assert!(s.is_empty());
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// assert!(!s.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Task slots retired because their generation is spent (after 2^48 - 1
    /// reuses of one slot in fixed storage, 2^32 - 1 in growing storage):
    /// a retired slot is never used again, so no task id ever repeats.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// assert_eq!(s.retired_slots(), 0); // a slot retires after 2^48 - 1 reuses
    /// ```
    pub fn retired_slots(&self) -> usize {
        self.slots.retired()
    }

    // ----- queues -------------------------------------------------------

    /// Adds a queue named `name` that holds at most `max_size` tasks (0: as
    /// many as `Q` can hold).
    ///
    /// # Errors
    ///
    /// [`AddQueueError::InvalidName`] for an empty name or one longer than
    /// [`MAX_NAME_LEN`] bytes, [`AddQueueError::NameTaken`],
    /// [`AddQueueError::InvalidMaxSize`] when `Q` cannot hold `max_size`
    /// tasks, [`AddQueueError::NoQueueSlot`] when `QN` queues exist (or the
    /// free queue indexes are retired).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 8>, u32, (), 16, 4> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let renew = s.add_queue("renew", 0)?; // as many as the queue type holds: 8
    /// let audit = s.add_queue("audit", 2)?;
    /// assert_eq!(s.stats(renew)?.max_size, 8);
    /// assert_eq!(s.stats(audit)?.max_size, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_queue(&mut self, name: &str, max_size: usize) -> Result<QueueId, AddQueueError> {
        let key = Name::try_from(name).map_err(|_| AddQueueError::InvalidName)?;
        if key.is_empty() {
            return Err(AddQueueError::InvalidName);
        }
        if self.queues.names.contains_key(&key) {
            return Err(AddQueueError::NameTaken);
        }
        let index = self.queues.vacant().ok_or(AddQueueError::NoQueueSlot)?;
        let queue = Q::with_max_size(max_size).ok_or(AddQueueError::InvalidMaxSize)?;
        self.queues
            .names
            .insert(key.clone(), index)
            .map_err(|_| AddQueueError::NoQueueSlot)?;
        self.queues
            .occupy(
                index,
                QueueEntry {
                    name: key,
                    queue,
                    lines: Lines::EMPTY,
                    taken: 0,
                    done: 0,
                },
            )
            .ok_or(AddQueueError::NoQueueSlot)
    }

    /// The queue named `name`.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when no queue has that name.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let renew = s.add_queue("renew", 0)?;
    /// assert_eq!(s.queue_id("renew"), Ok(renew));
    /// assert!(s.queue_id("audit").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue_id(&self, name: &str) -> Result<QueueId, UnknownQueue> {
        let key = Name::try_from(name).map_err(|_| UnknownQueue)?;
        let index = *self.queues.names.get(&key).ok_or(UnknownQueue)?;
        self.queues.id_at(usize::from(index)).ok_or(UnknownQueue)
    }

    /// The name of `queue`, `None` if it does not exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let renew = s.add_queue("renew", 0)?;
    /// assert_eq!(s.queue_name(renew), Some("renew"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue_name(&self, queue: QueueId) -> Option<&str> {
        self.queues.entry(queue).map(|e| e.name.as_str())
    }

    /// Removes `queue`, handing every task scheduled for it and every task
    /// in it to `hand_back`; returns how many. Other queues and their tasks
    /// are untouched. A worker still holding a task of the removed queue
    /// gets [`ScheduleError::UnknownQueue`] when it schedules it again.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when `queue` does not exist; nothing is handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// s.schedule(Task::new(q, 2, ()), When::Now)?;
    /// let mut back = Vec::new();
    /// assert_eq!(s.remove_queue(q, |t| back.push(t))?, 2);
    /// assert_eq!(back.len(), 2);
    /// assert!(s.queue_id("renew").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_queue(
        &mut self,
        queue: QueueId,
        hand_back: impl FnMut(Task<S, P>),
    ) -> Result<usize, UnknownQueue> {
        let count = self.clear_queue(queue, hand_back)?;
        self.queues.vacate(queue).ok_or(UnknownQueue)?;
        Ok(count)
    }

    /// Hands every scheduled and every queued task of `queue` to
    /// `hand_back` and returns how many; the queue stays, with its counters.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when `queue` does not exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// s.schedule(Task::new(q, 2, ()), When::Now)?;
    /// let mut back = Vec::new();
    /// assert_eq!(s.clear_queue(q, |t| back.push(t))?, 2);
    /// assert_eq!(s.queue_id("renew"), Ok(q)); // the queue stays
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear_queue(
        &mut self,
        queue: QueueId,
        mut hand_back: impl FnMut(Task<S, P>),
    ) -> Result<usize, UnknownQueue> {
        let entry = self.queues.entry(queue).ok_or(UnknownQueue)?;
        let (pending, waiting) = (entry.lines.pending.head, entry.lines.waiting.head);
        let mut count = 0;
        for head in [pending, waiting] {
            let mut at = head;
            while at != St::Index::NIL {
                let next = self.slots.get(at).map_or(St::Index::NIL, |s| s.line_next);
                if let Some(task) = self.remove_slot(at) {
                    hand_back(task);
                    count += 1;
                }
                at = next;
            }
        }
        if let Some(entry) = self.queues.entry_mut(queue) {
            while let Some(task) = entry.queue.pop() {
                hand_back(task);
                count += 1;
            }
        }
        Ok(count)
    }

    /// Hands every scheduled and every queued task of every queue to
    /// `hand_back` and returns how many. Queues stay.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let (a, b) = (s.add_queue("a", 0)?, s.add_queue("b", 0)?);
    /// s.schedule(Task::new(a, 1, ()), When::After(5))?;
    /// s.schedule(Task::new(b, 2, ()), When::Now)?;
    /// let mut back = Vec::new();
    /// assert_eq!(s.clear(|t| back.push(t)), 2);
    /// assert!(s.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear(&mut self, mut hand_back: impl FnMut(Task<S, P>)) -> usize {
        let ids: heapless::Vec<QueueId, QN> = self.queue_ids().collect();
        let count: usize = ids
            .into_iter()
            .map(|q| self.clear_queue(q, &mut hand_back).unwrap_or(0))
            .sum();
        if self.slots.used() == 0 {
            return count;
        }
        count + self.clear_strays(&mut hand_back)
    }

    /// Hands back the tasks that no index reaches any more, after every
    /// queue was cleared. A subject whose `Hash` or `Eq` panics (which the
    /// [`Subject`] contract forbids) can stop an operation halfway, leaving
    /// its task in a slot but out of the heap and its queue's lines; such a
    /// task still comes back here, with the clock's reading as its deadline,
    /// so that a caller who recovers from the panic (the threaded layer's
    /// `stop`) loses nothing. Only tasks in no line are left at this point,
    /// so the subject chains are emptied whole, without hashing. O(slots
    /// ever used + buckets); `clear` calls it only when such tasks exist.
    fn clear_strays(&mut self, hand_back: &mut impl FnMut(Task<S, P>)) -> usize {
        let now = self.clock.now();
        let mut count = 0;
        for i in 0..self.slots.array.len() {
            let Some(index) = St::Index::from_usize(i) else {
                break;
            };
            let Some(parts) = self.slots.get(index).and_then(|s| s.task()) else {
                continue;
            };
            let queue = self
                .queue_of(parts)
                .unwrap_or_else(|| QueueId::stale(parts.queue_index()));
            if let Some(task) = self.slots.release(index, queue, now) {
                hand_back(task);
                count += 1;
            }
        }
        self.subjects.reset();
        count
    }

    /// The handles of every queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 4> =
    ///     Scheduler::new(ManualClock::new(0));
    /// s.add_queue("renew", 0)?;
    /// s.add_queue("audit", 0)?;
    /// let names: Vec<_> = s.queue_ids().filter_map(|q| s.queue_name(q)).collect();
    /// assert_eq!(names, ["renew", "audit"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue_ids(&self) -> impl Iterator<Item = QueueId> + '_ {
        (0..QN).filter_map(|i| self.queues.id_at(i))
    }

    /// The counters of `queue`.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when `queue` does not exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::After(5))?;
    /// s.schedule(Task::new(q, 2, ()), When::Now)?;
    /// let st = s.stats(q)?;
    /// assert_eq!((st.queued, st.scheduled, st.room, st.max_size), (1, 1, 3, 4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self, queue: QueueId) -> Result<QueueStats, UnknownQueue> {
        let e = self.queues.entry(queue).ok_or(UnknownQueue)?;
        let len = e.queue.len();
        let max_size = e.queue.max_size();
        Ok(QueueStats {
            queued: len,
            scheduled: e.lines.pending.len + e.lines.waiting.len,
            waiting: e.lines.waiting.len,
            taken: e.taken,
            done: e.done,
            room: max_size.saturating_sub(len),
            max_size,
        })
    }

    /// Takes the oldest task from `queue`, without waiting. Taking a task
    /// makes room, so the first due task waiting for that queue enters it.
    ///
    /// # Errors
    ///
    /// [`GetTaskError::UnknownQueue`], or [`GetTaskError::Empty`] when the
    /// queue holds no task.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{GetTaskError, HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 42, ()), When::After(5))?;
    /// assert_eq!(s.get_task(q), Err(GetTaskError::Empty)); // not due yet
    /// s.clock().set(5);
    /// s.run_pending();
    /// assert_eq!(s.get_task(q)?.subject(), &42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_task(&mut self, queue: QueueId) -> Result<Task<S, P>, GetTaskError> {
        self.refill(queue);
        let entry = self
            .queues
            .entry_mut(queue)
            .ok_or(GetTaskError::UnknownQueue)?;
        // The result is built before the refill, so the task is moved once
        // (on small targets a second move of it is a call to memcpy).
        let taken = entry.queue.pop().ok_or(GetTaskError::Empty);
        if taken.is_ok() {
            entry.taken = entry.taken.saturating_add(1);
            self.refill(queue);
        }
        taken
    }

    /// Marks one task taken from `queue` as done (Python's
    /// `Queue.task_done`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError::UnknownQueue`], or [`TaskDoneError::NotTaken`] when
    /// every task taken from the queue is already done.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 42, ()), When::Now)?;
    /// let _task = s.get_task(q)?;
    /// s.task_done(q)?; // the work on it is finished
    /// assert_eq!((s.stats(q)?.taken, s.stats(q)?.done), (1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task_done(&mut self, queue: QueueId) -> Result<(), TaskDoneError> {
        let entry = self
            .queues
            .entry_mut(queue)
            .ok_or(TaskDoneError::UnknownQueue)?;
        if entry.done >= entry.taken {
            return Err(TaskDoneError::NotTaken);
        }
        entry.done += 1;
        Ok(())
    }

    // ----- scheduling ---------------------------------------------------

    /// Schedules `task` for its queue: [`When::Now`] puts it straight into
    /// the queue; [`When::At`] and [`When::After`] put it in the schedule
    /// until [`run_pending`](Self::run_pending) sees its deadline pass.
    ///
    /// The task's [`attempt`](Task::attempt) count grows by one and it gets a
    /// new [`TaskId`], returned. To move a task that is still scheduled, use
    /// [`reschedule`](Self::reschedule) with its handle.
    ///
    /// # Errors
    ///
    /// The task comes back, unchanged, inside
    /// [`ScheduleError::UnknownQueue`], [`ScheduleError::QueueFull`] (only
    /// for [`When::Now`]; a scheduled task for a full queue waits instead),
    /// or [`ScheduleError::Capacity`] when every slot is in use (fixed
    /// storage), or the maximum capacity is reached or an allocation failed
    /// (growing storage).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// let id = s.schedule(Task::new(q, 42, ()), When::After(30))?;
    /// assert!(s.is_scheduled(id));
    /// assert_eq!(s.next_deadline(), Some(30));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule(
        &mut self,
        task: Task<S, P>,
        when: When,
    ) -> Result<TaskId, ScheduleError<Task<S, P>>> {
        self.schedule_with_deadline(task, when).map(|(id, _)| id)
    }

    /// Like [`schedule`](Self::schedule), and returns the task's deadline
    /// too: the time `when` stands for at the clock's reading (for
    /// [`When::Now`], the reading), as [`Task::deadline`] will say.
    ///
    /// # Errors
    ///
    /// As [`schedule`](Self::schedule).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(100));
    /// let q = s.add_queue("renew", 0)?;
    /// let (id, deadline) = s.schedule_with_deadline(Task::new(q, 42, ()), When::After(30))?;
    /// assert_eq!(deadline, 130);
    /// assert_eq!(s.scheduled_task(id).map(|t| t.deadline()), Some(130));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule_with_deadline(
        &mut self,
        task: Task<S, P>,
        when: When,
    ) -> Result<(TaskId, Ticks), ScheduleError<Task<S, P>>> {
        let now = self.clock.now();
        let deadline = match when {
            When::Now => return self.push_now(task, now).map(|id| (id, now)),
            When::At(t) => t,
            When::After(d) => now.saturating_add(d),
        };
        // One look-up of the queue: its entry stays borrowed while the
        // other fields change.
        let Some(entry) = self.queues.entry_mut(task.queue) else {
            return Err(ScheduleError::UnknownQueue(task));
        };
        // The heap keeps room for every scheduled task, so a waiting task
        // can always go back into it ([`Self::reschedule`]).
        let room = self.slots.can_take()
            && self.heap.reserve(self.slots.used() + 1)
            && self.subjects.reserve();
        if !room {
            return Err(ScheduleError::Capacity(task));
        }
        let attempt = task.attempt.saturating_add(1);
        let (index, id) = self
            .slots
            .take(task, attempt)
            .map_err(ScheduleError::Capacity)?;
        self.order = self.order.wrapping_add(1);
        let order = self.order;
        self.subjects.link(&mut self.slots.array, index);
        entry.lines.pending.push_back(&mut self.slots.array, index);
        self.heap
            .with(&mut self.slots.array)
            .push(index, (deadline, order));
        Ok((id, deadline))
    }

    fn push_now(
        &mut self,
        mut task: Task<S, P>,
        now: Ticks,
    ) -> Result<TaskId, ScheduleError<Task<S, P>>> {
        let queue = task.queue;
        self.refill(queue);
        let id = self.next_now_id();
        let saved = task.enter_now(id, now);
        let Some(entry) = self.queues.entry_mut(queue) else {
            task.restore(saved);
            return Err(ScheduleError::UnknownQueue(task));
        };
        if entry.lines.waiting.len > 0 {
            task.restore(saved);
            return Err(ScheduleError::QueueFull(task));
        }
        match entry.queue.try_push(task) {
            Ok(()) => Ok(id),
            Err(mut task) => {
                task.restore(saved);
                Err(ScheduleError::QueueFull(task))
            }
        }
    }

    /// Moves the scheduled task `id` to a new time, as if it were cancelled
    /// and scheduled again: it keeps its handle and its attempt count, and
    /// goes behind the tasks already scheduled for the same deadline.
    /// [`When::Now`] makes it due at the clock's reading. A due task that was
    /// waiting for room goes back into the schedule.
    ///
    /// # Errors
    ///
    /// [`NotScheduled`] when `id` names no scheduled task.
    ///
    /// Returns the new deadline (for [`When::Now`], the clock's reading).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// let id = s.schedule(Task::new(q, 42, ()), When::At(100))?;
    /// assert_eq!(s.reschedule(id, When::At(40))?, 40); // sooner: same handle
    /// assert_eq!(s.next_deadline(), Some(40));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reschedule(&mut self, id: TaskId, when: When) -> Result<Ticks, NotScheduled> {
        let index = self.slots.find(id).ok_or(NotScheduled)?;
        let now = self.clock.now();
        let deadline = match when {
            When::Now => now,
            When::At(t) => t,
            When::After(d) => now.saturating_add(d),
        };
        self.order = self.order.wrapping_add(1);
        let order = self.order;
        let slot = self.slots.get(index).ok_or(NotScheduled)?;
        let pos = slot.heap_pos;
        let queue = self
            .queue_of(slot.task().ok_or(NotScheduled)?)
            .ok_or(NotScheduled)?;
        if self.heap.in_heap(pos) {
            self.heap
                .with(&mut self.slots.array)
                .rekey(index, (deadline, order));
        } else {
            // Waiting for room: back from the Waiting line into the
            // schedule. The heap has room for every scheduled task.
            self.heap.with(&mut self.slots.array).unpark(index);
            self.unlink_line(queue, index, Line::Waiting);
            self.link_line(queue, index, Line::Pending);
            self.heap
                .with(&mut self.slots.array)
                .push(index, (deadline, order));
        }
        Ok(deadline)
    }

    /// Cancels the scheduled task `id` and hands it back.
    ///
    /// # Errors
    ///
    /// [`NotScheduled`] when `id` names no scheduled task: it was delivered
    /// (a task in a queue can no longer be cancelled), cancelled, handed
    /// back, or never existed. A stale handle never cancels another task.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, &str>, 4>, u32, &str, 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// let id = s.schedule(Task::new(q, 42, "example.org"), When::After(30))?;
    /// let task = s.cancel(id)?; // handed back
    /// assert_eq!(task.payload(), &"example.org");
    /// assert!(s.cancel(id).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&mut self, id: TaskId) -> Result<Task<S, P>, NotScheduled> {
        let index = self.slots.find(id).ok_or(NotScheduled)?;
        self.remove_slot(index).ok_or(NotScheduled)
    }

    /// `true` when `id` names a scheduled task.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// let id = s.schedule(Task::new(q, 42, ()), When::After(30))?;
    /// assert!(s.is_scheduled(id));
    /// s.run_all(); // delivered: no longer scheduled
    /// assert!(!s.is_scheduled(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_scheduled(&self, id: TaskId) -> bool {
        self.slots.find(id).is_some()
    }

    /// A view of the scheduled task `id`, `None` when it is not scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, &str>, 4>, u32, &str, 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// let id = s.schedule(Task::new(q, 42, "example.org"), When::After(30))?;
    /// let t = s.scheduled_task(id).unwrap();
    /// assert_eq!((t.deadline(), *t.payload()), (30, "example.org"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scheduled_task(&self, id: TaskId) -> Option<ScheduledTask<'_, S, P>> {
        let index = self.slots.find(id)?;
        let slot = self.slots.get(index)?;
        let task = slot.task()?;
        Some(ScheduledTask {
            id,
            queue: self.queue_of(task)?,
            deadline: self.heap.key(slot.heap_pos)?.0,
            attempt: self.slots.attempt(index),
            subject: &task.subject,
            payload: &task.payload,
        })
    }

    /// The task due next and its deadline, in O(1): the one
    /// [`run_pending`](Self::run_pending) delivers first once the clock
    /// reaches the deadline (as `DelayQueue::peek`); `None` when nothing is
    /// scheduled. Due tasks waiting for room in a full queue are not
    /// counted, as in [`next_deadline`](Self::next_deadline).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let clock = ManualClock::new(0);
    /// let mut s: Scheduler<&ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(&clock);
    /// let q = s.add_queue("work", 0)?;
    /// assert_eq!(s.peek(), None);
    /// s.schedule(Task::new(q, 1, ()), When::At(30))?;
    /// let first = s.schedule(Task::new(q, 2, ()), When::At(10))?;
    /// s.schedule(Task::new(q, 3, ()), When::At(10))?;
    /// // Ties leave in scheduling order.
    /// assert_eq!(s.peek(), Some((first, 10)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn peek(&self) -> Option<(TaskId, Ticks)> {
        let (index, (deadline, _)) = self.heap.first()?;
        let slot = self.slots.get(index)?;
        Some((slots::task_id(index, slot.generation()), deadline))
    }

    /// Every scheduled task (due ones waiting for room included), in no
    /// particular order, as [`ScheduledTask`] views; O(n) for n scheduled
    /// tasks, allocating nothing. For deadline order, see
    /// `iter_by_deadline` (feature `alloc`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let clock = ManualClock::new(0);
    /// let mut s: Scheduler<&ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(&clock);
    /// let q = s.add_queue("work", 0)?;
    /// for subject in [3, 1, 2] {
    ///     s.schedule(Task::new(q, subject, ()), When::At(u64::from(subject) * 10))?;
    /// }
    /// let mut subjects: Vec<u32> = s.iter().map(|t| *t.subject()).collect();
    /// subjects.sort();
    /// assert_eq!(subjects, [1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = ScheduledTask<'_, S, P>> + '_ {
        self.heap
            .all()
            .filter_map(|(index, key)| self.view(index, key))
    }

    /// Every scheduled task as [`ScheduledTask`] views in deadline order,
    /// ties in scheduling order (as Python's `sched.queue`); due tasks
    /// waiting for room in a full queue are included, at their deadlines.
    /// Lazy: the first k tasks cost O(k log k) (plus O(w log w) for w
    /// waiting tasks), walking the heap with an auxiliary binary heap of at
    /// most 3k + w + 1 positions (allocated); the whole walk is
    /// O(n log n).
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{AllocScheduler, ManualClock, Task, VecDequeQueue, When};
    ///
    /// let clock = ManualClock::new(0);
    /// let mut s: AllocScheduler<&ManualClock, VecDequeQueue<Task<u32, ()>>, u32, ()> =
    ///     AllocScheduler::new(&clock);
    /// let q = s.add_queue("work", 0)?;
    /// for subject in [3, 1, 2] {
    ///     s.schedule(Task::new(q, subject, ()), When::At(u64::from(subject) * 10))?;
    /// }
    /// let next_two: Vec<(u32, u64)> =
    ///     s.iter_by_deadline().take(2).map(|t| (*t.subject(), t.deadline())).collect();
    /// assert_eq!(next_two, [(1, 10), (2, 20)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn iter_by_deadline(&self) -> impl Iterator<Item = ScheduledTask<'_, S, P>> + '_ {
        self.heap
            .ordered()
            .filter_map(|(index, key)| self.view(index, key))
    }

    /// The view of the task in slot `index`, whose key is `key`.
    fn view(&self, index: St::Index, key: heap::Key) -> Option<ScheduledTask<'_, S, P>> {
        let slot = self.slots.get(index)?;
        let task = slot.task()?;
        Some(ScheduledTask {
            id: slots::task_id(index, slot.generation()),
            queue: self.queue_of(task)?,
            deadline: key.0,
            attempt: self.slots.attempt(index),
            subject: &task.subject,
            payload: &task.payload,
        })
    }

    /// Cancels every scheduled task about `subject`, handing each to
    /// `hand_back` in the order they were scheduled; returns how many. Tasks
    /// already in a queue stay there.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 7, ()), When::After(10))?;
    /// s.schedule(Task::new(q, 7, ()), When::After(20))?;
    /// s.schedule(Task::new(q, 8, ()), When::After(30))?;
    /// let mut back = Vec::new();
    /// assert_eq!(s.cancel_by_subject(&7, |t| back.push(t)), 2);
    /// assert_eq!(s.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel_by_subject(
        &mut self,
        subject: &S,
        mut hand_back: impl FnMut(Task<S, P>),
    ) -> usize {
        // Walk the subject's chain once round, oldest first, up to the tail
        // it had when the walk began; tasks about other subjects that share
        // the bucket are skipped. `next` is read before the slot is freed,
        // and `hand_back` cannot reach the scheduler, so the chain changes
        // only by the removals made here.
        let Some((mut at, last)) = self.subjects.chain(&self.slots.array, subject) else {
            return 0;
        };
        let mut count = 0;
        while at != St::Index::NIL {
            #[cfg(test)]
            {
                self.subjects.steps += 1;
            }
            let Some(slot) = self.slots.get(at) else {
                break;
            };
            let next = slot.subject_next;
            let ours = slot.task().is_some_and(|t| t.subject == *subject);
            if ours {
                if let Some(task) = self.remove_slot(at) {
                    hand_back(task);
                    count += 1;
                }
            }
            if at == last {
                break;
            }
            at = next;
        }
        count
    }

    // ----- time ---------------------------------------------------------

    /// Delivers every task whose deadline the clock has reached into its
    /// queue, in deadline order, ties in scheduling order; returns how many
    /// entered their queues. Due tasks for a full queue wait, in order.
    ///
    /// A periodic task (feature `periodic`) delivers at most one
    /// occurrence per call: when its next occurrence is due too (catching
    /// up under `MissedTickBehavior::Burst`), the call stops there, keeping deadline order, and
    /// [`next_deadline`](Self::next_deadline) is at most the clock's reading
    /// until the host calls again.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::At(10))?;
    /// s.schedule(Task::new(q, 2, ()), When::At(20))?;
    /// s.clock().set(15);
    /// assert_eq!(s.run_pending(), 1); // only the first is due
    /// assert_eq!(s.next_deadline(), Some(20));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_pending(&mut self) -> usize {
        let now = self.clock.now();
        self.run_until(now, usize::MAX)
    }

    /// Like [`run_pending`](Self::run_pending), but takes at most `max` due
    /// tasks out of the schedule (in the same order) and returns how many
    /// entered their queues. Due tasks remain while
    /// [`next_deadline`](Self::next_deadline) is at most the clock's
    /// reading. Calling it with a small `max` until then bounds each call to
    /// O(max log n + QN), for example to keep critical sections short.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// for i in 0..3 {
    ///     s.schedule(Task::new(q, i, ()), When::At(10))?;
    /// }
    /// s.clock().set(10);
    /// while s.run_pending_max(1) > 0 {} // one task per call, e.g. per critical section
    /// assert_eq!(s.stats(q)?.queued, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_pending_max(&mut self, max: usize) -> usize {
        let now = self.clock.now();
        self.run_until(now, max)
    }

    /// Delivers every scheduled task now, whatever its deadline, in deadline
    /// order; returns how many entered their queues. Tasks for a full queue
    /// wait, in order.
    ///
    /// A periodic task is never done: `run_all` delivers its next
    /// occurrence, and stops where the occurrence after it comes in
    /// deadline order (as [`run_pending`](Self::run_pending) does), so it
    /// always returns; tasks due later stay scheduled. A loop calling it
    /// until [`next_deadline`](Self::next_deadline) is `None` never ends
    /// while a periodic task is scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::At(1_000))?;
    /// assert_eq!(s.run_all(), 1); // e.g. at shutdown, whatever the deadlines
    /// assert_eq!(s.get_task(q)?.subject(), &1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_all(&mut self) -> usize {
        self.run_until(Ticks::MAX, usize::MAX)
    }

    /// As [`run_all`](Self::run_all), taking at most `max` tasks out of the
    /// schedule (so a caller can bound the work of one call); returns how
    /// many entered their queues.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// s.schedule(Task::new(q, 1, ()), When::At(1_000))?;
    /// s.schedule(Task::new(q, 2, ()), When::At(2_000))?;
    /// assert_eq!(s.run_all_max(1), 1);
    /// assert_eq!(s.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_all_max(&mut self, max: usize) -> usize {
        self.run_until(Ticks::MAX, max)
    }

    /// The tie order of the latest key made: keys made later (tasks
    /// scheduled or rescheduled, periodic tasks re-armed) are newer.
    #[cfg(all(
        any(
            feature = "std",
            feature = "capi-baremetal",
            feature = "critical-section",
            feature = "spin"
        ),
        feature = "periodic"
    ))]
    pub(crate) fn last_order(&self) -> u64 {
        self.order
    }

    /// The first key of the schedule: the handle of its task, its deadline
    /// and its tie order.
    #[cfg(all(any(feature = "std", feature = "capi-baremetal"), feature = "periodic"))]
    pub(crate) fn first_key(&self) -> Option<(TaskId, Ticks, u64)> {
        let (index, (deadline, order)) = self.heap.first()?;
        let generation = self.slots.get(index)?.generation();
        Some((slots::task_id(index, generation), deadline, order))
    }

    /// `true` when a task is due at the clock reading `until` in a pass (a
    /// `run_pending` of the threaded layer or of the interrupt-safe
    /// wrappers, a batch) that began at the tie order `mark`
    /// ([`last_order`](Self::last_order); `u64::MAX` without periodic
    /// tasks): a deadline of `Ticks::MAX` counts only for the keys not
    /// newer than the mark, so that a pass delivers every task due there
    /// when it began (a clock at the end of time), while a periodic task
    /// re-armed there is left for the next pass.
    #[cfg(any(feature = "std", feature = "critical-section", feature = "spin"))]
    pub(crate) fn due_in_pass(&self, until: Ticks, mark: u64) -> bool {
        self.heap
            .first()
            .is_some_and(|(_, (d, order))| d <= until && (d < Ticks::MAX || order <= mark))
    }

    /// The key (deadline, tie order) of the scheduled task `id`, waiting
    /// ones included.
    #[cfg(all(feature = "std", feature = "periodic"))]
    pub(crate) fn key_of(&self, id: TaskId) -> Option<(Ticks, u64)> {
        let pos = self.slots.get(self.slots.find(id)?)?.heap_pos;
        self.heap.key(pos)
    }

    /// As [`run_all_max`](Self::run_all_max), stopping at the first key
    /// newer than `start` (see [`last_order`](Self::last_order)) instead of
    /// at the first key made during the call.
    #[cfg(all(any(feature = "std", feature = "capi-baremetal"), feature = "periodic"))]
    pub(crate) fn run_all_older_max(&mut self, start: u64, max: usize) -> usize {
        self.run_until_from(Ticks::MAX, max, start)
    }

    /// Refills the queues' Waiting lines, then takes at most `max` tasks
    /// due at `now` out of the heap.
    fn run_until(&mut self, now: Ticks, max: usize) -> usize {
        let start = self.order;
        self.run_until_from(now, max, start)
    }

    /// [`Self::run_until`], stopping at the first key newer than `start`.
    fn run_until_from(&mut self, now: Ticks, max: usize, start: u64) -> usize {
        let mut moved = 0;
        for index in 0..if self.waiting > 0 { QN } else { 0 } {
            let queue = self.queues.id_at(index).filter(|&q| {
                self.queues
                    .entry(q)
                    .is_some_and(|e| e.lines.waiting.len > 0)
            });
            if let Some(queue) = queue {
                moved += self.refill(queue);
            }
        }
        let mut taken = 0;
        // A key newer than `start` is a periodic task's next occurrence,
        // re-armed in this call: delivering it too would let a periodic
        // task fill its queue in one call (or never end, for `run_all`).
        // Stopping there keeps deadline order; the rest stays due.
        while let Some((deadline, order)) = self.heap.first_key() {
            if deadline > now || taken >= max || rearmed(order, start) {
                break;
            }
            // The top's slot only for the task delivered.
            let Some(top) = self.heap.first_slot() else {
                break;
            };
            taken += 1;
            moved += self.deliver(top);
        }
        moved
    }

    /// The earliest deadline in the schedule, so the host knows how long it
    /// may sleep; `None` when nothing is scheduled. Due tasks that wait for
    /// room in a full queue are not counted: they move when a task is taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, Scheduler, Task, When};
    ///
    /// let mut s: Scheduler<ManualClock, HeaplessQueue<Task<u32, ()>, 4>, u32, (), 8, 2> =
    ///     Scheduler::new(ManualClock::new(0));
    /// let q = s.add_queue("renew", 0)?;
    /// assert_eq!(s.next_deadline(), None); // nothing to wait for
    /// s.schedule(Task::new(q, 1, ()), When::At(20))?;
    /// s.schedule(Task::new(q, 2, ()), When::At(10))?;
    /// assert_eq!(s.next_deadline(), Some(10)); // sleep until then
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_deadline(&self) -> Option<Ticks> {
        self.heap.first_key().map(|k| k.0)
    }

    // ----- internals ----------------------------------------------------

    /// The id of a [`When::Now`] task: a count above the `NIL` slot
    /// number, so it never names a slot (the count may wrap after 2^48 or
    /// 2^32 such tasks: harmless, those ids are never looked up).
    fn next_now_id(&mut self) -> TaskId {
        next_now_id::<St::Index>(&mut self.now_ids)
    }

    /// Moves a due task into its queue, or to the back of its Waiting line
    /// when the queue is full or others wait before it; returns how many
    /// tasks entered the queue (waiting ones that went first included).
    fn deliver(&mut self, index: St::Index) -> usize {
        let Some(key) = self.heap.with(&mut self.slots.array).remove(index) else {
            return 0;
        };
        let Some(queue) = self
            .slots
            .get(index)
            .and_then(|s| s.task())
            .and_then(|t| self.queue_of(t))
        else {
            return 0;
        };
        self.unlink_line(queue, index, Line::Pending);
        // Tasks already waiting go first, even when the queue has room
        // again: it may have been drained elsewhere since they were refused.
        let moved = self.refill(queue);
        let waiting = self.waiting > 0
            && self
                .queues
                .entry(queue)
                .is_some_and(|e| e.lines.waiting.len > 0);
        if !waiting && self.try_enter(queue, index, key.0) {
            return moved + 1;
        }
        self.heap.with(&mut self.slots.array).park(index, key);
        self.link_line(queue, index, Line::Waiting);
        moved
    }

    /// Moves the first waiting tasks of `queue` into it while it has room.
    #[inline]
    fn refill(&mut self, queue: QueueId) -> usize {
        if self.waiting == 0 {
            return 0; // no task waits anywhere
        }
        self.refill_waiting(queue)
    }

    /// [`Self::refill`] when some queue has waiting tasks.
    fn refill_waiting(&mut self, queue: QueueId) -> usize {
        let mut moved = 0;
        loop {
            let Some(head) = self.queues.entry(queue).map(|e| e.lines.waiting.head) else {
                return moved;
            };
            if head == St::Index::NIL {
                return moved;
            }
            self.unlink_line(queue, head, Line::Waiting);
            let Some(key) = self.heap.with(&mut self.slots.array).unpark(head) else {
                return moved;
            };
            if !self.try_enter(queue, head, key.0) {
                // Still full: back to the front of the line.
                self.heap.with(&mut self.slots.array).park(head, key);
                if let Some(e) = self.queues.entry_mut(queue) {
                    e.lines.waiting.push_front(&mut self.slots.array, head);
                    self.waiting += 1;
                }
                return moved;
            }
            moved += 1;
        }
    }

    /// Pushes the task of slot `index` (in no line, out of the heap and not
    /// parked), due at `deadline`, into `queue`, freeing the slot; `false`
    /// (the task kept in its slot) if the queue is full.
    ///
    /// The slot is freed and the subject index updated before the task is
    /// handed to the queue, so a [`TaskQueue`] that breaks its contract by
    /// panicking in `try_push` loses only the task it was given: every index
    /// and counter stays consistent for the caller that catches the panic.
    fn try_enter(&mut self, queue: QueueId, index: St::Index, deadline: Ticks) -> bool {
        #[cfg(feature = "periodic")]
        if let Some(entered) = self.enter_occurrence(queue, index, deadline) {
            return entered;
        }
        // `queue` is a scheduled task's (from `queue_of`, or checked).
        let Some(entry) = self.queues.current_mut(queue) else {
            return false;
        };
        if entry.queue.is_full() {
            return false;
        }
        self.subjects.unlink(&mut self.slots.array, index);
        let Some(task) = self.slots.release(index, queue, deadline) else {
            return false;
        };
        match entry.queue.try_push(task) {
            Ok(()) => true,
            Err(task) => {
                // The queue said it had room and then refused: take the
                // task back into the slot just freed.
                self.restore(index, task);
                false
            }
        }
    }

    /// Puts `task` back into slot `index`, just released by
    /// [`Self::try_enter`], and back into its subject's chain.
    fn restore(&mut self, index: St::Index, task: Task<S, P>) {
        self.slots.restore(index, task);
        self.subjects.link(&mut self.slots.array, index);
    }

    /// Takes the task out of slot `index`, from every index, and frees it.
    fn remove_slot(&mut self, index: St::Index) -> Option<Task<S, P>> {
        let slot = self.slots.get(index)?;
        let queue = self.queue_of(slot.task()?)?;
        let in_heap = self.heap.in_heap(slot.heap_pos);
        let mut heap = self.heap.with(&mut self.slots.array);
        let (key, line) = if in_heap {
            (heap.remove(index)?, Line::Pending)
        } else {
            (heap.unpark(index)?, Line::Waiting)
        };
        self.unlink_line(queue, index, line);
        self.subjects.unlink(&mut self.slots.array, index);
        self.slots.release(index, queue, key.0)
    }

    /// The id of the queue of a scheduled task.
    #[inline]
    fn queue_of(&self, task: &Parts<S, P>) -> Option<QueueId> {
        self.queues.id_at(usize::from(task.queue_index()))
    }

    fn link_line(&mut self, queue: QueueId, index: St::Index, line: Line) {
        let Some(e) = self.queues.current_mut(queue) else {
            return;
        };
        e.lines
            .get_mut(line)
            .push_back(&mut self.slots.array, index);
        if line == Line::Waiting {
            self.waiting += 1;
        }
    }

    fn unlink_line(&mut self, queue: QueueId, index: St::Index, line: Line) {
        let Some(e) = self.queues.current_mut(queue) else {
            return;
        };
        let list = e.lines.get_mut(line);
        let before = list.len;
        list.unlink(&mut self.slots.array, index);
        if line == Line::Waiting {
            self.waiting -= before - list.len;
        }
    }
}

/// Whether the heap key of tie order `order` was made during the
/// `run_until` call that began at tie order `start`: only a periodic task
/// re-arms there.
#[cfg(feature = "periodic")]
#[inline]
fn rearmed(order: u64, start: u64) -> bool {
    order > start
}

/// Without periodic tasks no key is made during `run_until`.
#[cfg(not(feature = "periodic"))]
#[inline]
fn rearmed(_order: u64, _start: u64) -> bool {
    false
}

/// The next id from the count `now_ids` of ids that name no slot (see
/// `SchedulerInner::next_now_id`).
fn next_now_id<I: Index>(now_ids: &mut u64) -> TaskId {
    let mask = u64::MAX >> I::BITS;
    *now_ids = now_ids.wrapping_add(1);
    if *now_ids & mask == 0 {
        *now_ids = now_ids.wrapping_add(1);
    }
    let raw = ((*now_ids & mask) << I::BITS) | I::NIL.to_usize() as u64;
    TaskId::new(NonZeroU64::new(raw).unwrap_or(NonZeroU64::MIN))
}

impl<C, Q, S, P, St: Storage, const QN: usize> core::fmt::Debug
    for SchedulerInner<C, Q, S, P, St, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scheduler")
            .field("now", &self.clock.now())
            .field("scheduled", &self.len())
            .field("queues", &self.queues.names.len())
            .field("slots", &self.slots.array.len())
            .finish_non_exhaustive()
    }
}
