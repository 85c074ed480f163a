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
//! The input is decoded by hand: one byte picks the operation, the next
//! bytes its arguments; the run ends when the bytes do.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tardy::{
    AddQueueError, Clock, GetTaskError, HeaplessQueue, ManualClock, QueueId, ScheduleError,
    Scheduler, Task, TaskDoneError, TaskId, Ticks, When,
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
        let State::In { queue, .. } = entry.state else {
            panic!(
                "task {n} came out of the scheduler twice (was {:?})",
                entry.state
            );
        };
        if let Some(q) = expect_queue {
            assert_eq!(queue, q, "task {n} came out of the wrong queue");
        }
        assert_eq!(task.queue(), queue);
        assert_eq!(task.subject(), &entry.subject);
        assert_eq!(task.attempt(), entry.attempt);
        assert_eq!(task.id(), entry.id);
        entry.state = to;
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
                        for t in &back {
                            self.leave(t, State::Back, Some(q));
                        }
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
                self.numbers.push(Number {
                    state: State::Back,
                    subject,
                    attempt: 0,
                    id: None,
                });
                let number = u32::try_from(n).expect("few tasks");
                // Refused: it stays `Back`, handed back to its caller.
                let _ = self.schedule(n, Task::new(q, subject, number), when);
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
                    .position(|e| e.id == Some(id) && matches!(e.state, State::In { .. }));
                let res = self.s.reschedule(id, when);
                match (res, owner) {
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
                    .position(|e| e.id == Some(id) && matches!(e.state, State::In { .. }));
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
                            }
                        )
                });
                assert!(!left, "cancel_by_subject left a scheduled task behind");
            }
            8 => {
                let q = self.pick_queue(input)?;
                match self.s.get_task(q) {
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
                self.release(|d| d <= now);
            }
            13 => {
                self.s.run_all();
                self.release(|_| true);
            }
            _ => {
                let mut back = Vec::new();
                let count = self.s.clear(|t| back.push(t));
                assert_eq!(count, back.len());
                for t in &back {
                    self.leave(t, State::Back, None);
                }
            }
        }
        Some(())
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
            for e in &self.numbers {
                if let State::In {
                    queue, released, ..
                } = e.state
                {
                    if queue == l.id {
                        inside += 1;
                        unreleased += usize::from(!released);
                    }
                }
            }
            assert_eq!(
                st.scheduled + st.queued,
                inside,
                "tasks lost or duplicated: {st:?}"
            );
            assert_eq!(
                st.scheduled - st.waiting,
                unreleased,
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
        assert_eq!(self.s.next_deadline(), earliest, "next_deadline differs");
        let held = self
            .numbers
            .iter()
            .filter(|e| e.state == State::Held)
            .count();
        assert_eq!(held, self.held.len());
    }

    /// Drains everything; every number must end delivered once or handed
    /// back.
    fn finish(mut self) {
        self.s.run_all();
        self.release(|_| true);
        let queues: Vec<QueueId> = self.live.iter().map(|l| l.id).collect();
        for q in queues {
            while let Ok(t) = self.s.get_task(q) {
                self.leave(&t, State::Held, Some(q));
                if let Some(l) = self.live.iter_mut().find(|l| l.id == q) {
                    l.taken += 1;
                }
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
