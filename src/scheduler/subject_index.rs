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
//! The links live here, one pair per slot number, beside the slots they
//! link; the subjects are read from the slots.

use super::slots::Slot;
use super::storage::{Array, Index, Storage, SubjectHashing};
use crate::subject::Subject;

/// The links of one slot in its subject chain.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SubjectLinks<I> {
    pub(crate) subject_prev: I,
    pub(crate) subject_next: I,
}

impl<I: Index> SubjectLinks<I> {
    const NONE: Self = Self {
        subject_prev: I::NIL,
        subject_next: I::NIL,
    };
}

/// Buckets, the chain links per slot, and the hash.
#[derive(Debug)]
pub(crate) struct SubjectIndex<St: Storage> {
    pub(crate) buckets: St::Buckets,
    pub(crate) links: St::Array<SubjectLinks<St::Index>>,
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
            links: <St::Array<SubjectLinks<St::Index>> as Array<_>>::EMPTY,
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
        if a < self.split {
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

    /// `true` when the slots below `slots` can be linked: their links and
    /// the first buckets exist (allocating them in growing storage).
    pub(crate) fn reserve(&mut self, slots: usize) -> bool {
        while self.buckets.len() < St::FIXED_BUCKETS {
            if self.buckets.push(St::Index::NIL).is_err() {
                return false;
            }
        }
        while self.links.len() < slots {
            if self.links.push(SubjectLinks::NONE).is_err() {
                return false;
            }
        }
        true
    }

    #[inline]
    fn links_mut(&mut self, index: St::Index) -> Option<&mut SubjectLinks<St::Index>> {
        self.links.get_mut(index.to_usize())
    }

    /// The slot after `index` in its chain.
    #[inline]
    pub(crate) fn next(&self, index: St::Index) -> St::Index {
        self.links
            .get(index.to_usize())
            .map_or(St::Index::NIL, |l| l.subject_next)
    }

    /// The head and the tail of the chain `subject` is in.
    #[inline]
    pub(crate) fn chain<S: Subject>(&self, subject: &S) -> Option<(St::Index, St::Index)> {
        let head = *self.buckets.get(self.bucket(subject))?;
        let tail = self.links.get(head.to_usize())?.subject_prev;
        Some((head, tail))
    }

    /// Links slot `index`, about `subject`, at the tail of its chain, then
    /// splits one bucket if the tasks outnumber the buckets.
    pub(crate) fn link<S: Subject, P>(
        &mut self,
        slots: &St::Array<Slot<S, P, St::Index>>,
        subject: &S,
        index: St::Index,
    ) {
        let bucket = self.bucket(subject);
        self.append(bucket, index);
        self.tasks += 1;
        if St::GROWS && self.tasks > self.buckets.len() {
            self.split_one(slots);
        }
    }

    /// Appends slot `index` to the chain of `bucket`.
    fn append(&mut self, bucket: usize, index: St::Index) {
        let Some(head) = self.buckets.get_mut(bucket) else {
            return;
        };
        if *head == St::Index::NIL {
            *head = index;
            if let Some(l) = self.links_mut(index) {
                (l.subject_prev, l.subject_next) = (index, index);
            }
            return;
        }
        let head = *head;
        let Some(tail) = self.links.get(head.to_usize()).map(|h| h.subject_prev) else {
            return;
        };
        if let Some(l) = self.links_mut(index) {
            (l.subject_prev, l.subject_next) = (tail, head);
        }
        if let Some(t) = self.links_mut(tail) {
            t.subject_next = index;
        }
        if let Some(h) = self.links_mut(head) {
            h.subject_prev = index;
        }
    }

    /// Takes slot `index`, about `subject`, out of its chain.
    pub(crate) fn unlink<S: Subject>(&mut self, subject: &S, index: St::Index) {
        let bucket = self.bucket(subject);
        self.remove(bucket, index);
        self.tasks = self.tasks.saturating_sub(1);
    }

    /// Takes slot `index` out of the chain of `bucket`.
    fn remove(&mut self, bucket: usize, index: St::Index) {
        let Some(&SubjectLinks {
            subject_prev: prev,
            subject_next: next,
        }) = self.links.get(index.to_usize())
        else {
            return;
        };
        if let Some(head) = self.buckets.get_mut(bucket) {
            if *head == index {
                // The only task of its chain links to itself.
                *head = if next == index { St::Index::NIL } else { next };
            }
        }
        if next != index {
            if let Some(p) = self.links_mut(prev) {
                p.subject_next = next;
            }
            if let Some(n) = self.links_mut(next) {
                n.subject_prev = prev;
            }
        }
        if let Some(l) = self.links_mut(index) {
            *l = SubjectLinks::NONE;
        }
    }

    /// Splits bucket `split` into itself and a new bucket at the end;
    /// `false` when the new bucket cannot be allocated.
    fn split_one<S: Subject, P>(&mut self, slots: &St::Array<Slot<S, P, St::Index>>) -> bool {
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
            .and_then(|h| Some((h, self.links.get(h.to_usize())?.subject_prev)))
        {
            let mut at = head;
            loop {
                let next = self.next(at);
                let moves = slots
                    .get(at.to_usize())
                    .and_then(Slot::task)
                    .is_some_and(|t| {
                        #[allow(clippy::cast_possible_truncation)]
                        let hash = self.hashing.hash(&t.subject) as usize;
                        hash & wide == to
                    });
                if moves {
                    self.remove(from, at);
                    self.append(to, at);
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

    /// Drops the links beyond `slots` slot numbers (after the slots shrank).
    #[cfg(feature = "alloc")]
    pub(crate) fn truncate_links(&mut self, slots: usize) {
        while self.links.len() > slots {
            if self.links.pop().is_none() {
                break;
            }
        }
    }
}
