//! Stress: 4 producers and 4 workers on a running `SchedulerThread` with
//! the default options (a core that grows as tasks come), with random
//! delays, cancels (by handle and by subject), reschedules and worker
//! retries. Every task number must end delivered exactly once or handed back
//! exactly once: 0 lost, 0 duplicated.
//!
//! The default size is small enough for every `cargo test`; the full run is
//!
//! ```text
//! TARDY_STRESS_TASKS=10000000 cargo test --release --test stress -- --nocapture
//! ```

#![cfg(feature = "std")]

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use tardy::{
    CancelError, MonotonicClock, Options, SchedulerHandle, SchedulerThread, SubmitError, TakeError,
    Task, TaskId, Wait, When,
};

const PRODUCERS: u64 = 4;
const WORKERS: usize = 4;
const DEFAULT_TASKS: u64 = 50_000;
/// The longest random delay, in ticks of the monotonic clock (ns).
const MAX_DELAY: u64 = 500_000;

const NEW: u8 = 0;
const DELIVERED: u8 = 1;
const HANDED_BACK: u8 = 2;

type Sched = SchedulerThread<u32, u64, MonotonicClock, 4>;

/// xorshift64*: a fast, seedable generator, enough for picking operations.
#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

struct Ledger {
    state: Vec<AtomicU8>,
    /// Numbers delivered or handed back so far.
    settled: AtomicU64,
    total: u64,
    all_settled: mpsc::SyncSender<()>,
}

impl Ledger {
    fn settle(&self, number: u64, how: u8) {
        let index = usize::try_from(number).expect("task number fits usize");
        let was = self.state[index].swap(how, Ordering::AcqRel);
        assert_eq!(
            was, NEW,
            "task {number} settled twice (was {was}, now {how}): duplicated"
        );
        if self.settled.fetch_add(1, Ordering::AcqRel) + 1 == self.total {
            let _ = self.all_settled.try_send(());
        }
    }
}

fn tasks_from_env() -> u64 {
    std::env::var("TARDY_STRESS_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= PRODUCERS)
        .unwrap_or(DEFAULT_TASKS)
}

fn random_when(rng: &mut Rng) -> When {
    match rng.below(8) {
        0 => When::Now,
        1 => When::After(0),
        _ => When::After(rng.below(MAX_DELAY)),
    }
}

/// Schedules `task`, retrying while the scheduler is full: a full store or
/// queue hands the task back, never loses it.
fn submit(
    sched: &SchedulerHandle<u32, u64, MonotonicClock, 4>,
    mut task: Task<u32, u64>,
    rng: &mut Rng,
) -> TaskId {
    loop {
        match sched.schedule(task, random_when(rng)) {
            Ok(id) => return id,
            Err(SubmitError::Capacity(t) | SubmitError::QueueFull(t)) => {
                task = t;
                thread::yield_now();
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
}

#[test]
fn producers_and_workers_lose_and_duplicate_nothing() {
    let total = tasks_from_env();
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("a", 64), ("b", 0)],
        Options::new(),
    )
    .unwrap();
    sched.start().unwrap();
    let queues = [sched.queue_id("a").unwrap(), sched.queue_id("b").unwrap()];
    let (tx, rx) = mpsc::sync_channel(1);
    let ledger = Arc::new(Ledger {
        state: (0..total).map(|_| AtomicU8::new(NEW)).collect(),
        settled: AtomicU64::new(0),
        total,
        all_settled: tx,
    });
    let retried = Arc::new(AtomicU64::new(0));
    let rescheduled = Arc::new(AtomicU64::new(0));
    let by_subject = Arc::new(AtomicU64::new(0));

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let h = sched.handle();
            let ledger = Arc::clone(&ledger);
            let retried = Arc::clone(&retried);
            let q = queues[w % 2];
            thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1));
                loop {
                    match h.get_task(q, Wait::Forever) {
                        Ok(task) => {
                            h.task_done(q).unwrap();
                            // Retry one task in 16 once, as a failed job would.
                            if task.attempt() == 1 && rng.below(16) == 0 {
                                retried.fetch_add(1, Ordering::Relaxed);
                                submit(&h, task, &mut rng);
                            } else {
                                ledger.settle(*task.payload(), DELIVERED);
                            }
                        }
                        Err(TakeError::Stopped) => return,
                        Err(e) => panic!("worker: {e:?}"),
                    }
                }
            })
        })
        .collect();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let h = sched.handle();
            let ledger = Arc::clone(&ledger);
            let rescheduled = Arc::clone(&rescheduled);
            let by_subject = Arc::clone(&by_subject);
            thread::spawn(move || {
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (p + 1) << 7);
                let mut recent: Vec<TaskId> = Vec::with_capacity(64);
                let per = total / PRODUCERS + u64::from(p < total % PRODUCERS);
                for i in 0..per {
                    let number = i * PRODUCERS + p;
                    let subject = u32::try_from(number % 997).unwrap();
                    let q = queues[usize::try_from(number % 2).unwrap()];
                    let id = submit(&h, Task::new(q, subject, number), &mut rng);
                    if recent.len() == 64 {
                        recent.swap_remove(usize::try_from(rng.below(64)).unwrap());
                    }
                    recent.push(id);
                    let pick = recent[usize::try_from(rng.below(recent.len() as u64)).unwrap()];
                    match rng.below(32) {
                        0..=1 => match h.cancel(pick) {
                            Ok(t) => ledger.settle(*t.payload(), HANDED_BACK),
                            Err(CancelError::NotScheduled) => {}
                            Err(e) => panic!("cancel: {e:?}"),
                        },
                        2..=4 => match h.reschedule(pick, random_when(&mut rng)) {
                            Ok(()) => {
                                rescheduled.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(CancelError::NotScheduled) => {}
                            Err(e) => panic!("reschedule: {e:?}"),
                        },
                        5 if rng.below(64) == 0 => {
                            for t in h.cancel_by_subject(&subject).unwrap() {
                                by_subject.fetch_add(1, Ordering::Relaxed);
                                ledger.settle(*t.payload(), HANDED_BACK);
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
    // Every number is delivered or handed back; the last one to settle
    // tells us. Nothing may be left in the scheduler.
    // A watchdog, not a timing assertion: fail (instead of hanging) only if
    // nothing settles for a whole minute, which means tasks were lost.
    let mut last = 0;
    while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(60)) {
        let now = ledger.settled.load(Ordering::Acquire);
        assert!(
            now > last,
            "no progress for a minute: {now} of {total} settled, the rest lost"
        );
        last = now;
    }
    let capacity = sched.capacity();
    let left = sched.stop().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        left.is_empty(),
        "{} task(s) left after all settled",
        left.len()
    );

    let mut delivered = 0u64;
    let mut back = 0u64;
    for (n, s) in ledger.state.iter().enumerate() {
        match s.load(Ordering::Acquire) {
            DELIVERED => delivered += 1,
            HANDED_BACK => back += 1,
            _ => panic!("task {n} lost"),
        }
    }
    assert_eq!(delivered + back, total);
    println!(
        "stress: {total} tasks, {delivered} delivered, {back} handed back ({} by subject), {} retried, {} rescheduled, peak capacity {capacity} task slots, 0 lost, 0 duplicated",
        by_subject.load(Ordering::Relaxed),
        retried.load(Ordering::Relaxed),
        rescheduled.load(Ordering::Relaxed)
    );
}
