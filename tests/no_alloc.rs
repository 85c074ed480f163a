//! The core allocates nothing: a counting global allocator watches a full
//! workload of every operation (periodic tasks included), from construction
//! to removing the queues.
//!
//! Counting is per thread, so the test harness's own allocations on other
//! threads do not count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

#[cfg(feature = "periodic")]
use tardy::MissedTickBehavior::{Burst, Delay, Skip};
use tardy::{
    Clock, GetTaskError, HeaplessQueue, ManualClock, NotScheduled, ScheduleError, Scheduler, Task,
    TaskId, When,
};

struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is passed to the system allocator unchanged; counting
// touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns how many allocator calls it made on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    let r = f();
    ARMED.with(|a| a.set(false));
    (COUNT.with(Cell::get), r)
}

type T = Task<u32, u64>;
type Sched<'a> = Scheduler<&'a ManualClock, HeaplessQueue<T, 16>, u32, u64, 64, 4>;

/// Schedules task `i` of the workload; with the feature `periodic` every
/// sixth is a periodic task (every policy, short and huge periods).
fn schedule(s: &mut Sched<'_>, task: T, when: When) -> Option<TaskId> {
    #[cfg(feature = "periodic")]
    if task.payload() % 6 == 5 {
        let i = *task.payload();
        let behavior = [Burst, Delay, Skip][usize::try_from(i % 3).unwrap()];
        let period = if i % 12 == 11 { u64::MAX } else { 1 + i % 9 };
        return s.schedule_periodic(task, when, period, behavior).ok();
    }
    s.schedule(task, when).ok()
}

/// Whether `t` is an occurrence of a periodic task.
#[cfg(feature = "periodic")]
fn is_occurrence(t: &T) -> bool {
    t.period().is_some()
}

/// No task is an occurrence without the feature `periodic`.
#[cfg(not(feature = "periodic"))]
fn is_occurrence(_: &T) -> bool {
    false
}

/// Every operation of the core, with full queues, full capacity, stale
/// handles and error paths. Returns a checksum so nothing is optimised out.
fn workload(clock: &ManualClock) -> u64 {
    let mut sum = 0u64;
    let (mut saw_waiting, mut saw_full, mut saw_periodic) = (false, false, false);
    let mut s: Sched = Scheduler::new(clock);
    let a = s.add_queue("alpha", 4).unwrap();
    s.add_queue("beta", 0).unwrap();
    let c = s.add_queue("gamma", 2).unwrap();
    assert!(s.add_queue("alpha", 1).is_err());
    assert!(s.add_queue("", 1).is_err());

    let rounds: u64 = if cfg!(miri) { 4 } else { 20 };
    for round in 0..rounds {
        // `beta` is removed and added again half way.
        let b = s.queue_id("beta").unwrap();
        let mut ids = [None; 64];
        // Fill every slot, spread over queues, subjects and deadlines.
        for i in 0..64u64 {
            let q = [a, b, c][usize::try_from(i % 3).unwrap()];
            let subject = u32::try_from(i % 7).unwrap();
            let when = match i % 4 {
                0 => When::At(clock.now() + (i * 37) % 50),
                1 => When::After(i % 11),
                2 => When::At(u64::MAX),
                _ => When::After(u64::MAX),
            };
            ids[usize::try_from(i).unwrap()] = schedule(&mut s, Task::new(q, subject, i), when);
        }
        #[cfg(feature = "periodic")]
        assert!(matches!(
            s.schedule_periodic(Task::new(a, 1, 998), When::Now, 0, Burst),
            Err(ScheduleError::ZeroPeriod(_))
        ));
        // Capacity exhausted: the task comes back.
        match s.schedule(Task::new(a, 1, 999), When::At(1)) {
            Err(ScheduleError::Capacity(t)) => sum += t.into_payload(),
            other => panic!(
                "expected Capacity in round {round}, got {other:?} with {} scheduled",
                s.len()
            ),
        }
        // Cancel some, twice (the second is stale).
        for id in ids.iter().step_by(5).flatten() {
            sum += s.cancel(*id).map_or(0, Task::into_payload);
            assert_eq!(s.cancel(*id), Err(NotScheduled));
        }
        // Reschedule others, earlier and later.
        for (k, id) in ids.iter().skip(1).step_by(4).flatten().enumerate() {
            let when = if k % 2 == 0 {
                When::After(3)
            } else {
                When::At(clock.now() + 100)
            };
            let _ = s.reschedule(*id, when);
        }
        sum += s.cancel_by_subject(&3, |t| sum_task(&t)) as u64;
        sum += s.next_deadline().unwrap_or(0) % 1000;
        // Time passes; queues fill up and tasks wait.
        for _ in 0..10 {
            clock.advance(7);
            sum += s.run_pending() as u64;
            for q in [a, b, c] {
                if let Ok(t) = s.get_task(q) {
                    sum += t.payload();
                    s.task_done(q).unwrap();
                }
            }
        }
        // ASAP into a full queue comes back; into one with room goes in.
        // `gamma` holds 2, so the third at the latest comes back.
        for _ in 0..3 {
            match s.schedule(Task::new(c, 1, 7), When::Now) {
                Ok(_) => sum += 1,
                Err(e) => {
                    saw_full |= matches!(e, ScheduleError::QueueFull(_));
                    sum += e.into_inner().into_payload();
                }
            }
        }
        // Clock jumps backwards.
        clock.set(clock.now() / 2);
        sum += s.run_pending() as u64;
        sum += s.run_all() as u64;
        for q in [a, b, c] {
            let st = s.stats(q).unwrap();
            saw_waiting |= st.waiting > 0;
            sum += st.queued as u64 + st.waiting as u64 + st.taken;
            loop {
                match s.get_task(q) {
                    Ok(t) => {
                        saw_periodic |= is_occurrence(&t);
                        // Retry some of them (occurrences of periodic
                        // tasks too).
                        if t.attempt() < 3 && round % 2 == 0 {
                            let _ = s.schedule(t, When::After(1));
                        } else {
                            sum += t.into_payload();
                        }
                    }
                    Err(GetTaskError::Empty) => break,
                    Err(e) => panic!("queue vanished: {e}"),
                }
            }
        }
        sum += s.clear_queue(c, |t| sum_task(&t)).unwrap() as u64;
        if round == rounds / 2 {
            // Remove a queue with tasks in every state and add it again.
            s.schedule(Task::new(b, 2, 1), When::At(u64::MAX)).unwrap();
            sum += s.remove_queue(b, |t| sum_task(&t)).unwrap() as u64;
            assert!(s.get_task(b).is_err());
            let b2 = s.add_queue("beta", 3).unwrap();
            assert_ne!(b, b2);
            sum += s.remove_queue(b2, |t| sum_task(&t)).unwrap() as u64;
            assert_eq!(s.add_queue("beta", 0).unwrap(), s.queue_id("beta").unwrap());
        }
        let b = s.queue_id("beta").unwrap();
        s.schedule(Task::new(b, 5, 5), When::After(2)).unwrap();
        sum += s.clear(|t| sum_task(&t)) as u64;
    }
    for q in [a, s.queue_id("beta").unwrap(), c] {
        sum += s.remove_queue(q, |t| sum_task(&t)).unwrap() as u64;
    }
    assert!(s.is_empty());
    assert!(
        saw_waiting && saw_full,
        "full queues reached: {saw_waiting} {saw_full}"
    );
    assert!(
        saw_periodic || !cfg!(feature = "periodic"),
        "occurrences of periodic tasks delivered"
    );
    sum
}

fn sum_task(t: &T) {
    std::hint::black_box(t.payload());
}

#[test]
fn the_core_allocates_nothing() {
    // The counter sees allocations when there are some.
    let (n, b) = allocations(|| Box::new(1u8));
    assert!(n >= 1, "the counting allocator counts");
    drop(b);

    let clock = ManualClock::new(1_000);
    let (n, sum) = allocations(|| workload(&clock));
    assert!(sum > 0);
    assert_eq!(n, 0, "the core allocated {n} times");
}
