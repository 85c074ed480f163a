//! Model-based property test of the core `Scheduler`: random sequences of
//! every operation, run against the scheduler and against a simple reference
//! model built on `BTreeMap` and `VecDeque`, must agree on every result.
//!
//! The model states the rules directly: due tasks enter their queue in
//! `(deadline, scheduling order)` order, never before the clock reads their
//! deadline; a due task for a full queue waits, in order, behind the ones
//! already waiting; every task scheduled is delivered exactly once or handed
//! back (scheduled = delivered + handed back + still held by the scheduler).
//!
//! Periodic tasks: each stays in the model as one scheduled task with its
//! period, policy and next index; each delivery puts an occurrence into its
//! queue with the period index and missed count the model works out from
//! the policy's rule when the occurrence enters the queue (`plan`), and the
//! task goes back into the schedule at its next deadline. A call delivers
//! at most one occurrence of each periodic task (it stops at a next
//! occurrence re-armed during the call). Occurrences count as scheduled
//! when they enter a queue, so conservation covers them, and the periodic
//! task itself is handed back exactly once.
//!
//! Every run goes over both storages: the fixed one (`Scheduler`) and, with
//! the `alloc` feature, the growing one (`AllocScheduler`) bounded to the
//! same capacity.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use proptest::prelude::*;
#[cfg(not(feature = "periodic"))]
use stand_in::{MissedTickBehavior, Period};
use tardy::{
    AddQueueError, Clock, GetTaskError, HeaplessQueue, ManualClock, NotScheduled, QueueId,
    QueueStats, ScheduleError, Scheduler, SchedulerInner, Storage, Task, TaskDoneError, TaskId,
    UnknownQueue, When,
};
#[cfg(feature = "periodic")]
use tardy::{MissedTickBehavior, Period};

/// Without the `periodic` feature the model keeps its periodic parts, never
/// reached: `SchedulePeriodic` schedules a one-shot task and no task is an
/// occurrence. These stand in for the types they name.
#[cfg(not(feature = "periodic"))]
mod stand_in {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum MissedTickBehavior {
        Burst,
        Delay,
        Skip,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Period {
        pub index: u64,
        pub missed: u64,
    }
}

/// The period of an occurrence ([`Task::period`]).
#[cfg(feature = "periodic")]
fn period_of<S, P>(t: &Task<S, P>) -> Option<Period> {
    t.period()
}

/// No task is an occurrence without periodic tasks.
#[cfg(not(feature = "periodic"))]
fn period_of<S, P>(_: &Task<S, P>) -> Option<Period> {
    None
}

/// Queue slots, task slots and the queue type's own bound.
const QN: usize = 4;
const N: usize = 8;
const M: usize = 4;
/// More names than queue slots, so `NoQueueSlot` happens.
const NAMES: [&str; 5] = ["q0", "q1", "q2", "q3", "q4"];

type T = Task<u8, u64>;
type Sched<'a, St> = SchedulerInner<&'a ManualClock, HeaplessQueue<T, M>, u8, u64, St, QN>;
type Fixed<'a> = Scheduler<&'a ManualClock, HeaplessQueue<T, M>, u8, u64, N, QN>;

/// A queue named by its name, or a handle of a removed queue.
#[derive(Clone, Copy, Debug)]
enum QSel {
    Name(usize),
    Stale(usize),
}

#[derive(Clone, Debug)]
enum Op {
    Schedule(QSel, u8, When),
    /// A periodic task: queue, subject, first, period (0 is refused).
    SchedulePeriodic(QSel, u8, When, u64, MissedTickBehavior),
    /// Schedules again a task a worker took (retry).
    Retry(usize, When),
    Cancel(usize),
    Reschedule(usize, When),
    CancelBySubject(u8),
    Advance(u64),
    SetClock(u64),
    RunPending,
    RunAll,
    GetTask(QSel),
    TaskDone(QSel),
    AddQueue(usize, usize),
    RemoveQueue(QSel),
    ClearQueue(QSel),
    Clear,
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        2 => Just(When::Now),
        // Coarse times, so equal deadlines are common.
        4 => (0u64..25).prop_map(|t| When::At(t * 4)),
        4 => (0u64..10).prop_map(|d| When::After(d * 4)),
        1 => Just(When::At(u64::MAX)),
        1 => Just(When::After(u64::MAX)),
    ]
}

fn qsel() -> impl Strategy<Value = QSel> {
    prop_oneof![
        6 => (0..NAMES.len()).prop_map(QSel::Name),
        1 => any::<usize>().prop_map(QSel::Stale),
    ]
}

fn behavior() -> impl Strategy<Value = MissedTickBehavior> {
    prop_oneof![
        Just(MissedTickBehavior::Burst),
        Just(MissedTickBehavior::Delay),
        Just(MissedTickBehavior::Skip),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (qsel(), 0u8..4, when()).prop_map(|(q, s, w)| Op::Schedule(q, s, w)),
        3 => (qsel(), 0u8..4, when(), prop_oneof![1 => Just(0u64), 9 => 1u64..13], behavior())
            .prop_map(|(q, s, w, p, b)| Op::SchedulePeriodic(q, s, w, p, b)),
        2 => (any::<usize>(), when()).prop_map(|(i, w)| Op::Retry(i, w)),
        3 => any::<usize>().prop_map(Op::Cancel),
        5 => (any::<usize>(), when()).prop_map(|(i, w)| Op::Reschedule(i, w)),
        1 => (0u8..5).prop_map(Op::CancelBySubject),
        3 => (0u64..30).prop_map(Op::Advance),
        1 => prop_oneof![9 => 0u64..120, 1 => Just(u64::MAX)].prop_map(Op::SetClock),
        4 => Just(Op::RunPending),
        1 => Just(Op::RunAll),
        6 => qsel().prop_map(Op::GetTask),
        2 => qsel().prop_map(Op::TaskDone),
        1 => (0..NAMES.len(), 0..=M + 1).prop_map(|(q, m)| Op::AddQueue(q, m)),
        1 => qsel().prop_map(Op::RemoveQueue),
        1 => qsel().prop_map(Op::ClearQueue),
        1 => Just(Op::Clear),
    ]
}

/// Where a task is, in the model. Tasks are keyed by their payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Where {
    Pending,
    Waiting,
    Queued,
}

#[derive(Clone, Debug)]
struct MTask {
    id: TaskId,
    queue: QueueId,
    subject: u8,
    deadline: u64,
    order: u64,
    attempt: u32,
    at: Where,
    /// A periodic task's period, policy and next period index.
    periodic: Option<(u64, MissedTickBehavior, u64)>,
}

/// An item in a queue: a task's key, and for an occurrence of a periodic
/// task what it must say.
#[derive(Clone, Copy, Debug)]
struct Item {
    key: u64,
    occ: Option<Occ>,
}

#[derive(Clone, Copy, Debug)]
struct Occ {
    period: Period,
    deadline: u64,
    attempt: u32,
}

/// The largest period index the scheduler keeps.
const MAX_INDEX: u64 = u64::MAX >> 2;

/// The policies' rules, written from their documentation: for the
/// occurrence due at `deadline` entering its queue at `now`, how many later
/// periods it stands for and the next deadline.
fn plan(b: MissedTickBehavior, period: u64, deadline: u64, now: u64) -> (u64, u64) {
    let sat = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
    if now < deadline {
        return (0, deadline.saturating_add(period));
    }
    // The periods whose deadlines deadline + k * period (k >= 1) are <= now.
    let passed = (now - deadline) / period;
    match b {
        MissedTickBehavior::Burst => (0, sat(u128::from(deadline) + u128::from(period))),
        MissedTickBehavior::Skip => (
            passed,
            sat(u128::from(deadline) + (u128::from(passed) + 1) * u128::from(period)),
        ),
        MissedTickBehavior::Delay => (passed, sat(u128::from(now) + u128::from(period))),
    }
}

#[derive(Debug)]
struct MQueue {
    id: QueueId,
    max: usize,
    items: VecDeque<Item>,
    waiting: VecDeque<u64>,
    taken: u64,
    done: u64,
}

#[derive(Default)]
struct Model {
    queues: [Option<MQueue>; NAMES.len()],
    /// Removed queue handles.
    stale: Vec<QueueId>,
    /// Every queue handle ever returned, to check a new one is new.
    all_queue_ids: Vec<QueueId>,
    pending: BTreeMap<(u64, u64), u64>,
    /// The tasks the scheduler holds (scheduled, waiting or queued), by key.
    tasks: HashMap<u64, MTask>,
    /// Their current handles.
    by_id: HashMap<TaskId, u64>,
    order: u64,
    next_key: u64,
    /// Every task handle ever returned, stale ones included.
    ids: Vec<TaskId>,
    issued: HashSet<TaskId>,
    /// Tasks taken from a queue, for retries.
    held: Vec<T>,
    scheduled: u64,
    delivered: u64,
    handed_back: u64,
    /// The clock, for occurrences entering queues.
    now: u64,
}

impl Model {
    fn queue_index(&self, q: QueueId) -> Option<usize> {
        self.queues
            .iter()
            .position(|m| m.as_ref().is_some_and(|m| m.id == q))
    }

    fn queue_of(&self, sel: QSel) -> Option<QueueId> {
        match sel {
            QSel::Name(i) => self.queues[i].as_ref().map(|m| m.id),
            QSel::Stale(i) => (!self.stale.is_empty()).then(|| self.stale[i % self.stale.len()]),
        }
    }

    fn in_scheduler(&self) -> usize {
        self.tasks
            .values()
            .filter(|t| matches!(t.at, Where::Pending | Where::Waiting))
            .count()
    }

    fn in_flight(&self) -> u64 {
        let occurrences = self
            .queues
            .iter()
            .flatten()
            .map(|q| q.items.iter().filter(|i| i.occ.is_some()).count())
            .sum::<usize>();
        (self.tasks.len() + occurrences) as u64
    }

    /// Task `key`, due at its deadline and out of the schedule, enters
    /// queue `qi` (which has room): a one-shot task itself, a periodic one
    /// as an occurrence, the task going back into the schedule.
    fn enter(&mut self, qi: usize, key: u64) {
        let now = self.now;
        let t = self.tasks.get_mut(&key).unwrap();
        let Some((period, b, index)) = t.periodic else {
            t.at = Where::Queued;
            self.queues[qi]
                .as_mut()
                .unwrap()
                .items
                .push_back(Item { key, occ: None });
            return;
        };
        let (missed, next) = plan(b, period, t.deadline, now);
        let occ = Occ {
            period: Period {
                index,
                missed: missed.min(u64::from(u32::MAX)),
            },
            deadline: t.deadline,
            attempt: t.attempt,
        };
        t.periodic = Some((
            period,
            b,
            index
                .saturating_add(missed)
                .saturating_add(1)
                .min(MAX_INDEX),
        ));
        t.deadline = next;
        t.at = Where::Pending;
        self.order += 1;
        t.order = self.order;
        self.pending.insert((next, self.order), key);
        self.scheduled += 1; // the occurrence
        self.queues[qi].as_mut().unwrap().items.push_back(Item {
            key,
            occ: Some(occ),
        });
    }

    /// Moves waiting tasks of queue `qi` into it while it has room.
    fn refill(&mut self, qi: usize) -> usize {
        let mut moved = 0;
        loop {
            let q = self.queues[qi].as_mut().unwrap();
            if q.items.len() >= q.max {
                break;
            }
            let Some(key) = q.waiting.pop_front() else {
                break;
            };
            self.enter(qi, key);
            moved += 1;
        }
        moved
    }

    /// Delivers every pending task due at `limit`; `by_clock` when `limit`
    /// is the clock's reading (not `run_all`).
    fn run_until(&mut self, limit: u64, by_clock: bool) -> usize {
        let mut moved = 0;
        for qi in 0..self.queues.len() {
            if self.queues[qi].is_some() {
                moved += self.refill(qi);
            }
        }
        // A periodic task re-armed during this call ends it.
        let start = self.order;
        while let Some((&(deadline, order), &key)) = self.pending.first_key_value() {
            if deadline > limit || order > start {
                break;
            }
            if by_clock {
                assert!(deadline <= limit, "the model delivers early");
            }
            self.pending.remove(&(deadline, order));
            let qi = self.queue_index(self.tasks[&key].queue).unwrap();
            let q = self.queues[qi].as_mut().unwrap();
            if q.waiting.is_empty() && q.items.len() < q.max {
                self.enter(qi, key);
                moved += 1;
            } else {
                q.waiting.push_back(key);
                self.tasks.get_mut(&key).unwrap().at = Where::Waiting;
            }
        }
        moved
    }

    /// Takes a scheduled (pending or waiting) task out of the model.
    fn unschedule(&mut self, key: u64) {
        let t = self.tasks[&key].clone();
        match t.at {
            Where::Pending => {
                self.pending.remove(&(t.deadline, t.order)).unwrap();
            }
            Where::Waiting => {
                let qi = self.queue_index(t.queue).unwrap();
                self.queues[qi]
                    .as_mut()
                    .unwrap()
                    .waiting
                    .retain(|&k| k != key);
            }
            other => panic!("unschedule of a task that is {other:?}"),
        }
    }

    /// The task `key` leaves the scheduler (taken or handed back).
    fn leave(&mut self, key: u64) {
        let t = self.tasks.remove(&key).unwrap();
        self.by_id.remove(&t.id);
    }

    /// The key of the scheduled (pending or waiting) task `id`.
    fn scheduled_key(&self, id: TaskId) -> Option<u64> {
        let key = *self.by_id.get(&id)?;
        matches!(self.tasks[&key].at, Where::Pending | Where::Waiting).then_some(key)
    }

    /// A handle for `cancel` or `reschedule`: one of the latest (most
    /// likely still scheduled) two times in three, else any, stale or not.
    fn pick_id(&self, i: usize) -> Option<TaskId> {
        let n = self.ids.len();
        if n == 0 {
            return None;
        }
        let back = if i.is_multiple_of(3) {
            i / 3 % n
        } else {
            i / 3 % n.min(12)
        };
        Some(self.ids[n - 1 - back])
    }

    fn next_order(&mut self) -> u64 {
        self.order += 1;
        self.order
    }
}

struct Harness<'a, St: Storage> {
    clock: &'a ManualClock,
    s: Sched<'a, St>,
    m: Model,
}

impl<St: Storage> Harness<'_, St> {
    /// Checks a task the scheduler handed back or delivered against the
    /// model, and marks it.
    fn check_task(&self, t: &T, qid: Option<QueueId>) -> u64 {
        let key = *t.payload();
        assert_eq!(period_of(t), None, "task {key} is not an occurrence");
        let mt = &self.m.tasks[&key];
        assert_eq!(t.id(), Some(mt.id), "handle of task {key}");
        assert_eq!(t.subject(), &mt.subject, "subject of task {key}");
        assert_eq!(t.deadline(), mt.deadline, "deadline of task {key}");
        assert_eq!(t.attempt(), mt.attempt, "attempt of task {key}");
        if let Some(q) = qid {
            assert_eq!(t.queue(), q);
        }
        key
    }

    /// Checks an occurrence taken from a queue or handed back against
    /// the model's item.
    fn check_occurrence(&self, t: &T, occ: Occ) {
        let key = *t.payload();
        assert_eq!(
            period_of(t),
            Some(occ.period),
            "period of an occurrence of {key}"
        );
        assert_eq!(
            t.deadline(),
            occ.deadline,
            "deadline of an occurrence of {key}"
        );
        assert_eq!(
            t.attempt(),
            occ.attempt,
            "attempt of an occurrence of {key}"
        );
        assert_eq!(t.subject(), &key_subject(key));
        let id = t.id().expect("an occurrence has an id");
        assert!(!self.s.is_scheduled(id), "an occurrence's id names no task");
        assert!(
            !self.m.by_id.contains_key(&id),
            "an occurrence's id is not its periodic task's handle"
        );
    }

    /// Checks tasks handed back: `expected` are the keys of scheduled
    /// tasks handed back, `items` the queue items handed back.
    fn hand_back_all(&mut self, got: Vec<T>, expected: Vec<u64>) {
        self.hand_back_with_items(got, expected, Vec::new());
    }

    fn hand_back_with_items(&mut self, got: Vec<T>, expected: Vec<u64>, items: Vec<Item>) {
        // (key, period index) of every task, sorted; occurrences checked
        // against their items.
        let mut keys: Vec<(u64, Option<u64>)> = Vec::new();
        // By (key, index): several at one index once the index saturates.
        let mut occs: HashMap<(u64, u64), Vec<Occ>> = HashMap::new();
        for i in &items {
            if let Some(o) = i.occ {
                occs.entry((i.key, o.period.index)).or_default().push(o);
            }
        }
        for t in &got {
            match period_of(t) {
                Some(p) => {
                    let occ = occs
                        .get_mut(&(*t.payload(), p.index))
                        .and_then(Vec::pop)
                        .expect("an occurrence handed back was in a queue");
                    self.check_occurrence(t, occ);
                    keys.push((*t.payload(), Some(p.index)));
                }
                None => keys.push((self.check_task(t, None), None)),
            }
        }
        keys.sort_unstable();
        let mut want: Vec<(u64, Option<u64>)> = expected.iter().map(|&k| (k, None)).collect();
        want.extend(items.iter().map(|i| (i.key, i.occ.map(|o| o.period.index))));
        want.sort_unstable();
        assert_eq!(keys, want, "handed back");
        for (key, occ) in keys {
            self.m.handed_back += 1;
            if occ.is_some() {
                continue;
            }
            if self.m.tasks[&key].at != Where::Queued {
                self.m.unschedule(key);
            }
            self.m.leave(key);
        }
    }

    fn schedule(&mut self, task: T, when: When) {
        let key = *task.payload();
        let before = (task.id(), task.attempt(), task.deadline());
        let qid = task.queue();
        let qi = self.m.queue_index(qid);
        let now = self.clock.now();
        let res = self.s.schedule(task, when);
        let Some(qi) = qi else {
            match res {
                Err(ScheduleError::UnknownQueue(t)) => {
                    assert_eq!((t.id(), t.attempt(), t.deadline()), before);
                    assert_eq!(*t.payload(), key);
                    self.m.held.push(t);
                }
                other => panic!("expected UnknownQueue, got {other:?}"),
            }
            return;
        };
        let deadline = match when {
            When::Now => now,
            When::At(t) => t,
            When::After(d) => now.saturating_add(d),
        };
        let q = self.m.queues[qi].as_ref().unwrap();
        let expected_err = match when {
            When::Now if !q.waiting.is_empty() || q.items.len() >= q.max => Some("full"),
            When::Now => None,
            _ if self.m.in_scheduler() >= N => Some("capacity"),
            _ => None,
        };
        match (res, expected_err) {
            (Ok(id), None) => {
                assert!(self.m.issued.insert(id), "handle {id:?} issued twice");
                self.m.ids.push(id);
                self.m.by_id.insert(id, key);
                self.m.scheduled += 1;
                let order = self.m.next_order();
                let attempt = before.1.saturating_add(1);
                let subject = key_subject(key);
                let mut mt = MTask {
                    id,
                    queue: qid,
                    subject,
                    deadline,
                    order,
                    attempt,
                    at: Where::Pending,
                    periodic: None,
                };
                if when == When::Now {
                    mt.at = Where::Queued;
                    self.m.queues[qi]
                        .as_mut()
                        .unwrap()
                        .items
                        .push_back(Item { key, occ: None });
                    assert!(!self.s.is_scheduled(id));
                } else {
                    self.m.pending.insert((deadline, order), key);
                    assert!(self.s.is_scheduled(id));
                }
                self.m.tasks.insert(key, mt);
            }
            (Err(ScheduleError::QueueFull(t)), Some("full"))
            | (Err(ScheduleError::Capacity(t)), Some("capacity")) => {
                assert_eq!((t.id(), t.attempt(), t.deadline()), before);
                assert_eq!(*t.payload(), key);
                self.m.held.push(t);
            }
            (res, expected) => panic!("schedule: got {res:?}, expected {expected:?}"),
        }
    }

    fn get_task(&mut self, qid: QueueId) {
        let res = self.s.get_task(qid);
        let Some(qi) = self.m.queue_index(qid) else {
            assert_eq!(res, Err(GetTaskError::UnknownQueue));
            return;
        };
        self.m.refill(qi);
        let q = self.m.queues[qi].as_mut().unwrap();
        match q.items.pop_front() {
            None => assert_eq!(res, Err(GetTaskError::Empty)),
            Some(Item { key, occ }) => {
                q.taken += 1;
                let mut t = res.expect("a task");
                assert_eq!(*t.payload(), key, "delivery order");
                assert_eq!(t.queue(), qid);
                match occ {
                    Some(occ) => {
                        self.check_occurrence(&t, occ);
                        let id = t.id().unwrap();
                        assert!(self.m.issued.insert(id), "id {id:?} issued twice");
                        self.m.ids.push(id);
                        // A retry of it is a task of its own: a new key.
                        self.m.next_key += 1;
                        *t.payload_mut() = self.m.next_key * 8 + key % 8;
                    }
                    None => {
                        self.check_task(&t, Some(qid));
                        self.m.leave(key);
                    }
                }
                self.m.delivered += 1;
                self.m.refill(qi);
                self.m.held.push(t);
            }
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Schedule(sel, subject, when) => {
                let Some(qid) = self.m.queue_of(sel) else {
                    return;
                };
                self.m.next_key += 1;
                let key = self.m.next_key * 8 + u64::from(subject);
                self.schedule(Task::new(qid, subject, key), when);
            }
            Op::SchedulePeriodic(sel, subject, when, period, b) => {
                let Some(qid) = self.m.queue_of(sel) else {
                    return;
                };
                self.m.next_key += 1;
                let key = self.m.next_key * 8 + u64::from(subject);
                self.schedule_periodic(Task::new(qid, subject, key), when, period, b);
            }
            Op::Retry(i, when) => {
                if self.m.held.is_empty() {
                    return;
                }
                let t = self.m.held.swap_remove(i % self.m.held.len());
                // A task handed back or refused may never have been
                // scheduled; give those their first scheduling.
                self.schedule(t, when);
            }
            Op::Cancel(i) => {
                let Some(id) = self.m.pick_id(i) else {
                    return;
                };
                let scheduled = self.m.scheduled_key(id);
                match (self.s.cancel(id), scheduled) {
                    (Ok(t), Some(key)) => self.hand_back_all(vec![t], vec![key]),
                    (Err(NotScheduled), None) => {}
                    (res, expected) => panic!("cancel: got {res:?}, expected {expected:?}"),
                }
            }
            Op::Reschedule(i, when) => {
                let Some(id) = self.m.pick_id(i) else {
                    return;
                };
                let now = self.clock.now();
                let scheduled = self.m.scheduled_key(id);
                let res = self.s.reschedule(id, when);
                let Some(key) = scheduled else {
                    assert_eq!(res, Err(NotScheduled));
                    return;
                };
                self.m.unschedule(key);
                let order = self.m.next_order();
                let t = self.m.tasks.get_mut(&key).unwrap();
                t.deadline = match when {
                    When::Now => now,
                    When::At(t) => t,
                    When::After(d) => now.saturating_add(d),
                };
                assert_eq!(res, Ok(t.deadline), "reschedule returns the new deadline");
                t.order = order;
                t.at = Where::Pending;
                self.m.pending.insert((t.deadline, order), key);
            }
            Op::CancelBySubject(subject) => {
                let expected: Vec<u64> = self
                    .m
                    .tasks
                    .iter()
                    .filter(|(_, t)| {
                        t.subject == subject && matches!(t.at, Where::Pending | Where::Waiting)
                    })
                    .map(|(k, _)| *k)
                    .collect();
                let mut got = Vec::new();
                let n = self.s.cancel_by_subject(&subject, |t| got.push(t));
                assert_eq!(n, got.len());
                self.hand_back_all(got, expected);
            }
            Op::Advance(d) => {
                self.clock.advance(d);
                self.m.now = self.clock.now();
            }
            Op::SetClock(t) => {
                self.clock.set(t);
                self.m.now = t;
            }
            Op::RunPending => {
                let now = self.clock.now();
                let n = self.s.run_pending();
                assert_eq!(n, self.m.run_until(now, true), "run_pending count");
            }
            Op::RunAll => {
                let n = self.s.run_all();
                assert_eq!(n, self.m.run_until(u64::MAX, false), "run_all count");
                // Only periodic tasks (and what comes after their next
                // occurrence) stay.
                if self.m.tasks.values().all(|t| t.periodic.is_none()) {
                    assert!(self.m.pending.is_empty());
                }
            }
            Op::GetTask(sel) => {
                if let Some(qid) = self.m.queue_of(sel) {
                    self.get_task(qid);
                }
            }
            Op::TaskDone(sel) => {
                let Some(qid) = self.m.queue_of(sel) else {
                    return;
                };
                let res = self.s.task_done(qid);
                match self.m.queue_index(qid) {
                    None => assert_eq!(res, Err(TaskDoneError::UnknownQueue)),
                    Some(qi) => {
                        let q = self.m.queues[qi].as_mut().unwrap();
                        if q.done < q.taken {
                            assert_eq!(res, Ok(()));
                            q.done += 1;
                        } else {
                            assert_eq!(res, Err(TaskDoneError::NotTaken));
                        }
                    }
                }
            }
            Op::AddQueue(i, max) => {
                let res = self.s.add_queue(NAMES[i], max);
                let count = self.m.queues.iter().flatten().count();
                if self.m.queues[i].is_some() {
                    assert_eq!(res, Err(AddQueueError::NameTaken));
                } else if count >= QN {
                    assert_eq!(res, Err(AddQueueError::NoQueueSlot));
                } else if max > M {
                    assert_eq!(res, Err(AddQueueError::InvalidMaxSize));
                } else {
                    let id = res.expect("queue added");
                    assert!(!self.m.all_queue_ids.contains(&id), "queue handle reused");
                    self.m.all_queue_ids.push(id);
                    self.m.queues[i] = Some(MQueue {
                        id,
                        max: if max == 0 { M } else { max },
                        items: VecDeque::new(),
                        waiting: VecDeque::new(),
                        taken: 0,
                        done: 0,
                    });
                }
            }
            Op::RemoveQueue(sel) | Op::ClearQueue(sel) => {
                let Some(qid) = self.m.queue_of(sel) else {
                    return;
                };
                let remove = matches!(op, Op::RemoveQueue(_));
                let mut got = Vec::new();
                let res = if remove {
                    self.s.remove_queue(qid, |t| got.push(t))
                } else {
                    self.s.clear_queue(qid, |t| got.push(t))
                };
                let Some(qi) = self.m.queue_index(qid) else {
                    assert_eq!(res, Err(UnknownQueue));
                    assert!(got.is_empty());
                    return;
                };
                assert_eq!(res, Ok(got.len()));
                let expected = self.expected_of_queue(qid);
                let items: Vec<Item> = self.m.queues[qi]
                    .as_ref()
                    .unwrap()
                    .items
                    .iter()
                    .copied()
                    .collect();
                self.hand_back_with_items(got, expected, items.clone());
                let q = self.m.queues[qi].as_mut().unwrap();
                q.items.clear();
                if remove {
                    self.m.queues[qi] = None;
                    self.m.stale.push(qid);
                    assert_eq!(self.s.queue_id(NAMES[qi]), Err(UnknownQueue));
                }
            }
            Op::Clear => {
                let expected: Vec<u64> = self
                    .m
                    .tasks
                    .iter()
                    .filter(|(_, t)| t.at != Where::Queued)
                    .map(|(k, _)| *k)
                    .collect();
                let items: Vec<Item> = self
                    .m
                    .queues
                    .iter()
                    .flatten()
                    .flat_map(|q| q.items.iter().copied())
                    .collect();
                let mut got = Vec::new();
                let n = self.s.clear(|t| got.push(t));
                assert_eq!(n, got.len());
                self.hand_back_with_items(got, expected, items);
                for q in self.m.queues.iter_mut().flatten() {
                    q.items.clear();
                }
            }
        }
    }

    /// Every scheduled task of `q` (pending or waiting); its queue's items
    /// are handed back beside them.
    fn expected_of_queue(&self, q: QueueId) -> Vec<u64> {
        self.m
            .tasks
            .iter()
            .filter(|(_, t)| t.queue == q && matches!(t.at, Where::Pending | Where::Waiting))
            .map(|(k, _)| *k)
            .collect()
    }

    /// Without periodic tasks, a one-shot task in its place.
    #[cfg(not(feature = "periodic"))]
    fn schedule_periodic(&mut self, task: T, when: When, _: u64, _: MissedTickBehavior) {
        self.schedule(task, when);
    }

    #[cfg(feature = "periodic")]
    fn schedule_periodic(&mut self, task: T, when: When, period: u64, b: MissedTickBehavior) {
        let key = *task.payload();
        let qid = task.queue();
        let qi = self.m.queue_index(qid);
        let now = self.clock.now();
        let res = self.s.schedule_periodic(task, when, period, b);
        let expected_err = if period == 0 {
            Some("zero")
        } else if qi.is_none() {
            Some("queue")
        } else if self.m.in_scheduler() >= N {
            Some("capacity")
        } else {
            None
        };
        match (res, expected_err) {
            (Ok(id), None) => {
                assert!(self.m.issued.insert(id), "handle {id:?} issued twice");
                assert!(self.s.is_scheduled(id));
                self.m.ids.push(id);
                self.m.by_id.insert(id, key);
                self.m.scheduled += 1;
                let order = self.m.next_order();
                let deadline = match when {
                    When::Now => now,
                    When::At(t) => t,
                    When::After(d) => now.saturating_add(d),
                };
                self.m.pending.insert((deadline, order), key);
                self.m.tasks.insert(
                    key,
                    MTask {
                        id,
                        queue: qid,
                        subject: key_subject(key),
                        deadline,
                        order,
                        attempt: 1,
                        at: Where::Pending,
                        periodic: Some((period, b, 0)),
                    },
                );
            }
            (Err(ScheduleError::ZeroPeriod(t)), Some("zero"))
            | (Err(ScheduleError::UnknownQueue(t)), Some("queue"))
            | (Err(ScheduleError::Capacity(t)), Some("capacity")) => {
                assert_eq!((t.id(), t.attempt(), *t.payload()), (None, 0, key));
                self.m.held.push(t);
            }
            (res, expected) => panic!("schedule_periodic: got {res:?}, expected {expected:?}"),
        }
    }

    /// Compares everything observable with the model.
    fn check(&self) {
        assert_eq!(self.s.len(), self.m.in_scheduler(), "scheduled count");
        assert_eq!(
            self.s.next_deadline(),
            self.m.pending.first_key_value().map(|((d, _), _)| *d),
            "next deadline"
        );
        for (i, q) in self.m.queues.iter().enumerate() {
            match q {
                Some(q) => {
                    let pending = self
                        .m
                        .tasks
                        .values()
                        .filter(|t| t.queue == q.id && t.at == Where::Pending)
                        .count();
                    let expected = QueueStats {
                        queued: q.items.len(),
                        scheduled: pending + q.waiting.len(),
                        waiting: q.waiting.len(),
                        taken: q.taken,
                        done: q.done,
                        room: q.max - q.items.len(),
                        max_size: q.max,
                    };
                    assert_eq!(self.s.stats(q.id), Ok(expected), "stats of {}", NAMES[i]);
                    assert_eq!(self.s.queue_id(NAMES[i]), Ok(q.id));
                }
                None => assert_eq!(self.s.queue_id(NAMES[i]), Err(UnknownQueue)),
            }
        }
        for &q in &self.m.stale {
            assert_eq!(self.s.stats(q), Err(UnknownQueue));
        }
        // Conservation.
        assert_eq!(
            self.m.scheduled,
            self.m.delivered + self.m.handed_back + self.m.in_flight(),
            "scheduled = delivered + handed back + still held"
        );
    }
}

/// The subject a task was created with (the key's low bits).
fn key_subject(key: u64) -> u8 {
    u8::try_from(key % 8).unwrap()
}

/// Runs `ops` over each storage.
fn run(ops: Vec<Op>) {
    let clock = ManualClock::new(10);
    run_on(&clock, Fixed::new(&clock), ops.clone());
    #[cfg(feature = "alloc")]
    {
        let clock = ManualClock::new(10);
        let mut s = tardy::AllocScheduler::new(&clock);
        s.set_max_capacity(Some(N));
        run_on(&clock, s, ops);
    }
}

fn run_on<St: Storage>(clock: &ManualClock, s: Sched<'_, St>, ops: Vec<Op>) {
    let mut h = Harness {
        clock,
        s,
        m: Model {
            now: clock.now(),
            ..Model::default()
        },
    };
    for i in 0..3 {
        h.apply(Op::AddQueue(i, i % 3));
    }
    h.check();
    for op in ops {
        h.apply(op);
        h.check();
    }
    // Drain: everything still held is delivered or handed back.
    h.apply(Op::RunAll);
    h.check();
    for i in 0..NAMES.len() {
        while h.m.queues[i].as_ref().is_some_and(|q| !q.items.is_empty()) {
            h.apply(Op::GetTask(QSel::Name(i)));
            h.check();
        }
    }
    h.apply(Op::Clear);
    h.check();
    assert!(h.s.is_empty());
    assert_eq!(h.m.in_flight(), 0);
    assert_eq!(h.m.scheduled, h.m.delivered + h.m.handed_back);
}

/// Fewer cases under Miri, and no failure file (Miri isolates the
/// file system).
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 160 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scheduler_matches_the_model(
        ops in proptest::collection::vec(op(), 0..if cfg!(miri) { 40 } else { 200 })
    ) {
        run(ops);
    }
}

/// A long fixed run with a busy schedule, so full queues, full capacity and
/// backward clocks are certain to be reached whatever proptest generates.
#[test]
fn model_long_run() {
    let steps = if cfg!(miri) { 150 } else { 40_000 };
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut ops = Vec::with_capacity(steps);
    for _ in 0..steps {
        let q = QSel::Name(usize::try_from(next(4)).unwrap());
        let w = match next(5) {
            0 => When::Now,
            1 | 2 => When::After(next(8) * 4),
            3 => When::At(next(50) * 4),
            _ => When::At(u64::MAX),
        };
        let i = usize::try_from(next(1 << 20)).unwrap();
        ops.push(match next(16) {
            0..=3 => Op::Schedule(q, u8::try_from(next(4)).unwrap(), w),
            4 => Op::SchedulePeriodic(
                q,
                u8::try_from(next(4)).unwrap(),
                w,
                next(13),
                [
                    MissedTickBehavior::Burst,
                    MissedTickBehavior::Delay,
                    MissedTickBehavior::Skip,
                ][usize::try_from(next(3)).unwrap()],
            ),
            5 => Op::Retry(i, w),
            6 => Op::Cancel(i),
            7 => Op::Reschedule(i, w),
            8 => Op::CancelBySubject(u8::try_from(next(4)).unwrap()),
            9 => Op::Advance(next(20)),
            10 => Op::SetClock(next(200)),
            11 => Op::RunPending,
            12 | 13 => Op::GetTask(q),
            14 => Op::TaskDone(q),
            _ => match next(8) {
                0 => Op::RemoveQueue(q),
                1 => Op::ClearQueue(q),
                2 => Op::Clear,
                3 => Op::RunAll,
                _ => Op::AddQueue(
                    usize::try_from(next(5)).unwrap(),
                    usize::try_from(next(3)).unwrap(),
                ),
            },
        });
    }
    run(ops);
}
