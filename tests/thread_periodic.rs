//! Periodic tasks in the threaded layer: each missed-period policy against a
//! timeline worked out by hand (a clock jump forward, a full queue with a
//! slow worker), the hand-back of the original by every path, retries,
//! `run_all` and the loops that must end with a period shorter than a move.
//!
//! The clock is set by hand; the scheduler thread is not started unless a
//! test says so (`run_pending` moves time). No test asserts how long
//! anything took.

#![cfg(all(feature = "std", feature = "periodic"))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tardy::{
    CancelError, Clock, MissedTickBehavior, MonotonicClock, Options, QueueId, SchedulerThread,
    SubmitError, TakeError, Task, TaskId, Ticks, Wait, When,
};

use MissedTickBehavior::{Burst, Delay, Skip};

/// A clock the test sets by hand, shared with the scheduler; each reading
/// moves it on by `step` ticks (0: it stands still).
#[derive(Clone)]
struct SetClock {
    now: Arc<AtomicU64>,
    step: u64,
}

impl SetClock {
    fn at(now: Ticks) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(now)),
            step: 0,
        }
    }

    fn set(&self, now: Ticks) {
        self.now.store(now, Ordering::SeqCst);
    }
}

impl Clock for SetClock {
    fn now(&self) -> Ticks {
        self.now.fetch_add(self.step, Ordering::SeqCst)
    }
}

type Sched = SchedulerThread<u32, Arc<str>, SetClock>;

fn sched(queues: &[(&str, usize)]) -> (Sched, SetClock, QueueId) {
    let clock = SetClock::at(0);
    let s = Sched::new(clock.clone(), queues, Options::new()).unwrap();
    let q = s.queue_id(queues[0].0).unwrap();
    (s, clock, q)
}

fn payload() -> Arc<str> {
    Arc::from("ocsp")
}

/// An occurrence: (deadline, period index, missed).
type Seen = (Ticks, u64, u64);

/// What the worker took at each time.
type Timeline = Vec<(Ticks, Vec<Seen>)>;

/// What an occurrence says: (deadline, period index, missed).
fn seen(task: &Task<u32, Arc<str>>) -> Seen {
    let p = task.period().expect("an occurrence says its period");
    (task.deadline(), p.index, p.missed)
}

/// Everything queued in `q` now, oldest first.
fn drain(s: &Sched, q: QueueId) -> Vec<Seen> {
    let mut out = Vec::new();
    while let Ok(t) = s.get_task(q, Wait::NoWait) {
        out.push(seen(&t));
    }
    out
}

/// Period 10 from 0, an unbounded queue, a worker that keeps up; the
/// clock jumps from 10 to 35 (the host slept through 20 and 30).
fn jump_forward(missed: MissedTickBehavior) -> Timeline {
    let (s, clock, q) = sched(&[("q", 0)]);
    let id = s
        .schedule_periodic(Task::new(q, 1, payload()), When::At(0), 10, missed)
        .unwrap();
    let mut timeline = Vec::new();
    for t in [0, 10, 35, 40, 45, 50, 55] {
        clock.set(t);
        s.run_pending().unwrap();
        timeline.push((t, drain(&s, q)));
    }
    assert!(s.is_scheduled(id));
    timeline
}

#[test]
fn burst_catches_up_after_a_clock_jump() {
    // Both missed periods at 35, on the grid; then on time again.
    assert_eq!(
        jump_forward(Burst),
        vec![
            (0, vec![(0, 0, 0)]),
            (10, vec![(10, 1, 0)]),
            (35, vec![(20, 2, 0), (30, 3, 0)]),
            (40, vec![(40, 4, 0)]),
            (45, vec![]),
            (50, vec![(50, 5, 0)]),
            (55, vec![]),
        ]
    );
}

#[test]
fn skip_coalesces_after_a_clock_jump() {
    // One delivery at 35 for the periods at 20 and 30; the grid goes on.
    assert_eq!(
        jump_forward(Skip),
        vec![
            (0, vec![(0, 0, 0)]),
            (10, vec![(10, 1, 0)]),
            (35, vec![(20, 2, 1)]),
            (40, vec![(40, 4, 0)]),
            (45, vec![]),
            (50, vec![(50, 5, 0)]),
            (55, vec![]),
        ]
    );
}

#[test]
fn delay_shifts_after_a_clock_jump() {
    // One delivery at 35, then every 10 from the delivery: 45, 55.
    assert_eq!(
        jump_forward(Delay),
        vec![
            (0, vec![(0, 0, 0)]),
            (10, vec![(10, 1, 0)]),
            (35, vec![(20, 2, 1)]),
            (40, vec![]),
            (45, vec![(45, 4, 0)]),
            (50, vec![]),
            (55, vec![(55, 5, 0)]),
        ]
    );
}

/// Period 10 from 0 into a queue of size 1; the worker takes #0 only at
/// 35, then everything queued at once, and at 40, 45, 50 and 55 what is
/// there. Returns what it took at each time.
fn full_queue(missed: MissedTickBehavior) -> Timeline {
    let (s, clock, q) = sched(&[("one", 1)]);
    let id = s
        .schedule_periodic(Task::new(q, 1, payload()), When::At(0), 10, missed)
        .unwrap();
    clock.set(0);
    assert_eq!(s.run_pending(), Ok(1));
    for t in [10, 20, 30] {
        clock.set(t);
        s.run_pending().unwrap();
        let st = s.stats(q).unwrap();
        assert_eq!((st.queued, st.waiting, st.scheduled), (1, 1, 1), "at {t}");
    }
    let mut timeline = Vec::new();
    for t in [35, 40, 45, 50, 55] {
        clock.set(t);
        let mut took = Vec::new();
        loop {
            s.run_pending().unwrap();
            match s.get_task(q, Wait::NoWait) {
                Ok(task) => took.push(seen(&task)),
                Err(TakeError::Empty) => break,
                Err(e) => panic!("{e}"),
            }
        }
        timeline.push((t, took));
    }
    assert!(s.is_scheduled(id));
    timeline
}

#[test]
fn burst_with_a_full_queue_and_a_slow_worker() {
    // #1 waited for room from 10 to 35 (it is on time when it enters: the
    // count is Burst's), then #2 and #3 catch up one by one.
    assert_eq!(
        full_queue(Burst),
        vec![
            (35, vec![(0, 0, 0), (10, 1, 0), (20, 2, 0), (30, 3, 0)]),
            (40, vec![(40, 4, 0)]),
            (45, vec![]),
            (50, vec![(50, 5, 0)]),
            (55, vec![]),
        ]
    );
}

#[test]
fn skip_with_a_full_queue_and_a_slow_worker() {
    // #1 enters at 35 and stands for 20 and 30 too; the grid goes on at 40.
    assert_eq!(
        full_queue(Skip),
        vec![
            (35, vec![(0, 0, 0), (10, 1, 2)]),
            (40, vec![(40, 4, 0)]),
            (45, vec![]),
            (50, vec![(50, 5, 0)]),
            (55, vec![]),
        ]
    );
}

#[test]
fn delay_with_a_full_queue_and_a_slow_worker() {
    // #1 enters at 35 and stands for 20 and 30; the next is due at 45.
    assert_eq!(
        full_queue(Delay),
        vec![
            (35, vec![(0, 0, 0), (10, 1, 2)]),
            (40, vec![]),
            (45, vec![(45, 4, 0)]),
            (50, vec![]),
            (55, vec![(55, 5, 0)]),
        ]
    );
}

/// Every period is accounted for once: the next index is the last index
/// plus its missed count plus one.
#[test]
fn every_period_is_accounted_for_once() {
    for missed in [Burst, Delay, Skip] {
        let (s, clock, q) = sched(&[("q", 0)]);
        s.schedule_periodic(Task::new(q, 1, payload()), When::At(3), 7, missed)
            .unwrap();
        let mut next = 0;
        let mut t = 0;
        for jump in [3, 1, 9, 30, 2, 7, 100, 7, 7, 50] {
            t += jump;
            clock.set(t);
            s.run_pending().unwrap();
            for (deadline, index, missed_count) in drain(&s, q) {
                assert!(deadline <= t, "never early");
                assert_eq!(index, next, "{missed:?} at {t}");
                next = index + missed_count + 1;
            }
        }
        assert!(next > 0);
    }
}

#[test]
fn cancel_hands_the_original_back_once_and_nothing_more_is_delivered() {
    let (s, clock, q) = sched(&[("q", 0)]);
    let id = s
        .schedule_periodic(Task::new(q, 7, payload()), When::After(5), 10, Skip)
        .unwrap();
    clock.set(15);
    assert_eq!(s.run_pending(), Ok(1));
    let back = s.cancel(id).unwrap();
    assert_eq!(back.id(), Some(id), "the periodic handle");
    assert_eq!(back.deadline(), 25, "its next deadline");
    assert_eq!(back.period(), None, "the original, not an occurrence");
    assert_eq!((*back.subject(), &*back.into_payload()), (7, "ocsp"));
    assert_eq!(s.cancel(id).unwrap_err(), CancelError::NotScheduled);
    assert!(!s.is_scheduled(id));
    clock.set(1_000);
    assert_eq!(s.run_pending(), Ok(0));
    assert_eq!(s.run_all(), Ok(0));
    assert_eq!(
        drain(&s, q),
        vec![(5, 0, 1)],
        "only the one delivered before"
    );
}

#[test]
fn cancel_by_subject_remove_queue_and_stop_hand_it_back_once() {
    let (s, clock, q) = sched(&[("q", 0), ("other", 0)]);
    let other = s.queue_id("other").unwrap();
    let a = s
        .schedule_periodic(Task::new(q, 1, payload()), When::At(0), 10, Burst)
        .unwrap();
    let b = s
        .schedule_periodic(Task::new(other, 2, payload()), When::At(0), 10, Skip)
        .unwrap();
    let c = s
        .schedule_periodic(Task::new(q, 3, payload()), When::At(0), 10, Delay)
        .unwrap();
    clock.set(0);
    assert_eq!(s.run_pending(), Ok(3));

    let by_subject = s.cancel_by_subject(&1).unwrap();
    assert_eq!(by_subject.len(), 1);
    assert_eq!(by_subject[0].id(), Some(a));
    assert!(s.cancel_by_subject(&1).unwrap().is_empty());

    // The queue's occurrence comes back too, as an occurrence.
    let removed = s.remove_queue(other).unwrap();
    let originals: Vec<_> = removed.iter().filter(|t| t.period().is_none()).collect();
    assert_eq!(originals.len(), 1);
    assert_eq!(originals[0].id(), Some(b));
    assert_eq!(removed.len(), 2);

    let stopped = s.stop().unwrap();
    let originals: Vec<_> = stopped.iter().filter(|t| t.period().is_none()).collect();
    assert_eq!(originals.len(), 1);
    assert_eq!(originals[0].id(), Some(c));
    assert!(!s.is_scheduled(c));
}

#[test]
fn a_periodic_task_counts_as_one_scheduled_task() {
    let (s, clock, q) = sched(&[("q", 4)]);
    let id = s
        .schedule_periodic(Task::new(q, 1, payload()), When::Now, 10, Skip)
        .unwrap();
    assert!(s.is_scheduled(id));
    assert_eq!(s.scheduled_len(), Ok(1));
    assert_eq!(s.stats(q).unwrap().scheduled, 1);
    assert_eq!(
        s.stats(q).unwrap().queued,
        0,
        "When::Now goes through the schedule"
    );
    assert_eq!(s.next_deadline(), Ok(Some(0)));
    for t in [0, 10, 20] {
        clock.set(t);
        s.run_pending().unwrap();
    }
    let st = s.stats(q).unwrap();
    assert_eq!((st.scheduled, st.queued), (1, 3));
    assert_eq!(s.scheduled_len(), Ok(1));
    assert_eq!(s.inspect_task(id, |t| t.deadline()), Some(30));
    s.reschedule(id, When::At(100)).unwrap();
    assert_eq!(s.next_deadline(), Ok(Some(100)));
}

/// A worker retries an occurrence (schedules it again): a one-shot task
/// with a new id and the next attempt; the period goes on undisturbed.
#[test]
fn a_worker_retries_an_occurrence_without_disturbing_the_period() {
    let (s, clock, q) = sched(&[("q", 0)]);
    let id = s
        .schedule_periodic(Task::new(q, 1, payload()), When::At(0), 10, Skip)
        .unwrap();
    clock.set(0);
    s.run_pending().unwrap();
    let first = s.get_task(q, Wait::NoWait).unwrap();
    assert_eq!((seen(&first), first.attempt()), ((0, 0, 0), 1));
    let retry = s.schedule(first, When::After(3)).unwrap();
    assert_ne!(retry, id);
    assert_eq!(s.scheduled_len(), Ok(2));
    assert_eq!(s.next_deadline(), Ok(Some(3)));
    clock.set(3);
    assert_eq!(s.run_pending(), Ok(1));
    let again = s.get_task(q, Wait::NoWait).unwrap();
    assert_eq!(again.period(), None, "a retry is a one-shot task");
    assert_eq!(
        (again.id(), again.attempt(), again.deadline()),
        (Some(retry), 2, 3)
    );
    clock.set(10);
    assert_eq!(s.run_pending(), Ok(1));
    assert_eq!(drain(&s, q), vec![(10, 1, 0)]);
    assert_eq!(s.inspect_task(id, |t| t.deadline()), Some(20));
}

/// `run_all` delivers every task scheduled when it is called and one
/// occurrence of each periodic task, which stays scheduled with its next
/// deadline, even when the next occurrences come before the other tasks.
#[test]
fn run_all_ends_with_periodic_tasks_scheduled() {
    let (s, _clock, q) = sched(&[("q", 0)]);
    let mut ids = Vec::new();
    for (i, missed) in [Burst, Delay, Skip].into_iter().enumerate() {
        let i = i as u64;
        ids.push(
            s.schedule_periodic(Task::new(q, 1, payload()), When::At(i), 1, missed)
                .unwrap(),
        );
    }
    // One-shot tasks after many periods, more than a batch of them.
    for k in 0..200 {
        s.schedule(Task::new(q, 2, payload()), When::At(1_000 + k))
            .unwrap();
    }
    assert_eq!(s.run_all(), Ok(203));
    assert_eq!(s.scheduled_len(), Ok(3));
    for (i, id) in ids.iter().enumerate() {
        assert!(s.is_scheduled(*id));
        assert_eq!(
            s.inspect_task(*id, |t| t.deadline()),
            Some(i as u64 + 1),
            "back at its next deadline"
        );
    }
    let mut periodic = 0;
    let mut last = 0;
    while let Ok(t) = s.get_task(q, Wait::NoWait) {
        assert!(t.deadline() >= last, "deadline order");
        last = t.deadline();
        if t.period().is_some() {
            assert_eq!(t.period().unwrap().index, 0);
            periodic += 1;
        }
    }
    assert_eq!(periodic, 3);
    // Again: one more occurrence each, nothing else.
    assert_eq!(s.run_all(), Ok(3));
    assert_eq!(s.scheduled_len(), Ok(3));

    // The same with the thread running.
    s.start().unwrap();
    s.schedule(Task::new(q, 3, payload()), When::At(u64::MAX))
        .unwrap();
    assert!(s.run_all().unwrap() >= 1);
    assert_eq!(s.scheduled_len(), Ok(3));
    let back = s.stop().unwrap();
    let originals = back
        .iter()
        .filter(|t| t.id().is_some_and(|i| ids.contains(&i)));
    assert_eq!(originals.count(), 3, "each handed back once");
}

/// A clock that moves on with every reading, by more than the period:
/// the next occurrence is due again after every move. `run_pending` ends
/// (at the reading it started from), and a worker that does not wait gets
/// its answer; before, both went on moving occurrences for ever.
#[test]
fn loops_end_when_the_period_is_shorter_than_a_move() {
    let clock = SetClock {
        now: Arc::new(AtomicU64::new(0)),
        step: 10,
    };
    let s = Sched::new(clock.clone(), &[("fast", 0), ("idle", 0)], Options::new()).unwrap();
    let fast = s.queue_id("fast").unwrap();
    let idle = s.queue_id("idle").unwrap();
    s.schedule_periodic(Task::new(fast, 1, payload()), When::At(0), 1, Skip)
        .unwrap();
    let moved = s.run_pending().unwrap();
    assert!(moved >= 1);
    s.start().unwrap();
    for _ in 0..10 {
        assert_eq!(
            s.get_task(idle, Wait::NoWait).unwrap_err(),
            TakeError::Empty
        );
    }
    assert!(s.get_task(fast, Wait::NoWait).is_ok());
    let back = s.stop().unwrap();
    assert_eq!(back.iter().filter(|t| t.period().is_none()).count(), 1);
}

/// Burst far behind: `run_pending` delivers every missed period up to the
/// clock's reading, and ends.
#[test]
fn run_pending_catches_up_in_one_call() {
    let (s, clock, q) = sched(&[("q", 0)]);
    s.schedule_periodic(Task::new(q, 1, payload()), When::At(0), 1, Burst)
        .unwrap();
    clock.set(999);
    assert_eq!(s.run_pending(), Ok(1_000));
    assert_eq!(s.next_deadline(), Ok(Some(1_000)));
    let got = drain(&s, q);
    assert_eq!(got.len(), 1_000);
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, o)| *o == (i as u64, i as u64, 0)));
}

/// A deadline saturated at `Ticks::MAX` is delivered once per move, never
/// in a loop.
#[test]
fn a_saturated_deadline_does_not_loop() {
    let (s, clock, q) = sched(&[("q", 0)]);
    s.schedule_periodic(Task::new(q, 1, payload()), When::At(u64::MAX - 1), 5, Burst)
        .unwrap();
    clock.set(u64::MAX);
    assert_eq!(s.run_pending(), Ok(1), "MAX - 1; the next is at MAX");
    assert_eq!(s.next_deadline(), Ok(Some(u64::MAX)));
    assert_eq!(s.run_pending(), Ok(1), "MAX, once");
    assert_eq!(s.run_pending(), Ok(1), "MAX, once");
    assert_eq!(drain(&s, q).len(), 3);
}

#[test]
fn every_task_due_at_the_end_of_time_is_delivered_by_one_run_pending() {
    // More tasks at `u64::MAX` than one step of a batch moves, beside a
    // periodic task saturated there: one call delivers every one-shot
    // task and one occurrence, and the next call the next occurrence.
    let (s, clock, q) = sched(&[("q", 0)]);
    for subject in 10..210 {
        s.schedule(Task::new(q, subject, payload()), When::At(u64::MAX))
            .unwrap();
    }
    s.schedule_periodic(Task::new(q, 1, payload()), When::At(u64::MAX), 5, Burst)
        .unwrap();
    clock.set(u64::MAX);
    assert_eq!(s.run_pending(), Ok(201));
    assert_eq!(s.scheduled_len(), Ok(1), "the periodic task stays");
    assert_eq!(s.run_pending(), Ok(1), "its next occurrence, once");
    let mut taken = Vec::new();
    while let Ok(t) = s.get_task(q, Wait::NoWait) {
        taken.push((*t.subject(), t.period().map(|p| p.index)));
    }
    assert_eq!(taken.len(), 202);
    assert!(taken[..200].iter().all(|&(s, p)| s >= 10 && p.is_none()));
    assert_eq!(taken[200..], [(1, Some(0)), (1, Some(1))]);
}

#[test]
fn errors_hand_the_task_back() {
    let (s, _clock, q) = sched(&[("q", 0)]);
    match s.schedule_periodic(Task::new(q, 9, payload()), When::Now, 0, Skip) {
        Err(SubmitError::ZeroPeriod(t)) => {
            assert_eq!((*t.subject(), t.attempt(), t.id()), (9, 0, None));
        }
        other => panic!("expected ZeroPeriod, got {other:?}"),
    }
    let gone = s.add_queue("gone", 0).unwrap();
    s.remove_queue(gone).unwrap();
    match s.schedule_periodic(Task::new(gone, 8, payload()), When::Now, 10, Skip) {
        Err(SubmitError::UnknownQueue(t)) => assert_eq!(*t.subject(), 8),
        other => panic!("expected UnknownQueue, got {other:?}"),
    }
    s.stop().unwrap();
    match s.schedule_periodic(Task::new(q, 7, payload()), When::Now, 10, Skip) {
        Err(SubmitError::Stopped(t)) => assert_eq!(*t.subject(), 7),
        other => panic!("expected Stopped, got {other:?}"),
    }
    assert_eq!(s.scheduled_len(), Err(tardy::Halted::Stopped));
}

#[test]
fn durations_on_the_monotonic_clock() {
    use std::time::Duration;
    let s: SchedulerThread<u32, u32> =
        SchedulerThread::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = s.queue_id("q").unwrap();
    match s.schedule_periodic_after(Task::new(q, 1, 1), Duration::ZERO, Duration::ZERO, Skip) {
        Err(SubmitError::ZeroPeriod(t)) => assert_eq!(*t.payload(), 1),
        other => panic!("expected ZeroPeriod, got {other:?}"),
    }
    let before = s.now();
    let id: TaskId = s
        .schedule_periodic_after(
            Task::new(q, 1, 2),
            Duration::from_secs(3600),
            Duration::MAX, // saturates
            Burst,
        )
        .unwrap();
    let deadline = s.inspect_task(id, |t| t.deadline()).unwrap();
    assert!(deadline >= before + 3_600_000_000_000);
    s.run_all().unwrap();
    let o = s.get_task(q, Wait::NoWait).unwrap();
    assert_eq!(o.period().map(|p| p.index), Some(0));
    assert_eq!(s.next_deadline(), Ok(Some(u64::MAX)), "saturated");
}

/// Occurrences reach a future like any task.
#[cfg(feature = "async")]
#[test]
fn a_future_receives_occurrences() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let (s, clock, q) = sched(&[("q", 0)]);
    s.schedule_periodic(Task::new(q, 1, payload()), When::At(10), 10, Skip)
        .unwrap();
    for t in [10, 20, 30] {
        let mut f = s.get_task_async(q);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
        clock.set(t);
        s.run_pending().unwrap();
        match std::pin::Pin::new(&mut f).poll(&mut cx) {
            Poll::Ready(Ok(task)) => assert_eq!(seen(&task), (t, t / 10 - 1, 0)),
            other => panic!("expected an occurrence, got {other:?}"),
        }
    }
}

/// A periodic task whose occurrence waited for room is re-armed when a
/// worker takes a task and makes room; the scheduler thread, asleep with
/// nothing scheduled, must learn of that deadline and deliver the next
/// occurrence without any worker's help (a future, which never leads,
/// would otherwise wait for ever).
#[test]
fn a_periodic_task_re_armed_by_a_take_wakes_the_scheduler_thread() {
    use std::time::{Duration, Instant};
    let s: SchedulerThread<u32, Arc<str>> =
        SchedulerThread::new(MonotonicClock::new(), &[("q", 1)], Options::new()).unwrap();
    let q = s.queue_id("q").unwrap();
    s.start().unwrap();
    let period = Duration::from_millis(20);
    s.schedule_periodic_after(Task::new(q, 1, payload()), Duration::ZERO, period, Skip)
        .unwrap();
    // #0 fills the queue; #1 falls due and waits for room; nothing else
    // is scheduled, so the thread sleeps without a deadline.
    let bound = Instant::now() + Duration::from_secs(10); // a hang's bound
    while s.stats(q).unwrap().waiting == 0 {
        assert!(Instant::now() < bound, "#1 never waited for room");
        std::thread::sleep(period);
    }
    let first = s.get_task(q, Wait::NoWait).unwrap(); // #1 enters, re-armed
    let second = s.get_task(q, Wait::NoWait).unwrap();
    assert_eq!(first.period().unwrap().index, 0);
    assert_eq!(second.period().unwrap().index, 1);
    // The thread alone delivers the next one (stats only reads).
    while s.stats(q).unwrap().queued == 0 {
        assert!(
            Instant::now() < bound,
            "the re-armed task was never delivered"
        );
        std::thread::sleep(period);
    }
    assert!(s.get_task(q, Wait::NoWait).unwrap().period().unwrap().index > 1);
    s.stop().unwrap();
}
