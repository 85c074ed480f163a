//! Adversarial tests of the growing storage (`AllocScheduler`): limits,
//! `capacity()` and allocations per call around segment boundaries,
//! `reserve` and `shrink_to_fit`, and long random mixes checked against a
//! model on both storages. `TARDY_MIX_STEPS` sets the mixes' length
//! (20 000 steps each by default).
#![cfg(feature = "alloc")]

use tardy::{AllocScheduler, ManualClock, ScheduleError, Task, VecDequeQueue, When};

type T = Task<u32, u64>;
type Grow<'a> = AllocScheduler<&'a ManualClock, VecDequeQueue<T>, u32, u64, 4>;

/// A maximum set below the slots the scheduler already has must bound the
/// tasks it holds at once: the vacant slots left by an earlier burst must
/// not let it hold more than the maximum.
#[test]
fn max_capacity_bounds_tasks_held_when_vacant_slots_remain() {
    let clock = ManualClock::new(0);
    let mut s: Grow<'_> = AllocScheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    for i in 0..100 {
        s.schedule(Task::new(q, i, 0), When::At(10)).unwrap();
    }
    clock.set(10);
    assert_eq!(s.run_pending(), 100);
    while s.get_task(q).is_ok() {}
    assert!(s.is_empty());
    s.set_max_capacity(Some(10));
    let mut accepted = 0;
    for i in 0..50 {
        match s.schedule(Task::new(q, i, 0), When::At(20)) {
            Ok(_) => accepted += 1,
            Err(ScheduleError::Capacity(t)) => assert_eq!(*t.subject(), i),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(
        s.len() <= 10 && accepted <= 10,
        "max_capacity 10 but holds {} tasks (capacity() says {})",
        s.len(),
        s.capacity()
    );
}

// ---------------------------------------------------------------------------
// Shared pieces.

#[path = "support/rng.rs"]
mod rng;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use rng::Rng;
use tardy::{
    Clock, GetTaskError, MissedTickBehavior, NotScheduled, QueueId, Scheduler, SchedulerInner,
    Storage, TaskId,
};

const SEG: usize = 4096;

/// A subject whose `Hash` writes many bytes and collides on purpose:
/// subjects with the same residue modulo 97 hash alike (equality is by
/// the whole value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Subj(u32);

impl Hash for Subj {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let class = self.0 % 97;
        state.write_u32(class);
        let mut bytes = [0u8; 131];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (class as u8).wrapping_mul(31).wrapping_add(i as u8);
        }
        state.write(&bytes);
        state.write_usize(bytes.len());
    }
}

type ST = Task<Subj, u64>;
type GInner<'a, St> = SchedulerInner<&'a ManualClock, VecDequeQueue<ST>, Subj, u64, St, 4>;
type GAlloc<'a> = AllocScheduler<&'a ManualClock, VecDequeQueue<ST>, Subj, u64, 4>;
type GFixed<'a, const N: usize> = Scheduler<&'a ManualClock, VecDequeQueue<ST>, Subj, u64, N, 4>;

/// What only the growing storage has; the fixed one does nothing.
trait Extra {
    /// The most tasks it may hold.
    fn limit(&self) -> usize;
    fn is_growing(&self) -> bool;
    fn shrink(&mut self) {}
    fn reserve_more(&mut self, _n: usize) -> Option<Result<(), tardy::ReserveError>> {
        None
    }
    fn set_max(&mut self, _max: Option<usize>) {}
    fn cap(&self) -> usize;
}

impl Extra for GAlloc<'_> {
    fn limit(&self) -> usize {
        self.max_capacity().unwrap_or(usize::MAX)
    }
    fn is_growing(&self) -> bool {
        true
    }
    fn shrink(&mut self) {
        self.shrink_to_fit();
    }
    fn reserve_more(&mut self, n: usize) -> Option<Result<(), tardy::ReserveError>> {
        Some(self.reserve(n))
    }
    fn set_max(&mut self, max: Option<usize>) {
        self.set_max_capacity(max);
    }
    fn cap(&self) -> usize {
        self.capacity()
    }
}

impl<const N: usize> Extra for GFixed<'_, N> {
    fn limit(&self) -> usize {
        N
    }
    fn is_growing(&self) -> bool {
        false
    }
    fn cap(&self) -> usize {
        self.capacity()
    }
}

/// Every id handed out, for the scheduler's life.
#[derive(Default)]
struct Ids(HashSet<u64>);

impl Ids {
    fn fresh(&mut self, id: TaskId, what: &str) {
        assert!(
            self.0.insert(id.get()),
            "{what}: id {:#x} handed out twice",
            id.get()
        );
    }
}

// ---------------------------------------------------------------------------
// Growing and shrinking around the segment boundaries.

/// Schedules `n` tasks (deadlines with many ties), delivers them all and
/// checks the order; returns the allocated bytes at the peak.
fn fill_and_drain(
    s: &mut GAlloc<'_>,
    clock: &ManualClock,
    q: QueueId,
    n: usize,
    ids: &mut Ids,
    rng: &mut Rng,
) -> usize {
    let base = clock.now();
    let mut want = BTreeMap::new();
    let mut prev_bytes = s.allocated_bytes();
    for i in 0..n {
        let d = base + 1 + rng.below(64);
        let id = s
            .schedule(
                Task::new(q, Subj(rng.below(5000) as u32), i as u64),
                When::At(d),
            )
            .unwrap_or_else(|e| panic!("schedule {i} of {n}: {e:?}"));
        ids.fresh(id, "schedule");
        want.insert((d, i), id);
        assert!(
            s.capacity() >= s.len(),
            "capacity {} below len {}",
            s.capacity(),
            s.len()
        );
        assert_eq!(
            s.capacity() % SEG,
            0,
            "capacity {} not whole segments",
            s.capacity()
        );
        let b = s.allocated_bytes();
        assert!(
            b >= prev_bytes,
            "allocated bytes went down while growing: {prev_bytes} -> {b}"
        );
        prev_bytes = b;
    }
    assert_eq!(s.len(), n);
    let peak = s.allocated_bytes();
    // Not yet due: nothing moves.
    clock.set(base);
    assert_eq!(s.run_pending(), 0);
    // Deliver in two steps: half the deadlines, then the rest.
    clock.set(base + 32);
    let first = s.run_pending();
    for t in 0..first {
        let task = s.get_task(q).unwrap();
        let (&(d, i), &id) = want.iter().next().unwrap();
        assert!(d <= base + 32, "early: {d}");
        assert_eq!(
            (task.deadline(), *task.payload(), task.id()),
            (d, i as u64, Some(id)),
            "delivery {t}"
        );
        want.remove(&(d, i));
    }
    assert_eq!(s.get_task(q).err(), Some(GetTaskError::Empty));
    clock.set(base + 64);
    let rest = s.run_pending();
    assert_eq!(first + rest, n);
    for _ in 0..rest {
        let task = s.get_task(q).unwrap();
        let ((d, i), id) = want.pop_first().unwrap();
        assert_eq!(
            (task.deadline(), *task.payload(), task.id()),
            (d, i as u64, Some(id))
        );
    }
    assert!(want.is_empty() && s.is_empty());
    assert_eq!(s.allocated_bytes(), peak, "delivering allocated or freed");
    peak
}

#[test]
fn grow_and_shrink_around_segment_boundaries() {
    let clock = ManualClock::new(0);
    let mut s: GAlloc<'_> = AllocScheduler::with_subject_seed(&clock, 7);
    let q = s.add_queue("q", 0).unwrap();
    let mut ids = Ids::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let sizes: Vec<usize> = [1usize, 2, 3]
        .iter()
        .flat_map(|k| [k * SEG - 1, k * SEG, k * SEG + 1])
        .chain([SEG / 4 + 6, SEG / 4 + 7, 32, 33, 1])
        .collect();
    let mut seen: Vec<Vec<(usize, usize)>> = Vec::new();
    for cycle in 0..3 {
        let mut this = Vec::new();
        for &n in &sizes {
            let peak = fill_and_drain(&mut s, &clock, q, n, &mut ids, &mut rng);
            s.shrink_to_fit();
            assert_eq!(
                s.capacity(),
                0,
                "cycle {cycle}, n {n}: capacity after shrinking an empty scheduler"
            );
            this.push((peak, s.allocated_bytes()));
        }
        seen.push(this);
        if cycle >= 2 {
            // The bucket table has reached its peak: cycles allocate the same.
            assert_eq!(
                seen[cycle],
                seen[cycle - 1],
                "cycle {cycle} allocated differently"
            );
        }
    }
}

#[test]
fn reserve_shrink_then_schedule() {
    let clock = ManualClock::new(0);
    let mut s: GAlloc<'_> = AllocScheduler::with_subject_seed(&clock, 11);
    let q = s.add_queue("q", 0).unwrap();
    let mut ids = Ids::default();
    let mut rng = Rng(42);
    for round in 0..3 {
        s.reserve(3 * SEG + 5).unwrap();
        assert!(s.capacity() >= 3 * SEG + 5);
        let reserved = s.allocated_bytes();
        // Reserved room is used without allocating.
        let mut held = Vec::new();
        for i in 0..3 * SEG + 5 {
            let id = s
                .schedule(Task::new(q, Subj(i as u32), 0), When::At(1_000_000))
                .unwrap();
            ids.fresh(id, "reserved");
            held.push(id);
        }
        assert_eq!(
            s.allocated_bytes(),
            reserved,
            "round {round}: reserved room allocated more"
        );
        // Cancel the back half: trailing slots free, a shrink gives them back.
        for id in held.drain(SEG + 3..).rev() {
            assert!(s.cancel(id).is_ok());
        }
        s.shrink_to_fit();
        assert!(
            s.capacity() >= s.len() && s.capacity() <= 2 * SEG,
            "capacity {}",
            s.capacity()
        );
        for &id in &held {
            assert!(s.is_scheduled(id));
        }
        // Grow again past where the released slots were.
        for _ in 0..2 * SEG {
            let id = s
                .schedule(
                    Task::new(q, Subj(rng.below(100) as u32), 1),
                    When::At(1_000_000),
                )
                .unwrap();
            ids.fresh(id, "after shrink");
            held.push(id);
        }
        assert_eq!(s.len(), held.len());
        let mut back = 0;
        for id in held.drain(..) {
            let t = s.cancel(id).unwrap();
            assert_eq!(t.id(), Some(id));
            back += 1;
        }
        assert_eq!(back, 3 * SEG + 3);
        s.shrink_to_fit();
        assert_eq!(s.capacity(), 0);
        // Reserve then shrink right away: everything freed but the buckets.
        s.reserve(2 * SEG).unwrap();
        s.shrink_to_fit();
        assert_eq!(s.capacity(), 0);
    }
}

#[test]
fn max_capacity_mid_growth_hands_tasks_back() {
    let clock = ManualClock::new(0);
    let mut s: GAlloc<'_> = AllocScheduler::with_subject_seed(&clock, 3);
    let q = s.add_queue("q", 0).unwrap();
    let mut ids = Ids::default();
    for i in 0..5000u64 {
        ids.fresh(
            s.schedule(Task::new(q, Subj(i as u32), i), When::At(i))
                .unwrap(),
            "a",
        );
    }
    for max in [6000usize, SEG * 2, SEG * 2 + 1, 3 * SEG - 1] {
        s.set_max_capacity(Some(max));
        assert_eq!(s.capacity(), s.capacity().min(max));
        assert!(s.capacity() <= max);
        let mut i = s.len() as u64;
        loop {
            match s.schedule(Task::new(q, Subj(i as u32), i), When::At(i)) {
                Ok(id) => ids.fresh(id, "b"),
                Err(ScheduleError::Capacity(t)) => {
                    assert_eq!(
                        (*t.subject(), *t.payload(), t.id(), t.attempt()),
                        (Subj(i as u32), i, None, 0)
                    );
                    break;
                }
                Err(e) => panic!("{e:?}"),
            }
            i += 1;
        }
        assert_eq!(s.len(), max);
        assert_eq!(s.capacity(), max);
        assert_eq!(s.reserve(1), Err(tardy::ReserveError::MaxCapacity));
        assert_eq!(s.reserve(0), Ok(()));
    }
    s.set_max_capacity(None);
    assert_eq!(s.max_capacity(), None);
    s.reserve(100).unwrap();
    assert!(s.capacity() >= 3 * SEG + 99);
    clock.set(u64::MAX);
    assert_eq!(s.run_pending(), 3 * SEG - 1);
    let mut last = 0;
    for k in 0..3 * SEG - 1 {
        let t = s.get_task(q).unwrap();
        assert_eq!(*t.payload(), k as u64);
        assert!(t.deadline() >= last);
        last = t.deadline();
    }
}

// ---------------------------------------------------------------------------
// A long random mix against a model, on both storages.

type Key = (u64, u64);

#[derive(Clone, Debug)]
struct MTask {
    h: usize,
    q: usize,
    subject: Subj,
    payload: u64,
    /// period, behaviour, next index
    periodic: Option<(u64, MissedTickBehavior, u64)>,
    key: Key,
    waiting: bool,
    /// Link order in the subject chain (scheduling order).
    linked: u64,
}

/// What a queue should hand out: (handle for one-shots, subject, payload,
/// deadline, attempt, period (index, missed)).
type Out = (Option<usize>, Subj, u64, u64, u32, Option<(u64, u64)>);

struct MQueue {
    max: usize,
    items: VecDeque<Out>,
    waiting: VecDeque<usize>,
}

#[derive(Default)]
struct Model {
    heap: BTreeMap<Key, usize>,
    tasks: HashMap<usize, MTask>,
    queues: Vec<Option<MQueue>>,
    order: u64,
    link: u64,
}

fn plan(b: MissedTickBehavior, period: u64, deadline: u64, now: u64) -> (u64, u64) {
    let late = now.saturating_sub(deadline) / period;
    match b {
        MissedTickBehavior::Burst => (0, deadline.saturating_add(period)),
        MissedTickBehavior::Skip => (
            late,
            deadline.saturating_add((late + 1).saturating_mul(period)),
        ),
        MissedTickBehavior::Delay => (late, now.max(deadline).saturating_add(period)),
    }
}

impl Model {
    fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Tries to put task `h` (out of the heap, out of any line) into its
    /// queue; true when it entered.
    fn try_enter(&mut self, h: usize, now: u64) -> bool {
        let t = self.tasks.get(&h).unwrap().clone();
        let mq = self.queues[t.q].as_mut().unwrap();
        if mq.items.len() >= mq.max {
            return false;
        }
        match t.periodic {
            None => {
                mq.items
                    .push_back((Some(h), t.subject, t.payload, t.key.0, 1, None));
                self.tasks.remove(&h);
            }
            Some((period, b, next)) => {
                let (missed, nd) = plan(b, period, t.key.0, now);
                mq.items
                    .push_back((None, t.subject, t.payload, t.key.0, 1, Some((next, missed))));
                self.order += 1;
                let key = (nd, self.order);
                let mt = self.tasks.get_mut(&h).unwrap();
                mt.periodic = Some((period, b, next + missed + 1));
                mt.key = key;
                mt.waiting = false;
                self.heap.insert(key, h);
            }
        }
        true
    }

    fn refill(&mut self, q: usize, now: u64) -> usize {
        let mut moved = 0;
        while let Some(&h) = self.queues[q].as_ref().and_then(|m| m.waiting.front()) {
            if !self.try_enter(h, now) {
                break;
            }
            self.queues[q].as_mut().unwrap().waiting.pop_front();
            moved += 1;
        }
        moved
    }

    fn run(&mut self, now: u64) -> usize {
        let start = self.order;
        let mut moved = 0;
        for q in 0..self.queues.len() {
            if self.queues[q].is_some() {
                moved += self.refill(q, now);
            }
        }
        while let Some((&key, &h)) = self.heap.first_key_value() {
            if key.0 > now || key.1 > start {
                break;
            }
            self.heap.remove(&key);
            let q = self.tasks[&h].q;
            moved += self.refill(q, now);
            let waits = !self.queues[q].as_ref().unwrap().waiting.is_empty();
            if !waits && self.try_enter(h, now) {
                moved += 1;
            } else {
                self.tasks.get_mut(&h).unwrap().waiting = true;
                self.queues[q].as_mut().unwrap().waiting.push_back(h);
            }
        }
        moved
    }

    /// Takes task `h` out; its handed-back form.
    fn remove(&mut self, h: usize) -> Option<MTask> {
        let t = self.tasks.remove(&h)?;
        if t.waiting {
            let w = &mut self.queues[t.q].as_mut().unwrap().waiting;
            let at = w.iter().position(|&x| x == h).unwrap();
            w.remove(at);
        } else {
            self.heap.remove(&t.key).unwrap();
        }
        Some(t)
    }
}

/// One random run of `steps` operations against the model.
fn mix<St: Storage>(
    s: &mut GInner<'_, St>,
    clock: &ManualClock,
    seed: u64,
    steps: usize,
    with_max: bool,
    log: &mut Vec<Out>,
) where
    for<'a> GInner<'a, St>: Extra,
{
    let mut rng = Rng(seed);
    let mut m = Model::default();
    let mut qids: Vec<Option<QueueId>> = Vec::new();
    let mut ids: Vec<TaskId> = Vec::new();
    let mut seen = Ids::default();
    let mut peak = 0usize;
    // Queue 0 unbounded, 1 bounded at 40, 2 bounded at 3.
    for (i, max) in [0usize, 40, 3].into_iter().enumerate() {
        qids.push(Some(s.add_queue(&format!("q{i}"), max).unwrap()));
        m.queues.push(Some(MQueue {
            max: if max == 0 { usize::MAX } else { max },
            items: VecDeque::new(),
            waiting: VecDeque::new(),
        }));
    }
    let targets = [
        SEG + 1,
        SEG - 1,
        2 * SEG + 1,
        3 * SEG + 2,
        2 * SEG - 1,
        100,
        SEG / 4 + 40,
        0,
    ];
    let mut target = targets[0];
    let check_out = |got: &ST, want: &Out, ids: &Vec<TaskId>, what: &str| {
        let period = got.period().map(|p| (p.index, p.missed));
        let got_t = (
            *got.subject(),
            *got.payload(),
            got.deadline(),
            got.attempt(),
            period,
        );
        let want_t = (want.1, want.2, want.3, want.4, want.5);
        assert_eq!(got_t, want_t, "{what}");
        if let Some(h) = want.0 {
            assert_eq!(got.id(), Some(ids[h]), "{what}: id");
        }
    };
    let mut stats = [0usize; 4];
    for step in 0..steps {
        if step % 12000 == 0 {
            if step > 0 {
                stats[3] += usize::from(m.len() + 50 >= target && m.len() <= target + 50);
            }
            target = targets[(step / 12000) % targets.len()];
        }
        let now = clock.now();
        let grow = m.len() < target;
        let r = if grow && rng.below(100) < 80 {
            rng.below(45)
        } else if !grow && rng.below(100) < 10 {
            rng.below(8)
        } else {
            45 + rng.below(55)
        };
        if std::env::var("BREAKER_TRACE").is_ok() && step % 1000 == 0 {
            eprintln!(
                "step {step} target {target} len {} now {now} queued {:?}",
                m.len(),
                m.queues
                    .iter()
                    .map(|q| q.as_ref().map(|q| q.items.len()))
                    .collect::<Vec<_>>()
            );
        }
        let what = format!("step {step} (seed {seed:#x}, len {}, r {r})", m.len());
        match r {
            // schedule a one-shot or a periodic task
            0..=44 if grow || r < 8 => {
                let qi = if rng.below(10) < 7 {
                    0
                } else {
                    1 + rng.below(2) as usize
                };
                let subject = Subj(rng.below(3000) as u32);
                let payload = rng.next();
                let periodic = rng.below(40) == 0;
                let d = if rng.below(2) == 0 {
                    now.saturating_sub(3) + rng.below(60)
                } else {
                    now + 7 * rng.below(400)
                };
                let Some(qid) = qids[qi] else { continue };
                let task = Task::new(qid, subject, payload);
                let res = if periodic {
                    let period = 1 + rng.below(20);
                    let b = [
                        MissedTickBehavior::Burst,
                        MissedTickBehavior::Skip,
                        MissedTickBehavior::Delay,
                    ][rng.below(3) as usize];
                    s.schedule_periodic(task, When::At(d), period, b)
                        .map(|id| (id, Some((period, b, 0))))
                } else {
                    s.schedule(task, When::At(d)).map(|id| (id, None))
                };
                let full = m.len() >= s.limit();
                match res {
                    Ok((id, per)) => {
                        assert!(!full, "{what}: scheduled past the limit {}", s.limit());
                        seen.fresh(id, &what);
                        let h = ids.len();
                        ids.push(id);
                        m.order += 1;
                        m.link += 1;
                        let key = (d, m.order);
                        m.heap.insert(key, h);
                        m.tasks.insert(
                            h,
                            MTask {
                                h,
                                q: qi,
                                subject,
                                payload,
                                periodic: per,
                                key,
                                waiting: false,
                                linked: m.link,
                            },
                        );
                    }
                    Err(ScheduleError::Capacity(t)) => {
                        stats[0] += 1;
                        assert!(
                            full,
                            "{what}: Capacity at len {} (limit {})",
                            m.len(),
                            s.limit()
                        );
                        assert_eq!(
                            (*t.subject(), *t.payload(), t.id(), t.attempt()),
                            (subject, payload, None, 0)
                        );
                    }
                    Err(e) => panic!("{what}: {e:?}"),
                }
            }
            // schedule Now
            45..=47 => {
                let qi = rng.below(3) as usize;
                let Some(qid) = qids[qi] else { continue };
                let subject = Subj(rng.below(3000) as u32);
                let payload = rng.next();
                m.refill(qi, now);
                let mq = m.queues[qi].as_mut().unwrap();
                let room = mq.waiting.is_empty() && mq.items.len() < mq.max;
                match s.schedule(Task::new(qid, subject, payload), When::Now) {
                    Ok(id) => {
                        assert!(room, "{what}: Now into a full queue");
                        seen.fresh(id, &what);
                        mq.items
                            .push_back((Some(ids.len()), subject, payload, now, 1, None));
                        ids.push(id);
                    }
                    Err(ScheduleError::QueueFull(t)) => {
                        assert!(!room, "{what}: QueueFull with room");
                        assert_eq!(
                            (*t.subject(), *t.payload(), t.id()),
                            (subject, payload, None)
                        );
                    }
                    Err(e) => panic!("{what}: {e:?}"),
                }
            }
            // cancel any handle (stale ones too)
            0..=59 => {
                if ids.is_empty() {
                    continue;
                }
                let h = rng.below(ids.len() as u64) as usize;
                let h = if rng.below(2) == 0 {
                    ids.len() - 1 - h / 8
                } else {
                    h
                };
                match (s.cancel(ids[h]), m.remove(h)) {
                    (Ok(t), Some(mt)) => {
                        assert_eq!(t.id(), Some(ids[h]), "{what}");
                        assert_eq!(
                            (
                                *t.subject(),
                                *t.payload(),
                                t.deadline(),
                                t.attempt(),
                                t.period()
                            ),
                            (mt.subject, mt.payload, mt.key.0, 1, None),
                            "{what}"
                        );
                    }
                    (Err(NotScheduled), None) => {}
                    (a, b) => panic!(
                        "{what}: cancel {h}: {:?} vs model {:?}",
                        a.map(|t| t.id()),
                        b.map(|t| t.h)
                    ),
                }
            }
            // cancel by subject
            60..=63 => {
                let subject = Subj(rng.below(3000) as u32);
                let mut want: Vec<MTask> = m
                    .tasks
                    .values()
                    .filter(|t| t.subject == subject)
                    .cloned()
                    .collect();
                want.sort_by_key(|t| t.linked);
                let mut got = Vec::new();
                let n = s.cancel_by_subject(&subject, |t| got.push(t));
                assert_eq!(n, got.len());
                assert_eq!(n, want.len(), "{what}: cancel_by_subject count");
                for (t, w) in got.iter().zip(&want) {
                    assert_eq!(t.id(), Some(ids[w.h]), "{what}: cancel_by_subject order");
                    assert_eq!(
                        (*t.subject(), *t.payload(), t.deadline()),
                        (w.subject, w.payload, w.key.0)
                    );
                    m.remove(w.h);
                }
            }
            // reschedule
            64..=69 => {
                if ids.is_empty() {
                    continue;
                }
                let h = ids.len() - 1 - (rng.below(ids.len() as u64) as usize) / 4;
                let d = now.saturating_sub(2) + rng.below(50);
                let res = s.reschedule(ids[h], When::At(d));
                match m.tasks.get(&h).cloned() {
                    None => assert_eq!(res, Err(NotScheduled), "{what}"),
                    Some(t) => {
                        assert_eq!(res, Ok(d), "{what}");
                        m.remove(h);
                        m.order += 1;
                        let key = (d, m.order);
                        m.heap.insert(key, h);
                        m.tasks.insert(
                            h,
                            MTask {
                                key,
                                waiting: false,
                                ..t
                            },
                        );
                    }
                }
            }
            // time passes
            70..=79 => {
                clock.set(now + if grow { rng.below(2) } else { rng.below(150) });
                let now = clock.now();
                let got = s.run_pending();
                let want = m.run(now);
                assert_eq!(got, want, "{what}: run_pending at {now}");
            }
            // take tasks
            80..=93 => {
                let qi = rng.below(3) as usize;
                let Some(qid) = qids[qi] else { continue };
                for _ in 0..1 + rng.below(20) {
                    m.refill(qi, now);
                    let want = m.queues[qi].as_mut().unwrap().items.pop_front();
                    match (s.get_task(qid), want) {
                        (Ok(t), Some(w)) => {
                            check_out(&t, &w, &ids, &what);
                            if let Some(id) = t.id().filter(|_| w.5.is_some()) {
                                seen.fresh(id, &what);
                            }
                            log.push(w);
                        }
                        (Err(GetTaskError::Empty), None) => break,
                        (a, b) => {
                            panic!("{what}: get_task {:?} vs model {:?}", a.map(|t| t.id()), b)
                        }
                    }
                    m.refill(qi, now);
                }
            }
            // remove a queue and add it back
            94 => {
                if grow && rng.below(30) != 0 {
                    continue;
                }
                let qi = rng.below(3) as usize;
                let Some(qid) = qids[qi] else { continue };
                let mut want: Vec<(u64, Subj)> = m
                    .tasks
                    .values()
                    .filter(|t| t.q == qi)
                    .map(|t| (t.payload, t.subject))
                    .collect();
                for h in m
                    .tasks
                    .values()
                    .filter(|t| t.q == qi)
                    .map(|t| t.h)
                    .collect::<Vec<_>>()
                {
                    m.remove(h);
                }
                let mq = m.queues[qi].take().unwrap();
                want.extend(mq.items.iter().map(|o| (o.2, o.1)));
                let mut got = Vec::new();
                assert_eq!(
                    s.remove_queue(qid, |t| got.push((*t.payload(), *t.subject()))),
                    Ok(want.len()),
                    "{what}"
                );
                want.sort_by_key(|w| w.0);
                got.sort_by_key(|w| w.0);
                assert_eq!(got, want, "{what}: remove_queue");
                let max = [0usize, 40, 3][qi];
                qids[qi] = Some(s.add_queue(&format!("q{qi}"), max).unwrap());
                m.queues[qi] = Some(MQueue {
                    max: if max == 0 { usize::MAX } else { max },
                    items: VecDeque::new(),
                    waiting: VecDeque::new(),
                });
            }
            // growing storage only: shrink, reserve, the maximum
            95..=96 => {
                s.shrink();
                if s.is_growing() {
                    assert!(
                        s.cap() >= s.len(),
                        "{what}: capacity below len after shrink"
                    );
                }
            }
            97 => {
                let n = rng.below(2 * SEG as u64) as usize;
                if let Some(res) = s.reserve_more(n) {
                    if m.len() + n <= s.limit() {
                        assert_eq!(res, Ok(()), "{what}: reserve {n}");
                        assert!(
                            s.cap() >= m.len() + n,
                            "{what}: reserve {n} gave {}",
                            s.cap()
                        );
                    } else {
                        assert_eq!(
                            res,
                            Err(tardy::ReserveError::MaxCapacity),
                            "{what}: reserve {n}"
                        );
                    }
                }
            }
            _ => {
                // Only at or above every count held so far (so no vacant
                // slot lies beyond it: see the test above).
                let max = if rng.below(3) == 0 {
                    None
                } else {
                    {
                        let slack = [3, 300, 3 * SEG as u64][rng.below(3) as usize];
                        Some(peak + rng.below(slack) as usize)
                    }
                };
                if with_max {
                    s.set_max(max);
                }
            }
        }
        peak = peak.max(m.len());
        stats[1] = peak;
        stats[2] += m.tasks.values().filter(|t| t.waiting).count().min(1);
        assert_eq!(s.len(), m.len(), "{what}: len");
        if s.is_growing() {
            assert!(
                s.cap() >= s.len(),
                "{what}: capacity {} below len {}",
                s.cap(),
                s.len()
            );
            assert!(
                s.cap() <= s.limit(),
                "{what}: capacity {} above limit {}",
                s.cap(),
                s.limit()
            );
        }
        assert_eq!(
            s.next_deadline(),
            m.heap.first_key_value().map(|(k, _)| k.0),
            "{what}: next_deadline"
        );
        if step % 997 == 0 || step + 1 == steps {
            if step + 1 == steps {
                eprintln!("seed {seed:#x}: capacity errors {}, peak {}, steps with waiting {}, targets reached {}", stats[0], stats[1], stats[2], stats[3]);
            }
            let got: Vec<(u64, TaskId)> = s
                .iter_by_deadline()
                .map(|t| (t.deadline(), t.id()))
                .collect();
            // Waiting tasks come too, by their keys.
            let mut all: Vec<(Key, usize)> = m.tasks.values().map(|t| (t.key, t.h)).collect();
            all.sort();
            let want: Vec<(u64, TaskId)> = all.iter().map(|&(k, h)| (k.0, ids[h])).collect();
            assert_eq!(got.len(), want.len(), "{what}: iter_by_deadline length");
            let mut g = got.clone();
            let mut w = want.clone();
            g.sort();
            w.sort();
            assert_eq!(g, w, "{what}: the scheduled set");
            for (h, t) in &m.tasks {
                let v = s
                    .scheduled_task(ids[*h])
                    .unwrap_or_else(|| panic!("{what}: {h} not scheduled"));
                assert_eq!(
                    (v.deadline(), *v.subject(), *v.payload()),
                    (t.key.0, t.subject, t.payload),
                    "{what}"
                );
            }
        }
    }
}

/// The same operations on both storages (no maximum: the fixed one has
/// none to set), then on the growing one with maximums set as it runs.
fn mix_both(seed: u64, steps: usize) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let clock = ManualClock::new(0);
            let mut a: GAlloc<'_> = AllocScheduler::with_subject_seed(&clock, seed);
            let mut log_a = Vec::new();
            mix(&mut a, &clock, seed, steps, false, &mut log_a);
            let clock = ManualClock::new(0);
            let mut f: Box<GFixed<'_, 16384>> =
                Box::new(Scheduler::with_subject_seed(&clock, seed));
            let mut log_f = Vec::new();
            mix(&mut *f, &clock, seed, steps, false, &mut log_f);
            assert_eq!(log_a.len(), log_f.len());
            assert!(
                log_a == log_f,
                "delivery orders differ between the storages"
            );
            let clock = ManualClock::new(0);
            let mut a: GAlloc<'_> = AllocScheduler::with_subject_seed(&clock, !seed);
            mix(&mut a, &clock, seed ^ 0x5555, steps, true, &mut Vec::new());
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Steps of each random mix: `TARDY_MIX_STEPS`, 20 000 by default.
fn mix_steps() -> usize {
    std::env::var("TARDY_MIX_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn random_mix_against_the_model_seed_1() {
    mix_both(0x1234_5678_9abc_def1, mix_steps());
}

#[test]
fn random_mix_against_the_model_seed_2() {
    mix_both(0x0fed_cba9_8765_4321, mix_steps());
}

/// `capacity()` is "tasks the scheduler holds without allocating": then
/// reserving room up to it must allocate nothing. After `shrink_to_fit`
/// with a task left in a high slot, the slots keep two segments while the
/// heap keeps only what the tasks still scheduled need.
#[test]
fn capacity_after_shrink_is_room_that_needs_no_allocation() {
    let clock = ManualClock::new(0);
    let mut s: Grow<'_> = AllocScheduler::with_subject_seed(&clock, 5);
    let q = s.add_queue("q", 0).unwrap();
    let ids: Vec<_> = (0..5000u32)
        .map(|i| s.schedule(Task::new(q, i, 0), When::At(100)).unwrap())
        .collect();
    for &id in &ids[..4999] {
        s.cancel(id).unwrap();
    }
    s.shrink_to_fit();
    let (cap, bytes) = (s.capacity(), s.allocated_bytes());
    assert!(cap >= s.len());
    assert_eq!(s.reserve(cap - s.len()), Ok(()));
    assert_eq!(
        s.allocated_bytes(),
        bytes,
        "capacity() said {cap} tasks fit without allocating (1 held), but reserving them allocated {} more bytes",
        s.allocated_bytes() - bytes
    );
}

// ---------------------------------------------------------------------------
// Allocations per call, counted on this thread.

mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Allocations made on this thread so far.
    pub fn count() -> usize {
        COUNT.with(Cell::get)
    }
}

#[global_allocator]
static COUNTING: counting::Counting = counting::Counting;

/// Schedules `n` more tasks; the calls that allocated more than once, as
/// (task number, allocations).
fn heavy_calls(s: &mut Grow<'_>, q: QueueId, n: usize) -> Vec<(usize, usize)> {
    let mut heavy = Vec::new();
    for _ in 0..n {
        let at = s.len();
        let before = counting::count();
        s.schedule(Task::new(q, at as u32, 0), When::At(1_000))
            .unwrap();
        let made = counting::count() - before;
        if made > 1 {
            heavy.push((at, made));
        }
    }
    heavy
}

/// The documented promise: "no call after the first (which allocates the
/// first segment of each) pays for more than one allocation".
#[test]
fn growing_on_demand_allocates_at_most_once_per_call() {
    let clock = ManualClock::new(0);
    let mut s: Grow<'_> = AllocScheduler::with_subject_seed(&clock, 1);
    let q = s.add_queue("q", 0).unwrap();
    let heavy = heavy_calls(&mut s, q, 6 * SEG + 3);
    assert!(
        heavy.iter().all(|&(at, _)| at == 0),
        "calls with several allocations: {heavy:?}"
    );
}

/// After `with_capacity`, the reserved room runs out in every array at the
/// same task: that call (documented) allocates a segment for each of them
/// (reserved room is never allocated ahead of); from then on they grow on
/// demand, one allocation per call at most.
#[test]
fn running_out_of_reserved_room_allocates_for_each_array_once() {
    let clock = ManualClock::new(0);
    let mut s: Grow<'_> = AllocScheduler::with_capacity(&clock, 2 * SEG);
    let q = s.add_queue("q", 0).unwrap();
    let heavy = heavy_calls(&mut s, q, 4 * SEG + 3);
    assert_eq!(heavy.len(), 1, "calls with several allocations: {heavy:?}");
    assert_eq!(
        heavy[0].0,
        2 * SEG,
        "calls with several allocations: {heavy:?}"
    );
    assert!(heavy[0].1 <= 8, "calls with several allocations: {heavy:?}");
}

/// After `shrink_to_fit` (which ends the allocating ahead and trims the
/// tables of segments), growing again past a segment boundary: the first
/// call that needs room (documented) allocates for each array, later calls
/// once at most.
#[test]
fn growing_after_shrink_allocates_for_each_array_once() {
    let clock = ManualClock::new(0);
    let mut s: Grow<'_> = AllocScheduler::with_subject_seed(&clock, 1);
    let q = s.add_queue("q", 0).unwrap();
    let keep = s.schedule(Task::new(q, 0, 0), When::At(1_000)).unwrap();
    let ids: Vec<_> = (1..3 * SEG)
        .map(|i| {
            s.schedule(Task::new(q, i as u32, 0), When::At(1_000))
                .unwrap()
        })
        .collect();
    for id in ids {
        s.cancel(id).unwrap();
    }
    s.shrink_to_fit();
    assert!(s.is_scheduled(keep));
    let heavy = heavy_calls(&mut s, q, 3 * SEG + 3);
    assert_eq!(heavy.len(), 1, "calls with several allocations: {heavy:?}");
    assert!(
        heavy[0].1 <= 12,
        "calls with several allocations: {heavy:?}"
    );
}

/// Periodic tasks on demand: the table of periodic tasks grows in step
/// with the slots (phase 0 against 6).
#[test]
fn growing_periodic_tasks_allocates_at_most_once_per_call() {
    let clock = ManualClock::new(0);
    let mut s: Grow<'_> = AllocScheduler::with_subject_seed(&clock, 1);
    let q = s.add_queue("q", 0).unwrap();
    let mut heavy = Vec::new();
    for i in 0..3 * SEG + 3 {
        let before = counting::count();
        s.schedule_periodic(
            Task::new(q, i as u32, 0),
            When::At(1_000),
            7,
            MissedTickBehavior::Skip,
        )
        .unwrap();
        let made = counting::count() - before;
        if made > 1 && i > 0 {
            heavy.push((i, made));
        }
    }
    assert!(
        heavy.is_empty(),
        "calls with several allocations: {heavy:?}"
    );
    // And every one of them delivers once per period.
    clock.set(1_000);
    assert_eq!(s.run_pending(), 3 * SEG + 3);
    for i in 0..3 * SEG + 3 {
        let t = s.get_task(q).unwrap();
        assert_eq!(
            (*t.subject(), t.period().map(|p| p.index)),
            (i as u32, Some(0))
        );
    }
}
