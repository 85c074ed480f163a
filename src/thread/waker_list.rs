//! [`WakerList`]: the futures waiting at one queue index
//! ([`get_task_async`](crate::SchedulerHandle::get_task_async)), kept under
//! the scheduler's lock beside the condition variables of blocked threads.
//!
//! # Ground rules
//!
//! - The list lives in the shared state, so a future checks its queue and
//!   registers its waker under one hold of the lock: a task that enters the
//!   queue after the check finds the waker registered, and no wake-up is
//!   lost.
//! - Every entry is *waiting* (its waker is kept, in FIFO order of
//!   registration) or *notified* (its waker was taken to be woken after the
//!   lock is released, and it has not been polled since). Only the future
//!   that registered an entry removes it ([`remove`](WakerList::remove)), or
//!   [`drain`](WakerList::drain) empties the whole list when its queue is
//!   removed or the scheduler halts; a [`Key`] names its entry with an id,
//!   so a key left over from before a drain never removes a newer entry.
//! - A notified entry counts as a wake-up in flight:
//!   [`notify`](WakerList::notify) wakes only as many more as are missing.
//!   A notified future that is dropped before it is polled again hands its
//!   wake-up on (the caller plans the queue's wake-ups again), so dropping a
//!   future never strands a task.
//!
//! Every operation is O(1) but [`drain`](WakerList::drain) (O(entries)).
//!
//! Hand-written rather than taken from a crate: `event-listener` or
//! `futures`' `AtomicWaker` keep their own lock or cell outside the
//! scheduler's, so the queue check and the registration would no longer be
//! one step, and a list of notified listeners shared by two queues that use
//! the same queue index one after the other could count the removed queue's
//! wake-up as the new queue's. This is a slab (the `slab` crate's vacant /
//! occupied entries) with a FIFO of waiting entries linked through it.

use core::task::Waker;
use std::vec::Vec;

use crate::task::QueueId;

/// No entry (the end of a link).
const NIL: usize = usize::MAX;

/// An entry of a [`WakerList`], held by the future that registered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Key {
    index: usize,
    /// Unique per registration (a 64-bit count: it does not wrap in the
    /// life of a process), so a stale key matches no entry.
    id: u64,
}

enum Entry {
    Vacant {
        next_free: usize,
    },
    Occupied {
        id: u64,
        /// `Some` while waiting; `None` once notified.
        waker: Option<Waker>,
        /// The FIFO of waiting entries (`NIL` at the ends; unused once
        /// notified).
        prev: usize,
        next: usize,
    },
}

/// The futures waiting at one queue index, and the queue they wait for.
pub(super) struct WakerList {
    /// The queue the entries wait for; `None` while the list is empty.
    queue: Option<QueueId>,
    entries: Vec<Entry>,
    free: usize,
    head: usize,
    tail: usize,
    waiting: usize,
    notified: usize,
    next_id: u64,
}

impl WakerList {
    pub(super) const fn new() -> Self {
        Self {
            queue: None,
            entries: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            waiting: 0,
            notified: 0,
            next_id: 0,
        }
    }

    /// The futures registered for `q` (waiting or notified).
    pub(super) fn len(&self, q: QueueId) -> usize {
        if self.queue == Some(q) {
            self.waiting + self.notified
        } else {
            0
        }
    }

    /// Registers a future waiting for `q`, at the end of the FIFO. The list
    /// holds futures of one queue at a time: the caller drains it when its
    /// queue is removed, before a queue at the same queue index registers.
    pub(super) fn register(&mut self, q: QueueId, waker: Waker) -> Key {
        debug_assert!(self.queue.is_none_or(|old| old == q) || self.is_empty());
        self.queue = Some(q);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let entry = Entry::Occupied {
            id,
            waker: Some(waker),
            prev: self.tail,
            next: NIL,
        };
        let index = if self.free == NIL {
            self.entries.push(entry);
            self.entries.len() - 1
        } else {
            let index = self.free;
            if let Some(Entry::Vacant { next_free }) = self.entries.get(index) {
                self.free = *next_free;
            }
            if let Some(vacant) = self.entries.get_mut(index) {
                *vacant = entry;
            }
            index
        };
        self.set_next(self.tail, index);
        self.tail = index;
        if self.head == NIL {
            self.head = index;
        }
        self.waiting += 1;
        Key { index, id }
    }

    /// Re-arms the entry `key` with `waker`: a notified entry waits again
    /// (its wake-up was consumed by the poll that called this), a waiting
    /// one keeps its place and gets `waker` if it differs. Returns `false`
    /// when `key` names no entry (drained): the caller registers anew.
    pub(super) fn rearm(&mut self, key: Key, waker: &Waker) -> bool {
        let tail = self.tail;
        let Some(Entry::Occupied {
            id,
            waker: stored,
            prev,
            next,
        }) = self.entries.get_mut(key.index)
        else {
            return false;
        };
        if *id != key.id {
            return false;
        }
        match stored {
            Some(old) => {
                if !old.will_wake(waker) {
                    old.clone_from(waker);
                }
            }
            None => {
                *stored = Some(waker.clone());
                *prev = tail;
                *next = NIL;
                self.notified -= 1;
                self.waiting += 1;
                self.set_next(tail, key.index);
                self.tail = key.index;
                if self.head == NIL {
                    self.head = key.index;
                }
            }
        }
        true
    }

    /// Removes the entry `key`. Returns `Some(true)` when it was notified
    /// (a wake-up in flight that the caller must hand on), `Some(false)`
    /// when it was waiting, `None` when `key` names no entry (drained).
    pub(super) fn remove(&mut self, key: Key) -> Option<bool> {
        let Some(Entry::Occupied {
            id,
            waker,
            prev,
            next,
        }) = self.entries.get(key.index)
        else {
            return None;
        };
        if *id != key.id {
            return None;
        }
        let notified = waker.is_none();
        let (prev, next) = (*prev, *next);
        if notified {
            self.notified -= 1;
        } else {
            self.unlink(prev, next);
            self.waiting -= 1;
        }
        if let Some(entry) = self.entries.get_mut(key.index) {
            *entry = Entry::Vacant {
                next_free: self.free,
            };
        }
        self.free = key.index;
        if self.is_empty() {
            self.queue = None;
        }
        Some(notified)
    }

    /// Makes sure that `want` futures of `q` are notified, counting those
    /// notified already: takes the wakers of the oldest waiting entries
    /// into `out`. Returns how many it took.
    pub(super) fn notify(&mut self, q: QueueId, want: usize, out: &mut Vec<Waker>) -> usize {
        if self.queue != Some(q) {
            return 0;
        }
        let mut taken = 0;
        while self.notified < want && self.head != NIL {
            let index = self.head;
            let Some(Entry::Occupied { waker, next, .. }) = self.entries.get_mut(index) else {
                break;
            };
            let next = *next;
            if let Some(w) = waker.take() {
                out.push(w);
            }
            self.head = next;
            self.set_prev(next, NIL);
            if self.head == NIL {
                self.tail = NIL;
            }
            self.waiting -= 1;
            self.notified += 1;
            taken += 1;
        }
        taken
    }

    /// Empties the list, taking every waiting waker into `out`: its queue
    /// was removed, or the scheduler halted. The futures find their keys
    /// gone and answer their error when polled.
    pub(super) fn drain(&mut self, out: &mut Vec<Waker>) {
        for entry in self.entries.drain(..) {
            if let Entry::Occupied { waker: Some(w), .. } = entry {
                out.push(w);
            }
        }
        self.queue = None;
        self.free = NIL;
        self.head = NIL;
        self.tail = NIL;
        self.waiting = 0;
        self.notified = 0;
    }

    fn is_empty(&self) -> bool {
        self.waiting == 0 && self.notified == 0
    }

    fn set_next(&mut self, index: usize, to: usize) {
        if let Some(Entry::Occupied { next, .. }) = self.entries.get_mut(index) {
            *next = to;
        }
    }

    fn set_prev(&mut self, index: usize, to: usize) {
        if let Some(Entry::Occupied { prev, .. }) = self.entries.get_mut(index) {
            *prev = to;
        }
    }

    fn unlink(&mut self, prev: usize, next: usize) {
        if prev == NIL {
            self.head = next;
        } else {
            self.set_next(prev, next);
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.set_prev(next, prev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thread::wakeup::queue_index;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&c), Waker::from(c))
    }

    /// Two queues that use queue index 0 one after the other.
    fn queues() -> (QueueId, QueueId) {
        let s: crate::thread::SchedulerThread<u32, u32> = crate::thread::SchedulerThread::new(
            crate::thread::MonotonicClock::new(),
            &[("q", 0)],
            crate::thread::Options::new(),
        )
        .unwrap();
        let old = s.queue_id("q").unwrap();
        s.remove_queue(old).unwrap();
        let new = s.add_queue("q", 0).unwrap();
        assert!(old != new && queue_index(old) == queue_index(new));
        (old, new)
    }

    #[test]
    fn notifies_in_fifo_order_counting_those_in_flight() {
        let (q, _) = queues();
        let mut list = WakerList::new();
        let (counts, keys): (Vec<_>, Vec<_>) = (0..4)
            .map(|_| {
                let (c, w) = waker();
                (c, list.register(q, w))
            })
            .unzip();
        let mut out = Vec::new();
        assert_eq!(list.notify(q, 2, &mut out), 2);
        assert_eq!(list.notify(q, 2, &mut out), 0, "two already in flight");
        out.drain(..).for_each(Waker::wake);
        let woken: Vec<_> = counts.iter().map(|c| c.0.load(Ordering::SeqCst)).collect();
        assert_eq!(woken, [1, 1, 0, 0]);
        // A notified future dropped unpolled: its wake-up is to be handed on.
        assert_eq!(list.remove(keys[0]), Some(true));
        assert_eq!(list.notify(q, 2, &mut out), 1);
        out.drain(..).for_each(Waker::wake);
        assert_eq!(counts[2].0.load(Ordering::SeqCst), 1);
        // A waiting one removed from the middle: the FIFO stays linked.
        assert_eq!(list.remove(keys[3]), Some(false));
        assert_eq!(list.len(q), 2);
        // Re-armed after its poll found nothing: waits again, at the end.
        let (c1, w1) = waker();
        assert!(list.rearm(keys[1], &w1));
        assert_eq!(list.notify(q, 2, &mut out), 1);
        out.drain(..).for_each(Waker::wake);
        assert_eq!(c1.0.load(Ordering::SeqCst), 1);
        assert_eq!(list.remove(keys[1]), Some(true));
        assert_eq!(list.remove(keys[2]), Some(true));
        assert_eq!(list.remove(keys[2]), None, "removed twice");
        assert_eq!(list.len(q), 0);
    }

    #[test]
    fn a_stale_key_after_a_drain_names_no_newer_entry() {
        let (old, new) = queues();
        let mut list = WakerList::new();
        let (_, w) = waker();
        let stale = list.register(old, w.clone());
        let mut out = Vec::new();
        list.drain(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(list.len(old), 0);
        let fresh = list.register(new, w.clone());
        assert_eq!(fresh.index, stale.index, "the entry is reused");
        assert_eq!(list.remove(stale), None);
        assert!(!list.rearm(stale, &w));
        assert_eq!(list.notify(old, 1, &mut out), 0, "not the list's queue");
        assert_eq!(list.len(new), 1);
        assert_eq!(list.remove(fresh), Some(false));
    }
}
