//! Periodic tasks: one scheduled task that delivers an occurrence into its
//! queue every period.
//!
//! A periodic task lives in one slot, like any task, from
//! [`schedule_periodic`](SchedulerInner::schedule_periodic) until it is
//! cancelled or handed back; its handle stays valid all that time. Its
//! [`PeriodState`] (the period, the policy and the index of the next
//! period) is in its storage's [`PeriodTable`], found from the slot in
//! O(1): in the slot itself in fixed storage, in a table of periodic
//! tasks only in growing storage (so one-shot tasks pay nothing for it
//! there). Its heap key holds the next deadline, as for any task, so
//! `reschedule`, `cancel`, `cancel_by_subject`, `remove_queue` and `clear`
//! need nothing of their own (releasing the slot ends its table entry).
//!
//! When the next deadline is reached the task goes through the ordinary
//! delivery path (`deliver`, or the `Waiting` line of a full queue, then
//! `refill`), up to `try_enter`: there, instead of freeing the slot and
//! moving the task into the queue, [`enter`] pushes a clone (subject and
//! payload cloned, a fresh id that names no slot, the period's index and
//! missed count) and puts the slot back into the heap and its queue's
//! `Pending` line under the next deadline, with a new tie order. The missed
//! count is worked out when the occurrence enters the queue, so periods
//! that pass while it waits for room count too.
//!
//! Because `try_enter` cannot require `S: Clone, P: Clone`, it calls
//! [`enter`] through a function pointer ([`EnterFn`]) that only
//! `schedule_periodic` (which has those bounds) stores: a build that never
//! schedules a periodic task has none of this code, only the pointer's
//! check.
//!
//! `run_until` delivers at most one occurrence of each periodic task per
//! call: it stops at a key newer than the call (a next occurrence re-armed
//! during the call), which keeps deadline order and bounds the work of a
//! call that catches up ([`MissedTickBehavior::Burst`]) or runs everything
//! (`run_all`).

use core::num::NonZeroU64;

use super::heap::Heap;
use super::queue_lists::Lines;
use super::slots::{Parts, Slots};
use super::storage::{sealed, Storage};
use super::{next_now_id, SchedulerInner};
use crate::clock::{Clock, Ticks};
use crate::error::ScheduleError;
use crate::queue::TaskQueue;
use crate::subject::Subject;
use crate::task::{MissedTickBehavior, QueueId, Task, TaskId, When};

/// What the entry of an occurrence may touch: the parts of the scheduler
/// that name neither the clock type nor the queue type, the clock and the
/// queue behind `dyn`. So the pointer to it ([`EnterFn`]) keeps the
/// scheduler covariant in both (a `Scheduler<&'a Clock, ..>` can be used
/// where a shorter `'a` is expected), and the entry's code is in a build
/// only when it schedules a periodic task.
pub(super) struct Entry<'a, S, P, St: Storage> {
    pub(super) slots: &'a mut Slots<S, P, St>,
    pub(super) heap: &'a mut Heap<St>,
    /// The occurrence's queue, and its lines.
    pub(super) queue_id: QueueId,
    pub(super) lines: &'a mut Lines<St::Index>,
    pub(super) order: &'a mut u64,
    pub(super) now_ids: &'a mut u64,
    pub(super) clock: &'a dyn Clock,
    /// The occurrence's queue.
    pub(super) queue: &'a mut dyn Push<Task<S, P>>,
}

/// [`TaskQueue::try_push`] behind `dyn` (the rest of the trait is not
/// object safe, and not needed here).
pub(super) trait Push<T> {
    fn push(&mut self, item: T) -> Result<(), T>;
}

impl<T, Q: TaskQueue<T>> Push<T> for Q {
    fn push(&mut self, item: T) -> Result<(), T> {
        self.try_push(item)
    }
}

/// `n / d` for `d > 0`. On 32-bit targets `u64` division is a
/// compiler-builtins routine of about 900 bytes (on a Cortex-M4), which a
/// firmware that schedules a periodic task would otherwise carry for a
/// division that is nearly always `0` (on time) or small; this is a
/// shift-and-subtract loop of at most 64 steps, and hardware division on
/// 64-bit targets.
fn div(n: u64, d: u64) -> u64 {
    if cfg!(target_pointer_width = "64") {
        n / d.max(1)
    } else {
        long_div(n, d)
    }
}

/// `n / d` without `u64` division (0 for `d == 0`).
fn long_div(n: u64, d: u64) -> u64 {
    if n < d || d == 0 {
        return 0;
    }
    if let (Ok(n), Ok(d)) = (u32::try_from(n), u32::try_from(d)) {
        return u64::from(n / d);
    }
    // One quotient bit per step, from the highest bit of `n` that `d`
    // reaches (`n >= d > 0`, so `shift` is at most 63).
    let shift = d.leading_zeros() - n.leading_zeros();
    let (mut rest, mut q) = (n, 0u64);
    for bit in (0..=shift).rev() {
        let part = d << bit;
        q <<= 1;
        if rest >= part {
            rest -= part;
            q |= 1;
        }
    }
    q
}

/// Puts the occurrence of periodic slot `index` (out of the heap, in no
/// line), due at the deadline given, into its queue, which has room, and
/// the slot back into the schedule; `false` (the slot as it was) when the
/// queue refuses after all. Stored by `schedule_periodic`.
pub(super) type EnterFn<S, P, St> =
    for<'a> fn(Entry<'a, S, P, St>, <St as Storage>::Index, Ticks) -> bool;

/// The period of a periodic task, kept in its storage's [`PeriodTable`];
/// a period of 0 marks no periodic task ([`PeriodState::NONE`]).
///
/// It is what a periodic task needs and no more, 16 bytes: the period (64
/// bits) and the index of the next period (62 bits) with the policy (2
/// bits). The numbers are stored as 32-bit halves so that a table of them
/// keeps the 4-byte alignment of 4-byte user data.
#[derive(Clone, Copy, Debug)]
pub struct PeriodState {
    /// The period in ticks; 0 for a one-shot task.
    period: [u32; 2],
    /// The index of the next period to be delivered, shifted left by 2,
    /// and the policy's code in the low 2 bits.
    next: [u32; 2],
}

const fn split(v: u64) -> [u32; 2] {
    // The low and the high half.
    #[allow(clippy::cast_possible_truncation)]
    [v as u32, (v >> 32) as u32]
}

const fn join(v: [u32; 2]) -> u64 {
    v[0] as u64 | (v[1] as u64) << 32
}

/// The largest period index a slot keeps; later periods keep it.
pub(crate) const MAX_INDEX: u64 = u64::MAX >> 2;

impl PeriodState {
    /// A one-shot task.
    pub(crate) const NONE: Self = Self {
        period: [0; 2],
        next: [0; 2],
    };

    fn new(period: NonZeroU64, behavior: MissedTickBehavior) -> Self {
        let mut state = Self {
            period: split(period.get()),
            next: [0; 2],
        };
        state.set(0, behavior);
        state
    }

    /// `true` for a periodic task (a vacant entry of a growing table has
    /// [`Self::NONE`]).
    #[cfg(feature = "alloc")]
    #[inline]
    pub(crate) fn is_periodic(&self) -> bool {
        self.period != [0; 2]
    }

    /// The period in ticks, 0 for a one-shot task.
    pub(crate) fn period(&self) -> u64 {
        join(self.period)
    }

    /// The index of the next period to be delivered.
    pub(crate) fn next(&self) -> u64 {
        join(self.next) >> 2
    }

    pub(crate) fn behavior(&self) -> MissedTickBehavior {
        match join(self.next) & 3 {
            1 => MissedTickBehavior::Delay,
            2 => MissedTickBehavior::Skip,
            _ => MissedTickBehavior::Burst,
        }
    }

    fn set(&mut self, next: u64, behavior: MissedTickBehavior) {
        let code = match behavior {
            MissedTickBehavior::Burst => 0,
            MissedTickBehavior::Delay => 1,
            MissedTickBehavior::Skip => 2,
        };
        self.next = split(next.min(MAX_INDEX) << 2 | code);
    }
}

/// Where a slot keeps the period of a periodic task, beside its links:
/// the [`PeriodState`] itself with `u16` slot numbers (fixed storage),
/// nothing with `u32` (growing storage, which keeps a table of periodic
/// tasks only).
pub trait PeriodPlace: Copy + core::fmt::Debug + sealed::Sealed {
    /// The place of a vacant slot.
    const NONE: Self;
}

impl sealed::Sealed for PeriodState {}

impl PeriodPlace for PeriodState {
    const NONE: Self = PeriodState::NONE;
}

impl sealed::Sealed for () {}

impl PeriodPlace for () {
    const NONE: Self = ();
}

/// Where a storage keeps the [`PeriodState`]s of its periodic tasks, found
/// in O(1) from the task's slot: its [`PeriodPlace`], and its attempt
/// field (`key`), which a table may take over for a periodic task (the
/// slot's queue reference then carries a flag, see
/// [`Parts::is_periodic`](super::slots::Parts::is_periodic)).
///
/// - Fixed storage ([`InSlot`]): the state is in the slot (16 bytes in
///   every slot: a table of `N` states would cost as much, and one-shot
///   tasks could not give its bytes back); the slot keeps its attempt
///   count. Nothing is allocated.
/// - Growing storage (`GrowingPeriods`): one entry per periodic task, with
///   its own free list, in segments allocated on demand; a periodic task's
///   attempt count moves into its entry and the slot's attempt field holds
///   the entry's number. One-shot tasks cost nothing here.
pub trait PeriodTable: sealed::Sealed {
    /// What each slot keeps.
    type Place: PeriodPlace;
    /// An empty table (const, so a fixed scheduler can be a `static`).
    const EMPTY: Self;
    /// `true` when [`attach`](Self::attach) will find room (allocating now
    /// what it needs in growing storage).
    fn reserve(&mut self) -> bool;
    /// Gives the task whose slot has `place` and whose attempt count is in
    /// `*key` the period `state`; `*key` then holds what finds it again.
    /// `false` (nothing changed) when there is no room.
    fn attach(&mut self, place: &mut Self::Place, key: &mut u32, state: PeriodState) -> bool;
    /// The state of the periodic task with `place` and attempt field `key`.
    fn state<'a>(&'a self, place: &'a Self::Place, key: u32) -> Option<&'a PeriodState>;
    /// The same, mutably.
    fn state_mut<'a>(
        &'a mut self,
        place: &'a mut Self::Place,
        key: u32,
    ) -> Option<&'a mut PeriodState>;
    /// The attempt count of the periodic task with attempt field `key`.
    fn attempt(&self, key: u32) -> u32;
    /// Ends that periodic task's state; returns its attempt count.
    fn detach(&mut self, key: u32) -> u32;
}

/// The period states of a fixed storage: in the slots themselves.
#[derive(Debug)]
pub struct InSlot;

impl sealed::Sealed for InSlot {}

impl PeriodTable for InSlot {
    type Place = PeriodState;
    const EMPTY: Self = Self;
    #[inline]
    fn reserve(&mut self) -> bool {
        true
    }
    #[inline]
    fn attach(&mut self, place: &mut PeriodState, _key: &mut u32, state: PeriodState) -> bool {
        *place = state;
        true
    }
    #[inline]
    fn state<'a>(&'a self, place: &'a PeriodState, _key: u32) -> Option<&'a PeriodState> {
        Some(place)
    }
    #[inline]
    fn state_mut<'a>(
        &'a mut self,
        place: &'a mut PeriodState,
        _key: u32,
    ) -> Option<&'a mut PeriodState> {
        Some(place)
    }
    #[inline]
    fn attempt(&self, key: u32) -> u32 {
        key
    }
    #[inline]
    fn detach(&mut self, key: u32) -> u32 {
        // The state stays until the slot's next periodic task overwrites
        // it: only a periodic task's state is ever read.
        key
    }
}

#[cfg(feature = "alloc")]
pub use self::growing::GrowingPeriods;

#[cfg(feature = "alloc")]
mod growing {
    use super::{PeriodState, PeriodTable};
    use crate::scheduler::storage::{sealed, AllocStorage, Array, Index, Storage};

    /// One periodic task's entry: its period, and its attempt count (the
    /// next vacant entry's number while vacant, whose state is
    /// [`PeriodState::NONE`]).
    #[derive(Debug)]
    pub struct PeriodEntry {
        state: PeriodState,
        attempt: u32,
    }

    /// The period states of a growing storage: an entry per periodic task
    /// (20 bytes), with a free list, in segments allocated when periodic
    /// tasks are scheduled; a periodic task's slot holds its entry's number
    /// in its attempt field.
    #[derive(Debug)]
    pub struct GrowingPeriods {
        entries: <AllocStorage as Storage>::Array<PeriodEntry>,
        /// Head of the free list (`NIL`: none).
        free: u32,
        /// Entries in use.
        used: usize,
    }

    impl sealed::Sealed for GrowingPeriods {}

    impl PeriodTable for GrowingPeriods {
        type Place = ();
        const EMPTY: Self = Self {
            entries: <<AllocStorage as Storage>::Array<PeriodEntry> as Array<_>>::EMPTY,
            free: u32::NIL,
            used: 0,
        };
        fn reserve(&mut self) -> bool {
            self.free != u32::NIL
                || (u32::from_usize(self.entries.len()).is_some()
                    && self.entries.reserve(self.entries.len() + 1))
        }
        fn attach(&mut self, _place: &mut (), key: &mut u32, state: PeriodState) -> bool {
            let entry = PeriodEntry {
                state,
                attempt: *key,
            };
            let number = if self.free == u32::NIL {
                let Some(number) = u32::from_usize(self.entries.len()) else {
                    return false;
                };
                if self.entries.push(entry).is_err() {
                    return false;
                }
                number
            } else {
                let number = self.free;
                let Some(vacant) = self.entries.get_mut(number.to_usize()) else {
                    return false;
                };
                self.free = core::mem::replace(vacant, entry).attempt;
                number
            };
            *key = number;
            self.used += 1;
            true
        }
        #[inline]
        fn state<'a>(&'a self, _place: &'a (), key: u32) -> Option<&'a PeriodState> {
            self.entries.get(key.to_usize()).map(|e| &e.state)
        }
        #[inline]
        fn state_mut<'a>(
            &'a mut self,
            _place: &'a mut (),
            key: u32,
        ) -> Option<&'a mut PeriodState> {
            self.entries.get_mut(key.to_usize()).map(|e| &mut e.state)
        }
        #[inline]
        fn attempt(&self, key: u32) -> u32 {
            self.entries.get(key.to_usize()).map_or(0, |e| e.attempt)
        }
        fn detach(&mut self, key: u32) -> u32 {
            let free = self.free;
            let Some(entry) = self.entries.get_mut(key.to_usize()) else {
                return 0;
            };
            let vacant = PeriodEntry {
                state: PeriodState::NONE,
                attempt: free,
            };
            self.free = key;
            self.used -= 1;
            core::mem::replace(entry, vacant).attempt
        }
    }

    impl GrowingPeriods {
        /// Drops the trailing vacant entries and the segments they leave
        /// empty, then rebuilds the free list (O(entries)).
        pub(crate) fn shrink_to_fit(&mut self) {
            while self
                .entries
                .get(self.entries.len().wrapping_sub(1))
                .is_some_and(|e| !e.state.is_periodic())
            {
                if self.entries.pop().is_none() {
                    break;
                }
            }
            self.entries.shrink_to(0);
            self.free = u32::NIL;
            for i in (0..self.entries.len()).rev() {
                let free = self.free;
                if let Some(entry) = self.entries.get_mut(i).filter(|e| !e.state.is_periodic()) {
                    entry.attempt = free;
                    self.free = u32::from_usize(i).unwrap_or(u32::NIL);
                }
            }
        }

        /// Bytes allocated for entries.
        pub(crate) fn allocated_bytes(&self) -> usize {
            self.entries.allocated_bytes()
        }

        /// Entries in use, and entries in all (tests).
        #[cfg(test)]
        pub(crate) fn used(&self) -> (usize, usize) {
            (self.used, self.entries.len())
        }
    }
}

/// What the occurrence of the period due at `deadline`, entering its queue
/// at `now`, stands for: `(missed, next deadline)`. Saturating.
pub(crate) fn plan(
    behavior: MissedTickBehavior,
    period: u64,
    deadline: Ticks,
    now: Ticks,
) -> (u64, Ticks) {
    let period = period.max(1);
    // Later periods whose deadlines have passed too: deadline + j * period
    // <= now for j = 1..=late.
    let late = div(now.saturating_sub(deadline), period);
    match behavior {
        MissedTickBehavior::Burst => (0, deadline.saturating_add(period)),
        MissedTickBehavior::Skip => (
            late,
            deadline.saturating_add(late.saturating_add(1).saturating_mul(period)),
        ),
        MissedTickBehavior::Delay => (late, now.max(deadline).saturating_add(period)),
    }
}

impl<C, Q, S, P, St: Storage, const QN: usize> SchedulerInner<C, Q, S, P, St, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    /// Schedules `task` to repeat: its first occurrence is due at `first`,
    /// then one every `period` ticks. Returns its handle, which stays valid
    /// across periods until the task is cancelled or handed back.
    ///
    /// Each period delivers one occurrence into the task's queue: a
    /// [`Task`] with the subject and the payload cloned, its own id (not the
    /// periodic handle), the period's deadline, the periodic task's attempt
    /// count, and [`Task::period`] saying which period it belongs to and
    /// how many later ones it stands for. An occurrence is an ordinary task:
    /// a worker may schedule it again (a retry of that period), which does
    /// not touch the periodic task.
    ///
    /// The payload is shared by cloning, once per occurrence: pass an
    /// `Arc` (or a reference, an index, a pointer) where a clone should be
    /// cheap or shared. The periodic task keeps the original, handed back
    /// once by [`cancel`](Self::cancel),
    /// [`cancel_by_subject`](Self::cancel_by_subject),
    /// [`remove_queue`](Self::remove_queue), [`clear`](Self::clear) and
    /// [`clear_queue`](Self::clear_queue) (with its handle as
    /// [`Task::id`], its next deadline, and no [`Task::period`]).
    ///
    /// While scheduled it counts as one scheduled task
    /// ([`len`](Self::len), [`is_scheduled`](Self::is_scheduled),
    /// [`QueueStats::scheduled`](super::QueueStats)).
    /// [`reschedule`](Self::reschedule) moves its next deadline (the
    /// periods after it follow from there); [`When::Now`] as `first` makes
    /// the first occurrence due at the clock's reading, delivered by the
    /// next [`run_pending`](Self::run_pending) (not straight into the
    /// queue).
    ///
    /// An occurrence due for a full queue waits, in order, like any due
    /// task, and is never lost; `missed` decides what happens to the
    /// periods that pass meanwhile or while the host is late (see
    /// [`MissedTickBehavior`]). Under [`MissedTickBehavior::Burst`] and
    /// [`MissedTickBehavior::Skip`] deadlines are `first + k * period`
    /// (no drift); all deadline arithmetic saturates at `Ticks::MAX`.
    /// [`run_pending`](Self::run_pending) and [`run_all`](Self::run_all)
    /// deliver at most one occurrence of each periodic task per call (see
    /// there).
    ///
    /// # Errors
    ///
    /// The task comes back, unchanged, inside
    /// [`ScheduleError::ZeroPeriod`] when `period` is 0,
    /// [`ScheduleError::UnknownQueue`], or [`ScheduleError::Capacity`] as
    /// for [`schedule`](Self::schedule) (never
    /// [`ScheduleError::QueueFull`]); in growing storage also
    /// [`ScheduleError::Capacity`] when the table of periodic tasks cannot
    /// allocate its next segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use tardy::{HeaplessQueue, ManualClock, MissedTickBehavior, Scheduler, Task, When};
    ///
    /// let clock = ManualClock::new(0);
    /// let mut s: Scheduler<&ManualClock, HeaplessQueue<Task<u8, &str>, 4>, u8, &str, 8, 2> =
    ///     Scheduler::new(&clock);
    /// let q = s.add_queue("sample", 0)?;
    /// let id = s.schedule_periodic(
    ///     Task::new(q, 1, "sensor"),
    ///     When::At(10),
    ///     10,
    ///     MissedTickBehavior::Skip,
    /// )?;
    /// for t in [10, 20, 30] {
    ///     clock.set(t);
    ///     assert_eq!(s.run_pending(), 1);
    ///     let sample = s.get_task(q)?;
    ///     assert_eq!((sample.deadline(), sample.payload()), (t, &"sensor"));
    ///     assert_eq!(sample.period().unwrap().index, t / 10 - 1);
    /// }
    /// assert!(s.is_scheduled(id));
    /// assert_eq!(s.cancel(id)?.into_payload(), "sensor"); // the original, once
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "periodic")))]
    pub fn schedule_periodic(
        &mut self,
        task: Task<S, P>,
        first: When,
        period: Ticks,
        missed: MissedTickBehavior,
    ) -> Result<TaskId, ScheduleError<Task<S, P>>>
    where
        S: Clone,
        P: Clone,
    {
        self.schedule_periodic_with_deadline(task, first, period, missed)
            .map(|(id, _)| id)
    }

    /// As [`schedule_periodic`](Self::schedule_periodic), also returning
    /// the first deadline it computed (the threaded layer plans its
    /// wake-ups from it).
    pub(crate) fn schedule_periodic_with_deadline(
        &mut self,
        task: Task<S, P>,
        first: When,
        period: Ticks,
        missed: MissedTickBehavior,
    ) -> Result<(TaskId, Ticks), ScheduleError<Task<S, P>>>
    where
        S: Clone,
        P: Clone,
    {
        let Some(period) = NonZeroU64::new(period) else {
            return Err(ScheduleError::ZeroPeriod(task));
        };
        let first = match first {
            When::Now => When::At(self.clock.now()),
            other => other,
        };
        // Room in the period table first, so that the task is scheduled
        // only when it can be periodic.
        if !self.slots.periods.reserve() {
            return Err(ScheduleError::Capacity(task));
        }
        let (id, deadline) = self.schedule_with_deadline(task, first)?;
        self.periodic = Some(enter::<S, P, St>);
        if let Some(index) = self.slots.find(id) {
            // The table has room (reserved above).
            self.slots
                .make_periodic(index, PeriodState::new(period, missed));
        }
        Ok((id, deadline))
    }

    /// The entry of an occurrence into `queue` when slot `index`, due at
    /// `deadline`, holds a periodic task: `Some(entered)` (`false` when the
    /// queue is full or gone), see [`EnterFn`]; `None` for a one-shot
    /// task, which enters as usual.
    pub(super) fn enter_occurrence(
        &mut self,
        queue: QueueId,
        index: St::Index,
        deadline: Ticks,
    ) -> Option<bool> {
        let enter = self.periodic?;
        let periodic = self
            .slots
            .get(index)
            .and_then(|s| s.task())
            .is_some_and(Parts::is_periodic);
        if !periodic {
            return None;
        }
        let Some(e) = self.queues.entry_mut(queue).filter(|e| !e.queue.is_full()) else {
            return Some(false);
        };
        let entry = Entry {
            slots: &mut self.slots,
            heap: &mut self.heap,
            queue_id: queue,
            lines: &mut e.lines,
            order: &mut self.order,
            now_ids: &mut self.now_ids,
            clock: &self.clock,
            queue: &mut e.queue,
        };
        Some(enter(entry, index, deadline))
    }
}

/// The [`EnterFn`] of tasks whose subject and payload clone.
fn enter<S: Clone, P: Clone, St: Storage>(
    e: Entry<'_, S, P, St>,
    index: St::Index,
    deadline: Ticks,
) -> bool {
    let now = e.clock.now();
    let Some((parts, attempt, state)) = e.slots.periodic_mut(index) else {
        return false;
    };
    let behavior = state.behavior();
    let (missed, next_deadline) = plan(behavior, state.period(), deadline, now);
    let this = state.next();
    let mut task = Task::new(e.queue_id, parts.subject.clone(), parts.payload.clone());
    task.id = Some(next_now_id::<St::Index>(e.now_ids));
    task.deadline = deadline;
    task.attempt = attempt;
    task.set_period(this, missed);
    if e.queue.push(task).is_err() {
        // The queue said it had room and then refused: the clone goes,
        // the periodic task keeps its slot and its period, and waits.
        return false;
    }
    state.set(this.saturating_add(missed).saturating_add(1), behavior);
    *e.order = e.order.wrapping_add(1);
    e.lines.pending.push_back(&mut e.slots.array, index);
    // The slot has just left the heap (or its parked key), so the arrays
    // have room for it.
    e.heap
        .with(&mut e.slots.array)
        .push(index, (next_deadline, *e.order));
    true
}

/// The period, policy and next index of a scheduled periodic task (tests).
#[cfg(test)]
impl<C, Q, S, P, St: Storage, const QN: usize> SchedulerInner<C, Q, S, P, St, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject,
{
    pub(crate) fn period_state(&self, id: TaskId) -> Option<(u64, MissedTickBehavior, u64)> {
        let (_, _, state) = self.slots.periodic(self.slots.find(id)?)?;
        Some((state.period(), state.behavior(), state.next()))
    }
}

#[cfg(test)]
mod tests {
    use super::{plan, MAX_INDEX};
    use crate::task::MissedTickBehavior::{Burst, Delay, Skip};
    use crate::{Clock, HeaplessQueue, ManualClock, Scheduler, Task, When};

    type Sched<'a> = Scheduler<&'a ManualClock, HeaplessQueue<Task<u8, u32>, 4>, u8, u32, 4, 2>;

    #[test]
    fn the_slot_keeps_period_policy_and_next_index() {
        let clock = ManualClock::new(0);
        let mut s: Sched<'_> = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        let one_shot = s.schedule(Task::new(q, 1, 0), When::At(1000)).unwrap();
        assert_eq!(s.period_state(one_shot), None);
        for behavior in [Burst, Delay, Skip] {
            let id = s
                .schedule_periodic(Task::new(q, 2, 7), When::Now, 3, behavior)
                .unwrap();
            assert_eq!(s.period_state(id), Some((3, behavior, 0)));
            clock.set(clock.now() + 7); // two periods late
            s.run_pending();
            let next = if behavior == Burst { 1 } else { 3 };
            assert_eq!(s.period_state(id), Some((3, behavior, next)));
            while s.get_task(q).is_ok() {}
            s.cancel(id).unwrap();
        }
    }

    /// A periodic task keeps its attempt count and its period in the
    /// storage's period table; one-shot tasks take no entry, and a
    /// released entry is taken again.
    fn the_period_table_holds_periodic_tasks_only<St: crate::Storage>(
        mut s: crate::SchedulerInner<&ManualClock, HeaplessQueue<Task<u8, u32>, 4>, u8, u32, St, 2>,
    ) {
        let q = s.add_queue("q", 0).unwrap();
        s.schedule(Task::new(q, 1, 0), When::Now).unwrap();
        let retry = s.get_task(q).unwrap(); // attempt 1
        let one_shot = s.schedule(Task::new(q, 1, 0), When::At(1000)).unwrap();
        assert_eq!(s.slots.periodic_count(), 0);
        let a = s.schedule_periodic(retry, When::At(5), 5, Skip).unwrap();
        let b = s
            .schedule_periodic(Task::new(q, 3, 9), When::At(7), 5, Burst)
            .unwrap();
        assert_eq!(s.slots.periodic_count(), 2);
        assert_eq!(s.scheduled_task(a).map(|t| t.attempt()), Some(2));
        assert_eq!(s.scheduled_task(b).map(|t| t.attempt()), Some(1));
        assert_eq!(s.scheduled_task(one_shot).map(|t| t.attempt()), Some(1));
        s.clock.set(5);
        assert_eq!(s.run_pending(), 1);
        let o = s.get_task(q).unwrap();
        assert_eq!((o.attempt(), o.period().map(|p| p.index)), (2, Some(0)));
        assert_eq!(s.period_state(a), Some((5, Skip, 1)));
        let back = s.cancel(a).unwrap();
        assert_eq!((back.attempt(), back.period()), (2, None));
        assert_eq!(s.slots.periodic_count(), 1);
        assert_eq!(s.period_state(b), Some((5, Burst, 0)));
        let c = s
            .schedule_periodic(Task::new(q, 4, 1), When::At(20), 3, Delay)
            .unwrap();
        assert_eq!(s.slots.periodic_count(), 2);
        assert_eq!(s.period_state(c), Some((3, Delay, 0)));
        assert_eq!(s.period_state(one_shot), None);
        s.check_invariants();
        let mut back = std::vec::Vec::new();
        s.clear(|t| back.push((*t.subject(), t.attempt())));
        back.sort_unstable();
        assert_eq!(back, [(1, 1), (3, 1), (4, 1)]);
        assert_eq!(s.slots.periodic_count(), 0);
    }

    #[test]
    fn the_period_table_holds_periodic_tasks_only_fixed() {
        let clock = ManualClock::new(0);
        the_period_table_holds_periodic_tasks_only(Scheduler::<_, _, _, _, 8, 2>::new(&clock));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn the_period_table_holds_periodic_tasks_only_growing() {
        let clock = ManualClock::new(0);
        the_period_table_holds_periodic_tasks_only(crate::AllocScheduler::new(&clock));
        let mut s: crate::AllocScheduler<_, HeaplessQueue<Task<u8, u32>, 4>, u8, u32, 2> =
            crate::AllocScheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        s.schedule(Task::new(q, 0, 0), When::At(1)).unwrap();
        // One-shot tasks allocate nothing for periods.
        assert_eq!(s.slots.periods.allocated_bytes(), 0);
        let before = s.allocated_bytes();
        let id = s
            .schedule_periodic(Task::new(q, 1, 0), When::At(1), 1, Burst)
            .unwrap();
        assert!(s.slots.periods.allocated_bytes() > 0);
        assert_eq!(s.slots.periods.used(), (1, 1));
        assert_eq!(
            s.allocated_bytes(),
            before + s.slots.periods.allocated_bytes()
        );
        // A released entry is taken again.
        let other = s
            .schedule_periodic(Task::new(q, 2, 0), When::At(1), 1, Skip)
            .unwrap();
        assert_eq!(s.slots.periods.used(), (2, 2));
        s.cancel(id).unwrap();
        assert_eq!(s.slots.periods.used(), (1, 2));
        let id = s
            .schedule_periodic(Task::new(q, 3, 0), When::At(1), 1, Delay)
            .unwrap();
        assert_eq!(s.slots.periods.used(), (2, 2));
        s.check_invariants();
        s.cancel(other).unwrap();
        s.shrink_to_fit();
        assert_eq!(s.slots.periods.used(), (1, 1)); // the vacant last entry goes
        assert_eq!(s.period_state(id), Some((1, Delay, 0)));
        s.cancel(id).unwrap();
        s.shrink_to_fit();
        assert_eq!(s.slots.periods.used(), (0, 0));
        assert_eq!(s.slots.periods.allocated_bytes(), 0);
    }

    #[test]
    fn the_period_index_saturates() {
        let clock = ManualClock::new(0);
        let mut s: Sched<'_> = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        let id = s
            .schedule_periodic(Task::new(q, 2, 7), When::At(0), 1, Skip)
            .unwrap();
        clock.set(u64::MAX - 1);
        assert_eq!(s.run_pending(), 1);
        let o = s.get_task(q).unwrap();
        let p = o.period().unwrap();
        assert_eq!((p.index, p.missed), (0, u64::from(u32::MAX)));
        assert_eq!(s.period_state(id), Some((1, Skip, MAX_INDEX)));
        assert_eq!(s.next_deadline(), Some(u64::MAX));
        clock.set(u64::MAX);
        assert_eq!(s.run_pending(), 1);
        assert_eq!(s.get_task(q).unwrap().period().unwrap().index, MAX_INDEX);
        assert_eq!(s.period_state(id), Some((1, Skip, MAX_INDEX)));
    }

    #[test]
    fn plan_on_time_and_late() {
        // period 10, due at 20
        assert_eq!(plan(Burst, 10, 20, 20), (0, 30));
        assert_eq!(plan(Skip, 10, 20, 20), (0, 30));
        assert_eq!(plan(Delay, 10, 20, 20), (0, 30));
        // entering at 35: the period at 30 has passed too
        assert_eq!(plan(Burst, 10, 20, 35), (0, 30));
        assert_eq!(plan(Skip, 10, 20, 35), (1, 40));
        assert_eq!(plan(Delay, 10, 20, 35), (1, 45));
        // exactly on the next deadline: it counts as passed
        assert_eq!(plan(Skip, 10, 20, 30), (1, 40));
        // early (run_all): as if on time
        assert_eq!(plan(Delay, 10, 20, 5), (0, 30));
        assert_eq!(plan(Skip, 10, 20, 5), (0, 30));
    }

    #[test]
    fn long_division_agrees_with_the_operator() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let edges = [
            1,
            2,
            3,
            7,
            10,
            u64::from(u32::MAX),
            1 << 32,
            u64::MAX - 1,
            u64::MAX,
        ];
        for &n in &edges {
            for &d in &edges {
                assert_eq!(super::long_div(n, d), n / d, "{n} / {d}");
                assert_eq!(super::div(n, d), n / d, "{n} / {d}");
            }
        }
        for _ in 0..if cfg!(miri) { 100 } else { 100_000 } {
            let (n, d) = (next(), next() >> (next() % 64));
            let d = d.max(1);
            assert_eq!(super::long_div(n, d), n / d, "{n} / {d}");
        }
    }

    #[test]
    fn plan_saturates() {
        let max = u64::MAX;
        assert_eq!(plan(Burst, 10, max - 5, max), (0, max));
        assert_eq!(plan(Skip, 10, max - 5, max), (0, max));
        assert_eq!(plan(Delay, 10, max - 5, max), (0, max));
        assert_eq!(plan(Skip, max, 1, max), (0, max));
        assert_eq!(plan(Skip, 3, 0, max), (max / 3, max));
        assert_eq!(plan(Delay, 1, 0, max), (max, max));
        // a period of 0 never reaches here; it would act as 1
        assert_eq!(plan(Burst, 0, 7, 7), (0, 8));
    }
}
