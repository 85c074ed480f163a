//! Task slots, their free list, and the packing of [`TaskId`]s.
//!
//! A slot holds one scheduled task's parts ([`Parts`]: queue, attempt,
//! subject, payload), or nothing. It does not hold a whole [`Task`]: the
//! task's id is made from the slot number and the slot's generation, its
//! deadline is kept only in its heap key (see [`heap`](super::heap)), and
//! the [`Task`] is rebuilt when the task leaves the slot (delivered,
//! cancelled, handed back). Beside the parts the slot
//! carries its generation and the links of every index that holds it: its
//! heap position, its queue line, its subject chain; with the feature
//! `periodic`, in fixed storage, the period of a periodic task too
//! ([`PeriodTable`](super::periodic::PeriodTable)). A vacant slot on the
//! free list links to the next free slot through `line_next`.
//!
//! Each slot's generation grows by one every time the slot is taken again;
//! a task's id is its slot's generation above the slot number
//! (`Index::BITS` low bits), so a stale id never matches the slot's next
//! task. A slot whose generation is spent (2^48 - 1 with `u16` slot
//! numbers, 2^32 - 1 with `u32`) is retired: it stays vacant and is never
//! put on the free list again, so no id can ever repeat. Generations start
//! at 1, so no id is 0.

use core::num::{NonZeroU16, NonZeroU64};

#[cfg(feature = "periodic")]
use super::periodic::{PeriodPlace, PeriodState, PeriodTable};
use super::storage::{Array, Generation, Index, Storage};
use crate::clock::Ticks;
use crate::task::{QueueId, Task, TaskId};

/// What a slot keeps of a scheduled task.
#[derive(Debug)]
pub(crate) struct Parts<S, P> {
    /// The queue index of the task's queue in the low 8 bits, with
    /// [`QUEUE_SET`] (so that a vacant slot's `None` costs no tag) and
    /// [`PERIODIC`]. The queue exists as long as the task is scheduled
    /// (removing a queue hands its tasks back), so its [`QueueId`] is the
    /// one its queue index gives now: the slot needs no copy of the
    /// queue's generation (6 bytes).
    queue: NonZeroU16,
    /// The attempt count; for a periodic task in growing storage, the
    /// number of its entry in the period table, which keeps the count (see
    /// [`PeriodTable`](super::periodic::PeriodTable)). Read it through
    /// [`Slots::attempt`].
    pub(crate) attempt: u32,
    pub(crate) subject: S,
    pub(crate) payload: P,
}

/// Set in every queue reference: queue indexes are below 256 (8 bits),
/// and a reference is never 0.
const QUEUE_SET: u16 = 1 << 8;
/// Set in the queue reference of a periodic task.
#[cfg(feature = "periodic")]
const PERIODIC: u16 = 1 << 9;

impl<S, P> Parts<S, P> {
    /// The queue index of the task's queue.
    #[inline]
    pub(crate) fn queue_index(&self) -> u16 {
        // The low 8 bits: the index itself.
        #[allow(clippy::cast_possible_truncation)]
        u16::from(self.queue.get() as u8)
    }

    /// `true` for a periodic task, whose period is in the storage's
    /// [`PeriodTable`].
    #[cfg(feature = "periodic")]
    #[inline]
    pub(crate) fn is_periodic(&self) -> bool {
        self.queue.get() & PERIODIC != 0
    }
}

/// How a slot names the queue `q`: its queue index (below 256, the most
/// queues) with [`QUEUE_SET`].
#[inline]
fn queue_ref(q: QueueId) -> NonZeroU16 {
    NonZeroU16::new((q.index & 0xFF) | QUEUE_SET).unwrap_or(NonZeroU16::MAX)
}

/// One task slot: the task's parts (none when vacant), the slot's
/// generation, and the links of the indexes that hold it.
#[derive(Debug)]
pub(crate) struct Slot<S, P, I: Index> {
    pub(crate) task: Option<Parts<S, P>>,
    /// The generation of the slot's task, or the last one used when vacant
    /// (0: never used).
    generation: I::Generation,
    /// Position in the heap's arrays: in the heap, or among the parked
    /// keys while waiting for room; `NIL` when vacant.
    pub(crate) heap_pos: I,
    /// Links of the queue line (pending or waiting) the task is in; when
    /// vacant, `line_next` is the next free slot (`NIL` at the end of the
    /// free list, and always for a retired slot).
    pub(crate) line_prev: I,
    pub(crate) line_next: I,
    /// Links of the subject chain the task is in.
    pub(crate) subject_prev: I,
    pub(crate) subject_next: I,
    /// The slot's part of a periodic task's period (see
    /// [`PeriodTable`]): its state in fixed storage, nothing in growing
    /// storage.
    #[cfg(feature = "periodic")]
    period: I::Period,
}

impl<S, P, I: Index> Slot<S, P, I> {
    fn vacant(next_free: I, generation: u64) -> Self {
        Self {
            task: None,
            generation: I::Generation::new(generation),
            heap_pos: I::NIL,
            line_prev: I::NIL,
            line_next: next_free,
            subject_prev: I::NIL,
            subject_next: I::NIL,
            #[cfg(feature = "periodic")]
            period: I::Period::NONE,
        }
    }

    /// The task's parts, if the slot is occupied.
    #[inline]
    pub(crate) fn task(&self) -> Option<&Parts<S, P>> {
        self.task.as_ref()
    }

    /// The slot's generation (of its task, or the last one when vacant).
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.get()
    }
}

/// The slot array with its free list.
#[derive(Debug)]
pub(crate) struct Slots<S, P, St: Storage> {
    pub(crate) array: St::Array<Slot<S, P, St::Index>>,
    /// Head of the free list.
    free: St::Index,
    /// Occupied slots.
    used: usize,
    /// Retired slots (generation spent).
    retired: usize,
    /// The first generation of a slot pushed anew: above every generation
    /// a slot released by `shrink_to_fit` had used, so an id of a released
    /// slot never matches the slot pushed at its number later.
    generation_floor: u64,
    /// The most slots the array may have (a run-time limit, allocated
    /// storage only; `MAX_SLOTS` otherwise).
    pub(crate) limit: usize,
    /// The period states of the periodic tasks.
    #[cfg(feature = "periodic")]
    pub(crate) periods: St::Periods,
}

/// The largest generation of a slot with `I` slot numbers.
#[inline]
pub(crate) const fn generation_max(index_bits: u32) -> u64 {
    u64::MAX >> index_bits
}

/// The id of generation `generation` of slot `index`.
#[inline]
pub(crate) fn task_id<I: Index>(index: I, generation: u64) -> TaskId {
    let raw = (generation << I::BITS) | index.to_usize() as u64;
    // `generation` is at least 1, so `raw` is never 0.
    TaskId::new(NonZeroU64::new(raw).unwrap_or(NonZeroU64::MIN))
}

impl<S, P, St: Storage> Slots<S, P, St> {
    pub(crate) const EMPTY: Self = Self {
        array: <St::Array<Slot<S, P, St::Index>> as Array<_>>::EMPTY,
        free: St::Index::NIL,
        used: 0,
        retired: 0,
        generation_floor: 1,
        limit: St::MAX_SLOTS,
        #[cfg(feature = "periodic")]
        periods: <St::Periods as PeriodTable>::EMPTY,
    };

    #[inline]
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    #[inline]
    pub(crate) fn get(&self, index: St::Index) -> Option<&Slot<S, P, St::Index>> {
        self.array.get(index.to_usize())
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, index: St::Index) -> Option<&mut Slot<S, P, St::Index>> {
        self.array.get_mut(index.to_usize())
    }

    /// The slot of the scheduled task `id`.
    #[inline]
    pub(crate) fn find(&self, id: TaskId) -> Option<St::Index> {
        let mask = (1u64 << St::Index::BITS) - 1;
        let index = St::Index::from_usize(usize::try_from(id.get() & mask).ok()?)?;
        let slot = self.get(index)?;
        (slot.task.is_some() && slot.generation() == id.get() >> St::Index::BITS).then_some(index)
    }

    /// `true` when [`Self::take`] will find a slot (allocating now what it
    /// needs in growing storage). In growing storage the limit bounds the
    /// tasks held, not only the slots added: vacant slots left from before
    /// a lower `set_max_capacity` are not taken past it. (Fixed storage's
    /// limit is its `N` slots: a free slot is always below it.)
    #[inline]
    pub(crate) fn can_take(&mut self) -> bool {
        if St::GROWS && self.used >= self.limit {
            return false;
        }
        self.free != St::Index::NIL
            || (self.array.len() < self.limit
                && St::Index::from_usize(self.array.len()).is_some()
                && self.array.reserve(self.array.len() + 1))
    }

    /// Takes a vacant slot and puts the parts of `task` in it, with
    /// `attempt`, under a new id; returns the slot number and the id, or
    /// the task unchanged when no slot is left.
    #[inline]
    pub(crate) fn take(
        &mut self,
        task: Task<S, P>,
        attempt: u32,
    ) -> Result<(St::Index, TaskId), Task<S, P>> {
        if self.free == St::Index::NIL {
            // A new slot, vacant at the generation before the floor, goes
            // on the free list to be taken below like any other.
            let Some(index) = St::Index::from_usize(self.array.len()) else {
                return Err(task);
            };
            if self.array.len() >= self.limit {
                return Err(task);
            }
            let floor = self.generation_floor;
            if floor > generation_max(St::Index::BITS) {
                return Err(task);
            }
            if let Err(slot) = self.array.push(Slot::vacant(St::Index::NIL, floor - 1)) {
                drop(slot);
                return Err(task);
            }
            self.free = index;
        }
        // One look-up of the free slot, read and written.
        let index = self.free;
        let Some(slot) = self.array.get_mut(index.to_usize()) else {
            return Err(task);
        };
        // Never past the end: a slot at its last generation is retired when
        // released, not put on the free list.
        let generation = slot.generation().saturating_add(1);
        self.free = slot.line_next;
        slot.task = Some(Parts {
            queue: queue_ref(task.queue),
            attempt,
            subject: task.subject,
            payload: task.payload,
        });
        slot.generation = Generation::new(generation);
        slot.line_next = St::Index::NIL;
        self.used += 1;
        Ok((index, task_id(index, generation)))
    }

    /// Takes the task out of slot `index` (already out of every index) and
    /// makes the slot vacant: on the free list, or retired when its
    /// generation is spent. The task is rebuilt with its id, `queue` (the
    /// id of its queue) and `deadline`.
    #[inline]
    pub(crate) fn release(
        &mut self,
        index: St::Index,
        queue: QueueId,
        deadline: Ticks,
    ) -> Option<Task<S, P>> {
        let free = self.free;
        let slot = self.array.get_mut(index.to_usize())?;
        let parts = slot.task.take()?;
        #[cfg(feature = "periodic")]
        let attempt = if parts.is_periodic() {
            self.periods.detach(parts.attempt)
        } else {
            parts.attempt
        };
        #[cfg(not(feature = "periodic"))]
        let attempt = parts.attempt;
        let generation = slot.generation();
        let retire = generation >= generation_max(St::Index::BITS);
        (slot.heap_pos, slot.line_prev) = (St::Index::NIL, St::Index::NIL);
        (slot.subject_prev, slot.subject_next) = (St::Index::NIL, St::Index::NIL);
        slot.line_next = if retire { St::Index::NIL } else { free };
        if retire {
            self.retired += 1;
        } else {
            self.free = index;
        }
        self.used -= 1;
        Some(Task {
            id: Some(task_id(index, generation)),
            queue,
            deadline,
            attempt,
            subject: parts.subject,
            payload: parts.payload,
            #[cfg(feature = "periodic")]
            period: None,
            #[cfg(feature = "periodic")]
            missed: 0,
        })
    }

    /// Puts `task` back into slot `index`, just released by
    /// [`Self::release`], under the id it had (its deadline stays with the
    /// caller, for the heap's key).
    pub(crate) fn restore(&mut self, index: St::Index, task: Task<S, P>) {
        let free = self.free;
        let Some(slot) = self.get_mut(index) else {
            return;
        };
        if slot.task.is_some() {
            return;
        }
        let next_free = slot.line_next;
        slot.task = Some(Parts {
            queue: queue_ref(task.queue),
            attempt: task.attempt,
            subject: task.subject,
            payload: task.payload,
        });
        slot.line_next = St::Index::NIL;
        if free == index {
            self.free = next_free;
        } else {
            self.retired -= 1; // it was retired on release
        }
        self.used += 1;
    }

    /// The attempt count of the task in slot `index` (0 when vacant).
    #[inline]
    pub(crate) fn attempt(&self, index: St::Index) -> u32 {
        let Some(parts) = self.get(index).and_then(Slot::task) else {
            return 0;
        };
        #[cfg(feature = "periodic")]
        if parts.is_periodic() {
            return self.periods.attempt(parts.attempt);
        }
        parts.attempt
    }

    /// The parts, the attempt count and the period of the periodic task in
    /// slot `index` (tests).
    #[cfg(all(test, feature = "periodic"))]
    pub(crate) fn periodic(&self, index: St::Index) -> Option<(&Parts<S, P>, u32, PeriodState)> {
        let slot = self.get(index)?;
        let parts = slot.task().filter(|p| p.is_periodic())?;
        let state = *self.periods.state(&slot.period, parts.attempt)?;
        Some((parts, self.periods.attempt(parts.attempt), state))
    }

    /// The parts, the attempt count and the period (mutably) of the
    /// periodic task in slot `index`.
    #[cfg(feature = "periodic")]
    #[inline]
    pub(crate) fn periodic_mut(
        &mut self,
        index: St::Index,
    ) -> Option<(&Parts<S, P>, u32, &mut PeriodState)> {
        let slot = self.array.get_mut(index.to_usize())?;
        let parts = slot.task.as_ref().filter(|p| p.is_periodic())?;
        let attempt = self.periods.attempt(parts.attempt);
        let state = self.periods.state_mut(&mut slot.period, parts.attempt)?;
        Some((parts, attempt, state))
    }

    /// Periodic tasks held (tests).
    #[cfg(all(test, feature = "periodic"))]
    pub(crate) fn periodic_count(&self) -> usize {
        (0..self.array.len())
            .filter_map(|i| self.array.get(i)?.task())
            .filter(|p| p.is_periodic())
            .count()
    }

    /// Makes the one-shot task just scheduled in slot `index` periodic
    /// with `state`; `false` (nothing changed) when the slot is vacant or
    /// the period table has no room (see [`PeriodTable::reserve`]).
    #[cfg(feature = "periodic")]
    pub(crate) fn make_periodic(&mut self, index: St::Index, state: PeriodState) -> bool {
        let Some(slot) = self.array.get_mut(index.to_usize()) else {
            return false;
        };
        let Some(parts) = slot.task.as_mut() else {
            return false;
        };
        if !self
            .periods
            .attach(&mut slot.period, &mut parts.attempt, state)
        {
            return false;
        }
        parts.queue |= PERIODIC;
        true
    }

    /// Slots retired because their generation is spent.
    pub(crate) fn retired(&self) -> usize {
        self.retired
    }

    /// The head of the free list (tests).
    #[cfg(test)]
    pub(crate) fn free_head(&self) -> St::Index {
        self.free
    }

    /// Sets the generation of vacant slot `index` (tests: to reach the end
    /// of a generation without 2^48 schedulings).
    #[cfg(test)]
    pub(crate) fn set_generation(&mut self, index: St::Index, to: u64) {
        if let Some(slot) = self.get_mut(index).filter(|s| s.task.is_none()) {
            slot.generation = Generation::new(to);
        }
    }
}

#[cfg(feature = "alloc")]
impl<S, P> Slots<S, P, super::storage::AllocStorage> {
    /// Drops trailing vacant slots and the segments they leave empty, then
    /// rebuilds the free list (O(slots)); ids of the dropped slots stay
    /// stale because slots pushed later start above their generations.
    /// The table of periodic tasks shrinks the same way (O(entries)).
    pub(crate) fn shrink_to_fit(&mut self) {
        while let Some(slot) = self
            .array
            .get(self.array.len().wrapping_sub(1))
            .filter(|s| s.task.is_none())
        {
            let generation = slot.generation();
            if self.array.pop().is_none() {
                break;
            }
            self.generation_floor = self.generation_floor.max(generation.saturating_add(1));
            if generation >= generation_max(u32::BITS) {
                self.retired -= 1;
            }
        }
        // A floor past the last generation would leave no generation for
        // new slots: then slots at those numbers are never pushed again
        // (`take` answers full there), which takes 2^32 reuses of a slot.
        self.array.shrink_to(0);
        self.free = u32::NIL;
        for i in (0..self.array.len()).rev() {
            let free = self.free;
            if let Some(slot) = self.array.get_mut(i).filter(|s| s.task.is_none()) {
                if slot.generation() < generation_max(u32::BITS) {
                    slot.line_next = free;
                    self.free = u32::try_from(i).unwrap_or(u32::NIL);
                }
            }
        }
        #[cfg(feature = "periodic")]
        self.periods.shrink_to_fit();
    }

    pub(crate) fn allocated_bytes(&self) -> usize {
        let periods = {
            #[cfg(feature = "periodic")]
            {
                self.periods.allocated_bytes()
            }
            #[cfg(not(feature = "periodic"))]
            {
                0
            }
        };
        self.array.allocated_bytes() + periods
    }

    pub(crate) fn reserve_total(&mut self, n: usize) -> bool {
        self.array.reserve_total(n.min(self.limit))
    }
}
