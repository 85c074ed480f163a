//! Task slots, their free list, and the packing of [`TaskId`]s.
//!
//! A slot is [`Entry::Vacant`] (on the free list, or retired) or
//! [`Entry::Occupied`] by one scheduled task. Each slot has a generation
//! that grows by one every time the slot is taken again; a task's id is its
//! slot's generation above the slot number (`Index::BITS` low bits), so a
//! stale id never matches the slot's next task. A slot whose generation is
//! spent (2^48 - 1 with `u16` slot numbers, 2^32 - 1 with `u32`) is retired:
//! it stays vacant and is never put on the free list again, so no id can
//! ever repeat. Generations start at 1, so no id is 0.

use core::num::NonZeroU64;

use super::storage::{Array, Index, Storage};
use crate::task::{Task, TaskId};

/// One task slot: the task (or the free-list link) and the links of the
/// indexes that hold it.
#[derive(Debug)]
pub(crate) struct Slot<S, P, I> {
    pub(crate) entry: Entry<S, P, I>,
    /// Position in the heap; `NIL` when waiting for room, or vacant.
    pub(crate) heap_pos: I,
    /// Links of the queue line (pending or waiting) the task is in.
    pub(crate) line_prev: I,
    pub(crate) line_next: I,
}

/// What a slot holds.
#[derive(Debug)]
pub(crate) enum Entry<S, P, I> {
    /// No task. `generation` is the last one the slot used (0: never
    /// used); `next_free` links the free list (`NIL` at its end, and always
    /// for a retired slot).
    Vacant { next_free: I, generation: u64 },
    /// A scheduled task; its id holds the slot's generation.
    Occupied(Task<S, P>),
}

impl<S, P, I: Index> Slot<S, P, I> {
    fn vacant(next_free: I, generation: u64) -> Self {
        Self {
            entry: Entry::Vacant {
                next_free,
                generation,
            },
            heap_pos: I::NIL,
            line_prev: I::NIL,
            line_next: I::NIL,
        }
    }

    /// The task, if the slot is occupied.
    #[inline]
    pub(crate) fn task(&self) -> Option<&Task<S, P>> {
        match &self.entry {
            Entry::Occupied(task) => Some(task),
            Entry::Vacant { .. } => None,
        }
    }

    #[inline]
    pub(crate) fn task_mut(&mut self) -> Option<&mut Task<S, P>> {
        match &mut self.entry {
            Entry::Occupied(task) => Some(task),
            Entry::Vacant { .. } => None,
        }
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
}

/// The largest generation of a slot with `I` slot numbers.
#[inline]
pub(crate) const fn generation_max(index_bits: u32) -> u64 {
    u64::MAX >> index_bits
}

impl<S, P, St: Storage> Slots<S, P, St> {
    pub(crate) const EMPTY: Self = Self {
        array: <St::Array<Slot<S, P, St::Index>> as Array<_>>::EMPTY,
        free: St::Index::NIL,
        used: 0,
        retired: 0,
        generation_floor: 1,
        limit: St::MAX_SLOTS,
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

    /// The id of generation `generation` of slot `index`.
    #[inline]
    fn id(index: St::Index, generation: u64) -> TaskId {
        let raw = (generation << St::Index::BITS) | index.to_usize() as u64;
        // `generation` is at least 1, so `raw` is never 0.
        TaskId::new(NonZeroU64::new(raw).unwrap_or(NonZeroU64::MIN))
    }

    /// The slot of the scheduled task `id`.
    #[inline]
    pub(crate) fn find(&self, id: TaskId) -> Option<St::Index> {
        let mask = (1u64 << St::Index::BITS) - 1;
        let index = St::Index::from_usize(usize::try_from(id.get() & mask).ok()?)?;
        (self.get(index)?.task()?.id == Some(id)).then_some(index)
    }

    /// The slot count after the next [`Self::take`].
    #[inline]
    pub(crate) fn len_after_take(&self) -> usize {
        self.array.len() + usize::from(self.free == St::Index::NIL)
    }

    /// `true` when [`Self::take`] will find a slot (allocating now what it
    /// needs in growing storage).
    pub(crate) fn can_take(&mut self) -> bool {
        self.free != St::Index::NIL
            || (self.array.len() < self.limit
                && St::Index::from_usize(self.array.len()).is_some()
                && self.array.reserve(self.array.len() + 1))
    }

    /// Takes a vacant slot and puts `task` in it under a new id, written
    /// into the task; returns the slot number and the id, or the task when
    /// no slot is left.
    pub(crate) fn take(&mut self, mut task: Task<S, P>) -> Result<(St::Index, TaskId), Task<S, P>> {
        let (index, generation) = if self.free == St::Index::NIL {
            let Some(index) = St::Index::from_usize(self.array.len()) else {
                return Err(task);
            };
            if self.array.len() >= self.limit {
                return Err(task);
            }
            let generation = self.generation_floor;
            if generation > generation_max(St::Index::BITS) {
                return Err(task);
            }
            if let Err(slot) = self.array.push(Slot::vacant(St::Index::NIL, 0)) {
                drop(slot);
                return Err(task);
            }
            (index, generation)
        } else {
            let index = self.free;
            let Some(&Entry::Vacant {
                next_free,
                generation,
            }) = self.get(index).map(|s| &s.entry)
            else {
                return Err(task);
            };
            self.free = next_free;
            // Never past the end: a slot at its last generation is retired
            // when released, not put on the free list.
            (index, generation.saturating_add(1))
        };
        let id = Self::id(index, generation);
        task.id = Some(id);
        let Some(slot) = self.get_mut(index) else {
            return Err(task);
        };
        slot.entry = Entry::Occupied(task);
        self.used += 1;
        Ok((index, id))
    }

    /// Takes the task out of slot `index` (already out of every index) and
    /// makes the slot vacant: on the free list, or retired when its
    /// generation is spent.
    pub(crate) fn release(&mut self, index: St::Index) -> Option<Task<S, P>> {
        let free = self.free;
        let slot = self.get_mut(index)?;
        let generation = slot.task()?.id.map_or(0, |id| id.get() >> St::Index::BITS);
        let retire = generation >= generation_max(St::Index::BITS);
        let next_free = if retire { St::Index::NIL } else { free };
        let Entry::Occupied(task) = core::mem::replace(
            &mut slot.entry,
            Entry::Vacant {
                next_free,
                generation,
            },
        ) else {
            return None;
        };
        (slot.heap_pos, slot.line_prev, slot.line_next) =
            (St::Index::NIL, St::Index::NIL, St::Index::NIL);
        if retire {
            self.retired += 1;
        } else {
            self.free = index;
        }
        self.used -= 1;
        Some(task)
    }

    /// Puts `task` back into slot `index`, just released by
    /// [`Self::release`], under the id it had.
    pub(crate) fn restore(&mut self, index: St::Index, task: Task<S, P>) {
        let Some(slot) = self.get_mut(index) else {
            return;
        };
        let Entry::Vacant { next_free, .. } = slot.entry else {
            return;
        };
        slot.entry = Entry::Occupied(task);
        if self.free == index {
            self.free = next_free;
        } else {
            self.retired -= 1; // it was retired on release
        }
        self.used += 1;
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
        if let Some(Entry::Vacant { generation, .. }) = self.get_mut(index).map(|s| &mut s.entry) {
            *generation = to;
        }
    }
}

#[cfg(feature = "alloc")]
impl<S, P> Slots<S, P, super::storage::AllocStorage> {
    /// Drops trailing vacant slots and the segments they leave empty, then
    /// rebuilds the free list (O(slots)); ids of the dropped slots stay
    /// stale because slots pushed later start above their generations.
    pub(crate) fn shrink_to_fit(&mut self) {
        while let Some(Slot {
            entry: Entry::Vacant { generation, .. },
            ..
        }) = self.array.get(self.array.len().wrapping_sub(1))
        {
            let generation = *generation;
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
            if let Some(Slot {
                entry:
                    Entry::Vacant {
                        next_free,
                        generation,
                    },
                ..
            }) = self.array.get_mut(i)
            {
                if *generation < generation_max(u32::BITS) {
                    *next_free = free;
                    self.free = u32::try_from(i).unwrap_or(u32::NIL);
                }
            }
        }
    }

    pub(crate) fn allocated_bytes(&self) -> usize {
        self.array.allocated_bytes()
    }

    pub(crate) fn reserve_total(&mut self, n: usize) -> bool {
        self.array.reserve_total(n.min(self.limit))
    }
}
