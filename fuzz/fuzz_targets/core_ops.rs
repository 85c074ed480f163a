//! Random sequences of every core operation, checked against a model after
//! every step.
//!
//! Each task carries a unique number as its payload. The model knows where
//! every number is (in the scheduler, held by a worker, done, or handed
//! back) and checks, after every operation, that the scheduler agrees:
//! nothing lost, nothing duplicated, nothing delivered before its deadline
//! was reached by `run_pending` (or forced by `run_all`), counters and
//! `next_deadline` consistent. At the end everything is drained and every
//! number must be accounted for exactly once.
//!
//! Periodic tasks are numbers too, `Periodic` while scheduled; each of
//! their occurrences is checked as it leaves its queue (taken or handed
//! back): its period index must be the one its task owes next (the first
//! is 0, then the previous index + missed + 1: every period accounted for
//! once), and the periodic task itself must be handed back exactly once.
//! An occurrence a worker takes becomes a number of its own (it may be
//! retried as an ordinary task).
//!
//! The input is decoded by hand: one byte picks the operation, the next
//! bytes its arguments; the run ends when the bytes do.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tardy::{
    AddQueueError, Clock, GetTaskError, HeaplessQueue, ManualClock, MissedTickBehavior, QueueId,
    ScheduleError, Scheduler, Task, TaskDoneError, TaskId, Ticks, When,
};

type T = Task<u8, u32>;
const CAP: usize = 16;
const QUEUE_CAP: usize = 4;
const QUEUES: usize = 4;
type S<'c> = Scheduler<&'c ManualClock, HeaplessQueue<T, QUEUE_CAP>, u8, u32, CAP, QUEUES>;

/// Five valid names (one more than there are queue slots) and two invalid.
const NAMES: [&str; 7] = [
    "q0",
    "q1",
    "q2",
    "q3",
    "q4",
    "",
    "a-queue-name-longer-than-31-bytes",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In the scheduler: in the schedule (`released == false`), or due and
    /// in its queue or waiting for room (`released == true`).
    In {
        queue: QueueId,
        released: bool,
        deadline: Ticks,
    },
    /// A periodic task in the scheduler (in the schedule or waiting for
    /// room).
    Periodic { queue: QueueId },
    /// Taken by a worker (in `Model::held`).
    Held,
    /// Taken and dropped by a worker.
    Done,
    /// Handed back: cancelled, removed with its queue, cleared, or refused.
    Back,
}

#[derive(Debug)]
struct Number {
    state: State,
    subject: u8,
    attempt: u32,
    id: Option<TaskId>,
    /// A periodic task (its occurrences carry its number).
    periodic: bool,
    /// The period index its next occurrence to leave the queue must carry.
    owed: u64,
    /// After a saturated missed count: indexes only grow.
    lenient: bool,
}

impl Number {
    fn new(subject: u8) -> Self {
        Self {
            state: State::Back,
            subject,
            attempt: 0,
            id: None,
            periodic: false,
            owed: 0,
            lenient: false,
        }
    }

    /// In the scheduler as a one-shot or a periodic task.
    fn scheduled(&self) -> bool {
        matches!(self.state, State::In { .. } | State::Periodic { .. })
    }
}

#[derive(Debug)]
struct LiveQueue {
    id: QueueId,
    name: usize,
    taken: u64,
    done: u64,
}

struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn u64(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for _ in 0..8 {
            v = (v << 8) | u64::from(self.byte()?);
        }
        Some(v)
    }

    /// An absolute time near `now`, or one of the edges.
    fn time(&mut self, now: Ticks) -> Option<Ticks> {
        let b = self.byte()?;
        let small = u64::from(b >> 3);
        Some(match b & 7 {
            0 => Ticks::MAX,
            1 => 0,
            2 => now,
            3 => now.saturating_sub(small),
            7 => self.u64()?,
            _ => now.saturating_add(small),
        })
    }

    /// A delay: small, 0, huge, or any.
    fn delay(&mut self) -> Option<Ticks> {
        let b = self.byte()?;
        Some(match b & 7 {
            0 => Ticks::MAX,
            1 => 0,
            2 => Ticks::MAX - 1,
            7 => self.u64()?,
            _ => u64::from(b >> 3),
        })
    }

    fn when(&mut self, now: Ticks) -> Option<When> {
        Some(match self.byte()? % 3 {
            0 => When::Now,
            1 => When::At(self.time(now)?),
            _ => When::After(self.delay()?),
        })
    }
}

fn deadline_of(when: When, now: Ticks) -> Ticks {
    match when {
        When::Now => now,
        When::At(t) => t,
        When::After(d) => now.saturating_add(d),
    }
}

struct Model<'c> {
    clock: &'c ManualClock,
    s: S<'c>,
    numbers: Vec<Number>,
    held: Vec<T>,
    live: Vec<LiveQueue>,
    /// Every queue handle ever returned, live or removed.
    queue_ids: Vec<QueueId>,
    /// Every task handle ever returned.
    task_ids: Vec<TaskId>,
    /// Occurrences that left their queues.
    occurrences: u64,
    /// Queues that had a periodic task.
    periodic_queues: Vec<QueueId>,
}

impl<'c> Model<'c> {
    fn new(clock: &'c ManualClock) -> Self {
        Self {
            clock,
            s: Scheduler::new(clock),
            numbers: Vec::new(),
            held: Vec::new(),
            live: Vec::new(),
            queue_ids: Vec::new(),
            task_ids: Vec::new(),
            occurrences: 0,
            periodic_queues: Vec::new(),
        }
    }

    fn live(&self, q: QueueId) -> Option<&LiveQueue> {
        self.live.iter().find(|l| l.id == q)
    }

    fn number_of(&self, task: &T) -> usize {
        usize::try_from(*task.payload()).expect("payload is a task number")
    }

    /// A task left the scheduler towards the caller: it must have been in.
    fn leave(&mut self, task: &T, to: State, expect_queue: Option<QueueId>) {
        let n = self.number_of(task);
        let entry = &mut self.numbers[n];
        let (State::In { queue, .. } | State::Periodic { queue }) = entry.state else {
            panic!(
                "task {n} came out of the scheduler twice (was {:?})",
                entry.state
            );
        };
        assert_eq!(task.period(), None, "task {n} is not an occurrence");
        if let Some(q) = expect_queue {
            assert_eq!(queue, q, "task {n} came out of the wrong queue");
        }
        assert_eq!(task.queue(), queue);
        assert_eq!(task.subject(), &entry.subject);
        assert_eq!(task.attempt(), entry.attempt);
        assert_eq!(task.id(), entry.id);
        entry.state = to;
    }

    /// An occurrence of periodic task `n` left its queue `q` (taken or
    /// handed back): its index must be the one owed next.
    fn occurrence_out(&mut self, task: &T, q: QueueId) {
        let n = self.number_of(task);
        let p = task.period().expect("an occurrence");
        let e = &mut self.numbers[n];
        assert!(e.periodic, "occurrence of {n}, which is not periodic");
        if e.lenient {
            assert!(p.index >= e.owed, "occurrence of {n}: index went back");
        } else {
            assert_eq!(p.index, e.owed, "occurrence of {n}: period index");
        }
        // A saturated missed count no longer tells the next index.
        e.lenient |= p.missed >= u64::from(u32::MAX);
        e.owed = p
            .index
            .saturating_add(p.missed)
            .saturating_add(1)
            .min(u64::MAX >> 2);
        assert_eq!(task.queue(), q);
        assert_eq!(task.subject(), &e.subject);
        assert_eq!(task.attempt(), 1);
        assert!(
            task.id().is_some() && task.id() != e.id,
            "an occurrence has its own id"
        );
        self.occurrences += 1;
    }

    fn pick_queue(&self, input: &mut Input<'_>) -> Option<QueueId> {
        let b = input.byte()?;
        if self.queue_ids.is_empty() {
            return None;
        }
        Some(self.queue_ids[usize::from(b) % self.queue_ids.len()])
    }

    fn pick_id(&self, input: &mut Input<'_>) -> Option<TaskId> {
        let b = input.byte()?;
        if b == 0xff || self.task_ids.is_empty() {
            // A raw handle: stale, foreign, or by luck a live one.
            return TaskId::from_raw(input.u64()?);
        }
        Some(self.task_ids[usize::from(b) % self.task_ids.len()])
    }

    /// Schedules `task` as number `n`; on success the model follows.
    fn schedule(&mut self, n: usize, task: T, when: When) -> Result<(), T> {
        let now = self.clock.now();
        let q = task.queue();
        let before_len = self.s.len();
        let stats = self.s.stats(q).ok();
        match self.s.schedule(task, when) {
            Ok(id) => {
                assert!(self.live(q).is_some(), "scheduled into a removed queue");
                self.task_ids.push(id);
                let entry = &mut self.numbers[n];
                entry.attempt = entry.attempt.saturating_add(1);
                entry.id = Some(id);
                entry.state = State::In {
                    queue: q,
                    released: when == When::Now,
                    deadline: deadline_of(when, now),
                };
                Ok(())
            }
            Err(e) => {
                match &e {
                    ScheduleError::UnknownQueue(_) => {
                        assert!(self.live(q).is_none(), "live queue reported unknown")
                    }
                    ScheduleError::QueueFull(_) => {
                        assert_eq!(when, When::Now, "only Now meets a full queue");
                        let st = stats.expect("full queue exists");
                        assert!(st.room == 0 || st.waiting > 0, "queue had room: {st:?}");
                    }
                    ScheduleError::Capacity(_) => {
                        assert_ne!(when, When::Now, "Now takes no slot");
                        assert_eq!(before_len, CAP, "capacity error with free slots");
                    }
                    _ => panic!("unexpected error {e:?}"),
                }
                let task = e.into_inner();
                assert_eq!(self.number_of(&task), n);
                assert_eq!(
                    task.attempt(),
                    self.numbers[n].attempt,
                    "refused task changed"
                );
                Err(task)
            }
        }
    }

    /// Schedules periodic task `n`; on success the model follows.
    fn schedule_periodic(
        &mut self,
        n: usize,
        task: T,
        when: When,
        period: Ticks,
        behavior: MissedTickBehavior,
    ) {
        let q = task.queue();
        let before_len = self.s.len();
        match self.s.schedule_periodic(task, when, period, behavior) {
            Ok(id) => {
                assert!(self.live(q).is_some(), "scheduled into a removed queue");
                assert_ne!(period, 0);
                assert!(self.s.is_scheduled(id));
                self.task_ids.push(id);
                let e = &mut self.numbers[n];
                (e.attempt, e.id, e.periodic) = (1, Some(id), true);
                e.state = State::Periodic { queue: q };
                self.periodic_queues.push(q);
            }
            Err(e) => {
                match &e {
                    ScheduleError::ZeroPeriod(_) => assert_eq!(period, 0),
                    ScheduleError::UnknownQueue(_) => {
                        assert!(self.live(q).is_none(), "live queue reported unknown")
                    }
                    ScheduleError::Capacity(_) => {
                        assert_eq!(before_len, CAP, "capacity error with free slots")
                    }
                    _ => panic!("unexpected error {e:?}"),
                }
                let task = e.into_inner();
                assert_eq!(
                    (self.number_of(&task), task.attempt(), task.id()),
                    (n, 0, None)
                );
            }
        }
    }

    /// Tasks handed back from queue `q` (or any queue: `None`).
    fn back(&mut self, back: &[T], q: Option<QueueId>) {
        for t in back {
            if t.period().is_some() {
                self.occurrence_out(t, t.queue());
            } else {
                self.leave(t, State::Back, q);
            }
        }
    }

    fn step(&mut self, input: &mut Input<'_>) -> Option<()> {
        let now = self.clock.now();
        match input.byte()? % 15 {
            0 => {
                let b = input.byte()?;
                let name_i = usize::from(b) % NAMES.len();
                let max = usize::from(b >> 4) % (QUEUE_CAP + 2);
                let name = NAMES[name_i];
                let taken = self.live.iter().any(|l| l.name == name_i);
                match self.s.add_queue(name, max) {
                    Ok(id) => {
                        assert!(name_i < 5 && !taken && self.live.len() < QUEUES);
                        assert!(max <= QUEUE_CAP);
                        assert!(!self.queue_ids.contains(&id), "queue handle reused");
                        self.queue_ids.push(id);
                        self.live.push(LiveQueue {
                            id,
                            name: name_i,
                            taken: 0,
                            done: 0,
                        });
                        assert_eq!(self.s.queue_id(name), Ok(id));
                    }
                    Err(AddQueueError::InvalidName) => assert!(name_i >= 5),
                    Err(AddQueueError::NameTaken) => assert!(taken),
                    Err(AddQueueError::NoQueueSlot) => assert_eq!(self.live.len(), QUEUES),
                    Err(AddQueueError::InvalidMaxSize) => assert!(max > QUEUE_CAP),
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            1 | 2 => {
                let remove = input.data.first().is_some_and(|b| b & 1 == 0);
                let q = self.pick_queue(input)?;
                let mut back = Vec::new();
                let r = if remove {
                    self.s.remove_queue(q, |t| back.push(t))
                } else {
                    self.s.clear_queue(q, |t| back.push(t))
                };
                match r {
                    Ok(count) => {
                        assert!(self.live(q).is_some());
                        assert_eq!(count, back.len());
                        self.back(&back, Some(q));
                        if remove {
                            self.live.retain(|l| l.id != q);
                        }
                    }
                    Err(_) => {
                        assert!(self.live(q).is_none());
                        assert!(back.is_empty());
                    }
                }
            }
            3 => {
                let q = self.pick_queue(input)?;
                let subject = input.byte()? % 4;
                let when = input.when(now)?;
                let n = self.numbers.len();
                self.numbers.push(Number::new(subject));
                let number = u32::try_from(n).expect("few tasks");
                if input.data.first().is_some_and(|b| b & 0x80 != 0) {
                    let b = input.byte()?;
                    let period = match b & 3 {
                        0 => 0,
                        1 => Ticks::MAX,
                        _ => u64::from(b >> 2),
                    };
                    let behavior = match input.byte()? % 3 {
                        0 => MissedTickBehavior::Burst,
                        1 => MissedTickBehavior::Delay,
                        _ => MissedTickBehavior::Skip,
                    };
                    self.schedule_periodic(
                        n,
                        Task::new(q, subject, number),
                        when,
                        period,
                        behavior,
                    );
                } else {
                    // Refused: it stays `Back`, handed back to its caller.
                    let _ = self.schedule(n, Task::new(q, subject, number), when);
                }
            }
            4 => {
                // A worker retries a task it holds, maybe into another queue.
                let b = input.byte()?;
                if self.held.is_empty() {
                    return Some(());
                }
                let to = if b & 0x80 != 0 {
                    Some(self.pick_queue(input)?)
                } else {
                    None
                };
                let when = input.when(now)?;
                let mut task = self.held.swap_remove(usize::from(b) % self.held.len());
                if let Some(q) = to {
                    task.set_queue(q);
                }
                let n = self.number_of(&task);
                if let Err(task) = self.schedule(n, task, when) {
                    self.held.push(task);
                }
            }
            5 => {
                let id = self.pick_id(input)?;
                let when = input.when(now)?;
                let owner = self
                    .numbers
                    .iter()
                    .position(|e| e.id == Some(id) && e.scheduled());
                let res = self.s.reschedule(id, when);
                match (res, owner) {
                    (Ok(deadline), Some(n)) if self.numbers[n].periodic => {
                        assert_eq!(deadline, deadline_of(when, now), "reschedule's deadline");
                    }
                    (Ok(deadline), Some(n)) => {
                        let State::In { queue, .. } = self.numbers[n].state else {
                            unreachable!()
                        };
                        assert_eq!(deadline, deadline_of(when, now), "reschedule's deadline");
                        self.numbers[n].state = State::In {
                            queue,
                            released: false,
                            deadline,
                        };
                    }
                    (Ok(_), None) => panic!("rescheduled a task that is not in"),
                    (Err(_), Some(n)) => assert!(
                        matches!(self.numbers[n].state, State::In { released: true, .. }),
                        "a scheduled task could not be rescheduled"
                    ),
                    (Err(_), None) => {}
                }
            }
            6 => {
                let id = self.pick_id(input)?;
                let owner = self
                    .numbers
                    .iter()
                    .position(|e| e.id == Some(id) && e.scheduled());
                match (self.s.cancel(id), owner) {
                    (Ok(t), Some(n)) => {
                        assert_eq!(self.number_of(&t), n);
                        assert_eq!(t.id(), Some(id));
                        self.leave(&t, State::Back, None);
                    }
                    (Ok(t), None) => panic!("cancelled a task that is not in: {t:?}"),
                    (Err(_), Some(n)) => assert!(
                        matches!(self.numbers[n].state, State::In { released: true, .. }),
                        "a scheduled task could not be cancelled"
                    ),
                    (Err(_), None) => {}
                }
            }
            7 => {
                let subject = input.byte()? % 5;
                let mut back = Vec::new();
                let count = self.s.cancel_by_subject(&subject, |t| back.push(t));
                assert_eq!(count, back.len());
                for t in &back {
                    assert_eq!(t.subject(), &subject);
                    self.leave(t, State::Back, None);
                }
                let left = self.numbers.iter().any(|e| {
                    e.subject == subject
                        && matches!(
                            e.state,
                            State::In {
                                released: false,
                                ..
                            } | State::Periodic { .. }
                        )
                });
                assert!(!left, "cancel_by_subject left a scheduled task behind");
            }
            8 => {
                let q = self.pick_queue(input)?;
                match self.s.get_task(q) {
                    Ok(mut t) if t.period().is_some() => {
                        self.occurrence_out(&t, q);
                        let l = self.live.iter_mut().find(|l| l.id == q).expect("live");
                        l.taken += 1;
                        // A worker holds it now: a number of its own.
                        let n = self.numbers.len();
                        let mut e = Number::new(*t.subject());
                        (e.state, e.attempt, e.id) = (State::Held, t.attempt(), t.id());
                        self.numbers.push(e);
                        *t.payload_mut() = u32::try_from(n).expect("few tasks");
                        self.held.push(t);
                    }
                    Ok(t) => {
                        let n = self.number_of(&t);
                        match self.numbers[n].state {
                            State::In {
                                released, deadline, ..
                            } => {
                                assert!(released, "task {n} delivered early");
                                assert_eq!(t.deadline(), deadline);
                            }
                            other => panic!("task {n} delivered while {other:?}"),
                        }
                        self.leave(&t, State::Held, Some(q));
                        let l = self.live.iter_mut().find(|l| l.id == q).expect("live");
                        l.taken += 1;
                        self.held.push(t);
                    }
                    Err(GetTaskError::Empty) => {
                        assert!(self.live(q).is_some());
                        let due = self.numbers.iter().any(|e| {
                            matches!(e.state, State::In { queue, released: true, .. } if queue == q)
                        });
                        assert!(!due, "queue empty while a due task waits for it");
                    }
                    Err(GetTaskError::UnknownQueue) => assert!(self.live(q).is_none()),
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            9 => {
                let q = self.pick_queue(input)?;
                let r = self.s.task_done(q);
                match self.live.iter_mut().find(|l| l.id == q) {
                    None => assert_eq!(r, Err(TaskDoneError::UnknownQueue)),
                    Some(l) if l.done < l.taken => {
                        assert_eq!(r, Ok(()));
                        l.done += 1;
                    }
                    Some(_) => assert_eq!(r, Err(TaskDoneError::NotTaken)),
                }
            }
            10 => {
                // A worker finishes a task and drops it.
                let b = input.byte()?;
                if !self.held.is_empty() {
                    let t = self.held.swap_remove(usize::from(b) % self.held.len());
                    let n = self.number_of(&t);
                    assert_eq!(self.numbers[n].state, State::Held);
                    self.numbers[n].state = State::Done;
                }
            }
            11 => {
                let b = input.byte()?;
                let small = u64::from(b >> 3);
                match b & 7 {
                    0 => self.clock.set(Ticks::MAX),
                    1 => self.clock.set(0),
                    2 => self.clock.set(now.saturating_sub(small)), // backwards
                    3 => self.clock.advance(1 << 40),               // far forwards
                    7 => self.clock.set(input.u64()?),
                    _ => self.clock.advance(small),
                }
            }
            12 => {
                self.s.run_pending();
                let stop = self.stop(now);
                self.release(|d| d <= now && d <= stop);
            }
            13 => {
                self.s.run_all();
                let stop = self.stop(Ticks::MAX);
                self.release(|d| d <= stop);
            }
            _ => {
                let mut back = Vec::new();
                let count = self.s.clear(|t| back.push(t));
                assert_eq!(count, back.len());
                self.back(&back, None);
            }
        }
        Some(())
    }

    /// Where a run up to `limit` stopped: a call delivers at most one
    /// occurrence of each periodic task and stops at the next one if it is
    /// due too, so one-shot tasks due after that deadline stay scheduled.
    /// Anything left due at the top of the schedule is such an occurrence.
    fn stop(&self, limit: Ticks) -> Ticks {
        self.s
            .next_deadline()
            .filter(|&d| d <= limit)
            .unwrap_or(Ticks::MAX)
    }

    fn release(&mut self, due: impl Fn(Ticks) -> bool) {
        for e in &mut self.numbers {
            if let State::In {
                queue,
                released: false,
                deadline,
            } = e.state
            {
                if due(deadline) {
                    e.state = State::In {
                        queue,
                        released: true,
                        deadline,
                    };
                }
            }
        }
    }

    /// The scheduler's counters agree with the model.
    fn check(&self) {
        let mut total_scheduled = 0;
        for l in &self.live {
            let st = self.s.stats(l.id).expect("live queue has stats");
            let mut inside = 0;
            let mut unreleased = 0;
            let mut periodic = 0;
            for e in &self.numbers {
                match e.state {
                    State::In {
                        queue, released, ..
                    } if queue == l.id => {
                        inside += 1;
                        unreleased += usize::from(!released);
                    }
                    State::Periodic { queue } if queue == l.id => periodic += 1,
                    _ => {}
                }
            }
            if periodic == 0 && !self.occurrences_may_be_in(l.id) {
                assert_eq!(
                    st.scheduled + st.queued,
                    inside,
                    "tasks lost or duplicated: {st:?}"
                );
            } else {
                // Occurrences in the queue are counted when they leave it.
                assert!(
                    st.scheduled + st.queued >= inside + periodic,
                    "tasks lost: {st:?}"
                );
            }
            // A periodic task is in the schedule or waits for room.
            assert!(
                (unreleased..=unreleased + periodic).contains(&(st.scheduled - st.waiting)),
                "schedule differs: {st:?}"
            );
            assert_eq!((st.taken, st.done), (l.taken, l.done));
            assert!(st.queued <= st.max_size);
            total_scheduled += st.scheduled;
        }
        for e in &self.numbers {
            if let State::In { queue, .. } = e.state {
                assert!(self.live(queue).is_some(), "task left in a removed queue");
            }
        }
        assert_eq!(self.s.len(), total_scheduled);
        assert!(self.s.len() <= CAP);
        let earliest = self
            .numbers
            .iter()
            .filter_map(|e| match e.state {
                State::In {
                    released: false,
                    deadline,
                    ..
                } => Some(deadline),
                _ => None,
            })
            .min();
        if self
            .numbers
            .iter()
            .any(|e| matches!(e.state, State::Periodic { .. }))
        {
            if let Some(earliest) = earliest {
                let next = self.s.next_deadline().expect("a task is scheduled");
                assert!(next <= earliest, "next_deadline after a one-shot deadline");
            }
        } else {
            assert_eq!(self.s.next_deadline(), earliest, "next_deadline differs");
        }
        let held = self
            .numbers
            .iter()
            .filter(|e| e.state == State::Held)
            .count();
        assert_eq!(held, self.held.len());
    }

    /// `true` when a periodic task of queue `q` has existed: occurrences
    /// may be in it.
    fn occurrences_may_be_in(&self, q: QueueId) -> bool {
        self.periodic_queues.contains(&q)
    }

    /// Drains everything; every number must end delivered once or handed
    /// back.
    fn finish(mut self) {
        // Periodic tasks first (handed back once each), then every
        // one-shot task is delivered.
        let mut back = Vec::new();
        let periodic: Vec<TaskId> = self
            .numbers
            .iter()
            .filter(|e| matches!(e.state, State::Periodic { .. }))
            .filter_map(|e| e.id)
            .collect();
        for id in periodic {
            back.push(self.s.cancel(id).expect("a periodic task is scheduled"));
        }
        self.back(&back, None);
        self.s.run_all();
        self.release(|_| true);
        let queues: Vec<QueueId> = self.live.iter().map(|l| l.id).collect();
        for q in queues {
            while let Ok(t) = self.s.get_task(q) {
                if let Some(l) = self.live.iter_mut().find(|l| l.id == q) {
                    l.taken += 1;
                }
                if t.period().is_some() {
                    self.occurrence_out(&t, q);
                    continue;
                }
                self.leave(&t, State::Held, Some(q));
                self.held.push(t);
            }
        }
        self.check();
        assert!(self.s.is_empty(), "tasks left after run_all and draining");
        let mut back = Vec::new();
        assert_eq!(self.s.clear(|t| back.push(t)), 0);
        for e in &self.numbers {
            assert!(
                matches!(e.state, State::Held | State::Done | State::Back),
                "task not accounted for: {e:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let clock = ManualClock::new(1000);
    let mut model = Model::new(&clock);
    let mut input = Input { data };
    while model.step(&mut input).is_some() {
        model.check();
    }
    model.check();
    model.finish();
});
