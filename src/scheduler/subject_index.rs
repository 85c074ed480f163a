//! The subject index: hash buckets, each the head of a circular chain
//! through the slots of the tasks whose subject falls in that bucket.
//!
//! A chain is circular (the head's `subject_prev` is the tail), so
//! appending is O(1) without a tail per bucket, and walking from the head
//! meets the tasks in the order they were scheduled. Linking and unlinking
//! are O(1); cancelling a subject walks its bucket's chain, which holds its
//! k tasks and, with at most one task per bucket on average, less than one
//! task of another subject on average.
//!
//! The bucket of a subject is found by linear hashing: with `mask + 1`
//! buckets in the current round and `split` of them already split, the
//! address is `hash & mask`, or `hash & (2 * mask + 1)` below `split`. In
//! fixed storage there are `N` buckets and no split (the address is
//! `hash & (N - 1)`). In growing storage, each scheduling that brings the
//! tasks above the buckets splits one bucket: the tasks of bucket `split`
//! whose address under the doubled mask is the new bucket move there, in
//! order, so growing never rehashes every task at once and chains keep
//! their scheduling order. Buckets are never merged back.
//!
//! The links live in the slots (`subject_prev`/`subject_next`), beside the
//! subjects they are read from; the index holds only the bucket heads.

use super::slots::Slot;
use super::storage::{Array, Index, Storage, SubjectHashing};
use crate::subject::Subject;

/// The slot array the chains link.
type SlotArray<S, P, St> = <St as Storage>::Array<Slot<S, P, <St as Storage>::Index>>;

/// Buckets and the hash; the links are in the slots.
#[derive(Debug)]
pub(crate) struct SubjectIndex<St: Storage> {
    pub(crate) buckets: St::Buckets,
    hashing: St::Hashing,
    /// Buckets of the current round, minus one (a power of two minus one).
    mask: usize,
    /// Buckets of the current round already split.
    split: usize,
    /// Linked tasks.
    tasks: usize,
    /// Chain steps taken by `cancel_by_subject` walks (tests).
    #[cfg(test)]
    pub(crate) steps: usize,
}

impl<St: Storage> SubjectIndex<St> {
    pub(crate) const fn new(hashing: St::Hashing) -> Self {
        Self {
            buckets: <St::Buckets as Array<_>>::EMPTY,
            hashing,
            mask: St::FIXED_BUCKETS - 1,
            split: 0,
            tasks: 0,
            #[cfg(test)]
            steps: 0,
        }
    }

    /// The bucket of a subject hashing to `hash`.
    #[inline]
    fn address(&self, hash: u64) -> usize {
        // Only the low bits are kept.
        #[allow(clippy::cast_possible_truncation)]
        let hash = hash as usize;
        let a = hash & self.mask;
        // Fixed storage never splits.
        if St::GROWS && a < self.split {
            hash & (2 * self.mask + 1)
        } else {
            a
        }
    }

    /// The bucket of `subject`.
    #[inline]
    pub(crate) fn bucket<S: Subject>(&self, subject: &S) -> usize {
        self.address(self.hashing.hash(subject))
    }

    /// `true` when the first buckets exist (allocating them in growing
    /// storage).
    #[inline]
    pub(crate) fn reserve(&mut self) -> bool {
        while self.buckets.len() < St::FIXED_BUCKETS {
            if self.buckets.push(St::Index::NIL).is_err() {
                return false;
            }
        }
        true
    }

    /// Empties every chain at once, without hashing (when no task is left
    /// linked but strays, see `SchedulerInner::clear`).
    pub(crate) fn reset(&mut self) {
        for i in 0..self.buckets.len() {
            if let Some(head) = self.buckets.get_mut(i) {
                *head = St::Index::NIL;
            }
        }
        self.tasks = 0;
    }

    /// The head and the tail of the chain `subject` is in.
    #[inline]
    pub(crate) fn chain<S: Subject, P>(
        &self,
        slots: &SlotArray<S, P, St>,
        subject: &S,
    ) -> Option<(St::Index, St::Index)> {
        let head = *self.buckets.get(self.bucket(subject))?;
        let tail = slots.get(head.to_usize())?.subject_prev;
        Some((head, tail))
    }

    /// Links occupied slot `index` at the tail of its subject's chain, then
    /// splits one bucket if the tasks outnumber the buckets.
    ///
    /// Always inlined, as [`Self::unlink`]: on the hot paths (`schedule`,
    /// delivery) a call cost about as much as the work itself.
    #[inline(always)]
    pub(crate) fn link<S: Subject, P>(
        &mut self,
        slots: &mut SlotArray<S, P, St>,
        index: St::Index,
    ) {
        let Some(task) = slots.get(index.to_usize()).and_then(|s| s.task()) else {
            return;
        };
        let bucket = self.bucket(&task.subject);
        self.append(slots, bucket, index);
        self.tasks += 1;
        if St::GROWS && self.tasks > self.buckets.len() {
            self.split_one(slots);
        }
    }

    /// Appends slot `index` to the chain of `bucket`.
    #[inline(always)]
    fn append<S, P>(&mut self, slots: &mut SlotArray<S, P, St>, bucket: usize, index: St::Index) {
        let Some(head) = self.buckets.get_mut(bucket) else {
            return;
        };
        if *head == St::Index::NIL {
            *head = index;
            if let Some(l) = slots.get_mut(index.to_usize()) {
                (l.subject_prev, l.subject_next) = (index, index);
            }
            return;
        }
        let head = *head;
        let Some(tail) = slots.get(head.to_usize()).map(|h| h.subject_prev) else {
            return;
        };
        if let Some(l) = slots.get_mut(index.to_usize()) {
            (l.subject_prev, l.subject_next) = (tail, head);
        }
        if let Some(t) = slots.get_mut(tail.to_usize()) {
            t.subject_next = index;
        }
        if let Some(h) = slots.get_mut(head.to_usize()) {
            h.subject_prev = index;
        }
    }

    /// Takes occupied slot `index` out of its subject's chain.
    #[inline(always)]
    pub(crate) fn unlink<S: Subject, P>(
        &mut self,
        slots: &mut SlotArray<S, P, St>,
        index: St::Index,
    ) {
        let Some(subject) = slots.get(index.to_usize()).and_then(|s| s.task()) else {
            return;
        };
        let bucket = self.bucket(&subject.subject);
        Self::remove(&mut self.buckets, slots, bucket, index);
        self.tasks = self.tasks.saturating_sub(1);
    }

    /// Takes slot `index` out of the chain of `bucket`.
    #[inline]
    fn remove<S, P>(
        buckets: &mut St::Buckets,
        slots: &mut SlotArray<S, P, St>,
        bucket: usize,
        index: St::Index,
    ) {
        let Some((prev, next)) = slots
            .get(index.to_usize())
            .map(|s| (s.subject_prev, s.subject_next))
        else {
            return;
        };
        if let Some(head) = buckets.get_mut(bucket) {
            if *head == index {
                // The only task of its chain links to itself.
                *head = if next == index { St::Index::NIL } else { next };
            }
        }
        if next != index {
            if let Some(p) = slots.get_mut(prev.to_usize()) {
                p.subject_next = next;
            }
            if let Some(n) = slots.get_mut(next.to_usize()) {
                n.subject_prev = prev;
            }
        }
        if let Some(l) = slots.get_mut(index.to_usize()) {
            (l.subject_prev, l.subject_next) = (St::Index::NIL, St::Index::NIL);
        }
    }

    /// Splits bucket `split` into itself and a new bucket at the end;
    /// `false` when the new bucket cannot be allocated.
    fn split_one<S: Subject, P>(&mut self, slots: &mut SlotArray<S, P, St>) -> bool {
        let from = self.split;
        let to = self.mask + 1 + from;
        if self.buckets.len() != to || self.buckets.push(St::Index::NIL).is_err() {
            return false;
        }
        let wide = 2 * self.mask + 1;
        if let Some((head, tail)) = self
            .buckets
            .get(from)
            .copied()
            .filter(|&h| h != St::Index::NIL)
            .and_then(|h| Some((h, slots.get(h.to_usize())?.subject_prev)))
        {
            let mut at = head;
            while let Some(slot) = slots.get(at.to_usize()) {
                let next = slot.subject_next;
                let moves = slot.task().is_some_and(|t| {
                    #[allow(clippy::cast_possible_truncation)]
                    let hash = self.hashing.hash(&t.subject) as usize;
                    hash & wide == to
                });
                if moves {
                    Self::remove(&mut self.buckets, slots, from, at);
                    self.append(slots, to, at);
                }
                if at == tail {
                    break;
                }
                at = next;
            }
        }
        self.split += 1;
        if self.split > self.mask {
            self.mask = wide;
            self.split = 0;
        }
        true
    }
}
