//! The threaded layer: `SchedulerThread` and `SchedulerHandle` under several
//! producers and workers. No test sleeps to synchronise and none asserts how
//! long anything took; deadlines are in the past, a few milliseconds ahead,
//! or an hour ahead (so that delivering them early would be visible).

#![cfg(feature = "std")]

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use tardy::{
    AddQueueError, CancelError, Clock, DoneError, Halted, MonotonicClock, NewError, NewQueueError,
    Options, QueueError, SchedulerThread, StartError, Stopped, SubmitError, TakeError, Task, Wait,
    When,
};

type Sched = SchedulerThread<u32, u64>;

const HOUR: Duration = Duration::from_secs(3600);

/// A small deterministic generator (xorshift64*), one per thread.
#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
}

fn payloads(tasks: &[Task<u32, u64>]) -> Vec<u64> {
    tasks.iter().map(|t| *t.payload()).collect()
}

/// Several producers schedule, cancel and reschedule; several workers take
/// tasks from two bounded queues and retry some of them; at the end every
/// task is accounted for exactly once: delivered (finally), cancelled, or
/// handed back.
#[test]
fn stress_every_task_delivered_once_or_handed_back() {
    const PRODUCERS: u64 = 4;
    const PER_PRODUCER: u64 = 900;
    const WORKERS: usize = 4;
    const TOTAL: u64 = PRODUCERS * PER_PRODUCER;

    let sched = Sched::new(
        MonotonicClock::new(),
        &[("a", 32), ("b", 0)],
        Options::new(),
    )
    .unwrap();
    sched.start().unwrap();
    let queues = [sched.queue_id("a").unwrap(), sched.queue_id("b").unwrap()];

    // outcome[p]: 0 none, 1 delivered finally, 2 cancelled, 3 handed back;
    // anything counted twice is caught at once.
    let outcome: Arc<Vec<AtomicU8>> = Arc::new((0..TOTAL).map(|_| AtomicU8::new(0)).collect());
    let retries = Arc::new(AtomicUsize::new(0));
    let record = |outcome: &[AtomicU8], p: u64, what: u8| {
        let prev = outcome[p as usize].swap(what, Ordering::SeqCst);
        assert_eq!(prev, 0, "payload {p} accounted twice ({prev} then {what})");
    };

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let h = sched.handle();
            let outcome = Arc::clone(&outcome);
            let retries = Arc::clone(&retries);
            let queue = queues[w % 2];
            thread::spawn(move || {
                let mut taken = 0usize;
                loop {
                    let task = match h.get_task(queue, Wait::Forever) {
                        Ok(task) => task,
                        Err(TakeError::Stopped) => return taken,
                        Err(e) => panic!("get_task: {e}"),
                    };
                    taken += 1;
                    let p = *task.payload();
                    assert!(task.attempt() >= 1);
                    if task.attempt() == 1 && p % 5 == 0 {
                        // A failed renewal: put it back with a new time.
                        retries.fetch_add(1, Ordering::SeqCst);
                        match h.schedule(task, When::After(1_000 * (p % 3))) {
                            Ok(_) => {}
                            Err(SubmitError::Stopped(t)) => record(&outcome, *t.payload(), 3),
                            Err(e) => panic!("retry: {e}"),
                        }
                    } else {
                        record(&outcome, p, 1);
                    }
                    match h.task_done(queue) {
                        Ok(()) | Err(DoneError::Stopped) => {}
                        Err(e) => panic!("task_done: {e}"),
                    }
                }
            })
        })
        .collect();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|pi| {
            let h = sched.handle();
            let outcome = Arc::clone(&outcome);
            thread::spawn(move || {
                let mut rng = Rng::new(pi + 1);
                let mut ids = Vec::new();
                for k in 0..PER_PRODUCER {
                    let p = pi * PER_PRODUCER + k;
                    let queue = queues[(p % 2) as usize];
                    let subject = (p % 50) as u32;
                    let when = match rng.below(4) {
                        0 => When::Now,
                        1 => When::At(0), // in the past
                        _ => When::After(rng.below(2_000_000)),
                    };
                    match h.schedule(Task::new(queue, subject, p), when) {
                        Ok(id) => ids.push((id, p)),
                        // A full bounded queue refuses `Now`: schedule it
                        // instead, it then waits for room.
                        Err(SubmitError::QueueFull(t)) => {
                            ids.push((h.schedule(t, When::After(0)).unwrap(), p));
                        }
                        Err(e) => panic!("schedule: {e}"),
                    }
                    match rng.below(10) {
                        0 => {
                            let (id, p) = ids[rng.below(ids.len() as u64) as usize];
                            if let Ok(t) = h.cancel(id) {
                                assert_eq!(*t.payload(), p, "cancel returned another task");
                                record(&outcome, p, 2);
                            }
                        }
                        1 | 2 => {
                            let (id, _) = ids[rng.below(ids.len() as u64) as usize];
                            match h.reschedule(id, When::After(rng.below(3_000_000))) {
                                Ok(()) | Err(CancelError::NotScheduled) => {}
                                Err(e) => panic!("reschedule: {e}"),
                            }
                        }
                        _ => {}
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Everything still scheduled is due now; wait for the workers to finish
    // what is queued, then stop: retries scheduled meanwhile come back.
    sched.run_all().unwrap();
    for q in queues {
        sched.join(q).unwrap();
    }
    let back = sched.stop().unwrap();
    for t in &back {
        record(&outcome, *t.payload(), 3);
    }
    let taken: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();

    let count = |what| {
        outcome
            .iter()
            .filter(|o| o.load(Ordering::SeqCst) == what)
            .count()
    };
    let (delivered, cancelled, handed_back) = (count(1), count(2), count(3));
    assert_eq!(count(0), 0, "tasks lost");
    assert_eq!(delivered + cancelled + handed_back, TOTAL as usize);
    assert_eq!(taken, delivered + retries.load(Ordering::SeqCst));
    assert!(delivered > 0 && cancelled > 0 && retries.load(Ordering::SeqCst) > 0);
}

/// Producers put tasks in with `Now` and with deadlines while workers take
/// them: every worker sees each producer's tasks in the order they entered
/// the queue, and every task exactly once.
#[test]
fn per_queue_order_across_threads() {
    const PRODUCERS: u64 = 3;
    const PER_PRODUCER: u64 = 1_000;
    const WORKERS: usize = 3;
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let h = sched.handle();
            thread::spawn(move || {
                let mut seen = Vec::new();
                while let Ok(t) = h.get_task(q, Wait::Forever) {
                    seen.push(*t.payload());
                    h.task_done(q).unwrap();
                }
                seen
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|pi| {
            let h = sched.handle();
            thread::spawn(move || {
                for k in 0..PER_PRODUCER {
                    // Producer in the high bits, sequence in the low bits.
                    let p = (pi << 32) | k;
                    h.schedule(Task::new(q, 0, p), When::Now).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Wait until the workers took and finished everything, then stop them.
    sched.join(q).unwrap();
    assert_eq!(sched.stats(q).unwrap().taken, PRODUCERS * PER_PRODUCER);
    assert!(sched.stop().unwrap().is_empty());
    let mut all = HashSet::new();
    for w in workers {
        let seen = w.join().unwrap();
        for pi in 0..PRODUCERS {
            let mine: Vec<u64> = seen.iter().copied().filter(|p| p >> 32 == pi).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "out of order: {mine:?}"
            );
        }
        for p in seen {
            assert!(all.insert(p), "{p} delivered twice");
        }
    }
    assert_eq!(all.len() as u64, PRODUCERS * PER_PRODUCER);
}

/// Due tasks enter the queue in deadline order, ties in scheduling order,
/// whatever order they were scheduled in.
#[test]
fn deadline_order_with_fifo_ties() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    let mut rng = Rng::new(7);
    let mut expected = Vec::new();
    for p in 0..500u64 {
        let deadline = rng.below(50);
        sched
            .schedule(Task::new(q, 0, p), When::At(deadline))
            .unwrap();
        expected.push((deadline, p));
    }
    expected.sort(); // by deadline, then by payload = scheduling order
    sched.start().unwrap(); // every deadline is in the past
    let got: Vec<u64> = (0..500)
        .map(|_| *sched.get_task(q, Wait::Forever).unwrap().payload())
        .collect();
    let want: Vec<u64> = expected.into_iter().map(|(_, p)| p).collect();
    assert_eq!(got, want);
}

#[test]
fn get_task_empty_vs_timed_out() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    assert_eq!(
        sched.get_task(q, Wait::NoWait).unwrap_err(),
        TakeError::Empty
    );
    let short = Wait::Timeout(Duration::from_millis(2));
    assert_eq!(sched.get_task(q, short).unwrap_err(), TakeError::TimedOut);
    let zero = Wait::Timeout(Duration::ZERO);
    assert_eq!(sched.get_task(q, zero).unwrap_err(), TakeError::TimedOut);

    // A task an hour ahead is not delivered by waiting a little.
    sched.schedule_after(Task::new(q, 1, 1), HOUR).unwrap();
    assert_eq!(sched.get_task(q, short).unwrap_err(), TakeError::TimedOut);
    assert_eq!(sched.stats(q).unwrap().scheduled, 1);

    // A queued task comes without waiting, and with any wait.
    sched.schedule(Task::new(q, 2, 2), When::Now).unwrap();
    assert_eq!(*sched.get_task(q, Wait::NoWait).unwrap().payload(), 2);
    sched.schedule(Task::new(q, 3, 3), When::Now).unwrap();
    assert_eq!(*sched.get_task(q, short).unwrap().payload(), 3);

    let other = sched.add_queue("other", 0).unwrap();
    sched.remove_queue(other).unwrap();
    assert_eq!(
        sched.get_task(other, Wait::NoWait).unwrap_err(),
        TakeError::UnknownQueue
    );
    assert_eq!(
        sched.get_task(other, Wait::Forever).unwrap_err(),
        TakeError::UnknownQueue
    );
}

/// A task scheduled for soon reaches a worker blocked in `get_task`: the
/// thread sleeps until the deadline and the worker is woken by its condvar.
/// An earlier deadline scheduled while the thread sleeps for an hour wakes
/// it (otherwise this test would hang for an hour).
#[test]
fn earlier_deadline_wakes_the_thread() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    let late = sched.schedule_after(Task::new(q, 1, 1), HOUR).unwrap();
    // Let the thread go to sleep for the hour (whether it already does or
    // not, the outcome is the same).
    assert_eq!(
        sched.get_task(q, Wait::NoWait).unwrap_err(),
        TakeError::Empty
    );
    let worker = {
        let h = sched.handle();
        thread::spawn(move || h.get_task(q, Wait::Forever).map(|t| *t.payload()))
    };
    sched
        .schedule_after(Task::new(q, 2, 2), Duration::from_millis(3))
        .unwrap();
    assert_eq!(worker.join().unwrap(), Ok(2));
    assert!(sched.is_scheduled(late));

    // Moving the hour-ahead task closer wakes the thread too.
    let worker = {
        let h = sched.handle();
        thread::spawn(move || h.get_task(q, Wait::Forever).map(|t| *t.payload()))
    };
    sched.reschedule(late, When::After(2_000_000)).unwrap();
    assert_eq!(worker.join().unwrap(), Ok(1));
    assert_eq!(
        sched.reschedule(late, When::Now),
        Err(CancelError::NotScheduled)
    );
}

#[test]
fn instant_and_system_time_deadlines() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    let clock: MonotonicClock = sched.clock();
    sched
        .schedule_at_instant(Task::new(q, 1, 1), Instant::now())
        .unwrap();
    let past = SystemTime::now() - Duration::from_secs(10);
    sched
        .schedule_at_system_time(Task::new(q, 2, 2), past)
        .unwrap();
    sched
        .schedule_at_system_time(Task::new(q, 3, 3), SystemTime::now() + HOUR)
        .unwrap();
    sched
        .schedule_at_instant(Task::new(q, 4, 4), Instant::now() + HOUR)
        .unwrap();
    // Deadlines: two in the past, two about an hour ahead.
    let next = sched.next_deadline().unwrap().unwrap();
    assert!(next <= clock.now());
    sched.start().unwrap();
    let first: Vec<u64> = (0..2)
        .map(|_| *sched.get_task(q, Wait::Forever).unwrap().payload())
        .collect();
    // Ten seconds ago is before the clock's origin: tick 0, the earliest.
    assert_eq!(first, [2, 1]);
    // What is left is about an hour ahead (at least 59 minutes from now).
    let left = sched.next_deadline().unwrap().unwrap();
    assert!(left >= clock.now() + MonotonicClock::ticks_of(Duration::from_secs(59 * 60)));
    let back = sched.stop().unwrap();
    assert_eq!(payloads(&back), [3, 4]);
}

/// `inspect_task` sees a scheduled task as it is now (subject, payload,
/// deadline, attempt, queue), follows a reschedule, and answers `None`
/// without calling the closure once the task is delivered, cancelled or
/// handed back by `stop`.
#[test]
fn inspect_task_sees_scheduled_tasks_only() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0), ("r", 0)], Options::new()).unwrap();
    let (q, r) = (sched.queue_id("q").unwrap(), sched.queue_id("r").unwrap());
    let later = sched.schedule_after(Task::new(r, 7, 70), HOUR).unwrap();
    let soon = sched.schedule(Task::new(q, 5, 50), When::After(0)).unwrap();
    let (subject, payload, queue, attempt, deadline) = sched
        .inspect_task(later, |t| {
            (
                *t.subject(),
                *t.payload(),
                t.queue(),
                t.attempt(),
                t.deadline(),
            )
        })
        .expect("scheduled");
    assert_eq!((subject, payload, queue, attempt), (7, 70, r, 1));
    assert!(deadline >= sched.now() + MonotonicClock::ticks_of(Duration::from_secs(59 * 60)));

    // A reschedule moves the deadline the closure sees, not the attempt.
    let at = deadline + 1000;
    sched.reschedule(later, When::At(at)).unwrap();
    assert_eq!(
        sched.inspect_task(later, |t| (t.deadline(), t.attempt())),
        Some((at, 1))
    );

    // Delivered: no longer scheduled, and the closure is not called.
    sched.start().unwrap();
    let task = sched.get_task(q, Wait::Forever).unwrap();
    assert_eq!(task.id(), Some(soon));
    let called = AtomicBool::new(false);
    let seen = sched.inspect_task(soon, |_| called.store(true, Ordering::Relaxed));
    assert_eq!((seen, called.load(Ordering::Relaxed)), (None, false));

    // Handed back by stop: no longer scheduled either.
    let back = sched.stop().unwrap();
    assert_eq!(payloads(&back), [70]);
    assert_eq!(sched.inspect_task(later, |t| *t.payload()), None);
}

/// `join` returns only once every task taken from the queue is marked done
/// (and nothing is left in it).
#[test]
fn join_waits_for_task_done() {
    const TASKS: u64 = 200;
    let sched = Sched::new(MonotonicClock::new(), &[("q", 8)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    // Idle queue: join returns at once.
    sched.join(q).unwrap();

    let finished = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let h = sched.handle();
            let finished = Arc::clone(&finished);
            thread::spawn(move || {
                while h.get_task(q, Wait::Forever).is_ok() {
                    finished.fetch_add(1, Ordering::SeqCst);
                    h.task_done(q).unwrap();
                }
            })
        })
        .collect();
    for p in 0..TASKS {
        // Past deadlines: more than the queue holds wait for room.
        sched.schedule(Task::new(q, 0, p), When::At(0)).unwrap();
    }
    sched.start().unwrap();
    sched.join(q).unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), TASKS as usize);
    let stats = sched.stats(q).unwrap();
    assert_eq!(
        (stats.taken, stats.done, stats.queued, stats.scheduled),
        (TASKS, TASKS, 0, 0)
    );
    assert_eq!(sched.task_done(q), Err(DoneError::NotTaken));

    // A join blocked on a queue that no worker drains is released by stop.
    let orphan = sched.add_queue("orphan", 0).unwrap();
    sched.schedule(Task::new(orphan, 0, 0), When::Now).unwrap();
    let joiner = {
        let h = sched.handle();
        thread::spawn(move || h.join(orphan))
    };
    let _ = sched.stop().unwrap();
    assert_eq!(joiner.join().unwrap(), Err(QueueError::Stopped));
    for w in workers {
        w.join().unwrap();
    }
}

/// Stopping hands back every task scheduled, waiting for room, or queued;
/// afterwards every operation reports the stop, handing tasks back.
#[test]
fn stop_hands_everything_back_and_use_after_stop_fails() {
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("small", 2), ("big", 0)],
        Options::new(),
    )
    .unwrap();
    let small = sched.queue_id("small").unwrap();
    let big = sched.queue_id("big").unwrap();
    let mut expected = HashSet::new();
    for p in 0..100 {
        sched
            .schedule_after(Task::new(big, p as u32, p), HOUR)
            .unwrap();
        expected.insert(p);
    }
    for p in 100..110 {
        sched.schedule(Task::new(big, 0, p), When::Now).unwrap();
        expected.insert(p);
    }
    for p in 110..115 {
        sched.schedule(Task::new(small, 0, p), When::At(0)).unwrap();
        expected.insert(p);
    }
    sched.start().unwrap();
    // Two of the small queue's tasks are queued, three wait for room: the
    // running thread has moved them when a worker can take the first one.
    assert_eq!(
        *sched.get_task(small, Wait::Forever).unwrap().payload(),
        110
    );
    expected.remove(&110);
    let stats = sched.stats(small).unwrap();
    assert_eq!((stats.queued, stats.waiting), (2, 2));

    let id = sched.schedule_after(Task::new(big, 9, 999), HOUR).unwrap();
    expected.insert(999);
    let back = sched.stop().unwrap();
    let got: HashSet<u64> = payloads(&back).into_iter().collect();
    assert_eq!(back.len(), got.len(), "a task handed back twice");
    assert_eq!(got, expected);
    assert!(!sched.is_running());
    assert!(sched.is_stopped());

    let err = sched
        .schedule(Task::new(big, 1, 1234), When::Now)
        .unwrap_err();
    assert!(matches!(err, SubmitError::Stopped(_)));
    assert_eq!(*err.into_inner().payload(), 1234);
    let err = sched
        .schedule_after(Task::new(big, 1, 1235), HOUR)
        .unwrap_err();
    assert_eq!(*err.task().payload(), 1235);
    assert_eq!(sched.cancel(id).unwrap_err(), CancelError::Stopped);
    assert_eq!(sched.reschedule(id, When::Now), Err(CancelError::Stopped));
    assert_eq!(sched.cancel_by_subject(&9), Err(Halted::Stopped));
    assert_eq!(
        sched.get_task(big, Wait::Forever).unwrap_err(),
        TakeError::Stopped
    );
    assert_eq!(sched.task_done(big), Err(DoneError::Stopped));
    assert_eq!(sched.join(big), Err(QueueError::Stopped));
    assert_eq!(sched.add_queue("new", 0), Err(NewQueueError::Stopped));
    assert_eq!(sched.remove_queue(big).unwrap_err(), QueueError::Stopped);
    assert_eq!(sched.queue_id("big"), Err(QueueError::Stopped));
    assert_eq!(sched.stats(big), Err(QueueError::Stopped));
    assert_eq!(sched.run_all(), Err(Halted::Stopped));
    assert_eq!(sched.run_pending(), Err(Halted::Stopped));
    assert_eq!(sched.next_deadline(), Err(Halted::Stopped));
    assert_eq!(sched.scheduled_len(), Err(Halted::Stopped));
    assert!(!sched.is_scheduled(id));
    assert_eq!(sched.stop().unwrap_err(), Stopped);
    assert_eq!(sched.start(), Err(StartError::Stopped));
}

#[test]
fn start_twice_and_stop_without_start() {
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("q", 0)],
        Options::new().thread_name("tardy-test"),
    )
    .unwrap();
    assert!(!sched.is_running());
    sched.start().unwrap();
    assert!(sched.is_running());
    assert_eq!(sched.start(), Err(StartError::AlreadyStarted));
    assert!(sched.stop().unwrap().is_empty());

    let never_started = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = never_started.queue_id("q").unwrap();
    never_started
        .schedule_after(Task::new(q, 1, 1), HOUR)
        .unwrap();
    assert_eq!(payloads(&never_started.stop().unwrap()), [1]);
}

/// Dropping the scheduler while workers wait in `get_task` (forever or with
/// a long timeout) and in `join` wakes them all with `Stopped`; handles
/// outliving it keep answering `Stopped`.
#[test]
fn drop_while_workers_wait() {
    let sched = Sched::new(MonotonicClock::new(), &[("a", 0), ("b", 4)], Options::new()).unwrap();
    sched.start().unwrap();
    let a = sched.queue_id("a").unwrap();
    let b = sched.queue_id("b").unwrap();
    sched.schedule(Task::new(b, 0, 0), When::Now).unwrap(); // keeps b busy
    let barrier = Arc::new(Barrier::new(6));
    let mut waiting = Vec::new();
    for i in 0..4 {
        let h = sched.handle();
        let barrier = Arc::clone(&barrier);
        waiting.push(thread::spawn(move || {
            barrier.wait();
            let wait = if i % 2 == 0 {
                Wait::Forever
            } else {
                Wait::Timeout(HOUR)
            };
            h.get_task(a, wait).map(|_| ()).map_err(|e| e.to_string())
        }));
    }
    let joiner = {
        let h = sched.handle();
        let barrier = Arc::clone(&barrier);
        thread::spawn(move || {
            barrier.wait();
            h.join(b).map_err(|e| e.to_string())
        })
    };
    let handle = sched.handle();
    barrier.wait();
    drop(sched);
    for w in waiting {
        assert_eq!(w.join().unwrap(), Err(TakeError::Stopped.to_string()));
    }
    assert_eq!(joiner.join().unwrap(), Err(QueueError::Stopped.to_string()));
    assert!(handle.is_stopped());
    assert_eq!(
        handle.get_task(a, Wait::Forever).unwrap_err(),
        TakeError::Stopped
    );
}

/// Removing a queue wakes its waiting workers with `UnknownQueue` and hands
/// back its tasks; other queues are untouched.
#[test]
fn remove_queue_while_waiting() {
    let sched = Sched::new(MonotonicClock::new(), &[("keep", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let keep = sched.queue_id("keep").unwrap();
    let gone = sched.add_queue("gone", 0).unwrap();
    sched.schedule_after(Task::new(gone, 1, 1), HOUR).unwrap();
    sched.schedule_after(Task::new(keep, 1, 2), HOUR).unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let worker = {
        let h = sched.handle();
        let barrier = Arc::clone(&barrier);
        thread::spawn(move || {
            barrier.wait();
            h.get_task(gone, Wait::Forever).map(|t| *t.payload())
        })
    };
    barrier.wait();
    assert_eq!(payloads(&sched.remove_queue(gone).unwrap()), [1]);
    assert_eq!(worker.join().unwrap(), Err(TakeError::UnknownQueue));
    assert_eq!(
        sched.remove_queue(gone).unwrap_err(),
        QueueError::UnknownQueue
    );
    assert_eq!(sched.queue_id("gone"), Err(QueueError::UnknownQueue));
    assert_eq!(sched.stats(keep).unwrap().scheduled, 1);
    // The name can be used again; the old handle stays stale.
    let again = sched.add_queue("gone", 0).unwrap();
    assert_ne!(again, gone);
    assert_eq!(
        sched.add_queue("gone", 0),
        Err(NewQueueError::Queue(AddQueueError::NameTaken))
    );
    let err = sched
        .schedule(Task::new(gone, 0, 3), When::Now)
        .unwrap_err();
    assert!(matches!(err, SubmitError::UnknownQueue(_)));
}

/// A full queue never blocks the thread: other queues keep flowing, and the
/// full queue's due tasks enter it in order as room is made.
#[test]
fn full_queue_does_not_stall_others() {
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("full", 1), ("free", 0)],
        Options::new(),
    )
    .unwrap();
    let full = sched.queue_id("full").unwrap();
    let free = sched.queue_id("free").unwrap();
    for p in 0..5 {
        sched.schedule(Task::new(full, 0, p), When::At(0)).unwrap();
        sched
            .schedule(Task::new(free, 0, 100 + p), When::At(0))
            .unwrap();
    }
    sched.start().unwrap();
    let got: Vec<u64> = (0..5)
        .map(|_| *sched.get_task(free, Wait::Forever).unwrap().payload())
        .collect();
    assert_eq!(got, [100, 101, 102, 103, 104]);
    let err = sched
        .schedule(Task::new(full, 0, 99), When::Now)
        .unwrap_err();
    assert!(matches!(err, SubmitError::QueueFull(_)));
    let got: Vec<u64> = (0..5)
        .map(|_| *sched.get_task(full, Wait::Forever).unwrap().payload())
        .collect();
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

/// Without the thread, time moves only with `run_pending` / `run_all`.
#[test]
fn driven_by_hand_before_start() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    sched.schedule(Task::new(q, 1, 1), When::At(0)).unwrap();
    sched.schedule_after(Task::new(q, 1, 2), HOUR).unwrap();
    assert_eq!(sched.scheduled_len(), Ok(2));
    assert_eq!(
        sched.get_task(q, Wait::NoWait).unwrap_err(),
        TakeError::Empty
    );
    assert_eq!(sched.run_pending(), Ok(1));
    assert_eq!(*sched.get_task(q, Wait::NoWait).unwrap().payload(), 1);
    assert_eq!(sched.run_pending(), Ok(0));
    assert_eq!(sched.run_all(), Ok(1));
    assert_eq!(*sched.get_task(q, Wait::NoWait).unwrap().payload(), 2);
    assert_eq!(sched.next_deadline(), Ok(None));
}

/// A worker waiting with `Wait::Forever` before the thread starts is served
/// by `run_pending` from another thread.
#[test]
fn run_pending_wakes_waiting_worker() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    let worker = {
        let h = sched.handle();
        thread::spawn(move || h.get_task(q, Wait::Forever).map(|t| *t.payload()))
    };
    sched.schedule(Task::new(q, 1, 5), When::At(0)).unwrap();
    assert_eq!(sched.run_pending(), Ok(1));
    assert_eq!(worker.join().unwrap(), Ok(5));
}

#[test]
fn cancel_by_subject_and_retry_attempts() {
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    let q = sched.queue_id("q").unwrap();
    for p in 0..30u64 {
        sched
            .schedule_after(Task::new(q, (p % 3) as u32, p), HOUR)
            .unwrap();
    }
    let back = sched.cancel_by_subject(&1).unwrap();
    assert_eq!(
        payloads(&back),
        (0..30).filter(|p| p % 3 == 1).collect::<Vec<_>>()
    );
    assert!(sched.cancel_by_subject(&1).unwrap().is_empty());
    assert_eq!(sched.scheduled_len(), Ok(20));

    // Retry: the same context goes back, its attempt count grows.
    sched.start().unwrap();
    let id = sched.schedule(Task::new(q, 7, 70), When::Now).unwrap();
    let mut task = sched.get_task(q, Wait::Forever).unwrap();
    assert_eq!((task.id(), task.attempt()), (Some(id), 1));
    for attempt in 2..=4 {
        let id = sched
            .schedule_after(task, Duration::from_micros(100))
            .unwrap();
        task = sched.get_task(q, Wait::Forever).unwrap();
        assert_eq!(
            (task.id(), task.attempt(), *task.payload()),
            (Some(id), attempt, 70)
        );
    }
    let id = sched.schedule_after(task, HOUR).unwrap();
    assert_eq!(*sched.cancel(id).unwrap().payload(), 70);
    assert_eq!(sched.cancel(id).unwrap_err(), CancelError::NotScheduled);
}

#[test]
fn capacity_and_queue_slots_are_reported() {
    let sched: SchedulerThread<u32, u64, MonotonicClock, 2> = SchedulerThread::new(
        MonotonicClock::new(),
        &[("q", 0)],
        Options::new().max_capacity(4),
    )
    .unwrap();
    let q = sched.queue_id("q").unwrap();
    for p in 0..4 {
        sched.schedule_after(Task::new(q, 0, p), HOUR).unwrap();
    }
    let err = sched.schedule_after(Task::new(q, 0, 4), HOUR).unwrap_err();
    assert!(matches!(err, SubmitError::Capacity(_)));
    assert_eq!(*err.into_inner().payload(), 4);
    // `Now` takes no slot.
    sched.schedule(Task::new(q, 0, 5), When::Now).unwrap();
    sched.add_queue("second", 0).unwrap();
    assert_eq!(
        sched.add_queue("third", 0),
        Err(NewQueueError::Queue(AddQueueError::NoQueueSlot))
    );
    let dup = Sched::new(MonotonicClock::new(), &[("x", 0), ("x", 0)], Options::new());
    assert_eq!(dup.unwrap_err(), NewError::Queue(AddQueueError::NameTaken));
}

/// With the default options the scheduler grows as tasks come, far beyond
/// any fixed size, and gives memory back only when asked; an initial
/// capacity is allocated at creation.
#[test]
fn the_default_scheduler_grows_and_shrinks_when_asked() {
    let tasks: u64 = if cfg!(miri) { 300 } else { 40_000 };
    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    assert_eq!((sched.capacity(), sched.allocated_bytes()), (0, 0));
    let q = sched.queue_id("q").unwrap();
    let ids: Vec<_> = (0..tasks)
        .map(|p| sched.schedule_after(Task::new(q, 0, p), HOUR).unwrap())
        .collect();
    assert!(sched.capacity() >= tasks as usize);
    let grown = sched.allocated_bytes();
    for id in ids {
        sched.cancel(id).unwrap();
    }
    assert_eq!(sched.allocated_bytes(), grown, "nothing given back unasked");
    sched.shrink_to_fit();
    assert!(sched.allocated_bytes() < grown);

    let reserved = Sched::new(MonotonicClock::new(), &[], Options::new().capacity(10_000)).unwrap();
    assert!(reserved.capacity() >= 10_000);
}

/// Capacities that can never work are refused by name, nothing created.
#[test]
fn bad_capacities_are_refused() {
    let new = |o: Options| Sched::new(MonotonicClock::new(), &[("q", 0)], o).map(drop);
    assert_eq!(
        new(Options::new().max_capacity(0)),
        Err(NewError::ZeroMaxCapacity)
    );
    assert_eq!(
        new(Options::new().capacity(10).max_capacity(9)),
        Err(NewError::MaxBelowInitial)
    );
    assert_eq!(new(Options::new().capacity(10).max_capacity(10)), Ok(()));
    if usize::BITS > 32 {
        for o in [
            Options::new().capacity(usize::MAX),
            Options::new().max_capacity(usize::MAX),
            Options::new().capacity(1 << 32),
            Options::new().max_capacity(1 << 32),
        ] {
            assert_eq!(new(o), Err(NewError::CapacityTooLarge));
        }
    }
    assert_eq!(
        new(Options::new().thread_name("tar\0dy")),
        Err(NewError::InvalidThreadName)
    );
    // The largest maximum is accepted (nothing is allocated for it).
    assert_eq!(
        new(Options::new().max_capacity(u32::MAX as usize - 1)),
        Ok(())
    );
}

/// A custom clock: ticks of 1 ms read from an `Instant`; `Options::tick`
/// tells the thread how long a tick is.
#[test]
fn custom_clock_with_millisecond_ticks() {
    struct Millis(Instant);
    impl Clock for Millis {
        fn now(&self) -> tardy::Ticks {
            self.0.elapsed().as_millis() as u64
        }
    }
    let options = Options::new().tick(Duration::from_millis(1));
    let sched: SchedulerThread<u32, u64, Millis> =
        SchedulerThread::new(Millis(Instant::now()), &[("q", 0)], options).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    sched.schedule(Task::new(q, 0, 1), When::After(2)).unwrap();
    let task = sched.get_task(q, Wait::Forever).unwrap();
    assert!(
        sched.now() >= task.deadline(),
        "delivered before its deadline"
    );
}

/// A simulated clock that the host moves: the thread cannot predict when a
/// deadline passes, and `Options::max_sleep` bounds its sleep so it notices.
/// With ticks declared an hour long and no bound, this test would hang.
#[test]
fn simulated_clock_with_max_sleep() {
    #[derive(Clone)]
    struct Sim(Arc<std::sync::atomic::AtomicU64>);
    impl Clock for Sim {
        fn now(&self) -> tardy::Ticks {
            self.0.load(Ordering::SeqCst)
        }
    }
    let sim = Sim(Arc::new(std::sync::atomic::AtomicU64::new(0)));
    let options = Options::new()
        .tick(HOUR)
        .max_sleep(Duration::from_millis(1));
    let sched: SchedulerThread<u32, u64, Sim> =
        SchedulerThread::new(sim.clone(), &[("q", 0)], options).unwrap();
    let q = sched.queue_id("q").unwrap();
    sched.schedule(Task::new(q, 0, 1), When::At(10)).unwrap();
    sched.start().unwrap();
    assert_eq!(
        sched.get_task(q, Wait::NoWait).unwrap_err(),
        TakeError::Empty
    );
    sim.0.store(10, Ordering::SeqCst); // nobody tells the scheduler
    let task = sched.get_task(q, Wait::Forever).unwrap();
    assert_eq!((*task.payload(), task.deadline()), (1, 10));
}

/// A subject whose `Hash` panics (breaking the `Subject` contract) poisons
/// the lock; the scheduler recovers the lock and keeps working.
#[test]
fn poisoned_lock_is_recovered() {
    #[derive(Clone, PartialEq, Eq, Debug)]
    struct Touchy(u32);
    impl Hash for Touchy {
        fn hash<H: Hasher>(&self, state: &mut H) {
            assert_ne!(self.0, 666, "touchy subject");
            self.0.hash(state);
        }
    }
    let sched: SchedulerThread<Touchy, u64> =
        SchedulerThread::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        let _ = sched.schedule_after(Task::new(q, Touchy(666), 0), HOUR);
    }));
    assert!(panicked.is_err());
    sched
        .schedule(Task::new(q, Touchy(1), 1), When::After(1_000))
        .unwrap();
    assert_eq!(*sched.get_task(q, Wait::Forever).unwrap().payload(), 1);
    assert!(sched.stop().is_ok());
}

/// Handles are `Send + Sync + Clone` and work from scoped threads too.
#[test]
fn handles_are_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<tardy::SchedulerHandle<u32, u64>>();
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<Sched>();

    let sched = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    let stop_flag = AtomicBool::new(false);
    let sum = Mutex::new(0u64);
    thread::scope(|s| {
        s.spawn(|| {
            while let Ok(t) = sched.get_task(q, Wait::Forever) {
                *sum.lock().unwrap() += *t.payload();
                if *t.payload() == 0 {
                    stop_flag.store(true, Ordering::SeqCst);
                    break;
                }
            }
        });
        for p in (0..=100).rev() {
            sched.schedule(Task::new(q, 0, p), When::Now).unwrap();
        }
    });
    assert!(stop_flag.load(Ordering::SeqCst));
    assert_eq!(*sum.lock().unwrap(), 5050);
}

/// The core (about half a MiB with the default sizes) is never built on the
/// creating thread's stack: a thread with a 64 KiB stack can create, use and
/// stop a scheduler.
#[test]
fn created_from_a_thread_with_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(|| {
            let sched: SchedulerThread<u64, u32> =
                SchedulerThread::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
            let q = sched.queue_id("q").unwrap();
            sched
                .schedule(Task::new(q, 1, 7), When::At(u64::MAX))
                .unwrap();
            sched.stop().unwrap().len()
        })
        .unwrap();
    assert_eq!(worker.join().unwrap(), 1);
}

/// Queue sizes from the caller: any bound is accepted at once without an
/// allocation proportional to it (the queue grows with its tasks), a bound
/// whose tasks could never fit in memory is `InvalidMaxSize`, and 0 means
/// unbounded. Through `add_queue` and through `new`.
#[test]
fn queue_sizes_from_the_caller() {
    let sched = Sched::new(MonotonicClock::new(), &[], Options::new()).unwrap();
    for (name, max) in [("hundred-million", 100_000_000), ("huge", 1 << 40)] {
        let q = sched.add_queue(name, max).unwrap();
        assert_eq!(sched.stats(q).unwrap().max_size, max);
        sched.schedule(Task::new(q, 0, 1), When::Now).unwrap();
        assert_eq!(sched.stats(q).unwrap().queued, 1);
    }
    assert_eq!(
        sched.add_queue("max", usize::MAX),
        Err(NewQueueError::Queue(AddQueueError::InvalidMaxSize))
    );
    let unbounded = sched.add_queue("unbounded", 0).unwrap();
    assert_eq!(sched.stats(unbounded).unwrap().max_size, usize::MAX);
    assert_eq!(
        Sched::new(
            MonotonicClock::new(),
            &[("max", usize::MAX)],
            Options::new()
        )
        .unwrap_err(),
        NewError::Queue(AddQueueError::InvalidMaxSize)
    );
    let big = Sched::new(MonotonicClock::new(), &[("big", 1 << 40)], Options::new()).unwrap();
    let q = big.queue_id("big").unwrap();
    assert_eq!(big.stats(q).unwrap().max_size, 1 << 40);
}

/// A clock the test sets by hand (milliseconds in an atomic) that counts
/// how often the scheduler thread (named `tardy`) reads it, and that reads
/// `stuck_at` on the thread named `worker` when set (non-zero).
#[derive(Clone)]
struct SetClock(Arc<SetClockState>);

struct SetClockState {
    now: std::sync::atomic::AtomicU64,
    stuck_at: std::sync::atomic::AtomicU64,
    thread_reads: AtomicUsize,
}

impl Clock for SetClock {
    fn now(&self) -> tardy::Ticks {
        match thread::current().name() {
            Some("tardy") => {
                self.0.thread_reads.fetch_add(1, Ordering::SeqCst);
            }
            Some("worker") => {
                let stuck = self.0.stuck_at.load(Ordering::SeqCst);
                if stuck != 0 {
                    return stuck;
                }
            }
            _ => {}
        }
        self.0.now.load(Ordering::SeqCst)
    }
}

/// The host clock steps back by an hour while a worker waits, a task is
/// scheduled 50 ms ahead of the true time, and once the scheduler thread
/// has computed its sleep on the stepped-back clock (an hour and 50 ms),
/// the clock reads correctly again without anyone telling the scheduler.
/// The thread's sleep is bounded by `max_sleep`, so it delivers the task.
/// The worker's clock stays an hour back, so only the thread can find the
/// task due; the 30 s limit on the worker's wait is far above the bound and
/// only keeps a failure from hanging: without a bound the thread sleeps the
/// hour and the worker times out.
fn delivered_after_the_clock_steps_back(options: Options) {
    const HOUR_MS: u64 = 3_600_000;
    let clock = SetClock(Arc::new(SetClockState {
        now: std::sync::atomic::AtomicU64::new(10 * HOUR_MS),
        stuck_at: std::sync::atomic::AtomicU64::new(9 * HOUR_MS),
        thread_reads: AtomicUsize::new(0),
    }));
    let sched: SchedulerThread<u32, u64, SetClock> =
        SchedulerThread::new(clock.clone(), &[("q", 0)], options).unwrap();
    sched.start().unwrap();
    let q = sched.queue_id("q").unwrap();
    let worker = {
        let h = sched.handle();
        thread::Builder::new()
            .name("worker".into())
            .spawn(move || h.get_task(q, Wait::Timeout(Duration::from_secs(30))))
            .unwrap()
    };
    let state = &clock.0;
    state.now.store(9 * HOUR_MS, Ordering::SeqCst); // steps back an hour
    let before = state.thread_reads.load(Ordering::SeqCst);
    sched
        .schedule(Task::new(q, 0, 7), When::At(10 * HOUR_MS + 50))
        .unwrap();
    // Woken by the earlier deadline, the thread reads the clock twice
    // before it sleeps again (for due tasks, then for the wait).
    while state.thread_reads.load(Ordering::SeqCst) < before + 2 {
        thread::yield_now();
    }
    state.now.store(10 * HOUR_MS + 50, Ordering::SeqCst); // correct again
    let task = worker
        .join()
        .unwrap()
        .expect("delivered once the clock recovered");
    assert_eq!(*task.payload(), 7);
}

#[test]
fn delivered_within_max_sleep_after_the_clock_steps_back() {
    let options = Options::new()
        .tick(Duration::from_millis(1))
        .max_sleep(Duration::from_millis(50));
    delivered_after_the_clock_steps_back(options);
}

/// The same without a `max_sleep`: a clock other than `MonotonicClock`
/// gets the default bound of one second.
#[test]
fn a_custom_clock_gets_the_default_max_sleep() {
    delivered_after_the_clock_steps_back(Options::new().tick(Duration::from_millis(1)));
}

/// A clock that panics on the scheduler thread (which its contract
/// forbids) fails the scheduler visibly: `is_running` is false, a waiting
/// worker and later callers get `Failed`, the refused task comes back, and
/// `stop` still hands every scheduled task back.
#[test]
fn a_clock_that_panics_on_the_thread_fails_the_scheduler() {
    #[derive(Clone)]
    struct Panicky;
    impl Clock for Panicky {
        fn now(&self) -> tardy::Ticks {
            assert_ne!(
                thread::current().name(),
                Some("panicky"),
                "clock panics on the scheduler thread"
            );
            0
        }
    }
    let options = Options::new().thread_name("panicky");
    let sched: SchedulerThread<u32, u64, Panicky> =
        SchedulerThread::new(Panicky, &[("q", 0)], options).unwrap();
    let q = sched.queue_id("q").unwrap();
    sched.schedule(Task::new(q, 0, 1), When::At(10)).unwrap();
    let worker = {
        let h = sched.handle();
        thread::spawn(move || h.get_task(q, Wait::Forever))
    };
    sched.start().unwrap();
    assert_eq!(worker.join().unwrap().unwrap_err(), TakeError::Failed);
    assert!(!sched.is_running());
    assert!(sched.is_failed() && !sched.is_stopped());
    let err = sched.schedule(Task::new(q, 0, 2), When::At(5)).unwrap_err();
    assert!(matches!(err, SubmitError::Failed(_)));
    assert_eq!(*err.into_inner().payload(), 2);
    assert_eq!(sched.run_pending(), Err(Halted::Failed));
    assert_eq!(sched.stats(q), Err(QueueError::Failed));
    assert_eq!(sched.start(), Err(StartError::Failed));
    assert_eq!(
        sched.get_task(q, Wait::Forever).unwrap_err(),
        TakeError::Failed
    );
    assert_eq!(sched.join(q), Err(QueueError::Failed));
    assert_eq!(payloads(&sched.stop().unwrap()), [1]);
    assert!(sched.is_stopped() && !sched.is_failed());
}

/// A subject whose `Hash` panics on the scheduler thread, while the thread
/// delivers its task, fails the scheduler the same way; `stop` hands every
/// task back, the one whose delivery panicked included (it was left out of
/// the heap and its queue's lines, but not out of its slot).
#[test]
fn a_subject_that_panics_on_the_thread_fails_the_scheduler() {
    #[derive(Clone, PartialEq, Eq, Debug)]
    struct Touchy(u32);
    impl Hash for Touchy {
        fn hash<H: Hasher>(&self, state: &mut H) {
            let on_thread = thread::current().name() == Some("touchy");
            assert!(!(on_thread && self.0 == 666), "touchy subject");
            self.0.hash(state);
        }
    }
    let options = Options::new().thread_name("touchy");
    let sched: SchedulerThread<Touchy, u64> =
        SchedulerThread::new(MonotonicClock::new(), &[("q", 0)], options).unwrap();
    let q = sched.queue_id("q").unwrap();
    sched
        .schedule(Task::new(q, Touchy(666), 0), When::At(0))
        .unwrap();
    sched
        .schedule(
            Task::new(q, Touchy(1), 1),
            When::After(HOUR.as_nanos() as u64),
        )
        .unwrap();
    sched.start().unwrap();
    // No worker: a worker would move the due task itself, on its own
    // thread. Wait (without a time limit) until the thread has failed.
    while sched.is_running() {
        thread::yield_now();
    }
    assert!(sched.is_failed());
    assert_eq!(
        sched.get_task(q, Wait::Forever).unwrap_err(),
        TakeError::Failed
    );
    let mut left: Vec<u64> = sched.stop().unwrap().iter().map(|t| *t.payload()).collect();
    left.sort_unstable();
    assert_eq!(left, [0, 1]);
}
