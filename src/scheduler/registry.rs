//! Queue indexes: the queues, their names, and their generations.
//!
//! A [`QueueId`] is a queue index (`0..QN`) and the index's generation
//! (48 bits), which grows each time the queue at that index is removed, so
//! a removed queue's handle never names the queue added in its place. A
//! queue index whose generation is spent (after 2^48 - 2 removals: 8.9
//! years of nothing but removals at one a microsecond) is retired: never
//! used again, so a stale handle never matches. Names map to queue
//! indexes through a [`heapless::FnvIndexMap`].

use core::num::NonZeroU32;

use heapless::index_map::FnvIndexMap;
use heapless::String;

use super::queue_lists::Lines;
use super::MAX_NAME_LEN;
use crate::task::QueueId;

pub(crate) type Name = String<MAX_NAME_LEN>;

/// A live queue.
#[derive(Debug)]
pub(crate) struct QueueEntry<Q, I> {
    pub(crate) name: Name,
    pub(crate) queue: Q,
    pub(crate) lines: Lines<I>,
    pub(crate) taken: u64,
    pub(crate) done: u64,
}

/// What a queue index holds: its generation, and the queue when one is
/// there.
#[derive(Debug)]
pub(crate) struct QueueIndex<Q, I> {
    generation_high: u16,
    generation: NonZeroU32,
    pub(crate) entry: Option<QueueEntry<Q, I>>,
}

impl<Q, I> QueueIndex<Q, I> {
    const EMPTY: Self = Self {
        generation_high: 0,
        generation: NonZeroU32::MIN,
        entry: None,
    };

    /// `true` when the index's generation is spent.
    fn retired(&self) -> bool {
        self.generation_high == u16::MAX && self.generation == NonZeroU32::MAX
    }

    /// Moves to the next generation.
    fn bump(&mut self) {
        if let Some(g) = self.generation.checked_add(1) {
            self.generation = g;
        } else if self.generation_high < u16::MAX {
            self.generation_high += 1;
            self.generation = NonZeroU32::MIN;
        }
        // At the end the index stays on its last generation, retired.
    }

    fn id(&self, index: u16) -> QueueId {
        QueueId {
            index,
            generation_high: self.generation_high,
            generation: self.generation,
        }
    }
}

/// The queue indexes and the name map.
#[derive(Debug)]
pub(crate) struct Registry<Q, I, const QN: usize> {
    pub(crate) indexes: [QueueIndex<Q, I>; QN],
    pub(crate) names: FnvIndexMap<Name, u16, QN>,
}

impl<Q, I, const QN: usize> Registry<Q, I, QN> {
    pub(crate) const EMPTY: Self = Self {
        indexes: [const { QueueIndex::EMPTY }; QN],
        names: FnvIndexMap::new(),
    };

    #[inline]
    pub(crate) fn entry(&self, q: QueueId) -> Option<&QueueEntry<Q, I>> {
        let at = self.indexes.get(usize::from(q.index))?;
        if at.generation != q.generation || at.generation_high != q.generation_high {
            return None;
        }
        at.entry.as_ref()
    }

    #[inline]
    pub(crate) fn entry_mut(&mut self, q: QueueId) -> Option<&mut QueueEntry<Q, I>> {
        let at = self.indexes.get_mut(usize::from(q.index))?;
        if at.generation != q.generation || at.generation_high != q.generation_high {
            return None;
        }
        at.entry.as_mut()
    }

    /// The entry at `q`'s queue index, without comparing generations: only
    /// for a `q` known to be current, made by [`Self::id_at`] for a
    /// scheduled task (whose queue outlives it) or checked by
    /// [`Self::entry`] earlier in the same operation. The hot paths
    /// (delivering a due task) then compare generations once, not once per
    /// step.
    #[inline]
    pub(crate) fn current_mut(&mut self, q: QueueId) -> Option<&mut QueueEntry<Q, I>> {
        let at = self.indexes.get_mut(usize::from(q.index))?;
        debug_assert!(at.generation == q.generation && at.generation_high == q.generation_high);
        at.entry.as_mut()
    }

    /// The handle of the queue at queue index `index`, if any.
    pub(crate) fn id_at(&self, index: usize) -> Option<QueueId> {
        let at = self.indexes.get(index)?;
        at.entry.as_ref()?;
        Some(at.id(u16::try_from(index).ok()?))
    }

    /// A queue index with no queue and generations left.
    pub(crate) fn vacant(&self) -> Option<u16> {
        let index = self
            .indexes
            .iter()
            .position(|q| q.entry.is_none() && !q.retired())?;
        u16::try_from(index).ok()
    }

    /// Puts `entry` at the vacant queue index `index`; its handle.
    pub(crate) fn occupy(&mut self, index: u16, entry: QueueEntry<Q, I>) -> Option<QueueId> {
        let at = self.indexes.get_mut(usize::from(index))?;
        at.entry = Some(entry);
        Some(at.id(index))
    }

    /// Takes the queue out of `q`'s index and ends the generation.
    pub(crate) fn vacate(&mut self, q: QueueId) -> Option<QueueEntry<Q, I>> {
        self.entry(q)?;
        let at = self.indexes.get_mut(usize::from(q.index))?;
        let entry = at.entry.take()?;
        self.names.swap_remove(&entry.name);
        at.bump();
        Some(entry)
    }

    /// Sets the generation of queue index `index` (tests: to reach the end
    /// without 2^48 removals).
    #[cfg(test)]
    pub(crate) fn set_generation(&mut self, index: usize, high: u16, low: NonZeroU32) {
        if let Some(at) = self.indexes.get_mut(index) {
            (at.generation_high, at.generation) = (high, low);
        }
    }
}
