//! The indexed 4-ary min-heap of slot numbers, with cached keys.
//!
//! Ordered by [`Key`] `(deadline, order)`, where `order` grows with every
//! scheduling, so equal deadlines leave in scheduling order. Each slot
//! knows its heap position (`Slot::heap_pos`), so cancelling or
//! rescheduling removes or moves it in O(log n). Neither
//! [`heapless::BinaryHeap`] nor `std`'s heap can remove an arbitrary
//! element without a linear scan, which is why this heap is written here.
//! The keys are kept beside the slot numbers so that sifting compares
//! within one array instead of reading scattered slots; a node's four
//! children's keys are adjacent.
//!
//! The key is the only place a task's deadline is kept. A due task that
//! waits for room in its full queue leaves the heap but keeps its key: the
//! arrays hold the heap in positions `0..len` and the keys of waiting
//! tasks ("parked") after it, in no order. A slot's `heap_pos` is its
//! position in the arrays either way: below `len` in the heap, at or above
//! `len` parked. The heap and the parked keys together never hold more
//! entries than there are scheduled tasks, so the arrays need no room
//! beyond one entry per task.
//!
//! The sifting loops ([`Sifter`]) run over [`View`]s of the arrays cut to
//! the heap's length: slices in fixed storage, whose length stays in a
//! register and is shared by the entries and the keys, so most bounds
//! checks fold away; the segment table in growing storage.

use super::slots::Slot;
use super::storage::{Array, Index, Storage, View};
use crate::clock::Ticks;

/// `(deadline, order)` of a heap entry.
pub(crate) type Key = (Ticks, u64);

/// Children per heap node: half the levels of a binary heap.
const ARITY: usize = 4;

/// Heap order: `a` leaves before `b`. One 128-bit comparison instead of a
/// branch per tuple field.
#[inline]
pub(crate) fn before(a: Key, b: Key) -> bool {
    (u128::from(a.0) << 64 | u128::from(a.1)) < (u128::from(b.0) << 64 | u128::from(b.1))
}

/// The heap: slot numbers and their keys, position for position; the
/// parked keys follow the heap's `len` entries.
#[derive(Debug)]
pub(crate) struct Heap<St: Storage> {
    pub(crate) entries: St::Array<St::Index>,
    pub(crate) keys: St::Array<Key>,
    /// Entries in the heap; the rest are parked.
    pub(crate) len: usize,
}

/// The heap with the slots it links, borrowed together for one operation.
pub(crate) struct HeapView<'a, S, P, St: Storage> {
    heap: &'a mut Heap<St>,
    slots: &'a mut St::Array<Slot<S, P, St::Index>>,
}

impl<St: Storage> Heap<St> {
    pub(crate) const EMPTY: Self = Self {
        entries: <St::Array<St::Index> as Array<_>>::EMPTY,
        keys: <St::Array<Key> as Array<_>>::EMPTY,
        len: 0,
    };

    /// The slot and key at the top.
    #[inline]
    pub(crate) fn first(&self) -> Option<(St::Index, Key)> {
        if self.len == 0 {
            return None;
        }
        Some((*self.entries.get(0)?, *self.keys.get(0)?))
    }

    /// The key at the top (one array read fewer than [`Self::first`]).
    #[inline]
    pub(crate) fn first_key(&self) -> Option<Key> {
        if self.len == 0 {
            return None;
        }
        self.keys.get(0).copied()
    }

    /// The slot at the top, when [`Self::first_key`] found one (the heap's
    /// length is not checked again: one array read and its bound).
    #[inline]
    pub(crate) fn first_slot(&self) -> Option<St::Index> {
        self.entries.get(0).copied()
    }

    /// `true` when array position `pos` is in the heap (not parked, not
    /// `NIL`).
    #[inline]
    pub(crate) fn in_heap(&self, pos: St::Index) -> bool {
        pos.to_usize() < self.len
    }

    /// The key at array position `pos` (in the heap or parked).
    #[inline]
    pub(crate) fn key(&self, pos: St::Index) -> Option<Key> {
        self.keys.get(pos.to_usize()).copied()
    }

    /// Every entry, the heap's then the parked ones: slot and key, in no
    /// order.
    pub(crate) fn all(&self) -> impl Iterator<Item = (St::Index, Key)> + '_ {
        (0..self.entries.len())
            .map_while(|pos| Some((*self.entries.get(pos)?, *self.keys.get(pos)?)))
    }

    /// Every entry, parked ones included, in key order, lazily: a walk of
    /// the heap that keeps the frontier of positions not yet yielded (and
    /// the parked keys) in a binary heap of its own: the first k entries
    /// take O(w log w + k log k) for w parked keys, and O(w + k) memory.
    #[cfg(feature = "alloc")]
    pub(crate) fn ordered(&self) -> impl Iterator<Item = (St::Index, Key)> + '_ {
        use alloc::collections::BinaryHeap;
        use core::cmp::Reverse;
        let mut frontier: BinaryHeap<Reverse<(Key, usize)>> = BinaryHeap::new();
        for pos in self.len..self.entries.len() {
            if let Some(&key) = self.keys.get(pos) {
                frontier.push(Reverse((key, pos)));
            }
        }
        if let Some(&key) = self.keys.get(0).filter(|_| self.len > 0) {
            frontier.push(Reverse((key, 0)));
        }
        core::iter::from_fn(move || {
            let Reverse((key, pos)) = frontier.pop()?;
            if pos < self.len {
                let first = ARITY * pos + 1;
                for child in first..(first + ARITY).min(self.len) {
                    if let Some(&k) = self.keys.get(child) {
                        frontier.push(Reverse((k, child)));
                    }
                }
            }
            Some((*self.entries.get(pos)?, key))
        })
    }

    /// `true` when the heap can hold `total` entries without a failing
    /// push.
    pub(crate) fn reserve(&mut self, total: usize) -> bool {
        self.entries.reserve(total) && self.keys.reserve(total)
    }

    /// This heap with `slots`, for one operation.
    #[inline]
    pub(crate) fn with<'a, S, P>(
        &'a mut self,
        slots: &'a mut St::Array<Slot<S, P, St::Index>>,
    ) -> HeapView<'a, S, P, St> {
        HeapView { heap: self, slots }
    }
}

impl<S, P, St: Storage> HeapView<'_, S, P, St> {
    /// The heap's arrays (its first `len` entries) and the slots, as views
    /// for one sifting pass (`None` only if the arrays were shorter than
    /// the heap, which never happens).
    #[inline]
    fn sifter(&mut self) -> Option<HeapSifter<'_, S, P, St>> {
        let len = self.heap.len;
        Some(Sifter {
            entries: self.heap.entries.view().prefix(len)?,
            keys: self.heap.keys.view().prefix(len)?,
            slots: self.slots.view(),
        })
    }

    /// Adds slot `index` under `key`. Call [`Heap::reserve`] first:
    /// without room nothing is added.
    #[inline(always)]
    pub(crate) fn push(&mut self, index: St::Index, key: Key) {
        let pos = self.heap.len;
        if pos < self.heap.entries.len() {
            // The first parked entry makes way: it moves to the end.
            let (Some(&e), Some(&k)) = (self.heap.entries.get(pos), self.heap.keys.get(pos)) else {
                return;
            };
            if !self.append(e, k) {
                return;
            }
        } else if !self.append_entry(index, key) {
            // (`sift_up` below gives the slot its position.)
            return;
        }
        self.heap.len += 1;
        if let Some(mut sifter) = self.sifter() {
            sifter.sift_up(pos, index, key);
        }
    }

    /// Appends `index` under `key` at the end of the arrays; `false`
    /// without room.
    #[inline(always)]
    fn append(&mut self, index: St::Index, key: Key) -> bool {
        let pos = self.heap.entries.len();
        if !self.append_entry(index, key) {
            return false;
        }
        if let Some(s) = self.slots.get_mut(index.to_usize()) {
            s.heap_pos = St::Index::from_usize_below_nil(pos);
        }
        true
    }

    /// [`Self::append`] without telling slot `index` its position.
    #[inline(always)]
    fn append_entry(&mut self, index: St::Index, key: Key) -> bool {
        if self.heap.entries.push(index).is_err() {
            return false;
        }
        if self.heap.keys.push(key).is_err() {
            self.heap.entries.pop();
            return false;
        }
        true
    }

    /// Puts slot `index`, whose key is `key`, at array position `pos`
    /// (outside the sifting loops: the parked entries).
    #[inline]
    fn set(&mut self, pos: usize, index: St::Index, key: Key) {
        if let (Some(h), Some(k)) = (self.heap.entries.get_mut(pos), self.heap.keys.get_mut(pos)) {
            (*h, *k) = (index, key);
        }
        if let Some(s) = self.slots.get_mut(index.to_usize()) {
            s.heap_pos = St::Index::from_usize_below_nil(pos);
        }
    }

    /// Drops array position `pos` (not in the heap): the last entry of the
    /// arrays fills it.
    #[inline]
    fn drop_at(&mut self, pos: usize) {
        let (Some(last), Some(last_key)) = (self.heap.entries.pop(), self.heap.keys.pop()) else {
            return;
        };
        if pos < self.heap.entries.len() {
            self.set(pos, last, last_key);
        }
    }

    /// Keeps the key of slot `index`, out of the heap, among the parked
    /// ones. Call [`Heap::reserve`] first (the heap keeps room for every
    /// scheduled task).
    pub(crate) fn park(&mut self, index: St::Index, key: Key) {
        self.append(index, key);
    }

    /// Takes the parked slot `index`'s key out; `None` if it is not parked.
    pub(crate) fn unpark(&mut self, index: St::Index) -> Option<Key> {
        let slot = self.slots.get_mut(index.to_usize())?;
        let pos = slot.heap_pos.to_usize();
        if pos < self.heap.len {
            return None;
        }
        let key = *self.heap.keys.get(pos)?;
        slot.heap_pos = St::Index::NIL;
        self.drop_at(pos);
        Some(key)
    }

    /// Takes slot `index` out of the heap.
    ///
    /// Floyd's method: the hole left at its position sinks to a leaf along
    /// the smallest children (three comparisons per level, among adjacent
    /// cached keys), the last entry fills it and rises to its place,
    /// usually not far.
    pub(crate) fn remove(&mut self, index: St::Index) -> Option<Key> {
        let slot = self.slots.get_mut(index.to_usize())?;
        let pos = slot.heap_pos.to_usize();
        if pos >= self.heap.len {
            return None;
        }
        slot.heap_pos = St::Index::NIL;
        let key = *self.heap.keys.get(pos)?;
        let end = self.heap.len - 1;
        self.heap.len = end;
        let (Some(tail), Some(tail_key)) = (self.heap.entries.pop(), self.heap.keys.pop()) else {
            return None;
        };
        // The heap's last entry fills the hole; when entries are parked,
        // the array's last one (parked) takes the heap's last position.
        let (last, last_key) = if end < self.heap.entries.len() {
            let (Some(&e), Some(&k)) = (self.heap.entries.get(end), self.heap.keys.get(end)) else {
                return None;
            };
            self.set(end, tail, tail_key);
            (e, k)
        } else {
            (tail, tail_key)
        };
        if let Some(mut sifter) = self.sifter().filter(|_| pos < end) {
            let hole = sifter.sink_hole(pos);
            sifter.sift_up(hole, last, last_key);
        }
        Some(key)
    }

    /// Gives slot `index`, in the heap, a new key and moves it to its place.
    pub(crate) fn rekey(&mut self, index: St::Index, key: Key) {
        let Some(pos) = self
            .slots
            .get(index.to_usize())
            .map(|s| s.heap_pos.to_usize())
            .filter(|&p| p < self.heap.len)
        else {
            return;
        };
        let Some(&old) = self.heap.keys.get(pos) else {
            return;
        };
        let Some(mut sifter) = self.sifter() else {
            return;
        };
        if before(key, old) {
            sifter.sift_up(pos, index, key);
        } else {
            sifter.sift_down(pos, index, key);
        }
    }
}

/// The views a [`Sifter`] works on, per storage.
type EntryView<'a, St> =
    <<St as Storage>::Array<<St as Storage>::Index> as Array<<St as Storage>::Index>>::View<'a>;
type KeyView<'a, St> = <<St as Storage>::Array<Key> as Array<Key>>::View<'a>;
type SlotView<'a, S, P, St> =
    <<St as Storage>::Array<Slot<S, P, <St as Storage>::Index>> as Array<
        Slot<S, P, <St as Storage>::Index>,
    >>::View<'a>;

/// The [`Sifter`] of a storage's heap.
type HeapSifter<'a, S, P, St> = Sifter<EntryView<'a, St>, KeyView<'a, St>, SlotView<'a, S, P, St>>;

/// What the sifting loops need of a slot: its heap position.
trait Positioned {
    type Index: Index;
    fn set_heap_pos(&mut self, pos: Self::Index);
}

impl<S, P, I: Index> Positioned for Slot<S, P, I> {
    type Index = I;
    #[inline]
    fn set_heap_pos(&mut self, pos: I) {
        self.heap_pos = pos;
    }
}

/// The heap's entries and keys (its first `len` positions only) and the
/// slots, as views, for the sifting loops: written once over every
/// storage, with the lengths held in the views (in registers, for slices)
/// rather than read again from the arrays after every write.
struct Sifter<E, K, L> {
    entries: E,
    keys: K,
    slots: L,
}

impl<E, K, L> Sifter<E, K, L> {
    /// Puts slot `index`, whose key is `key`, at heap position `pos`.
    #[inline(always)]
    fn set<T: Positioned>(&mut self, pos: usize, index: T::Index, key: Key)
    where
        E: View<T::Index>,
        K: View<Key>,
        L: View<T>,
    {
        if let (Some(h), Some(k)) = (self.entries.at_mut(pos), self.keys.at_mut(pos)) {
            (*h, *k) = (index, key);
        }
        self.slots.update(index.to_usize(), |s| {
            s.set_heap_pos(T::Index::from_usize_below_nil(pos));
        });
    }

    /// The smallest child of `pos` and its key, `None` for a leaf.
    #[inline]
    fn min_child(&self, pos: usize) -> Option<(usize, Key)>
    where
        K: View<Key>,
    {
        let first = ARITY * pos + 1;
        if let Some([k0, k1, k2, k3]) = self.keys.four(first) {
            // All four children: a tournament, two pairs then their winners.
            let (a, ka) = if before(k1, k0) { (1, k1) } else { (0, k0) };
            let (b, kb) = if before(k3, k2) { (3, k3) } else { (2, k2) };
            let (c, kc) = if before(kb, ka) { (b, kb) } else { (a, ka) };
            return Some((first + c, kc));
        }
        // Fewer than four: the last inner node of the heap.
        let (mut best, mut best_key) = (first, *self.keys.at(first)?);
        for i in first + 1..first + ARITY {
            let Some(&k) = self.keys.at(i) else {
                break;
            };
            if before(k, best_key) {
                (best, best_key) = (i, k);
            }
        }
        Some((best, best_key))
    }

    /// Moves the smallest child up into the hole at `pos`, level by level,
    /// down to a leaf; returns the leaf position, now the hole.
    fn sink_hole<T: Positioned>(&mut self, mut pos: usize) -> usize
    where
        E: View<T::Index>,
        K: View<Key>,
        L: View<T>,
    {
        while let Some((child, child_key)) = self.min_child(pos) {
            let Some(&c) = self.entries.at(child) else {
                break;
            };
            // Never true (a child comes after its parent): it tells the
            // optimiser that `pos`, below `child`, is in the views, so the
            // writes at `pos` need no bounds check (slices only).
            if E::ORDERED_BOUNDS && K::ORDERED_BOUNDS && pos >= child {
                break;
            }
            self.set(pos, c, child_key);
            pos = child;
        }
        pos
    }

    /// Puts slot `index` under `key` into the hole at `pos`, after moving
    /// down the ancestors it goes before.
    #[inline(always)]
    fn sift_up<T: Positioned>(&mut self, mut pos: usize, index: T::Index, key: Key)
    where
        E: View<T::Index>,
        K: View<Key>,
        L: View<T>,
    {
        while pos > 0 {
            let parent = (pos - 1) / ARITY;
            let (Some(&up), Some(&up_key)) = (self.entries.at(parent), self.keys.at(parent)) else {
                break;
            };
            if !before(key, up_key) {
                break;
            }
            self.set(pos, up, up_key);
            pos = parent;
        }
        self.set(pos, index, key);
    }

    /// Puts slot `index` under `key` into the hole at `pos`, after moving
    /// up the descendants that go before it.
    fn sift_down<T: Positioned>(&mut self, mut pos: usize, index: T::Index, key: Key)
    where
        E: View<T::Index>,
        K: View<Key>,
        L: View<T>,
    {
        while let Some((child, child_key)) = self.min_child(pos) {
            if !before(child_key, key) {
                break;
            }
            let Some(&c) = self.entries.at(child) else {
                break;
            };
            self.set(pos, c, child_key);
            pos = child;
        }
        self.set(pos, index, key);
    }
}

/// The parent position of `pos` (tests).
#[cfg(test)]
pub(crate) const fn parent(pos: usize) -> usize {
    (pos - 1) / ARITY
}
