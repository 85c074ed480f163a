//! The no_std, allocation-free [`Scheduler`].
//!
//! # How it is built
//!
//! Every scheduled task lives in one of `N` slots. Three indexes point into
//! the slots, each O(1) or O(log n) per task:
//!
//! - a 4-ary min-heap of slot numbers ordered by `(deadline, order)`, where
//!   `order` grows with every scheduling, so equal deadlines leave in
//!   scheduling order. Each slot knows its heap position, so cancelling or
//!   rescheduling removes or moves it in O(log n). Neither
//!   [`heapless::BinaryHeap`] nor `std`'s heap can remove an arbitrary
//!   element without a linear scan, which is why this heap is written here;
//! - per queue, two intrusive doubly linked lists through the slots: the
//!   tasks still in the heap ("pending"), and the due tasks waiting, in
//!   order, for room in a full queue ("backlog"). A slot is in exactly one;
//! - per subject, a hash index: `N` buckets (the subject's FNV hash, masked),
//!   each the head of an intrusive doubly linked chain through the slots of
//!   the tasks whose subject falls in that bucket. Linking and unlinking are
//!   O(1); cancelling a subject walks its bucket's chain, which holds its k
//!   tasks and, with at most `N` tasks in `N` buckets, on average less than
//!   one task of another subject. A [`heapless::FnvIndexMap`] keyed by the
//!   subject did this before; the chains cost 2 bytes per slot instead of
//!   16, never move an entry, and leave no bounds check the optimiser
//!   cannot remove (`IndexMap::swap_remove` kept one, a panic path on
//!   microcontrollers).
//!
//! Queue names map to queue slots through a [`heapless::FnvIndexMap`].

use core::hash::Hasher;
use core::marker::PhantomData;
use core::num::{NonZeroU16, NonZeroU64};

use hash32::FnvHasher;
use heapless::index_map::FnvIndexMap;
use heapless::{String, Vec};

use crate::clock::{Clock, Ticks};
use crate::error::{
    AddQueueError, GetTaskError, NotScheduled, ScheduleError, TaskDoneError, UnknownQueue,
};
use crate::queue::TaskQueue;
use crate::subject::Subject;
use crate::task::{QueueId, Task, TaskId, When};

/// The longest queue name, in bytes.
pub const MAX_NAME_LEN: usize = 31;

/// The largest task capacity `N` a scheduler can have.
pub const MAX_CAPACITY: usize = 1 << 15;

/// No slot: the end of a list, or "not in the heap".
const NIL: u16 = u16::MAX;
/// Bits of a [`TaskId`] that hold the slot number.
const SLOT_BITS: u32 = 16;
/// The slot number of tasks that never take a slot ([`When::Now`]).
const NO_SLOT: u64 = NIL as u64;

type Name = String<MAX_NAME_LEN>;

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
    /// How many more tasks the queue accepts now.
    pub room: usize,
    /// The most tasks the queue holds at once.
    pub max_size: usize,
}

/// The two ends and the length of an intrusive list.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u16,
    tail: u16,
    len: u16,
}

impl List {
    const EMPTY: Self = Self {
        head: NIL,
        tail: NIL,
        len: 0,
    };
}

#[derive(Debug)]
struct Slot<S, P> {
    task: Option<Task<S, P>>,
    /// Position in the heap, or `NIL` when in a backlog or free.
    heap_pos: u16,
    /// Links of the queue list (pending or backlog) the slot is in; `next`
    /// also links the free list.
    prev: u16,
    next: u16,
    /// Links of the circular chain of the slot's subject bucket.
    s_prev: u16,
    s_next: u16,
}

impl<S, P> Slot<S, P> {
    const FREE: Self = Self {
        task: None,
        heap_pos: NIL,
        prev: NIL,
        next: NIL,
        s_prev: NIL,
        s_next: NIL,
    };
}

#[derive(Debug)]
struct QueueEntry<Q> {
    name: Name,
    queue: Q,
    pending: List,
    backlog: List,
    taken: u64,
    done: u64,
}

#[derive(Debug)]
struct QueueSlot<Q> {
    generation: NonZeroU16,
    entry: Option<QueueEntry<Q>>,
}

/// A deadline scheduler that delivers tasks into named, bounded queues.
///
/// - `C`: the [`Clock`];
/// - `Q`: the [`TaskQueue`] type of every queue;
/// - `S`: the [`Subject`] of tasks, the key of [`cancel_by_subject`](Self::cancel_by_subject);
/// - `P`: the user payload of a [`Task`];
/// - `N`: task slots, a power of two from 2 to [`MAX_CAPACITY`];
/// - `QN`: queue slots, a power of two from 2 to 256.
///
/// It allocates nothing: its size is fixed by `N` and `QN`, and
/// [`new`](Self::new) is a `const fn`, so a scheduler can live in a
/// `static`. Scheduling, cancelling, rescheduling and delivering a task are
/// O(log N); [`cancel_by_subject`](Self::cancel_by_subject) and
/// [`remove_queue`](Self::remove_queue) are O(k log N) for their k tasks.
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
pub struct Scheduler<C, Q, S, P, const N: usize, const QN: usize> {
    clock: C,
    slots: Vec<Slot<S, P>, N, u16>,
    free: u16,
    heap: Vec<u16, N, u16>,
    /// `(deadline, order)` of `heap[i]`, kept beside it so that sifting
    /// compares within one array instead of reading scattered slots.
    heap_keys: Vec<(Ticks, u64), N, u16>,
    /// Heads of the subject chains: every scheduled task is in the chain of
    /// its subject's hash bucket.
    buckets: [u16; N],
    queues: [QueueSlot<Q>; QN],
    names: FnvIndexMap<Name, u16, QN>,
    counter: u64,
    used: u16,
    /// Due tasks in every queue's backlog together: while 0,
    /// [`run_pending`](Self::run_pending) looks at no queue before the heap.
    waiting: u16,
    _payload: PhantomData<P>,
}

impl<C, Q, S, P, const N: usize, const QN: usize> Scheduler<C, Q, S, P, N, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    /// An empty scheduler reading `clock`, with no queue.
    ///
    /// Wrong capacities (`N` or `QN` not a power of two, or out of range)
    /// fail at compile time.
    pub const fn new(clock: C) -> Self {
        const {
            assert!(N >= 2 && N <= MAX_CAPACITY && N.is_power_of_two());
            assert!(QN >= 2 && QN <= 256 && QN.is_power_of_two());
        }
        Self {
            clock,
            slots: Vec::new(),
            free: NIL,
            heap: Vec::new(),
            heap_keys: Vec::new(),
            buckets: [NIL; N],
            queues: [const {
                QueueSlot {
                    generation: NonZeroU16::MIN,
                    entry: None,
                }
            }; QN],
            names: FnvIndexMap::new(),
            counter: 0,
            used: 0,
            waiting: 0,
            _payload: PhantomData,
        }
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The clock, mutably (to move a simulated clock).
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// The clock's reading.
    pub fn now(&self) -> Ticks {
        self.clock.now()
    }

    /// The number of task slots, `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The number of scheduled tasks, due ones waiting for room included.
    pub fn len(&self) -> usize {
        usize::from(self.used)
    }

    /// `true` when no task is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    /// tasks, [`AddQueueError::NoQueueSlot`] when `QN` queues exist.
    pub fn add_queue(&mut self, name: &str, max_size: usize) -> Result<QueueId, AddQueueError> {
        let key = Name::try_from(name).map_err(|_| AddQueueError::InvalidName)?;
        if key.is_empty() {
            return Err(AddQueueError::InvalidName);
        }
        if self.names.contains_key(&key) {
            return Err(AddQueueError::NameTaken);
        }
        let Some(index) = self.queues.iter().position(|q| q.entry.is_none()) else {
            return Err(AddQueueError::NoQueueSlot);
        };
        let queue = Q::with_max_size(max_size).ok_or(AddQueueError::InvalidMaxSize)?;
        let index16 = u16::try_from(index).map_err(|_| AddQueueError::NoQueueSlot)?;
        self.names
            .insert(key.clone(), index16)
            .map_err(|_| AddQueueError::NoQueueSlot)?;
        let Some(slot) = self.queues.get_mut(index) else {
            return Err(AddQueueError::NoQueueSlot);
        };
        slot.entry = Some(QueueEntry {
            name: key,
            queue,
            pending: List::EMPTY,
            backlog: List::EMPTY,
            taken: 0,
            done: 0,
        });
        Ok(QueueId {
            index: index16,
            generation: slot.generation,
        })
    }

    /// The queue named `name`.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when no queue has that name.
    pub fn queue_id(&self, name: &str) -> Result<QueueId, UnknownQueue> {
        let key = Name::try_from(name).map_err(|_| UnknownQueue)?;
        let index = *self.names.get(&key).ok_or(UnknownQueue)?;
        let slot = self.queues.get(usize::from(index)).ok_or(UnknownQueue)?;
        Ok(QueueId {
            index,
            generation: slot.generation,
        })
    }

    /// The name of `queue`, `None` if it does not exist.
    pub fn queue_name(&self, queue: QueueId) -> Option<&str> {
        self.entry(queue).map(|e| e.name.as_str())
    }

    /// Removes `queue`, handing every task scheduled for it and every task
    /// in it to `hand_back`; returns how many. Other queues and their tasks
    /// are untouched. A worker still holding a task of the removed queue
    /// gets [`ScheduleError::UnknownQueue`] when it schedules it again.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when `queue` does not exist; nothing is handed back.
    pub fn remove_queue(
        &mut self,
        queue: QueueId,
        hand_back: impl FnMut(Task<S, P>),
    ) -> Result<usize, UnknownQueue> {
        let count = self.clear_queue(queue, hand_back)?;
        let Some(slot) = self.queues.get_mut(usize::from(queue.index)) else {
            return Err(UnknownQueue);
        };
        if let Some(entry) = slot.entry.take() {
            self.names.swap_remove(&entry.name);
        }
        slot.generation = slot.generation.checked_add(1).unwrap_or(NonZeroU16::MIN);
        Ok(count)
    }

    /// Hands every scheduled and every queued task of `queue` to
    /// `hand_back` and returns how many; the queue stays, with its counters.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when `queue` does not exist.
    pub fn clear_queue(
        &mut self,
        queue: QueueId,
        mut hand_back: impl FnMut(Task<S, P>),
    ) -> Result<usize, UnknownQueue> {
        let entry = self.entry(queue).ok_or(UnknownQueue)?;
        let (pending, backlog) = (entry.pending.head, entry.backlog.head);
        let mut count = 0;
        for head in [pending, backlog] {
            let mut at = head;
            while at != NIL {
                let next = self.slots.get(usize::from(at)).map_or(NIL, |s| s.next);
                if let Some(task) = self.remove_slot(at) {
                    hand_back(task);
                    count += 1;
                }
                at = next;
            }
        }
        if let Some(entry) = self.entry_mut(queue) {
            while let Some(task) = entry.queue.pop() {
                hand_back(task);
                count += 1;
            }
        }
        Ok(count)
    }

    /// Hands every scheduled and every queued task of every queue to
    /// `hand_back` and returns how many. Queues stay.
    pub fn clear(&mut self, mut hand_back: impl FnMut(Task<S, P>)) -> usize {
        let ids: Vec<QueueId, QN> = self.queue_ids().collect();
        ids.into_iter()
            .map(|q| self.clear_queue(q, &mut hand_back).unwrap_or(0))
            .sum()
    }

    /// The handles of every queue.
    pub fn queue_ids(&self) -> impl Iterator<Item = QueueId> + '_ {
        self.queues.iter().zip(0u16..).filter_map(|(slot, index)| {
            slot.entry.as_ref().map(|_| QueueId {
                index,
                generation: slot.generation,
            })
        })
    }

    /// The counters of `queue`.
    ///
    /// # Errors
    ///
    /// [`UnknownQueue`] when `queue` does not exist.
    pub fn stats(&self, queue: QueueId) -> Result<QueueStats, UnknownQueue> {
        let e = self.entry(queue).ok_or(UnknownQueue)?;
        let len = e.queue.len();
        let max_size = e.queue.max_size();
        Ok(QueueStats {
            queued: len,
            scheduled: usize::from(e.pending.len) + usize::from(e.backlog.len),
            waiting: usize::from(e.backlog.len),
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
    pub fn get_task(&mut self, queue: QueueId) -> Result<Task<S, P>, GetTaskError> {
        self.refill(queue);
        let entry = self.entry_mut(queue).ok_or(GetTaskError::UnknownQueue)?;
        let task = entry.queue.pop().ok_or(GetTaskError::Empty)?;
        entry.taken = entry.taken.saturating_add(1);
        self.refill(queue);
        Ok(task)
    }

    /// Marks one task taken from `queue` as done (Python's
    /// `Queue.task_done`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError::UnknownQueue`], or [`TaskDoneError::NotTaken`] when
    /// every task taken from the queue is already done.
    pub fn task_done(&mut self, queue: QueueId) -> Result<(), TaskDoneError> {
        let entry = self.entry_mut(queue).ok_or(TaskDoneError::UnknownQueue)?;
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
    /// or [`ScheduleError::Capacity`] when all `N` slots are in use.
    pub fn schedule(
        &mut self,
        mut task: Task<S, P>,
        when: When,
    ) -> Result<TaskId, ScheduleError<Task<S, P>>> {
        let queue = task.queue;
        if self.entry(queue).is_none() {
            return Err(ScheduleError::UnknownQueue(task));
        }
        let now = self.clock.now();
        let deadline = match when {
            When::Now => return self.push_now(task, now),
            When::At(t) => t,
            When::After(d) => now.saturating_add(d),
        };
        let Some(index) = self.alloc_slot() else {
            return Err(ScheduleError::Capacity(task));
        };
        let id = self.next_id(u64::from(index));
        let order = self.counter;
        self.link_subject(&task.subject, index);
        task.id = Some(id);
        task.deadline = deadline;
        task.attempt = task.attempt.saturating_add(1);
        if let Some(slot) = self.slots.get_mut(usize::from(index)) {
            slot.task = Some(task);
        }
        self.link_queue_list(queue, index, false);
        self.heap_push(index, (deadline, order));
        Ok(id)
    }

    fn push_now(
        &mut self,
        mut task: Task<S, P>,
        now: Ticks,
    ) -> Result<TaskId, ScheduleError<Task<S, P>>> {
        let queue = task.queue;
        self.refill(queue);
        let saved = (task.id, task.deadline, task.attempt);
        let id = self.next_id(NO_SLOT);
        task.id = Some(id);
        task.deadline = now;
        task.attempt = task.attempt.saturating_add(1);
        let Some(entry) = self.entry_mut(queue) else {
            (task.id, task.deadline, task.attempt) = saved;
            return Err(ScheduleError::UnknownQueue(task));
        };
        if entry.backlog.len > 0 {
            (task.id, task.deadline, task.attempt) = saved;
            return Err(ScheduleError::QueueFull(task));
        }
        match entry.queue.try_push(task) {
            Ok(()) => Ok(id),
            Err(mut task) => {
                (task.id, task.deadline, task.attempt) = saved;
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
    pub fn reschedule(&mut self, id: TaskId, when: When) -> Result<(), NotScheduled> {
        let index = self.find(id).ok_or(NotScheduled)?;
        let now = self.clock.now();
        let deadline = match when {
            When::Now => now,
            When::At(t) => t,
            When::After(d) => now.saturating_add(d),
        };
        self.counter = self.counter.wrapping_add(1);
        let order = self.counter;
        let Some(slot) = self.slots.get_mut(usize::from(index)) else {
            return Err(NotScheduled);
        };
        let Some(task) = slot.task.as_mut() else {
            return Err(NotScheduled);
        };
        task.deadline = deadline;
        let (queue, pos) = (task.queue, slot.heap_pos);
        if pos == NIL {
            // Waiting for room: back from the backlog into the schedule.
            self.move_list(queue, index, false);
            self.heap_push(index, (deadline, order));
        } else {
            if let Some(k) = self.heap_keys.get_mut(usize::from(pos)) {
                *k = (deadline, order);
            }
            self.sift_up(pos);
            if let Some(pos) = self.slots.get(usize::from(index)).map(|s| s.heap_pos) {
                self.sift_down(pos);
            }
        }
        Ok(())
    }

    /// Cancels the scheduled task `id` and hands it back.
    ///
    /// # Errors
    ///
    /// [`NotScheduled`] when `id` names no scheduled task: it was delivered
    /// (a task in a queue can no longer be cancelled), cancelled, handed
    /// back, or never existed. A stale handle never cancels another task.
    pub fn cancel(&mut self, id: TaskId) -> Result<Task<S, P>, NotScheduled> {
        let index = self.find(id).ok_or(NotScheduled)?;
        self.remove_slot(index).ok_or(NotScheduled)
    }

    /// `true` when `id` names a scheduled task.
    pub fn is_scheduled(&self, id: TaskId) -> bool {
        self.find(id).is_some()
    }

    /// The scheduled task `id`, `None` when it is not scheduled.
    pub fn scheduled_task(&self, id: TaskId) -> Option<&Task<S, P>> {
        let index = self.find(id)?;
        self.slots.get(usize::from(index))?.task.as_ref()
    }

    /// Cancels every scheduled task about `subject`, handing each to
    /// `hand_back` in the order they were scheduled; returns how many. Tasks
    /// already in a queue stay there.
    pub fn cancel_by_subject(
        &mut self,
        subject: &S,
        mut hand_back: impl FnMut(Task<S, P>),
    ) -> usize {
        // Walk the subject's hash chain once round, oldest first, up to the
        // tail it had when the walk began (tasks scheduled by `hand_back`
        // join behind it and stay); tasks about other subjects that share
        // the bucket are skipped. Every index is consistent whenever
        // `hand_back` runs, and `next` is read before the slot is freed.
        let mut at = self
            .buckets
            .get(Self::bucket(subject))
            .copied()
            .unwrap_or(NIL);
        let last = self.slots.get(usize::from(at)).map_or(NIL, |s| s.s_prev);
        let mut count = 0;
        while let Some(slot) = self.slots.get(usize::from(at)) {
            let next = slot.s_next;
            let ours = slot.task.as_ref().is_some_and(|t| t.subject == *subject);
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
    pub fn run_pending(&mut self) -> usize {
        let now = self.clock.now();
        self.run_until(now, usize::MAX)
    }

    /// Like [`run_pending`](Self::run_pending), but takes at most `max` due
    /// tasks out of the schedule (in the same order) and returns how many
    /// entered their queues. Due tasks remain while
    /// [`next_deadline`](Self::next_deadline) is at most the clock's
    /// reading. Calling it with a small `max` until then bounds each call to
    /// O(max log N + QN), for example to keep critical sections short.
    pub fn run_pending_max(&mut self, max: usize) -> usize {
        let now = self.clock.now();
        self.run_until(now, max)
    }

    /// Delivers every scheduled task now, whatever its deadline, in deadline
    /// order; returns how many entered their queues. Tasks for a full queue
    /// wait, in order.
    pub fn run_all(&mut self) -> usize {
        self.run_until(Ticks::MAX, usize::MAX)
    }

    /// Refills the queues' backlogs, then takes at most `max` tasks due at
    /// `now` out of the heap.
    fn run_until(&mut self, now: Ticks, max: usize) -> usize {
        let mut moved = 0;
        for index in 0..if self.waiting > 0 { QN } else { 0 } {
            let queue = self.queues.get(index).and_then(|q| {
                let waiting = q.entry.as_ref()?.backlog.len > 0;
                let index = u16::try_from(index).ok()?;
                waiting.then_some(QueueId {
                    index,
                    generation: q.generation,
                })
            });
            if let Some(queue) = queue {
                moved += self.refill(queue);
            }
        }
        let mut taken = 0;
        while let (Some(&top), Some(&(deadline, _))) = (self.heap.first(), self.heap_keys.first()) {
            if deadline > now || taken >= max {
                break;
            }
            taken += 1;
            moved += self.deliver(top);
        }
        moved
    }

    /// The earliest deadline in the schedule, so the host knows how long it
    /// may sleep; `None` when nothing is scheduled. Due tasks that wait for
    /// room in a full queue are not counted: they move when a task is taken.
    pub fn next_deadline(&self) -> Option<Ticks> {
        self.heap_keys.first().map(|k| k.0)
    }

    // ----- internals ----------------------------------------------------

    fn entry(&self, q: QueueId) -> Option<&QueueEntry<Q>> {
        let slot = self.queues.get(usize::from(q.index))?;
        if slot.generation != q.generation {
            return None;
        }
        slot.entry.as_ref()
    }

    fn entry_mut(&mut self, q: QueueId) -> Option<&mut QueueEntry<Q>> {
        let slot = self.queues.get_mut(usize::from(q.index))?;
        if slot.generation != q.generation {
            return None;
        }
        slot.entry.as_mut()
    }

    fn next_id(&mut self, slot: u64) -> TaskId {
        const MASK: u64 = u64::MAX >> SLOT_BITS;
        self.counter = self.counter.wrapping_add(1);
        if self.counter & MASK == 0 {
            self.counter = self.counter.wrapping_add(1);
        }
        let raw = ((self.counter & MASK) << SLOT_BITS) | slot;
        // `counter & MASK` is never 0 here, so neither is `raw`.
        TaskId::new(NonZeroU64::new(raw).unwrap_or(NonZeroU64::MIN))
    }

    /// The slot of the scheduled task `id`.
    fn find(&self, id: TaskId) -> Option<u16> {
        let index = u16::try_from(id.get() & ((1 << SLOT_BITS) - 1)).ok()?;
        let slot = self.slots.get(usize::from(index))?;
        (slot.task.as_ref()?.id == Some(id)).then_some(index)
    }

    fn alloc_slot(&mut self) -> Option<u16> {
        let index = if self.free == NIL {
            let index = u16::try_from(self.slots.len()).ok()?;
            self.slots.push(Slot::FREE).ok()?;
            index
        } else {
            let index = self.free;
            self.free = self.slots.get(usize::from(index)).map_or(NIL, |s| s.next);
            index
        };
        self.used = self.used.saturating_add(1);
        Some(index)
    }

    fn free_slot(&mut self, index: u16) {
        if let Some(slot) = self.slots.get_mut(usize::from(index)) {
            *slot = Slot::FREE;
            slot.next = self.free;
            self.free = index;
            self.used = self.used.saturating_sub(1);
        }
    }

    /// Moves a due task into its queue, or to the back of its backlog when
    /// the queue is full or others wait before it; returns how many tasks
    /// entered the queue (waiting ones that went first included).
    fn deliver(&mut self, index: u16) -> usize {
        self.heap_remove(index);
        let Some(queue) = self.task_queue_of(index) else {
            return 0;
        };
        self.unlink_queue_list(queue, index, true);
        // Tasks already waiting go first, even when the queue has room
        // again: it may have been drained elsewhere since they were refused.
        let moved = self.refill(queue);
        let waiting = self.waiting > 0 && self.entry(queue).is_some_and(|e| e.backlog.len > 0);
        if !waiting && self.try_enter(queue, index) {
            return moved + 1;
        }
        self.link_queue_list(queue, index, true);
        moved
    }

    /// Moves the first waiting tasks of `queue` into it while it has room.
    #[inline]
    fn refill(&mut self, queue: QueueId) -> usize {
        if self.waiting == 0 {
            return 0; // no backlog anywhere
        }
        self.refill_waiting(queue)
    }

    /// [`Self::refill`] when some queue has a backlog.
    fn refill_waiting(&mut self, queue: QueueId) -> usize {
        let mut moved = 0;
        loop {
            let Some(head) = self.entry(queue).map(|e| e.backlog.head) else {
                return moved;
            };
            if head == NIL {
                return moved;
            }
            self.unlink_queue_list(queue, head, false);
            if !self.try_enter(queue, head) {
                // Still full: back to the front of the line.
                if let Some(e) = self
                    .queues
                    .get_mut(usize::from(queue.index))
                    .and_then(|q| q.entry.as_mut())
                {
                    let before = e.backlog.len;
                    Self::push_front(&mut self.slots, &mut e.backlog, head);
                    self.waiting = self
                        .waiting
                        .saturating_add(e.backlog.len.saturating_sub(before));
                }
                return moved;
            }
            moved += 1;
        }
    }

    /// Pushes the task of the unlinked slot `index` into `queue`, freeing
    /// the slot; `false` (the task kept in its slot) if the queue is full.
    ///
    /// The slot is freed and the subject index updated before the task is
    /// handed to the queue, so a [`TaskQueue`] that breaks its contract by
    /// panicking in `try_push` loses only the task it was given: every index
    /// and counter stays consistent for the caller that catches the panic.
    fn try_enter(&mut self, queue: QueueId, index: u16) -> bool {
        let full = match self
            .queues
            .get(usize::from(queue.index))
            .and_then(|q| q.entry.as_ref())
        {
            Some(entry) => entry.queue.is_full(),
            None => return false,
        };
        if full {
            return false;
        }
        let Some(task) = self
            .slots
            .get_mut(usize::from(index))
            .and_then(|slot| slot.task.take())
        else {
            return false;
        };
        self.unlink_subject(&task.subject, index);
        self.free_slot(index);
        let Some(entry) = self
            .queues
            .get_mut(usize::from(queue.index))
            .and_then(|q| q.entry.as_mut())
        else {
            self.restore_slot(index, task);
            return false;
        };
        match entry.queue.try_push(task) {
            Ok(()) => true,
            Err(task) => {
                // The queue said it had room and then refused: take the
                // task back into the slot just freed.
                self.restore_slot(index, task);
                false
            }
        }
    }

    /// Puts `task` back into slot `index`, just freed by [`Self::try_enter`]
    /// (so it heads the free list), and back into its subject's index.
    fn restore_slot(&mut self, index: u16, task: Task<S, P>) {
        let again = self.alloc_slot();
        debug_assert_eq!(again, Some(index), "a freed slot heads the free list");
        self.link_subject(&task.subject, index);
        if let Some(slot) = self.slots.get_mut(usize::from(index)) {
            slot.task = Some(task);
        }
    }

    fn task_queue_of(&self, index: u16) -> Option<QueueId> {
        Some(self.slots.get(usize::from(index))?.task.as_ref()?.queue)
    }

    /// Takes the task out of slot `index`, from every index, and frees it.
    fn remove_slot(&mut self, index: u16) -> Option<Task<S, P>> {
        let slot = self.slots.get(usize::from(index))?;
        let queue = slot.task.as_ref()?.queue;
        let in_heap = slot.heap_pos != NIL;
        if in_heap {
            self.heap_remove(index);
        }
        self.unlink_queue_list(queue, index, in_heap);
        let task = self.slots.get_mut(usize::from(index))?.task.take()?;
        self.unlink_subject(&task.subject, index);
        self.free_slot(index);
        Some(task)
    }

    /// Moves slot `index` from the backlog (`to_backlog == false`) to the
    /// pending list of `queue`, or the other way round.
    fn move_list(&mut self, queue: QueueId, index: u16, to_backlog: bool) {
        self.unlink_queue_list(queue, index, to_backlog);
        self.link_queue_list(queue, index, to_backlog);
    }

    fn link_queue_list(&mut self, queue: QueueId, index: u16, backlog: bool) {
        let Some(e) = self
            .queues
            .get_mut(usize::from(queue.index))
            .and_then(|q| q.entry.as_mut())
        else {
            return;
        };
        if backlog {
            let before = e.backlog.len;
            Self::push_back(&mut self.slots, &mut e.backlog, index);
            self.waiting = self
                .waiting
                .saturating_add(e.backlog.len.saturating_sub(before));
        } else {
            Self::push_back(&mut self.slots, &mut e.pending, index);
        }
    }

    fn unlink_queue_list(&mut self, queue: QueueId, index: u16, pending: bool) {
        let Some(e) = self
            .queues
            .get_mut(usize::from(queue.index))
            .and_then(|q| q.entry.as_mut())
        else {
            return;
        };
        if pending {
            Self::unlink(&mut self.slots, &mut e.pending, index);
        } else {
            let before = e.backlog.len;
            Self::unlink(&mut self.slots, &mut e.backlog, index);
            self.waiting = self
                .waiting
                .saturating_sub(before.saturating_sub(e.backlog.len));
        }
    }

    /// The hash bucket of `subject`, in `0..N`.
    fn bucket(subject: &S) -> usize {
        let mut hasher = FnvHasher::default();
        subject.hash(&mut hasher);
        // N is a power of two: the mask keeps the low bits of the hash.
        #[allow(clippy::cast_possible_truncation)] // only the low bits are kept
        let hash = hasher.finish() as usize;
        hash & (N - 1)
    }

    /// Links slot `index` at the tail of its subject's hash chain.
    ///
    /// A chain is circular: the head's `s_prev` is the tail, so appending is
    /// O(1) without a tail per bucket, and walking from the head meets the
    /// tasks in the order they were scheduled.
    fn link_subject(&mut self, subject: &S, index: u16) {
        let Some(head) = self.buckets.get_mut(Self::bucket(subject)) else {
            return;
        };
        if *head == NIL {
            *head = index;
            if let Some(s) = self.slots.get_mut(usize::from(index)) {
                (s.s_prev, s.s_next) = (index, index);
            }
            return;
        }
        let head = *head;
        let Some(tail) = self.slots.get(usize::from(head)).map(|h| h.s_prev) else {
            return;
        };
        if let Some(s) = self.slots.get_mut(usize::from(index)) {
            (s.s_prev, s.s_next) = (tail, head);
        }
        if let Some(t) = self.slots.get_mut(usize::from(tail)) {
            t.s_next = index;
        }
        if let Some(h) = self.slots.get_mut(usize::from(head)) {
            h.s_prev = index;
        }
    }

    /// Takes slot `index` out of its subject's hash chain.
    fn unlink_subject(&mut self, subject: &S, index: u16) {
        let Some((prev, next)) = self
            .slots
            .get(usize::from(index))
            .map(|s| (s.s_prev, s.s_next))
        else {
            return;
        };
        if let Some(head) = self.buckets.get_mut(Self::bucket(subject)) {
            if *head == index {
                // The only task of its chain links to itself.
                *head = if next == index { NIL } else { next };
            }
        }
        if next != index {
            if let Some(p) = self.slots.get_mut(usize::from(prev)) {
                p.s_next = next;
            }
            if let Some(n) = self.slots.get_mut(usize::from(next)) {
                n.s_prev = prev;
            }
        }
        if let Some(s) = self.slots.get_mut(usize::from(index)) {
            (s.s_prev, s.s_next) = (NIL, NIL);
        }
    }

    // ----- intrusive lists ------------------------------------------------

    fn push_back(slots: &mut [Slot<S, P>], list: &mut List, index: u16) {
        let tail = list.tail;
        if let Some(s) = slots.get_mut(usize::from(index)) {
            (s.prev, s.next) = (tail, NIL);
        }
        match slots.get_mut(usize::from(tail)) {
            Some(t) => t.next = index,
            None => list.head = index,
        }
        list.tail = index;
        list.len = list.len.saturating_add(1);
    }

    fn push_front(slots: &mut [Slot<S, P>], list: &mut List, index: u16) {
        let head = list.head;
        if let Some(s) = slots.get_mut(usize::from(index)) {
            (s.prev, s.next) = (NIL, head);
        }
        match slots.get_mut(usize::from(head)) {
            Some(h) => h.prev = index,
            None => list.tail = index,
        }
        list.head = index;
        list.len = list.len.saturating_add(1);
    }

    fn unlink(slots: &mut [Slot<S, P>], list: &mut List, index: u16) {
        let Some((prev, next)) = slots.get(usize::from(index)).map(|s| (s.prev, s.next)) else {
            return;
        };
        match slots.get_mut(usize::from(prev)) {
            Some(p) => p.next = next,
            None => list.head = next,
        }
        match slots.get_mut(usize::from(next)) {
            Some(n) => n.prev = prev,
            None => list.tail = prev,
        }
        if let Some(s) = slots.get_mut(usize::from(index)) {
            (s.prev, s.next) = (NIL, NIL);
        }
        list.len = list.len.saturating_sub(1);
    }

    // ----- indexed 4-ary heap ---------------------------------------------

    /// The heap, its keys and the slots as plain slices, for sifting.
    fn heap_view(&mut self) -> HeapView<'_, S, P> {
        HeapView {
            heap: self.heap.as_mut_slice(),
            keys: self.heap_keys.as_mut_slice(),
            slots: self.slots.as_mut_slice(),
        }
    }

    /// Adds slot `index` to the heap under `key`: its `(deadline, order)`.
    fn heap_push(&mut self, index: u16, key: (Ticks, u64)) {
        let Ok(pos) = u16::try_from(self.heap.len()) else {
            return;
        };
        if self.heap.push(index).is_err() {
            return;
        }
        if self.heap_keys.push(key).is_err() {
            self.heap.pop();
            return;
        }
        let mut view = self.heap_view();
        view.set(usize::from(pos), index, key);
        view.sift_up(usize::from(pos));
    }

    /// Takes slot `index` out of the heap.
    ///
    /// Floyd's method: the hole left at its position sinks to a leaf along
    /// the smallest children (three comparisons per level, among adjacent
    /// cached keys), the last entry fills
    /// it and rises to its place, usually not far.
    fn heap_remove(&mut self, index: u16) {
        let Some(pos) = self.slots.get(usize::from(index)).map(|s| s.heap_pos) else {
            return;
        };
        if usize::from(pos) >= self.heap.len() {
            return;
        }
        if let Some(s) = self.slots.get_mut(usize::from(index)) {
            s.heap_pos = NIL;
        }
        let (Some(last), Some(last_key)) = (self.heap.pop(), self.heap_keys.pop()) else {
            return;
        };
        let hole = usize::from(pos);
        if hole >= self.heap.len() {
            return; // it was the last entry
        }
        let mut view = self.heap_view();
        let hole = view.sink_hole(hole);
        view.set(hole, last, last_key);
        view.sift_up(hole);
    }

    fn sift_up(&mut self, pos: u16) {
        self.heap_view().sift_up(usize::from(pos));
    }

    fn sift_down(&mut self, pos: u16) {
        self.heap_view().sift_down(usize::from(pos));
    }
}

/// The indexed heap's arrays, borrowed together. Every position is below
/// `heap.len() == keys.len()` (at most `N`, so it fits a `u16`); the
/// out-of-range branches only keep the code free of panics.
struct HeapView<'a, S, P> {
    heap: &'a mut [u16],
    keys: &'a mut [(Ticks, u64)],
    slots: &'a mut [Slot<S, P>],
}

impl<S, P> HeapView<'_, S, P> {
    /// Puts slot `index`, whose key is `key`, at heap position `pos`.
    #[inline]
    fn set(&mut self, pos: usize, index: u16, key: (Ticks, u64)) {
        if let (Some(h), Some(k)) = (self.heap.get_mut(pos), self.keys.get_mut(pos)) {
            *h = index;
            *k = key;
        }
        if let Some(s) = self.slots.get_mut(usize::from(index)) {
            s.heap_pos = u16::try_from(pos).unwrap_or(NIL);
        }
    }

    /// The smallest child of `pos` and its key, `None` for a leaf.
    #[inline]
    fn min_child(&self, pos: usize) -> Option<(usize, (Ticks, u64))> {
        let first = ARITY * pos + 1;
        if let Some(&[k0, k1, k2, k3]) = self.keys.get(first..first + ARITY) {
            // All four children: a tournament, two pairs then their winners.
            let (a, ka) = if before(k1, k0) { (1, k1) } else { (0, k0) };
            let (b, kb) = if before(k3, k2) { (3, k3) } else { (2, k2) };
            let (c, kc) = if before(kb, ka) { (b, kb) } else { (a, ka) };
            return Some((first + c, kc));
        }
        // Fewer than four: the last inner node of the heap.
        let kids = self.keys.get(first..)?;
        let (mut best, mut best_key) = (first, *kids.first()?);
        for (i, &k) in (first..).zip(kids).skip(1) {
            if before(k, best_key) {
                (best, best_key) = (i, k);
            }
        }
        Some((best, best_key))
    }

    /// Moves the smallest child up into the hole at `pos`, level by level,
    /// down to a leaf; returns the leaf position, now the hole.
    fn sink_hole(&mut self, mut pos: usize) -> usize {
        while let Some((child, child_key)) = self.min_child(pos) {
            let Some(&c) = self.heap.get(child) else {
                break;
            };
            self.set(pos, c, child_key);
            pos = child;
        }
        pos
    }

    fn sift_up(&mut self, mut pos: usize) {
        let (Some(&item), Some(&key)) = (self.heap.get(pos), self.keys.get(pos)) else {
            return;
        };
        while pos > 0 {
            let parent = (pos - 1) / ARITY;
            let (Some(&up), Some(&up_key)) = (self.heap.get(parent), self.keys.get(parent)) else {
                break;
            };
            if !before(key, up_key) {
                break;
            }
            self.set(pos, up, up_key);
            pos = parent;
        }
        self.set(pos, item, key);
    }

    fn sift_down(&mut self, mut pos: usize) {
        let (Some(&item), Some(&key)) = (self.heap.get(pos), self.keys.get(pos)) else {
            return;
        };
        while let Some((child, child_key)) = self.min_child(pos) {
            if !before(child_key, key) {
                break;
            }
            let Some(&c) = self.heap.get(child) else {
                break;
            };
            self.set(pos, c, child_key);
            pos = child;
        }
        self.set(pos, item, key);
    }
}

/// Children per heap node: half the levels of a binary heap, and the
/// children's keys are adjacent in `heap_keys`.
const ARITY: usize = 4;
// `HeapView::min_child` takes four children at once, and its other branch
// (fewer than four left) relies on the same: it scans to the end.
const _: () = assert!(ARITY == 4);

/// Heap order: `a` leaves before `b`. One 128-bit comparison instead of a
/// branch per tuple field.
#[inline]
fn before(a: (Ticks, u64), b: (Ticks, u64)) -> bool {
    (u128::from(a.0) << 64 | u128::from(a.1)) < (u128::from(b.0) << 64 | u128::from(b.1))
}

impl<C, Q, S, P, const N: usize, const QN: usize> core::fmt::Debug for Scheduler<C, Q, S, P, N, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scheduler")
            .field("now", &self.clock.now())
            .field("scheduled", &self.len())
            .field("queues", &self.names.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::vec;
    use std::vec::Vec as StdVec;

    use proptest::prelude::*;

    use super::*;
    use crate::clock::ManualClock;
    use crate::queue::HeaplessQueue;

    type T = Task<u8, u32>;
    type Sched<'a> = Scheduler<&'a ManualClock, HeaplessQueue<T, 4>, u8, u32, 16, 4>;

    impl<C, Q, S, P, const N: usize, const QN: usize> Scheduler<C, Q, S, P, N, QN>
    where
        C: Clock,
        Q: TaskQueue<Task<S, P>>,
        S: Subject + core::fmt::Debug,
    {
        /// Walks the queue list `list`, checking the back links, the tail
        /// and the length; returns the slots in list order.
        fn walk(&self, list: &List) -> StdVec<u16> {
            let mut seen = StdVec::new();
            let mut prev = NIL;
            let mut at = list.head;
            while at != NIL {
                assert!(seen.len() < self.slots.len(), "cycle in a list");
                let slot = &self.slots[usize::from(at)];
                let (p, n) = (slot.prev, slot.next);
                assert_eq!(p, prev, "broken back link at slot {at}");
                seen.push(at);
                prev = at;
                at = n;
            }
            assert_eq!(list.tail, prev, "wrong tail");
            assert_eq!(usize::from(list.len), seen.len(), "wrong length");
            seen
        }

        /// Panics unless every internal index agrees with the slots.
        pub(crate) fn check_invariants(&self) {
            let nslots = self.slots.len();
            assert!(nslots <= N);

            // Slots: used ones hold a task whose handle names the slot.
            let mut used = 0;
            for (i, slot) in self.slots.iter().enumerate() {
                let i16 = u16::try_from(i).unwrap();
                match &slot.task {
                    Some(task) => {
                        used += 1;
                        let id = task.id.expect("a scheduled task has a handle");
                        assert_eq!(id.get() & 0xFFFF, i as u64, "handle names another slot");
                        assert_eq!(self.find(id), Some(i16));
                        assert!(self.entry(task.queue).is_some(), "task of a removed queue");
                        assert!(task.attempt >= 1);
                    }
                    None => {
                        assert_eq!(slot.heap_pos, NIL, "free slot in the heap");
                        assert_eq!((slot.prev, slot.s_prev, slot.s_next), (NIL, NIL, NIL));
                    }
                }
            }
            assert_eq!(used, usize::from(self.used), "used count");

            // Free list: exactly the free slots, no cycle.
            let mut free = 0;
            let mut at = self.free;
            while at != NIL {
                let slot = &self.slots[usize::from(at)];
                assert!(slot.task.is_none(), "used slot on the free list");
                free += 1;
                assert!(free <= nslots, "cycle in the free list");
                at = slot.next;
            }
            assert_eq!(free + used, nslots, "free list misses slots");

            // Heap: back-pointers, cached keys and order; scheduling orders
            // are unique.
            let mut orders = StdVec::new();
            assert_eq!(
                self.heap_keys.len(),
                self.heap.len(),
                "one key per heap entry"
            );
            for (pos, &i) in self.heap.iter().enumerate() {
                let slot = &self.slots[usize::from(i)];
                assert!(slot.task.is_some(), "free slot in the heap");
                assert_eq!(usize::from(slot.heap_pos), pos, "heap_pos back-pointer");
                let (deadline, order) = self.heap_keys[pos];
                assert_eq!(
                    Some(deadline),
                    slot.task.as_ref().map(|t| t.deadline),
                    "stale cached heap key"
                );
                assert!(order <= self.counter);
                orders.push(order);
                if pos > 0 {
                    assert!(
                        self.heap_keys[(pos - 1) / ARITY] < self.heap_keys[pos],
                        "heap order"
                    );
                }
            }
            let in_heap_count = orders.len();
            orders.sort_unstable();
            orders.dedup();
            assert_eq!(
                orders.len(),
                in_heap_count,
                "scheduling orders are not unique"
            );

            // Queues: each used slot is in exactly one list of its queue:
            // pending when in the heap, backlog when not.
            let mut listed = std::vec![0u8; nslots];
            let mut in_heap = 0;
            let mut queues = 0;
            let mut waiting = 0;
            for (qi, qs) in self.queues.iter().enumerate() {
                let Some(e) = &qs.entry else { continue };
                queues += 1;
                let qid = QueueId {
                    index: u16::try_from(qi).unwrap(),
                    generation: qs.generation,
                };
                assert_eq!(self.names.get(&e.name), Some(&qid.index), "name map");
                for (list, pending) in [(&e.pending, true), (&e.backlog, false)] {
                    for i in self.walk(list) {
                        let slot = &self.slots[usize::from(i)];
                        let task = slot.task.as_ref().expect("free slot in a queue list");
                        assert_eq!(task.queue, qid, "task listed under another queue");
                        assert_eq!(slot.heap_pos != NIL, pending, "pending means in the heap");
                        listed[usize::from(i)] += 1;
                        in_heap += usize::from(pending);
                    }
                }
                if e.backlog.len > 0 {
                    assert!(e.queue.is_full(), "tasks wait although the queue has room");
                }
                waiting += usize::from(e.backlog.len);
                assert!(e.done <= e.taken);
            }
            assert_eq!(queues, self.names.len(), "name map size");
            assert_eq!(waiting, usize::from(self.waiting), "waiting count");
            assert_eq!(in_heap, self.heap.len(), "heap size vs pending lists");
            for (i, slot) in self.slots.iter().enumerate() {
                assert_eq!(
                    listed[i],
                    u8::from(slot.task.is_some()),
                    "slot {i} in queue lists"
                );
            }

            // Subjects: each bucket's chain holds exactly the tasks whose
            // subject hashes to it, with consistent back links.
            let mut listed = std::vec![0u8; nslots];
            for (b, &head) in self.buckets.iter().enumerate() {
                if head == NIL {
                    continue;
                }
                // Circular: from the head round to the head again, the
                // head's back link being the tail.
                let mut prev = self.slots[usize::from(head)].s_prev;
                let mut at = head;
                loop {
                    let slot = &self.slots[usize::from(at)];
                    let task = slot.task.as_ref().expect("free slot in a subject chain");
                    assert_eq!(Self::bucket(&task.subject), b, "task in another bucket");
                    assert_eq!(slot.s_prev, prev, "broken back link at slot {at}");
                    listed[usize::from(at)] += 1;
                    assert!(listed[usize::from(at)] == 1, "a subject chain loops early");
                    prev = at;
                    at = slot.s_next;
                    if at == head {
                        break;
                    }
                }
            }
            for (i, slot) in self.slots.iter().enumerate() {
                assert_eq!(
                    listed[i],
                    u8::from(slot.task.is_some()),
                    "slot {i} in subject lists"
                );
            }
        }
    }

    fn drain(s: &mut Sched<'_>, q: QueueId) -> StdVec<u32> {
        let mut out = StdVec::new();
        while let Ok(t) = s.get_task(q) {
            s.check_invariants();
            out.push(t.payload);
        }
        out
    }

    #[test]
    fn slot_sizes() {
        use core::mem::size_of;
        let wide = size_of::<Slot<u64, usize>>();
        let narrow = size_of::<Slot<u32, u32>>();
        std::println!(
            "size_of Slot<u64, usize> = {wide} (beyond payload {})",
            wide - 8
        );
        std::println!(
            "size_of Slot<u32, u32>   = {narrow} (beyond payload {})",
            narrow - 4
        );
        std::println!("size_of Task<u32, u32>   = {}", size_of::<Task<u32, u32>>());
        // What one more task slot costs in the whole scheduler: the slot,
        // its heap entry and cached key, and its subject-map entry.
        type Narrow<const N: usize> =
            Scheduler<ManualClock, HeaplessQueue<Task<u32, u32>, 1>, u32, u32, N, 2>;
        type Wide<const N: usize> =
            Scheduler<ManualClock, HeaplessQueue<Task<u64, usize>, 1>, u64, usize, N, 2>;
        let per_narrow = (size_of::<Narrow<512>>() - size_of::<Narrow<256>>()) / 256;
        let per_wide = (size_of::<Wide<512>>() - size_of::<Wide<256>>()) / 256;
        std::println!("scheduler bytes per task slot, S=u32 P=u32:    {per_narrow}");
        std::println!("scheduler bytes per task slot, S=u64 P=usize:  {per_wide}");
        // A guard against growth. The embedded target is at most 48 bytes
        // per slot beyond the payload, which these sizes do not meet yet.
        assert!(narrow <= 48, "slot grew: {narrow} bytes");
        assert!(wide <= 56, "slot grew: {wide} bytes");
    }

    #[test]
    fn empty_scheduler_is_consistent() {
        let clock = ManualClock::new(0);
        let s: Sched = Scheduler::new(&clock);
        s.check_invariants();
        assert!(s.is_empty());
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn free_slots_are_reused_last_in_first_out() {
        let clock = ManualClock::new(0);
        let mut s: Sched = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        let ids: StdVec<TaskId> = (0..3)
            .map(|i| s.schedule(Task::new(q, 1, i), When::At(10)).unwrap())
            .collect();
        s.check_invariants();
        let slot_of = |id: TaskId| id.get() & 0xFFFF;
        assert_eq!(
            ids.iter().map(|&id| slot_of(id)).collect::<StdVec<_>>(),
            [0, 1, 2]
        );
        s.cancel(ids[1]).unwrap();
        s.check_invariants();
        s.cancel(ids[0]).unwrap();
        s.check_invariants();
        assert_eq!(s.free, 0);
        let a = s.schedule(Task::new(q, 1, 7), When::At(5)).unwrap();
        let b = s.schedule(Task::new(q, 1, 8), When::At(5)).unwrap();
        s.check_invariants();
        assert_eq!((slot_of(a), slot_of(b)), (0, 1));
        assert_eq!(s.slots.len(), 3, "no new slot while free ones exist");
        // The reused slots do not answer to the old handles.
        assert!(!s.is_scheduled(ids[0]) && !s.is_scheduled(ids[1]));
        assert!(s.is_scheduled(ids[2]));
    }

    #[test]
    fn handle_counter_skips_zero_and_keeps_slot_bits() {
        let clock = ManualClock::new(0);
        let mut s: Sched = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        // The next scheduling would make the counter part of the handle 0.
        s.counter = u64::MAX >> SLOT_BITS;
        let id = s.schedule(Task::new(q, 1, 0), When::At(1)).unwrap();
        assert_eq!(id.get() >> SLOT_BITS, 1, "counter part 0 is skipped");
        assert_eq!(id.get() & 0xFFFF, 0);
        s.check_invariants();
        // Tasks sent with When::Now take no slot; their handles name none.
        let now = s.schedule(Task::new(q, 1, 1), When::Now).unwrap();
        assert_eq!(now.get() & 0xFFFF, NO_SLOT);
        assert!(!s.is_scheduled(now));
        assert_eq!(s.cancel(now), Err(NotScheduled));
        s.check_invariants();
    }

    /// The number of tasks in the subject chains.
    fn chained(s: &Sched<'_>) -> usize {
        s.buckets
            .iter()
            .map(|&head| {
                let mut n = 0;
                let mut at = head;
                while at != NIL {
                    n += 1;
                    at = s.slots[usize::from(at)].s_next;
                    if at == head {
                        break;
                    }
                }
                n
            })
            .sum()
    }

    #[test]
    fn tasks_leave_the_subject_chains_with_their_slot() {
        let clock = ManualClock::new(0);
        let mut s: Sched = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        let a = s.schedule(Task::new(q, 1, 0), When::At(1)).unwrap();
        s.schedule(Task::new(q, 1, 1), When::At(2)).unwrap();
        s.schedule(Task::new(q, 2, 2), When::At(3)).unwrap();
        assert_eq!(chained(&s), 3);
        s.cancel(a).unwrap();
        s.check_invariants();
        assert_eq!(chained(&s), 2);
        clock.set(2);
        assert_eq!(s.run_pending(), 1);
        s.check_invariants();
        assert_eq!(chained(&s), 1);
        assert_eq!(s.cancel_by_subject(&2, |_| {}), 1);
        s.check_invariants();
        assert_eq!(chained(&s), 0);
        assert!(s.buckets.iter().all(|&h| h == NIL));
    }

    /// Subjects that share a hash bucket: cancelling one leaves the others.
    #[test]
    fn cancel_by_subject_skips_other_subjects_in_its_bucket() {
        let clock = ManualClock::new(0);
        let mut s: Sched = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        // Find two subjects in one bucket (16 buckets, 256 subjects).
        let first = 0u8;
        let twin = (1..=u8::MAX)
            .find(|&x| Sched::bucket(&x) == Sched::bucket(&first))
            .expect("two of 256 subjects share one of 16 buckets");
        for i in 0..3 {
            s.schedule(Task::new(q, first, i), When::At(10)).unwrap();
            s.schedule(Task::new(q, twin, 10 + i), When::At(10))
                .unwrap();
        }
        s.check_invariants();
        let mut back = StdVec::new();
        assert_eq!(s.cancel_by_subject(&first, |t| back.push(*t.payload())), 3);
        assert_eq!(back, [0, 1, 2], "handed back in scheduling order");
        s.check_invariants();
        assert_eq!(s.len(), 3);
        assert_eq!(s.cancel_by_subject(&first, |_| {}), 0);
        assert_eq!(s.cancel_by_subject(&twin, |_| {}), 3);
        assert!(s.is_empty());
        s.check_invariants();
    }

    #[test]
    fn backlog_keeps_its_head_when_the_queue_stays_full() {
        let clock = ManualClock::new(0);
        let mut s: Sched = Scheduler::new(&clock);
        let q = s.add_queue("q", 1).unwrap();
        for i in 0..5 {
            s.schedule(Task::new(q, 1, i), When::At(u64::from(i)))
                .unwrap();
        }
        clock.set(10);
        assert_eq!(s.run_pending(), 1);
        s.check_invariants();
        let e = s.entry(q).unwrap();
        assert_eq!(e.backlog.len, 4);
        // Refilling a full queue puts the head back in front.
        assert_eq!(s.refill(q), 0);
        s.check_invariants();
        assert_eq!(s.run_pending(), 0);
        s.check_invariants();
        assert_eq!(drain(&mut s, q), [0, 1, 2, 3, 4]);
        assert!(s.is_empty());
        s.check_invariants();
    }

    #[test]
    fn reschedule_moves_a_task_through_the_middle_of_the_heap() {
        let clock = ManualClock::new(0);
        let mut s: Sched = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        let ids: StdVec<TaskId> = (0..12)
            .map(|i| {
                s.schedule(Task::new(q, 1, i), When::At(u64::from(i) * 10))
                    .unwrap()
            })
            .collect();
        s.check_invariants();
        // Up, down, to the same key range, and removal from the middle.
        s.reschedule(ids[9], When::At(5)).unwrap();
        s.check_invariants();
        s.reschedule(ids[0], When::At(1000)).unwrap();
        s.check_invariants();
        s.reschedule(ids[4], When::At(40)).unwrap();
        s.check_invariants();
        s.cancel(ids[6]).unwrap();
        s.check_invariants();
        s.cancel(ids[2]).unwrap();
        s.check_invariants();
        let mut order = StdVec::new();
        clock.set(u64::MAX);
        while s.next_deadline().is_some() {
            clock.set(s.next_deadline().unwrap());
            s.run_pending();
            s.check_invariants();
            order.extend(drain(&mut s, q));
        }
        assert_eq!(order, [9, 1, 3, 4, 5, 7, 8, 10, 11, 0]);
    }

    std::thread_local! {
        /// The storage of [`DrainedElsewhere`] queues on this thread: the
        /// items, the payloads the outside consumer took, and how many more
        /// looks at the length until it takes one (0: never).
        static OUTSIDE: core::cell::RefCell<(std::collections::VecDeque<T>, StdVec<u32>, u32)> =
            const { core::cell::RefCell::new((std::collections::VecDeque::new(), StdVec::new(), 0)) };
    }

    /// A queue that a second consumer also drains, as an interrupt handler
    /// or another core would: on the n-th look at its length it takes the
    /// oldest item first, in the middle of whatever the scheduler is doing.
    struct DrainedElsewhere {
        max: usize,
    }

    impl TaskQueue<T> for DrainedElsewhere {
        fn with_max_size(max_size: usize) -> Option<Self> {
            Some(Self {
                max: max_size.max(1),
            })
        }

        fn try_push(&mut self, item: T) -> Result<(), T> {
            OUTSIDE.with_borrow_mut(|(q, _, _)| {
                if q.len() >= self.max {
                    return Err(item);
                }
                q.push_back(item);
                Ok(())
            })
        }

        fn pop(&mut self) -> Option<T> {
            OUTSIDE.with_borrow_mut(|(q, _, _)| q.pop_front())
        }

        fn len(&self) -> usize {
            OUTSIDE.with_borrow_mut(|(q, taken, looks)| {
                if *looks > 0 {
                    *looks -= 1;
                    if *looks == 0 {
                        taken.extend(q.pop_front().map(|t| t.payload));
                    }
                }
                q.len()
            })
        }

        fn max_size(&self) -> usize {
            self.max
        }
    }

    /// Regression: a due task must not overtake the tasks already waiting
    /// for its queue when the queue was drained elsewhere during
    /// `run_pending` (after the waiting ones were refused).
    #[test]
    fn a_due_task_never_overtakes_waiting_ones_in_a_queue_drained_elsewhere() {
        let clock = ManualClock::new(0);
        let mut s: Scheduler<&ManualClock, DrainedElsewhere, u8, u32, 8, 2> =
            Scheduler::new(&clock);
        let q = s.add_queue("q", 1).unwrap();
        for i in 0..3 {
            s.schedule(Task::new(q, 1, i), When::At(u64::from(i) + 1))
                .unwrap();
        }
        clock.set(2);
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.stats(q).unwrap().waiting, 1);
        // The consumer takes task 0 on the second look at the queue: after
        // run_pending found it still full for task 1, before task 2 is due.
        OUTSIDE.with_borrow_mut(|(_, _, looks)| *looks = 2);
        clock.set(3);
        s.run_pending();
        let mut order = OUTSIDE.with_borrow(|(_, taken, _)| taken.clone());
        while let Ok(t) = s.get_task(q) {
            order.push(t.payload);
        }
        assert_eq!(order, [0, 1, 2]);
        assert!(s.is_empty());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Schedule { q: u8, subject: u8, when: When },
        Cancel(u8),
        Reschedule(u8, When),
        CancelBySubject(u8),
        Advance(u64),
        SetClock(u64),
        RunPending,
        RunAll,
        GetTask(u8),
        TaskDone(u8),
        RemoveQueue(u8),
        AddQueue(u8, u8),
        ClearQueue(u8),
        Clear,
    }

    fn when() -> impl Strategy<Value = When> {
        prop_oneof![
            Just(When::Now),
            (0u64..60).prop_map(When::At),
            (0u64..30).prop_map(When::After),
            Just(When::At(u64::MAX)),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..4, 0u8..4, when()).prop_map(|(q, subject, when)| Op::Schedule { q, subject, when }),
            2 => any::<u8>().prop_map(Op::Cancel),
            2 => (any::<u8>(), when()).prop_map(|(i, w)| Op::Reschedule(i, w)),
            1 => (0u8..4).prop_map(Op::CancelBySubject),
            2 => (0u64..20).prop_map(Op::Advance),
            1 => (0u64..60).prop_map(Op::SetClock),
            2 => Just(Op::RunPending),
            1 => Just(Op::RunAll),
            3 => (0u8..4).prop_map(Op::GetTask),
            1 => (0u8..4).prop_map(Op::TaskDone),
            1 => (0u8..4).prop_map(Op::RemoveQueue),
            1 => (0u8..4, 0u8..4).prop_map(|(q, m)| Op::AddQueue(q, m)),
            1 => (0u8..4).prop_map(Op::ClearQueue),
            1 => Just(Op::Clear),
        ]
    }

    const NAMES: [&str; 4] = ["a", "b", "c", "d"];

    /// Fewer cases under Miri, and no failure file (Miri isolates the
    /// file system).
    fn config() -> ProptestConfig {
        let mut config = ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 });
        if cfg!(miri) {
            config.failure_persistence = None;
        }
        config
    }

    proptest! {
        #![proptest_config(config())]

        /// Every internal index stays consistent whatever the operations.
        #[test]
        fn invariants_hold_after_every_operation(ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 120 })) {
            let clock = ManualClock::new(0);
            let mut s: Sched = Scheduler::new(&clock);
            let mut queues: StdVec<Option<QueueId>> = (0..4)
                .map(|i| s.add_queue(NAMES[i], 1 + i % 3).ok())
                .collect();
            // Also keep handles of removed queues, to use them stale.
            let mut stale_queue = None;
            let mut ids: StdVec<TaskId> = StdVec::new();
            let mut handed_back = 0usize;
            for op in ops {
                match op {
                    Op::Schedule { q, subject, when } => {
                        let qid = queues[usize::from(q)].or(stale_queue);
                        if let Some(qid) = qid {
                            if let Ok(id) = s.schedule(Task::new(qid, subject, 0), when) {
                                ids.push(id);
                            }
                        }
                    }
                    Op::Cancel(i) => {
                        if let Some(&id) = ids.get(usize::from(i) % ids.len().max(1)) {
                            let was = s.is_scheduled(id);
                            prop_assert_eq!(s.cancel(id).is_ok(), was);
                            prop_assert!(!s.is_scheduled(id));
                        }
                    }
                    Op::Reschedule(i, w) => {
                        if let Some(&id) = ids.get(usize::from(i) % ids.len().max(1)) {
                            let was = s.is_scheduled(id);
                            prop_assert_eq!(s.reschedule(id, w).is_ok(), was);
                        }
                    }
                    Op::CancelBySubject(subject) => {
                        s.cancel_by_subject(&subject, |t| {
                            assert_eq!(t.subject, subject);
                            handed_back += 1;
                        });
                    }
                    Op::Advance(d) => clock.advance(d),
                    Op::SetClock(t) => clock.set(t),
                    Op::RunPending => {
                        s.run_pending();
                    }
                    Op::RunAll => {
                        s.run_all();
                    }
                    Op::GetTask(q) => {
                        if let Some(qid) = queues[usize::from(q)] {
                            let _ = s.get_task(qid);
                        }
                    }
                    Op::TaskDone(q) => {
                        if let Some(qid) = queues[usize::from(q)] {
                            let _ = s.task_done(qid);
                        }
                    }
                    Op::RemoveQueue(q) => {
                        if let Some(qid) = queues[usize::from(q)].take() {
                            s.remove_queue(qid, |_| handed_back += 1).unwrap();
                            stale_queue = Some(qid);
                        }
                    }
                    Op::AddQueue(q, m) => {
                        let r = s.add_queue(NAMES[usize::from(q)], usize::from(m));
                        match queues[usize::from(q)] {
                            Some(_) => prop_assert_eq!(r, Err(AddQueueError::NameTaken)),
                            None => queues[usize::from(q)] = Some(r.unwrap()),
                        }
                    }
                    Op::ClearQueue(q) => {
                        if let Some(qid) = queues[usize::from(q)] {
                            s.clear_queue(qid, |_| handed_back += 1).unwrap();
                        }
                    }
                    Op::Clear => {
                        s.clear(|_| handed_back += 1);
                    }
                }
                s.check_invariants();
            }
        }
    }
}
