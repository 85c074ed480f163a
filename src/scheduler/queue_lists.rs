//! Per-queue lines: intrusive doubly linked lists through the slots.
//!
//! Every scheduled task is in exactly one line of its queue:
//! [`Line::Pending`] while it is in the heap, [`Line::Waiting`] once it is
//! due and waits, in order, for room in its full queue. The links are the
//! slots' `line_prev`/`line_next`.

use super::slots::Slot;
use super::storage::{Array, Index};

/// Which line of a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// Scheduled, in the heap.
    Pending,
    /// Due, waiting for room in the full queue.
    Waiting,
}

/// The two ends and the length of a line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List<I> {
    pub(crate) head: I,
    pub(crate) tail: I,
    pub(crate) len: usize,
}

impl<I: Index> List<I> {
    pub(crate) const EMPTY: Self = Self {
        head: I::NIL,
        tail: I::NIL,
        len: 0,
    };

    /// Appends slot `index`.
    pub(crate) fn push_back<S, P, A: Array<Slot<S, P, I>>>(&mut self, slots: &mut A, index: I) {
        let tail = self.tail;
        if let Some(s) = slots.get_mut(index.to_usize()) {
            (s.line_prev, s.line_next) = (tail, I::NIL);
        }
        match slots.get_mut(tail.to_usize()) {
            Some(t) => t.line_next = index,
            None => self.head = index,
        }
        self.tail = index;
        self.len += 1;
    }

    /// Puts slot `index` first.
    pub(crate) fn push_front<S, P, A: Array<Slot<S, P, I>>>(&mut self, slots: &mut A, index: I) {
        let head = self.head;
        if let Some(s) = slots.get_mut(index.to_usize()) {
            (s.line_prev, s.line_next) = (I::NIL, head);
        }
        match slots.get_mut(head.to_usize()) {
            Some(h) => h.line_prev = index,
            None => self.tail = index,
        }
        self.head = index;
        self.len += 1;
    }

    /// Takes slot `index` out.
    pub(crate) fn unlink<S, P, A: Array<Slot<S, P, I>>>(&mut self, slots: &mut A, index: I) {
        let Some((prev, next)) = slots
            .get(index.to_usize())
            .map(|s| (s.line_prev, s.line_next))
        else {
            return;
        };
        match slots.get_mut(prev.to_usize()) {
            Some(p) => p.line_next = next,
            None => self.head = next,
        }
        match slots.get_mut(next.to_usize()) {
            Some(n) => n.line_prev = prev,
            None => self.tail = prev,
        }
        if let Some(s) = slots.get_mut(index.to_usize()) {
            (s.line_prev, s.line_next) = (I::NIL, I::NIL);
        }
        self.len = self.len.saturating_sub(1);
    }
}

/// The two lines of one queue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lines<I> {
    pub(crate) pending: List<I>,
    pub(crate) waiting: List<I>,
}

impl<I: Index> Lines<I> {
    pub(crate) const EMPTY: Self = Self {
        pending: List::EMPTY,
        waiting: List::EMPTY,
    };

    #[inline]
    pub(crate) fn get_mut(&mut self, line: Line) -> &mut List<I> {
        match line {
            Line::Pending => &mut self.pending,
            Line::Waiting => &mut self.waiting,
        }
    }
}
