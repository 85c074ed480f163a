//! Fault cases: what the core does when its environment misbehaves (clocks
//! that jump, deadlines at the end of time, a queue, clock or callback that
//! panics, workers that never report, queues removed under due tasks), and
//! what still holds afterwards.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use tardy::{
    FnClock, GetTaskError, HeaplessQueue, ManualClock, QueueId, ScheduleError, Scheduler, Task,
    TaskDoneError, TaskQueue, Ticks, When,
};

type T = Task<u8, u32>;
type Sched<'c> = Scheduler<&'c ManualClock, HeaplessQueue<T, 8>, u8, u32, 16, 4>;

/// Takes every task from `q` and returns their payloads.
fn drain<C, Q>(s: &mut Scheduler<C, Q, u8, u32, 16, 4>, q: QueueId) -> Vec<u32>
where
    C: tardy::Clock,
    Q: TaskQueue<T>,
{
    let mut out = Vec::new();
    while let Ok(t) = s.get_task(q) {
        out.push(*t.payload());
    }
    out
}

// ----- clocks that jump ------------------------------------------------

#[test]
fn clock_jumping_backwards_delivers_nothing_early() {
    let clock = ManualClock::new(100);
    let mut s: Sched = Scheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    s.schedule(Task::new(q, 0, 1), When::After(10)).unwrap(); // due at 110
    clock.set(5); // backwards by 95
    assert_eq!(s.run_pending(), 0, "nothing is due at 5");
    assert_eq!(s.next_deadline(), Some(110));
    // A relative delay counts from the reading when scheduled.
    s.schedule(Task::new(q, 0, 2), When::After(10)).unwrap(); // due at 15
    assert_eq!(s.next_deadline(), Some(15));
    clock.set(14);
    assert_eq!(s.run_pending(), 0);
    clock.set(15);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [2]);
    clock.set(109);
    assert_eq!(
        s.run_pending(),
        0,
        "the task due at 110 waits for the clock"
    );
    clock.set(110);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [1]);
    assert!(s.is_empty());
}

#[test]
fn clock_jumping_far_forwards_delivers_everything_due_in_order() {
    let clock = ManualClock::new(0);
    let mut s: Sched = Scheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    for (payload, at) in [(3, 300), (1, 100), (2, 200), (4, Ticks::MAX)] {
        s.schedule(Task::new(q, 0, payload), When::At(at)).unwrap();
    }
    clock.set(Ticks::MAX - 1);
    assert_eq!(s.run_pending(), 3);
    assert_eq!(drain(&mut s, q), [1, 2, 3]);
    // From here every relative delay saturates at Ticks::MAX.
    s.schedule(Task::new(q, 0, 5), When::After(10)).unwrap();
    assert_eq!(s.next_deadline(), Some(Ticks::MAX));
    clock.set(Ticks::MAX);
    assert_eq!(s.run_pending(), 2);
    assert_eq!(
        drain(&mut s, q),
        [4, 5],
        "equal deadlines in scheduling order"
    );
}

// ----- the end of time -------------------------------------------------

#[test]
fn deadlines_at_u64_max_saturate_and_wait_for_run_all() {
    let clock = ManualClock::new(1_000);
    let mut s: Sched = Scheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let a = s.schedule(Task::new(q, 0, 1), When::At(u64::MAX)).unwrap();
    let b = s
        .schedule(Task::new(q, 0, 2), When::After(u64::MAX))
        .unwrap();
    let c = s.schedule(Task::new(q, 0, 3), When::After(7)).unwrap();
    assert_eq!(s.scheduled_task(b).unwrap().deadline(), u64::MAX);
    s.reschedule(c, When::After(u64::MAX - 1)).unwrap(); // saturates too
    assert_eq!(s.scheduled_task(c).unwrap().deadline(), u64::MAX);
    assert_eq!(s.next_deadline(), Some(u64::MAX));
    clock.set(u64::MAX - 1);
    assert_eq!(s.run_pending(), 0);
    assert!(s.is_scheduled(a));
    assert_eq!(s.run_all(), 3);
    assert_eq!(drain(&mut s, q), [1, 2, 3]);
    assert_eq!(s.next_deadline(), None);
}

// ----- components that panic ------------------------------------------

/// A clock that panics while `PANIC` is set on this thread.
fn panicky_now() -> Ticks {
    thread_local!(static NOW: Cell<Ticks> = const { Cell::new(0) });
    if PANIC.with(Cell::get) {
        panic!("clock failure");
    }
    NOW.with(|n| {
        n.set(n.get() + 10);
        n.get()
    })
}

thread_local!(static PANIC: Cell<bool> = const { Cell::new(false) });
thread_local!(static REFUSE: Cell<bool> = const { Cell::new(false) });

fn panics<R>(f: impl FnOnce() -> R) -> bool {
    PANIC.with(|p| p.set(true));
    let r = catch_unwind(AssertUnwindSafe(f)).is_err();
    PANIC.with(|p| p.set(false));
    r
}

/// A clock that panics breaks the [`Clock`](tardy::Clock) contract. Every
/// operation reads the clock before it changes anything, so a caught panic
/// leaves the scheduler exactly as it was; only the task given to the
/// failing `schedule` is lost (it was moved in and dropped by the unwind).
#[test]
fn panicking_clock_leaves_the_scheduler_unchanged() {
    type S = Scheduler<FnClock<fn() -> Ticks>, HeaplessQueue<T, 8>, u8, u32, 16, 4>;
    let mut s: S = Scheduler::new(FnClock(panicky_now));
    let q = s.add_queue("q", 0).unwrap();
    let kept = s.schedule(Task::new(q, 1, 1), When::After(1_000)).unwrap();
    let before = (s.len(), s.stats(q).unwrap(), s.next_deadline());

    assert!(panics(|| s.schedule(Task::new(q, 1, 2), When::After(5))));
    assert!(panics(|| s.reschedule(kept, When::After(1))));
    assert!(panics(|| s.run_pending()));
    assert_eq!((s.len(), s.stats(q).unwrap(), s.next_deadline()), before);

    // It keeps working once the clock does.
    assert!(s.is_scheduled(kept));
    s.schedule(Task::new(q, 1, 3), When::After(0)).unwrap();
    assert_eq!(s.run_all(), 2);
    assert_eq!(drain(&mut s, q), [3, 1]);
}

/// A queue that panics in `try_push` while `PANIC` is set on this thread.
#[derive(Debug)]
struct PanickyQueue(HeaplessQueue<T, 8>);

impl TaskQueue<T> for PanickyQueue {
    fn with_max_size(max_size: usize) -> Option<Self> {
        HeaplessQueue::with_max_size(max_size).map(Self)
    }
    fn try_push(&mut self, item: T) -> Result<(), T> {
        if PANIC.with(Cell::get) {
            panic!("queue failure");
        }
        if REFUSE.with(Cell::get) {
            return Err(item);
        }
        self.0.try_push(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn max_size(&self) -> usize {
        self.0.max_size()
    }
}

/// A `TaskQueue` that panics breaks its contract. The core frees a task's
/// slot before handing the task to `try_push`, so a caught panic loses the
/// one task in flight and nothing else: counters agree, its slot is free
/// again, the other tasks are delivered in order.
#[test]
fn panicking_task_queue_loses_only_the_task_in_flight() {
    let clock = ManualClock::new(0);
    let mut s: Scheduler<&ManualClock, PanickyQueue, u8, u32, 16, 4> = Scheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let other = s.add_queue("other", 0).unwrap();
    for i in 0..4 {
        s.schedule(Task::new(q, 7, i), When::At(u64::from(i)))
            .unwrap();
    }
    s.schedule(Task::new(other, 7, 100), When::At(10)).unwrap();
    clock.set(10);

    assert!(panics(|| s.run_pending()));
    // Task 0 was in flight and is gone; 1..3 and 100 are still scheduled.
    assert_eq!(s.len(), 4);
    assert_eq!(s.stats(q).unwrap().scheduled, 3);
    assert_eq!(s.stats(q).unwrap().queued, 0);
    assert!(panics(|| s.schedule(Task::new(q, 7, 50), When::Now)));
    assert_eq!(s.len(), 4);

    assert_eq!(s.run_pending(), 4);
    assert_eq!(drain(&mut s, q), [1, 2, 3]);
    assert_eq!(drain(&mut s, other), [100]);
    assert!(s.is_empty());
    // Every slot is usable again, and the subject index holds nothing.
    for i in 0..16 {
        s.schedule(Task::new(q, 7, i), When::At(99)).unwrap();
    }
    let mut back = 0;
    assert_eq!(s.cancel_by_subject(&7, |_| back += 1), 16);
    assert_eq!((back, s.len()), (16, 0));
}

/// A queue that says it has room and then refuses a task (another breach of
/// the contract) does not lose it: the task waits, first in line, and can
/// still be cancelled by handle and by subject.
#[test]
fn queue_refusing_despite_room_keeps_the_task_waiting() {
    let clock = ManualClock::new(0);
    let mut s: Scheduler<&ManualClock, PanickyQueue, u8, u32, 16, 4> = Scheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    let first = s.schedule(Task::new(q, 3, 1), When::At(1)).unwrap();
    s.schedule(Task::new(q, 4, 2), When::At(2)).unwrap();
    clock.set(5);
    REFUSE.with(|r| r.set(true));
    assert_eq!(s.run_pending(), 0);
    REFUSE.with(|r| r.set(false));
    let st = s.stats(q).unwrap();
    assert_eq!((st.scheduled, st.waiting, st.queued), (2, 2, 0));
    assert_eq!(s.scheduled_task(first).map(|t| *t.payload()), Some(1));
    assert_eq!(s.cancel_by_subject(&4, |t| assert_eq!(*t.payload(), 2)), 1);
    assert_eq!(s.run_pending(), 1);
    assert_eq!(drain(&mut s, q), [1]);
    assert!(s.is_empty());
}

/// A hand-back callback that panics: every task handed back before the
/// panic is the caller's, every task not yet handed back stays scheduled,
/// and the queue is not removed.
#[test]
fn panicking_hand_back_callback_keeps_the_rest() {
    let clock = ManualClock::new(0);
    let mut s: Sched = Scheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    for i in 0..6 {
        s.schedule(Task::new(q, 1, i), When::At(100)).unwrap();
    }
    let mut seen = Vec::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        s.cancel_by_subject(&1, |t| {
            seen.push(*t.payload());
            assert!(seen.len() < 2, "callback failure");
        })
    }));
    assert!(r.is_err());
    assert_eq!(seen.len(), 2);
    assert_eq!(s.len(), 4);

    let mut removed = Vec::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        s.remove_queue(q, |t| {
            removed.push(*t.payload());
            assert!(removed.len() < 3, "callback failure");
        })
    }));
    assert!(r.is_err());
    assert_eq!(s.len(), 1, "two handed back, one panicked with");
    assert_eq!(s.queue_id("q"), Ok(q), "the queue stays");

    let mut rest = Vec::new();
    assert_eq!(s.remove_queue(q, |t| rest.push(*t.payload())), Ok(1));
    let mut all: Vec<u32> = seen.into_iter().chain(removed).chain(rest).collect();
    all.sort_unstable();
    assert_eq!(all, [0, 1, 2, 3, 4, 5], "each task out exactly once");
    assert!(s.is_empty());
}

// ----- workers that never report, queues removed under due tasks --------

#[test]
fn worker_that_never_calls_task_done_shows_in_the_counters() {
    let clock = ManualClock::new(0);
    let mut s: Sched = Scheduler::new(&clock);
    let q = s.add_queue("q", 0).unwrap();
    for i in 0..3 {
        s.schedule(Task::new(q, 0, i), When::Now).unwrap();
    }
    let _held: Vec<T> = (0..3).map(|_| s.get_task(q).unwrap()).collect();
    s.task_done(q).unwrap();
    let st = s.stats(q).unwrap();
    assert_eq!((st.taken, st.done), (3, 1), "two tasks outstanding");
    s.task_done(q).unwrap();
    s.task_done(q).unwrap();
    assert_eq!(s.task_done(q), Err(TaskDoneError::NotTaken));
    let st = s.stats(q).unwrap();
    assert_eq!(
        (st.taken, st.done),
        (3, 3),
        "an extra task_done changes nothing"
    );
    // Removing the queue forgets its counters with it.
    s.remove_queue(q, |_| {}).unwrap();
    assert_eq!(s.task_done(q), Err(TaskDoneError::UnknownQueue));
}

#[test]
fn queue_removed_while_its_tasks_are_due_hands_every_one_back() {
    let clock = ManualClock::new(0);
    let mut s: Sched = Scheduler::new(&clock);
    let q = s.add_queue("q", 2).unwrap();
    let other = s.add_queue("other", 0).unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            s.schedule(Task::new(q, 1, i), When::At(u64::from(i)))
                .unwrap(),
        );
        s.schedule(Task::new(other, 1, 100 + i), When::At(u64::from(i)))
            .unwrap();
    }
    let held = s.get_task(other).ok(); // nothing is due yet
    assert!(held.is_none());
    clock.set(3); // 0..=3 due: 2 enter q, 2 wait for room; 4, 5 scheduled
    s.run_pending();
    let st = s.stats(q).unwrap();
    assert_eq!((st.queued, st.waiting, st.scheduled), (2, 2, 4));
    let worker = s.get_task(q).unwrap(); // a worker holds task 0

    let mut back = Vec::new();
    assert_eq!(s.remove_queue(q, |t| back.push(*t.payload())), Ok(5));
    back.sort_unstable();
    assert_eq!(back, [1, 2, 3, 4, 5]);
    // Stale handles: the queue, its tasks, and a queue of the same name.
    assert_eq!(s.get_task(q), Err(GetTaskError::UnknownQueue));
    assert!(ids.iter().all(|&id| !s.is_scheduled(id)));
    let again = s.add_queue("q", 0).unwrap();
    assert_ne!(again, q);
    assert_eq!(s.get_task(again), Err(GetTaskError::Empty));
    // The worker's retry into the removed queue comes back.
    match s.schedule(worker, When::After(1)) {
        Err(ScheduleError::UnknownQueue(t)) => assert_eq!(*t.payload(), 0),
        other => panic!("expected UnknownQueue, got {other:?}"),
    }
    // The other queue is untouched.
    clock.set(10);
    s.run_pending();
    assert_eq!(drain(&mut s, other), [100, 101, 102, 103, 104, 105]);
    assert!(s.is_empty());
}

// ----- the threaded layer ------------------------------------------------

// ----- real time and ticks ----------------------------------------------

/// A 32 768 Hz counter read by rounding down (a `ManualClock` set from a
/// simulated real time in nanoseconds). A task scheduled with the span
/// `ticks_from_millis(HZ, 20)` just before the counter steps is due after
/// 19.99 ms of real time; with the delay `delay_from_millis(HZ, 20)` it is
/// never due before 20 ms, whatever the phase of the counter.
#[test]
fn a_delay_from_the_tick_helpers_is_never_due_early_in_real_time() {
    const HZ: u64 = 32_768;
    const ASKED_NS: u64 = 20_000_000;
    let reading = |ns: u64| u64::try_from(u128::from(ns) * u128::from(HZ) / 1_000_000_000).unwrap();
    // 30 517 ns is the last nanosecond of the counter's first tick.
    let starts: &[u64] = if cfg!(miri) {
        &[30_517]
    } else {
        &[0, 7_000, 15_259, 30_517, 61_034]
    };
    for &start in starts {
        let clock = ManualClock::new(reading(start));
        let mut s: Sched = Scheduler::new(&clock);
        let q = s.add_queue("q", 0).unwrap();
        let delay = tardy::delay_from_millis(HZ, 20);
        let span = tardy::ticks_from_millis(HZ, 20);
        s.schedule(Task::new(q, 0, 0), When::After(delay)).unwrap();
        s.schedule(Task::new(q, 0, 1), When::After(span)).unwrap();
        let mut due_after = [None; 2];
        let mut ns = start;
        while due_after.contains(&None) {
            ns += 10_000; // real time moves in 10 µs steps
            clock.set(reading(ns));
            s.run_pending();
            while let Ok(t) = s.get_task(q) {
                due_after[usize::try_from(*t.payload()).unwrap()] = Some(ns - start);
            }
        }
        let [delay_ns, span_ns] = due_after.map(Option::unwrap);
        assert!(
            delay_ns >= ASKED_NS,
            "start {start}: due after {delay_ns} ns"
        );
        if start == 30_517 {
            assert!(span_ns < ASKED_NS, "the span alone is up to one tick short");
        }
    }
}

#[cfg(feature = "std")]
mod threaded {
    use std::sync::{mpsc, Arc, Barrier};
    use std::thread;
    use std::time::Duration;

    use tardy::{
        DoneError, MonotonicClock, Options, QueueError, SchedulerThread, StartError, SubmitError,
        TakeError, Task, Wait, When,
    };

    type Small = SchedulerThread<u32, u32, MonotonicClock, 4>;
    const HOUR: u64 = 3_600_000_000_000;

    /// Workers blocked in `get_task` (forever or with a long timeout) all
    /// return `Stopped` when the scheduler stops, and every scheduled task
    /// comes back from `stop`. Whether a worker is already waiting or only
    /// about to, the answer is the same.
    #[test]
    fn stop_releases_workers_blocked_in_get_task() {
        let sched = Small::new(
            MonotonicClock::new(),
            &[("q", 0)],
            Options::new().max_capacity(64),
        )
        .unwrap();
        sched.start().unwrap();
        let q = sched.queue_id("q").unwrap();
        for i in 0..10 {
            sched
                .schedule(Task::new(q, i, i), When::After(HOUR))
                .unwrap();
        }
        let ready = Arc::new(Barrier::new(5));
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let h = sched.handle();
                let ready = Arc::clone(&ready);
                thread::spawn(move || {
                    ready.wait();
                    let wait = if w == 0 {
                        Wait::Timeout(Duration::from_secs(3600))
                    } else {
                        Wait::Forever
                    };
                    h.get_task(q, wait)
                })
            })
            .collect();
        ready.wait();
        let mut left: Vec<u32> = sched.stop().unwrap().iter().map(|t| *t.payload()).collect();
        left.sort_unstable();
        assert_eq!(left, (0..10).collect::<Vec<_>>());
        for w in workers {
            assert_eq!(w.join().unwrap().unwrap_err(), TakeError::Stopped);
        }
        assert_eq!(sched.get_task(q, Wait::NoWait), Err(TakeError::Stopped));
        assert!(sched.stop().is_err(), "stopping twice is an error");
        assert_eq!(sched.start(), Err(StartError::Stopped));
    }

    /// `join` waits for a `task_done` that a worker never sends; stopping
    /// releases it with `Stopped`. The counters show the missing report.
    #[test]
    fn join_on_a_queue_whose_worker_never_reports() {
        let sched = Small::new(
            MonotonicClock::new(),
            &[("q", 0)],
            Options::new().max_capacity(64),
        )
        .unwrap();
        sched.start().unwrap();
        let q = sched.queue_id("q").unwrap();
        sched.schedule(Task::new(q, 1, 1), When::Now).unwrap();
        sched.schedule(Task::new(q, 2, 2), When::Now).unwrap();
        let _a = sched.get_task(q, Wait::NoWait).unwrap();
        let _b = sched.get_task(q, Wait::NoWait).unwrap();
        sched.task_done(q).unwrap(); // the second is never reported
        let st = sched.stats(q).unwrap();
        assert_eq!((st.taken, st.done), (2, 1));
        let (tx, rx) = mpsc::channel();
        let joiner = {
            let h = sched.handle();
            thread::spawn(move || tx.send(h.join(q)).unwrap())
        };
        assert!(
            rx.try_recv().is_err(),
            "join cannot return with a task outstanding"
        );
        sched.stop().unwrap();
        assert_eq!(rx.recv().unwrap(), Err(QueueError::Stopped));
        joiner.join().unwrap();
        assert_eq!(sched.task_done(q), Err(DoneError::Stopped));
    }

    /// Eight producers race for 64 slots with 256 tasks: exactly 64 get a
    /// handle, every other producer gets its own task back, and `stop` hands
    /// back the 64. Every task ends in exactly one of the two places.
    #[test]
    fn full_scheduler_under_concurrent_producers_hands_every_task_back() {
        let sched = Small::new(
            MonotonicClock::new(),
            &[("q", 0)],
            Options::new().max_capacity(64),
        )
        .unwrap();
        sched.start().unwrap();
        let q = sched.queue_id("q").unwrap();
        let go = Arc::new(Barrier::new(8));
        let producers: Vec<_> = (0..8u32)
            .map(|p| {
                let h = sched.handle();
                let go = Arc::clone(&go);
                thread::spawn(move || {
                    go.wait();
                    let (mut ok, mut back) = (0, Vec::new());
                    for i in 0..32 {
                        let n = p * 32 + i;
                        match h.schedule(Task::new(q, n, n), When::After(HOUR)) {
                            Ok(_) => ok += 1,
                            Err(SubmitError::Capacity(t)) => back.push(*t.payload()),
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                    (ok, back)
                })
            })
            .collect();
        let mut scheduled = 0;
        let mut all = Vec::new();
        for p in producers {
            let (ok, back) = p.join().unwrap();
            scheduled += ok;
            all.extend(back);
        }
        assert_eq!(scheduled, 64, "exactly the capacity got handles");
        assert_eq!(sched.scheduled_len(), Ok(64));
        all.extend(sched.stop().unwrap().iter().map(|t| *t.payload()));
        all.sort_unstable();
        assert_eq!(all, (0..256).collect::<Vec<_>>(), "each task once");
    }
}

// ----- the C ABI ---------------------------------------------------------

#[cfg(feature = "capi")]
mod c_abi {
    use std::ffi::{c_char, c_void};
    use std::process::Command;
    use std::ptr;

    use tardy::ffi::tardy_status::*;
    use tardy::ffi::*;

    /// A hand-back callback that panics, as a Rust host might write one.
    unsafe extern "C" fn panicking_callback(_user: *mut c_void, _task: *const tardy_task) {
        panic!("callback failure");
    }

    const CHILD: &str = "TARDY_FAULT_CHILD";
    const NAME: &str = "c_abi::panicking_c_callback_aborts_before_reaching_tardy";

    /// A callback is an `extern "C"` function: a panic inside it cannot
    /// unwind out of it, so Rust aborts the process at the callback's own
    /// frame. Nothing unwinds through tardy into C, and tardy's
    /// `TARDY_ERR_PANIC` boundary is never reached by it. Run in a child
    /// process, since the abort ends the process.
    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn panicking_c_callback_aborts_before_reaching_tardy() {
        if std::env::var_os(CHILD).is_some() {
            let mut s = ptr::null_mut();
            let mut count = 0usize;
            // SAFETY: valid out-pointers, NUL-terminated names; the
            // scheduler is freed below (never reached: the callback aborts).
            unsafe {
                assert_eq!(tardy_new(None, ptr::null_mut(), &mut s), TARDY_OK);
                let q = c"q".as_ptr().cast::<c_char>();
                assert_eq!(tardy_add_queue(s, q, 0), TARDY_OK);
                let at = u64::MAX;
                assert_eq!(
                    tardy_schedule_at(s, q, 9, ptr::null_mut(), at, ptr::null_mut()),
                    TARDY_OK
                );
                let st = tardy_cancel_subject(
                    s,
                    9,
                    Some(panicking_callback),
                    ptr::null_mut(),
                    &mut count,
                );
                println!("returned into the caller with {st:?}");
                tardy_free(s);
            }
            return;
        }
        let exe = std::env::current_exe().expect("test binary");
        let out = Command::new(exe)
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .expect("child runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "child succeeded:\n{stdout}\n{stderr}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(out.status.signal(), Some(6), "SIGABRT expected:\n{stderr}");
        }
        assert!(stderr.contains("callback failure"), "{stderr}");
        assert!(stderr.contains("cannot unwind"), "{stderr}");
        assert!(!stdout.contains("returned into the caller"), "{stdout}");
    }
}
