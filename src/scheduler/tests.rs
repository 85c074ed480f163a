//! Unit tests of the core's internals: every index checked against the
//! slots after every operation, over both storages.

use std::vec;
use std::vec::Vec as StdVec;

use proptest::prelude::*;

use super::storage::{Array, Index};
use super::*;
use crate::clock::ManualClock;
use crate::queue::HeaplessQueue;

type T = Task<u8, u32>;
type Sched<'a> = Scheduler<&'a ManualClock, HeaplessQueue<T, 4>, u8, u32, 16, 4>;

impl<C, Q, S, P, St: Storage, const QN: usize> SchedulerInner<C, Q, S, P, St, QN>
where
    C: Clock,
    Q: TaskQueue<Task<S, P>>,
    S: Subject + core::fmt::Debug,
{
    /// Walks the line `list`, checking the back links, the tail and the
    /// length; returns the slots in line order.
    fn walk(&self, list: &queue_lists::List<St::Index>) -> StdVec<usize> {
        let mut seen = StdVec::new();
        let mut prev = St::Index::NIL;
        let mut at = list.head;
        while at != St::Index::NIL {
            assert!(seen.len() < self.slots.array.len(), "cycle in a line");
            let slot = self.slots.get(at).unwrap();
            assert_eq!(slot.line_prev, prev, "broken back link at slot {at:?}");
            seen.push(at.to_usize());
            prev = at;
            at = slot.line_next;
        }
        assert_eq!(list.tail, prev, "wrong tail");
        assert_eq!(list.len, seen.len(), "wrong length");
        seen
    }

    /// The number of tasks in the subject chains.
    fn chained(&self) -> usize {
        (0..self.subjects.buckets.len())
            .map(|b| {
                let head = *self.subjects.buckets.get(b).unwrap();
                let mut n = 0;
                let mut at = head;
                while at != St::Index::NIL {
                    n += 1;
                    at = self.slots.get(at).unwrap().subject_next;
                    if at == head {
                        break;
                    }
                }
                n
            })
            .sum()
    }

    /// Panics unless every internal index agrees with the slots.
    pub(crate) fn check_invariants(&self) {
        let nslots = self.slots.array.len();
        assert!(nslots <= St::MAX_SLOTS);
        let bits = St::Index::BITS;

        // Slots: occupied ones hold a task whose handle names the slot.
        let mut used = 0;
        let mut retired = 0;
        let mut vacant = 0;
        for i in 0..nslots {
            let slot = self.slots.array.get(i).unwrap();
            match slot.task() {
                Some(task) => {
                    used += 1;
                    let id = slots::task_id(St::Index::from_usize(i).unwrap(), slot.generation());
                    assert_eq!(
                        id.get() & ((1 << bits) - 1),
                        i as u64,
                        "handle names another slot"
                    );
                    assert!(id.get() >> bits >= 1, "generation 0");
                    assert_eq!(self.slots.find(id).map(Index::to_usize), Some(i));
                    assert!(
                        self.queues.id_at(usize::from(task.queue_index())).is_some(),
                        "task of a removed queue"
                    );
                    assert!(self.slots.attempt(St::Index::from_usize(i).unwrap()) >= 1);
                }
                None => {
                    assert_eq!(slot.heap_pos, St::Index::NIL, "vacant slot in the heap");
                    assert_eq!(slot.line_prev, St::Index::NIL);
                    assert_eq!(slot.subject_prev, St::Index::NIL);
                    assert_eq!(slot.subject_next, St::Index::NIL);
                    if slot.generation() >= slots::generation_max(bits) {
                        retired += 1;
                    } else {
                        vacant += 1;
                    }
                }
            }
        }
        assert_eq!(used, self.slots.used(), "used count");
        assert_eq!(retired, self.slots.retired(), "retired count");

        // Free list: exactly the vacant slots that are not retired.
        let mut free = 0;
        let mut at = self.slots.free_head();
        while at != St::Index::NIL {
            let slot = self.slots.get(at).unwrap();
            assert!(slot.task().is_none(), "occupied slot on the free list");
            let next_free = slot.line_next;
            assert!(
                slot.generation() < slots::generation_max(bits),
                "retired slot on the free list"
            );
            free += 1;
            assert!(free <= nslots, "cycle in the free list");
            at = next_free;
        }
        assert_eq!(free, vacant, "free list misses slots");

        // Heap and parked keys: back-pointers and order; orders are
        // unique; one entry per scheduled task.
        let mut orders = StdVec::new();
        assert_eq!(
            self.heap.keys.len(),
            self.heap.entries.len(),
            "one key per heap entry"
        );
        assert!(self.heap.len <= self.heap.entries.len());
        assert_eq!(
            self.heap.entries.len(),
            used,
            "an entry (heap or parked) per task"
        );
        for pos in 0..self.heap.entries.len() {
            let i = *self.heap.entries.get(pos).unwrap();
            let slot = self.slots.get(i).unwrap();
            slot.task().expect("vacant slot in the heap");
            assert_eq!(slot.heap_pos.to_usize(), pos, "heap_pos back-pointer");
            let (deadline, order) = *self.heap.keys.get(pos).unwrap();
            assert!(order <= self.order);
            orders.push(order);
            if pos > 0 && pos < self.heap.len {
                assert!(
                    *self.heap.keys.get(heap::parent(pos)).unwrap() < (deadline, order),
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

        // Queues: each occupied slot is in exactly one line of its queue:
        // Pending when in the heap, Waiting when not.
        let mut listed = vec![0u8; nslots];
        let mut in_heap = 0;
        let mut queues = 0;
        let mut waiting = 0;
        for qi in 0..QN {
            let Some(qid) = self.queues.id_at(qi) else {
                continue;
            };
            let e = self.queues.entry(qid).unwrap();
            queues += 1;
            assert_eq!(self.queues.names.get(&e.name), Some(&qid.index), "name map");
            for (list, pending) in [(&e.lines.pending, true), (&e.lines.waiting, false)] {
                for i in self.walk(list) {
                    let slot = self.slots.array.get(i).unwrap();
                    let task = slot.task().expect("vacant slot in a line");
                    assert_eq!(
                        task.queue_index(),
                        qid.index,
                        "task listed under another queue"
                    );
                    assert_ne!(slot.heap_pos, St::Index::NIL);
                    assert_eq!(
                        self.heap.in_heap(slot.heap_pos),
                        pending,
                        "Pending means in the heap, Waiting parked"
                    );
                    listed[i] += 1;
                    in_heap += usize::from(pending);
                }
            }
            if e.lines.waiting.len > 0 {
                assert!(e.queue.is_full(), "tasks wait although the queue has room");
            }
            waiting += e.lines.waiting.len;
            assert!(e.done <= e.taken);
        }
        assert_eq!(queues, self.queues.names.len(), "name map size");
        assert_eq!(waiting, self.waiting, "waiting count");
        assert_eq!(in_heap, self.heap.len, "heap size vs Pending lines");
        for (i, &n) in listed.iter().enumerate() {
            let occupied = self.slots.array.get(i).unwrap().task().is_some();
            assert_eq!(n, u8::from(occupied), "slot {i} in lines");
        }

        // Subjects: each bucket's chain holds exactly the tasks whose
        // subject hashes to it, with consistent back links.
        let mut listed = vec![0u8; nslots];
        for b in 0..self.subjects.buckets.len() {
            let head = *self.subjects.buckets.get(b).unwrap();
            if head == St::Index::NIL {
                continue;
            }
            let mut prev = self.slots.get(head).unwrap().subject_prev;
            let mut at = head;
            loop {
                let task = self
                    .slots
                    .get(at)
                    .unwrap()
                    .task()
                    .expect("vacant slot in a chain");
                assert_eq!(
                    self.subjects.bucket(&task.subject),
                    b,
                    "task in another bucket"
                );
                let links = self.slots.get(at).unwrap();
                assert_eq!(links.subject_prev, prev, "broken back link at slot {at:?}");
                listed[at.to_usize()] += 1;
                assert!(listed[at.to_usize()] == 1, "a subject chain loops early");
                prev = at;
                at = links.subject_next;
                if at == head {
                    break;
                }
            }
        }
        for (i, &n) in listed.iter().enumerate() {
            let occupied = self.slots.array.get(i).unwrap().task().is_some();
            assert_eq!(n, u8::from(occupied), "slot {i} in subject chains");
        }
        if St::GROWS {
            assert!(
                self.subjects.buckets.len() + 1 >= self.len().min(self.subjects.buckets.len() + 1)
            );
        }
    }
}

fn chained(s: &Sched<'_>) -> usize {
    s.chained()
}

#[test]
fn slot_sizes() {
    use core::mem::size_of;
    let narrow = size_of::<slots::Slot<u32, u32, u16>>();
    let wide = size_of::<slots::Slot<u64, usize, u16>>();
    std::println!("size_of Slot<u32, u32>   = {narrow}");
    std::println!("size_of Slot<u64, usize> = {wide}");
    // Vacancy costs no tag: `None` is a niche of the queue reference.
    assert_eq!(
        size_of::<Option<slots::Parts<u32, u32>>>(),
        size_of::<slots::Parts<u32, u32>>()
    );
    // With 4-byte user data the slot stays 4-byte aligned: parts 16
    // (queue 2, attempt 4, subject 4, payload 4, padding 2), generation 6,
    // five links 10; with periodic tasks the slot carries a 16-byte period
    // state in fixed storage (growing storage keeps it in a table of
    // periodic tasks only).
    assert_eq!(core::mem::align_of::<slots::Slot<u32, u32, u16>>(), 4);
    let period = if cfg!(feature = "periodic") { 16 } else { 0 };
    #[cfg(feature = "periodic")]
    assert_eq!(size_of::<super::periodic::PeriodState>(), period);
    assert!(narrow <= 32 + period, "slot grew: {narrow} bytes");
    assert!(wide <= 40 + period, "slot grew: {wide} bytes");
}

/// A stale id never matches: the slot's generation grows with each reuse,
/// and a slot at its last generation is retired instead of reused.
fn stale_ids_never_match<St: Storage>(
    mut s: SchedulerInner<&ManualClock, HeaplessQueue<T, 4>, u8, u32, St, 4>,
) {
    let q = s.add_queue("q", 0).unwrap();
    let first = s.schedule(Task::new(q, 1, 0), When::At(5)).unwrap();
    s.cancel(first).unwrap();
    // Slot 0 is vacant: move it to its last-but-one generation.
    let max = slots::generation_max(St::Index::BITS);
    s.slots
        .set_generation(St::Index::from_usize(0).unwrap(), max - 1);
    let last = s.schedule(Task::new(q, 1, 1), When::At(5)).unwrap();
    assert_eq!(
        last.get() & ((1 << St::Index::BITS) - 1),
        0,
        "slot 0 reused"
    );
    assert_eq!(last.get() >> St::Index::BITS, max, "its last generation");
    s.check_invariants();
    assert_eq!(s.cancel(first), Err(NotScheduled));
    s.cancel(last).unwrap();
    // Retired: never on the free list again.
    assert_eq!(s.retired_slots(), 1);
    s.check_invariants();
    let next = s.schedule(Task::new(q, 1, 2), When::At(5)).unwrap();
    assert_ne!(
        next.get() & ((1 << St::Index::BITS) - 1),
        0,
        "a retired slot is not reused"
    );
    assert_eq!(s.cancel(last), Err(NotScheduled));
    assert_eq!(s.cancel(first), Err(NotScheduled));
    assert!(!s.is_scheduled(last));
    s.check_invariants();
    // When::Now ids name no slot.
    let now = s.schedule(Task::new(q, 1, 3), When::Now).unwrap();
    assert_eq!(
        now.get() & ((1 << St::Index::BITS) - 1),
        St::Index::NIL.to_usize() as u64
    );
    assert_eq!(s.cancel(now), Err(NotScheduled));
    s.check_invariants();
}

#[test]
fn stale_ids_never_match_fixed() {
    let clock = ManualClock::new(0);
    stale_ids_never_match(Scheduler::<_, _, _, _, 16, 4>::new(&clock));
}

#[cfg(feature = "alloc")]
#[test]
fn stale_ids_never_match_alloc() {
    let clock = ManualClock::new(0);
    stale_ids_never_match(AllocScheduler::<_, _, _, _, 4>::new(&clock));
}

/// After a queue index's last generation, the stale handle of the removed
/// queue names nothing, and the index is not used again.
#[test]
fn queue_generation_end_retires_the_queue_index() {
    let clock = ManualClock::new(0);
    let mut s: Sched = Scheduler::new(&clock);
    let a = s.add_queue("tenant-a", 0).unwrap();
    assert_eq!(a.index, 0);
    s.remove_queue(a, |_| {}).unwrap();
    // The generation before the last one.
    let low = core::num::NonZeroU32::new(u32::MAX - 1).unwrap();
    s.queues.set_generation(0, u16::MAX, low);
    let last = s.add_queue("tenant-a", 0).unwrap();
    assert_eq!((last.index, last.generation_high), (0, u16::MAX));
    s.schedule(Task::new(last, 1, 0), When::At(9)).unwrap();
    s.remove_queue(last, |_| {}).unwrap();
    let b = s.add_queue("tenant-b", 0).unwrap();
    assert_ne!(b.index, 0, "the spent queue index is retired");
    for stale in [a, last] {
        assert!(matches!(
            s.schedule(Task::new(stale, 1, 0), When::Now),
            Err(ScheduleError::UnknownQueue(_))
        ));
        assert_eq!(s.get_task(stale), Err(GetTaskError::UnknownQueue));
        assert_eq!(s.remove_queue(stale, |_| {}), Err(UnknownQueue));
    }
    s.check_invariants();
}

/// Subjects that share subject 42's bucket under unkeyed FNV: with the
/// growing storage's keyed hash, cancelling 42 walks about its own chain,
/// not all of them.
#[cfg(feature = "alloc")]
#[test]
fn colliding_subjects_do_not_make_cancel_by_subject_scan() {
    type Q = crate::queue::VecDequeQueue<Task<u32, u32>>;
    use super::storage::SubjectHashing;
    // Fewer under Miri.
    const SLOTS: usize = if cfg!(miri) { 64 } else { 4096 };
    let colliding: StdVec<u32> = {
        let fnv = SeededFnv::new(0);
        let bucket = |x: &u32| fnv.hash(x) & (SLOTS as u64 - 1);
        let target = bucket(&42);
        (0u32..)
            .filter(|x| *x != 42 && bucket(x) == target)
            .take(SLOTS - 1)
            .collect()
    };
    let clock = ManualClock::new(0);
    // Fixed storage, unkeyed FNV, one bucket per slot: the walk meets them
    // all.
    let mut fixed: Scheduler<&ManualClock, Q, u32, u32, SLOTS, 2> = Scheduler::new(&clock);
    // Growing storage, keyed hash.
    let mut grown: AllocScheduler<&ManualClock, Q, u32, u32, 2> = AllocScheduler::new(&clock);
    let qf = fixed.add_queue("q", 0).unwrap();
    let qg = grown.add_queue("q", 0).unwrap();
    for &x in &colliding {
        fixed.schedule(Task::new(qf, x, 0), When::At(100)).unwrap();
        grown.schedule(Task::new(qg, x, 0), When::At(100)).unwrap();
    }
    fixed.schedule(Task::new(qf, 42, 0), When::At(100)).unwrap();
    grown.schedule(Task::new(qg, 42, 0), When::At(100)).unwrap();
    grown.check_invariants();
    assert_eq!(fixed.cancel_by_subject(&42, |_| {}), 1);
    assert_eq!(grown.cancel_by_subject(&42, |_| {}), 1);
    let (f, g) = (fixed.subjects.steps, grown.subjects.steps);
    std::println!("cancel_by_subject(42) chain steps: fixed FNV {f}, keyed {g}");
    assert_eq!(f, SLOTS, "unkeyed: the whole bucket");
    assert!(g <= 16, "keyed: {g} steps");
    grown.check_invariants();
}

/// The growing storage passes segment boundaries, splits buckets, and
/// gives segments back.
#[cfg(feature = "alloc")]
#[test]
fn growing_storage_grows_and_shrinks() {
    use crate::error::ReserveError;
    type Q = crate::queue::VecDequeQueue<Task<u32, u32>>;
    let clock = ManualClock::new(0);
    let mut s: AllocScheduler<&ManualClock, Q, u32, u32, 2> = AllocScheduler::new(&clock);
    assert_eq!(s.allocated_bytes(), 0, "nothing allocated up front");
    let q = s.add_queue("q", 0).unwrap();
    let n = if cfg!(miri) {
        300
    } else {
        3 * storage::SEGMENT + 17
    };
    let ids: StdVec<TaskId> = (0..n)
        .map(|i| {
            let i = u32::try_from(i).unwrap();
            s.schedule(
                Task::new(q, i % 97, i),
                When::At(u64::from(i * 7919 % 1000)),
            )
            .unwrap()
        })
        .collect();
    s.check_invariants();
    assert!(s.capacity() >= n);
    assert!(s.subjects.buckets.len() >= n, "buckets split as tasks came");
    assert_eq!(
        s.cancel_by_subject(&5, |t| assert_eq!(t.subject, 5)),
        n / 97 + usize::from(n % 97 > 5)
    );
    s.check_invariants();
    let before = s.allocated_bytes();
    // Leave only the first ten tasks.
    for &id in &ids[10..] {
        let _ = s.cancel(id);
    }
    s.shrink_to_fit();
    s.check_invariants();
    assert!(s.allocated_bytes() < before, "segments given back");
    for &id in &ids[10..] {
        assert!(!s.is_scheduled(id));
    }
    // New slots at released numbers do not answer to old ids.
    let again: StdVec<TaskId> = (0..n)
        .map(|i| {
            s.schedule(Task::new(q, 1, 0), When::At(u64::try_from(i).unwrap()))
                .unwrap()
        })
        .collect();
    s.check_invariants();
    for &id in &ids[10..] {
        assert_eq!(s.cancel(id), Err(NotScheduled));
    }
    assert_eq!(again.len(), n);
    s.set_max_capacity(Some(s.len()));
    assert!(matches!(
        s.schedule(Task::new(q, 1, 0), When::At(1)),
        Err(ScheduleError::Capacity(_))
    ));
    assert_eq!(s.reserve(1), Err(ReserveError::MaxCapacity));
    clock.set(u64::MAX);
    s.run_pending();
    s.check_invariants();
    assert!(s.is_empty());
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
    assert_eq!(s.slots.free_head(), 0);
    let a = s.schedule(Task::new(q, 1, 7), When::At(5)).unwrap();
    let b = s.schedule(Task::new(q, 1, 8), When::At(5)).unwrap();
    s.check_invariants();
    assert_eq!((slot_of(a), slot_of(b)), (0, 1));
    assert_eq!(s.slots.array.len(), 3, "no new slot while free ones exist");
    // The reused slots do not answer to the old handles.
    assert!(!s.is_scheduled(ids[0]) && !s.is_scheduled(ids[1]));
    assert!(s.is_scheduled(ids[2]));
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
    assert!((0..16).all(|b| s.subjects.buckets.get(b) == Some(&u16::NIL)));
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
        .find(|&x| s.subjects.bucket(&x) == s.subjects.bucket(&first))
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
fn waiting_line_keeps_its_head_when_the_queue_stays_full() {
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
    let e = s.queues.entry(q).unwrap();
    assert_eq!(e.lines.waiting.len, 4);
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
    let mut s: Scheduler<&ManualClock, DrainedElsewhere, u8, u32, 8, 2> = Scheduler::new(&clock);
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

/// Applies `ops` to `s`, checking every invariant after each.
fn apply_checked<St: Storage>(
    clock: &ManualClock,
    mut s: SchedulerInner<&ManualClock, HeaplessQueue<T, 4>, u8, u32, St, 4>,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let mut queues: StdVec<Option<QueueId>> = (0..4)
        .map(|i| s.add_queue(NAMES[i], 1 + i % 3).ok())
        .collect();
    // Also keep handles of removed queues, to use them stale.
    let mut stale_queue = None;
    let mut ids: StdVec<TaskId> = StdVec::new();
    let mut handed_back = 0usize;
    for op in ops.iter().cloned() {
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
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Every internal index stays consistent whatever the operations, over
    /// both storages (the growing one bounded to the same 16 slots).
    #[test]
    fn invariants_hold_after_every_operation(ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 120 })) {
        let clock = ManualClock::new(0);
        apply_checked(&clock, Sched::new(&clock), &ops)?;
        #[cfg(feature = "alloc")]
        {
            let clock = ManualClock::new(0);
            let mut s = AllocScheduler::new(&clock);
            s.set_max_capacity(Some(16));
            apply_checked(&clock, s, &ops)?;
        }
    }
}
